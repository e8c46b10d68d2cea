"""``veedor simulate`` and ``veedor drill``: synthetic actas and election-night rehearsals."""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import typer

from veedor.cli.common import DEFINITION_OPTION, console, fail, get_definition, out

if TYPE_CHECKING:  # NumPy, OpenCV: imported when a command runs, not at start-up
    from rich.progress import Progress

    from veedor.definitions.schema import ElectionDefinition
    from veedor.simulate.drill import DrillReport
    from veedor.simulate.render import ActaSpec

PROFILE_NAMES = ("clean", "scanner", "phone", "bad-phone", "damaged", "mixed")
"""Same as ``veedor.simulate.profiles.PROFILE_NAMES`` (tests/test_cli_startup.py keeps them
equal): importing the profiles loads OpenCV, too slow for ``veedor --help``."""
PROFILE_HELP = f"Perfil de degradación: {', '.join(PROFILE_NAMES)} / degradation profile."
MIX_HELP = (
    "Pesos de la mezcla para --profile mixed, p. ej. 'scanner=0.6,phone=0.25,bad-phone=0.1,"
    "damaged=0.05' / weights of the mixed profile."
)


def register(app: typer.Typer) -> None:
    app.command("simulate")(simulate_cmd)
    app.command("drill")(drill_cmd)


def _specs(
    results: Path,
    definition: ElectionDefinition,
    count: int | None,
    all_rows: bool,
    fill_to: int | None,
    seed: int,
) -> tuple[Iterator[ActaSpec], int | None]:
    from veedor.simulate.tables import read_table, with_synthetic_remainder

    if not results.is_file():
        fail(
            f"no existe la tabla / table not found: {results}",
            "indique un CSV de resultados por acta / give a per-acta results CSV",
        )
    specs: Iterator[ActaSpec] = read_table(results, definition, seed)
    if fill_to:
        specs = with_synthetic_remainder(specs, fill_to, definition, seed)
    total = fill_to
    if count is not None and not all_rows:
        specs = itertools.islice(specs, count)
        total = count
    elif total is None:
        with results.open("rb") as fh:
            total = max(0, sum(1 for _ in fh) - 1)
    return specs, total


def _mix(text: str | None) -> dict[str, float] | None:
    from veedor.simulate.profiles import parse_mix

    try:
        return parse_mix(text) if text else None
    except ValueError as exc:
        fail(str(exc))


