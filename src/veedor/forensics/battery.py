"""The whole battery in one call: every test per candidate, Monte Carlo p-values, Holm's
correction across the battery, the flag, the calibration at this size beside each result, the
fingerprint estimates, the neighbours' ranking and the bulletin checks.

Multiple testing: **Holm's step-down method** over all the tests of the battery (family-wise
error rate ≤ α under any dependence between them); the flag is Holm-adjusted p < α.

Example::

    result = run_battery(votes, ("EG", "NM", ...), electors=re, centre=centro, parish=centro // 1000)
    json.dumps(result.to_dict())
"""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager

import numpy as np
from numpy.typing import ArrayLike, NDArray

from veedor.forensics import messages as m
from veedor.forensics.bulletin import Bulletin, BulletinFinding, check_bulletins
from veedor.forensics.data import Election, aggregate
from veedor.forensics.fingerprint import KlimekEstimate, components, estimate_stuffing, observed_histogram
from veedor.forensics.messages import Message
from veedor.forensics.neighbours import Outlier, rank_outliers
from veedor.forensics.nulls import (
    fit_clean_model,
    resample_counts,
    simulate_turnout,
    simulate_votes,
)
from veedor.forensics.power import Calibration, power_at_size
from veedor.forensics.results import (
    CORRECTION,
    TAIL_MIN,
    BatteryResult,
    TestResult,
    klimek_message,
    make_result,
)
from veedor.forensics.specs import (
    DIGIT_TESTS,
    MIN_UNITS,
    NORMAL_TAIL,
    SHARE_TESTS,
    Context,
    Counts,
    Spec,
    qualifying,
    statistic,
)
from veedor.forensics.stats import holm, mc_p_value, normal_sf

NEIGHBOUR_REPS = 99
FINGERPRINT_REPS = 399
"""At most this many replicates for the fingerprint's null, and only as many as Holm over the
battery needs to reach α (tests/α + 1: 341 for V1's 17 tests)."""
THREADS = 2


def p_value(spec: Spec, observed: float, null: NDArray[np.float64]) -> float:
    """The Monte Carlo p-value, or (fewer than :data:`TAIL_MIN` replicates reach the statistic)
    the normal approximation of the replicates. Example: ``p_value(spec, 4.3, null_means)``."""
    values = null[np.isfinite(null)]
    mc = mc_p_value(observed, values, spec.alternative)
    if not NORMAL_TAIL[spec.test] or values.size < 2 or not math.isfinite(observed):
        return mc
    above, below = int(np.count_nonzero(values >= observed)), int(np.count_nonzero(values <= observed))
    reached = above if spec.alternative == "greater" else min(above, below)
    sd = float(values.std(ddof=1))
    if reached >= TAIL_MIN or sd <= 0:
        return mc
    z = (observed - float(values.mean())) / sd
    if spec.alternative == "greater":
        return float(normal_sf(z))
    return min(1.0, 2.0 * float(normal_sf(abs(z))))


class _Clock:
    """Seconds per step, summed over calls (and over threads: a step run on both cores at once
    counts both)."""

    def __init__(self) -> None:
        self.timings: dict[str, float] = {}
        self._lock = threading.Lock()

    @contextmanager
    def __call__(self, name: str) -> Iterator[None]:
        start = time.perf_counter()
        try:
            yield
        finally:
            with self._lock:
                self.timings[name] = self.timings.get(name, 0.0) + time.perf_counter() - start


def run_battery(
    votes: ArrayLike,
    candidates: Sequence[str],
    *,
    electors: ArrayLike | None = None,
    nulls: ArrayLike | None = None,
    centre: ArrayLike | None = None,
    parish: ArrayLike | None = None,
    ids: Sequence[str] | None = None,
    bulletins: Sequence[Bulletin] = (),
    registered: float | None = None,
    national_mesas: int | None = None,
    level: str = "mesa",
    reps: int = 199,
    calibration_sims: int = 10,
    alpha: float = 0.05,
    seed: int = 0,
    fingerprint_reps: int = FINGERPRINT_REPS,
) -> BatteryResult:
    """Run every test on plain per-mesa arrays (see :class:`Election` for their meaning).

    ``reps``: Monte Carlo replicates per null (the fingerprint's: ``fingerprint_reps``, enough for
    Holm to reach α without a normal tail); ``calibration_sims``: simulated elections per scenario
    for the calibration beside each result (0 leaves it out). Same seed, same result.
    Example: ``run_battery(votes, names, electors=re, centre=c, parish=c // 1000).tests[0].p_value``.
    """
    election = Election.from_arrays(
        votes, candidates, electors=electors, nulls=nulls, centre=centre, parish=parish, ids=ids
    )
    return battery(
        election,
        bulletins=bulletins,
        registered=registered,
        national_mesas=national_mesas,
        level=level,
        reps=reps,
        calibration_sims=calibration_sims,
        alpha=alpha,
        seed=seed,
        fingerprint_reps=fingerprint_reps,
    )


