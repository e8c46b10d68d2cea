"""``veedor verify``: rebuild everything from the raw evidence and say exactly what differs."""

from __future__ import annotations

import json
import os
import re
from pathlib import Path
from typing import TYPE_CHECKING, Any

import typer
from rich.markup import escape
from rich.table import Table

from veedor.cli.common import (
    DB_OPTION,
    DEFINITION_OPTION,
    _,
    console,
    fail,
    get_definition,
    ngettext,
    out,
    said,
    unexpected,
)
from veedor.cli.scan import EVIDENCE_OPTION, WORKERS_OPTION

if TYPE_CHECKING:
    from veedor.pipeline.audit import Audit, Note
    from veedor.store import Store

VKEY = re.compile(r"[^\s+]+\+[0-9a-f]{8}\+[A-Za-z0-9+/]+={0,2}")


def register(app: typer.Typer) -> None:
    app.command("verify")(verify)


def verify(
    db: str | None = DB_OPTION,
    definition: str = DEFINITION_OPTION,
    evidence: Path | None = EVIDENCE_OPTION,
    export: list[Path] = typer.Option(
        [],
        "--export",
        help="An export folder (or a folder of them) to check; repeatable.",
    ),
    published: Path | None = typer.Option(
        None,
        "--published",
        help="A copy of the published site, checked without the database.",
    ),
    vkey: list[Path] = typer.Option(
        [],
        "--vkey",
        help="The signer's verifier key file, repeatable (else the site's own).",
    ),
    workers: int | None = WORKERS_OPTION,
    fmt: str = typer.Option("table", "--format", help="table or json."),
) -> None:
    """Rebuild everything from the raw evidence and say exactly what differs.

    Rebuild everything from the raw evidence and compare: every image is read again, every
    mesa decided again from its copies and people's decisions, every tally summed again, and
    all of it compared with the database, the evidence log and the exports. With --published
    alone, from a copy of the open data (images, log, checkpoint, exports) without the
    database. Read-only. Exit 0: everything matches; 1: differences (each one named); 2: bad usage.
    """
    if fmt not in ("table", "json"):
        fail(_("unknown format {fmt!r}", fmt=fmt), _("use --format table or json"))
    defn = get_definition(definition)
    keys = _keys(vkey)
    exports = [folder for path in export for folder in _exports(path)]
    use_db = published is None or db is not None or evidence is not None
    if published is not None and not published.is_dir():
        fail(_("not a folder: {path}", path=published), _("the copy veedor publish --static wrote"))
    store = _store(db) if use_db else None
    root = _evidence_root(store, evidence) if store is not None else None

    def progress(line: str) -> None:
        console.print(f"[dim]… {escape(line)}[/]")

    try:
        from veedor.pipeline.audit_db import verify_database
        from veedor.pipeline.audit_published import verify_published

        audits: list[tuple[str, Audit]] = []
        if store is not None and root is not None:
            audit = verify_database(store, defn, root, exports=exports, workers=workers, progress=progress)
            audits.append(("database", audit))
        if published is not None:
            audit = verify_published(
                published,
                defn,
                vkeys=keys,
                exports=[] if store else exports,
                workers=workers,
                progress=progress,
            )
            audits.append(("published", audit))
    except Exception as exc:  # never a traceback: say what happened (VEEDOR_DEBUG=1 shows it)
        if os.environ.get("VEEDOR_DEBUG"):
            raise
        unexpected(exc)
    differences = sum(len(a.differences) for _mode, a in audits)
    if fmt == "json":
        typer.echo(json.dumps({mode: a.as_dict() for mode, a in audits}, ensure_ascii=False, indent=1))
    else:
        for mode, audit in audits:
            _print(mode, audit)
    if differences:
        console.print(
            f"[bold red]{escape(ngettext('{n:,} difference', '{n:,} differences', differences))}[/]"
        )
        raise typer.Exit(1)
    console.print(f"[green]{_('Everything matches the evidence')}[/]")


