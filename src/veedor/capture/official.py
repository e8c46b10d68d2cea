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

import csv
import hashlib
import io
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy import delete, func, insert, select
from sqlalchemy.orm import Session

from veedor.capture.numbers import count
from veedor.capture.tables import TableError, decode_text, read_input
from veedor.definitions import ElectionDefinition
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
    if text.lstrip().startswith(("{", "[")):
        fmt, sources = "json", _from_json(text, definition, path, errors)
    else:
        fmt, sources = "csv", _from_csv(text, definition, key or path.stem, errors)
    if key and len(sources) == 1:
        sources[0].key = key
    keys = [src.key for src in sources]
    repeated = {k for k in keys if keys.count(k) > 1}
    for k in sorted(repeated):
        # Which of two bulletins with one id is the authority's cannot be told: neither.
        errors.append(
            {
                "line": f"id {k}",
                "error": f"boletín {k!r} repetido {keys.count(k)} veces en el archivo; no se importa "
                "ninguno / bulletin id repeated in the file: none of them imported",
            }
        )
    sources = [src for src in sources if src.key not in repeated and _units_unique(src, errors)]
    result = OfficialImport(errors=errors)
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
    keys = [(u["level"], u["code"], u["mesa"]) for u in src.units]
    twice = sorted({k for k in keys if keys.count(k) > 1})
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


def _votes(raw: dict[str, Any], definition: ElectionDefinition) -> dict[str, int]:
    unknown = set(raw) - set(definition.candidate_codes)
    if unknown:
        raise ValueError(f"candidatos desconocidos / unknown candidates: {', '.join(sorted(unknown))}")
    return {c: int(_int_or_none(v, c) or 0) for c, v in raw.items()}


def _unit(raw: dict[str, Any], definition: ElectionDefinition) -> dict[str, Any]:
    level = str(raw.get("level") or NATIONAL)
    valid_levels = {NATIONAL, MESA, *(lv.name for lv in definition.levels)}
    if level not in valid_levels:
        raise ValueError(f"nivel desconocido / unknown level {level!r}")
    code = str(raw.get("code") or "").strip()
    if level == MESA or level == definition.levels[-1].name:
        code = code.zfill(definition.centre_code_digits)
    elif level != NATIONAL:
        code = code.zfill(definition.level(level).code_digits)
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


def _from_json(text: str, definition: ElectionDefinition, path: Path, errors: list) -> list[_Source]:
    try:
        doc = json.loads(text)
    except json.JSONDecodeError as exc:
        raise TableError(f"{path.name}: JSON inválido / invalid JSON: {exc}") from None
    except RecursionError:
        raise TableError(f"{path.name}: JSON anidado sin fin / JSON nested too deep") from None
    bulletins = doc.get("bulletins") if isinstance(doc, dict) else doc
    if not isinstance(bulletins, list):
        raise TableError(f"{path.name}: falta la lista 'bulletins' / no 'bulletins' list")
    authority = doc.get("authority") if isinstance(doc, dict) else None
    out: list[_Source] = []
    for i, b in enumerate(bulletins):
        try:
            if "id" not in b or "votes" not in b:
                raise ValueError(
                    "cada boletín necesita 'id' y 'votes' / each bulletin needs 'id' and 'votes'"
                )
            pct = b.get("actas_transmitted_pct", b.get("actas_pct"))
            meta = {
                "authority": b.get("authority", authority),
                "announced_at": b.get("announced_at"),
                "actas_pct": float(pct) if pct is not None else None,
                "registered_electors": _int_or_none(b.get("registered_electors"), "registered_electors"),
                "sources": b.get("sources"),
                "caveat": b.get("caveat"),
            }
            units = [_unit({**b, "level": NATIONAL, "code": ""}, definition)]
            units += [_unit(u, definition) for u in b.get("units", [])]
        except (ValueError, TypeError, AttributeError) as exc:
            # AttributeError: a list or a number where an object belongs.
            why = str(exc) if isinstance(exc, ValueError) else f"estructura inválida / malformed: {exc}"
            errors.append({"line": f"bulletins[{i}]", "error": why})
            continue
        out.append(_Source(str(b["id"]), meta, units))
    return out


def _from_csv(text: str, definition: ElectionDefinition, default_key: str, errors: list) -> list[_Source]:
    reader = csv.DictReader(io.StringIO(text, newline=""))
    header = [h.strip() for h in reader.fieldnames or []]
    reader.fieldnames = header
    spec = next(
        (
            s
            for s in definition.results_tables.values()
            if {s["centre_column"], s["mesa_column"]} <= set(header)
        ),
        None,
    )
    cands = [c for c in definition.candidate_codes if c in header]
    if not cands:
        raise TableError(
            f"ninguna columna de candidato / no candidate column ({', '.join(definition.candidate_codes)})"
            f"; columnas / columns: {', '.join(header)}"
        )
    sources: dict[str, _Source] = {}
    for line_no, rec in enumerate(reader, start=2):
        if not any((v or "").strip() for v in rec.values()):
            continue
        try:
            raw: dict[str, Any] = {k: (v or "").strip() for k, v in rec.items() if k}
            if spec is not None:
                raw.update(
                    {
                        "level": MESA,
                        "code": raw[spec["centre_column"]],
                        "mesa": raw[spec["mesa_column"]],
                        "valid": raw.get(spec["valid_column"]),
                        "nulos": raw.get(spec["null_column"]),
                        "electors": raw.get(spec.get("electors_column", "")),
                    }
                )
            raw["votes"] = {c: raw[c] for c in cands}
            unit = _unit(raw, definition)
        except (ValueError, KeyError) as exc:
            errors.append({"line": line_no, "error": str(exc)})
            continue
        key = raw.get("bulletin") or default_key
        if key not in sources:
            pct = raw.get("actas_pct")
            sources[key] = _Source(
                key,
                {
                    "announced_at": raw.get("announced_at") or None,
                    "actas_pct": float(pct) if pct else None,
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
