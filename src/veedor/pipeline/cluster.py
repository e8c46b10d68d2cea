"""Reading on a cluster: each image read as a task of Dask distributed, recorded here alone.

``veedor scan --cluster ADDRESS`` hands the reading (about a second of CPU per acta) to the
workers of a Dask scheduler, on as many machines as there are; ``--cluster local`` starts a
throw-away cluster of ``-w`` processes on this machine (what the tests and benchmarks use).
Why Dask and not Ray, measured: docs/scale.md.

The command that started the scan stays the only writer of record, exactly as a local scan:
it lists the files, claims each by SHA-256 in the database (:mod:`veedor.store.claims`), puts
its bytes in the evidence store (content-addressed, so idempotent), and submits a task that
names the image by its SHA-256. A worker reads the image from the evidence store, which is
shared storage all machines mount at the same path (a folder; see docs/scale.md), and returns
plain data; the outcomes are committed here in the same batches as a local scan's.

A worker that dies mid-task loses nothing: nothing it did was recorded, the scheduler runs its
task again on another worker, and the image is recorded once, when an answer arrives (the
evidence it wrote is the same bytes under the same name). The command says when readers come
and go, and a file whose reading killed its worker again and again is reported, not retried
for ever.
"""

from __future__ import annotations

import contextlib
import hashlib
import logging
import os
import socket
import time
import uuid
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, replace
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Any

from veedor.capture.evidence import EvidenceStore
from veedor.capture.images import MAX_FILE_BYTES
from veedor.model import FileOutcome, Status
from veedor.pipeline.scan import Runner, _failed, _guarded, _Queue
from veedor.pipeline.worker import WorkerContext, init_worker, process_file
from veedor.store.claims import Claims

try:  # the extra "cluster"; without it, cluster_runner says how to install it
    from distributed import WorkerPlugin
except ImportError:  # pragma: no cover
    WorkerPlugin = object  # type: ignore[assignment,misc]

if TYPE_CHECKING:
    from distributed import Client, Future

ENGINE = "Dask distributed"
LOCAL = "local"
POLL_S = 5.0
"""How often the command looks at the cluster (its readers, its heartbeat) while it waits."""
CONNECT_S = 20.0
"""How long the command keeps trying to reach a scheduler (a refused connection is retried)."""
NO_READERS_S = 30.0
"""How long without any reader before the command says so (and again each time after)."""


class ClusterError(Exception):
    """The cluster cannot be used (not reachable, not installed, storage not shared): the
    message says why and what to do. Nothing half-written: what was stored stays stored."""


class EvidenceNotShared(Exception):
    """Raised on a worker that cannot see the evidence store the command wrote to."""


# -- on the workers ---------------------------------------------------------------------------

_CONTEXTS: dict[str, WorkerContext] = {}
_ACTIVE: list[WorkerContext] = []  # the context init_worker was last given in this process


class ScanContext(WorkerPlugin):
    """Gives every worker, and every one that joins later (a restarted one too), the scan's
    context before its first task. Pickled by reference: this module is on every worker."""

    def __init__(self, name: str, ctx: WorkerContext) -> None:
        self.name = name
        self.ctx = ctx

    def setup(self, worker: Any) -> None:
        _CONTEXTS[self.name] = self.ctx
        _activate(self.ctx)  # before the first task, as a local pool's initializer does

    def teardown(self, worker: Any) -> None:
        _CONTEXTS.pop(self.name, None)


class QuietLogs(WorkerPlugin):
    """Keeps a throw-away local cluster's workers from printing Dask's own log records (with
    their tracebacks) on the command's terminal: a worker whose heartbeat meets a scheduler
    already closing logs one, and the scan reports what matters itself (readers coming and
    going, a file that killed its reader). A restarted worker gets it again."""

    def setup(self, worker: Any) -> None:
        logging.getLogger("distributed").setLevel(logging.CRITICAL)


def _activate(ctx: WorkerContext) -> None:
    if not _ACTIVE or _ACTIVE[0] is not ctx:
        init_worker(ctx)
        _ACTIVE[:] = [ctx]


