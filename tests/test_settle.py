"""The settling rule (pure): blind entries in, a settlement or the next step out."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from veedor.model import ActaState, Grade
from veedor.verify.mesa import PeopleSettled, SeenCopy, decide_mesa
from veedor.verify.settle import Entry, difference, flagged, scores, settle

TRUE = ((10, 0, 3), 1, 0)
OTHER = ((10, 0, 4), 1, 0)


def test_two_blind_entries_that_agree_settle_it():
    s = settle([Entry(1, "ana", TRUE), Entry(2, "beto", TRUE)])
    assert s.settled and s.typed == TRUE and s.basis == "agreement" and s.entries == (1, 2)


def test_one_entry_is_not_enough_and_disagreement_asks_for_one_more_then_a_supervisor():
    assert settle([Entry(1, "ana", TRUE)]).basis == "entry"
    assert settle([Entry(1, "ana", TRUE), Entry(2, "beto", OTHER)]).basis == "entry"
    third = settle([Entry(1, "ana", TRUE), Entry(2, "beto", OTHER), Entry(3, "caro", TRUE)])
    assert third.settled and third.typed == TRUE and third.entries == (1, 3)
    stuck = settle([Entry(1, "ana", TRUE), Entry(2, "beto", OTHER), Entry(3, "caro", ((9, 0, 3), 1, 0))])
    assert not stuck.settled and stuck.basis == "supervisor"


def test_a_supervisor_settles_alone_and_the_latest_supervisor_decides():
    s = settle([Entry(1, "ana", TRUE), Entry(2, "beto", TRUE), Entry(3, "sup", OTHER, supervisor=True)])
    assert s.typed == OTHER and s.basis == "supervisor" and s.entries == (3,)


def test_one_entry_that_agrees_with_an_unconfirmed_qr_settles_it_but_not_against_another_entry():
    assert settle([Entry(1, "ana", TRUE)], machine=[TRUE]).basis == "machine"
    assert not settle([Entry(1, "ana", OTHER)], machine=[TRUE]).settled
    assert not settle([Entry(1, "ana", TRUE), Entry(2, "beto", OTHER)], machine=[TRUE]).settled
    # Two QR copies that disagree (one of them pasted) vouch for neither.
    assert not settle([Entry(1, "ana", TRUE)], machine=[TRUE, OTHER]).settled


def test_a_reviewer_who_types_twice_counts_once():
    assert not settle([Entry(1, "ana", TRUE), Entry(2, "ana", TRUE)]).settled


def test_two_agreeing_pairs_that_differ_go_to_a_supervisor():
    entries = [Entry(1, "a", TRUE), Entry(2, "b", TRUE), Entry(3, "c", OTHER), Entry(4, "d", OTHER)]
    assert settle(entries).basis == "supervisor"


typed = st.sampled_from([TRUE, OTHER, ((0, 0, 0), 0, 0)])
entries = st.lists(st.tuples(st.sampled_from("abcde"), typed, st.booleans()), max_size=6)


@given(entries, st.randoms())
def test_the_order_entries_arrive_in_never_changes_the_settlement(raw, rnd):
    made = [Entry(i, who, t, sup) for i, (who, t, sup) in enumerate(raw)]
    shuffled = list(made)
    rnd.shuffle(shuffled)
    assert settle(made, machine=[TRUE]) == settle(shuffled, machine=[TRUE])


def test_scores_grow_with_the_size_of_each_disagreement():
    s = scores(
        [
            (Entry(1, "ana", TRUE), TRUE),
            (Entry(2, "sab", OTHER), TRUE),
            (Entry(3, "sab", ((90, 0, 3), 1, 0)), TRUE),
        ]
    )
    assert s["ana"].points == 0 and s["sab"].points == 1 + 80 and s["sab"].disagreements == 2
    assert difference(TRUE, OTHER) == 1
    big = scores([(Entry(i, "sab", ((200, 0, 3), 1, 0)), TRUE) for i in range(2)])
    assert flagged(big) == {"sab"} and flagged(s) == set()


def copy(sha: str, grade: Grade, votes: tuple[int, ...]) -> SeenCopy:
    return SeenCopy(sha, grade, votes, 1, (("blank", 0),))


def test_people_settle_a_conflict_and_a_later_copy_that_disagrees_reopens_it():
    copies = [copy("a", Grade.CONFIRMED, TRUE[0]), copy("b", Grade.CONFIRMED, OTHER[0])]
    assert decide_mesa(copies).state is ActaState.CONFLICT
    settled = PeopleSettled((TRUE[0], 1, (("blank", 0),)), frozenset({"a", "b"}))
    decision = decide_mesa(copies, settled)
    assert (
        decision.state is ActaState.OK and decision.numbers == settled.numbers and decision.source == "people"
    )
    later = decide_mesa([*copies, copy("c", Grade.CONFIRMED, OTHER[0])], settled)
    assert later.state is ActaState.CONFLICT and later.audit == ("c",)
    agreeing = decide_mesa([*copies, copy("d", Grade.CONFIRMED, TRUE[0])], settled)
    assert agreeing.state is ActaState.OK
