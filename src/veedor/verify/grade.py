"""What one copy of an acta is worth as evidence for its mesa: pure, from the file's verdict.

A data room gets many copies of one acta (a witness's QR photo, the centre's scan, a rescan,
other parties' prints). Each is graded on its own; :mod:`veedor.verify.mesa` then weighs all
of a mesa's copies together (the rule and its reasons: docs/copies.md).
"""

from __future__ import annotations

from veedor.model import ActaCounts, Copy, Grade, Status
from veedor.read.print import Line, PrintReading
from veedor.verify.decide import NO_PRINT, Verdict


def _vouched(line: Line | None) -> int | None:
    """A printed count the sheet vouches for on its own: digits and words both read and
    equal. Not a count whose words were skipped because its digits equalled the QR's, nor
    one settled from the QR or the sums: those lean on the QR they would be weighed against."""
    if line is None or line.inferred or not line.words_read or not line.agrees:
        return None
    return line.digits


def printed_counts(printed: PrintReading, positions: int) -> tuple[tuple[int | None, ...], int | None]:
    """The print's counts it vouches for on its own, per ballot position, and its nulos."""
    lines = list(printed.lines[:positions]) + [None] * max(0, positions - len(printed.lines))
    return tuple(_vouched(ln) for ln in lines), _vouched(printed.summary.get("nulos"))


def contradicts(qr: ActaCounts, printed: PrintReading) -> bool:
    """Whether a count the print vouches for on its own differs from the QR's: a legible
    disagreement, not a misreading (a misread count has digits and words that disagree)."""
    votes, nulos = printed_counts(printed, len(qr.votes))
    if nulos is not None and nulos != qr.nulos:
        return True
    return any(p is not None and p != q for p, q in zip(votes, qr.votes, strict=False))


def grade_copy(verdict: Verdict, printed: PrintReading | None, *, cross_check: bool = True) -> Copy | None:
    """The file's evidence for its mesa, or None when it names no mesa at all."""
    acta = verdict.acta
    if acta is not None and verdict.source == "qr":
        failed = {c.name for c in verdict.checks if not c.passed}
        # The print is weighed against the QR (and other copies) only when it holds together
        # (every sum and spelling agrees): a print read in part, or with rows out of place,
        # claims nothing. On the copies bench this kept every forged sheet whose print held
        # and none of the 8 genuine blurred or tiny copies whose misread rows looked legible.
        held = printed is not None and printed.agrees
        if not failed:
            grade = Grade.CONFIRMED if cross_check else Grade.QR_ONLY
        elif held and printed is not None and contradicts(acta, printed):
            grade = Grade.CONTRADICTORY
        elif failed == {NO_PRINT}:
            grade = Grade.QR_ONLY
        else:
            grade = Grade.PARTIAL
        shown, shown_nulos = printed_counts(printed, len(acta.votes)) if held and printed else (None, None)
        return Copy(
            grade,
            acta.acta_id,
            acta.centre,
            acta.mesa,
            acta.votes,
            acta.nulos,
            dict(acta.extra),
            "qr",
            shown,
            shown_nulos,
        )
    if acta is not None:  # read from the print alone
        grade = Grade.CONFIRMED if verdict.status is Status.OK else Grade.PARTIAL
        return Copy(
            grade, acta.acta_id, acta.centre, acta.mesa, acta.votes, acta.nulos, dict(acta.extra), "print"
        )
    part = printed.acta if printed is not None else None
    header = printed is not None and any(c.name == "print_header" and c.passed for c in printed.checks)
    if printed is not None and part is not None and part.mesa > 0 and header:
        # A print read in part: the lines it did read are evidence for a person. Its mesa
        # is taken only when the printed acta id and centre code agree (two reads of it).
        votes, nulos = printed_counts(printed, len(part.votes))
        return Copy(Grade.PARTIAL, part.acta_id, part.centre, part.mesa, votes, nulos, {}, "print")
    return None
