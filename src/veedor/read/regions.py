"""Where is the QR? Candidate regions for the fallbacks to crop, straighten and retry.

A fallback that decodes a tight, upright, well-sized crop succeeds far more often than
one that re-reads a whole phone photo. Candidates come from three independent sources,
cheapest and most precise first:

1. zxing-cpp itself: with ``return_errors`` it reports symbols it found but could not
   decode, with their corners;
2. OpenCV's finder-pattern detectors (classic and Aruco-based), which give a quadrilateral
   even when decoding fails;
3. a texture search: the QR is the largest dense, square patch of black-and-white
   detail on the page, which finds it when its finder patterns are damaged.

Plus the ends of a long receipt (the QR prints at the bottom; a scan fed upside down
has it at the top), which costs nothing on the typical scan.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import cv2
import numpy as np

# Work on a reduced copy for detection: enough detail to see modules of a QR that fills
# at least ~2% of the frame, small enough to stay within tens of milliseconds.
_DETECT_AREA = 1_500_000


@dataclass(frozen=True)
class Region:
    """A candidate QR location in full-resolution pixel coordinates."""

    source: str  # "zxing", "opencv", "aruco", "texture"
    quad: np.ndarray  # 4x2 float32 corners, in order (top-left, top-right, bottom-right, bottom-left)

    @property
    def side(self) -> float:
        q = self.quad
        return float(np.mean([np.linalg.norm(q[i] - q[(i + 1) % 4]) for i in range(4)]))

    @property
    def center(self) -> np.ndarray:
        return self.quad.mean(axis=0)


def _reduced(gray: np.ndarray) -> tuple[np.ndarray, float]:
    h, w = gray.shape[:2]
    factor = min(1.0, (_DETECT_AREA / float(h * w)) ** 0.5)
    if factor >= 1.0:
        return gray, 1.0
    return cv2.resize(gray, None, fx=factor, fy=factor, interpolation=cv2.INTER_AREA), factor


def _plausible(quad: np.ndarray, shape: tuple[int, ...]) -> bool:
    """Reject degenerate quads: too small to hold 49 modules, or far off the image."""
    h, w = shape[:2]
    sides = [np.linalg.norm(quad[i] - quad[(i + 1) % 4]) for i in range(4)]
    if min(sides) < 40 or max(sides) > 4 * min(sides):
        return False
    cx, cy = quad.mean(axis=0)
    return bool(-0.1 * w <= cx <= 1.1 * w and -0.1 * h <= cy <= 1.1 * h)


def position_quad(p: Any) -> np.ndarray:
    """A zxing-cpp ``Position`` as a (4, 2) float32 array, clockwise from top-left."""
    corners = (p.top_left, p.top_right, p.bottom_right, p.bottom_left)
    return np.array([[c.x, c.y] for c in corners], dtype=np.float32)


def from_zxing(gray: np.ndarray) -> list[Region]:
    """Symbols zxing saw but could not decode (checksum or format errors)."""
    import zxingcpp

    found = zxingcpp.read_barcodes(
        gray,
        formats=zxingcpp.BarcodeFormat.QRCode,  # type: ignore[arg-type]
        return_errors=True,
    )
    out = []
    for r in found:
        quad = position_quad(r.position)
        if _plausible(quad, gray.shape):
            out.append(Region("zxing", quad))
    return out


def from_opencv(gray: np.ndarray, aruco: bool = False) -> list[Region]:
    """OpenCV's finder-pattern detectors, run on a reduced copy."""
    small, factor = _reduced(gray)
    detector = cv2.QRCodeDetectorAruco() if aruco else cv2.QRCodeDetector()
    try:
        ok, points = detector.detectMulti(small)
    except cv2.error:
        ok, points = False, None
    if not ok or points is None:
        return []
    out = []
    for quad in np.asarray(points, dtype=np.float32).reshape(-1, 4, 2):
        full = quad / factor
        if _plausible(full, gray.shape):
            out.append(Region("aruco" if aruco else "opencv", full))
    return out


