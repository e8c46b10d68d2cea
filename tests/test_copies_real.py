"""Copies of a real acta, read for real: the witness's QR photo, the scan, a forged sheet,
and a re-read of stored evidence with a newer reader."""

from __future__ import annotations

import io
import json

import cv2
import numpy as np
import pytest
from sqlalchemy import func, select
from typer.testing import CliRunner

from conftest import ACTAS
from imaging import write
from veedor.cli import app
from veedor.definitions.parsers import parse_payload
from veedor.pipeline.scan import scan_paths
from veedor.simulate import degrade as deg
from veedor.store.schema import ActaRecord, Decision, EvidenceArchive, MesaEvent, Reading
from veedor.tally import tally

pytestmark = pytest.mark.slow
REAL = "017911_018022_0093Acta0093.jpg"


def scan(store, paths, tmp_path, **kw):
    report = io.StringIO()
    scan_paths(paths, store, evidence_root=tmp_path / "evidence", workers=1, report=report, **kw)
    return {json.loads(x)["file"].rsplit("/", 1)[-1]: json.loads(x) for x in report.getvalue().splitlines()}


def test_a_forged_copy_and_a_qr_photo_do_not_stop_the_genuine_scan_being_counted(
    store, tmp_path, definition, qr_truth
):
    real = next(ACTAS.glob(f"*/{REAL}"))
    truth = parse_payload(next(t for k, t in qr_truth.items() if k.endswith(REAL)), definition)
    gray = np.asarray(cv2.imread(str(real), cv2.IMREAD_GRAYSCALE))
    rng = np.random.default_rng(7)
    folder = tmp_path / "in"
    folder.mkdir()
    (folder / "scan.jpg").write_bytes(real.read_bytes())
    forged, forged_text = deg.tamper(gray, definition, rng)
    write(folder / "forged.png", forged)
    write(folder / "qr-photo.png", deg.degrade(gray, "phone_bottom", rng), ".jpg")
    lines = scan(store, [folder], tmp_path)
    assert lines["forged.png"]["grade"] == "contradictory"
    assert lines["qr-photo.png"]["grade"] == "qr_only"
    assert lines["scan.jpg"]["grade"] == "confirmed"
    with store.session() as session:
        (record,) = session.scalars(select(ActaRecord))
        assert record.status == "ok" and tuple(record.votes) == truth.votes
        assert [a["kind"] for a in record.alerts] == ["qr_print_mismatch"]
        assert record.alerts[0]["sha256"] == lines["forged.png"]["sha256"]
        assert tally(session, definition, "national").rows[0].actas == 1
    assert parse_payload(forged_text, definition).votes != truth.votes


def test_rescan_rereads_stored_evidence_and_recombines_without_counting_twice(store, tmp_path, definition):
    """Election night: QR only (fast). Later: read again with the print, from the evidence."""
    real = next(ACTAS.glob(f"*/{REAL}"))
    first = scan(store, [real], tmp_path, cross_check=False)[REAL]
    assert first["grade"] == "qr_only" and first["mesa"]["state"] == "unconfirmed"
    db = ["--db", store.url.removeprefix("sqlite:///"), "--evidence", str(tmp_path / "evidence")]
    with store.session() as session:
        assert tally(session, definition, "national").rows == []
        readings = session.scalar(select(func.count()).select_from(Reading))
    result = CliRunner().invoke(app, ["rescan", "--jsonl", "-", *db])
    assert result.exit_code == 0, result.output
    (line,) = [json.loads(x) for x in result.stdout.splitlines() if x.startswith("{")]
    assert line["grade"] == "confirmed" and line["mesa"]["changed_from"] == "unconfirmed"
    assert line["file"].endswith(REAL)  # named as it was found, not by its evidence path
    with store.session() as session:
        (record,) = session.scalars(select(ActaRecord))
        assert record.status == "ok"
        assert tally(session, definition, "national").rows[0].actas == 1
        assert session.scalar(select(func.count()).select_from(Reading)) > readings  # old ones kept
        assert session.scalar(select(func.count()).select_from(EvidenceArchive)) == 1
        assert [d.cause for d in session.scalars(select(Decision).order_by(Decision.id))] == [
            "scan",
            "rescan",
        ]
        events = [
            (e.previous, e.state, e.cause) for e in session.scalars(select(MesaEvent).order_by(MesaEvent.id))
        ]
        assert events == [(None, "unconfirmed", "scan"), ("unconfirmed", "ok", "rescan")]


