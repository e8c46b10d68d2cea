"""Import a published per-acta results table (e.g. resultadosconvzla V1/V2 CSV).

Bytes are taken as found: encoding and BOM detected, any line ending. A row that does not
parse is reported with its line number and the rest still imports.
"""

from __future__ import annotations

import csv
import hashlib
import io
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy import delete, func, insert, select
from sqlalchemy.orm import Session

from veedor.capture.numbers import COUNT_MAX, code, count
from veedor.definitions import ElectionDefinition
from veedor.store.records import now
from veedor.store.schema import GeoUnit, ResultRow, ResultTable, ResultVotes


class TableError(ValueError):
    """The whole file cannot be imported; the message says why and what to do."""


MAX_TABLE_BYTES = 512 * 1024 * 1024
"""Four copies of V1 are ~20 MB; a national table of a million mesas ~100 MB."""


@dataclass(frozen=True)
class CsvProblem:
    """A line the CSV reader itself could not take (a cell past the size limit, a quote never
    closed): reported with its line number, and reading goes on."""

    reason: str


def readable(
    reader: Iterator[Any], errors: list[dict[str, object]], start: int = 2
) -> Iterator[tuple[int, Any]]:
    """(line number, record) for each record read; each line the reader could not take is
    added to ``errors`` with its number instead."""
    for line_no, record in enumerate(guarded(reader), start=start):
        if isinstance(record, CsvProblem):
            errors.append({"line": line_no, "error": record.reason})
        else:
            yield line_no, record


def guarded(reader: Iterator[Any]) -> Iterator[Any]:
    """The reader's records, with a :class:`CsvProblem` in place of each it could not read."""
    while True:
        try:
            yield next(reader)
        except StopIteration:
            return
        except csv.Error as exc:
            yield CsvProblem(
                f"fila ilegible ({exc}); si una comilla no se cerró, el resto del archivo quedó en una "
                "celda / unreadable row (a cell too large, or a quote never closed)"
            )


@dataclass
class ImportSummary:
    table_id: int
    name: str
    rows: int
    encoding: str
    errors: list[dict[str, object]] = field(default_factory=list)
    already_imported: bool = False


def read_input(path: Path) -> bytes:
    """The bytes of an input table, or a :class:`TableError` people can act on."""
    try:
        size = path.stat().st_size
        if size > MAX_TABLE_BYTES:
            raise TableError(
                f"{path.name}: {size // 2**20} MiB, más de lo que puede ser una tabla de resultados "
                f"({MAX_TABLE_BYTES // 2**20} MiB) / larger than any results table; divídala / split it"
            )
        return path.read_bytes()
    except OSError as exc:
        raise TableError(f"no se puede leer {path}: {exc.strerror} / cannot read file") from None


def decode_text(data: bytes) -> tuple[str, str]:
    """Return (text, encoding): UTF-8 (with or without BOM) first, then Windows/Latin-1."""
    if data.startswith(b"\xef\xbb\xbf"):
        return data[3:].decode("utf-8"), "utf-8-sig"
    try:
        return data.decode("utf-8"), "utf-8"
    except UnicodeDecodeError:
        pass
    try:
        return data.decode("cp1252"), "cp1252"
    except UnicodeDecodeError:
        return data.decode("latin-1"), "latin-1"