def read_image(scan: str, sha: str, name: str) -> list[FileOutcome]:
    """The task: read the image ``sha`` from the shared evidence store, as a local scan's
    worker reads a file; its outcomes carry the command's name for it (``name``)."""
    ctx = _CONTEXTS.get(scan)
    if ctx is None:
        raise ClusterError(f"this worker has no context for the scan {scan}")
    _activate(ctx)
    path = str(EvidenceStore(ctx.evidence_root).path_for(sha))
    if not os.path.isfile(path):
        raise EvidenceNotShared(
            f"el lector {socket.gethostname()} no ve la carpeta de evidencia {ctx.evidence_root} / "
            f"the reader on {socket.gethostname()} cannot see the evidence folder {ctx.evidence_root}"
        )
    # The evidence file's name, and the pages' "#page=N" after it, become the command's name.
    return [replace(o, file=name + o.file[len(path) :]) for o in process_file(path)]


# -- in the command ---------------------------------------------------------------------------


@contextmanager
def cluster_runner(
    address: str, workers: int | None = None, connect_s: float = CONNECT_S
) -> Iterator[Runner]:
    """A :data:`~veedor.pipeline.scan.Runner` that reads on the Dask cluster at ``address``
    (``tcp://host:8786``), or on a throw-away local one (``"local"``, ``workers`` processes);
    a scheduler that does not answer within ``connect_s`` seconds is an error."""
    if WorkerPlugin is object:
        raise ClusterError(
            "falta el motor de clúster: pip install 'veedor[cluster]' / the cluster engine is not "
            "installed: pip install 'veedor[cluster]'"
        )
    from distributed import Client

    cluster = None
    try:
        if address == LOCAL:
            cluster = local_cluster(workers)
            client = Client(cluster)
            client.register_plugin(QuietLogs(), name="veedor-quiet-logs")
        else:
            client = Client(address, timeout=f"{connect_s}s")
    except (OSError, TimeoutError, ValueError) as exc:
        if cluster is not None:
            cluster.close()
        raise ClusterError(
            f"no se pudo conectar con el clúster {address} ({exc}); compruebe la dirección del "
            f"planificador (dask scheduler) / cannot reach the cluster {address}: check the "
            "scheduler's address"
        ) from exc
    with _quiet_client_logs():
        try:
            yield partial(_run_on, client)
        finally:
            client.close()
            if cluster is not None:
                cluster.close()


@contextmanager
def _quiet_client_logs() -> Iterator[None]:
    """Dask's log records in this process (a lost connection, a worker gone, with tracebacks)
    stay off the terminal while the scan runs: the scan says those things in words."""
    handlers = [h for h in logging.getLogger("distributed").handlers if isinstance(h, logging.StreamHandler)]
    levels = [h.level for h in handlers]
    for handler in handlers:
        handler.setLevel(logging.CRITICAL)
    try:
        yield
    finally:
        for handler, level in zip(handlers, levels, strict=True):
            handler.setLevel(level)


LOCAL_CONFIG: dict[str, Any] = {
    # What a nanny sets in its worker's environment before starting it: nothing. Dask's
    # default includes MALLOC_TRIM_THRESHOLD_=65536, which gives memory back to the system at
    # nearly every free: reading allocates and frees large images, and it cost 20-25% more CPU
    # per acta here (docs/scale.md). A worker then runs as a local scan's does.
    "distributed.nanny.pre-spawn-environ": {},
    # Dask's own housekeeping, less often: an idle local cluster of two workers spent 11% of a
    # core on it with the defaults (a tick every 20 ms in every process, memory every 100 ms),
    # 7.5% with these. Tasks here take a second; these only delay noticing a worker's memory.
    "distributed.admin.tick.interval": "1s",
    "distributed.worker.memory.monitor-interval": "1s",
    "distributed.admin.system-monitor.interval": "2s",
}


