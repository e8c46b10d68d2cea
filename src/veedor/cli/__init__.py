"""The ``veedor`` command line (Typer). Each command lives in its own module with ``register(app)``.

One language at a time: every help text and message is written in English (the catalogs'
message ids) and shown in the language chosen before anything is parsed (``--lang``, else
``VEEDOR_LANG`` or the locale, else Spanish), help texts included.
"""

from __future__ import annotations

import importlib
import re
from collections.abc import Mapping
from enum import StrEnum
from typing import Any

import typer
from typer.core import TyperGroup

from veedor import __version__, i18n
from veedor.cli.common import EXIT_CODES, N_, choose_language, settings


def _lang_in(args: list[str], commands: Mapping[str, Any]) -> str | None:
    """``--lang X`` among the root's options (those before the command's name)."""
    for i, arg in enumerate(args):
        if arg in commands:
            return None
        if arg == "--lang" and i + 1 < len(args):
            return args[i + 1]
        if arg.startswith("--lang="):
            return arg.partition("=")[2]
    return None


def as_msgid(text: str) -> str:
    """A help text as its catalog id: paragraphs kept, each on one line (a docstring's line
    breaks are the source's, not the reader's)."""
    return "\n\n".join(" ".join(p.split()) for p in re.split(r"\n\s*\n", text.strip()))


def translate_help(command: Any, lang: str) -> None:
    """Put every help text of ``command`` and its subcommands in ``lang`` (the English ids are
    kept on each object, so a second run in another language starts from them)."""
    import typer.rich_utils as rich_utils

    for name, english in (
        ("OPTIONS_PANEL_TITLE", N_("Options")),
        ("ARGUMENTS_PANEL_TITLE", N_("Arguments")),
        ("COMMANDS_PANEL_TITLE", N_("Commands")),
    ):
        setattr(rich_utils, name, i18n.gettext(english, lang))

    def put(obj: Any, attr: str, default: str | None = None) -> None:
        key = f"_veedor_{attr}"
        if key not in obj.__dict__:
            obj.__dict__[key] = getattr(obj, attr, None) or default
        msgid = obj.__dict__[key]
        setattr(obj, attr, i18n.gettext(as_msgid(msgid), lang) if msgid else msgid)

    def walk(cmd: Any) -> None:
        put(cmd, "help")
        put(cmd, "short_help")
        put(cmd, "epilog", EXIT_CODES)
        for param in cmd.params:
            if getattr(param, "help", None):
                put(param, "help")
        for sub in getattr(cmd, "commands", {}).values():
            walk(sub)

    walk(command)


class VeedorGroup(TyperGroup):
    """The root command: chooses the language from the arguments and the environment before
    Click parses them, so ``veedor --lang en scan --help`` is in English throughout."""

    def make_context(self, info_name: str | None, args: list[str], parent: Any = None, **extra: Any) -> Any:
        translate_help(self, choose_language(_lang_in(args, self.commands)))
        return super().make_context(info_name, args, parent=parent, **extra)


app = typer.Typer(
    name="veedor",
    cls=VeedorGroup,
    help="Verify an election from its tally sheets: read, check, tally, publish.",
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


class Lang(StrEnum):
    es = "es"
    en = "en"


def _version(value: bool) -> None:
    if value:
        typer.echo(f"veedor {__version__}")
        raise typer.Exit()


@app.callback()
def _root(
    lang: Lang | None = typer.Option(
        None,
        "--lang",
        help="Language of messages and help: es or en (default: VEEDOR_LANG or the locale, else es).",
    ),
    create: bool = typer.Option(
        False,
        "--create",
        help="Make the database if it does not exist (scan and the importers always may).",
    ),
    version: bool = typer.Option(
        False, "--version", callback=_version, is_eager=True, help="Show the version."
    ),
) -> None:
    """Verify an election from its actas."""
    choose_language(lang.value if lang else None)
    settings.create = create


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
