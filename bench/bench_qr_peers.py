"""QR reading on degraded real actas: veedor's ladder against bare peers, per family.

Run:  PYTHONPATH=src python bench/bench_qr_peers.py [--per-family N] [--seed S]

Each of the 22 readable real actas is degraded N times per family (with
``veedor.simulate.degrade`` when it is importable, else with the small local
degradations below). Every degraded image goes through:

- bare zxing-cpp on the full image (what the fast path does, and nothing more);
- pyzbar on the full image (skipped with a note when libzbar is missing);
- OpenCV ``QRCodeDetector.detectAndDecode`` on the full image (what the 2024 volunteers used);
- veedor's ladder (``veedor.read.qr.attempts``), stopping at the first text that parses.

A reading counts as right only when the text equals the ground truth exactly; a text that
parses but differs is counted as *wrong* (for the ``tampered`` family the truth is the
pasted payload). The last table gives the clean-image times and the ladder/bare ratio.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from collections import Counter, defaultdict
from collections.abc import Callable
from pathlib import Path
from typing import Any

import cv2
import numpy as np

from veedor.definitions.parsers import PayloadError, parse_payload
from veedor.definitions.schema import load_definition
from veedor.read import qr

ROOT = Path(__file__).resolve().parents[1]
ACTAS = ROOT / "samples" / "actas"
TRUTH = ACTAS / "_ground_truth" / "qr_text_by_image.json"

# --------------------------------------------------------------------------------------
# Local degradations (used only when veedor.simulate.degrade is not available)
# --------------------------------------------------------------------------------------


def _qr_box(gray: np.ndarray) -> tuple[int, int, int, int]:
    """Where the QR sits on a clean scan (x0, y0, x1, y1), found by zxing on the clean image."""
    import zxingcpp

    found = zxingcpp.read_barcodes(gray, formats=zxingcpp.BarcodeFormat.QRCode)
    if not found:
        h, w = gray.shape
        return int(w * 0.13), h - int(w * 0.95), int(w * 0.85), h - int(w * 0.25)
    p = found[0].position
    xs = [p.top_left.x, p.top_right.x, p.bottom_left.x, p.bottom_right.x]
    ys = [p.top_left.y, p.top_right.y, p.bottom_left.y, p.bottom_right.y]
    return min(xs), min(ys), max(xs), max(ys)


def _jpeg(gray: np.ndarray, quality: int) -> np.ndarray:
    ok, buf = cv2.imencode(".jpg", gray, [cv2.IMWRITE_JPEG_QUALITY, quality])
    assert ok
    return cv2.imdecode(buf, cv2.IMREAD_GRAYSCALE)


def _rotate(gray: np.ndarray, angle: float, border: int = 255) -> np.ndarray:
    h, w = gray.shape
    m = cv2.getRotationMatrix2D((w / 2, h / 2), angle, 1.0)
    cos, sin = abs(m[0, 0]), abs(m[0, 1])
    nw, nh = int(h * sin + w * cos), int(h * cos + w * sin)
    m[0, 2] += nw / 2 - w / 2
    m[1, 2] += nh / 2 - h / 2
    return cv2.warpAffine(gray, m, (nw, nh), flags=cv2.INTER_LINEAR, borderValue=border)


def _table(shape: tuple[int, int], rng: np.random.Generator) -> np.ndarray:
    """A wooden/grey table: low-frequency texture, darker than paper."""
    h, w = shape
    base = rng.uniform(60, 150)
    noise = cv2.resize(rng.normal(0, 25, (max(2, h // 64), max(2, w // 64))), (w, h))
    grain = rng.normal(0, 6, (h, w))
    return np.clip(base + noise + grain, 0, 255).astype(np.uint8)


def _light(img: np.ndarray, rng: np.random.Generator, strength: float) -> np.ndarray:
    h, w = img.shape
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    cx, cy = rng.uniform(0, w), rng.uniform(0, h)
    d = np.sqrt((xx - cx) ** 2 + (yy - cy) ** 2) / max(h, w)
    gain = 1.0 - strength * d
    return np.clip(img.astype(np.float32) * gain, 0, 255).astype(np.uint8)


def _phone(gray: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """The acta (whole, or its lower part) photographed on a table, tilted, unevenly lit."""
    h = gray.shape[0]
    part = gray[int(h * rng.uniform(0.45, 0.7)) :] if rng.random() < 0.5 else gray
    ph, pw = part.shape
    out_long = int(rng.uniform(2600, 4000))
    scale = out_long * rng.uniform(0.75, 0.9) / ph
    tw, th = pw * scale, ph * scale
    canvas_h, canvas_w = out_long, int(max(tw * 2.2, out_long * 0.75))
    cx, cy = canvas_w / 2, canvas_h / 2
    jitter = 0.06 * tw
    dst = np.float32(
        [
            [cx - tw / 2 + rng.uniform(-jitter, jitter), cy - th / 2 + rng.uniform(-jitter, jitter)],
            [cx + tw / 2 + rng.uniform(-jitter, jitter), cy - th / 2 + rng.uniform(-jitter, jitter)],
            [cx + tw / 2 + rng.uniform(-jitter, jitter), cy + th / 2 + rng.uniform(-jitter, jitter)],
            [cx - tw / 2 + rng.uniform(-jitter, jitter), cy + th / 2 + rng.uniform(-jitter, jitter)],
        ]
    )
    src = np.float32([[0, 0], [pw, 0], [pw, ph], [0, ph]])
    m = cv2.getPerspectiveTransform(src, dst)
    table = _table((canvas_h, canvas_w), rng)
    warped = cv2.warpPerspective(part, m, (canvas_w, canvas_h), flags=cv2.INTER_AREA)
    mask = cv2.warpPerspective(np.full_like(part, 255), m, (canvas_w, canvas_h))
    img = np.where(mask > 127, warped, table)
    img = _rotate(img, rng.uniform(-25, 25), border=int(table.mean()))
    img = _light(img, rng, rng.uniform(0.2, 0.5))
    img = cv2.GaussianBlur(img, (0, 0), rng.uniform(0.8, 1.6))
    img = np.clip(img + rng.normal(0, 4, img.shape), 0, 255).astype(np.uint8)
    return _jpeg(img, int(rng.uniform(70, 90)))


def _perspective(gray: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    part = gray[gray.shape[0] // 2 :]
    ph, pw = part.shape
    k = rng.uniform(0.2, 0.35)
    src = np.float32([[0, 0], [pw, 0], [pw, ph], [0, ph]])
    if rng.random() < 0.5:  # keystone: top narrower (camera tilted towards the top)
        dst = np.float32([[pw * k, 0], [pw * (1 - k), 0], [pw, ph], [0, ph]])
    else:  # sideways tilt: one side shorter
        dst = np.float32([[0, ph * k * 0.3], [pw, 0], [pw, ph], [0, ph * (1 - k * 0.3)]])
    m = cv2.getPerspectiveTransform(src, dst)
    return cv2.warpPerspective(part, m, (pw, ph), borderValue=255)


def _rotation(gray: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    angle = float(rng.choice([90.0, 270.0, 0.0])) + rng.uniform(-40, 40)
    return _rotate(gray, angle)


def _upside_down(gray: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    return _rotate(cv2.rotate(gray, cv2.ROTATE_180), rng.uniform(-5, 5))


def _blur(gray: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    return cv2.GaussianBlur(gray, (0, 0), rng.uniform(2.5, 4.5))


def _motion(gray: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    n = int(rng.integers(12, 24))
    k = np.zeros((n, n), np.float32)
    k[n // 2, :] = 1.0
    rot = cv2.getRotationMatrix2D((n / 2 - 0.5, n / 2 - 0.5), rng.uniform(0, 180), 1.0)
    k = cv2.warpAffine(k, rot, (n, n))
    k /= k.sum()
    return cv2.filter2D(gray, -1, k)


def _faded(gray: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    lo, hi = rng.uniform(170, 205), rng.uniform(220, 245)
    img = lo + gray.astype(np.float32) / 255.0 * (hi - lo)
    img = _light(img.astype(np.uint8), rng, rng.uniform(0.05, 0.2)).astype(np.float32)
    return np.clip(img + rng.normal(0, 6, img.shape), 0, 255).astype(np.uint8)


def _crumpled(gray: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    h, w = gray.shape
    amp = rng.uniform(4, 9)
    coarse = (max(2, h // 180), max(2, w // 180))
    dx = cv2.resize(rng.normal(0, amp, coarse).astype(np.float32), (w, h), cv2.INTER_CUBIC)
    dy = cv2.resize(rng.normal(0, amp, coarse).astype(np.float32), (w, h), cv2.INTER_CUBIC)
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    img = cv2.remap(gray, xx + dx, yy + dy, cv2.INTER_LINEAR, borderValue=255)
    shade = cv2.resize(rng.normal(1.0, 0.12, coarse).astype(np.float32), (w, h), cv2.INTER_CUBIC)
    return np.clip(img * shade, 0, 255).astype(np.uint8)


def _stain(gray: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """A thumb, coffee or ink blot over part of the QR (well inside its error correction)."""
    img = gray.copy()
    x0, y0, x1, y1 = _qr_box(gray)
    s = x1 - x0
    cx = int(rng.uniform(x0 + 0.25 * s, x1 - 0.1 * s))
    cy = int(rng.uniform(y0 + 0.35 * s, y1 - 0.1 * s))
    axes = (int(s * rng.uniform(0.1, 0.17)), int(s * rng.uniform(0.08, 0.13)))
    kind = rng.integers(3)
    if kind == 0:  # thumb: opaque, skin grey
        cv2.ellipse(img, (cx, cy), axes, rng.uniform(0, 180), 0, 360, int(rng.uniform(110, 170)), -1)
    else:  # translucent stain: darkens, keeps some contrast
        mask = np.zeros_like(img)
        cv2.ellipse(mask, (cx, cy), axes, rng.uniform(0, 180), 0, 360, 255, -1)
        mask = cv2.GaussianBlur(mask, (0, 0), s * 0.02) / 255.0
        tint = rng.uniform(0.45, 0.65)
        img = (img * (1 - mask * (1 - tint))).astype(np.uint8)
    return img


def _cutoff(gray: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """The photo or scan cut at the QR: quiet zone gone, edge modules touching the border."""
    x0, _y0, x1, y1 = _qr_box(gray)
    side = rng.integers(3)
    module = (x1 - x0) / 49
    inside = int(rng.uniform(0.0, 0.6) * module)
    if side == 0:
        return gray[:, max(0, x0 + inside) :]
    if side == 1:
        return gray[:, : min(gray.shape[1], x1 - inside)]
    return gray[: min(gray.shape[0], y1 - inside), :]


def _lowres(gray: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    f = rng.uniform(0.17, 0.28)
    return cv2.resize(gray, None, fx=f, fy=f, interpolation=cv2.INTER_AREA)


def _heavy_jpeg(gray: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    f = rng.uniform(0.35, 0.6)
    small = cv2.resize(gray, None, fx=f, fy=f, interpolation=cv2.INTER_AREA)
    return _jpeg(small, int(rng.integers(2, 8)))


def tamper(gray: np.ndarray, text: str) -> np.ndarray:
    """Paste a QR carrying ``text`` over the acta's own QR (same size and place)."""
    import segno

    x0, y0, x1, y1 = _qr_box(gray)
    code = segno.make(text, error="q", micro=False)
    matrix = np.array(list(code.matrix), dtype=np.uint8)
    patch = np.where(matrix > 0, 0, 255).astype(np.uint8)
    patch = cv2.resize(patch, (x1 - x0, y1 - y0), interpolation=cv2.INTER_NEAREST)
    img = gray.copy()
    img[y0:y1, x0:x1] = patch
    return img


