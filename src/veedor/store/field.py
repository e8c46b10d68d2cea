"""Witnesses in the field (``veedor field``): invite codes, the photos they send, the incidents
they report. Everything here is private to the data room: the public sees what the photos say
(through the scan's pipeline) and incidents as counts, never who sent what.

An invite code is the witness's only credential: a random 100-bit token shown once, kept on the
phone, of which the server keeps a SHA-256 (a fast hash is enough for a random token of that
size; a slow one would make every upload pay for it). The server knows the code's pseudonym and
the geography codes (centres, or units holding them) it was issued for.
"""

from __future__ import annotations

import hashlib
import secrets
from collections import Counter
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from veedor.definitions import ElectionDefinition
from veedor.store.db import serialize_writes
from veedor.store.records import as_utc, now
from veedor.store.schema import FieldIncident, FieldInvite, FieldUpload

ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
"""Crockford's base 32: no I, L, O or U to misread; 5 bits a character."""
CODE_CHARS = 20
"""100 bits: guessing one of a million live codes takes ~10^24 tries."""
DEFAULT_LIMIT = 60
"""Photos and incident reports one code may send (a witness sends a handful; a stolen code is
not a firehose). ``--limit`` raises it."""
MAX_TEXT = 2000


class LimitReached(Exception):
    """The code has sent all it may (its ``upload_limit``)."""


class UnknownKind(ValueError):
    """An incident kind the election's definition does not list."""


def new_code() -> str:
    raw = "".join(secrets.choice(ALPHABET) for _ in range(CODE_CHARS))
    return "-".join(raw[i : i + 5] for i in range(0, CODE_CHARS, 5))


def normalize(code: str) -> str | None:
    """The code as printed (``XXXXX-XXXXX-XXXXX-XXXXX``) from the code as typed (any case,
    dashes or spaces, O for 0, I or L for 1), or None when it cannot be one."""
    cleaned = code.upper().replace("-", "").replace(" ", "").translate(str.maketrans("OIL", "011"))
    if len(cleaned) != CODE_CHARS or any(c not in ALPHABET for c in cleaned):
        return None
    return "-".join(cleaned[i : i + 5] for i in range(0, CODE_CHARS, 5))


def token_hash(code: str) -> str | None:
    cleaned = normalize(code)
    if cleaned is None:
        return None
    return hashlib.sha256(f"veedor-field\0{cleaned}".encode()).hexdigest()


def in_scope(scope: list[str] | tuple[str, ...], centre: str | None) -> bool | None:
    """Whether ``centre`` is one the code was issued for (a centre, or inside a unit it names);
    None when no centre is known yet."""
    if not centre:
        return None
    return any(centre.startswith(code) for code in scope)


@dataclass(frozen=True)
class Issued:
    pseudonym: str
    code: str
    scope: tuple[str, ...]


def issue_invites(
    session: Session,
    scope: list[str],
    count: int = 1,
    *,
    limit: int = DEFAULT_LIMIT,
    send_location: bool = False,
) -> list[Issued]:
    """``count`` new codes for the geography codes ``scope``; the codes are returned once and
    never stored."""
    if not scope or any(not (c.isascii() and c.isdigit()) for c in scope):
        raise ValueError("scope: one or more geography codes (digits)")
    issued = []
    serialize_writes(session)
    for _ in range(count):
        code = new_code()
        pseudonym = "T-" + "".join(secrets.choice(ALPHABET) for _ in range(6))
        session.add(
            FieldInvite(
                pseudonym=pseudonym,
                token_hash=token_hash(code),
                scope=list(scope),
                upload_limit=limit,
                send_location=send_location,
                created_at=now(),
            )
        )
        issued.append(Issued(pseudonym, code, tuple(scope)))
    session.commit()
    return issued


def find_invite(session: Session, code: str | None) -> FieldInvite | None:
    """The live invite of ``code``, or None (unknown, malformed or revoked: the same answer)."""
    digest = token_hash(code) if code else None
    if digest is None:
        return None
    invite = session.scalar(select(FieldInvite).where(FieldInvite.token_hash == digest))
    if invite is None or invite.revoked_at is not None:
        return None
    return invite


