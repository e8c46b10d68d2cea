"""A scan killed midway and re-run leaves a consistent database: no duplicates, no half records."""

from __future__ import annotations

import io
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import cv2
import pytest
from sqlalchemy import func, select

from conftest import ACTAS, ROOT
from veedor.store import open_store
from veedor.store.schema import ActaRecord, ActaVotes, Evidence, Image, ImageName, Reading


def make_inputs(folder: Path) -> int:
    """Re-encode each readable real acta at two qualities: distinct bytes, same numbers."""
    count = 0
    for path in sorted(ACTAS.glob("*/*.jpg")):
        if path.name.startswith("qr-unreadable") or path.stat().st_size > 1_000_000:
            continue
        gray = cv2.imread(str(path), cv2.IMREAD_GRAYSCALE)
        for quality in (95, 85):
            cv2.imwrite(
                str(folder / f"{path.stem}-q{quality}.jpg"), gray, [cv2.IMWRITE_JPEG_QUALITY, quality]
            )
            count += 1
    return count


def veedor(*args: str) -> subprocess.Popen[bytes]:
    env = {**os.environ, "PYTHONPATH": str(ROOT / "src")}
    return subprocess.Popen(
        [sys.executable, "-m", "veedor", *args], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )


def test_kill_and_rerun(tmp_path):
    folder = tmp_path / "in"
    folder.mkdir()
    files = make_inputs(folder)
    db = tmp_path / "v.db"
    report = tmp_path / "r.jsonl"
    proc = veedor("scan", str(folder), "--db", str(db), "--workers", "1", "--jsonl", str(report))
    deadline = time.time() + 120
    while time.time() < deadline and (not report.exists() or report.read_text().count("\n") < 1):
        time.sleep(0.05)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    done_before = report.read_text().count("\n")
    assert 0 < done_before < files, "the kill must land midway for this test to mean anything"

    assert veedor("scan", str(folder), "--db", str(db), "--workers", "2", "--jsonl", str(report)).wait() == 0
    store = open_store(str(db))
    with store.session() as session:
        count = lambda model: session.scalar(select(func.count()).select_from(model))  # noqa: E731
        assert count(Image) == files
        assert count(ImageName) == files
        assert session.scalar(select(func.count(func.distinct(Reading.sha256)))) == files
        assert count(Evidence) == files
        actas = session.scalars(select(ActaRecord)).all()
        assert len(actas) == files // 2
        assert all(a.status == "ok" for a in actas)
        assert count(ActaVotes) == len(actas) * 10
        # No reading is orphaned from a half-written file: each image has its accepted reading.
        accepted = session.scalar(select(func.count()).select_from(Reading).where(Reading.accepted))
        assert accepted == files


def test_a_scan_commits_as_it_reads(tmp_path, monkeypatch):
    """A run interrupted after three files keeps those three (it used to read every file
    into a list before committing anything)."""
    import pytest

    from veedor.model import FileOutcome, Status
    from veedor.pipeline import scan as scan_module

    def reader(files, _ctx, _workers, *_claims):
        for i, name in enumerate(files):
            if i == 3:
                raise KeyboardInterrupt
            yield FileOutcome(name, f"{i:064x}", Status.REJECTED, "not an acta")

    for i in range(5):
        (tmp_path / f"{i}.png").write_bytes(b"x")
    monkeypatch.setattr(scan_module, "_run", reader)
    monkeypatch.setattr(scan_module, "BATCH_FILES", 1)
    store = open_store(str(tmp_path / "v.db"))
    with pytest.raises(KeyboardInterrupt):
        scan_module.scan_paths([tmp_path], store, evidence_root=tmp_path / "ev", workers=1)
    with store.session() as session:
        assert session.scalar(select(func.count()).select_from(Image)) == 3


def test_two_scans_of_the_same_files_at_once_both_finish_and_nothing_is_stored_twice(tmp_path):
    from imaging import payload, qr_image, write

    folder = tmp_path / "in"
    folder.mkdir()
    for mesa in range(1, 41):
        write(folder / f"{mesa}.png", qr_image(payload(mesa=mesa)))
    db = tmp_path / "v.db"
    open_store(str(db))  # the schema first: two processes must not both create it
    reports = [tmp_path / f"{i}.jsonl" for i in range(2)]
    scans = [
        veedor("scan", str(folder), "--db", str(db), "--workers", "1", "--jsonl", str(r)) for r in reports
    ]
    assert [p.wait(timeout=300) for p in scans] == [0, 0]
    lines = [json.loads(x) for r in reports for x in r.read_text().splitlines()]
    assert len(lines) == 80
    # Each file was read by one scan only: the other skipped it (no time spent on it) and
    # recorded it as a duplicate once the first had stored it.
    assert sum(1 for x in lines if x["ms"] > 0) == 40
    assert sum(1 for x in lines if x["duplicate_of"]) == 40
    with open_store(str(db)).session() as session:
        count = lambda model: session.scalar(select(func.count()).select_from(model))  # noqa: E731
        assert count(Image) == 40 and count(Evidence) == 40 and count(ActaRecord) == 40
        assert count(ImageName) == 40


