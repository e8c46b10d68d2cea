"""Turn a phone photo of an acta into upright, flat views that look like a 200-dpi scan.

The printed-table reader (:mod:`veedor.read.print`) expects an upright receipt about
640 px wide. Phone photos show it small, tilted, in perspective, sideways or upside
down, on a table, under uneven light. This module finds the geometry on a small copy of
the image (cheap), then warps the full-resolution image once:

1. the paper: the largest bright region that stands out from the background, reduced to
   a quadrilateral; when nothing stands out (a rotated scan, paper filling the frame) the
   text itself gives the receipt's long axis;
2. the quarter turn: a receipt is many times taller than wide, so its long side is made
   vertical; which end is up is told by the QR, the darkest square block, at the bottom;
3. a small residual skew, from the projection profile of the text lines;
4. the light: the paper's own brightness is divided out (phone shadows, fall-off).

It only changes geometry and contrast: every number read from a view still has to pass
every check a scan passes. The caller uses it only when the plain image gives no layout.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from dataclasses import dataclass

import cv2
import numpy as np

WIDTH = 640  # the receipt's width in a 200-dpi scan (8 cm of paper)
SMALL = 400_000  # pixels in the copy the geometry is found on
MIN_ASPECT = 1.3  # a receipt region less elongated than this is no receipt
SCAN_ASPECT = 2.5  # a frame this elongated is the receipt itself (a scan), not a photo of it
FILLS = 0.9  # of a scan's length, the least its receipt runs
MAX_HEIGHT = 12_000  # a 60 cm receipt at 200 dpi: more is a wrong quad, not paper

View = tuple[str, np.ndarray]


@dataclass(frozen=True)
class Geometry:
    """Where the receipt is: four corners in full-resolution pixels, top edge first."""

    quad: np.ndarray  # 4x2 float32: top-left, top-right, bottom-right, bottom-left
    width: int  # output size in pixels
    height: int
    how: str  # "warp" (paper edges found) or "deskew" (text axis only)
    zoom: float  # output pixels per input pixel across the receipt


def upright_views(gray: np.ndarray, limit: int = 2) -> Iterator[View]:
    """Candidate upright views of the receipt, most likely first (at most ``limit``).

    Names say what was done, e.g. ``"warp+rot180"``; nothing is yielded when no receipt
    shape can be found.
    """
    if gray.ndim == 3:
        gray = cv2.cvtColor(gray, cv2.COLOR_BGR2GRAY)
    geometry = find_geometry(gray)
    if geometry is None or limit < 1:
        return
    view = _warp(gray, geometry.quad, geometry.width, geometry.height)
    view = _enhance(view)
    yield geometry.how, view
    if limit >= 2:
        yield f"{geometry.how}+rot180", cv2.rotate(view, cv2.ROTATE_180)


def find_geometry(gray: np.ndarray) -> Geometry | None:
    h, w = gray.shape[:2]
    if min(h, w) < 32:
        return None
    f = min(1.0, float(np.sqrt(SMALL / (h * w))))
    small = cv2.resize(gray, None, fx=f, fy=f, interpolation=cv2.INTER_AREA) if f < 1 else gray
    paper = _bright(small)
    quad, how = _paper(paper), "warp"
    if quad is None:
        quad, how = _text_axis(small, paper), "deskew"
    if quad is not None and _short_of_frame(quad, small.shape):
        # A frame shaped like a receipt holds a whole receipt: a quad that stops short of
        # its length followed uneven light (a dark, vignetted scan), not the paper's edge.
        # The text's rectangle is kept within the frame: a margin past it would only
        # shrink the text.
        quad, how = _text_axis(small, None), "deskew"
        if quad is not None:
            quad = np.clip(quad, 0, [small.shape[1] - 1, small.shape[0] - 1]).astype(np.float32)
    if quad is None:
        return None
    quad = _tall(quad)
    short, long_ = _sides(quad)
    if short < 8 or long_ / short < MIN_ASPECT:
        return None
    if not _qr_at_bottom(small, quad):
        quad = quad[[2, 3, 0, 1]]
    quad = _straighten(gray, (quad / f).astype(np.float32), how == "warp")
    short, long_ = _sides(quad)
    height = int(min(MAX_HEIGHT, round(WIDTH * long_ / short)))
    return Geometry(quad, WIDTH, height, how, WIDTH / short)


def _sides(quad: np.ndarray) -> tuple[float, float]:
    short = float(np.linalg.norm(quad[1] - quad[0]) + np.linalg.norm(quad[2] - quad[3])) / 2
    long_ = float(np.linalg.norm(quad[3] - quad[0]) + np.linalg.norm(quad[2] - quad[1])) / 2
    return short, long_


def _short_of_frame(quad: np.ndarray, shape: tuple[int, ...]) -> bool:
    long_side, short_side = max(shape[:2]), min(shape[:2])
    return long_side >= SCAN_ASPECT * short_side and _sides(quad)[1] < FILLS * long_side


def _bright(small: np.ndarray) -> np.ndarray:
    """Paper-coloured pixels, with the text and the QR closed over."""
    h, w = small.shape
    blur = cv2.GaussianBlur(small, (5, 5), 0)
    _, bright = cv2.threshold(blur, 0, 255, cv2.THRESH_BINARY | cv2.THRESH_OTSU)
    k = max(3, round(min(h, w) / 150) | 1)
    bright = cv2.morphologyEx(bright, cv2.MORPH_CLOSE, np.ones((k, k), np.uint8))
    return cv2.morphologyEx(bright, cv2.MORPH_OPEN, np.ones((k, k), np.uint8))


def _paper(bright: np.ndarray) -> np.ndarray | None:
    """The receipt's corners when it stands out, brighter, from what is around it."""
    h, w = bright.shape
    contours, _ = cv2.findContours(bright, cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_NONE)
    if not contours:
        return None
    paper = max(contours, key=cv2.contourArea)
    area = cv2.contourArea(paper)
    if area < 0.01 * h * w:
        return None
    rect = cv2.minAreaRect(paper)
    (rw, rh) = rect[1]
    if rw * rh <= 0 or area < 0.75 * rw * rh:
        return None  # not a quadrilateral: background blobs, a hand, folds
    quad = _fit_sides(paper.reshape(-1, 2).astype(np.float32), _corners(paper, rect), (h, w))
    frame = np.array([[0, 0], [w - 1, 0], [w - 1, h - 1], [0, h - 1]], np.float32)
    if (np.abs(quad - frame) < 0.02 * np.array([w, h], np.float32)).all():
        return None  # paper filling the frame: no background to find its edges against
    return quad


