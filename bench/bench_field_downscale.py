"""Benchmark: how far the field app may scale a photo down on the phone before reading suffers:
bytes saved against what the server's reading (the whole pipeline: QR ladder, print, checks)
still says, at each cap on the number of pixels.

Run:  PYTHONPATH=src .venv/bin/python bench/bench_field_downscale.py [--actas 12] [--caps 8,6,4,2]

1. Photos, from the first ``--actas`` real actas (samples/actas), seeded:
   - ``scan``: the real file as it is (a receipt scan, 4 to 10 Mpx);
   - ``phone_full``: the whole receipt in a 12 Mpx phone frame (4032 × 3024, portrait), with
     perspective, uneven light, blur and noise (``veedor.simulate.degrade``'s photo model);
   - ``phone_bottom``: the bottom of the receipt (the QR and the last lines) filling a 12 Mpx
     frame, as a witness gets it when that is all they can photograph.
2. Each photo at its own size (the baseline, measured in the same run) and scaled to each cap
   as the app does it (``canvas.drawImage``, bilinear, then JPEG quality 0.9: here OpenCV's
   INTER_LINEAR and JPEG 90); a photo already under a cap is left as it is.
3. Every file read by ``veedor scan`` (two workers, a fresh database, cross-check on) and its
   status, grade and mesa compared with the acta's ground truth.
4. Reported per kind and cap: median bytes (and the share saved against the original), how many
   are ``ok``, how many had their QR read (grade confirmed or qr_only), and any mesa misread.
"""

from __future__ import annotations

import argparse
import io
import json
import math
import shutil
import statistics
import tempfile
from pathlib import Path

import cv2
import numpy as np
from PIL import Image

from veedor.pipeline.scan import scan_paths
from veedor.simulate.degrade import _photo  # the photo model of the phone families, at 12 Mpx
from veedor.store import open_store

ROOT = Path(__file__).resolve().parents[1]
ACTAS = ROOT / "samples" / "actas"
TRUTH = json.loads((ACTAS / "_ground_truth" / "qr_text_by_image.json").read_text())
PHONE_H = 4032


def jpeg(gray: np.ndarray, quality: int = 90) -> bytes:
    out = io.BytesIO()
    Image.fromarray(gray).save(out, "JPEG", quality=quality)
    return out.getvalue()


def capped(data: bytes, cap: float) -> bytes:
    gray = cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_GRAYSCALE)
    h, w = gray.shape
    if w * h <= cap:
        return data
    scale = math.sqrt(cap / (w * h))
    small = cv2.resize(
        gray, (max(1, round(w * scale)), max(1, round(h * scale))), interpolation=cv2.INTER_LINEAR
    )
    return jpeg(small)


def photos(count: int) -> list[tuple[str, str, bytes]]:
    """(kind, acta file, JPEG bytes)."""
    out = []
    for i, path in enumerate(sorted(ACTAS.glob("*/*.jpg"))[:count]):
        gray = cv2.imdecode(np.frombuffer(path.read_bytes(), np.uint8), cv2.IMREAD_GRAYSCALE)
        rng = np.random.default_rng(2600 + i)
        out.append(("scan", path.name, path.read_bytes()))
        out.append(("phone_full", path.name, jpeg(_photo(gray, PHONE_H, 0.92, 0.03, rng))))
        h, w = gray.shape
        bottom = gray[h - min(h, int(w * 1.6)) :]
        out.append(("phone_bottom", path.name, jpeg(_photo(bottom, PHONE_H, 0.85, 0.05, rng))))
    return out


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--actas", type=int, default=12)
    parser.add_argument("--caps", default="8,6,4,2", help="Caps in megapixels.")
    parser.add_argument("--workers", type=int, default=2)
    args = parser.parse_args()
    caps = [float(c) * 1e6 for c in args.caps.split(",")]
    truth_by_name = {Path(k).name: v for k, v in TRUTH.items()}
    work = Path(tempfile.mkdtemp(prefix="veedor-downscale-"))
    folder = work / "in"
    folder.mkdir()
    index: dict[str, tuple[str, str, str, int]] = {}  # file -> (kind, acta, cap label, bytes)
    for n, (kind, name, data) in enumerate(photos(args.actas)):
        for label, cap in [("original", math.inf), *((f"{c / 1e6:g} Mpx", c) for c in caps)]:
            out = data if cap == math.inf else capped(data, cap)
            file = folder / f"{n:03d}-{kind}-{label.replace(' ', '')}.jpg"
            file.write_bytes(out)
            index[file.name] = (kind, name, label, len(out))
    store = open_store(str(work / "veedor.db"))
    report = io.StringIO()
    summary = scan_paths([folder], store, evidence_root=work / "ev", workers=args.workers, report=report)
    results: dict[str, dict[str, object]] = {}
    for line in report.getvalue().splitlines():
        row = json.loads(line)
        results[Path(row["file"]).name] = row
    print(f"{len(index)} files read in {summary.seconds:.0f} s ({args.workers} workers)")
    print("| kind | cap | files | median KB | saved vs original | ok | QR read | mesa misread |")
    print("|---|---|---|---|---|---|---|---|")
    labels = ["original", *(f"{c / 1e6:g} Mpx" for c in caps)]
    for kind in ("scan", "phone_full", "phone_bottom"):
        base = None
        for label in labels:
            files = [f for f, v in index.items() if v[0] == kind and v[2] == label]
            sizes = [index[f][3] for f in files]
            ok = sum(1 for f in files if results.get(f, {}).get("status") == "ok")
            qr = sum(1 for f in files if results.get(f, {}).get("source") == "qr")
            wrong = 0
            for f in files:
                mesa = results.get(f, {}).get("mesa") or {}
                want = truth_by_name.get(index[f][1])
                if mesa and want and want.split("!")[0][:12] != f"{mesa['centro']}.{int(mesa['mesa']):02d}":
                    wrong += 1
            median = statistics.median(sizes) / 1024
            base = base or median
            print(
                f"| {kind} | {label} | {len(files)} | {median:.0f} | {1 - median / base:.0%} | {ok} | {qr} | {wrong} |"
            )
    store.engine.dispose()
    from veedor.capture.evidence import remove_store

    remove_store(work / "ev")
    shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
