"""Reading on a cluster (Dask distributed): the real actas scanned through a local cluster of two
worker processes, one killed mid-task, give exactly what a local scan gives, each image once."""

from __future__ import annotations

import json
import logging
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from sqlalchemy import func, select

import testdb
from conftest import ACTAS, ROOT
from veedor.capture.evidence import EvidenceStore
from veedor.model import Status
from veedor.pipeline import cluster as cluster_module
from veedor.pipeline.cluster import (
    LOCAL,
    ClusterError,
    EvidenceNotShared,
    _again,
    _Done,
    cluster_runner,
    local_cluster,
    read_image,
)
from veedor.pipeline.scan import scan_paths
from veedor.pipeline.worker import WorkerContext
from veedor.store import open_store
from veedor.store.consistency import check_consistency
from veedor.store.schema import ActaRecord, Evidence, Image, ImageName, Reading

distributed = pytest.importorskip("distributed")

DEFINITION = "ve-2024-presidential"


def snapshot(store) -> dict[str, object]:
    """What a scan decided, without its times or names: per image, per copy, per mesa."""
    with store.session() as session:
        return {
            "images": {
                i.sha256: (i.status, i.reason, i.size, i.width) for i in session.scalars(select(Image))
            },
            "evidence": {
                e.sha256: (e.grade, e.votes, e.nulos, e.printed) for e in session.scalars(select(Evidence))
            },
            "mesas": {
                (a.centre, a.mesa): (a.status, a.votes, a.nulos, a.reason, a.alerts)
                for a in session.scalars(select(ActaRecord))
            },
            "readings": sorted(
                (r.sha256, r.source, r.engine, r.variant, untimed(r.text), r.accepted)
                for r in session.scalars(select(Reading).where(Reading.text.is_not(None)))
            ),
        }


def test_a_worker_without_the_shared_evidence_says_so(tmp_path):
    from veedor.verify.checks import RegistryView

    ctx = WorkerContext(DEFINITION, str(tmp_path / "not-shared"), RegistryView(), frozenset())
    cluster_module._CONTEXTS["t"] = ctx
    try:
        with pytest.raises(EvidenceNotShared, match="cannot see the evidence folder"):
            read_image("t", "ab" * 32, "/scans/a.jpg")
    finally:
        cluster_module._CONTEXTS.pop("t")


def test_a_second_name_of_bytes_read_in_the_run_is_a_duplicate_of_each_page():
    pages = _Done([("#page=1", "a" * 64), ("#page=2", "b" * 64)])
    again = _again("/scans/copy.pdf", pages)
    assert [(o.file, o.duplicate_of) for o in again] == [
        ("/scans/copy.pdf#page=1", "a" * 64),
        ("/scans/copy.pdf#page=2", "b" * 64),
    ]
    failed = _again("/scans/copy.jpg", _Done([("", None)]))
    assert failed[0].sha256 is None and failed[0].status is Status.REVIEW


def test_an_unreachable_scheduler_is_said_in_words():
    unreachable = cluster_runner("tcp://127.0.0.1:9", connect_s=2)  # the command waits 20 s
    with pytest.raises(ClusterError, match="cannot reach the cluster"), unreachable:
        pass


def _log_a_heartbeat_failure() -> None:
    """What a worker logs when its heartbeat meets a scheduler already closing (a race seen in
    CI when a local cluster shuts down): a Dask error record with its traceback."""
    try:
        raise OSError("Stream is closed")
    except OSError:
        logging.getLogger("distributed.worker").exception(
            "Failed to communicate with scheduler during heartbeat."
        )


@pytest.mark.slow
def test_a_local_clusters_own_log_records_stay_off_the_terminal(capfd):
    """No traceback reaches a user: Dask's records, in the workers and in this process, are not
    printed while a local cluster scans (nor while it shuts down); the scan says what matters."""
    with cluster_runner(LOCAL, workers=1) as runner:
        client = runner.args[0]
        client.run(_log_a_heartbeat_failure)
        _log_a_heartbeat_failure()
        client.restart()  # a worker that comes back keeps quiet too
        client.run(_log_a_heartbeat_failure)
    err = capfd.readouterr().err
    assert "heartbeat" not in err and "Traceback" not in err, err


