"""Benchmark: reading on the cluster engine (Dask distributed) against a local ``veedor scan``
of the same files, in the same run; the single writer's capacity; and a projection of the
reading machines an election night needs.

Rendered mesas (``--profile mixed``: scanner, phone and fax-like copies, full reading: QR and
print cross-check) are scanned, for 1 and 2 worker processes, by

- ``local``: ``scan_paths(workers=W)``, today's scan (a process pool on this machine);
- ``cluster``: ``scan_paths`` through ``cluster_runner("local", W)``, a throw-away Dask cluster of
  W worker processes, its start included (what ``veedor scan --cluster local -w W`` costs), and
  the reading alone on a cluster already up (what a standing cluster costs per file).

Each pair runs in alternating order for ``--rounds`` rounds; medians are printed with the ratio
cluster / local (the engine's overhead; the target is ≤ 1.1). The outcomes of both are compared
image by image (they must be the same).

Then the writer (the one process that records every outcome) is timed alone, replaying the
outcomes into a fresh database (SQLite, and PostgreSQL with ``--url``), with the command's own
work per file on a cluster (hashing it and putting it in the shared evidence store): the writer
must keep up with every reader together.

Usage: PYTHONPATH=src python bench/bench_cluster.py [--mesas 40] [--rounds 2] [--url postgresql+psycopg://...]
"""

from __future__ import annotations

import argparse
import hashlib
import itertools
import json
import os
import statistics
import tempfile
import threading
import time
from collections.abc import Iterator
from math import ceil
from pathlib import Path

import psutil

from veedor.capture.evidence import EvidenceStore, remove_store
from veedor.definitions import load_definition
from veedor.model import FileOutcome
from veedor.pipeline.cluster import _stage, cluster_runner
from veedor.pipeline.scan import Runner, _run, scan_paths
from veedor.simulate.generate import SimOptions, simulate
from veedor.simulate.tables import read_table
from veedor.store import open_store

ROOT = Path(__file__).resolve().parents[1]
V1 = ROOT / "samples" / "results" / "RESULTADOS_2024_CSV_V1.csv"
DEFINITION = "ve-2024-presidential"


def render(n: int, out: Path, profile: str, seed: int) -> list[str]:
    definition = load_definition(DEFINITION)
    specs = list(itertools.islice(read_table(V1, definition, seed), n))
    opts = SimOptions(out=str(out), definition_id=DEFINITION, profile=profile, seed=seed)
    simulate(specs, opts, workers=2)
    return sorted(str(p) for p in out.glob(f"*.{opts.image_format}"))


def outcomes_of(store) -> dict[str, tuple[object, ...]]:
    from sqlalchemy import select

    from veedor.store.schema import Evidence, Image

    with store.session() as session:
        grades = {e.sha256: (e.grade, e.votes, e.nulos) for e in session.scalars(select(Evidence))}
        return {i.sha256: (i.status, i.reason, grades.get(i.sha256)) for i in session.scalars(select(Image))}


class CpuMeter:
    """CPU seconds of this process and every process it starts (pool or cluster workers, the
    engine's nannies), sampled every 0.2 s: on a shared machine CPU time is steadier than the
    wall clock, which other people's work stretches."""

    def __init__(self) -> None:
        self.base = self._sample()
        self.last = dict(self.base)
        self.done = threading.Event()
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    @staticmethod
    def _sample() -> dict[int, float]:
        me = psutil.Process()
        seen = {}
        for proc in [me, *me.children(recursive=True)]:
            try:
                times = proc.cpu_times()
            except psutil.Error:
                continue
            seen[proc.pid] = times.user + times.system
        return seen

    def _run(self) -> None:
        while not self.done.wait(0.2):
            self.last.update(self._sample())

    def stop(self) -> float:
        self.last.update(self._sample())
        self.done.set()
        self.thread.join()
        return sum(t - self.base.get(pid, 0.0) for pid, t in self.last.items())


def local_scan(
    images: list[str], workers: int, work: Path
) -> tuple[tuple[float, ...], dict[str, tuple[object, ...]]]:
    """((seconds, CPU seconds of every process), outcomes)."""
    store = open_store(str(work / "local.db"))
    meter = CpuMeter()
    started = time.perf_counter()
    scan_paths(images, store, definition_id=DEFINITION, evidence_root=work / "ev-local", workers=workers)
    seconds = time.perf_counter() - started
    cpu = meter.stop()
    result = outcomes_of(store)
    store.engine.dispose()
    return (seconds, cpu), result


def cluster_scan(
    images: list[str], workers: int, work: Path
) -> tuple[tuple[float, ...], dict[str, tuple[object, ...]]]:
    """((seconds with the cluster's start, seconds reading on it once up, CPU seconds of every
    process, the cluster's start included), outcomes)."""
    store = open_store(str(work / "cluster.db"))
    meter = CpuMeter()
    started = time.perf_counter()
    with cluster_runner("local", workers) as runner:
        up = time.perf_counter()
        scan_paths(images, store, definition_id=DEFINITION, evidence_root=work / "ev-cluster", runner=runner)
        reading = time.perf_counter() - up
    total = time.perf_counter() - started
    cpu = meter.stop()
    result = outcomes_of(store)
    store.engine.dispose()
    return (total, reading, cpu), result