def tampered_text(truth: str) -> str:
    """Same acta id and format, one count changed: exactly what a forger would paste."""
    head, votes, *rest = truth.split("!")
    counts = votes.split(",")
    counts[0] = str(int(counts[0]) + 100)
    return "!".join([head, ",".join(counts), *rest])


LOCAL: dict[str, Callable[[np.ndarray, np.random.Generator], np.ndarray]] = {
    "phone": _phone,
    "perspective": _perspective,
    "rotation": _rotation,
    "upside-down": _upside_down,
    "blur": _blur,
    "motion-blur": _motion,
    "faded": _faded,
    "crumpled": _crumpled,
    "stain": _stain,
    "cutoff": _cutoff,
    "low-res": _lowres,
    "heavy-jpeg": _heavy_jpeg,
}


def degrader(
    local_only: bool = False,
) -> tuple[str, tuple[str, ...], Callable[..., np.ndarray], Callable[..., Any]]:
    """The shared simulator when it exists, else the local one.

    Returns (source, families, degrade(gray, family, rng), tamper(gray, truth, rng)).
    """
    shared: Any = None
    if not local_only:
        try:
            from veedor.simulate import degrade as shared
        except ImportError:
            shared = None
    if shared is not None:

        def shared_tamper(gray: np.ndarray, _truth: str, rng: np.random.Generator) -> Any:
            return shared.tamper(gray, DEFINITION, rng)

        families = tuple(f for f in shared.FAMILIES if f != "clean")
        return "veedor.simulate.degrade", (*families, "tampered"), shared.degrade, shared_tamper

    def local(gray: np.ndarray, family: str, rng: np.random.Generator) -> np.ndarray:
        return LOCAL[family](gray, rng)

    def local_tamper(gray: np.ndarray, truth: str, _rng: np.random.Generator) -> Any:
        forged = tampered_text(truth)
        return tamper(gray, forged), forged

    return "local (bench_qr_peers.py)", (*LOCAL, "tampered"), local, local_tamper