def import_results_table(
    session: Session,
    path: str | Path,
    definition: ElectionDefinition,
    *,
    format_name: str = "resultadosconvzla",
    name: str | None = None,
) -> ImportSummary:
    path = Path(path)
    data = read_input(path)
    sha = hashlib.sha256(data).hexdigest()
    existing = session.scalar(
        select(ResultTable).where(ResultTable.election == definition.id, ResultTable.sha256 == sha)
    )
    if existing is not None:
        return ImportSummary(
            existing.id,
            existing.name,
            existing.rows,
            existing.encoding,
            list(existing.errors or []),
            already_imported=True,
        )
    spec = definition.results_tables.get(format_name)
    if spec is None:
        raise TableError(f"formato desconocido / unknown table format {format_name!r}")
    text, encoding = decode_text(data)
    reader = csv.reader(io.StringIO(text, newline=""))
    first: list[str] | CsvProblem = next(guarded(reader), [])
    header = [] if isinstance(first, CsvProblem) else [h.strip() for h in first]
    required = [
        spec["centre_column"],
        spec["mesa_column"],
        spec["valid_column"],
        spec["null_column"],
        *definition.candidate_codes,
    ]
    missing = [c for c in required if c not in header]
    if missing:
        raise TableError(
            f"{path.name}: faltan columnas / missing columns: {', '.join(missing)}. "
            f"Columnas encontradas / found: {', '.join(header) or '(ninguna / none)'}"
        )
    col = {h: i for i, h in enumerate(header)}
    table = ResultTable(
        election=definition.id,
        name=name or path.name,
        sha256=sha,
        path=str(path),
        format=format_name,
        encoding=encoding,
        rows=0,
        errors=[],
        imported_at=now(),
    )
    session.add(table)
    session.flush()
    first_id = (session.scalar(select(func.max(ResultRow.id))) or 0) + 1
    count, errors = _import_rows(session, reader, col, spec, definition, table.id, first_id)
    table.rows = count
    table.errors = errors
    _remember_names(session, definition, text, spec)
    session.flush()
    return ImportSummary(table.id, table.name, count, encoding, errors)


CHUNK_ROWS = 5000
"""Rows inserted at a time: memory holds one chunk, not the table (four V1s are 100,000 rows)."""


def _import_rows(
    session: Session,
    reader: Iterator[list[str]],
    col: dict[str, int],
    spec: dict,
    definition: ElectionDefinition,
    table_id: int,
    first_id: int,
) -> tuple[int, list[dict[str, object]]]:
    """Insert the table's rows chunk by chunk; returns (rows kept, errors by line)."""
    electors_col = col.get(spec.get("electors_column", ""))
    image_col = col.get(spec.get("image_column", ""))
    errors: list[dict[str, object]] = []
    # Per mesa: its first line, its numbers, and its row id (None once withdrawn).
    seen: dict[tuple[str, int], tuple[int, bytes, int | None]] = {}
    withdrawn: list[int] = []
    rows: list[dict] = []
    votes: list[dict] = []
    # Row ids are assigned here (one writer) so that votes can be bulk-inserted in the same pass.
    next_id = first_id

    def flush() -> None:
        if rows:
            session.execute(insert(ResultRow), rows)
            session.execute(insert(ResultVotes), votes)
        rows.clear()
        votes.clear()

    for line_no, record in readable(reader, errors):
        if not any(cell.strip() for cell in record):
            continue
        try:
            row, per_candidate = _row(record, col, spec, definition, electors_col, image_col)
        except (ValueError, IndexError) as exc:
            errors.append(
                {
                    "line": line_no,
                    "error": str(exc)
                    if isinstance(exc, ValueError)
                    else "faltan celdas en la fila / row has too few cells",
                }
            )
            continue
        key = (row["centre"], row["mesa"])
        # A digest, not the numbers: memory per mesa stays small (four V1s are 100,000 mesas).
        numbers = hashlib.blake2b(
            repr((row["valid"], row["nulos"], row["electors"], sorted(per_candidate.items()))).encode(),
            digest_size=16,
        ).digest()
        if key in seen:
            first_line, first_numbers, first_row = seen[key]
            where = f"mesa {key[0]}.{key[1]:02d}"
            if numbers == first_numbers:
                errors.append(
                    {
                        "line": line_no,
                        "error": f"{where} repetida con los mismos números (líneas {first_line}, {line_no}); "
                        "se cuenta una vez / duplicate mesa with the same numbers: counted once",
                    }
                )
                continue
            # Which one is true cannot be told from the table: none is counted.
            if first_row is not None:
                withdrawn.append(first_row)
                seen[key] = (first_line, first_numbers, None)
            errors.append(
                {
                    "line": first_line,
                    "error": f"{where} repetida con números distintos (líneas {first_line}, {line_no}); "
                    "no se importa ninguna / duplicate mesa with different numbers: neither imported",
                }
            )
            continue
        seen[key] = (line_no, numbers, next_id)
        rows.append({"id": next_id, "table_id": table_id, "line": line_no, **row})
        votes.extend({"row_id": next_id, "candidate": c, "votes": v} for c, v in per_candidate.items())
        next_id += 1
        if len(rows) >= CHUNK_ROWS:
            flush()
    flush()
    for i in range(0, len(withdrawn), CHUNK_ROWS):
        ids = withdrawn[i : i + CHUNK_ROWS]
        session.execute(delete(ResultVotes).where(ResultVotes.row_id.in_(ids)))
        session.execute(delete(ResultRow).where(ResultRow.id.in_(ids)))
    errors.sort(key=lambda e: int(str(e["line"])))
    return next_id - first_id - len(withdrawn), errors


