"""Phone photos: how often the printed table is found and agrees with the QR, before and
after rectification (:mod:`veedor.read.rectify`), and what rectifying costs, as a ratio to
the bare zxing-cpp decode of the same image measured in the same run.

Real actas from samples/actas are degraded in memory with the simulator's families (and
quarter turns, which no family makes); "before" is ``read_print`` on the image as it
comes, "after" is the pipeline's ``read_print_views`` (plain first, then at most two upright
views). "Agrees" means the print's numbers equal the QR's exactly (``qr_print_check``).
Everything runs on one thread.

    PYTHONPATH=src python bench/bench_rectify.py [--actas 4] [--seeds 2]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import time
from collections.abc import Callable
from pathlib import Path

os.environ.setdefault("OMP_NUM_THREADS", "1")

import cv2
import numpy as np
import zxingcpp

from veedor.definitions import load_definition
from veedor.definitions.parsers import parse_payload
from veedor.pipeline.worker import read_print_views
from veedor.read.print import read_print
from veedor.read.print.checks import qr_print_check
from veedor.read.rectify import upright_views
from veedor.simulate.degrade import degrade

ROOT = Path(__file__).resolve().parents[1]
ACTAS = ROOT / "samples" / "actas"
QR = zxingcpp.BarcodeFormats(zxingcpp.BarcodeFormat.QRCode)


def _turn(k: int) -> Callable[[np.ndarray], np.ndarray]:
    return lambda g: np.ascontiguousarray(np.rot90(g, k))


# (name, degrade chain, quarter turns counter-clockwise applied afterwards)
FAMILIES: list[tuple[str, str, int]] = [
    ("phone_full", "phone_full", 0),
    ("phone_full+rot90", "phone_full", 1),
    ("phone_full+rot270", "phone_full", 3),
    ("phone_full+upside_down", "upside_down+phone_full", 0),
    ("rotate (±25°)", "rotate", 0),
    ("upside_down", "upside_down", 0),
    ("perspective", "perspective", 0),
    ("scan+rot90", "scan", 1),
    ("phone_bottom (no table in frame)", "phone_bottom", 0),
]


def _ms(func: Callable[[], object]) -> tuple[float, object]:
    start = time.perf_counter()
    out = func()
    return (time.perf_counter() - start) * 1000, out


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--actas", type=int, default=4, help="real actas to degrade")
    parser.add_argument("--seeds", type=int, default=2, help="degradations per acta and family")
    parser.add_argument("--json", type=Path, help="also write the numbers here")
    args = parser.parse_args()
    cv2.setNumThreads(1)
    definition = load_definition("ve-2024-presidential")
    names = [b.acronym for b in definition.ballot]
    truth = json.loads((ACTAS / "_ground_truth" / "qr_text_by_image.json").read_text())
    files = sorted(k for k, v in truth.items() if v and "/784821_" in k)[: args.actas]
    results: dict[str, dict[str, list[float]]] = {}
    for fname, chain, turns in FAMILIES:
        row = results.setdefault(
            fname, {"before": [], "after": [], "rect_ms": [], "zxing_ms": [], "views": []}
        )
        for file in files:
            source = np.asarray(cv2.imread(str(ACTAS / file), cv2.IMREAD_GRAYSCALE))
            qr = parse_payload(truth[file], definition)
            for seed in range(args.seeds):
                image = degrade(source, chain, np.random.default_rng(seed))
                image = np.ascontiguousarray(np.rot90(image, turns))

                def agrees(printed: object, qr: object = qr) -> bool:
                    return printed is not None and qr_print_check(qr, printed, names).passed  # type: ignore[arg-type]

                zx_ms, _ = _ms(lambda: zxingcpp.read_barcodes(image, formats=QR))  # noqa: B023
                rect_ms, _ = _ms(lambda: list(upright_views(image, limit=1)))  # noqa: B023
                before = read_print(image, definition, expect=qr)
                printed, reading = read_print_views(image, definition, qr, True)
                row["before"].append(float(agrees(before)))
                row["after"].append(float(agrees(printed)))
                row["rect_ms"].append(rect_ms)
                row["zxing_ms"].append(zx_ms)
                row["views"].append(float(reading is not None and "rectified:" in reading.variant))
        print(_line(fname, row), flush=True)
    big_ms, big_zx = _twelve_megapixels(files[0], definition)
    print(
        f"\n12-Mpx photo (4000x3000): rectify {big_ms:.0f} ms, bare zxing {big_zx:.0f} ms, "
        f"ratio {big_ms / big_zx:.2f}"
    )
    if args.json:
        args.json.write_text(json.dumps(results, indent=1))
    return 0


def _line(name: str, row: dict[str, list[float]]) -> str:
    n = len(row["before"])
    rect = statistics.median(row["rect_ms"])
    zx = statistics.median(row["zxing_ms"])
    return (
        f"{name:34s} n={n:3d}  print found+agrees: before {100 * sum(row['before']) / n:5.1f}%  "
        f"after {100 * sum(row['after']) / n:5.1f}%  | rectify {rect:6.1f} ms median, "
        f"bare zxing {zx:6.1f} ms, ratio {rect / zx:5.2f}"
    )


def _twelve_megapixels(file: str, definition: object) -> tuple[float, float]:
    source = np.asarray(cv2.imread(str(ACTAS / file), cv2.IMREAD_GRAYSCALE))
    photo = degrade(source, "phone_full", np.random.default_rng(0))
    photo = cv2.resize(photo, (3000, 4000), interpolation=cv2.INTER_LINEAR)
    rect = min(_ms(lambda: list(upright_views(photo, limit=1)))[0] for _ in range(3))
    zx = min(_ms(lambda: zxingcpp.read_barcodes(photo, formats=QR))[0] for _ in range(3))
    return rect, zx


if __name__ == "__main__":
    raise SystemExit(main())
