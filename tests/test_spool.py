"""A processing centre offline: ``veedor scan --spool`` reads into a folder, ``veedor push``
sends it to the central store when the link is back, twice or after a cut without a duplicate,
and the central store says which centre sent what and when."""

from __future__ import annotations

import hashlib
import json
import os
from dataclasses import replace
from pathlib import Path

import pytest
from sqlalchemy import func, insert, select

import testdb
from conftest import ACTAS, ROOT
from veedor.capture.evidence import EvidenceStore
from veedor.model import ActaCounts, CheckResult, Copy, FileOutcome, Grade, ImageFacts, Reading, Status
from veedor.pipeline.scan import scan_paths
from veedor.pipeline.spool import (
    Spool,
    SpoolError,
    centres,
    outcome_from_dict,
    outcome_to_dict,
    push,
    spool_scan,
)
from veedor.store import open_store
from veedor.store.consistency import check_consistency
from veedor.store.schema import (
    ActaRecord,
    CentreImage,
    CentrePush,
    Decision,
    Evidence,
    GeoUnit,
    Image,
    ImageName,
    MesaEvent,
)
from veedor.store.schema import (
    Reading as ReadingRow,
)

DEFINITION = "ve-2024-presidential"


def fake_outcome(n: int, centre: str = "010101001", mesa: int = 1, name: str | None = None) -> FileOutcome:
    """An image's outcome as a reading would give it (the bytes are not an image: push does not
    read them, it records what the centre read)."""
    data = f"acta {n}".encode()
    sha = hashlib.sha256(data).hexdigest()
    votes = (
        10 + n,
        5,
        0,
        0,
        0,
        0,
        0,
        0,
        0,
        0,
        0,
        0,
        0,
        0,
        0,
        0,
        0,
        0,
        0,
        0,
        0,
        0,
        0,
        0,
        0,
        0,
        0,
        0,
        0,
        0,
        0,
        0,
        0,
        0,
        0,
        0,
        0,
        0,
    )
    acta = ActaCounts(f"id{n}", centre, mesa, votes, 1, {"blank": 0})
    return FileOutcome(
        name or f"/scans/acta{n}.jpg",
        sha,
        Status.OK,
        None,
        acta,
        (Reading("qr", "zxing-cpp", "full", f"QR {n}", 3.0), Reading("print", "ocr", "digits", None, 9.0)),
        (CheckResult("counts_non_negative", True, "ok"),),
        facts=ImageFacts(sha, len(data), "jpeg", 640, 6400, {"exif": {"Model": "x"}}),
        source="qr",
        copy=Copy(Grade.CONFIRMED, acta.acta_id, centre, mesa, votes, 1, {"blank": 0}, "qr", (10 + n, 5), 1),
        ms=12.5,
    )


def make_spool(folder: Path, outcomes: list[FileOutcome], centre: str = "centro-norte") -> Spool:
    spool = Spool.create_or_open(folder, DEFINITION, centre)
    store = EvidenceStore(spool.evidence)
    for n, outcome in enumerate(outcomes):
        if not outcome.duplicate_of:
            store.put(f"acta {n}".encode())
    spool.append(outcomes)
    return spool


@pytest.fixture(autouse=True)
def _ballot(definition):
    # The fake outcomes above carry as many positions as the definition's ballot.
    assert len(definition.ballot) == 38


def test_an_outcome_survives_the_journal_whole():
    outcome = fake_outcome(1)
    back = outcome_from_dict(json.loads(json.dumps(outcome_to_dict(outcome))))
    assert back == outcome
    assert back.winning_reading == outcome.winning_reading


@pytest.mark.parametrize(
    "damage",
    [
        lambda d: d.update(sha256="../../etc/passwd"),
        lambda d: d.update(status="counted"),
        lambda d: d["copy"].update(grade="excellent"),
        lambda d: d["acta"].update(votes="many"),
        lambda d: d.pop("file"),
    ],
)
def test_a_damaged_journal_line_is_refused(damage):
    data = outcome_to_dict(fake_outcome(1))
    damage(data)
    with pytest.raises((KeyError, TypeError, ValueError)):
        outcome_from_dict(data)


def test_a_half_line_from_a_kill_is_cut_and_a_bad_line_is_said(tmp_path):
    spool = make_spool(tmp_path / "s", [fake_outcome(0), fake_outcome(1)])
    with open(spool.journal, "a", encoding="utf-8") as handle:
        handle.write('{"read_at": null, "outcome": 7}\n{"read_at": "2024-07-28T1')  # a kill mid-line
    problems: list[str] = []
    assert len(list(spool.entries(problems))) == 2
    assert len(problems) == 1 and "line 3" in problems[0]
    again = Spool.create_or_open(tmp_path / "s", DEFINITION)
    assert again.journal.read_bytes().endswith(b"}\n")  # the half line is gone
    again.append([fake_outcome(2)])
    assert [e.outcome.sha256 for e in again.entries()] == [fake_outcome(n).sha256 for n in range(3)]


