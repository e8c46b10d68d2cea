"""What would the unverified tables need to give for the official result to be true?

For each candidate: official − verified = the votes the tables not yet verified would have to
give. That is impossible when it is negative (votes cannot be taken away), when it exceeds all
the valid votes the official figures leave for those tables, or when the votes needed exceed
their registered electors. Negative needs do not depend on any electorate figure, so they are
reported as holding for every electorate.

A bulletin that counted only part of the actas (``actas_pct`` < 100) is checked a second way:
whatever actas it left out, it must include at least ``k − unverified`` of the verified mesas,
so a candidate has at least the sum of his smallest such per-mesa counts (the *floor*).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import polars as pl
from sqlalchemy.orm import Session

from veedor.definitions import ElectionDefinition
from veedor.tally.columnar import verified_frame
from veedor.tally.compare import OTHERS, load_official
from veedor.tally.coverage import registry_totals


@dataclass
class CandidateNeed:
    candidate: str
    name: str
    official: int
    verified: int
    needed: int
    """Votes the unverified tables would have to give: official − verified."""
    share_of_remaining_valid: float | None
    """needed / (official valid − verified valid), in % (None if no valid votes remain)."""
    turnout_alone: dict[int, float]
    """electorate figure → needed / remaining electors, in %."""
    floor: int | None = None
    """Least votes the bulletin's own share of actas must hold (partial bulletins only)."""
    reasons: list[str] = field(default_factory=list)

    @property
    def possible(self) -> bool:
        return not self.reasons

    def electorate_free(self, partial: bool) -> bool:
        """Impossible whatever the electorate. For a bulletin of part of the actas only the floor
        test counts: its face-value needs assume it was the final count."""
        if partial:
            return "below_floor" in self.reasons
        return any(r in ("negative", "exceeds_remaining_valid") for r in self.reasons)


@dataclass
class Scenario:
    official_key: str
    source: str
    actas_pct: float | None
    mesas_total: int
    mesas_verified: int
    electors_verified: int
    electors_verified_unknown: int
    """Verified mesas whose registered electors are not known (their electors count as 0)."""
    electorates: dict[int, str]
    """Electorate figures tried → where each comes from."""
    remaining_valid: int | None
    remaining_voters: int | None
    candidates: list[CandidateNeed] = field(default_factory=list)
    turnout_needed: dict[int, float | None] = field(default_factory=dict)
    """Turnout the official totals imply for the unverified tables, per electorate figure, in %."""
    impossible_turnout: dict[int, bool] = field(default_factory=dict)

    @property
    def mesas_remaining(self) -> int:
        return self.mesas_total - self.mesas_verified

    @property
    def possible(self) -> bool:
        return all(c.possible for c in self.candidates) and not any(self.impossible_turnout.values())

    @property
    def partial(self) -> bool:
        return self.actas_pct is not None and self.actas_pct < 100

    @property
    def robust(self) -> bool:
        """Impossible for every electorate figure and, for a partial bulletin, whichever actas it left out."""
        return any(c.electorate_free(self.partial) for c in self.candidates)

    def remaining_electors(self, electorate: int) -> int:
        return max(electorate - self.electors_verified, 0)


def electorate_figures(
    definition: ElectionDefinition, official_electors: int | None, extra: list[int] | None = None
) -> dict[int, str]:
    figures: dict[int, str] = {}
    for value in extra or []:
        figures[value] = "línea de órdenes / command line"
    if official_electors:
        figures.setdefault(official_electors, "boletín / official source")
    spec = definition.raw.get("geography", {}).get("registered_electors") or {}
    if spec.get("value"):
        figures.setdefault(int(spec["value"]), "definición / definition")
    if spec.get("max"):
        figures.setdefault(int(spec["max"]), "definición, máximo / definition, most generous")
    return figures