def revoke(session: Session, who: str) -> bool:
    """Revoke the invite named by its pseudonym or its code; False when none is live."""
    digest = token_hash(who)
    query = update(FieldInvite).where(FieldInvite.revoked_at.is_(None))
    query = query.where(
        (FieldInvite.pseudonym == who) | (FieldInvite.token_hash == digest)
        if digest
        else FieldInvite.pseudonym == who
    )
    serialize_writes(session)
    done = session.execute(query.values(revoked_at=now())).rowcount  # type: ignore[attr-defined]
    session.commit()
    return bool(done)


def used(session: Session, invite_id: int) -> int:
    photos = session.scalar(select(func.count()).where(FieldUpload.invite_id == invite_id)) or 0
    reports = session.scalar(select(func.count()).where(FieldIncident.invite_id == invite_id)) or 0
    return int(photos) + int(reports)


def upload_answer(row: FieldUpload) -> dict[str, Any]:
    """What the server says of a received photo: the same every time it is asked (a retry of
    the same bytes gets the same answer). Nothing of who sent it."""
    return {"sha256": row.sha256, "bytes": row.size, "received_at": as_utc(row.received_at).isoformat()}


def before_storing(session: Session, invite: FieldInvite, sha256: str) -> FieldUpload | None:
    """Before the bytes are written: the row of a photo already received (nothing to write), or
    None; :class:`LimitReached` when the code may send no more (nothing is written either)."""
    existing = session.scalar(select(FieldUpload).where(FieldUpload.sha256 == sha256))
    if existing is None and used(session, invite.id) >= invite.upload_limit:
        raise LimitReached
    return existing


def accept_upload(
    session: Session,
    invite: FieldInvite,
    sha256: str,
    size: int,
    *,
    claimed: tuple[str, int] | None = None,
    taken_at: datetime | None = None,
    location: dict[str, float | None] | None = None,
) -> tuple[FieldUpload, bool]:
    """Queue a photo whose bytes are already in the evidence store, once per SHA-256: returns
    its row and whether it is new. :class:`LimitReached` when the code has sent all it may."""
    existing = session.scalar(select(FieldUpload).where(FieldUpload.sha256 == sha256))
    if existing is not None:
        return existing, False
    serialize_writes(session)  # the limit counted and the row added with no other writer between
    existing = session.scalar(select(FieldUpload).where(FieldUpload.sha256 == sha256))
    if existing is not None:
        session.rollback()
        return existing, False
    if used(session, invite.id) >= invite.upload_limit:
        session.rollback()
        raise LimitReached
    row = FieldUpload(
        sha256=sha256,
        invite_id=invite.id,
        size=size,
        claimed_centre=claimed[0] if claimed else None,
        claimed_mesa=claimed[1] if claimed else None,
        taken_at=taken_at,
        received_at=now(),
        location=location if invite.send_location else None,
        in_scope=in_scope(invite.scope, claimed[0]) if claimed else None,
    )
    session.add(row)
    try:
        session.commit()
    except IntegrityError:  # the same bytes, from another request, a moment earlier
        session.rollback()
        found = session.scalar(select(FieldUpload).where(FieldUpload.sha256 == sha256))
        if found is None:
            raise
        return found, False
    return row, True


def queued(session: Session, limit: int = 256) -> list[FieldUpload]:
    """Photos received and not read yet, oldest first."""
    return list(
        session.scalars(
            select(FieldUpload).where(FieldUpload.read_at.is_(None)).order_by(FieldUpload.id).limit(limit)
        )
    )


def scope_of(session: Session, invite_ids: set[int]) -> dict[int, list[str]]:
    rows = session.execute(select(FieldInvite.id, FieldInvite.scope).where(FieldInvite.id.in_(invite_ids)))
    return {pk: list(scope) for pk, scope in rows}


