"""Forged acta images, to measure the image-forensics detectors (``veedor.read.forensics``).

Two forgeries, each driven only by the ``rng`` it is given:

- ``reuse``: one photo submitted again under another mesa, disguised by recompression,
  resizing, cropping, a tone change, a rotation...;
- ``paste_qr``: the acta's QR replaced by another one: re-rendered with other numbers,
  or cut from another acta, and composited at a varying scale, blur, noise and JPEG
  quality.

The parameters come in two splits that differ in kind, not only in seed. ``TUNING`` is
what the detectors' thresholds were chosen on; ``HELD_BACK`` uses other operations and
ranges (gamma curves, blur and noise, quarter turns, perspective and curl, harder crops,
double JPEG and a lower final quality for reuse; thermal-print imitation, Poisson cloning,
the simulator's sticker and a rescale after the paste for the QR) and is run only to
report detection. ``benign`` makes the untampered counterparts (genuine images that went
through the same handling, or the split's own ``degrade.py`` families) whose alarms are false.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import cv2
import numpy as np
import segno

from veedor.definitions.schema import ElectionDefinition
from veedor.simulate.degrade import degrade, move_votes, qr_quad
from veedor.simulate.degrade import tamper as sticker

Image = np.ndarray
Quad = np.ndarray  # 4x2 float32: top-left, top-right, bottom-right, bottom-left
Op = Callable[[Image, np.random.Generator], Image]


def jpeg(gray: Image, quality: int) -> Image:
    ok, buf = cv2.imencode(".jpg", gray, [cv2.IMWRITE_JPEG_QUALITY, int(quality)])
    if not ok:
        raise OSError("could not encode JPEG")
    return np.asarray(cv2.imdecode(buf, cv2.IMREAD_GRAYSCALE))


def _paper(gray: Image) -> float:
    return float(np.percentile(gray[:: max(1, gray.shape[0] // 300), :: max(1, gray.shape[1] // 100)], 90))


def _rotate(gray: Image, angle: float) -> Image:
    """Rotate on an enlarged canvas filled with the paper's tone (a re-saved photo's border)."""
    h, w = gray.shape
    m = cv2.getRotationMatrix2D((w / 2, h / 2), angle, 1.0)
    cos, sin = abs(m[0, 0]), abs(m[0, 1])
    nw, nh = int(h * sin + w * cos), int(h * cos + w * sin)
    m[0, 2] += nw / 2 - w / 2
    m[1, 2] += nh / 2 - h / 2
    return cv2.warpAffine(gray, m, (nw, nh), flags=cv2.INTER_LINEAR, borderValue=_paper(gray))


def _crop(gray: Image, rng: np.random.Generator, lo: float, hi: float, sides: int = 4) -> Image:
    h, w = gray.shape
    cut = np.zeros(4)
    cut[rng.choice(4, sides, replace=False)] = rng.uniform(lo, hi, sides)
    top, bottom, left, right = (cut * [h, h, w, w]).astype(int)
    return gray[top : h - bottom, left : w - right].copy()


# -- reuse: tuning operations -----------------------------------------------------------
def _r_jpeg(g: Image, r: np.random.Generator) -> Image:
    return jpeg(g, int(r.integers(35, 96)))


def _r_resize(g: Image, r: np.random.Generator) -> Image:
    f = float(r.uniform(0.5, 1.3))
    return cv2.resize(g, None, fx=f, fy=f, interpolation=cv2.INTER_AREA if f < 1 else cv2.INTER_LINEAR)


def _r_crop(g: Image, r: np.random.Generator) -> Image:
    return _crop(g, r, 0.0, 0.05)


def _r_tone(g: Image, r: np.random.Generator) -> Image:
    return cv2.convertScaleAbs(g, alpha=float(r.uniform(0.75, 1.25)), beta=float(r.uniform(-35, 35)))


def _r_rotate(g: Image, r: np.random.Generator) -> Image:
    return _rotate(g, float(r.uniform(-4, 4)))


# -- reuse: held-back operations (other kinds, other ranges) -----------------------------
def _h_gamma(g: Image, r: np.random.Generator) -> Image:
    lut = (255 * (np.arange(256) / 255) ** float(r.uniform(0.5, 2.0))).astype(np.uint8)
    return cv2.LUT(g, lut)


def _h_blur(g: Image, r: np.random.Generator) -> Image:
    return cv2.GaussianBlur(g, (0, 0), float(r.uniform(0.6, 1.6)))


def _h_noise(g: Image, r: np.random.Generator) -> Image:
    noise = r.normal(0, float(r.uniform(3, 8)), g.shape)
    return np.clip(g + noise, 0, 255).astype(np.uint8)


def _h_turn(g: Image, r: np.random.Generator) -> Image:
    return _rotate(g, 90.0 * int(r.integers(1, 4)) + float(r.uniform(-2, 2)))


def _h_perspective(g: Image, r: np.random.Generator) -> Image:
    h, w = g.shape
    src = np.array([[0, 0], [w, 0], [w, h], [0, h]], np.float32)
    dst = src + r.uniform(-0.03, 0.03, (4, 2)).astype(np.float32) * np.float32(w)
    dst -= dst.min(axis=0)
    size = dst.max(axis=0).astype(int) + 1
    m = cv2.getPerspectiveTransform(src, dst)
    return cv2.warpPerspective(g, m, (int(size[0]), int(size[1])), borderValue=_paper(g))


def _h_curl(g: Image, r: np.random.Generator) -> Image:
    """A receipt that does not lie flat: a smooth sideways and lengthwise waviness."""
    h, w = g.shape
    ys, xs = np.mgrid[0:h, 0:w].astype(np.float32)
    long = max(h, w)
    waves = float(r.uniform(1, 3)) * 2 * np.pi / long
    amp = float(r.uniform(0.01, 0.025)) * min(h, w)
    along = ys if h >= w else xs
    dx = amp * np.sin(along * waves + float(r.uniform(0, 6)))
    dy = 0.5 * amp * np.sin(along * waves * 1.7 + float(r.uniform(0, 6)))
    return cv2.remap(g, xs + dx, ys + dy, cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)


def _h_crop(g: Image, r: np.random.Generator) -> Image:
    return _crop(g, r, 0.05, 0.12, sides=int(r.integers(1, 3)))


def _h_double_jpeg(g: Image, r: np.random.Generator) -> Image:
    return jpeg(jpeg(g, int(r.integers(20, 46))), int(r.integers(20, 46)))


def _h_rescale(g: Image, r: np.random.Generator) -> Image:
    f = float(r.uniform(0.3, 0.5) if r.random() < 0.5 else r.uniform(1.3, 2.0))
    return cv2.resize(g, None, fx=f, fy=f, interpolation=cv2.INTER_AREA if f < 1 else cv2.INTER_CUBIC)


# -- pasted QR --------------------------------------------------------------------------
@dataclass(frozen=True)
class Sheet:
    """An acta image with the corners of its QR (from zxing, as the reader finds them)."""

    gray: Image
    quad: Quad
    text: str


def sheet(gray: Image) -> Sheet | None:
    found = qr_quad(gray)
    return None if found is None else Sheet(gray, found[0], found[1])


def _grown(quad: Quad, modules: float, count: int = 41) -> Quad:
    """The quad pushed out by ``modules`` modules on every side (the quiet zone)."""
    c = quad.mean(axis=0)
    return (c + (quad - c) * (1 + 2 * modules / count)).astype(np.float32)


def _composite(gray: Image, patch: Image, mask: Image, feather: float) -> Image:
    """``patch`` over ``gray`` where ``mask`` (0..1) is set, the mask's edge softened."""
    if feather > 0:
        mask = cv2.GaussianBlur(mask, (0, 0), feather)
    out = gray.astype(np.float32) * (1 - mask) + patch.astype(np.float32) * mask
    return np.clip(out, 0, 255).astype(np.uint8)


