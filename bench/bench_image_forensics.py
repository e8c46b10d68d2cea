"""Image forensics: false alarms on the real actas, detection on the tampering generator.

Run:  .venv/bin/python bench/bench_image_forensics.py [--per-acta N] [--seed S]

Prints, for the two detectors of ``veedor.read.forensics``:

- reused photo (``same_picture``): false alarms over all pairs of the 23 real actas (and
  over pairs of synthetic actas, the tuning split's negatives, and pairs where one acta went
  through a split's handling), detection of each real acta's re-submitted copies from the
  tuning and the held-back split of ``veedor.simulate.tamper``;
- pasted QR (``pasted_qr``): false alarms on each real acta and on its benign handlings,
  detection on each split's pasted QRs, by kind;
- time per image against the time zxing-cpp takes to decode the QR of the same image, in
  the same run, as a ratio (the pairwise comparison is timed per pair).

Thresholds live in the module and were chosen on the tuning split only; the held-back split
is reported, never tuned on. Run with the seed of the docs (default) to get their figures.
"""

from __future__ import annotations

import argparse
import itertools
import statistics
import time
from collections import defaultdict
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import cv2
import numpy as np

from veedor.definitions.schema import load_definition
from veedor.read import forensics as fx
from veedor.simulate import tamper
from veedor.simulate.degrade import degrade, qr_quad
from veedor.simulate.render import ActaRenderer, ActaSpec

ROOT = Path(__file__).resolve().parents[1]
ACTAS = ROOT / "samples" / "actas"
T = TypeVar("T")


def timed(fn: Callable[..., T], *args: Any) -> tuple[T, float]:
    t0 = time.perf_counter()
    out = fn(*args)
    return out, (time.perf_counter() - t0) * 1000


def rate(flags: list[bool]) -> str:
    return f"{sum(flags)}/{len(flags)} ({100 * sum(flags) / max(1, len(flags)):.1f} %)"


def spread(values: list[float]) -> str:
    return f"min {min(values):.3f} median {statistics.median(values):.3f} max {max(values):.3f}"


def synthetic(count: int, seed: int) -> list[np.ndarray]:
    """Different mesas of the same form, rendered and passed once through a scanner."""
    renderer = ActaRenderer(load_definition("ve-2024-presidential"))
    out = []
    for mesa in range(1, count + 1):
        rng = np.random.default_rng([seed, 7, mesa])
        votes = tuple(int(v) for v in rng.poisson(3, len(renderer.d.ballot)))
        spec = ActaSpec("240111017", mesa, votes, int(rng.integers(0, 5)))
        out.append(degrade(renderer.render(spec, rng).gray, "scan", rng))
    return out


