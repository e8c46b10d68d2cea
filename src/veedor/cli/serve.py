"""``veedor serve``: the public site and its JSON API, read-only, on the same database."""

from __future__ import annotations

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


def register(app: typer.Typer) -> None:
    app.command("serve")(serve)


def serve(
    host: str = HOST_OPTION,
    port: int = typer.Option(8080, "--port", help="Port."),
    db: str | None = DB_OPTION,
    definition: str = DEFINITION_OPTION,
    evidence: Path | None = typer.Option(None, "--evidence", help="Evidence folder."),
    rate_limit: float = typer.Option(
        20.0,
        "--rate-limit",
        min=0,
        help="Requests per second per address (0: none, e.g. behind a CDN).",
    ),
    workers: int = WORKERS_OPTION,
) -> None:
    """The public site: verified results, every mesa with its actas, and a JSON API (read-only).

    The public site: verified results, every mesa with its actas, and a JSON API (read-only).
    """
    from veedor.pipeline.scan import default_evidence_root
    from veedor.web.context import REQUEST_THREADS
    from veedor.web.site import ENV_DB, ENV_DEFINITION, ENV_EVIDENCE, ENV_RATE, create_site

    defn = get_definition(definition)
    store = get_store(db, connections=REQUEST_THREADS)  # migrates the database once, here
    root = evidence or default_evidence_root(store)
    # Each process keeps its own views and its own rate limit (so N processes allow N times the
    # rate per address); all read the same database.
    listen(
        _("Public site (API: /api/v1, /api/docs)"),
        host,
        port,
        workers,
        store,
        lambda: create_site(store, defn, root, rate=rate_limit),
        "veedor.web.site:from_environment",
        {ENV_DB: store.url, ENV_DEFINITION: definition, ENV_EVIDENCE: str(root), ENV_RATE: str(rate_limit)},
    )
