"""Unsure numbers on a print-only acta, settled by the acta's own sums.

A volunteer with a smudged line does the arithmetic: the lines add up to "votos
válidos", and válidos plus nulos make "votos". When an equation has exactly one unsure
number and every other number in it was read twice (digits and words agreeing), the
equation says what it must be; it is taken only when that number's own readings allow
the value (one look's digits read it, or its words are likeliest that count), or, for
válidos, the one number in both equations, when both say the same value. Each equation
settles at most one number, so every settled number still rests on two readings of
every other.

With the QR known, the other numbers are those whose digits read the QR's count (the
print and the QR, two witnesses), and the settled number is still the print's own:
it is then compared with the QR like any other line. A QR with votes moved must change
two lines, or a line and a total, and only one number per equation is ever settled, so
the other change still meets a printed number that says otherwise.
"""

from __future__ import annotations

from dataclasses import replace

from veedor.read.print import lexicon
from veedor.read.print.rows import Line, RowRead

TOTALS = ("votos", "validos", "nulos")


def allows(read: RowRead, value: int) -> bool:
    """Whether one of the row's own readings says ``value``, and no clear spelling in words
    says another count (a "16" whose words clearly say 15 is a contradiction, not an
    unsure line: the sums must not pick its digits' side)."""
    clear = read.words_value(False)
    if clear is not None and clear != value:
        return False
    if value in read.digits:
        return True
    spelt = [int(d) for d in str(value).zfill(4)]
    return any(
        len(look) == 1 and look[0].probs is not None and lexicon.word_digits(look[0], margin=0.0) == spelt
        for look in read.looks
    )


def settle_by_sums(
    lines: list[Line | None],
    line_reads: dict[int, RowRead],
    summary: dict[str, Line],
    summary_reads: dict[str, RowRead],
    notes: list[str],
) -> tuple[list[Line | None], dict[str, Line]]:
    """``lines`` and ``summary`` with the numbers the sums determine settled (see the
    module's docstring); otherwise unchanged."""
    if any(ln is None for ln in lines) or any(k not in summary for k in TOTALS):
        return lines, summary
    values: dict[object, int | None] = {p: ln.value for p, ln in enumerate(lines) if ln is not None}
    values |= {k: summary[k].value for k in TOTALS}
    rows: dict[object, tuple[Line, RowRead | None]] = {
        p: (ln, line_reads.get(p)) for p, ln in enumerate(lines) if ln is not None
    }
    rows |= {k: (summary[k], summary_reads.get(k)) for k in TOTALS}
    positions = [p for p in range(len(lines))]
    # (terms added, total): sum of lines = válidos; válidos + nulos = votos.
    equations: list[tuple[list[object], object]] = [
        (list(positions), "validos"),
        (["validos", "nulos"], "votos"),
    ]
    settled_any = True
    while settled_any:
        settled_any = False
        for terms, total in equations:
            unknown = [x for x in (*terms, total) if values[x] is None]
            if len(unknown) != 1:
                continue
            (x,) = unknown
            added = sum(values[t] or 0 for t in terms if t != x)
            value = (values[total] or 0) - added if x != total else added
            line, read = rows[x]
            if value < 0 or read is None or not (allows(read, value) or _both_sums_say(x, value, values)):
                continue
            values[x] = value
            settled_any = True
            notes.append(
                f"{line.label}: cifras {line.digits_text!r}, letras {line.words_text!r}; {value} por las "
                "sumas del acta / settled by the acta's sums"
            )
    out_lines = [
        None if ln is None else ln if ln.value is not None else _set(ln, values[p])
        for p, ln in enumerate(lines)
    ]
    out_summary = {
        k: _set(v, values[k]) if k in TOTALS and v.value is None else v for k, v in summary.items()
    }
    return out_lines, out_summary


def _both_sums_say(x: object, value: int, values: dict[object, int | None]) -> bool:
    """Whether válidos, the one number in both equations, is what each of them says on
    its own: the lines' sum (every line read twice) equals votos minus nulos (each read
    twice). Two independent sums agreeing need no reading of válidos itself."""
    if x != "validos" or any(v is None for k, v in values.items() if k != "validos"):
        return False
    lines_sum = sum(v or 0 for k, v in values.items() if k not in TOTALS)
    votos, nulos = values["votos"], values["nulos"]
    return votos is not None and nulos is not None and lines_sum == value == votos - nulos


def _set(line: Line, value: int | None) -> Line:
    return (
        line if value is None else replace(line, digits=value, words=value, words_read=True, inferred="sums")
    )
