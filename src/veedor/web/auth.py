"""Who is asking: a signed, expiring session cookie, a CSRF token per session, and a login
rate limit. Sessions are not stored in the database (a restart with a new secret logs every
browser out); the rate limit's failures are, so that every process of the desk sees them."""

from __future__ import annotations

import hashlib
import hmac
import secrets
import time
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from itsdangerous import BadSignature, URLSafeTimedSerializer
from sqlalchemy import delete, select
from sqlalchemy.orm import Session
from starlette.requests import Request
from starlette.responses import Response

from veedor.store.records import as_utc, now
from veedor.store.schema import LoginFailure, User

COOKIE = "veedor_desk"
SESSION_HOURS = 8
"""A login lasts one working shift; then the desk asks for the password again."""
MAX_FAILURES = 5
FAILURE_WINDOW = 300.0
"""Five wrong passwords for one pseudonym from one address in five minutes: refused until the
oldest of them is five minutes old."""


class LoginRequired(Exception):
    """No valid session: a page sends the browser to /login, anything else is refused (401)."""


class CsrfRefused(Exception):
    """A form without this session's token: refused (403), nothing stored."""


class Forbidden(Exception):
    """Logged in, but this is not theirs to see (403)."""


@dataclass
class SessionData:
    csrf: str
    user_id: int | None = None
    fingerprint: str = ""
    since: float = field(default_factory=time.time)
    flash: dict[str, str] | None = None

    def as_dict(self) -> dict[str, Any]:
        return {"c": self.csrf, "u": self.user_id, "p": self.fingerprint, "t": self.since, "f": self.flash}


def fingerprint(user: User) -> str:
    """Changes when the password is reset: every session of the old password ends."""
    return hashlib.sha256(user.password_hash.encode()).hexdigest()[:16]


class Sessions:
    def __init__(self, secret: str) -> None:
        self.serializer = URLSafeTimedSerializer(secret, salt="veedor-desk-session")

    def read(self, request: Request) -> SessionData | None:
        raw = request.cookies.get(COOKIE)
        if not raw:
            return None
        try:
            data = self.serializer.loads(raw, max_age=SESSION_HOURS * 3600)
        except BadSignature:  # forged, altered, or expired (SignatureExpired is a BadSignature)
            return None
        if not isinstance(data, dict) or not isinstance(data.get("c"), str):
            return None
        since = float(data.get("t") or 0)
        if time.time() - since > SESSION_HOURS * 3600:
            return None
        return SessionData(data["c"], data.get("u"), data.get("p") or "", since, data.get("f"))

    def fresh(self, user: User | None = None) -> SessionData:
        """A new session (and a new CSRF token): at every login, so an old token is worthless."""
        return SessionData(
            secrets.token_urlsafe(32), user.id if user else None, fingerprint(user) if user else ""
        )

    def write(self, response: Response, request: Request, data: SessionData | None) -> None:
        if data is None:
            response.delete_cookie(COOKIE, path="/", httponly=True, samesite="strict")
            return
        response.set_cookie(
            COOKIE,
            self.serializer.dumps(data.as_dict()),
            max_age=SESSION_HOURS * 3600,
            path="/",
            httponly=True,
            samesite="strict",
            secure=request.url.scheme == "https",
        )


def check_csrf(data: SessionData | None, sent: object) -> None:
    if data is None or not isinstance(sent, str) or not hmac.compare_digest(data.csrf, sent):
        raise CsrfRefused


class LoginLimiter:
    """Failed logins per (pseudonym, address), in the database, so that every process of the
    desk counts the same failures; only a hash of the pair is stored."""

    def __init__(self, failures: int = MAX_FAILURES, window: float = FAILURE_WINDOW) -> None:
        self.failures, self.window = failures, timedelta(seconds=window)

    @staticmethod
    def _key(name: str, address: str) -> str:
        return hashlib.sha256(f"{name.strip().casefold()}\0{address}".encode()).hexdigest()

    def wait(self, db: Session, name: str, address: str) -> int:
        """Seconds until this pseudonym may try again from this address (0: now)."""
        since = now() - self.window
        times = db.scalars(
            select(LoginFailure.at)
            .where(LoginFailure.key == self._key(name, address), LoginFailure.at > since)
            .order_by(LoginFailure.at)
        ).all()
        if len(times) < self.failures:
            return 0
        return max(1, int((as_utc(times[0]) - since).total_seconds()) + 1)

    def failed(self, db: Session, name: str, address: str) -> None:
        db.add(LoginFailure(key=self._key(name, address), at=now()))
        db.execute(delete(LoginFailure).where(LoginFailure.at < now() - 2 * self.window))
        db.commit()

    def succeeded(self, db: Session, name: str, address: str) -> None:
        db.execute(delete(LoginFailure).where(LoginFailure.key == self._key(name, address)))
        db.commit()
