"""Blur measured and divided out (:mod:`veedor.read.deblur`): how well the blur is
measured, how often it is seen where there is none, and what it gives back, next to a bare
baseline in the same run.

Real actas from samples/actas are degraded in memory with the simulator's ``motion_blur``
and ``blur`` families (their true streak length, angle and focus blur are replayed from
each image's seed) and with sharp-image families (``clean``, ``scan``, ``jpeg``, ``dark``,
``phone_full``), where nothing must be seen. For every blurred image:

- **measured**: the error of the measured streak length / angle / focus blur;
- **QR**: bare zxing-cpp on the image as it comes, on the pipeline's strong unsharp mask
  (the rung the ladder had for motion before), and on the deblurred image;
- **print** (``--print``): ``read_print`` with the QR known, plain vs deblurred: does the
  printed table agree with the QR (``qr_print_check``)? (~5 s an image);
- **cost**: measuring and deblurring, as a ratio to the bare zxing decode of the same image.

Everything runs on one thread.

    PYTHONPATH=src python bench/bench_deblur.py [--seeds 2] [--print]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import time
from pathlib import Path

os.environ.setdefault("OMP_NUM_THREADS", "1")

import cv2
import numpy as np
import zxingcpp

from veedor.definitions import load_definition
from veedor.definitions.parsers import parse_payload
from veedor.read import variants
from veedor.read.deblur import Focus, Streak, deblurred, smear
from veedor.read.print import read_print
from veedor.read.print.checks import qr_print_check
from veedor.simulate.degrade import degrade

ROOT = Path(__file__).resolve().parents[1]
ACTAS = ROOT / "samples" / "actas"
TRUTH = json.loads((ACTAS / "_ground_truth" / "qr_text_by_image.json").read_text())
QR = zxingcpp.BarcodeFormats(zxingcpp.BarcodeFormat.QRCode)
SHARP_FAMILIES = ("clean", "scan", "jpeg", "dark", "phone_full")


def _decodes(gray: np.ndarray, truth: str) -> bool:
    return any(r.text == truth for r in zxingcpp.read_barcodes(gray, formats=QR))


def _true_blur(family: str, seed: int) -> tuple[float, float]:
    """(length, angle) of the streak, or (sigma, 0) of the focus blur, as the family drew them."""
    rng = np.random.default_rng(seed)
    if family == "motion_blur":
        return float(rng.integers(5, 22)), float(rng.uniform(0, 180))
    return float(rng.uniform(1.2, 4.0)), 0.0


def _angle_gap(a: float, b: float) -> float:
    gap = abs(a - b) % 180.0
    return min(gap, 180.0 - gap)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=2, help="images per acta and family")
    parser.add_argument("--print", dest="with_print", action="store_true", help="also read the print")
    args = parser.parse_args()
    cv2.setNumThreads(1)
    definition = load_definition("ve-2024-presidential")
    actas = [(rel, text) for rel, text in sorted(TRUTH.items()) if text]
    rows: dict[str, list[dict[str, float]]] = {"motion_blur": [], "blur": []}
    false_alarms: dict[str, int] = dict.fromkeys(SHARP_FAMILIES, 0)
    sharp_n = 0
    for k, (rel, text) in enumerate(actas):
        gray = np.asarray(cv2.imread(str(ACTAS / rel), cv2.IMREAD_GRAYSCALE))
        expect = parse_payload(text, definition)
        for s in range(args.seeds):
            for family in SHARP_FAMILIES:
                img = degrade(gray, family, np.random.default_rng(1000 * k + s))
                false_alarms[family] += smear(img) is not None
            sharp_n += 1
            for family in rows:
                seed = 7919 * k + 104729 * s + (1 if family == "blur" else 0)
                img = degrade(gray, family, np.random.default_rng(seed))
                true_a, true_b = _true_blur(family, seed)
                t0 = time.perf_counter()
                bare = _decodes(img, text)
                zxing_ms = (time.perf_counter() - t0) * 1000
                t0 = time.perf_counter()
                found = smear(img)
                measure_ms = (time.perf_counter() - t0) * 1000
                row: dict[str, float] = {"true": true_a, "bare": bare, "zxing_ms": zxing_ms}
                row["unsharp"] = _decodes(variants.sharpen(img, sigma=4.0, amount=2.0), text)
                row["seen"] = found is not None
                if isinstance(found, Streak) and family == "motion_blur":
                    row["length_err"] = abs(found.length - true_a)
                    row["angle_err"] = _angle_gap(found.angle, true_b)
                if isinstance(found, Focus) and family == "blur":
                    row["sigma_err"] = abs(found.sigma - true_a)
                # Nothing seen, nothing divided out: the pipeline reads the image as it is.
                sharp = img
                if found is not None:
                    t0 = time.perf_counter()
                    sharp = deblurred(img, found)
                    row["deblur_ms"] = measure_ms + (time.perf_counter() - t0) * 1000
                row["deblurred"] = _decodes(sharp, text)
                if args.with_print:
                    for name, view in (("print_plain", img), ("print_deblurred", sharp)):
                        reading = read_print(view, definition, expect=expect)
                        row[name] = reading is not None and qr_print_check(expect, reading).passed
                rows[family].append(row)
            print(f"{k + 1}/{len(actas)} {rel.split('/')[-1]}", flush=True)

    print(
        "\n| family | n | blur seen | length/σ error median (max) | angle error median (max) |"
        " zxing bare | zxing unsharp | zxing deblurred | print plain | print deblurred |"
        " measure+deblur / zxing |"
    )
    print("|---|---|---|---|---|---|---|---|---|---|---|")
    for family, got in rows.items():
        n = len(got)
        errs = [r[key] for r in got for key in ("length_err", "sigma_err") if key in r]
        angles = [r["angle_err"] for r in got if "angle_err" in r]
        ratio = [r["deblur_ms"] / max(r["zxing_ms"], 0.1) for r in got if "deblur_ms" in r]

        def pct(key: str, rows_: list[dict[str, float]] = got) -> str:
            have = [r for r in rows_ if key in r]
            return f"{100 * sum(bool(r[key]) for r in have) / len(have):.0f}%" if have else "-"

        print(
            f"| {family} | {n} | {pct('seen')} | "
            f"{statistics.median(errs):.2f} ({max(errs):.2f}) | "
            + (f"{statistics.median(angles):.1f}° ({max(angles):.1f}°)" if angles else "-")
            + f" | {pct('bare')} | {pct('unsharp')} | {pct('deblurred')} | {pct('print_plain')} | "
            f"{pct('print_deblurred')} | {statistics.median(ratio):.0f}× |"
        )
    print(f"\nSharp images where a blur was seen (must be 0), {sharp_n} per family:")
    for family, count in false_alarms.items():
        print(f"  {family}: {count}")


if __name__ == "__main__":
    main()
