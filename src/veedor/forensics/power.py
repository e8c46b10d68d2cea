"""Calibration at the data's own size, beside every result: how often each test flags clean
elections and elections with stuffing, simulated from the clean model fitted to these data.

It is the quick version of :mod:`veedor.forensics.calibrate`: each simulated election is judged
against the Monte Carlo null already drawn for the real data (not a null refitted to it), and the
fingerprint reuses the real data's components. docs/forensics.md compares it with the full one.

Example: ``calibration = power_at_size(model, specs, nulls, context, rng, sims=10)``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from numpy.typing import NDArray

from veedor.forensics.data import Election
from veedor.forensics.digits import last_digit_test, second_digit_test
from veedor.forensics.nulls import CleanModel, resample_counts, simulate_election
from veedor.forensics.specs import (
    LAST_DIGIT_MIN,
    SECOND_DIGIT_MIN,
    Context,
    Counts,
    Spec,
    qualifying,
    statistic,
)
from veedor.forensics.stats import normal_sf
from veedor.forensics.stuffing import stuff

QUICK_SCENARIOS: tuple[tuple[str, float], ...] = (
    ("incremental", 0.05),
    ("incremental", 0.20),
    ("extreme", 0.05),
    ("extreme", 0.20),
    ("rounded", 0.05),
)
COUNTED = ("counts_0_5", "percent_0_5", "integer_share", "integer_turnout", "neighbours")
CAN_TELL_POWER = 0.5
"""A test 'can tell' at this size if stuffing in 20 % of the mesas (either kind) makes it flag at
least half the time at α = 0.05 (while its false-positive rate stays near α)."""


@dataclass(frozen=True)
class Calibration:
    """False-positive rate and power (share of simulated elections flagged at ``alpha``)."""

    sims: int
    alpha: float
    false_positive_rate: float
    power: dict[str, float]
    textbook_false_positive_rate: float | None = None
    notes: list[str] = field(default_factory=list)

    @property
    def can_tell(self) -> bool:
        strongest = [v for k, v in self.power.items() if k.endswith(" 20%") and not k.startswith("rounded")]
        return bool(strongest) and max(strongest) >= CAN_TELL_POWER

    def to_dict(self) -> dict[str, Any]:
        return {
            "sims": self.sims,
            "alpha": self.alpha,
            "false_positive_rate": self.false_positive_rate,
            "textbook_false_positive_rate": self.textbook_false_positive_rate,
            "power": dict(self.power),
            "can_tell": self.can_tell,
        }


def scenario_name(kind: str, fraction: float) -> str:
    """Example: ``scenario_name("extreme", 0.05)`` → "extreme 5%"."""
    return f"{kind} {round(fraction * 100)}%"


def favoured_for(spec: Spec, majors: Sequence[int], leader: int) -> int:
    """Whom the simulated stuffing favours when calibrating ``spec``: its own candidate if a
    major one, else the leader."""
    return spec.column if spec.column is not None and spec.column in majors else leader


def _textbook_reject(spec: Spec, counts: Counts, alpha: float) -> bool | None:
    if spec.test == "second_digit":
        return bool(second_digit_test(counts.votes, SECOND_DIGIT_MIN).p_mean < alpha)
    if spec.test == "last_digit":
        return bool(last_digit_test(counts.votes, LAST_DIGIT_MIN).p_chi2 < alpha)
    return None


LOCAL_REPS = 4


def _local_counts(counts: Counts, turnout: bool, rng: np.random.Generator) -> Counts:
    """A small local null of one simulated election (the candidate's counts, or the voters)."""
    if turnout:
        drawn = resample_counts(counts.voters, counts.electors, LOCAL_REPS, rng)
        return Counts(counts.votes, counts.valid, drawn, counts.electors)
    drawn = resample_counts(counts.votes, counts.valid, LOCAL_REPS, rng)
    return Counts(drawn, np.broadcast_to(counts.valid, drawn.shape), counts.voters, counts.electors)


def _local_reject(
    spec: Spec, value: float, local: Counts, real_null: NDArray[np.float64], context: Context, alpha: float
) -> bool:
    """One-sided normal test of ``value`` centred on the small local null ``local``, with the
    spread of the real data's null widened by √(1 + 1/reps) for the centre's own noise."""
    centre = float(np.nanmean(statistic(spec, local, context)))
    spread = float(np.nanstd(real_null, ddof=1)) * np.sqrt(1 + 1 / LOCAL_REPS)
    if not np.isfinite(value) or not spread > 0:
        return False
    return bool(normal_sf((value - centre) / spread) < alpha)


def power_at_size(
    model: CleanModel,
    specs: Sequence[Spec],
    nulls: dict[Spec, NDArray[np.float64]],
    p_value: Any,
    context: Context,
    rng: np.random.Generator,
    sims: int = 10,
    alpha: float = 0.05,
    scenarios: Sequence[tuple[str, float]] = QUICK_SCENARIOS,
) -> dict[Spec, Calibration]:
    """For every spec: the share of ``sims`` clean and stuffed simulated elections whose
    ``p_value(spec, statistic, null)`` is below ``alpha``."""
    election = model.source
    majors = election.major() or [election.leader()]
    leader = election.leader()
    clean_hits: dict[Spec, list[bool]] = {s: [] for s in specs}
    textbook_hits: dict[Spec, list[bool]] = {s: [] for s in specs}
    power_hits: dict[Spec, dict[str, list[bool]]] = {
        s: {scenario_name(*sc): [] for sc in scenarios} for s in specs
    }

    def judge(sim: Election, chosen: Sequence[Spec]) -> dict[Spec, bool]:
        out = {}
        local: dict[int | None, Counts] = {}  # one small local null per candidate (or turnout)
        for spec in chosen:
            counts = Counts.of(sim, spec.column if spec.column is not None else leader)
            value = float(statistic(spec, counts, context))
            if spec.null == "local":
                # the local null moves with the data's own coarse shape: centre it on this
                # simulated election's own (small) local null, not on the real data's
                if spec.column not in local:
                    local[spec.column] = _local_counts(counts, spec.column is None, rng)
                out[spec] = _local_reject(spec, value, local[spec.column], nulls[spec], context, alpha)
                continue
            if spec.test in COUNTED:
                # a count of hits grows with the mesas that qualify, and stuffing changes those:
                # judge the simulated rate at the real data's number of qualifying mesas
                value *= spec.n / max(qualifying(spec.test, counts), 1)
            out[spec] = bool(p_value(spec, value, nulls[spec]) < alpha)
        return out

    for _ in range(sims):
        sim = simulate_election(model, rng)
        for spec, hit in judge(sim, specs).items():
            clean_hits[spec].append(hit)
            reject = _textbook_reject(
                spec, Counts.of(sim, spec.column if spec.column is not None else leader), alpha
            )
            if reject is not None:
                textbook_hits[spec].append(reject)
        for favoured in majors:
            chosen = [s for s in specs if favoured_for(s, majors, leader) == favoured]
            for kind, fraction in scenarios:
                stuffed, _ = stuff(sim, favoured, kind, fraction, rng)
                for spec, hit in judge(stuffed, chosen).items():
                    power_hits[spec][scenario_name(kind, fraction)].append(hit)
    return {
        spec: Calibration(
            sims=sims,
            alpha=alpha,
            false_positive_rate=float(np.mean(clean_hits[spec])) if clean_hits[spec] else float("nan"),
            power={k: float(np.mean(v)) if v else float("nan") for k, v in power_hits[spec].items()},
            textbook_false_positive_rate=float(np.mean(textbook_hits[spec])) if textbook_hits[spec] else None,
        )
        for spec in specs
    }
