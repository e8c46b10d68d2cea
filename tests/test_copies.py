"""Many copies of one mesa in one database: more evidence never means fewer mesas counted.

These record synthetic outcomes (no reading), so the store's combination, its history and
its independence from order are tested in milliseconds; test_copies_real.py reads images.
"""

from __future__ import annotations

import hashlib
import json
import tempfile

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select
from typer.testing import CliRunner

from veedor.cli import app
from veedor.definitions import load_definition
from veedor.model import ActaState, Copy, FileOutcome, Grade, Reading, Status
from veedor.store import open_store
from veedor.store.records import record_outcome
from veedor.store.schema import ActaRecord, Decision, MesaEvent
from veedor.tally import PRELIMINARY, tally

DEFINITION = load_definition("ve-2024-presidential")
N = len(DEFINITION.ballot)
TRUE = tuple([87, 5, 4, *([0] * (N - 3))])
FORGED = tuple([86, 6, 4, *([0] * (N - 3))])
CENTRE = "040202001"


def outcome(
    name: str, grade: Grade, status: Status, votes=TRUE, nulos=1, *, mesa=1, source="qr", printed=None
):
    sha = hashlib.sha256(name.encode()).hexdigest()
    copy = Copy(
        grade,
        f"{CENTRE}.{mesa:02d}.1.0001",
        CENTRE,
        mesa,
        tuple(votes),
        nulos,
        {},
        source,
        printed,
        None,
    )
    reading = Reading(source, "test", "full", "text", 1.0)
    return FileOutcome(
        name, sha, status, None if status is Status.OK else "why", readings=(reading,), copy=copy
    )


CONFIRMED = outcome("scan.jpg", Grade.CONFIRMED, Status.OK)
UNREAD = tuple([87, None, *([0] * (N - 2))])
PRINT_PARTIAL = outcome("blurred.jpg", Grade.PARTIAL, Status.REVIEW, UNREAD, None, source="print")
MISREAD = outcome("misread.jpg", Grade.PARTIAL, Status.REVIEW, (81, *TRUE[1:]), source="print")
QR_PHOTO = outcome("qr-photo.jpg", Grade.QR_ONLY, Status.REVIEW)
PASTED = outcome(
    "pasted.jpg", Grade.CONTRADICTORY, Status.REVIEW, FORGED, printed=(87, 5, *([None] * (N - 2)))
)
FORGED_PHOTO = outcome("forged-qr-photo.jpg", Grade.QR_ONLY, Status.REVIEW, FORGED, mesa=2)
OTHER_MESA = outcome("mesa2.jpg", Grade.CONFIRMED, Status.OK, mesa=2)
LONE_QR = outcome("mesa3-qr.jpg", Grade.QR_ONLY, Status.REVIEW, mesa=3)


def fresh_store(folder: str):
    return open_store(f"sqlite:///{folder}/v.db")


def record_all(store, outcomes, chunks=(None,)):
    """Record in runs (each committed apart, like separate ``veedor scan`` runs)."""
    lines = []
    start = 0
    for end in [*chunks[:-1], len(outcomes)] if chunks != (None,) else [len(outcomes)]:
        with store.session() as session:
            lines += [record_outcome(session, o, DEFINITION) for o in outcomes[start:end]]
            session.commit()
        start = end
    return lines


def mesa_states(store):
    with store.session() as session:
        mesas = {
            (r.centre, r.mesa): (r.status, r.votes, r.nulos, json.dumps(r.alerts, sort_keys=True))
            for r in session.scalars(select(ActaRecord))
        }
        rows = tally(session, DEFINITION, "national").rows
        preliminary = tally(session, DEFINITION, "national", PRELIMINARY).rows
    return mesas, [(r.votes, r.nulos, r.actas) for r in rows], [(r.votes, r.actas) for r in preliminary]


def test_bad_copies_never_knock_out_a_good_mesa(tmp_path):
    """Today's failure: a misread or partly read copy put the counted mesa in conflict or review."""
    store = fresh_store(str(tmp_path))
    lines = record_all(store, [CONFIRMED, PRINT_PARTIAL, MISREAD, QR_PHOTO])
    with store.session() as session:
        (record,) = session.scalars(select(ActaRecord))
        assert record.status == "ok" and tuple(record.votes) == TRUE
        (row,) = tally(session, DEFINITION, "national").rows
        assert row.actas == 1 and row.nulos == 1
    # Each file keeps its own decision; each line says what its mesa is now.
    assert [line.status.value for line in lines] == ["ok", "review", "review", "review"]
    assert all(line.mesa["state"] == "ok" and line.mesa["counted"] for line in lines)