def local_cluster(workers: int | None = None) -> Any:
    """A throw-away Dask cluster on this machine: ``workers`` single-threaded processes (one
    reading per process, as a local scan's pool), reachable from this machine only."""
    import dask
    from distributed import LocalCluster

    with dask.config.set(LOCAL_CONFIG):
        return LocalCluster(
            n_workers=max(1, workers or os.cpu_count() or 1),
            threads_per_worker=1,
            processes=True,
            host="127.0.0.1",
            dashboard_address=":0",  # never a fixed port another program may hold
            scheduler_kwargs={"dashboard": False},
            silence_logs=logging.CRITICAL,  # the nannies' records; QuietLogs the workers'
        )


@dataclass
class _Done:
    """What one image's task gave: its outcomes' SHA-256 and page suffixes, so that a second
    name of the same bytes is recorded as a duplicate of each without reading again."""

    parts: list[tuple[str, str | None]]  # (suffix after the name, sha256)


def _run_on(
    client: Client,
    files: Iterable[str],
    ctx: WorkerContext,
    workers: int | None,
    claims: Claims | None = None,
    on_wait: Callable[[str], None] | None = None,
) -> Iterator[FileOutcome]:
    from distributed import wait

    # Every machine must find the evidence at the same path; and with claims, what is stored
    # already never reaches a worker, so the list of known images stays here.
    ctx = replace(
        ctx,
        evidence_root=str(Path(ctx.evidence_root).resolve()),
        known=frozenset() if claims is not None else ctx.known,
    )
    scan = f"veedor-scan-{uuid.uuid4().hex[:12]}"
    client.register_plugin(ScanContext(scan, ctx), name=scan)
    evidence = EvidenceStore(ctx.evidence_root)
    queue = _Queue(files, claims, on_wait)
    watch = _Watch(client, on_wait)
    out: dict[Future[list[FileOutcome]], tuple[str, str]] = {}  # task → (name, sha256)
    in_flight: dict[str, list[str]] = {}  # sha256 → other names waiting for its answer
    done: dict[str, _Done] = {}
    here = False  # init_worker() called in this process, for files unreadable here
    try:
        while True:
            while len(out) < watch.capacity() and (item := queue.next_ready(wait=not out)) is not None:
                if isinstance(item, FileOutcome):
                    yield item
                    continue
                try:
                    sha = _stage(item, evidence)
                except OSError as exc:
                    yield _failed(item, exc)  # the evidence store refused it: nothing stored
                    continue
                if sha is None:  # too large, or unreadable here: no reading, only the reason
                    if not here:
                        init_worker(ctx)
                        here = True
                    yield from _guarded(process_file, item)
                elif sha in done:
                    yield from _again(item, done[sha])
                elif sha in in_flight:
                    in_flight[sha].append(item)
                else:
                    future = client.submit(read_image, scan, sha, item, key=f"{scan}-{sha}", pure=False)
                    out[future] = (item, sha)
                    in_flight[sha] = []
            if not out:
                break
            try:
                # Dask's wait() runs on the process's default client's event loop: with another
                # client in this process (a program using veedor as a library, the tests' own)
                # the futures' events were bound to that loop, and a result lost with its worker
                # then failed to be fetched again ("bound to a different event loop").
                with client.as_current():
                    finished, _pending = wait(list(out), timeout=POLL_S, return_when="FIRST_COMPLETED")
            except TimeoutError:
                finished = set()
            watch.look()
            if claims is not None:
                claims.beat()
            for future in finished:
                name, sha = out.pop(future)
                outcomes = _answer(future, name)
                future.release()
                yield from outcomes
                done[sha] = _Done([(o.file[len(name) :], o.sha256) for o in outcomes])
                for other in in_flight.pop(sha, []):
                    yield from _again(other, done[sha])
    finally:
        for future in out:
            future.cancel()
        with contextlib.suppress(Exception):  # a cluster gone away has nothing left to forget
            client.unregister_worker_plugin(scan)


def _stage(path: str, evidence: EvidenceStore) -> str | None:
    """Put the file's bytes in the shared evidence store; its SHA-256, or None when it cannot
    be read here (a worker would say why: it is said here, without a cluster round trip)."""
    try:
        if os.stat(path).st_size > MAX_FILE_BYTES:
            return None
        with open(path, "rb") as handle:
            data = handle.read()
    except OSError:
        return None
    sha = hashlib.sha256(data).hexdigest()
    evidence.put(data, sha)
    return sha


