"""Mesas unlike their neighbours (EscrutinioSocial's first triage): a candidate's share in a mesa
against the median of the *other* mesas of the same centre (or, in a centre of fewer than three
mesas, of the other mesas of the parish), on a robust scale: 1.4826 × the parish's median
absolute residual, never below the mesa's own binomial noise.

Everything works along the last axis, so one call scores all Monte Carlo replicates.

Example: ``z = neighbour_scores(votes[:, 1], valid, centre, parish)``; ``rank_outliers(z, ids)``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike, NDArray

from veedor.forensics.data import group_index

OUTLIER_Z = 5.0
"""|z| above which a mesa counts as an outlier in the test statistic (chosen before the calibration,
see docs/forensics.md); the ranking itself has no threshold."""
MIN_CENTRE = 3
MIN_SCALE = 0.005


def _sorted_within(
    values: NDArray[np.float64], group: NDArray[np.int64]
) -> tuple[NDArray[np.int64], NDArray[np.float64]]:
    """Per row: the order that sorts by (group, value), and the values in that order.

    One float key (group·4 + value) sorts faster than a lexsort; values are shares or absolute
    residuals in [0, 1], and NaN goes last within its group (key offset 3)."""
    key = group * 4.0 + np.where(np.isnan(values), 3.0, np.clip(values, 0.0, 2.0))
    order = np.argsort(key, axis=-1)
    return order, np.take_along_axis(values, order, axis=-1)


def _layout(group: NDArray[np.int64]) -> tuple[NDArray[np.int64], NDArray[np.int64], NDArray[np.int64]]:
    """For the group-sorted order: each slot's group start, group size and rank in the group."""
    sorted_group = np.sort(group, kind="stable")
    sizes = np.bincount(sorted_group)
    starts = np.concatenate([[0], np.cumsum(sizes)[:-1]])
    start = starts[sorted_group]
    return start, sizes[sorted_group], np.arange(group.size) - start


