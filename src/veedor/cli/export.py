"""``veedor export``: open data (CSV, Parquet, JSON) with a manifest of hashes."""

from __future__ import annotations

from pathlib import Path

import typer

from veedor.cli.common import DB_OPTION, DEFINITION_OPTION, console, fail, get_definition, get_store

FORMATS = ("csv", "parquet", "json")
"""Same as ``veedor.publish.export.FORMATS`` (a test keeps them equal); spelled out here because
importing the exporter loads Polars and SQLAlchemy, too slow for ``veedor --help``."""


def register(app: typer.Typer) -> None:
    app.command("export")(export_cmd)


def export_cmd(
    out_dir: Path = typer.Argument(
        Path("exports"), help="Carpeta donde crear la exportación / parent folder."
    ),
    source: str = typer.Option("scan", "--source", "-s", help="'scan' o / or 'table:<id|nombre>'."),
    formats: list[str] = typer.Option(
        list(FORMATS), "--format", "-f", help="csv | parquet | json (repetible)."
    ),
    db: str | None = DB_OPTION,
    definition: str = DEFINITION_OPTION,
) -> None:
    """Exporta actas y totales por nivel (CSV, Parquet, JSON) con un manifiesto SHA-256.

    Export the verified actas and the tally of every level, one new folder per export, with
    manifest.json (SHA-256 and rows of every file, sources, time, version, definition).
    """
    from veedor.publish.export import ExportError, export
    from veedor.tally.aggregate import SourceError

    defn = get_definition(definition)
    store = get_store(db)
    with store.session() as session:
        try:
            manifest = export(session, defn, out_dir, source=source, formats=tuple(formats))
        except (ExportError, SourceError) as exc:
            fail(str(exc))
    console.print(f"[green]{manifest.folder}[/]: {len(manifest.files)} archivos / files; manifest.json")