def reuse_bench(
    names: list[str], grays: list[np.ndarray], hashes: list[fx.PictureHash], per: int, seed: int
) -> dict[str, float]:
    print("\n== reused photo (same_picture), threshold", fx.SAME_THRESHOLD)
    pair_ms: list[float] = []
    real = []
    for i, j in itertools.combinations(range(len(grays)), 2):
        match, ms = timed(fx.same_picture, hashes[i], hashes[j])
        pair_ms.append(ms)
        real.append((match.score, names[i], names[j], match.same))
    print(f"real actas, all {len(real)} pairs of different mesas: false alarms {rate([r[3] for r in real])}")
    top = max(real)
    print(f"  scores {spread([r[0] for r in real])}; highest: {top[1]} vs {top[2]}")
    dct = [fx.hamming(hashes[i].dct, hashes[j].dct) for i, j in itertools.combinations(range(len(grays)), 2)]
    qrs = [
        fx.hamming(a.qr, b.qr)
        for a, b in itertools.combinations(hashes, 2)
        if a.qr is not None and b.qr is not None
    ]
    print(f"  64-bit DCT hash distance between different actas: {spread([float(d) for d in dct])}")
    print(f"  256-bit QR-region hash distance between different actas: {spread([float(d) for d in qrs])}")

    synth = [fx.perceptual_hash(g) for g in synthetic(8, seed)]
    neg = [fx.same_picture(a, b) for a, b in itertools.combinations(synth, 2)]
    print(f"synthetic actas (tuning negatives), {len(neg)} pairs: false alarms {rate([m.same for m in neg])}")
    print(f"  scores {spread([m.score for m in neg])}")

    for split in (tamper.TUNING, tamper.HELD_BACK):
        pos, handled, dcts, qr_d = [], [], [], []
        by_op: dict[str, list[bool]] = defaultdict(list)
        for i, gray in enumerate(grays):
            for k in range(per):
                rng = np.random.default_rng([seed, 1 if split is tamper.TUNING else 2, i, k])
                copy, desc = tamper.reuse(gray, split, rng)
                found = qr_quad(copy)
                h = fx.perceptual_hash(copy, None if found is None else found[0])
                match = fx.same_picture(hashes[i], h)
                pos.append(match)
                for op in desc.split("+")[:-1]:
                    by_op[op].append(match.same)
                dcts.append(fx.hamming(hashes[i].dct, h.dct))
                original = hashes[i].qr
                if h.qr is not None and original is not None:
                    qr_d.append(fx.hamming(original, h.qr))
                other = hashes[(i + 1 + k) % len(hashes)]
                handled.append(fx.same_picture(other, h))
        print(f"{split.name}: reused copies detected {rate([m.same for m in pos])}")
        print(f"  scores {spread([m.score for m in pos])}")
        print("  by operation: " + ", ".join(f"{op} {rate(v)}" for op, v in sorted(by_op.items())))
        print(f"  DCT hash distance to the original: {spread([float(d) for d in dcts])}")
        if qr_d:
            print(f"  QR-region hash distance to the original: {spread([float(d) for d in qr_d])}")
        print(
            f"  handled copy vs another real acta: false alarms {rate([m.same for m in handled])}, "
            f"scores {spread([m.score for m in handled])}"
        )
    return {"pair_ms": statistics.median(pair_ms)}


def pasted_bench(names: list[str], grays: list[np.ndarray], per: int, seed: int) -> list[float]:
    print(
        f"\n== pasted QR (pasted_qr): alarm when score >= 1 (seam >= {fx.SEAM_THRESHOLD}, "
        f"grid ratio <= {fx.GRID_RATIO} with modules >= {fx.GRID_MIN_PITCH} px and sheet grid "
        f">= {fx.GRID_MIN_SHEET})"
    )
    definition = load_definition("ve-2024-presidential")
    sheets = [tamper.sheet(g) for g in grays]
    readable = [(n, s) for n, s in zip(names, sheets, strict=True) if s is not None]
    print(f"real actas with a located QR: {len(readable)} of {len(grays)}")
    ms: list[float] = []
    real = []
    for name, s in readable:
        finding, t = timed(fx.pasted_qr, s.gray, s.quad)
        ms.append(t)
        real.append((finding.score, name, finding.suspicious, finding.reason))
    print(f"real actas: false alarms {rate([r[2] for r in real])}; scores {spread([r[0] for r in real])}")
    top = max(real)
    print(f"  highest: {top[1]}: {top[3]}")
    for split in (tamper.TUNING, tamper.HELD_BACK):
        sid = 1 if split is tamper.TUNING else 2
        benign, by_kind, unread = [], defaultdict(list), 0
        for i, (_, s) in enumerate(readable):
            for k in range(per):
                rng = np.random.default_rng([seed, 10 + sid, i, k])
                donor = readable[(i + 1 + 5 * k) % len(readable)][1]
                forged, kind = tamper.paste_qr(s, donor, split, rng, definition)
                found = tamper.sheet(forged)
                if found is None:
                    unread += 1  # the reader already flags an unreadable QR
                    continue
                by_kind[kind].append(fx.pasted_qr(found.gray, found.quad))
                handled, _ = tamper.benign(s.gray, split, rng)
                found = tamper.sheet(handled)
                if found is not None:
                    benign.append(fx.pasted_qr(found.gray, found.quad))
        every = [f for v in by_kind.values() for f in v]
        print(
            f"{split.name}: pasted QRs detected {rate([f.suspicious for f in every])} ({unread} unreadable after the paste, not counted)"
        )
        print(
            "  by kind: "
            + ", ".join(f"{k} {rate([f.suspicious for f in v])}" for k, v in sorted(by_kind.items()))
        )
        print(f"  scores of pasted: {spread([f.score for f in every])}")
        print(
            f"  genuine, same handling: false alarms {rate([f.suspicious for f in benign])}, scores {spread([f.score for f in benign])}"
        )
    return ms


