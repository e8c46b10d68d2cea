"""The tally's result (:class:`TallyResult`), and the tally as one SQL group-by per level
(:func:`tally_sql`): the reference :func:`veedor.tally.tally` (columnar) is held equal to."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import polars as pl
from sqlalchemy import Select, func, select
from sqlalchemy.orm import Session

from veedor.definitions import ElectionDefinition
from veedor.store.schema import ActaRecord, ActaVotes, GeoUnit, Mesa, ResultRow, ResultVotes
from veedor.tally.coverage import Coverage, LevelCoverage, attach_coverage
from veedor.tally.sources import MESA, SCAN, counted_states, resolve_source, unit_sql


@dataclass
class TallyRow:
    code: str
    name: str | None
    votes: dict[str, int]
    nulos: int
    actas: int
    electors: int
    """Registered electors of the counted mesas, where known."""
    mesas_with_electors: int
    coverage: Coverage | None = None
    """Mesas and electors of the unit these actas represent (see :mod:`veedor.tally.coverage`)."""

    @property
    def valid(self) -> int:
        return sum(self.votes.values())

    def pct(self, candidate: str) -> float | None:
        return 100.0 * self.votes[candidate] / self.valid if self.valid else None


COVERAGE_COLUMNS = ("mesas_total", "mesas_ok", "electors_covered", "electors_total", "review", "conflict")
"""Coverage columns of :meth:`TallyResult.frame` (``mesas_ok`` null: the row has no coverage)."""


class TallyResult:
    """One tally level. Rows and per-unit coverage can come as Python objects (SQL tally) or as
    Polars frames (columnar tally); each form is built from the other only when asked for, so a
    400,000-centre tally need not create 400,000 objects to be printed as CSV."""

    def __init__(
        self,
        level: str,
        source: str,
        source_label: str,
        candidates: tuple[str, ...],
        rows: list[TallyRow] | None = None,
        coverage: LevelCoverage | None = None,
        coverage_units: dict[str, Coverage] | None = None,
        *,
        frame: pl.DataFrame | None = None,
        units: pl.DataFrame | None = None,
    ) -> None:
        self.level = level
        self.source = source
        self.source_label = source_label
        self.candidates = candidates
        self.coverage = coverage
        self._rows = rows if rows is not None or frame is not None else []
        self._frame = frame
        self._units_dict = coverage_units if coverage_units is not None or units is not None else {}
        self._units = units

    @property
    def rows(self) -> list[TallyRow]:
        if self._rows is None:
            self._rows = _rows_of(self.frame(), self.candidates)
        return self._rows

    @rows.setter
    def rows(self, rows: list[TallyRow]) -> None:
        self._rows, self._frame = rows, None

    @property
    def coverage_units(self) -> dict[str, Coverage]:
        """Coverage of every unit of the level, also those with no counted acta (not in ``rows``)."""
        if self._units_dict is None:
            assert self._units is not None
            self._units_dict = {
                rec[0]: Coverage(*rec) for rec in self._units.select("code", *COVERAGE_COLUMNS).iter_rows()
            }
        return self._units_dict

    @coverage_units.setter
    def coverage_units(self, units: dict[str, Coverage]) -> None:
        self._units_dict, self._units = units, None

    def __len__(self) -> int:
        return self._frame.height if self._rows is None and self._frame is not None else len(self.rows)

    def frame(self) -> pl.DataFrame:
        """One row per counted unit: code, name, candidates, nulos, actas, electors,
        mesas_with_electors and :data:`COVERAGE_COLUMNS`."""
        if self._frame is None:
            self._frame = _frame_of(self.rows, self.candidates)
        return self._frame

    def __repr__(self) -> str:
        return f"TallyResult(level={self.level!r}, source={self.source!r}, units={len(self)})"


def _frame_of(rows: list[TallyRow], candidates: tuple[str, ...]) -> pl.DataFrame:
    nullable = pl.Int64
    schema = {
        "code": pl.Utf8,
        "name": pl.Utf8,
        **dict.fromkeys(candidates, pl.Int64),
        "nulos": pl.Int64,
        "actas": pl.Int64,
        "electors": pl.Int64,
        "mesas_with_electors": pl.Int64,
        **dict.fromkeys(COVERAGE_COLUMNS, nullable),
    }
    none = (None,) * len(COVERAGE_COLUMNS)
    data = [
        (
            r.code,
            r.name,
            *(r.votes[c] for c in candidates),
            r.nulos,
            r.actas,
            r.electors,
            r.mesas_with_electors,
            *(
                (
                    r.coverage.mesas_total,
                    r.coverage.mesas_ok,
                    r.coverage.electors_covered,
                    r.coverage.electors_total,
                    r.coverage.review,
                    r.coverage.conflict,
                )
                if r.coverage is not None
                else none
            ),
        )
        for r in rows
    ]
    return pl.DataFrame(data, schema=schema, orient="row")


def _rows_of(frame: pl.DataFrame, candidates: tuple[str, ...]) -> list[TallyRow]:
    # Column lists zipped into rows: ~3x faster than named row iteration for 10^5 units.
    base = [frame[c].to_list() for c in ("code", "name", "nulos", "actas", "electors", "mesas_with_electors")]
    votes = zip(*(frame[c].to_list() for c in candidates), strict=True)
    cover = zip(*(frame[c].to_list() for c in COVERAGE_COLUMNS), strict=True)
    rows = []
    for code, name, nulos, actas, electors, with_e, vs, cov in zip(*base, votes, cover, strict=True):
        coverage = Coverage(code, *cov) if cov[1] is not None else None
        rows.append(
            TallyRow(
                code, name, dict(zip(candidates, vs, strict=True)), nulos, actas, electors, with_e, coverage
            )
        )
    return rows


def _grouped(definition: ElectionDefinition, level: str, centre_col: Any, mesa_col: Any) -> tuple[Any, ...]:
    """The GROUP BY keys of a level: a code prefix, or (centre, mesa) for single mesas."""
    if level == MESA:
        return (centre_col.label("code"), mesa_col.label("mesa_no"))
    return (unit_sql(definition, level, centre_col).label("code"),)


def tally_sql(
    session: Session, definition: ElectionDefinition, level: str = "national", source: str = SCAN
) -> TallyResult:
    """The tally as SQL group-bys, row objects first: the reference implementation (the tests
    hold :func:`veedor.tally.tally` equal to it); use :func:`veedor.tally.tally`."""
    kind, table_id, label = resolve_source(session, definition, source)
    base: Any
    votes: Any
    electors_expr: Any
    if kind == SCAN:
        base, votes = ActaRecord, ActaVotes
        where = [ActaRecord.election == definition.id, ActaRecord.status.in_(counted_states(source))]
        centre, mesa, nulos = ActaRecord.centre, ActaRecord.mesa, ActaRecord.nulos
        join_votes = ActaVotes.acta_pk == ActaRecord.id
        vote_cols = (ActaVotes.candidate, ActaVotes.votes)
        electors_expr = Mesa.electors
    else:
        base, votes = ResultRow, ResultVotes
        where = [ResultRow.table_id == table_id]
        centre, mesa, nulos = ResultRow.centre, ResultRow.mesa, ResultRow.nulos
        join_votes = ResultVotes.row_id == ResultRow.id
        vote_cols = (ResultVotes.candidate, ResultVotes.votes)
        electors_expr = func.coalesce(ResultRow.electors, Mesa.electors)
    keys = _grouped(definition, level, centre, mesa)
    mesa_join = (Mesa.election == definition.id) & (Mesa.centre == centre) & (Mesa.number == mesa)
    per_unit: Select = (
        select(
            *keys,
            func.count().label("actas"),
            func.coalesce(func.sum(nulos), 0).label("nulos"),
            func.coalesce(func.sum(electors_expr), 0).label("electors"),
            func.count(electors_expr).label("with_electors"),
        )
        .select_from(base)
        .outerjoin(Mesa, mesa_join)
        .where(*where)
        .group_by(*keys)
    )
    per_candidate: Select = (
        select(*keys, vote_cols[0], func.sum(vote_cols[1]))
        .select_from(base)
        .join(votes, join_votes)
        .where(*where)
        .group_by(*keys, vote_cols[0])
    )
    width = len(keys)
    rows: dict[tuple, TallyRow] = {}
    for rec in session.execute(per_unit):
        key = tuple(rec[:width])
        rows[key] = TallyRow(
            _code(key),
            None,
            dict.fromkeys(definition.candidate_codes, 0),
            int(rec.nulos),
            int(rec.actas),
            int(rec.electors),
            int(rec.with_electors),
        )
    for rec in session.execute(per_candidate):
        key = tuple(rec[:width])
        rows[key].votes[rec[width]] = int(rec[width + 1])
    names = dict(
        session.execute(select(GeoUnit.code, GeoUnit.name).where(GeoUnit.election == definition.id)).all()
    )
    ordered = [rows[k] for k in sorted(rows)]
    for row in ordered:
        row.name = names.get(row.code.split(".")[0]) if level != "national" else "TOTAL"
    result = TallyResult(level, source, label, definition.candidate_codes, ordered)
    attach_coverage(session, definition, result)
    return result


def _code(key: tuple) -> str:
    if len(key) == 2:
        return f"{key[0]}.{int(key[1]):02d}"
    return str(key[0])
