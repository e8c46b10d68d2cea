"""Import the authority's official figures: bulletins (JSON or a simple CSV) and per-mesa data.

Accepted inputs:

* JSON ``{"authority": ..., "bulletins": [{"id", "announced_at", "actas_transmitted_pct",
  "votes": {CAND: n}, "others_total", "valid_votes", "null_votes", "voters",
  "registered_electors", "sources", "caveat", "units": [{"level", "code", "mesa", "votes", ...}]}]}``
  (the format of ``samples/official/``; every key but ``id`` and ``votes`` is optional).
* CSV, one row per unit: optional ``bulletin``, ``level`` (default ``national``), ``code``,
  ``mesa``, ``announced_at``, ``actas_pct``, ``electors``, ``voters``, ``valid``, ``nulos``,
  ``others``, and one column per candidate code.
* CSV in a per-mesa results format of the definition (e.g. the resultadosconvzla columns):
  taken as the authority's per-mesa publication.
"""

from __future__ import annotations

import hashlib
import json
import math
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy import delete, func, insert, select
from sqlalchemy.orm import Session

from veedor.definitions import ElectionDefinition
from veedor.ingest.locate import MesaLocator, unpublished
from veedor.ingest.numbers import code as geo_code
from veedor.ingest.numbers import count
from veedor.ingest.tables import TableError, decode_text, read_input, read_table
from veedor.ingest.tables import shown as shown_cells
from veedor.store import evidence_log as log
from veedor.store.official import MESA, NATIONAL, OfficialSource, OfficialUnit, OfficialVotes
from veedor.store.records import now

_UNIT_FIELDS = ("electors", "voters", "valid", "nulos", "others")


@dataclass
class OfficialImport:
    keys: list[str] = field(default_factory=list)
    units: int = 0
    errors: list[dict[str, object]] = field(default_factory=list)
    replaced: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    unpublished: int = 0
    """Rows the format says stand for "not published yet" (all zero): no figure, not imported."""


@dataclass
class _Source:
    key: str
    meta: dict[str, Any]
    units: list[dict[str, Any]] = field(default_factory=list)


def import_official(
    session: Session, path: str | Path, definition: ElectionDefinition, *, key: str | None = None
) -> OfficialImport:
    """Store every bulletin in ``path``. Re-importing the same file changes nothing;
    a new file with a bulletin key already stored replaces that bulletin."""
    path = Path(path)
    data = read_input(path)
    sha = hashlib.sha256(data).hexdigest()
    text, _ = decode_text(data)
    errors: list[dict[str, object]] = []
    skipped: list[int] = []
    if text.lstrip().startswith(("{", "[")):
        fmt, sources = "json", _from_json(text, definition, path, errors)
    else:
        fmt, sources = "csv", _from_csv(text, definition, key or path.stem[:100], errors, skipped)
    if key and len(sources) == 1:
        sources[0].key = key
    times = Counter(src.key for src in sources)
    repeated = {k for k, n in times.items() if n > 1}
    for k in sorted(repeated):
        # Which of two bulletins with one id is the authority's cannot be told: neither.
        errors.append(
            {
                "line": f"id {k}",
                "error": f"boletín {k!r} repetido {times[k]} veces en el archivo; no se importa "
                "ninguno / bulletin id repeated in the file: none of them imported",
            }
        )
    sources = [src for src in sources if src.key not in repeated and _units_unique(src, errors)]
    result = OfficialImport(errors=errors, unpublished=len(skipped))
    for src in sources:
        old = session.scalar(
            select(OfficialSource).where(
                OfficialSource.election == definition.id, OfficialSource.key == src.key
            )
        )
        if old is not None and old.file_sha256 == sha:
            result.unchanged.append(src.key)
            continue
        if old is not None:
            _drop(session, old.id)
            result.replaced.append(src.key)
        row = OfficialSource(
            election=definition.id,
            key=src.key,
            path=str(path),
            file_sha256=sha,
            format=fmt,
            imported_at=now(),
            **src.meta,
        )
        session.add(row)
        session.flush()
        _insert_units(session, row.id, src.units, definition)
        result.keys.append(src.key)
        result.units += len(src.units)
        log.append(
            session,
            "bulletin",
            {
                "key": src.key,
                "file_sha256": sha,
                "format": fmt,
                "units": len(src.units),
                "announced_at": row.announced_at,
            },
        )
    session.flush()
    return result


