"""Grey-level percentiles from a histogram: numpy's values exactly, so readings do not change."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from veedor.read.levels import percentiles


@settings(max_examples=500, deadline=None)
@given(
    arrays(np.uint8, st.tuples(st.integers(1, 40), st.integers(1, 300))),
    st.lists(st.floats(0, 100), min_size=1, max_size=3),
)
def test_percentiles_are_numpys_to_the_last_bit(image, qs):
    assert list(percentiles(image, tuple(qs))) == [float(v) for v in np.percentile(image, qs)]


def test_the_recognisers_crop_levels():
    crop = np.full((32, 100), 250, np.uint8)
    crop[10:20, 10:90] = 30  # ink on paper
    assert percentiles(crop, (1, 99)) == (30.0, 250.0)


@pytest.mark.parametrize("image", [np.zeros((0, 5), np.uint8), np.zeros((3, 3), np.float32)])
def test_only_non_empty_8_bit_images(image):
    with pytest.raises(ValueError):
        percentiles(image, (50,))
