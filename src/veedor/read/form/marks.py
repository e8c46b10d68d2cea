"""The corner marks of a printed form, and the map from the form's own units to the image.

Forms filled by hand (Honduras' "acta de cierre") print a solid square near each corner. The
definition places everything else (each field's boxes) in *form units*: x is 0 at the
top-left mark's centre and 1000 at the top-right mark's; y runs down at the same scale.
Two marks (the top ones) fix a similarity (a flat scan: shift, scale, a slight turn); all
four fix a perspective (a sheet photographed at an angle). Nothing is read here: only shapes.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

UNITS = 1000.0
"""Form units between the centres of the two top marks."""


@dataclass(frozen=True)
class Marks:
    """Centres of the marks found, in pixels, by corner ("tl", "tr", "bl", "br")."""

    centres: dict[str, tuple[float, float]]

    @property
    def placed(self) -> bool:
        return {"tl", "tr"} <= set(self.centres)


def find_marks(gray: np.ndarray, size: tuple[float, float] = (0.03, 0.07), corner: float = 0.15) -> Marks:
    """The solid squares nearest to each corner of the image.

    ``size``: a mark's side as a share of the image's width (smallest, largest); ``corner``:
    how far from each edge, as a share of the image, a mark may lie. A mark is a dark square
    component filled at least half (a white glyph may sit inside it)."""
    h, w = gray.shape[:2]
    _, ink = cv2.threshold(gray, 0, 255, cv2.THRESH_BINARY_INV | cv2.THRESH_OTSU)
    _n, _labels, stats, _centroids = cv2.connectedComponentsWithStats(np.asarray(ink), connectivity=8)
    lo, hi = size[0] * w, size[1] * w
    found: dict[str, tuple[float, tuple[float, float]]] = {}
    for x, y, bw, bh, area in stats[1:]:
        if not (lo <= bw <= hi and lo <= bh <= hi and 0.75 <= bw / bh <= 1.33):
            continue
        if not 0.5 * bw * bh <= area <= 0.97 * bw * bh:
            continue
        centre = (x + bw / 2, y + bh / 2)
        horizontal = "l" if centre[0] < corner * w else "r" if centre[0] > (1 - corner) * w else None
        vertical = "t" if centre[1] < corner * h else "b" if centre[1] > (1 - corner) * h else None
        if horizontal is None or vertical is None:
            continue
        key = vertical + horizontal
        edge_x = centre[0] if horizontal == "l" else w - centre[0]
        edge_y = centre[1] if vertical == "t" else h - centre[1]
        distance = float(np.hypot(edge_x, edge_y))
        if key not in found or distance < found[key][0]:
            found[key] = (distance, (float(centre[0]), float(centre[1])))
    return Marks({key: centre for key, (_, centre) in found.items()})


def form_to_image(marks: Marks, bottom_y: float) -> np.ndarray | None:
    """A 3x3 matrix taking form units to image pixels; None unless the top marks were found.

    ``bottom_y``: the bottom marks' y in form units (from the definition)."""
    if not marks.placed:
        return None
    c = marks.centres
    if {"bl", "br"} <= set(c):
        src = np.array([[0, 0], [UNITS, 0], [0, bottom_y], [UNITS, bottom_y]], np.float32)
        dst = np.array([c["tl"], c["tr"], c["bl"], c["br"]], np.float32)
        matrix = np.asarray(cv2.getPerspectiveTransform(src, dst))
        if _sane(matrix, c):
            return matrix
    (x0, y0), (x1, y1) = c["tl"], c["tr"]
    scale = np.hypot(x1 - x0, y1 - y0) / UNITS
    angle = np.arctan2(y1 - y0, x1 - x0)
    cos, sin = scale * np.cos(angle), scale * np.sin(angle)
    return np.array([[cos, -sin, x0], [sin, cos, y0], [0.0, 0.0, 1.0]])


def _sane(matrix: np.ndarray, centres: dict[str, tuple[float, float]]) -> bool:
    """A perspective from four marks is kept only when its sides agree within a fifth (a speck
    taken for a bottom mark would bend every box)."""
    (x0, y0), (x1, y1) = centres["tl"], centres["tr"]
    (x2, y2), (x3, y3) = centres["bl"], centres["br"]
    top, bottom = np.hypot(x1 - x0, y1 - y0), np.hypot(x3 - x2, y3 - y2)
    left, right = np.hypot(x2 - x0, y2 - y0), np.hypot(x3 - x1, y3 - y1)
    return bool(
        abs(top - bottom) < 0.2 * top and abs(left - right) < 0.2 * left and np.isfinite(matrix).all()
    )


def to_image(matrix: np.ndarray, box: tuple[float, float, float, float]) -> tuple[int, int, int, int]:
    """A form-units box (x0, y0, x1, y1) as the pixel box that holds its four corners."""
    x0, y0, x1, y1 = box
    corners = np.array([[[x0, y0]], [[x1, y0]], [[x0, y1]], [[x1, y1]]], np.float32)
    pts = np.asarray(cv2.perspectiveTransform(corners, matrix)).reshape(-1, 2)
    return (
        int(np.floor(pts[:, 0].min())),
        int(np.floor(pts[:, 1].min())),
        int(np.ceil(pts[:, 0].max())),
        int(np.ceil(pts[:, 1].max())),
    )
