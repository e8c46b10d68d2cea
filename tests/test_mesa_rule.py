"""The rule that turns a mesa's copies into its state (docs/copies.md), row by row."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from veedor.model import ActaState, Grade
from veedor.verify.mesa import ALERT_OTHER_QR, ALERT_PASTED, SeenCopy, decide_mesa

TRUE = (10, 5, 0, 2)
FORGED = (9, 6, 0, 2)  # one vote moved: every sum still holds


def copy(sha: str, grade: Grade, votes=TRUE, nulos=1, source="qr", printed=None, printed_nulos=None):
    return SeenCopy(sha, grade, tuple(votes), nulos, (), source, printed, printed_nulos)


CONFIRMED = copy("a1", Grade.CONFIRMED)
QR_ONLY = copy("b2", Grade.QR_ONLY)
PARTIAL_AGREES = copy("c3", Grade.PARTIAL, (10, None, 0, None), None, source="print")
PARTIAL_MISREAD = copy("d4", Grade.PARTIAL, (10, 8, 0, 2), 1, source="print")  # a line misread
PASTED = copy("e5", Grade.CONTRADICTORY, FORGED, printed=(10, 5, None, 2), printed_nulos=1)


def test_one_confirmed_copy_is_counted():
    decision = decide_mesa([CONFIRMED])
    assert decision.state is ActaState.OK and decision.counted
    assert decision.numbers == (TRUE, 1, ())


def test_partial_copies_support_or_go_to_audit_and_never_block():
    """Today's failure: one misread copy made the whole mesa a conflict or review."""
    decision = decide_mesa([CONFIRMED, PARTIAL_AGREES, PARTIAL_MISREAD])
    assert decision.state is ActaState.OK
    assert set(decision.support) == {"a1", "c3"}
    assert decision.audit == ("d4",)
    assert decision.alerts == ()  # a misread print is no claim: no alert


def test_a_partial_copy_whose_qr_says_other_numbers_raises_an_alert_but_does_not_block():
    blurred_forgery = copy("f6", Grade.PARTIAL, FORGED, printed=(None, None, None, None))
    decision = decide_mesa([CONFIRMED, blurred_forgery])
    assert decision.state is ActaState.OK
    assert [a.kind for a in decision.alerts] == [ALERT_OTHER_QR]


def test_a_pasted_qr_on_a_genuine_sheet_alerts_and_the_mesa_is_counted_from_what_its_print_confirms():
    decision = decide_mesa([CONFIRMED, PASTED])
    assert decision.state is ActaState.OK and decision.numbers == (TRUE, 1, ())
    assert [(a.kind, a.sha256) for a in decision.alerts] == [(ALERT_PASTED, "e5")]


def test_a_contradictory_copy_whose_legible_print_disagrees_with_the_claims_is_a_conflict():
    # The confirmed copy claims FORGED; the other sheet's print, legible, says TRUE.
    forged_whole_sheet = copy("a1", Grade.CONFIRMED, FORGED)
    decision = decide_mesa([forged_whole_sheet, PASTED])
    assert decision.state is ActaState.CONFLICT and not decision.counted
    assert decision.numbers is None
    assert [a.kind for a in decision.alerts] == [ALERT_PASTED]
    assert set(decision.audit) == {"a1", "e5"}


@pytest.mark.parametrize(
    "other",
    [copy("z9", Grade.CONFIRMED, FORGED), copy("z9", Grade.QR_ONLY, FORGED)],
    ids=["confirmed", "qr_only"],
)
def test_two_claims_with_different_numbers_are_a_conflict(other):
    decision = decide_mesa([CONFIRMED, other])
    assert decision.state is ActaState.CONFLICT
    assert set(decision.audit) == {"a1", "z9"}


def test_qr_only_copies_alone_are_unconfirmed_until_a_confirmed_copy_agrees():
    alone = decide_mesa([QR_ONLY])
    assert alone.state is ActaState.UNCONFIRMED and not alone.counted
    assert alone.numbers == (TRUE, 1, ())  # the preliminary figure's numbers
    assert decide_mesa([QR_ONLY, CONFIRMED]).state is ActaState.OK
    assert decide_mesa([QR_ONLY, copy("q7", Grade.QR_ONLY, FORGED)]).state is ActaState.CONFLICT


def test_nothing_claimed_is_review_and_a_pasted_copy_alone_still_alerts():
    assert decide_mesa([PARTIAL_AGREES]).state is ActaState.REVIEW
    alone = decide_mesa([PASTED])
    assert alone.state is ActaState.REVIEW and [a.kind for a in alone.alerts] == [ALERT_PASTED]


POOL = [CONFIRMED, QR_ONLY, PARTIAL_AGREES, PARTIAL_MISREAD, PASTED, copy("g8", Grade.QR_ONLY, FORGED)]


@given(st.lists(st.sampled_from(POOL), min_size=1, max_size=8), st.randoms())
def test_the_decision_is_the_same_in_any_order(copies, rnd):
    shuffled = list(copies)
    rnd.shuffle(shuffled)
    assert decide_mesa(copies) == decide_mesa(shuffled)


def test_a_print_without_the_qrs_blank_field_agrees_with_the_qr():
    """Found on the copies bench: the print shows no blank field, the QR does (always 0)."""
    from_print = copy("p1", Grade.CONFIRMED, source="print")
    qr_photo = SeenCopy("q1", Grade.QR_ONLY, TRUE, 1, (("blank", 0),))
    decision = decide_mesa([from_print, qr_photo])
    assert decision.state is ActaState.OK and decision.numbers == (TRUE, 1, (("blank", 0),))
    other_blank = SeenCopy("q2", Grade.QR_ONLY, TRUE, 1, (("blank", 3),))
    assert decide_mesa([from_print, qr_photo, other_blank]).state is ActaState.CONFLICT
