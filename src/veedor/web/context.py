"""What every request of the desk needs: the desk itself, a database session, the reader's
language, who they are (or a refusal), and the posted form with its CSRF token checked."""

from __future__ import annotations

import threading
from collections.abc import AsyncIterator, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Annotated, Any

from fastapi import Depends
from sqlalchemy.orm import Session
from starlette.requests import Request

from veedor.capture.evidence import EvidenceStore
from veedor.definitions import ElectionDefinition
from veedor.i18n import negotiate
from veedor.store import Store
from veedor.store.db import serialize_writes
from veedor.store.schema import User
from veedor.web.auth import LoginLimiter, LoginRequired, SessionData, Sessions, check_csrf, fingerprint

LANG_COOKIE = "veedor_lang"
REQUEST_THREADS = 40
"""Starlette runs each page in a pool of 40 threads: one database connection for each."""
SUPERVISING = ("supervisor", "admin")


@dataclass
class Desk:
    store: Store
    definition: ElectionDefinition
    evidence: EvidenceStore
    sessions: Sessions
    limiter: LoginLimiter = field(default_factory=LoginLimiter)
    writing: threading.Lock = field(default_factory=threading.Lock)

    @contextmanager
    def write(self, db: Session) -> Iterator[None]:
        """One writer at a time, in this process and across processes (the desk's workers, a
        ``veedor review`` beside them): two reviewers never take the same task."""
        with self.writing:
            serialize_writes(db)
            try:
                yield
            except BaseException:
                db.rollback()
                raise
            db.commit()  # one transaction, one writer: an entry and the next task taken together


@dataclass
class Viewer:
    user: User
    session: SessionData
    lang: str

    @property
    def supervising(self) -> bool:
        return self.user.role in SUPERVISING


async def get_desk(request: Request) -> Desk:
    desk: Desk = request.app.state.desk
    return desk


async def get_db(desk: Annotated[Desk, Depends(get_desk)]) -> AsyncIterator[Session]:
    # async: no I/O until the session is used (in the page's thread); FastAPI runs every plain
    # ``def`` dependency in a thread of its own, and each hop costs under load.
    session = desk.store.session()
    try:
        yield session
    finally:
        session.close()


def language_of(request: Request) -> str:
    asked = request.query_params.get("lang") or request.cookies.get(LANG_COOKIE)
    return negotiate(request.headers.get("accept-language"), asked)


async def get_lang(request: Request) -> str:
    return language_of(request)


async def get_session_data(request: Request, desk: Annotated[Desk, Depends(get_desk)]) -> SessionData | None:
    return desk.sessions.read(request)


async def get_viewer(
    db: Annotated[Session, Depends(get_db)],
    data: Annotated[SessionData | None, Depends(get_session_data)],
    lang: Annotated[str, Depends(get_lang)],
) -> Viewer:
    """The logged-in person, or :class:`LoginRequired`: an unknown, disabled or reset account
    ends the session at its next request. (async: one lookup by primary key, far cheaper than
    the thread hop a plain ``def`` costs under load.)"""
    if data is None or data.user_id is None:
        raise LoginRequired
    user = db.get(User, data.user_id)
    if user is None or user.disabled_at is not None or fingerprint(user) != data.fingerprint:
        raise LoginRequired
    return Viewer(user, data, lang)


async def get_form(request: Request) -> dict[str, Any]:
    form = await request.form(max_files=0, max_fields=200)
    return {key: value for key, value in form.items() if isinstance(value, str)}


async def checked_form(
    data: Annotated[SessionData | None, Depends(get_session_data)],
    form: Annotated[dict[str, Any], Depends(get_form)],
) -> dict[str, Any]:
    """The posted fields, once the form's token is this session's (else CsrfRefused, 403)."""
    check_csrf(data, form.get("csrf"))
    return form


ViewerDep = Annotated[Viewer, Depends(get_viewer)]
DbDep = Annotated[Session, Depends(get_db)]
DeskDep = Annotated[Desk, Depends(get_desk)]
LangDep = Annotated[str, Depends(get_lang)]
FormDep = Annotated[dict[str, Any], Depends(checked_form)]
