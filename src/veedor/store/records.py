"""Write scan outcomes: images, names, readings, decisions, and each mesa from all its copies.

Several images of one acta are normal. Each file keeps its own decision; each copy's grade
goes into its mesa, whose state is recomputed from all its copies by the pure rule of
:mod:`veedor.verify.mesa` (so the order files arrive in never matters) and every change of
state is appended to ``mesa_events`` with the copy that caused it.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from dataclasses import replace
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Select, delete, insert, literal, or_, select
from sqlalchemy.orm import Session

from veedor import __version__
from veedor.definitions import ElectionDefinition
from veedor.model import ActaState, Copy, FileOutcome, Grade, Status
from veedor.store import evidence_log as log
from veedor.store.db import serialize_writes
from veedor.store.schema import (
    ActaRecord,
    ActaVotes,
    CheckRecord,
    Decision,
    Evidence,
    Image,
    ImageName,
    MesaEvent,
    PictureKey,
    PictureMatch,
    Reading,
    ReviewCopyCall,
    ReviewDecision,
)
from veedor.verify.mesa import MesaDecision, PeopleSettled, Reused, SeenCopy, decide_mesa
from veedor.verify.verdicts import SET_ASIDE


def now() -> datetime:
    return datetime.now(UTC)


def as_utc(value: datetime) -> datetime:
    """A stored time with its zone (SQLite gives it back naive; every time stored is UTC)."""
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def known_images(session: Session) -> frozenset[str]:
    return frozenset(session.scalars(select(Image.sha256)))


def record_duplicate(session: Session, outcome: FileOutcome) -> FileOutcome:
    """Same bytes as an image already stored: remember the new name, change nothing else."""
    sha = outcome.duplicate_of or outcome.sha256
    image = session.get(Image, sha)
    _add_name(session, sha, outcome.file)  # type: ignore[arg-type]
    if image is None:  # cannot happen unless the database was edited by hand
        return replace(outcome, status=Status.REVIEW, reason="imagen duplicada sin registro previo")
    record = session.scalar(
        select(ActaRecord).join(Evidence, Evidence.acta_pk == ActaRecord.id).where(Evidence.sha256 == sha)
    )
    return replace(
        outcome,
        status=Status(image.status),
        reason=image.reason
        or "archivo idéntico a uno ya procesado; no se cuenta dos veces / identical file already processed",
        duplicate_of=sha,
        mesa=mesa_view(record) if record is not None else None,
    )


def _add_name(session: Session, sha: str, path: str) -> None:
    exists = session.scalar(select(ImageName.id).where(ImageName.sha256 == sha, ImageName.path == path))
    if exists is None:
        session.add(ImageName(sha256=sha, path=path, seen_at=now()))


def record_outcome(
    session: Session, outcome: FileOutcome, definition: ElectionDefinition, *, cause: str = "scan"
) -> FileOutcome:
    """Store one processed file; returns it with its mesa's state after combining."""
    if outcome.sha256 is None:
        return outcome  # unreadable path: nothing to keep but the report line
    # The writer's lock before any row is written: the evidence log takes it anyway, and taken
    # first, every writer locks in one order (PostgreSQL: no deadlock between a scan holding
    # it and one that inserted the same image before asking for it).
    serialize_writes(session)
    if outcome.duplicate_of:
        return record_duplicate(session, outcome)
    if session.get(Image, outcome.sha256) is not None:
        # Stored since this run began (another scan on the same database read it too).
        return record_duplicate(session, replace(outcome, duplicate_of=outcome.sha256))
    facts = outcome.facts
    stamp = now()
    # Core inserts: this runs once per file on the single writer, so ORM overhead shows.
    session.execute(
        insert(Image),
        [
            {
                "sha256": outcome.sha256,
                "size": facts.size if facts else 0,
                "format": facts.format if facts else None,
                "width": facts.width if facts else None,
                "height": facts.height if facts else None,
                "metadata_json": facts.metadata if facts else None,
                "status": outcome.status.value,
                "reason": outcome.reason,
                "first_seen": stamp,
            }
        ],
    )
    session.execute(insert(ImageName), [{"sha256": outcome.sha256, "path": outcome.file, "seen_at": stamp}])
    # What was received, never who sent it or from where (its path stays in image_names).
    log.append(
        session,
        "image",
        {
            "sha256": outcome.sha256,
            "bytes": facts.size if facts else 0,
            "format": facts.format if facts else None,
            "channel": cause,
        },
        stamp,
    )
    if outcome.picture is not None:
        picture = outcome.picture
        session.execute(
            insert(PictureKey),
            [
                {
                    "sha256": outcome.sha256,
                    "sheet_key": picture.sheet_key,
                    "qr_quad": [list(p) for p in picture.qr_quad],
                }
            ],
        )
    if outcome.checks:
        session.execute(
            insert(CheckRecord),
            [
                {"sha256": outcome.sha256, "name": c.name, "passed": c.passed, "detail": c.detail}
                for c in outcome.checks
            ],
        )
    return store_reading(session, outcome, definition, stamp, cause)


