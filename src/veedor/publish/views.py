"""What the public site shows, as plain data: the pages render it and the API returns it as
JSON, so both always say the same (field names: docs/api.md).

Only verified numbers are tallied (mesas in state ``ok``); every imported results table is
its own named source beside them. Nothing here carries a volunteer's identity, a file's path
or name, or a device: images by SHA-256, people by pseudonym, tables by name.
"""

from __future__ import annotations

import unicodedata
from typing import Any

from rapidfuzz import fuzz, process
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from veedor.definitions import ElectionDefinition
from veedor.model import ActaState
from veedor.store.official import OfficialSource, OfficialUnit, OfficialVotes
from veedor.store.records import set_aside_of
from veedor.store.review import trail
from veedor.store.schema import (
    ActaRecord,
    Evidence,
    GeoUnit,
    Mesa,
    MesaEvent,
    Reading,
    ResultRow,
    ResultTable,
    ResultVotes,
)
from veedor.tally.aggregate import SCAN, tally

API_VERSION = "v1"


class NotFound(LookupError):
    """No such unit or mesa."""


def level_of(definition: ElectionDefinition, code: str | None) -> int:
    """Index of the geography level a unit code belongs to (-1: the nation)."""
    if not code:
        return -1
    for i, level in enumerate(definition.levels):
        if len(code) == level.code_digits and code.isascii() and code.isdigit():
            return i
    raise NotFound(code)


def _candidates(definition: ElectionDefinition) -> list[dict[str, str]]:
    return [{"code": c.code, "name": c.name} for c in definition.candidates]


def _row(row: Any) -> dict[str, Any]:
    return {
        "code": row.code,
        "name": row.name,
        "votes": dict(row.votes),
        "valid": row.valid,
        "nulos": row.nulos,
        "actas": row.actas,
        "coverage": row.coverage.as_dict() if row.coverage is not None else None,
    }


def unit_view(session: Session, definition: ElectionDefinition, code: str | None = None) -> dict[str, Any]:
    """The nation (``code`` None) or one unit: its verified tally and coverage, its parents, and
    one row per unit below it (for a centre: per mesa, counted or not)."""
    index = level_of(definition, code)
    level = "national" if index < 0 else definition.levels[index].name
    here = tally(session, definition, level, SCAN)
    found = next((r for r in here.rows if index < 0 or r.code == code), None)
    names = _names(session, definition, code)
    if index >= 0 and found is None and code not in names:
        raise NotFound(code)
    view: dict[str, Any] = {
        "api": API_VERSION,
        "election": definition.id,
        "level": level,
        "code": code,
        "name": names.get(code or "", None) if index >= 0 else None,
        "parents": [
            {"level": lv.name, "code": code[: lv.code_digits], "name": names.get(code[: lv.code_digits])}
            for lv in definition.levels[:index]
        ]
        if code
        else [],
        "candidates": _candidates(definition),
        "result": _row(found) if found is not None else None,
        "coverage": (here.coverage_units[code].as_dict() if code and code in here.coverage_units else None),
        "updated_at": _updated(session),
        "tables": _tables_at(session, definition, level, code),
        "official": _official_at(session, definition, level, code or ""),
    }
    if index < 0 and found is not None:
        view["coverage"] = found.coverage.as_dict() if found.coverage is not None else None
    if index + 1 < len(definition.levels):
        below = definition.levels[index + 1].name
        rows = tally(session, definition, below, SCAN)
        counted = {r.code: r for r in rows.rows if not code or r.code.startswith(code)}
        units = sorted({c for c in rows.coverage_units if not code or c.startswith(code)} | set(counted))
        view["children_level"] = below
        view["children"] = [
            _row(counted[c])
            if c in counted
            else {
                "code": c,
                "name": names.get(c),
                "votes": None,
                "valid": 0,
                "nulos": 0,
                "actas": 0,
                "coverage": rows.coverage_units[c].as_dict(),
            }
            for c in units
        ]
    else:
        view["children_level"] = "mesa"
        view["children"] = _mesas_of(session, definition, code or "")
    return view


def _tables_at(
    session: Session, definition: ElectionDefinition, level: str, code: str | None
) -> list[dict[str, Any]]:
    """Each imported results table's own tally of the unit, as a named source of its own."""
    out = []
    for table_id, name in session.execute(
        select(ResultTable.id, ResultTable.name)
        .where(ResultTable.election == definition.id)
        .order_by(ResultTable.id)
    ):
        rows = tally(session, definition, level, f"table:{table_id}").rows
        row = next((r for r in rows if level == "national" or r.code == code), None)
        if row is not None:
            out.append(
                {
                    "table": name,
                    "votes": dict(row.votes),
                    "valid": row.valid,
                    "nulos": row.nulos,
                    "actas": row.actas,
                }
            )
    return out


