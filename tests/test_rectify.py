"""Phone photos of real actas: the printed table is found on a rectified view, and the full
decision (QR + print) ends ok with exactly the acta's numbers; a tampered QR is still caught.

Images are made in memory from samples/actas with the simulator's damage families (and a
quarter turn, which no family makes); each case below is one where the plain image gives
no table, so the pass is the rectifier's.
"""

from __future__ import annotations

import time
from pathlib import Path

import cv2
import numpy as np
import pytest

from veedor.definitions import ElectionDefinition
from veedor.definitions.parsers import parse_payload
from veedor.model import Status
from veedor.pipeline.worker import read_print_views
from veedor.read.acta import read_qr
from veedor.read.print.checks import QR_PRINT
from veedor.read.rectify import find_geometry, upright_views
from veedor.simulate.degrade import degrade, tamper
from veedor.verify.checks import RegistryView
from veedor.verify.decide import judge

ACTAS = Path(__file__).resolve().parents[1] / "samples" / "actas"
SOMMARIVA = "andres-sommariva-vzla-elections-2024"
A = f"{SOMMARIVA}/784821_007643_0134Acta0133.jpg"
B = f"{SOMMARIVA}/784821_149098_0135Acta0134.jpg"


def _gray(name: str) -> np.ndarray:
    gray = cv2.imread(str(ACTAS / name), cv2.IMREAD_GRAYSCALE)
    assert gray is not None, name
    return np.asarray(gray)


def _photo(name: str, chain: str, seed: int, turns: int = 0) -> np.ndarray:
    image = degrade(_gray(name), chain, np.random.default_rng(seed))
    return np.ascontiguousarray(np.rot90(image, turns))


def _decide(image: np.ndarray, definition: ElectionDefinition):
    qr = read_qr(image, definition)
    printed, reading = read_print_views(image, definition, qr.acta, True)
    verdict = judge(qr.acta, qr.problems, printed, definition, RegistryView())
    return qr, printed, reading, verdict


@pytest.mark.parametrize(
    ("name", "chain", "seed", "turns"),
    [
        (A, "phone_full", 1, 0),  # whole sheet on a table, small and soft
        (B, "phone_full", 1, 1),  # the same, phone held sideways (90°)
        (A, "upside_down", 0, 0),  # 180° ± 3°
        (B, "rotate", 3, 0),  # up to ±25°, the paper's corners cut by the frame
        (A, "scan", 0, 3),  # a scan saved sideways (270°): no background to find
    ],
    ids=["phone-whole-sheet", "phone-rot90", "upside-down", "rotated", "scan-rot270"],
)
def test_phone_photo_ends_ok_with_exact_numbers(
    name: str,
    chain: str,
    seed: int,
    turns: int,
    definition: ElectionDefinition,
    qr_truth: dict[str, str | None],
) -> None:
    image = _photo(name, chain, seed, turns)
    truth = parse_payload(qr_truth[name] or "", definition)
    qr, printed, reading, verdict = _decide(image, definition)
    assert qr.acta is not None and qr.acta.same_numbers(truth)
    assert reading is not None
    h, w = image.shape
    if h < 2.5 * w:  # a phone frame: only its rectified view shows the table at a readable size
        assert reading.variant.startswith("rectified:"), reading
    assert verdict.status is Status.OK, verdict.reason
    assert printed is not None
    assert printed.acta.votes == truth.votes and printed.acta.nulos == truth.nulos
    assert verdict.acta is not None and verdict.acta.key == truth.key
    assert verdict.acta.votes == truth.votes and verdict.acta.nulos == truth.nulos


def test_tampered_qr_photographed_by_phone_is_caught(
    definition: ElectionDefinition, qr_truth: dict[str, str | None]
) -> None:
    """A pasted QR with moved votes, then photographed: the rectified print still holds the
    true numbers, so the acta goes to review as a QR/print mismatch, never ok."""
    gray = _gray(A)
    forged_sheet, forged = tamper(gray, definition, np.random.default_rng(5))
    image = degrade(forged_sheet, "phone_full", np.random.default_rng(1))
    qr, printed, reading, verdict = _decide(image, definition)
    assert qr.acta is not None and qr.acta.same_numbers(parse_payload(forged, definition))
    assert reading is not None and reading.variant.startswith("rectified:")
    assert verdict.status is Status.REVIEW
    mismatch = [c for c in verdict.checks if c.name == QR_PRINT]
    assert mismatch and not mismatch[0].passed, verdict.checks
    # What the print says is the true acta, not the forged one.
    truth = parse_payload(qr_truth[A] or "", definition)
    assert printed is not None and printed.acta.votes == truth.votes


def test_views_are_upright_receipts_and_fast(definition: ElectionDefinition) -> None:
    """A 12-Mpx phone photo: the first view is a receipt-shaped, 640-px-wide image; the
    geometry and one full-resolution warp take a small fraction of a second."""
    photo = _photo(A, "phone_full", 0, 1)
    photo = cv2.resize(photo, (4000, 3000), interpolation=cv2.INTER_LINEAR)
    list(upright_views(photo, limit=1))  # warm-up (first-call allocations)
    start = time.perf_counter()
    views = list(upright_views(photo, limit=2))
    ms = (time.perf_counter() - start) * 1000
    assert [n for n, _ in views] == ["warp", "warp+rot180"]
    first = views[0][1]
    assert first.shape[1] == 640 and 9 < first.shape[0] / first.shape[1] < 13
    assert np.array_equal(views[1][1], cv2.rotate(first, cv2.ROTATE_180))
    assert ms < 1500  # ~100 ms alone; generous for a shared 2-core machine


def test_nothing_receipt_like_gives_no_view() -> None:
    rng = np.random.default_rng(0)
    assert list(upright_views(np.full((600, 800), 200, np.uint8))) == []
    assert find_geometry(np.zeros((20, 20), np.uint8)) is None
    # Noise has no paper and no text lines: whatever comes out, it is at most two views.
    noise = rng.integers(0, 255, (500, 700), dtype=np.uint8)
    assert len(list(upright_views(noise))) <= 2


def test_clean_scan_is_never_rectified(
    definition: ElectionDefinition, qr_truth: dict[str, str | None]
) -> None:
    gray = _gray(A)
    truth = parse_payload(qr_truth[A] or "", definition)
    printed, reading = read_print_views(gray, definition, truth, True)
    assert printed is not None and reading is not None
    assert reading.variant == "digits-vs-qr"


@pytest.mark.parametrize(
    ("name", "seed"),
    [(A, 8722418958818058524), (f"{SOMMARIVA}/784821_911027_0130Acta0129.jpg", 11013093880493293783)],
)
def test_a_dark_scan_is_straightened_whole(name: str, seed: int) -> None:
    """Under-exposed, vignetted and grainy, the scan's lit half looked like paper and its
    dark half like background: the view kept half the sheet (cutting off the party codes,
    so the rows were placed one line off) or a sliver. A frame shaped like a receipt
    holds the whole receipt, so the view spans the whole sheet."""
    scan = _photo(name, "dark", seed)
    geometry = find_geometry(scan)
    assert geometry is not None
    h, w = scan.shape
    top_left, top_right, bottom_right, bottom_left = geometry.quad
    lengths = np.linalg.norm(bottom_left - top_left), np.linalg.norm(bottom_right - top_right)
    widths = np.linalg.norm(top_right - top_left), np.linalg.norm(bottom_right - bottom_left)
    assert min(lengths) >= 0.9 * h and min(widths) >= 0.9 * w
