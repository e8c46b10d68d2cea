"""Which table row is which ballot position."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from veedor.read.print.layout import NumericRow
from veedor.read.print.rows import Line, RowRead, as_int, one_slip

if TYPE_CHECKING:
    from veedor.definitions.schema import ElectionDefinition


Placement = tuple[list[Line | None], dict[str, Line], list[str], list[tuple[int, int]]]
"""Each ballot position's line (None: no row), the "Votantes" rows' lines, notes, and the
(position, row) pairs placed."""


def assign_rows(
    rows: tuple[NumericRow, ...], texts: list[RowRead], definition: ElectionDefinition
) -> Placement:
    """Which table row is which ballot position.

    The rows are aligned to the ballot order like two sequences (a row may be lost to a
    smudge, a stray line may look like a row): a printed party code that matches its
    position scores high, a misread code scores a little below an unread one, skipping
    costs. Positions left without a row stay ``None``: nothing is guessed.
    """
    ballot = definition.ballot
    codes = [b.party_code for b in ballot]
    read_codes = [as_int(t.code_text) for t in texts]
    n, m = len(rows), len(ballot)
    notes: list[str] = []

    known = set(codes)
    skip_row, skip_pos = -1.0, -3.0
    raws = [t.code_text.replace(" ", "") for t in texts]
    # Whether a row without a readable code reads anything, asked once per row (it scores
    # the same against every line).
    unread = [
        0.5 if code is None and (t.digits or t.words_value(scored=False) is not None) else -3.0
        for t, code in zip(texts, read_codes, strict=True)
    ]

    def score(k: int, p: int) -> float:
        code = read_codes[k]
        if code is not None:
            if code == codes[p]:
                return 3.0
            # One digit off is a likely misreading (compared as printed: "006" is 906
            # with its first glyph lost, not party 6); another line's code says "not
            # this line", weakly; anything else is too damaged to say either way.
            raw = raws[k]
            if one_slip(raw, str(codes[p])) or one_slip(str(code), str(codes[p])):
                return 1.0
            # The code's end, its first glyphs cut off with the sheet's left edge ("75" of
            # 1075). One glyph is too little to pull a row ("1" ends 931), so it only
            # counts against the penalty below.
            ending = str(codes[p]).endswith(raw)
            if ending and len(raw) > 1:
                return 2.0
            # Just above skipping both row and line (-4): between neighbours that place
            # themselves, one code misread into another line's (dark noise: "1065" for
            # 1053) is still that row; a row really out of place costs its neighbours.
            # A glyph that is another party's whole code but ends this line's ("2" of
            # 1092, COPEI's 2) keeps the last row on its line, just above leaving the
            # line empty (rows after the ballot cost nothing).
            if code in known and not raw.startswith("0"):
                return skip_pos + 0.5 if ending else -3.5
            return 0.0
        return unread[k]

    best = np.full((n + 1, m + 1), -np.inf)
    move = np.zeros((n + 1, m + 1), np.int8)  # 1 diagonal, 2 skip row, 3 skip position
    best[:, 0] = 0.0  # rows before the ballot (votantes, headings) cost nothing
    for p in range(1, m + 1):
        best[0, p] = best[0, p - 1] + skip_pos
        move[0, p] = 3
    for k in range(1, n + 1):
        for p in range(1, m + 1):
            options = (
                best[k - 1, p - 1] + score(k - 1, p - 1),
                best[k - 1, p] + skip_row,
                best[k, p - 1] + skip_pos,
            )
            choice = max(range(3), key=options.__getitem__)  # the first best, as np.argmax
            best[k, p], move[k, p] = options[choice], choice + 1
    # Rows after the last ballot line (if any) cost nothing either.
    k = int(np.argmax(best[:, m]))
    p = m
    pairs: list[tuple[int, int]] = []
    while p > 0 and k > 0:
        if move[k, p] == 1:
            pairs.append((k - 1, p - 1))
            k, p = k - 1, p - 1
        elif move[k, p] == 2:
            k -= 1
        else:
            p -= 1
    lines: list[Line | None] = [None] * m
    for k, p in pairs:
        lines[p] = texts[k].line(ballot[p].acronym)
        if read_codes[k] is not None and read_codes[k] != codes[p]:
            notes.append(
                f"código {texts[k].code_text!r} en la línea de {ballot[p].acronym} "
                f"({codes[p]}) / party code misread"
            )
    votantes: dict[str, Line] = {}
    if pairs:
        first = min(k for k, _ in pairs)
        for key, k in (("maquina", first - 2), ("cuaderno", first - 1)):
            if k >= 0:
                votantes[key] = texts[k].line(f"votantes_{key}")
    else:
        notes.append("no se reconoció la tabla de votos / ballot table not recognised")
    return lines, votantes, notes, [(p, k) for k, p in pairs]
