"""Scanning the 23 real actas: exact numbers, one record per mesa, nothing counted twice."""

from __future__ import annotations

import io
import json
import shutil
from pathlib import Path

import pytest
from sqlalchemy import func, select

from conftest import ACTAS, CENTRES, V1
from imaging import qr_image, write
from veedor.ingest.registry import import_registry
from veedor.pipeline.scan import scan_paths
from veedor.read.print.recognise import DEFAULT
from veedor.store.schema import ActaRecord, Evidence, Image, ImageName, Reading
from veedor.tally import tally


def run_scan(store, paths, tmp_path, workers=2):
    report = io.StringIO()
    summary = scan_paths(paths, store, evidence_root=tmp_path / "evidence", workers=workers, report=report)
    lines = [json.loads(line) for line in report.getvalue().splitlines()]
    return summary, {Path(r["file"]).name: r for r in lines}, lines


@pytest.fixture(scope="module")
def scanned(tmp_path_factory, definition):
    from veedor.store import open_store

    tmp = tmp_path_factory.mktemp("real")
    store = open_store(str(tmp / "v.db"))
    with store.session() as session:
        import_registry(session, CENTRES, definition)
        import_registry(session, V1, definition)
        session.commit()
    images = sorted(ACTAS.glob("*/*.jpg"))
    summary, by_name, lines = run_scan(store, images, tmp)
    return store, tmp, summary, by_name, lines


def test_real_actas_exact_numbers(scanned, qr_truth, v1_rows, definition):
    _, _, summary, by_name, lines = scanned
    assert len(lines) == 23
    for key, text in qr_truth.items():
        record = by_name[Path(key).name]
        assert record["status"] == "ok", (key, record["reason"])
        acta = record["acta"]
        if text is None:
            # No decoder reads its QR: the numbers come from the print, and must be V1's mesa.
            assert record["source"] == "print"
            assert (acta["centro"], acta["mesa"]) == ("070704017", 3)
            assert acta["nulos"] == int(v1_rows[("070704017", 3)]["VOTOS_NULOS"])
        else:
            assert record["source"] == "qr"
            assert f"{acta['acta_id']}!{','.join(map(str, acta['votes']))}!{acta['nulos']}!0" == text
            assert "qr_print_mismatch" in {c["name"] for c in record["checks"] if c["passed"]}
        row = v1_rows[(acta["centro"], acta["mesa"])]
        assert {c: int(row[c]) for c in definition.candidate_codes} == acta["totals"]
        assert sum(acta["totals"].values()) == int(row["VOTOS_VALIDOS"])
        assert record["sha256"] and record["ms"] > 0
        expected = {"positions_count", "counts_non_negative", "centre_in_registry", "votes_within_electors"}
        if record["source"] == "qr":
            expected.add("blank_is_zero")  # the print has no fourth field
        assert {c["name"] for c in record["checks"]} >= expected
    assert summary.by_status["ok"] == 23


def test_report_contract(scanned):
    _, _, _, _, lines = scanned
    keys = {"file", "sha256", "status", "reason", "acta", "source", "checks", "duplicate_of", "ms"}
    for record in lines:
        assert keys <= set(record)
        assert record["status"] in {"ok", "review", "rejected"}
        if record["status"] != "ok":
            assert record["reason"]


def test_every_number_is_traceable(scanned):
    store, tmp, *_ = scanned
    with store.session() as session:
        for acta in session.scalars(select(ActaRecord)):
            evidence = session.scalars(select(Evidence).where(Evidence.acta_pk == acta.id)).all()
            assert evidence
            for item in evidence:
                reading = session.get(Reading, item.reading_id)
                assert reading.accepted and reading.variant and reading.text
                assert reading.engine.startswith("zxing-cpp" if reading.source == "qr" else "rapidocr")
                assert (tmp / "evidence" / item.sha256[:2] / item.sha256[2:4] / item.sha256).is_file()


