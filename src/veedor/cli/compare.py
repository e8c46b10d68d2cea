"""``veedor import-official``, ``compare``, ``scenario`` and ``estimate``: the official claim
against the verified actas, what the rest would need, and a projection with its uncertainty."""

from __future__ import annotations

import json
import sys
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING

import typer
from rich.markup import escape

from veedor.cli.common import (
    DB_OPTION,
    DEFINITION_OPTION,
    console,
    exit_worst,
    fail,
    get_definition,
    get_store,
    out,
    refused_file,
)

if TYPE_CHECKING:  # Polars, SQLAlchemy: imported when a command runs, not at start-up
    from rich.table import Table
    from sqlalchemy.orm import Session

    from veedor.definitions import ElectionDefinition
    from veedor.tally.compare import Comparison
    from veedor.tally.scenario import Scenario

SOURCE_OPTION = typer.Option(
    "scan",
    "--source",
    "-s",
    help="Cifras verificadas: 'scan' (actas ok) o 'table:<id|nombre>' / "
    "verified figures: 'scan' (ok actas) or 'table:<id|name>'.",
)
OFFICIAL_OPTION = typer.Option(
    None,
    "--official",
    "-o",
    help="Boletín(es) oficial(es); por defecto todos / official bulletin key(s); default all.",
)


class Format(StrEnum):
    table = "table"
    json = "json"


def register(app: typer.Typer) -> None:
    app.command("import-official")(import_official_cmd)
    app.command("compare")(compare_cmd)
    app.command("scenario")(scenario_cmd)
    app.command("estimate")(estimate_cmd)


def import_official_cmd(
    files: list[Path] = typer.Argument(
        ...,
        help="Boletines (JSON o CSV) o datos oficiales por mesa (CSV) / "
        "bulletins (JSON or CSV) or per-mesa official data (CSV).",
    ),
    key: str | None = typer.Option(
        None, "--key", help="Nombre del boletín (CSV de uno solo) / bulletin key."
    ),
    db: str | None = DB_OPTION,
    definition: str = DEFINITION_OPTION,
) -> None:
    """Importa las cifras oficiales de la autoridad electoral (boletines, datos por mesa).

    Import the electoral authority's official figures (bulletins, per-mesa data).
    """
    from veedor.capture.official import import_official
    from veedor.capture.tables import TableError

    defn = get_definition(definition)
    store = get_store(db)
    worst = 0
    for path in files:
        # Each file is its own transaction: one refused whole does not stop the others.
        with store.session() as session:
            try:
                result = import_official(session, path, defn, key=key)
            except TableError as exc:
                worst = max(worst, refused_file(str(exc)))
                continue
            session.commit()
        console.print(
            f"[green]{escape(path.name)}[/]: importados / imported {', '.join(result.keys) or '—'} "
            f"({result.units} unidades / units); sin cambios / unchanged: "
            f"{', '.join(result.unchanged) or '—'}; reemplazados / replaced: "
            f"{', '.join(result.replaced) or '—'}"
        )
        for err in result.errors[:10]:
            console.print(f"  [yellow]{escape(str(err['line']))}[/]: {escape(str(err['error']))}")
        worst = max(worst, 1 if result.errors else 0)
    console.print("Siguiente / next: [bold]veedor compare --source table:1[/]")
    exit_worst(worst)


def _keys(session: Session, defn: ElectionDefinition, official: list[str] | None) -> list[str]:
    from veedor.tally.compare import official_keys

    keys = official or official_keys(session, defn)
    if not keys:
        fail(
            "no hay cifras oficiales / no official figures",
            "veedor import-official samples/official/*.json",
        )
    return keys


