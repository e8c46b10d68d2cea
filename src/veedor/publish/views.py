"""What the public site shows, as plain data: the pages render it and the API returns it as
JSON, so both always say the same (field names: docs/api.md).

Only verified numbers are tallied (mesas in state ``ok``); every imported results table is
its own named source beside them. Nothing here carries a volunteer's identity, a file's path
or name, or a device: images by SHA-256, people by pseudonym, tables by name.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from rapidfuzz import fuzz, process
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from veedor.definitions import ElectionDefinition
from veedor.model import ActaState
from veedor.store.official import OfficialSource, OfficialUnit, OfficialVotes
from veedor.store.records import set_aside_among
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
    ReviewEntry,
    ReviewVerdict,
)
from veedor.tally import SCAN, tally

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
    """The nation (``code`` None) or one unit: see :meth:`Snapshot.unit`."""
    return Snapshot(session, definition).unit(code)


class Snapshot:
    """Every tally the unit pages show, read once (each level verified, each imported table,
    each bulletin, the names, each centre's mesas): a page is then only put together, and the
    served site and the static one build theirs from the same numbers."""

    def __init__(self, session: Session, definition: ElectionDefinition) -> None:
        self.definition = definition
        levels = ["national", *(lv.name for lv in definition.levels)]
        self.verified = {lv: tally(session, definition, lv, SCAN) for lv in levels}
        self.rows = {lv: {r.code: r for r in t.rows} for lv, t in self.verified.items()}
        self.names: dict[str, str | None] = dict(
            session.execute(select(GeoUnit.code, GeoUnit.name).where(GeoUnit.election == definition.id)).all()
        )
        self.tables: list[tuple[str, dict[str, Any]]] = []
        for table_id, name in session.execute(
            select(ResultTable.id, ResultTable.name)
            .where(ResultTable.election == definition.id)
            .order_by(ResultTable.id)
        ):
            rows = {
                row.code: row
                for lv in levels
                for row in tally(session, definition, lv, f"table:{table_id}").rows
            }
            self.tables.append((name, rows))
        self.official = _official(session, definition)
        self.mesas: dict[str, list[dict[str, Any]]] = {}
        for record in session.scalars(
            select(ActaRecord)
            .where(ActaRecord.election == definition.id)
            .order_by(ActaRecord.centre, ActaRecord.mesa)
        ):
            self.mesas.setdefault(record.centre, []).append(_mesa_row(definition, record))
        self.updated = _updated(session)

    def codes(self) -> list[str]:
        """Every unit with a page: the registry's, and any with a counted acta."""
        digits = {lv.code_digits for lv in self.definition.levels}
        known = {c for c in self.names if len(c) in digits and c.isdigit()}
        for level in self.definition.levels:
            known |= set(self.verified[level.name].coverage_units) | set(self.rows[level.name])
        return sorted(known)

    def unit(self, code: str | None = None) -> dict[str, Any]:
        """The nation (``code`` None) or one unit: its verified tally and coverage, its parents,
        each imported table's and each bulletin's figure, and one row per unit below it (for a
        centre: per mesa, counted or not)."""
        definition, names = self.definition, self.names
        index = level_of(definition, code)
        level = "national" if index < 0 else definition.levels[index].name
        here = self.verified[level]
        found = (
            self.rows[level].get(code or "") if index >= 0 else next(iter(self.rows[level].values()), None)
        )
        if index >= 0 and found is None and code not in names and code not in here.coverage_units:
            raise NotFound(code)
        key = code or ""
        view: dict[str, Any] = {
            "api": API_VERSION,
            "election": definition.id,
            "level": level,
            "code": code,
            "name": names.get(key) if index >= 0 else None,
            "parents": [
                {"level": lv.name, "code": key[: lv.code_digits], "name": names.get(key[: lv.code_digits])}
                for lv in (definition.levels[:index] if index >= 0 else ())
            ],
            "candidates": _candidates(definition),
            "result": _row(found) if found is not None else None,
            "coverage": here.coverage_units[key].as_dict() if key in here.coverage_units else None,
            "updated_at": self.updated,
            "tables": [
                {"table": name, "votes": dict(r.votes), "valid": r.valid, "nulos": r.nulos, "actas": r.actas}
                for name, rows in self.tables
                if (r := rows.get(key if index >= 0 else "")) is not None
            ],
            "official": self.official.get((level, key), []),
        }
        if index < 0 and found is not None:
            view["coverage"] = found.coverage.as_dict() if found.coverage is not None else None
        if index + 1 < len(definition.levels):
            below = definition.levels[index + 1].name
            counted = {c: r for c, r in self.rows[below].items() if c.startswith(key)}
            units = sorted(
                {c for c in self.verified[below].coverage_units if c.startswith(key)} | set(counted)
            )
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
                    "coverage": self.verified[below].coverage_units[c].as_dict(),
                }
                for c in units
            ]
        else:
            view["children_level"] = "mesa"
            view["children"] = self.mesas.get(key, [])
        return view