def test_a_pasted_qr_alerts_its_mesa_which_is_still_counted_from_the_genuine_numbers(tmp_path):
    store = fresh_store(str(tmp_path))
    (_, line) = record_all(store, [CONFIRMED, PASTED])
    assert line.mesa["counted"] and line.mesa["alerts"][0]["sha256"] == PASTED.sha256
    with store.session() as session:
        (record,) = session.scalars(select(ActaRecord))
        assert record.status == "ok" and tuple(record.votes) == TRUE
        assert [a["kind"] for a in record.alerts] == ["qr_print_mismatch"]


def test_a_later_copy_that_changes_a_mesa_is_in_its_history_and_on_its_line(tmp_path):
    store = fresh_store(str(tmp_path))
    record_all(store, [OTHER_MESA])
    (line,) = record_all(store, [FORGED_PHOTO])
    assert line.status is Status.REVIEW  # the file's own decision
    assert line.mesa["state"] == "conflict" and line.mesa["changed_from"] == "ok"
    assert not line.mesa["counted"] and line.mesa["reason"]
    with store.session() as session:
        events = list(session.scalars(select(MesaEvent).order_by(MesaEvent.id)))
        assert [(e.previous, e.state, e.sha256) for e in events] == [
            (None, "ok", OTHER_MESA.sha256),
            ("ok", "conflict", FORGED_PHOTO.sha256),
        ]
        assert session.scalar(select(func.count()).select_from(Decision)) == 2


def test_qr_only_mesas_are_only_in_the_labelled_preliminary_figure(tmp_path):
    store = fresh_store(str(tmp_path))
    record_all(store, [CONFIRMED, LONE_QR])
    mesas, verified, preliminary = mesa_states(store)
    assert mesas[(CENTRE, 3)][0] == ActaState.UNCONFIRMED.value
    assert verified[0][2] == 1 and preliminary[0][1] == 2
    runner = CliRunner()
    db = ["--db", str(tmp_path / "v.db")]
    plain = json.loads(runner.invoke(app, ["tally", "--format", "json", *db]).stdout)
    assert not plain["preliminary"] and plain["rows"][0]["actas"] == 1
    assert plain["rows"][0]["pending_review"] == 1  # the QR-only mesa waits, visibly
    result = runner.invoke(app, ["tally", "--include", "unconfirmed", "--format", "json", *db])
    prelim = json.loads(result.stdout)
    assert prelim["preliminary"] and prelim["rows"][0]["actas"] == 2
    assert "PRELIMINAR" in prelim["source_label"] and "1 mesas" in prelim["coverage_notes"][0]
    csv_out = runner.invoke(app, ["tally", "--include", "unconfirmed", "--format", "csv", *db]).stdout
    assert csv_out.splitlines()[1].startswith("preliminary,")
    bad = runner.invoke(app, ["tally", "--include", "everything", *db])
    assert bad.exit_code == 2 and "unconfirmed" in bad.stderr


def test_mesas_are_queryable_by_state_and_one_mesa_shows_its_copies_and_history(tmp_path):
    store = fresh_store(str(tmp_path))
    record_all(store, [CONFIRMED, PASTED, OTHER_MESA, FORGED_PHOTO, LONE_QR])
    runner = CliRunner()
    db = ["--db", str(tmp_path / "v.db")]
    conflict = json.loads(
        runner.invoke(app, ["mesas", "--state", "conflict", "--format", "json", *db]).stdout
    )
    assert [m["code"] for m in conflict] == [f"{CENTRE}.02"]
    assert conflict[0]["copies"] == {"confirmed": 1, "qr_only": 1} and not conflict[0]["counted"]
    alerted = json.loads(runner.invoke(app, ["mesas", "--alerts", "--format", "json", *db]).stdout)
    assert [m["code"] for m in alerted] == [f"{CENTRE}.01"]
    detail = json.loads(runner.invoke(app, ["mesa", f"{CENTRE}.01", "--format", "json", *db]).stdout)
    assert {c["grade"] for c in detail["copies"]} == {"confirmed", "contradictory"}
    assert detail["history"][-1]["sha256"] == PASTED.sha256
    shown = runner.invoke(app, ["--lang", "es", "mesa", f"{CENTRE}.01", *db])
    assert shown.exit_code == 0 and "impreso 87" in shown.stdout
    assert runner.invoke(app, ["mesa", f"{CENTRE}.09", *db]).exit_code == 2
    assert runner.invoke(app, ["mesas", "--state", "maybe", *db]).exit_code == 2


