"""``veedor field``: the witnesses' capture app (its own port), and its invite codes.

veedor field --db veedor.db --port 8770                  # serve the app (and read what arrives)
veedor field invite --centre 040202001 --count 3 --db …  # one invite code a line
veedor field revoke T-4KQ2ZP --db …                      # by pseudonym or by code
veedor field list --db …                                 # every code: pseudonym, scope, use
veedor field incidents --level state --db …              # reports counted by geography
veedor field read --db …                                 # read what waits (when no reader runs)
"""

from __future__ import annotations

import json
from pathlib import Path

import typer

from veedor.cli.common import (
    DB_OPTION,
    DEFINITION_OPTION,
    _,
    console,
    fail,
    get_definition,
    get_store,
    ngettext,
)
from veedor.cli.listen import HOST_OPTION, LOCAL_HOSTS

field_app = typer.Typer(
    name="field",
    help="The witnesses' app: photos of the acta and incident reports from phones, offline first.",
    no_args_is_help=False,
    invoke_without_command=True,
    add_completion=False,
)


def register(app: typer.Typer) -> None:
    app.add_typer(field_app)


EVIDENCE_OPTION = typer.Option(None, "--evidence", help="Evidence folder (default: beside the database).")


@field_app.callback()
def serve(
    ctx: typer.Context,
    host: str = HOST_OPTION,
    port: int = typer.Option(8770, "--port", help="Port."),
    db: str | None = DB_OPTION,
    definition: str = DEFINITION_OPTION,
    evidence: Path | None = EVIDENCE_OPTION,
    readers: int = typer.Option(
        1, "--readers", min=0, max=64, help="Processes reading the photos as they arrive (0: none here)."
    ),
    cert: Path | None = typer.Option(
        None, "--cert", help="TLS certificate (PEM): phones need HTTPS to install the app."
    ),
    key: Path | None = typer.Option(None, "--key", help="The certificate's private key (PEM)."),
) -> None:
    """Serve the witnesses' capture app: a web app that installs from the browser, works offline and sends photos of the acta and incident reports.

    Invite codes: `veedor field invite`. What arrives is read like a scanned file and counted by the same rules.
    """
    if ctx.invoked_subcommand is not None:
        return
    import multiprocessing as mp

    import uvicorn

    from veedor.pipeline.field import reader_process
    from veedor.pipeline.scan import default_evidence_root
    from veedor.web.field import create_field_app

    if (cert is None) != (key is None):
        fail(_("--cert and --key go together."), _("Give both, or neither."))
    defn = get_definition(definition)
    store = get_store(db, connections=40)
    root = evidence or default_evidence_root(store)
    scheme = "https" if cert else "http"
    shown = f"[{host}]" if ":" in host else host
    console.print(f"[bold]{_('Witnesses app')}:[/] {scheme}://{shown}:{port}/")
    if host in LOCAL_HOSTS:
        console.print(_("this computer only; --host 0.0.0.0 opens it to the local network"))
    elif cert is None:
        console.print(
            "[yellow]"
            + _("without --cert the phones cannot install the app nor keep it offline (browsers need HTTPS).")
            + "[/]"
        )
    stop = None
    reader = None
    if readers:
        context = mp.get_context("spawn")
        stop = context.Event()
        reader = context.Process(
            target=reader_process, args=(store.url, definition, str(root), readers, stop), daemon=False
        )
        reader.start()
        console.print(
            ngettext(
                "reading what arrives with {n} process", "reading what arrives with {n} processes", readers
            )
        )
    try:
        uvicorn.run(
            create_field_app(store, defn, root),
            host=host,
            port=port,
            log_level="warning",
            server_header=False,
            ssl_certfile=str(cert) if cert else None,
            ssl_keyfile=str(key) if key else None,
        )
    finally:
        if reader is not None and stop is not None:
            stop.set()
            reader.join(timeout=60)
            if reader.is_alive():
                reader.terminate()


