"""Write scan outcomes: images, names, readings, checks, and one acta per mesa.

Several images of the same acta are normal: equal numbers add evidence to one acta;
different numbers put the mesa in ``conflict`` and nothing of it is counted.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime

from sqlalchemy import delete, insert, select
from sqlalchemy.orm import Session

from veedor.definitions import ElectionDefinition
from veedor.model import ActaState, FileOutcome, Status
from veedor.store.schema import (
    ActaRecord,
    ActaVotes,
    CheckRecord,
    Evidence,
    Image,
    ImageName,
    Reading,
)
from veedor.verify.decide import NO_PRINT


def now() -> datetime:
    return datetime.now(UTC)


def known_images(session: Session) -> frozenset[str]:
    return frozenset(session.scalars(select(Image.sha256)))


def record_duplicate(session: Session, outcome: FileOutcome) -> FileOutcome:
    """Same bytes as an image already stored: remember the new name, change nothing else."""
    sha = outcome.duplicate_of or outcome.sha256
    image = session.get(Image, sha)
    _add_name(session, sha, outcome.file)  # type: ignore[arg-type]
    if image is None:  # cannot happen unless the database was edited by hand
        return replace(outcome, status=Status.REVIEW, reason="imagen duplicada sin registro previo")
    return replace(
        outcome,
        status=Status(image.status),
        reason=image.reason
        or "archivo idéntico a uno ya procesado; no se cuenta dos veces / identical file already processed",
        duplicate_of=sha,
    )


def _add_name(session: Session, sha: str, path: str) -> None:
    exists = session.scalar(select(ImageName.id).where(ImageName.sha256 == sha, ImageName.path == path))
    if exists is None:
        session.add(ImageName(sha256=sha, path=path, seen_at=now()))


def record_outcome(session: Session, outcome: FileOutcome, definition: ElectionDefinition) -> FileOutcome:
    """Store one processed file; returns the outcome as it stands after combining evidence."""
    if outcome.sha256 is None:
        return outcome  # unreadable path: nothing to keep but the report line
    if outcome.duplicate_of:
        return record_duplicate(session, outcome)
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
    if outcome.checks:
        session.execute(
            insert(CheckRecord),
            [
                {"sha256": outcome.sha256, "name": c.name, "passed": c.passed, "detail": c.detail}
                for c in outcome.checks
            ],
        )
    acta = outcome.acta
    if acta is None or winner_id is None or len(acta.votes) != len(definition.ballot):
        return outcome
    record = session.scalar(
        select(ActaRecord).where(
            ActaRecord.election == definition.id,
            ActaRecord.centre == acta.centre,
            ActaRecord.mesa == acta.mesa,
        )
    )
    if record is None:
        record = ActaRecord(
            election=definition.id,
            centre=acta.centre,
            mesa=acta.mesa,
            acta_id=acta.acta_id,
            status=ActaState.REVIEW.value,
            updated_at=now(),
        )
        session.add(record)
        session.flush()
    session.add(
        Evidence(
            acta_pk=record.id,
            sha256=outcome.sha256,
            reading_id=winner_id,
            status=evidence_status(outcome),
            votes=list(acta.votes),
            nulos=acta.nulos,
            extra=dict(acta.extra),
        )
    )
    session.flush()
    state = combine_evidence(session, record, definition)
    if state is ActaState.CONFLICT:
        others = ", ".join(
            e.sha256[:12]
            for e in session.scalars(select(Evidence).where(Evidence.acta_pk == record.id))
            if e.sha256 != outcome.sha256
        )
        conflict = (
            f"conflicto: otra imagen de la mesa {acta.centre}.{acta.mesa:02d} ({others}) dice otros números; "
            "no se cuenta hasta resolverlo / conflict: another image of this mesa has different numbers"
        )
        reason = conflict if outcome.reason is None else f"{conflict}; {outcome.reason}"
        return replace(outcome, status=Status.REVIEW, reason=reason)
    return outcome


UNVERIFIED = "unverified"


def evidence_status(outcome: FileOutcome) -> str:
    """``unverified`` when the only doubt is that no printed table was in the image.

    Such a picture (say, of the QR alone) neither confirms nor contradicts the print of the
    same acta seen elsewhere, so it must not send an otherwise verified mesa to review.
    """
    failed = {c.name for c in outcome.checks if not c.passed}
    if outcome.status is Status.REVIEW and failed == {NO_PRINT}:
        return UNVERIFIED
    return outcome.status.value


def combine_evidence(session: Session, record: ActaRecord, definition: ElectionDefinition) -> ActaState:
    """Recompute one mesa's state from all its evidence, and its countable totals."""
    evidence = list(session.scalars(select(Evidence).where(Evidence.acta_pk == record.id)))
    versions = {(tuple(e.votes), e.nulos, tuple(sorted((e.extra or {}).items()))) for e in evidence}
    if len(versions) > 1:
        state, reason = (
            ActaState.CONFLICT,
            (
                f"{len(versions)} versiones distintas de los números en {len(evidence)} imágenes / "
                "different numbers in different images"
            ),
        )
    elif any(e.status == Status.REVIEW.value for e in evidence):
        state, reason = ActaState.REVIEW, "alguna imagen no pasó las verificaciones / an image failed checks"
    elif any(e.status == Status.OK.value for e in evidence):
        state, reason = ActaState.OK, None
    else:
        state, reason = (
            ActaState.REVIEW,
            ("solo hay QR sin tabla impresa para compararlo / only QR codes without a printed table"),
        )
    first = evidence[0]
    record.status = state.value
    record.reason = reason
    record.votes = list(first.votes) if state is not ActaState.CONFLICT else None
    record.nulos = first.nulos if state is not ActaState.CONFLICT else None
    record.updated_at = now()
    session.execute(delete(ActaVotes).where(ActaVotes.acta_pk == record.id))
    if state is not ActaState.CONFLICT:
        session.execute(
            insert(ActaVotes),
            [
                {"acta_pk": record.id, "candidate": candidate, "votes": votes}
                for candidate, votes in definition.totals_by_candidate(first.votes).items()
            ],
        )
    return state