def compare_cmd(
    official: list[str] | None = OFFICIAL_OPTION,
    source: str = SOURCE_OPTION,
    level: str = typer.Option("national", "--level", "-l", help="national | state | ... | mesa"),
    evidence: Path | None = typer.Option(
        None,
        "--evidence",
        help="Escribe la lista de evidencia (CSV) / write the evidence list (CSV).",
    ),
    fmt: Format = typer.Option(Format.table, "--format", "-f"),
    db: str | None = DB_OPTION,
    definition: str = DEFINITION_OPTION,
) -> None:
    """Cifra oficial, cifra verificada y diferencia por candidato y nivel, con las mesas detrás.

    Official figure, verified figure and difference per candidate and level, with the mesas behind
    each difference (the evidence list).
    """
    from veedor.tally.aggregate import SourceError
    from veedor.tally.columnar import verified_frame
    from veedor.tally.compare import OfficialError, compare

    defn = get_definition(definition)
    store = get_store(db)
    results: list[Comparison] = []
    with store.session() as session:
        try:
            verified = verified_frame(session, defn, source)
            for key in _keys(session, defn, official):
                results.append(compare(session, defn, key, source, level, verified=verified))
        except (SourceError, OfficialError, ValueError) as exc:
            fail(str(exc))
    if evidence is not None:
        import polars as pl

        frames = [
            c.evidence.with_columns(pl.lit(c.official_key).alias("official_key"))
            for c in results
            if c.evidence.height
        ]
        if frames:
            pl.concat(frames, how="diagonal").write_csv(evidence)
        console.print(f"evidencia / evidence: {evidence}")
    if fmt is Format.json:
        json.dump([_comparison_json(c) for c in results], sys.stdout, ensure_ascii=False, indent=1)
        sys.stdout.write("\n")
        return
    for c in results:
        out.print(_comparison_table(c))
        for row in c.rows:
            if row.proven_wrong and row.coverage is not None:
                out.print(
                    f"[bold red]{row.candidate}[/] {row.code or 'TOTAL'}: verificado / verified "
                    f"{row.verified:,} > oficial / official {row.official:,} "
                    f"(+{row.difference:,}) con / with {row.coverage.mesas_ok:,}/"
                    f"{row.coverage.mesas_total or '?'} mesas "
                    f"({row.coverage.pct or 0:.1f} %) verificadas / verified"
                )
        for note in c.notes:
            out.print(f"[dim]{note}[/]")


def _comparison_json(c: Comparison) -> dict:
    return {
        "official": c.official_key,
        "level": c.level,
        "source": c.source,
        "notes": c.notes,
        "rows": [
            {
                "code": r.code,
                "name": r.name,
                "candidate": r.candidate,
                "official": r.official,
                "verified": r.verified,
                "difference": r.difference,
                "proven_wrong": r.proven_wrong,
                "evidence_mesas": r.evidence_mesas,
                **(r.coverage.as_dict() if r.coverage else {}),
            }
            for r in c.rows
        ],
        "evidence_rows": c.evidence.height,
    }


def _comparison_table(c: Comparison) -> Table:
    from rich.table import Table

    table = Table(title=f"{c.official_key} vs {c.source} — {c.level}")
    for col in (
        "código",
        "nombre",
        "candidato",
        "oficial",
        "verificado",
        "diferencia",
        "cobertura",
    ):
        table.add_column(col, justify="right" if col not in ("código", "nombre", "candidato") else "left")
    for r in c.rows:
        cov = f"{r.coverage.pct:.2f} %" if r.coverage and r.coverage.pct is not None else "?"
        diff = "—" if r.difference is None else f"{r.difference:+,}"
        style = "bold red" if r.proven_wrong else None
        table.add_row(
            escape(r.code or "—"),
            escape(r.name or ""),
            r.candidate,
            "—" if r.official is None else f"{r.official:,}",
            f"{r.verified:,}",
            diff,
            cov,
            style=style,
        )
    return table


def scenario_cmd(
    official: list[str] | None = OFFICIAL_OPTION,
    source: str = SOURCE_OPTION,
    electors: list[int] | None = typer.Option(
        None,
        "--electors",
        help="Electores inscritos (nacional); se puede repetir / registered electors "
        "(national); repeatable. Default: the bulletin's, then the definition's.",
    ),
    fmt: Format = typer.Option(Format.table, "--format", "-f"),
    db: str | None = DB_OPTION,
    definition: str = DEFINITION_OPTION,
) -> None:
    """¿Qué tendrían que dar las mesas no verificadas para que el resultado oficial fuera cierto?

    What would the unverified tables have to give for the official result to be true: votes,
    share and turnout per candidate, and whether that is possible at all.
    """
    from veedor.tally.aggregate import SourceError
    from veedor.tally.columnar import verified_frame
    from veedor.tally.compare import OfficialError
    from veedor.tally.scenario import scenario, sentences, verdict

    defn = get_definition(definition)
    store = get_store(db)
    results: list[Scenario] = []
    with store.session() as session:
        try:
            verified = verified_frame(session, defn, source)
            for key in _keys(session, defn, official):
                results.append(scenario(session, defn, key, source, electorates=electors, verified=verified))
        except (SourceError, OfficialError, ValueError) as exc:
            fail(str(exc))
    if fmt is Format.json:
        json.dump([_scenario_json(s) for s in results], sys.stdout, ensure_ascii=False, indent=1)
        sys.stdout.write("\n")
        return
    for s in results:
        out.print(
            f"\n[bold]{s.official_key}[/] ({s.actas_pct or '?'} % actas): {s.mesas_verified:,} de / of "
            f"{s.mesas_total:,} mesas verificadas / verified; electores / electors: "
            + ", ".join(f"{e:,} ({why})" for e, why in s.electorates.items())
        )
        if s.electors_verified_unknown:
            out.print(
                f"[yellow]{s.electors_verified_unknown:,} mesas verificadas sin electores conocidos / "
                f"verified mesas without known electors[/]"
            )
        for es, en in sentences(s):
            out.print(f"• {es}\n  [dim]{en}[/]")
        ves, ven = verdict(s)
        out.print(f"[bold {'red' if not s.possible else 'green'}]{ves}[/]\n[dim]{ven}[/]")


