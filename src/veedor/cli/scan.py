"""``veedor scan``: read acta images from files and folders into the database."""

from __future__ import annotations

import sys
from contextlib import AbstractContextManager, nullcontext
from pathlib import Path
from typing import IO, TYPE_CHECKING

import typer

from veedor.cli.common import DB_OPTION, DEFINITION_OPTION, console, fail, get_definition, get_store

if TYPE_CHECKING:  # heavy (OpenCV, SQLAlchemy): imported when a command runs, not at start-up
    from veedor.model import FileOutcome
    from veedor.pipeline.scan import ScanSummary
    from veedor.store import Store


JSONL_OPTION = typer.Option(
    None,
    "--jsonl",
    help="Informe JSONL, una línea por archivo ('-' = salida estándar) / "
    "JSONL report, one line per file ('-' for stdout).",
)
WORKERS_OPTION = typer.Option(
    None,
    "--workers",
    "-w",
    min=1,
    help="Procesos (por defecto todos los núcleos) / processes (default: all cores).",
)
EVIDENCE_OPTION = typer.Option(None, "--evidence", help="Carpeta de evidencia / evidence folder.")


def register(app: typer.Typer) -> None:
    app.command("scan")(scan)
    app.command("rescan")(rescan_cmd)


def scan(
    paths: list[Path] = typer.Argument(
        ..., help="Archivos o carpetas (recursivo) / files or folders (recursive)."
    ),
    jsonl: str | None = JSONL_OPTION,
    workers: int | None = WORKERS_OPTION,
    evidence: Path | None = EVIDENCE_OPTION,
    qr_only: bool = typer.Option(
        False,
        "--qr-only",
        help="Leer solo el QR, sin compararlo con la tabla impresa (más rápido; un QR alterado no se "
        "detecta): sus mesas quedan 'unconfirmed', solo en la cifra preliminar (tally --include "
        "unconfirmed) hasta que se confirmen / read the QR alone, no print cross-check (faster; a "
        "tampered QR goes unnoticed): its mesas stay 'unconfirmed', only in the preliminary figure.",
    ),
    db: str | None = DB_OPTION,
    definition: str = DEFINITION_OPTION,
) -> None:
    """Lee actas (QR e impresión) de imágenes y las guarda, una por mesa, con su evidencia.

    Read actas from images (the QR, and the printed table to cross-check it, or instead of a
    lost QR) into the database, one record per mesa, keeping all evidence. Re-running on the
    same files counts nothing twice.
    """
    get_definition(definition)
    store = get_store(db)
    try:
        with report_file(jsonl) as report:
            summary = _scan_with_progress(
                paths, store, definition, evidence, workers, report, cross_check=not qr_only
            )
    except OSError as exc:
        fail(f"no se pudo escribir el informe / cannot write report {jsonl}: {exc.strerror}")
    print_summary(summary)
    print_mesas(store, definition)


def report_file(jsonl: str | None) -> AbstractContextManager[IO[str] | None]:
    """The ``--jsonl`` report: a file, standard output ('-'), or none."""
    if jsonl == "-":
        return nullcontext(sys.stdout)
    return open(jsonl, "w", encoding="utf-8") if jsonl else nullcontext(None)


def _scan_with_progress(
    paths: list[Path],
    store: Store,
    definition: str,
    evidence: Path | None,
    workers: int | None,
    report: IO[str] | None,
    *,
    cross_check: bool = True,
) -> ScanSummary:
    from rich.markup import escape
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

    from veedor.pipeline.scan import scan_paths

    progress = Progress(
        TextColumn("[bold]Leyendo actas / reading actas"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("{task.fields[last]}"),
        TimeRemainingColumn(),
        console=console,
    )
    with progress:
        task = progress.add_task("scan", total=None, last="")

        def on_outcome(outcome: FileOutcome) -> None:
            name = escape(Path(outcome.file).name[:40])  # a file named "[/red].jpg" is a name
            progress.update(task, advance=1, last=f"{outcome.status.value}: {name}")

        return scan_paths(
            paths,
            store,
            definition_id=definition,
            evidence_root=evidence,
            workers=workers,
            report=report,
            on_total=lambda n: progress.update(task, total=n),
            on_outcome=on_outcome,
            cross_check=cross_check,
            on_retry=lambda message: progress.console.print(f"[yellow]{message}[/]"),
        )


def print_summary(summary: ScanSummary) -> None:
    s = summary.by_status
    rate = summary.files / summary.seconds if summary.seconds else 0.0
    console.print(
        f"[bold]{summary.files}[/] archivos / files en {summary.seconds:.1f} s ({rate:.1f}/s): "
        f"[green]ok {s['ok']}[/], [yellow]revisar/review {s['review']}[/], [red]rechazados/rejected "
        f"{s['rejected']}[/]; duplicados / duplicates {summary.duplicates}"
    )


def print_mesas(store: Store, definition: str) -> None:
    """The mesas as they now stand: counted or not, and where to look."""
    from veedor.store.mesas import list_mesas

    with store.session() as session:
        rows = list_mesas(session, get_definition(definition))
    states = {s: sum(1 for r in rows if r.state == s) for s in ("ok", "unconfirmed", "review", "conflict")}
    alerts = sum(1 for r in rows if r.alerts)
    console.print(
        f"mesas: [green]contadas / counted {states['ok']}[/], sin confirmar / unconfirmed "
        f"{states['unconfirmed']}, [yellow]revisar / review {states['review']}[/], [red]conflicto / "
        f"conflict {states['conflict']}[/]; con alertas / with alerts {alerts}"
        + (" — veedor mesas --state conflict / --alerts" if states["conflict"] or alerts else "")
    )


def rescan_cmd(
    sha: list[str] = typer.Option(
        [], "--sha", help="Solo estas imágenes (SHA-256; repetible) / only these images (repeatable)."
    ),
    combine_only: bool = typer.Option(
        False,
        "--combine-only",
        help="No leer: aplicar de nuevo la regla de mesas a la evidencia guardada / do not read: "
        "re-apply the mesa rule to the stored evidence.",
    ),
    jsonl: str | None = JSONL_OPTION,
    workers: int | None = WORKERS_OPTION,
    evidence: Path | None = EVIDENCE_OPTION,
    db: str | None = DB_OPTION,
    definition: str = DEFINITION_OPTION,
) -> None:
    """Vuelve a leer la evidencia guardada con este veedor y recombina sus mesas.

    Read the stored evidence again (from the evidence store, by SHA-256) with this veedor's
    readers, and recombine every mesa it touches: nothing counted twice, earlier readings and
    decisions kept in the history.
    """
    from veedor.pipeline.rescan import rescan

    get_definition(definition)
    store = get_store(db)
    try:
        with report_file(jsonl) as report:
            summary = rescan(
                store,
                definition_id=definition,
                evidence_root=evidence,
                workers=workers,
                shas=sha or None,
                combine_only=combine_only,
                report=report,
            )
    except OSError as exc:
        fail(f"no se pudo escribir el informe / cannot write report {jsonl}: {exc.strerror}")
    states = ", ".join(f"{k} {v}" for k, v in sorted(summary.by_state.items()))
    console.print(
        f"[bold]{summary.images}[/] imágenes releídas / images re-read en {summary.seconds:.1f} s; "
        f"mesas que cambiaron / mesas changed: {summary.mesas_changed}; mesas: {states}"
        + (
            f"; [red]evidencia faltante o alterada / missing or altered: {summary.missing}[/]"
            if summary.missing
            else ""
        )
    )
