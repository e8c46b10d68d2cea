"""Witnesses' photos into the pipeline: each queued upload is read exactly like a scanned file
(:func:`veedor.pipeline.scan.scan_paths` on its bytes in the evidence store), recorded with the
channel ``field``, the time the phone says it was taken and the time it arrived (private
metadata), and checked against the centres its invite code was issued for.

A photo of a centre outside the code's scope is kept and read, but it is not allowed to settle
a mesa on its own: its decision is ``review`` and its copy is graded ``partial`` (evidence for a
person, never a claim), with the reason.
"""

from __future__ import annotations

import sys
import time
from dataclasses import dataclass, replace
from datetime import datetime
from pathlib import Path
from threading import Event
from typing import Any

from veedor.capture.evidence import EvidenceStore
from veedor.model import CheckResult, FileOutcome, Grade, ImageFacts, Status
from veedor.pipeline.scan import scan_paths
from veedor.store import Store
from veedor.store.field import in_scope, mark_read, queued, scope_of

CHANNEL = "field"
SCOPE_CHECK = "field_scope"
OUT_OF_SCOPE = (
    "enviada con un código de testigo emitido para otros centros; una persona debe mirarla / "
    "sent with a witness code issued for other centres; a person must look at it"
)


@dataclass(frozen=True)
class Received:
    """What the server knows of one upload besides its bytes (private)."""

    sha256: str
    scope: tuple[str, ...]
    taken_at: datetime | None
    received_at: datetime
    location: dict[str, Any] | None = None


def field_outcome(outcome: FileOutcome, received: Received | None) -> FileOutcome:
    """A witness's photo as read, with the field's own check and metadata (pure)."""
    if received is None or outcome.sha256 is None or outcome.duplicate_of:
        return outcome
    metadata: dict[str, Any] = {
        **(outcome.facts.metadata if outcome.facts else {}),
        "channel": CHANNEL,
        "received_at": received.received_at.isoformat(),
    }
    if received.taken_at is not None:
        metadata["taken_at"] = received.taken_at.isoformat()
    if received.location:
        metadata["field_location"] = received.location
    facts = outcome.facts or ImageFacts(outcome.sha256, 0, None)
    adjusted = replace(outcome, file=f"{CHANNEL}:{outcome.sha256}", facts=replace(facts, metadata=metadata))
    copy = outcome.copy
    scoped = in_scope(received.scope, copy.centre if copy else None)
    if scoped is None:
        return adjusted
    if scoped:
        return replace(adjusted, checks=(*adjusted.checks, CheckResult(SCOPE_CHECK, True, "")))
    assert copy is not None
    grade = Grade.PARTIAL if copy.grade in (Grade.CONFIRMED, Grade.QR_ONLY) else copy.grade
    return replace(
        adjusted,
        status=Status.REVIEW if outcome.status is Status.OK else outcome.status,
        reason=_both(outcome.reason, OUT_OF_SCOPE) if outcome.status is not Status.OK else OUT_OF_SCOPE,
        checks=(*adjusted.checks, CheckResult(SCOPE_CHECK, False, OUT_OF_SCOPE)),
        copy=replace(copy, grade=grade),
    )


def _both(first: str | None, then: str) -> str:
    """Two reasons written "español / English" as one, each language with its own."""
    if not first:
        return then
    es1, _, en1 = first.partition(" / ")
    es2, _, en2 = then.partition(" / ")
    return f"{es1}; {es2} / {en1 or es1}; {en2}"


def read_queued(
    store: Store,
    definition_id: str,
    evidence_root: str | Path,
    *,
    workers: int = 1,
    batch: int = 256,
) -> list[FileOutcome]:
    """Read the photos waiting (up to ``batch``) and record each; returns their outcomes."""
    evidence = EvidenceStore(evidence_root)
    with store.session() as session:
        rows = queued(session, batch)
        scopes = scope_of(session, {row.invite_id for row in rows})
        received = {
            row.sha256: Received(
                row.sha256, tuple(scopes.get(row.invite_id, ())), row.taken_at, row.received_at, row.location
            )
            for row in rows
        }
    if not received:
        return []
    paths = {str(evidence.path_for(sha)): sha for sha in received}
    outcomes: list[FileOutcome] = []

    def read(outcome: FileOutcome) -> None:
        # Called once its batch is committed: the upload is marked read with it, not at the end
        # of the whole call (coordinators see the queue go down as it is read).
        outcomes.append(outcome)
        sha = outcome.sha256 or paths.get(outcome.file)
        if sha is None or sha not in received:
            return
        centre = outcome.copy.centre if outcome.copy else (outcome.mesa or {}).get("centro")
        with store.session() as session:
            mark_read(session, sha, outcome.status.value, centre, in_scope(received[sha].scope, centre))
            session.commit()

    scan_paths(
        list(paths),
        store,
        definition_id=definition_id,
        evidence_root=evidence_root,
        workers=workers,
        cause=CHANNEL,
        adjust=lambda outcome: field_outcome(outcome, received.get(outcome.sha256 or "")),
        on_outcome=read,
    )
    return outcomes


def follow(
    store: Store,
    definition_id: str,
    evidence_root: str | Path,
    *,
    workers: int,
    stop: Event,
    every: float = 2.0,
) -> None:
    """Read uploads as they arrive until ``stop`` is set (``veedor field``'s reader)."""
    while not stop.is_set():
        started = time.monotonic()
        try:
            done = read_queued(store, definition_id, evidence_root, workers=workers)
        except Exception as exc:  # a failed batch is read again on the next turn; the reader goes on
            print(
                f"veedor field: reading failed ({type(exc).__name__}: {str(exc)[:200]}); retrying",
                file=sys.stderr,
            )
            done = []
        if not done:
            stop.wait(max(0.0, every - (time.monotonic() - started)))


def reader_process(url: str, definition_id: str, evidence_root: str, workers: int, stop: Event) -> None:
    """``veedor field``'s reader, in a process of its own (so that reading never slows the
    answers to the phones): until ``stop`` is set."""
    from veedor.store import open_store

    store = open_store(url, migrate=False)
    try:
        follow(store, definition_id, evidence_root, workers=workers, stop=stop)
    except KeyboardInterrupt:
        pass
    finally:
        store.engine.dispose()
