"""The input of every test: per-mesa arrays, checked once.

Example: ``Election.from_arrays([[120, 80], [95, 101]], ("A", "B"), electors=[400, 380])``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike, NDArray

LEVELS = ("mesa", "centre", "parish")


def group_index(codes: ArrayLike) -> tuple[NDArray[np.int64], int]:
    """Dense 0-based group numbers for any codes, and how many groups.

    Example: ``group_index(["b", "a", "b"])`` → ``(array([1, 0, 1]), 2)``.
    """
    _, inverse = np.unique(np.asarray(codes), return_inverse=True)
    inverse = inverse.astype(np.int64).ravel()
    return inverse, int(inverse.max()) + 1 if inverse.size else 0


@dataclass(frozen=True)
class Election:
    """Per-mesa (or per-unit) results. ``votes`` has one column per candidate.

    ``electors`` is NaN where the registered electors are unknown (V2 rows that V1 lacks):
    tests that need turnout leave those rows out; the others use them. ``nulls`` are the null
    votes, so a unit's voters are ``valid + nulls``.
    """

    votes: NDArray[np.int64]
    candidates: tuple[str, ...]
    electors: NDArray[np.float64]
    nulls: NDArray[np.int64]
    centre: NDArray[np.int64] | None = None
    parish: NDArray[np.int64] | None = None
    ids: tuple[str, ...] | None = None

    @classmethod
    def from_arrays(
        cls,
        votes: ArrayLike,
        candidates: Sequence[str],
        *,
        electors: ArrayLike | None = None,
        nulls: ArrayLike | None = None,
        centre: ArrayLike | None = None,
        parish: ArrayLike | None = None,
        ids: Sequence[str] | None = None,
    ) -> Election:
        """Check and convert plain arrays (lists, NumPy, Polars columns' ``to_numpy()``).

        Example: ``Election.from_arrays(np.array([[3, 4]]), ["A", "B"])``.
        """
        counts = np.asarray(votes)
        if counts.ndim != 2:
            raise ValueError("votes must be 2-D: one row per mesa, one column per candidate")
        if counts.size and (not np.all(np.isfinite(counts)) or np.any(counts < 0)):
            raise ValueError("votes must be finite and non-negative")
        counts = counts.astype(np.int64)
        rows, columns = counts.shape
        if len(candidates) != columns:
            raise ValueError(f"{columns} vote columns but {len(candidates)} candidate names")
        elect = np.full(rows, np.nan) if electors is None else np.asarray(electors, dtype=np.float64).ravel()
        # An unknown or impossible electorate (zero, negative) counts as unknown.
        elect = np.where(np.isfinite(elect) & (elect > 0), elect, np.nan)
        null = np.zeros(rows, np.int64) if nulls is None else np.asarray(nulls).astype(np.int64).ravel()
        for name, array in (("electors", elect), ("nulls", null)):
            if array.shape != (rows,):
                raise ValueError(f"{name} must have one value per mesa ({rows})")
        if np.any(null < 0):
            raise ValueError("nulls must be non-negative")
        centre_index = None if centre is None else group_index(centre)[0]
        parish_index = None if parish is None else group_index(parish)[0]
        for name, index in (("centre", centre_index), ("parish", parish_index)):
            if index is not None and index.shape != (rows,):
                raise ValueError(f"{name} must have one code per mesa ({rows})")
        if ids is not None and len(ids) != rows:
            raise ValueError(f"ids must have one value per mesa ({rows})")
        return cls(
            votes=counts,
            candidates=tuple(str(c) for c in candidates),
            electors=elect,
            nulls=null,
            centre=centre_index,
            parish=parish_index,
            ids=None if ids is None else tuple(str(i) for i in ids),
        )

    @property
    def size(self) -> int:
        return int(self.votes.shape[0])

    @property
    def valid(self) -> NDArray[np.int64]:
        return np.asarray(self.votes.sum(axis=1), dtype=np.int64)

    @property
    def voters(self) -> NDArray[np.int64]:
        return self.valid + self.nulls

    @property
    def turnout(self) -> NDArray[np.float64]:
        """Voters over electors; NaN where the electors are unknown."""
        with np.errstate(invalid="ignore", divide="ignore"):
            return np.asarray(self.voters / self.electors, dtype=np.float64)

    def candidate(self, name: str) -> int:
        """Column of a candidate. Example: ``election.candidate("NM")`` → 1."""
        try:
            return self.candidates.index(name)
        except ValueError:
            raise KeyError(f"no candidate {name!r}; known: {', '.join(self.candidates)}") from None

    def leader(self) -> int:
        """Column of the candidate with most votes."""
        return int(np.argmax(self.votes.sum(axis=0)))

    def major(self, min_share: float = 0.05) -> list[int]:
        """Columns of the candidates with at least ``min_share`` of the valid votes, largest first."""
        totals = self.votes.sum(axis=0)
        share = totals / max(int(totals.sum()), 1)
        return [int(j) for j in np.argsort(-totals, kind="stable") if share[j] >= min_share]

    def groups(self) -> NDArray[np.int64]:
        """The units the null model pools over: the parish, else one national group."""
        return self.parish if self.parish is not None else np.zeros(self.size, np.int64)


def aggregate(election: Election, level: str) -> Election:
    """The same election summed to ``level`` ("mesa", "centre" or "parish").

    Electors of a unit are summed only when every mesa's is known (else unknown).
    Example: ``aggregate(election, "centre").size`` → the number of centres.
    """
    if level not in LEVELS:
        raise ValueError(f"level must be one of {', '.join(LEVELS)}")
    if level == "mesa":
        return election
    codes = election.centre if level == "centre" else election.parish
    if codes is None:
        raise ValueError(f"level {level!r} needs the {level} code of each mesa")
    unit, count = group_index(codes)
    votes = np.zeros((count, election.votes.shape[1]), np.int64)
    np.add.at(votes, unit, election.votes)
    nulls = np.bincount(unit, weights=election.nulls, minlength=count).astype(np.int64)
    known = np.nan_to_num(election.electors)
    summed = np.bincount(unit, weights=known, minlength=count)
    missing = np.bincount(unit, weights=np.isnan(election.electors), minlength=count)
    electors: NDArray[np.float64] = np.where(missing > 0, np.nan, summed).astype(np.float64)
    first = np.zeros(count, np.int64)
    first[unit[::-1]] = np.arange(election.size)[::-1]  # a representative mesa of each unit
    parish = None if election.parish is None else election.parish[first]
    centre = election.centre[first] if level == "centre" and election.centre is not None else None
    return Election(
        votes=votes,
        candidates=election.candidates,
        electors=electors,
        nulls=nulls,
        centre=centre,
        parish=parish,
        ids=None,
    )
