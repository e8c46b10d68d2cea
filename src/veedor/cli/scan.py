"""``veedor scan``: read acta images from files and folders into the database."""

from __future__ import annotations

import sys
from contextlib import AbstractContextManager, nullcontext
from pathlib import Path
from typing import IO, TYPE_CHECKING

import typer

from veedor.cli.common import (
    DB_OPTION,
    DEFINITION_OPTION,
    Ticker,
    _,
    check_paths_exist,
    console,
    fail,
    get_definition,
    get_store,
    said,
)

if TYPE_CHECKING:  # heavy (OpenCV, SQLAlchemy): imported when a command runs, not at start-up
    from veedor.model import FileOutcome
    from veedor.pipeline.scan import ScanSummary
    from veedor.store import Store


JSONL_OPTION = typer.Option(
    None,
    "--jsonl",
    help="JSONL report, one line per file ('-' for stdout).",
)
WORKERS_OPTION = typer.Option(
    None,
    "--workers",
    "-w",
    min=1,
    help="Processes (default: all cores).",
)
EVIDENCE_OPTION = typer.Option(None, "--evidence", help="Evidence folder.")


def register(app: typer.Typer) -> None:
    app.command("scan")(scan)
    app.command("rescan")(rescan_cmd)


def scan(
    paths: list[Path] = typer.Argument(..., help="Files or folders (recursive)."),
    jsonl: str | None = JSONL_OPTION,
    workers: int | None = WORKERS_OPTION,
    evidence: Path | None = EVIDENCE_OPTION,
    qr_only: bool = typer.Option(
        False,
        "--qr-only",
        help="Read the QR alone, no print cross-check (faster; a tampered QR goes unnoticed): its mesas stay 'unconfirmed', only in the preliminary figure.",
    ),
    all_files: bool = typer.Option(
        False,
        "--all-files",
        help="Read every file, not only images (by name or content): anything else is then stored "
        "as rejected evidence.",
    ),
    cluster: str | None = typer.Option(
        None,
        "--cluster",
        help="Read on a Dask cluster: its scheduler's address (tcp://host:8786), or 'local' for a "
        "throw-away one of -w processes on this machine. The evidence folder must be shared by "
        "every machine, at the same path (docs/scale.md).",
    ),
    spool: Path | None = typer.Option(
        None,
        "--spool",
        help="Read into this folder instead of the database (a processing centre offline; --db, "
        "if given, only lends its registry); send it later with veedor push DIR.",
    ),
    db: str | None = DB_OPTION,
    definition: str = DEFINITION_OPTION,
) -> None:
    """Read actas from images and store them, one per mesa, with their evidence.

    Read actas from images (the QR, and the printed table to cross-check it, or instead of a
    lost QR) into the database, one record per mesa, keeping all evidence. Re-running on the
    same files counts nothing twice. What is not an image (by name and by content) is skipped
    and counted, unless --all-files is given.
    """
    from veedor.pipeline.spool import SpoolError

    stops: tuple[type[Exception], ...] = (SpoolError,)
    if cluster:  # the engine is imported only when asked for: a local scan starts as fast as before
        from veedor.pipeline.cluster import ClusterError

        stops += (ClusterError,)
    check_paths_exist(paths)
    get_definition(definition)
    if spool is not None and evidence is not None:
        fail(_("--spool keeps the evidence in its own folder: leave out --evidence"))
    # A spool is written instead of a database; --db then only lends its registry.
    store = get_store(db, create=spool is None) if spool is None or db is not None else None
    try:
        with report_file(jsonl) as report:
            summary = _scan_with_progress(
                paths,
                store,
                definition,
                evidence,
                workers,
                report,
                cross_check=not qr_only,
                all_files=all_files,
                cluster=cluster,
                spool=spool,
            )
    except OSError as exc:
        fail(_("cannot write the report {path}: {error}", path=jsonl, error=exc.strerror))
    except stops as exc:
        fail(said(exc), _("what was read before this is kept; run the same command again to go on"))
    print_summary(summary)
    if not summary.files:
        fail(
            _("no image to read in {paths}", paths=", ".join(map(str, paths))),
            _("give the folders or files with the acta images (--all-files reads any file)"),
        )
    if spool is not None:
        console.print(
            _("read into {spool}; send it to the central store with: veedor push {spool}", spool=spool),
            markup=False,  # a folder's name is a name
        )
        return
    assert store is not None
    print_mesas(store, definition)


def report_file(jsonl: str | None) -> AbstractContextManager[IO[str] | None]:
    """The ``--jsonl`` report: a file, standard output ('-'), or none."""
    if jsonl == "-":
        return nullcontext(sys.stdout)
    return open(jsonl, "w", encoding="utf-8") if jsonl else nullcontext(None)


