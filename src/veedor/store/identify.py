"""Sheets with no readable id: people say which mesa each is, blind and in pairs.

A sheet whose QR and printed id could not be read is a dead end for the machine. Two people
who, each on their own, type the same centre and mesa (checked against the registry when it
is loaded), or one supervisor, attach it to that mesa as a copy with no numbers (``partial``,
read by ``people``); the mesa then enters the normal flow, where its numbers are typed blind.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import delete, insert, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from veedor.definitions import ElectionDefinition
from veedor.model import ActaState, Grade, Status
from veedor.store import evidence_log as log
from veedor.store.accounts import LEASE, ReviewError, is_flagged, required_entries
from veedor.store.records import combine_mesa, now
from veedor.store.registry_view import registry_view
from veedor.store.schema import (
    ActaRecord,
    Evidence,
    Image,
    Reading,
    ReviewIdentification,
    ReviewSheetLease,
    User,
)
from veedor.verify.settle import REQUIRED


@dataclass
class Identified:
    settled: bool
    code: str | None
    """CENTRO.MESA once settled."""


def unidentified(session: Session) -> list[str]:
    """SHA-256 of each stored sheet sent to people that names no mesa yet."""
    named = select(Evidence.sha256)
    return list(
        session.scalars(
            select(Image.sha256)
            .where(Image.status == Status.REVIEW.value, Image.sha256.not_in(named))
            .order_by(Image.first_seen, Image.sha256)
        )
    )


def sheets_for(session: Session, user: User) -> list[str]:
    """The sheets ``user`` may identify now: not identified by them yet, not held by another."""
    mine = select(ReviewIdentification.sha256).where(ReviewIdentification.user_id == user.id)
    held = select(ReviewSheetLease.sha256).where(
        ReviewSheetLease.user_id != user.id, ReviewSheetLease.expires_at > now()
    )
    done = set(session.scalars(mine)) | set(session.scalars(held))
    return [sha for sha in unidentified(session) if sha not in done]


def take_sheet(session: Session, user: User) -> str | None:
    """The next sheet for ``user`` to identify, leased to them so nobody else gets it meanwhile."""
    if is_flagged(session, user.id):
        return None
    for sha in sheets_for(session, user):
        current = session.get(ReviewSheetLease, sha)
        try:
            with session.begin_nested():  # another desk process may lease it at the same moment
                if current is None:
                    session.add(ReviewSheetLease(sha256=sha, user_id=user.id, expires_at=now() + LEASE))
                else:
                    current.user_id, current.expires_at = user.id, now() + LEASE
                session.flush()
        except IntegrityError:
            continue
        return sha
    return None


def sheet_held_by(session: Session, user: User) -> str | None:
    """The sheet leased to ``user`` that they have not identified yet."""
    for sha in session.scalars(
        select(ReviewSheetLease.sha256).where(
            ReviewSheetLease.user_id == user.id, ReviewSheetLease.expires_at > now()
        )
    ):
        if sha in sheets_for(session, user):
            return sha
    return None


def registered_mesa(session: Session, definition: ElectionDefinition, code: str) -> tuple[str, int]:
    """(centre, mesa) of a typed CENTRO.MESA code, checked against the registry when loaded."""
    centre, _, number = code.strip().rpartition(".")
    if not (centre.isascii() and centre.isdigit() and len(centre) == definition.centre_code_digits):
        raise ReviewError(
            f"código de mesa no válido {code!r}; use CENTRO.MESA, p. ej. 040202001.01 / invalid mesa code"
        )
    if not (number.isascii() and number.isdigit() and int(number) >= 1):
        raise ReviewError(f"número de mesa no válido en {code!r} / invalid mesa number")
    mesa = int(number)
    registry = registry_view(session, definition)
    if registry.loaded and (
        centre not in registry.centres or mesa > registry.mesas_per_centre.get(centre, mesa)
    ):
        raise ReviewError(f"la mesa {code} no está en el registro de centros / not in the registry")
    return centre, mesa


def identify(
    session: Session, definition: ElectionDefinition, user: User, sha256: str, code: str
) -> Identified:
    """One person's reading of which mesa a sheet is; attaches it when the rule says so."""
    centre, mesa = registered_mesa(session, definition, code)
    if sha256 not in unidentified(session):
        raise ReviewError(
            "esa imagen no espera que alguien la identifique / that image is not waiting to be identified"
        )
    if is_flagged(session, user.id):
        raise ReviewError(
            "esta cuenta no puede escribir entradas; hable con un supervisor / this account may not enter"
        )
    mine = select(ReviewIdentification.id).where(
        ReviewIdentification.sha256 == sha256, ReviewIdentification.user_id == user.id
    )
    if user.role == "reviewer" and session.scalar(mine) is not None:
        raise ReviewError("ya identificó esta imagen / you already identified this image")
    session.add(ReviewIdentification(sha256=sha256, user_id=user.id, at=now(), centre=centre, mesa=mesa))
    log.append(session, "identification", {"image": sha256, "by": user.name, "centre": centre, "mesa": mesa})
    session.execute(delete(ReviewSheetLease).where(ReviewSheetLease.sha256 == sha256))
    session.flush()
    said = session.execute(
        select(ReviewIdentification, User.name, User.role)
        .join(User, User.id == ReviewIdentification.user_id)
        .where(ReviewIdentification.sha256 == sha256)
    ).all()
    valid = [(i, name, role) for i, name, role in said if not is_flagged(session, i.user_id)]
    supervisor = [i for i, _n, role in valid if role in ("supervisor", "admin")]
    agree = {name for i, name, _r in valid if (i.centre, i.mesa) == (centre, mesa)}
    others = {(i.centre, i.mesa) for i, _n, _r in valid} - {(centre, mesa)}
    settled = bool(supervisor and (supervisor[-1].centre, supervisor[-1].mesa) == (centre, mesa)) or (
        len(agree) >= max(REQUIRED, required_entries()) and not others
    )
    if not settled:
        return Identified(False, None)
    attach_sheet(session, definition, sha256, centre, mesa, sorted(agree))
    return Identified(True, f"{centre}.{mesa:02d}")


