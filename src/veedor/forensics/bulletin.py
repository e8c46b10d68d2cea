"""Bulletin arithmetic: are the announced counts exactly total × a round tenth of a percent,
how likely is that in an honest count (derivation in :data:`messages.BULLETIN_DERIVATION`), and
do the bulletins agree with each other, with their own sums, the registry and the verified actas.

Example::

    b1 = Bulletin("boletin-1", {"NM": 5150092, "EG": 4445978, "others": 462704})
    bulletin_arithmetic(b1).probability   # ≈ 9.9e-9
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray

from veedor.forensics import messages as m
from veedor.forensics.messages import Message, join
from veedor.forensics.stats import chi2_sf

TENTH_OF_A_PERCENT = 0.001


@dataclass(frozen=True)
class Bulletin:
    """An announced bulletin. ``votes``: every announced count (put the "others" block in as a
    count of its own); ``valid``: the total the shares refer to (the sum of ``votes`` if not
    given); ``pct``: announced percentages by the same keys, if any."""

    id: str
    votes: Mapping[str, int]
    valid: int | None = None
    pct: Mapping[str, float] = field(default_factory=dict)
    voters: int | None = None
    null_votes: int | None = None
    turnout_pct: float | None = None
    actas_pct: float | None = None

    @property
    def total(self) -> int:
        return int(self.valid) if self.valid is not None else int(sum(self.votes.values()))

    @classmethod
    def from_json(cls, entry: Mapping[str, Any]) -> Bulletin:
        """From an entry of ``shared/data/official/cne_bulletins_2024.json``.
        Example: ``Bulletin.from_json(json.load(f)["bulletins"][0])``."""
        votes = {str(k): int(v) for k, v in entry["votes"].items()}
        if entry.get("others_total") is not None:
            votes["others"] = int(entry["others_total"])
        return cls(
            id=str(entry["id"]),
            votes=votes,
            valid=entry.get("valid_votes"),
            pct={str(k): float(v) for k, v in entry.get("pct", {}).items()},
            voters=entry.get("voters"),
            null_votes=entry.get("null_votes"),
            turnout_pct=entry.get("turnout_pct"),
            actas_pct=entry.get("actas_transmitted_pct"),
        )


@dataclass(frozen=True)
class BulletinFinding:
    """One check of one bulletin (or pair). ``probability`` is the chance of what was seen in an
    honest count (arithmetic check), else None; ``consistent`` is False for a contradiction."""

    bulletin: str
    check: str
    probability: float | None
    consistent: bool
    messages: list[Message]

    @property
    def explanation(self) -> str:
        return join(self.messages)

    def to_dict(self) -> dict[str, Any]:
        return {
            "bulletin": self.bulletin,
            "check": self.check,
            "probability": self.probability,
            "consistent": self.consistent,
            "explanation": self.explanation,
            "messages": [x.to_dict() for x in self.messages],
        }


def _num(value: float) -> str:
    return f"{value:,.0f}" if float(value).is_integer() else f"{value:,.2f}"


def lattice_distance(count: int, total: int, step: float = TENTH_OF_A_PERCENT) -> tuple[float, int]:
    """(distance in votes from ``count`` to the nearest total × k·step, that k).
    Example: ``lattice_distance(5150092, 10058774)`` → (0.288, 512)."""
    spacing = total * step
    k = round(count / spacing)
    return abs(count - k * spacing), k


def rounding_probability(
    counts: Sequence[int], total: int, step: float = TENTH_OF_A_PERCENT
) -> tuple[float, float, list[float]]:
    """(probability, Fisher p-value, each count's probability) of counts at least this close to
    round multiples of ``step`` of ``total`` in an honest count.

    Each count: min(1, (2·⌊d⌋ + 1)/(T·step)), d from :func:`lattice_distance`. The counts sum to
    the total, so one is not free: the joint probability is the product over all counts but the
    one with the *smallest* probability (conservative). For all-exact counts it is (1/(T·step))^(m−1).
    A product of many probabilities is small even by chance, so the Fisher combination of the
    same factors (−2 Σ ln p ~ χ² with 2(m−1) degrees of freedom) says whether it is unusual.
    Example: ``rounding_probability([5150092, 4445978, 462704], 10058774)[0]`` ≈ 9.9e-9.
    """
    spacing = total * step
    each = [min(1.0, (2 * math.floor(lattice_distance(c, total, step)[0]) + 1) / spacing) for c in counts]
    free = sorted(each)[1:] if len(each) > 1 else each
    if not free:
        return 1.0, 1.0, each
    fisher = float(chi2_sf(-2.0 * sum(math.log(p) for p in free), 2 * len(free)))
    return math.prod(free), fisher, each


def bulletin_arithmetic(bulletin: Bulletin) -> BulletinFinding:
    """Is every count round(total × k/1000)? With the probability and its derivation.
    Example: ``bulletin_arithmetic(b1).consistent`` → False for bulletin 1 (suspiciously exact)."""
    total = bulletin.total
    counts = list(bulletin.votes.values())
    probability, fisher, each = rounding_probability(counts, total)
    details = []
    exact = True
    for (name, count), _p in zip(bulletin.votes.items(), each, strict=True):
        distance, k = lattice_distance(count, total)
        hit = count == round(total * k * TENTH_OF_A_PERCENT)
        exact &= hit
        nearest = round(total * k / 1000)
        details.append(
            f"{name} {count:,} = round({total:,} × {k / 10:.1f} %)"
            if hit
            else f"{name} {count:,}, {distance:,.0f} from round({total:,} × {k / 10:.1f} %) = {nearest:,}"
        )
    params = {
        "bulletin": bulletin.id,
        "total": f"{total:,}",
        "details": "; ".join(details),
        "probability": f"{probability:.3g}",
        "one_in": f"{1 / probability:,.0f}" if probability > 0 else "∞",
        "fisher": f"{fisher:.3g}",
    }
    derivation = Message(
        m.BULLETIN_DERIVATION,
        {
            "spacing": f"{total / 1000:,.1f}",
            "free": str(max(len(counts) - 1, 1)),
            "counts": str(len(counts)),
            "product": " × ".join(f"{p:.3g}" for p in sorted(each)[1:]) or f"{probability:.3g}",
        },
    )
    head = Message(m.BULLETIN_EXACT if exact else m.BULLETIN_NOT_EXACT, params)
    return BulletinFinding(bulletin.id, "arithmetic", probability, not exact, [head, derivation])


def bulletin_sums(bulletin: Bulletin) -> BulletinFinding:
    """Do the counts add up to the valid votes, valid + nulls to the voters, and do the announced
    percentages match the counts (to their decimals)? Example: ``bulletin_sums(b2).consistent``."""
    problems: list[str] = []
    checks: list[str] = []
    total = sum(bulletin.votes.values())
    if bulletin.valid is not None:
        (checks if total == bulletin.valid else problems).append(
            f"Σ counts {total:,} vs valid {bulletin.valid:,}"
        )
    if bulletin.voters is not None and bulletin.null_votes is not None and bulletin.valid is not None:
        both = bulletin.valid + bulletin.null_votes
        (checks if both == bulletin.voters else problems).append(
            f"valid + null {both:,} vs voters {bulletin.voters:,}"
        )
    for name, pct in bulletin.pct.items():
        if name not in bulletin.votes:
            continue
        decimals = len(f"{pct:.2f}".rstrip("0").split(".")[1]) if "." in f"{pct:.2f}".rstrip("0") else 0
        computed = 100 * bulletin.votes[name] / bulletin.total
        # announced percentages may be rounded to fewer decimals than they are printed with
        ok = (
            abs(computed - pct) <= 0.5 * 10 ** (-max(decimals, 1)) + 1e-9
            or abs(computed - pct) <= 0.005 + 1e-9
        )
        (checks if ok else problems).append(f"{name} {pct} % vs {computed:.3f} %")
    key = m.BULLETIN_SUMS_BAD if problems else m.BULLETIN_SUMS_OK
    text = "; ".join(problems or checks) or "-"
    return BulletinFinding(
        bulletin.id, "sums", None, not problems, [Message(key, {"bulletin": bulletin.id, "details": text})]
    )


def bulletin_sequence(earlier: Bulletin, later: Bulletin) -> BulletinFinding:
    """A later bulletin (more actas counted) cannot lower any count.
    Example: ``bulletin_sequence(b1, b2).consistent`` → True."""
    lower = [k for k, v in earlier.votes.items() if k in later.votes and later.votes[k] < v]
    if "others" in earlier.votes and "others" not in later.votes:
        rest = sum(v for k, v in later.votes.items() if k not in earlier.votes)
        if rest < earlier.votes["others"]:
            lower.append("others")
    params = {"earlier": earlier.id, "later": later.id, "names": ", ".join(lower)}
    key = m.BULLETIN_SEQUENCE_BAD if lower else m.BULLETIN_SEQUENCE_OK
    return BulletinFinding(f"{earlier.id}→{later.id}", "sequence", None, not lower, [Message(key, params)])


def bulletin_electors(bulletin: Bulletin, registered: float) -> BulletinFinding | None:
    """The electors implied by the announced voters and turnout, against a registry figure
    (consistent within 0.5 %). Example: ``bulletin_electors(b2, 21_321_805)``."""
    if bulletin.voters is None or not bulletin.turnout_pct:
        return None
    implied = bulletin.voters / (bulletin.turnout_pct / 100)
    difference = implied - registered
    params = {
        "bulletin": bulletin.id,
        "voters": f"{bulletin.voters:,}",
        "turnout": f"{bulletin.turnout_pct:.2f}",
        "implied": f"{implied:,.0f}",
        "registered": f"{registered:,.0f}",
        "difference": f"{abs(difference):,.0f}",
    }
    consistent = abs(difference) <= 0.005 * registered
    return BulletinFinding(bulletin.id, "electors", None, consistent, [Message(m.BULLETIN_ELECTORS, params)])


def _top_sum(values: NDArray[np.int64], k: int) -> int:
    """The sum of the ``k`` largest values (0 for k ≤ 0)."""
    if k <= 0:
        return 0
    k = min(k, values.size)
    return int(np.partition(values, values.size - k)[values.size - k :].sum())


def bulletin_vs_actas(
    bulletin: Bulletin,
    acta_votes: Mapping[str, ArrayLike],
    acta_valid: ArrayLike,
    national_mesas: int,
) -> BulletinFinding:
    """Can the bulletin and the verified actas (per-mesa arrays) both be right?

    A bulletin with ``actas_pct`` of the ``national_mesas`` counted may leave out up to
    k = ⌈(1 − actas_pct)·national_mesas⌉ verified mesas, so the checks take the worst case: the
    k verified mesas that help the bulletin most are left out. Contradictions: a candidate's
    bulletin count below its acta sum minus its k largest acta counts; or the bulletin leaving
    everyone else fewer votes than they have in the actas minus their k largest mesas.
    Everything is in valid votes (the bulletin's ``total``; ``acta_valid`` per mesa).
    Example: ``bulletin_vs_actas(b2, {"EG": eg, "NM": nm}, valid, 30026).consistent`` → False.
    """
    valid_by_mesa = np.asarray(acta_valid, dtype=np.int64)
    coverage = 1.0 if bulletin.actas_pct is None else bulletin.actas_pct / 100
    left_out = math.ceil((1 - coverage) * national_mesas - 1e-9)
    bulletin_valid = bulletin.total
    problems: list[Message] = []
    for name, count in bulletin.votes.items():
        if name not in acta_votes:
            continue
        mesa_votes = np.asarray(acta_votes[name], dtype=np.int64)
        floor = int(mesa_votes.sum()) - _top_sum(mesa_votes, left_out)
        if count < floor:
            problems.append(
                Message(
                    m.BULLETIN_ACTAS_BELOW,
                    {"name": name, "bulletin_votes": f"{count:,}", "acta_votes": f"{floor:,}"},
                )
            )
        rest = valid_by_mesa - mesa_votes
        rest_floor = int(rest.sum()) - _top_sum(rest, left_out)
        if bulletin_valid - count < rest_floor:
            problems.append(
                Message(
                    m.BULLETIN_ACTAS_ABOVE,
                    {"name": name, "left": f"{bulletin_valid - count:,}", "needed": f"{rest_floor:,}"},
                )
            )
    params = {
        "bulletin": bulletin.id,
        "mesas": f"{valid_by_mesa.size:,}",
        "left_out": f"{max(left_out, 0):,}",
    }
    if not problems:
        return BulletinFinding(bulletin.id, "actas", None, True, [Message(m.BULLETIN_ACTAS_OK, params)])
    return BulletinFinding(
        bulletin.id, "actas", None, False, [Message(m.BULLETIN_ACTAS_BAD, params), *problems]
    )


def check_bulletins(
    bulletins: Sequence[Bulletin],
    registered: float | None = None,
    acta_votes: Mapping[str, ArrayLike] | None = None,
    acta_valid: ArrayLike | None = None,
    national_mesas: int | None = None,
) -> list[BulletinFinding]:
    """Every bulletin check, in order: arithmetic and sums of each, the registry, the actas (per
    mesa arrays), then each consecutive pair.
    Example: ``check_bulletins([b1, b2], acta_votes={"EG": eg}, acta_valid=v, national_mesas=30026)``."""
    findings: list[BulletinFinding] = []
    for b in bulletins:
        findings += [bulletin_arithmetic(b), bulletin_sums(b)]
        if registered is not None and (electors := bulletin_electors(b, registered)) is not None:
            findings.append(electors)
        if acta_votes is not None and acta_valid is not None:
            mesas = national_mesas if national_mesas is not None else int(np.asarray(acta_valid).size)
            findings.append(bulletin_vs_actas(b, acta_votes, acta_valid, mesas))
    findings += [bulletin_sequence(a, b) for a, b in itertools.pairwise(bulletins)]
    return findings
