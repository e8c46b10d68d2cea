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
    N_,
    Ticker,
    _,
    console,
    exit_worst,
    fail,
    get_definition,
    get_store,
    out,
    pick,
    refused_file,
    said,
    warn,
)
from veedor.cli.imports import show_errors
from veedor.cli.tally import TABLE_ROWS

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
    help="Verified figures: 'scan' (ok actas) or 'table:<id|name>'.",
)
OFFICIAL_OPTION = typer.Option(
    None,
    "--official",
    "-o",
    help="Official bulletin key(s); default all.",
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
        help="Bulletins (JSON or CSV) or per-mesa official data (CSV).",
    ),
    key: str | None = typer.Option(None, "--key", help="Bulletin key."),
    db: str | None = DB_OPTION,
    definition: str = DEFINITION_OPTION,
) -> None:
    """Import the electoral authority's official figures.

    Import the electoral authority's official figures (bulletins, per-mesa data).
    """
    from veedor.ingest.official import import_official
    from veedor.ingest.tables import TableError

    defn = get_definition(definition)
    store = get_store(db, create=True)
    worst = 0
    for path in files:
        # Each file is its own transaction: one refused whole does not stop the others.
        with store.session() as session:
            try:
                result = import_official(session, path, defn, key=key)
            except TableError as exc:
                worst = max(worst, refused_file(said(exc)))
                continue
            session.commit()
        console.print(
            escape(
                _(
                    "{name}: imported {keys} ({units:,} units); unchanged: {unchanged}; replaced: {replaced}",
                    name=path.name,
                    keys=", ".join(result.keys) or "—",
                    units=result.units,
                    unchanged=", ".join(result.unchanged) or "—",
                    replaced=", ".join(result.replaced) or "—",
                )
            )
        )
        show_errors(result.errors)
        worst = max(worst, 1 if result.errors else 0)
    console.print(escape(_("Next: {command}", command="veedor compare --source table:1")))
    exit_worst(worst)


def _keys(session: Session, defn: ElectionDefinition, official: list[str] | None) -> list[str]:
    from veedor.tally.compare import official_keys

    known = official_keys(session, defn)
    if not known:
        fail(
            _("no official figures imported"),
            "veedor import-official samples/official/cne_bulletins_2024.json",
        )
    unknown = [k for k in official or [] if k not in known]
    if unknown:
        fail(
            _("unknown bulletin(s): {keys}", keys=", ".join(unknown)),
            _("imported: {keys}", keys=", ".join(known)),
        )
    return official or known


def compare_cmd(
    official: list[str] | None = OFFICIAL_OPTION,
    source: str = SOURCE_OPTION,
    level: str = typer.Option("national", "--level", "-l", help="national | state | ... | mesa"),
    only_differences: bool = typer.Option(
        False, "--only-differences", "-d", help="Only the rows where the figures differ."
    ),
    evidence: Path | None = typer.Option(
        None,
        "--evidence",
        help="Write the evidence list (CSV): every mesa behind each difference.",
    ),
    rows_shown: int = typer.Option(
        TABLE_ROWS, "--rows", min=1, help="Rows the terminal table shows at most (json: all)."
    ),
    fmt: Format = typer.Option(Format.table, "--format", "-f"),
    db: str | None = DB_OPTION,
    definition: str = DEFINITION_OPTION,
) -> None:
    """Official figure, verified figure and their difference, with the mesas behind it.

    Per candidate and level, with the mesas behind each difference (the evidence list): first
    a summary table, then the rows (at most --rows on a terminal), then the sentences.
    """
    from veedor.tally.columnar import verified_frame
    from veedor.tally.compare import OfficialError, compare
    from veedor.tally.sources import SourceError

    defn = get_definition(definition)
    store = get_store(db)
    results: list[Comparison] = []
    with store.session() as session:
        try:
            keys = _keys(session, defn, official)
            ticker = Ticker(_("comparing"), total=len(keys), every=5.0)
            with ticker.running():
                verified = verified_frame(session, defn, source)
                for key in keys:
                    ticker.advance(0, last=escape(f"{key} — {level}"))
                    results.append(compare(session, defn, key, source, level, verified=verified))
                    ticker.advance(1, last=escape(key))
        except (SourceError, OfficialError, ValueError) as exc:
            fail(said(exc))
    if only_differences:
        for c in results:
            c.rows = [r for r in c.rows if r.difference]
    if evidence is not None:
        _write_evidence(results, evidence)
    if fmt is Format.json:
        json.dump([_comparison_json(c) for c in results], sys.stdout, ensure_ascii=False, indent=1)
        sys.stdout.write("\n")
        return
    out.print(_summary_table(results, only_differences))
    for c in results:
        if not c.rows:
            for line in c.notes:
                warn(f"{c.official_key}: {said(line)}")
            if level != "national":
                console.print(escape(_("Next: {command}", command="veedor compare --level national")))
            continue
        out.print(_comparison_table(c, rows_shown, only_differences))
        for row in c.rows:
            if row.proven_wrong and row.coverage is not None:
                out.print(
                    "[bold red]"
                    + escape(
                        _(
                            "{candidate} {code}: verified {verified:,} > official {official:,} (+{difference:,}) "
                            "with {ok:,}/{total} mesas ({pct:.1f} %) verified",
                            candidate=row.candidate,
                            code=row.code or "TOTAL",
                            verified=row.verified,
                            official=row.official,
                            difference=row.difference,
                            ok=row.coverage.mesas_ok,
                            total=f"{row.coverage.mesas_total:,}" if row.coverage.mesas_total else "?",
                            pct=row.coverage.pct or 0,
                        )
                    )
                    + "[/]"
                )
        for line in c.notes:
            out.print(f"[dim]{escape(said(line))}[/]")


