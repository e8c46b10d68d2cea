"""Heaping on round numbers: counts and percentages ending in 0 or 5 (EFToolkit's C05s and
P05s) and integer percentages of turnout and vote share (Kobak, Shpilkin & Pshenichnikov 2016).

All functions work along the last axis (one value per replicate for stacked replicates).

Example: ``integer_percent([150, 151], [300, 300])`` → ``[True, False]`` (50 % exactly; 50.33 %).
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike, NDArray


def ends_in_0_or_5(counts: ArrayLike, min_count: int = 100) -> tuple[NDArray[np.int64], NDArray[np.int64]]:
    """(how many counts are ≥ ``min_count``, how many of those end in 0 or 5).

    Below ``min_count`` the last digit is not uniform even in a clean count, so those are left
    out. Example: ``ends_in_0_or_5([100, 105, 107, 9])`` → ``(3, 2)``.
    """
    c = np.asarray(counts).astype(np.int64)
    keep = c >= min_count
    hits = keep & (c % 5 == 0)
    return np.asarray(keep.sum(axis=-1), np.int64), np.asarray(hits.sum(axis=-1), np.int64)


def rounded_percent(numerators: ArrayLike, denominators: ArrayLike) -> NDArray[np.int64]:
    """100 · v / n rounded half up, in exact integer arithmetic (-1 where n = 0).

    Example: ``rounded_percent([1, 1], [8, 3])`` → ``[13, 33]``.
    """
    v = np.asarray(numerators).astype(np.int64)
    n = np.asarray(denominators).astype(np.int64)
    safe = np.where(n > 0, n, 1)
    return np.where(n > 0, (200 * v + safe) // (2 * safe), -1)


def integer_percent(
    numerators: ArrayLike, denominators: ArrayLike, min_denominator: int = 100
) -> NDArray[np.bool_]:
    """Is v the count nearest to an integer percentage k % of n, for some k in 1…99?

    That is |100·v − k·n| ≤ 50 with k the rounded percentage (exact integer test). A commission
    that writes a round percentage has to report this count; by chance it happens with
    probability ≈ 100 / n. 0 % and 100 % are left out (they arise from empty or unanimous
    tables, not from rounding), and so are denominators below ``min_denominator``, where
    nearly every count is near an integer percentage.
    Example: ``integer_percent([363, 364], [726, 726])`` → ``[True, False]``.
    """
    v = np.asarray(numerators).astype(np.int64)
    n = np.asarray(denominators).astype(np.int64)
    k = rounded_percent(v, n)
    return (n >= min_denominator) & (k >= 1) & (k <= 99) & (np.abs(100 * v - k * n) <= 50)


def integer_percent_count(
    numerators: ArrayLike, denominators: ArrayLike, min_denominator: int = 100
) -> tuple[NDArray[np.int64], NDArray[np.int64]]:
    """(units eligible, units at an integer percentage). Eligible: denominator ≥
    ``min_denominator`` and 0 < v < n. Example: ``integer_percent_count([50], [100])`` → (1, 1)."""
    v = np.asarray(numerators).astype(np.int64)
    n = np.asarray(denominators).astype(np.int64)
    eligible = (n >= min_denominator) & (v > 0) & (v < n)
    hits = eligible & integer_percent(v, n, min_denominator)
    return np.asarray(eligible.sum(axis=-1), np.int64), np.asarray(hits.sum(axis=-1), np.int64)


def integer_percent_expected(
    denominators: ArrayLike, numerators: ArrayLike, min_denominator: int = 100
) -> float:
    """The textbook expectation of :func:`integer_percent_count`'s hits: Σ min(1, 100 / n) over the
    eligible units (each integer percentage is one attainable count in every n/100).
    Example: ``integer_percent_expected([200, 400], [50, 100])`` → 0.75."""
    v = np.asarray(numerators).astype(np.int64)
    n = np.asarray(denominators).astype(np.float64)
    eligible = (n >= min_denominator) & (v > 0) & (v < n)
    return float(np.minimum(1.0, 100.0 / n[eligible]).sum())


def percent_ends_in_0_or_5(
    numerators: ArrayLike, denominators: ArrayLike, min_denominator: int = 100
) -> tuple[NDArray[np.int64], NDArray[np.int64]]:
    """(units eligible, units whose rounded percentage ends in 0 or 5), leaving out 0 % and
    100 % and denominators below ``min_denominator``.
    Example: ``percent_ends_in_0_or_5([45, 33], [100, 100])`` → ``(2, 1)``."""
    v = np.asarray(numerators).astype(np.int64)
    n = np.asarray(denominators).astype(np.int64)
    k = rounded_percent(v, n)
    eligible = (n >= min_denominator) & (k >= 1) & (k <= 99)
    hits = eligible & (k % 5 == 0)
    return np.asarray(eligible.sum(axis=-1), np.int64), np.asarray(hits.sum(axis=-1), np.int64)
