"""Erasing the table's rules: the fast horizontal opening is OpenCV's own, pixel for pixel,
so that no layout (and no reading) changes with it."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from veedor.read.print import layout

ACTAS = Path(__file__).resolve().parents[1] / "samples" / "actas"


def _opencv(binary: np.ndarray, length: int) -> np.ndarray:
    return cv2.morphologyEx(binary, cv2.MORPH_OPEN, np.ones((1, length), np.uint8))


@st.composite
def inked(draw: st.DrawFn) -> np.ndarray:
    """0/255 images of runs of ink (rules, strokes, runs that touch either edge) on noise."""
    h, w = draw(st.integers(1, 30)), draw(st.integers(1, 260))
    image = np.zeros((h, w), np.uint8)
    if draw(st.booleans()):
        seed = draw(st.integers(0, 2**32 - 1))
        image[np.random.default_rng(seed).random((h, w)) < draw(st.floats(0, 0.9))] = 255
    for _ in range(draw(st.integers(0, 12))):
        y, x, n = draw(st.integers(0, h - 1)), draw(st.integers(-30, w)), draw(st.integers(1, 260))
        image[y, max(0, x) : max(0, x + n)] = 255
    return image


@settings(max_examples=400, deadline=None)
@given(inked(), st.integers(2, 130))
def test_the_horizontal_opening_is_opencvs(image, length):
    assert np.array_equal(layout._open_across(image, length), _opencv(image, length))


def test_the_horizontal_opening_is_opencvs_on_the_real_actas_rules():
    for path in sorted(ACTAS.glob("*/*.jpg"))[:6]:
        ink = layout._ink(cv2.imread(str(path), cv2.IMREAD_GRAYSCALE))
        scale = layout._text_scale(layout._components(ink))
        thick = cv2.dilate(ink, np.ones((3, 1), np.uint8))
        length = max(3, int(6 * scale))
        opened = layout._open_across(thick, length)
        assert opened.any()  # the rules are there
        assert np.array_equal(opened, _opencv(thick, length))
