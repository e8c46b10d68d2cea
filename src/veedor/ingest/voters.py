"""Read a voter-to-centre table (id, centre, mesa; columns named by the definition's
``registry.voters_csv``), streamed: a national list has tens of millions of rows.

Ids are normalised to their digits and checked against the definition's length; every refused
row is reported by line, never with its id (the report is seen by people).
"""

from __future__ import annotations

import csv
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from veedor.definitions import ElectionDefinition
from veedor.ingest.numbers import code as geo_code
from veedor.ingest.numbers import count
from veedor.ingest.tables import TableError

MAX_ERRORS = 1000


@dataclass
class VoterRows:
    rows: int = 0
    errors: list[dict[str, object]] = field(default_factory=list)
    refused: int = 0


def voters_spec(definition: ElectionDefinition) -> dict[str, Any]:
    spec = definition.registry.get("voters_csv")
    if not spec:
        raise TableError(
            f"la definición {definition.id} no dice cómo leer una lista de electores / "
            "the definition has no registry.voters_csv"
        )
    return dict(spec)


def normal_id(typed: str, spec: dict[str, Any]) -> str | None:
    """The id as kept: its ASCII digits, without leading zeros, if of an allowed length."""
    text = typed.strip()
    if len(text) > 32:
        return None
    digits = "".join(ch for ch in text if ch in "0123456789").lstrip("0")
    letters = [ch for ch in text if ch.isalpha()]
    low, high = spec.get("id_digits", [1, 20])
    if len(letters) > 1 or any(ch not in "-. " for ch in text if not ch.isalnum()):
        return None
    return digits if low <= len(digits) <= high else None


def read_voters(
    path: Path, definition: ElectionDefinition, summary: VoterRows
) -> Iterator[tuple[str, str, int]]:
    """(normalised id, centre, mesa) of every good row; refusals go to ``summary``."""
    spec = voters_spec(definition)
    digits = definition.centre_code_digits
    try:
        handle = path.open(encoding="utf-8-sig", newline="")
    except OSError as exc:
        raise TableError(f"no se puede leer {path.name}: {exc.strerror} / cannot read file") from None
    with handle:
        reader = csv.reader(handle)
        try:
            header = [cell.strip() for cell in next(reader, [])]
            wanted = [spec["id"], spec["centre"], spec["mesa"]]
            missing = [c for c in wanted if c not in header]
            if missing:
                raise TableError(
                    f"{path.name}: faltan columnas / missing columns {missing} (columnas / columns: {header[:12]})"
                )
            at = [header.index(c) for c in wanted]
            for record in reader:
                line = reader.line_num
                if not any(cell.strip() for cell in record):
                    continue
                summary.rows += 1
                try:
                    if len(record) != len(header):
                        raise ValueError(
                            f"{len(record)} celdas, se esperaban {len(header)} / cells, expected"
                        )
                    voter = normal_id(record[at[0]], spec)
                    if voter is None:
                        raise ValueError("cédula inválida / invalid id")  # never the id itself
                    centre = geo_code(record[at[1]], spec["centre"], digits)
                    mesa = count(record[at[2]], spec["mesa"], maximum=999)
                    if mesa < 1:
                        raise ValueError(f"{spec['mesa']}: 0")
                except ValueError as exc:
                    summary.refused += 1
                    if len(summary.errors) < MAX_ERRORS:
                        summary.errors.append({"line": line, "error": str(exc)})
                    continue
                yield voter, centre, mesa
        except UnicodeDecodeError:
            raise TableError(f"{path.name}: no es texto UTF-8 / not UTF-8 text") from None
        except csv.Error as exc:
            raise TableError(f"{path.name}: CSV inválido / invalid CSV: {exc}") from None
