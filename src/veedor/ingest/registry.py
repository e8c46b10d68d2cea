"""Import the geography registry: centres with their hierarchy, unit totals, electors per mesa.

The kind of file is recognised by its columns, so one command takes all of them.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import insert, select, update
from sqlalchemy.orm import Session

from veedor.definitions import ElectionDefinition
from veedor.ingest.locate import MesaLocator
from veedor.ingest.numbers import code as geo_code
from veedor.ingest.numbers import count
from veedor.ingest.tables import TableError, decode_text, read_input, read_table
from veedor.store.schema import GeoUnit, Mesa


@dataclass
class RegistrySummary:
    kind: str
    rows: int
    errors: list[dict[str, object]]


def import_registry(session: Session, path: str | Path, definition: ElectionDefinition) -> RegistrySummary:
    path = Path(path)
    text, _ = decode_text(read_input(path))
    errors: list[dict[str, object]] = []
    fields, records = read_table(text, errors)
    reader = _rows(fields, records, errors)
    centres_spec = definition.registry.get("centres_csv", {})
    table_spec = next(iter(definition.results_tables.values()), {})
    kind = registry_kind(fields, definition)
    if kind == "centres":
        return _centres(session, reader, definition, centres_spec, path.name, errors)
    if kind == "units":
        return _unit_totals(session, reader, definition, path.name, errors)
    if kind == "electors":
        return _electors(session, reader, definition, table_spec, path.name, errors)
    if kind == "mesas":
        return _mesas(session, reader, definition, _named_table(fields, definition) or {}, path.name, errors)
    electors_col = table_spec.get("electors_column")
    units_spec = definition.registry.get("unit_totals_csv", {})
    raise TableError(
        f"{path.name}: no se reconoce el tipo de registro por sus columnas / unknown registry file. "
        f"Se aceptan: centros ({centres_spec.get('code')}, {centres_spec.get('name')}, ...), totales por "
        f"unidad ({', '.join(str(c) for k, c in units_spec.items() if k != 'level_aliases')}), "
        "o electores por mesa "
        f"({table_spec.get('centre_column')}, {table_spec.get('mesa_column')}, {electors_col})"
    )


KINDS = ("centres", "units", "electors", "mesas")
"""The kinds of registry file, in the order they must be imported: the units' totals name
units the centres file creates, and electors belong to the centres' mesas."""


def registry_kind(fields: list[str], definition: ElectionDefinition) -> str | None:
    """Which of :data:`KINDS` a table is, by its header's columns; None if none."""
    header = set(fields)
    centres_spec = definition.registry.get("centres_csv", {})
    table_spec = next(iter(definition.results_tables.values()), {})
    if centres_spec and {centres_spec["code"], centres_spec["name"]} <= header:
        # The name too: resultadosconvzla's per-mesa list has centro_code but no names, and was
        # taken for a centres file whose empty names replaced the registry's.
        return "centres"
    units_spec = definition.registry.get("unit_totals_csv", {})
    if (
        units_spec
        and {units_spec["level"], units_spec["name"], units_spec["mesas"], units_spec["parent_name"]}
        <= header
    ):
        return "units"
    electors_col = table_spec.get("electors_column")
    if (
        electors_col
        and "centre_column" in table_spec
        and {table_spec["centre_column"], table_spec["mesa_column"], electors_col} <= header
    ):
        return "electors"
    if _named_table(fields, definition) is not None:
        return "mesas"
    return None


def _named_table(fields: list[str], definition: ElectionDefinition) -> dict | None:
    """A per-mesa table that names each mesa's units instead of coding them (``centre_from_names``):
    its rows say which mesas exist and where (the authority's per-JRV file for Honduras)."""
    for spec in definition.results_tables.values():
        if spec.get("centre_from_names") and MesaLocator(spec, definition).matches(fields):
            return spec
    return None


def file_kind(path: str | Path, definition: ElectionDefinition) -> str | None:
    """:func:`registry_kind` of a file (None too for one that is not a readable table)."""
    try:
        text, _ = decode_text(read_input(Path(path)))
    except TableError:
        return None
    return registry_kind(read_table(text, [])[0], definition)


def _rows(
    header: list[str], records: Iterator[tuple[int, list[str]]], errors: list[dict[str, object]]
) -> Iterator[tuple[int, dict[str, str]]]:
    """Each non-blank row as {column: cell}; a row whose cells do not match the header's
    (a comma in a name shifts every cell after it) is refused by line."""
    width = len(header)
    while width and not header[width - 1]:
        width -= 1
    for line_no, record in records:
        if not any(cell.strip() for cell in record):
            continue
        if len(record) < width or any(cell.strip() for cell in record[width:]):
            errors.append(
                {
                    "line": line_no,
                    "error": f"la fila tiene {len(record)} celdas y el encabezado {width} / "
                    "row's cells do not match the header",
                }
            )
            continue
        yield line_no, dict(zip(header[:width], record, strict=False))


