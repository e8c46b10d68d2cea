"""Options and helpers shared by the commands: the reader's language, errors in words, the
database, and progress that reads well on a terminal and in a log file alike.

Every message is written in English in the code (the catalogs' message ids) and printed in
one language: :func:`_` looks it up in ``locale/<lang>/LC_MESSAGES/veedor.po`` for the
language chosen once per run (``--lang``, then ``VEEDOR_LANG`` and the locale, else Spanish).
Library messages written "español / English" are cut to the reader's half by :func:`said`.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, NoReturn

import typer
from rich.console import Console

from veedor import i18n
from veedor.definitions import DEFAULT_DEFINITION, DefinitionError, ElectionDefinition, load_definition

if TYPE_CHECKING:
    from veedor.store import Store

console = Console(stderr=True)
# Tables are wide; when piped, Rich would squeeze them into 80 columns.
out = Console(width=None if sys.stdout.isatty() else 160)

EXIT_OK, EXIT_PROBLEMS, EXIT_USAGE = 0, 1, 2
EXIT_CODES = (
    "Exit codes: 0 done; 1 done, with problems to look at (rows refused, differences, checks "
    "that failed); 2 nothing done: bad usage or input, the message says what to do."
)


@dataclass
class RunSettings:
    """What the root options chose for this run (one place; the helpers below read it)."""

    chosen: str | None = None
    create: bool = False

    @property
    def lang(self) -> str:
        """The chosen language; before a choice (a command run outside ``veedor``'s root, as
        tests do), the environment's, else Spanish."""
        return self.chosen or i18n.from_locale() or i18n.DEFAULT


settings = RunSettings()


def choose_language(requested: str | None = None) -> str:
    """``--lang`` if given, else ``VEEDOR_LANG`` or the locale (``LANG``...), else Spanish."""
    lang = requested if requested in i18n.LANGUAGES else i18n.from_locale() or i18n.DEFAULT
    settings.chosen = lang
    return lang


def N_(message: str) -> str:
    """Mark a message for the catalogs; :func:`_` translates it where it is printed."""
    return message


def _(message: str, **params: Any) -> str:
    """``message`` (English, a catalog id) in the reader's language, ``{name}``s filled in."""
    text = i18n.gettext(message, settings.lang)
    return text.format(**params) if params else text


def ngettext(singular: str, plural: str, n: int, **params: Any) -> str:
    text = i18n.ngettext(singular, plural, n, settings.lang)
    return text.format(n=n, **params)


def said(message: object) -> str:
    """A library's message (an exception's, written "español / English"): the reader's half."""
    return i18n.one_language(str(message), settings.lang)


def pick(pair: tuple[str, str] | list[str]) -> str:
    """One of a library's (Spanish, English) pair of sentences: the reader's."""
    return pair[1] if settings.lang == "en" else pair[0]


DB_OPTION = typer.Option(
    None,
    "--db",
    envvar="VEEDOR_DB",
    help="Database: SQLite file or SQLAlchemy URL (default veedor.db).",
)
DEFINITION_OPTION = typer.Option(
    DEFAULT_DEFINITION,
    "--definition",
    "-e",
    envvar="VEEDOR_DEFINITION",
    help="Election definition (bundled id or path).",
)


def _say_error(message: str, hint: str | None) -> None:
    from rich.markup import escape

    # Messages carry data (file names, cells): markup in them is shown, never run.
    console.print(f"[bold red]{escape(_('Error:'))}[/] {escape(message)}")
    if hint:
        console.print(f"[yellow]{escape(_('What to do:'))}[/] {escape(hint)}")


def fail(message: str, hint: str | None = None) -> NoReturn:
    """Say what is wrong (and what to do) and stop: exit 2, nothing done."""
    _say_error(message, hint)
    raise typer.Exit(code=EXIT_USAGE)


def refused_file(message: str, hint: str | None = None) -> int:
    """Say why one input was refused whole (as ``fail`` does) and go on with the next: 2."""
    _say_error(message, hint)
    return EXIT_USAGE


def warn(message: str) -> None:
    from rich.markup import escape

    console.print(f"[bold yellow]{escape(_('Warning:'))}[/] {escape(message)}")


def note(message: str) -> None:
    from rich.markup import escape

    console.print(f"[yellow]{escape(_('Note:'))}[/] {escape(message)}")


def problem(message: str) -> None:
    from rich.markup import escape

    console.print(f"[bold red]{escape(_('Problem:'))}[/] {escape(message)}")


def what_to_do(hint: str) -> None:
    from rich.markup import escape

    console.print(f"[yellow]{escape(_('What to do:'))}[/] {escape(hint)}")


def exit_worst(worst: int) -> None:
    """Importers' exit: 0 done; 1 done, with rows refused; 2 an input could not be imported."""
    if worst:
        raise typer.Exit(worst)