def test_a_spool_of_another_election_or_no_spool_is_refused(tmp_path):
    make_spool(tmp_path / "s", [fake_outcome(0)])
    with pytest.raises(SpoolError, match="another election"):
        Spool.create_or_open(tmp_path / "s", "hn-2025-presidential")
    with pytest.raises(SpoolError, match="not a spool"):
        Spool.open(tmp_path / "nothing")


def counts(session) -> dict[str, int]:
    tables = (Image, ImageName, ReadingRow, Decision, Evidence, ActaRecord, MesaEvent, CentreImage)
    return {t.__tablename__: session.scalar(select(func.count()).select_from(t)) for t in tables}


def test_push_twice_stores_everything_once_and_says_who_sent_it(tmp_path, store):
    outcomes = [fake_outcome(0), fake_outcome(1, mesa=2), fake_outcome(2, mesa=2)]
    second_name = replace(outcomes[0], file="/scans/copy-of-acta0.jpg", duplicate_of=outcomes[0].sha256)
    spool = make_spool(tmp_path / "s", [*outcomes, second_name])
    evidence = tmp_path / "central-evidence"
    first = push(spool.root, store, evidence_root=evidence)
    assert (first.images, first.stored, first.known, first.problems) == (3, 3, 0, [])
    with store.session() as session:
        after_first = counts(session)
        assert after_first["images"] == 3 and after_first["image_names"] == 4
        assert after_first["centre_images"] == 3
        states = dict(session.execute(select(ActaRecord.mesa, ActaRecord.status)).all())
        # mesa 2: two copies with different numbers: a conflict, as a scan here would find.
        assert states == {1: "ok", 2: "conflict"}
    second = push(spool.root, store, evidence_root=evidence)
    assert (second.images, second.stored, second.known) == (3, 0, 3)
    with store.session() as session:
        assert counts(session) == after_first
        rows = session.scalars(select(CentreImage)).all()
        assert {r.centre for r in rows} == {"centro-norte"}
        assert all(r.read_at is not None and r.pushed_at >= r.read_at for r in rows)
        pushes = session.scalars(select(CentrePush).order_by(CentrePush.id)).all()
        assert [(p.images, p.known) for p in pushes] == [(3, 0), (0, 3)]
        assert all(p.finished_at is not None for p in pushes)
        [row] = centres(session)
        assert (row.centre, row.pushes, row.images) == ("centro-norte", 2, 3)
        assert check_consistency(session, evidence).problems == []
    for outcome in outcomes:
        assert EvidenceStore(evidence).read(outcome.sha256) == EvidenceStore(spool.evidence).read(
            outcome.sha256
        )


def test_a_second_centre_sending_the_same_image_is_noted_not_stored_again(tmp_path, store):
    evidence = tmp_path / "central-evidence"
    push(make_spool(tmp_path / "a", [fake_outcome(0)], "a").root, store, evidence_root=evidence)
    summary = push(make_spool(tmp_path / "b", [fake_outcome(0)], "b").root, store, evidence_root=evidence)
    assert (summary.stored, summary.known) == (0, 1)
    with store.session() as session:
        assert session.scalar(select(func.count()).select_from(Image)) == 1
        assert sorted(session.scalars(select(CentreImage.centre))) == ["a", "b"]


def test_a_push_cut_off_is_completed_by_the_next(tmp_path, store, monkeypatch):
    import veedor.pipeline.spool as spool_module

    outcomes = [fake_outcome(n, mesa=n + 1) for n in range(5)]
    spool = make_spool(tmp_path / "s", outcomes)
    monkeypatch.setattr(spool_module, "PUSH_BATCH", 2)
    real_commit = spool_module._commit
    calls = {"n": 0}

    def cut(*args, **kwargs):
        calls["n"] += 1
        if calls["n"] == 2:
            raise ConnectionError("link down")
        return real_commit(*args, **kwargs)

    monkeypatch.setattr(spool_module, "_commit", cut)
    with pytest.raises(ConnectionError):
        push(spool.root, store, evidence_root=tmp_path / "ev")
    monkeypatch.setattr(spool_module, "_commit", real_commit)
    summary = push(spool.root, store, evidence_root=tmp_path / "ev")
    assert (summary.stored, summary.known) == (3, 2)
    with store.session() as session:
        assert session.scalar(select(func.count()).select_from(Image)) == 5
        assert session.scalar(select(func.count()).select_from(CentreImage)) == 5


def test_missing_or_altered_evidence_is_not_pushed_and_is_said(tmp_path, store):
    spool = make_spool(tmp_path / "s", [fake_outcome(0), fake_outcome(1, mesa=2)])
    victim = EvidenceStore(spool.evidence).path_for(fake_outcome(1).sha256)
    os.chmod(victim.parent, 0o700)
    victim.unlink()
    summary = push(spool.root, store, evidence_root=tmp_path / "ev")
    assert summary.stored == 1 and len(summary.problems) == 1 and "acta1" in summary.problems[0]
    with store.session() as session:
        assert session.scalar(select(func.count()).select_from(Image)) == 1


