"""National drill through PostgreSQL and the cluster engine, end to end, with each process's
peak memory.

Actas are rendered from the V1 results table (``--national``: every row plus a synthetic
remainder up to the definition's 30,026 mesas; ``--mesas N``: the first N rows), a batch at a
time, and scanned with ``veedor scan --cluster``'s path: a Dask cluster (scheduler, and W worker
processes each under its nanny, started here as other machines would run them) reads, and this
process alone records into a PostgreSQL database (a fresh one on the server ``--url`` names).
Every acta the scan marks ok is compared with the numbers it was rendered from, and the national
tally with their sum.

Printed: mesas per second (rendering excluded) and per worker, the outcome counts, mismatches
among ok (must be 0), whether the tally equals the source, and the peak resident memory
(``VmHWM``) of every process: this one (the writer), the scheduler, each nanny and worker, and
the PostgreSQL server's processes (this run's backends included), at 1/8 of the size and at the
full size, to show it does not grow with the number of actas.

Usage: PYTHONPATH=src python bench/bench_national.py --url postgresql+psycopg://veedor@127.0.0.1:54329/veedor
       [--mesas 200 | --national] [--workers 2] [--batch 100] [--profile scanner]
(``.ci/postgres`` starts a throw-away server and prints its URL.)
"""

from __future__ import annotations

import argparse
import itertools
import json
import os
import shutil
import tempfile
import time
from pathlib import Path
from typing import Any

import psutil

from veedor.capture.evidence import remove_store
from veedor.definitions import load_definition
from veedor.model import FileOutcome
from veedor.pipeline.cluster import cluster_runner, local_cluster
from veedor.pipeline.scan import scan_paths
from veedor.simulate.drill import DrillReport, _compare
from veedor.simulate.generate import SimOptions, simulate
from veedor.simulate.tables import read_table, with_synthetic_remainder
from veedor.store import open_store
from veedor.tally import tally

ROOT = Path(__file__).resolve().parents[1]
V1 = ROOT / "samples" / "results" / "RESULTADOS_2024_CSV_V1.csv"
DEFINITION = "ve-2024-presidential"