@field_app.command("invite")
def invite(
    centre: list[str] = typer.Option(
        ..., "--centre", help="Centre code (or a unit's code: every centre inside it); repeat for several."
    ),
    count: int = typer.Option(1, "--count", min=1, max=10000, help="How many codes."),
    limit: int = typer.Option(
        60, "--limit", min=1, max=100000, help="Photos and reports each code may send."
    ),
    location: bool = typer.Option(
        False, "--location", help="The app sends the phone's position with each photo."
    ),
    qr: Path | None = typer.Option(
        None, "--qr", help="Also write each code as a QR image (PNG) in this folder."
    ),
    db: str | None = DB_OPTION,
    definition: str = DEFINITION_OPTION,
) -> None:
    """Issue invite codes for witnesses: one code a line on standard output (shown only once: the database keeps a hash)."""
    from veedor.store.field import issue_invites

    defn = get_definition(definition)
    codes = [c.strip() for c in centre]
    deepest = defn.centre_code_digits
    if any(not (c.isascii() and c.isdigit()) or len(c) > deepest for c in codes):
        fail(
            _("A centre code is digits only, at most {n} of them.", n=deepest),
            _("Check the codes given to --centre."),
        )
    store = get_store(db)
    with store.session() as session:
        issued = issue_invites(session, codes, count, limit=limit, send_location=location)
    if qr is not None:
        import segno

        qr.mkdir(parents=True, exist_ok=True)
        for item in issued:
            segno.make(item.code, error="m").save(str(qr / f"{item.pseudonym}.png"), scale=8, border=4)
    for item in issued:
        typer.echo(item.code)
    console.print(
        ngettext(
            "{n} code for {scope}; pseudonym: {names}",
            "{n} codes for {scope}; pseudonyms: {names}",
            len(issued),
            scope=", ".join(codes),
            names=", ".join(i.pseudonym for i in issued),
        )
    )


@field_app.command("revoke")
def revoke(
    who: str = typer.Argument(..., help="The code's pseudonym (T-…) or the code itself."),
    db: str | None = DB_OPTION,
) -> None:
    """Revoke an invite code: the phone that holds it can send nothing more (what it sent stays)."""
    from veedor.store.field import revoke as revoke_code

    store = get_store(db)
    with store.session() as session:
        done = revoke_code(session, who.strip())
    if not done:
        fail(_("No live invite code by that name."), _("See `veedor field list`."))
    console.print(_("Revoked."))


@field_app.command("list")
def list_codes(db: str | None = DB_OPTION) -> None:
    """Every invite code: pseudonym, centres, limit, what it sent, revoked or not (never the code)."""
    from veedor.store.field import invites_overview

    store = get_store(db)
    with store.session() as session:
        for row in invites_overview(session):
            typer.echo(json.dumps(row, ensure_ascii=False))


@field_app.command("incidents")
def incidents(
    level: str = typer.Option("state", "--level", help="Geography level to count by."),
    db: str | None = DB_OPTION,
    definition: str = DEFINITION_OPTION,
) -> None:
    """Incident reports counted by geography and kind (the public form: no text, no reporter)."""
    from veedor.definitions import DefinitionError
    from veedor.store.field import incident_counts

    defn = get_definition(definition)
    try:
        defn.level(level)
    except DefinitionError as exc:
        fail(str(exc), _("Use one of the definition's levels."))
    store = get_store(db)
    with store.session() as session:
        rows = incident_counts(session, defn, level)
    typer.echo(json.dumps({"level": level, "rows": rows}, ensure_ascii=False, indent=1))


@field_app.command("read")
def read(
    db: str | None = DB_OPTION,
    definition: str = DEFINITION_OPTION,
    evidence: Path | None = EVIDENCE_OPTION,
    workers: int = typer.Option(1, "--workers", min=1, max=64, help="Reading processes."),
) -> None:
    """Read the witnesses' photos waiting (when `veedor field` runs with --readers 0)."""
    from veedor.pipeline.field import read_queued
    from veedor.pipeline.scan import default_evidence_root

    get_definition(definition)
    store = get_store(db)
    total = 0
    while outcomes := read_queued(
        store, definition, evidence or default_evidence_root(store), workers=workers
    ):
        total += len(outcomes)
    console.print(_("{n} photos read.", n=total))
