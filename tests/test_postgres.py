"""Several writers at once lose nothing, on SQLite and on a PostgreSQL server alike: two scans
(separate processes, copies of the same mesas, some files in both) and the desk settling mesas
while the scans change them. Every file is stored once, every mesa's state follows from its
copies and people's decisions (``veedor check``), and the evidence log audits clean.

The same test runs on the SQLite file without a server, and on PostgreSQL with
``VEEDOR_TEST_DB_URL`` set (``.ci/postgres`` starts one); the PostgreSQL-only checks below are
skipped, saying why, without one.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
from sqlalchemy import func, inspect, select
from typer.testing import CliRunner

import testdb
from conftest import ROOT
from imaging import payload, qr_image, write
from veedor.cli import app as cli
from veedor.pipeline.scan import scan_paths
from veedor.store import open_store
from veedor.store.accounts import add_user, authenticate
from veedor.store.consistency import check_consistency
from veedor.store.db import serialize_writes
from veedor.store.evidence_log import audit
from veedor.store.review import ReviewError, enter, tasks
from veedor.store.schema import ActaRecord, ActaVotes, Evidence, Image, ImageName

pytestmark = pytest.mark.postgres
server = pytest.mark.skipif(not testdb.on_server(), reason=testdb.NEEDS_SERVER)

CENTRE = "040202001"
TRUE = [3] + [1] * 37
OTHER = [4] + [1] * 37
OTHER2 = [5] + [1] * 37
PEOPLE = ("ana", "beto")


def sheet(folder: Path, name: str, mesa: int, votes: list[int], scale: int = 8) -> Path:
    # Another scale: the same claim in other bytes (another photo of the same acta).
    return write(folder / name, qr_image(payload(mesa=mesa, votes=votes), scale=scale))


def veedor(*args: str) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [sys.executable, "-m", "veedor", *args],
        env={**os.environ, "PYTHONPATH": str(ROOT / "src")},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )


def desk_until(store, definition, done: threading.Event, settled: list[str], errors: list[str]) -> None:
    """The desk: two reviewers type the true numbers of every open mesa, each entry in one
    transaction behind the writers' lock (what ``Desk.write`` does for a page), until the scans
    end and nothing is left they may enter."""
    entered: set[tuple[str, str]] = set()
    idle = 0
    while idle < 3:
        with store.session() as session:
            open_codes = [t.code for t in tasks(session, definition)]
        wrote = False
        for code in open_codes:
            for name in PEOPLE:
                if (name, code) in entered:
                    continue
                with store.session() as session:
                    try:
                        serialize_writes(session)
                        person = authenticate(session, name, "secret-" + name)
                        result = enter(
                            session, definition, person, code, {"votes": TRUE, "nulos": 0, "blank": 0}
                        )
                        session.commit()
                        entered.add((name, code))
                        wrote = True
                        if result.settled:
                            settled.append(code)
                    except ReviewError as refused:  # settled meanwhile, reopened, ...: a refusal, not a loss
                        session.rollback()
                        entered.add((name, code))
                        errors.append(str(refused))
        idle = idle + 1 if done.is_set() and not wrote else 0
        time.sleep(0.05)


@pytest.mark.slow
def test_two_scans_and_the_desk_at_once_lose_nothing(db_url, tmp_path, definition):
    store = open_store(db_url)
    ev = tmp_path / "ev"
    before, one, two, both = (tmp_path / n for n in ("before", "one", "two", "both"))
    for folder in (before, one, two, both):
        folder.mkdir()
    for mesa in range(1, 9):  # in conflict before the scans start: the desk's first tasks
        sheet(before, f"{mesa}-a.png", mesa, TRUE)
        sheet(before, f"{mesa}-b.png", mesa, OTHER)
        sheet(one, f"{mesa}-c.png", mesa, TRUE, scale=7)  # while people settle it
        sheet(two, f"{mesa}-d.png", mesa, OTHER2, scale=7)  # a copy that reopens it
    for mesa in range(9, 31):  # two agreeing copies, one from each scan, combined at once
        sheet(one, f"{mesa}-a.png", mesa, TRUE)
        sheet(two, f"{mesa}-b.png", mesa, TRUE, scale=7)
    for mesa in range(31, 35):  # disagreeing copies from the two scans: conflicts made meanwhile
        sheet(one, f"{mesa}-a.png", mesa, TRUE)
        sheet(two, f"{mesa}-b.png", mesa, OTHER)
    for mesa in range(35, 41):  # the very same files given to both scans
        sheet(both, f"{mesa}.png", mesa, TRUE)
    scan_paths([before], store, evidence_root=ev, workers=1, cross_check=False)
    with store.session() as session:
        for name in PEOPLE:
            add_user(session, name, "reviewer", "secret-" + name)
        session.commit()

    done, settled, refusals = threading.Event(), [], []
    desk = threading.Thread(target=desk_until, args=(store, definition, done, settled, refusals))
    desk.start()
    reports = [tmp_path / "one.jsonl", tmp_path / "two.jsonl"]
    scans = [
        veedor("scan", str(folder), str(both), "--qr-only", "--db", db_url, "--evidence", str(ev),
               "-w", "1", "--jsonl", str(report))
        for folder, report in zip((one, two), reports, strict=True)
    ]  # fmt: skip
    try:
        codes = [p.wait(timeout=600) for p in scans]
    finally:
        done.set()
        desk.join(timeout=300)
    assert codes == [0, 0], [p.stderr.read().decode()[-2000:] for p in scans if p.stderr]
    assert not desk.is_alive()

    files = [p for folder in (before, one, two, both) for p in folder.iterdir()]
    lines = [json.loads(x) for r in reports for x in r.read_text().splitlines()]
    assert len(lines) == len(list(one.iterdir())) + len(list(two.iterdir())) + 2 * 6
    with store.session() as session:
        count = lambda model: session.scalar(select(func.count()).select_from(model))  # noqa: E731
        assert count(Image) == len(files) == count(Evidence)  # every file once, each its evidence
        assert count(ImageName) == len(files)  # the shared files: the same path, one name
        assert count(ActaRecord) == 40
        states = dict(session.execute(select(ActaRecord.mesa, ActaRecord.status)).all())
        assert all(states[m] == "ok" for m in range(9, 31)), states  # agreeing copies: counted
        assert all(states[m] == "conflict" for m in range(31, 35)) or settled, states
        report = check_consistency(session, ev)
        assert report.problems == [], report.problems  # each state follows from its copies
        assert audit(session) == []
    assert settled, refusals  # the desk did settle mesas while the scans wrote
    checked = CliRunner().invoke(cli, ["check", "--db", db_url, "--evidence", str(ev)])
    assert checked.exit_code == 0, checked.output
    store.engine.dispose()


@server
def test_two_processes_migrating_one_fresh_database_at_once_both_succeed(tmp_path):
    url = testdb.blank_database()
    try:
        procs = [
            subprocess.Popen(
                [sys.executable, "-c", f"from veedor.store import open_store; open_store({url!r})"],
                env={**os.environ, "PYTHONPATH": str(ROOT / "src")},
                stderr=subprocess.PIPE,
            )
            for _ in range(3)
        ]
        assert [p.wait(timeout=120) for p in procs] == [0, 0, 0], [p.stderr.read() for p in procs if p.stderr]
        store = open_store(url)
        assert "log_entries" in inspect(store.engine).get_table_names()
        store.engine.dispose()
    finally:
        testdb.drop(url)


@server
def test_counts_past_32_bits_are_stored_and_summed_whole(store, definition):
    from veedor.store.records import now
    from veedor.tally.aggregate import tally_sql as tally
    from veedor.tally.columnar import tally_columnar

    big = 3_000_000_000  # past 2^31: PostgreSQL's INTEGER refused it (vote columns before 0010)
    for table, column in (("acta_votes", "votes"), ("result_votes", "votes"), ("mesas", "electors")):
        kinds = {c["name"]: str(c["type"]) for c in inspect(store.engine).get_columns(table)}
        assert kinds[column] == "BIGINT", (table, kinds)
    votes = [big] + [0] * 37
    with store.session() as session:
        for mesa in (1, 2):
            record = ActaRecord(
                election=definition.id, centre=CENTRE, mesa=mesa, acta_id=f"{CENTRE}.{mesa:02d}",
                status="ok", updated_at=now(), nulos=big, votes=votes,
            )  # fmt: skip
            session.add(record)
            session.flush()
            for candidate, n in definition.totals_by_candidate(votes).items():
                session.add(ActaVotes(acta_pk=record.id, candidate=candidate, votes=n))
        session.commit()
        for result in (
            tally(session, definition, "national"),
            tally_columnar(session, definition, "national"),
        ):
            (row,) = result.rows
            assert row.nulos == 2 * big and max(row.votes.values()) == 2 * big


def test_a_reading_keeps_the_name_of_every_engine_that_read_it(store, definition, tmp_path):
    """A real acta scanned with its print cross-checked: the print reading's engine names
    PP-OCR and the first look's acta-rec with their versions, past the 64 characters that
    PostgreSQL refused before migration 0014."""
    import io

    from conftest import ACTAS
    from veedor.read.print.recognise import DEFAULT
    from veedor.store.schema import Reading

    if store.engine.dialect.name != "sqlite":  # SQLite enforces no VARCHAR length (0014)
        engine = {c["name"]: c["type"] for c in inspect(store.engine).get_columns("readings")}["engine"]
        assert engine.length >= 255
    image = ACTAS / "andres-sommariva-vzla-elections-2024" / "017911_018022_0093Acta0093.jpg"
    summary = scan_paths(
        [image],
        store,
        definition_id=definition.id,
        evidence_root=tmp_path / "ev",
        workers=1,
        report=io.StringIO(),
    )
    assert summary.by_status["ok"] == 1
    with store.session() as session:
        (printed,) = [r for r in session.scalars(select(Reading)) if r.source == "print" and r.text]
    assert printed.engine.startswith("rapidocr ")
    if DEFAULT["first"] == "acta":
        assert printed.engine.endswith("; first look at the digits: acta-rec 2 (onnxruntime 1.31.1)")
        assert len(printed.engine) > 64


VOTERS = "cedula,nombre,centro_code,mesa\nV-12.345.678,Ana,040202001,1\n8765432,Beto,40202001,2\n99,Cira,040202001,1\n"


@server
def test_a_dialect_never_changes_an_answer(tmp_path, definition):
    """Every command on the same data gives the same answer on SQLite and PostgreSQL: the
    dialect-specific SQL (SQLite's total() and group_concat, upserts, NULL ordering, integer
    sums) would show here first."""
    from v1db import BULLETINS, CENTRES, UNITS, V1
    from veedor.store.voters import find_voter

    compared = (
        [
            ["tally", "--source", "table:1", "--level", level, "--format", "json"]
            for level in ("national", "state", "municipality", "parish", "centre", "mesa")
        ]
        + [
            ["tally", "--level", level, "--format", "json", *include]
            for level in ("state", "mesa")
            for include in ([], ["--include", "unconfirmed"])
        ]
        + [
            ["compare", "--source", "table:1", "--format", "json"],
            ["compare", "--source", "table:1", "--level", "state", "--format", "json"],
            ["scenario", "--source", "table:1", "--format", "json"],
            ["estimate", "--source", "table:1", "--format", "json"],
            ["mesas", "--format", "json"],
            ["mesas", "--state", "conflict", "--format", "json"],
            ["mesa", f"{CENTRE}.03", "--format", "json"],
            ["review", "list", "--format", "json"],
        ]
    )
    voters = tmp_path / "electores.csv"
    voters.write_text(VOTERS, encoding="utf-8")
    folder = tmp_path / "in"
    folder.mkdir()
    for mesa in (1, 2, 3):
        sheet(folder, f"{mesa}.png", mesa, TRUE)
    sheet(folder, "3-b.png", 3, OTHER, scale=7)
    outputs, exports, setup = {}, {}, {}
    for where, db in (("sqlite", str(tmp_path / "v.db")), ("postgresql", testdb.new_database())):
        runner = CliRunner()
        ev, out = tmp_path / f"ev-{where}", tmp_path / f"out-{where}"
        for args in (
            ["log", "init", "--launch", "block 850000"],
            ["import-registry", str(CENTRES)],
            ["import-registry", str(UNITS)],
            ["import-results", str(V1)],
            ["import-official", str(BULLETINS)],
            ["import-voters", str(voters)],
            ["scan", str(folder), "--qr-only", "-w", "1", "--evidence", str(ev)],
            ["export", str(out), "--source", "table:1", "--format", "csv"],
            ["evidence", f"{CENTRE}.03", "--out", str(out / "pack"), "--evidence", str(ev)],
            ["check", "--evidence", str(ev)],
        ):
            made = runner.invoke(cli, [*args, "--db", db])
            # 1: an import that refused some lines (the real files have a few): the same on both.
            assert made.exit_code in (0, 1 if args[0].startswith("import") else 0), (where, args, made.output)
            setup.setdefault(where, []).append(made.exit_code)
        outputs[where] = [
            (args, said.exit_code, _stable(said.output))
            for args in compared
            for said in [runner.invoke(cli, [*args, "--db", db])]
        ]
        exports[where] = {p.name: p.read_bytes() for p in out.glob("*/*.csv")}
        store = open_store(db)
        with store.session() as session:
            assert find_voter(session, definition.id, "12345678") == (CENTRE, 1)
            assert find_voter(session, definition.id, "8765432") == (CENTRE, 2)
        store.engine.dispose()
        testdb.drop(db)
    assert setup["sqlite"] == setup["postgresql"]
    for sqlite, postgresql in zip(outputs["sqlite"], outputs["postgresql"], strict=True):
        assert sqlite == postgresql, sqlite[0]
    assert exports["sqlite"] and exports["sqlite"] == exports["postgresql"]


def _stable(output: str) -> object:
    """The command's JSON without what differs by run (times, the database's own ids)."""
    try:
        data = json.loads(output)
    except ValueError:
        return output

    def strip(value: object) -> object:
        if isinstance(value, dict):
            return {k: strip(v) for k, v in value.items() if k not in VOLATILE}
        if isinstance(value, list):
            return [strip(v) for v in value]
        if isinstance(value, float):
            # 12 digits: estimate's Polars group-bys sum floats in parallel, and their last digit
            # differs from one run to the next on either database.
            return float(f"{value:.12g}")
        return value

    return strip(data)


VOLATILE = {"at", "updated_at", "generated_at", "seconds", "ms", "database", "db", "id", "acta_pk"}
