"""``veedor verify`` with the database: each mesa decided again from its copies (as read now)
and people's recorded decisions, as ``combine_mesa`` does but writing nothing, and compared
with its row, its counted totals and its last log entries; every tally level summed again."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from veedor.definitions import ElectionDefinition
from veedor.pipeline.audit import Audit, LogIndex, Mesa, code
from veedor.pipeline.audit_numbers import Sum, compare_lines, compare_sum, differ_if, level_digits
from veedor.store.records import people_settled, reused_among, seen_copy, set_aside_among
from veedor.store.schema import ActaRecord, ActaVotes, Evidence, ReviewCopyCall, ReviewDecision
from veedor.tally import SCAN, tally
from veedor.verify.mesa import SeenCopy, decide_mesa


def check_mesas(
    session: Session,
    audit: Audit,
    definition: ElectionDefinition,
    fresh: dict[int, SeenCopy],
    index: LogIndex,
) -> dict[Mesa, tuple[list[int], int]]:
    """Each mesa decided again (``decide_mesa``, as ``combine_mesa`` does) from its copies as
    read now and people's recorded decisions; returns the counted ones' numbers."""
    copies: dict[int, list[Evidence]] = {}
    for evidence in session.scalars(select(Evidence)):
        copies.setdefault(evidence.acta_pk, []).append(evidence)
    totals: dict[int, dict[str, int]] = {}
    for pk, candidate, n in session.execute(select(ActaVotes.acta_pk, ActaVotes.candidate, ActaVotes.votes)):
        totals.setdefault(pk, {})[candidate] = n
    decided = set(session.scalars(select(ReviewDecision.acta_pk).distinct()))
    aside = set_aside_among(session, select(ReviewCopyCall.acta_pk))
    reused = reused_among(session)
    counted: dict[Mesa, tuple[list[int], int]] = {}
    mesas: set[Mesa] = set()
    for record in session.scalars(select(ActaRecord).where(ActaRecord.election == definition.id)):
        mesa = (record.centre, record.mesa)
        mesas.add(mesa)
        where = f"mesa:{code(mesa)}"
        seen = [
            replace(fresh[e.id], reused=reused.get(e.sha256)) if e.id in fresh else seen_copy(e, reused)
            for e in copies.get(record.id, [])
        ]
        settled = people_settled(session, record.id) if record.id in decided else None
        decision = decide_mesa(seen, settled, aside.get(record.id, {}))
        votes = list(decision.numbers[0]) if decision.numbers else None
        nulos = decision.numbers[1] if decision.numbers else None
        alerts = sorted((a.kind, a.sha256) for a in decision.alerts)
        differ_if(audit, "mesa", where, decision.state.value, record.status, "estado / state")
        compare_lines(audit, "mesa", where, votes, record.votes, definition)
        differ_if(audit, "mesa", where, nulos, record.nulos, "nulos")
        differ_if(audit, "mesa", where, decision.source, record.source, "origen / source")
        found_alerts = sorted((a.get("kind"), a.get("sha256")) for a in record.alerts or [])
        differ_if(
            audit,
            "mesa",
            where,
            [list(a) for a in alerts],
            [list(a) for a in found_alerts],
            "alertas / alerts",
        )
        want = definition.totals_by_candidate(votes) if votes and len(votes) == len(definition.ballot) else {}
        got = totals.get(record.id, {})
        for candidate in sorted(set(want) | set(got)):
            differ_if(
                audit,
                "mesa_totals",
                where,
                want.get(candidate),
                got.get(candidate),
                f"acta_votes {candidate}",
            )
        _logged_mesa(
            audit, definition, where, index.mesas.get(mesa), decision.state.value, votes, nulos, alerts
        )
        if record.id in decided:
            _logged_decision(session, audit, where, record.id, index.decisions.get(mesa))
        if decision.counted and votes is not None and nulos is not None:
            counted[mesa] = (votes, nulos)
    audit.count("mesas", len(mesas))
    for mesa in sorted(set(index.mesas) - mesas):
        audit.differ(
            "log_extra",
            f"mesa:{code(mesa)}",
            None,
            "entrada mesa / mesa entry",
            "en el registro, no en la base / logged only",
        )
    return counted


def _logged_mesa(
    audit: Audit,
    definition: ElectionDefinition,
    where: str,
    entry: dict[str, Any] | None,
    state: str,
    votes: list[int] | None,
    nulos: int | None,
    alerts: list[tuple[str, str]],
) -> None:
    """The mesa's last ``mesa`` entry says what it is now."""
    if entry is None:
        audit.differ("log_missing", where, "entrada mesa / mesa entry", None, "mesa sin entrada / not logged")
        return
    differ_if(audit, "log_mesa", where, state, entry.get("state"), "estado / state")
    compare_lines(audit, "log_mesa", where, votes, entry.get("votes"), definition)
    differ_if(audit, "log_mesa", where, nulos, entry.get("nulos"), "nulos")
    differ_if(
        audit,
        "log_mesa",
        where,
        sorted(k for k, _ in alerts),
        sorted(entry.get("alerts") or []),
        "alertas / alerts",
    )


def _logged_decision(
    session: Session, audit: Audit, where: str, acta_pk: int, entry: dict[str, Any] | None
) -> None:
    """People's latest decision on the mesa, as the database and the log have it."""
    latest = session.scalar(
        select(ReviewDecision)
        .where(ReviewDecision.acta_pk == acta_pk)
        .order_by(ReviewDecision.id.desc())
        .limit(1)
    )
    if latest is None:
        return
    if entry is None:
        audit.differ(
            "log_missing", where, "entrada review_decision / entry", None, "decisión sin entrada / not logged"
        )
        return
    for name, logged in (("kind", "decision"), ("votes", "votes"), ("nulos", "nulos"), ("blank", "blank")):
        differ_if(
            audit,
            "log_decision",
            where,
            entry.get(logged),
            getattr(latest, name),
            f"decisión / decision {name}",
        )


def check_tallies(
    session: Session, audit: Audit, definition: ElectionDefinition, sums: dict[str, dict[str, Sum]]
) -> None:
    """``veedor.tally`` at every level against the counted mesas summed again."""
    for level in level_digits(definition):
        found = {
            row.code: Sum(dict(row.votes), row.nulos, row.actas)
            for row in tally(session, definition, level, SCAN).rows
        }
        expected = sums[level]
        for unit in sorted(set(expected) | set(found)):
            where = f"tally:{level}:{unit}" if unit else "tally:national"
            compare_sum(audit, "tally", where, expected.get(unit), found.get(unit))
        audit.count("tally_units", len(expected))