def store_reading(
    session: Session, outcome: FileOutcome, definition: ElectionDefinition, stamp: datetime, cause: str
) -> FileOutcome:
    """The readings, the decision and the evidence of one reading of a stored image."""
    assert outcome.sha256 is not None
    winner = outcome.winning_reading
    winner_id: int | None = None
    for reading in outcome.readings:
        values = {
            "sha256": outcome.sha256,
            "election": definition.id,
            "source": reading.source,
            "engine": reading.engine,
            "variant": reading.variant,
            "text": reading.text,
            "ms": reading.ms,
            "read_at": stamp,
            "accepted": reading is winner,
        }
        if reading is winner:
            winner_id = session.execute(insert(Reading).returning(Reading.id), [values]).scalar_one()
        else:
            session.execute(insert(Reading), [values])
    copy = outcome.copy
    log.append(
        session,
        "reading",
        {
            "image": outcome.sha256,
            "veedor": __version__,
            "cause": cause,
            "status": outcome.status.value,
            "grade": copy.grade.value if copy else None,
            "accepted": {
                "engine": winner.engine,
                "variant": winner.variant,
                "source": winner.source,
                "text": winner.text,
            }
            if winner is not None
            else None,
            "mesa": {"centre": copy.centre, "mesa": copy.mesa} if copy else None,
            "votes": list(copy.votes) if copy else None,
            "nulos": copy.nulos if copy else None,
        },
        stamp,
    )
    session.execute(
        insert(Decision),
        [
            {
                "sha256": outcome.sha256,
                "decided_at": stamp,
                "version": __version__,
                "cause": cause,
                "status": outcome.status.value,
                "reason": outcome.reason,
                "grade": copy.grade.value if copy else None,
                "checks": [c.as_dict() for c in outcome.checks],
            }
        ],
    )
    if copy is None or winner_id is None or len(copy.votes) != len(definition.ballot):
        return outcome
    record, new = mesa_record(session, definition, copy)
    session.add(
        Evidence(
            acta_pk=record.id,
            sha256=outcome.sha256,
            reading_id=winner_id,
            status=outcome.status.value,
            grade=copy.grade.value,
            source=copy.source,
            votes=list(copy.votes),
            nulos=copy.nulos,
            extra=dict(copy.extra),
            printed=list(copy.printed) if copy.printed is not None else None,
            printed_nulos=copy.printed_nulos,
        )
    )
    session.flush()
    previous = record.status
    combine_mesa(session, record, definition, sha256=outcome.sha256, cause=cause, new=new)
    return replace(outcome, mesa=mesa_view(record, previous))


def mesa_record(session: Session, definition: ElectionDefinition, copy: Copy) -> tuple[ActaRecord, bool]:
    """The mesa's record, and whether it was created just now."""
    record = session.scalar(
        _current(
            select(ActaRecord).where(
                ActaRecord.election == definition.id,
                ActaRecord.centre == copy.centre,
                ActaRecord.mesa == copy.mesa,
            )
        )
    )
    if record is None:
        record = ActaRecord(
            election=definition.id,
            centre=copy.centre,
            mesa=copy.mesa,
            acta_id=copy.acta_id,
            status=ActaState.REVIEW.value,
            updated_at=now(),
        )
        session.add(record)
        session.flush()
        return record, True
    return record, False


def _current(query: Select[Any]) -> Select[Any]:
    """``query`` for mesa records to change: locked until the transaction ends (PostgreSQL's
    row lock; SQLite has one writer at a time anyway) and read as committed, not as this session
    last saw them. A scan's session lives across batches: without ``populate_existing`` a mesa
    still in its identity map, that another scan or the desk changed meanwhile, keeps the state
    this session saw, and a combine that finds "nothing changed" against it leaves the new
    state unwritten."""
    return query.with_for_update().execution_options(populate_existing=True)


def grade_of(evidence: Evidence) -> Grade:
    """The stored grade; for evidence stored before grades, what its status meant then."""
    if evidence.grade:
        return Grade(evidence.grade)
    return {"ok": Grade.CONFIRMED, "unverified": Grade.QR_ONLY}.get(evidence.status, Grade.PARTIAL)


def seen_copy(evidence: Evidence, reused: Mapping[str, Reused] | None = None) -> SeenCopy:
    """``reused``: the images found to be the same picture as another mesa's (:func:`reused_among`)."""
    return SeenCopy(
        evidence.sha256,
        grade_of(evidence),
        tuple(evidence.votes),
        evidence.nulos,
        tuple(sorted((evidence.extra or {}).items())),
        evidence.source or "qr",
        tuple(evidence.printed) if evidence.printed is not None else None,
        evidence.printed_nulos,
        (reused or {}).get(evidence.sha256),
    )