@pytest.mark.slow
def test_a_worker_killed_mid_scan_loses_nothing_and_the_result_is_a_local_scans(tmp_path, store, real_images):
    from distributed import Client

    evidence = tmp_path / "shared-evidence"
    killed: list[int] = []
    with (
        local_cluster(2) as cluster,
        Client(cluster) as watcher,
    ):
        outcomes: list = []

        def kill_a_busy_worker(outcome) -> None:
            outcomes.append(outcome)
            if killed:
                return
            # A worker reading a file and holding another's answer that was not fetched yet:
            # both must be read again elsewhere (the second case once lost its file).
            deadline = time.monotonic() + 20
            while time.monotonic() < deadline:
                holding = {addr for addr, keys in watcher.has_what().items() if keys}
                busy = [addr for addr, keys in watcher.processing().items() if keys and addr in holding]
                if busy:
                    break
                time.sleep(0.2)
            else:
                return
            pid = watcher.run(os.getpid, workers=busy[:1])[busy[0]]
            os.kill(pid, signal.SIGKILL)  # mid-task: the file it was reading is nowhere yet
            killed.append(pid)

        messages: list[str] = []
        with cluster_runner(cluster.scheduler_address) as runner:
            summary = scan_paths(
                real_images,
                store,
                definition_id=DEFINITION,
                evidence_root=evidence,
                runner=runner,
                on_outcome=kill_a_busy_worker,
                on_retry=messages.append,
            )
        restarted = watcher.run(os.getpid)
    assert killed and killed[0] not in restarted.values()  # a worker did die, and was replaced
    assert summary.files == len(real_images) and summary.duplicates == 0
    assert [(o.file, o.reason) for o in outcomes if o.sha256 is None] == []  # each file read, none lost
    with store.session() as session:
        assert session.scalar(select(func.count()).select_from(ImageName)) == len(real_images)
        assert session.scalar(select(func.count()).select_from(Image)) == len(real_images)
        assert check_consistency(session, evidence).problems == []

    local_url = testdb.db_url(tmp_path / "local")
    try:
        local = open_store(local_url)
        scan_paths(
            real_images, local, definition_id=DEFINITION, evidence_root=tmp_path / "local-ev", workers=2
        )
        assert snapshot(store) == snapshot(local)
        local.engine.dispose()
    finally:
        testdb.drop(local_url)
    for sha in snapshot(store)["images"]:  # type: ignore[union-attr]
        assert EvidenceStore(evidence).read(sha)


@pytest.mark.slow
def test_scan_cluster_local_from_the_command_line(tmp_path, db_url):
    """``veedor scan --cluster local -w 2``: a throw-away cluster, the progress and summary as
    a local scan's, then the same files again: nothing read or stored twice."""
    images = sorted(ACTAS.glob("*/*.jpg"))[:3]
    folder = tmp_path / "in"
    folder.mkdir()
    for image in images:
        (folder / image.name).write_bytes(image.read_bytes())
    command = [sys.executable, "-m", "veedor", "--lang", "en", "scan", str(folder), "--cluster", "local"]
    command += ["-w", "2", "--db", db_url, "--evidence", str(tmp_path / "ev")]
    env = {**os.environ, "PYTHONPATH": str(ROOT / "src")}
    for run in range(2):
        done = subprocess.run(command, env=env, capture_output=True, text=True, timeout=600)
        assert done.returncode == 0, done.stderr[-3000:]
        assert "Traceback" not in done.stderr
        assert f"duplicates {len(images) if run else 0}" in done.stderr, done.stderr[-2000:]
    with open_store(db_url).session() as session:
        assert session.scalar(select(func.count()).select_from(Image)) == len(images)
        assert check_consistency(session, Path(tmp_path / "ev")).problems == []


# The readings that read something: the QR ladder's later rungs run while its time budget
# lasts (read/qr.py), so how many attempts failed before giving up on a QR-less acta depends on
# how busy the machine was, not on where it ran.


def untimed(text: str | None) -> str | None:
    """A reading's text without the milliseconds it took (a print reading records them)."""
    try:
        data = json.loads(text) if text else None
    except ValueError:
        return text
    if isinstance(data, dict):
        data.pop("ms", None)
        return json.dumps(data, sort_keys=True)
    return text