# --------------------------------------------------------------------------------------
# Bare peers
# --------------------------------------------------------------------------------------


def bare_zxing(gray: np.ndarray) -> list[str]:
    import zxingcpp

    return [r.text for r in zxingcpp.read_barcodes(gray, formats=zxingcpp.BarcodeFormat.QRCode) if r.valid]


def make_pyzbar() -> Callable[[np.ndarray], list[str]] | None:
    try:
        from pyzbar import pyzbar
    except (ImportError, OSError):
        return None

    def read(gray: np.ndarray) -> list[str]:
        found = pyzbar.decode(gray, symbols=[pyzbar.ZBarSymbol.QRCODE])
        return [r.data.decode("utf-8", "replace") for r in found]

    return read


_CV_DETECTOR = cv2.QRCodeDetector()


def bare_opencv(gray: np.ndarray) -> list[str]:
    try:
        ok, texts, _pts, _ = _CV_DETECTOR.detectAndDecodeMulti(gray)
    except cv2.error:
        return []
    return [t for t in texts if t] if ok else []


def ladder(gray: np.ndarray) -> tuple[list[str], str]:
    """Stop at the first text that parses, like the pipeline does."""
    for got in qr.attempts(gray):
        for text in got.texts:
            try:
                parse_payload(text, DEFINITION)
            except PayloadError:
                continue
            return [text], got.variant
    return [], "-"