def attach_sheet(
    session: Session, definition: ElectionDefinition, sha256: str, centre: str, mesa: int, who: list[str]
) -> None:
    """The sheet becomes a copy of the mesa with no numbers: people said whose it is (once)."""
    there = (
        select(Evidence.id)
        .join(ActaRecord, ActaRecord.id == Evidence.acta_pk)
        .where(
            ActaRecord.election == definition.id,
            ActaRecord.centre == centre,
            ActaRecord.mesa == mesa,
            Evidence.sha256 == sha256,
        )
    )
    if session.scalar(there) is not None:
        return
    reading_id = session.execute(
        insert(Reading).returning(Reading.id),
        [
            {
                "sha256": sha256,
                "election": definition.id,
                "source": "people",
                "engine": "review-desk",
                "variant": "identified by " + ", ".join(who),
                "text": f"{centre}.{mesa:02d}",
                "ms": 0.0,
                "read_at": now(),
                "accepted": True,
            }
        ],
    ).scalar_one()
    record = session.scalar(
        select(ActaRecord).where(
            ActaRecord.election == definition.id, ActaRecord.centre == centre, ActaRecord.mesa == mesa
        )
    )
    new = record is None
    if record is None:
        record = ActaRecord(
            election=definition.id,
            centre=centre,
            mesa=mesa,
            acta_id=f"{centre}.{mesa:02d}",
            status=ActaState.REVIEW.value,
            updated_at=now(),
        )
        session.add(record)
        session.flush()
    session.add(
        Evidence(
            acta_pk=record.id,
            sha256=sha256,
            reading_id=reading_id,
            status=Status.REVIEW.value,
            grade=Grade.PARTIAL.value,
            source="people",
            votes=[None] * len(definition.ballot),
            nulos=None,
        )
    )
    session.flush()
    combine_mesa(session, record, definition, sha256=sha256, cause="review", new=new)
