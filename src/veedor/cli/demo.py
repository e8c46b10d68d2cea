"""``veedor demo``: the main job on the real sample data bundled in the repository."""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING

import typer
from rich.markup import escape

from veedor.capture.evidence import remove_store
from veedor.cli.common import DEFINITION_OPTION, _, console, fail, get_definition, out, pick, said
from veedor.cli.scan import _scan_with_progress, print_summary

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

    from veedor.definitions import ElectionDefinition
    from veedor.store import Store

MARKER = ".veedor-demo"


def samples_dir() -> Path:
    env = os.environ.get("VEEDOR_SAMPLES")
    if env:
        return Path(env)
    return Path(__file__).resolve().parents[3] / "samples"


def register(app: typer.Typer) -> None:
    app.command("demo")(demo)


def demo(
    out_dir: Path = typer.Option(Path("veedor-demo"), "--out", help="Working folder."),
    workers: int | None = typer.Option(None, "--workers", "-w", min=1, help="Processes."),
    definition: str = DEFINITION_OPTION,
) -> None:
    """Run the whole job on the bundled real data: 23 actas and the V1 table.

    Run the whole job on the bundled real data: scan 23 real actas, import the registry and the
    published V1 table, tally both, check that every acta read agrees with the table, and
    confront the CNE's bulletins: could the unverified tables make them true?
    """
    from rich.panel import Panel

    from veedor.cli.tally import as_table
    from veedor.ingest.official import import_official
    from veedor.ingest.registry import import_registry
    from veedor.ingest.tables import import_results_table
    from veedor.store import open_store
    from veedor.tally import tally
    from veedor.tally.compare import official_keys
    from veedor.tally.scenario import scenario, sentences, verdict

    defn = get_definition(definition)
    samples = samples_dir()
    if not (samples / "actas").is_dir():
        fail(
            _("sample data not found in {path}", path=samples),
            _("run it from a clone of the repository, or set VEEDOR_SAMPLES"),
        )
    if out_dir.exists():
        if not (out_dir / MARKER).exists():
            fail(
                _("{path} exists and is not a demo folder", path=out_dir),
                _("choose another with --out"),
            )
        remove_store(out_dir)  # its evidence folders are read-only
    out_dir.mkdir(parents=True)
    (out_dir / MARKER).write_text("veedor demo\n")
    if "demo" in defn.raw:  # a definition that brings its own demo (hn-2025-presidential)
        _desk_demo(out_dir, defn, samples, workers)
        return
    db = out_dir / "veedor.db"
    store = open_store(str(db))
    console.rule(f"[bold]{escape(_('1. Registry: centres, units and electors'))}")
    with store.session() as session:
        for name in (
            "centros_resultadosconvzla_site_2024-08-01.csv",
            "admin_units_resultadosconvzla_site_2024-08-01.csv",
        ):
            import_registry(session, samples / "registry" / name, defn)
        import_registry(session, samples / "results" / "RESULTADOS_2024_CSV_V1.csv", defn)
        session.commit()
    console.print(escape(_("Centres, their hierarchy, unit totals and electors per mesa imported.")))
    console.rule(f"[bold]{escape(_('2. Reading 23 real actas'))}")
    report = out_dir / "scan-report.jsonl"
    with report.open("w", encoding="utf-8") as handle:
        summary = _scan_with_progress(
            [samples / "actas"], store, definition, out_dir / "evidence", workers, handle
        )
    print_summary(summary)
    _copies(samples, out_dir, store, definition, workers, defn)
    console.rule(f"[bold]{escape(_('3. The published V1 table'))}")
    with store.session() as session:
        table = import_results_table(session, samples / "results" / "RESULTADOS_2024_CSV_V1.csv", defn)
        session.commit()
        out.print(as_table(tally(session, defn, "national", "scan"), defn))
        out.print(as_table(tally(session, defn, "national", f"table:{table.table_id}"), defn))
        agree, differ = _agreement(session, defn, table.table_id)
    console.rule(f"[bold]{escape(_('4. Cross-check'))}")
    console.print(
        escape(
            _("Read actas matching the V1 table: {agree}; differing: {differ}", agree=agree, differ=differ)
        )
    )
    console.rule(f"[bold]{escape(_('5. Against the official bulletins'))}")
    with store.session() as session:
        import_official(session, samples / "official" / "cne_bulletins_2024.json", defn)
        session.commit()
        for key in official_keys(session, defn):
            result = scenario(session, defn, key, f"table:{table.table_id}")
            for pair in sentences(result)[:2]:
                out.print(f"• {escape(pick(pair))}")
            out.print(
                f"[bold {'red' if not result.possible else 'green'}]{escape(pick(verdict(result)))}[/]\n"
            )
    source = f"table:{table.table_id}"
    tries = "\n".join(f"  {escape(line)}" for line in try_next(db, out_dir, samples, source))
    console.print(
        Panel.fit(
            escape(_("Per-file report: {path}", path=report))
            + "\n"
            + escape(_("Database: {path}", path=db))
            + "\n\n"
            + escape(_("Try next:"))
            + "\n"
            + tries,
            title="veedor demo",
        )
    )