def fixed_costs(root: Path) -> dict[int, tuple[float, float]]:
    """CPU seconds of a scan of no file, local and on a throw-away cluster, per worker count:
    what each pays once (a pool's start; a cluster's start, its workers' imports and the
    scan's context), whatever the number of actas."""
    costs = {}
    for workers in (1, 2):
        for kind in ("local", "cluster"):
            (root / f"empty-{kind}-{workers}").mkdir(parents=True)
        (_s, local_cpu), _r = local_scan([], workers, root / f"empty-local-{workers}")
        (_t, _u, cluster_cpu), _r = cluster_scan([], workers, root / f"empty-cluster-{workers}")
        costs[workers] = (local_cpu, cluster_cpu)
    return costs


def recorded(images: list[str], workers: int) -> list[FileOutcome]:
    """The outcomes a scan records, as the readers give them (to replay into the writer)."""
    with tempfile.TemporaryDirectory() as tmp:
        got: list[FileOutcome] = []

        def keep(files, ctx, w, claims, on_wait) -> Iterator[FileOutcome]:  # type: ignore[no-untyped-def]
            for outcome in _run(files, ctx, w, claims, on_wait):
                got.append(outcome)
                yield outcome

        scan_paths(
            images,
            open_store(f"{tmp}/v.db"),
            definition_id=DEFINITION,
            evidence_root=f"{tmp}/ev",
            workers=workers,
            runner=keep,
        )
        return got


def replicated(outcomes: list[FileOutcome], times: int) -> list[FileOutcome]:
    """``times`` copies of each outcome as other images of other mesas (new SHA-256, the mesa
    number moved by 1000 a copy): a night's worth of records from a few readings."""
    from dataclasses import replace

    out = []
    for i in range(times):
        for outcome in outcomes:
            if outcome.sha256 is None:
                continue
            sha = hashlib.sha256(f"{outcome.sha256}/{i}".encode()).hexdigest()
            copy = replace(outcome.copy, mesa=outcome.copy.mesa + 1000 * i) if outcome.copy else None
            acta = replace(outcome.acta, mesa=outcome.acta.mesa + 1000 * i) if outcome.acta else None
            facts = replace(outcome.facts, sha256=sha) if outcome.facts else None
            out.append(
                replace(outcome, sha256=sha, facts=facts, copy=copy, acta=acta, file=f"{outcome.file}/{i}")
            )
    return out


def writer_seconds(outcomes: list[FileOutcome], images: list[str], url: str) -> float:
    """The writer alone: the same outcomes recorded into a fresh database, no reading."""

    def replay(files, ctx, w, claims, on_wait) -> Iterator[FileOutcome]:  # type: ignore[no-untyped-def]
        yield from outcomes

    runner: Runner = replay
    store = open_store(url)
    with tempfile.TemporaryDirectory() as tmp:
        started = time.perf_counter()
        scan_paths(images, store, definition_id=DEFINITION, evidence_root=tmp, runner=runner)
        seconds = time.perf_counter() - started
    store.engine.dispose()
    return seconds


def staging_ms(images: list[str]) -> float:
    """The command's own work per file on a cluster: hash it, put it in the shared store."""
    with tempfile.TemporaryDirectory() as tmp:
        store = EvidenceStore(Path(tmp) / "ev")
        started = time.perf_counter()
        for path in images:
            _stage(path, store)
        seconds = time.perf_counter() - started
        remove_store(Path(tmp) / "ev")
    return seconds * 1000 / len(images)