def _official(
    session: Session, definition: ElectionDefinition
) -> dict[tuple[str, str], list[dict[str, Any]]]:
    """What each official bulletin said of each unit it names, by (level, code)."""
    votes: dict[int, dict[str, int]] = {}
    for unit_id, candidate, n in session.execute(
        select(OfficialVotes.unit_id, OfficialVotes.candidate, OfficialVotes.votes)
        .join(OfficialUnit, OfficialUnit.id == OfficialVotes.unit_id)
        .join(OfficialSource, OfficialSource.id == OfficialUnit.source_id)
        .where(OfficialSource.election == definition.id, OfficialUnit.level != "mesa")
    ):
        votes.setdefault(unit_id, {})[candidate] = n
    out: dict[tuple[str, str], list[dict[str, Any]]] = {}
    for source, unit in session.execute(
        select(OfficialSource, OfficialUnit)
        .join(OfficialUnit, OfficialUnit.source_id == OfficialSource.id)
        .where(OfficialSource.election == definition.id, OfficialUnit.level != "mesa")
        .order_by(OfficialSource.id)
    ):
        out.setdefault((unit.level, unit.code), []).append(
            {
                "source": source.key,
                "authority": source.authority,
                "announced_at": source.announced_at,
                "actas_pct": source.actas_pct,
                "votes": votes.get(unit.id, {}),
                "valid": unit.valid,
                "nulos": unit.nulos,
                "others": unit.others,
            }
        )
    return out


def _mesa_row(definition: ElectionDefinition, record: ActaRecord) -> dict[str, Any]:
    counted = record.status == ActaState.OK.value and record.votes is not None
    totals = definition.totals_by_candidate(record.votes) if counted and record.votes else None
    return {
        "code": f"{record.centre}.{record.mesa:02d}",
        "mesa": record.mesa,
        "state": record.status,
        "counted": counted,
        "votes": totals,
        "valid": sum(totals.values()) if totals else 0,
        "nulos": record.nulos if counted else 0,
    }


def _names(session: Session, definition: ElectionDefinition, code: str | None) -> dict[str, str | None]:
    query = select(GeoUnit.code, GeoUnit.name).where(GeoUnit.election == definition.id)
    if code:
        prefixes = [code[: lv.code_digits] for lv in definition.levels if lv.code_digits <= len(code)]
        query = query.where(GeoUnit.code.in_(prefixes) | GeoUnit.code.startswith(code))
    return dict(session.execute(query).all())


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
    published = _published(session, definition, ResultRow.centre == centre, ResultRow.mesa == number)
    if record is None and electors is None and not published:
        raise NotFound(f"{centre}.{number:02d}")
    parts = MesaParts(
        _names(session, definition, centre),
        _copies(session, [record.id]) if record is not None else {},
        {record.id: [_public_step(step) for step in trail(session, record)]} if record is not None else {},
        published,
    )
    return _mesa(definition, centre, number, record, electors, parts)


@dataclass
class MesaParts:
    """What mesa pages need beyond the mesa's own row, loaded for one mesa or for all at once."""

    names: dict[str, str | None]
    copies: dict[int, list[dict[str, Any]]]
    people: dict[int, list[dict[str, Any]]]
    published: dict[tuple[str, int], list[dict[str, Any]]]


