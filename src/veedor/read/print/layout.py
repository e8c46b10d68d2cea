"""Find the printed acta's text lines and table columns, without any OCR.

The acta is a thermal receipt in one fixed layout: a header block, a small "Votantes"
table, the ballot table (one line per ballot position: sigla, código, NRO., letras) and
the "Resumen de votos" table. Every numeric row ends with the same two columns, a count
in digits and the same count spelt digit by digit ("Cero, Uno, Cuatro, Nueve"). Rows are
found from the right (the left edge of a photo is the part most often cut off), so that
only the small regions the checks need are handed to the recogniser.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np


@dataclass(frozen=True)
class Box:
    x0: int
    y0: int
    x1: int
    y1: int

    @property
    def width(self) -> int:
        return self.x1 - self.x0

    @property
    def height(self) -> int:
        return self.y1 - self.y0

    @property
    def cx(self) -> float:
        return (self.x0 + self.x1) / 2


@dataclass(frozen=True)
class Band:
    """One text line: its extent and its segments (runs of glyphs split at wide gaps)."""

    box: Box
    segments: tuple[Box, ...]


@dataclass(frozen=True)
class NumericRow:
    """A row that ends with a count in digits and the same count in words."""

    band: int  # index into Layout.bands
    digits: Box
    words: tuple[Box, ...]  # more than one when the words wrap onto the next line
    left: Box | None  # the label / sigla + código part, when present


@dataclass(frozen=True)
class Layout:
    char_h: float
    bands: tuple[Band, ...]
    rows: tuple[NumericRow, ...]


def _ink(gray: np.ndarray) -> np.ndarray:
    _, ink = cv2.threshold(gray, 0, 255, cv2.THRESH_BINARY_INV | cv2.THRESH_OTSU)
    return ink


def _components(ink: np.ndarray) -> np.ndarray:
    _n, _labels, stats, _ = cv2.connectedComponentsWithStats(ink, connectivity=8)
    return np.asarray(stats[1:])


def _text_scale(stats: np.ndarray) -> float:
    """A robust text-line height in pixels (about 16 at 200 dpi, 24 at 300 dpi).

    The 75th percentile of the heights of stroke-like components: it sits between the
    lowercase and capital heights whatever the mix, and noise specks fall below it.
    """
    w, h, area = stats[:, 2], stats[:, 3], stats[:, 4]
    stroke = (h >= 5) & (h <= 60) & (w >= 2) & (w <= 2 * h)
    stroke &= (area >= 0.15 * w * h) & (area <= 0.85 * w * h)
    if stroke.sum() < 200:
        return 0.0
    return float(np.percentile(h[stroke], 75))


def _glyphs(stats: np.ndarray, scale: float) -> np.ndarray:
    """Bounding boxes (x, y, w, h) of glyph-sized components."""
    w, h = stats[:, 2], stats[:, 3]
    keep = (h >= 0.4 * scale) & (h <= 1.5 * scale) & (w <= 3 * scale)
    return stats[keep, :4]


def _bands(glyphs: np.ndarray, char_h: float, height: int) -> list[Band]:
    occupied = np.zeros(height + 1, np.int32)
    # Rows covered by the middle part of each glyph: descenders and accents do not join lines.
    top = glyphs[:, 1] + glyphs[:, 3] // 5
    bottom = glyphs[:, 1] + glyphs[:, 3] - glyphs[:, 3] // 5
    np.add.at(occupied, top, 1)
    np.add.at(occupied, bottom, -1)
    covered = np.cumsum(occupied)[:height] > 0
    edges = np.flatnonzero(np.diff(np.concatenate(([0], covered.view(np.int8), [0]))))
    order = np.argsort(glyphs[:, 0], kind="stable")
    gx = glyphs[order]
    centre = gx[:, 1] + gx[:, 3] / 2
    bands = []
    gap = 1.0 * char_h
    for y0, y1 in zip(edges[::2], edges[1::2], strict=True):
        sel = gx[(centre >= y0) & (centre < y1)]
        if len(sel) == 0:
            continue
        segments = []
        sx0, sy0 = sel[0, 0], sel[0, 1]
        sx1, sy1 = sx0 + sel[0, 2], sy0 + sel[0, 3]
        for x, y, w, h in sel[1:]:
            if x - sx1 > gap:
                segments.append(Box(int(sx0), int(sy0), int(sx1), int(sy1)))
                sx0, sy0, sx1, sy1 = x, y, x + w, y + h
            else:
                sx1 = max(sx1, x + w)
                sy0 = min(sy0, y)
                sy1 = max(sy1, y + h)
        segments.append(Box(int(sx0), int(sy0), int(sx1), int(sy1)))
        box = Box(
            min(s.x0 for s in segments),
            min(s.y0 for s in segments),
            max(s.x1 for s in segments),
            max(s.y1 for s in segments),
        )
        bands.append(Band(box, tuple(segments)))
    return bands


def _numeric_rows(bands: list[Band], char_h: float) -> list[NumericRow]:
    rows: list[NumericRow] = []
    for i, band in enumerate(bands):
        segs = band.segments
        if len(segs) < 2:
            continue
        words, digits = segs[-1], segs[-2]
        # Digits: at most four glyphs; words: at least "Cero, Cero, Cero, Cero" long.
        if digits.width > 2.8 * char_h or words.width < 6 * char_h:
            continue
        if digits.height > 1.3 * char_h:
            continue
        left = None
        if len(segs) >= 3:
            left = Box(segs[0].x0, min(s.y0 for s in segs[:-2]), segs[-3].x1,
                       max(s.y1 for s in segs[:-2]))
        wrapped = [words]
        nxt = bands[i + 1] if i + 1 < len(bands) else None
        if nxt is not None:
            cont = [s for s in nxt.segments if s.x0 >= digits.x1 and s.x1 > words.x0]
            has_digits = any(s.x1 > digits.x0 and s.x0 < digits.x1 for s in nxt.segments)
            if cont and not has_digits and nxt.box.y0 - band.box.y1 < char_h:
                wrapped.append(Box(cont[0].x0, min(s.y0 for s in cont), cont[-1].x1,
                                   max(s.y1 for s in cont)))
        rows.append(NumericRow(i, digits, tuple(wrapped), left))
    return rows


def _without_rules(ink: np.ndarray, scale: float) -> np.ndarray:
    """Erase table rules: digits that touch a rule would otherwise join it into one blob."""
    long_h = max(3, int(6 * scale))
    long_v = max(3, int(3 * scale))
    # Scanned rules wander by a pixel; thicken across the rule before looking for long runs.
    thick_h = cv2.dilate(ink, np.ones((3, 1), np.uint8))
    thick_v = cv2.dilate(ink, np.ones((1, 3), np.uint8))
    rules = cv2.morphologyEx(thick_h, cv2.MORPH_OPEN, np.ones((1, long_h), np.uint8))
    rules |= cv2.morphologyEx(thick_v, cv2.MORPH_OPEN, np.ones((long_v, 1), np.uint8))
    rules = cv2.dilate(rules, np.ones((3, 3), np.uint8))
    return cv2.subtract(ink, rules)


def find_layout(gray: np.ndarray) -> Layout:
    ink = _ink(gray)
    scale = _text_scale(_components(ink))
    if scale == 0:
        return Layout(0.0, (), ())
    glyphs = _glyphs(_components(_without_rules(ink, scale)), scale)
    bands = _bands(glyphs, scale, gray.shape[0])
    return Layout(scale, tuple(bands), tuple(_numeric_rows(bands, scale)))
