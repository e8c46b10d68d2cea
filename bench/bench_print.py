"""Cost of reading the printed acta, as a ratio to the bare QR decode of the same image.

For every real sample: the bare zxing-cpp decode (the baseline), the print reading with
the QR's numbers known (the scan's common case: digits only, words where they differ),
and, with --full, the blind reading (digits and words of every line, as for an acta whose
QR cannot be read). Everything runs on one thread (OpenCV and onnxruntime).

    PYTHONPATH=src python bench/bench_print.py [--full] [--repeat 1]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

os.environ.setdefault("OMP_NUM_THREADS", "1")

import cv2
import numpy as np
import zxingcpp

from veedor.definitions import load_definition
from veedor.definitions.parsers import parse_payload
from veedor.read.print import read_print, risk
from veedor.read.print.checks import qr_print_check
from veedor.read.print.ocr import first_look, recogniser

ROOT = Path(__file__).resolve().parents[1]
ACTAS = ROOT / "samples" / "actas"
QR = zxingcpp.BarcodeFormat.QRCode


def _ms(func, repeat: int) -> tuple[float, object]:  # type: ignore[no-untyped-def]
    best, out = float("inf"), None
    for _ in range(repeat):
        start = time.perf_counter()
        out = func()
        best = min(best, (time.perf_counter() - start) * 1000)
    return best, out


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--full", action="store_true", help="also time the blind reading")
    parser.add_argument("--repeat", type=int, default=1, help="best of N runs per image")
    parser.add_argument(
        "--engines", action="store_true", help="compare recognisers on the same row crops (needs tesseract)"
    )
    parser.add_argument(
        "--acta-risk",
        type=float,
        default=None,
        help="joint risk two digits-only numbers may carry (read.print.risk.ACTA_RISK; 1: the digits always suffice)",
    )
    args = parser.parse_args()
    if args.acta_risk is not None:
        risk.ACTA_RISK = args.acta_risk  # before the workers fork: they read it per line
    cv2.setNumThreads(1)
    if args.engines:
        return compare_engines()
    definition = load_definition("ve-2024-presidential")
    truth = {
        k.split("/")[-1]: v
        for k, v in json.loads((ACTAS / "_ground_truth" / "qr_text_by_image.json").read_text()).items()
    }
    # Loads the models outside the timings.
    print(f"engine: {recogniser().name}; first look at the digits: {first_look()[0].name}")
    rows = []
    stages: dict[str, list[float]] = {}
    for path in sorted(ACTAS.glob("*/*.jpg")):
        gray = cv2.imread(str(path), cv2.IMREAD_GRAYSCALE)
        base, _ = _ms(lambda g=gray: zxingcpp.read_barcodes(g, formats=QR), args.repeat)
        text = truth.get(path.name)
        qr = parse_payload(text, definition) if text else None
        quick, reading = _ms(lambda g=gray, q=qr: read_print(g, definition, expect=q), args.repeat)
        agree = "-" if qr is None or reading is None else str(qr_print_check(qr, reading).passed)
        row = [path.name[:30], f"{base:7.0f}", f"{quick:7.0f}", f"{quick / base:6.1f}x", agree]
        full = None
        if args.full:
            full, blind = _ms(lambda g=gray: read_print(g, definition), args.repeat)
            ok = blind is not None and blind.agrees
            row += [f"{full:7.0f}", f"{full / base:6.1f}x", str(ok)]
        rows.append((base, quick, full, qr is not None))
        if reading is not None and qr is not None:
            for k, v in reading.timings.items():
                stages.setdefault(k, []).append(v)
        print("  ".join(row), flush=True)
    # The acta whose QR no tool reads has no "QR known" reading: its blind one is not counted.
    known = [r for r in rows if r[3]]
    bases = [r[0] for r in known]
    quicks = [r[1] for r in known]
    print(
        f"\nactas with a QR: {len(known)}; median zxing {statistics.median(bases):.0f} ms; "
        f"median print (QR known) {statistics.median(quicks):.0f} ms; ratio of medians "
        f"{statistics.median(quicks) / statistics.median(bases):.1f}x; "
        f"median of per-image ratios {statistics.median(r[1] / r[0] for r in known):.1f}x; "
        f"mean {statistics.mean(quicks):.0f} ms, slowest {max(quicks):.0f} ms"
    )
    print("median per stage (ms):", {k: round(statistics.median(v)) for k, v in stages.items()})
    if args.full:
        fulls = [r[2] for r in rows if r[2] is not None]
        bases = [r[0] for r in rows]
        print(
            f"median print (blind) {statistics.median(fulls):.0f} ms; ratio "
            f"{statistics.median(fulls) / statistics.median(bases):.1f}x"
        )
    return 0


def _tesseract(image: np.ndarray) -> str:
    ok, png = cv2.imencode(".png", image)
    assert ok
    env = {**os.environ, "OMP_THREAD_LIMIT": "1"}
    done = subprocess.run(
        ["tesseract", "stdin", "stdout", "--psm", "6", "-l", "spa"],
        input=png.tobytes(),
        capture_output=True,
        env=env,
        check=True,
    )
    return done.stdout.decode("utf-8", "replace")


def compare_engines() -> int:
    """Per-line accuracy of digits and words on the 38 ballot rows of every acta whose
    QR is known, each engine given the same crops: one image of all rows stacked for
    Tesseract (one process per acta), one batch of row images for the rapidocr model."""
    from veedor.read.print.layout import find_layout
    from veedor.read.print.rows import row_pieces
    from veedor.read.print.words import from_words

    definition = load_definition("ve-2024-presidential")
    truth = {
        k.split("/")[-1]: v
        for k, v in json.loads((ACTAS / "_ground_truth" / "qr_text_by_image.json").read_text()).items()
    }
    rec = recogniser()
    stats = {"tesseract": [0, 0, 0.0], "rapidocr": [0, 0, 0.0]}  # digits ok, words ok, ms
    lines = 0
    for path in sorted(ACTAS.glob("*/*.jpg")):
        text = truth.get(path.name)
        gray = cv2.imread(str(path), cv2.IMREAD_GRAYSCALE)
        layout = find_layout(gray, 38)
        if not text or len(layout.table) != 40:
            continue
        expected = parse_payload(text, definition).votes
        rows = layout.table[2:]
        pieces = [row_pieces(gray, r, layout.scale, code=False)[:2] for r in rows]
        # Tesseract: the same crops, one row per text line, 2x up (it wants ~30 px letters).
        strips = []
        for digits, words in pieces:
            h = 40
            parts = [
                cv2.resize(p.image, (max(1, p.image.shape[1] * h // p.image.shape[0]), h))
                for p in (digits, words)
            ]
            strip = np.hstack([parts[0], np.full((h, 40), 255, np.uint8), parts[1]])
            strips.append(np.pad(strip, ((12, 12), (20, 20)), constant_values=255))
        width = max(s.shape[1] for s in strips)
        page = np.vstack([np.pad(s, ((0, 0), (0, width - s.shape[1])), constant_values=255) for s in strips])
        start = time.perf_counter()
        out = [ln for ln in _tesseract(page).splitlines() if ln.strip()]
        stats["tesseract"][2] += (time.perf_counter() - start) * 1000
        for k, want in enumerate(expected):
            if k < len(out):
                head, _, rest = out[k].strip().partition(" ")
                stats["tesseract"][0] += head.isdigit() and int(head) == want
                stats["tesseract"][1] += from_words(rest) == want
        start = time.perf_counter()
        read = rec.read([list(p) for p in pieces])
        stats["rapidocr"][2] += (time.perf_counter() - start) * 1000
        for (d, w), want in zip(read, expected, strict=True):
            stats["rapidocr"][0] += d.text.isdigit() and int(d.text) == want
            stats["rapidocr"][1] += from_words(w.text) == want
        lines += len(expected)
    actas = lines // 38
    print(f"{actas} actas, {lines} ballot lines, first look only (no extra looks, no scoring)")
    for name, (digits, words, ms) in stats.items():
        print(
            f"{name:10s} digits {digits}/{lines} ({digits / lines:.1%})  words {words}/{lines} "
            f"({words / lines:.1%})  {ms / actas:.0f} ms/acta"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
