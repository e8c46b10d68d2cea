"""The header fields: acta id near the top, centre code and "NNN Electores" above the tables."""

from __future__ import annotations

import re

import cv2
import numpy as np

from veedor.read.print import ocr
from veedor.read.print.layout import Band, Box, Layout
from veedor.read.print.rows import crop

ACTA_ID = re.compile(r"(\d{9})\.(\d{2})\.(\d)\.(\d{4})")
_ELECTORS = re.compile(r"(\d{1,5})\s*Electores", re.IGNORECASE)
_CENTRE = re.compile(r"^\s*(\d{9})\s*$")


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


def read_header(
    gray: np.ndarray, layout: Layout, first_row: int, rec: ocr.Recogniser
) -> tuple[str | None, str | None, int | None]:
    """Acta id (near the top), centre code and "NNN Electores" (just above the tables)."""
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
    for chunk in (near[:3], near[3:]):
        texts = rec.read(
            [
                [ocr.Piece(crop(gray, bands[i].segments[-1], scale), ocr.ID_CHARS + "Electores", 0.8)]
                for i in chunk
            ]
        )
        for t in texts:
            text = t[0].text
            if (m := _ELECTORS.search(text)) and electors is None:
                electors = int(m[1])
            elif (m := _CENTRE.match(text)) and centre is None:
                centre = m[1]
        if centre is not None and electors is not None:
            break
    acta_id = None
    # The id is one right-hand segment (the CNE logo may share its line), 19 characters wide.
    candidates = [
        box
        for i in range(0, max(0, first_row - 6))
        for box in _lines_of(gray, bands[i].segments[-1], scale)
        if 8 * scale < box.width < 16 * scale
    ]
    for start, stop in ((0, 1), (1, 3), (3, len(candidates))):  # usually the first one
        boxes = candidates[start:stop]
        found = rec.read([[ocr.Piece(crop(gray, box, scale), ocr.ID_CHARS, 0.8)] for box in boxes])
        for t in found:
            if m := ACTA_ID.search(t[0].text.replace(" ", "")):
                acta_id = m[0]
                break
        if acta_id:
            break
    return acta_id, centre, electors
