"""Digit tests on vote counts: the second-digit Benford law (2BL, Mebane) and last-digit
uniformity (Beber & Scacco 2012).

Every statistic works along the last axis, so one call scores a whole stack of Monte Carlo
replicates: ``second_digit_mean(counts_of_shape_reps_by_mesas)`` gives one mean per replicate.

Example: ``second_digit_test([123, 45, 978, 1204]).mean`` → 4.0.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike, NDArray

from veedor.forensics.stats import chi2_sf, normal_sf

_POWERS = 10 ** np.arange(19, dtype=np.int64)


def benford_second_digit_probabilities() -> NDArray[np.float64]:
    """P(second significant digit = d), d = 0…9, under Benford's law:
    Σ_{k=1}^{9} log10(1 + 1/(10k + d)).

    Example: ``benford_second_digit_probabilities()[0]`` ≈ 0.1197.
    """
    first = np.arange(1, 10)[:, None]
    second = np.arange(10)[None, :]
    return np.asarray(np.log10(1.0 + 1.0 / (10 * first + second)).sum(axis=0), dtype=np.float64)


BENFORD_SECOND = benford_second_digit_probabilities()
BENFORD_SECOND_MEAN = float(np.dot(np.arange(10), BENFORD_SECOND))  # 4.187
BENFORD_SECOND_VAR = float(np.dot(np.arange(10) ** 2, BENFORD_SECOND) - BENFORD_SECOND_MEAN**2)
UNIFORM_DIGITS = np.full(10, 0.1)


def second_digit(counts: ArrayLike) -> NDArray[np.int64]:
    """The second significant digit of each count; -1 for counts below 10.

    Integer arithmetic (no logarithms), so 100 → 0 and 999 → 9 exactly.
    Example: ``second_digit([7, 10, 351, 4096])`` → ``[-1, 0, 5, 0]``.
    """
    c = np.asarray(counts).astype(np.int64)
    digits = np.searchsorted(_POWERS, c, side="right")  # number of digits of c (0 for c = 0)
    scale = _POWERS[np.clip(digits - 2, 0, None)]
    return np.where(c >= 10, (c // scale) % 10, -1)


def last_digit(counts: ArrayLike) -> NDArray[np.int64]:
    """The units digit. Example: ``last_digit([120, 35])`` → ``[0, 5]``."""
    return np.asarray(np.asarray(counts).astype(np.int64) % 10)


def digit_frequencies(digits: NDArray[np.int64]) -> NDArray[np.int64]:
    """How often each digit 0…9 occurs along the last axis (negative digits are skipped).

    Example: ``digit_frequencies(np.array([1, 1, -1, 9]))`` → ``[0, 2, 0, …, 0, 1]``.
    """
    flat = digits.reshape(-1, digits.shape[-1])
    rows = flat.shape[0]
    keep = flat >= 0
    index = (np.arange(rows)[:, None] * 10 + flat)[keep]
    freq = np.bincount(index, minlength=rows * 10).reshape(rows, 10)
    return np.asarray(freq.reshape((*digits.shape[:-1], 10)), dtype=np.int64)


def pearson_chi2(frequencies: ArrayLike, probabilities: ArrayLike) -> NDArray[np.float64]:
    """Pearson's Σ (observed − expected)² / expected along the last axis (NaN when empty).

    Example: ``pearson_chi2([5, 5], [0.5, 0.5])`` → 0.0.
    """
    f = np.asarray(frequencies, dtype=np.float64)
    n = f.sum(axis=-1, keepdims=True)
    expected = n * np.asarray(probabilities, dtype=np.float64)
    with np.errstate(invalid="ignore", divide="ignore"):
        chi2 = ((f - expected) ** 2 / expected).sum(axis=-1)
    return np.asarray(np.where(n[..., 0] > 0, chi2, np.nan), dtype=np.float64)


def _masked_mean(digits: NDArray[np.int64]) -> tuple[NDArray[np.int64], NDArray[np.float64]]:
    keep = digits >= 0
    n = keep.sum(axis=-1)
    with np.errstate(invalid="ignore", divide="ignore"):
        mean = np.where(keep, digits, 0).sum(axis=-1) / n
    return np.asarray(n, dtype=np.int64), np.asarray(mean, dtype=np.float64)


def second_digit_mean(counts: ArrayLike, min_count: int = 10) -> NDArray[np.float64]:
    """Mebane's 2BL statistic: the mean second digit of the counts ≥ ``min_count``
    (Benford: 4.187). Example: ``second_digit_mean([10, 25, 99])`` → 14/3."""
    c = np.asarray(counts).astype(np.int64)
    digits = np.where(c >= max(min_count, 10), second_digit(c), -1)
    return _masked_mean(digits)[1]


def second_digit_chi2(counts: ArrayLike, min_count: int = 10) -> NDArray[np.float64]:
    """Pearson's chi-square of the second digits against Benford's law (9 degrees of freedom)."""
    c = np.asarray(counts).astype(np.int64)
    digits = np.where(c >= max(min_count, 10), second_digit(c), -1)
    return pearson_chi2(digit_frequencies(digits), BENFORD_SECOND)


def last_digit_chi2(counts: ArrayLike, min_count: int = 100) -> NDArray[np.float64]:
    """Pearson's chi-square of the last digits of counts ≥ ``min_count`` against uniform."""
    c = np.asarray(counts).astype(np.int64)
    digits = np.where(c >= min_count, last_digit(c), -1)
    return pearson_chi2(digit_frequencies(digits), UNIFORM_DIGITS)


@dataclass(frozen=True)
class DigitTest:
    """One digit test against its textbook law (Benford, uniform), without any simulation.

    ``p_mean`` is the normal approximation for the mean digit; ``p_chi2`` Pearson's.
    """

    n: int
    mean: float
    expected_mean: float
    chi2: float
    p_mean: float
    p_chi2: float
    frequencies: tuple[int, ...]


def _digit_test(digits: NDArray[np.int64], probabilities: NDArray[np.float64]) -> DigitTest:
    counted, means = _masked_mean(digits)
    count, mean = int(counted), float(means)
    freq = digit_frequencies(digits)
    expected = float(np.dot(np.arange(10), probabilities))
    variance = float(np.dot(np.arange(10) ** 2, probabilities) - expected**2)
    chi2 = float(pearson_chi2(freq, probabilities))
    if count == 0:
        return DigitTest(0, float("nan"), expected, float("nan"), float("nan"), float("nan"), (0,) * 10)
    z = abs(mean - expected) / np.sqrt(variance / count)
    return DigitTest(
        n=count,
        mean=mean,
        expected_mean=expected,
        chi2=chi2,
        p_mean=float(2.0 * normal_sf(z)),
        p_chi2=float(chi2_sf(chi2, 9)),
        frequencies=tuple(int(x) for x in freq),
    )


def second_digit_test(counts: ArrayLike, min_count: int = 10) -> DigitTest:
    """The 2BL test with textbook p-values (what the literature reports; see the calibration
    for how often it flags clean elections). Example: ``second_digit_test(counts).mean``."""
    c = np.asarray(counts).astype(np.int64).ravel()
    return _digit_test(np.where(c >= max(min_count, 10), second_digit(c), -1), BENFORD_SECOND)


def last_digit_test(counts: ArrayLike, min_count: int = 100) -> DigitTest:
    """Last-digit uniformity on counts ≥ ``min_count``, textbook p-values.
    Example: ``last_digit_test([100, 101, 102]).chi2``."""
    c = np.asarray(counts).astype(np.int64).ravel()
    return _digit_test(np.where(c >= min_count, last_digit(c), -1), UNIFORM_DIGITS)