def plan(election: Election) -> tuple[list[Spec], list[Message]]:
    """Which tests run (enough qualifying mesas) and which are skipped, with why."""
    specs: list[Spec] = []
    skipped: list[Message] = []
    majors = election.major() or [election.leader()]
    for column, name in enumerate(election.candidates):
        counts = Counts.of(election, column)
        tests = list(DIGIT_TESTS) + (list(SHARE_TESTS) if column in majors else [])
        for test in tests:
            if test == "neighbours" and election.centre is None:
                continue
            n = qualifying(test, counts)
            if n >= MIN_UNITS:
                specs.append(Spec(test, column, n))
            elif column in majors:
                skipped.append(
                    Message(
                        m.SKIPPED, {"test": test, "candidate": name, "n": str(n), "minimum": str(MIN_UNITS)}
                    )
                )
    minors = [name for j, name in enumerate(election.candidates) if not any(s.column == j for s in specs)]
    if minors:
        skipped.append(Message(m.SKIPPED_MINOR, {"candidates": ", ".join(minors)}))
    n = qualifying("integer_turnout", Counts.of(election, 0))
    if n >= MIN_UNITS:
        specs.append(Spec("integer_turnout", None, n))
    else:
        skipped.append(
            Message(
                m.SKIPPED,
                {"test": "integer_turnout", "candidate": "-", "n": str(n), "minimum": str(MIN_UNITS)},
            )
        )
    return specs, skipped


