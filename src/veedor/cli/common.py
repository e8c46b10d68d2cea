"""Options and helpers shared by the commands."""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING, NoReturn

import typer
from rich.console import Console

from veedor.definitions import DEFAULT_DEFINITION, DefinitionError, ElectionDefinition, load_definition

if TYPE_CHECKING:
    from veedor.store import Store

console = Console(stderr=True)
# Tables are wide; when piped, Rich would squeeze them into 80 columns.
out = Console(width=None if sys.stdout.isatty() else 160)

DB_OPTION = typer.Option(
    None,
    "--db",
    envvar="VEEDOR_DB",
    help="Base de datos: archivo SQLite o URL de SQLAlchemy (por defecto veedor.db) / "
    "database: SQLite file or SQLAlchemy URL (default veedor.db).",
)
DEFINITION_OPTION = typer.Option(
    DEFAULT_DEFINITION,
    "--definition",
    "-e",
    envvar="VEEDOR_DEFINITION",
    help="Definición de la elección (id incluido o ruta a un JSON) / election definition (bundled id or path).",
)


def fail(message: str, hint: str | None = None) -> NoReturn:
    from rich.markup import escape

    # Messages carry data (file names, cells): markup in them is shown, never run.
    console.print(f"[bold red]Error:[/] {escape(message)}")
    if hint:
        console.print(f"[yellow]Qué hacer / what to do:[/] {escape(hint)}")
    raise typer.Exit(code=2)


def refused_file(message: str, hint: str | None = None) -> int:
    """Say why one input was refused whole (as ``fail`` does) and go on with the next: 2."""
    from rich.markup import escape

    console.print(f"[bold red]Error:[/] {escape(message)}")
    if hint:
        console.print(f"[yellow]Qué hacer / what to do:[/] {escape(hint)}")
    return 2


def exit_worst(worst: int) -> None:
    """Importers' exit: 0 done; 1 done, with rows refused; 2 an input could not be imported."""
    if worst:
        raise typer.Exit(worst)


def unexpected(exc: BaseException) -> NoReturn:
    """Say what happened and what to do, in words, for an error no command foresaw (exit 2)."""
    from rich.markup import escape

    text = escape(str(exc)[:500])
    if "database is locked" in str(exc):
        console.print(
            "[bold red]Error:[/] otra operación de veedor está escribiendo en la base de datos / "
            "another veedor command is writing to the database"
        )
        console.print(
            "[yellow]Qué hacer / what to do:[/] espere a que termine y repita el comando; lo ya "
            "guardado no se pierde / wait for it to finish and run the command again; what was saved is kept"
        )
    else:
        console.print(f"[bold red]Error inesperado / unexpected error:[/] {type(exc).__name__}: {text}")
        console.print(
            "[yellow]Qué hacer / what to do:[/] repita el comando; cada lote se guarda entero o nada, así "
            "que nada quedó a medias. Si vuelve a ocurrir, ejecútelo con VEEDOR_DEBUG=1 y reporte el "
            "resultado / run it again (each batch is saved whole or not at all); if it happens again, "
            "run it with VEEDOR_DEBUG=1 and report what it prints"
        )
    raise SystemExit(2)


def get_definition(name: str) -> ElectionDefinition:
    try:
        return load_definition(name)
    except DefinitionError as exc:
        fail(str(exc), "revise el archivo de definición / check the definition file")


def get_store(db: str | None, connections: int | None = None) -> Store:
    # Imported here: SQLAlchemy and Alembic take longer to load than `veedor --help` should.
    from veedor.store import open_store

    try:
        return open_store(db, connections=connections)
    except Exception as exc:  # any driver or migration failure ends here with a plain message
        fail(
            f"no se pudo abrir la base de datos / cannot open database {db or 'veedor.db'}: {exc}",
            "compruebe la ruta o la URL de --db / check the --db path or URL",
        )
