"""The full calibration: simulate clean elections with the real tables' sizes and turnout spread,
and elections with incremental and extreme stuffing in 1 %, 5 % and 20 % of the mesas; run the
whole battery on each (Monte Carlo nulls refitted to each simulated election, as on real data);
report each test's false-positive rate and power.

Run: ``python -m veedor.forensics.calibrate V1.csv --sims 30 --seed 20240728`` (markdown tables).
Example: ``rows = calibrate(election, favoured=1, sims=30, seed=20240728)``.
"""

from __future__ import annotations

import argparse
import math
import sys
from collections import defaultdict
from collections.abc import Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass

import numpy as np

from veedor.forensics.battery import battery
from veedor.forensics.data import Election
from veedor.forensics.digits import last_digit_test, second_digit_test
from veedor.forensics.nulls import fit_clean_model, simulate_election
from veedor.forensics.stuffing import stuff

SCENARIOS: tuple[tuple[str, float], ...] = (
    ("clean", 0.0),
    ("incremental", 0.01),
    ("incremental", 0.05),
    ("incremental", 0.20),
    ("extreme", 0.01),
    ("extreme", 0.05),
    ("extreme", 0.20),
    ("rounded", 0.05),
)


@dataclass(frozen=True)
class Outcome:
    """One test on one simulated election: did it reject at α (raw p), after Holm, textbook p."""

    scenario: str
    test: str
    candidate: str | None
    raw: bool
    holm: bool
    textbook: bool | None


def _one(args: tuple[Election, int, str, float, int, int, float]) -> list[Outcome]:
    election, favoured, kind, fraction, seed, reps, alpha = args
    rng = np.random.default_rng(seed)
    model = fit_clean_model(election)
    sim = simulate_election(model, rng)
    if kind != "clean":
        sim, _ = stuff(sim, favoured, kind, fraction, rng)
    result = battery(sim, reps=reps, calibration_sims=0, alpha=alpha, seed=seed + 1, fingerprint_reps=reps)
    name = "clean" if kind == "clean" else f"{kind} {round(fraction * 100)}%"
    out = []
    for row in result.tests:
        textbook = None
        if row.test in ("second_digit", "last_digit") and row.candidate is not None:
            counts = sim.votes[:, sim.candidate(row.candidate)]
            p = (
                second_digit_test(counts).p_mean
                if row.test == "second_digit"
                else last_digit_test(counts).p_chi2
            )
            textbook = bool(p < alpha)
        out.append(Outcome(name, row.test, row.candidate, bool(row.p_value < alpha), row.flag, textbook))
    return out


def calibrate(
    election: Election,
    favoured: int,
    sims: int = 30,
    seed: int = 20240728,
    reps: int = 99,
    alpha: float = 0.05,
    workers: int = 2,
    scenarios: Sequence[tuple[str, float]] = SCENARIOS,
) -> list[Outcome]:
    """Every outcome of ``sims`` simulated elections per scenario (stuffing for column
    ``favoured``). Seeds: ``seed + 1000·scenario + sim`` (and +1 for the battery inside)."""
    tasks = [
        (election, favoured, kind, fraction, seed + 1000 * i + 2 * s, reps, alpha)
        for i, (kind, fraction) in enumerate(scenarios)
        for s in range(sims)
    ]
    with ProcessPoolExecutor(max_workers=workers) as pool:
        return [o for chunk in pool.map(_one, tasks) for o in chunk]


def rates(
    outcomes: Sequence[Outcome],
) -> dict[tuple[str, str | None], dict[str, tuple[float, float, float | None, int]]]:
    """(test, candidate) → scenario → (raw rejection rate, Holm rate, textbook rate, sims).
    With ``reps`` replicates the fingerprint's Monte Carlo p-value cannot go below 1/(reps + 1),
    so its Holm rate is only meaningful with reps ≥ tests/α."""
    grouped: dict[tuple[str, str | None], dict[str, list[Outcome]]] = defaultdict(lambda: defaultdict(list))
    for o in outcomes:
        grouped[(o.test, o.candidate)][o.scenario].append(o)
    table: dict[tuple[str, str | None], dict[str, tuple[float, float, float | None, int]]] = {}
    for key, by in grouped.items():
        table[key] = {}
        for scenario, rows in by.items():
            textbook = [r.textbook for r in rows if r.textbook is not None]
            table[key][scenario] = (
                float(np.mean([r.raw for r in rows])),
                float(np.mean([r.holm for r in rows])),
                float(np.mean(textbook)) if textbook else None,
                len(rows),
            )
    return table


def markdown(outcomes: Sequence[Outcome], scenarios: Sequence[tuple[str, float]] = SCENARIOS) -> str:
    """The calibration as markdown tables: raw p < α, and (second table) Holm-flagged."""
    table = rates(outcomes)
    names = ["clean" if k == "clean" else f"{k} {round(f * 100)}%" for k, f in scenarios]
    lines = []
    for title, index in (("rejection rate at raw p < 0.05", 0), ("flagged after Holm over the battery", 1)):
        lines += [
            f"**{title}**",
            "",
            "| test | candidate | " + " | ".join(names) + " |",
            "|---|---|" + "---|" * len(names),
        ]
        for (test, candidate), by in sorted(table.items(), key=lambda kv: (kv[0][0], str(kv[0][1]))):
            cells = []
            for n in names:
                value = by.get(n)
                cells.append("–" if value is None else f"{value[index]:.2f}")
            lines.append(f"| {test} | {candidate or '–'} | " + " | ".join(cells) + " |")
        lines.append("")
    lines += [
        "**textbook p < 0.05 (no simulation) on clean elections**",
        "",
        "| test | candidate | clean |",
        "|---|---|---|",
    ]
    for (test, candidate), by in sorted(table.items(), key=lambda kv: (kv[0][0], str(kv[0][1]))):
        clean = by.get("clean")
        if clean is not None and clean[2] is not None:
            lines.append(f"| {test} | {candidate} | {clean[2]:.2f} |")
    sims = {v[3] for by in table.values() for v in by.values()}
    lines.append("")
    lines.append(f"Simulated elections per scenario: {', '.join(str(s) for s in sorted(sims))}.")
    return "\n".join(lines)


def _load(path: str) -> Election:
    import csv

    with open(path, encoding="utf-8-sig", errors="replace") as handle:
        rows = list(csv.DictReader(handle))
    names = ["EG", "NM", "LM", "JABE", "JOBR", "AE", "CF", "DC", "EM", "BERA"]
    votes = np.array([[int(r[c]) for c in names] for r in rows])
    centre = np.array([int(r["CENTRO"]) for r in rows])
    electors = np.array([float(r.get("RE") or math.nan) for r in rows])
    nulls = np.array([int(r["VOTOS_NULOS"]) for r in rows])
    return Election.from_arrays(
        votes, names, electors=electors, nulls=nulls, centre=centre, parish=centre // 1000
    )


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("csv", help="a resultadosconvzla-style table with RE (V1)")
    parser.add_argument("--sims", type=int, default=30)
    parser.add_argument("--seed", type=int, default=20240728)
    parser.add_argument("--reps", type=int, default=99)
    parser.add_argument("--favoured", default="NM")
    parser.add_argument("--workers", type=int, default=2)
    args = parser.parse_args(argv)
    election = _load(args.csv)
    outcomes = calibrate(
        election,
        election.candidate(args.favoured),
        sims=args.sims,
        seed=args.seed,
        reps=args.reps,
        workers=args.workers,
    )
    sys.stdout.write(markdown(outcomes) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
