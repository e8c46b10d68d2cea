"""``veedor export``: open data (CSV, Parquet, JSON) with a manifest of hashes."""

from __future__ import annotations

from pathlib import Path

import typer
from rich.markup import escape

from veedor.cli.common import (
    DB_OPTION,
    DEFINITION_OPTION,
    _,
    console,
    fail,
    get_definition,
    get_store,
    said,
)

FORMATS = ("csv", "parquet", "json")
"""Same as ``veedor.publish.export.FORMATS`` (a test keeps them equal); spelled out here because
importing the exporter loads Polars and SQLAlchemy, too slow for ``veedor --help``."""


def register(app: typer.Typer) -> None:
    app.command("export")(export_cmd)


def export_cmd(
    out_dir: Path = typer.Argument(Path("exports"), help="Parent folder."),
    source: str = typer.Option("scan", "--source", "-s", help="Or 'table:<id|nombre>'."),
    formats: list[str] = typer.Option(
        list(FORMATS), "--format", "-f", help="csv | parquet | json (repeatable)."
    ),
    db: str | None = DB_OPTION,
    definition: str = DEFINITION_OPTION,
) -> None:
    """Export actas and the tally of every level (CSV, Parquet, JSON) with a SHA-256 manifest.

    Export the verified actas and the tally of every level, one new folder per export, with
    manifest.json (SHA-256 and rows of every file, sources, time, version, definition).
    """
    from veedor.publish.export import ExportError, export
    from veedor.tally.sources import SourceError

    defn = get_definition(definition)
    store = get_store(db)
    with store.session() as session:
        try:
            manifest = export(session, defn, out_dir, source=source, formats=tuple(formats))
        except (ExportError, SourceError) as exc:
            fail(said(exc))
    console.print(
        escape(_("{folder}: {n} files; manifest.json", folder=manifest.folder, n=len(manifest.files)))
    )
