"""Benchmark: ``veedor scan`` against a bare zxing-cpp decode of the same images, same run.

Prints ms per image and ratios: ``--qr-only`` (the fast path: the pipeline's own overhead
of hashing, evidence store, safe decoding, checks, database and report over the bare decode)
and the default full reading (plus the printed table, read to cross-check the QR). One
worker, so that the comparison is per core. Usage: python bench/bench_scan.py [--rounds 5]
"""

from __future__ import annotations

import argparse
import io
import statistics
import tempfile
import time
from pathlib import Path

import cv2
import zxingcpp

from veedor.pipeline.scan import scan_paths
from veedor.store import open_store

ACTAS = Path(__file__).resolve().parents[1] / "samples" / "actas"


def bare(images: list[Path]) -> tuple[float, float]:
    wall, cpu = time.perf_counter(), time.process_time()
    for path in images:
        gray = cv2.imread(str(path), cv2.IMREAD_GRAYSCALE)
        zxingcpp.read_barcodes(gray, formats=zxingcpp.BarcodeFormat.QRCode)
    return _per_image(wall, cpu, len(images))


def pipeline(images: list[Path], cross_check: bool) -> tuple[float, float]:
    with tempfile.TemporaryDirectory() as tmp:
        store = open_store(f"{tmp}/v.db")
        wall, cpu = time.perf_counter(), time.process_time()
        scan_paths(
            images, store, evidence_root=f"{tmp}/ev", workers=1, report=io.StringIO(), cross_check=cross_check
        )
        return _per_image(wall, cpu, len(images))


def _per_image(wall: float, cpu: float, n: int) -> tuple[float, float]:
    """(wall ms, CPU ms) per image: CPU time is steadier when other work shares the machine."""
    return (time.perf_counter() - wall) * 1000 / n, (time.process_time() - cpu) * 1000 / n


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--all", action="store_true", help="include the QR-less acta (exercises fallbacks)")
    args = parser.parse_args()
    cv2.setNumThreads(1)
    images = sorted(p for p in ACTAS.glob("*/*.jpg") if args.all or not p.name.startswith("qr-unreadable"))
    bare(images[:2]), pipeline(images[:2], True)  # warm caches, imports and the OCR model
    rows = []
    for _ in range(args.rounds):
        rows.append((bare(images), pipeline(images, False), pipeline(images, True)))
    print(f"images: {len(images)} real actas, rounds: {args.rounds}, workers: 1 (median of rounds)")
    print(f"{'':34} {'wall ms/img':>12} {'CPU ms/img':>11}")
    medians = {}
    labels = ("bare zxing-cpp (imread + decode)", "veedor scan --qr-only", "veedor scan (QR + print check)")
    for i, label in enumerate(labels):
        medians[label] = [statistics.median(r[i][k] for r in rows) for k in (0, 1)]
        print(f"{label:34} {medians[label][0]:12.1f} {medians[label][1]:11.1f}")
    b, q, full = medians.values()
    print(f"{'ratio --qr-only / bare':34} {q[0] / b[0]:11.2f}x {q[1] / b[1]:10.2f}x")
    print(f"{'ratio full reading / bare':34} {full[0] / b[0]:11.2f}x {full[1] / b[1]:10.2f}x")


if __name__ == "__main__":
    main()