def _write_evidence(results: list[Comparison], path: Path) -> None:
    """The evidence list, or, when no mesa is behind any figure, a word saying nothing was written."""
    import polars as pl

    frames = [
        c.evidence.with_columns(pl.lit(c.official_key).alias("official_key"))
        for c in results
        if c.evidence.height
    ]
    if not frames:
        warn(_("no mesa is behind these figures: {path} was not written", path=path))
        return
    rows = pl.concat(frames, how="diagonal")
    try:
        rows.write_csv(path)
    except OSError as exc:
        fail(_("cannot write {path}: {error}", path=path, error=exc.strerror))
    console.print(escape(_("evidence: {path} ({n:,} rows)", path=path, n=rows.height)))


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


def _summary_table(results: list[Comparison], only_differences: bool) -> Table:
    """One line per official source: what was compared, and how much of it differs."""
    from rich.table import Table

    table = Table(title=_("Summary"))
    table.add_column(_("bulletin"))
    table.add_column(_("level"))
    for col in (_("units"), _("rows"), _("differ"), _("verified > official"), _("coverage")):
        table.add_column(col, justify="right")
    for c in results:
        units = {r.code for r in c.rows}
        national = [r for r in c.rows if r.coverage is not None and r.code in ("", None)]
        cov = national[0].coverage if national else None
        table.add_row(
            escape(c.official_key),
            _(c.level),
            f"{len(units):,}",
            f"{len(c.rows):,}",
            f"{sum(1 for r in c.rows if r.difference):,}",
            f"[bold red]{sum(1 for r in c.rows if r.proven_wrong):,}[/]"
            if any(r.proven_wrong for r in c.rows)
            else "0",
            f"{cov.mesas_ok:,}/{cov.mesas_total or '?'} ({cov.pct:.2f} %)"
            if cov and cov.pct is not None
            else "",
        )
    if only_differences:
        table.caption = _("only the rows where the figures differ (--only-differences)")
    return table


def _comparison_table(c: Comparison, max_rows: int = TABLE_ROWS, only_differences: bool = False) -> Table:
    from rich.table import Table

    table = Table(title=escape(f"{c.official_key} vs {said(c.source)} — {_(c.level)}"))
    left = (_("code"), _("name"), _("candidate"))
    for col in (*left, _("official"), _("verified"), _("difference"), _("coverage")):
        table.add_column(col, justify="left" if col in left else "right")
    for r in c.rows[:max_rows]:
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
    if len(c.rows) > max_rows:
        hint = "" if only_differences else " --only-differences,"
        table.caption = _(
            "showing {shown:,} of {rows:,} rows; for all:{hint} --format json, --evidence FILE, or a coarser --level",
            shown=max_rows,
            rows=len(c.rows),
            hint=hint,
        )
    return table


