"""``veedor tally``: votes per candidate by geography level."""

from __future__ import annotations

import json
import sys
from enum import StrEnum
from typing import TYPE_CHECKING

import typer

from veedor.cli.common import (
    DB_OPTION,
    DEFINITION_OPTION,
    N_,
    _,
    console,
    fail,
    get_definition,
    get_store,
    ngettext,
    out,
    said,
)

if TYPE_CHECKING:  # Polars, SQLAlchemy: imported when the command runs, not at start-up
    import polars as pl
    from rich.table import Table
    from sqlalchemy.orm import Session

    from veedor.definitions import ElectionDefinition
    from veedor.store.mesas import MesaRow
    from veedor.tally import TallyResult
    from veedor.tally.coverage import Coverage

LEVEL_NAMES = (N_("national"), N_("state"), N_("municipality"), N_("parish"), N_("centre"), N_("mesa"))
"""The levels' names as the catalogs know them (a definition's other names are shown as written)."""

TABLE_ROWS = 200
"""Rows the terminal table shows; csv and json always carry every row."""


class Format(StrEnum):
    table = "table"
    csv = "csv"
    json = "json"


def register(app: typer.Typer) -> None:
    app.command("tally")(tally_cmd)


CANDIDATES_OPTION = typer.Option(
    None,
    "--candidates",
    "-c",
    help="Only these candidates, by code, comma-separated (e.g. EG,NM); the rest are summed as "
    '"others". Default: every candidate, in the definition\'s order.',
)


def tally_cmd(
    level: str = typer.Option(
        "national",
        "--level",
        "-l",
        help="national | state | municipality | parish | centre | mesa (the definition's levels).",
    ),
    source: str = typer.Option(
        "scan",
        "--source",
        "-s",
        help='"scan" (scanned actas, ok only) or "table:<id|name>" (an imported table).',
    ),
    fmt: Format = typer.Option(Format.table, "--format", "-f", help="table | csv | json"),
    include: str | None = typer.Option(
        None,
        "--include",
        help='"unconfirmed": a separate PRELIMINARY figure that adds the mesas only unconfirmed QR '
        "codes vouch for (never the verified one).",
    ),
    candidates: str | None = CANDIDATES_OPTION,
    db: str | None = DB_OPTION,
    definition: str = DEFINITION_OPTION,
) -> None:
    """Tally votes per candidate, valid, null, % and actas counted, by geography level.

    With the registered electors covered and each figure's coverage beside it; every candidate
    of the definition, in its order (or those of --candidates).
    """
    from veedor.tally import PRELIMINARY, SourceError, tally
    from veedor.tally.sources import levels

    defn = get_definition(definition)
    shown = chosen_candidates(defn, candidates)
    valid_levels = levels(defn)
    if level not in valid_levels:
        fail(
            _("unknown level {level!r}", level=level),
            _("use one of: {levels}", levels=", ".join(valid_levels)),
        )
    if include is not None:
        if include != "unconfirmed":
            fail(_("unknown --include {value!r}", value=include), "--include unconfirmed")
        if source != "scan":
            fail(
                _("--include unconfirmed is only for scanned actas"),
                _("drop --source, or use --source scan"),
            )
        source = PRELIMINARY
    store = get_store(db)
    with store.session() as session:
        try:
            result = tally(session, defn, level, source)
        except SourceError as exc:
            fail(said(exc))
        scanned = not result.source.startswith("table")
        waiting = pending_mesas(session, defn) if scanned and not len(result) else []
    if fmt is Format.json:
        write_json(result, defn)
    elif fmt is Format.csv:
        sys.stdout.write(records_frame(result, defn).write_csv())
    else:
        out.print(as_table(result, defn, shown))
    if not len(result):
        say_nothing_counted(result, waiting)


def chosen_candidates(defn: ElectionDefinition, text: str | None) -> list[str]:
    """The candidates a table shows: every one, or those ``--candidates`` names, always in the
    definition's order (never by the data: which columns show must not change with the count)."""
    codes = list(defn.candidate_codes)
    if not text:
        return codes
    wanted = {c.strip().upper() for c in text.split(",") if c.strip()}
    unknown = sorted(wanted - {c.upper() for c in codes})
    if unknown or not wanted:
        fail(
            _("unknown candidate code(s): {codes}", codes=", ".join(unknown) or "—"),
            _("use the definition's codes: {codes}", codes=", ".join(codes)),
        )
    return [c for c in codes if c.upper() in wanted]


def pending_mesas(session: Session, defn: ElectionDefinition) -> list[MesaRow]:
    from veedor.store.mesas import list_mesas

    return [r for r in list_mesas(session, defn) if r.state != "ok"]