def _polygon(shape: tuple[int, ...], quad: Quad) -> Image:
    mask = np.zeros(shape[:2], np.float32)
    cv2.fillConvexPoly(mask, np.round(quad).astype(np.int32), 1.0)
    return mask


def _qr_raster(text: str, module_px: int, margin: int) -> tuple[Image, int]:
    """1 = ink, at ``module_px`` pixels per module, ``margin`` modules of quiet zone."""
    qr = segno.make(text, error="q", micro=False, boost_error=False)
    matrix = np.pad(np.array([list(row) for row in qr.matrix], dtype=np.uint8), margin)
    return np.kron(matrix, np.ones((module_px, module_px), np.uint8)), matrix.shape[0] - 2 * margin


def _forged_text(s: Sheet, definition: ElectionDefinition | None, rng: np.random.Generator) -> str:
    if definition is None:
        return s.text[::-1]  # other content is all the detectors care about
    try:
        return move_votes(s.text, definition, rng)
    except (ValueError, IndexError):
        return s.text[::-1]


def _rendered_patch(
    s: Sheet, text: str, module_px: int, ink: float, paper: float, rng: np.random.Generator
) -> tuple[Image, Image, Quad]:
    """A re-rendered QR warped onto the sheet's QR quad: (patch, cover mask, pasted quad)."""
    margin = 2
    raster, n = _qr_raster(text, module_px, margin)
    tone = np.where(raster > 0, ink, paper).astype(np.float32)
    a, b = margin * module_px, (n + margin) * module_px
    src = np.array([[a, a], [b, a], [b, b], [a, b]], np.float32)
    dst = s.quad + rng.uniform(-2, 2, (4, 2)).astype(np.float32)
    m = cv2.getPerspectiveTransform(src, dst)
    h, w = s.gray.shape
    patch = cv2.warpPerspective(tone, m, (w, h), flags=cv2.INTER_LINEAR, borderValue=paper)
    return patch, _polygon(s.gray.shape, _grown(dst, margin, n)), dst


