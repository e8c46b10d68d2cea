"""The review desk's library and command line: blind entries settle mesas, counted with their
trail; wrong passwords store nothing; a saboteur is found and what they helped settle re-queued."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest
from sqlalchemy import func, select

from conftest import ROOT
from imaging import payload, qr_image, write
from veedor.pipeline.scan import scan_paths
from veedor.store.accounts import ReviewError, add_user, authenticate
from veedor.store.consistency import check_consistency
from veedor.store.review import enter, take, tasks
from veedor.store.schema import ActaRecord, ActaVotes, ReviewEntry
from veedor.tally import tally

TRUE = [3] + [1] * 37
WRONG = [300] + [1] * 37


def values(votes, nulos=0):
    return {"votes": votes, "nulos": nulos, "blank": 0}


@pytest.fixture
def conflicts(store, tmp_path, definition):
    """Ten mesas in conflict: each has a genuine copy and a copy that says other numbers."""
    folder = tmp_path / "in"
    folder.mkdir()
    for mesa in range(1, 11):
        write(folder / f"{mesa}-a.png", qr_image(payload(mesa=mesa, votes=TRUE)))
        write(folder / f"{mesa}-b.png", qr_image(payload(mesa=mesa, votes=[4] + [1] * 37)))
    # QR alone (no print to look for on these sheets): two QR claims that differ are a conflict.
    scan_paths([folder], store, evidence_root=tmp_path / "ev", workers=1, cross_check=False)
    with store.session() as session:
        for name in ("ana", "beto", "caro", "sab"):
            add_user(session, name, "reviewer", "secret-" + name)
        add_user(session, "sup", "supervisor", "secret-sup")
        session.commit()
    return store


def code(mesa: int) -> str:
    return f"040202001.{mesa:02d}"


def user(session, name):
    return authenticate(session, name, "secret-" + name)


def test_two_agreeing_blind_entries_count_the_mesa_with_its_source_and_trail(conflicts, definition, tmp_path):
    with conflicts.session() as session:
        assert len(tasks(session, definition)) == 10
        first = enter(session, definition, user(session, "ana"), code(1), values(TRUE))
        assert not first.settled and first.needs == "entry"
        second = enter(session, definition, user(session, "beto"), code(1), values(TRUE))
        assert second.settled and second.state == "ok"
        session.commit()
        record = session.scalar(select(ActaRecord).where(ActaRecord.mesa == 1))
        assert record.source == "people" and record.votes == TRUE
        assert session.scalar(select(func.sum(ActaVotes.votes)).where(ActaVotes.acta_pk == record.id)) == sum(
            TRUE
        )
        result = tally(session, definition, "national", "scan")
        assert result.rows[0].votes and sum(result.rows[0].votes.values()) == sum(TRUE)
        assert check_consistency(session, tmp_path / "ev").problems == []


def test_entries_are_blind_one_per_person_and_checked_against_the_ballot(conflicts, definition):
    with conflicts.session() as session:
        ana = user(session, "ana")
        enter(session, definition, ana, code(2), values(TRUE))
        with pytest.raises(ReviewError, match="already entered"):
            enter(session, definition, ana, code(2), values(TRUE))
        for bad, why in (
            (values(TRUE[:-1]), "37 counts for 38"),
            (values([-1, *TRUE[1:]]), "not a count"),
            (values([True, *TRUE[1:]]), "not a count"),
            (values([5000, *TRUE[1:]]), "not a count"),
            ({"votes": "3,1"}, "expected"),
        ):
            with pytest.raises(ReviewError, match=why):
                enter(session, definition, user(session, "beto"), code(2), bad)
        with pytest.raises(ReviewError, match="no scanned copy"):
            enter(session, definition, ana, "999999999.01", values(TRUE))
        # A reviewer never sees what others typed: the task carries no numbers.
        assert all(
            "votes" not in t.as_dict() and "entered_by" not in t.as_dict() for t in tasks(session, definition)
        )


def test_two_reviewers_never_get_the_same_task(conflicts, definition):
    with conflicts.session() as session:
        got = [take(session, definition, user(session, n)) for n in ("ana", "beto", "caro")]
        assert len({t.acta_pk for t in got if t}) == 3
        with pytest.raises(ReviewError, match="another person"):
            enter(session, definition, user(session, "beto"), got[0].code, values(TRUE))


def test_disagreement_goes_to_a_third_reviewer_then_a_supervisor(conflicts, definition):
    with conflicts.session() as session:
        enter(session, definition, user(session, "ana"), code(3), values(TRUE))
        enter(session, definition, user(session, "beto"), code(3), values([5] + [1] * 37))
        third = enter(session, definition, user(session, "caro"), code(3), values([6] + [1] * 37))
        assert third.needs == "supervisor"
        assert code(3) not in [t.code for t in tasks(session, definition, user(session, "sab"))]
        with pytest.raises(ReviewError, match="supervisor"):
            enter(session, definition, user(session, "sab"), code(3), values(TRUE))
        final = enter(session, definition, user(session, "sup"), code(3), values(TRUE))
        assert final.settled and final.state == "ok"


def test_a_saboteur_is_flagged_and_every_mesa_they_helped_settle_is_requeued(conflicts, definition):
    """Honest pairs settle; the saboteur agrees on some to look honest and types wild numbers
    on others. Once flagged, the mesas that needed their entry are no longer counted."""
    with conflicts.session() as session:
        for mesa in (1, 2):  # the saboteur helps settle these two, with ana
            enter(session, definition, user(session, "ana"), code(mesa), values(TRUE))
            enter(session, definition, user(session, "sab"), code(mesa), values(TRUE))
        counted = session.scalar(
            select(func.count()).select_from(ActaRecord).where(ActaRecord.status == "ok")
        )
        assert counted == 2
        flagged_now: list[str] = []
        for mesa in (3, 4):  # two wild entries of 297 votes too many: past the threshold
            enter(session, definition, user(session, "sab"), code(mesa), values(WRONG))
            enter(session, definition, user(session, "beto"), code(mesa), values(TRUE))
            flagged_now += enter(session, definition, user(session, "caro"), code(mesa), values(TRUE)).flagged
        assert flagged_now == ["sab"]
        session.commit()
        states = {
            r.mesa: (r.status, r.votes)
            for r in session.scalars(select(ActaRecord).where(ActaRecord.mesa <= 4))
        }
        assert states[1][0] == states[2][0] == "conflict"  # back in the queue
        assert all(states[m] == ("ok", TRUE) for m in (3, 4))
        assert {code(1), code(2)} <= {t.code for t in tasks(session, definition)}
        with pytest.raises(ReviewError, match="may not enter"):
            enter(session, definition, user(session, "sab"), code(6), values(TRUE))
        assert take(session, definition, user(session, "sab")) is None  # and is given no more tasks
        assert check_consistency(session).problems == []


def veedor(*args, password=None, db):
    return subprocess.run(
        [sys.executable, "-m", "veedor", *args, "--db", str(db)],
        input=(password + "\n").encode() if password else b"",
        capture_output=True,
        env={**os.environ, "PYTHONPATH": str(ROOT / "src")},
        timeout=120,
    )


def test_the_command_line_contract(conflicts, tmp_path):
    db = conflicts.url  # the fixture's store: a SQLite file or a PostgreSQL database
    assert (
        veedor(
            "users", "add", "dani", "--role", "reviewer", "--password-stdin", password="a-long-secret", db=db
        ).returncode
        == 0
    )
    listed = json.loads(veedor("review", "list", "--format", "json", db=db).stdout)
    assert [t["mesa"] for t in listed][:2] == [code(1), code(2)] and all(t["reason"] for t in listed)
    typed = json.dumps(values(TRUE))
    wrong = veedor(
        "review",
        "enter",
        code(1),
        "--as",
        "dani",
        "--password-stdin",
        "--values",
        typed,
        password="nope",
        db=db,
    )
    assert wrong.returncode == 2 and b"Traceback" not in wrong.stderr
    with conflicts.session() as session:
        assert session.scalar(select(func.count()).select_from(ReviewEntry)) == 0
    for who, secret in (("dani", "a-long-secret"), ("ana", "secret-ana")):
        done = veedor(
            "review",
            "enter",
            code(1),
            "--as",
            who,
            "--password-stdin",
            "--values",
            typed,
            password=secret,
            db=db,
        )
        assert done.returncode == 0, done.stderr
    shown = json.loads(veedor("review", "show", code(1), db=db).stdout)
    assert shown["state"] == "ok" and shown["source"] == "people"
    assert [t["by"] for t in shown["trail"] if t["kind"] == "entry"] == ["dani", "ana"]
    tallied = veedor("tally", "--level", "mesa", "--format", "json", db=db)
    assert code(1) in tallied.stdout.decode()


@pytest.fixture
def sheets(store, tmp_path):
    """Two sheets whose mesa the machine could not tell (their codes are web addresses)."""
    folder = tmp_path / "sheets"
    folder.mkdir()
    for i in (1, 2):
        write(folder / f"{i}.png", qr_image(f"https://example.org/{i}"))
    scan_paths([folder], store, evidence_root=tmp_path / "ev", workers=1)
    with store.session() as session:
        for name in ("ana", "beto", "caro"):
            add_user(session, name, "reviewer", "secret-" + name)
        add_user(session, "sup", "supervisor", "secret-sup")
        session.commit()
    return store


def test_a_sheet_with_no_readable_id_is_identified_by_two_people_then_typed_and_counted(
    sheets, definition, tmp_path
):
    from veedor.store.identify import identify, unidentified

    with sheets.session() as session:
        first, second = unidentified(session)
        assert not identify(session, definition, user(session, "ana"), first, code(5)).settled
        with pytest.raises(ReviewError, match="already identified"):
            identify(session, definition, user(session, "ana"), first, code(5))
        done = identify(session, definition, user(session, "beto"), first, code(5))
        assert done.settled and done.code == code(5)
        assert unidentified(session) == [second]
        # People disagree on the second: nobody's word attaches it until a supervisor's.
        identify(session, definition, user(session, "ana"), second, code(6))
        assert not identify(session, definition, user(session, "beto"), second, code(7)).settled
        assert identify(session, definition, user(session, "sup"), second, code(6)).settled
        # The identified mesa is now an ordinary task: its numbers are typed blind, and counted.
        assert {code(5), code(6)} <= {t.code for t in tasks(session, definition)}
        enter(session, definition, user(session, "ana"), code(5), values(TRUE))
        assert enter(session, definition, user(session, "caro"), code(5), values(TRUE)).state == "ok"
        session.commit()
        assert check_consistency(session, tmp_path / "ev").problems == []


def test_an_identification_is_checked_against_the_registry(sheets, definition):
    from conftest import CENTRES
    from veedor.ingest.registry import import_registry
    from veedor.store.identify import identify, unidentified

    with sheets.session() as session:
        import_registry(session, CENTRES, definition)
        sheet = unidentified(session)[0]
        for bad, why in (
            ("999999999.01", "not in the registry"),
            ("0402.01", "invalid mesa code"),
            (code(0), "invalid mesa number"),
        ):
            with pytest.raises(ReviewError, match=why):
                identify(session, definition, user(session, "ana"), sheet, bad)
        identify(session, definition, user(session, "ana"), sheet, code(1))


def test_the_command_line_lists_and_identifies_sheets(sheets, tmp_path):
    db = sheets.url
    listed = json.loads(veedor("review", "list", "--format", "json", db=db).stdout)
    sheet = next(t for t in listed if t["needs"] == "identify")
    assert sheet["mesa"] is None and len(sheet["image"]) == 64
    for who in ("ana", "beto"):
        ran = veedor(
            "review",
            "identify",
            sheet["image"],
            code(9),
            "--as",
            who,
            "--password-stdin",
            password="secret-" + who,
            db=db,
        )
        assert ran.returncode == 0, ran.stderr
    listed = json.loads(veedor("review", "list", "--format", "json", db=db).stdout)
    assert code(9) in [t["mesa"] for t in listed]


def test_a_supervisor_pins_a_unit_first_in_the_queue(store, tmp_path, definition):
    from veedor.store.review import pin

    folder = tmp_path / "in"
    folder.mkdir()
    for centre in ("040202001", "130101001"):
        write(folder / f"{centre}.png", qr_image(payload(centre=centre)))
    scan_paths([folder], store, evidence_root=tmp_path / "ev", workers=1, cross_check=False)
    with store.session() as session:
        add_user(session, "ana", "reviewer", "secret-ana")
        add_user(session, "sup", "supervisor", "secret-sup")
        assert [t.code for t in tasks(session, definition)] == ["040202001.01", "130101001.01"]
        with pytest.raises(ReviewError, match="only a supervisor"):
            pin(session, definition, user(session, "ana"), "13")
        pin(session, definition, user(session, "sup"), "13")
        assert [t.code for t in tasks(session, definition)] == ["130101001.01", "040202001.01"]
        pin(session, definition, user(session, "sup"), "13", pinned=False)
        assert next(t.code for t in tasks(session, definition)) == "040202001.01"


def test_accounts_refuse_bad_input_with_a_reason_and_store_nothing(store, tmp_path):
    from veedor.store.accounts import disable_user, reset_password

    with store.session() as session:
        add_user(session, "ana", "reviewer", "secret-ana")
        for args, why in (
            (("ana", "reviewer", "another-one"), "already exists"),
            (("beto", "king", "secret-beto"), "unknown role"),
            (("beto", "reviewer", "short"), "at least 8"),
            (("", "reviewer", "secret-beto"), "pseudonym of 1 to 64"),
            (("x" * 65, "reviewer", "secret-beto"), "pseudonym of 1 to 64"),
        ):
            with pytest.raises(ReviewError, match=why):
                add_user(session, *args)
        with pytest.raises(ReviewError, match="no such account"):
            reset_password(session, "nadie", "secret-long")
        disable_user(session, "ana")
        with pytest.raises(ReviewError, match="disabled"):
            authenticate(session, "ana", "secret-ana")
    db = store.url
    no_stdin = veedor("users", "add", "caro", "--role", "reviewer", db=db)
    assert no_stdin.returncode == 2 and b"--password-stdin" in no_stdin.stderr
    bad_json = veedor(
        "review", "enter", code(1), "--as", "ana", "--password-stdin", "--values", "{", password="x", db=db
    )
    assert bad_json.returncode == 2 and b"not valid JSON" in bad_json.stderr
    unknown = veedor("review", "show", "999999999.01", db=db)
    assert (
        unknown.returncode == 2
        and b"no scanned copy" in unknown.stderr
        and b"Traceback" not in unknown.stderr
    )