def scenario_cmd(
    official: list[str] | None = OFFICIAL_OPTION,
    source: str = SOURCE_OPTION,
    electors: list[int] | None = typer.Option(
        None,
        "--electors",
        help="Registered electors (national); repeatable. Default: the bulletin's, then the definition's.",
    ),
    fmt: Format = typer.Option(Format.table, "--format", "-f"),
    db: str | None = DB_OPTION,
    definition: str = DEFINITION_OPTION,
) -> None:
    """What would the unverified mesas have to give for the official result to be true?

    What would the unverified tables have to give for the official result to be true: votes,
    share and turnout per candidate, and whether that is possible at all.
    """
    from veedor.tally.columnar import verified_frame
    from veedor.tally.compare import OfficialError
    from veedor.tally.scenario import scenario, sentences, verdict
    from veedor.tally.sources import SourceError

    defn = get_definition(definition)
    store = get_store(db)
    results: list[Scenario] = []
    with store.session() as session:
        try:
            verified = verified_frame(session, defn, source)
            for key in _keys(session, defn, official):
                results.append(scenario(session, defn, key, source, electorates=electors, verified=verified))
        except (SourceError, OfficialError, ValueError) as exc:
            fail(said(exc))
    if fmt is Format.json:
        json.dump([_scenario_json(s) for s in results], sys.stdout, ensure_ascii=False, indent=1)
        sys.stdout.write("\n")
        return
    out.print(_scenario_table(results))
    for s in results:
        out.print(
            "\n[bold]"
            + escape(
                _(
                    "{key} ({pct} % of the actas): {verified:,} of {total:,} mesas verified; electors: {electors}",
                    key=s.official_key,
                    pct=s.actas_pct or "?",
                    verified=s.mesas_verified,
                    total=s.mesas_total,
                    electors=", ".join(f"{e:,} ({said(why)})" for e, why in s.electorates.items()),
                )
            )
            + "[/]"
        )
        if s.electors_verified_unknown:
            warn(_("{n:,} verified mesas without known electors", n=s.electors_verified_unknown))
        for pair in sentences(s):
            out.print(f"• {escape(pick(pair))}")
        out.print(f"[bold {'red' if not s.possible else 'green'}]{escape(pick(verdict(s)))}[/]")


REASONS = {
    "negative": N_("would need negative votes"),
    "exceeds_remaining_valid": N_("more than the valid votes left"),
    "exceeds_electors": N_("more than the electors left"),
    "below_floor": N_("below what the verified actas already give"),
}


def _scenario_table(results: list[Scenario]) -> Table:
    """Per bulletin and candidate: what it claims, what is verified, what the rest would need."""
    from rich.table import Table

    table = Table(title=_("What the unverified mesas would have to give"))
    table.add_column(_("bulletin"))
    table.add_column(_("candidate"))
    for col in (_("official"), _("verified"), _("needed"), _("% of valid left"), _("possible?")):
        table.add_column(col, justify="right")
    for s in results:
        for c in s.candidates:
            share = "—" if c.share_of_remaining_valid is None else f"{c.share_of_remaining_valid:.1f}"
            why = "; ".join(_(REASONS.get(r, r)) for r in c.reasons)
            table.add_row(
                escape(s.official_key),
                escape(c.name),
                f"{c.official:,}",
                f"{c.verified:,}",
                f"{c.needed:,}",
                share,
                _("yes") if c.possible else f"[bold red]{escape(_('NO'))}[/]: {escape(why)}",
            )
        table.add_section()
    return table


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


MIN_ESTIMATE_COVERAGE = 20.0
"""Least share of the mesas (%) verified before ``veedor estimate`` projects the rest: below it,
the verified mesas are too few and too clustered for the model's interval to mean much (the
validation in docs/estimate.md hides parts of a mostly verified table). ``--force`` shows it anyway."""


