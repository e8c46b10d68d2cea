"""The ``veedor`` command line (Typer). Each command lives in its own module with ``register(app)``."""

from __future__ import annotations

import importlib

import typer

from veedor import __version__

app = typer.Typer(
    name="veedor",
    help=(
        "veedor: verifique una elección desde sus actas — lea, compruebe, totalice y publique. / "
        "Verify an election from its tally sheets: read, check, tally, publish."
    ),
    no_args_is_help=True,
    add_completion=False,
    rich_markup_mode="rich",
    pretty_exceptions_enable=False,
)

COMMAND_MODULES = (
    "scan",
    "mesas",
    "imports",
    "tally",
    "demo",
    "simulate",
    "compare",
    "export",
    "check",
    "review",
    "desk",
    "serve",
    "publish",
    "log",
    "evidence",
    "forensics",
    "verify",
    "doctor",
    "push",
    "field",
)


def _version(value: bool) -> None:
    if value:
        typer.echo(f"veedor {__version__}")
        raise typer.Exit()


@app.callback()
def _root(
    version: bool = typer.Option(
        False, "--version", callback=_version, is_eager=True, help="Muestra la versión / show the version."
    ),
) -> None:
    """veedor: verifique una elección desde sus actas / verify an election from its actas."""


for _name in COMMAND_MODULES:
    try:
        _module = importlib.import_module(f"veedor.cli.{_name}")
    except ModuleNotFoundError as exc:  # a command module not written yet
        if exc.name != f"veedor.cli.{_name}":
            raise
        continue
    _module.register(app)


def main() -> None:
    """The ``veedor`` command: no traceback reaches a user (``VEEDOR_DEBUG=1`` shows it)."""
    import os

    try:
        app()
    except Exception as exc:  # the last net: every command explains what it can itself
        if os.environ.get("VEEDOR_DEBUG"):
            raise
        from veedor.cli.common import unexpected

        unexpected(exc)