def _donor_patch(
    s: Sheet, donor: Sheet, rng: np.random.Generator, scale_jitter: float
) -> tuple[Image, Image]:
    """The donor's QR (with 1.5 modules of its quiet zone) warped onto the sheet's QR."""
    src = _grown(donor.quad, 1.5)
    dst = _grown(s.quad, 1.5)
    dst = dst.mean(axis=0) + (dst - dst.mean(axis=0)) * float(1 + rng.uniform(-scale_jitter, scale_jitter))
    m = cv2.getPerspectiveTransform(src.astype(np.float32), dst.astype(np.float32))
    h, w = s.gray.shape
    patch = cv2.warpPerspective(
        donor.gray, m, (w, h), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE
    )
    return patch, _polygon(s.gray.shape, dst.astype(np.float32))


def _tones(s: Sheet, rng: np.random.Generator, jitter: float) -> tuple[float, float]:
    x, y, w, h = cv2.boundingRect(np.round(s.quad).astype(np.int32))
    roi = s.gray[max(0, y) : y + h, max(0, x) : x + w]
    ink = float(np.percentile(roi, 5)) + float(rng.uniform(-jitter, jitter))
    paper = float(np.percentile(roi, 95)) + float(rng.uniform(-jitter, jitter))
    return ink, paper


