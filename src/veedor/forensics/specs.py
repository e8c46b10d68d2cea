"""The battery's tests: which statistic, on which counts, against which null, in which direction.

A :class:`Counts` holds one candidate's counts (and the mesas' valid votes, voters, electors),
either one election (1-D arrays) or a stack of Monte Carlo replicates (reps, mesas): every
statistic works on both. Example: ``statistic(spec, Counts.of(election, 0), context)``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from veedor.forensics.data import Election
from veedor.forensics.digits import BENFORD_SECOND_MEAN, last_digit_chi2, second_digit_mean
from veedor.forensics.fingerprint import FIT_BINS, Components, fingerprint_histogram, fit_fractions
from veedor.forensics.heaping import (
    ends_in_0_or_5,
    integer_percent_count,
    integer_percent_expected,
    percent_ends_in_0_or_5,
)
from veedor.forensics.neighbours import OUTLIER_Z, neighbour_scores, outlier_count

DIGIT_TESTS = ("second_digit", "last_digit", "counts_0_5")
SHARE_TESTS = ("percent_0_5", "integer_share", "fingerprint_incremental", "fingerprint_extreme", "neighbours")
TESTS = (*DIGIT_TESTS, *SHARE_TESTS, "integer_turnout")
SECOND_DIGIT_MIN, LAST_DIGIT_MIN, PERCENT_MIN_DENOMINATOR = 10, 100, 100
MIN_UNITS = 100
"""A test runs only on at least this many qualifying mesas; below it says so instead."""
MIN_DIGIT_COVERAGE = 0.5
"""A digit test runs only where at least half of the candidate's mesas qualify: on a candidate
with a median of 3 votes, the few counts ≥ 10 are a selected tail, and their digits describe the
selection (mostly 10–19), not the count."""

NULL_OF = {  # local: the counts redrawn around themselves; clean: the parish clean model
    "second_digit": "clean",
    "last_digit": "local",
    "counts_0_5": "local",
    "percent_0_5": "local",
    "integer_share": "local",
    "integer_turnout": "local",
    "fingerprint_incremental": "clean",
    "fingerprint_extreme": "clean",
    "neighbours": "clean",
}
ALTERNATIVE = {"second_digit": "two-sided"}  # every other test: large is suspicious
NORMAL_TAIL = {t: not t.startswith("fingerprint") for t in TESTS}  # f ≥ 0 has a point mass at 0


@dataclass(frozen=True)
class Spec:
    """One test of the battery: ``column`` is the candidate (None for turnout)."""

    test: str
    column: int | None
    n: int

    @property
    def null(self) -> str:
        return NULL_OF[self.test]

    @property
    def alternative(self) -> str:
        return ALTERNATIVE.get(self.test, "greater")


@dataclass(frozen=True)
class Counts:
    """A candidate's votes with the mesas' valid votes, voters and electors (0 = unknown)."""

    votes: NDArray[np.int64]
    valid: NDArray[np.int64]
    voters: NDArray[np.int64]
    electors: NDArray[np.int64]

    @classmethod
    def of(cls, election: Election, column: int) -> Counts:
        return cls(
            votes=election.votes[:, column],
            valid=election.valid,
            voters=election.voters,
            electors=np.nan_to_num(election.electors).astype(np.int64),
        )


@dataclass(frozen=True)
class Context:
    """What some statistics need besides the counts: the fingerprint's simulated components and
    the mesas' centres and parishes."""

    parts: dict[int, Components]
    centre: NDArray[np.int64] | None
    parish: NDArray[np.int64] | None


def qualifying(test: str, counts: Counts) -> int:
    """How many mesas the test uses. Example: ``qualifying("last_digit", counts)``."""
    v, n = counts.votes, counts.valid
    if test in DIGIT_TESTS:
        qualified = int(
            np.count_nonzero(v >= (SECOND_DIGIT_MIN if test == "second_digit" else LAST_DIGIT_MIN))
        )
        return qualified if qualified >= MIN_DIGIT_COVERAGE * np.count_nonzero(n > 0) else 0
    if test == "percent_0_5":
        return int(percent_ends_in_0_or_5(v, n, PERCENT_MIN_DENOMINATOR)[0])
    if test == "integer_share":
        return int(integer_percent_count(v, n, PERCENT_MIN_DENOMINATOR)[0])
    if test == "integer_turnout":
        return int(integer_percent_count(counts.voters, counts.electors, PERCENT_MIN_DENOMINATOR)[0])
    if test.startswith("fingerprint"):
        return int(np.count_nonzero((counts.electors > 0) & (n > 0)))
    return int(np.count_nonzero(n > 0))


def statistic(spec: Spec, counts: Counts, context: Context) -> NDArray[np.float64]:
    """The test's statistic (one per replicate along the last axis).
    Example: ``statistic(Spec("second_digit", 0, 0), counts, context)`` → mean second digit."""
    v, n, test = counts.votes, counts.valid, spec.test
    if test == "second_digit":
        return second_digit_mean(v, SECOND_DIGIT_MIN)
    if test == "last_digit":
        return last_digit_chi2(v, LAST_DIGIT_MIN)
    if test == "counts_0_5":
        return ends_in_0_or_5(v, LAST_DIGIT_MIN)[1].astype(np.float64)
    if test == "percent_0_5":
        return percent_ends_in_0_or_5(v, n, PERCENT_MIN_DENOMINATOR)[1].astype(np.float64)
    if test == "integer_share":
        return integer_percent_count(v, n, PERCENT_MIN_DENOMINATOR)[1].astype(np.float64)
    if test == "integer_turnout":
        return integer_percent_count(counts.voters, counts.electors, PERCENT_MIN_DENOMINATOR)[1].astype(
            np.float64
        )
    if test.startswith("fingerprint"):
        parts = context.parts[spec.column if spec.column is not None else 0]
        with np.errstate(invalid="ignore", divide="ignore"):
            electors = np.where(counts.electors > 0, counts.electors, np.nan)
            hist = fingerprint_histogram(counts.voters / electors, v / n, counts.voters, FIT_BINS)
        f_i, f_e, _ = fit_fractions(hist.reshape((*hist.shape[:-2], -1)), parts)
        return np.asarray(f_i if test == "fingerprint_incremental" else f_e, dtype=np.float64)
    if test == "neighbours":
        if context.centre is None:
            return np.full(v.shape[:-1], np.nan)
        z = neighbour_scores(v, n, context.centre, context.parish)
        return outlier_count(z, OUTLIER_Z).astype(np.float64)
    raise ValueError(f"unknown test {test!r}")


def textbook(spec: Spec, counts: Counts) -> float | None:
    """The value the literature compares with, without simulation (None where there is none):
    Benford's mean 4.187, chi-square's 9, 20 % of the counts, Σ 100/n integer hits, 0 stuffing."""
    test = spec.test
    if test == "second_digit":
        return BENFORD_SECOND_MEAN
    if test == "last_digit":
        return 9.0
    if test in ("counts_0_5", "percent_0_5"):
        return 0.2 * spec.n
    if test == "integer_share":
        return integer_percent_expected(counts.valid, counts.votes, PERCENT_MIN_DENOMINATOR)
    if test == "integer_turnout":
        return integer_percent_expected(counts.electors, counts.voters, PERCENT_MIN_DENOMINATOR)
    if test.startswith("fingerprint"):
        return 0.0
    return None
