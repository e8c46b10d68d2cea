"""Readings of several views of one sheet, combined count by count: only with the QR known.

A dark or grainy photo is read through several views (as given, straightened, smoothed,
deblurred). Each view loses a few different counts to the noise, so that no single view
reads the whole sheet while together they read every count. The combination is the
QR comparison done across views, and stays as strict as within one:

- a view that reads other counts than the QR's on more than ``MISPLACED`` lines has its
  rows out of place (a table shifted by one) and takes no part;
- a count is taken where a view read it from the print itself, digits and words (or
  digits equal to the QR's), never one that a view only inferred (explained by the QR's
  count, or left over by the sums): those rules lean on the rest of that view;
- a count any taking part view read differently from the QR's is the one kept, so that
  the mismatch is reported, as in a single view;
- the printed acta id likewise.

The result faces the same QR comparison as any reading, and names the views it used.

Without the QR nothing shows a row out of place but the sums, so views are not stitched
line by line (:func:`combine_print`): the table is taken whole from a view that read
every line, and the totals from a view whose totals add up and equal that table's sum.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace

from veedor.model import ActaCounts
from veedor.read.print.parse import PrintReading, print_reading_checks, summary_wanted
from veedor.read.print.rows import Line
from veedor.read.print.sums import TOTALS

MISPLACED = 4  # lines reading another count than the QR's: past this, rows are out of place


def _differing(reading: PrintReading, expect: ActaCounts) -> int:
    return sum(
        1
        for line, want in zip(reading.lines, expect.votes, strict=False)
        if line is not None and line.value is not None and line.value != want
    )


def _pick(candidates: Sequence[Line | None], want: int) -> tuple[Line | None, int | None]:
    """The line kept for one count, and the index of the view it came from."""
    read = [
        (k, ln)
        for k, ln in enumerate(candidates)
        if ln is not None and ln.value is not None and not ln.inferred
    ]
    # A count read otherwise anywhere first: the mismatch must be reported.
    read.sort(key=lambda kl: kl[1].value == want)
    if read:
        return read[0][1], read[0][0]
    # Nothing read: the line as found (its unsure spellings explain the review), if any.
    return next((ln for ln in candidates if ln is not None), None), None


def combine(readings: Sequence[tuple[str, PrintReading]], expect: ActaCounts) -> PrintReading | None:
    """One reading from several views' readings of the same sheet; None when fewer than
    two views take part."""
    kept = [(name, r) for name, r in readings if _differing(r, expect) <= MISPLACED]
    if len(kept) < 2:
        return None
    used: dict[int, list[str]] = {}
    lines: list[Line | None] = []
    for p, want in enumerate(expect.votes):
        line, k = _pick([r.lines[p] if p < len(r.lines) else None for _, r in kept], want)
        lines.append(line)
        if k is not None:
            used.setdefault(k, []).append(str(p + 1))
    summary: dict[str, Line] = {}
    for key, want in summary_wanted(expect).items():
        line, k = _pick([r.summary.get(key) for _, r in kept], want)
        if line is not None:
            summary[key] = line
        if k is not None:
            used.setdefault(k, []).append(key)
    ids = {r.acta_id for _, r in kept if r.acta_id}
    other_ids = sorted(ids - {expect.acta_id})
    acta_id = other_ids[0] if other_ids else (expect.acta_id if ids else None)
    centres = sorted({r.centre_printed for _, r in kept if r.centre_printed})
    other_centres = [c for c in centres if c != expect.centre]
    centre = other_centres[0] if other_centres else (centres[0] if centres else None)
    sources = "; ".join(f"{kept[k][0]}: {', '.join(items)}" for k, items in sorted(used.items()))
    note = f"combinada de {len(kept)} vistas / combined from {len(kept)} views ({sources})"
    return _combined(kept, kept[0][1], lines, summary, acta_id, centre, expect, note)


def _combined(
    readings: Sequence[tuple[str, PrintReading]],
    base: PrintReading,
    lines: list[Line | None],
    summary: dict[str, Line],
    acta_id: str | None,
    centre: str | None,
    expect: ActaCounts | None,
    note: str,
) -> PrintReading:
    """The combined reading, facing every check of a single view's."""
    acta, checks = print_reading_checks(lines, summary, acta_id, centre, len(lines), expect, 1)
    # The table is one view's lines as that view placed them: so is the check on their codes.
    checks += [c for c in base.checks if c.name == "print_lines_placed"] if expect is None else []
    # A view that saw more than one acta says so in the combination too.
    checks += [c for _, r in readings for c in r.checks if c.name == "print_single_acta" and not c.passed][:1]
    return PrintReading(
        acta=acta,
        lines=tuple(lines),
        summary=summary,
        votantes=base.votantes,
        acta_id=acta_id,
        centre_printed=centre,
        electors=base.electors,
        checks=tuple(checks),
        engine=base.engine,
        ms=sum(r.ms for _, r in readings),
        notes=(note,),
    )


def _read(line: Line | None) -> int | None:
    """The count a view read from the print itself, digits and words alike; else None."""
    return line.digits if line is not None and line.agrees and not line.inferred else None


def combine_print(readings: Sequence[tuple[str, PrintReading]]) -> PrintReading | None:
    """Print only (no QR): one view's whole table with another view's totals; None unless
    exactly one table and one set of totals fit each other, and the views that read the
    printed acta id and centre all read the same ones.

    Every view that read all lines must have read the same table; totals that add up
    but do not equal its sum (a lost summary row shifts every total below it: 449, 0,
    449) are set aside; the totals that fit must be one. The result faces every check."""
    named = list(readings)
    tables = {
        tuple(_read(ln) for ln in r.lines): k
        for k, (_, r) in enumerate(named)
        if r.lines and all(_read(ln) is not None for ln in r.lines)
    }
    if len(tables) != 1:
        return None
    ((table, t),) = tables.items()
    valid = sum(v for v in table if v is not None)
    fitting: dict[tuple[int, int], int] = {}
    for k, (_, r) in enumerate(named):
        votos, validos, nulos = (_read(r.summary.get(key)) for key in TOTALS)
        # Válidos itself need not be read: votos minus nulos equal to the table's sum is
        # both sums saying it (as within one view, read.print.sums).
        if votos is not None and nulos is not None and votos - nulos == valid and validos in (None, valid):
            fitting.setdefault((votos, nulos), k)
    ids = {r.acta_id for _, r in named if r.acta_id}
    centres = {r.centre_printed for _, r in named if r.centre_printed}
    if len(fitting) != 1 or len(ids) > 1 or len(centres) > 1:
        return None
    (s,) = fitting.values()
    base, totals = named[t][1], named[s][1]
    lines = list(base.lines)
    summary = {key: totals.summary[key] for key in ("votos", "nulos")}
    validos_line = totals.summary.get("validos") or Line("validos", None, None, "", "")
    if _read(validos_line) != valid:
        validos_line = replace(validos_line, digits=valid, words=valid, words_read=True, inferred="sums")
    summary["validos"] = validos_line
    acta_id, centre = next(iter(ids), None), next(iter(centres), None)
    note = f"combinada / combined: tabla / table {named[t][0]}, totales / totals {named[s][0]}"
    return _combined(named, base, lines, summary, acta_id, centre, None, note)
