"""The consistency checker finds every kind of damage, and the evidence store is read-only."""

from __future__ import annotations

import os
import stat
import subprocess
import sys

import pytest
from sqlalchemy import text

from conftest import ROOT
from imaging import payload, qr_image, write
from veedor.capture.evidence import EvidenceStore, remove_store
from veedor.pipeline.scan import scan_paths
from veedor.store import open_store
from veedor.store.consistency import check_consistency


@pytest.fixture
def scanned(tmp_path):
    folder = tmp_path / "in"
    folder.mkdir()
    for mesa in range(1, 5):
        write(folder / f"{mesa}.png", qr_image(payload(mesa=mesa)))
    write(folder / "copy-of-1.png", qr_image(payload(mesa=1)))  # same bytes: a duplicate
    (folder / "junk.jpg").write_bytes(b"not an image")
    store = open_store(str(tmp_path / "v.db"))
    evidence = tmp_path / "ev"
    scan_paths([folder], store, evidence_root=evidence, workers=1, cross_check=False)
    return store, evidence


def problems(store, evidence):
    with store.session() as session:
        return check_consistency(session, evidence).problems


def test_a_clean_scan_is_consistent_and_counted(scanned):
    store, evidence = scanned
    with store.session() as session:
        report = check_consistency(session, evidence)
    assert report.problems == []
    assert report.counts["images"] == 5 and report.counts["names"] == 6
    assert report.counts["duplicates"] == 1
    assert report.counts["mesas"] == 4 and report.counts["evidence"] == 4
    assert report.counts["evidence_files"] == 5


HAND_EDITS = {
    "counted totals edited": (
        "UPDATE acta_votes SET votes = votes + 100 WHERE rowid = 1",
        "totales contados",
    ),
    "state edited": ("UPDATE actas SET status = 'ok' WHERE id = 1", "no siguen de sus copias"),
    "numbers edited": ("UPDATE actas SET nulos = nulos + 1 WHERE id = 2", "no siguen de sus copias"),
    "decision deleted": ("DELETE FROM decisions WHERE id = 1", "imágenes sin decisión"),
    "copy deleted": ("DELETE FROM evidence WHERE id = 1", "mesas sin copias"),
    "orphan reading": (
        "INSERT INTO readings (sha256, election, source, engine, variant, ms, read_at, accepted) "
        "VALUES ('ff', 'e', 'qr', 'x', 'y', 0, '2024-01-01', 0)",
        "readings sin imagen",
    ),
    "orphan counted votes": ("INSERT INTO acta_votes VALUES (999, 'NM', 5)", "acta_votes sin mesa"),
    "history rewritten": ("UPDATE mesa_events SET state = 'conflict'", "último de su historia"),
}


@pytest.mark.parametrize("edit", list(HAND_EDITS))
def test_each_hand_edit_of_the_database_is_found(scanned, edit):
    store, evidence = scanned
    sql, expected = HAND_EDITS[edit]
    with store.engine.begin() as conn:
        conn.execute(text("PRAGMA foreign_keys=OFF"))
        conn.execute(text(sql))
    found = problems(store, evidence)
    assert any(expected in p for p in found), found


def _open(path):
    os.chmod(path.parent, 0o755)
    os.chmod(path, 0o644)


def test_an_original_altered_or_deleted_is_found(scanned):
    store, evidence = scanned
    files = sorted(p for p in evidence.rglob("*") if p.is_file())
    _open(files[0])
    files[0].write_bytes(b"forged")
    os.chmod(files[0], 0o444)
    _open(files[1])
    files[1].unlink()
    found = problems(store, evidence)
    assert any("alterados" in p and files[0].name[:12] in p for p in found), found
    assert any("faltan" in p and files[1].name[:12] in p for p in found), found
    with store.session() as session:  # --quick only sees what is missing
        quick = check_consistency(session, evidence, hash_files=False).problems
    assert not any("alterados" in p for p in quick) and any("faltan" in p for p in quick)


def test_the_evidence_store_folders_are_read_only_and_still_take_new_files(tmp_path):
    store = EvidenceStore(tmp_path / "ev")
    first, _ = store.put(b"one")
    second, new = store.put(b"two")
    assert new and store.read(first) == b"one" and store.read(second) == b"two"
    for path in [store.root, *store.root.rglob("*")]:
        mode = stat.S_IMODE(path.stat().st_mode)
        assert mode & 0o222 == 0, f"{path} is writable ({oct(mode)})"
    # A folder that already exists takes a new entry (it is opened and closed again).
    sha = first[:4] + "0" * 60
    store._write(store.path_for(sha), b"x")
    assert stat.S_IMODE(store.path_for(sha).parent.stat().st_mode) & 0o222 == 0
    assert store.put(b"one") == (first, False)
    remove_store(store.root)
    assert not store.root.exists()


def test_veedor_check_exits_1_and_names_the_altered_original(scanned, tmp_path):
    _store, evidence = scanned
    target = next(p for p in evidence.rglob("*") if p.is_file())
    _open(target)
    target.write_bytes(b"forged")
    env = {**os.environ, "PYTHONPATH": str(ROOT / "src")}
    run = subprocess.run(
        [
            sys.executable,
            "-m",
            "veedor",
            "check",
            "--db",
            str(tmp_path / "v.db"),
            "--evidence",
            str(evidence),
        ],
        capture_output=True,
        text=True,
        env=env,
    )
    assert run.returncode == 1, run.stderr
    assert target.name[:12] in run.stderr and "Traceback" not in run.stderr
