"""Claims: a scan never reads a file another live scan is reading, and takes over a dead one's."""

from __future__ import annotations

import subprocess
import sys
from datetime import timedelta

from sqlalchemy import select, update

from veedor.store.claims import LEASE, Claims
from veedor.store.records import now
from veedor.store.schema import ScanClaim, ScanRun


def test_a_live_scans_claim_is_left_to_it_and_released_when_it_ends(store):
    first, second = Claims(store.sessions), Claims(store.sessions)
    assert first.sort(["a", "b"]).ours == {"a", "b"}
    held = second.sort(["b", "c"])
    assert held.ours == {"c"} and set(held.held) == {"b"}
    assert "pid" in held.held["b"]
    first.close()
    assert second.sort(["b"]).ours == {"b"}
    second.close()
    with store.session() as session:
        assert session.scalars(select(ScanClaim)).all() == []
        assert all(run.finished_at is not None for run in session.scalars(select(ScanRun)))


def test_the_claims_of_a_scan_killed_on_this_machine_are_taken_over_at_once(store):
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    killed = Claims(store.sessions)
    killed.sort(["a"])
    with store.session() as session:  # as if that process had claimed it and been killed
        session.execute(update(ScanRun).where(ScanRun.id == killed.run_id).values(pid=dead.pid))
        session.commit()
    assert Claims(store.sessions).sort(["a"]).ours == {"a"}


def test_a_scan_on_another_machine_is_waited_for_until_its_lease_runs_out(store):
    other = Claims(store.sessions)
    other.sort(["a", "b"])
    with store.session() as session:
        session.execute(update(ScanRun).where(ScanRun.id == other.run_id).values(host="other-machine"))
        session.commit()
    mine = Claims(store.sessions)
    assert set(mine.sort(["a"]).held) == {"a"}
    with store.session() as session:  # no heartbeat for longer than the lease: it died
        stale = now() - LEASE - timedelta(seconds=1)
        session.execute(update(ScanRun).where(ScanRun.id == other.run_id).values(heartbeat_at=stale))
        session.commit()
    assert mine.sort(["a"]).ours == {"a"}


def test_a_stored_image_is_a_duplicate_without_reading(store, tmp_path):
    from imaging import payload, qr_image, write
    from veedor.pipeline.scan import scan_paths

    folder = tmp_path / "in"
    folder.mkdir()
    write(folder / "a.png", qr_image(payload()))
    scan_paths([folder], store, evidence_root=tmp_path / "ev", workers=1)
    assert Claims(store.sessions).sort([_sha(folder / "a.png")]).stored == {_sha(folder / "a.png")}


def _sha(path):
    import hashlib

    return hashlib.sha256(path.read_bytes()).hexdigest()