def _upsert_units(session: Session, definition: ElectionDefinition, units: dict[str, dict]) -> None:
    existing = {
        row.code: row
        for row in session.execute(
            select(GeoUnit.code, GeoUnit.name, GeoUnit.parent_code, GeoUnit.mesas_total).where(
                GeoUnit.election == definition.id
            )
        )
    }
    new = [u for code, u in units.items() if code not in existing]
    # What this file does not say is kept: a file without names (or a centres file without
    # states' totals) used to blank what an earlier file had given.
    old = [
        {
            **u,
            "name": u["name"] or existing[code].name,
            "parent_code": u["parent_code"] or existing[code].parent_code,
            "mesas_total": u["mesas_total"] if u["mesas_total"] is not None else existing[code].mesas_total,
        }
        for code, u in units.items()
        if code in existing
    ]
    if new:
        session.execute(insert(GeoUnit), new)
    if old:
        session.execute(update(GeoUnit), old)


Rows = Iterator[tuple[int, dict[str, str]]]


def _repeat(
    seen: dict[str, tuple[int, object]], key: str, what: str, line_no: int, data: object, errors: list
) -> bool | None:
    """Whether a key this file gave before comes again: with the same data, the repeat is
    reported and skipped (True); with other data, which is right cannot be told, and both
    lines are refused (None: withdraw the first); the first time, False."""
    if key not in seen:
        seen[key] = (line_no, data)
        return False
    first, before = seen[key]
    if before == data:
        errors.append(
            {
                "line": line_no,
                "error": f"{what} aparece dos veces con los mismos datos (líneas {first}, {line_no}); se "
                "toma una vez / given twice with the same data: taken once",
            }
        )
        return True
    why = (
        f"{what} aparece dos veces con datos distintos (líneas {first}, {line_no}); no se toma "
        "ninguna de las dos / given twice with different data: none taken"
    )
    errors.append({"line": line_no, "error": why})
    if before is not _WITHDRAWN:
        errors.append({"line": first, "error": why})
        seen[key] = (first, _WITHDRAWN)
    return None


_WITHDRAWN = object()


def _centres(
    session: Session, reader: Rows, definition: ElectionDefinition, spec: dict, source: str, errors: list
) -> RegistrySummary:
    digits = definition.centre_code_digits
    name_cols: dict[str, str] = spec.get("level_name_columns", {})
    units: dict[str, dict] = {}
    seen: dict[str, tuple[int, object]] = {}
    withdrawn: set[str] = set()
    for line_no, record in reader:
        try:
            code = geo_code(record.get(spec["code"]) or "", "centro", digits)
            mesas_raw = (record.get(spec.get("mesas", "")) or "").strip()
            mesas = count(mesas_raw, "mesas", 10_000) if mesas_raw else None
        except ValueError as exc:
            errors.append({"line": line_no, "error": str(exc)})
            continue
        names = [
            (
                record.get(spec["name"] if level.code_digits == digits else name_cols.get(level.name, ""))
                or ""
            ).strip()[:200]
            for level in definition.levels
        ]
        repeat = _repeat(seen, code, f"centro {code}", line_no, (mesas, names), errors)
        if repeat is None:
            withdrawn.add(code)
        if repeat is not False:
            continue
        parent = None
        for level, name in zip(definition.levels, names, strict=True):
            unit_code = code[: level.code_digits]
            is_centre = level.code_digits == digits
            previous = units.get(unit_code)
            if previous is None or (not previous["name"] and name):
                units[unit_code] = {
                    "election": definition.id,
                    "code": unit_code,
                    "level": level.name,
                    "name": name or (previous or {}).get("name"),
                    "parent_code": parent,
                    "mesas_total": mesas if is_centre else None,
                    "source": source,
                }
            parent = unit_code
    for code in withdrawn:
        del units[code]
    _upsert_units(session, definition, units)
    errors.sort(key=_line)
    return RegistrySummary("centres", len(seen) - len(withdrawn), errors)


def _line(error: dict[str, object]) -> int:
    return int(str(error["line"]))


