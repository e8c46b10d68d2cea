"""A copy's grade: what one file's numbers are worth for its mesa (docs/copies.md)."""

from __future__ import annotations

from veedor.definitions import load_definition
from veedor.model import ActaCounts, CheckResult, Grade, Status
from veedor.read.print import Line, PrintReading
from veedor.read.print.checks import QR_PRINT
from veedor.verify.decide import NO_PRINT, Verdict
from veedor.verify.grade import grade_copy

DEFINITION = load_definition("ve-2024-presidential")
N = len(DEFINITION.ballot)
QR = ActaCounts("040202001.01.1.0001", "040202001", 1, tuple([86, 6, *([0] * (N - 2))]), 1)
PASSED = CheckResult("positions_count", True, "")


def line(value, words=None, *, words_read=True, inferred=""):
    words = value if words is None else words
    return Line("X", value, words if words_read else None, str(value), "", "", words_read, inferred)


def printed(lines, *, agrees=False, nulos=1, header=True):
    checks = (
        CheckResult("print_lines_sum", agrees, ""),
        CheckResult("print_header", header, ""),
    )
    acta = ActaCounts(
        "040202001.01.1.0001", "040202001", 1, tuple(ln.value if ln else -1 for ln in lines), nulos
    )
    return PrintReading(
        acta, tuple(lines), {"nulos": line(nulos)}, {}, acta.acta_id, "040202001", None, checks, "t", 1.0
    )


def qr_verdict(*failed: str) -> Verdict:
    checks = (PASSED, *(CheckResult(name, False, "") for name in failed))
    return Verdict(QR, "qr", checks, Status.REVIEW if failed else Status.OK, None)


def test_a_sheet_that_agrees_with_itself_is_confirmed_and_qr_only_without_the_print():
    assert grade_copy(qr_verdict(), None).grade is Grade.CONFIRMED
    assert grade_copy(qr_verdict(), None, cross_check=False).grade is Grade.QR_ONLY
    assert grade_copy(qr_verdict(NO_PRINT), None).grade is Grade.QR_ONLY


def test_a_count_the_print_vouches_for_against_the_qr_is_a_contradiction():
    genuine = [line(87), line(5, words_read=False), *[line(0, words_read=False)] * (N - 2)]
    copy = grade_copy(qr_verdict(QR_PRINT), printed(genuine, agrees=True))
    assert copy.grade is Grade.CONTRADICTORY
    # The print, held together, is kept beside the QR: only the counts it vouches for itself.
    assert copy.printed[:2] == (87, None) and copy.votes[:2] == (86, 6)


def test_misread_or_leaning_counts_are_no_contradiction():
    cases = {
        "digits and words differ": [line(87, 81)],
        "words skipped (digits equal the QR)": [line(87, words_read=False)],
        "settled from the QR": [line(87, inferred="qr")],
        "settled by the sums": [line(87, inferred="sums")],
    }
    for why, first in cases.items():
        lines = [*first, *[line(v, words_read=False) for v in QR.votes[1:]]]
        copy = grade_copy(qr_verdict(QR_PRINT), printed(lines))
        assert copy.grade is Grade.PARTIAL, why
        assert copy.printed is None, why  # a print that does not hold together claims nothing


def test_a_print_read_in_part_is_partial_evidence_only_when_its_acta_id_is_sure():
    lines = [line(87), None, *[line(0)] * (N - 2)]
    none_read = Verdict(None, None, (), Status.REVIEW, "")
    copy = grade_copy(none_read, printed(lines))
    assert copy.grade is Grade.PARTIAL and copy.votes[:2] == (87, None) and copy.source == "print"
    assert grade_copy(none_read, printed(lines, header=False)) is None


def test_a_legible_disagreement_in_a_print_that_does_not_hold_together_is_partial():
    """On the copies bench, 8 genuine blurred or tiny copies had misplaced rows whose digits
    and words agreed with each other: only a print whose sums hold can contradict its QR."""
    genuine = [line(87), *[line(v, words_read=False) for v in QR.votes[1:]]]
    copy = grade_copy(qr_verdict(QR_PRINT), printed(genuine, agrees=False))
    assert copy.grade is Grade.PARTIAL and copy.printed is None
