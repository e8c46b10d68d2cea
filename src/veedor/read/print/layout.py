"""Find the printed acta's text lines and table columns, without any OCR.

The acta is a thermal receipt in one fixed layout: a header block, a small "Votantes"
table, the ballot table (one line per ballot position: sigla, código, NRO., letras) and
the "Resumen de votos" table. Every numeric row ends with the same two columns, a count
in digits and the same count spelt digit by digit ("Cero, Uno, Cuatro, Nueve"). Rows are
found from the right (the left edge of a photo is the part most often cut off), so that
only the small regions the checks need are handed to the recogniser.
"""

from __future__ import annotations

import itertools
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
    digits: Box  # the whole NRO. column window on this row
    tight: Box | None  # the glyphs found inside that window, when they look like digits
    words: tuple[Box, ...]  # more than one when the words wrap onto the next line
    code: Box | None  # the party code (ballot lines) or the label's last part


@dataclass(frozen=True)
class Layout:
    scale: float  # typical text-line height in pixels
    bands: tuple[Band, ...]
    table: tuple[NumericRow, ...]  # "Votantes" rows and ballot lines, top to bottom
    summary: tuple[NumericRow, ...]  # "Resumen de votos" rows
    tables: int = 1  # ballot tables seen: more than one means more than one acta in the image

    @property
    def found(self) -> bool:
        return bool(self.table)


def _ink(gray: np.ndarray) -> np.ndarray:
    _, ink = cv2.threshold(gray, 0, 255, cv2.THRESH_BINARY_INV | cv2.THRESH_OTSU)
    return ink


def _components(ink: np.ndarray) -> np.ndarray:
    """Stats (x, y, w, h, area) of the 8-connected components, in no particular order
    (what is made of them depends on the set of components alone)."""
    # Blank rows cost the labelling time but join nothing: each run of them shrinks to one
    # row. A component never spans a blank row, so only its y changes, and maps back.
    inked = np.asarray(ink.any(axis=1))
    keep = inked.copy()
    keep[1:] |= inked[:-1]
    rows = np.flatnonzero(keep)
    if len(rows) < len(keep):
        ink = ink[rows]
    # An odd height or width sends OpenCV's Grana down a path ~2.5x slower (measured); a
    # blank row or column at the far edge changes no component.
    h, w = ink.shape[:2]
    if h % 2 or w % 2:
        ink = cv2.copyMakeBorder(ink, 0, h % 2, 0, w % 2, cv2.BORDER_CONSTANT, value=0)
    # Grana's algorithm, named: the same components as the default, measured ~15 % faster
    # here (this call is most of the layout's time).
    _n, _labels, stats, _ = cv2.connectedComponentsWithStatsWithAlgorithm(ink, 8, cv2.CV_32S, cv2.CCL_GRANA)
    stats = np.asarray(stats[1:])
    if len(rows) < len(keep):
        stats[:, 1] = rows[stats[:, 1]]
    return stats


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
    # Rows covered by the middle part of each glyph: descenders and accents do not join lines.
    top = glyphs[:, 1] + glyphs[:, 3] // 5
    bottom = glyphs[:, 1] + glyphs[:, 3] - glyphs[:, 3] // 5
    occupied = np.bincount(top, minlength=height + 1) - np.bincount(bottom, minlength=height + 1)
    covered = np.cumsum(occupied)[:height] > 0
    edges = np.flatnonzero(np.diff(np.concatenate(([0], covered.view(np.int8), [0]))))
    spans = []
    for y0, y1 in zip(edges[::2], edges[1::2], strict=True):
        spans += _split_tall(glyphs, int(y0), int(y1), char_h)
    return _segmented(glyphs, spans, 1.0 * char_h)


