"""``veedor import-results`` and ``veedor import-registry``."""

from __future__ import annotations

from pathlib import Path

import typer
from rich.markup import escape

from veedor.cli.common import (
    DB_OPTION,
    DEFINITION_OPTION,
    console,
    exit_worst,
    get_definition,
    get_store,
    refused_file,
)


def register(app: typer.Typer) -> None:
    app.command("import-results")(import_results)
    app.command("import-registry")(import_registry_cmd)
    app.command("import-voters")(import_voters_cmd)


def _show_errors(errors: list[dict[str, object]], limit: int = 10) -> None:
    for err in errors[:limit]:
        console.print(f"  [yellow]línea / line {escape(str(err['line']))}[/]: {escape(str(err['error']))}")
    if len(errors) > limit:
        console.print(f"  … y {len(errors) - limit} más / and {len(errors) - limit} more")


def import_results(
    files: list[Path] = typer.Argument(..., help="Tablas CSV de resultados por acta / per-acta results CSV."),
    name: str | None = typer.Option(
        None,
        "--name",
        help="Nombre de la tabla (por defecto el del archivo) / table name (default: file name).",
    ),
    table_format: str = typer.Option(
        "resultadosconvzla", "--format", help="Formato de la tabla en la definición / table format."
    ),
    db: str | None = DB_OPTION,
    definition: str = DEFINITION_OPTION,
) -> None:
    """Importa una tabla publicada de resultados por acta (p. ej. resultadosconvzla V1/V2).

    Import a published per-acta results table. Encoding, BOM and line endings are detected;
    bad rows are reported with their line number and the rest still imports.
    """
    from veedor.capture.tables import TableError, import_results_table

    defn = get_definition(definition)
    store = get_store(db)
    worst = 0
    for path in files:
        # Each file is its own transaction: one refused whole does not stop the others.
        with store.session() as session:
            try:
                summary = import_results_table(
                    session, path, defn, format_name=table_format, name=name if len(files) == 1 else None
                )
            except TableError as exc:
                hint = "compruebe que es la tabla correcta / check it is the right table"
                worst = max(worst, refused_file(str(exc), hint))
                continue
            session.commit()
        verb = (
            "ya estaba importada / already imported" if summary.already_imported else "importada / imported"
        )
        console.print(
            f"[green]{escape(summary.name)}[/] ({summary.encoding}): {summary.rows} actas {verb} "
            f"como tabla / as table [bold]{summary.table_id}[/]; errores / errors: {len(summary.errors)}"
        )
        _show_errors(summary.errors)
        worst = max(worst, 1 if summary.errors else 0)
    console.print("Siguiente / next: [bold]veedor tally --source table:<nombre>[/]")
    exit_worst(worst)


def import_registry_cmd(
    files: list[Path] = typer.Argument(
        ...,
        help="Registro de centros, totales por unidad, o electores por mesa / "
        "centre registry, unit totals, or electors per mesa.",
    ),
    db: str | None = DB_OPTION,
    definition: str = DEFINITION_OPTION,
) -> None:
    """Importa la geografía: centros y jerarquía, mesas por unidad, electores por mesa.

    Import the geography registry. The kind of each file is recognised by its columns:
    centres (with state/municipality/parish names), unit totals, or a table with electors per mesa.
    """
    from veedor.capture.registry import import_registry
    from veedor.capture.tables import TableError

    defn = get_definition(definition)
    store = get_store(db)
    worst = 0
    for path in files:
        with store.session() as session:
            try:
                summary = import_registry(session, path, defn)
            except TableError as exc:
                worst = max(worst, refused_file(str(exc)))
                continue
            session.commit()
        console.print(
            f"[green]{escape(path.name)}[/]: {summary.rows} filas de tipo / rows of kind "
            f"[bold]{summary.kind}[/]; errores / errors: {len(summary.errors)}"
        )
        _show_errors(summary.errors)
        worst = max(worst, 1 if summary.errors else 0)
    exit_worst(worst)


def import_voters_cmd(
    path: Path = typer.Argument(
        ..., help="Lista de electores: cédula, centro, mesa / voter list: id, centre, mesa."
    ),
    db: str | None = DB_OPTION,
    definition: str = DEFINITION_OPTION,
) -> None:
    """Importa dónde vota cada elector, para la búsqueda por cédula del sitio público.

    Import where each voter votes, for the public site's lookup by id. The ids are kept only
    as salted hashes, never shown or logged; the new list replaces the previous one whole.
    """
    from veedor.capture.tables import TableError
    from veedor.capture.voters import VoterRows, read_voters
    from veedor.store.voters import replace_voters

    defn = get_definition(definition)
    store = get_store(db)
    summary = VoterRows()
    with store.session() as session:
        try:
            stored = replace_voters(session, defn.id, read_voters(path, defn, summary))
        except TableError as exc:
            exit_worst(refused_file(str(exc)))
            return
        session.commit()
    repeated = summary.rows - summary.refused - stored
    console.print(
        f"[green]{escape(path.name)}[/]: {stored:,} electores / voters; "
        f"rechazados / refused: {summary.refused:,}; repetidos / repeated: {repeated:,}"
    )
    _show_errors(summary.errors)
    exit_worst(1 if summary.errors else 0)