def _drop(session: Session, source_id: int) -> None:
    unit_ids = select(OfficialUnit.id).where(OfficialUnit.source_id == source_id)
    session.execute(delete(OfficialVotes).where(OfficialVotes.unit_id.in_(unit_ids)))
    session.execute(delete(OfficialUnit).where(OfficialUnit.source_id == source_id))
    session.execute(delete(OfficialSource).where(OfficialSource.id == source_id))


def _insert_units(
    session: Session, source_id: int, units: list[dict], definition: ElectionDefinition
) -> None:
    # Ids assigned here so the votes can be bulk-inserted with them (one writer per import).
    next_id = (session.scalar(select(func.max(OfficialUnit.id))) or 0) + 1
    unit_rows: list[dict] = []
    vote_rows: list[dict] = []
    for unit in units:
        unit_rows.append(
            {
                "id": next_id,
                "source_id": source_id,
                "level": unit["level"],
                "code": unit["code"],
                "mesa": unit.get("mesa", 0),
                **{f: unit.get(f) for f in _UNIT_FIELDS},
            }
        )
        vote_rows.extend({"unit_id": next_id, "candidate": c, "votes": v} for c, v in unit["votes"].items())
        next_id += 1
    if unit_rows:
        session.execute(insert(OfficialUnit), unit_rows)
    if vote_rows:
        session.execute(insert(OfficialVotes), vote_rows)


def _units_unique(src: _Source, errors: list[dict[str, object]]) -> bool:
    """A bulletin that gives one unit twice (two national totals, say) is not imported."""
    # Counted, not keys.count(k) for each unit: quadratic, V1 as per-mesa data took 17 s, not 3.
    times = Counter((u["level"], u["code"], u["mesa"]) for u in src.units)
    twice = sorted(k for k, n in times.items() if n > 1)
    if twice:
        shown = ", ".join(
            f"{level} {code or '—'}{'.' + str(mesa) if mesa else ''}" for level, code, mesa in twice
        )
        errors.append(
            {
                "line": f"id {src.key}",
                "error": f"el boletín da dos veces la misma unidad ({shown}); no se importa / "
                "the bulletin gives one unit twice: not imported",
            }
        )
    return not twice


def _int_or_none(value: Any, what: str) -> int | None:
    if value is None or value == "":
        return None
    return count(value, what)


def _votes(raw: Any, definition: ElectionDefinition) -> dict[str, int]:
    if not isinstance(raw, dict):
        raise ValueError("'votes' debe ser un objeto {candidato: votos} / 'votes' must be an object")
    unknown = set(raw) - set(definition.candidate_codes)
    if unknown:
        shown = ", ".join(repr(c)[:40] for c in sorted(unknown))
        raise ValueError(f"candidatos desconocidos / unknown candidates: {shown}")
    # A candidate without a number (null, an empty cell) was not given: not a 0 to compare with.
    return {c: n for c, v in raw.items() if (n := _int_or_none(v, c)) is not None}


def _text(value: Any, what: str, limit: int) -> str | None:
    if value is None:
        return None
    if not isinstance(value, str) or len(value) > limit:
        raise ValueError(f"{what}: se esperaba un texto de hasta {limit} caracteres / expected text")
    return value


def _pct(value: Any) -> float | None:
    """A share of actas in [0, 100] (1e400, NaN or -5 were stored as given)."""
    if value is None or value == "":
        return None
    try:
        pct = float(value) if not isinstance(value, bool) else math.nan
    except (TypeError, ValueError):
        pct = math.nan
    if not 0 <= pct <= 100:  # NaN fails too
        raise ValueError(
            f"porcentaje de actas {str(value)[:20]!r} no está entre 0 y 100 / actas % not in 0–100"
        )
    return pct


