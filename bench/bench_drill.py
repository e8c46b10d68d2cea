"""National election-night drill: render, scan and tally actas from a results table.

Run:  PYTHONPATH=src python bench/bench_drill.py [--mesas N | --national] [--workers W]
                                                 [--profile scanner] [--out DIR]
                                                 [--profile mixed --mix scanner=0.9,...]

``--national`` drills every V1 row (24,532 mesas) plus a synthetic remainder up to the
definition's ``national_mesas`` (30,026). That takes the better part of an hour on two
cores; ``--mesas N`` drills the first N rows.

Printed:
- rendering and scanning, images per second per core;
- the bare baselines measured in the same run, and the ratios against them:
  rendering against encoding a blank receipt-sized JPEG (the least any renderer must do),
  scanning against bare zxing-cpp decoding the same rendered image (what the QR fast path
  costs with no evidence, checks or database);
- ok / review / rejected, mismatches among ok (must be 0) and whether the national tally
  equals the source table;
- the scanning time extrapolated to a 30,000-acta night (``national_night_scan_h``; with
  ``--profile mixed --mix scanner=0.9,bad-phone=0.05,damaged=0.05``: one acta in ten degraded);
- peak memory of the parent and of the workers, with two drill sizes so that one can see
  it does not grow with the number of actas.
"""

from __future__ import annotations

import argparse
import itertools
import json
import tempfile
import time
from pathlib import Path

import cv2
import numpy as np

from veedor.definitions.schema import load_definition
from veedor.simulate.drill import run_drill
from veedor.simulate.profiles import parse_mix
from veedor.simulate.render import ActaRenderer
from veedor.simulate.tables import read_table, with_synthetic_remainder

ROOT = Path(__file__).resolve().parents[1]
V1 = ROOT / "samples" / "results" / "RESULTADOS_2024_CSV_V1.csv"


def baselines(definition_id: str, n: int = 30) -> dict[str, float]:
    """Per-image CPU milliseconds of the bare operations, single process, in this run."""
    import zxingcpp

    cv2.setNumThreads(1)  # one core, like one worker

    definition = load_definition(definition_id)
    specs = list(itertools.islice(read_table(V1, definition), n))
    renderer = ActaRenderer(definition)
    blank = np.full((6800, 640), 245, np.uint8)
    start = time.process_time()
    for _ in specs:
        cv2.imencode(".jpg", blank, [cv2.IMWRITE_JPEG_QUALITY, 90])
    blank_ms = (time.process_time() - start) * 1000 / n
    images = []
    start = time.process_time()
    for i, spec in enumerate(specs):
        gray = renderer.render(spec, np.random.default_rng(i)).gray
        _ok, buf = cv2.imencode(".jpg", gray, [cv2.IMWRITE_JPEG_QUALITY, 90])
        images.append(cv2.imdecode(buf, cv2.IMREAD_GRAYSCALE))
    render_ms = (time.process_time() - start) * 1000 / n
    start = time.process_time()
    for gray in images:
        zxingcpp.read_barcodes(gray, formats=zxingcpp.BarcodeFormat.QRCode)
    zxing_ms = (time.process_time() - start) * 1000 / n
    return {"blank_jpeg_ms": blank_ms, "render_jpeg_ms": render_ms, "bare_zxing_ms": zxing_ms}


def drill(args: argparse.Namespace, mesas: int | None, out: Path) -> dict[str, object]:
    definition = load_definition(args.definition)
    specs = read_table(V1, definition, args.seed)
    if mesas is None:
        specs = with_synthetic_remainder(specs, definition.national_mesas or 0, definition, args.seed)
    else:
        specs = itertools.islice(specs, mesas)
    started = time.perf_counter()
    report = run_drill(
        specs,
        out,
        definition_id=args.definition,
        profile=args.profile,
        mix=args.mix,
        seed=args.seed,
        workers=args.workers,
        batch=args.batch,
    )
    wall = time.perf_counter() - started
    cores = args.workers
    return {
        "mesas": report.mesas,
        "wall_s": round(wall, 1),
        "render_per_s_per_core": round(report.rendered / report.render_seconds / cores, 2),
        "scan_per_s_per_core": round(report.mesas / report.scan_seconds / cores, 2),
        "scan_s": round(report.scan_seconds, 1),
        "national_night_scan_h": round(30_000 * report.scan_seconds / report.mesas / 3600, 2),
        "by_status": report.by_status,
        "mismatches_among_ok": len(report.mismatches),
        "tally_equals_source": report.tally_equal,
        "tally_actas": report.tally_actas,
        "peak_rss_mb": round(report.peak_rss_mb, 1),
        "peak_parent_mb": round(report.peak_parent_mb, 1),
        "peak_worker_mb": round(report.peak_worker_mb, 1),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--mesas", type=int, default=400)
    parser.add_argument("--national", action="store_true")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--batch", type=int, default=500)
    parser.add_argument("--profile", default="scanner")
    parser.add_argument(
        "--mix",
        type=parse_mix,  # an unknown profile or a weightless mix: argparse says so, no traceback
        default=None,
        help='with --profile mixed: "scanner=0.9,bad-phone=0.05,damaged=0.05"',
    )
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--definition", default="ve-2024-presidential")
    parser.add_argument("--out", type=Path, default=None)
    args = parser.parse_args()

    # Drills first: OpenCV used multi-threaded in this process before the scan pool forks
    # can leave the forked workers waiting on a thread pool that no longer exists.
    with tempfile.TemporaryDirectory() as tmp:
        root = args.out or Path(tmp)
        small = drill(args, max(20, args.mesas // 8) if not args.national else 200, root / "small")
        big = drill(args, None if args.national else args.mesas, root / "big")
    base = baselines(args.definition)
    print("baselines (1 core, ms/image):", json.dumps({k: round(v, 1) for k, v in base.items()}))
    for name, result in (("small", small), ("big", big)):
        print(f"drill {name}:", json.dumps(result, ensure_ascii=False))
    for stage, bare, what in (
        ("render", "blank_jpeg_ms", "a blank JPEG encode"),
        ("scan", "bare_zxing_ms", "bare zxing-cpp decode"),
    ):
        # Core-time from the wall clock (every worker busy): the scan's readers are children
        # of a forkserver, not of this process, so getrusage cannot see their CPU time.
        core_ms = 1000 / float(big[f"{stage}_per_s_per_core"])  # type: ignore[arg-type]
        print(
            f"{stage}: {big[f'{stage}_per_s_per_core']} images/s/core wall-clock "
            f"({args.workers} workers); {core_ms:.0f} core-ms each, {core_ms / base[bare]:.0f}x {what}"
        )
    print(
        f"peak memory: {small['peak_rss_mb']} MB at {small['mesas']} mesas, "
        f"{big['peak_rss_mb']} MB at {big['mesas']} mesas"
    )
    ok = big["mismatches_among_ok"] == 0 and big["tally_equals_source"]
    print("RESULT:", "tally equals source for every ok acta" if ok else "MISMATCH")


if __name__ == "__main__":
    main()
