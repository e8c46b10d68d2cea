"""``veedor demo``: the main job on the real sample data bundled in the repository."""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING

import typer
from rich.markup import escape

from veedor.capture.evidence import remove_store
from veedor.cli.common import DEFINITION_OPTION, console, fail, get_definition, out
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
    out_dir: Path = typer.Option(Path("veedor-demo"), "--out", help="Carpeta de trabajo / working folder."),
    workers: int | None = typer.Option(None, "--workers", "-w", min=1, help="Procesos / processes."),
    definition: str = DEFINITION_OPTION,
) -> None:
    """Ejecuta todo el trabajo con los datos reales incluidos: 23 actas y la tabla V1.

    Run the whole job on the bundled real data: scan 23 real actas, import the registry and the
    published V1 table, tally both, check that every acta read agrees with the table, and
    confront the CNE's bulletins: could the unverified tables make them true?
    """
    from rich.panel import Panel

    from veedor.capture.official import import_official
    from veedor.capture.registry import import_registry
    from veedor.capture.tables import import_results_table
    from veedor.cli.tally import as_table
    from veedor.store import open_store
    from veedor.tally import tally
    from veedor.tally.compare import official_keys
    from veedor.tally.scenario import scenario, sentences, verdict

    defn = get_definition(definition)
    samples = samples_dir()
    if not (samples / "actas").is_dir():
        fail(
            f"no se encuentran los datos de ejemplo en {samples} / sample data not found",
            "ejecute desde un clon del repositorio o defina VEEDOR_SAMPLES / run from a clone or set VEEDOR_SAMPLES",
        )
    if out_dir.exists():
        if not (out_dir / MARKER).exists():
            fail(
                f"{out_dir} existe y no es una carpeta de demo / exists and is not a demo folder",
                "elija otra con --out / choose another with --out",
            )
        remove_store(out_dir)  # its evidence folders are read-only
    out_dir.mkdir(parents=True)
    (out_dir / MARKER).write_text("veedor demo\n")
    db = out_dir / "veedor.db"
    store = open_store(str(db))
    console.rule("[bold]1. Registro de centros y electores / registry")
    with store.session() as session:
        for name in (
            "centros_resultadosconvzla_site_2024-08-01.csv",
            "admin_units_resultadosconvzla_site_2024-08-01.csv",
        ):
            import_registry(session, samples / "registry" / name, defn)
        import_registry(session, samples / "results" / "RESULTADOS_2024_CSV_V1.csv", defn)
        session.commit()
    console.print("Centros, jerarquía y electores por mesa importados / registry imported.")
    console.rule(
        "[bold]2. Lectura de 23 actas reales (y 3 archivos que no son imágenes) / scanning 23 real actas"
    )
    report = out_dir / "scan-report.jsonl"
    with report.open("w", encoding="utf-8") as handle:
        summary = _scan_with_progress(
            [samples / "actas"], store, definition, out_dir / "evidence", workers, handle
        )
    print_summary(summary)
    _copies(samples, out_dir, store, definition, workers, defn)
    console.rule("[bold]3. Tabla publicada V1 / published V1 table")
    with store.session() as session:
        table = import_results_table(session, samples / "results" / "RESULTADOS_2024_CSV_V1.csv", defn)
        session.commit()
        out.print(as_table(tally(session, defn, "national", "scan"), defn))
        out.print(as_table(tally(session, defn, "national", f"table:{table.table_id}"), defn))
        agree, differ = _agreement(session, defn, table.table_id)
    console.rule("[bold]4. Verificación cruzada / cross-check")
    console.print(
        f"Actas leídas que coinciden con la tabla V1 / read actas matching V1: [green]{agree}[/]; "
        f"que difieren / differing: [red]{differ}[/]"
    )
    console.rule("[bold]5. Frente a los boletines del CNE / against the official bulletins")
    with store.session() as session:
        import_official(session, samples / "official" / "cne_bulletins_2024.json", defn)
        session.commit()
        for key in official_keys(session, defn):
            result = scenario(session, defn, key, f"table:{table.table_id}")
            for es, en in sentences(result)[:2]:
                out.print(f"• {es}\n  [dim]{en}[/]")
            ves, ven = verdict(result)
            out.print(f"[bold {'red' if not result.possible else 'green'}]{ves}[/]\n[dim]{ven}[/]\n")
    console.print(
        Panel.fit(
            f"Informe por archivo / per-file report: {report}\nBase de datos / database: {db}\n\n"
            "Pruebe ahora / try next:\n"
            f"  veedor tally --db {db} --level state --source table:{table.table_id}\n"
            f"  veedor compare --db {db} --source table:{table.table_id} --level state\n"
            f"  veedor estimate --db {db} --source table:{table.table_id}\n"
            f"  veedor tally --db {db} --level mesa\n"
            f"  veedor mesas --db {db} --alerts\n"
            f"  veedor scan MIS_ACTAS/ --db {db} --jsonl informe.jsonl\n"
            f"  veedor serve --db {db} --evidence {out_dir / 'evidence'}   "
            "# el sitio público / the public site: http://127.0.0.1:8080/\n"
            "  veedor --help",
            title="veedor demo",
        )
    )


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

    console.rule("[bold]2b. Más copias de dos mesas: foto de un testigo, hoja con QR falso / more copies")
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
                out.print(f"[bold red]alerta[/] mesa {row.code} ({row.state}): {escape(alert['detail'])}")
    console.print(
        f"Cada mesa, con todas sus copias / each mesa with all its copies: veedor mesa CODE --db {out_dir / 'veedor.db'}"
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
