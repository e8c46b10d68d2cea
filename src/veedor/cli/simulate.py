"""``veedor simulate`` and ``veedor drill``: synthetic actas and election-night rehearsals."""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import typer
from rich.markup import escape

from veedor.cli.common import (
    DEFINITION_OPTION,
    _,
    console,
    fail,
    get_definition,
    out,
    said,
)

if TYPE_CHECKING:  # NumPy, OpenCV: imported when a command runs, not at start-up
    from rich.progress import Progress

    from veedor.definitions.schema import ElectionDefinition
    from veedor.simulate.drill import DrillReport
    from veedor.simulate.render import ActaSpec

PROFILE_NAMES = ("clean", "scanner", "phone", "bad-phone", "damaged", "mixed")
"""Same as ``veedor.simulate.profiles.PROFILE_NAMES`` (tests/test_cli_startup.py keeps them
equal): importing the profiles loads OpenCV, too slow for ``veedor --help``."""
PROFILE_HELP = "Degradation profile: clean, scanner, phone, bad-phone, damaged, mixed."
MIX_HELP = "Weights of the mixed profile, e.g. 'scanner=0.6,phone=0.25,bad-phone=0.1,damaged=0.05'."


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
            _("table not found: {path}", path=results),
            _("give a per-acta results CSV"),
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
            total = max(0, sum(1 for _line in fh) - 1)
    return specs, total


def _mix(text: str | None) -> dict[str, float] | None:
    from veedor.simulate.profiles import parse_mix

    try:
        return parse_mix(text) if text else None
    except ValueError as exc:
        fail(said(exc))


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
    results: Path = typer.Option(..., "--results", "-r", help="Per-acta results table."),
    out_dir: Path = typer.Option(..., "--out", "-o", help="Output folder."),
    count: int | None = typer.Option(None, "--count", "-n", min=1, help="How many actas."),
    all_rows: bool = typer.Option(False, "--all", help="Every row."),
    fill_to: int | None = typer.Option(
        None,
        "--fill-to",
        min=1,
        help="Add synthetic mesas up to N.",
    ),
    profile: str = typer.Option("scanner", "--profile", "-p", help=PROFILE_HELP),
    mix: str | None = typer.Option(None, "--mix", help=MIX_HELP),
    tamper_rate: float = typer.Option(
        0.0,
        "--tamper",
        min=0.0,
        max=1.0,
        help="Share of actas with a pasted forged QR.",
    ),
    seed: int = typer.Option(0, "--seed", help="Seed."),
    workers: int | None = typer.Option(None, "--workers", "-w", min=1, help="Processes."),
    quality: int = typer.Option(90, "--quality", min=10, max=100, help="JPEG quality."),
    definition: str = DEFINITION_OPTION,
) -> None:
    """Render acta images with their ground truth (JSON) and a manifest.

    Render acta images that look real, each with its ground truth (JSON), plus a manifest
    (manifest.csv, manifest.json). Streams: memory does not grow with the count.
    """
    from veedor.definitions import DefinitionError
    from veedor.simulate.generate import SimOptions, simulate
    from veedor.simulate.tables import TableError

    if count is None and not all_rows and fill_to is None:
        fail(_("give --count N or --all"))
    if profile not in PROFILE_NAMES:
        fail(_("unknown profile {profile!r}", profile=profile), _(PROFILE_HELP))
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
            task = progress.add_task(_("Rendering actas"), total=total)
            summary = simulate(
                specs, opts, workers, source=str(results), on_row=lambda _row: progress.advance(task)
            )
    except (TableError, DefinitionError) as exc:  # DefinitionError: no acta_render section
        fail(said(exc))
    rate = summary.count / summary.seconds if summary.seconds else 0.0
    profiles = ", ".join(f"{k} {v}" for k, v in sorted(summary.by_profile.items()))
    console.print(
        _(
            "{count:,} actas in {seconds:.1f} s ({rate:.1f}/s) → {out}; profiles: {profiles}; tampered "
            "{tampered}; errors {errors}",
            count=summary.count,
            seconds=summary.seconds,
            rate=rate,
            out=out_dir,
            profiles=profiles,
            tampered=summary.tampered,
            errors=summary.errors,
        ),
        markup=False,
    )


