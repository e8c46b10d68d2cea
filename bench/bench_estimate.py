"""How often does the projection's 95 % interval contain the truth? Simulation on V2.

The population is every V2 mesa that has registered electors in V1 (24,530 mesas, all numbers
known). Each repetition hides 20 % of it (at random, by whole states, or by whole parishes),
projects the hidden part from the rest with :func:`veedor.tally.estimate.estimate`, and checks
the interval against the true totals, shares and margin. The baseline is the naive projection
(scale the verified shares up, no strata) measured on the same hidden sets.

Run:  PYTHONPATH=src python bench/bench_estimate.py [--reps 100]
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import polars as pl

from veedor.definitions import load_definition
from veedor.tally.estimate import hide, hide_modes, load_population, validate

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "samples" / "results"


def naive_error(population: pl.DataFrame, definition, mode: str, reps: int) -> float:  # type: ignore[no-untyped-def]
    """Mean |error| of EG's share when the verified shares are taken as the final ones."""
    truth = 100 * population["EG"].sum() / population["valid"].sum()
    total = 0.0
    for rep in range(reps):
        part = hide(population, definition, mode, 0.2, seed=rep)
        total += abs(100 * part["EG"].sum() / part["valid"].sum() - truth)
    return total / reps


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--reps", type=int, default=100)
    args = parser.parse_args()
    definition = load_definition("ve-2024-presidential")
    population = load_population(
        str(RESULTS / "RESULTADOS_2024_CSV_V2.csv"), str(RESULTS / "RESULTADOS_2024_CSV_V1.csv")
    )
    print(f"population: {population.height:,} mesas; hide 20 %; {args.reps} repetitions; strata: parish")
    header = f"{'hidden by':<10}{'weights':<10}" + "".join(
        f"{k:>9}" for k in ("EG", "NM", "EG%", "NM%", "EG-NM")
    )
    print("share of 95 % intervals that contain the truth")
    print(header + f"{'±EG% pp':>9}{'|err| pp':>9}{'naive':>8}{'s':>6}")
    for mode in hide_modes(definition):
        naive = naive_error(population, definition, mode, args.reps)
        for aux in ("mesas", "electors"):
            t = time.perf_counter()
            v = validate(population, definition, mode=mode, reps=args.reps, auxiliary=aux)
            rates = "".join(f"{v.rate(k):>9.2f}" for k in ("EG", "NM", "EG%", "NM%", "EG-NM"))
            print(
                f"{mode:<10}{aux:<10}{rates}{v.width['EG%'] / 2:>9.2f}{v.abs_error['EG%']:>9.2f}"
                f"{naive:>8.2f}{time.perf_counter() - t:>6.0f}"
            )


if __name__ == "__main__":
    main()
