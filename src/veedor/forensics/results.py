"""What the battery returns: one :class:`TestResult` per test (the JSON rows the issue names,
plus the Holm-adjusted p-value, the textbook reference and the calibration) and the
:class:`BatteryResult` around them, with the sentences that explain each.

Example: ``[row.to_dict() for row in result.tests]``; ``result.to_dict()["bulletins"]``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from numpy.typing import NDArray

from veedor.forensics import messages as m
from veedor.forensics.bulletin import BulletinFinding
from veedor.forensics.data import Election
from veedor.forensics.digits import second_digit_test
from veedor.forensics.fingerprint import KlimekEstimate
from veedor.forensics.messages import Message, join
from veedor.forensics.neighbours import OUTLIER_Z, Outlier
from veedor.forensics.power import Calibration
from veedor.forensics.specs import NORMAL_TAIL, SECOND_DIGIT_MIN, Counts, Spec, textbook

CORRECTION = "holm"
TAIL_MIN = 10
"""With fewer than this many replicates at or beyond the statistic, the p-value comes from the
replicates' normal approximation (their mean and sd) instead of their count."""
FINGERPRINT_MIN_FRACTION = 0.001
"""A fingerprint test flags only if its estimate is also at least 0.1 % of the mesas: the clean
model never puts a mesa at turnout and share both near 100 %, so a handful of genuine ones (a
small, united community) give a tiny estimate with a tiny p-value; stuffing in 1 % of the
mesas is estimated near 1 % (docs/forensics.md)."""


@dataclass
class TestResult:
    """One row of the report's ``tests`` (the first nine fields are the JSON the issue names)."""

    test: str
    candidate: str | None
    level: str
    n: int
    statistic: float
    expected: float
    p_value: float
    flag: bool
    explanation: str
    p_adjusted: float = math.nan
    reference: float | None = None
    reference_p_value: float | None = None
    null_sd: float = math.nan
    p_method: str = "monte carlo"
    reps: int = 0
    calibration: Calibration | None = None
    messages: list[Message] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return {
            "test": self.test,
            "candidate": self.candidate,
            "level": self.level,
            "n": self.n,
            "statistic": _finite(self.statistic),
            "expected": _finite(self.expected),
            "p_value": _finite(self.p_value),
            "flag": self.flag,
            "explanation": self.explanation,
            "p_adjusted": _finite(self.p_adjusted),
            "correction": CORRECTION,
            "reference": None if self.reference is None else _finite(self.reference),
            "reference_p_value": None if self.reference_p_value is None else _finite(self.reference_p_value),
            "null_sd": _finite(self.null_sd),
            "p_method": self.p_method,
            "reps": self.reps,
            "calibration": None if self.calibration is None else self.calibration.to_dict(),
            "can_tell": None if self.calibration is None else self.calibration.can_tell,
            "messages": [x.to_dict() for x in self.messages],
        }


def _finite(value: float) -> float | None:
    return float(value) if value is not None and math.isfinite(value) else None


@dataclass
class BatteryResult:
    """Everything :func:`run_battery` found. ``histograms``: the 100×100 voter-weighted
    fingerprints by candidate (for figures; not in the JSON)."""

    level: str
    alpha: float
    reps: int
    seed: int
    tests: list[TestResult]
    bulletins: list[BulletinFinding]
    fingerprints: list[KlimekEstimate]
    fingerprint_messages: dict[str, list[Message]]
    neighbours: list[Outlier]
    skipped: list[Message]
    timings: dict[str, float]
    histograms: dict[str, NDArray[np.float64]] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {
            "level": self.level,
            "alpha": self.alpha,
            "correction": CORRECTION,
            "reps": self.reps,
            "seed": self.seed,
            "tests": [t.to_dict() for t in self.tests],
            "bulletins": [b.to_dict() for b in self.bulletins],
            "fingerprint": [
                {
                    **{k: (list(v) if isinstance(v, tuple) else v) for k, v in vars(e).items()},
                    "explanation": join(self.fingerprint_messages[e.candidate]),
                    "messages": [x.to_dict() for x in self.fingerprint_messages[e.candidate]],
                }
                for e in self.fingerprints
            ],
            "neighbours": [vars(o) for o in self.neighbours],
            "skipped": [{"explanation": s.english(), **s.to_dict()} for s in self.skipped],
            "timings": dict(self.timings),
        }


def _fmt(value: float | None, digits: int = 3) -> str:
    if value is None or not math.isfinite(value):
        return "–"
    if 0 <= value < 1e-16:
        return "< 1e-16"
    if abs(value) >= 1000 or float(value).is_integer():
        return f"{value:,.0f}"
    return f"{value:.{digits}g}"


