"""Blur (motion smear, focus): measured from the image alone, divided out, never seen where there is none."""

from __future__ import annotations

import json
from pathlib import Path

import cv2
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from veedor.definitions import ElectionDefinition
from veedor.read.acta import read_qr
from veedor.read.deblur import Focus, Streak, deblurred, focus, smear, streak
from veedor.read.engines import ZxingEngine
from veedor.simulate.degrade import degrade

ACTAS = Path(__file__).resolve().parents[1] / "samples" / "actas"
SOMMARIVA = "andres-sommariva-vzla-elections-2024"
TRUTH = json.loads((ACTAS / "_ground_truth" / "qr_text_by_image.json").read_text())


def _acta(name: str) -> np.ndarray:
    gray = cv2.imread(str(ACTAS / SOMMARIVA / name), cv2.IMREAD_GRAYSCALE)
    assert gray is not None
    return gray


@pytest.fixture(scope="module")
def table() -> np.ndarray:
    """The ballot table of a clean real acta (the text a smear is measured on)."""
    return _acta("784821_715691_0137Acta0136.jpg")[1500:2800]


def _smear(gray: np.ndarray, length: int, angle: float) -> np.ndarray:
    # Drawn independently of the generator's kernel: a thick anti-aliased line, averaged.
    big = 8
    canvas = np.zeros((big * (length + 2), big * (length + 2)), np.float32)
    c = canvas.shape[0] / 2
    dx, dy = np.cos(np.radians(angle)) * big * length / 2, np.sin(np.radians(angle)) * big * length / 2
    cv2.line(canvas, (round(c - dx), round(c + dy)), (round(c + dx), round(c - dy)), 1.0, big, cv2.LINE_AA)
    kernel = cv2.resize(canvas, (length + 2, length + 2), interpolation=cv2.INTER_AREA)
    return cv2.filter2D(gray, -1, kernel / kernel.sum())


def _angle_gap(a: float, b: float) -> float:
    gap = abs(a - b) % 180.0
    return min(gap, 180.0 - gap)


@settings(max_examples=20, deadline=None)
@given(length=st.integers(6, 20), angle=st.floats(0.0, 179.9))
def test_a_smear_is_measured_from_the_image(table: np.ndarray, length: int, angle: float) -> None:
    found = streak(_smear(table, length, angle))
    assert found is not None
    assert abs(found.length - length) <= 1.5
    assert _angle_gap(found.angle, angle) <= 8.0


@settings(max_examples=10, deadline=None)
@given(sigma=st.floats(1.5, 3.5))
def test_a_focus_blur_is_measured_from_the_image(table: np.ndarray, sigma: float) -> None:
    soft = cv2.GaussianBlur(table, (0, 0), sigma)
    assert streak(soft) is None  # a focus blur is no streak
    found = focus(soft)
    assert found is not None
    assert abs(found.sigma - sigma) <= 0.25 * sigma


@pytest.mark.parametrize(
    "family", ["clean", "scan", "dark", "jpeg", "faded", "low_res", "crumpled", "phone_full", "perspective"]
)
def test_no_blur_is_seen_where_there_is_none(family: str) -> None:
    """Grain, JPEG blocks, paper and geometry are no blur: nothing is deconvolved."""
    for seed in range(3):
        img = degrade(_acta("784821_939966_0139Acta0138.jpg"), family, np.random.default_rng(seed))
        assert smear(img) is None, (family, seed)


def test_a_motion_smear_is_not_taken_for_a_focus_blur(table: np.ndarray) -> None:
    assert isinstance(smear(_smear(table, 12, 75.0)), Streak)


def test_deblurring_returns_a_new_image_of_the_same_size(table: np.ndarray) -> None:
    smeared = _smear(table, 9, 30.0)
    before = smeared.copy()
    out = deblurred(smeared, Streak(9.0, 30.0, 50.0))
    assert out.shape == smeared.shape and out.dtype == np.uint8
    assert np.array_equal(smeared, before)
    # Sharper than the smear: the edges come back.
    assert cv2.Laplacian(out, cv2.CV_64F).var() > 2 * cv2.Laplacian(smeared, cv2.CV_64F).var()


def test_tiny_blank_noisy_or_odd_shaped_images_show_no_blur_and_never_crash() -> None:
    assert streak(np.full((50, 50), 255, np.uint8)) is None
    assert smear(np.full((600, 600), 255, np.uint8)) is None
    rng = np.random.default_rng(0)
    for shape in [(64, 64), (70, 3000), (3000, 70), (2000, 2000)]:
        noise = (rng.random(shape) * 255).astype(np.uint8)
        assert smear(noise) is None
        # A kernel wider than the image (mirrored margins) still gives an image its size.
        assert deblurred(noise, Focus(25.0)).shape == shape
        assert deblurred(noise, Streak(26.0, 33.0, 40.0)).shape == shape


def test_a_smeared_qr_is_read_by_the_ladder(definition: ElectionDefinition) -> None:
    """Motion longer than a module: bare zxing reads nothing, the deblurred rung reads it."""
    name = "784821_412219_0136Acta0135.jpg"
    img = degrade(_acta(name), "motion_blur", np.random.default_rng(18368222290255939233))
    assert ZxingEngine().decode(img) == []
    result = read_qr(img, definition)
    assert result.acta is not None
    winner = next(r for r in result.readings if r.text)
    assert winner.variant == "full+deblurred"
    assert winner.text == TRUTH[f"{SOMMARIVA}/{name}"]