def _keys(files: list[Path]) -> list[str]:
    keys: list[str] = []
    for path in files:
        try:
            lines = [line.strip() for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
        except (OSError, UnicodeDecodeError) as exc:
            fail(_("cannot read the key {path}: {error}", path=path, error=exc))
        bad = [line for line in lines if not VKEY.fullmatch(line)]
        if bad or not lines:
            fail(
                _("{path}: not a verifier key", path=path),
                _("NAME+ID+KEY as in a .vkey file"),
            )
        keys += lines
    return keys


def _exports(path: Path) -> list[Path]:
    from veedor.pipeline.audit_numbers import export_folders

    found = export_folders(path)
    if not found:
        fail(
            _("no export in {path}", path=path),
            _("a folder with a manifest.json"),
        )
    return found


def _store(db: str | None) -> Store:
    """The database as it is: never created, never migrated (verify writes nothing)."""
    from alembic.runtime.migration import MigrationContext
    from alembic.script import ScriptDirectory

    from veedor.store.db import _alembic_config, as_url, open_store

    url = as_url(db)
    file = url.removeprefix("sqlite:///") if url.startswith("sqlite:///") else None
    if file is not None and not Path(file).expanduser().is_file():
        fail(
            _("no such database: {path}", path=file),
            _("the scan's --db"),
        )
    try:
        store = open_store(db, migrate=False)
        with store.engine.connect() as conn:
            current = MigrationContext.configure(conn).get_current_revision()
        head = ScriptDirectory.from_config(_alembic_config()).get_current_head()
    except Exception as exc:  # a driver's or a file's refusal
        fail(_("cannot open database {db}: {error}", db=db or "veedor.db", error=said(exc)))
    if current != head:
        fail(
            _(
                "the database is from another veedor version ({current}; this one expects {head})",
                current=current,
                head=head,
            ),
            _("verify it with that version, or upgrade it first"),
        )
    return store


def _evidence_root(store: Store, evidence: Path | None) -> Path:
    from veedor.pipeline.scan import default_evidence_root

    root = evidence or default_evidence_root(store)
    if not root.is_dir():
        fail(_("no evidence store at {path}", path=root), "--evidence DIR")
    return root


def _shown(value: Any, width: int = 48) -> str:
    if value is None:
        return "—"
    text = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)
    return text if len(text) <= width else text[: width - 1] + "…"


def _where(where: str) -> str:
    # A SHA-256 in full is in --format json; here its first 16 digits name it.
    return re.sub(r"([0-9a-f]{16})[0-9a-f]{48}", r"\1…", where)


def _print(mode: str, audit: Audit) -> None:
    title = _("database") if mode == "database" else _("published data")
    summary = Table(title=f"veedor verify: {title} ({audit.seconds:.1f} s)")
    summary.add_column(_("checked"))
    summary.add_column(_("how many"), justify="right")
    for name, n in audit.checked.items():
        summary.add_row(name, f"{n:,}")
    out.print(summary)
    if audit.differences:
        table = Table(title=ngettext("{n:,} difference", "{n:,} differences", len(audit.differences)))
        for column in (
            _("kind"),
            _("where"),
            _("expected"),
            _("found"),
            _("what"),
        ):
            table.add_column(column, overflow="fold")
        for d in audit.differences:
            table.add_row(
                d.kind,
                escape(_where(d.where)),
                escape(_shown(d.expected)),
                escape(_shown(d.found)),
                escape(d.detail),
            )
        out.print(table)
    kinds: dict[str, list[Note]] = {}
    for note in audit.notes:
        kinds.setdefault(note.kind, []).append(note)
    for kind, notes in kinds.items():
        where = ", ".join(_where(n.where) for n in notes[:3]) + (
            f" (+{len(notes) - 3})" if len(notes) > 3 else ""
        )
        console.print(
            f"[yellow]{escape(_('Note ({kind}, {n}):', kind=kind, n=len(notes)))}[/] "
            f"{escape(said(notes[0].detail))} — {escape(where)}"
        )
