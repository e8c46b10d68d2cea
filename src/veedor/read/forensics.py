"""Image forensics, first step: a reused picture, and a pasted QR.

Both detectors only raise an alert on a mesa for a person to look at; they never change
its numbers. Each returns a score, a yes/no at a documented threshold and a short reason.
Pure functions on decoded grayscale images (numpy in, dataclasses out); see
docs/image-forensics.md for the measurements behind every threshold.

**Same picture** (:func:`same_picture`). Every acta of an election is the same printed
form, so two *different* actas look alike to any global hash: a 64-bit DCT hash of two
real actas differs by as few as 2 bits, less than a recompressed, slightly rotated copy of
one of them. The decision is therefore made on detail, after alignment: ORB features and a
RANSAC similarity (then a piecewise correction, for perspective and curl) bring one picture
onto the other; the band-pass detail of every ~1 cm tile is then correlated with its
counterpart. A reused photo agrees everywhere; two different actas disagree wherever they
differ (the QR, the signatures, the numbers and names), which on real actas is at least
~10 % of the tiles that carry detail. The score is the mean correlation of the worst 5 %
of tiles: a reused photo keeps it near 1, two different actas near 0.

**Pasted QR** (:func:`pasted_qr`): see the second half of this module.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np
from numpy.typing import ArrayLike

# -- same picture -----------------------------------------------------------------------
# Working scale: receipts are ~650x7000 px; 3000 px on the long side keeps signature
# strokes and QR modules (~4 px) while ORB and the tile pass stay at tens of milliseconds.
_LONG_SIDE = 3000
_MAX_AREA = 1_200_000
_BAND = 300  # ORB features are spread over bands of the long axis: the QR alone would
# otherwise take most of them and the alignment would drift at the far end of the receipt.
_FEATURES = 1500
_TILE = 32  # ~1 cm of the receipt at the working scale
_SEARCH = 3  # +-px searched around each tile's predicted place (interpolation, curl)
_CONTENT = 6.0  # band-pass std below which a tile is blank paper: nothing to compare
_WORST = 0.05  # the score is the mean correlation of this worst fraction of tiles
_MIN_TILES = 40  # fewer tiles with detail in the overlap: cannot tell
SAME_THRESHOLD = 0.5
"""Worst-5 % tile correlation at or above which two images are the same picture. Tuning
split (bench_image_forensics.py): re-submitted copies >= 0.92; different actas (pairs of
synthetic actas, a handled copy against another real acta) <= 0.12; the midpoint, rounded."""


@dataclass(frozen=True)
class PictureHash:
    """What :func:`same_picture` compares, computed once per image by :func:`perceptual_hash`."""

    dct: int
    """64-bit DCT hash of the whole picture (a cheap exact-ish duplicate key only: two
    different actas of the same form can be 2 bits apart)."""
    qr: int | None
    """256-bit DCT hash of the QR region straightened into a square, when its corners are
    known: a retrieval key that does separate actas (the QR's modules are unique to each)."""
    image: np.ndarray  # the picture at the working scale, uint8
    points: np.ndarray  # (n, 2) float32 ORB keypoints, working-scale pixels
    descriptors: np.ndarray  # (n, 32) uint8 ORB descriptors
    scale: float  # working-scale pixels per original pixel


@dataclass(frozen=True)
class Match:
    score: float
    same: bool
    reason: str


def _dct_bits(gray: np.ndarray, side: int, keep: int) -> int:
    """The classic pHash: signs of the low DCT frequencies against their median."""
    small = cv2.resize(gray, (side, side), interpolation=cv2.INTER_AREA).astype(np.float32)
    low = cv2.dct(small)[:keep, :keep].flatten()
    bits = low > np.median(low[1:])  # the DC term (overall brightness) does not vote
    return int("".join("1" if b else "0" for b in bits), 2)


def hamming(a: int, b: int) -> int:
    return (a ^ b).bit_count()


def _to_gray(image: np.ndarray) -> np.ndarray:
    return cv2.cvtColor(image, cv2.COLOR_BGR2GRAY) if image.ndim == 3 else image


def qr_square(gray: np.ndarray, quad: np.ndarray, side: int = 128) -> np.ndarray:
    """The QR inside ``quad`` (4x2, clockwise from top-left) warped into an upright square."""
    dst = np.array([[0, 0], [side, 0], [side, side], [0, side]], np.float32)
    m = cv2.getPerspectiveTransform(np.asarray(quad, np.float32), dst)
    return cv2.warpPerspective(_to_gray(gray), m, (side, side), flags=cv2.INTER_AREA)


def _orb(image: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    h, w = image.shape
    long_axis = 0 if h >= w else 1
    length = image.shape[long_axis]
    bands = max(1, round(length / _BAND))
    orb = cv2.ORB.create(nfeatures=_FEATURES // bands + 20, fastThreshold=10)
    points: list[np.ndarray] = []
    descriptors: list[np.ndarray] = []
    pad = 40  # ORB needs ~31 px around a keypoint: overlap the bands, keep each band's own
    for i in range(bands):
        lo, hi = i * length // bands, (i + 1) * length // bands
        a, b = max(0, lo - pad), min(length, hi + pad)
        band = image[a:b] if long_axis == 0 else image[:, a:b]
        keypoints, desc = orb.detectAndCompute(np.ascontiguousarray(band), None)
        if desc is None:
            continue
        pts = np.array([k.pt for k in keypoints], np.float32).reshape(-1, 2)
        pts[:, 1 - long_axis] += a
        own = (pts[:, 1 - long_axis] >= lo) & (pts[:, 1 - long_axis] < hi)
        points.append(pts[own])
        descriptors.append(desc[own])
    if not descriptors:
        return np.zeros((0, 2), np.float32), np.zeros((0, 32), np.uint8)
    return np.vstack(points), np.vstack(descriptors)


def perceptual_hash(gray: np.ndarray, qr_quad: ArrayLike | None = None) -> PictureHash:
    """The fingerprint of one picture (``qr_quad``: the QR's corners, when the reader found them)."""
    gray = _to_gray(gray)
    h, w = gray.shape
    scale = min(1.0, _LONG_SIDE / max(h, w), (_MAX_AREA / (h * w)) ** 0.5)
    image = cv2.resize(gray, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA) if scale < 1 else gray
    points, descriptors = _orb(image)
    qr = None if qr_quad is None else _dct_bits(qr_square(gray, np.asarray(qr_quad, np.float32)), 64, 16)
    return PictureHash(_dct_bits(image, 32, 8), qr, image, points, descriptors, scale)


def _detail(image: np.ndarray) -> np.ndarray:
    """Band-pass: strokes and modules stay, brightness, gamma and paper shading go."""
    f = image.astype(np.float32)
    return cv2.GaussianBlur(f, (0, 0), 0.7) - cv2.GaussianBlur(f, (0, 0), 3)


@dataclass(frozen=True)
class _Alignment:
    matrix: np.ndarray  # 3x3, moving -> reference working pixels
    anchors: np.ndarray  # (n, 2) reference points of consistent matches
    offsets: np.ndarray  # (n, 2) reference point minus the coarse fit of its match
    inliers: int


def _similarity(src: np.ndarray, dst: np.ndarray, threshold: float) -> tuple[np.ndarray | None, np.ndarray]:
    m, inl = cv2.estimateAffinePartial2D(
        src, dst, method=cv2.RANSAC, ransacReprojThreshold=threshold, maxIters=3000
    )
    keep = np.zeros(len(src), bool) if inl is None else inl.ravel().astype(bool)
    return m, keep


def _apply(m: np.ndarray, pts: np.ndarray) -> np.ndarray:
    return pts @ m[:2, :2].T + m[:2, 2]


def _align(ref: PictureHash, mov: PictureHash) -> _Alignment | None:
    """Coarse: one similarity; fine: one per stretch of the long axis, as local anchors."""
    if len(ref.descriptors) < 8 or len(mov.descriptors) < 8:
        return None
    pairs = cv2.BFMatcher(cv2.NORM_HAMMING).knnMatch(mov.descriptors, ref.descriptors, k=2)
    # Lowe's ratio test: the form's repeated glyphs ("Cero, Cero, Uno") match ambiguously
    good = [p[0] for p in pairs if len(p) == 2 and p[0].distance < 0.8 * p[1].distance]
    if len(good) < 8:
        return None
    src = mov.points[[g.queryIdx for g in good]]
    dst = ref.points[[g.trainIdx for g in good]]
    h, w = ref.image.shape
    length = max(h, w)
    # Coarse, with a loose threshold: a receipt that is not flat, or a photo of a screen,
    # is a similarity only to within ~1 % of its length; a strict threshold locks onto one
    # stretch of it (with a wrong scale) and the far end drifts away.
    m, keep = _similarity(src, dst, max(3.0, 0.01 * length))
    if m is None or keep.sum() < 8:
        return None
    refit, _ = cv2.estimateAffinePartial2D(src[keep], dst[keep], method=cv2.LMEDS)
    m = m if refit is None else refit
    # Fine: a strict similarity per overlapping stretch; its inliers anchor the local
    # displacement that the coarse fit leaves.
    axis = 1 if h >= w else 0
    offsets = dst - _apply(m, src)
    gate = np.linalg.norm(offsets, axis=1) < 0.03 * length
    chosen = np.zeros(len(dst), bool)
    for start in range(0, length, 400):
        inside = gate & (dst[:, axis] >= start - 200) & (dst[:, axis] < start + 600)
        if inside.sum() < 10:
            continue
        local, lk = _similarity(src[inside], dst[inside], 3.0)
        if local is not None and lk.sum() >= 8:
            chosen[np.flatnonzero(inside)[lk]] = True
    if chosen.sum() < 8:
        return None
    return _Alignment(np.vstack([m, [0, 0, 1]]), dst[chosen], offsets[chosen], int(chosen.sum()))


def _tile_scores(ref: PictureHash, mov: PictureHash, al: _Alignment) -> np.ndarray:
    """(y, x, correlation) of every tile with detail that lies in both pictures."""
    h, w = ref.image.shape
    warped = cv2.warpPerspective(mov.image, al.matrix, (w, h), flags=cv2.INTER_LINEAR)
    # Borders are not evidence: a scanner's dark edge cropped off, a rotation's fill.
    mh, mw = mov.image.shape
    margin = max(8, int(0.04 * min(mh, mw)))
    inside = np.zeros((mh, mw), np.uint8)
    inside[margin:-margin, margin:-margin] = 255
    valid = cv2.warpPerspective(inside, al.matrix, (w, h), flags=cv2.INTER_NEAREST)
    margin = max(8, int(0.04 * min(h, w)))
    valid[:margin], valid[-margin:], valid[:, :margin], valid[:, -margin:] = 0, 0, 0, 0
    da, db = _detail(ref.image), _detail(warped)
    r, t = _SEARCH, _TILE
    ys, xs = np.mgrid[r : h - t - r + 1 : t, r : w - t - r + 1 : t]
    ys, xs = ys.ravel(), xs.ravel()
    # tile std from box filters, at each tile's top-left corner
    mean = cv2.boxFilter(da, -1, (t, t), anchor=(0, 0), borderType=cv2.BORDER_CONSTANT)
    sq = cv2.boxFilter(da * da, -1, (t, t), anchor=(0, 0), borderType=cv2.BORDER_CONSTANT)
    std = np.sqrt(np.maximum(sq - mean * mean, 0))[ys, xs]
    ys, xs = ys[std >= _CONTENT], xs[std >= _CONTENT]
    if not len(ys):
        return np.zeros((0, 3), np.float32)
    # each tile's local displacement: the median of its nearest anchors' (piecewise fit)
    centres = np.stack([xs + t / 2, ys + t / 2], 1).astype(np.float32)
    dist = np.linalg.norm(centres[:, None, :] - al.anchors[None, :, :], axis=2)
    k = min(8, dist.shape[1])
    near = np.argpartition(dist, k - 1, axis=1)[:, :k]
    shift = -np.median(al.offsets[near], axis=1)  # where the ref tile sits in the warped image
    enough = (np.take_along_axis(dist, near, 1) < 120).sum(1) >= 3
    shift[~enough] = 0
    out: list[tuple[float, float, float]] = []
    for y, x, (dx, dy) in zip(ys, xs, shift, strict=True):
        bx, by = round(x + dx), round(y + dy)
        if bx < r or by < r or bx + t + r > w or by + t + r > h:
            continue
        if valid[by - r : by + t + r, bx - r : bx + t + r].min() < 255:
            continue
        b = db[by - r : by + t + r, bx - r : bx + t + r]
        a = da[y : y + t, x : x + t]
        corr = float(cv2.matchTemplate(b, a, cv2.TM_CCOEFF_NORMED).max()) if b.std() > 1 else 0.0
        out.append((y, x, corr))
    return np.array(out, np.float32).reshape(-1, 3)


def _as_hash(image: np.ndarray | PictureHash) -> PictureHash:
    return image if isinstance(image, PictureHash) else perceptual_hash(image)


def same_picture(a: np.ndarray | PictureHash, b: np.ndarray | PictureHash) -> Match:
    """Is ``b`` the same picture as ``a`` (recompressed, resized, cropped, toned, rotated)?"""
    ha, hb = _as_hash(a), _as_hash(b)
    # Compare at the coarser of the two: the finer one's extra detail is not evidence.
    first_is_ref = ha.image.size <= hb.image.size
    ref, mov = (ha, hb) if first_is_ref else (hb, ha)
    al = _align(ref, mov)
    if al is None:
        return Match(0.0, False, "different pictures: too few matching features to align them")
    tiles = _tile_scores(ref, mov, al)
    if len(tiles) < _MIN_TILES:
        return Match(0.0, False, f"cannot tell: only {len(tiles)} tiles with detail overlap once aligned")
    worst = tiles[np.argsort(tiles[:, 2])[: max(1, int(len(tiles) * _WORST))]]
    score = float(worst[:, 2].mean())
    agree = int((tiles[:, 2] >= SAME_THRESHOLD).sum())
    m = al.matrix
    zoom = float(np.hypot(m[0, 0], m[1, 0])) * mov.scale / ref.scale
    angle = float(np.degrees(np.arctan2(m[1, 0], m[0, 0])))
    if score >= SAME_THRESHOLD:
        return Match(
            score,
            True,
            f"same picture: {agree} of {len(tiles)} detail tiles agree once aligned on "
            f"{al.inliers} features (scale {zoom:.2f}, rotation {angle:+.1f}°); the worst 5 % "
            f"still correlate at {score:.2f}",
        )
    y, x = np.median(worst[:, :2], axis=0) / ref.scale
    which = "first" if first_is_ref else "second"
    return Match(
        score,
        False,
        f"different pictures: {len(tiles) - agree} of {len(tiles)} detail tiles disagree once "
        f"aligned, most around x={x:.0f}, y={y:.0f} of the {which} (worst 5 % correlate at {score:.2f})",
    )


# -- finding the candidates in a national archive ----------------------------------------
# same_picture costs ~100 ms a pair: it cannot run on every pair of 30,000 mesas. The sheet
# just above the QR (on the Venezuelan receipt: the last officers' names and signatures) is
# unique to each mesa and survives a pasted QR untouched. Straightened by the QR's own
# corners (which removes crop, scale and rotation) and equalised (tone), its low DCT
# frequencies give a 192-bit key: re-submitted copies and pasted-QR forgeries of one photo
# land within a few dozen bits of the original, different actas 66 or more apart (the 23
# real actas). Pairs closer than SHEET_KEY_NEAR are then compared with same_picture, the QR
# masked so that a new code pasted on an old photo does not hide the reuse.
_SHEET_UP = 3.0  # the band above the QR, in QR heights
SHEET_KEY_BITS = 192
SHEET_KEY_NEAR = 56
"""Key distance at or under which two images are compared with :func:`same_picture`: above
every plain paste of the tuning split (max 42), under every pair of different real actas
(min 66); docs/image-forensics.md."""


def sheet_key(gray: np.ndarray, qr_quad: ArrayLike) -> int | None:
    """The 192-bit key of the band of sheet above the QR (see above); None when that band lies
    outside the picture (a close-up of the QR alone: nothing of the sheet to compare)."""
    tl, tr, _br, bl = np.asarray(qr_quad, np.float32)
    up = (bl - tl) * _SHEET_UP
    h, w = gray.shape[:2]
    if not all(0 <= x < w and 0 <= y < h for x, y in (tl - up, tr - up)):
        return None
    width, height = 64, int(64 * _SHEET_UP)
    src = np.array([tl - up, tr - up, tr, tl], np.float32)
    dst = np.array([[0, 0], [width, 0], [width, height], [0, height]], np.float32)
    m = cv2.getPerspectiveTransform(src, dst)
    band = cv2.warpPerspective(
        _to_gray(gray), m, (width, height), flags=cv2.INTER_AREA, borderMode=cv2.BORDER_REPLICATE
    )
    small = cv2.resize(cv2.equalizeHist(band), (32, 96), interpolation=cv2.INTER_AREA).astype(np.float32)
    low = cv2.dct(small)[:24, :8].flatten()
    bits = low > np.median(low[1:])
    return int("".join("1" if b else "0" for b in bits), 2)


def without_qr(gray: np.ndarray, qr_quad: ArrayLike, grow: float = 1.25) -> np.ndarray:
    """A copy of the image with the QR and its quiet zone filled with paper: its tiles carry
    no detail, so :func:`same_picture` compares the sheet only."""
    out = _to_gray(gray).copy()
    quad = np.asarray(qr_quad, np.float32)
    centre = quad.mean(axis=0)
    cv2.fillConvexPoly(out, np.round(centre + (quad - centre) * grow).astype(np.int32), int(np.median(out)))
    return out


# -- pasted QR --------------------------------------------------------------------------
# A genuine QR was printed with the sheet and went through the same camera or scanner
# and the same JPEG saves; a pasted one did not. Two cues, each measured against the
# sheet right around the QR, so that they hold for any scanner or phone:
#
# 1. The patch's edge ("seam"): a pasted QR brings its own quiet zone, whose paper tone
#    differs from the sheet's; in the straightened frame its edge is a step at the same
#    distance outside the QR on every side. Printed text near the QR is not straight all
#    round it, and a genuine quiet zone is blank paper.
# 2. The JPEG grid: a sheet saved as JPEG (and saved again after the paste) carries 8x8
#    block edges that the pasted area, compressed once or cut from elsewhere and
#    resampled, carries far more weakly. Only measured when modules are wider than a
#    block: narrower ones fill every block with edges and hide the grid in any image.
_MODULE_PX = 8  # straightened frame: pixels per module
_SEAM_BAND = (1.0, 3.5)  # modules outside the QR searched for a patch edge
SEAM_THRESHOLD = 0.03
"""Step (fraction of the QR's print contrast), agreeing on 3 of the 4 sides at one distance,
at or above which the quiet zone has a patch edge. Tuning split (``bench_image_forensics.py
--calibrate``): genuine handled images <= 0.017, so 1.5x that, rounded up; pasted ones reach
0.16, but those with a matched paper tone show none (the grid cue is there for them)."""
_RING = 2.1  # the sheet compared with the QR: out to this factor of its size
GRID_MIN_PITCH = 8.0  # px per module below which the grid cue does not apply
GRID_MIN_SHEET = 1.0  # grey levels of block-edge excess the sheet must show
GRID_RATIO = 0.55
"""The QR's block-edge excess over the sheet's, at or below which the QR was not saved with
the sheet. Tuning split: genuine handled images >= 0.65 (real scans 0.93-3.8), pasted
ones median 0.35; the threshold is the genuine minimum less 0.1."""


@dataclass(frozen=True)
class Finding:
    score: float
    """max over the cues of value / threshold: >= 1 is suspicious."""
    suspicious: bool
    reason: str


def _grown(quad: np.ndarray, factor: float) -> np.ndarray:
    c = quad.mean(axis=0)
    return (c + (quad - c) * factor).astype(np.float32)


def _module_count(gray: np.ndarray, quad: np.ndarray, side: int = 384) -> int:
    """Modules across the QR: the period of its edges (versions have 17 + 4v modules)."""
    square = qr_square(gray, quad, side).astype(np.float32)
    px = np.abs(np.diff(square, axis=1)).sum(axis=0)
    py = np.abs(np.diff(square, axis=0)).sum(axis=1)
    x = np.arange(side - 1) + 0.5
    counts = np.arange(21, 178, 4)
    waves = np.exp(-2j * np.pi * counts[:, None] * x[None, :] / side)
    power = np.abs(waves @ px) + np.abs(waves @ py)
    return int(counts[int(np.argmax(power))])


def _seam(gray: np.ndarray, quad: np.ndarray, modules: int) -> tuple[float, float]:
    """(step as a fraction of print contrast, distance in modules) of the strongest edge
    that runs parallel to at least 3 of the QR's 4 sides at the same distance."""
    m, span = _MODULE_PX, modules * _MODULE_PX
    margin = 6 * m
    size = span + 2 * margin
    corners = [[margin, margin], [margin + span, margin], [margin + span] * 2, [margin, margin + span]]
    dst = np.array(corners, np.float32)
    h = cv2.getPerspectiveTransform(np.asarray(quad, np.float32), dst)
    frame = cv2.warpPerspective(gray, h, (size, size), flags=cv2.INTER_AREA, borderMode=cv2.BORDER_REPLICATE)
    frame = frame.astype(np.float32)
    inner = frame[margin : margin + span, margin : margin + span]
    contrast = max(float(np.percentile(inner, 95) - np.percentile(inner, 5)), 30.0)
    lo, hi = int(_SEAM_BAND[0] * m), int(_SEAM_BAND[1] * m)
    w = m // 2  # half a module each side of a candidate edge
    steps = np.zeros((4, margin))
    for k in range(4):
        band = np.rot90(frame, k)[:margin, margin + m : margin + span - m]
        profile = np.median(band, axis=1)[::-1]  # profile[d]: d px out from the QR's edge
        windows = np.median(np.lib.stride_tricks.sliding_window_view(profile, w), axis=1)
        ds = np.arange(lo, hi)
        steps[k, lo:hi] = (windows[ds] - windows[ds - w]) / contrast  # after minus before d
    best, where = 0.0, 0.0
    for d in range(lo, hi):
        # each side's strongest step within 2 px of d (a paste is not perfectly square)
        local = np.sort([s[d - 2 + int(np.argmax(np.abs(s[d - 2 : d + 3])))] for s in steps])
        value = float(max(local[1], -local[2]))  # 3 of 4 sides agree in sign and size
        if value > best:
            best, where = value, d / m
    return best, where


def _block_excess(f: np.ndarray, labels: np.ndarray, axis: int) -> np.ndarray | None:
    """(region, 8-px phase): the mean excess of a pixel step over its neighbours' steps in
    smooth places (a JPEG block edge is a small step where the picture has none); regions
    are ``labels`` 0 and 1 (2: neither)."""
    a = np.abs(np.diff(f, axis=axis))
    if axis == 1:
        core, left, right, lab = a[:, 1:-1], a[:, :-2], a[:, 2:], labels[:, 1:-2]
        phase = (np.arange(1, a.shape[1] - 1) % 8)[None, :]
    else:
        core, left, right, lab = a[1:-1], a[:-2], a[2:], labels[1:-2]
        phase = (np.arange(1, a.shape[0] - 1) % 8)[:, None]
    smooth = (left < 8) & (right < 8) & (lab < 2)
    key = np.where(smooth, lab * 8 + phase, 16).ravel()  # one bin per (region, phase)
    value = np.clip(core - (left + right) / 2, -8, 8).ravel()
    counts = np.bincount(key, minlength=17)[:16]
    if counts.min() < 200:
        return None
    return (np.bincount(key, value, minlength=17)[:16] / counts).reshape(2, 8)


def _others(phases: np.ndarray, p: int) -> float:
    return float(np.median(np.delete(phases, p)))


def _grid(gray: np.ndarray, quad: np.ndarray) -> tuple[float, float] | None:
    """(the sheet's block-edge excess around the QR, the QR's relative to it), or None."""
    x0, y0 = np.floor(_grown(quad, _RING).min(axis=0)).astype(int)
    x1, y1 = np.ceil(_grown(quad, _RING).max(axis=0)).astype(int)
    x0, y0 = max(0, x0) // 8 * 8, max(0, y0) // 8 * 8  # keep the image's 8x8 phase
    crop = gray[y0:y1, x0:x1].astype(np.float32)
    q = quad - np.array([x0, y0], np.float32)

    def mask(factor: float) -> np.ndarray:
        out = np.zeros(crop.shape, np.uint8)
        cv2.fillConvexPoly(out, np.round(_grown(q, factor)).astype(np.int32), 1)
        return out.astype(bool)

    labels = np.full(crop.shape, 2, np.uint8)
    labels[mask(_RING) & ~mask(1.3)] = 1  # the sheet around, past any pasted quiet zone
    labels[mask(0.95)] = 0  # the QR
    excess = []
    for axis in (1, 0):
        found = _block_excess(crop, labels, axis)
        if found is None:
            return None
        inside, around = found
        p = int(np.argmax(around))  # the sheet's grid phase on this axis
        excess.append((around[p] - _others(around, p), inside[p] - _others(inside, p)))
    sheet_excess = float(np.mean([e[0] for e in excess]))
    qr_excess = float(np.mean([e[1] for e in excess]))
    return sheet_excess, qr_excess / max(sheet_excess, 1e-6)


@dataclass(frozen=True)
class QrCues:
    """What :func:`pasted_qr` measured (the bench calibrates its thresholds on these)."""

    seam: float  # patch-edge step, fraction of the print contrast
    seam_modules: float  # its distance outside the QR, in modules
    pitch: float  # pixels per module
    sheet_grid: float | None  # the sheet's JPEG block-edge excess (None: not measurable)
    grid_ratio: float | None  # the QR's block-edge excess over the sheet's

    @property
    def grid_applies(self) -> bool:
        return self.pitch >= GRID_MIN_PITCH and (self.sheet_grid or 0.0) >= GRID_MIN_SHEET


def qr_cues(gray: np.ndarray, qr_quad: ArrayLike) -> QrCues:
    gray = _to_gray(gray)
    quad = np.asarray(qr_quad, np.float32).reshape(4, 2)
    modules = _module_count(gray, quad)
    side = float(np.mean([np.linalg.norm(quad[i] - quad[(i + 1) % 4]) for i in range(4)]))
    pitch = side / modules
    seam, distance = _seam(gray, quad, modules)
    grid = _grid(gray, quad) if pitch >= GRID_MIN_PITCH else None
    return QrCues(seam, distance, pitch, *(grid or (None, None)))


def pasted_qr(gray: np.ndarray, qr_quad: ArrayLike) -> Finding:
    """Do the QR's pixels (inside ``qr_quad``, 4x2 clockwise from top-left, as zxing-cpp
    gives it) belong to the sheet around them, or were they pasted on?"""
    cues = qr_cues(gray, qr_quad)
    seam_score = cues.seam / SEAM_THRESHOLD
    ratio = cues.grid_ratio if cues.grid_ratio is not None else 1.0
    grid_score = max(0.0, (1 - max(ratio, -1.0)) / (1 - GRID_RATIO)) if cues.grid_applies else 0.0
    score = max(seam_score, grid_score)
    if seam_score >= 1 and seam_score >= grid_score:
        reason = (
            f"pasted QR? a straight step in paper tone ({cues.seam:.0%} of the print contrast) "
            f"surrounds it {cues.seam_modules:.1f} modules out, on at least 3 sides: the edge of a patch"
        )
    elif grid_score >= 1:
        reason = (
            f"pasted QR? the sheet around it shows JPEG 8x8 block edges (strength {cues.sheet_grid:.1f}) "
            f"that the QR area lacks ({ratio:.0%} of it): the QR was not saved with the sheet"
        )
    else:
        if cues.grid_applies:
            grid_text = f"its JPEG block edges are {ratio:.0%} of the sheet's (alarm at {GRID_RATIO:.0%})"
        elif cues.pitch < GRID_MIN_PITCH:
            grid_text = f"the JPEG-grid check does not apply (modules of {cues.pitch:.1f} px, under a block)"
        else:
            grid_text = "the JPEG-grid check does not apply (no block edges on the sheet)"
        reason = f"no sign of a pasted QR: no patch edge around it (step {cues.seam:.1%}), and {grid_text}"
    return Finding(score, score >= 1, reason)
