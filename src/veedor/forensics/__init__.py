"""Election forensics: the tests experts run on per-mesa results, each with a Monte Carlo null
matched to the real tables, calibrated, and explained. Plain functions over arrays; no database.

Example::

    from veedor.forensics import run_battery
    result = run_battery(votes, candidates, electors=re, centre=centro, parish=centro // 1000)
    for row in result.to_dict()["tests"]:
        print(row["test"], row["candidate"], row["p_value"], row["flag"])

See docs/forensics.md for each test, its reference, a worked example and the calibration.
"""

from veedor.forensics.battery import CORRECTION, BatteryResult, TestResult, battery, run_battery
from veedor.forensics.bulletin import (
    Bulletin,
    BulletinFinding,
    bulletin_arithmetic,
    bulletin_electors,
    bulletin_sequence,
    bulletin_sums,
    bulletin_vs_actas,
    check_bulletins,
    lattice_distance,
    rounding_probability,
)
from veedor.forensics.data import Election, aggregate
from veedor.forensics.digits import (
    BENFORD_SECOND,
    BENFORD_SECOND_MEAN,
    benford_second_digit_probabilities,
    last_digit,
    last_digit_chi2,
    last_digit_test,
    second_digit,
    second_digit_chi2,
    second_digit_mean,
    second_digit_test,
)
from veedor.forensics.fingerprint import (
    KlimekEstimate,
    estimate_stuffing,
    fingerprint_figure,
    fingerprint_histogram,
    fingerprint_png,
)
from veedor.forensics.heaping import (
    ends_in_0_or_5,
    integer_percent,
    integer_percent_count,
    percent_ends_in_0_or_5,
)
from veedor.forensics.messages import Message, all_msgids
from veedor.forensics.neighbours import neighbour_scores, rank_outliers
from veedor.forensics.nulls import CleanModel, fit_clean_model, resample_counts, simulate_election
from veedor.forensics.power import Calibration
from veedor.forensics.stats import holm, mc_p_value
from veedor.forensics.stuffing import stuff

__all__ = [
    "BENFORD_SECOND",
    "BENFORD_SECOND_MEAN",
    "CORRECTION",
    "BatteryResult",
    "Bulletin",
    "BulletinFinding",
    "Calibration",
    "CleanModel",
    "Election",
    "KlimekEstimate",
    "Message",
    "TestResult",
    "aggregate",
    "all_msgids",
    "battery",
    "benford_second_digit_probabilities",
    "bulletin_arithmetic",
    "bulletin_electors",
    "bulletin_sequence",
    "bulletin_sums",
    "bulletin_vs_actas",
    "check_bulletins",
    "ends_in_0_or_5",
    "estimate_stuffing",
    "fingerprint_figure",
    "fingerprint_histogram",
    "fingerprint_png",
    "fit_clean_model",
    "holm",
    "integer_percent",
    "integer_percent_count",
    "last_digit",
    "last_digit_chi2",
    "last_digit_test",
    "lattice_distance",
    "mc_p_value",
    "neighbour_scores",
    "percent_ends_in_0_or_5",
    "rank_outliers",
    "resample_counts",
    "rounding_probability",
    "run_battery",
    "second_digit",
    "second_digit_chi2",
    "second_digit_mean",
    "second_digit_test",
    "simulate_election",
    "stuff",
]