def estimate_cmd(
    source: str = SOURCE_OPTION,
    strata: str = typer.Option("parish", "--strata", help="Strata level."),
    force: bool = typer.Option(
        False,
        "--force",
        help="Estimate even below the minimum coverage (20 % of the mesas verified), with a warning.",
    ),
    fmt: Format = typer.Option(Format.table, "--format", "-f"),
    db: str | None = DB_OPTION,
    definition: str = DEFINITION_OPTION,
) -> None:
    """ESTIMATE (not a count) of the final result, with 95% intervals.

    Unverified mesas are projected from the verified ones, stratified by geography, with 95%
    intervals. Below 20% of the mesas verified it refuses (--force shows it anyway, with the
    warning). See docs/estimate.md for its assumptions.
    """
    from rich.table import Table

    from veedor.tally.columnar import verified_frame
    from veedor.tally.coverage import registry_totals
    from veedor.tally.estimate import cells_from_totals, estimate
    from veedor.tally.sources import SourceError

    defn = get_definition(definition)
    store = get_store(db)
    with store.session() as session:
        try:
            verified = verified_frame(session, defn, source)
            chain = ["national", *(lv.name for lv in defn.levels)]
            if strata not in chain[1:]:
                fail(
                    _("unknown level {level!r}", level=strata),
                    _("use one of: {levels}", levels=", ".join(chain[1:])),
                )
            totals = {lv: registry_totals(session, defn, lv) for lv in chain[: chain.index(strata) + 1]}
        except (SourceError, ValueError) as exc:
            fail(said(exc))
    warnings = _estimate_warnings(verified.height, totals, strata, force)
    cells = cells_from_totals(verified, totals, defn, strata)
    top = sorted(defn.candidate_codes, key=lambda c: -int(verified[c].sum()))[:2]
    est = estimate(verified, cells, defn, strata_level=strata, margins=[(top[0], top[1])])
    if est.mesas_missing and est.mesas_borrowed > est.mesas_missing / 2:
        warnings.append(
            _(
                "{borrowed:,} of the {missing:,} mesas estimated borrow a wider unit's ratio (too few "
                "verified mesas of their own): the interval is wide and rests on the model",
                borrowed=est.mesas_borrowed,
                missing=est.mesas_missing,
            )
        )
    for line in warnings:
        warn(line)
    if fmt is Format.json:
        json.dump(
            {
                "label": "ESTIMACIÓN / ESTIMATE",
                "strata": strata,
                "auxiliary": est.auxiliary,
                "mesas_verified": est.mesas_verified,
                "mesas_missing": est.mesas_missing,
                "mesas_borrowed": est.mesas_borrowed,
                "coverage_pct": _coverage_pct(verified.height, totals),
                "minimum_coverage_pct": MIN_ESTIMATE_COVERAGE,
                "warnings": warnings,
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
    pct = _coverage_pct(verified.height, totals)
    table = Table(
        title=escape(
            _(
                "ESTIMATE (not a count) — strata: {strata}; {verified:,} mesas verified ({pct}), {missing:,} "
                "estimated ({borrowed:,} with a borrowed ratio)",
                strata=_(strata),
                verified=est.mesas_verified,
                pct="?" if pct is None else f"{pct:.1f} %",
                missing=est.mesas_missing,
                borrowed=est.mesas_borrowed,
            )
        )
    )
    for col in ("", _("verified"), _("estimate"), _("95% interval"), _("% of valid"), _("95% interval (pp)")):
        table.add_column(col, justify="right")
    names = {c.code: c.name for c in defn.candidates}
    for k, m in est.totals.items():
        share = est.shares.get(k)
        table.add_row(
            escape(names.get(k, _(k))),
            f"{m.verified:,.0f}",
            f"{m.total:,.0f}",
            f"{m.low:,.0f} – {m.high:,.0f}",
            f"{share.value:.2f}" if share else "",
            f"{share.low:.2f} – {share.high:.2f}" if share else "",
        )
    for k, s in est.shares.items():
        if k.startswith("margin:"):
            table.add_row(
                escape(_("margin {pair}", pair=k.removeprefix("margin:"))),
                "",
                "",
                "",
                f"{s.value:.2f}",
                f"{s.low:.2f} – {s.high:.2f}",
            )
    out.print(table)
    for a in est.assumptions:
        out.print(f"[dim]• {escape(said(a))}[/]")


ESTIMATE_MEASURES = (N_("valid"), N_("nulos"))


def _coverage_pct(verified: int, totals: dict[str, dict[str, int | None]]) -> float | None:
    national = totals["national"].get("")
    return 100.0 * verified / national if national else None


def _estimate_warnings(
    verified: int, totals: dict[str, dict[str, int | None]], strata: str, force: bool
) -> list[str]:
    """Refuse an estimate with nothing, or too little, to stand on; say what weakens one."""
    if verified == 0:
        fail(
            _("no verified mesa: there is nothing to estimate from"),
            _("scan actas (veedor scan) or choose an imported table (--source table:1)"),
        )
    pct = _coverage_pct(verified, totals)
    warnings: list[str] = []
    if pct is not None and pct < MIN_ESTIMATE_COVERAGE:
        message = _(
            "only {verified:,} mesas are verified ({pct:.2f} % of the {total:,}): an estimate needs at least "
            "{minimum:.0f} %; below that the verified mesas are too few and too clustered for its interval "
            "to mean much",
            verified=verified,
            pct=pct,
            total=totals["national"][""] or 0,
            minimum=MIN_ESTIMATE_COVERAGE,
        )
        if not force:
            fail(message, _("count more actas first (veedor tally shows the coverage), or add --force"))
        warnings.append(message)
    if pct is None:
        warnings.append(_("the total number of mesas is unknown: coverage cannot be checked"))
    if not any(v for v in totals.get(strata, {}).values()):
        warnings.append(
            _(
                "the registry has no mesa totals at level {level}: every missing mesa borrows a wider "
                "unit's ratio; import the unit totals (veedor import-registry samples/registry/)",
                level=_(strata),
            )
        )
    return warnings