def scenario(
    session: Session,
    definition: ElectionDefinition,
    official_key: str,
    source: str,
    *,
    electorates: list[int] | None = None,
    verified: pl.DataFrame | None = None,
) -> Scenario:
    official = load_official(session, definition, official_key)
    verified = verified if verified is not None else verified_frame(session, definition, source)
    national = official.units.filter(pl.col("level") == "national")
    if not national.height:
        from veedor.tally.compare import official_at_level

        national = official_at_level(official, definition, "national")
    off = national.row(0, named=True)
    mesas_total = registry_totals(session, definition, "national")[""] or verified.height
    sums = verified.select(pl.all().exclude("centre", "mesa", "evidence").sum()).row(0, named=True)
    lumped = [c for c in definition.candidate_codes if c not in official.candidates]
    figures = electorate_figures(
        definition, official.source.registered_electors or off.get("electors"), electorates
    )
    off_valid = off.get("valid")
    if off_valid is None and (not lumped or off.get("others") is not None):
        off_valid = sum(off[c] for c in official.candidates) + (off.get("others") or 0)
    remaining_valid = None if off_valid is None else off_valid - sums["valid"]
    off_voters = off.get("voters") or (
        off_valid + off["nulos"] if off_valid is not None and off.get("nulos") is not None else None
    )
    remaining_voters = None if off_voters is None else off_voters - sums["valid"] - (sums["nulos"] or 0)
    result = Scenario(
        official.source.key,
        source,
        official.source.actas_pct,
        mesas_total,
        verified.height,
        int(sums["electors"] or 0),
        int(verified["electors"].null_count()),
        figures,
        remaining_valid,
        remaining_voters,
    )
    groups = [(c, definition.candidate_name(c), [c]) for c in official.candidates]
    if lumped and off.get("others") is not None:
        groups.append((OTHERS, "otros / others", lumped))
    for code, name, members in groups:
        official_votes = int(off[code] if code != OTHERS else off["others"])
        ver = int(sum(sums[m] for m in members))
        need = CandidateNeed(code, name, official_votes, ver, official_votes - ver, None, {})
        if remaining_valid and remaining_valid > 0:
            need.share_of_remaining_valid = 100.0 * need.needed / remaining_valid
        for e in figures:
            rem = result.remaining_electors(e)
            need.turnout_alone[e] = 100.0 * need.needed / rem if rem else math.inf
        if need.needed < 0:
            need.reasons.append("negative")
        elif remaining_valid is not None and need.needed > max(remaining_valid, 0):
            need.reasons.append("exceeds_remaining_valid")
        if figures and need.needed > 0 and all(need.needed > result.remaining_electors(e) for e in figures):
            need.reasons.append("exceeds_electors")
        need.floor = _floor(verified, members, official.source.actas_pct, mesas_total)
        if need.floor is not None and official_votes < need.floor:
            need.reasons.append("below_floor")
        result.candidates.append(need)
    for e in figures:
        rem = result.remaining_electors(e)
        result.turnout_needed[e] = (
            100.0 * remaining_voters / rem if rem and remaining_voters is not None else None
        )
        result.impossible_turnout[e] = remaining_voters is not None and (
            remaining_voters < 0 or remaining_voters > rem
        )
    return result


def _floor(
    verified: pl.DataFrame, members: list[str], actas_pct: float | None, mesas_total: int
) -> int | None:
    """Least votes any set of ``actas_pct`` % of all mesas gives the candidate(s): it must contain
    at least k − (mesas not verified) verified mesas, at worst the ones where he got the fewest."""
    if actas_pct is None or actas_pct >= 100:
        return None
    k = math.floor(actas_pct / 100 * mesas_total)
    must = k - (mesas_total - verified.height)
    if must <= 0:
        return 0
    per_mesa = verified.select(pl.sum_horizontal(*members).alias("v"))["v"]
    return int(per_mesa.sort().head(must).sum())


def _fmt(n: float) -> str:
    return f"{n:,.0f}"