def say_nothing_counted(result: TallyResult, waiting: list[MesaRow], limit: int = 20) -> None:
    """An empty tally says why: nothing imported or scanned, or the mesas that wait for people."""
    from rich.markup import escape

    if not waiting:
        if result.source.startswith("table"):
            console.print(escape(_("This table has no acta at this level.")))
        else:
            console.print(
                escape(_("No mesa is counted yet: nothing scanned with this database.")),
            )
            console.print(escape(_("Next: {command}", command="veedor scan ACTAS/ --db …")))
        return
    console.print(
        escape(
            ngettext(
                "No mesa is counted yet; {n} waits for people:",
                "No mesa is counted yet; {n} wait for people:",
                len(waiting),
            )
        )
    )
    for row in waiting[:limit]:
        console.print(f"  {escape(row.code)} ({row.state}): {escape(said(row.reason or ''))}")
    if len(waiting) > limit:
        console.print("  " + escape(_("… and {n:,} more", n=len(waiting) - limit)))
    console.print(escape(_("Next: {command}", command="veedor mesas --state conflict; veedor review list")))


def records_frame(result: TallyResult, defn: ElectionDefinition) -> pl.DataFrame:
    """The published columns of a tally, one row per counted unit, straight from its frame."""
    import polars as pl

    cands = list(defn.candidate_codes)
    frame = result.frame().with_columns(pl.sum_horizontal(*cands).alias("valid"))
    total, ok = pl.col("mesas_total"), pl.col("mesas_ok")
    pending = pl.col("review") + pl.col("conflict")
    pct = [
        pl.when(pl.col("valid") > 0)
        .then(100.0 * pl.col(c) / pl.col("valid"))
        .otherwise(0.0)
        .round(2)
        .alias(f"{c}_pct")
        for c in cands
    ]
    coverage: list[pl.Expr] = [
        total,
        ok,
        pl.when(total > 0).then((100.0 * ok / total).round(2)).alias("coverage_pct"),
        pl.col("electors_covered"),
        pl.col("electors_total"),
        pl.when(pl.col("electors_total") > 0)
        .then((100.0 * pl.col("electors_covered") / pl.col("electors_total")).round(2))
        .alias("electors_pct"),
        pl.col("review").alias("pending_review"),
        pl.col("conflict").alias("pending_conflict"),
        pl.when(total.is_not_null()).then(pl.max_horizontal(total - ok - pending, 0)).alias("missing"),
    ]
    has_coverage = frame["mesas_ok"].null_count() < frame.height
    figure = [pl.lit("preliminary").alias("figure")] if is_preliminary(result) else []
    return frame.select(
        *figure,
        "code",
        "name",
        *cands,
        "valid",
        "nulos",
        "actas",
        "electors",
        "mesas_with_electors",
        *pct,
        *(coverage if has_coverage else []),
    )


def write_json(result: TallyResult, defn: ElectionDefinition) -> None:
    """The envelope by json, the rows by Polars (json's indenting encoder is pure Python)."""
    head = {
        "level": result.level,
        "source": result.source,
        "source_label": result.source_label,
        "preliminary": is_preliminary(result),
        "candidates": {c.code: c.name for c in defn.candidates},
    }
    notes = result.coverage.notes if result.coverage else []
    text = json.dumps(head, ensure_ascii=False, indent=1)
    sys.stdout.write(text[:-2] + ',\n "rows": ')
    sys.stdout.write(records_frame(result, defn).write_json() if len(result) else "[]")
    sys.stdout.write(',\n "coverage_notes": ' + json.dumps(notes, ensure_ascii=False) + "\n}\n")


def as_records(result: TallyResult, defn: ElectionDefinition) -> dict:
    notes = result.coverage.notes if result.coverage else []
    return {
        "level": result.level,
        "source": result.source,
        "source_label": result.source_label,
        "preliminary": is_preliminary(result),
        "candidates": {c.code: c.name for c in defn.candidates},
        "rows": records_frame(result, defn).to_dicts(),
        "coverage_notes": notes,
    }


def is_preliminary(result: TallyResult) -> bool:
    from veedor.tally.sources import PRELIMINARY

    return result.source == PRELIMINARY