POOL = [CONFIRMED, PRINT_PARTIAL, MISREAD, QR_PHOTO, PASTED, OTHER_MESA, FORGED_PHOTO, LONE_QR]


@settings(max_examples=20, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.permutations(POOL), st.lists(st.integers(1, len(POOL) - 1), max_size=3, unique=True))
def test_order_and_runs_never_change_the_mesas_or_the_tally(order, cuts):
    """The same files in any order, in one run or several, give the same mesas and tally."""
    with tempfile.TemporaryDirectory() as ref_dir, tempfile.TemporaryDirectory() as dir_:
        reference = fresh_store(ref_dir)
        record_all(reference, POOL)
        store = fresh_store(dir_)
        record_all(store, list(order), (*sorted(cuts), None))
        assert mesa_states(store) == mesa_states(reference)


def test_an_old_database_is_upgraded_and_its_evidence_graded(tmp_path):
    from alembic import command

    from veedor.store.db import _alembic_config

    db = tmp_path / "old.db"
    store = open_store(str(db), migrate=False)
    cfg = _alembic_config()
    with store.engine.begin() as conn:
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, "0002")
    with store.engine.begin() as conn:
        conn.exec_driver_sql(
            "INSERT INTO images VALUES ('aa', 1, 'png', 1, 1, NULL, 'review', NULL, '2024-07-29')"
        )
        conn.exec_driver_sql(
            "INSERT INTO readings VALUES (1, 'aa', 'x', 'qr', 'e', 'v', 't', 1.0, '2024-07-29', 1)"
        )
        conn.exec_driver_sql(
            f"INSERT INTO actas VALUES (1, '{DEFINITION.id}', '{CENTRE}', 1, 'id', 'review', NULL, "
            "NULL, NULL, '2024-07-29')"
        )
        conn.exec_driver_sql(
            f"INSERT INTO evidence VALUES (1, 1, 'aa', 1, 'unverified', '{json.dumps(list(TRUE))}', 1, '{{}}')"
        )
    upgraded = open_store(str(db))
    with upgraded.session() as session:
        grade = session.execute(select(func.min(ActaRecord.id))).scalar()
        assert grade == 1
        from veedor.store.schema import Evidence

        assert session.scalar(select(Evidence.grade)) == "qr_only"
    result = CliRunner().invoke(app, ["rescan", "--combine-only", "--db", str(db)])
    assert result.exit_code == 0, result.output
    with upgraded.session() as session:
        assert session.scalar(select(ActaRecord.status)) == "unconfirmed"


def test_open_data_lists_each_alert_with_the_copy_that_raised_it(tmp_path):
    import polars as pl

    from veedor.publish.export import export

    store = fresh_store(str(tmp_path))
    record_all(store, [CONFIRMED, PASTED, LONE_QR])
    with store.session() as session:
        manifest = export(session, DEFINITION, tmp_path / "out", formats=("csv",))
    alerts = pl.read_csv(manifest.folder / "alerts.csv")
    assert alerts.select("mesa", "state", "kind", "sha256").rows() == [
        (1, "ok", "qr_print_mismatch", PASTED.sha256)
    ]
    pending = pl.read_csv(manifest.folder / "pending.csv")
    assert pending["status"].to_list() == ["unconfirmed"]


def test_bad_mesa_codes_formats_and_unknown_images_say_what_to_do(tmp_path):
    store = fresh_store(str(tmp_path))
    record_all(store, [CONFIRMED])
    runner = CliRunner()
    db = ["--db", str(tmp_path / "v.db")]
    for args in (["mesa", "040202001"], ["mesa", "abc.x"], ["mesa", f"{CENTRE}.01", "--format", "csv"]):
        result = runner.invoke(app, [*args, *db])
        assert result.exit_code == 2 and "What to do" in result.stderr, args
    unknown = runner.invoke(app, ["rescan", "--sha", "f" * 64, "--jsonl", "-", *db])
    assert unknown.exit_code == 0
    (line,) = [json.loads(x) for x in unknown.stdout.splitlines() if x.startswith("{")]
    assert line["status"] == "rejected" and "no image with that SHA-256" in line["reason"]
