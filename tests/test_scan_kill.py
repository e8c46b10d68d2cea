"""kill -9 at any point of a scan of the hostile battery (Hypothesis chooses when): what was
committed is whole and consistent, at most the last batch is lost, and a re-run completes
with nothing stored twice and only the real acta counted."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import select

from conftest import ACTAS, ROOT
from veedor.definitions import load_definition
from veedor.pipeline.scan import BATCH_FILES
from veedor.simulate.hostile import Acta, write_battery
from veedor.store import open_store
from veedor.store.consistency import check_consistency
from veedor.store.schema import ActaRecord

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def battery(tmp_path_factory) -> Path:
    truth = json.loads((ACTAS / "_ground_truth" / "qr_text_by_image.json").read_text())
    key = next(k for k in truth if k.endswith("017911_018022_0093Acta0093.jpg"))
    folder = tmp_path_factory.mktemp("kill") / "in"
    write_battery(
        folder, Acta((ACTAS / key).read_bytes(), truth[key]), load_definition("ve-2024-presidential")
    )
    return folder


def scan(folder: Path, work: Path) -> subprocess.Popen[bytes]:
    args = ["scan", str(folder), "--db", str(work / "v.db"), "-w", "2", "--jsonl", str(work / "r.jsonl")]
    return subprocess.Popen(
        [sys.executable, "-m", "veedor", *args],
        env={**os.environ, "PYTHONPATH": str(ROOT / "src")},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )


def state(work: Path):
    with open_store(str(work / "v.db")).session() as session:
        report = check_consistency(session, work / "v-evidence")
        counted = session.scalars(select(ActaRecord).where(ActaRecord.status == "ok")).all()
        return report, [(a.centre, a.mesa) for a in counted]


@settings(max_examples=5, deadline=None, database=None, suppress_health_check=list(HealthCheck))
@given(delay=st.floats(min_value=0.0, max_value=10.0))
def test_a_scan_killed_at_any_point_leaves_a_whole_database_and_a_rerun_completes(battery, delay):
    work = Path(tempfile.mkdtemp(prefix="veedor-kill-"))
    proc = scan(battery, work)
    time.sleep(delay)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    if (work / "v.db").exists():
        report, counted = state(work)
        assert report.problems == [], report.problems
        reported = (work / "r.jsonl").read_text().splitlines() if (work / "r.jsonl").exists() else []
        complete = [json.loads(x) for x in reported if x.endswith("}")]
        with_sha = sum(1 for x in complete if x["sha256"])
        # Report lines are written after their batch commits: each is in the database, and
        # what the database holds beyond them is at most the batch being reported.
        assert with_sha <= report.counts["names"] <= with_sha + BATCH_FILES
    rerun = scan(battery, work)
    _out, err = rerun.communicate(timeout=300)
    assert rerun.returncode == 0 and b"Traceback" not in err, err[-2000:]
    report, counted = state(work)
    assert report.problems == [], report.problems
    assert counted == [("040202001", 1)]
    lines = [json.loads(x) for x in (work / "r.jsonl").read_text().splitlines()]
    names = {x["file"] for x in lines if x["sha256"]}
    assert report.counts["names"] == len(names)
    assert report.counts["images"] == len({x["sha256"] for x in lines if x["sha256"]})