def all_mesa_views(session: Session, definition: ElectionDefinition) -> Iterator[dict[str, Any]]:
    """:func:`mesa_view` of every mesa (in the registry, scanned, or in a published table), in a
    few queries for all of them: what the static site writes."""
    records = {
        (r.centre, r.mesa): r
        for r in session.scalars(select(ActaRecord).where(ActaRecord.election == definition.id))
    }
    electors = {
        (c, n): e
        for c, n, e in session.execute(
            select(Mesa.centre, Mesa.number, Mesa.electors).where(Mesa.election == definition.id)
        )
    }
    touched = set(session.scalars(select(ReviewEntry.acta_pk))) | set(
        session.scalars(select(ReviewVerdict.acta_pk))
    )
    parts = MesaParts(
        dict(
            session.execute(select(GeoUnit.code, GeoUnit.name).where(GeoUnit.election == definition.id)).all()
        ),
        _copies(session, [r.id for r in records.values()]),
        {
            r.id: [_public_step(step) for step in trail(session, r)]
            for r in records.values()
            if r.id in touched
        },
        _published(session, definition),
    )
    for centre, number in sorted(set(records) | set(electors) | set(parts.published)):
        if level_of_safe(definition, centre):
            yield _mesa(
                definition,
                centre,
                number,
                records.get((centre, number)),
                electors.get((centre, number)),
                parts,
            )


def level_of_safe(definition: ElectionDefinition, code: str) -> bool:
    try:
        return level_of(definition, code) == len(definition.levels) - 1
    except NotFound:
        return False


def _mesa(
    definition: ElectionDefinition,
    centre: str,
    number: int,
    record: ActaRecord | None,
    electors: int | None,
    parts: MesaParts,
) -> dict[str, Any]:
    names = parts.names
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
            "copies": parts.copies.get(record.id, []),
            "people": parts.people.get(record.id, []),
        }
    view["published"] = parts.published.get((centre, number), [])
    return view


def _copies(session: Session, acta_pks: list[int]) -> dict[int, list[dict[str, Any]]]:
    """Each mesa's copies (by SHA-256, the engine that read them and when, whether set aside)."""
    out: dict[int, list[dict[str, Any]]] = {}
    if not acta_pks:
        return out
    aside = set_aside_among(session, acta_pks)
    rows = session.execute(
        select(Evidence, Reading)
        .join(Reading, Reading.id == Evidence.reading_id)
        .where(Evidence.acta_pk.in_(acta_pks))
        .order_by(Evidence.acta_pk, Evidence.sha256)
    )
    for e, r in rows:
        out.setdefault(e.acta_pk, []).append(
            {
                "image": e.sha256,
                "grade": e.grade,
                "read_by": r.source,
                "engine": r.engine,
                "read_at": r.read_at.isoformat() if r.read_at else None,
                "set_aside": aside.get(e.acta_pk, {}).get(e.sha256),
            }
        )
    return out


def _published(
    session: Session, definition: ElectionDefinition, *where: Any
) -> dict[tuple[str, int], list[dict[str, Any]]]:
    """Each imported results table's row for each mesa (by the table's name, never its path)."""
    chosen = (
        select(ResultRow.id)
        .join(ResultTable, ResultTable.id == ResultRow.table_id)
        .where(ResultTable.election == definition.id, *where)
    )
    votes: dict[int, dict[str, int]] = {}
    for row_id, candidate, n in session.execute(
        select(ResultVotes.row_id, ResultVotes.candidate, ResultVotes.votes).where(
            ResultVotes.row_id.in_(chosen)
        )
    ):
        votes.setdefault(row_id, {})[candidate] = n
    out: dict[tuple[str, int], list[dict[str, Any]]] = {}
    for row, name in session.execute(
        select(ResultRow, ResultTable.name)
        .join(ResultTable, ResultTable.id == ResultRow.table_id)
        .where(ResultRow.id.in_(chosen))
        .order_by(ResultTable.id, ResultRow.id)
    ):
        out.setdefault((row.centre, row.mesa), []).append(
            {"table": name, "votes": votes.get(row.id, {}), "valid": row.valid, "nulos": row.nulos}
        )
    return out


def _public_step(step: dict[str, Any]) -> dict[str, Any]:
    """A step of the mesa's trail at the review desk, as the public sees it: pseudonyms only."""
    keep = ("at", "kind", "by", "basis", "votes", "nulos", "blank", "image", "verdict", "other")
    return {k: step[k] for k in keep if k in step}


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