def test_rescan_says_which_evidence_is_missing_and_changes_nothing(store, tmp_path):
    real = next(ACTAS.glob(f"*/{REAL}"))
    sha = scan(store, [real], tmp_path, cross_check=False)[REAL]["sha256"]
    stored = tmp_path / "evidence" / sha[:2] / sha[2:4] / sha
    stored.chmod(0o600)
    stored.write_bytes(b"replaced")
    db = ["--db", store.url.removeprefix("sqlite:///"), "--evidence", str(tmp_path / "evidence")]
    result = CliRunner().invoke(app, ["rescan", "--jsonl", "-", *db])
    assert result.exit_code == 0
    (line,) = [json.loads(x) for x in result.stdout.splitlines() if x.startswith("{")]
    assert line["status"] == "rejected" and "alterado" in line["reason"]
    with store.session() as session:
        assert session.scalar(select(ActaRecord.status)) == "unconfirmed"


def test_the_same_files_in_parallel_or_in_several_runs_give_the_same_mesas(tmp_path, definition):
    from imaging import payload, qr_image
    from veedor.store import open_store

    real = next(ACTAS.glob(f"*/{REAL}"))
    folder = tmp_path / "in"
    folder.mkdir()
    (folder / "scan.jpg").write_bytes(real.read_bytes())
    same = "040202001.01.1.0001!87,5,4,1,4,0,1,4,4,0,0,0,4,0,1,0,0,1,0,1,0,0,1,0,0,0,1,0,1,0,2,0,0,5,20,332,0,3!1!0"
    write(folder / "witness.png", qr_image(same))
    write(folder / "forged.png", qr_image(same.replace("!87,5,", "!86,6,")))  # a forged QR photo
    for mesa in (2, 3):
        write(folder / f"m{mesa}-a.png", qr_image(payload(mesa=mesa)))
        write(folder / f"m{mesa}-b.png", qr_image(payload(mesa=mesa, nulos=mesa - 2)))
    files = sorted(folder.iterdir())

    def states(store):
        with store.session() as session:
            mesas = {
                (r.mesa, r.status, str(r.votes), str(r.alerts)) for r in session.scalars(select(ActaRecord))
            }
            return mesas, [(r.votes, r.actas) for r in tally(session, definition, "national").rows]

    parallel = open_store(str(tmp_path / "parallel.db"))
    scan_paths(files, parallel, evidence_root=tmp_path / "ev", workers=2)
    runs = open_store(str(tmp_path / "runs.db"))
    for part in (files[::-1][:3], files[::-1][3:]):
        scan_paths(part, runs, evidence_root=tmp_path / "ev", workers=1)
    assert states(parallel) == states(runs)
    mesas = {m[0]: m[1] for m in states(runs)[0]}
    assert mesas == {1: "conflict", 2: "unconfirmed", 3: "conflict"}


@pytest.mark.parametrize("kind", ["pdf", "tiff"])
def test_every_page_of_a_scanners_pdf_or_tiff_is_its_own_evidence(store, tmp_path, kind):
    """Two actas scanned into one file: two pieces of evidence, named by file and page."""
    from PIL import Image

    names = [REAL, "784821_489421_0129Acta0128.jpg"]
    sheets = [Image.open(next(ACTAS.glob(f"*/{n}"))).convert("L") for n in names]
    folder = tmp_path / "in"
    folder.mkdir()
    path = folder / f"scanner.{'pdf' if kind == 'pdf' else 'tif'}"
    extra = {"resolution": 200.0} if kind == "pdf" else {"compression": "tiff_deflate"}
    sheets[0].save(path, save_all=True, append_images=sheets[1:], **extra)
    lines = scan(store, [folder], tmp_path)
    assert set(lines) == {f"{path.name}#page=1", f"{path.name}#page=2"}
    assert {line["status"] for line in lines.values()} == {"ok"}
    whole = __import__("hashlib").sha256(path.read_bytes()).hexdigest()
    assert (tmp_path / "evidence" / whole[:2] / whole[2:4] / whole).is_file()  # the file kept whole
    from veedor.store.schema import Image as ImageRow

    with store.session() as session:
        assert session.scalar(select(func.count()).select_from(ActaRecord)) == 2
        metas = [i.metadata_json for i in session.scalars(select(ImageRow))]
        assert sorted(m["page"] for m in metas) == [1, 2] and {m["source_sha256"] for m in metas} == {whole}
    again = scan(store, [folder], tmp_path)  # the same file again: nothing stored twice
    assert all(line["duplicate_of"] for line in again.values())
