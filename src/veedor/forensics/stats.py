"""Small statistical helpers in plain NumPy (SciPy is not a dependency of the project).

Example: ``holm([0.01, 0.04, 0.03])`` → ``array([0.03, 0.06, 0.06])``.
"""

from __future__ import annotations

import math

import numpy as np
from numpy.typing import ArrayLike, NDArray


def normal_sf(z: ArrayLike) -> NDArray[np.float64]:
    """Upper tail of the standard normal. Example: ``normal_sf(1.96)`` ≈ 0.025."""
    z = np.asarray(z, dtype=np.float64)
    return np.asarray(0.5 * np.vectorize(math.erfc)(z / math.sqrt(2.0)), dtype=np.float64)


def chi2_sf(x: ArrayLike, df: int) -> NDArray[np.float64]:
    """Upper tail of the chi-square distribution with an integer number of degrees of freedom,
    from its closed forms (a Poisson sum for even ``df``, a normal tail plus a sum for odd).

    Example: ``chi2_sf(16.919, 9)`` ≈ 0.05.
    """
    if df < 1:
        raise ValueError("df must be a positive integer")
    x = np.maximum(np.asarray(x, dtype=np.float64), 0.0)
    half = x / 2.0
    if df % 2 == 0:
        term = np.exp(-half)
        total = term.copy()
        for i in range(1, df // 2):
            term = term * half / i
            total = total + term
        return np.asarray(np.minimum(total, 1.0), dtype=np.float64)
    root = np.sqrt(x)
    total = 2.0 * normal_sf(root)
    # 2·φ(√x)·Σ_{r=1}^{(df-1)/2} x^{r-1/2} / (1·3·…·(2r-1))
    term = 2.0 * np.exp(-half) / math.sqrt(2.0 * math.pi) * root
    for r in range(1, (df - 1) // 2 + 1):
        if r > 1:
            term = term * x / (2 * r - 1)
        total = total + term
    return np.asarray(np.minimum(total, 1.0), dtype=np.float64)


def holm(p_values: ArrayLike) -> NDArray[np.float64]:
    """Holm's step-down adjusted p-values (controls the family-wise error rate, any dependence).

    Example: ``holm([0.01, 0.04, 0.03])`` → ``[0.03, 0.06, 0.06]``.
    """
    p = np.asarray(p_values, dtype=np.float64)
    m = p.size
    if m == 0:
        return p.copy()
    order = np.argsort(p, kind="stable")
    scaled = np.minimum(1.0, (m - np.arange(m)) * p[order])
    adjusted = np.empty(m)
    adjusted[order] = np.maximum.accumulate(scaled)
    return adjusted


def mc_p_value(observed: float, null: ArrayLike, alternative: str = "greater") -> float:
    """Monte Carlo p-value with the +1 correction (never 0; its floor is 1/(reps+1)).

    ``alternative``: ``greater`` (large statistics are suspicious), ``less`` or ``two-sided``.
    Example: ``mc_p_value(5.0, [1, 2, 3])`` → 0.25.
    """
    values = np.asarray(null, dtype=np.float64)
    values = values[np.isfinite(values)]
    if not math.isfinite(observed) or values.size == 0:
        return math.nan
    reps = values.size
    upper = (1 + int(np.count_nonzero(values >= observed))) / (reps + 1)
    lower = (1 + int(np.count_nonzero(values <= observed))) / (reps + 1)
    if alternative == "greater":
        return upper
    if alternative == "less":
        return lower
    if alternative == "two-sided":
        return min(1.0, 2.0 * min(upper, lower))
    raise ValueError(f"unknown alternative {alternative!r}")


def ks_uniform(sample: ArrayLike) -> tuple[float, float]:
    """Kolmogorov–Smirnov test of ``sample`` against Uniform(0, 1): (D, asymptotic p-value),
    with Stephens' small-sample correction.

    Example: ``ks_uniform(np.linspace(0.01, 0.99, 50))[1]`` ≈ 1.
    """
    x = np.sort(np.asarray(sample, dtype=np.float64))
    n = x.size
    if n == 0:
        return math.nan, math.nan
    i = np.arange(1, n + 1)
    d = float(max(np.max(i / n - x), np.max(x - (i - 1) / n)))
    lam = (math.sqrt(n) + 0.12 + 0.11 / math.sqrt(n)) * d
    j = np.arange(1, 101)
    p = float(2.0 * np.sum((-1.0) ** (j - 1) * np.exp(-2.0 * j**2 * lam**2)))
    return d, min(1.0, max(0.0, p))


def robust_sd(values: ArrayLike) -> float:
    """1.4826 × the median absolute deviation: the standard deviation of normal data, barely
    moved by a minority of outliers. Example: ``robust_sd([1, 2, 3, 4, 100])`` ≈ 1.48."""
    v = np.asarray(values, dtype=np.float64)
    v = v[np.isfinite(v)]
    if v.size == 0:
        return math.nan
    return float(1.4826 * np.median(np.abs(v - np.median(v))))