def unexpected(exc: BaseException) -> NoReturn:
    """Say what happened and what to do, in words, for an error no command foresaw (exit 2)."""
    from rich.markup import escape

    text = escape(str(exc)[:500])
    if "database is locked" in str(exc):
        _say_error(
            _("another veedor command is writing to the database"),
            _("wait for it to finish and run the command again; what was saved is kept"),
        )
    else:
        console.print(f"[bold red]{escape(_('Unexpected error:'))}[/] {type(exc).__name__}: {text}")
        console.print(
            f"[yellow]{escape(_('What to do:'))}[/] "
            + escape(
                _(
                    "run it again (each batch is saved whole or not at all, so nothing was left half "
                    "done); if it happens again, run it with VEEDOR_DEBUG=1 and report what it prints"
                )
            )
        )
    raise SystemExit(EXIT_USAGE)


def get_definition(name: str) -> ElectionDefinition:
    try:
        return load_definition(name)
    except DefinitionError as exc:
        fail(said(exc), _("check the definition file"))


def missing_database(db: str | None) -> str | None:
    """The SQLite file ``db`` names when it does not exist (a typo in ``--db``), else None.
    A server's database (PostgreSQL) is reached, not created by a typo: it is not checked here."""
    from pathlib import Path

    from veedor.store.db import as_url

    url = as_url(db)
    if not url.startswith("sqlite:///") or url.startswith("sqlite:///:memory:"):
        return None
    path = Path(url.removeprefix("sqlite:///")).expanduser()
    return None if path.is_file() else str(path)


def get_store(db: str | None, connections: int | None = None, *, create: bool = False) -> Store:
    """The database of ``--db``. One that does not exist is an error (a typo would otherwise make
    an empty one and print empty results), unless the command makes one (``create``: scan,
    the importers, the first account or log entry) or ``veedor --create`` was given."""
    # Imported here: SQLAlchemy and Alembic take longer to load than `veedor --help` should.
    from veedor.store import open_store

    absent = missing_database(db)
    if absent is not None and not (create or settings.create):
        fail(
            _("no database at {path}", path=absent),
            _(
                "check --db (or VEEDOR_DB); veedor scan and the import-… commands make a new one, "
                "as does veedor --create COMMAND"
            ),
        )
    try:
        return open_store(db, connections=connections)
    except Exception as exc:  # any driver or migration failure ends here with a plain message
        fail(
            _("cannot open database {db}: {error}", db=db or "veedor.db", error=said(exc)),
            _("check the --db path or URL"),
        )


def check_paths_exist(paths: list[Any]) -> None:
    """Stop (exit 2, nothing done) when an input path does not exist: a typo is not 'rejected'."""
    from pathlib import Path

    missing = [str(p) for p in paths if not Path(p).exists() and not Path(p).is_symlink()]
    if missing:
        fail(
            ngettext(
                "{n} path does not exist: {paths}",
                "{n} paths do not exist: {paths}",
                len(missing),
                paths=", ".join(missing[:5]) + (" …" if len(missing) > 5 else ""),
            ),
            _("check the spelling; nothing was read"),
        )


class Ticker:
    """Progress that reads well both on a terminal (a Rich bar) and in a log (a plain line every
    ``every`` seconds and at the end: no bar drawn into a file as "26/… ok: file 0:00…")."""

    def __init__(self, label: str, total: int | None = None, every: float = 10.0) -> None:
        self.label, self.total, self.every = label, total, every
        self.done = 0
        self.counts: dict[str, int] = {}
        self.last = ""
        self._started = self._printed = time.monotonic()
        self._bar: Any = None
        self._task: Any = None

    def set_total(self, total: int | None) -> None:
        self.total = total
        if self._bar is not None:
            self._bar.update(self._task, total=total)

    def advance(self, n: int = 1, kind: str | None = None, last: str = "") -> None:
        self.done += n
        if kind:
            self.counts[kind] = self.counts.get(kind, 0) + n
        self.last = last
        if self._bar is not None:
            self._bar.update(self._task, advance=n, last=last)
        elif time.monotonic() - self._printed >= self.every:
            self._line()

    def message(self, text: str) -> None:
        from rich.markup import escape

        (self._bar.console if self._bar is not None else console).print(f"[yellow]{escape(text)}[/]")

    def _line(self) -> None:
        self._printed = time.monotonic()
        seconds = self._printed - self._started
        total = f"/{self.total:,}" if self.total is not None else ""
        counts = ", ".join(f"{k} {v:,}" for k, v in sorted(self.counts.items()))
        rate = self.done / seconds if seconds > 0 else 0.0
        console.print(
            f"{self.label}: {self.done:,}{total}"
            + (f" ({counts})" if counts else "")
            + f"; {seconds:.0f} s, "
            f"{rate:.1f}/s",
            highlight=False,
            markup=False,
            soft_wrap=True,
        )

    @contextmanager
    def running(self) -> Iterator[Ticker]:
        if not console.is_terminal:
            try:
                yield self
            finally:
                if self.done and time.monotonic() - self._started >= self.every:
                    self._line()  # a quick run's summary is the command's own
            return
        from rich.markup import escape
        from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

        self._bar = Progress(
            TextColumn(f"[bold]{escape(self.label)}"),
            BarColumn(),
            MofNCompleteColumn(),
            TextColumn("{task.fields[last]}"),
            TimeRemainingColumn(),
            console=console,
        )
        with self._bar:
            self._task = self._bar.add_task(self.label, total=self.total, last="")
            try:
                yield self
            finally:
                self._bar = None
