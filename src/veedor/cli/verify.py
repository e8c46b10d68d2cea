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

from veedor.cli.common import DB_OPTION, DEFINITION_OPTION, console, fail, get_definition, out, unexpected
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
        help="Exportación a comprobar (o carpeta de exportaciones), repetible / an export folder "
        "(or a folder of them) to check; repeatable.",
    ),
    published: Path | None = typer.Option(
        None,
        "--published",
        help="Copia del sitio publicado (veedor publish --static): se comprueba sin base de datos / "
        "a copy of the published site, checked without the database.",
    ),
    vkey: list[Path] = typer.Option(
        [],
        "--vkey",
        help="Clave de verificación (.vkey) de quien firma, repetible (si no, la del propio sitio) / "
        "the signer's verifier key file, repeatable (else the site's own).",
    ),
    workers: int | None = WORKERS_OPTION,
    fmt: str = typer.Option("table", "--format", help="table o/or json."),
) -> None:
    """Rehace todo desde la evidencia original y lo compara: imágenes, mesas, totales, registro, exportaciones.

    Rebuild everything from the raw evidence and compare: every image is read again, every
    mesa decided again from its copies and people's decisions, every tally summed again, and
    all of it compared with the database, the evidence log and the exports. With --published
    alone, from a copy of the open data (images, log, checkpoint, exports) without the
    database. Read-only. Exit 0: everything matches; 1: differences (each one named); 2: bad usage.
    """
    if fmt not in ("table", "json"):
        fail(f"formato desconocido / unknown format {fmt!r}", "use --format table o/or json")
    defn = get_definition(definition)
    keys = _keys(vkey)
    exports = [folder for path in export for folder in _exports(path)]
    use_db = published is None or db is not None or evidence is not None
    if published is not None and not published.is_dir():
        fail(f"no es una carpeta / not a folder: {published}", "la copia de veedor publish --static")
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
    differences = sum(len(a.differences) for _, a in audits)
    if fmt == "json":
        typer.echo(json.dumps({mode: a.as_dict() for mode, a in audits}, ensure_ascii=False, indent=1))
    else:
        for mode, audit in audits:
            _print(mode, audit)
    if differences:
        console.print(f"[bold red]{differences:,} diferencias / differences[/]")
        raise typer.Exit(1)
    console.print("[green]Todo coincide con la evidencia / everything matches the evidence[/]")


def _keys(files: list[Path]) -> list[str]:
    keys: list[str] = []
    for path in files:
        try:
            lines = [line.strip() for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
        except (OSError, UnicodeDecodeError) as exc:
            fail(f"no se puede leer la clave / cannot read the key {path}: {exc}")
        bad = [line for line in lines if not VKEY.fullmatch(line)]
        if bad or not lines:
            fail(
                f"{path}: no es una clave de verificación / not a verifier key",
                "NOMBRE+ID+CLAVE, como la escribe veedor keys new (.vkey) / NAME+ID+KEY as in a .vkey file",
            )
        keys += lines
    return keys


def _exports(path: Path) -> list[Path]:
    from veedor.pipeline.audit_numbers import export_folders

    found = export_folders(path)
    if not found:
        fail(
            f"ninguna exportación en / no export in {path}",
            "una carpeta con manifest.json (veedor export), o la que las contiene / a folder with a manifest.json",
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
            f"no existe la base de datos / no such database: {file}",
            "--db con la base que escaneó / the scan's --db",
        )
    try:
        store = open_store(db, migrate=False)
        with store.engine.connect() as conn:
            current = MigrationContext.configure(conn).get_current_revision()
        head = ScriptDirectory.from_config(_alembic_config()).get_current_head()
    except Exception as exc:  # a driver's or a file's refusal
        fail(f"no se pudo abrir la base de datos / cannot open database: {exc}")
    if current != head:
        fail(
            f"la base de datos es de otra versión de veedor ({current}, esta espera {head}) / the database "
            "is from another veedor version",
            "verifíquela con esa versión, o actualícela primero (veedor check) / verify it with that version, "
            "or upgrade it first",
        )
    return store


def _evidence_root(store: Store, evidence: Path | None) -> Path:
    from veedor.pipeline.scan import default_evidence_root

    root = evidence or default_evidence_root(store)
    if not root.is_dir():
        fail(f"no existe el almacén de evidencia / no evidence store at {root}", "--evidence DIR")
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
    title = "base de datos / database" if mode == "database" else "datos publicados / published data"
    summary = Table(title=f"veedor verify: {title} ({audit.seconds:.1f} s)")
    summary.add_column("comprobado / checked")
    summary.add_column("cuántos / how many", justify="right")
    for name, n in audit.checked.items():
        summary.add_row(name, f"{n:,}")
    out.print(summary)
    if audit.differences:
        table = Table(title=f"{len(audit.differences):,} diferencias / differences")
        for column in (
            "tipo / kind",
            "dónde / where",
            "esperado / expected",
            "encontrado / found",
            "qué / what",
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
            f"[yellow]Nota / note ({kind}, {len(notes)}):[/] {escape(notes[0].detail)} — {escape(where)}"
        )
