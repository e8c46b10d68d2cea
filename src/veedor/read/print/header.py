"""The header fields: acta id near the top, centre code and "NNN <electors label>" above the
tables (the label, the id's pattern and the centre's digits are the definition's: :mod:`.vocabulary`)."""

from __future__ import annotations

import re

import cv2
import numpy as np

from veedor.read.print import lexicon, ocr
from veedor.read.print.layout import Band, Box, Layout
from veedor.read.print.rows import crop
from veedor.read.print.vocabulary import current


def _electors_pattern() -> re.Pattern[str]:
    return re.compile(rf"(\d{{1,5}})\s*{re.escape(current().electors_label)}", re.IGNORECASE)


def _lines_of(gray: np.ndarray, box: Box, scale: float) -> list[Box]:
    """Split a segment that spans several text lines (the logo beside the header joins
    them into one band) at the empty rows between them."""
    if box.height < 1.6 * scale:
        return [box]
    crop = gray[box.y0 : box.y1, box.x0 : box.x1]
    _, ink = cv2.threshold(crop, 0, 1, cv2.THRESH_BINARY_INV | cv2.THRESH_OTSU)
    rows = ink.sum(axis=1) > 0
    out, start = [], None
    for y, on in enumerate([*rows.tolist(), False]):
        if on and start is None:
            start = y
        elif not on and start is not None:
            if y - start >= 0.4 * scale:
                cols = np.flatnonzero(ink[start:y].any(axis=0))
                out.append(Box(box.x0 + int(cols[0]), box.y0 + start, box.x0 + int(cols[-1]) + 1, box.y0 + y))
            start = None
    return out


def _joined(segments: tuple[Box, ...], scale: float) -> list[Box]:
    """Each run of two or more segments with gaps under four line heights, as one box."""
    out = []
    for a in range(len(segments)):
        for b in range(a + 1, len(segments)):
            if segments[b].x0 - segments[b - 1].x1 > 4 * scale:
                break
            run = segments[a : b + 1]
            out.append(Box(run[0].x0, min(s.y0 for s in run), run[-1].x1, max(s.y1 for s in run)))
    return out


def read_header(
    gray: np.ndarray,
    layout: Layout,
    first_row: int,
    rec: ocr.Recogniser,
    expect_id: str | None = None,
    first: ocr.Recogniser | None = None,
) -> tuple[str | None, str | None, int | None]:
    """Acta id (near the top), centre code and "NNN Electores" (just above the tables).

    With ``expect_id`` (the QR's) the id is read first, and when the print says the same
    the centre and electors lines are not read: the QR comparison needs only the id, and
    those two lines were a third of the recognition work of an acta. ``first``: a
    recogniser that looks at each id line's digits before ``rec`` (:func:`_acta_id`).
    """
    if expect_id is not None:
        acta_id = _acta_id(gray, layout, first_row, rec, expect_id, first)
        if acta_id == expect_id:
            return acta_id, None, None
        return (acta_id, *_centre_electors(gray, layout, first_row, rec))
    centre, electors = _centre_electors(gray, layout, first_row, rec)
    return _acta_id(gray, layout, first_row, rec), centre, electors


def _centre_electors(
    gray: np.ndarray, layout: Layout, first_row: int, rec: ocr.Recogniser
) -> tuple[str | None, int | None]:
    bands: tuple[Band, ...] = layout.bands
    scale = layout.scale
    # "070704017" then "699 Electores", right-aligned just above the "Votantes" table:
    # the nearest short lines first, further up only when they were not there.
    near = [
        i
        for i in range(first_row - 1, max(-1, first_row - 9), -1)
        if bands[i].segments[-1].width < 12 * scale
    ]
    centre = electors = None
    vocabulary = current()
    electors_line = _electors_pattern()
    for chunk in (near[:3], near[3:]):
        texts = rec.read(
            [
                [
                    ocr.Piece(
                        crop(gray, bands[i].segments[-1], scale),
                        vocabulary.id_chars + vocabulary.electors_label,
                        0.8,
                    )
                ]
                for i in chunk
            ]
        )
        for t in texts:
            text = t[0].text
            if (m := electors_line.search(text)) and electors is None:
                electors = int(m[1])
            elif (m := vocabulary.centre.match(text)) and centre is None:
                centre = m[1]
        if centre is not None and electors is not None:
            break
    return centre, electors


def _acta_id(
    gray: np.ndarray,
    layout: Layout,
    first_row: int,
    rec: ocr.Recogniser,
    expect_id: str | None = None,
    first: ocr.Recogniser | None = None,
) -> str | None:
    bands: tuple[Band, ...] = layout.bands
    scale = layout.scale
    # The id is one right-hand segment (the CNE logo may share its line), 19 characters wide.
    candidates = [
        box
        for i in range(0, max(0, first_row - 6))
        for box in _lines_of(gray, bands[i].segments[-1], scale)
        if 8 * scale < box.width < 16 * scale
    ]
    # One at a time, the usual place first: on the 200-dpi receipts the second such line
    # (after the title's), on others the first; the UUID line below is never an id.
    order = [1, 0, *range(2, len(candidates))] if len(candidates) > 1 else [0] * len(candidates)
    # Then the other segments of those lines: a speck at the paper's edge can be the
    # last segment of a line and hide the id beside it.
    others = [
        box
        for i in range(0, max(0, first_row - 6))
        for seg in bands[i].segments[:-1]
        for box in _lines_of(gray, seg, scale)
        if 8 * scale < box.width < 16 * scale
    ]
    # Last, runs of neighbouring segments: blur merges some glyphs into blobs too wide to be
    # one and drops others as specks, which splits the id into pieces too short to be it.
    joined = [
        box
        for i in range(0, max(0, first_row - 6))
        for box in _joined(bands[i].segments, scale)
        if 8 * scale < box.width < 16 * scale
    ]
    order += range(len(candidates), len(candidates) + len(others) + len(joined))
    candidates += others + joined
    looked = []
    vocabulary = current()
    # With the QR's id known, ``first`` (the acta's own recogniser, ~2 ms a line; PP-OCR ~25)
    # reads each line's digits first: every digit of the QR's id, in order, is the print
    # saying that id (its separators sit at fixed places). Any other reading, PP-OCR's.
    id_digits = re.sub(r"\D", "", expect_id) if expect_id is not None and first is not None else None
    for k in order:
        image = crop(gray, candidates[k], scale)
        if first is not None and id_digits:
            quick = first.read([[ocr.Piece(image, ocr.DIGITS, 0.8)]])[0][0]
            if quick.text.replace(" ", "") == id_digits:
                return expect_id
        found = rec.read([[ocr.Piece(image, vocabulary.id_chars, 0.8)]])
        if m := vocabulary.acta_id.search(found[0][0].text.replace(" ", "")):
            return m[0]
        looked.append(found[0][0])
    # A faded or blurred id whose greedy reading lost a glyph: the QR's id is taken only
    # when it explains one of the id lines about as well as the recogniser's own reading.
    if expect_id is not None and any(lexicon.explains(t, expect_id) for t in looked):
        return expect_id
    return None
