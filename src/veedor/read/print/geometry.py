"""Where each ballot line is printed on an acta image, for the people who type it: the review
desk shows each doubtful line's crop beside its field.

Rows are placed by their order alone, so only when the table was found whole (the two
"votantes" rows and one row per ballot line, no more, no less): a crop beside the wrong field
would be worse than none.
"""

from __future__ import annotations

import numpy as np

from veedor.read.print.layout import Box, upright_layout

VOTANTES_ROWS = 2
"""Rows above the ballot lines in the table: voters by the machine and by the book."""


def ballot_rows(gray: np.ndarray, ballot_lines: int) -> tuple[np.ndarray, list[Box]] | None:
    """The upright image and one box per ballot line (acronym, code, digits and words), in
    ballot order; None unless every row of the table was found."""
    upright, layout = upright_layout(gray, ballot_lines)
    if len(layout.table) != ballot_lines + VOTANTES_ROWS:
        return None
    boxes = []
    for row in layout.table[VOTANTES_ROWS:]:
        # From the line's left end (the party's acronym: the reader sees which line it is) to
        # the end of the count in words.
        parts = [
            layout.bands[row.band].box,
            *(b for b in (row.code, row.digits, *row.words) if b is not None),
        ]
        top, bottom = min(b.y0 for b in parts[1:]), max(b.y1 for b in parts[1:])
        boxes.append(Box(min(b.x0 for b in parts), top, max(b.x1 for b in parts), bottom))
    return upright, boxes