def as_table(
    result: TallyResult,
    defn: ElectionDefinition,
    shown: list[str] | None = None,
    max_rows: int = TABLE_ROWS,
) -> Table:
    """The terminal's table: every candidate of ``shown`` (default: all, in the definition's
    order; the others summed as "others"), and each row's coverage beside its numbers. One
    row (the national total) is turned on its side: a line per candidate reads better."""
    import polars as pl
    from rich.markup import escape
    from rich.table import Table

    cands = list(shown or defn.candidate_codes)
    others = [c for c in defn.candidate_codes if c not in cands]
    frame = result.frame()
    title = _("{source} — level: {level}", source=said(result.source_label), level=_(result.level))
    title = f"[bold yellow]{escape(title)}[/]" if is_preliminary(result) else escape(title)
    table = Table(title=title, show_lines=False)
    rows = frame.head(max_rows).with_columns(pl.sum_horizontal(*defn.candidate_codes).alias("_valid"))
    notes = [said(n) for n in (result.coverage.notes if result.coverage else [])]
    if result.level == "mesa":
        # One row, one counted mesa: "coverage 1/1" would say nothing (or mislead on an empty table).
        notes = [n for n in notes if "1/1" not in n]
    if frame.height == 1 and result.level == "national":
        _vertical(table, defn, rows.row(0, named=True), cands, others)
    else:
        _wide(table, defn, rows, cands, others, mesa_level=result.level == "mesa")
    if frame.height > max_rows:
        notes.insert(
            0,
            _(
                "showing {shown:,} of {rows:,} rows; use --format csv or json for all, or a coarser --level",
                shown=max_rows,
                rows=frame.height,
            ),
        )
    if notes:
        table.caption = escape("\n".join(notes))
    return table


def _vertical(table: Table, defn: ElectionDefinition, row: dict, cands: list[str], others: list[str]) -> None:
    from rich.markup import escape

    from veedor.tally.aggregate import COVERAGE_COLUMNS
    from veedor.tally.coverage import Coverage

    valid = row["_valid"]
    names = {c.code: c.name for c in defn.candidates}
    table.add_column(_("candidate"))
    table.add_column(_("votes"), justify="right")
    table.add_column("%", justify="right")
    for c in cands:
        table.add_row(
            f"{escape(names[c])} ({c})", f"{row[c]:,}", f"{100.0 * row[c] / valid if valid else 0:.2f}"
        )
    if others:
        rest = sum(row[c] for c in others)
        table.add_row(_("others"), f"{rest:,}", f"{100.0 * rest / valid if valid else 0:.2f}")
    table.add_section()
    table.add_row(_("valid"), f"{valid:,}", "")
    table.add_row(_("null"), f"{row['nulos']:,}", "")
    table.add_row(_("actas"), f"{row['actas']:,}", "")
    table.add_row(_("electors"), f"{row['electors']:,}", "")
    cov = (
        Coverage(row["code"], *(row[c] for c in COVERAGE_COLUMNS))
        if row.get("mesas_ok") is not None
        else None
    )
    if cov is not None:
        table.add_row(_("coverage"), coverage_cell(cov).replace("\n", " "), "")


def _wide(
    table: Table,
    defn: ElectionDefinition,
    rows: pl.DataFrame,
    cands: list[str],
    others: list[str],
    *,
    mesa_level: bool,
) -> None:
    from rich.markup import escape

    from veedor.tally.aggregate import COVERAGE_COLUMNS
    from veedor.tally.coverage import Coverage

    table.add_column(_("code"))
    table.add_column(_("name"), max_width=24)
    for c in cands:
        table.add_column(c, justify="right")
    if others:
        table.add_column(_("others"), justify="right")
    headers = [_("valid"), _("null"), _("actas"), _("electors")] + ([] if mesa_level else [_("coverage")])
    for header in headers:
        table.add_column(header, justify="right")
    for row in rows.iter_rows(named=True):
        valid = row["_valid"]
        cells = [f"{row[c]:,}\n{100.0 * row[c] / valid if valid else 0:.2f}%" for c in cands]
        if others:
            cells.append(f"{sum(row[c] for c in others):,}")
        cov = (
            Coverage(row["code"], *(row[c] for c in COVERAGE_COLUMNS))
            if row.get("mesas_ok") is not None
            else None
        )
        table.add_row(
            escape(row["code"] or "—"),
            escape(row["name"] or ""),
            *cells,
            f"{valid:,}",
            f"{row['nulos']:,}",
            f"{row['actas']:,}",
            f"{row['electors']:,}",
            *([] if mesa_level else [coverage_cell(cov)]),
        )


def coverage_cell(cov: Coverage | None) -> str:
    """'ok/total mesas' and the percentage; pending actas (review, conflict) when there are any."""
    if cov is None:
        return ""
    total = f"{cov.mesas_total:,}" if cov.mesas_total is not None else "?"
    text = f"{cov.mesas_ok:,}/{total}\n{cov.pct:.2f}%" if cov.pct is not None else f"{cov.mesas_ok:,}/?"
    if cov.pending:
        text += "\n" + _("+{review} rev. +{conflict} confl.", review=cov.review, conflict=cov.conflict)
    return text
