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
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field, replace
from functools import partial
from pathlib import Path
from queue import Empty, SimpleQueue
from typing import IO

from sqlalchemy import select
from sqlalchemy.orm import Session

from veedor.capture.evidence import file_sha256
from veedor.capture.files import InputProblem, iter_input_files, shown_name
from veedor.capture.images import MAX_FILE_BYTES, looks_like_image
from veedor.definitions import DEFAULT_DEFINITION, ElectionDefinition, load_definition
from veedor.model import FileOutcome, Status
from veedor.pipeline.report import outcome_json
from veedor.pipeline.reuse import ReuseSearch
from veedor.pipeline.worker import WorkerContext, init_worker, process_file
from veedor.store import Store
from veedor.store.claims import Claims
from veedor.store.db import commit_retrying
from veedor.store.records import known_images, mesa_view, record_outcome
from veedor.store.registry_view import registry_view
from veedor.store.schema import ActaRecord, Evidence

BATCH_FILES = 32
BATCH_SECONDS = 2.0

Runner = Callable[
    [Iterable[str], WorkerContext, "int | None", "Claims | None", "Callable[[str], None] | None"],
    Iterator[FileOutcome],
]
"""Reads the claimed files and yields their outcomes as they come: :func:`_run` on this
machine's cores, or a cluster's (:mod:`veedor.pipeline.cluster`)."""


@dataclass
class ScanSummary:
    files: int = 0
    by_status: dict[str, int] = field(default_factory=lambda: {s.value: 0 for s in Status})
    duplicates: int = 0
    seconds: float = 0.0
    skipped: int = 0
    """Files passed over because they are not images (``all_files=False``): counted, never stored."""

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


def announce(
    stored: Iterable[FileOutcome],
    definition: ElectionDefinition,
    summary: ScanSummary,
    report: IO[str] | None,
    on_outcome: Callable[[FileOutcome], None] | None,
) -> None:
    """Tell the report, the summary and the caller about a batch once it is stored (never
    before: a kill must not leave a report line for an outcome the database lacks)."""
    for outcome in stored:
        if report is not None:
            report.write(outcome_json(outcome, definition) + "\n")
        summary.add(outcome)
        if on_outcome:
            on_outcome(outcome)
    if report is not None:
        report.flush()


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
    all_files: bool = True,
    cause: str = "scan",
    adjust: Callable[[FileOutcome], FileOutcome] | None = None,
    runner: Runner | None = None,
) -> ScanSummary:
    """Read ``paths`` and record each outcome. ``cause`` is the channel recorded with each
    decision ("field": a witness's upload); ``adjust``, when given, sees each outcome before it
    is recorded (a channel's own checks and private metadata: see ``pipeline/field.py``)."""
    definition = load_definition(definition_id)
    started = time.perf_counter()
    inputs = list(iter_input_files(paths))
    skipped = 0
    if not all_files:  # a README or a CSV beside the images is not an acta, nor evidence of one
        kept = [p for p in inputs if not isinstance(p, str) or looks_like_image(p)]
        skipped, inputs = len(inputs) - len(kept), kept
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
    summary = ScanSummary(skipped=skipped)
    files = [p for p in inputs if isinstance(p, str)]
    problems = [
        FileOutcome(p.path, None, Status.REJECTED, p.reason) for p in inputs if isinstance(p, InputProblem)
    ]
    pending: list[FileOutcome] = []
    claims = Claims(store.sessions)
    session = store.session()
    seen_this_run: set[str] = set()
    last_commit = time.perf_counter()

    reuse = ReuseSearch(ctx.evidence_root)

    def flush() -> None:
        nonlocal last_commit
        stored = _commit_batch(session, pending, definition, on_retry, cause, reuse)
        announce(stored, definition, summary, report, on_outcome)
        pending.clear()
        last_commit = time.perf_counter()

    try:
        # A stream, never a list: each batch is committed as it is read, so a kill loses at
        # most the last batch and memory does not grow with the run.
        # ``runner``: the files read elsewhere (a cluster, pipeline/cluster.py); by default here.
        run = runner or _run
        for outcome in itertools.chain(problems, run(files, ctx, workers, claims, on_retry)):
            outcome = replace(outcome, file=shown_name(outcome.file))
            if adjust is not None:
                outcome = adjust(outcome)
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
        claims.close()
    summary.seconds = time.perf_counter() - started
    return summary