def _unit(raw: dict[str, Any], definition: ElectionDefinition) -> dict[str, Any]:
    if not isinstance(raw, dict):
        raise ValueError("cada unidad debe ser un objeto / each unit must be an object")
    level = str(raw.get("level") or NATIONAL)
    valid_levels = {NATIONAL, MESA, *(lv.name for lv in definition.levels)}
    if level not in valid_levels:
        raise ValueError(f"nivel desconocido / unknown level {level[:40]!r}")
    # Codes through numbers.code, as every importer's: '١٢' or a 20-digit state were stored.
    if level == NATIONAL:
        code = ""
    elif level == MESA or level == definition.levels[-1].name:
        code = geo_code(raw.get("code") or "", level, definition.centre_code_digits)
    else:
        code = geo_code(raw.get("code") or "", level, definition.level(level).code_digits)
    mesa = _int_or_none(raw.get("mesa"), "mesa") or 0
    if level == MESA and not mesa:
        raise ValueError("falta el número de mesa / mesa number missing")
    unit = {
        "level": level,
        "code": code,
        "mesa": mesa,
        "votes": _votes(raw.get("votes") or {}, definition),
    }
    aliases = {
        "valid": ("valid", "valid_votes"),
        "nulos": ("nulos", "null_votes"),
        "others": ("others", "others_total"),
        "electors": ("electors", "registered_electors"),
        "voters": ("voters",),
    }
    for name, keys in aliases.items():
        unit[name] = next((_int_or_none(raw[k], k) for k in keys if raw.get(k) not in (None, "")), None)
    return unit


class _Object(dict):
    """A JSON object that remembers the keys it was given more than once."""

    repeated: list[str]


def _object(pairs: list[tuple[str, Any]]) -> _Object:
    obj = _Object(pairs)
    obj.repeated = []
    if len(obj) < len(pairs):
        obj.repeated = [k for k, n in Counter(k for k, _ in pairs).items() if n > 1]
    return obj


def _repeated_keys(value: Any) -> list[str]:
    """Keys given twice anywhere inside ``value`` ({"NM": 1, "NM": 5}: json kept the last)."""
    found: list[str] = []
    stack = [value]
    while stack:
        item = stack.pop()
        if isinstance(item, _Object):
            found += item.repeated
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)
    return found


def _bulletin_id(value: Any) -> str:
    if isinstance(value, bool) or not isinstance(value, (str, int)) or not str(value).strip():
        raise ValueError(f"'id' debe ser un texto o un número / 'id' must be text or a number: {value!r:.40}")
    if len(str(value)) > 100:
        raise ValueError("'id' de más de 100 caracteres / 'id' longer than 100 characters")
    return str(value).strip()


def _from_json(text: str, definition: ElectionDefinition, path: Path, errors: list) -> list[_Source]:
    try:
        # A number of 5,000 digits is a ValueError of int() inside json, not a JSONDecodeError:
        # it is kept as its text, for count() to refuse in its bulletin.
        doc = json.loads(text, object_pairs_hook=_object, parse_int=lambda s: int(s) if len(s) <= 100 else s)
    except json.JSONDecodeError as exc:
        raise TableError(f"{path.name}: JSON inválido / invalid JSON: {exc}") from None
    except RecursionError:
        raise TableError(f"{path.name}: JSON anidado sin fin / JSON nested too deep") from None
    bulletins = doc.get("bulletins") if isinstance(doc, dict) else doc
    if not isinstance(bulletins, list):
        raise TableError(f"{path.name}: falta la lista 'bulletins' / no 'bulletins' list")
    if isinstance(doc, _Object) and {"bulletins", "authority"} & set(doc.repeated):
        raise TableError(f"{path.name}: 'bulletins' o 'authority' repetido / given twice in the document")
    authority = doc.get("authority") if isinstance(doc, dict) else None
    out: list[_Source] = []
    for i, b in enumerate(bulletins):
        try:
            if not isinstance(b, dict):
                raise ValueError("cada boletín debe ser un objeto / each bulletin must be an object")
            if "id" not in b or "votes" not in b:
                raise ValueError(
                    "cada boletín necesita 'id' y 'votes' / each bulletin needs 'id' and 'votes'"
                )
            repeated = _repeated_keys(b)
            if repeated:
                # Which of two values is the authority's cannot be told: not the last one.
                shown = ", ".join(repr(k)[:40] for k in sorted(set(repeated)))
                raise ValueError(f"claves repetidas / keys given twice: {shown}")
            key = _bulletin_id(b["id"])
            sources = b.get("sources")
            if sources is not None and not (
                isinstance(sources, list) and all(isinstance(x, str) for x in sources)
            ):
                raise ValueError("'sources' debe ser una lista de textos / 'sources' must be a list of text")
            meta = {
                "authority": _text(b.get("authority", authority), "authority", 200),
                "announced_at": _text(b.get("announced_at"), "announced_at", 40),
                "actas_pct": _pct(b.get("actas_transmitted_pct", b.get("actas_pct"))),
                "registered_electors": _int_or_none(b.get("registered_electors"), "registered_electors"),
                "sources": sources,
                "caveat": _text(b.get("caveat"), "caveat", 10_000),
            }
            units = [_unit({**b, "level": NATIONAL, "code": ""}, definition)]
            more = b.get("units") or []
            if not isinstance(more, list):
                raise ValueError("'units' debe ser una lista / 'units' must be a list")
            units += [_unit(u, definition) for u in more]
        except (ValueError, TypeError, AttributeError) as exc:
            # AttributeError: a list or a number where an object belongs.
            why = str(exc) if isinstance(exc, ValueError) else f"estructura inválida / malformed: {exc}"
            errors.append({"line": f"bulletins[{i}]", "error": why})
            continue
        out.append(_Source(key, meta, units))
    return out


