"""Make a clean acta image look the way actas really arrive.

Each family is one kind of damage, ``gray uint8 -> gray uint8``, driven only by the
``rng`` it is given (so a test or a drill is reproducible). Families chain: profiles.py
combines them (``"phone_bottom+dark+jpeg"``). ``tamper`` is apart because it changes the
truth: it pastes a re-encoded QR with moved votes over the original.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import cv2
import numpy as np
import segno

from veedor.definitions.schema import ElectionDefinition

Image = np.ndarray
Quad = np.ndarray  # 4x2 float32: top-left, top-right, bottom-right, bottom-left


# -- helpers ----------------------------------------------------------------------------
def _jpeg(gray: Image, quality: int) -> Image:
    ok, buf = cv2.imencode(".jpg", gray, [cv2.IMWRITE_JPEG_QUALITY, int(quality)])
    decoded = cv2.imdecode(buf, cv2.IMREAD_GRAYSCALE) if ok else None
    return gray if decoded is None else np.asarray(decoded)


def _smooth_field(h: int, w: int, cell: int, rng: np.random.Generator) -> np.ndarray:
    """Low-frequency noise in [-1, 1] at image size (cheap: upsample a small grid)."""
    small = rng.uniform(-1, 1, (max(2, h // cell + 2), max(2, w // cell + 2))).astype(np.float32)
    return cv2.resize(small, (w, h), interpolation=cv2.INTER_CUBIC)


def _background(h: int, w: int, rng: np.random.Generator) -> Image:
    """A table or hand-held surface behind a photographed receipt."""
    level = float(rng.uniform(40, 170))
    field = _smooth_field(h, w, 200, rng) * float(rng.uniform(10, 40)) + level
    return np.clip(field, 0, 255).astype(np.uint8)


def qr_quad(gray: Image) -> tuple[Quad, str, str] | None:
    """Corners, text and error level of the first QR zxing-cpp finds, or None."""
    import zxingcpp

    from veedor.read.regions import position_quad

    for r in zxingcpp.read_barcodes(gray, formats=zxingcpp.BarcodeFormat.QRCode):  # type: ignore[arg-type]
        if r.valid and r.text:
            return position_quad(r.position), r.text, r.ec_level or "Q"
    return None


def _qr_region(gray: Image) -> tuple[float, float, float]:
    """(cx, cy, side) of the QR; falls back to where it sits on a receipt (the bottom)."""
    found = qr_quad(gray)
    h, w = gray.shape
    if found is None:
        side = 0.7 * w
        return w / 2, h - 0.6 * side - 0.1 * min(h, 3 * w), side
    quad = found[0]
    center = quad.mean(axis=0)
    side = float(np.linalg.norm(quad[1] - quad[0]))
    return float(center[0]), float(center[1]), side


def _lighting(gray: Image, rng: np.random.Generator, strength: float) -> Image:
    """Uneven light: a smooth gain field plus a linear fall-off from one side."""
    h, w = gray.shape
    gain = 1 + strength * _smooth_field(h, w, max(h, w) // 3, rng)
    ramp = np.linspace(1 - strength, 1, w if rng.random() < 0.5 else h, dtype=np.float32)
    gain *= ramp[None, :] if ramp.size == w else ramp[:, None]
    return np.clip(gray.astype(np.float32) * gain, 0, 255).astype(np.uint8)


def _noise(gray: Image, sigma: float, rng: np.random.Generator) -> Image:
    noise = rng.normal(0, sigma, gray.shape).astype(np.float32)
    return np.clip(gray.astype(np.float32) + noise, 0, 255).astype(np.uint8)


def _photo(sheet: Image, out_h: int, fill: float, jitter: float, rng: np.random.Generator) -> Image:
    """Place ``sheet`` in a phone frame with perspective, on a background."""
    sh, sw = sheet.shape
    out_w = int(out_h * 0.75)
    scale = min(fill * out_h / sh, fill * out_w / sw)
    tw, th = sw * scale, sh * scale
    x0, y0 = (out_w - tw) / 2, (out_h - th) / 2
    dst = np.array([[x0, y0], [x0 + tw, y0], [x0 + tw, y0 + th], [x0, y0 + th]], np.float32)
    dst += rng.uniform(-jitter, jitter, (4, 2)).astype(np.float32) * np.float32(min(tw, th))
    src = np.array([[0, 0], [sw, 0], [sw, sh], [0, sh]], np.float32)
    m = cv2.getPerspectiveTransform(src, dst)
    out = _background(out_h, out_w, rng)
    cv2.warpPerspective(
        sheet,
        m,
        (out_w, out_h),
        dst=out,
        flags=cv2.INTER_AREA if scale < 1 else cv2.INTER_LINEAR,
        borderMode=cv2.BORDER_TRANSPARENT,
    )
    out = _lighting(out, rng, float(rng.uniform(0.05, 0.25)))
    out = cv2.GaussianBlur(out, (0, 0), float(rng.uniform(0.4, 1.0)))
    return _jpeg(_noise(out, float(rng.uniform(2, 5)), rng), int(rng.integers(75, 92)))


# -- families ---------------------------------------------------------------------------
def _scan(gray: Image, rng: np.random.Generator) -> Image:
    """Another pass through a document scanner: a hair of skew, tone shift, JPEG."""
    h, w = gray.shape
    m = cv2.getRotationMatrix2D((w / 2, h / 2), float(rng.uniform(-0.8, 0.8)), 1.0)
    out = cv2.warpAffine(gray, m, (w, h), borderValue=int(rng.integers(200, 250)))
    out = cv2.convertScaleAbs(out, alpha=float(rng.uniform(0.9, 1.05)), beta=float(rng.uniform(-10, 8)))
    return _jpeg(out, int(rng.integers(70, 92)))


def _phone_full(gray: Image, rng: np.random.Generator) -> Image:
    return _photo(gray, int(rng.integers(2600, 3400)), float(rng.uniform(0.85, 0.95)), 0.03, rng)


def _phone_bottom(gray: Image, rng: np.random.Generator) -> Image:
    """A close photo of the bottom of the receipt, where the QR is."""
    h, w = gray.shape
    keep = int(min(h, w * rng.uniform(1.15, 2.0)))
    return _photo(gray[h - keep :], int(rng.integers(1600, 2600)), float(rng.uniform(0.7, 0.9)), 0.06, rng)


def _perspective(gray: Image, rng: np.random.Generator) -> Image:
    h, w = gray.shape
    src = np.array([[0, 0], [w, 0], [w, h], [0, h]], np.float32)
    dst = src + rng.uniform(-0.08, 0.08, (4, 2)).astype(np.float32) * np.float32(w)
    dst -= dst.min(axis=0)
    size = dst.max(axis=0).astype(int) + 1
    m = cv2.getPerspectiveTransform(src, dst)
    return cv2.warpPerspective(gray, m, (int(size[0]), int(size[1])), borderValue=int(rng.integers(30, 200)))


def _rotate(gray: Image, rng: np.random.Generator, angle: float | None = None) -> Image:
    h, w = gray.shape
    angle = float(rng.uniform(-25, 25)) if angle is None else angle
    m = cv2.getRotationMatrix2D((w / 2, h / 2), angle, 1.0)
    cos, sin = abs(m[0, 0]), abs(m[0, 1])
    nw, nh = int(h * sin + w * cos), int(h * cos + w * sin)
    m[0, 2] += nw / 2 - w / 2
    m[1, 2] += nh / 2 - h / 2
    return cv2.warpAffine(gray, m, (nw, nh), borderValue=int(rng.integers(30, 230)))


def _upside_down(gray: Image, rng: np.random.Generator) -> Image:
    return _rotate(gray, rng, 180 + float(rng.uniform(-3, 3)))


def _blur(gray: Image, rng: np.random.Generator) -> Image:
    return cv2.GaussianBlur(gray, (0, 0), float(rng.uniform(1.2, 4.0)))


def _motion_blur(gray: Image, rng: np.random.Generator) -> Image:
    length = int(rng.integers(5, 22))
    kernel: Image = np.zeros((length, length), np.float32)
    kernel[length // 2, :] = 1.0 / length
    m = cv2.getRotationMatrix2D((length / 2 - 0.5, length / 2 - 0.5), float(rng.uniform(0, 180)), 1.0)
    kernel = cv2.warpAffine(kernel, m, (length, length))
    kernel = (kernel / max(float(kernel.sum()), 1e-6)).astype(np.float32)
    return cv2.filter2D(gray, -1, kernel)


def _faded(gray: Image, rng: np.random.Generator) -> Image:
    """Old thermal paper: the ink fades unevenly toward the paper tone."""
    h, w = gray.shape
    paper = float(np.percentile(gray[:: max(1, h // 200), :: max(1, w // 100)], 90))
    keep = 0.45 + 0.25 * _smooth_field(h, w, 400, rng) + float(rng.uniform(-0.15, 0.1))
    keep = np.clip(keep, 0.2, 0.9)
    out = paper - (paper - gray.astype(np.float32)) * keep
    return np.clip(out, 0, 255).astype(np.uint8)


def _crumpled(gray: Image, rng: np.random.Generator) -> Image:
    """Crumpled paper: a smooth displacement field and the shading of its folds."""
    h, w = gray.shape
    amp = float(rng.uniform(1, 3.5))
    cell = int(rng.integers(120, 260))
    dx = _smooth_field(h, w, cell, rng) * amp
    dy = _smooth_field(h, w, cell, rng) * amp
    xs, ys = np.meshgrid(np.arange(w, dtype=np.float32), np.arange(h, dtype=np.float32))
    out = cv2.remap(gray, xs + dx, ys + dy, cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)
    shade = 1 + 0.015 * cv2.Sobel(dx, cv2.CV_32F, 1, 0, ksize=3) * cell / amp
    return np.clip(out.astype(np.float32) * np.clip(shade, 0.85, 1.05), 0, 255).astype(np.uint8)


def _crease(gray: Image, rng: np.random.Generator) -> Image:
    """Sharp folds across the receipt: a dark band with a bright edge at each."""
    out = gray.astype(np.float32)
    h, w = gray.shape
    for _ in range(int(rng.integers(1, 4))):
        y0 = float(rng.uniform(0.3, 0.97) * h)
        slope = float(rng.uniform(-0.15, 0.15))
        # only the rows the fold crosses are touched (a fold is thin, the receipt long)
        top = int(max(0, y0 - abs(slope) * w / 2 - 40))
        bottom = int(min(h, y0 + abs(slope) * w / 2 + 40))
        if bottom <= top:
            continue
        ys, xs = np.mgrid[top:bottom, 0:w].astype(np.float32)
        dist = ys - (y0 + slope * (xs - w / 2))
        band = np.exp(-(dist**2) / (2 * float(rng.uniform(2, 6)) ** 2))
        region = out[top:bottom]
        region *= 1 - float(rng.uniform(0.15, 0.4)) * band
        region += 25 * np.exp(-((dist - 4) ** 2) / 8)
    return np.clip(out, 0, 255).astype(np.uint8)


def _stain(gray: Image, rng: np.random.Generator) -> Image:
    """Coffee or water stains: translucent blotches with a darker rim."""
    h, w = gray.shape
    mask: Image = np.zeros((h, w), np.float32)
    cx0, cy0, side = _qr_region(gray)
    for _ in range(int(rng.integers(1, 4))):
        near_qr = rng.random() < 0.6
        cx = cx0 + rng.uniform(-side, side) if near_qr else rng.uniform(0, w)
        cy = cy0 + rng.uniform(-side, side) if near_qr else rng.uniform(0, h)
        axes = (int(rng.uniform(0.1, 0.35) * w), int(rng.uniform(0.1, 0.35) * w))
        blob = np.zeros((h, w), np.float32)
        cv2.ellipse(
            blob,
            (int(cx), int(cy)),
            axes,
            float(rng.uniform(0, 180)),
            0,
            360,
            float(rng.uniform(0.15, 0.6)),
            -1,
        )
        cv2.ellipse(blob, (int(cx), int(cy)), axes, 0, 0, 360, 0.5, int(rng.integers(2, 6)))
        mask = np.maximum(mask, blob)
    mask = cv2.GaussianBlur(mask, (0, 0), 4)
    return np.clip(gray.astype(np.float32) * (1 - mask), 0, 255).astype(np.uint8)


def _finger_qr(gray: Image, rng: np.random.Generator) -> Image:
    """A thumb holding the paper, over an edge of the QR."""
    out = gray.copy()
    cx, cy, side = _qr_region(gray)
    sx, sy = [(-1, 0), (1, 0), (0, 1), (0, -1)][int(rng.integers(0, 4))]
    along = side * 0.45  # the thumb's half-length, pointing at the QR
    axes = (int(along if sx else side * 0.3), int(side * 0.3 if sx else along))
    # how much of the QR the thumb covers: a little (readable) to a lot (hopeless)
    depth = side / 2 + along - float(rng.uniform(0.05, 0.35)) * side
    fx, fy = cx + sx * depth, cy + sy * depth
    finger: Image = np.zeros(gray.shape, np.uint8)
    cv2.ellipse(finger, (int(fx), int(fy)), axes, float(rng.uniform(-20, 20)), 0, 360, 255, -1)
    finger = cv2.GaussianBlur(finger, (0, 0), 6)
    tone = float(rng.uniform(70, 160))
    alpha = finger.astype(np.float32) / 255
    out = out.astype(np.float32) * (1 - alpha) + tone * alpha
    return np.clip(out, 0, 255).astype(np.uint8)


def _qr_cut(gray: Image, rng: np.random.Generator) -> Image:
    """The frame cuts off part of the QR (left, right or bottom)."""
    cx, cy, side = _qr_region(gray)
    cut = float(rng.uniform(0.05, 0.3)) * side
    side_pick = int(rng.integers(0, 3))
    if side_pick == 0:
        return gray[:, max(0, int(cx - side / 2 + cut)) :].copy()
    if side_pick == 1:
        return gray[:, : max(1, int(cx + side / 2 - cut))].copy()
    return gray[: max(1, int(cy + side / 2 - cut))].copy()


def _low_res(gray: Image, rng: np.random.Generator) -> Image:
    f = float(rng.uniform(0.2, 0.55))
    return cv2.resize(gray, None, fx=f, fy=f, interpolation=cv2.INTER_AREA)


def _jpeg_heavy(gray: Image, rng: np.random.Generator) -> Image:
    out = gray
    for _ in range(int(rng.integers(1, 3))):
        out = _jpeg(out, int(rng.integers(4, 30)))
    return out


def _dark(gray: Image, rng: np.random.Generator) -> Image:
    """Bad light: under-exposed, low contrast, noisy (high ISO)."""
    gain = float(rng.uniform(0.15, 0.6))
    out = gray.astype(np.float32) * gain + float(rng.uniform(5, 25))
    out = _lighting(np.clip(out, 0, 255).astype(np.uint8), rng, 0.3)
    return _noise(out, float(rng.uniform(4, 14)), rng)


_FAMILIES: dict[str, Callable[[Image, np.random.Generator], Image]] = {
    "clean": lambda g, _r: g,
    "scan": _scan,
    "phone_full": _phone_full,
    "phone_bottom": _phone_bottom,
    "perspective": _perspective,
    "rotate": _rotate,
    "upside_down": _upside_down,
    "blur": _blur,
    "motion_blur": _motion_blur,
    "faded": _faded,
    "crumpled": _crumpled,
    "crease": _crease,
    "stain": _stain,
    "finger_qr": _finger_qr,
    "qr_cut": _qr_cut,
    "low_res": _low_res,
    "jpeg": _jpeg_heavy,
    "dark": _dark,
}
FAMILIES: tuple[str, ...] = tuple(_FAMILIES)


PARTS: tuple[str, ...] = ("tune", "held")


class Part(np.random.Generator):
    """The generator's random source kept to one part of its parameter space, so that rules
    can be tuned on one part and reported on the other (issue 25's protocol).

    Every ``uniform`` draw falls in alternate eighths of its range and every ``integers``
    draw on alternate values: ``tune`` the even ones, ``held`` the odd ones. Both parts so
    reach from the mildest to the harshest strength of every family, and share no value of
    any parameter (blur σ, streak length, JPEG quality, scale, angle, which side a thumb
    covers, how many folds …). Other draws (noise, fields) are the generator's own. It
    shares ``rng``'s stream: the same seed and part always give the same image."""

    STRIPES = 8

    def __init__(self, rng: np.random.Generator, part: str) -> None:
        if part not in PARTS:
            raise ValueError(f"part must be one of {', '.join(PARTS)}, not {part!r}")
        super().__init__(rng.bit_generator)
        self.odd = PARTS.index(part)

    def uniform(self, low: Any = 0.0, high: Any = 1.0, size: Any = None) -> Any:
        pairs = self.STRIPES // 2
        u = self.random(size) * pairs  # which pair of stripes, and where inside the stripe
        stripe = 2 * np.floor(u) + self.odd
        return low + (high - low) * (stripe + u % 1) / self.STRIPES

    def integers(self, low: Any, high: Any = None, size: Any = None, *args: Any, **kwargs: Any) -> Any:
        if high is None:
            low, high = 0, low
        if args or kwargs or int(high) - int(low) < 2:  # one value: nothing to split
            return super().integers(low, high, size, *args, **kwargs)
        values = np.arange(int(low) + self.odd, int(high), 2)
        return values[super().integers(0, len(values), size)]


def degrade(gray: Image, family: str, rng: np.random.Generator, part: str | None = None) -> Image:
    """Apply one family, or a chain written ``"a+b+c"`` (applied left to right); with
    ``part`` (``"tune"`` or ``"held"``), only that part of each family's parameters
    (:class:`Part`)."""
    if part is not None:
        rng = Part(rng, part)
    if gray.ndim != 2:
        gray = cv2.cvtColor(gray, cv2.COLOR_BGR2GRAY)
    for name in family.split("+"):
        try:
            func = _FAMILIES[name]
        except KeyError:
            raise ValueError(
                f"familia desconocida / unknown family {name!r}; known: {', '.join(FAMILIES)}"
            ) from None
        gray = func(gray, rng)
    return np.ascontiguousarray(gray)


# -- tampering --------------------------------------------------------------------------
def move_votes(
    payload: str, definition: ElectionDefinition, rng: np.random.Generator, votes_moved: int = 0
) -> str:
    """The same payload with some votes moved from one candidate to another.

    The moved payload still passes every arithmetic check (totals are preserved), which
    is exactly what makes a pasted QR dangerous. ``votes_moved`` > 0 moves exactly that
    many from a line chosen at random among those that have them: the subtlest forgery,
    "16" printed where the QR says 15, is the hardest for the print check to see.
    """
    spec = definition.payload
    parts = payload.split(spec["separator"])
    where = spec["fields"].index("votes")
    votes = [int(v) for v in parts[where].split(spec["count_separator"])]
    order = np.argsort(votes)[::-1]
    src = int(order[0]) if votes[int(order[0])] > 0 else 0
    having = [i for i, v in enumerate(votes) if v >= votes_moved]
    if votes_moved > 0 and having:
        src = int(rng.choice(having))
        moved = votes_moved
    elif votes[src] == 0:
        votes[src] = 1  # nothing to move: inventing a vote is tampering too
        moved = 1
    else:
        moved = int(rng.integers(max(1, votes[src] // 10), max(2, votes[src] // 2 + 1)))
        moved = min(moved, votes[src])
    others = [p.position for p in definition.ballot if p.candidate != definition.ballot[src].candidate]
    dst = int(rng.choice(others)) if others else (src + 1) % len(votes)
    votes[src] -= moved
    votes[dst] += moved
    return with_votes(payload, definition, votes)


def with_votes(payload: str, definition: ElectionDefinition, votes: list[int]) -> str:
    """The same payload with its per-line counts replaced by ``votes``."""
    spec = definition.payload
    parts = payload.split(spec["separator"])
    parts[spec["fields"].index("votes")] = spec["count_separator"].join(str(v) for v in votes)
    return str(spec["separator"]).join(parts)


def tamper(
    gray: Image,
    definition: ElectionDefinition,
    rng: np.random.Generator,
    votes_moved: int = 0,
    forge: Callable[[str], str] | None = None,
) -> tuple[Image, str]:
    """Paste a re-encoded QR with moved votes over the original, like a printed sticker;
    ``forge`` (the original payload → the forged one) replaces :func:`move_votes`.

    Raises ValueError when the original QR cannot be found (nothing to paste over).
    """
    if gray.ndim != 2:
        gray = cv2.cvtColor(gray, cv2.COLOR_BGR2GRAY)
    found = qr_quad(gray)
    if found is None:
        raise ValueError("no se encontró el QR / QR not found: cannot tamper")
    quad, text, level = found
    forged = forge(text) if forge is not None else move_votes(text, definition, rng, votes_moved)
    qr = segno.make(forged, error=level.lower() if level in "LMQH" else "q", micro=False, boost_error=False)
    matrix = np.array([list(row) for row in qr.matrix], dtype=np.uint8)
    n = matrix.shape[0]
    margin = 2  # the sticker's white border, in modules
    scale = 8
    sticker = np.kron(1 - np.pad(matrix, margin), np.ones((scale, scale), np.uint8))
    paper = float(np.percentile(gray, 95))
    sticker = np.where(sticker > 0, min(255.0, paper + 4), float(rng.uniform(15, 45)))
    side = (n + 2 * margin) * scale
    src = np.array(
        [
            [margin * scale, margin * scale],
            [(n + margin) * scale, margin * scale],
            [(n + margin) * scale, (n + margin) * scale],
            [margin * scale, (n + margin) * scale],
        ],
        np.float32,
    )
    dst = quad + rng.uniform(-3, 3, (4, 2)).astype(np.float32)
    m = cv2.getPerspectiveTransform(src, dst)
    h, w = gray.shape
    warped = cv2.warpPerspective(sticker.astype(np.float32), m, (w, h), flags=cv2.INTER_AREA)
    cover = cv2.warpPerspective(np.ones((side, side), np.float32), m, (w, h), flags=cv2.INTER_LINEAR)
    out = gray.astype(np.float32) * (1 - cover) + warped * cover
    # the sticker's cut edge casts a thin shadow
    edge = cv2.morphologyEx(
        (cover > 0.5).astype(np.uint8), cv2.MORPH_GRADIENT, np.ones((3, 3), np.uint8)
    ).astype(bool)
    out[edge] *= 0.6
    return np.clip(out, 0, 255).astype(np.uint8), forged
