"""Hostile input in one run mixed with good files: each gets a clear reason, the good are read."""

from __future__ import annotations

import io
import json
import os
import shutil
from pathlib import Path

import cv2
import numpy as np
import pytest
from sqlalchemy import func, select

from conftest import ACTAS, CENTRES
from imaging import payload, png_bomb, qr_image, write
from veedor.ingest.registry import import_registry
from veedor.pipeline.scan import scan_paths
from veedor.store.schema import ActaRecord, Evidence, Image

GOOD = "017911_018022_0093Acta0093.jpg"


@pytest.fixture(scope="module")
def bomb(tmp_path_factory) -> Path:
    return png_bomb(tmp_path_factory.mktemp("bomb") / "bomb.png")


@pytest.fixture
def hostile_folder(tmp_path, bomb) -> Path:
    folder = tmp_path / "in"
    folder.mkdir()
    real = next(ACTAS.glob(f"*/{GOOD}"))
    shutil.copy(real, folder / "good.jpg")
    data = real.read_bytes()
    (folder / "truncated.jpg").write_bytes(data[: len(data) // 2])
    (folder / "notes.jpg").write_text("esto no es una imagen\n")
    (folder / "empty.jpg").write_bytes(b"")
    gray = cv2.imread(str(real), cv2.IMREAD_GRAYSCALE)
    write(folder / "acta.png", gray, ".png")
    write(folder / "acta.tif", cv2.resize(gray, None, fx=1.0, fy=1.0), ".tif")
    shutil.copy(bomb, folder / "bomb.png")
    write(folder / "url.png", qr_image("https://example.org/acta/123"))
    write(folder / "short.png", qr_image(payload(votes=[1] * 37)))
    write(folder / "negative.png", qr_image(payload(mesa=3, votes=[1] * 37 + [-3])))
    write(folder / "nonnumeric.png", qr_image(payload().replace(",1,1,", ",1,x,", 1)))
    write(folder / "unknown-centre.png", qr_image(payload(centre="999999999")))
    # Two codes of the same mesa with different numbers (a sticker beside the real QR).
    pasted = np.hstack(
        [
            qr_image(payload(mesa=4), canvas=(700, 560)),
            qr_image(payload(mesa=4, votes=[2] + [1] * 37), canvas=(700, 560)),
        ]
    )
    write(folder / "two-codes.png", pasted)
    locked = folder / "locked"
    locked.mkdir()
    write(locked / "inside.png", qr_image(payload(mesa=2)))
    loops = folder / "loops"
    loops.mkdir()
    os.symlink("..", loops / "parent")
    os.symlink("self", loops / "self")
    return folder


def scan(store, folder, tmp_path, monkeypatch):
    locked = folder / "locked"
    os.chmod(locked, 0)
    if os.geteuid() == 0:
        # Root reads any folder, so make the OS answer as it does for everyone else.
        real_scandir = os.scandir

        def scandir(path):  # type: ignore[no-untyped-def]
            if Path(path) == locked:
                raise PermissionError(13, "Permission denied", str(path))
            return real_scandir(path)

        monkeypatch.setattr(os, "scandir", scandir)
    report = io.StringIO()
    try:
        summary = scan_paths([folder], store, evidence_root=tmp_path / "ev", workers=2, report=report)
    finally:
        os.chmod(locked, 0o755)
    return summary, {
        str(Path(r["file"]).relative_to(folder)): r for r in map(json.loads, report.getvalue().splitlines())
    }


def test_hostile_mix(store, hostile_folder, tmp_path, definition, monkeypatch):
    with store.session() as session:
        import_registry(session, CENTRES, definition)
        session.commit()
    summary, by = scan(store, hostile_folder, tmp_path, monkeypatch)

    def expect(name, status, *fragments):
        record = by[name]
        assert record["status"] == status, (name, record)
        for fragment in fragments:
            assert fragment in (record["reason"] or ""), (name, record["reason"])

    for good in ("good.jpg", "acta.png", "acta.tif"):
        expect(good, "ok")
        assert by[good]["acta"]["totals"]["EG"] == 357
    expect("truncated.jpg", "rejected", "truncated")
    expect("notes.jpg", "rejected", "not an image")
    expect("empty.jpg", "rejected", "empty file")
    expect("bomb.png", "rejected", "decompression bomb")
    expect("url.png", "review", "URL")
    expect("short.png", "review", "positions_count", "37 of 38")
    expect("negative.png", "review", "counts_non_negative")
    expect("nonnumeric.png", "review", "not an integer")
    expect("unknown-centre.png", "review", "centre_in_registry", "not found")
    expect("locked", "rejected", "permission")
    expect("two-codes.png", "review", "several different acta QR codes")
    assert by["two-codes.png"]["acta"] is None
    assert by["loops/self"]["status"] == "rejected" and "symlink" in by["loops/self"]["reason"]
    assert "loop" in by["loops/parent"]["reason"]
    # The good acta was seen three times (JPEG, PNG, TIFF): one mesa, three pieces of evidence.
    with store.session() as session:
        actas = session.scalars(select(ActaRecord)).all()
        ok = [a for a in actas if a.status == "ok"]
        assert [(a.centre, a.mesa) for a in ok] == [("040202001", 1)]
        assert (
            session.scalar(select(func.count()).select_from(Evidence).where(Evidence.acta_pk == ok[0].id))
            == 3
        )
        images = session.scalar(select(func.count()).select_from(Image))
    assert images == len([r for r in by.values() if r["sha256"]])
    assert summary.files == len(by)


def test_cli_exit_code_is_zero_with_rejections(tmp_path):
    from typer.testing import CliRunner

    from veedor.cli import app

    folder = tmp_path / "in"
    folder.mkdir()
    (folder / "x.jpg").write_text("nope")
    result = CliRunner().invoke(
        app, ["scan", str(folder), "--db", str(tmp_path / "v.db"), "--jsonl", "-", "--workers", "1"]
    )
    assert result.exit_code == 0, result.output
    line = json.loads(next(ln for ln in result.stdout.splitlines() if ln.startswith("{")))
    assert line["status"] == "rejected"


def test_cli_cannot_run_is_nonzero(tmp_path):
    from typer.testing import CliRunner

    from veedor.cli import app

    result = CliRunner().invoke(
        app,
        [
            "scan",
            str(tmp_path),
            "--db",
            str(tmp_path / "v.db"),
            "--definition",
            str(tmp_path / "missing.json"),
        ],
    )
    assert result.exit_code != 0
    assert "definition not found" in result.output


def test_a_file_name_that_is_not_utf8_is_read_and_reported(store, tmp_path):
    """A zip from Windows leaves cp1252 bytes in names; one such name killed the whole scan."""
    import io
    import json
    import os

    from imaging import payload, qr_image, write

    folder = tmp_path / "in"
    folder.mkdir()
    write(folder / "plain.png", qr_image(payload(mesa=1)))
    odd = os.path.join(os.fsencode(folder), b"acta-mesa-\xe9.png")
    write(tmp_path / "x.png", qr_image(payload(mesa=2)))
    os.rename(tmp_path / "x.png", odd)
    report = io.StringIO()
    summary = scan_paths([folder], store, evidence_root=tmp_path / "ev", workers=1, report=report)
    lines = [json.loads(x) for x in report.getvalue().splitlines()]
    assert summary.files == 2 and {x["grade"] for x in lines} == {"qr_only"}
    assert any(x["file"].endswith("acta-mesa-\ufffd.png") for x in lines)