def mark_read(session: Session, sha256: str, status: str, centre: str | None, scoped: bool | None) -> None:
    session.execute(
        update(FieldUpload)
        .where(FieldUpload.sha256 == sha256)
        .values(read_at=now(), status=status, centre=centre, in_scope=scoped)
    )


def accept_incident(
    session: Session,
    invite: FieldInvite,
    definition: ElectionDefinition,
    *,
    client_id: str,
    centre: str,
    kind: str,
    text: str | None,
    photo_sha256: str | None = None,
    observed_at: datetime | None = None,
) -> tuple[FieldIncident, bool]:
    """Store one report (once per phone's ``client_id``): returns it and whether it is new."""
    if kind not in {k.code for k in definition.incident_kinds}:
        raise UnknownKind(kind)
    if not (centre.isascii() and centre.isdigit() and len(centre) == definition.centre_code_digits):
        raise ValueError("centre")
    key = {"invite_id": invite.id, "client_id": client_id[:64]}
    existing = session.scalar(select(FieldIncident).filter_by(**key))
    if existing is not None:
        return existing, False
    serialize_writes(session)
    existing = session.scalar(select(FieldIncident).filter_by(**key))
    if existing is not None:
        session.rollback()
        return existing, False
    if used(session, invite.id) >= invite.upload_limit:
        session.rollback()
        raise LimitReached
    row = FieldIncident(
        **key,
        election=definition.id,
        centre=centre,
        kind=kind,
        text=(text or "").strip()[:MAX_TEXT] or None,
        photo_sha256=photo_sha256,
        observed_at=observed_at,
        received_at=now(),
        in_scope=bool(in_scope(invite.scope, centre)),
    )
    session.add(row)
    session.commit()
    return row, True


def incident_counts(session: Session, definition: ElectionDefinition, level: str) -> list[dict[str, Any]]:
    """Reports per unit of ``level`` and kind: the only form in which incidents are public (no
    text, no reporter, no time finer than the count)."""
    digits = definition.level(level).code_digits
    counts: Counter[tuple[str, str]] = Counter()
    for centre, kind in session.execute(
        select(FieldIncident.centre, FieldIncident.kind).where(FieldIncident.election == definition.id)
    ):
        counts[(centre[:digits], kind)] += 1
    return [{"code": code, "kind": kind, "reports": n} for (code, kind), n in sorted(counts.items())]


def incidents_for_coordinators(
    session: Session, definition: ElectionDefinition, limit: int = 500
) -> list[dict[str, Any]]:
    """The latest reports with their text and the reporter's pseudonym: for the desk's
    supervisors only."""
    rows = session.execute(
        select(FieldIncident, FieldInvite.pseudonym)
        .join(FieldInvite, FieldInvite.id == FieldIncident.invite_id)
        .where(FieldIncident.election == definition.id)
        .order_by(FieldIncident.id.desc())
        .limit(limit)
    )
    return [
        {
            "centre": incident.centre,
            "kind": incident.kind,
            "text": incident.text,
            "photo": incident.photo_sha256,
            "observed_at": as_utc(incident.observed_at) if incident.observed_at else None,
            "received_at": as_utc(incident.received_at),
            "in_scope": incident.in_scope,
            "pseudonym": pseudonym,
        }
        for incident, pseudonym in rows
    ]


def invites_overview(session: Session) -> list[dict[str, Any]]:
    """Every invite: pseudonym, scope, limit, what it sent, whether revoked (never its code)."""
    photos = dict(
        session.execute(select(FieldUpload.invite_id, func.count()).group_by(FieldUpload.invite_id)).all()
    )
    reports = dict(
        session.execute(select(FieldIncident.invite_id, func.count()).group_by(FieldIncident.invite_id)).all()
    )
    return [
        {
            "pseudonym": invite.pseudonym,
            "scope": list(invite.scope),
            "limit": invite.upload_limit,
            "photos": int(photos.get(invite.id, 0)),
            "incidents": int(reports.get(invite.id, 0)),
            "send_location": invite.send_location,
            "revoked": invite.revoked_at is not None,
        }
        for invite in session.scalars(select(FieldInvite).order_by(FieldInvite.id))
    ]
