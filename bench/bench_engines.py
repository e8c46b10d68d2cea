"""Benchmark: Dask distributed against Ray for veedor's reading tasks, same machine, same run.

What chose the engine (docs/scale.md): for each, a throw-away local cluster of ``--workers``
single-threaded worker processes is started and timed; ``--noop`` empty tasks measure the cost
of one task's round trip; the same rendered actas are read as tasks (each task one file, the
worker's context given once per process, as ``veedor scan --cluster`` does) and the time is given
as a ratio to a plain process pool (``multiprocessing``, today's local scan) reading them in the
same run; and the resident memory of the engine's own processes (scheduler, nannies, raylet, GCS
...) is summed once idle. Ray need not be installed in the project: ``--ray-path`` adds a folder
where it was installed (``pip install --target DIR ray``).

Usage: PYTHONPATH=src python bench/bench_engines.py [--actas 16] [--workers 2] [--ray-path DIR]
"""

from __future__ import annotations

import argparse
import itertools
import multiprocessing as mp
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

import psutil

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_cluster import CpuMeter

ROOT = Path(__file__).resolve().parents[1]
V1 = ROOT / "samples" / "results" / "RESULTADOS_2024_CSV_V1.csv"
DEFINITION = "ve-2024-presidential"
_READY: list[object] = []


def _context(evidence: str):  # type: ignore[no-untyped-def]
    from veedor.pipeline.worker import WorkerContext
    from veedor.verify.checks import RegistryView

    return WorkerContext(DEFINITION, evidence, RegistryView(), frozenset())


def read(path: str, evidence: str) -> str:
    """One task: one file read as a scan's worker reads it (the context set once per process)."""
    from veedor.pipeline.worker import init_worker, process_file

    if not _READY:
        init_worker(_context(evidence))
        _READY.append(True)
    return process_file(path)[0].status.value


def noop(i: int) -> int:
    return i


def pid() -> int:
    return os.getpid()


def engine_memory_mb(exclude: set[int]) -> float:
    """Resident memory of this process's descendants that are not reading workers."""
    me = psutil.Process()
    total = 0
    for child in me.children(recursive=True):
        if child.pid in exclude:
            continue
        try:
            total += child.memory_info().rss
        except psutil.Error:
            continue
    return total / 2**20


def with_pool(images: list[str], workers: int, evidence: str) -> tuple[float, float]:
    """(seconds, CPU seconds of every process) reading ``images`` in a process pool."""
    meter = CpuMeter()
    started = time.perf_counter()
    with mp.get_context("forkserver").Pool(workers) as pool:
        pool.starmap(read, [(p, evidence) for p in images])
    return time.perf_counter() - started, meter.stop()


def with_dask(images: list[str], workers: int, evidence: str, n_noop: int) -> dict[str, float]:
    from distributed import Client

    from veedor.pipeline.cluster import local_cluster

    started = time.perf_counter()
    cluster = local_cluster(workers)  # as veedor scan --cluster local starts it
    client = Client(cluster)
    client.wait_for_workers(workers)
    start_s = time.perf_counter() - started
    t0 = time.perf_counter()
    client.gather([client.submit(noop, i, pure=False) for i in range(n_noop)])
    noop_ms = (time.perf_counter() - t0) * 1000 / n_noop
    worker_pids = set(client.run(os.getpid).values())
    idle_mb = engine_memory_mb(worker_pids)
    meter = CpuMeter()
    t0 = time.perf_counter()
    client.gather([client.submit(read, p, evidence, pure=False) for p in images])
    read_s = time.perf_counter() - t0
    read_cpu = meter.stop()
    client.close()
    cluster.close()
    return {
        "start_s": start_s,
        "noop_ms": noop_ms,
        "engine_mb": idle_mb,
        "read_s": read_s,
        "read_cpu": read_cpu,
    }


def with_ray(
    images: list[str], workers: int, evidence: str, n_noop: int, ray_path: str | None
) -> dict[str, float]:
    if ray_path:
        sys.path.append(ray_path)
        os.environ["PYTHONPATH"] = os.pathsep.join([*sys.path[:1], str(ROOT / "src"), ray_path])
    import ray

    started = time.perf_counter()
    ray.init(num_cpus=workers, include_dashboard=False, log_to_driver=False, logging_level="ERROR")
    remote_noop = ray.remote(num_cpus=1)(noop)
    remote_read = ray.remote(num_cpus=1, max_retries=3)(read)
    ray.get([remote_noop.remote(i) for i in range(workers)])  # the workers up, as Dask's are
    start_s = time.perf_counter() - started
    t0 = time.perf_counter()
    ray.get([remote_noop.remote(i) for i in range(n_noop)])
    noop_ms = (time.perf_counter() - t0) * 1000 / n_noop
    worker_pids = set(ray.get([ray.remote(num_cpus=1)(pid).remote() for _ in range(4 * workers)]))
    idle_mb = engine_memory_mb(worker_pids)
    meter = CpuMeter()
    t0 = time.perf_counter()
    ray.get([remote_read.remote(p, evidence) for p in images])
    read_s = time.perf_counter() - t0
    read_cpu = meter.stop()
    ray.shutdown()
    return {
        "start_s": start_s,
        "noop_ms": noop_ms,
        "engine_mb": idle_mb,
        "read_s": read_s,
        "read_cpu": read_cpu,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--actas", type=int, default=16)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--noop", type=int, default=500)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--ray-path", default=None)
    args = parser.parse_args()

    from veedor.definitions import load_definition
    from veedor.simulate.generate import SimOptions, simulate
    from veedor.simulate.tables import read_table

    with tempfile.TemporaryDirectory() as tmp:
        specs = list(itertools.islice(read_table(V1, load_definition(DEFINITION)), args.actas))
        simulate(specs, SimOptions(out=f"{tmp}/img", profile="mixed"), workers=2)
        images = sorted(str(p) for p in Path(f"{tmp}/img").glob("*.jpg"))
        evidence = f"{tmp}/ev"
        pool, dask, ray = [], [], []
        for _ in range(args.rounds):
            pool.append(with_pool(images, args.workers, evidence))
            dask.append(with_dask(images, args.workers, evidence, args.noop))
            pool.append(with_pool(images, args.workers, evidence))
            ray.append(with_ray(images, args.workers, evidence, args.noop, args.ray_path))
        base = statistics.median(p[0] for p in pool)
        base_cpu = statistics.median(p[1] for p in pool)
        print(
            f"{len(images)} rendered actas (mixed), {args.workers} worker processes, {args.rounds} rounds (medians)"
        )
        print(f"process pool (today's local scan): {base:.1f} s reading, {base_cpu:.1f} CPU s")
        print(
            f"{'engine':8} {'start s':>8} {'task ms':>8} {'engine MB':>9} {'read s':>7} {'ratio':>6} "
            f"{'read CPU s':>10} {'ratio':>6}"
        )
        for name, runs in (("dask", dask), ("ray", ray)):
            m = {k: statistics.median(r[k] for r in runs) for k in runs[0]}
            print(
                f"{name:8} {m['start_s']:8.1f} {m['noop_ms']:8.2f} {m['engine_mb']:9.0f} {m['read_s']:7.1f} "
                f"{m['read_s'] / base:6.2f} {m['read_cpu']:10.1f} {m['read_cpu'] / base_cpu:6.2f}"
            )


if __name__ == "__main__":
    main()
