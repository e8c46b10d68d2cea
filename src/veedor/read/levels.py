"""Grey levels of 8-bit images: ``np.percentile``'s values from a histogram.

Every crop the recognisers read is stretched between its 1st and 99th percentiles; numpy
partitions the pixels for each call (~0.25 ms a crop, ~100 crops an acta). An 8-bit image
has 256 levels, so its order statistics come from the cumulative histogram instead, and the
interpolation between them is numpy's own "linear" method, step for step: the same floats
(tested against ``np.percentile``), so no reading changes.
"""

from __future__ import annotations

import math

import numpy as np


def percentiles(image: np.ndarray, qs: tuple[float, ...]) -> tuple[float, ...]:
    """``np.percentile(image, qs)`` of a non-empty uint8 image, as floats."""
    if image.dtype != np.uint8 or image.size == 0:
        raise ValueError("percentiles() takes a non-empty uint8 image")
    n = image.size
    at_most = np.bincount(image.ravel(), minlength=256).cumsum()  # pixels <= each level

    def order(k: int) -> float:  # the k-th smallest pixel (0-based)
        return float(np.searchsorted(at_most, k, side="right"))

    values = []
    for q in qs:
        quantile = float(np.true_divide(q, 100))
        virtual = (n - 1) * quantile  # Hyndman & Fan's 7th, numpy's default
        if virtual >= n - 1:
            values.append(order(n - 1))
            continue
        if virtual < 0:
            values.append(order(0))
            continue
        below = math.floor(virtual)
        a, b, t = order(below), order(below + 1), virtual - below
        diff = b - a
        values.append(b - diff * (1 - t) if t >= 0.5 else a + diff * t)
    return tuple(values)