def from_texture(gray: np.ndarray, limit: int = 3) -> list[Region]:
    """Dense, square patches of fine black-and-white detail, largest first."""
    small, factor = _reduced(gray)
    h, w = small.shape[:2]
    grad = cv2.morphologyEx(small, cv2.MORPH_GRADIENT, np.ones((3, 3), np.uint8))
    _t, edges = cv2.threshold(grad, 0, 255, cv2.THRESH_BINARY | cv2.THRESH_OTSU)
    found: list[tuple[float, Region]] = []
    # Two closing sizes: the module size is unknown, and the QR may fill 3% or 60% of the view.
    for k in (max(5, min(h, w) // 60), max(9, min(h, w) // 30)):
        blob = cv2.morphologyEx(edges, cv2.MORPH_CLOSE, np.ones((k, k), np.uint8))
        blob = cv2.morphologyEx(blob, cv2.MORPH_OPEN, np.ones((k, k), np.uint8))
        contours, _h = cv2.findContours(blob, cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_SIMPLE)
        for c in contours:
            area = cv2.contourArea(c)
            if area < 0.002 * h * w:
                continue
            rect = cv2.minAreaRect(c)
            rw, rh = rect[1]
            if min(rw, rh) < 20 or min(rw, rh) / max(rw, rh) < 0.6:
                continue
            fill = area / (rw * rh)
            if fill < 0.6:
                continue
            quad = cv2.boxPoints(rect).astype(np.float32) / factor
            score = area * fill * (min(rw, rh) / max(rw, rh))
            found.append((score, Region("texture", _order(quad))))
    found.sort(key=lambda t: -t[0])
    return _dedupe([r for _s, r in found])[:limit]


def _order(quad: np.ndarray) -> np.ndarray:
    """Corners as top-left, top-right, bottom-right, bottom-left (by image position)."""
    s = quad.sum(axis=1)
    d = np.diff(quad, axis=1).ravel()
    corners = [quad[np.argmin(s)], quad[np.argmin(d)], quad[np.argmax(s)], quad[np.argmax(d)]]
    return np.array(corners, dtype=np.float32)


def _dedupe(regions: list[Region]) -> list[Region]:
    kept: list[Region] = []
    for r in regions:
        if all(np.linalg.norm(r.center - k.center) > 0.3 * k.side for k in kept):
            kept.append(r)
    return kept


def find(gray: np.ndarray, limit: int = 3) -> list[Region]:
    """Candidate QR regions, most trustworthy first, near-duplicates removed."""
    # The classic OpenCV detector is left out: slower than Aruco (~150 ms a page) and it
    # found no region that the other three missed on degraded actas.
    regions = from_zxing(gray) + from_opencv(gray, aruco=True) + from_texture(gray)
    return _dedupe(regions)[:limit]


def crop(gray: np.ndarray, region: Region, margin: float = 0.3) -> np.ndarray:
    """Axis-aligned crop around the region with a margin for the quiet zone."""
    h, w = gray.shape[:2]
    x0, y0 = region.quad.min(axis=0)
    x1, y1 = region.quad.max(axis=0)
    m = margin * region.side
    xa, ya = max(0, int(x0 - m)), max(0, int(y0 - m))
    xb, yb = min(w, int(x1 + m)), min(h, int(y1 + m))
    out = gray[ya:yb, xa:xb]
    return out if out.size else gray


def warp(gray: np.ndarray, region: Region, side: int = 560, margin: float = 0.12) -> np.ndarray:
    """Perspective-correct the region into an upright square with a white quiet zone.

    Orientation is not guaranteed (the corner order follows the detector), which the
    decoders do not mind: they handle the four quarter turns and mirror images.
    """
    inner = side * (1 - 2 * margin)
    off = side * margin
    dst = np.array(
        [[off, off], [off + inner, off], [off + inner, off + inner], [off, off + inner]],
        dtype=np.float32,
    )
    m = cv2.getPerspectiveTransform(region.quad.astype(np.float32), dst)
    return cv2.warpPerspective(
        gray, m, (side, side), flags=cv2.INTER_CUBIC, borderMode=cv2.BORDER_CONSTANT, borderValue=255
    )


def receipt_ends(gray: np.ndarray) -> list[tuple[str, np.ndarray]]:
    """The two ends of a long receipt, bottom first (where the QR prints)."""
    h, w = gray.shape[:2]
    if h >= 2.5 * w:
        band = min(h, int(1.3 * w))
        return [("bottom", gray[h - band :]), ("top", gray[:band])]
    if w >= 2.5 * h:
        band = min(w, int(1.3 * h))
        return [("right", gray[:, w - band :]), ("left", gray[:, :band])]
    return []