def _scenario_json(s: Scenario) -> dict:
    from veedor.tally.scenario import sentences, verdict

    return {
        "official": s.official_key,
        "source": s.source,
        "actas_pct": s.actas_pct,
        "mesas_total": s.mesas_total,
        "mesas_verified": s.mesas_verified,
        "electors_verified": s.electors_verified,
        "electorates": {str(k): v for k, v in s.electorates.items()},
        "remaining_valid": s.remaining_valid,
        "remaining_voters": s.remaining_voters,
        "turnout_needed_pct": {str(k): v for k, v in s.turnout_needed.items()},
        "possible": s.possible,
        "impossible_for_any_electorate": s.robust,
        "verdict": verdict(s),
        "sentences": sentences(s),
        "candidates": [
            {
                "candidate": c.candidate,
                "official": c.official,
                "verified": c.verified,
                "needed": c.needed,
                "share_of_remaining_valid_pct": c.share_of_remaining_valid,
                "turnout_alone_pct": {str(k): v for k, v in c.turnout_alone.items()},
                "floor": c.floor,
                "possible": c.possible,
                "reasons": c.reasons,
            }
            for c in s.candidates
        ],
    }


def estimate_cmd(
    source: str = SOURCE_OPTION,
    strata: str = typer.Option("parish", "--strata", help="Nivel de los estratos / strata level."),
    fmt: Format = typer.Option(Format.table, "--format", "-f"),
    db: str | None = DB_OPTION,
    definition: str = DEFINITION_OPTION,
) -> None:
    """ESTIMACIÓN (no conteo) del resultado final, con intervalos al 95 %.

    ESTIMATE (not a count) of the final result: unverified mesas projected from the verified ones,
    stratified by geography, with 95% intervals. See docs/estimate.md for its assumptions.
    """
    from rich.table import Table

    from veedor.tally.aggregate import SourceError
    from veedor.tally.columnar import verified_frame
    from veedor.tally.coverage import registry_totals
    from veedor.tally.estimate import cells_from_totals, estimate

    defn = get_definition(definition)
    store = get_store(db)
    with store.session() as session:
        try:
            verified = verified_frame(session, defn, source)
            chain = ["national", *(lv.name for lv in defn.levels)]
            totals = {lv: registry_totals(session, defn, lv) for lv in chain[: chain.index(strata) + 1]}
        except (SourceError, ValueError) as exc:
            fail(str(exc))
    cells = cells_from_totals(verified, totals, defn, strata)
    top = sorted(defn.candidate_codes, key=lambda c: -int(verified[c].sum()))[:2]
    est = estimate(verified, cells, defn, strata_level=strata, margins=[(top[0], top[1])])
    if fmt is Format.json:
        json.dump(
            {
                "label": "ESTIMACIÓN / ESTIMATE",
                "strata": strata,
                "auxiliary": est.auxiliary,
                "mesas_verified": est.mesas_verified,
                "mesas_missing": est.mesas_missing,
                "mesas_borrowed": est.mesas_borrowed,
                "assumptions": est.assumptions,
                "totals": {
                    k: {"verified": m.verified, "estimate": m.total, "low": m.low, "high": m.high}
                    for k, m in est.totals.items()
                },
                "shares_pct": {
                    k: {"estimate": s.value, "low": s.low, "high": s.high} for k, s in est.shares.items()
                },
            },
            sys.stdout,
            ensure_ascii=False,
            indent=1,
        )
        sys.stdout.write("\n")
        return
    table = Table(
        title=f"ESTIMACIÓN / ESTIMATE — estratos / strata: {strata}; {est.mesas_missing:,} mesas "
        f"estimadas / estimated ({est.mesas_borrowed:,} con razón prestada / borrowed ratio)"
    )
    for col in ("", "verificado", "estimación", "IC 95 %", "% válidos", "IC 95 % (pp)"):
        table.add_column(col, justify="right")
    for k, m in est.totals.items():
        share = est.shares.get(k)
        table.add_row(
            k,
            f"{m.verified:,.0f}",
            f"{m.total:,.0f}",
            f"{m.low:,.0f} – {m.high:,.0f}",
            f"{share.value:.2f}" if share else "",
            f"{share.low:.2f} – {share.high:.2f}" if share else "",
        )
    for k, s in est.shares.items():
        if k.startswith("margin:"):
            table.add_row(k, "", "", "", f"{s.value:.2f}", f"{s.low:.2f} – {s.high:.2f}")
    out.print(table)
    for a in est.assumptions:
        out.print(f"[dim]• {a}[/]")
