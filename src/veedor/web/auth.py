"""Who is asking: a signed, expiring session cookie, a CSRF token per session, and a login
rate limit. Nothing here is stored in the database; a restart with a new secret logs every
browser out."""

from __future__ import annotations

import hashlib
import hmac
import secrets
import threading
import time
from collections import deque
from dataclasses import dataclass, field
from typing import Any

from itsdangerous import BadSignature, URLSafeTimedSerializer
from starlette.requests import Request
from starlette.responses import Response

from veedor.store.schema import User

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
    """Failed logins per (pseudonym, address), in memory: the desk is one process."""

    def __init__(self, failures: int = MAX_FAILURES, window: float = FAILURE_WINDOW) -> None:
        self.failures, self.window = failures, window
        self._seen: dict[tuple[str, str], deque[float]] = {}
        self._lock = threading.Lock()

    def _recent(self, key: tuple[str, str], now: float) -> deque[float]:
        times = self._seen.setdefault(key, deque())
        while times and now - times[0] > self.window:
            times.popleft()
        return times

    def wait(self, name: str, address: str) -> int:
        """Seconds until this pseudonym may try again from this address (0: now)."""
        key, now = (name.strip().casefold(), address), time.monotonic()
        with self._lock:
            times = self._recent(key, now)
            if len(times) < self.failures:
                return 0
            return max(1, int(self.window - (now - times[0])) + 1)

    def failed(self, name: str, address: str) -> None:
        key, now = (name.strip().casefold(), address), time.monotonic()
        with self._lock:
            self._recent(key, now).append(now)

    def succeeded(self, name: str, address: str) -> None:
        with self._lock:
            self._seen.pop((name.strip().casefold(), address), None)