def _scan_with_progress(
    paths: list[Path],
    store: Store | None,
    definition: str,
    evidence: Path | None,
    workers: int | None,
    report: IO[str] | None,
    *,
    cross_check: bool = True,
    all_files: bool = False,
    cluster: str | None = None,
    spool: Path | None = None,
) -> ScanSummary:
    from rich.markup import escape

    from veedor.pipeline.scan import Runner, scan_paths
    from veedor.pipeline.spool import spool_scan

    ticker = Ticker(_("reading actas"))
    on_cluster: AbstractContextManager[Runner | None] = nullcontext(None)
    if cluster:
        from veedor.pipeline.cluster import cluster_runner

        on_cluster = cluster_runner(cluster, workers)
    with on_cluster as runner, ticker.running():

        def on_outcome(outcome: FileOutcome) -> None:
            name = escape(Path(outcome.file).name[:40])  # a file named "[/red].jpg" is a name
            ticker.advance(kind=outcome.status.value, last=f"{outcome.status.value}: {name}")

        if spool is not None:  # a processing centre offline: pipeline/spool.py
            return spool_scan(
                paths,
                spool,
                definition_id=definition,
                registry_store=store,
                workers=workers,
                report=report,
                on_total=ticker.set_total,
                on_outcome=on_outcome,
                cross_check=cross_check,
                on_retry=lambda message: ticker.message(said(message)),
                all_files=all_files,
                runner=runner,
            )
        assert store is not None
        return scan_paths(
            paths,
            store,
            runner=runner,
            definition_id=definition,
            evidence_root=evidence,
            workers=workers,
            report=report,
            on_total=ticker.set_total,
            on_outcome=on_outcome,
            cross_check=cross_check,
            on_retry=lambda message: ticker.message(said(message)),
            all_files=all_files,
        )


def print_summary(summary: ScanSummary) -> None:
    from rich.markup import escape

    s = summary.by_status
    rate = summary.files / summary.seconds if summary.seconds else 0.0
    console.print(
        escape(
            _(
                "{files:,} files in {seconds:.1f} s ({rate:.1f}/s): ok {ok:,}, review {review:,}, "
                "rejected {rejected:,}; duplicates {duplicates:,}",
                files=summary.files,
                seconds=summary.seconds,
                rate=rate,
                ok=s["ok"],
                review=s["review"],
                rejected=s["rejected"],
                duplicates=summary.duplicates,
            )
        )
    )
    if summary.skipped:
        console.print(
            escape(
                _(
                    "skipped {n:,} files that are not images (neither by name nor by content; "
                    "--all-files reads them too)",
                    n=summary.skipped,
                )
            )
        )


def print_mesas(store: Store, definition: str) -> None:
    """The mesas as they now stand: counted or not, and where to look."""
    from rich.markup import escape

    from veedor.store.mesas import list_mesas

    with store.session() as session:
        rows = list_mesas(session, get_definition(definition))
    states = {s: sum(1 for r in rows if r.state == s) for s in ("ok", "unconfirmed", "review", "conflict")}
    alerts = sum(1 for r in rows if r.alerts)
    text = _(
        "mesas: counted {ok:,}, unconfirmed {unconfirmed:,}, review {review:,}, conflict {conflict:,}; "
        "with alerts {alerts:,}",
        alerts=alerts,
        **states,
    )
    if states["conflict"] or alerts:
        text += " — veedor mesas --state conflict / --alerts"
    console.print(escape(text))


def rescan_cmd(
    sha: list[str] = typer.Option([], "--sha", help="Only these images (repeatable)."),
    combine_only: bool = typer.Option(
        False,
        "--combine-only",
        help="Do not read: re-apply the mesa rule to the stored evidence.",
    ),
    jsonl: str | None = JSONL_OPTION,
    workers: int | None = WORKERS_OPTION,
    evidence: Path | None = EVIDENCE_OPTION,
    db: str | None = DB_OPTION,
    definition: str = DEFINITION_OPTION,
) -> None:
    """Read the stored evidence again with this veedor and recombine its mesas.

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
        fail(_("cannot write the report {path}: {error}", path=jsonl, error=exc.strerror))
    states = ", ".join(f"{k} {v}" for k, v in sorted(summary.by_state.items()))
    console.print(
        _(
            "{images:,} images re-read in {seconds:.1f} s; mesas changed: {changed:,}; mesas: {states}",
            images=summary.images,
            seconds=summary.seconds,
            changed=summary.mesas_changed,
            states=states,
        ),
        markup=False,
    )
    if summary.missing:
        console.print(
            f"[red]{_('evidence missing or altered: {n:,}', n=summary.missing)}[/]", highlight=False
        )