def _fit_sides(points: np.ndarray, quad: np.ndarray, shape: tuple[int, int]) -> np.ndarray:
    """Corners from lines fitted to each side's edge points. Points on the frame are not
    the paper's edge: a corner cut off by the frame is put back where its sides meet."""
    h, w = shape
    on_frame = (points[:, 0] <= 1) | (points[:, 1] <= 1) | (points[:, 0] >= w - 2) | (points[:, 1] >= h - 2)
    lines = []
    for a, b in zip(quad, np.roll(quad, -1, axis=0), strict=True):
        d = b - a
        length = float(np.linalg.norm(d))
        u = d / max(length, 1e-6)
        rel = points - a
        along = rel @ u
        off = np.abs(rel[:, 0] * u[1] - rel[:, 1] * u[0])
        near = (~on_frame) & (off < max(2.0, 0.03 * length)) & (along > 0.1 * length) & (along < 0.9 * length)
        if near.sum() >= 8:
            vx, vy, x0, y0 = cv2.fitLine(points[near], cv2.DIST_HUBER, 0, 0.01, 0.01).ravel()
            lines.append((np.array([x0, y0]), np.array([vx, vy])))
        else:
            lines.append((a, u))
    out = []
    for k in range(4):
        (p1, d1), (p2, d2) = lines[k - 1], lines[k]
        det = d1[0] * -d2[1] + d2[0] * d1[1]
        if abs(det) < 1e-6:
            return quad
        t = ((p2 - p1)[0] * -d2[1] + d2[0] * (p2 - p1)[1]) / det
        out.append(p1 + t * d1)
    fitted = np.array(out, np.float32)
    # A fit that moves a corner far (a bad side) is worse than the rough corner.
    if np.abs(fitted - quad).max() > 0.1 * max(h, w):
        return quad
    return fitted


def _corners(contour: np.ndarray, rect: tuple) -> np.ndarray:
    """Four corners of a quadrilateral contour (perspective kept), else its min-area rect."""
    hull = cv2.convexHull(contour)
    peri = cv2.arcLength(hull, True)
    for eps in (0.01, 0.02, 0.03, 0.05):
        approx = cv2.approxPolyDP(hull, eps * peri, True)
        if len(approx) == 4:
            return _clockwise(approx.reshape(4, 2).astype(np.float32))
    return _clockwise(cv2.boxPoints(rect).astype(np.float32))


