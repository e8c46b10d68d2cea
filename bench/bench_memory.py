"""Memory stays flat: a 10,000-file scan against a 1,000-file one, four copies of V1 against V1.

Run:  PYTHONPATH=src python bench/bench_memory.py [--files 1000 10000] [--copies 1 4]

Each measure runs in a fresh process, and prints the peak resident memory of the main
process (``ru_maxrss``): the single writer, where a run's outcomes would pile up. The workers
read one file at a time; they are the forkserver's children, not measured here. The target is a ratio within 2x between the
small and the large run: a scan streams its outcomes and commits batch by batch, and an
import holds its rows once.
"""

from __future__ import annotations

import argparse
import io
import json
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
V1 = ROOT / "samples" / "results" / "RESULTADOS_2024_CSV_V1.csv"


def _qr_png(text: str) -> bytes:
    import segno

    buffer = io.BytesIO()
    segno.make_qr(text, error="q").save(buffer, kind="png", scale=6, border=4)
    return buffer.getvalue()


def measure_scan(files: int) -> dict:
    from veedor.definitions import load_definition
    from veedor.pipeline.scan import scan_paths
    from veedor.store import open_store

    positions = len(load_definition("ve-2024-presidential").ballot)
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp) / "in"
        folder.mkdir()
        for i in range(files):
            votes = ",".join(["1"] * positions)
            centre = f"{10101001 + i // 10:09d}"
            text = f"{centre}.{i % 10 + 1:02d}.1.0001!{votes}!0!0"
            (folder / f"{i}.png").write_bytes(_qr_png(text))
        store = open_store(f"sqlite:///{tmp}/m.db")
        start = time.perf_counter()
        summary = scan_paths([folder], store, workers=2, evidence_root=f"{tmp}/ev")
        wall = time.perf_counter() - start
    return {"what": f"scan {files} files", "n": summary.files, "seconds": round(wall, 1), **_rss()}


def measure_import(copies: int) -> dict:
    from veedor.definitions import load_definition
    from veedor.ingest.tables import import_results_table
    from veedor.store import open_store

    lines = V1.read_text(encoding="utf-8-sig").splitlines()
    header = lines[0].split(",")
    mesa = header.index("MESA")
    out = [lines[0]]
    for k in range(copies):
        for line in lines[1:]:
            cells = line.split(",")
            cells[mesa] = str(int(cells[mesa]) + 20 * k)  # another mesa, same numbers
            out.append(",".join(cells))
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "t.csv"
        path.write_text("\n".join(out) + "\n", encoding="utf-8")
        store = open_store(f"sqlite:///{tmp}/m.db")
        start = time.perf_counter()
        with store.session() as session:
            summary = import_results_table(session, path, load_definition("ve-2024-presidential"))
            session.commit()
        wall = time.perf_counter() - start
    return {"what": f"import {copies}x V1", "n": summary.rows, "seconds": round(wall, 1), **_rss()}


def _rss() -> dict:
    return {"main_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)}


def run(kind: str, n: int) -> dict:
    done = subprocess.run(
        [sys.executable, __file__, "--one", kind, str(n)], capture_output=True, text=True, check=True
    )
    return json.loads(done.stdout.strip().splitlines()[-1])


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--files", type=int, nargs=2, default=[1000, 10000])
    ap.add_argument("--copies", type=int, nargs=2, default=[1, 4])
    ap.add_argument("--one", nargs=2, help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.one:
        kind, n = args.one
        print(json.dumps(measure_scan(int(n)) if kind == "scan" else measure_import(int(n))))
        return 0
    print("| measure | items | seconds | main peak MB |\n|---|---|---|---|")
    pairs = [("scan", args.files), ("import", args.copies)]
    for kind, (small, large) in pairs:
        a, b = run(kind, small), run(kind, large)
        for r in (a, b):
            print(f"| {r['what']} | {r['n']:,} | {r['seconds']} | {r['main_mb']} |")
        print(f"| **ratio {kind}** (large / small) | | | **{b['main_mb'] / a['main_mb']:.2f}x** |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
