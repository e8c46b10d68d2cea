"""``veedor push``: send a processing centre's spool to the central store; ``veedor centres``:
which centre sent what, and when (docs/scale.md)."""

from __future__ import annotations

from pathlib import Path

import typer

from veedor.cli.common import (
    DB_OPTION,
    EXIT_PROBLEMS,
    Ticker,
    _,
    console,
    fail,
    get_store,
    ngettext,
    out,
    said,
    warn,
)


def register(app: typer.Typer) -> None:
    app.command("push")(push_cmd)
    app.command("centres")(centres_cmd)


def push_cmd(
    spool: Path = typer.Argument(..., help="The folder veedor scan --spool read into."),
    evidence: Path | None = typer.Option(
        None, "--evidence", help="The central store's evidence folder (default: beside its database)."
    ),
    db: str | None = DB_OPTION,
) -> None:
    """Send what a centre read offline (veedor scan --spool) to the central store.

    Each image and its reading are recorded as a scan there would record them, its mesa combined
    with every other copy, and the store notes which centre sent it and when. Run it again
    whenever the link is back: what the store has already is not sent twice.
    """
    from veedor.pipeline.spool import SpoolError, push

    store = get_store(db)
    ticker = Ticker(_("sending the spool"))
    try:
        with ticker.running():
            summary = push(
                spool,
                store,
                evidence_root=evidence,
                on_total=ticker.set_total,
                on_progress=lambda n: ticker.advance(n),
                on_retry=lambda message: ticker.message(said(message)),
            )
    except SpoolError as exc:
        fail(said(exc))
    except OSError as exc:
        fail(
            _("cannot write the central evidence: {error}", error=exc.strerror or str(exc)),
            _("check --evidence and that this machine can write to it"),
        )
    console.print(
        _(
            "centre {centre}: {images:,} images in the spool; stored now {stored:,}, already in the "
            "store {known:,} ({seconds:.1f} s)",
            centre=summary.centre,
            images=summary.images,
            stored=summary.stored,
            known=summary.known,
            seconds=summary.seconds,
        ),
        markup=False,
    )
    if summary.rechecked:
        warn(
            ngettext(
                "{n} acta read as ok at the centre goes to review: the central registry disagrees",
                "{n} actas read as ok at the centre go to review: the central registry disagrees",
                summary.rechecked,
            )
        )
    for problem in summary.problems:
        warn(said(problem))
    if summary.problems:
        raise typer.Exit(EXIT_PROBLEMS)


def centres_cmd(db: str | None = DB_OPTION) -> None:
    """Which processing centre sent what to this store, and when (veedor push)."""
    from rich.markup import escape
    from rich.table import Table

    from veedor.pipeline.spool import centres

    store = get_store(db)
    with store.session() as session:
        rows = centres(session)
    if not rows:
        console.print(_("no centre has pushed to this store yet"))
        return
    table = Table(title=_("processing centres"))
    for header in (_("centre"), _("pushes"), _("images"), _("first read"), _("last push")):
        table.add_column(header)
    for row in rows:
        table.add_row(
            escape(row.centre),  # a centre names itself: its name is shown, never run
            f"{row.pushes:,}",
            f"{row.images:,}",
            row.first_read.strftime("%Y-%m-%d %H:%M") if row.first_read else "—",
            row.last_push.strftime("%Y-%m-%d %H:%M") if row.last_push else "—",
        )
    out.print(table)