def _official_at(
    session: Session, definition: ElectionDefinition, level: str, code: str
) -> list[dict[str, Any]]:
    """What each official bulletin said of the unit, when it says anything at this level."""
    out = []
    rows = session.execute(
        select(OfficialSource, OfficialUnit)
        .join(OfficialUnit, OfficialUnit.source_id == OfficialSource.id)
        .where(
            OfficialSource.election == definition.id, OfficialUnit.level == level, OfficialUnit.code == code
        )
        .order_by(OfficialSource.id)
    )
    for source, unit in rows:
        votes = dict(
            session.execute(
                select(OfficialVotes.candidate, OfficialVotes.votes).where(OfficialVotes.unit_id == unit.id)
            ).all()
        )
        out.append(
            {
                "source": source.key,
                "authority": source.authority,
                "announced_at": source.announced_at,
                "actas_pct": source.actas_pct,
                "votes": votes,
                "valid": unit.valid,
                "nulos": unit.nulos,
                "others": unit.others,
            }
        )
    return out


def _names(session: Session, definition: ElectionDefinition, code: str | None) -> dict[str, str | None]:
    query = select(GeoUnit.code, GeoUnit.name).where(GeoUnit.election == definition.id)
    if code:
        prefixes = [code[: lv.code_digits] for lv in definition.levels if lv.code_digits <= len(code)]
        query = query.where(GeoUnit.code.in_(prefixes) | GeoUnit.code.startswith(code))
    return dict(session.execute(query).all())


def _mesas_of(session: Session, definition: ElectionDefinition, centre: str) -> list[dict[str, Any]]:
    records = session.scalars(
        select(ActaRecord)
        .where(ActaRecord.election == definition.id, ActaRecord.centre == centre)
        .order_by(ActaRecord.mesa)
    )
    out = []
    for r in records:
        counted = r.status == ActaState.OK.value and r.votes is not None
        totals = definition.totals_by_candidate(r.votes) if counted and r.votes else None
        out.append(
            {
                "code": f"{r.centre}.{r.mesa:02d}",
                "mesa": r.mesa,
                "state": r.status,
                "counted": counted,
                "votes": totals,
                "valid": sum(totals.values()) if totals else 0,
                "nulos": r.nulos if counted else 0,
            }
        )
    return out


def _updated(session: Session) -> str | None:
    last = session.scalar(select(func.max(MesaEvent.at)))
    return last.isoformat() if last is not None else None


def mesa_view(session: Session, definition: ElectionDefinition, centre: str, number: int) -> dict[str, Any]:
    """One mesa: its state in words, its numbers line by line and per candidate, every copy
    (by SHA-256, with the engine that read it and when), people's decisions (pseudonyms), its
    alerts, and each imported results table's figure for it."""
    level_of(definition, centre)  # a centre code of the definition's shape, or NotFound
    record = session.scalar(
        select(ActaRecord).where(
            ActaRecord.election == definition.id, ActaRecord.centre == centre, ActaRecord.mesa == number
        )
    )
    electors = session.scalar(
        select(Mesa.electors).where(
            Mesa.election == definition.id, Mesa.centre == centre, Mesa.number == number
        )
    )
    if record is None and electors is None:
        raise NotFound(f"{centre}.{number:02d}")
    names = _names(session, definition, centre)
    view: dict[str, Any] = {
        "api": API_VERSION,
        "election": definition.id,
        "code": f"{centre}.{number:02d}",
        "centre": {"code": centre, "name": names.get(centre)},
        "parents": [
            {"level": lv.name, "code": centre[: lv.code_digits], "name": names.get(centre[: lv.code_digits])}
            for lv in definition.levels
        ],
        "mesa": number,
        "electors": electors,
        "candidates": _candidates(definition),
        "scanned": record is not None,
    }
    if record is not None:
        counted = record.status == ActaState.OK.value and record.votes is not None
        view |= {
            "state": record.status,
            "counted": counted,
            "reason": record.reason,
            "source": record.source,
            "lines": [
                {
                    "number": i + 1,
                    "acronym": pos.acronym,
                    "candidate": pos.candidate,
                    "votes": record.votes[i],
                }
                for i, pos in enumerate(definition.ballot)
            ]
            if record.votes
            else [],
            "votes": definition.totals_by_candidate(record.votes) if record.votes else None,
            "nulos": record.nulos,
            "alerts": [
                {"kind": a["kind"], "image": a["sha256"], "detail": a["detail"]} for a in record.alerts or []
            ],
            "copies": _copies(session, record),
            "people": [_public_step(step) for step in trail(session, record)],
        }
    view["published"] = _published(session, definition, centre, number)
    return view