def _segmented(glyphs: np.ndarray, spans: list[tuple[int, int]], gap: float) -> list[Band]:
    """One band per span that holds glyph centres, its glyphs cut into segments where the
    gap to everything left of them on the line is wider than ``gap``."""
    if not spans:
        return []
    # Glyphs in x order (ties in component order), grouped by span: numpy does the
    # per-glyph work, Python only builds the boxes.
    gx = glyphs[np.argsort(glyphs[:, 0], kind="stable")].astype(np.int64)
    centre = gx[:, 1] + gx[:, 3] / 2
    lo = np.array([a for a, _ in spans])
    hi = np.array([b for _, b in spans])
    span = np.searchsorted(lo, centre, side="right") - 1
    inside = (span >= 0) & (centre < hi[np.maximum(span, 0)])
    if not inside.any():
        return []
    order = np.argsort(span[inside], kind="stable")
    gx, span = gx[inside][order], span[inside][order]
    x, y, right, bottom = gx[:, 0], gx[:, 1], gx[:, 0] + gx[:, 2], gx[:, 1] + gx[:, 3]
    # The right edge reached so far on the line; lifted by a line's worth per span so that
    # one running maximum never carries an edge over from the line above.
    lift = span * (int(right.max()) + 1)
    reach = np.maximum.accumulate(right + lift)
    new = np.ones(len(x), bool)
    new[1:] = (span[1:] != span[:-1]) | (x[1:] + lift[1:] - reach[:-1] > gap)
    starts = np.flatnonzero(new)
    x0, y0 = x[starts].tolist(), np.minimum.reduceat(y, starts).tolist()
    x1, y1 = np.maximum.reduceat(right, starts).tolist(), np.maximum.reduceat(bottom, starts).tolist()
    lines = np.flatnonzero(np.diff(np.concatenate(([-1], span[starts], [-1])))).tolist()
    bands = []
    for a, b in itertools.pairwise(lines):
        segments = tuple(Box(x0[k], y0[k], x1[k], y1[k]) for k in range(a, b))
        box = Box(min(x0[a:b]), min(y0[a:b]), max(x1[a:b]), max(y1[a:b]))
        bands.append(Band(box, segments))
    return bands


