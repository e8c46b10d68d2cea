"""``veedor tally``: votes per candidate by geography level."""

from __future__ import annotations

import json
import sys
from enum import StrEnum
from typing import TYPE_CHECKING

import typer

from veedor.cli.common import DB_OPTION, DEFINITION_OPTION, fail, get_definition, get_store, out

if TYPE_CHECKING:  # Polars, SQLAlchemy: imported when the command runs, not at start-up
    import polars as pl
    from rich.table import Table
    from sqlalchemy.orm import Session

    from veedor.definitions import ElectionDefinition
    from veedor.tally import TallyResult
    from veedor.tally.coverage import Coverage

TABLE_ROWS = 200
"""Rows the terminal table shows; csv and json always carry every row."""


class Format(StrEnum):
    table = "table"
    csv = "csv"
    json = "json"


def register(app: typer.Typer) -> None:
    app.command("tally")(tally_cmd)


def tally_cmd(
    level: str = typer.Option(
        "national",
        "--level",
        "-l",
        help="national | state | municipality | parish | centre | mesa "
        "(los niveles de la definición / the definition's levels).",
    ),
    source: str = typer.Option(
        "scan",
        "--source",
        "-s",
        help="'scan' (actas leídas, solo ok) o 'table:<id|nombre>' (tabla importada) / "
        "'scan' (read actas, ok only) or 'table:<id|name>'.",
    ),
    fmt: Format = typer.Option(Format.table, "--format", "-f", help="table | csv | json"),
    include: str | None = typer.Option(
        None,
        "--include",
        help="'unconfirmed': una cifra PRELIMINAR aparte que suma las mesas con solo QR sin "
        "confirmar (nunca la verificada) / a separate PRELIMINARY figure that adds the mesas "
        "only unconfirmed QR codes vouch for (never the verified one).",
    ),
    db: str | None = DB_OPTION,
    definition: str = DEFINITION_OPTION,
) -> None:
    """Totaliza votos por candidato, válidos, nulos, % y actas contadas por nivel geográfico.

    Tally votes per candidate, valid, null, percentages, actas counted and registered electors
    covered, at a geography level.
    """
    from veedor.tally.aggregate import SourceError
    from veedor.tally.columnar import tally_columnar

    defn = get_definition(definition)
    valid_levels = ["national", *(lv.name for lv in defn.levels), "mesa"]
    if level not in valid_levels:
        fail(
            f"nivel desconocido / unknown level {level!r}",
            f"use uno de / use one of: {', '.join(valid_levels)}",
        )
    if include is not None:
        from veedor.tally.coverage import PRELIMINARY

        if include != "unconfirmed":
            fail(f"--include desconocido / unknown --include {include!r}", "use --include unconfirmed")
        if source != "scan":
            fail(
                "--include unconfirmed solo vale para actas escaneadas / only for scanned actas",
                "quite --source o use --source scan / drop --source",
            )
        source = PRELIMINARY
    store = get_store(db)
    with store.session() as session:
        try:
            result = tally_columnar(session, defn, level, source)
            if include is not None and result.coverage is not None:
                result.coverage.notes.insert(0, preliminary_note(session, defn))
        except SourceError as exc:
            fail(str(exc))
    if fmt is Format.json:
        write_json(result, defn)
    elif fmt is Format.csv:
        sys.stdout.write(records_frame(result, defn).write_csv())
    else:
        out.print(as_table(result, defn))


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


def preliminary_note(session: Session, defn: ElectionDefinition) -> str:
    from sqlalchemy import func, select

    from veedor.model import ActaState
    from veedor.store.schema import ActaRecord

    n = session.scalar(
        select(func.count()).where(
            ActaRecord.election == defn.id, ActaRecord.status == ActaState.UNCONFIRMED.value
        )
    )
    return (
        f"CIFRA PRELIMINAR: incluye {n:,} mesas con solo QR que ninguna impresión confirma; no es la "
        f"cifra verificada (veedor tally sin --include) / PRELIMINARY: includes {n:,} mesas only "
        "unconfirmed QR codes vouch for; not the verified figure"
    )


def is_preliminary(result: TallyResult) -> bool:
    from veedor.tally.coverage import PRELIMINARY

    return result.source == PRELIMINARY


def as_table(
    result: TallyResult, defn: ElectionDefinition, max_candidates: int = 4, max_rows: int = TABLE_ROWS
) -> Table:
    import polars as pl
    from rich.markup import escape
    from rich.table import Table

    from veedor.tally.aggregate import COVERAGE_COLUMNS
    from veedor.tally.coverage import Coverage

    frame = result.frame()
    totals = frame.select(pl.col(c).sum() for c in defn.candidate_codes).row(0, named=True)
    top = sorted(defn.candidate_codes, key=lambda c: -(totals[c] or 0))[:max_candidates]
    title = f"{result.source_label} — nivel / level: {result.level}"
    if is_preliminary(result):
        title = f"[bold yellow]{title}[/]"
    table = Table(title=title, show_lines=False)
    table.add_column("código")
    table.add_column("nombre", max_width=24)
    for c in top:
        table.add_column(c, justify="right")
    table.add_column("otros", justify="right")
    for header in ("válidos", "nulos", "actas", "electores", "cobertura"):
        table.add_column(header, justify="right")
    shown = frame.head(max_rows).with_columns(pl.sum_horizontal(*defn.candidate_codes).alias("_valid"))
    for row in shown.iter_rows(named=True):
        valid = row["_valid"]
        others = valid - sum(row[c] for c in top)
        cells = [f"{row[c]:,}\n{100.0 * row[c] / valid if valid else 0:.2f}%" for c in top]
        cov = (
            Coverage(row["code"], *(row[c] for c in COVERAGE_COLUMNS))
            if row["mesas_ok"] is not None
            else None
        )
        table.add_row(
            escape(row["code"] or "—"),
            escape(row["name"] or ""),
            *cells,
            f"{others:,}",
            f"{valid:,}",
            f"{row['nulos']:,}",
            f"{row['actas']:,}",
            f"{row['electors']:,}",
            coverage_cell(cov),
        )
    notes = list(result.coverage.notes) if result.coverage else []
    if frame.height > max_rows:
        notes.insert(
            0,
            f"se muestran {max_rows:,} de {frame.height:,} filas; use --format csv o json para "
            f"todas / showing {max_rows:,} of {frame.height:,} rows; use --format csv or json for all",
        )
    if notes:
        table.caption = "\n".join(notes)
    return table


def coverage_cell(cov: Coverage | None) -> str:
    """'ok/total mesas' and the percentage; pending actas (review, conflict) when there are any."""
    if cov is None:
        return ""
    total = f"{cov.mesas_total:,}" if cov.mesas_total is not None else "?"
    text = f"{cov.mesas_ok:,}/{total}\n{cov.pct:.2f}%" if cov.pct is not None else f"{cov.mesas_ok:,}/?"
    if cov.pending:
        text += f"\n+{cov.review} rev. +{cov.conflict} confl."
    return text
