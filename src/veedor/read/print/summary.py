"""Which "Resumen de votos" row is which total: by position, or by its printed label.

The summary table prints eight rows in a fixed order. Taking them by position fails as
soon as one row is lost (a stamp over "Votos validos" shifts every total below it onto
the wrong name), so when the positions do not hold up, the labels on the left of each
row are read and matched to the eight known labels.
"""

from __future__ import annotations

import itertools
from typing import TYPE_CHECKING

from veedor.read.print import ocr
from veedor.read.print.layout import Box, Layout, NumericRow
from veedor.read.print.rows import RowRead, crop
from veedor.read.print.vocabulary import current
from veedor.read.print.words import edit_distance

if TYPE_CHECKING:
    import numpy as np

SUMMARY_KEYS = (
    "votos",
    "validos",
    "parciales",
    "nulos",
    "vacios",
    "opciones_validas",
    "opciones_nulas",
    "opciones_vacias",
)


def by_position(rows: int, skip: int) -> list[str | None]:
    """The keys of ``rows`` summary rows, the first ``skip`` being titles."""
    keys: list[str | None] = [None] * skip + list(SUMMARY_KEYS)
    return (keys + [None] * rows)[:rows]


def closest_label(text: str) -> str | None:
    """The summary key whose label ``text`` spells, when exactly one is nearest.

    Matched against the label's endings too: photos cut the left edge first, leaving
    "clales" of "Votos parciales"."""
    text = " ".join("".join(c for c in text.lower() if c.isalpha() or c == " ").split())
    if len(text) < 3:
        return None
    scored = sorted(
        (min(edit_distance(text, label[i:]) for i in range(len(label) - 2)), k)
        for k, label in enumerate(current().summary_labels)
    )
    (best, k), (second, _) = scored[0], scored[1]
    if best <= len(text) // 4 and second > best:
        return SUMMARY_KEYS[k]
    return None


def _label_box(layout: Layout, row: NumericRow) -> Box | None:
    left = [s for s in layout.bands[row.band].segments if s.x1 <= row.digits.x0]
    if not left:
        return None
    return Box(
        min(s.x0 for s in left), min(s.y0 for s in left), max(s.x1 for s in left), max(s.y1 for s in left)
    )


def by_label(
    gray: np.ndarray, layout: Layout, rows: tuple[NumericRow, ...], rec: ocr.Recogniser
) -> list[str | None] | None:
    """The key of each row from its label; None unless at least three labels are read
    and they come in the printed order. A row whose label is unread keeps no key,
    except between two read ones when the rows and the labels skipped agree."""
    boxes = [_label_box(layout, row) for row in rows]
    chars = current().label_chars
    pieces = [[ocr.Piece(crop(gray, box, layout.scale), chars)] for box in boxes if box is not None]
    texts = iter(rec.read(pieces))
    keys = [closest_label(next(texts)[0].text) if box is not None else None for box in boxes]
    read = [(i, SUMMARY_KEYS.index(k)) for i, k in enumerate(keys) if k is not None]
    if len(read) < 3 or any(b[0] - a[0] > b[1] - a[1] or b[1] <= a[1] for a, b in itertools.pairwise(read)):
        return None
    for (i, a), (j, b) in itertools.pairwise(read):
        if j - i == b - a:
            for step in range(1, j - i):
                keys[i + step] = SUMMARY_KEYS[a + step]
    return keys


def summary_rows(reads: list[RowRead], keys: list[str | None]) -> dict[str, RowRead]:
    """Each key's row, from the per-row keys."""
    return {key: read for key, read in zip(keys, reads, strict=False) if key is not None}
