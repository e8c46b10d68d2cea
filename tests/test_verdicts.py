"""People's verdicts on the copies of a mesa in conflict: the pure rule, the mesa rule with
copies set aside, and the flow through the library and the command line."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import func, select

from test_review import TRUE, WRONG, code, user, values, veedor
from test_review import conflicts as conflicts  # the fixture: ten mesas, a genuine and an other copy
from veedor.model import ActaState, Grade
from veedor.store.accounts import ReviewError
from veedor.store.consistency import check_consistency
from veedor.store.review import enter, judge_copies, tasks
from veedor.store.schema import ActaRecord, Evidence, ReviewCopyCall, ReviewVerdict
from veedor.verify.mesa import ALERT_FORGED, SeenCopy, decide_mesa
from veedor.verify.verdicts import Verdict, settle_copies, settle_copy

# -- the rule ----------------------------------------------------------------------------


def said(i, who, verdict, other=None, supervisor=False, sha="s1"):
    return Verdict(i, who, sha, verdict, other, supervisor)


def test_two_reviewers_who_agree_settle_a_copy_one_does_not():
    assert settle_copy([said(1, "ana", "forged")]).verdict is None
    call = settle_copy([said(1, "ana", "forged"), said(2, "beto", "forged")])
    assert (call.verdict, call.basis, call.verdicts) == ("forged", "agreement", (1, 2))
    assert call.set_aside


def test_another_mesas_copy_settles_only_when_both_name_the_same_mesa():
    two = [said(1, "ana", "other", "040202001.05"), said(2, "beto", "other", "040202001.06")]
    assert settle_copy(two).verdict is None and settle_copy(two).basis == "entry"
    same = [said(1, "ana", "other", "040202001.05"), said(2, "beto", "other", "040202001.05")]
    assert (settle_copy(same).verdict, settle_copy(same).other) == ("other", "040202001.05")


def test_disagreement_goes_to_one_more_reviewer_then_a_supervisor_whose_word_settles():
    split = [said(1, "ana", "forged"), said(2, "beto", "genuine")]
    assert settle_copy(split).basis == "entry"
    three = [*split, said(3, "caro", "other", "040202001.09")]
    assert settle_copy(three).basis == "supervisor" and settle_copy(three).verdict is None
    final = settle_copy([*three, said(4, "sup", "genuine", supervisor=True)])
    assert (final.verdict, final.basis) == ("genuine", "supervisor") and not final.set_aside


def test_one_voice_per_person_their_latest():
    twice = [said(1, "ana", "forged"), said(2, "ana", "forged")]
    assert settle_copy(twice).verdict is None
    changed = [said(1, "ana", "forged"), said(2, "beto", "forged"), said(3, "ana", "genuine")]
    assert settle_copy(changed).verdict is None


def test_each_copy_is_settled_on_its_own():
    calls = settle_copies(
        [
            said(1, "ana", "forged", sha="b"),
            said(2, "beto", "forged", sha="b"),
            said(3, "ana", "genuine", sha="a"),
        ]
    )
    assert calls["b"].verdict == "forged" and calls["a"].verdict is None


TRUE4, FORGED4 = (10, 5, 0, 2), (9, 6, 0, 2)


def confirmed(sha, votes):
    return SeenCopy(sha, Grade.CONFIRMED, votes, 1)


def test_a_copy_set_aside_as_forged_lets_the_genuine_one_count_with_an_alert():
    both = [confirmed("a1", TRUE4), confirmed("f9", FORGED4)]
    assert decide_mesa(both).state is ActaState.CONFLICT
    decision = decide_mesa(both, set_aside={"f9": "forged"})
    assert decision.state is ActaState.OK and decision.numbers == (TRUE4, 1, ())
    assert decision.source == "chosen"
    assert [(a.kind, a.sha256) for a in decision.alerts] == [(ALERT_FORGED, "f9")]
    other = decide_mesa(both, set_aside={"f9": "other"})
    assert other.state is ActaState.OK and other.alerts == ()  # another mesa's acta is no forgery


def test_setting_every_copy_aside_leaves_nothing_to_count():
    both = [confirmed("a1", TRUE4), confirmed("f9", FORGED4)]
    decision = decide_mesa(both, set_aside={"a1": "other", "f9": "forged"})
    assert decision.state is ActaState.REVIEW and decision.numbers is None


# -- through the library -----------------------------------------------------------------


def copies_of(session, mesa: int) -> dict[str, str]:
    """{"genuine": sha, "other": sha} of a mesa of the fixture (its copies a and b)."""
    record = session.scalar(select(ActaRecord).where(ActaRecord.mesa == mesa))
    shas = session.scalars(select(Evidence.sha256).where(Evidence.acta_pk == record.id)).all()
    by_votes = {
        tuple(e.votes): e.sha256 for e in session.scalars(select(Evidence).where(Evidence.sha256.in_(shas)))
    }
    return {
        "genuine": by_votes[tuple(TRUE)],
        "other": next(s for v, s in by_votes.items() if v != tuple(TRUE)),
    }


def state_of(session, mesa: int) -> tuple[str, list[int] | None, str | None]:
    record = session.scalar(select(ActaRecord).where(ActaRecord.mesa == mesa))
    session.refresh(record)
    return record.status, record.votes, record.source


def test_two_reviewers_set_a_forged_copy_aside_and_a_typed_entry_settles_the_rest(conflicts, definition):
    with conflicts.session() as session:
        shas = copies_of(session, 1)
        verdict = {shas["genuine"]: "genuine", shas["other"]: "forged"}
        first = judge_copies(session, definition, user(session, "ana"), code(1), verdict)
        assert first.state == "conflict" and first.needs == "entry"
        assert "ana" in next(t for t in tasks(session, definition) if t.code == code(1)).judged_by
        assert code(1) not in {t.code for t in tasks(session, definition, user(session, "ana"))}
        with pytest.raises(ReviewError, match="already judged"):
            judge_copies(session, definition, user(session, "ana"), code(1), verdict)
        second = judge_copies(session, definition, user(session, "beto"), code(1), verdict)
        # The forged QR is set aside; the genuine one is a QR alone: not yet counted.
        assert second.state == "unconfirmed" and second.calls[shas["other"]].verdict == "forged"
        record = session.scalar(select(ActaRecord).where(ActaRecord.mesa == 1))
        assert record.alerts and record.alerts[0]["kind"] == ALERT_FORGED
        # One blind entry that agrees with the genuine QR settles it; the forged QR vouches for nothing.
        assert enter(session, definition, user(session, "caro"), code(1), values(TRUE)).settled
        assert state_of(session, 1) == ("ok", TRUE, "people")
        session.commit()
        assert check_consistency(session).problems == []


def test_numbers_typed_before_the_verdicts_settle_the_mesa_once_the_copies_are_judged(conflicts, definition):
    with conflicts.session() as session:
        shas = copies_of(session, 2)
        enter(session, definition, user(session, "caro"), code(2), values(TRUE))
        assert state_of(session, 2)[0] == "conflict"  # two QRs disagree: an entry alone settles nothing
        for who in ("ana", "beto"):
            judge_copies(session, definition, user(session, who), code(2), {shas["other"]: "forged"})
        assert state_of(session, 2) == ("ok", TRUE, "people")


def test_a_copy_of_another_mesa_is_moved_there_to_be_typed(conflicts, definition):
    with conflicts.session() as session:
        shas = copies_of(session, 3)
        for who in ("ana", "beto"):
            judge_copies(
                session, definition, user(session, who), code(3), {shas["other"][:16]: "040202001.20"}
            )
        assert state_of(session, 3)[0] == "unconfirmed"
        there = session.scalar(select(ActaRecord).where(ActaRecord.mesa == 20))
        assert there is not None and there.status == "review"
        moved = session.scalar(select(Evidence).where(Evidence.acta_pk == there.id))
        assert moved.sha256 == shas["other"] and moved.source == "people" and moved.nulos is None
        assert code(20) in {t.code for t in tasks(session, definition)}
        session.commit()
        assert check_consistency(session).problems == []


def test_verdicts_are_checked_and_nothing_is_stored_on_a_mistake(conflicts, definition):
    with conflicts.session() as session:
        shas = copies_of(session, 4)
        ana = user(session, "ana")
        for bad, why in (
            ({}, "at least one copy"),
            ({"abc": "forged"}, "not a copy of this mesa"),
            ({shas["other"]: "fake"}, "invalid mesa code"),
            ({shas["other"]: 7}, "invalid verdict"),
            ({shas["other"]: code(4)}, "this very mesa"),
            (
                {shas["genuine"]: "genuine", copies_of(session, 5)["other"]: "forged"},
                "not a copy of this mesa",
            ),
        ):
            with pytest.raises(ReviewError, match=why):
                judge_copies(session, definition, ana, code(4), bad)
        assert session.scalar(select(func.count()).select_from(ReviewVerdict)) == 0
        enter(session, definition, ana, code(6), values(TRUE))
        assert enter(session, definition, user(session, "beto"), code(6), values(TRUE)).settled
        with pytest.raises(ReviewError, match="no copies in conflict"):
            judge_copies(
                session, definition, user(session, "sab"), code(6), {copies_of(session, 6)["other"]: "forged"}
            )


def test_a_supervisor_settles_a_copy_alone_and_a_saboteurs_calls_are_withdrawn(conflicts, definition):
    with conflicts.session() as session:
        shas = copies_of(session, 5)
        judge_copies(session, definition, user(session, "sup"), code(5), {shas["other"]: "forged"})
        assert state_of(session, 5)[0] == "unconfirmed"
        genuine = copies_of(session, 7)["genuine"]
        for who in ("ana", "sab"):  # the saboteur gets ana to agree that the genuine copy is forged
            judge_copies(session, definition, user(session, who), code(7), {genuine: "forged"})
        assert state_of(session, 7)[0] == "unconfirmed"  # the other copy now stands alone
        flagged = []
        for mesa in (9, 10):  # then types wild numbers: flagged by the score
            enter(session, definition, user(session, "sab"), code(mesa), values(WRONG))
            enter(session, definition, user(session, "beto"), code(mesa), values(TRUE))
            flagged += enter(session, definition, user(session, "caro"), code(mesa), values(TRUE)).flagged
        assert flagged == ["sab"]
        assert state_of(session, 7)[0] == "conflict"  # the call they made is withdrawn by a new row
        record = session.scalar(select(ActaRecord).where(ActaRecord.mesa == 7))
        rows = session.scalars(select(ReviewCopyCall).where(ReviewCopyCall.acta_pk == record.id)).all()
        assert [(r.verdict, r.basis) for r in rows] == [("forged", "agreement"), (None, "withdrawn")]
        session.commit()
        assert check_consistency(session).problems == []


def test_the_command_line_judges_copies_and_refuses_a_wrong_password(conflicts, tmp_path):
    db = conflicts.url
    with conflicts.session() as session:
        shas = copies_of(session, 8)
    said_json = json.dumps({shas["other"]: "forged", shas["genuine"]: "genuine"})
    args = ("review", "judge", code(8), "--password-stdin", "--copies", said_json)
    wrong = veedor(*args, "--as", "ana", password="nope", db=db)
    assert wrong.returncode == 2 and b"Traceback" not in wrong.stderr
    with conflicts.session() as session:
        assert session.scalar(select(func.count()).select_from(ReviewVerdict)) == 0
    for who in ("ana", "beto"):
        done = veedor(*args, "--as", who, password="secret-" + who, db=db)
        assert done.returncode == 0, done.stderr
    shown = json.loads(veedor("review", "show", code(8), db=db).stdout)
    assert shown["state"] == "unconfirmed"
    kinds = [t["kind"] for t in shown["trail"]]
    assert kinds.count("verdict") == 4 and "copy-call" in kinds
    exported = [json.loads(line) for line in veedor("review", "export", db=db).stdout.splitlines()]
    assert code(8) in {m["mesa"] for m in exported}


def test_the_command_line_refuses_verdicts_that_are_not_json_with_a_reason(conflicts, tmp_path):
    db = conflicts.url
    for copies in ("{not json", "[1, 2]"):
        refused = veedor(
            "review",
            "judge",
            code(9),
            "--as",
            "ana",
            "--password-stdin",
            "--copies",
            copies,
            password="secret-ana",
            db=db,
        )
        assert refused.returncode == 2 and b"Traceback" not in refused.stderr, refused.stderr
        assert b"JSON" in refused.stderr or b"judge at least one copy" in refused.stderr
    with conflicts.session() as session:
        assert session.scalar(select(func.count()).select_from(ReviewVerdict)) == 0
