"""Monte Carlo nulls: clean elections with the real tables' sizes and turnouts. Vectorised and
seeded (every function takes a ``numpy.random.Generator``), so a run is reproducible.

Two nulls, for two kinds of test:

* **local** (Kobak et al. 2016): each count is redrawn as Binomial(n, observed v / n). The coarse
  shape of the data is kept, the fine scale (last digits, exact integer percentages) is
  randomised. For tests of fine-scale heaping.
* **clean model**: a parish-level model of a clean election. Turnout ~ Beta-binomial around the
  parish's turnout, the vote shares ~ Dirichlet-multinomial around the parish's shares, with
  between-mesa dispersion fitted robustly (median absolute deviation) to the data. For tests of
  the coarse shape (2BL, fingerprint, neighbours) and for the calibration's simulated elections.

Example: ``model = fit_clean_model(election); votes = simulate_votes(model, 0, 200, rng)``.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np
from numpy.typing import ArrayLike, NDArray

from veedor.forensics.data import Election

CHI2_1_MEDIAN = 0.454936423119572

NORMAL_ABOVE_VARIANCE = 25.0
"""Binomial draws whose variance n·p·(1−p) is at least this are drawn as a rounded normal: their
last digit is then uniform to well under 0.1 %, and the draw is ten times faster."""


def binomial(n: ArrayLike, p: ArrayLike, rng: np.random.Generator) -> NDArray[np.int64]:
    """Binomial(n, p) elementwise (broadcast), exact for small variance, a rounded normal above
    :data:`NORMAL_ABOVE_VARIANCE`. Example: ``binomial([300, 5], [0.5, 0.1], rng)``."""
    count = np.asarray(n, dtype=np.int64)
    prob = np.clip(np.asarray(p, dtype=np.float64), 0.0, 1.0)
    count, prob = np.broadcast_arrays(count, prob)
    mean = count * prob
    variance = mean * (1.0 - prob)
    # p = 0 (most null votes) and p = 1 need no draw; mostly-zero inputs then cost nothing.
    out = np.where(prob >= 1.0, count, 0).astype(np.int64)
    big = variance >= NORMAL_ABOVE_VARIANCE
    if big.all():
        draw = np.rint(mean + np.sqrt(variance) * rng.standard_normal(count.shape))
        return np.clip(draw, 0, count).astype(np.int64)
    where = np.flatnonzero(big)
    if where.size:
        draw = np.rint(mean.flat[where] + np.sqrt(variance.flat[where]) * rng.standard_normal(where.size))
        out.flat[where] = np.clip(draw, 0, count.flat[where]).astype(np.int64)
    small = np.flatnonzero(~big & (variance > 0))
    if small.size:
        out.flat[small] = rng.binomial(count.flat[small], prob.flat[small])
    return out


def resample_counts(
    counts: ArrayLike, denominators: ArrayLike, reps: int, rng: np.random.Generator
) -> NDArray[np.int64]:
    """The local null: ``reps`` redraws of each count as Binomial(n, v / n), shape (reps, units).

    Example: ``resample_counts([150], [300], 1000, rng).mean()`` ≈ 150.
    """
    v = np.asarray(counts, dtype=np.float64)
    n = np.asarray(denominators, dtype=np.int64)
    with np.errstate(invalid="ignore", divide="ignore"):
        p = np.where(n > 0, v / np.maximum(n, 1), 0.0)
    return binomial(np.broadcast_to(n, (reps, n.size)), np.broadcast_to(p, (reps, n.size)), rng)


@dataclass(frozen=True)
class CleanModel:
    """A clean election fitted to data: per-parish turnout and vote shares, and one dispersion
    (intra-class correlation) for turnout and one for shares."""

    source: Election
    group: NDArray[np.int64]
    turnout_mean: NDArray[np.float64]  # per group, NaN where no electors are known
    turnout_icc: float
    share_mean: NDArray[np.float64]  # (groups, candidates), rows sum to 1
    share_icc: float
    null_rate: NDArray[np.float64]  # per group

    @property
    def share_concentration(self) -> float:
        return 1.0 / self.share_icc - 1.0

    @property
    def turnout_concentration(self) -> float:
        return 1.0 / self.turnout_icc - 1.0


def _icc(values: NDArray[np.float64], means: NDArray[np.float64], sizes: NDArray[np.float64]) -> float:
    """Intra-class correlation ρ of Beta-binomial proportions, robustly: the ρ at which the
    squared standardised residuals z² = (x − μ)² / (μ(1−μ)(1/n + (1 − 1/n)ρ)) have the median
    of a chi-square with one degree of freedom (0.4549). A median, so a minority of stuffed
    mesas barely moves it; per mesa, so mixing table sizes does not bias it (the MAD of the
    pooled residuals did: it made the clean model too narrow)."""
    keep = np.isfinite(values) & (sizes > 0) & (means > 0) & (means < 1)
    if keep.sum() < 10:
        return 1e-3
    squared = (values[keep] - means[keep]) ** 2 / (means[keep] * (1 - means[keep]))
    inverse = 1.0 / sizes[keep]
    low, high = 0.0, 0.5
    for _ in range(50):  # bisection: the median falls as ρ grows
        rho = (low + high) / 2
        if np.median(squared / (inverse + (1 - inverse) * rho)) > CHI2_1_MEDIAN:
            low = rho
        else:
            high = rho
    return float(np.clip((low + high) / 2, 1e-4, 0.5))


def fit_clean_model(election: Election) -> CleanModel:
    """Fit the clean-election model to ``election`` (parish means; robust dispersions, from the
    candidates with ≥ 5 % of the vote). Example: ``fit_clean_model(election).share_icc``."""
    group = election.groups()
    groups = int(group.max()) + 1 if group.size else 0
    valid = election.valid.astype(np.float64)
    voters = election.voters.astype(np.float64)
    known = np.isfinite(election.electors)
    electors = np.where(known, election.electors, 0.0)
    sum_electors = np.bincount(group, weights=electors, minlength=groups)
    sum_voters_known = np.bincount(group, weights=np.where(known, voters, 0.0), minlength=groups)
    with np.errstate(invalid="ignore", divide="ignore"):
        turnout_mean = np.where(
            sum_electors > 0, np.clip(sum_voters_known / sum_electors, 1e-3, 1 - 1e-3), np.nan
        )
    columns = election.votes.shape[1]
    share_sum = np.zeros((groups, columns))
    np.add.at(share_sum, group, election.votes)
    totals = share_sum.sum(axis=1, keepdims=True)
    overall = election.votes.sum(axis=0) / max(float(election.votes.sum()), 1.0)
    with np.errstate(invalid="ignore", divide="ignore"):
        share_mean = np.where(totals > 0, share_sum / np.maximum(totals, 1), overall)
    null_rate = np.bincount(group, weights=election.nulls, minlength=groups) / np.maximum(
        np.bincount(group, weights=voters, minlength=groups), 1
    )
    with np.errstate(invalid="ignore", divide="ignore"):
        turnout_icc = _icc(voters / electors, turnout_mean[group], np.where(known, electors, 0.0))
        iccs = [
            _icc(election.votes[:, j] / valid, share_mean[group, j], valid) for j in election.major() or [0]
        ]
    return CleanModel(
        source=election,
        group=group,
        turnout_mean=turnout_mean,
        turnout_icc=turnout_icc,
        share_mean=share_mean,
        share_icc=float(np.median(iccs)),
        null_rate=null_rate,
    )


def _beta(mean: NDArray[np.float64], concentration: float, rng: np.random.Generator) -> NDArray[np.float64]:
    """Beta draws with the given means (0 and 1 kept as they are: a share no one got stays 0)."""
    inside = (mean > 0) & (mean < 1)
    safe = np.where(inside, mean, 0.5)
    # Beta(a, b) = Ga / (Ga + Gb): two gamma draws, in single precision (twice as fast; a share
    # needs no more than its 7 digits), beat NumPy's beta.
    first = rng.standard_gamma((safe * concentration).astype(np.float32), dtype=np.float32)
    second = rng.standard_gamma(((1 - safe) * concentration).astype(np.float32), dtype=np.float32)
    draw = (first / np.maximum(first + second, np.float32(1e-30))).astype(np.float64)
    return np.where(inside, draw, mean)


def simulate_votes(
    model: CleanModel, column: int, reps: int, rng: np.random.Generator, valid: ArrayLike | None = None
) -> NDArray[np.int64]:
    """One candidate's votes in ``reps`` clean elections, given each mesa's valid votes (the
    observed ones by default): Beta-binomial around the parish share. Shape (reps, mesas).

    Example: ``simulate_votes(model, election.candidate("EG"), 200, rng)``.
    """
    n = np.asarray(model.source.valid if valid is None else valid, dtype=np.int64)
    mean = np.broadcast_to(model.share_mean[model.group, column], (reps, model.group.size))
    return binomial(np.broadcast_to(n, mean.shape), _beta(mean, model.share_concentration, rng), rng)


def simulate_voters(model: CleanModel, reps: int, rng: np.random.Generator) -> NDArray[np.int64]:
    """Voters of each mesa in ``reps`` clean elections: Beta-binomial(electors, parish turnout);
    the observed voters where the electors are unknown. Shape (reps, mesas)."""
    election = model.source
    known = np.isfinite(election.electors) & np.isfinite(model.turnout_mean[model.group])
    voters = np.broadcast_to(election.voters, (reps, election.size)).copy()
    if known.any():
        mean = np.broadcast_to(model.turnout_mean[model.group][known], (reps, int(known.sum())))
        electors = np.broadcast_to(election.electors[known].astype(np.int64), mean.shape)
        voters[:, known] = binomial(electors, _beta(mean, model.turnout_concentration, rng), rng)
    return voters


def simulate_turnout(
    model: CleanModel, reps: int, rng: np.random.Generator
) -> tuple[NDArray[np.int64], NDArray[np.int64]]:
    """(voters, valid votes) in ``reps`` clean elections, each (reps, mesas); nulls at each mesa's
    own observed rate (most are 0, which costs nothing to draw)."""
    voters = simulate_voters(model, reps, rng)
    observed = model.source
    rate = np.where(observed.voters > 0, observed.nulls / np.maximum(observed.voters, 1), 0.0)
    return voters, voters - binomial(voters, np.broadcast_to(rate, voters.shape), rng)


def simulate_turnout_and_votes(
    model: CleanModel, column: int, reps: int, rng: np.random.Generator
) -> tuple[NDArray[np.int64], NDArray[np.int64], NDArray[np.int64]]:
    """(voters, valid votes, the candidate's votes) in ``reps`` clean elections, each (reps, mesas)."""
    voters, valid = simulate_turnout(model, reps, rng)
    return voters, valid, simulate_votes(model, column, reps, rng, valid=valid)


def multinomial(
    n: NDArray[np.int64], shares: NDArray[np.float64], rng: np.random.Generator
) -> NDArray[np.int64]:
    """Multinomial(n, shares) per row through conditional binomials (with :func:`binomial`'s fast
    normal draws). Example: ``multinomial(np.array([10]), np.array([[0.5, 0.5]]), rng)``."""
    remaining = n.astype(np.int64).copy()
    left = np.ones(n.shape)
    out = np.zeros(shares.shape, np.int64)
    for j in range(shares.shape[1] - 1):
        with np.errstate(invalid="ignore", divide="ignore"):
            p = np.where(left > 0, shares[:, j] / left, 0.0)
        out[:, j] = binomial(remaining, np.clip(p, 0, 1), rng)
        remaining -= out[:, j]
        left = left - shares[:, j]
    out[:, -1] = remaining
    return out


def simulate_election(model: CleanModel, rng: np.random.Generator) -> Election:
    """One whole clean election (all candidates jointly: Dirichlet-multinomial shares), with the
    source's electors, centres and parishes. Example: ``simulate_election(model, rng).votes``."""
    voters = simulate_voters(model, 1, rng)[0]
    nulls = binomial(voters, model.null_rate[model.group], rng)
    valid = voters - nulls
    alpha = model.share_mean[model.group] * model.share_concentration
    gammas = rng.standard_gamma(np.where(alpha > 0, alpha, 1.0)) * (alpha > 0)
    shares = gammas / np.maximum(gammas.sum(axis=1, keepdims=True), 1e-300)
    return replace(model.source, votes=multinomial(valid, shares, rng), nulls=nulls)
