"""``veedor desk``: the review desk's web pages, on the same database as the scans."""

from __future__ import annotations

import os
import secrets
from pathlib import Path
from typing import Any

import typer

from veedor.cli.common import DB_OPTION, DEFINITION_OPTION, console, get_definition, get_store

LOCAL_HOSTS = ("127.0.0.1", "localhost", "::1")
SECRET_ENV = "VEEDOR_DESK_SECRET"


def register(app: typer.Typer) -> None:
    app.command("desk")(desk)


def desk(
    host: str = typer.Option(
        "127.0.0.1",
        "--host",
        help="Dirección donde escuchar; 0.0.0.0 la abre a la red local / address to listen on.",
    ),
    port: int = typer.Option(8765, "--port", help="Puerto / port."),
    db: str | None = DB_OPTION,
    definition: str = DEFINITION_OPTION,
    evidence: Path | None = typer.Option(None, "--evidence", help="Carpeta de evidencia / evidence folder."),
    workers: int = typer.Option(
        1,
        "--workers",
        min=1,
        max=64,
        help="Procesos que atienden páginas (p. ej. uno por núcleo) / processes serving pages (e.g. one per core).",
    ),
) -> None:
    """La mesa de revisión en el navegador: personas escriben a ciegas los números de las actas que la máquina no pudo resolver.

    The review desk's web pages: people type, blind, the numbers of the actas the machine could not settle. Accounts: `veedor users add`. VEEDOR_DESK_SECRET keeps sessions across restarts.
    """
    import uvicorn

    from veedor.pipeline.scan import default_evidence_root
    from veedor.web import create_app
    from veedor.web.app import ENV_DB, ENV_DEFINITION, ENV_EVIDENCE
    from veedor.web.context import REQUEST_THREADS

    defn = get_definition(definition)
    store = get_store(db, connections=REQUEST_THREADS)  # migrates the database once, here
    root = evidence or default_evidence_root(store)
    secret = os.environ.get(SECRET_ENV) or secrets.token_urlsafe(32)
    shown = f"[{host}]" if ":" in host else host
    console.print(f"[bold]Mesa de revisión / review desk:[/] http://{shown}:{port}/")
    if host in LOCAL_HOSTS:
        console.print(
            "solo desde esta computadora; use --host 0.0.0.0 para la red local / "
            "this computer only; --host 0.0.0.0 opens it to the local network"
        )
    else:
        console.print(
            "[yellow]abierta a la red: úsela solo en una red de confianza / "
            "open to the network: use it only on a trusted network[/]"
        )
    options: dict[str, Any] = {"host": host, "port": port, "log_level": "warning", "server_header": False}
    if workers == 1:
        uvicorn.run(create_app(store, defn, root, secret), **options)
        return
    # Several processes share the port; each opens the same database. Sessions hold because
    # they share the secret; the login limit and the one-writer rule live in the database.
    store.engine.dispose()
    os.environ.update(
        {ENV_DB: store.url, ENV_DEFINITION: definition, ENV_EVIDENCE: str(root), SECRET_ENV: secret}
    )
    console.print(f"{workers} procesos / processes")
    uvicorn.run("veedor.web.app:from_environment", factory=True, workers=workers, **options)
