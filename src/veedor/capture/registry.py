"""Import the geography registry: centres with their hierarchy, unit totals, electors per mesa.

The kind of file is recognised by its columns, so one command takes all of them.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import insert, select, update
from sqlalchemy.orm import Session

from veedor.capture.numbers import code as geo_code
from veedor.capture.numbers import count
from veedor.capture.tables import TableError, decode_text, read_input, readable
from veedor.definitions import ElectionDefinition
from veedor.store.schema import GeoUnit, Mesa


@dataclass
class RegistrySummary:
    kind: str
    rows: int
    errors: list[dict[str, object]]


def import_registry(session: Session, path: str | Path, definition: ElectionDefinition) -> RegistrySummary:
    path = Path(path)
    text, _ = decode_text(read_input(path))
    reader = csv.DictReader(io.StringIO(text, newline=""))
    header = set(reader.fieldnames or [])
    centres_spec = definition.registry.get("centres_csv", {})
    table_spec = next(iter(definition.results_tables.values()), {})
    if centres_spec and centres_spec["code"] in header:
        return _centres(session, reader, definition, centres_spec, path.name)
    if {"level", "name", "mesas_totales", "parent_name"} <= header:
        return _unit_totals(session, reader, definition, path.name)
    electors_col = table_spec.get("electors_column")
    if electors_col and {table_spec["centre_column"], table_spec["mesa_column"], electors_col} <= header:
        return _electors(session, reader, definition, table_spec, path.name)
    raise TableError(
        f"{path.name}: no se reconoce el tipo de registro por sus columnas / unknown registry file. "
        f"Se aceptan: centros ({centres_spec.get('code')}, ...), totales por unidad (level, name, "
        f"mesas_totales), o electores por mesa ({table_spec.get('centre_column')}, "
        f"{table_spec.get('mesa_column')}, {electors_col})"
    )


def _upsert_units(session: Session, definition: ElectionDefinition, units: dict[str, dict]) -> None:
    existing = set(session.scalars(select(GeoUnit.code).where(GeoUnit.election == definition.id)))
    new = [u for code, u in units.items() if code not in existing]
    old = [u for code, u in units.items() if code in existing]
    if new:
        session.execute(insert(GeoUnit), new)
    if old:
        session.execute(update(GeoUnit), old)


def _centres(
    session: Session, reader: csv.DictReader, definition: ElectionDefinition, spec: dict, source: str
) -> RegistrySummary:
    digits = definition.centre_code_digits
    name_cols: dict[str, str] = spec.get("level_name_columns", {})
    units: dict[str, dict] = {}
    errors: list[dict[str, object]] = []
    rows = 0
    for line_no, record in readable(reader, errors):
        try:
            code = geo_code(record.get(spec["code"]) or "", "centro", digits)
            mesas_raw = (record.get(spec.get("mesas", "")) or "").strip()
            mesas = count(mesas_raw, "mesas", 10_000) if mesas_raw else None
        except ValueError as exc:
            errors.append({"line": line_no, "error": str(exc)})
            continue
        parent = None
        for level in definition.levels:
            unit_code = code[: level.code_digits]
            is_centre = level.code_digits == digits
            name = (
                record.get(spec["name"]) if is_centre else record.get(name_cols.get(level.name, ""))
            ) or ""
            previous = units.get(unit_code)
            if previous is None or (not previous["name"] and name):
                units[unit_code] = {
                    "election": definition.id,
                    "code": unit_code,
                    "level": level.name,
                    "name": name.strip() or (previous or {}).get("name"),
                    "parent_code": parent,
                    "mesas_total": mesas if is_centre else None,
                    "source": source,
                }
            parent = unit_code
        rows += 1
    _upsert_units(session, definition, units)
    return RegistrySummary("centres", rows, errors)


def _unit_totals(
    session: Session, reader: csv.DictReader, definition: ElectionDefinition, source: str
) -> RegistrySummary:
    """Total mesas per state/municipality/parish, matched to stored units by name and parent name."""
    stored = session.execute(
        select(GeoUnit.code, GeoUnit.level, GeoUnit.name, GeoUnit.parent_code).where(
            GeoUnit.election == definition.id
        )
    ).all()
    name_of = {code: name for code, _, name, _ in stored}
    index: dict[tuple[int, str, str | None], list[str]] = {}
    level_pos = {lv.name: i for i, lv in enumerate(definition.levels)}
    for code, level, name, parent in stored:
        if level in level_pos and name:
            key = (level_pos[level], _norm(name), _norm(name_of.get(parent or "", "") or "") or None)
            index.setdefault(key, []).append(code)
    updates: list[dict] = []
    errors: list[dict[str, object]] = []
    for line_no, record in readable(reader, errors):
        pos = _level_position(record.get("level", ""), definition)
        try:
            total = count(record.get("mesas_totales") or "", "mesas_totales")
        except ValueError:
            total = None
        if pos is None or total is None:
            errors.append({"line": line_no, "error": "nivel o total inválido / bad level or total"})
            continue
        key = (pos, _norm(record.get("name", "")), _norm(record.get("parent_name", "")) or None)
        codes = index.get(key, [])
        if len(codes) != 1:
            errors.append(
                {
                    "line": line_no,
                    "error": f"unidad {record.get('name')!r} no encontrada o ambigua "
                    f"({len(codes)} coincidencias) / unit not found or ambiguous",
                }
            )
            continue
        updates.append({"election": definition.id, "code": codes[0], "mesas_total": total})
    if updates:
        session.execute(update(GeoUnit), updates)
    return RegistrySummary("unit-totals", len(updates), errors)


_LEVEL_ALIASES = {"estado": "state", "municipio": "municipality", "parroquia": "parish", "centro": "centre"}


def _level_position(raw: str, definition: ElectionDefinition) -> int | None:
    name = _LEVEL_ALIASES.get(raw.strip().lower(), raw.strip().lower())
    for i, level in enumerate(definition.levels):
        if level.name == name or level.label_es.lower() == raw.strip().lower():
            return i
    return None


def _norm(name: str) -> str:
    return " ".join(name.upper().split())


def _electors(
    session: Session, reader: csv.DictReader, definition: ElectionDefinition, spec: dict, source: str
) -> RegistrySummary:
    digits = definition.centre_code_digits
    existing = {
        (c, n)
        for c, n in session.execute(select(Mesa.centre, Mesa.number).where(Mesa.election == definition.id))
    }
    new: list[dict] = []
    old: list[dict] = []
    errors: list[dict[str, object]] = []
    bound = definition.max_voters_per_mesa or 2**31 - 1
    for line_no, record in readable(reader, errors):
        try:
            centre = geo_code(record.get(spec["centre_column"]) or "", "centro", digits)
            mesa = count(record.get(spec["mesa_column"]) or "", "mesa", bound)
            electors = count(record.get(spec["electors_column"]) or "", "electores", bound)
        except ValueError as exc:
            errors.append({"line": line_no, "error": str(exc)})
            continue
        row = {
            "election": definition.id,
            "centre": centre,
            "number": mesa,
            "electors": electors,
            "source": source,
        }
        (old if (row["centre"], row["number"]) in existing else new).append(row)
    if new:
        session.execute(insert(Mesa), new)
    if old:
        session.execute(update(Mesa), old)
    return RegistrySummary("electors", len(new) + len(old), errors)