def _from_csv(
    text: str, definition: ElectionDefinition, default_key: str, errors: list, skipped: list[int]
) -> list[_Source]:
    header, records = read_table(text, errors)
    found: tuple[dict | None, MesaLocator | None] = next(
        (
            (s, candidate)
            for s in definition.results_tables.values()
            if (candidate := MesaLocator(s, definition)).matches(header)
        ),
        (None, None),
    )
    spec, locator = found
    cands = [c for c in definition.candidate_codes if c in header]
    if not cands:
        raise TableError(
            f"ninguna columna de candidato / no candidate column ({', '.join(definition.candidate_codes)})"
            f"; columnas / columns: {shown_cells(header)}"
        )
    width = len(header)
    while width and not header[width - 1]:
        width -= 1
    sources: dict[str, _Source] = {}
    for line_no, cells in records:
        if not any(v.strip() for v in cells):
            continue
        try:
            if len(cells) < width or any(v.strip() for v in cells[width:]):
                raise ValueError(
                    f"la fila tiene {len(cells)} celdas y el encabezado {width} / "
                    "row's cells do not match the header"
                )
            raw: dict[str, Any] = {k: v.strip() for k, v in zip(header, cells, strict=False) if k}
            if spec is not None and locator is not None:
                centre, mesa = locator.locate(raw)
                raw.update(
                    {
                        "level": MESA,
                        "code": centre,
                        "mesa": mesa,
                        "valid": raw.get(spec.get("valid_column") or ""),
                        "nulos": raw.get(spec.get("null_column") or ""),
                        "electors": raw.get(spec.get("electors_column") or ""),
                    }
                )
            raw["votes"] = {c: raw[c] for c in cands}
            unit = _unit(raw, definition)
            if spec is not None and unpublished(spec, unit["votes"]):
                skipped.append(line_no)
                continue
            key = _bulletin_id(raw.get("bulletin") or default_key)
            pct = _pct(raw.get("actas_pct"))
            announced = _text(raw.get("announced_at") or None, "announced_at", 40)
        except (ValueError, KeyError) as exc:
            errors.append({"line": line_no, "error": str(exc)})
            continue
        if key not in sources:
            sources[key] = _Source(
                key,
                {
                    "announced_at": announced,
                    "actas_pct": pct,
                    "registered_electors": None,
                    "authority": None,
                    "sources": None,
                    "caveat": None,
                },
            )
        if unit["level"] == NATIONAL and unit.get("electors"):
            sources[key].meta["registered_electors"] = unit["electors"]
        sources[key].units.append(unit)
    return list(sources.values())