def test_a_print_reading_names_every_engine_that_read_it(scanned):
    """With the QR read, the print's first look at the digits is acta-rec's (by default): the
    reading's engine names it beside PP-OCR, with versions. Without a QR, PP-OCR alone."""
    store, *_ = scanned
    with store.session() as session:
        readings = session.scalars(select(Reading)).all()
    with_qr = {r.sha256 for r in readings if r.source == "qr" and r.text}
    printed = [r for r in readings if r.source == "print" and r.text]
    assert {r.sha256 for r in printed} & with_qr and {r.sha256 for r in printed} - with_qr
    for reading in printed:
        first = reading.sha256 in with_qr and DEFAULT["first"] == "acta"
        assert ("first look at the digits: acta-rec 2" in reading.engine) == first, reading.engine


def test_rescan_is_a_noop(scanned, tmp_path):
    store, tmp, *_ = scanned
    with store.session() as session:
        before = (
            session.scalar(select(func.count()).select_from(Image)),
            session.scalar(select(func.count()).select_from(Evidence)),
        )
    _, by_name, _ = run_scan(store, [ACTAS], tmp)
    assert all(
        r["duplicate_of"] == r["sha256"]
        for r in by_name.values()
        if r["sha256"] and r["file"].endswith(".jpg")
    )
    with store.session() as session:
        after = (
            session.scalar(select(func.count()).select_from(Image)),
            session.scalar(select(func.count()).select_from(Evidence)),
        )
        national = tally(session, scan_definition(), "national").rows[0]
    assert after[0] == before[0] + 3  # only the three non-image files are new
    assert after[1] == before[1]
    assert national.actas == 23


def scan_definition():
    from veedor.definitions import load_definition

    return load_definition("ve-2024-presidential")


def test_copies_and_conflicts(store, tmp_path, definition):
    real = next(ACTAS.glob("*/017911_018022_0093Acta0093.jpg"))
    folder = tmp_path / "in"
    folder.mkdir()
    shutil.copy(real, folder / "a.jpg")
    shutil.copy(real, folder / "same-bytes.jpg")
    # A picture of the QR alone with the same numbers: unverified by a print, but it agrees, so
    # it adds evidence without demoting the verified acta.
    same = "040202001.01.1.0001!87,5,4,1,4,0,1,4,4,0,0,0,4,0,1,0,0,1,0,1,0,0,1,0,0,0,1,0,1,0,2,0,0,5,20,332,0,3!1!0"
    write(folder / "rescan.png", qr_image(same))
    _, by_name, _ = run_scan(store, [folder], tmp_path, workers=1)
    assert by_name["same-bytes.jpg"]["duplicate_of"] or by_name["a.jpg"]["duplicate_of"]
    assert by_name["rescan.png"]["status"] == "review"
    assert "print_found" in by_name["rescan.png"]["reason"]
    with store.session() as session:
        acta = session.scalars(select(ActaRecord)).one()
        assert acta.status == "ok"
        assert session.scalar(select(func.count()).select_from(Evidence)) == 2
        assert session.scalar(select(func.count()).select_from(ImageName)) == 3
    # Now a sheet of the same mesa with moved votes: conflict, nothing of it counted.
    moved = same.replace("!87,5,", "!97,5,").replace(",332,", ",322,")
    write(folder / "other-numbers.png", qr_image(moved))
    _, by_name, _ = run_scan(store, [folder / "other-numbers.png"], tmp_path, workers=1)
    # The file keeps its own decision; its mesa's state (and why) is reported beside it.
    line = by_name["other-numbers.png"]
    assert line["status"] == "review" and line["grade"] == "qr_only"
    assert line["mesa"]["state"] == "conflict" and not line["mesa"]["counted"]
    assert line["mesa"]["changed_from"] == "ok" and "versiones" in line["mesa"]["reason"]
    with store.session() as session:
        acta = session.scalars(select(ActaRecord)).one()
        assert acta.status == "conflict"
        assert tally(session, definition, "national").rows == []
        assert session.scalar(select(func.count()).select_from(Evidence)) == 3  # both readings kept