def battery(
    election: Election,
    *,
    bulletins: Sequence[Bulletin] = (),
    registered: float | None = None,
    national_mesas: int | None = None,
    level: str = "mesa",
    reps: int = 199,
    calibration_sims: int = 10,
    alpha: float = 0.05,
    seed: int = 0,
    fingerprint_reps: int = FINGERPRINT_REPS,
) -> BatteryResult:
    """:func:`run_battery` on an :class:`Election`. Example: ``battery(election, seed=1)``."""
    clock = _Clock()
    rng = np.random.default_rng(seed)
    mesas = election
    election = aggregate(election, level)
    with clock("clean model fit"):
        model = fit_clean_model(election)
    specs, skipped = plan(election)
    majors = election.major() or [election.leader()]
    context = Context(parts={}, centre=election.centre, parish=election.parish)
    fingerprint_columns = sorted(
        {s.column for s in specs if s.test.startswith("fingerprint") and s.column is not None}
    )
    with clock("fingerprint"):
        for column in fingerprint_columns:
            context.parts[column] = components(model, column, rng)

    observed: dict[Spec, float] = {}
    null: dict[Spec, NDArray[np.float64]] = {}
    columns = sorted({s.column for s in specs if s.column is not None})
    # One child generator per candidate: the same seed gives the same draws whichever thread runs first.
    streams = dict(zip(columns, rng.spawn(len(columns)), strict=True))
    # The turnout null is the same for every candidate: drawn once, shared by their fingerprints.
    many = max(reps, min(fingerprint_reps, math.ceil(len(specs) / alpha) + 1))
    with clock("null draws: clean model"):
        turnout = simulate_turnout(model, many, rng.spawn(1)[0]) if fingerprint_columns else None

    def one_candidate(column: int) -> None:
        draw = streams[column]
        mine = [s for s in specs if s.column == column]
        real = Counts.of(election, column)
        if any(s.null == "clean" for s in mine):
            with clock("null draws: clean model"):
                if column in fingerprint_columns:
                    # f ≥ 0 has no normal tail: enough replicates that Holm over the battery can reach α
                    assert turnout is not None
                    voters, valid = turnout
                    drawn = simulate_votes(model, column, many, draw, valid=valid)
                else:
                    drawn = simulate_votes(model, column, reps, draw)
                    valid, voters = (
                        np.broadcast_to(real.valid, drawn.shape),
                        np.broadcast_to(real.voters, drawn.shape),
                    )
            clean = Counts(drawn, valid, voters, np.broadcast_to(real.electors, drawn.shape))
            for spec in (s for s in mine if s.null == "clean"):
                with clock(spec.test):
                    # the neighbours' statistic sorts every replicate: fewer of them, normal tail beyond
                    few = slice(0, NEIGHBOUR_REPS if spec.test == "neighbours" else reps)
                    if spec.test.startswith("fingerprint"):
                        few = slice(None)
                    null[spec] = statistic(spec, Counts(*(a[few] for a in vars(clean).values())), context)
        if any(s.null == "local" for s in mine):
            with clock("null draws: local"):
                drawn = resample_counts(real.votes, real.valid, reps, draw)
            local = Counts(drawn, np.broadcast_to(real.valid, drawn.shape), real.voters, real.electors)
            for spec in (s for s in mine if s.null == "local"):
                with clock(spec.test):
                    null[spec] = statistic(spec, local, context)
        for spec in mine:
            with clock(spec.test):
                observed[spec] = float(statistic(spec, real, context))

    # NumPy's random draws and sorts release the GIL: two threads use both cores of a laptop.
    with ThreadPoolExecutor(max_workers=THREADS) as pool:
        list(pool.map(one_candidate, columns))
    for spec in (s for s in specs if s.column is None):
        real = Counts.of(election, 0)
        with clock("null draws: local"):
            drawn = resample_counts(real.voters, real.electors, reps, rng)
        with clock(spec.test):
            null[spec] = statistic(spec, Counts(real.votes, real.valid, drawn, real.electors), context)
            observed[spec] = float(statistic(spec, real, context))

    calibration: dict[Spec, Calibration] = {}
    if calibration_sims > 0:
        with clock("calibration at this size"):
            calibration = power_at_size(
                model, specs, null, p_value, context, rng, sims=calibration_sims, alpha=alpha
            )

    raw = [p_value(s, observed[s], null[s]) for s in specs]
    adjusted = holm(np.nan_to_num(np.asarray(raw), nan=1.0))
    results = [
        make_result(
            spec,
            election,
            level,
            observed[spec],
            null[spec],
            p,
            float(q),
            alpha,
            reps,
            len(specs),
            calibration.get(spec),
        )
        for spec, p, q in zip(specs, raw, adjusted, strict=True)
    ]

    estimates: list[KlimekEstimate] = []
    fingerprint_messages: dict[str, list[Message]] = {}
    histograms: dict[str, NDArray[np.float64]] = {}
    with clock("fingerprint"):
        for column in majors:
            name = election.candidates[column]
            histograms[name] = observed_histogram(model, column, bins=100)
            estimate = estimate_stuffing(model, column, rng, context.parts.get(column))
            estimates.append(estimate)
            fingerprint_messages[name] = klimek_message(estimate)
    outliers: list[Outlier] = []
    if election.centre is not None:
        with clock("neighbours"):
            for column in majors:
                outliers += rank_outliers(
                    election.votes[:, column],
                    election.valid,
                    election.centre,
                    election.parish,
                    election.candidates[column],
                    election.ids,
                )
            outliers.sort(key=lambda o: -abs(o.z))
    findings: list[BulletinFinding] = []
    if bulletins:
        with clock("bulletins"):
            acta_votes = {name: mesas.votes[:, j] for j, name in enumerate(mesas.candidates)}
            findings = check_bulletins(bulletins, registered, acta_votes, mesas.valid, national_mesas)
    return BatteryResult(
        level=level, alpha=alpha, reps=reps, seed=seed, tests=results, bulletins=findings,
        fingerprints=estimates, fingerprint_messages=fingerprint_messages, neighbours=outliers,
        skipped=skipped, timings=clock.timings, histograms=histograms,
    )  # fmt: skip


__all__ = ["CORRECTION", "BatteryResult", "TestResult", "battery", "p_value", "plan", "run_battery"]
