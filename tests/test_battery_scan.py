"""The hostile battery in one real ``veedor scan``: every kind gets its status and its reason,
every good file is read, no traceback, no wrong number counted, and the database and the
evidence store are consistent afterwards."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy import select

from conftest import ACTAS, ROOT
from veedor.definitions.parsers import parse_payload
from veedor.simulate.hostile import KINDS, Acta, write_battery
from veedor.store import open_store
from veedor.store.consistency import check_consistency
from veedor.store.schema import ActaRecord

GOOD = "017911_018022_0093Acta0093.jpg"


@pytest.fixture(scope="module")
def battery(tmp_path_factory, definition):
    tmp = tmp_path_factory.mktemp("battery")
    truth = json.loads((ACTAS / "_ground_truth" / "qr_text_by_image.json").read_text())
    key = next(k for k in truth if k.endswith(GOOD))
    acta = Acta((ACTAS / key).read_bytes(), truth[key])
    folder = tmp / "in"
    names = write_battery(folder, acta, definition)
    db, report = tmp / "v.db", tmp / "report.jsonl"
    run = subprocess.run(
        [
            sys.executable,
            "-m",
            "veedor",
            "scan",
            str(folder),
            "--db",
            str(db),
            "--jsonl",
            str(report),
            "-w",
            "2",
        ],
        capture_output=True,
        env={**os.environ, "PYTHONPATH": str(ROOT / "src")},
        timeout=600,
    )
    lines = [json.loads(x) for x in report.read_text().splitlines()]
    by_name = {os.path.relpath(x["file"], folder): x for x in lines}
    return {
        "acta": acta,
        "names": names,
        "run": run,
        "lines": by_name,
        "db": db,
        "evidence": tmp / "v-evidence",
    }


def test_the_battery_holds_at_least_sixty_kinds_counting_tables_and_bulletins():
    from veedor.simulate import hostile_tables

    assert len(KINDS) + len(hostile_tables.KINDS) >= 60


def test_the_scan_finishes_with_no_traceback(battery):
    run = battery["run"]
    assert run.returncode == 0, run.stderr.decode(errors="replace")[-2000:]
    assert b"Traceback" not in run.stdout + run.stderr


@pytest.mark.parametrize("kind", KINDS, ids=lambda k: k.name)
def test_each_kind_gets_its_status_and_reason(battery, kind):
    names = [n for n, k in battery["names"].items() if k is kind]
    assert names
    for name in names:
        line = battery["lines"].get(name)
        assert line is not None, f"{name!r} has no report line"
        assert line["status"] == kind.status, (name, line["status"], line["reason"])
        assert kind.reason in (line["reason"] or ""), (name, line["reason"])
        if line["status"] != "ok":
            assert line["reason"], f"{name!r} is {line['status']} without a reason"


def test_every_file_has_exactly_one_line(battery):
    assert set(battery["lines"]) == set(battery["names"])


def test_only_the_real_actas_numbers_are_counted(battery, definition):
    truth = parse_payload(battery["acta"].text, definition)
    with open_store(str(battery["db"])).session() as session:
        counted = session.scalars(select(ActaRecord).where(ActaRecord.status == "ok")).all()
    assert [(a.centre, a.mesa, a.votes, a.nulos) for a in counted] == [
        (truth.centre, truth.mesa, list(truth.votes), truth.nulos)
    ]
    forged = battery["lines"]["forged.png"]["sha256"]
    assert [(a["kind"], a["sha256"]) for a in counted[0].alerts] == [("qr_print_mismatch", forged)]
    for name, kind in battery["names"].items():
        mesa = battery["lines"][name].get("mesa") or {}
        if mesa.get("counted"):
            assert kind.counted, f"{kind.name}: its mesa was counted"


def test_the_database_and_the_evidence_store_are_consistent(battery):
    lines = battery["lines"].values()
    with open_store(str(battery["db"])).session() as session:
        report = check_consistency(session, battery["evidence"])
    assert report.problems == []
    stored = {x["sha256"] for x in lines if x["sha256"]}
    assert report.counts["images"] == len(stored)
    assert report.counts["names"] == sum(1 for x in lines if x["sha256"])
    assert report.counts["duplicates"] == sum(1 for x in lines if x["sha256"] and x.get("duplicate_of"))
    assert report.counts["counted_mesas"] == 1


def test_names_are_reported_as_text_whatever_their_bytes(battery):
    shown = set(battery["lines"])
    assert "mesa-\ufffd\ufffd.png" in shown and "mesa\n21.png" in shown
    assert "[bold red]mesa[blink] 22.png" in shown
    for line in battery["lines"].values():
        assert Path(line["file"]).is_absolute() or line["file"].startswith(str(battery["db"].parent))
