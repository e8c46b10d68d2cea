"""Which scan reads which file: two scans on one database never read the same file twice.

A scan registers itself (host, process, a heartbeat) and claims each file by SHA-256 before
a worker reads it. A file already stored is a duplicate without reading; a file another live
scan claimed is left to it and recorded as a duplicate once it is stored; the claims of a
scan that died (its process gone on this host, or no heartbeat for ``LEASE`` from any host)
are taken over. Claims are released when the scan ends, however it ends.
"""

from __future__ import annotations

import os
import socket
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import timedelta
from functools import partial
from typing import TypeVar

from sqlalchemy import delete, insert, select, update
from sqlalchemy.exc import IntegrityError, OperationalError
from sqlalchemy.orm import Session, sessionmaker

from veedor import __version__
from veedor.store.db import lost_a_race
from veedor.store.records import now
from veedor.store.schema import Image, ScanClaim, ScanRun

LEASE = timedelta(minutes=5)
"""A scan on another host that has not shown a sign of life for this long is taken as dead
(its slowest file takes about a minute; it beats at least every few seconds)."""
CHUNK = 500
T = TypeVar("T")


@dataclass
class Sorted:
    ours: set[str] = field(default_factory=set)
    """Claimed by this scan now: to read."""
    stored: set[str] = field(default_factory=set)
    """Already in the database: duplicates, nothing to read."""
    held: dict[str, str] = field(default_factory=dict)
    """Being read by another live scan: sha → which one, in words."""


class Claims:
    def __init__(self, sessions: sessionmaker[Session]) -> None:
        self.sessions = sessions
        self.host = socket.gethostname()[:255]
        self.run_id = _retrying(lambda s: self._start(s), sessions)
        self.last_beat = time.monotonic()

    def _start(self, session: Session) -> int:
        stamp = now()
        return session.execute(
            insert(ScanRun).returning(ScanRun.id),
            [
                {
                    "started_at": stamp,
                    "heartbeat_at": stamp,
                    "host": self.host,
                    "pid": os.getpid(),
                    "version": __version__,
                }
            ],
        ).scalar_one()

    def sort(self, shas: Iterable[str]) -> Sorted:
        """Claim what nobody is reading; say what is stored and what another scan holds."""
        wanted = sorted(set(shas))
        result = Sorted()
        for i in range(0, len(wanted), CHUNK):
            part = _retrying(partial(self._sort, wanted[i : i + CHUNK]), self.sessions)
            result.ours |= part.ours
            result.stored |= part.stored
            result.held.update(part.held)
        self.last_beat = time.monotonic()
        return result

    def _sort(self, shas: list[str], session: Session) -> Sorted:
        result = Sorted()
        result.stored = set(session.scalars(select(Image.sha256).where(Image.sha256.in_(shas))))
        rest = [s for s in shas if s not in result.stored]
        claims = session.execute(
            select(ScanClaim.sha256, ScanRun).join(ScanRun).where(ScanClaim.sha256.in_(rest))
        ).all()
        alive: dict[int, bool] = {}
        taken_over = []
        for sha, run in claims:
            if run.id == self.run_id:
                result.ours.add(sha)
            elif alive.setdefault(run.id, self._alive(run)):
                result.held[sha] = f"pid {run.pid} @ {run.host}"
            else:
                taken_over.append(sha)
        stamp = now()
        if taken_over:
            session.execute(
                update(ScanClaim)
                .where(ScanClaim.sha256.in_(taken_over))
                .values(run_id=self.run_id, claimed_at=stamp)
            )
        claimed = {sha for sha, _run in claims}
        new = [s for s in rest if s not in claimed]
        if new:
            session.execute(
                insert(ScanClaim), [{"sha256": s, "run_id": self.run_id, "claimed_at": stamp} for s in new]
            )
        result.ours |= set(new) | set(taken_over)
        session.execute(update(ScanRun).where(ScanRun.id == self.run_id).values(heartbeat_at=stamp))
        return result

    def _alive(self, run: ScanRun) -> bool:
        if run.finished_at is not None:
            return False
        if run.host == self.host and not _process_exists(run.pid):
            return False  # killed on this machine: no need to wait out its lease
        beat = run.heartbeat_at if run.heartbeat_at.tzinfo else run.heartbeat_at.replace(tzinfo=now().tzinfo)
        return now() - beat < LEASE

    def beat(self, every: float = 10.0) -> None:
        if time.monotonic() - self.last_beat < every:
            return
        self.last_beat = time.monotonic()
        _retrying(
            lambda s: s.execute(update(ScanRun).where(ScanRun.id == self.run_id).values(heartbeat_at=now())),
            self.sessions,
        )

    def close(self) -> None:
        """Release every claim of this scan (what it stored is in the database now)."""

        def release(session: Session) -> None:
            session.execute(delete(ScanClaim).where(ScanClaim.run_id == self.run_id))
            session.execute(update(ScanRun).where(ScanRun.id == self.run_id).values(finished_at=now()))

        _retrying(release, self.sessions)


def _process_exists(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # someone else's process
    return True


def _retrying(work: Callable[[Session], T], sessions: sessionmaker[Session], tries: int = 8) -> T:
    """One short transaction, again when another scan held the lock or claimed the same file."""
    for attempt in range(tries):
        with sessions() as session:
            try:
                value = work(session)
                session.commit()
                return value
            except (IntegrityError, OperationalError) as exc:
                session.rollback()
                locked = isinstance(exc, IntegrityError) or lost_a_race(exc)
                if attempt == tries - 1 or not locked:
                    raise
        time.sleep(0.05 * 2**attempt)
    raise AssertionError("unreachable")
