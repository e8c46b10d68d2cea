"""``veedor scan``: many files, all cores, one database writer, a report line per file.

Crash safety: outcomes are committed in small batches and each batch's report lines are
written only after its commit, so a killed run leaves no half records; re-running skips
what was committed (by SHA-256) and redoes the rest.
"""

from __future__ import annotations

import itertools
import multiprocessing as mp
import os
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import IO

from sqlalchemy.exc import IntegrityError, OperationalError
from sqlalchemy.orm import Session

from veedor.capture.files import InputProblem, iter_input_files, shown_name
from veedor.definitions import DEFAULT_DEFINITION, ElectionDefinition, load_definition
from veedor.model import FileOutcome, Status
from veedor.pipeline.report import outcome_json
from veedor.pipeline.worker import WorkerContext, init_worker, process_file
from veedor.store import Store
from veedor.store.records import known_images, record_outcome
from veedor.store.registry_view import registry_view

BATCH_FILES = 32
BATCH_SECONDS = 2.0


@dataclass
class ScanSummary:
    files: int = 0
    by_status: dict[str, int] = field(default_factory=lambda: {s.value: 0 for s in Status})
    duplicates: int = 0
    seconds: float = 0.0

    def add(self, outcome: FileOutcome) -> None:
        self.files += 1
        self.by_status[outcome.status.value] += 1
        if outcome.duplicate_of:
            self.duplicates += 1


def default_evidence_root(store: Store) -> Path:
    """Beside a SQLite file (``veedor.db`` → ``veedor-evidence/``), else in the current folder."""
    if store.url.startswith("sqlite:///") and ":memory:" not in store.url:
        db_path = Path(store.url.removeprefix("sqlite:///"))
        return db_path.with_name(db_path.stem + "-evidence")
    return Path("veedor-evidence")


def scan_paths(
    paths: Iterable[str | Path],
    store: Store,
    *,
    definition_id: str = DEFAULT_DEFINITION,
    evidence_root: str | Path | None = None,
    workers: int | None = None,
    report: IO[str] | None = None,
    on_total: Callable[[int], None] | None = None,
    on_outcome: Callable[[FileOutcome], None] | None = None,
    cross_check: bool = True,
    on_retry: Callable[[str], None] | None = None,
) -> ScanSummary:
    definition = load_definition(definition_id)
    started = time.perf_counter()
    inputs = list(iter_input_files(paths))
    if on_total:
        on_total(len(inputs))
    with store.session() as session:
        ctx = WorkerContext(
            definition_id=definition_id,
            evidence_root=str(evidence_root or default_evidence_root(store)),
            registry=registry_view(session, definition),
            known=known_images(session),
            cross_check=cross_check,
        )
    summary = ScanSummary()
    files = [p for p in inputs if isinstance(p, str)]
    problems = [
        FileOutcome(p.path, None, Status.REJECTED, p.reason) for p in inputs if isinstance(p, InputProblem)
    ]
    pending: list[FileOutcome] = []
    session = store.session()
    seen_this_run: set[str] = set()
    last_commit = time.perf_counter()

    def flush() -> None:
        nonlocal last_commit
        stored = _commit_batch(session, pending, definition, on_retry)
        for outcome in stored:
            if report is not None:
                report.write(outcome_json(outcome, definition) + "\n")
            summary.add(outcome)
            if on_outcome:
                on_outcome(outcome)
        if report is not None:
            report.flush()
        pending.clear()
        last_commit = time.perf_counter()

    try:
        # A stream, never a list: each batch is committed as it is read, so a kill loses at
        # most the last batch and memory does not grow with the run.
        for outcome in itertools.chain(problems, _run(files, ctx, workers)):
            outcome = replace(outcome, file=shown_name(outcome.file))
            if outcome.sha256 and outcome.sha256 in seen_this_run and not outcome.duplicate_of:
                outcome = replace(outcome, duplicate_of=outcome.sha256)
            if outcome.sha256:
                seen_this_run.add(outcome.sha256)
            pending.append(outcome)
            if len(pending) >= BATCH_FILES or time.perf_counter() - last_commit > BATCH_SECONDS:
                flush()
        flush()
    except BaseException:
        session.rollback()
        raise
    finally:
        session.close()
    summary.seconds = time.perf_counter() - started
    return summary


RETRIES = 6


def _commit_batch(
    session: Session,
    batch: list[FileOutcome],
    definition: ElectionDefinition,
    on_retry: Callable[[str], None] | None,
) -> list[FileOutcome]:
    """Record and commit one batch, whole or not at all. When another scan on the same
    database holds the lock, or stored some of the same images first, the batch is rolled
    back and recorded again: what the other took is then a duplicate, not a crash."""
    for attempt in range(RETRIES):
        try:
            stored = [record_outcome(session, outcome, definition) for outcome in batch]
            session.commit()
            return stored
        except (IntegrityError, OperationalError) as exc:
            session.rollback()
            if attempt == RETRIES - 1 or (
                isinstance(exc, OperationalError) and "locked" not in str(exc) and "busy" not in str(exc)
            ):
                raise
            wait = 0.5 * 2**attempt
            if on_retry:
                on_retry(
                    f"base de datos ocupada por otra operación; reintento en {wait:.1f} s / database "
                    f"busy with another operation; retrying in {wait:.1f} s"
                )
            time.sleep(wait)
    raise AssertionError("unreachable")


def _run(files: list[str], ctx: WorkerContext, workers: int | None) -> Iterator[FileOutcome]:
    n = max(1, min(workers or os.cpu_count() or 1, len(files) or 1))
    if n == 1:
        init_worker(ctx)
        for outcomes in map(process_file, files):
            yield from outcomes
        return
    # forkserver, not fork: a forked child inherits OpenCV's thread pool in whatever state the
    # parent left it, and can hang on its first OpenCV call.
    context = mp.get_context("forkserver")
    context.set_forkserver_preload(["veedor.pipeline.worker"])
    with context.Pool(n, initializer=init_worker, initargs=(ctx,)) as pool:
        for outcomes in pool.imap_unordered(process_file, files, chunksize=2):
            yield from outcomes
