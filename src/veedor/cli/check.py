"""``veedor check``: is the database whole, and is every original still in the evidence store?"""

from __future__ import annotations

from pathlib import Path

import typer
from rich.markup import escape
from rich.table import Table

from veedor.cli.common import (
    DB_OPTION,
    _,
    console,
    get_store,
    note,
    out,
    problem,
    said,
    what_to_do,
)
from veedor.cli.scan import EVIDENCE_OPTION


def register(app: typer.Typer) -> None:
    app.command("check")(check)


def check(
    evidence: Path | None = EVIDENCE_OPTION,
    quick: bool = typer.Option(
        False,
        "--quick",
        help="Only check that each original exists, without hashing it again.",
    ),
    db: str | None = DB_OPTION,
) -> None:
    """Check the database and the evidence store after a kill, a crash or a hand edit.

    Check the database and the evidence store after a kill, a crash or a hand edit: counts
    what is there, lists every half record, orphan row, mesa whose state does not follow from
    its copies, and original missing or altered. Exit 0: consistent; 1: problems found.
    """
    from veedor.pipeline.scan import default_evidence_root
    from veedor.store.consistency import check_consistency

    store = get_store(db)
    root = evidence or default_evidence_root(store)
    with store.session() as session:
        report = check_consistency(session, root, hash_files=not quick)
    table = Table(title=f"veedor check: {escape(str(db or 'veedor.db'))}")
    table.add_column(_("what"))
    table.add_column(_("how many"), justify="right")
    for name, n in report.counts.items():
        table.add_row(name, f"{n:,}")
    out.print(table)
    for line in report.notes:
        note(said(line))
    for line in report.problems:
        problem(said(line))
    if report.problems:
        what_to_do(
            _(
                "restore an altered or missing original from a backup (same SHA-256); nothing is counted "
                "without it. Anything else means the database was edited by hand: restore its backup"
            )
        )
        raise typer.Exit(1)
    console.print(f"[green]{_('Consistent')}[/]")