def _unit_totals(
    session: Session, reader: Rows, definition: ElectionDefinition, source: str, errors: list
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
    updates: dict[str, dict] = {}
    seen: dict[str, tuple[int, object]] = {}
    spec = definition.registry.get("unit_totals_csv", {})
    for line_no, record in reader:
        pos = _level_position(record.get(spec["level"], ""), definition)
        try:
            total = count(record.get(spec["mesas"]) or "", spec["mesas"])
        except ValueError:
            total = None
        if pos is None or total is None:
            errors.append({"line": line_no, "error": "nivel o total inválido / bad level or total"})
            continue
        key = (pos, _norm(record.get(spec["name"], "")), _norm(record.get(spec["parent_name"], "")) or None)
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
        repeat = _repeat(seen, codes[0], f"unidad {codes[0]}", line_no, total, errors)
        if repeat is None:
            updates.pop(codes[0], None)
        if repeat is False:
            updates[codes[0]] = {"election": definition.id, "code": codes[0], "mesas_total": total}
    if updates:
        session.execute(update(GeoUnit), list(updates.values()))
    errors.sort(key=_line)
    return RegistrySummary("unit-totals", len(updates), errors)


def _level_position(raw: str, definition: ElectionDefinition) -> int | None:
    """A level's position from its name in a file: the definition's name or label, or an alias
    the definition gives (``registry.unit_totals_csv.level_aliases``)."""
    aliases = definition.registry.get("unit_totals_csv", {}).get("level_aliases", {})
    name = aliases.get(raw.strip().lower(), raw.strip().lower())
    for i, level in enumerate(definition.levels):
        if level.name == name or level.label_es.lower() == raw.strip().lower():
            return i
    return None


def _norm(name: str) -> str:
    return " ".join(name.upper().split())


def _electors(
    session: Session, reader: Rows, definition: ElectionDefinition, spec: dict, source: str, errors: list
) -> RegistrySummary:
    digits = definition.centre_code_digits
    existing = {
        (c, n)
        for c, n in session.execute(select(Mesa.centre, Mesa.number).where(Mesa.election == definition.id))
    }
    rows: dict[str, dict] = {}
    seen: dict[str, tuple[int, object]] = {}
    bound = definition.max_voters_per_mesa or 2**31 - 1
    for line_no, record in reader:
        try:
            centre = geo_code(record.get(spec["centre_column"]) or "", "centro", digits)
            mesa = count(record.get(spec["mesa_column"]) or "", "mesa", bound)
            electors = count(record.get(spec["electors_column"]) or "", "electores", bound)
            if mesa < 1:
                raise ValueError("mesa 0 no existe / mesa 0 cannot exist")
        except ValueError as exc:
            errors.append({"line": line_no, "error": str(exc)})
            continue
        # A mesa given twice ended in an IntegrityError that lost the whole file.
        key = f"{centre}.{mesa:02d}"
        repeat = _repeat(seen, key, f"mesa {key}", line_no, electors, errors)
        if repeat is None:
            rows.pop(key, None)
        if repeat is False:
            rows[key] = {
                "election": definition.id,
                "centre": centre,
                "number": mesa,
                "electors": electors,
                "source": source,
            }
    new = [r for r in rows.values() if (r["centre"], r["number"]) not in existing]
    old = [r for r in rows.values() if (r["centre"], r["number"]) in existing]
    if new:
        session.execute(insert(Mesa), new)
    if old:
        session.execute(update(Mesa), old)
    errors.sort(key=_line)
    return RegistrySummary("electors", len(rows), errors)


def _mesas(
    session: Session, reader: Rows, definition: ElectionDefinition, spec: dict, source: str, errors: list
) -> RegistrySummary:
    """Every mesa a per-mesa table names, under the units it names (matched to the definition's
    ``unit_names``): the units with their names and how many mesas each has, and the mesas
    (electors unknown). A mesa already stored keeps its electors."""
    locator = MesaLocator(spec, definition)
    rows: dict[tuple[str, int], dict] = {}
    seen: dict[str, tuple[int, object]] = {}
    for line_no, record in reader:
        try:
            centre, mesa = locator.locate(record)
        except ValueError as exc:
            errors.append({"line": line_no, "error": str(exc)})
            continue
        key = f"{centre}.{mesa:02d}"
        repeat = _repeat(seen, f"{mesa}", f"mesa {key}", line_no, centre, errors)
        if repeat is None:
            rows = {k: r for k, r in rows.items() if k[1] != mesa}
        if repeat is False:
            rows[(centre, mesa)] = {
                "election": definition.id,
                "centre": centre,
                "number": mesa,
                "electors": None,
                "source": source,
            }
    per_unit: dict[str, int] = {}
    for centre, _ in rows:
        for level in definition.levels:
            per_unit[centre[: level.code_digits]] = per_unit.get(centre[: level.code_digits], 0) + 1
    units = {}
    for level in definition.levels:
        for code, mesas in per_unit.items():
            if len(code) != level.code_digits:
                continue
            coarser = [lv.code_digits for lv in definition.levels if lv.code_digits < level.code_digits]
            parent = code[: coarser[-1]] if coarser else None
            units[code] = {
                "election": definition.id,
                "code": code,
                "level": level.name,
                "name": definition.unit_names.get(code),
                "parent_code": parent,
                "mesas_total": mesas,
                "source": source,
            }
    _upsert_units(session, definition, units)
    existing = {
        (c, n)
        for c, n in session.execute(select(Mesa.centre, Mesa.number).where(Mesa.election == definition.id))
    }
    new = [r for k, r in rows.items() if k not in existing]
    if new:
        session.execute(insert(Mesa), new)
    errors.sort(key=_line)
    return RegistrySummary("mesas", len(rows), errors)