def _grain(gray: Image, rng: np.random.Generator, tile: int = 96) -> Image:
    """The sheet's own paper grain at its size: the residual of its blankest tile, repeated."""
    h, w = gray.shape
    paper = _paper(gray)
    best: Image | None = None
    for _ in range(24):
        y, x = int(rng.integers(0, max(1, h - tile))), int(rng.integers(0, max(1, w - tile)))
        piece = gray[y : y + tile, x : x + tile].astype(np.float32)
        residual = piece - cv2.GaussianBlur(piece, (0, 0), 3)
        blank = piece.shape == (tile, tile) and piece.mean() > paper - 25
        if blank and (best is None or residual.std() < best.std()):
            best = residual
    if best is None:
        return np.zeros((h, w), np.float32)
    return np.tile(best, (h // tile + 1, w // tile + 1))[:h, :w]


Paster = Callable[[Sheet, Sheet, ElectionDefinition | None, np.random.Generator], Image]


def _p_render(s: Sheet, donor: Sheet, d: ElectionDefinition | None, r: np.random.Generator) -> Image:
    """Tuning: a fresh QR, tones matched to the sheet, some blur and noise, hard-pasted."""
    ink, paper = _tones(s, r, 25)
    patch, mask, _ = _rendered_patch(s, _forged_text(s, d, r), int(r.integers(3, 13)), ink, paper, r)
    patch = cv2.GaussianBlur(patch, (0, 0), float(r.uniform(0.3, 1.2)))
    patch = patch + r.normal(0, float(r.uniform(0, 4)), patch.shape).astype(np.float32)
    return jpeg(_composite(s.gray, patch, mask, 0.0), int(r.integers(70, 96)))


def _p_donor(s: Sheet, donor: Sheet, d: ElectionDefinition | None, r: np.random.Generator) -> Image:
    """Tuning: the QR of another acta, warped onto this one's and hard-pasted."""
    patch, mask = _donor_patch(s, donor, r, 0.02)
    return jpeg(_composite(s.gray, patch, mask, 0.0), int(r.integers(70, 96)))


def _p_print(s: Sheet, donor: Sheet, d: ElectionDefinition | None, r: np.random.Generator) -> Image:
    """Held back: a fresh QR made to look printed: thermal dot edges, dot gain, the sheet's
    own paper grain, saved as a JPEG at its own grid before pasting with a soft edge."""
    ink, paper = _tones(s, r, 8)
    patch, mask, quad = _rendered_patch(s, _forged_text(s, d, r), int(r.integers(2, 6)), ink, paper, r)
    # thermal dots: a fine periodic ripple at the head's pitch, then the heat's spread
    h, w = patch.shape
    pitch = float(r.uniform(3.5, 5.0))
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    ripple = 0.5 + 0.25 * (np.cos(2 * np.pi * xx / pitch) + np.cos(2 * np.pi * yy / pitch))
    patch = paper - (paper - patch) * (0.85 + 0.3 * ripple)
    patch = cv2.GaussianBlur(patch, (0, 0), float(r.uniform(0.6, 1.4)))
    patch += _grain(s.gray, r)[:h, :w]
    x, y, bw, bh = cv2.boundingRect(np.round(_grown(quad, 2)).astype(np.int32))
    x, y = max(0, x), max(0, y)
    dx, dy = int(r.integers(1, 8)), int(r.integers(1, 8))  # the sticker's own JPEG grid
    box = np.clip(patch[max(0, y - dy) : y + bh, max(0, x - dx) : x + bw], 0, 255).astype(np.uint8)
    patch[max(0, y - dy) : y + bh, max(0, x - dx) : x + bw] = jpeg(box, int(r.integers(60, 90)))
    return jpeg(_composite(s.gray, patch, mask, 1.5), int(r.integers(50, 96)))


def _p_clone(s: Sheet, donor: Sheet, d: ElectionDefinition | None, r: np.random.Generator) -> Image:
    """Held back: another acta's QR cut from a JPEG at its own grid, Poisson-blended in."""
    patch, mask = _donor_patch(s, donor, r, 0.06)
    x, y, bw, bh = cv2.boundingRect((mask > 0.5).astype(np.uint8))
    dx, dy = int(r.integers(1, 8)), int(r.integers(1, 8))
    y0, x0 = max(0, y - dy), max(0, x - dx)
    cut = jpeg(patch[y0 : y + bh, x0 : x + bw], int(r.integers(60, 90)))
    src = cv2.cvtColor(cut, cv2.COLOR_GRAY2BGR)
    dst = cv2.cvtColor(s.gray, cv2.COLOR_GRAY2BGR)
    blend_mask = (mask[y0 : y + bh, x0 : x + bw] * 255).astype(np.uint8)
    centre = (x0 + cut.shape[1] // 2, y0 + cut.shape[0] // 2)
    out = cv2.seamlessClone(src, dst, blend_mask, centre, cv2.NORMAL_CLONE)
    return jpeg(cv2.cvtColor(out, cv2.COLOR_BGR2GRAY), int(r.integers(50, 96)))


def _p_sticker(s: Sheet, donor: Sheet, d: ElectionDefinition | None, r: np.random.Generator) -> Image:
    """Held back: the simulator's own forgery (a printed sticker with a cut-edge shadow)."""
    if d is None:
        raise ValueError("the sticker forgery needs the election definition")
    out, _ = sticker(s.gray, d, r)
    return jpeg(out, int(r.integers(50, 96)))


def _p_rescaled(s: Sheet, donor: Sheet, d: ElectionDefinition | None, r: np.random.Generator) -> Image:
    """Held back: a donor QR pasted, then the whole image resized (JPEG grid traces gone)."""
    patch, mask = _donor_patch(s, donor, r, 0.1)
    out = _composite(s.gray, patch, mask, 0.7)
    f = float(r.uniform(0.6, 0.9))
    return jpeg(cv2.resize(out, None, fx=f, fy=f, interpolation=cv2.INTER_AREA), int(r.integers(50, 96)))


# -- the splits -------------------------------------------------------------------------
@dataclass(frozen=True)
class Split:
    name: str
    reuse_ops: dict[str, Op]
    pasters: dict[str, Paster]
    final_jpeg: tuple[int, int]
    benign_families: tuple[str, ...] = ()
    """Families of ``degrade.py`` that genuine images also go through in this split."""


TUNING = Split(
    "tuning",
    {"jpeg": _r_jpeg, "resize": _r_resize, "crop": _r_crop, "tone": _r_tone, "rotate": _r_rotate},
    {"render": _p_render, "donor": _p_donor},
    (60, 96),
    ("scan",),
)
HELD_BACK = Split(
    "held-back",
    {
        "gamma": _h_gamma,
        "blur": _h_blur,
        "noise": _h_noise,
        "turn": _h_turn,
        "perspective": _h_perspective,
        "curl": _h_curl,
        "crop-hard": _h_crop,
        "double-jpeg": _h_double_jpeg,
        "rescale": _h_rescale,
    },
    {"print": _p_print, "clone": _p_clone, "sticker": _p_sticker, "rescaled": _p_rescaled},
    (30, 61),
    ("phone_bottom", "faded", "jpeg"),
)
SPLITS = {s.name: s for s in (TUNING, HELD_BACK)}


def reuse(gray: Image, split: Split, rng: np.random.Generator) -> tuple[Image, str]:
    """The same picture re-submitted: 2-3 of the split's operations, then a JPEG save."""
    names = list(split.reuse_ops)
    chosen = [names[i] for i in rng.choice(len(names), int(rng.integers(2, 4)), replace=False)]
    out = gray
    for name in chosen:
        out = split.reuse_ops[name](out, rng)
    quality = int(rng.integers(*split.final_jpeg))
    return jpeg(out, quality), "+".join([*chosen, f"q{quality}"])


def paste_qr(
    target: Sheet,
    donor: Sheet,
    split: Split,
    rng: np.random.Generator,
    definition: ElectionDefinition | None = None,
) -> tuple[Image, str]:
    """``target`` with its QR replaced by one of the split's pasters (picked by ``rng``)."""
    names = list(split.pasters)
    name = names[int(rng.integers(len(names)))]
    return split.pasters[name](target, donor, definition, rng), name


def benign(gray: Image, split: Split, rng: np.random.Generator) -> tuple[Image, str]:
    """A genuine acta handled the way the split's forgeries are, minus the forgery."""
    families = split.benign_families
    if families and rng.random() < 0.5:
        family = families[int(rng.integers(len(families)))]
        return degrade(gray, family, rng), family
    return reuse(gray, split, rng)