def leave_one_out_median(values: ArrayLike, group: ArrayLike) -> NDArray[np.float64]:
    """For each unit, the median of the *other* units of its group (NaN if it is alone).
    Values are expected in [0, 1] (shares); a NaN value still counts as a member of its group.

    Example: ``leave_one_out_median([1., 2., 9.], [0, 0, 0])`` → ``[5.5, 5.0, 1.5]``.
    """
    v = np.asarray(values, dtype=np.float64)
    g, _ = group_index(group)
    order, sorted_values = _sorted_within(v, g)
    start, size, rank = _layout(g)
    rest = size - 1

    def pick(k: NDArray[np.int64]) -> NDArray[np.float64]:
        # the k-th of the others: skip the unit's own slot
        slot = start + k + (k >= rank)
        slot = np.clip(slot, 0, g.size - 1)
        return np.take_along_axis(sorted_values, np.broadcast_to(slot, sorted_values.shape), axis=-1)

    low = pick(np.maximum((rest - 1) // 2, 0))
    high = pick(np.maximum(rest // 2, 0))
    median_sorted = np.where(rest > 0, (low + high) / 2, np.nan)
    out = np.empty_like(median_sorted)
    np.put_along_axis(out, order, median_sorted, axis=-1)
    return out


def group_median(values: ArrayLike, group: ArrayLike) -> NDArray[np.float64]:
    """Each unit's group median of values in [0, 1] (NaN values sort last and are not counted).

    Example: ``group_median([1., 2., 9.], [0, 0, 1])`` → ``[1.5, 1.5, 9.0]``.
    """
    v = np.asarray(values, dtype=np.float64)
    g, _ = group_index(group)
    order, sorted_values = _sorted_within(v, g)
    start, _, _ = _layout(g)
    finite = np.isfinite(sorted_values)
    # the count of finite values of each group, per row, in one bincount with row offsets
    groups = int(g.max()) + 1 if g.size else 0
    sorted_group = np.sort(g, kind="stable")
    rows = finite.reshape(-1, g.size)
    offsets = (np.arange(rows.shape[0]) * groups)[:, None]
    counts = np.bincount(
        (sorted_group[None, :] + offsets).ravel(), weights=rows.ravel(), minlength=rows.shape[0] * groups
    )
    counts = counts.reshape(rows.shape[0], groups)
    n = (
        np.take_along_axis(counts, np.broadcast_to(sorted_group, rows.shape), axis=-1)
        .astype(np.int64)
        .reshape(v.shape)
    )
    low = np.take_along_axis(
        sorted_values, np.clip(start + np.maximum((n - 1) // 2, 0), 0, g.size - 1), axis=-1
    )
    high = np.take_along_axis(sorted_values, np.clip(start + np.maximum(n // 2, 0), 0, g.size - 1), axis=-1)
    median_sorted = np.where(n > 0, (low + high) / 2, np.nan)
    out = np.empty_like(median_sorted)
    np.put_along_axis(out, order, median_sorted, axis=-1)
    return out


def _scores(
    votes: ArrayLike, valid: ArrayLike, centre: ArrayLike, parish: ArrayLike | None
) -> tuple[NDArray[np.float64], NDArray[np.float64], NDArray[np.float64]]:
    v = np.asarray(votes, dtype=np.float64)
    n = np.asarray(valid, dtype=np.float64)
    centre_index, _ = group_index(centre)
    parish_index = np.zeros_like(centre_index) if parish is None else group_index(parish)[0]
    with np.errstate(invalid="ignore", divide="ignore"):
        share = np.where(n > 0, v / n, np.nan)
    by_centre = leave_one_out_median(share, centre_index)
    by_parish = leave_one_out_median(share, parish_index)
    centre_size = np.bincount(centre_index)[centre_index]
    reference = np.where(centre_size >= MIN_CENTRE, by_centre, by_parish)
    residual = share - reference
    spread = 1.4826 * group_median(np.abs(residual), parish_index)
    with np.errstate(invalid="ignore", divide="ignore"):
        national = 1.4826 * np.nanmedian(np.abs(residual), axis=-1, keepdims=True)
        spread = np.where(np.isfinite(spread), spread, national)
        noise = np.sqrt(np.clip(reference * (1 - reference), 0, None) / n)
        scale = np.maximum(np.maximum(spread, noise), MIN_SCALE)
        return np.asarray(residual / scale, dtype=np.float64), share, reference


def neighbour_scores(
    votes: ArrayLike, valid: ArrayLike, centre: ArrayLike, parish: ArrayLike | None = None
) -> NDArray[np.float64]:
    """Robust z-score of each mesa's share of ``votes`` against its neighbours (NaN where the
    mesa has no neighbours or no valid votes). ``votes`` may be (reps, mesas).

    Example: ``neighbour_scores([50, 52, 48, 95], [100] * 4, [1, 1, 1, 1])[3]`` ≫ 5.
    """
    return _scores(votes, valid, centre, parish)[0]


def outlier_count(z: ArrayLike, threshold: float = OUTLIER_Z) -> NDArray[np.int64]:
    """How many |z| exceed ``threshold`` (along the last axis). Example: ``outlier_count([0, 6, -7])`` → 2."""
    return np.asarray(
        (np.abs(np.nan_to_num(np.asarray(z, dtype=np.float64))) > threshold).sum(axis=-1), np.int64
    )


@dataclass(frozen=True)
class Outlier:
    """One mesa far from its neighbours, for the report (``acta`` links to its acta/evidence)."""

    rank: int
    index: int
    acta: str | None
    candidate: str
    share: float
    reference: float
    z: float


def rank_outliers(
    votes: ArrayLike,
    valid: ArrayLike,
    centre: ArrayLike,
    parish: ArrayLike | None,
    candidate: str,
    ids: tuple[str, ...] | None = None,
    limit: int = 50,
    threshold: float = OUTLIER_Z,
) -> list[Outlier]:
    """The mesas whose ``candidate`` share has |z| > ``threshold``, most extreme first, at most
    ``limit``. Example: ``rank_outliers(votes[:, 1], valid, centre, parish, "NM", ids)[0].acta``.
    """
    scores, share, reference = _scores(votes, valid, centre, parish)
    magnitude = np.abs(np.nan_to_num(scores))
    order = [int(i) for i in np.argsort(-magnitude, kind="stable") if magnitude[i] > threshold][:limit]
    return [
        Outlier(
            rank=r + 1,
            index=i,
            acta=None if ids is None else ids[i],
            candidate=candidate,
            share=float(share[i]),
            reference=float(reference[i]),
            z=float(scores[i]),
        )
        for r, i in enumerate(order)
    ]
