"""``veedor import-results``, ``veedor import-registry`` and ``veedor import-voters``."""

from __future__ import annotations

from pathlib import Path

import typer
from rich.markup import escape

from veedor.cli.common import (
    DB_OPTION,
    DEFINITION_OPTION,
    N_,
    _,
    check_paths_exist,
    console,
    exit_worst,
    get_definition,
    get_store,
    note,
    refused_file,
    said,
)


def register(app: typer.Typer) -> None:
    app.command("import-results")(import_results)
    app.command("import-registry")(import_registry_cmd)
    app.command("import-voters")(import_voters_cmd)


def show_errors(errors: list[dict[str, object]], limit: int = 10) -> None:
    """The first refused rows, by line, in the reader's language; a count of the rest."""
    for err in errors[:limit]:
        where = _("line {line}", line=err["line"]) if isinstance(err["line"], int) else str(err["line"])
        console.print(f"  [yellow]{escape(where)}[/]: {escape(said(err['error']))}")
    if len(errors) > limit:
        console.print("  " + escape(_("… and {n:,} more", n=len(errors) - limit)))


def import_results(
    files: list[Path] = typer.Argument(..., help="Per-acta results tables (CSV)."),
    name: str | None = typer.Option(None, "--name", help="Table name (default: the file's name)."),
    table_format: str | None = typer.Option(
        None, "--format", help="The table's format, as the definition names it."
    ),
    db: str | None = DB_OPTION,
    definition: str = DEFINITION_OPTION,
) -> None:
    """Import a published per-acta results table (e.g. resultadosconvzla V1/V2).

    Encoding, BOM and line endings are detected; bad rows are reported with their line number
    and the rest still imports.
    """
    from veedor.ingest.tables import TableError, import_results_table

    defn = get_definition(definition)
    store = get_store(db, create=True)
    worst = 0
    imported: list[str] = []
    for path in files:
        # Each file is its own transaction: one refused whole does not stop the others.
        with store.session() as session:
            try:
                summary = import_results_table(
                    session, path, defn, format_name=table_format, name=name if len(files) == 1 else None
                )
            except TableError as exc:
                worst = max(worst, refused_file(said(exc), _("check it is the right table")))
                continue
            session.commit()
        message = (
            N_("{name} ({encoding}): already imported as table {id}, {rows:,} actas; errors: {errors}")
            if summary.already_imported
            else N_("{name} ({encoding}): {rows:,} actas imported as table {id}; errors: {errors}")
        )
        console.print(
            escape(
                _(
                    message,
                    name=summary.name,
                    encoding=summary.encoding,
                    rows=summary.rows,
                    id=summary.table_id,
                    errors=len(summary.errors),
                )
            )
        )
        show_errors(summary.errors)
        imported.append(str(summary.table_id))
        worst = max(worst, 1 if summary.errors else 0)
    for table in imported:
        console.print(escape(_("Next: {command}", command=f"veedor tally --source table:{table}")))
    exit_worst(worst)


def registry_files(paths: list[Path], definition: object) -> tuple[list[tuple[str, Path]], list[Path]]:
    """The files to import, in the order that works (centres, unit totals, electors), and the
    files of a folder that are no registry file (skipped, said). A file named on its own whose
    kind is unknown stays in the list, last, so that its import says why it is refused."""
    from veedor.ingest.registry import KINDS, file_kind

    chosen: list[tuple[str, Path]] = []
    skipped: list[Path] = []
    for path in paths:
        if path.is_dir():
            for child in sorted(p for p in path.iterdir() if p.is_file()):
                kind = file_kind(child, definition)  # type: ignore[arg-type]
                if kind is None:
                    skipped.append(child)
                else:
                    chosen.append((kind, child))
        else:
            chosen.append((file_kind(path, definition) or "?", path))  # type: ignore[arg-type]
    order = {kind: i for i, kind in enumerate(KINDS)}
    chosen.sort(key=lambda item: order.get(item[0], len(KINDS)))  # stable: given order within a kind
    return chosen, skipped


KIND_NAMES = {
    "centres": N_("centres and their hierarchy"),
    "units": N_("mesas and electors per unit"),
    "electors": N_("electors per mesa"),
}


def import_registry_cmd(
    paths: list[Path] = typer.Argument(
        ...,
        help="The registry folder, or its files in any order: centres, unit totals, electors per mesa.",
    ),
    db: str | None = DB_OPTION,
    definition: str = DEFINITION_OPTION,
) -> None:
    """Import the geography registry in one step: centres, unit totals, electors per mesa.

    Takes a folder or the files in any order: the kind of each file is recognised by its
    columns and they are imported in the order that works (centres, then unit totals, then
    electors). In a folder, files that are not part of the registry are skipped with a note.
    """
    from veedor.ingest.registry import import_registry
    from veedor.ingest.tables import TableError

    check_paths_exist(paths)
    defn = get_definition(definition)
    chosen, skipped = registry_files(paths, defn)
    for path in skipped:
        note(_("{name}: not a registry file, skipped", name=path.name))
    if not chosen:
        refused_file(
            _("no registry file in {paths}", paths=", ".join(map(str, paths))),
            _("give the folder or files with the centres, the unit totals or the electors per mesa"),
        )
        raise typer.Exit(2)
    store = get_store(db, create=True)
    worst = 0
    kinds: set[str] = set()
    for kind, path in chosen:
        with store.session() as session:
            try:
                summary = import_registry(session, path, defn)
            except TableError as exc:
                worst = max(worst, refused_file(said(exc)))
                continue
            session.commit()
        kinds.add(kind)
        console.print(
            escape(
                _(
                    "{name}: {rows:,} rows of {kind}; errors: {errors}",
                    name=path.name,
                    rows=summary.rows,
                    kind=_(KIND_NAMES.get(kind, summary.kind)),
                    errors=len(summary.errors),
                )
            )
        )
        show_errors(summary.errors)
        worst = max(worst, 1 if summary.errors else 0)
    if kinds and "units" not in kinds and "centres" in kinds:
        note(
            _(
                'no unit totals were imported: coverage will show unknown totals ("?") and an estimate '
                "will borrow more than it needs; import them too (the admin units file)"
            )
        )
    exit_worst(worst)


def import_voters_cmd(
    path: Path = typer.Argument(..., help="Voter list: id, centre, mesa."),
    db: str | None = DB_OPTION,
    definition: str = DEFINITION_OPTION,
) -> None:
    """Import where each voter votes, for the public site's lookup by id.

    The ids are kept only as salted hashes, never shown or logged; the new list replaces the
    previous one whole.
    """
    from veedor.ingest.tables import TableError
    from veedor.ingest.voters import VoterRows, read_voters
    from veedor.store.voters import replace_voters

    defn = get_definition(definition)
    store = get_store(db, create=True)
    summary = VoterRows()
    with store.session() as session:
        try:
            stored = replace_voters(session, defn.id, read_voters(path, defn, summary))
        except TableError as exc:
            exit_worst(refused_file(said(exc)))
            return
        session.commit()
    repeated = summary.rows - summary.refused - stored
    console.print(
        escape(
            _(
                "{name}: {stored:,} voters; refused: {refused:,}; repeated: {repeated:,}",
                name=path.name,
                stored=stored,
                refused=summary.refused,
                repeated=repeated,
            )
        )
    )
    show_errors(summary.errors)
    exit_worst(1 if summary.errors else 0)