def drill_cmd(
    results: Path = typer.Option(..., "--results", "-r", help="Per-acta results table."),
    mesas: int | None = typer.Option(None, "--mesas", "-n", min=1, help="How many mesas."),
    fill_to: int | None = typer.Option(None, "--fill-to", min=1, help="Add synthetic mesas up to N."),
    out_dir: Path = typer.Option(Path("veedor-drill"), "--out", "-o", help="Drill folder."),
    profile: str = typer.Option("scanner", "--profile", "-p", help=PROFILE_HELP),
    mix: str | None = typer.Option(None, "--mix", help=MIX_HELP),
    tamper_rate: float = typer.Option(0.0, "--tamper", min=0.0, max=1.0, help="Share with forged QR."),
    seed: int = typer.Option(0, "--seed", help="Seed."),
    workers: int | None = typer.Option(None, "--workers", "-w", min=1, help="Processes."),
    batch: int = typer.Option(500, "--batch", min=1, help="Actas per batch."),
    keep_images: bool = typer.Option(False, "--keep-images", help="Keep the images."),
    db: str | None = typer.Option(None, "--db", help="Drill DB."),
    qr_only: bool = typer.Option(
        False,
        "--qr-only",
        help="Scan the QR only, without the print cross-check (faster).",
    ),
    definition: str = DEFINITION_OPTION,
) -> None:
    """Election-night drill: render, scan, tally and check against the table.

    Election-night drill: render actas from a results table, scan them, tally, and check
    the tally against the table. Exit code 1 if any ok acta differs from its source.
    """
    from veedor.simulate.drill import run_drill

    if profile not in PROFILE_NAMES:
        fail(_("unknown profile {profile!r}", profile=profile), _(PROFILE_HELP))
    defn = get_definition(definition)
    from veedor.definitions import DefinitionError
    from veedor.simulate.render import require_render

    try:
        require_render(defn)  # before any table is read or folder made
    except DefinitionError as exc:
        fail(said(exc))
    specs, total = _specs(results, defn, mesas, mesas is None, fill_to, seed)
    with _progress() as progress:
        tasks = {
            "render": progress.add_task(_("Rendering"), total=total),
            "scan": progress.add_task(_("Scanning"), total=total),
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

    table = Table(title=_("Drill"))
    table.add_column(_("measure"))
    table.add_column(_("value"), justify="right")
    rps = report.rendered / report.render_seconds if report.render_seconds else 0.0
    sps = report.mesas / report.scan_seconds if report.scan_seconds else 0.0
    rows = [
        ("mesas", str(report.mesas)),
        (_("rendered per s"), f"{rps:.1f}"),
        (_("scanned per s"), f"{sps:.1f}"),
        ("ok", str(report.by_status.get("ok", 0))),
        (_("review"), str(report.by_status.get("review", 0))),
        (_("rejected"), str(report.by_status.get("rejected", 0))),
        (_("tampered (ok)"), f"{report.tampered} ({report.tampered_ok})"),
        (_("mismatches among ok"), str(len(report.mismatches))),
        (_("tally equals table"), _("yes") if report.tally_equal else "NO"),
        (
            _("peak memory"),
            _(
                "{parent:.0f} MB (+ {worker:.0f} MB per worker)",
                parent=report.peak_parent_mb,
                worker=report.peak_worker_mb,
            ),
        ),
    ]
    for name, value in rows:
        table.add_row(name, value)
    out.print(table)
    if report.throughput:
        points = report.throughput[:: max(1, len(report.throughput) // 10)]
        out.print(_("throughput (s, actas):") + " " + ", ".join(f"{t:.0f}s:{n}" for t, n in points))
    for profile, counts in sorted(report.by_profile_status.items()):
        out.print(f"  {profile}: " + ", ".join(f"{k} {v}" for k, v in sorted(counts.items())))
    for mismatch in report.mismatches[:10]:
        out.print(f"[red]{_('MISMATCH')}[/] {escape(str(mismatch))}")
