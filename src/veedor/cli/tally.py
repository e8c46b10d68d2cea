"""``veedor tally``: votes per candidate by geography level."""

from __future__ import annotations

import csv
import json
import sys
from enum import StrEnum

import typer
from rich.table import Table

from veedor.cli.common import DB_OPTION, DEFINITION_OPTION, fail, get_definition, get_store, out
from veedor.definitions import ElectionDefinition
from veedor.tally import TallyResult
from veedor.tally.aggregate import SourceError
from veedor.tally.columnar import tally_columnar
from veedor.tally.coverage import Coverage


class Format(StrEnum):
    table = "table"
    csv = "csv"
    json = "json"


def register(app: typer.Typer) -> None:
    app.command("tally")(tally_cmd)


def tally_cmd(
    level: str = typer.Option("national", "--level", "-l",
                              help="national | state | municipality | parish | centre | mesa "
                                   "(los niveles de la definición / the definition's levels)."),
    source: str = typer.Option("scan", "--source", "-s",
                               help="'scan' (actas leídas, solo ok) o 'table:<id|nombre>' (tabla importada) / "
                                    "'scan' (read actas, ok only) or 'table:<id|name>'."),
    fmt: Format = typer.Option(Format.table, "--format", "-f", help="table | csv | json"),
    db: str | None = DB_OPTION,
    definition: str = DEFINITION_OPTION,
) -> None:
    """Totaliza votos por candidato, válidos, nulos, % y actas contadas por nivel geográfico.

    Tally votes per candidate, valid, null, percentages, actas counted and registered electors
    covered, at a geography level.
    """
    defn = get_definition(definition)
    valid_levels = ["national", *(lv.name for lv in defn.levels), "mesa"]
    if level not in valid_levels:
        fail(f"nivel desconocido / unknown level {level!r}", f"use uno de / use one of: {', '.join(valid_levels)}")
    store = get_store(db)
    with store.session() as session:
        try:
            result = tally_columnar(session, defn, level, source)
        except SourceError as exc:
            fail(str(exc))
    if fmt is Format.json:
        json.dump(as_records(result, defn), sys.stdout, ensure_ascii=False, indent=1)
        sys.stdout.write("\n")
    elif fmt is Format.csv:
        records = as_records(result, defn)["rows"]
        writer = csv.DictWriter(sys.stdout, fieldnames=list(records[0]) if records else ["code"])
        writer.writeheader()
        writer.writerows(records)
    else:
        out.print(as_table(result, defn))


def as_records(result: TallyResult, defn: ElectionDefinition) -> dict:
    rows = []
    for row in result.rows:
        rec: dict[str, object] = {"code": row.code, "name": row.name}
        rec.update(row.votes)
        rec.update({"valid": row.valid, "nulos": row.nulos, "actas": row.actas, "electors": row.electors,
                    "mesas_with_electors": row.mesas_with_electors})
        rec.update({f"{c}_pct": round(row.pct(c) or 0.0, 2) for c in defn.candidate_codes})
        if row.coverage is not None:
            rec.update(row.coverage.as_dict())
        rows.append(rec)
    notes = result.coverage.notes if result.coverage else []
    return {"level": result.level, "source": result.source, "source_label": result.source_label,
            "candidates": {c.code: c.name for c in defn.candidates}, "rows": rows, "coverage_notes": notes}


def as_table(result: TallyResult, defn: ElectionDefinition, max_candidates: int = 4) -> Table:
    totals = {c: sum(r.votes[c] for r in result.rows) for c in defn.candidate_codes}
    top = sorted(defn.candidate_codes, key=lambda c: -totals[c])[:max_candidates]
    table = Table(title=f"{result.source_label} — nivel / level: {result.level}", show_lines=False)
    table.add_column("código")
    table.add_column("nombre", max_width=24)
    for c in top:
        table.add_column(c, justify="right")
    table.add_column("otros", justify="right")
    for header in ("válidos", "nulos", "actas", "electores", "cobertura"):
        table.add_column(header, justify="right")
    for row in result.rows:
        others = row.valid - sum(row.votes[c] for c in top)
        cells = [f"{row.votes[c]:,}\n{row.pct(c) or 0:.2f}%" for c in top]
        table.add_row(row.code or "—", row.name or "", *cells, f"{others:,}", f"{row.valid:,}",
                      f"{row.nulos:,}", f"{row.actas:,}", f"{row.electors:,}", coverage_cell(row.coverage))
    if result.coverage and result.coverage.notes:
        table.caption = "\n".join(result.coverage.notes)
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