def peak_mb(pid: int) -> float | None:
    """A process's peak resident memory (Linux ``VmHWM``), MB; None when it is gone."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except OSError:
        return None
    return None


def fresh_database(url: str, name: str) -> str:
    from sqlalchemy import create_engine, text
    from sqlalchemy.engine import make_url

    admin = create_engine(url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
        conn.execute(text(f"CREATE DATABASE {name}"))
    admin.dispose()
    return make_url(url).set(database=name).render_as_string(hide_password=False)


def drill(args: argparse.Namespace, mesas: int | None, work: Path, label: str) -> dict[str, Any]:
    from distributed import Client

    definition = load_definition(DEFINITION)
    specs = read_table(V1, definition, args.seed)
    if mesas is None:
        specs = with_synthetic_remainder(specs, definition.national_mesas or 0, definition, args.seed)
    else:
        specs = itertools.islice(specs, mesas)
    url = fresh_database(args.url, f"veedor_national_{label}_{os.getpid()}")
    store = open_store(url)
    evidence = work / "evidence"
    report = DrillReport(workers=args.workers)
    report.expected_ok_totals = dict.fromkeys(definition.candidate_codes, 0)

    def on_outcome(outcome: FileOutcome) -> None:
        status = outcome.status.value
        report.by_status[status] = report.by_status.get(status, 0) + 1
        truth = json.loads(Path(outcome.file).with_suffix(".json").read_text(encoding="utf-8"))
        if status == "ok":
            _compare(outcome, truth, report, definition.totals_by_candidate)

    messages: list[str] = []
    with (
        local_cluster(args.workers) as cluster,
        Client(cluster) as watcher,
        cluster_runner(cluster.scheduler_address) as runner,
    ):
        it = iter(specs)
        batch_no = 0
        while chunk := list(itertools.islice(it, args.batch)):
            folder = work / "images" / f"batch{batch_no:04d}"
            t0 = time.perf_counter()
            opts = SimOptions(out=str(folder), definition_id=DEFINITION, profile=args.profile, seed=args.seed)
            sim = simulate(chunk, opts, args.workers)
            report.render_seconds += time.perf_counter() - t0
            report.rendered += sim.count
            report.mesas += len(chunk)
            t1 = time.perf_counter()
            images = sorted(str(p) for p in folder.glob(f"*.{opts.image_format}"))
            scan_paths(
                images,
                store,
                definition_id=DEFINITION,
                evidence_root=evidence,
                runner=runner,
                on_outcome=on_outcome,
                on_retry=messages.append,
            )
            report.scan_seconds += time.perf_counter() - t1
            shutil.rmtree(folder, ignore_errors=True)
            if not args.keep_evidence:
                remove_store(evidence)
            batch_no += 1
            print(f"  {label}: {report.mesas} mesas, {report.scan_seconds:.0f} s scanning", flush=True)
        workers = watcher.run(os.getpid)
        nannies = watcher.run(os.getpid, nanny=True)
        scheduler = watcher.run_on_scheduler(os.getpid)
        with store.session() as session:
            result = tally(session, definition, "national", "scan")
            postgres = {
                p.pid: peak_mb(p.pid)
                for p in psutil.process_iter(["name"])
                if (p.info["name"] or "").startswith("postgres")
            }
        here = os.getpid()  # a local cluster keeps its scheduler and nannies in this process

        def where(pid: int) -> float | str | None:
            return "in the writer's process" if pid == here else peak_mb(pid)

        memory = {
            "writer (this process)": peak_mb(here),
            "scheduler": where(scheduler),
            **{f"worker {i}": peak_mb(pid) for i, pid in enumerate(workers.values())},
            **{f"nanny {i}": where(pid) for i, pid in enumerate(nannies.values())},
            "postgresql, largest process": max((v for v in postgres.values() if v), default=None),
            "postgresql processes": len(postgres),
        }
    row = result.rows[0] if result.rows else None
    report.tally_totals = dict(row.votes) if row else dict.fromkeys(definition.candidate_codes, 0)
    report.tally_nulos = row.nulos if row else 0
    store.engine.dispose()
    return {
        "mesas": report.mesas,
        "scan_s": round(report.scan_seconds, 1),
        "render_s": round(report.render_seconds, 1),
        "mesas_per_s": round(report.mesas / report.scan_seconds, 2),
        "mesas_per_s_per_worker": round(report.mesas / report.scan_seconds / args.workers, 2),
        "by_status": report.by_status,
        "mismatches_among_ok": len(report.mismatches),
        "tally_equals_source": report.tally_equal,
        "peak_mb": {k: round(v, 1) if isinstance(v, float) else v for k, v in memory.items()},
        "cluster_messages": messages,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--url", required=True, help="a PostgreSQL server (a fresh database is made on it)")
    parser.add_argument("--mesas", type=int, default=200)
    parser.add_argument("--national", action="store_true", help="all 30,026 mesas")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--batch", type=int, default=100)
    parser.add_argument("--profile", default="scanner")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--keep-evidence", action="store_true")
    args = parser.parse_args()
    full = None if args.national else args.mesas
    small = max(20, (args.mesas if full else 30_026) // 8)
    with tempfile.TemporaryDirectory() as tmp:
        results = {
            "small": drill(args, small, Path(tmp) / "small", "small"),
            "full": drill(args, full, Path(tmp) / "full", "full"),
        }
    for name, result in results.items():
        print(f"drill {name}:", json.dumps(result, ensure_ascii=False))
    full_result = results["full"]
    ok = full_result["mismatches_among_ok"] == 0 and full_result["tally_equals_source"]
    print("RESULT:", "tally equals source for every ok acta" if ok else "MISMATCH")


if __name__ == "__main__":
    main()
