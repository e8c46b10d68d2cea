"""Who may work at the review desk: accounts by pseudonym, their roles and what happened to
them (added, disabled, reset, flagged), appended; passwords hashed with Argon2."""

from __future__ import annotations

import os
from datetime import timedelta

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from veedor.store.records import now
from veedor.store.schema import ReviewLease, User, UserEvent
from veedor.verify.settle import REQUIRED

ROLES = ("reviewer", "supervisor", "admin")
SUPERVISING = ("supervisor", "admin")
LEASE = timedelta(minutes=15)
"""A task taken and not done within this time goes back to the queue."""
_HASHER = PasswordHasher()


class ReviewError(ValueError):
    """Refused, with nothing stored; the message says why and what to do."""


# -- accounts ----------------------------------------------------------------------------


def add_user(session: Session, name: str, role: str, password: str) -> User:
    name = name.strip()
    if not name or len(name) > 64 or not name.isprintable():
        raise ReviewError(
            "el seudónimo debe tener de 1 a 64 caracteres visibles / a pseudonym of 1 to 64 characters"
        )
    if role not in ROLES:
        raise ReviewError(f"rol desconocido {role!r}; use {', '.join(ROLES)} / unknown role")
    if len(password) < 8:
        raise ReviewError(
            "la contraseña debe tener al menos 8 caracteres / password of at least 8 characters"
        )
    if session.scalar(select(User.id).where(User.name == name)) is not None:
        raise ReviewError(f"ya existe una cuenta {name!r} / account already exists")
    user = User(name=name, role=role, password_hash=_HASHER.hash(password), created_at=now())
    session.add(user)
    session.flush()
    event(session, user, "added", role)
    return user


def authenticate(session: Session, name: str, password: str) -> User:
    """The account, if the password is its own; one message for every refusal."""
    user = session.scalar(select(User).where(User.name == name.strip()))
    try:
        if user is None:
            _HASHER.hash(password)  # the same time spent as for a real account
            raise VerificationError
        _HASHER.verify(user.password_hash, password)
    except (VerificationError, InvalidHashError):
        raise ReviewError("seudónimo o contraseña incorrectos / wrong pseudonym or password") from None
    if user.disabled_at is not None:
        raise ReviewError("esta cuenta está desactivada; hable con un supervisor / account disabled")
    return user


def user_named(session: Session, name: str) -> User:
    user = session.scalar(select(User).where(User.name == name.strip()))
    if user is None:
        raise ReviewError(f"no hay ninguna cuenta {name!r} / no such account")
    return user


def disable_user(session: Session, name: str, why: str = "") -> User:
    user = user_named(session, name)
    if user.disabled_at is None:
        user.disabled_at = now()
        event(session, user, "disabled", why)
        session.execute(delete(ReviewLease).where(ReviewLease.user_id == user.id))
    return user


def reset_password(session: Session, name: str, password: str) -> User:
    if len(password) < 8:
        raise ReviewError(
            "la contraseña debe tener al menos 8 caracteres / password of at least 8 characters"
        )
    user = user_named(session, name)
    user.password_hash = _HASHER.hash(password)
    event(session, user, "reset", None)
    return user


def event(session: Session, user: User, kind: str, detail: str | None) -> None:
    session.add(UserEvent(user_id=user.id, at=now(), kind=kind, detail=detail))


def is_flagged(session: Session, user_id: int) -> bool:
    return (
        session.scalar(select(UserEvent.id).where(UserEvent.user_id == user_id, UserEvent.kind == "flagged"))
        is not None
    )


def flagged_ids(session: Session) -> set[int]:
    """Accounts flagged by their score: their entries and verdicts no longer count."""
    return set(session.scalars(select(UserEvent.user_id).where(UserEvent.kind == "flagged")))


def required_entries() -> int:
    """How many agreeing blind entries settle an acta: ``VEEDOR_REVIEW_ENTRIES``, default 2."""
    value = os.environ.get("VEEDOR_REVIEW_ENTRIES", "")
    return int(value) if value.isdigit() and int(value) >= 1 else REQUIRED