def reused_among(session: Session, shas: Collection[str] | None = None) -> dict[str, Reused]:
    """Images found to be the same picture as another mesa's (``pipeline/reuse.py``), both
    ways; only those in ``shas`` when given. An image is held back unless every match found
    it the original."""
    query = select(PictureMatch.sha256, PictureMatch.other_sha256, PictureMatch.original).order_by(
        PictureMatch.id
    )
    if shas is not None:
        query = query.where(or_(PictureMatch.sha256.in_(shas), PictureMatch.other_sha256.in_(shas)))
    found: dict[str, Reused] = {}
    for a, b, original in session.execute(query):
        for this, other in ((a, b), (b, a)):
            was = found.get(this)
            found[this] = Reused(
                was.other if was else other, (was.original if was else True) and original == this
            )
    return found


def combine_mesa(
    session: Session,
    record: ActaRecord,
    definition: ElectionDefinition,
    *,
    sha256: str | None = None,
    cause: str = "scan",
    new: bool = False,
) -> MesaDecision:
    """Recompute one mesa from its copies (one indexed query of its own rows) and, when
    anything changed, append the change to its history with the copy that caused it."""
    # The mesa's row, locked and as committed: its copies and state are read while no other
    # writer can combine it (two scans storing two copies of one mesa at once).
    session.execute(_current(select(ActaRecord).where(ActaRecord.id == record.id)))
    rows = list(session.scalars(select(Evidence).where(Evidence.acta_pk == record.id)))
    reused = reused_among(session, [e.sha256 for e in rows])
    copies = [seen_copy(e, reused) for e in rows]
    decision = decide_mesa(copies, people_settled(session, record.id), set_aside_of(session, record.id))
    votes = list(decision.numbers[0]) if decision.numbers else None
    nulos = decision.numbers[1] if decision.numbers else None
    alerts = [a.as_dict() for a in decision.alerts] or None
    before = (record.status, record.reason, record.votes, record.nulos, record.alerts, record.source)
    after = (decision.state.value, decision.reason, votes, nulos, alerts, decision.source)
    if not new and before == after:
        return decision
    session.add(
        MesaEvent(
            acta_pk=record.id,
            at=now(),
            state=decision.state.value,
            previous=None if new else record.status,
            reason=decision.reason,
            sha256=sha256,
            cause=cause,
            votes=votes,
            nulos=nulos,
            alerts=alerts,
        )
    )
    log.append(
        session,
        "mesa",
        {
            "centre": record.centre,
            "mesa": record.mesa,
            "state": decision.state.value,
            "previous": None if new else record.status,
            "image": sha256,
            "cause": cause,
            "votes": votes,
            "nulos": nulos,
            "alerts": [a["kind"] for a in alerts or []],
        },
    )
    numbers_changed = new or (record.votes, record.nulos) != (votes, nulos)
    record.status = decision.state.value
    record.reason = decision.reason
    record.votes = votes
    record.nulos = nulos
    record.alerts = alerts
    record.source = decision.source
    record.updated_at = now()
    if numbers_changed:
        session.execute(delete(ActaVotes).where(ActaVotes.acta_pk == record.id))
        if votes is not None:
            session.execute(
                insert(ActaVotes),
                [
                    {"acta_pk": record.id, "candidate": candidate, "votes": n}
                    for candidate, n in definition.totals_by_candidate(votes).items()
                ],
            )
    return decision


def people_settled(session: Session, acta_pk: int) -> PeopleSettled | None:
    """What people settled for the mesa: its latest review decision, when that settles it."""
    latest = session.scalar(
        select(ReviewDecision)
        .where(ReviewDecision.acta_pk == acta_pk)
        .order_by(ReviewDecision.id.desc())
        .limit(1)
    )
    if latest is None or latest.kind != "settled" or latest.votes is None or latest.nulos is None:
        return None
    numbers = (tuple(latest.votes), latest.nulos, (("blank", latest.blank or 0),))
    return PeopleSettled(numbers, frozenset(latest.copies))


def set_aside_of(session: Session, acta_pk: int) -> dict[str, str]:
    """The mesa's copies people set aside, by SHA-256: "forged" or "other" (another mesa's),
    from the latest call on each copy (:mod:`veedor.verify.verdicts`)."""
    return set_aside_among(session, select(literal(acta_pk))).get(acta_pk, {})


def set_aside_among(session: Session, mesas: Select[Any] | list[int]) -> dict[int, dict[str, str]]:
    """:func:`set_aside_of` for every mesa ``mesas`` selects, in one query."""
    latest: dict[int, dict[str, str | None]] = {}
    for call in session.scalars(
        select(ReviewCopyCall).where(ReviewCopyCall.acta_pk.in_(mesas)).order_by(ReviewCopyCall.id)
    ):
        latest.setdefault(call.acta_pk, {})[call.sha256] = call.verdict
    return {
        pk: {sha: verdict for sha, verdict in calls.items() if verdict in SET_ASIDE}
        for pk, calls in latest.items()
    }


def mesa_view(record: ActaRecord, previous: str | None = None) -> dict[str, Any]:
    """The report's ``mesa`` object: the mesa's state as it stands, and why."""
    view: dict[str, Any] = {
        "centro": record.centre,
        "mesa": record.mesa,
        "state": record.status,
        "counted": record.status == ActaState.OK.value,
        "reason": record.reason,
        "alerts": record.alerts or [],
    }
    if previous is not None and previous != record.status:
        view["changed_from"] = previous
    return view