def _progress() -> Progress:
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        Progress,
        TextColumn,
        TimeElapsedColumn,
        TimeRemainingColumn,
    )

    return Progress(
        TextColumn("[bold]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        TimeRemainingColumn(),
        console=console,
    )


def simulate_cmd(
    results: Path = typer.Option(
        ..., "--results", "-r", help="Tabla de resultados por acta (CSV) / per-acta results table."
    ),
    out_dir: Path = typer.Option(..., "--out", "-o", help="Carpeta de salida / output folder."),
    count: int | None = typer.Option(
        None, "--count", "-n", min=1, help="Cuántas actas (las primeras N) / how many actas."
    ),
    all_rows: bool = typer.Option(False, "--all", help="Todas las filas / every row."),
    fill_to: int | None = typer.Option(
        None,
        "--fill-to",
        min=1,
        help="Completar con mesas sintéticas hasta N (p. ej. 30026) / add synthetic mesas up to N.",
    ),
    profile: str = typer.Option("scanner", "--profile", "-p", help=PROFILE_HELP),
    mix: str | None = typer.Option(None, "--mix", help=MIX_HELP),
    tamper_rate: float = typer.Option(
        0.0,
        "--tamper",
        min=0.0,
        max=1.0,
        help="Fracción de actas con un QR falso pegado encima / share of actas with a pasted forged QR.",
    ),
    seed: int = typer.Option(0, "--seed", help="Semilla (mismo valor, mismas imágenes) / seed."),
    workers: int | None = typer.Option(
        None, "--workers", "-w", min=1, help="Procesos (por defecto todos los núcleos) / processes."
    ),
    quality: int = typer.Option(90, "--quality", min=10, max=100, help="Calidad JPEG / JPEG quality."),
    definition: str = DEFINITION_OPTION,
) -> None:
    """Genera imágenes de actas con su verdad (JSON) y un manifiesto.

    Render acta images that look real, each with its ground truth (JSON), plus a manifest
    (manifest.csv, manifest.json). Streams: memory does not grow with the count.
    """
    from veedor.simulate.generate import SimOptions, simulate
    from veedor.simulate.tables import TableError

    if count is None and not all_rows and fill_to is None:
        fail("indique --count N o --all / give --count N or --all")
    if profile not in PROFILE_NAMES:
        fail(f"perfil desconocido / unknown profile {profile!r}", PROFILE_HELP)
    defn = get_definition(definition)
    specs, total = _specs(results, defn, count, all_rows, fill_to, seed)
    opts = SimOptions(
        out=str(out_dir),
        definition_id=defn.id if not Path(definition).suffix else definition,
        profile=profile,
        mix=_mix(mix),
        seed=seed,
        quality=quality,
        tamper_rate=tamper_rate,
    )
    try:
        with _progress() as progress:
            task = progress.add_task("Generando actas / rendering actas", total=total)
            summary = simulate(
                specs, opts, workers, source=str(results), on_row=lambda _row: progress.advance(task)
            )
    except TableError as exc:
        fail(str(exc))
    rate = summary.count / summary.seconds if summary.seconds else 0.0
    profiles = ", ".join(f"{k} {v}" for k, v in sorted(summary.by_profile.items()))
    console.print(
        f"[bold]{summary.count}[/] actas en / in {summary.seconds:.1f} s ({rate:.1f}/s) → "
        f"{out_dir}; perfiles / profiles: {profiles}; alteradas / tampered {summary.tampered}; "
        f"errores / errors {summary.errors}"
    )


def drill_cmd(
    results: Path = typer.Option(
        ..., "--results", "-r", help="Tabla de resultados por acta (CSV) / per-acta results table."
    ),
    mesas: int | None = typer.Option(
        None, "--mesas", "-n", min=1, help="Cuántas mesas (por defecto todas) / how many mesas."
    ),
    fill_to: int | None = typer.Option(
        None, "--fill-to", min=1, help="Completar con mesas sintéticas hasta N / add synthetic mesas up to N."
    ),
    out_dir: Path = typer.Option(
        Path("veedor-drill"), "--out", "-o", help="Carpeta del simulacro / drill folder."
    ),
    profile: str = typer.Option("scanner", "--profile", "-p", help=PROFILE_HELP),
    mix: str | None = typer.Option(None, "--mix", help=MIX_HELP),
    tamper_rate: float = typer.Option(
        0.0, "--tamper", min=0.0, max=1.0, help="Fracción con QR falso pegado / share with forged QR."
    ),
    seed: int = typer.Option(0, "--seed", help="Semilla / seed."),
    workers: int | None = typer.Option(None, "--workers", "-w", min=1, help="Procesos / processes."),
    batch: int = typer.Option(
        500, "--batch", min=1, help="Actas por lote (disco acotado) / actas per batch."
    ),
    keep_images: bool = typer.Option(
        False, "--keep-images", help="Conservar las imágenes / keep the images."
    ),
    db: str | None = typer.Option(
        None, "--db", help="Base del simulacro (por defecto OUT/drill.db) / drill DB."
    ),
    qr_only: bool = typer.Option(
        False,
        "--qr-only",
        help="Escanear solo el QR, sin comparar la impresión (más rápido) / "
        "scan the QR only, without the print cross-check (faster).",
    ),
    definition: str = DEFINITION_OPTION,
) -> None:
    """Simulacro de la noche electoral: genera, escanea, totaliza y compara con la tabla.

    Election-night drill: render actas from a results table, scan them, tally, and check
    the tally against the table. Exit code 1 if any ok acta differs from its source.
    """
    from veedor.simulate.drill import run_drill

    if profile not in PROFILE_NAMES:
        fail(f"perfil desconocido / unknown profile {profile!r}", PROFILE_HELP)
    defn = get_definition(definition)
    specs, total = _specs(results, defn, mesas, mesas is None, fill_to, seed)
    with _progress() as progress:
        tasks = {
            "render": progress.add_task("Generando / rendering", total=total),
            "scan": progress.add_task("Escaneando / scanning", total=total),
        }
        report = run_drill(
            specs,
            out_dir,
            definition_id=defn.id,
            profile=profile,
            mix=_mix(mix),
            seed=seed,
            tamper_rate=tamper_rate,
            workers=workers,
            batch=batch,
            keep_images=keep_images,
            db=db,
            on_progress=lambda stage, n: progress.advance(tasks[stage], n),
            cross_check=not qr_only,
        )
    _print_drill(report)
    if not report.passed:
        raise typer.Exit(code=1)


def _print_drill(report: DrillReport) -> None:
    from rich.table import Table

    table = Table(title="Simulacro / drill")
    table.add_column("medida / measure")
    table.add_column("valor / value", justify="right")
    rps = report.rendered / report.render_seconds if report.render_seconds else 0.0
    sps = report.mesas / report.scan_seconds if report.scan_seconds else 0.0
    rows = [
        ("mesas", str(report.mesas)),
        ("generadas por s / rendered per s", f"{rps:.1f}"),
        ("escaneadas por s / scanned per s", f"{sps:.1f}"),
        ("ok", str(report.by_status.get("ok", 0))),
        ("revisar / review", str(report.by_status.get("review", 0))),
        ("rechazadas / rejected", str(report.by_status.get("rejected", 0))),
        ("alteradas / tampered (ok)", f"{report.tampered} ({report.tampered_ok})"),
        ("diferencias en ok / mismatches among ok", str(len(report.mismatches))),
        ("totalización = tabla / tally equals table", "sí / yes" if report.tally_equal else "NO"),
        (
            "memoria pico / peak memory",
            f"{report.peak_parent_mb:.0f} MB (+ {report.peak_worker_mb:.0f} MB por proceso / per worker)",
        ),
    ]
    for name, value in rows:
        table.add_row(name, value)
    out.print(table)
    if report.throughput:
        points = report.throughput[:: max(1, len(report.throughput) // 10)]
        out.print("ritmo / throughput (s, actas): " + ", ".join(f"{t:.0f}s:{n}" for t, n in points))
    for profile, counts in sorted(report.by_profile_status.items()):
        out.print(f"  {profile}: " + ", ".join(f"{k} {v}" for k, v in sorted(counts.items())))
    for mismatch in report.mismatches[:10]:
        out.print(f"[red]DIFERENCIA / MISMATCH[/] {mismatch}")