def sentences(s: Scenario) -> list[tuple[str, str]]:
    """One plain sentence per candidate, (Spanish, English), with the numbers."""
    out: list[tuple[str, str]] = []
    figures = sorted(s.electorates)
    rem_e = " / ".join(_fmt(s.remaining_electors(e)) for e in figures) or "?"
    for c in s.candidates:
        base_es = (
            f"{c.name}: el boletín {s.official_key} le da {_fmt(c.official)}; las {s.mesas_verified:,} "
            f"mesas verificadas ya le dan {_fmt(c.verified)}. Las {s.mesas_remaining:,} mesas no "
            f"verificadas tendrían que darle {_fmt(c.needed)} votos"
        )
        base_en = (
            f"{c.name}: bulletin {s.official_key} gives {_fmt(c.official)}; the {s.mesas_verified:,} "
            f"verified tables already give {_fmt(c.verified)}. The {s.mesas_remaining:,} unverified "
            f"tables would have to give {_fmt(c.needed)} votes"
        )
        if c.share_of_remaining_valid is not None and c.needed >= 0:
            base_es += f" ({c.share_of_remaining_valid:.1f} % de los {_fmt(s.remaining_valid or 0)} votos válidos que quedan)"
            base_en += (
                f" ({c.share_of_remaining_valid:.1f}% of the {_fmt(s.remaining_valid or 0)} valid votes left)"
            )
        turn = " / ".join(f"{c.turnout_alone[e]:.1f} %" for e in figures)
        if figures and c.needed > 0:
            base_es += f", es decir {turn} de sus {rem_e} electores"
            base_en += f", i.e. {turn} of their {rem_e} registered electors"
        why_es, why_en = [], []
        if s.partial and any(r != "below_floor" for r in c.reasons):
            why_es.append(f"si el boletín ({s.actas_pct} % de las actas) fuera el conteo final")
            why_en.append(f"if the bulletin ({s.actas_pct}% of the actas) were the final count")
        if "negative" in c.reasons:
            why_es.append("los votos no pueden ser negativos: ninguna distribución del resto lo hace posible")
            why_en.append("votes cannot be negative: no distribution of the rest can make it true")
        if "exceeds_remaining_valid" in c.reasons:
            why_es.append("más que todos los votos válidos que el propio boletín deja para esas mesas")
            why_en.append("more than all the valid votes the bulletin itself leaves for those tables")
        if "exceeds_electors" in c.reasons:
            why_es.append("más votos que electores")
            why_en.append("more votes than registered electors")
        if "below_floor" in c.reasons:
            why_es.append(
                f"aun contando solo el {s.actas_pct} % de las actas, las verificadas le dan al menos "
                f"{_fmt(c.floor or 0)}"
            )
            why_en.append(
                f"even counting only {s.actas_pct}% of the actas, the verified ones give at least "
                f"{_fmt(c.floor or 0)}"
            )
        if why_es:
            out.append(
                (
                    f"{base_es}: IMPOSIBLE ({'; '.join(why_es)}).",
                    f"{base_en}: IMPOSSIBLE ({'; '.join(why_en)}).",
                )
            )
        else:
            out.append((f"{base_es}: posible.", f"{base_en}: possible."))
    return out


def verdict(s: Scenario) -> tuple[str, str]:
    turnout = " / ".join(f"{v:.1f} %" if v is not None else "?" for v in s.turnout_needed.values())
    figures = " / ".join(_fmt(e) for e in s.electorates)
    if s.robust:
        partial_es = (
            f" y sean cuales sean las actas que el boletín ({s.actas_pct} %) dejó fuera" if s.partial else ""
        )
        partial_en = f" and whichever actas the bulletin ({s.actas_pct}%) left out" if s.partial else ""
        return (
            "Ninguna distribución de los votos de las mesas no verificadas puede hacer cierto el resultado "
            f"oficial {s.official_key}, sea cual sea el número de electores{partial_es}.",
            "No distribution of the unverified tables' votes can make the official result "
            f"{s.official_key} true, whatever the number of registered electors{partial_en}.",
        )
    if not s.possible:
        return (
            f"El resultado oficial {s.official_key} es imposible con {figures} electores "
            f"(participación necesaria en las mesas no verificadas: {turnout}).",
            f"The official result {s.official_key} is impossible with {figures} registered electors "
            f"(turnout needed in the unverified tables: {turnout}).",
        )
    return (
        f"El resultado oficial {s.official_key} no es aritméticamente imposible; participación necesaria en "
        f"las mesas no verificadas: {turnout}.",
        f"The official result {s.official_key} is not arithmetically impossible; turnout needed in the "
        f"unverified tables: {turnout}.",
    )
