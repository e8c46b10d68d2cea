"""Tallies from a columnar snapshot of the verified mesas (Polars), for million-mesa elections.

SQLite sums 10 vote rows per mesa at a few million rows a second: fine for one country's
30,000 mesas, seconds for a million. The per-mesa wide frame (one row per mesa, one column per
candidate) is built once per version of the data and kept in memory and, for a SQLite file, as
Parquet next to it; every level is then a Polars group-by. The version key changes whenever
the counted data can change, so a snapshot is never stale: an imported table is immutable
(its SHA-256), scanned actas are keyed by their count and last update, the registry by its
mesas and electors.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from pathlib import Path

import polars as pl
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from veedor.definitions import ElectionDefinition
from veedor.model import ActaState
from veedor.store.schema import ActaRecord, GeoUnit, Mesa, ResultTable
from veedor.tally.aggregate import SCAN, TallyResult, TallyRow, resolve_source
from veedor.tally.coverage import (
    MESA,
    NATIONAL,
    REGISTRY_FROM_TABLE,
    level_coverage,
    verified_mesas,
)

_MEMORY: dict[str, pl.DataFrame] = {}


def _registry_version(session: Session, definition: ElectionDefinition) -> tuple:
    # One scan; the weighted sum also changes when electors move between mesas.
    return tuple(
        session.execute(
            select(func.count(), func.total(Mesa.electors * (Mesa.number + 7))).where(
                Mesa.election == definition.id
            )
        ).one()
    )


def _geo_version(session: Session, definition: ElectionDefinition) -> tuple:
    return tuple(
        session.execute(
            select(
                func.count(),
                func.total(GeoUnit.mesas_total),
                func.total(func.length(GeoUnit.name) + func.length(GeoUnit.source)),
            ).where(GeoUnit.election == definition.id)
        ).one()
    )


def _version(
    session: Session, definition: ElectionDefinition, source: str, registry: tuple | None = None
) -> str:
    kind, table_id, _ = resolve_source(session, definition, source)
    data: tuple
    if kind == SCAN:
        data = tuple(
            session.execute(
                select(func.count(), func.max(ActaRecord.updated_at), func.max(ActaRecord.id)).where(
                    ActaRecord.election == definition.id, ActaRecord.status == ActaState.OK.value
                )
            ).one()
        )
    else:
        data = tuple(
            session.execute(
                select(ResultTable.sha256, ResultTable.rows).where(ResultTable.id == table_id)
            ).one()
        )
    registry = registry or _registry_version(session, definition)
    return _digest(session, f"{definition.id}|{source}|{tuple(data)}|{registry}")


def _digest(session: Session, text: str) -> str:
    return hashlib.sha256(f"{session.get_bind().engine.url}|{text}".encode()).hexdigest()[:24]


def _cache_dir(session: Session) -> Path | None:
    url = session.get_bind().engine.url
    if url.get_backend_name() != "sqlite" or not url.database or url.database == ":memory:":
        return None
    db = Path(url.database).expanduser().resolve()
    return db.parent / f".{db.name}.veedor-cache"


def _cached(session: Session, name: str, key: str, build: Callable[[], pl.DataFrame]) -> pl.DataFrame:
    """Memory, then Parquet next to the SQLite file, then ``build()`` (and store it)."""
    full = f"{name}-{key}"
    if full in _MEMORY:
        return _MEMORY[full]
    folder = _cache_dir(session)
    path = folder / f"{full}.parquet" if folder else None
    if path is not None and path.exists():
        frame = pl.read_parquet(path)
    else:
        frame = build()
        if path is not None:
            path.parent.mkdir(exist_ok=True)
            tmp = path.with_suffix(".tmp")
            frame.write_parquet(tmp)
            tmp.replace(path)  # atomic: a reader never sees half a file
            for old in path.parent.glob(f"{name}-*.parquet"):
                if old != path:
                    old.unlink(missing_ok=True)
    for old_key in [k for k in _MEMORY if k.startswith(f"{name}-")]:
        del _MEMORY[old_key]  # one snapshot per kind bounds memory
    _MEMORY[full] = frame
    return frame


def verified_frame(
    session: Session, definition: ElectionDefinition, source: str, registry: tuple | None = None
) -> pl.DataFrame:
    """:func:`veedor.tally.coverage.verified_mesas`, cached by data version."""
    key = _version(session, definition, source, registry)
    return _cached(
        session,
        f"verified-{hashlib.sha256(source.encode()).hexdigest()[:8]}",
        key,
        lambda: verified_mesas(session, definition, source),
    )


def registry_frame(
    session: Session, definition: ElectionDefinition, registry: tuple | None = None
) -> pl.DataFrame:
    """Registered electors per mesa (centre, electors), cached by registry version."""
    registry = registry or _registry_version(session, definition)
    key = _digest(session, f"{definition.id}|{registry}")

    def build() -> pl.DataFrame:
        rows = session.execute(
            select(Mesa.centre, Mesa.electors).where(
                Mesa.election == definition.id, Mesa.electors.is_not(None)
            )
        ).all()
        return pl.DataFrame(rows, schema={"centre": pl.Utf8, "electors": pl.Int64}, orient="row")

    return _cached(session, "registry", key, build)


def geo_frame(session: Session, definition: ElectionDefinition) -> pl.DataFrame:
    """The geography units (code, level, name, mesas_total, source), cached by version."""
    key = _digest(session, f"{definition.id}|geo|{_geo_version(session, definition)}")

    def build() -> pl.DataFrame:
        rows = session.execute(
            select(GeoUnit.code, GeoUnit.level, GeoUnit.name, GeoUnit.mesas_total, GeoUnit.source).where(
                GeoUnit.election == definition.id
            )
        ).all()
        schema = {
            "code": pl.Utf8,
            "level": pl.Utf8,
            "name": pl.Utf8,
            "mesas_total": pl.Int64,
            "source": pl.Utf8,
        }
        return pl.DataFrame(rows, schema=schema, orient="row")

    return _cached(session, "geo", key, build)


def _registry_electors(
    session: Session, definition: ElectionDefinition, level: str, registry: tuple
) -> dict[str, tuple[int, int]]:
    frame = registry_frame(session, definition, registry)
    key = (
        pl.lit("")
        if level == NATIONAL
        else pl.col("centre").str.slice(0, definition.level(level).code_digits)
    )
    grouped = frame.group_by(key.alias("code")).agg(pl.len(), pl.col("electors").sum())
    return {c: (int(n), int(e)) for c, n, e in grouped.iter_rows()}


def tally_columnar(
    session: Session, definition: ElectionDefinition, level: str = NATIONAL, source: str = SCAN
) -> TallyResult:
    """Same result as :func:`veedor.tally.tally`, computed with Polars on the cached snapshot."""
    _, _, label = resolve_source(session, definition, source)
    registry = _registry_version(session, definition)
    frame = verified_frame(session, definition, source, registry)
    cands = list(definition.candidate_codes)
    if level == MESA:
        key = pl.format("{}.{}", pl.col("centre"), pl.col("mesa").cast(pl.Utf8).str.zfill(2))
    elif level == NATIONAL:
        key = pl.lit("")
    else:
        key = pl.col("centre").str.slice(0, definition.level(level).code_digits)
    grouped = (
        frame.group_by(key.alias("code"))
        .agg(
            pl.len().alias("actas"),
            pl.col("nulos").fill_null(0).sum(),
            pl.col("electors").fill_null(0).sum(),
            pl.col("electors").count().alias("with_electors"),
            *(pl.col(c).sum() for c in cands),
        )
        .sort("code")
        .filter(pl.col("actas") > 0)  # an empty frame still yields one group for a literal key
    )
    geo = geo_frame(session, definition)
    name_level = definition.levels[-1].name if level == MESA else level
    of_level = geo.filter(pl.col("level") == name_level)
    if level == NATIONAL:
        names: list[str | None] = ["TOTAL"] * grouped.height
    else:
        name_key = (
            pl.col("code").str.slice(0, definition.centre_code_digits) if level == MESA else pl.col("code")
        )
        names = (
            grouped.select(name_key.alias("code"))
            .join(of_level.select("code", "name"), on="code", how="left", maintain_order="left")["name"]
            .to_list()
        )
    # Column lists zipped into rows: ~3x faster than named row iteration for 10^5 units.
    columns = [grouped[c].to_list() for c in ("code", "nulos", "actas", "electors", "with_electors")]
    votes = [grouped[c].to_list() for c in cands]
    rows = [
        TallyRow(code, name, dict(zip(cands, vs, strict=True)), nulos, actas, electors, with_e)
        for code, name, nulos, actas, electors, with_e, vs in zip(
            *columns[:1], names, *columns[1:], zip(*votes, strict=True), strict=True
        )
    ]
    result = TallyResult(level, source, label, definition.candidate_codes, rows)
    counted = {row.code: (row.actas, row.electors) for row in rows}
    electors = None if level == MESA else _registry_electors(session, definition, level, registry)
    totals = None
    if level not in (MESA, NATIONAL):
        known = of_level.filter(pl.col("source") != REGISTRY_FROM_TABLE)
        totals = dict(zip(known["code"].to_list(), known["mesas_total"].to_list(), strict=True))
    cov, summary = level_coverage(
        session, definition, level, counted, scan=source == SCAN, electors=electors, totals=totals
    )
    for row in rows:
        row.coverage = cov.get(row.code)
    result.coverage, result.coverage_units = summary, cov
    return result