RETRIES = 6


def _commit_batch(
    session: Session,
    batch: list[FileOutcome],
    definition: ElectionDefinition,
    on_retry: Callable[[str], None] | None,
    cause: str = "scan",
    reuse: ReuseSearch | None = None,
) -> list[FileOutcome]:
    """Record and commit one batch, whole or not at all. When another scan on the same
    database holds the lock, or stored some of the same images first, the batch is rolled
    back and recorded again: what the other took is then a duplicate, not a crash. ``reuse``
    looks for photos passed off as another mesa's in the same transaction."""

    def work() -> list[FileOutcome]:
        stored = [record_outcome(session, outcome, definition, cause=cause) for outcome in batch]
        if reuse is not None and reuse.after_batch(session, stored, definition):
            session.flush()
            stored = [_mesa_now(session, outcome) for outcome in stored]
        return stored

    stored = commit_retrying(session, work, on_retry, RETRIES)
    if reuse is not None:
        reuse.committed()
    return stored


def _mesa_now(session: Session, outcome: FileOutcome) -> FileOutcome:
    """The report's mesa state once a reused photo changed it after the file was stored."""
    if outcome.mesa is None or outcome.copy is None:
        return outcome
    record = session.scalar(
        select(ActaRecord)
        .join(Evidence, Evidence.acta_pk == ActaRecord.id)
        .where(Evidence.sha256 == outcome.sha256)
    )
    if record is None:
        return outcome
    before = outcome.mesa.get("changed_from", outcome.mesa["state"])
    return replace(outcome, mesa=mesa_view(record, before))


TASK_LIMIT = 300.0
"""Seconds a file may be out with a worker. Reading stops itself far sooner (its safety
limit); past this the worker died (killed for memory, a decoder's crash) or hung, and the
file is reported so that the run goes on."""


def _run(
    files: Iterable[str],
    ctx: WorkerContext,
    workers: int | None,
    claims: Claims | None = None,
    on_wait: Callable[[str], None] | None = None,
) -> Iterator[FileOutcome]:
    """Read ``files`` on all cores, yielding outcomes as they come. With ``claims``, each file
    is claimed first: one another scan is reading is left to it and recorded once stored."""
    queue = _Queue(files, claims, on_wait)
    n = max(1, workers or os.cpu_count() or 1)
    if n == 1:
        init_worker(ctx)
        while (item := queue.next_ready(wait=True)) is not None:
            yield from [item] if isinstance(item, FileOutcome) else _guarded(process_file, item)
        return
    # forkserver, not fork: a forked child inherits OpenCV's thread pool in whatever state the
    # parent left it, and can hang on its first OpenCV call.
    context = mp.get_context("forkserver")
    context.set_forkserver_preload(["veedor.pipeline.worker"])
    with context.Pool(n, initializer=init_worker, initargs=(ctx,)) as pool:
        results: SimpleQueue[tuple[str, object]] = SimpleQueue()
        out: dict[str, float] = {}  # path → when it was handed to a worker
        while True:
            while len(out) < 2 * n and (item := queue.next_ready(wait=not out)) is not None:
                if isinstance(item, FileOutcome):
                    yield item
                    continue
                out[item] = time.monotonic()
                deliver = partial(_deliver, results, item)
                pool.apply_async(process_file, (item,), callback=deliver, error_callback=deliver)
            if not out:
                break
            try:
                path, got = results.get(timeout=5.0)
            except Empty:
                if claims:
                    claims.beat()
                for lost in [p for p, t in out.items() if time.monotonic() - t > TASK_LIMIT]:
                    del out[lost]
                    yield _lost(lost)
                continue
            if out.pop(path, None) is None:
                continue  # reported lost already; its late answer is not recorded twice
            yield from [_failed(path, got)] if isinstance(got, BaseException) else got  # type: ignore[misc]


def _deliver(results: SimpleQueue[tuple[str, object]], path: str, got: object) -> None:
    results.put((path, got))  # in the pool's result thread: hand it to the writer's