def test_the_central_registry_sends_what_the_centre_could_not_check_to_review(tmp_path, store, definition):
    with store.session() as session:  # the central store knows the registry; the centre did not
        session.execute(
            insert(GeoUnit),
            [
                {
                    "election": DEFINITION,
                    "code": "010101001",
                    "level": definition.levels[-1].name,
                    "mesas_total": 1,
                    "source": "registry",
                }
            ],
        )
        session.commit()
    good, unknown_mesa = fake_outcome(0), fake_outcome(1, mesa=7)
    summary = push(
        make_spool(tmp_path / "s", [good, unknown_mesa]).root, store, evidence_root=tmp_path / "ev"
    )
    assert summary.rechecked == 1
    with store.session() as session:
        status = dict(session.execute(select(Image.sha256, Image.status)).all())
        assert status == {good.sha256: "ok", unknown_mesa.sha256: "review"}
        grade = session.scalar(select(Evidence.grade).where(Evidence.sha256 == unknown_mesa.sha256))
        assert grade == "partial"  # evidence for a person, never counted
        mesa7 = session.scalar(select(ActaRecord).where(ActaRecord.mesa == 7))
        assert mesa7.status != "ok" and mesa7.votes is None


@pytest.mark.slow
def test_spool_then_push_twice_gives_what_a_scan_there_gives(tmp_path, store, db_url):
    """The real actas: read into a spool with the CLI, pushed twice with the CLI; the central
    store holds what a scan on it holds, once."""
    import subprocess
    import sys

    images = sorted(ACTAS.glob("*/*.jpg"))[:3]
    env = {**os.environ, "PYTHONPATH": str(ROOT / "src"), "VEEDOR_CENTRE": "centro-sur"}
    veedor = [sys.executable, "-m", "veedor"]
    folder = tmp_path / "in"
    folder.mkdir()
    for image in images:
        (folder / image.name).write_bytes(image.read_bytes())
    spooled = subprocess.run(
        [*veedor, "scan", str(folder), "--spool", str(tmp_path / "spool"), "-w", "1"],
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert spooled.returncode == 0, spooled.stderr[-2000:]
    assert "veedor push" in spooled.stderr
    # Read again into the same spool: nothing read twice.
    again = spool_scan([folder], tmp_path / "spool", definition_id=DEFINITION, workers=1)
    assert again.duplicates == len(images)
    evidence = tmp_path / "central-ev"
    for _ in range(2):
        pushed = subprocess.run(
            [*veedor, "push", str(tmp_path / "spool"), "--db", db_url, "--evidence", str(evidence)],
            env=env,
            capture_output=True,
            text=True,
            timeout=600,
        )
        assert pushed.returncode == 0, pushed.stderr[-2000:]
    direct_url = testdb.db_url(tmp_path / "direct")
    try:
        direct = open_store(direct_url)
        scan_paths(
            [folder], direct, definition_id=DEFINITION, evidence_root=tmp_path / "direct-ev", workers=1
        )
        assert snapshot(store) == snapshot(direct)
        direct.engine.dispose()
    finally:
        testdb.drop(direct_url)
    with store.session() as session:
        assert session.scalar(select(func.count()).select_from(ImageName)) == len(images)
        assert set(session.scalars(select(CentreImage.centre))) == {"centro-sur"}
        assert check_consistency(session, evidence).problems == []


def snapshot(store) -> dict[str, object]:
    """What a scan decided, without its times: per image and per mesa."""
    with store.session() as session:
        images = {i.sha256: (i.status, i.reason, i.size, i.format) for i in session.scalars(select(Image))}
        evidence = {
            e.sha256: (e.grade, e.votes, e.nulos, e.printed) for e in session.scalars(select(Evidence))
        }
        mesas = {
            (a.centre, a.mesa): (a.status, a.votes, a.nulos, a.reason)
            for a in session.scalars(select(ActaRecord))
        }
        readings = sorted(
            (r.sha256, r.source, r.engine, r.variant, untimed(r.text), r.accepted)
            for r in session.scalars(select(ReadingRow).where(ReadingRow.text.is_not(None)))
        )
    return {"images": images, "evidence": evidence, "mesas": mesas, "readings": readings}


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


def test_push_and_centres_from_the_command_line(tmp_path, db_url):
    from typer.testing import CliRunner

    from veedor.cli import app

    open_store(db_url).engine.dispose()  # the central store exists (push never makes one)
    spool = make_spool(tmp_path / "s", [fake_outcome(0), fake_outcome(1, mesa=2)], "centro-este")
    runner = CliRunner()
    pushed = runner.invoke(
        app, ["--lang", "en", "push", str(spool.root), "--db", db_url, "--evidence", str(tmp_path / "ev")]
    )
    assert pushed.exit_code == 0, pushed.output
    assert "centro-este: 2 images in the spool; stored now 2" in pushed.output
    listed = runner.invoke(app, ["--lang", "en", "centres", "--db", db_url])
    assert listed.exit_code == 0 and "centro-este" in listed.output, listed.output
    refused = runner.invoke(app, ["--lang", "en", "push", str(tmp_path / "nothing"), "--db", db_url])
    assert refused.exit_code == 2 and "not a spool" in refused.output
    assert "Traceback" not in refused.output