def _answer(future: Future[list[FileOutcome]], name: str) -> list[FileOutcome]:
    from distributed import KilledWorker

    try:
        return future.result()
    except KilledWorker:
        return [_killed(name)]
    except EvidenceNotShared as exc:
        raise ClusterError(
            f"{exc}. Monte la misma carpeta, en la misma ruta, en cada máquina (o use --evidence) / "
            "mount the same folder at the same path on every machine (or choose it with --evidence)"
        ) from exc
    except Exception as exc:  # one file's surprise is that file's line, not the run's end
        return [_failed(name, exc)]


def _again(name: str, done: _Done) -> list[FileOutcome]:
    """A second name of bytes read in this run: a duplicate of each image they gave."""
    if not done.parts or any(sha is None for _suffix, sha in done.parts):
        return [_failed(name, RuntimeError("its first name's reading failed"))]
    return [
        FileOutcome(name + suffix, sha, Status.REVIEW, None, duplicate_of=sha) for suffix, sha in done.parts
    ]


def _killed(name: str) -> FileOutcome:
    return FileOutcome(
        name,
        None,
        Status.REVIEW,
        "su lectura terminó con el proceso lector varias veces (p. ej. sin memoria); no se guardó: "
        "vuelva a escanearlo / reading it ended its reader process several times (e.g. out of "
        "memory); nothing was stored: scan it again",
    )


class _Watch:
    """The cluster as the command sees it: how many readers, said when it changes."""

    def __init__(self, client: Client, on_wait: Callable[[str], None] | None) -> None:
        self.client = client
        self.on_wait = on_wait
        self.readers = -1
        self.threads = 1
        self.last_look = 0.0
        self.alone_since: float | None = None
        self.look(force=True)
        self._check_environment()

    def _check_environment(self) -> None:
        """Say when the workers run with Dask's memory trimming, which slows reading."""
        try:
            trims = self.client.run(os.environ.get, "MALLOC_TRIM_THRESHOLD_")
        except Exception:  # a worker busy or gone: this is advice, not a condition
            return
        if any(value is not None for value in trims.values()):
            self._say(
                "los lectores devuelven memoria en cada liberación (MALLOC_TRIM_THRESHOLD_ de Dask), "
                "lo que hace la lectura ~20 % más lenta: véase docs/scale.md / the readers trim memory "
                "at every free (Dask's MALLOC_TRIM_THRESHOLD_), about 20% slower reading: see "
                "docs/scale.md"
            )

    def capacity(self) -> int:
        """Tasks to keep submitted: two per reader thread, so none waits for the next."""
        return max(2, 2 * self.threads)

    def look(self, force: bool = False) -> None:
        if not force and time.monotonic() - self.last_look < POLL_S:
            return
        self.last_look = time.monotonic()
        try:
            workers = self.client.scheduler_info(n_workers=-1).get("workers", {})
        except Exception:  # the scheduler is busy or reconnecting: look again next time
            return
        readers = len(workers)
        self.threads = sum(int(w.get("nthreads", 1)) for w in workers.values()) or 1
        if readers != self.readers and self.readers >= 0:
            if readers < self.readers:
                self._say(
                    f"el clúster perdió lectores ({self.readers} → {readers}); sus archivos se leen de "
                    f"nuevo en otro, nada se pierde ni se cuenta dos veces / the cluster lost readers "
                    f"({self.readers} → {readers}); their files are read again elsewhere"
                )
            else:
                self._say(f"lectores en el clúster: {readers} / readers in the cluster: {readers}")
        self.readers = readers
        if readers:
            self.alone_since = None
        elif self.alone_since is None:
            self.alone_since = time.monotonic()
        elif time.monotonic() - self.alone_since > NO_READERS_S:
            self.alone_since = time.monotonic()
            self._say(
                "ningún lector conectado al clúster: inicie uno en cada máquina con dask worker "
                "DIRECCIÓN --nthreads 1 / no reader connected to the cluster: start one on each "
                "machine with dask worker ADDRESS --nthreads 1"
            )

    def _say(self, message: str) -> None:
        if self.on_wait:
            self.on_wait(message)