def _pct(value: float) -> str:
    return "–" if not math.isfinite(value) else f"{100 * value:.0f} %"


def make_result(
    spec: Spec,
    election: Election,
    level: str,
    observed: float,
    null: NDArray[np.float64],
    p: float,
    adjusted: float,
    alpha: float,
    reps: int,
    tests: int,
    calibration: Calibration | None,
) -> TestResult:
    name = None if spec.column is None else election.candidates[spec.column]
    counts = Counts.of(election, spec.column if spec.column is not None else 0)
    values = null[np.isfinite(null)]
    expected = float(values.mean()) if values.size else math.nan
    reference = textbook(spec, counts)
    reference_p = None
    if spec.test == "second_digit":
        reference_p = second_digit_test(counts.votes, SECOND_DIGIT_MIN).p_mean
    tiny = spec.test.startswith("fingerprint") and observed < FINGERPRINT_MIN_FRACTION
    flag = bool(adjusted < alpha) and not tiny
    reached = int(np.count_nonzero(values >= observed)) if spec.alternative == "greater" else TAIL_MIN
    method = "normal tail" if NORMAL_TAIL[spec.test] and reached < TAIL_MIN else "monte carlo"
    params = {"candidate": name or "-", "threshold": _fmt(OUTLIER_Z), "reference_p": _fmt(reference_p)}
    messages = [Message(m.WHAT[spec.test], params)]
    messages.append(
        Message(
            m.RESULT,
            {"statistic": _fmt(observed, 4), "expected": _fmt(expected, 4), "p_value": _fmt(p),
             "p_adjusted": _fmt(adjusted), "tests": str(tests)},
        )
    )  # fmt: skip
    if method == "normal tail":
        messages.append(Message(m.RESULT_NORMAL_TAIL, {"reps": str(reps)}))
    if tiny and adjusted < alpha:
        messages.append(
            Message(
                m.FINGERPRINT_TINY,
                {"estimate": f"{100 * observed:.4f} %", "mesas": f"{observed * spec.n:.1f}"},
            )
        )
    messages.append(Message(m.FLAGGED if flag else m.NOT_FLAGGED))
    messages.append(Message(m.LIMITS[spec.test], params))
    if calibration is not None:
        stuffing = {k: v for k, v in calibration.power.items() if not k.startswith("rounded")}
        power20 = max((v for k, v in stuffing.items() if k.endswith(" 20%")), default=math.nan)
        power5 = max((v for k, v in stuffing.items() if k.endswith(" 5%")), default=math.nan)
        rounded = calibration.power.get("rounded 5%", math.nan)
        messages.append(
            Message(
                m.CALIBRATION,
                {"fpr": _pct(calibration.false_positive_rate), "clean": str(calibration.sims),
                 "power": _pct(power20), "power5": _pct(power5), "rounded": _pct(rounded)},
            )
        )  # fmt: skip
        messages.append(Message(m.CAN_TELL if calibration.can_tell else m.CANNOT_TELL))
    return TestResult(
        test=spec.test, candidate=name, level=level, n=spec.n, statistic=observed, expected=expected,
        p_value=p, flag=flag, explanation=join(messages), p_adjusted=adjusted, reference=reference,
        reference_p_value=reference_p, null_sd=float(values.std(ddof=1)) if values.size > 1 else math.nan,
        p_method=method, reps=reps, calibration=calibration, messages=messages,
    )  # fmt: skip


def klimek_message(estimate: KlimekEstimate) -> list[Message]:
    """The sentences that explain a fingerprint estimate (one, or two when the fit is poor)."""
    if estimate.reason == "no_electors":
        return [
            Message(m.KLIMEK_NO_ELECTORS, {"candidate": estimate.candidate, "mesas": str(estimate.mesas)})
        ]
    params = {
        "candidate": estimate.candidate,
        "ratio": f"{estimate.residual_ratio:.1f}",
        "f_incremental": _pct3(estimate.f_incremental),
        "f_extreme": _pct3(estimate.f_extreme),
        "incremental_low": _pct3(estimate.interval_incremental[0]),
        "incremental_high": _pct3(estimate.interval_incremental[1]),
        "extreme_low": _pct3(estimate.interval_extreme[0]),
        "extreme_high": _pct3(estimate.interval_extreme[1]),
    }
    out = [Message(m.KLIMEK_ESTIMATED, params)]
    if estimate.reason == "poor_fit":
        out.append(Message(m.KLIMEK_POOR_FIT, {"ratio": params["ratio"]}))
    return out


def _pct3(value: float) -> str:
    return "–" if not math.isfinite(value) else f"{100 * value:.2f} %"
