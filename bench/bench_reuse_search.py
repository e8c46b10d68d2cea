"""The reused-photo search of the scan (pipeline/reuse.py): retrieval by the sheet key, then
same_picture with the QR masked.

For each real acta with a located QR: forgeries made from its photo (another real acta's QR
pasted on, by each split's pasters; half of them handled again after the paste, and plain
re-submitted copies), on the tuning split (whose plain pastes set SHEET_KEY_NEAR) and the
held-back split. Prints, per split: the key distance to the original, the share retrieved at
SHEET_KEY_NEAR, the share the masked comparison then calls the same picture, and the false
alarms of both over every pair of different real actas; and the time of one key, one
in-memory search over a national archive's worth of keys, and one verification.

    python bench/bench_reuse_search.py [--per-acta 2] [--seed 2026]
"""

from __future__ import annotations

import argparse
import itertools
import statistics
import time
from pathlib import Path

import cv2
import numpy as np

from veedor.definitions import load_definition
from veedor.pipeline.reuse import _Index
from veedor.read import forensics as fx
from veedor.simulate import tamper
from veedor.simulate.degrade import qr_quad

ACTAS = Path(__file__).resolve().parents[1] / "samples" / "actas"


def masked_hash(gray: np.ndarray, quad: np.ndarray) -> fx.PictureHash:
    return fx.perceptual_hash(fx.without_qr(gray, quad))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--per-acta", type=int, default=2)
    ap.add_argument("--seed", type=int, default=2026)
    args = ap.parse_args()
    definition = load_definition("ve-2024-presidential")
    sheets = [s for p in sorted(ACTAS.glob("*/*.jpg")) if (s := tamper.sheet(cv2.imread(str(p), 0)))]
    print(f"{len(sheets)} real actas with a located QR")
    keys = [fx.sheet_key(s.gray, s.quad) for s in sheets]
    hashes = [masked_hash(s.gray, s.quad) for s in sheets]
    pairs = list(itertools.combinations(range(len(sheets)), 2))
    distances = sorted(fx.hamming(keys[a], keys[b]) for a, b in pairs)
    near = sum(d <= fx.SHEET_KEY_NEAR for d in distances)
    same = sum(fx.same_picture(hashes[a], hashes[b]).same for a, b in pairs)
    print(
        f"different real actas, {len(pairs)} pairs: key distance min {distances[0]}, median "
        f"{statistics.median(distances)}; retrieved at <= {fx.SHEET_KEY_NEAR}: {near}; "
        f"called the same picture (QR masked): {same}"
    )
    rng = np.random.default_rng(args.seed)
    for split in (tamper.TUNING, tamper.HELD_BACK):
        rows: list[tuple[str, int, bool]] = []
        for i, s in enumerate(sheets):
            for k in range(args.per_acta):
                donor = sheets[(i + 1 + k) % len(sheets)]
                image, _how = tamper.paste_qr(s, donor, split, rng, definition)
                kind = "paste"
                if k % 2:
                    image, _ = tamper.reuse(image, split, rng)
                    kind = "paste+handled"
                copy, _ = tamper.reuse(s.gray, split, rng)
                for name, picture in ((kind, image), ("reused copy", copy)):
                    found = qr_quad(picture)
                    if found is None:
                        continue  # no QR located: the search has no key (the reader flags the QR)
                    d = fx.hamming(keys[i], fx.sheet_key(picture, found[0]))
                    verified = fx.same_picture(hashes[i], masked_hash(picture, found[0])).same
                    rows.append((name, d, verified))
        print(f"\n== {split.name} split")
        for name in ("paste", "paste+handled", "reused copy"):
            group = [r for r in rows if r[0] == name]
            if not group:
                continue
            got = [d <= fx.SHEET_KEY_NEAR for _, d, _ in group]
            both = [d <= fx.SHEET_KEY_NEAR and v for _, d, v in group]
            print(
                f"{name:14s} n={len(group):3d}  key distance median {statistics.median(d for _, d, _ in group):5.1f} "
                f"max {max(d for _, d, _ in group):3d}  retrieved {sum(got)}/{len(group)}  "
                f"verified {sum(v for *_, v in group)}/{len(group)}  found {sum(both)}/{len(group)} "
                f"({100 * sum(both) / len(group):.1f} %)"
            )
    print("\n== time (this machine, same run)")
    s = sheets[0]
    t = time.perf_counter()
    for _ in range(20):
        fx.sheet_key(s.gray, s.quad)
    key_ms = (time.perf_counter() - t) / 20 * 1000
    index = _Index()
    index.add(
        (f"{i:064x}", (str(i), 1), f"{int(rng.integers(2**62)) << 130 | i:048x}", []) for i in range(30_000)
    )
    t = time.perf_counter()
    for _ in range(50):
        index.near(f"{keys[0]:048x}")
    search_ms = (time.perf_counter() - t) / 50 * 1000
    t = time.perf_counter()
    fx.same_picture(masked_hash(s.gray, s.quad), masked_hash(sheets[1].gray, sheets[1].quad))
    verify_ms = (time.perf_counter() - t) * 1000
    print(
        f"sheet key {key_ms:.2f} ms an image; search among 30,000 keys {search_ms:.2f} ms; "
        f"one verification (two hashes and the comparison) {verify_ms:.0f} ms"
    )


if __name__ == "__main__":
    main()