def test_an_image_another_scan_stored_meanwhile_is_a_duplicate_not_a_crash(tmp_path, monkeypatch):
    from imaging import payload, qr_image, write
    from veedor.pipeline import scan as scan_module

    folder = tmp_path / "in"
    folder.mkdir()
    write(folder / "a.png", qr_image(payload()))
    store = open_store(str(tmp_path / "v.db"))
    scan_module.scan_paths([folder], store, evidence_root=tmp_path / "ev", workers=1)
    # The second scan began before the first committed: it does not know the image.
    monkeypatch.setattr(scan_module, "known_images", lambda _session: frozenset())
    summary = scan_module.scan_paths([folder], store, evidence_root=tmp_path / "ev", workers=1)
    assert summary.duplicates == 1
    with store.session() as session:
        assert session.scalar(select(func.count()).select_from(Evidence)) == 1


def _children(pid: int) -> list[int]:
    try:
        return [int(c) for c in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]
    except OSError:
        return []


def _pool_workers() -> list[int]:
    """The scan's reader processes: the children of its forkserver."""
    servers = [c for c in _children(os.getpid()) if b"forkserver" in Path(f"/proc/{c}/cmdline").read_bytes()]
    return [w for server in servers for w in _children(server)]


def test_a_reader_process_that_dies_costs_its_file_not_the_run(tmp_path, monkeypatch):
    """A worker killed mid-read (out of memory, a decoder's crash) used to hang the scan for
    ever: its file is now reported, nothing of it stored, and every other file is read."""
    import threading

    from veedor.pipeline import scan as scan_module

    folder = tmp_path / "in"
    folder.mkdir()
    make_inputs(folder)
    monkeypatch.setattr(scan_module, "TASK_LIMIT", 8.0)

    report = io.StringIO()

    def kill_one_worker() -> None:
        deadline = time.time() + 60
        while time.time() < deadline:
            if not report.getvalue():  # the workers are reading (not starting up) once one is done
                time.sleep(0.05)
                continue
            busy = [p for p in _pool_workers() if Path(f"/proc/{p}/stat").read_text().split()[2] == "R"]
            if busy:
                os.kill(busy[0], signal.SIGKILL)
                return
            time.sleep(0.05)

    killer = threading.Thread(target=kill_one_worker)
    killer.start()
    store = open_store(str(tmp_path / "v.db"))
    summary = scan_module.scan_paths([folder], store, evidence_root=tmp_path / "ev", workers=2, report=report)
    killer.join()
    lines = [json.loads(x) for x in report.getvalue().splitlines()]
    lost = [x for x in lines if "did not finish" in (x["reason"] or "")]
    assert len(lost) == 1 and lost[0]["sha256"] is None
    assert summary.files == len(list(folder.iterdir()))
    assert sum(1 for x in lines if x["status"] == "ok") == summary.files - 1


def test_a_lock_held_by_another_process_is_waited_for(tmp_path):
    """Another program holding the database's write lock (a backup, a hand query, a crashed
    tool) makes a scan wait, not fail; everything is stored once the lock is released."""
    from imaging import payload, qr_image, write

    folder = tmp_path / "in"
    folder.mkdir()
    for mesa in range(1, 6):
        write(folder / f"{mesa}.png", qr_image(payload(mesa=mesa)))
    db = tmp_path / "v.db"
    open_store(str(db))
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import sqlite3, sys, time; c = sqlite3.connect(sys.argv[1]); c.execute('BEGIN EXCLUSIVE'); "
            "print('held', flush=True); time.sleep(4); c.rollback()",
            str(db),
        ],
        stdout=subprocess.PIPE,
    )
    assert holder.stdout is not None and holder.stdout.readline() == b"held\n"
    started = time.time()
    scan = subprocess.run(
        [sys.executable, "-m", "veedor", "scan", str(folder), "--db", str(db), "-w", "1"],
        env={**os.environ, "PYTHONPATH": str(ROOT / "src")},
        capture_output=True,
        timeout=120,
    )
    holder.wait()
    assert scan.returncode == 0 and b"Traceback" not in scan.stderr, scan.stderr[-1500:]
    assert time.time() - started > 3  # it did wait for the lock
    with open_store(str(db)).session() as session:
        assert session.scalar(select(func.count()).select_from(Image)) == 5


def test_a_migration_cut_short_leaves_no_half_schema_and_the_next_open_completes(tmp_path):
    """A fresh database whose migration fails (or is killed) midway has none of it: the next
    open migrates it from the start instead of failing on tables that already exist."""
    import sqlalchemy

    from veedor.store import db as store_db

    url = f"sqlite:///{tmp_path / 'v.db'}"
    engine = sqlalchemy.create_engine(url)
    sqlalchemy.event.listen(engine, "connect", store_db._sqlite_pragmas)

    def cut(conn, cursor, statement, *args):
        if "CREATE TABLE review_verdicts" in statement:
            raise RuntimeError("killed here")

    sqlalchemy.event.listen(engine, "after_cursor_execute", cut)
    with pytest.raises(RuntimeError, match="killed here"):
        store_db.upgrade(engine)
    engine.dispose()
    assert sqlalchemy.inspect(sqlalchemy.create_engine(url)).get_table_names() == []
    store = store_db.open_store(str(tmp_path / "v.db"))
    assert "review_verdicts" in sqlalchemy.inspect(store.engine).get_table_names()
    store.engine.dispose()
