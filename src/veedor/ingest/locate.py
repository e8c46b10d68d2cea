"""Which mesa a table's row is about, as the definition's table format says: a centre code column
and a mesa column (Venezuela's tables), or a mesa column and one column naming each level's unit
(Honduras' per-JRV file gives "YORO", "EL NEGRITO", not codes), matched to the definition's
``geography.unit_names``.

Every importer of per-mesa rows (results tables, official figures, the registry) goes through
here, so a country's table is described once, in its definition.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Mapping
from typing import Any

from veedor.definitions import ElectionDefinition
from veedor.ingest.numbers import code as geo_code
from veedor.ingest.numbers import count


def normal_name(name: str) -> str:
    """A unit's name compared as people write it: case, spacing and Unicode form aside."""
    return " ".join(unicodedata.normalize("NFC", name).upper().split())


class MesaLocator:
    """Reads (centre code, mesa number) from a row, per a ``results_tables`` entry."""

    def __init__(self, spec: Mapping[str, Any], definition: ElectionDefinition) -> None:
        self.definition = definition
        self.mesa_column: str = spec["mesa_column"]
        self.centre_column: str | None = spec.get("centre_column")
        self.name_columns: list[str] = list(spec.get("centre_from_names") or [])
        if self.centre_column is None and not self.name_columns:
            raise ValueError("a results table needs centre_column or centre_from_names")
        self.bound = definition.max_voters_per_mesa or 2**31 - 1
        # (parent code, normal name) -> code, for each level the names go down.
        self._codes: dict[tuple[str, str], str] = {}
        for unit, name in definition.unit_names.items():
            parent = max(
                (lv.code_digits for lv in definition.levels if lv.code_digits < len(unit)), default=0
            )
            self._codes[(unit[:parent], normal_name(name))] = unit

    @property
    def columns(self) -> list[str]:
        return (
            [self.centre_column or "", self.mesa_column]
            if self.centre_column
            else [*self.name_columns, self.mesa_column]
        )

    def matches(self, header: list[str] | set[str]) -> bool:
        return set(self.columns) <= set(header)

    def centre(self, record: Mapping[str, str]) -> str:
        if self.centre_column is not None:
            return geo_code(
                record.get(self.centre_column) or "", "centro", self.definition.centre_code_digits
            )
        code = ""
        for column in self.name_columns:
            name = (record.get(column) or "").strip()
            found = self._codes.get((code, normal_name(name)))
            if found is None:
                shown = name[:60] or "(vacío / empty)"
                raise ValueError(
                    f"{column} {shown!r}: no es una unidad de la definición dentro de {code or 'el país'} / "
                    "not a unit the definition knows there"
                )
            code = found
        if len(code) != self.definition.centre_code_digits:
            raise ValueError(
                f"las columnas {', '.join(self.name_columns)} no llegan al nivel más fino / "
                "the name columns do not reach the finest level"
            )
        return code

    def locate(self, record: Mapping[str, str]) -> tuple[str, int]:
        """(centre code, mesa number) of a row, or ValueError saying why not."""
        centre = self.centre(record)
        mesa = count(
            record.get(self.mesa_column) or "", "mesa", self.bound if self.centre_column else 2**31 - 1
        )
        if mesa < 1:
            raise ValueError("mesa 0 no existe / mesa 0 cannot exist")
        return centre, mesa


def unpublished(spec: Mapping[str, Any], votes: Mapping[str, int]) -> bool:
    """Whether a row stands for "not published yet" in this format (all counts zero, where the
    format says so): such a row is no figure at all, not a mesa where nobody voted."""
    return bool(spec.get("unpublished_if_all_zero")) and not any(votes.values())