def _split_tall(glyphs: np.ndarray, y0: int, y1: int, scale: float) -> list[tuple[int, int]]:
    """A band two lines tall (a smudge or stamp stroke bridged them) is cut where only the
    small glyphs leave a gap; otherwise it is kept whole."""
    if y1 - y0 <= 1.6 * scale:
        return [(y0, y1)]
    centre = glyphs[:, 1] + glyphs[:, 3] / 2
    small = glyphs[(centre >= y0) & (centre < y1) & (glyphs[:, 3] < 0.9 * scale)]
    covered = np.zeros(y1 - y0, bool)
    for _x, y, _w, h in small:
        covered[max(0, y + h // 5 - y0) : max(0, y + h - h // 5 - y0)] = True
    edges = np.flatnonzero(np.diff(np.concatenate(([0], covered.view(np.int8), [0]))))
    parts = [(int(a), int(b)) for a, b in zip(edges[::2], edges[1::2], strict=True) if b - a >= 0.3 * scale]
    if len(parts) < 2:
        return [(y0, y1)]
    # Cut half-way between the parts so that every glyph still falls in one of them.
    cuts = [y0] + [y0 + (a[1] + b[0]) // 2 for a, b in itertools.pairwise(parts)] + [y1]
    return list(itertools.pairwise(cuts))


def _candidates(bands: list[Band], scale: float) -> list[NumericRow]:
    """Rows whose last two segments look like a short number and a long run of words."""
    rows: list[NumericRow] = []
    for i, band in enumerate(bands):
        segs = band.segments
        if len(segs) < 2:
            continue
        words, digits = segs[-1], segs[-2]
        if digits.width > 2.8 * scale or words.width < 6 * scale or digits.height > 1.3 * scale:
            continue
        code = segs[-3] if len(segs) >= 3 else None
        rows.append(NumericRow(i, digits, None, (words,), code))
    return rows


def _overlaps(seg: Box, x0: float, x1: float) -> bool:
    return seg.x1 > x0 and seg.x0 < x1


def _box(segs: list[Box]) -> Box:
    return Box(
        min(s.x0 for s in segs), min(s.y0 for s in segs), max(s.x1 for s in segs), max(s.y1 for s in segs)
    )


def _column_rows(
    bands: list[Band],
    picks: list[int],
    column: float,
    words: tuple[float, float],
    scale: float,
    wrap: bool = True,
    lean: Lean | None = None,
) -> list[NumericRow]:
    """Cut each picked band at the column windows, not at its own segments: stamps and
    smudges glued to the glyphs make segments unreliable, the columns do not move (on a
    tilted scan they move along a straight line: ``lean``)."""
    rows = []
    half = 1.5 * scale
    for i in picks:
        band = bands[i]
        dx = lean.x_at(band.box.y0) - column if lean is not None else 0.0
        col, win = column + dx, (words[0] + dx, words[1] + dx)
        wsegs = [s for s in band.segments if _overlaps(s, *win) and abs(s.cx - col) >= 0.9 * scale]
        if sum(s.width for s in wsegs) < 2 * scale:
            continue
        y0, y1 = band.box.y0, band.box.y1
        digits = Box(int(col - half), y0, int(col + half), y1)
        inside = [s for s in band.segments if s.x0 >= digits.x0 and s.x1 <= digits.x1]
        tight = _box(inside) if inside and all(s.height < 1.3 * scale for s in inside) else None
        w0 = int(max(win[0], col + half))
        wrapped = [Box(w0, y0, int(win[1]), y1)]
        if wrap and i + 1 < len(bands):
            nxt = bands[i + 1]
            cont = [s for s in nxt.segments if s.x0 >= win[0] and s.x1 <= win[1]]
            # Nothing between the label and the words: a title line crosses that gap.
            has_digits = any(_overlaps(s, col - 2 * scale, w0) for s in nxt.segments)
            short = sum(s.width for s in cont) < 7 * scale and nxt.box.height < 1.5 * scale
            if cont and short and not has_digits and nxt.box.y0 - y1 < 0.8 * scale:
                wrapped.append(Box(w0, nxt.box.y0, int(win[1]), nxt.box.y1))
        left = [s for s in band.segments if s.x1 <= digits.x0 + 0.3 * scale]
        rows.append(NumericRow(i, digits, tight, tuple(wrapped), left[-1] if left else None))
    return _code_column(rows, scale)


@dataclass(frozen=True)
class Lean:
    """A tilted scan's digits column: x = ``base`` + ``slope`` · y."""

    slope: float
    base: float

    def x_at(self, y: float) -> float:
        return self.base + self.slope * y


MAX_DRIFT = 0.5  # line heights the digits may wander across the table before windows follow them


def _lean(rows: list[NumericRow], scale: float) -> Lean | None:
    """The line the digits follow down the table, when they wander more than ``MAX_DRIFT``
    across it: the median glyph centre of the bottom half against the top half's."""
    found = np.array([(r.tight.y0, r.tight.cx) for r in rows if r.tight is not None], float)
    if len(found) < 10:
        return None
    top, bottom = found[: len(found) // 2], found[len(found) // 2 :]
    dy = float(np.median(bottom[:, 0]) - np.median(top[:, 0]))
    if dy <= 0:
        return None
    slope = float(np.median(bottom[:, 1]) - np.median(top[:, 1])) / dy
    if abs(slope) * float(found[-1, 0] - found[0, 0]) <= MAX_DRIFT * scale:
        return None
    return Lean(slope, float(np.median(found[:, 1] - slope * found[:, 0])))


def _candidates_lean(candidates: list[NumericRow], column: float, scale: float) -> Lean | None:
    """The line the candidates' digits follow from the rows in ``column``: fitted to them,
    then grown by the rows within a digit of the fit (the drifting ends of the table), when
    they wander more than ``MAX_DRIFT`` over it and it gains rows while keeping the
    column's (the summary's digits, further left, must not bend it)."""
    found = np.array([(r.digits.y0, r.digits.cx) for r in candidates], float)
    upright = np.abs(found[:, 1] - column) < 0.8 * scale
    inliers = upright
    for _ in range(3):
        if inliers.sum() < 10:
            return None
        slope, base = np.polyfit(found[inliers, 0], found[inliers, 1], 1)
        inliers = np.abs(found[:, 1] - (base + slope * found[:, 0])) < 0.8 * scale
    span = float(np.ptp(found[inliers, 0])) if inliers.any() else 0.0
    if abs(slope) * span <= MAX_DRIFT * scale:
        return None
    if (inliers & upright).sum() < 0.8 * upright.sum() or inliers.sum() < upright.sum() + 2:
        return None
    return Lean(float(slope), float(base))


def _code_column(rows: list[NumericRow], scale: float) -> list[NumericRow]:
    """Replace each row's code box by the column most rows agree on (stamps glue the
    code to other marks; the column itself keeps its place beside the digits' window)."""
    ends = [r.code.x1 - r.digits.x0 for r in rows if r.code is not None and r.code.width < 3 * scale]
    if len(ends) < 3:
        return rows
    offset = float(np.median(ends)) + 0.3 * scale
    out = []
    for r in rows:
        x1 = r.digits.x0 + offset
        box = Box(int(max(0.0, x1 - 3.2 * scale)), r.digits.y0, int(min(x1, r.digits.x0)), r.digits.y1)
        out.append(NumericRow(r.band, r.digits, r.tight, r.words, box))
    return out


def _columns(rows: list[NumericRow], scale: float) -> tuple[float, tuple[float, float]]:
    """The digits column centre and the words window most of these rows agree on."""
    centres = np.array([r.digits.cx for r in rows])
    support = [(np.abs(centres - c) < 0.8 * scale).sum() for c in centres]
    best = centres[int(np.argmax(support))]
    column = float(np.median(centres[np.abs(centres - best) < 0.8 * scale]))
    agree = [r for r in rows if abs(r.digits.cx - column) < 0.8 * scale]
    w0 = float(np.median([r.words[0].x0 for r in agree])) - 1.5 * scale
    w1 = float(np.max([r.words[0].x1 for r in agree])) + 0.5 * scale
    return column, (w0, w1)


def _pick(
    bands: list[Band],
    span: range,
    column: float,
    words: tuple[float, float],
    scale: float,
    partial: bool = True,
) -> list[int]:
    """Bands with a count's worth of words in the words column.

    The digits are not required: a stamp over a single "0" glues it to the stamp's
    outline and the glyph disappears from the segments, but the row is still there. Nor
    are all the words, when a number sits in the column (a stamp can hide half the words).
    """
    picks = []
    for i in span:
        segs = bands[i].segments
        inked = sum(s.width for s in segs if _overlaps(s, *words) and abs(s.cx - column) >= 0.9 * scale)
        number = any(
            abs(s.cx - column) < 0.9 * scale and s.width <= 2.8 * scale and s.height <= 1.3 * scale
            for s in segs
        )
        if inked >= 4 * scale or (partial and number and inked >= 2 * scale):
            picks.append(i)
    return picks


def _number_near(band: Band, x: float, reach: float, scale: float) -> bool:
    """Whether a count-sized mark is centred within ``reach`` of ``x``."""
    return any(
        abs(s.cx - x) < reach and s.width <= 2.8 * scale and s.height <= 1.3 * scale for s in band.segments
    )


RECEIPT_APART = 25.0  # line heights between two receipts' digit columns (a receipt is ~40 wide)


def _side_by_side(bands: list[Band], scale: float) -> int:
    """How many digit columns hold a ballot's worth of rows (receipts side by side): any
    short segment followed by a long one on the same line counts, not only the last two.
    Columns closer than a receipt's width to a fuller one are that receipt's own marks
    (a stain's edge splitting every line at one place, labels cut at the frame)."""
    centres = []
    for band in bands:
        for a, b in zip(band.segments, band.segments[1:], strict=False):
            if a.width <= 2.8 * scale and a.height <= 1.3 * scale and b.width >= 6 * scale:
                centres.append(a.cx)
    groups: list[list[float]] = []
    for c in sorted(centres):
        if groups and c - groups[-1][-1] < 0.8 * scale:
            groups[-1].append(c)
        else:
            groups.append([c])
    kept: list[float] = []
    for group in sorted((g for g in groups if len(g) >= 20), key=len, reverse=True):
        if all(abs(float(np.mean(group)) - x) >= RECEIPT_APART * scale for x in kept):
            kept.append(float(np.mean(group)))
    return len(kept)


def _packed(bands: list[Band], picks: list[int], scale: float) -> bool:
    """Whether the rows from ``picks[0]`` on are packed like the "Resumen de votos" table
    (a pitch of ~1.6 line heights, ballot lines ≥ 2.5): the next pitch and the typical
    one of the next three, since on crumpled paper two ballot lines can come as close."""
    tops = [bands[i].box.y0 for i in picks[:4]]
    if len(tops) < 3:
        return False
    pitches = np.diff(tops)
    return bool(pitches[0] < 2.0 * scale and np.median(pitches) < 1.9 * scale)


SUMMARY_REACH = 4.0  # line heights: the summary's digits sit 1.6-2.6 left of the ballot's (measured)
SUMMARY_SPAN = 16  # bands searched below the ballot table for the summary


def _summary_columns(
    bands: list[Band], candidates: list[NumericRow], last: int, column: float, scale: float
) -> tuple[float, tuple[float, float], range] | None:
    """The "Resumen de votos" columns and the bands to search, below the ballot table.

    From the clean rows below the table that sit under the ballot's digits column; when a
    stamp glues every summary number to its outline no row is clean, and the lines of the
    signatures further down must not lend their columns instead: then any short mark under
    the ballot's digits column with words to its right counts (the "0" rows stay clean)."""
    after = [r for r in candidates if r.band > last and abs(r.digits.cx - column) < SUMMARY_REACH * scale]
    if after:
        near = [r for r in after if r.band - after[0].band < SUMMARY_SPAN]
        scol, swords = _columns(near, scale)
        return scol, swords, range(last + 1, min(len(bands), after[0].band + SUMMARY_SPAN))
    span = range(last + 1, min(len(bands), last + 1 + SUMMARY_SPAN))
    loose = []
    for i in span:
        segs = bands[i].segments
        for k, seg in enumerate(segs):
            right = segs[k + 1 :]
            if (
                abs(seg.cx - column) < SUMMARY_REACH * scale
                and seg.width <= 2.8 * scale
                and seg.height <= 1.3 * scale
                and sum(s.width for s in right) >= 4 * scale
            ):
                loose.append(NumericRow(i, seg, None, (_box(list(right)),), None))
    if len(loose) < 2:
        return None
    scol, swords = _columns(loose, scale)
    return scol, swords, span


def _bridged(bands: list[Band], picked: list[int], upper: int, lower: int, scale: float) -> bool:
    """Whether picked rows lead from band ``upper`` to ``lower`` with no gap over 3 lines."""
    steps = [upper, *(i for i in picked if upper < i < lower), lower]
    return all(bands[b].box.y0 - bands[a].box.y1 <= 3 * scale for a, b in itertools.pairwise(steps))


CHAIN_BREAK = 10.0  # line heights: a candidate heading plus one lost row
LONG_CHAIN = 4  # rows: more than the "Votantes" table


def _split(
    bands: list[Band], candidates: list[NumericRow], scale: float, ballot_lines: int, drifting: bool = True
) -> Layout:
    empty = Layout(scale, tuple(bands), (), ())
    if len(candidates) < ballot_lines // 2:
        return empty
    column, words = _columns(candidates, scale)
    # The ballot table is the longest chain of rows in that column with no wide gap;
    # right-aligned header lines can look like a row, but not like forty of them. On a
    # sheared view the column drifts down the table: its top rows follow the drift.
    drift = _candidates_lean(candidates, column, scale) if drifting else None
    in_column = [
        r.band
        for r in candidates
        if abs(r.digits.cx - (drift.x_at(r.digits.y0) if drift else column)) < 0.8 * scale
    ]
    chains = [[in_column[0]]]
    for band in in_column[1:]:
        if bands[band].box.y0 - bands[chains[-1][-1]].box.y1 > 6 * scale:
            chains.append([band])
        else:
            chains[-1].append(band)
    # A row lost to damage after a candidate heading must not cut the table in two and
    # drop its top half: two long chains only a lost row apart are one table (the
    # two-row "Votantes" table above is no long chain and stays apart).
    # Nor must a stain that hides the top rows' digits: a short chain joins when the rows
    # between (words in the words column) follow each other closely.
    picked = _pick(bands, range(in_column[0], in_column[-1] + 1), column, words, scale)
    merged = [chains[0]]
    for following in chains[1:]:
        gap = bands[following[0]].box.y0 - bands[merged[-1][-1]].box.y1
        long = min(len(following), len(merged[-1])) >= LONG_CHAIN
        if gap <= CHAIN_BREAK * scale and (
            long or _bridged(bands, picked, merged[-1][-1], following[0], scale)
        ):
            merged[-1] = merged[-1] + following
        else:
            merged.append(following)
    chains = merged
    chain = max(chains, key=len)
    first, last = chain[0], chain[-1]
    tables = max(_side_by_side(bands, scale), sum(1 for c in chains if len(c) >= 20))
    picks = _pick(bands, range(first, len(bands)), column, words, scale)
    # The ballot table ends where the picked rows stop following each other closely
    # (the summary table below has its own columns and is cut separately).
    # Past the last clear ballot row, stop at a wide gap; and, once most of the ballot is
    # in, where rows pack closer than ballot lines ever do (the "Resumen de votos" table).
    run = picks[:1]
    for k, i in enumerate(picks[1:], start=1):
        gap = bands[i].box.y0 - bands[run[-1]].box.y1
        # Until the ballot is complete a wider gap is a heading plus a lost row (a crease
        # through "CENTRADOS" must not drop "CONDE" below it); the summary's packed rows
        # still end the table.
        complete = len(run) >= ballot_lines
        wide = (5.5 if complete else 11.0) * scale
        if (i > last and gap > wide) or (len(run) >= 30 and _packed(bands, picks[k:], scale)):
            break
        # The summary's rows can come as far apart as ballot lines (a watermark or a bend
        # spreads them); once the ballot is in, a row whose count sits where the summary's
        # do (1.6-2.6 lines left of the ballot's) and not in the ballot's column is past it.
        summary_like = _number_near(bands[i], column - 2.1 * scale, 0.6 * scale, scale)
        if complete and i > last and summary_like and not _number_near(bands[i], column, 1.5 * scale, scale):
            break
        run.append(i)
    table = _column_rows(bands, run, column, words, scale)
    lean = _lean(table, scale)
    if lean is not None:
        table = _column_rows(bands, run, column, words, scale, lean=lean)
    if not table:
        return empty
    # The "Votantes" table may use its own NRO. column: take the rows just above.
    top_y = bands[table[0].band].box.y0
    above = [r for r in candidates if r.band < table[0].band and top_y - bands[r.band].box.y1 < 12 * scale]
    if above:
        vcol, vwords = _columns(above, scale)
        # Pick by columns, not by candidates: a stamp can hide a word of one of the rows.
        span = range(above[0].band, table[0].band)
        vpicks = _pick(bands, span, vcol, vwords, scale, partial=False)
        table = _column_rows(bands, vpicks, vcol, vwords, scale)[-2:] + table
    summary: list[NumericRow] = []
    below = lean.x_at(bands[table[-1].band].box.y0) if lean is not None else column
    found = _summary_columns(bands, candidates, table[-1].band, below, scale)
    if found is not None:
        scol, swords, span = found
        spicks = _pick(bands, span, scol, swords, scale, partial=False)
        # The table starts with two tightly packed rows; a title line before it is skipped.
        while len(spicks) > 1 and bands[spicks[1]].box.y0 - bands[spicks[0]].box.y0 > 2.0 * scale:
            spicks = spicks[1:]
        summary = _column_rows(bands, spicks, scol, swords, scale, wrap=False)
    return Layout(scale, tuple(bands), tuple(table), tuple(summary[:9]), max(1, tables))


def _without_rules(ink: np.ndarray, scale: float) -> np.ndarray:
    """Erase table rules: digits that touch a rule would otherwise join it into one blob."""
    long_h = max(3, int(6 * scale))
    long_v = max(3, int(1.8 * scale))
    # Scanned rules wander by a pixel; thicken across the rule before looking for long runs.
    thick_h = cv2.dilate(ink, np.ones((3, 1), np.uint8))
    thick_v = cv2.dilate(ink, np.ones((1, 3), np.uint8))
    rules = cv2.bitwise_or(
        _open_across(thick_h, long_h),
        cv2.morphologyEx(thick_v, cv2.MORPH_OPEN, np.ones((long_v, 1), np.uint8)),
    )
    rules = cv2.dilate(rules, np.ones((3, 3), np.uint8))
    return cv2.subtract(ink, rules)


def _open_across(binary: np.ndarray, length: int) -> np.ndarray:
    """``cv2.morphologyEx(binary, MORPH_OPEN, 1×length line)`` of a 0/255 image, filtered
    only on the rows that can hold a rule: each row of a one-row kernel is filtered on its
    own, and on a scan about a third of the rows hold a run of ink long enough."""
    kernel = np.ones((1, length), np.uint8)
    rows = _long_run_rows(binary, length)
    if 2 * len(rows) > len(binary):
        # Grain or a dark photo: copying most rows out and back costs more than it saves.
        opened = cv2.erode(binary, kernel)
        rows = np.flatnonzero(opened.any(axis=1))
    else:
        opened = np.zeros_like(binary)
        if len(rows):
            opened[rows] = cv2.erode(binary[rows], kernel)
        rows = rows[opened[rows].any(axis=1)]
    if len(rows):
        opened[rows] = cv2.dilate(opened[rows], kernel)
    return opened


def _long_run_rows(binary: np.ndarray, length: int) -> np.ndarray:
    """The rows an erosion by a 1×``length`` line may leave ink in: every row holding a run
    of ink as long as the shortest that survives it (half the line, at the image's edge,
    where OpenCV's border counts as ink), and perhaps a few more.

    Cheap because it looks at 8 pixels at once: such a run holds ``blocks`` whole aligned
    8-pixel blocks of ink side by side."""
    width = binary.shape[1]
    shortest = min(width, length - length // 2)
    blocks = (shortest - 14) // 8  # one partial block at each end, the last one cut off
    if blocks < 1 or not binary.flags.c_contiguous:
        return np.arange(binary.shape[0])
    inked = binary[:, : width // 8 * 8].view(np.uint64) == np.uint64(0xFFFF_FFFF_FFFF_FFFF)
    runs = cv2.erode(inked.view(np.uint8), np.ones((1, blocks), np.uint8))
    return np.flatnonzero(runs.any(axis=1))


def _ink_local(gray: np.ndarray) -> np.ndarray:
    """Ink as darker than the paper around it: faded thermal print, bad light and blur
    leave faint digits that one global threshold loses (the "1"s fade first)."""
    smooth = cv2.medianBlur(gray, 3)
    paper = cv2.blur(cv2.dilate(smooth, np.ones((31, 31), np.uint8)), (31, 31))
    depth = cv2.subtract(paper, smooth)
    # Noise sets the floor: high-ISO grain must not become specks of "ink".
    step = max(1, gray.size // 400_000)
    sample = smooth.reshape(-1)[::step].astype(np.int16)
    noise = 1.4826 * float(np.median(np.abs(np.diff(sample)))) / np.sqrt(2)
    floor = max(12.0, 4.0 * noise)
    # Half-way to the darkest ink nearby: the stroke's own width, not its blurred halo.
    local = cv2.dilate(depth, np.ones((31, 31), np.uint8))
    # In integers, on 8-bit images: depth > floor ⇔ depth > ⌊floor⌋ (what threshold
    # compares), and depth > local / 2 ⇔ depth > local >> 1.
    deep = cv2.threshold(depth, floor, 255, cv2.THRESH_BINARY)[1]
    return cv2.bitwise_and(deep, cv2.compare(depth, np.right_shift(local, 1), cv2.CMP_GT))


def _layout_from(gray: np.ndarray, ink: np.ndarray, ballot_lines: int, drifting: bool = True) -> Layout:
    scale = _text_scale(_components(ink))
    if scale == 0:
        return Layout(0.0, (), (), ())
    glyphs = _glyphs(_components(_without_rules(ink, scale)), scale)
    bands = _bands(glyphs, scale, gray.shape[0])
    return _split(bands, _candidates(bands, scale), scale, ballot_lines, drifting)


def _completeness(layout: Layout, ballot_lines: int) -> tuple[int, int]:
    # A stray row or two (a title line) is skipped when rows are placed; more rows than
    # that are rows that are not there: a table that ran on (a page read upside down)
    # is no more complete than one that stopped short.
    expected = ballot_lines + 2
    rows = len(layout.table)
    return min(rows, expected) - max(0, rows - expected - 2), min(len(layout.summary), 8)


def find_layout(gray: np.ndarray, ballot_lines: int, drifting: bool = True) -> Layout:
    """The acta's rows; ``drifting``: the digits column may drift (a view as given, not
    one this module turned: a column that drifts there means the angle was wrong)."""
    layout = _layout_from(gray, _ink(gray), ballot_lines, drifting)
    if _completeness(layout, ballot_lines) == (ballot_lines + 2, 8):
        return layout  # the clean scan's case: one global threshold is enough
    other = _layout_from(gray, _ink_local(gray), ballot_lines, drifting)
    return other if _completeness(other, ballot_lines) > _completeness(layout, ballot_lines) else layout


def skew_degrees(gray: np.ndarray, limit: float = 30.0) -> float:
    """The angle of the text lines, from the glyph centres alone (no OCR, no Hough).

    Sheared by the right angle, the centres of one text line fall into one narrow band of
    y: the sharpest histogram wins. A re-scan tilts the receipt by a degree, which moves
    the NRO. column by ~100 px over its length and breaks a column found by x alone.
    """
    h, w = gray.shape[:2]
    f = min(1.0, 1500 / max(h, w))
    small = cv2.resize(gray, None, fx=f, fy=f, interpolation=cv2.INTER_AREA) if f < 1 else gray
    stats = _components(_ink(small))
    if len(stats) < 50:
        return 0.0
    hs = stats[:, 3]
    size = float(np.median(hs[(hs >= 3) & (hs <= 40)])) if ((hs >= 3) & (hs <= 40)).any() else 0.0
    keep = (hs >= 0.5 * size) & (hs <= 2.0 * size) & (stats[:, 2] <= 3 * size)
    if keep.sum() < 50 or size == 0:
        return 0.0
    cx = (stats[keep, 0] + stats[keep, 2] / 2).astype(np.float64)
    cy = (stats[keep, 1] + stats[keep, 3] / 2).astype(np.float64)
    bin_h = max(1.0, size / 3)

    def sharpness(deg: float) -> float:
        y = cy - cx * np.tan(np.radians(deg))
        counts = np.bincount(((y - y.min()) / bin_h).astype(np.int64))
        return float((counts.astype(np.float64) ** 2).sum())

    best = max(np.arange(-limit, limit + 0.5, 1.0), key=sharpness)
    best = max(np.arange(best - 1.0, best + 1.05, 0.1), key=sharpness)
    return float(best)


def rotate(gray: np.ndarray, degrees: float) -> np.ndarray:
    """Rotate about the centre onto a canvas that holds the whole image, paper around it."""
    from veedor.read.variants import deskew

    h, w = gray.shape[:2]
    paper = int(np.percentile(gray[:: max(1, h // 100), :: max(1, w // 100)], 90))
    return deskew(gray, degrees, background=paper)


def upright_layout(gray: np.ndarray, ballot_lines: int) -> tuple[np.ndarray, Layout]:
    """The layout, and the image it refers to: as given when that finds the whole table
    (the clean scan: no extra cost), else straightened (tilted scans and photos) or
    turned upside down, whichever finds more of the table."""
    full = (ballot_lines + 2, 8)
    best = (gray, find_layout(gray, ballot_lines))
    if _completeness(best[1], ballot_lines) == full:
        return best
    angle = skew_degrees(gray)
    tries = [angle, angle + 180.0] if abs(angle) >= 0.3 else [180.0]
    for degrees in tries:
        turned = rotate(gray, degrees)
        layout = find_layout(turned, ballot_lines, drifting=False)
        if _completeness(layout, ballot_lines) > _completeness(best[1], ballot_lines):
            best = (turned, layout)
        if _completeness(best[1], ballot_lines) == full:
            return best
    return best