def fresh_pg(url: str) -> str:
    from sqlalchemy import create_engine, text
    from sqlalchemy.engine import make_url

    name = f"veedor_bench_cluster_{os.getpid()}"
    admin = create_engine(url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
        conn.execute(text(f"CREATE DATABASE {name}"))
    admin.dispose()
    return make_url(url).set(database=name).render_as_string(hide_password=False)


def writer_figures(images: list[str], root: Path, url: str | None) -> tuple[dict[str, float], float]:
    """The writer's outcomes per second (SQLite; PostgreSQL with ``url``) and the command's
    staging per file, printed."""
    outcomes = replicated(recorded(images[: min(len(images), 40)], 2), max(1, 400 // len(images)))
    shown: list[str] = []  # the replay yields the outcomes; no file is listed
    writers = {"SQLite": len(outcomes) / writer_seconds(outcomes, shown, str(root / "writer.db"))}
    if url:
        writers["PostgreSQL"] = len(outcomes) / writer_seconds(outcomes, shown, fresh_pg(url))
    stage = staging_ms(images)
    print()
    for name, rate in writers.items():
        print(f"writer alone ({name}): {len(outcomes)} outcomes, {rate:.0f}/s ({1000 / rate:.1f} ms each)")
    print(f"the command's staging on a cluster (hash + shared evidence store): {stage:.1f} ms/file")
    return writers, stage


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--mesas", type=int, default=40)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--profile", default="mixed")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--url", help="a PostgreSQL server for the writer's figure too")
    parser.add_argument("--cores-per-machine", type=int, default=16)
    parser.add_argument("--fixed-only", action="store_true", help="only the scans of no file")
    parser.add_argument("--writer-only", action="store_true", help="only the writer's figures")
    args = parser.parse_args()
    if args.writer_only:
        with tempfile.TemporaryDirectory() as tmp:
            writer_figures(
                render(args.mesas, Path(tmp) / "images", args.profile, args.seed), Path(tmp), args.url
            )
        return
    if args.fixed_only:
        with tempfile.TemporaryDirectory() as tmp:
            for workers, (local_cpu, cluster_cpu) in fixed_costs(Path(tmp)).items():
                print(f"no file, {workers} worker(s): CPU s local {local_cpu:.1f}, cluster {cluster_cpu:.1f}")
        return

    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        images = render(args.mesas, root / "images", args.profile, args.seed)
        print(f"images: {len(images)} rendered mesas, profile {args.profile}, full reading")
        rows: dict[int, list[tuple[float, ...]]] = {1: [], 2: []}
        same = True
        for round_ in range(args.rounds):
            for workers in (1, 2):
                order = ("local", "cluster") if round_ % 2 == 0 else ("cluster", "local")
                times: dict[str, tuple[float, ...]] = {}
                results = {}
                for kind in order:
                    work = root / f"r{round_}-w{workers}-{kind}"
                    work.mkdir()
                    scan = local_scan if kind == "local" else cluster_scan
                    times[kind], results[kind] = scan(images, workers, work)
                    remove_store(work / f"ev-{kind}")
                same = same and results["local"] == results["cluster"]
                rows[workers].append((*times["local"], *times["cluster"]))
                print(f"round {round_ + 1}, {workers} worker(s): {json.dumps(times)}", flush=True)
        print("same outcomes on the cluster as in the local scan, image by image:", "yes" if same else "NO")
        print()
        print(
            f"{'workers':>7} {'local s':>8} {'cluster s':>9} {'ratio':>6} {'reading s':>9} {'ratio':>6} "
            f"{'local CPU s':>11} {'cluster CPU s':>13} {'ratio':>6}"
        )
        medians = {}
        for workers, measured in rows.items():
            local, local_cpu, total, reading, cluster_cpu = (
                statistics.median(m[i] for m in measured) for i in range(5)
            )
            medians[workers] = (local, local_cpu, total, reading, cluster_cpu)
            print(
                f"{workers:>7} {local:8.1f} {total:9.1f} {total / local:6.2f} {reading:9.1f} "
                f"{reading / local:6.2f} {local_cpu:11.1f} {cluster_cpu:13.1f} {cluster_cpu / local_cpu:6.2f}"
            )
        print(
            "(cluster s: the command whole, the cluster's start included; reading s: on a cluster "
            "already up; CPU s: every process's, the cluster's start included)"
        )

        fixed = fixed_costs(root)
        print()
        print("per acta, without what each pays once (a scan of no file, measured in this run):")
        for workers, (local_fixed, cluster_fixed) in fixed.items():
            local_cpu, cluster_cpu = medians[workers][1], medians[workers][4]
            local_each = (local_cpu - local_fixed) / len(images)
            cluster_each = (cluster_cpu - cluster_fixed) / len(images)
            print(
                f"  {workers} worker(s): once, CPU s local {local_fixed:.1f}, cluster {cluster_fixed:.1f}; "
                f"per acta, CPU s local {local_each:.2f}, cluster {cluster_each:.2f}, ratio {cluster_each / local_each:.2f}"
            )

        writers, stage = writer_figures(images, root, args.url)

        # CPU seconds per acta on the cluster, the engine's own work included: what a core must
        # give each acta whatever else shares it. Cores are then taken as adding linearly
        # (independent tasks sharing nothing but the evidence folder and the writer).
        per_acta = medians[1][4] / len(images)
        efficiency = 1.0
        cores = args.cores_per_machine
        print()
        print(
            f"projection: {per_acta:.2f} CPU s per acta on the cluster with 1 worker "
            f"({medians[2][4] / len(images):.2f} with 2); a reading machine taken as {cores} such cores, "
            "all reading"
        )
        for actas, hours in ((30_000, 1), (823_000, 12)):
            need_rate = actas / (hours * 3600)
            machines = ceil(actas * per_acta / (hours * 3600 * cores * efficiency))
            slowest = min(writers.values())
            writer_capacity = 1 / (1 / slowest + stage / 1000)
            print(
                f"  {actas:,} actas in {hours} h: {need_rate:.1f} actas/s; {machines} reading machine(s) of "
                f"{cores} cores at this CPU time per acta; the one writer ({min(writers, key=writers.get)}) "  # type: ignore[arg-type]
                f"records ~{writer_capacity:.0f}/s with its staging: "
                + ("enough" if writer_capacity > need_rate else "NOT enough: several writers needed")
            )


if __name__ == "__main__":
    main()
