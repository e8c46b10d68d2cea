"""A scan runs the pasted-QR detector on every acta whose QR it reads: a real acta carrying
another acta's QR pasted on is not counted without a person, with the reason, and its genuine
original still is."""

from __future__ import annotations

import io

import cv2
import numpy as np
from sqlalchemy import select

from conftest import ACTAS
from veedor.pipeline.scan import scan_paths
from veedor.pipeline.worker import QR_PASTED
from veedor.read import forensics as fx
from veedor.simulate import tamper
from veedor.store.schema import CheckRecord, Image

TARGET, DONOR = "784821_489421_0129Acta0128.jpg", "408106_191008_0364Acta0351.jpg"


def load(name: str) -> np.ndarray:
    return np.asarray(cv2.imread(str(next(ACTAS.glob(f"*/{name}"))), cv2.IMREAD_GRAYSCALE))


def test_a_pasted_qr_sends_its_copy_to_people_and_the_original_is_still_counted(store, definition, tmp_path):
    target, donor = tamper.sheet(load(TARGET)), tamper.sheet(load(DONOR))
    assert target is not None and donor is not None
    forged = None
    for seed in range(8):  # the first paste of the tuning split the detector sees
        image, _kind = tamper.paste_qr(
            target, donor, tamper.TUNING, np.random.default_rng([7, seed]), definition
        )
        located = tamper.sheet(image)
        if located is not None and fx.pasted_qr(located.gray, located.quad).suspicious:
            forged = image
            break
    assert forged is not None
    folder = tmp_path / "in"
    folder.mkdir()
    cv2.imwrite(str(folder / "forged.png"), forged)
    cv2.imwrite(str(folder / "genuine.png"), load(TARGET))
    scan_paths([folder], store, evidence_root=tmp_path / "ev", workers=1, report=io.StringIO())
    with store.session() as session:
        checks = {
            (name, passed): reason
            for name, passed, reason in session.execute(
                select(Image.status, CheckRecord.passed, CheckRecord.detail)
                .join(CheckRecord, CheckRecord.sha256 == Image.sha256)
                .where(CheckRecord.name == QR_PASTED)
            )
        }
    assert ("ok", True) in checks, checks  # the genuine acta: looked at, and counted
    failed = [reason for (status, passed), reason in checks.items() if not passed and status == "review"]
    assert failed and "QR pegado" in failed[0] and "pasted QR?" in failed[0]
