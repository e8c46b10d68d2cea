"""Official figures against verified ones, per candidate and geography level, with the evidence.

Verified votes only grow as more actas are verified (votes are never negative), so a candidate
whose verified votes already exceed the official figure proves that figure wrong, whatever the
actas not yet seen say. The evidence list names the mesas (and their images) behind each number.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import polars as pl
from sqlalchemy import select
from sqlalchemy.orm import Session

from veedor.definitions import ElectionDefinition
from veedor.store.official import MESA, NATIONAL, OfficialSource, OfficialUnit, OfficialVotes
from veedor.tally.columnar import verified_frame
from veedor.tally.coverage import Coverage, level_coverage
from veedor.tally.sources import unit_frame

OTHERS = "others"
"""Pseudo-candidate: the candidates an official source lumps together."""


class OfficialError(LookupError):
    pass


@dataclass
class Official:
    source: OfficialSource
    units: pl.DataFrame
    """level, code, mesa, electors, voters, valid, nulos, others, one column per candidate (null: not given)."""
    candidates: tuple[str, ...]
    """Candidates the source gives separately."""

    @property
    def has_mesas(self) -> bool:
        return bool(self.units.filter(pl.col("level") == MESA).height)


@dataclass
class ComparisonRow:
    code: str
    name: str | None
    candidate: str
    official: int | None
    verified: int
    coverage: Coverage | None
    evidence_mesas: int

    @property
    def difference(self) -> int | None:
        """verified − official: positive means the verified actas already exceed the official figure."""
        return None if self.official is None else self.verified - self.official

    @property
    def proven_wrong(self) -> bool:
        return self.difference is not None and self.difference > 0


@dataclass
class Comparison:
    official_key: str
    level: str
    source: str
    rows: list[ComparisonRow] = field(default_factory=list)
    evidence: pl.DataFrame = field(default_factory=pl.DataFrame)
    """code, candidate, centre, mesa, verified, official (null without per-mesa official data),
    difference, evidence (image URL or SHA-256)."""
    notes: list[str] = field(default_factory=list)


def official_keys(session: Session, definition: ElectionDefinition) -> list[str]:
    q = select(OfficialSource.key).where(OfficialSource.election == definition.id).order_by(OfficialSource.id)
    return list(session.scalars(q))


def load_official(session: Session, definition: ElectionDefinition, key: str) -> Official:
    src = session.scalar(
        select(OfficialSource).where(
            OfficialSource.election == definition.id,
            (OfficialSource.key == key) | (OfficialSource.id == (int(key) if key.isdigit() else -1)),
        )
    )
    if src is None:
        known = ", ".join(official_keys(session, definition)) or "ninguno / none (use veedor import-official)"
        raise OfficialError(
            f"boletín desconocido / unknown official source {key!r}; conocidos / known: {known}"
        )
    cands = definition.candidate_codes
    units = pl.DataFrame(
        session.execute(
            select(
                OfficialUnit.id,
                OfficialUnit.level,
                OfficialUnit.code,
                OfficialUnit.mesa,
                OfficialUnit.electors,
                OfficialUnit.voters,
                OfficialUnit.valid,
                OfficialUnit.nulos,
                OfficialUnit.others,
            ).where(OfficialUnit.source_id == src.id)
        ).all(),
        schema={
            "id": pl.Int64,
            "level": pl.Utf8,
            "code": pl.Utf8,
            "mesa": pl.Int64,
            "electors": pl.Int64,
            "voters": pl.Int64,
            "valid": pl.Int64,
            "nulos": pl.Int64,
            "others": pl.Int64,
        },
        orient="row",
    )
    votes = pl.DataFrame(
        session.execute(
            select(OfficialVotes.unit_id, OfficialVotes.candidate, OfficialVotes.votes)
            .join(OfficialUnit, OfficialUnit.id == OfficialVotes.unit_id)
            .where(OfficialUnit.source_id == src.id)
        ).all(),
        schema={"id": pl.Int64, "candidate": pl.Utf8, "votes": pl.Int64},
        orient="row",
    )
    given = tuple(c for c in cands if c in set(votes["candidate"].to_list()))
    if votes.height:
        wide = votes.pivot(on="candidate", index="id", values="votes")
        units = units.join(wide, on="id", how="left")
    for c in cands:
        if c not in units.columns:
            units = units.with_columns(pl.lit(None, dtype=pl.Int64).alias(c))
    return Official(src, units.drop("id"), given)


def unit_expr(definition: ElectionDefinition, level: str, column: str = "centre") -> pl.Expr:
    return unit_frame(definition, level, column).alias("code")


def official_at_level(official: Official, definition: ElectionDefinition, level: str) -> pl.DataFrame:
    """The official figures of every unit of ``level``: as published there, else summed from mesas."""
    cols = ["valid", "nulos", "voters", "electors", "others", *definition.candidate_codes]
    direct = official.units.filter(pl.col("level") == level)
    if level == MESA:
        direct = direct.with_columns(unit_expr(definition, MESA, "code"))
    if direct.height:
        return direct.select("code", *cols)
    mesas = official.units.filter(pl.col("level") == MESA)
    if not mesas.height:
        return direct.select("code", *cols)
    return (
        mesas.with_columns(unit_expr(definition, level, "code"))
        .group_by("code")
        .agg(pl.col(c).sum() for c in cols)
    )


def compare(
    session: Session,
    definition: ElectionDefinition,
    official_key: str,
    source: str,
    level: str = NATIONAL,
    *,
    verified: pl.DataFrame | None = None,
) -> Comparison:
    official = load_official(session, definition, official_key)
    verified = verified if verified is not None else verified_frame(session, definition, source)
    cands = definition.candidate_codes
    listed = official.candidates
    lumped = [c for c in cands if c not in listed]
    ver = verified.with_columns(unit_expr(definition, level))
    if lumped:
        ver = ver.with_columns(pl.sum_horizontal(*lumped).alias(OTHERS))
    ver_units = ver.group_by("code").agg(
        pl.len().alias("mesas"),
        pl.col("electors").sum(),
        *(pl.col(c).sum() for c in (*cands, "valid", "nulos")),
        *([pl.col(OTHERS).sum()] if lumped else []),
    )
    off_units = official_at_level(official, definition, level)
    comparison = Comparison(official.source.key, level, source)
    if not off_units.height:
        comparison.notes.append(
            f"el boletín no da cifras a nivel {level} / the official source gives no figures at level {level}"
        )
        return comparison
    counted = {r["code"]: (r["mesas"], r["electors"] or 0) for r in ver_units.iter_rows(named=True)}
    cov, _ = level_coverage(session, definition, level, counted, scan=source == "scan", source=source)
    names = _names(session, definition)
    measures = [
        *listed,
        *([OTHERS] if lumped and official.units["others"].is_not_null().any() else []),
        "valid",
        "nulos",
    ]
    joined = off_units.join(ver_units, on="code", how="full", suffix="_ver", coalesce=True)
    for rec in joined.sort("code").iter_rows(named=True):
        for m in measures:
            off = rec.get(m)
            comparison.rows.append(
                ComparisonRow(
                    rec["code"],
                    names.get(rec["code"].split(".")[0], "TOTAL" if level == NATIONAL else None),
                    m,
                    None if off is None else int(off),
                    int(rec.get(f"{m}_ver") or 0),
                    cov.get(rec["code"]),
                    int(rec.get("mesas") or 0),
                )
            )
    comparison.evidence = _evidence(ver, official, definition, level, measures)
    if not official.has_mesas:
        comparison.notes.append(
            "sin datos oficiales por mesa: la evidencia son las mesas verificadas que suman cada cifra / "
            "no per-mesa official data: the evidence is the verified mesas that add up to each figure"
        )
    return comparison


def _evidence(
    ver: pl.DataFrame,
    official: Official,
    definition: ElectionDefinition,
    level: str,
    measures: list[str],
) -> pl.DataFrame:
    """Long table of the mesas behind each (unit, candidate) figure; with per-mesa official data,
    only the mesas where official and verified differ (or one of them is missing)."""
    keep = ["code", "centre", "mesa", "evidence", *measures]
    ver_long = ver.select(keep).unpivot(
        index=["code", "centre", "mesa", "evidence"],
        on=measures,
        variable_name="candidate",
        value_name="verified",
    )
    if not official.has_mesas:
        return (
            ver_long.with_columns(pl.lit(None, dtype=pl.Int64).alias("official"))
            .with_columns(pl.col("verified").alias("difference"))
            .filter(pl.col("verified") > 0)
            .sort(["code", "candidate", "verified"], descending=[False, False, True])
        )
    off = official.units.filter(pl.col("level") == MESA).rename({"code": "centre"})
    lumped = [c for c in definition.candidate_codes if c not in official.candidates]
    if lumped:
        off = off.with_columns(pl.coalesce(pl.col(OTHERS), pl.sum_horizontal(*lumped)).alias(OTHERS))
    off_long = (
        off.with_columns(unit_expr(definition, level))
        .select(["code", "centre", "mesa", *measures])
        .unpivot(
            index=["code", "centre", "mesa"],
            on=measures,
            variable_name="candidate",
            value_name="official",
        )
    )
    both = ver_long.join(off_long, on=["code", "centre", "mesa", "candidate"], how="full", coalesce=True)
    diff = pl.col("verified").fill_null(0) - pl.col("official").fill_null(0)
    return (
        both.with_columns(diff.alias("difference"))
        .filter((pl.col("difference") != 0) | pl.col("verified").is_null() | pl.col("official").is_null())
        .sort(["code", "candidate", "centre", "mesa"])
    )


def _names(session: Session, definition: ElectionDefinition) -> dict[str, str | None]:
    from veedor.store.schema import GeoUnit

    return dict(
        session.execute(select(GeoUnit.code, GeoUnit.name).where(GeoUnit.election == definition.id)).all()
    )