def _clockwise(pts: np.ndarray) -> np.ndarray:
    """Order corners clockwise on screen (y down), starting from the top-left-most."""
    c = pts.mean(axis=0)
    order = np.argsort(np.arctan2(pts[:, 1] - c[1], pts[:, 0] - c[0]))
    pts = pts[order]
    start = int(np.argmin(pts[:, 0] + pts[:, 1]))
    return np.roll(pts, -start, axis=0)


def _tall(quad: np.ndarray) -> np.ndarray:
    """Start the corners at a short side, so the warp stands the receipt up; of the two
    short sides, the upper one (a photo is more often upright than not)."""
    first = np.linalg.norm(quad[1] - quad[0]) + np.linalg.norm(quad[3] - quad[2])
    second = np.linalg.norm(quad[2] - quad[1]) + np.linalg.norm(quad[0] - quad[3])
    if first > second:
        quad = np.roll(quad, -1, axis=0)
    top = quad[0][1] + quad[1][1]
    bottom = quad[2][1] + quad[3][1]
    return quad if top <= bottom else quad[[2, 3, 0, 1]]


def _ink(small: np.ndarray) -> np.ndarray:
    """Dark marks against their surroundings (independent of uneven light)."""
    k = max(15, (min(small.shape) // 20) | 1)
    return cv2.adaptiveThreshold(small, 255, cv2.ADAPTIVE_THRESH_MEAN_C, cv2.THRESH_BINARY_INV, k, 15)


def _text_axis(small: np.ndarray, paper: np.ndarray | None) -> np.ndarray | None:
    """The receipt's rectangle from its text alone: the min-area rectangle of the ink,
    padded by a margin (:func:`_straighten` then levels it on the text lines). Without
    ``paper`` (its outline is not to be trusted), all the ink counts."""
    # Only ink on paper: the edge of a darker border is not text.
    inside = cv2.erode(paper, np.ones((5, 5), np.uint8)) if paper is not None else None
    ink = _ink(small)
    if inside is not None and cv2.countNonZero(inside):
        ink = cv2.bitwise_and(ink, inside)
    ink = cv2.morphologyEx(ink, cv2.MORPH_OPEN, np.ones((2, 2), np.uint8))
    pts = cv2.findNonZero(ink)
    if pts is None or len(pts) < 200:
        return None
    (cx, cy), (rw, rh), angle = cv2.minAreaRect(pts)
    if rw > rh:
        rw, rh, angle = rh, rw, angle - 90
    t = np.deg2rad(angle)
    u = np.array([np.cos(t), np.sin(t)])  # across the receipt
    v = np.array([-np.sin(t), np.cos(t)])  # along it
    p = pts.reshape(-1, 2).astype(np.float32) - (cx, cy)
    a, b = p @ u, p @ v
    a0, a1 = np.percentile(a, [0.2, 99.8])
    b0, b1 = np.percentile(b, [0.1, 99.9])
    # The longest words ("Cuatro") end past where most rows end: the few pixels beyond
    # the percentile are the acta's right column, not specks, and must stay in the view.
    pad = 0.15 * (a1 - a0)
    a0, a1, b0, b1 = a0 - pad, a1 + pad, b0 - pad, b1 + pad
    c = np.array([cx, cy])
    quad = np.array([c + a0 * u + b0 * v, c + a1 * u + b0 * v, c + a1 * u + b1 * v, c + a0 * u + b1 * v])
    return quad.astype(np.float32)


def _level_angle(ink: np.ndarray, span: float, step: float) -> float:
    """The small turn (degrees, counter-clockwise on screen) that makes the text lines of
    an upright view level: the sharpest row profile when vertical strips are shifted
    against each other (a shear, as good as a turn for a few degrees, and cheap)."""
    h, w = ink.shape
    strips = 8
    edges = np.linspace(0, w, strips + 1).astype(int)
    profiles = np.stack([ink[:, x0:x1].sum(axis=1, dtype=np.float64) for x0, x1 in itertools.pairwise(edges)])
    centres = (edges[:-1] + edges[1:]) / 2 - w / 2
    pad = int(np.ceil(abs(np.tan(np.deg2rad(span))) * w / 2)) + 1
    padded = np.pad(profiles, ((0, 0), (pad, pad)))
    best, best_score = 0.0, -1.0
    for delta in np.arange(-span, span + step / 2, step):
        shifts = np.round(centres * np.tan(np.deg2rad(delta))).astype(int)
        total = sum(padded[k, pad + s : pad + s + h] for k, s in enumerate(shifts))
        score = float(np.square(total).sum())
        if score > best_score:
            best, best_score = float(delta), score
    return best


def _qr_at_bottom(small: np.ndarray, quad: np.ndarray) -> bool:
    """Whether the QR is in the lower half of this quad's view: the QR is the darkest
    square block of the receipt, and it prints at the bottom. (Either way the caller
    also gets the other end up, in case a signature or a stain was darker.)"""
    tw = 48
    side = float(np.linalg.norm(quad[1] - quad[0]))
    length = float(np.linalg.norm(quad[3] - quad[0]))
    th = max(tw, round(tw * length / max(side, 1.0)))
    thumb = _warp(small, quad, tw, th)
    if th <= 64:
        return True
    rows = (_ink(thumb) > 0).astype(np.float32).mean(axis=1)
    win = max(3, int(0.7 * tw))
    dens = np.convolve(rows, np.ones(win) / win, mode="valid")
    top = float(dens[: len(dens) // 2].max())
    bottom = float(dens[len(dens) // 2 :].max())
    return bottom >= top


def _warp(gray: np.ndarray, quad: np.ndarray, width: int, height: int) -> np.ndarray:
    dst = np.array([[0, 0], [width - 1, 0], [width - 1, height - 1], [0, height - 1]], np.float32)
    m = cv2.getPerspectiveTransform(quad.astype(np.float32), dst)
    return cv2.warpPerspective(
        gray, m, (width, height), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE
    )


def _straighten(gray: np.ndarray, quad: np.ndarray, edges: bool) -> np.ndarray:
    """Make the text lines of the quad's view level.

    With the paper's edges found (``edges``), the long edges are right but a short edge
    can be off (a corner cut by the frame, a dog-ear): the view is sheared, so the short
    edges are tilted to follow the text. With only the text's axis, the quad is turned.
    """
    tw = 320
    short, long_ = _sides(quad)
    th = int(min(6000, round(tw * long_ / max(short, 1.0))))
    dst = np.array([[0, 0], [tw - 1, 0], [tw - 1, th - 1], [0, th - 1]], np.float32)
    m = cv2.getPerspectiveTransform(quad, dst)
    thumb = cv2.warpPerspective(gray, m, (tw, th), flags=cv2.INTER_AREA, borderMode=cv2.BORDER_REPLICATE)
    delta = _level_angle(_ink(thumb), 3.0, 0.1)
    if abs(delta) < 0.1:
        return quad
    slope = float(np.tan(np.deg2rad(delta)))
    corners: np.ndarray
    if edges:
        corners = dst + np.stack([np.zeros(4), (dst[:, 0] - tw / 2) * slope], axis=1)
    else:
        turn = cv2.getRotationMatrix2D((tw / 2, th / 2), -delta, 1.0)
        corners = np.hstack([dst, np.ones((4, 1), np.float32)]) @ turn.T
    back = cv2.perspectiveTransform(corners.reshape(-1, 1, 2).astype(np.float32), np.linalg.inv(m))
    return back.reshape(4, 2).astype(np.float32)


def _enhance(gray: np.ndarray) -> np.ndarray:
    """Even light, and crisper strokes: the warp's interpolation softens them, and the
    recogniser misses faint digits in a soft view that it reads in a sharpened one."""
    out = _flatten_light(gray)
    blur = cv2.GaussianBlur(out, (0, 0), 1.5)
    return cv2.addWeighted(out, 1.8, blur, -0.8, 0)


def _flatten_light(gray: np.ndarray) -> np.ndarray:
    """Divide out the paper's brightness (shadows, fall-off), found on a quarter-size copy."""
    h, w = gray.shape
    small = cv2.resize(gray, (max(1, w // 4), max(1, h // 4)), interpolation=cv2.INTER_AREA)
    # The paper around each glyph: a max filter wider than a text line, then smoothed.
    paper = cv2.blur(cv2.dilate(small, np.ones((9, 9), np.uint8)), (9, 9))
    paper = cv2.resize(paper, (w, h), interpolation=cv2.INTER_LINEAR)
    out = cv2.divide(gray, np.maximum(paper, 1), scale=255)
    return out
