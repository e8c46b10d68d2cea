"""Benchmark: what the evidence log costs, and how it scales.

1. ``veedor scan --qr-only`` of the real actas with the log on and off (the log's appends
   replaced by nothing), same run, alternating rounds: ms per acta and the ratio (aim: < 5 %).
2. Appending N entries to the log in a SQLite database (batches as a scan commits them):
   entries per second; then an inclusion and a consistency proof at that size, made from the
   stored hashes and checked (median of many), against hashing the same entries bare.

Usage: python bench/bench_evidence_log.py [--rounds 3] [--entries 1000000]
"""

from __future__ import annotations

import argparse
import hashlib
import io
import statistics
import tempfile
import time
from pathlib import Path
from unittest import mock

from veedor import tlog
from veedor.pipeline.scan import scan_paths
from veedor.store import evidence_log, open_store

ACTAS = Path(__file__).resolve().parents[1] / "samples" / "actas"


def scan_ms(images: list[Path], logged: bool) -> tuple[float, float]:
    with tempfile.TemporaryDirectory() as tmp:
        store = open_store(f"{tmp}/v.db")
        patch = mock.patch.object(evidence_log, "append", lambda *a, **k: 0) if not logged else None
        if patch:
            patch.start()
        try:
            wall, start = time.perf_counter(), time.process_time()
            scan_paths(
                images, store, evidence_root=f"{tmp}/ev", workers=1, report=io.StringIO(), cross_check=False
            )
            # Wall time per acta, and this process's CPU: the workers' reading is the same either
            # way, the log's cost is all here (the one writer), and CPU time is steadier.
            n = len(images)
            return (time.perf_counter() - wall) * 1000 / n, (time.process_time() - start) * 1000 / n
        finally:
            if patch:
                patch.stop()
            store.engine.dispose()


def appends(n: int, batch: int = 96) -> dict[str, float]:
    body = {"image": "ab" * 32, "votes": list(range(38)), "engine": "zxing-cpp 3.1.1"}
    with tempfile.TemporaryDirectory() as tmp:
        store = open_store(f"{tmp}/log.db")
        start = time.perf_counter()
        done = 0
        while done < n:
            with store.session() as session:
                count = min(batch, n - done)
                evidence_log.append_many(
                    session, [("reading", {**body, "n": done + i}, None) for i in range(count)]
                )
                session.commit()
            done += count
        seconds = time.perf_counter() - start
        bare_start = time.perf_counter()
        for i in range(n):
            hashlib.sha256(b"\x00" + tlog.canonical({**body, "n": i, "kind": "reading", "at": "x"})).digest()
        bare = time.perf_counter() - bare_start
        with store.session() as session:
            size = evidence_log.log_size(session)
            root = evidence_log.head_at(session, size)
            old = size // 3
            old_root = evidence_log.head_at(session, old)
            make, check, sizes = [], [], []
            for k in range(200):
                index = (k * 7919) % size
                t0 = time.perf_counter()
                proof = evidence_log.inclusion(session, index, size)
                t1 = time.perf_counter()
                data = evidence_log.entry(session, index)
                assert data is not None
                assert tlog.verify_inclusion(tlog.leaf_hash(data), index, size, proof, root)
                t2 = time.perf_counter()
                make.append(t1 - t0)
                check.append(t2 - t1)
                sizes.append(len(proof))
            cmake, ccheck = [], []
            for _ in range(50):
                t0 = time.perf_counter()
                proof = evidence_log.consistency(session, old, size)
                t1 = time.perf_counter()
                assert tlog.verify_consistency(old, size, old_root, root, proof)
                cmake.append(t1 - t0)
                ccheck.append(time.perf_counter() - t1)
        store.engine.dispose()
    return {
        "entries": n,
        "append_per_s": n / seconds,
        "bare_hash_per_s": n / bare,
        "inclusion_hashes": max(sizes),
        "inclusion_make_ms": statistics.median(make) * 1000,
        "inclusion_check_ms": statistics.median(check) * 1000,
        "consistency_hashes": len(proof),
        "consistency_make_ms": statistics.median(cmake) * 1000,
        "consistency_check_ms": statistics.median(ccheck) * 1000,
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--entries", type=int, default=1_000_000)
    args = parser.parse_args()
    images = sorted(ACTAS.glob("*/*.jpg"))
    on, off = [], []
    for _ in range(args.rounds):
        off.append(scan_ms(images, logged=False))
        on.append(scan_ms(images, logged=True))
    print(
        f"scan --qr-only, {len(images)} real actas, ms per acta (median of {args.rounds} alternating rounds):"
    )
    for i, what in ((0, "wall"), (1, "writer CPU")):
        a, b = statistics.median(r[i] for r in off), statistics.median(r[i] for r in on)
        print(f"  {what}: log off {a:.2f} · log on {b:.2f} · ratio {b / a:.3f}")
    figures = appends(args.entries)
    print(f"log of {figures['entries']:,} entries in SQLite (batches of 96):")
    print(
        f"  append {figures['append_per_s']:,.0f}/s · bare hashing {figures['bare_hash_per_s']:,.0f}/s · ratio {figures['bare_hash_per_s'] / figures['append_per_s']:.1f}x"
    )
    print(
        f"  inclusion proof {figures['inclusion_hashes']} hashes: made {figures['inclusion_make_ms']:.3f} ms, "
        f"checked {figures['inclusion_check_ms']:.3f} ms"
    )
    print(
        f"  consistency proof {figures['consistency_hashes']} hashes: made {figures['consistency_make_ms']:.3f} ms, "
        f"checked {figures['consistency_check_ms']:.3f} ms"
    )


if __name__ == "__main__":
    main()