def try_next(db: Path, out_dir: Path, samples: Path, source: str) -> list[str]:
    """The commands the demo suggests, each one runnable as printed (a test runs them)."""
    return [
        f"veedor tally --db {db} --level state --source {source}",
        f"veedor compare --db {db} --source {source} --only-differences",
        f"veedor scenario --db {db} --source {source}",
        f"veedor estimate --db {db} --source {source}",
        f"veedor tally --db {db} --level mesa",
        f"veedor mesas --db {db} --alerts",
        f"veedor scan {samples / 'actas'} --db {db} --jsonl {out_dir / 'rescan.jsonl'}",
        f"veedor serve --db {db} --evidence {out_dir / 'evidence'}   # http://127.0.0.1:8080/",
        "veedor --help",
    ]


FORGED = "017911_018022_0093Acta0093.jpg"
WITNESS = "784821_489421_0129Acta0128.jpg"


def _copies(
    samples: Path, out_dir: Path, store: Store, definition: str, workers: int | None, defn: ElectionDefinition
) -> None:
    """More copies of two mesas, as a data room gets them: a witness's photo of one QR, and a
    sheet of another with a forged QR pasted on. Neither may take a mesa out of the count."""
    import cv2
    import numpy as np

    from veedor.cli.scan import print_mesas
    from veedor.simulate import degrade as deg
    from veedor.store.mesas import list_mesas

    console.rule(
        f"[bold]{escape(_('2b. More copies of two mesas: a witness photo, a sheet with a forged QR'))}"
    )
    folder = out_dir / "copias"
    folder.mkdir()
    rng = np.random.default_rng(7)
    for name, make in (
        (FORGED, lambda g: deg.tamper(g, defn, rng)[0]),
        (WITNESS, lambda g: deg.degrade(g, "phone_bottom", rng)),
    ):
        gray = cv2.imread(str(next((samples / "actas").glob(f"*/{name}"))), cv2.IMREAD_GRAYSCALE)
        cv2.imwrite(str(folder / f"copia-{name}"), make(np.asarray(gray)))
    with (out_dir / "copies-report.jsonl").open("w", encoding="utf-8") as handle:
        _scan_with_progress([folder], store, definition, out_dir / "evidence", workers, handle)
    print_mesas(store, definition)
    with store.session() as session:
        for row in list_mesas(session, defn, with_alerts=True):
            for alert in row.alerts:
                out.print(
                    f"[bold red]{escape(_('alert'))}[/] mesa {row.code} ({row.state}): {escape(said(alert['detail']))}"
                )
    console.print(
        escape(
            _(
                "Each mesa with all its copies: {command}",
                command=f"veedor mesa CODE --db {out_dir / 'veedor.db'}",
            )
        )
    )


def _agreement(session: Session, defn: ElectionDefinition, table_id: int) -> tuple[int, int]:
    """Compare each ok acta's per-candidate totals with the table's row for the same mesa."""
    from sqlalchemy import select

    from veedor.store.schema import ActaRecord, ResultRow, ResultVotes

    table_votes: dict[tuple[str, int], dict[str, int]] = {}
    for centre, mesa, cand, votes in session.execute(
        select(ResultRow.centre, ResultRow.mesa, ResultVotes.candidate, ResultVotes.votes)
        .join(ResultVotes, ResultVotes.row_id == ResultRow.id)
        .where(ResultRow.table_id == table_id)
    ):
        table_votes.setdefault((centre, mesa), {})[cand] = votes
    agree = differ = 0
    for acta in session.scalars(
        select(ActaRecord).where(ActaRecord.election == defn.id, ActaRecord.status == "ok")
    ):
        totals = defn.totals_by_candidate(acta.votes or [])
        if table_votes.get((acta.centre, acta.mesa)) == totals:
            agree += 1
        else:
            differ += 1
    return agree, differ


def _desk_demo(out_dir: Path, defn: ElectionDefinition, samples: Path, workers: int | None) -> None:
    """The definition's own demo (``veedor.pipeline.desk_demo``): its actas settled by people."""
    from veedor.pipeline.desk_demo import DemoUnavailable, run_desk_demo

    console.rule(f"[bold]{escape(pick((defn.name_es, defn.name_en)))}")
    try:
        done = run_desk_demo(out_dir, defn, samples, workers)
    except DemoUnavailable as exc:
        fail(said(str(exc)), _("run it from a clone of the repository, or set VEEDOR_SAMPLES"))
    print_summary(done.scan)
    for mesa in done.mesas:
        differences = mesa.differences
        if not mesa.settled:
            line = _("{code}: not settled: the two entries differ", code=mesa.code)
        elif not differences:
            line = _("{code}: settled by two people, equal to the authority's figures", code=mesa.code)
        elif all(official is None for _verified, official in differences.values()):
            line = _("{code}: settled by two people; the authority has not published it", code=mesa.code)
        else:
            shown = ", ".join(f"{c} {v} ≠ {o}" for c, (v, o) in differences.items())
            line = _("{code}: differs from the authority: {shown}", code=mesa.code, shown=shown)
        out.print(f"• {escape(line)}")
    from veedor.cli.tally import as_table
    from veedor.store import open_store
    from veedor.tally import tally

    store = open_store(str(done.db))
    with store.session() as session:
        out.print(as_table(tally(session, defn, defn.levels[-1].name, "scan"), defn))
    store.engine.dispose()
    console.print(escape(_("Per-file report: {path}", path=done.report)))
    console.print(escape(_("Database: {path}", path=done.db)))