def _guarded(work: Callable[[str], list[FileOutcome]], path: str) -> list[FileOutcome]:
    try:
        return work(path)
    except Exception as exc:  # one file's surprise is that file's line, not the run's end
        return [_failed(path, exc)]


def _failed(path: str, exc: BaseException) -> FileOutcome:
    return FileOutcome(
        path,
        None,
        Status.REVIEW,
        f"error inesperado al leer este archivo ({type(exc).__name__}: {str(exc)[:200]}); no se guardó: "
        "vuelva a escanearlo, y si se repite, repórtelo con VEEDOR_DEBUG=1 / unexpected error reading "
        "this file; nothing was stored: scan it again, and report it if it happens again",
    )


def _lost(path: str) -> FileOutcome:
    return FileOutcome(
        path,
        None,
        Status.REVIEW,
        f"la lectura no terminó en {TASK_LIMIT:.0f} s (el proceso lector murió, p. ej. sin memoria, o se "
        "colgó); no se guardó: vuelva a escanearlo / reading did not finish (the reader process died, "
        "e.g. out of memory, or hung); nothing was stored: scan it again",
    )


class _Queue:
    """Files in order, each claimed before it is read; files another scan is reading wait at
    the end and become duplicates once it stores them (or are read here if it died)."""

    def __init__(
        self, files: Iterable[str], claims: Claims | None, on_wait: Callable[[str], None] | None
    ) -> None:
        self.files = iter(files)
        self.claims = claims
        self.on_wait = on_wait
        self.last_said = -1e9
        self.ready: deque[str | FileOutcome] = deque()
        self.waiting: dict[str, tuple[str, str]] = {}  # path → (sha256, held by)
        self.last_check = 0.0

    def next_ready(self, wait: bool = False) -> str | FileOutcome | None:
        """The next file to read or outcome to record; None when there is none now (or, with
        ``wait``, none at all: then it waits for files other scans hold)."""
        while not self.ready:
            chunk = list(itertools.islice(self.files, CLAIM_CHUNK))
            if chunk:
                self._sort(chunk)
                continue
            if not self.waiting or self.claims is None:
                return None
            if not wait and time.monotonic() - self.last_check < CLAIM_POLL:
                return None
            if time.monotonic() - self.last_check < CLAIM_POLL:
                time.sleep(CLAIM_POLL)
            self._recheck()
        return self.ready.popleft()

    def _sort(self, chunk: list[str]) -> None:
        if self.claims is None:
            self.ready.extend(chunk)
            return
        hashed = {path: _sha256(path) for path in chunk}
        sorted_ = self.claims.sort(sha for sha in hashed.values() if sha)
        for path, sha in hashed.items():
            if sha is None or sha in sorted_.ours:
                self.ready.append(path)  # unreadable paths go to a worker, which says why
            elif sha in sorted_.stored:
                self.ready.append(FileOutcome(path, sha, Status.REVIEW, None, duplicate_of=sha))
            else:
                self.waiting[path] = (sha, sorted_.held[sha])

    def _recheck(self) -> None:
        assert self.claims is not None
        self.last_check = time.monotonic()
        sorted_ = self.claims.sort(sha for sha, _who in self.waiting.values())
        for path, (sha, _who) in list(self.waiting.items()):
            if sha in sorted_.ours:
                self.ready.append(path)
            elif sha in sorted_.stored:
                self.ready.append(FileOutcome(path, sha, Status.REVIEW, None, duplicate_of=sha))
            else:
                continue
            del self.waiting[path]
        if self.waiting and self.on_wait and time.monotonic() - self.last_said > 30:
            self.last_said = time.monotonic()
            who = sorted({w for _s, w in self.waiting.values()})
            self.on_wait(
                f"{len(self.waiting)} archivos los está leyendo otro escaneo ({', '.join(who)}); se "
                f"registrarán cuando termine / {len(self.waiting)} files are being read by another "
                "scan; they will be recorded when it is done"
            )


CLAIM_CHUNK = 64
CLAIM_POLL = 2.0


def _sha256(path: str) -> str | None:
    """A file's SHA-256 (what it is claimed by), or None when it cannot be read here."""
    try:
        if os.stat(path).st_size > MAX_FILE_BYTES:
            return None
        return file_sha256(path)
    except OSError:
        return None