def _row(
    record: list[str],
    col: dict[str, int],
    spec: dict,
    definition: ElectionDefinition,
    electors_col: int | None,
    image_col: int | None,
) -> tuple[dict, dict[str, int]]:
    """One table row's numbers, checked against each other and the definition's bounds."""
    bound = definition.max_voters_per_mesa or COUNT_MAX

    def cell(name: str) -> str:
        return record[col[name]]

    centre = code(cell(spec["centre_column"]), "centro", definition.centre_code_digits)
    mesa = count(cell(spec["mesa_column"]), "mesa", bound)
    if mesa < 1:
        raise ValueError("mesa 0 no existe / mesa 0 cannot exist")
    valid = count(cell(spec["valid_column"]), "válidos", bound)
    nulos = count(cell(spec["null_column"]), "nulos", bound)
    per_candidate = {c: count(cell(c), c, bound) for c in definition.candidate_codes}
    electors = count(record[electors_col], "electores", bound) if electors_col is not None else None
    computed = sum(per_candidate.values())
    if computed != valid:
        # Mexico's PREP keeps both (TOTAL_VOTOS_ASENTADO and _CALCULADO); a row whose stated
        # total is not its sum is not a row anyone can count.
        raise ValueError(
            f"válidos declarados {valid} ≠ suma de los candidatos {computed} / stated valid votes "
            "differ from the candidates' sum"
        )
    if valid + nulos > bound:
        raise ValueError(
            f"{valid + nulos} votos: ninguna mesa tiene más de {bound} electores / votes above any mesa"
        )
    if electors is not None and valid + nulos > electors:
        raise ValueError(f"{valid + nulos} votos para {electors} electores / more votes than electors")
    image = record[image_col].strip()[:2000] if image_col is not None else None
    row = {
        "centre": centre,
        "mesa": mesa,
        "electors": electors,
        "valid": valid,
        "nulos": nulos,
        "image_ref": image,
    }
    return row, per_candidate


def _remember_names(session: Session, definition: ElectionDefinition, text: str, spec: dict) -> None:
    """Keep geography names the table carries, where no registry has given them yet."""
    name_cols: dict[str, str] = spec.get("level_name_columns", {})
    if not name_cols:
        return
    reader = csv.DictReader(io.StringIO(text, newline=""))
    names: dict[str, tuple[str, str]] = {}
    levels = {lv.name: lv for lv in definition.levels}
    for _, record in readable(reader, []):  # lines it cannot read: reported by the rows' pass
        try:
            centre = code(record.get(spec["centre_column"]) or "", "centro", definition.centre_code_digits)
        except ValueError:
            continue  # already reported by the rows' own pass
        for level_name, column in name_cols.items():
            value = (record.get(column) or "").strip()
            if value and level_name in levels:
                names.setdefault(centre[: levels[level_name].code_digits], (level_name, value))
    known = set(session.scalars(select(GeoUnit.code).where(GeoUnit.election == definition.id)))
    new = [
        {
            "election": definition.id,
            "code": code,
            "level": level,
            "name": name,
            "parent_code": None,
            "mesas_total": None,
            "source": "results-table",
        }
        for code, (level, name) in names.items()
        if code not in known
    ]
    if new:
        session.execute(insert(GeoUnit), new)