def _copies(session: Session, record: ActaRecord) -> list[dict[str, Any]]:
    aside = set_aside_of(session, record.id)
    rows = session.execute(
        select(Evidence, Reading)
        .join(Reading, Reading.id == Evidence.reading_id)
        .where(Evidence.acta_pk == record.id)
        .order_by(Evidence.sha256)
    )
    return [
        {
            "image": e.sha256,
            "grade": e.grade,
            "read_by": r.source,
            "engine": r.engine,
            "read_at": r.read_at.isoformat() if r.read_at else None,
            "set_aside": aside.get(e.sha256),
        }
        for e, r in rows
    ]


def _public_step(step: dict[str, Any]) -> dict[str, Any]:
    """A step of the mesa's trail at the review desk, as the public sees it: pseudonyms only."""
    keep = ("at", "kind", "by", "basis", "votes", "nulos", "blank", "image", "verdict", "other")
    return {k: step[k] for k in keep if k in step}


def _published(
    session: Session, definition: ElectionDefinition, centre: str, number: int
) -> list[dict[str, Any]]:
    """Each imported results table's row for the mesa (by the table's name, never its path)."""
    out = []
    rows = session.execute(
        select(ResultRow, ResultTable.name)
        .join(ResultTable, ResultTable.id == ResultRow.table_id)
        .where(ResultTable.election == definition.id, ResultRow.centre == centre, ResultRow.mesa == number)
        .order_by(ResultTable.id)
    )
    for row, name in rows:
        votes = dict(
            session.execute(
                select(ResultVotes.candidate, ResultVotes.votes).where(ResultVotes.row_id == row.id)
            ).all()
        )
        out.append({"table": name, "votes": votes, "valid": row.valid, "nulos": row.nulos})
    return out


MAX_RESULTS = 20


def _plain(text: str) -> str:
    """Lower case, without accents: "Simón Bolívar" and "simon bolivar" are the same."""
    return "".join(
        ch for ch in unicodedata.normalize("NFKD", text) if not unicodedata.combining(ch)
    ).casefold()


def search_view(session: Session, definition: ElectionDefinition, query: str) -> dict[str, Any]:
    """Units and mesas for what a person typed: a code (a state's to a centre's, or CENTRO.MESA
    as printed on the acta), or a name, found despite accents, case and a typo or two."""
    q = query.strip()[:100]
    results: list[dict[str, Any]] = []
    centre, dot, number = q.replace(" ", ".").partition(".")
    if centre.isascii() and centre.isdigit():
        if dot and number.isdigit() and len(centre) == definition.centre_code_digits:
            try:
                found = mesa_view(session, definition, centre, int(number))
                results.append({"kind": "mesa", "code": found["code"], "name": found["centre"]["name"]})
            except NotFound:
                pass
        name = session.scalar(
            select(GeoUnit.name).where(GeoUnit.election == definition.id, GeoUnit.code == centre)
        )
        if name is not None or session.scalar(
            select(ActaRecord.id).where(ActaRecord.centre == centre).limit(1)
        ):
            results.append({"kind": "unit", "code": centre, "name": name})
    elif len(q) >= 3:
        levels = {lv.code_digits: lv.name for lv in definition.levels}
        names = {
            code: (name, levels.get(len(code)))
            for code, name in session.execute(
                select(GeoUnit.code, GeoUnit.name).where(
                    GeoUnit.election == definition.id, GeoUnit.name.is_not(None)
                )
            )
        }
        choices = {code: _plain(name or "") for code, (name, _level) in names.items()}
        for _text, score, code in process.extract(
            _plain(q), choices, scorer=fuzz.WRatio, limit=MAX_RESULTS, score_cutoff=80
        ):
            name, level = names[code]
            results.append(
                {"kind": "unit", "level": level, "code": code, "name": name, "score": round(score)}
            )
    for r in results:
        r.setdefault("level", "mesa" if r["kind"] == "mesa" else _level_name(definition, r["code"]))
    return {"api": API_VERSION, "query": q, "results": results}


def _level_name(definition: ElectionDefinition, code: str) -> str | None:
    try:
        return definition.levels[level_of(definition, code)].name
    except NotFound:
        return None