DEFINITION = load_definition("ve-2024-presidential")


def verdict(texts: list[str], truth: str) -> str:
    """right: the true text; wrong: another acta-like text; none: nothing usable."""
    usable = []
    for t in texts:
        try:
            parse_payload(t, DEFINITION)
        except PayloadError:
            continue
        usable.append(t)
    if not usable:
        return "none"
    return "right" if usable[0] == truth else "wrong"


def _run(reader: str, img: np.ndarray) -> tuple[list[str], str, float]:
    """Runs in the guard's worker process: one reader on one image, timed."""
    start = time.perf_counter()
    if reader == "veedor":
        texts, won = ladder(img)
    else:
        read = {"zxing-bare": bare_zxing, "opencv": bare_opencv}.get(reader) or make_pyzbar()
        assert read is not None
        texts, won = read(img), "-"
    return texts, won, (time.perf_counter() - start) * 1000


class Guard:
    """Runs readers in a child process so that one pathological image (peers have no time
    limit; OpenCV and zbar can spin for minutes on noise) cannot stall the whole bench."""

    def __init__(self, timeout_s: float) -> None:
        import multiprocessing

        self._mp = multiprocessing.get_context("fork")
        self.timeout_s = timeout_s
        self._pool = self._mp.Pool(1)

    def __call__(self, reader: str, img: np.ndarray) -> tuple[list[str], str, float] | None:
        job = self._pool.apply_async(_run, (reader, img))
        try:
            return job.get(self.timeout_s)
        except self._mp.TimeoutError:
            self._pool.terminate()
            self._pool = self._mp.Pool(1)
            return None

    def close(self) -> None:
        self._pool.terminate()


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--per-family", type=int, default=2)
    ap.add_argument("--seed", type=int, default=2024)
    ap.add_argument("--families", default="", help="comma-separated subset")
    ap.add_argument("--local", action="store_true", help="use the local degradations")
    ap.add_argument("--timeout", type=float, default=20.0, help="seconds per reader per image")
    args = ap.parse_args()

    source, families, degrade, tamper_fn = degrader(local_only=args.local)
    if args.families:
        families = tuple(f for f in families if f in args.families.split(","))
    truth_by_image = {k: v for k, v in json.loads(TRUTH.read_text()).items() if v}
    images = {name: cv2.imread(str(ACTAS / name), cv2.IMREAD_GRAYSCALE) for name in sorted(truth_by_image)}
    pyzbar_read = make_pyzbar()
    peers = ["zxing-bare", *(["pyzbar"] if pyzbar_read is not None else []), "opencv"]
    guard = Guard(args.timeout)
    timeouts: Counter[str] = Counter()

    print(f"degradations: {source}; {len(images)} real actas x {args.per_family} per family")
    if pyzbar_read is None:
        print("note: pyzbar column skipped (libzbar not installed: apt-get install libzbar0)")

    tally: dict[str, dict[str, Counter[str]]] = defaultdict(lambda: defaultdict(Counter))
    times: dict[str, list[float]] = defaultdict(list)
    winners: Counter[str] = Counter()
    misses: list[str] = []
    rng = np.random.default_rng(args.seed)
    for family in families:
        for name, gray in images.items():
            truth = truth_by_image[name]
            for _ in range(args.per_family):
                if family == "tampered":
                    img, truth = tamper_fn(gray, truth_by_image[name], rng)
                else:
                    img = degrade(gray, family, rng)
                for peer in peers:
                    got = guard(peer, img)
                    if got is None:
                        timeouts[peer] += 1
                    tally[family][peer][verdict(got[0] if got else [], truth)] += 1
                got = guard("veedor", img)
                if got is None:
                    timeouts["veedor"] += 1
                texts, won, ms = got if got else ([], "-", args.timeout * 1000)
                times[family].append(ms)
                v = verdict(texts, truth)
                tally[family]["veedor"][v] += 1
                if v == "right":
                    winners[won] += 1
                else:
                    misses.append(f"{family}:{Path(name).name}:{v}")
        print(f"  {family}: done", file=sys.stderr)

    cols = [*peers, "veedor"]
    header = f"| family | n | {' | '.join(cols)} | veedor wrong | veedor ms (median) |"
    print()
    print(header)
    print("|" + "---|" * (header.count("|") - 1))
    totals: dict[str, Counter[str]] = defaultdict(Counter)
    for family in families:
        row = tally[family]
        n = sum(row["veedor"].values())
        cells = []
        for c in cols:
            totals[c].update(row[c])
            cells.append(f"{100 * row[c]['right'] / n:.0f}%")
        wrong = sum(row[c]["wrong"] for c in cols if c == "veedor")
        print(f"| {family} | {n} | {' | '.join(cells)} | {wrong} | {statistics.median(times[family]):.0f} |")
    n_all = sum(totals["veedor"].values())
    cells = [f"{100 * totals[c]['right'] / n_all:.1f}%" for c in cols]
    print(f"| **all** | {n_all} | {' | '.join(cells)} | {totals['veedor']['wrong']} | |")
    print("\nwrong readings by peer:", {c: totals[c]["wrong"] for c in cols})
    print("winning variants:", dict(winners.most_common()))
    print(f"timeouts (> {args.timeout:.0f} s, counted as not read):", dict(timeouts) or "none")
    guard.close()
    if misses:
        print("ladder misses:", ", ".join(misses))

    # Clean images: the fast path must keep its speed.
    bare_ms, ladder_ms = [], []
    for gray in images.values():
        for _ in range(3):
            s = time.perf_counter()
            bare_zxing(gray)
            bare_ms.append((time.perf_counter() - s) * 1000)
            s = time.perf_counter()
            ladder(gray)
            ladder_ms.append((time.perf_counter() - s) * 1000)
    b, lad = statistics.median(bare_ms), statistics.median(ladder_ms)
    print(f"\nclean real actas: bare zxing {b:.1f} ms, ladder {lad:.1f} ms, ratio {lad / b:.2f}x")


if __name__ == "__main__":
    main()