def calibrate(grays: list[np.ndarray], per: int, seed: int) -> None:
    """The tuning split only: where the genuine and the pasted fall on each cue."""
    definition = load_definition("ve-2024-presidential")
    readable = [s for s in map(tamper.sheet, grays) if s is not None]
    genuine: list[fx.QrCues] = []
    pasted: list[fx.QrCues] = []
    for i, s in enumerate(readable):
        for k in range(per):
            rng = np.random.default_rng([seed, 99, i, k])
            forged, _ = tamper.paste_qr(
                s, readable[(i + 1 + 3 * k) % len(readable)], tamper.TUNING, rng, definition
            )
            handled, _ = tamper.benign(s.gray, tamper.TUNING, rng)
            for image, into in ((forged, pasted), (handled, genuine)):
                found = tamper.sheet(image)
                if found is not None:
                    into.append(fx.qr_cues(found.gray, found.quad))
    print(f"tuning split, {len(genuine)} genuine handled and {len(pasted)} pasted")
    gs = [c.seam for c in genuine]
    print(f"seam: genuine {spread(gs)}; pasted {spread([c.seam for c in pasted])}")
    print(f"  1.5x the genuine maximum: {1.5 * max(gs):.3f} (in use: {fx.SEAM_THRESHOLD})")
    gr = [c.grid_ratio for c in genuine if c.grid_applies and c.grid_ratio is not None]
    pr = [c.grid_ratio for c in pasted if c.grid_applies and c.grid_ratio is not None]
    print(f"grid ratio where it applies: genuine ({len(gr)}) {spread(gr)}; pasted ({len(pr)}) {spread(pr)}")
    print(f"  genuine minimum - 0.1: {min(gr) - 0.1:.3f} (in use: {fx.GRID_RATIO})")
    caught = [
        c.seam >= fx.SEAM_THRESHOLD or (c.grid_applies and (c.grid_ratio or 1) <= fx.GRID_RATIO)
        for c in pasted
    ]
    print(f"pasted caught at the thresholds in use: {rate(caught)}")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--per-acta", type=int, default=3, help="forgeries per real acta and split")
    ap.add_argument("--seed", type=int, default=2026)
    ap.add_argument("--calibrate", action="store_true", help="only the tuning split's cue distributions")
    args = ap.parse_args()
    paths = sorted(ACTAS.glob("*/*.jpg"))
    names = [p.name for p in paths]
    grays = [np.asarray(cv2.imread(str(p), cv2.IMREAD_GRAYSCALE)) for p in paths]
    print(f"{len(grays)} real actas from {ACTAS.relative_to(ROOT)}")
    if args.calibrate:
        calibrate(grays, args.per_acta, args.seed)
        return
    decode_ms, hash_ms, hashes = [], [], []
    for gray in grays:
        found, ms = timed(qr_quad, gray)  # the reader's fast path: zxing-cpp on the full image
        decode_ms.append(ms)
        h, ms = timed(fx.perceptual_hash, gray, None if found is None else found[0])
        hash_ms.append(ms)
        hashes.append(h)
    reuse = reuse_bench(names, grays, hashes, args.per_acta, args.seed)
    pasted_ms = pasted_bench(names, grays, args.per_acta, args.seed)
    dec = statistics.median(decode_ms)
    print("\n== time (medians over the real actas, same run)")
    print(f"QR decode (zxing-cpp, full image): {dec:.1f} ms")
    print(
        f"perceptual_hash: {statistics.median(hash_ms):.1f} ms = {statistics.median(hash_ms) / dec:.1f}x decode"
    )
    print(
        f"same_picture, per pair of hashes: {reuse['pair_ms']:.1f} ms = {reuse['pair_ms'] / dec:.1f}x decode"
    )
    print(
        f"pasted_qr: {statistics.median(pasted_ms):.1f} ms = {statistics.median(pasted_ms) / dec:.1f}x decode"
    )


if __name__ == "__main__":
    main()
