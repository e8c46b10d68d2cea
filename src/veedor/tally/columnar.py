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
from sqlalchemy import case, delete, func, insert, select
from sqlalchemy.orm import Session

from veedor.definitions import ElectionDefinition
from veedor.store.portable import frame_of, total
from veedor.store.schema import ActaRecord, ActaVotes, CacheChecksum, GeoUnit, Mesa, ResultTable
from veedor.tally.aggregate import COVERAGE_COLUMNS, TallyResult
from veedor.tally.coverage import (
    REGISTRY_FROM_TABLE,
    LevelCoverage,
    finish_summary,
    pending_counts,
    registry_totals,
    verified_mesas,
)
from veedor.tally.sources import (
    MESA,
    NATIONAL,
    PRELIMINARY,
    SCAN,
    code_prefix,
    counted_states,
    resolve_source,
    unit_frame,
)

_MEMORY: dict[str, pl.DataFrame] = {}


def _registry_version(session: Session, definition: ElectionDefinition) -> tuple:
    # One scan; the weighted sum also changes when electors move between mesas.
    return tuple(
        session.execute(
            select(func.count(), total(Mesa.electors * (Mesa.number + 7))).where(
                Mesa.election == definition.id
            )
        ).one()
    )


def _geo_version(session: Session, definition: ElectionDefinition) -> tuple:
    return tuple(
        session.execute(
            select(
                func.count(),
                total(GeoUnit.mesas_total),
                total(func.length(GeoUnit.name) + func.length(GeoUnit.source)),
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
                    ActaRecord.election == definition.id,
                    ActaRecord.status.in_(counted_states(source)),
                )
            ).one()
        )
        # The counted numbers themselves, weighted by mesa: an edit of acta_votes by hand
        # changes the key, so tally and export never disagree over a stale snapshot.
        which = case(
            *((ActaVotes.candidate == c, i + 2) for i, c in enumerate(definition.candidate_codes)), else_=1
        )
        data += tuple(
            session.execute(
                select(func.count(), total(ActaVotes.votes * (ActaVotes.acta_pk % 9973 + 1) * which))
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
    """Memory, then Parquet next to the SQLite file if its SHA-256 is the one the database
    recorded when it was written, then ``build()`` (and store it, with its checksum)."""
    full = f"{name}-{key}"
    if full in _MEMORY:
        return _MEMORY[full]
    folder = _cache_dir(session)
    path = folder / f"{full}.parquet" if folder else None
    frame = _read_checked(session, path, full) if path is not None else None
    if frame is None:
        frame = build()
        if path is not None:
            path.parent.mkdir(exist_ok=True)
            tmp = path.with_suffix(".tmp")
            frame.write_parquet(tmp)
            _record_checksum(session, full, _file_sha256(tmp))
            tmp.replace(path)  # atomic: a reader never sees half a file
            for old in path.parent.glob(f"{name}-*.parquet"):
                if old != path:
                    old.unlink(missing_ok=True)
    for old_key in [k for k in _MEMORY if k.startswith(f"{name}-")]:
        del _MEMORY[old_key]  # one snapshot per kind bounds memory
    _MEMORY[full] = frame
    return frame


def _file_sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _read_checked(session: Session, path: Path, name: str) -> pl.DataFrame | None:
    if not path.exists():
        return None
    want = session.scalar(select(CacheChecksum.sha256).where(CacheChecksum.name == name))
    try:
        if want is None or _file_sha256(path) != want:
            return None
        return pl.read_parquet(path)
    except (OSError, pl.exceptions.PolarsError):
        return None  # unreadable: rebuilt from the database


def _record_checksum(session: Session, name: str, sha: str) -> None:
    """In a transaction of its own: a read-only command's session is not committed. A session
    that has written already holds SQLite's write lock, so there it goes in that session's
    transaction (if that rolls back, the checksum is lost and the snapshot simply rebuilt)."""
    mine = session.connection()
    if getattr(mine.connection.dbapi_connection, "in_transaction", False):
        mine.execute(delete(CacheChecksum).where(CacheChecksum.name == name))
        mine.execute(insert(CacheChecksum).values(name=name, sha256=sha))
        return
    with session.get_bind().engine.begin() as conn:
        conn.execute(delete(CacheChecksum).where(CacheChecksum.name == name))
        conn.execute(insert(CacheChecksum).values(name=name, sha256=sha))


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
        query = select(Mesa.centre, Mesa.electors).where(
            Mesa.election == definition.id, Mesa.electors.is_not(None)
        )
        return frame_of(session, query, {"centre": pl.Utf8, "electors": pl.Int64})

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
) -> pl.DataFrame:
    """(code, mesas with known electors, their electors) per unit of ``level``."""
    frame = registry_frame(session, definition, registry)
    return frame.group_by(unit_frame(definition, level).alias("code")).agg(
        pl.len().cast(pl.Int64).alias("_known"), pl.col("electors").sum().cast(pl.Int64).alias("_electors")
    )


def registry_units(
    session: Session, definition: ElectionDefinition, level: str, registry: tuple | None = None
) -> pl.DataFrame:
    """Every unit of a level the registry knows: code, name, mesas_total (None for units only a
    results table names), ``_listed`` (it has a registry total row), and its known electors.

    Cached by the versions of the geography and the per-mesa registry: it changes only when they
    do, and rebuilding it is most of a tally of 10^5 centres."""
    registry = registry or _registry_version(session, definition)
    geo_version = _geo_version(session, definition)
    key = _digest(session, f"{definition.id}|{level}|{geo_version}|{registry}")

    def build() -> pl.DataFrame:
        if level == NATIONAL:
            total = registry_totals(session, definition, NATIONAL)[""]
            units = pl.DataFrame(
                {"code": [""], "name": ["TOTAL"], "mesas_total": [total], "_listed": [True]},
                schema={"code": pl.Utf8, "name": pl.Utf8, "mesas_total": pl.Int64, "_listed": pl.Boolean},
            )
        else:
            listed = pl.col("source") != REGISTRY_FROM_TABLE
            units = (
                geo_frame(session, definition)
                .filter(pl.col("level") == level)
                .select(
                    "code",
                    "name",
                    pl.when(listed).then(pl.col("mesas_total")).cast(pl.Int64).alias("mesas_total"),
                    listed.alias("_listed"),
                )
            )
        return units.join(
            _registry_electors(session, definition, level, registry), on="code", how="full", coalesce=True
        ).with_columns(pl.col("_listed").fill_null(False))

    return _cached(session, f"units-{level}", key, build)


def _mesa_units(counted: pl.DataFrame) -> tuple[pl.DataFrame, LevelCoverage]:
    units = counted.select(
        "code",
        pl.lit(1, dtype=pl.Int64).alias("mesas_total"),
        pl.lit(1, dtype=pl.Int64).alias("mesas_ok"),
        pl.col("electors").alias("electors_covered"),
        pl.when(pl.col("electors") != 0).then(pl.col("electors")).alias("electors_total"),
        pl.lit(0, dtype=pl.Int64).alias("review"),
        pl.lit(0, dtype=pl.Int64).alias("conflict"),
    )
    return units, LevelCoverage(
        level=MESA,
        units_registry=units.height,
        registry_complete=False,
        notes=["nivel mesa: cobertura 1/1 / mesa level: coverage 1/1"],
    )


def tally_columnar(
    session: Session, definition: ElectionDefinition, level: str = NATIONAL, source: str = SCAN
) -> TallyResult:
    """Same result as :func:`veedor.tally.tally`, computed with Polars on the cached snapshot.

    Rows and coverage stay frames (:meth:`TallyResult.frame`); TallyRow objects are only built
    if a caller asks for ``rows``. Coverage follows
    :func:`veedor.tally.coverage.level_coverage` (the tests hold them equal)."""
    _, _, label = resolve_source(session, definition, source)
    registry = _registry_version(session, definition)
    frame = verified_frame(session, definition, source, registry)
    cands = list(definition.candidate_codes)
    counted = (
        frame.group_by(unit_frame(definition, level).alias("code"))
        .agg(
            *(pl.col(c).sum().cast(pl.Int64) for c in cands),
            pl.col("nulos").fill_null(0).sum().cast(pl.Int64),
            pl.len().cast(pl.Int64).alias("actas"),
            pl.col("electors").fill_null(0).sum().cast(pl.Int64),
            pl.col("electors").count().cast(pl.Int64).alias("mesas_with_electors"),
        )
        .filter(pl.col("actas") > 0)  # an empty frame still yields one group for a literal key
    )
    columns = ["code", "name", *cands, "nulos", "actas", "electors", "mesas_with_electors"]
    if level == MESA:
        names = (
            geo_frame(session, definition)
            .filter(pl.col("level") == definition.levels[-1].name)
            .select(pl.col("code").alias("_centre"), "name")
        )
        counted = counted.sort("code")
        units, summary = _mesa_units(counted)
        rows = (
            counted.with_columns(code_prefix(definition.centre_code_digits, "code").alias("_centre"))
            .join(names, on="_centre", how="left", maintain_order="left")
            .select(*columns)
            .join(units, on="code", how="left", maintain_order="left")
        )
        return TallyResult(
            level, source, label, definition.candidate_codes, coverage=summary, frame=rows, units=units
        )
    scan = source in (SCAN, PRELIMINARY)
    pending_rows = pending_counts(session, definition, level, source) if scan else {}
    pending = pl.DataFrame(
        [(c, r, k) for c, (r, k) in pending_rows.items()],
        schema={"code": pl.Utf8, "review": pl.Int64, "conflict": pl.Int64},
        orient="row",
    )
    known, total = pl.col("_known"), pl.col("mesas_total")
    every = (
        registry_units(session, definition, level, registry)
        .join(counted, on="code", how="full", coalesce=True)
        .join(pending, on="code", how="full", coalesce=True)
        # A unit is shown if the registry lists it, or it has counted or pending actas.
        .filter(pl.col("_listed") | pl.col("actas").is_not_null() | pl.col("review").is_not_null())
        .with_columns(
            pl.col("actas").fill_null(0).alias("mesas_ok"),
            pl.col("electors").fill_null(0).alias("electors_covered"),
            pl.when(known.is_not_null() & total.is_not_null() & (known >= total))
            .then(pl.col("_electors"))
            .alias("electors_total"),
            pl.col("review").fill_null(0),
            pl.col("conflict").fill_null(0),
        )
        .sort("code")
    )
    units = every.select("code", *COVERAGE_COLUMNS)
    rows = every.filter(pl.col("actas").is_not_null()).select(*columns, *COVERAGE_COLUMNS)
    if level == NATIONAL:
        rows = rows.with_columns(pl.lit("TOTAL").alias("name"))
    summary = LevelCoverage(
        level,
        units_registry=int(every["mesas_total"].is_not_null().sum()),
        units_without_ok=every.filter(pl.col("mesas_ok") == 0)["code"].to_list(),
        units_without_total=every.filter(total.is_null())["code"].to_list(),
    )
    national = registry_totals(session, definition, NATIONAL)[""]
    summary.registry_mesas = int(every["mesas_total"].sum() or 0) if level != NATIONAL else national
    finish_summary(summary, national, any_electors=bool((every["electors_total"].fill_null(0) != 0).any()))
    return TallyResult(
        level, source, label, definition.candidate_codes, coverage=summary, frame=rows, units=units
    )
