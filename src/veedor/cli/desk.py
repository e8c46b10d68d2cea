"""``veedor desk``: the review desk's web pages, on the same database as the scans."""

from __future__ import annotations

import os
import secrets
from pathlib import Path

import typer

from veedor.cli.common import (
    DB_OPTION,
    DEFINITION_OPTION,
    _,
    get_definition,
    get_store,
)
from veedor.cli.listen import HOST_OPTION, WORKERS_OPTION, listen

SECRET_ENV = "VEEDOR_DESK_SECRET"


def register(app: typer.Typer) -> None:
    app.command("desk")(desk)


def desk(
    host: str = HOST_OPTION,
    port: int = typer.Option(8765, "--port", help="Port."),
    db: str | None = DB_OPTION,
    definition: str = DEFINITION_OPTION,
    evidence: Path | None = typer.Option(None, "--evidence", help="Evidence folder."),
    workers: int = WORKERS_OPTION,
) -> None:
    """The review desk in the browser.

    The review desk's web pages: people type, blind, the numbers of the actas the machine could not settle. Accounts: `veedor users add`. VEEDOR_DESK_SECRET keeps sessions across restarts.
    """
    from veedor.pipeline.scan import default_evidence_root
    from veedor.web import create_app
    from veedor.web.app import ENV_DB, ENV_DEFINITION, ENV_EVIDENCE
    from veedor.web.context import REQUEST_THREADS

    defn = get_definition(definition)
    store = get_store(db, connections=REQUEST_THREADS)  # migrates the database once, here
    root = evidence or default_evidence_root(store)
    secret = os.environ.get(SECRET_ENV) or secrets.token_urlsafe(32)
    # Several processes share the port; each opens the same database. Sessions hold because
    # they share the secret; the login limit and the one-writer rule live in the database.
    listen(
        _("Review desk"),
        host,
        port,
        workers,
        store,
        lambda: create_app(store, defn, root, secret),
        "veedor.web.app:from_environment",
        {ENV_DB: store.url, ENV_DEFINITION: definition, ENV_EVIDENCE: str(root), SECRET_ENV: secret},
    )
