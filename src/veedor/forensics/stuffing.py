"""Ballot stuffing as in Klimek et al.'s (2012) fraud model, applied to simulated elections.

* **incremental**: in an affected mesa a fraction x ~ U(0.05, 0.40) of the registered
  non-voters is added as votes for the favoured candidate;
* **extreme**: x ~ U(0.80, 1.00) of the non-voters is added *and* the same fraction x of the
  other candidates' votes is moved to the favoured one (turnout and share both near 100 %).

And one kind of made-up numbers, for the heaping tests (Kobak et al. 2016):

* **rounded**: the favoured candidate's count is replaced by the count that makes the nearest
  whole-number percentage of the mesa's valid votes (the difference taken from, or given back to,
  the other candidates in proportion); the valid votes and turnout do not change.

Example: ``stuff(election, favoured=1, kind="extreme", fraction=0.05, rng=rng)``.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np
from numpy.typing import NDArray

from veedor.forensics.data import Election

KINDS = ("incremental", "extreme")
FABRICATIONS = ("rounded",)
INCREMENTAL_X = (0.05, 0.40)
EXTREME_X = (0.80, 1.00)


@dataclass(frozen=True)
class Stuffing:
    """Which mesas were stuffed and by how much (x: the fraction of non-voters added)."""

    mesas: NDArray[np.int64]
    x: NDArray[np.float64]


def stuff_counts(
    voters: NDArray[np.int64],
    electors: NDArray[np.float64],
    favoured: NDArray[np.int64],
    others: NDArray[np.int64],
    kind: str,
    x: NDArray[np.float64],
) -> tuple[NDArray[np.int64], NDArray[np.int64], NDArray[np.int64]]:
    """(voters, favoured's votes, others' votes) after stuffing with fractions ``x`` (arrays of
    the same shape). Mesas with unknown electors get no added ballots (only, if extreme, moved
    votes). Example: ``stuff_counts(v, e, f, o, "incremental", x)``."""
    if kind not in KINDS:
        raise ValueError(f"kind must be one of {', '.join(KINDS)}")
    absent = np.where(np.isfinite(electors), np.maximum(np.nan_to_num(electors) - voters, 0), 0)
    added = np.floor(x * absent).astype(np.int64)
    moved = np.floor(x * others).astype(np.int64) if kind == "extreme" else np.zeros_like(others)
    return voters + added, favoured + added + moved, others - moved


def stuff(
    election: Election, favoured: int, kind: str, fraction: float, rng: np.random.Generator
) -> tuple[Election, Stuffing]:
    """Stuff (or, kind "rounded", round) a random ``fraction`` of the mesas for candidate column
    ``favoured``. Other candidates lose moved votes in proportion to their counts.
    Example: ``stuffed, where = stuff(election, 1, "incremental", 0.2, rng)``."""
    if kind not in KINDS + FABRICATIONS:
        raise ValueError(f"kind must be one of {', '.join(KINDS + FABRICATIONS)}")
    count = round(fraction * election.size)
    mesas = np.sort(rng.choice(election.size, size=count, replace=False)).astype(np.int64)
    votes = election.votes.copy()
    rows = votes[mesas]
    others = rows.sum(axis=1) - rows[:, favoured]
    if kind == "rounded":
        valid = rows.sum(axis=1)
        percent = (200 * rows[:, favoured] + np.maximum(valid, 1)) // (2 * np.maximum(valid, 1))
        target = np.clip((2 * percent * valid + 100) // 200, 0, valid)  # round(k·n/100), half up
        x = np.zeros(count)
        new_favoured, new_others = target, valid - target
    else:
        low, high = INCREMENTAL_X if kind == "incremental" else EXTREME_X
        x = rng.uniform(low, high, size=count)
        # The voters follow from the votes: every added ballot is a valid one.
        _, new_favoured, new_others = stuff_counts(
            election.voters[mesas], election.electors[mesas], rows[:, favoured], others, kind, x
        )
    # Move the difference from (or back to) the other candidates in proportion to what each had;
    # whole votes of it, the rounding remainder to the largest (nothing moves if nothing must).
    rest = np.delete(np.arange(votes.shape[1]), favoured)
    delta = new_others - others
    with np.errstate(invalid="ignore", divide="ignore"):
        share = np.where(others[:, None] > 0, rows[:, rest] / np.maximum(others, 1)[:, None], 0.0)
    # Takes round up and gifts down, so the remainder is always given back: nobody goes below 0.
    portion = share * np.abs(delta)[:, None]
    moved = np.where(delta[:, None] < 0, -np.ceil(portion - 1e-9), np.floor(portion + 1e-9)).astype(np.int64)
    moved[np.arange(count), np.argmax(rows[:, rest], axis=1)] += delta - moved.sum(axis=1)
    kept = rows[:, rest] + moved
    rows[:, rest] = kept
    rows[:, favoured] = new_favoured
    votes[mesas] = rows
    return replace(election, votes=votes), Stuffing(mesas=mesas, x=x)
