"""``veedor serve``: the public site and its JSON API, read-only, on the same database."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import typer

from veedor.cli.common import DB_OPTION, DEFINITION_OPTION, console, get_definition, get_store
from veedor.cli.desk import LOCAL_HOSTS


def register(app: typer.Typer) -> None:
    app.command("serve")(serve)


def serve(
    host: str = typer.Option(
        "127.0.0.1",
        "--host",
        help="Dirección donde escuchar; 0.0.0.0 la abre a la red / address to listen on.",
    ),
    port: int = typer.Option(8080, "--port", help="Puerto / port."),
    db: str | None = DB_OPTION,
    definition: str = DEFINITION_OPTION,
    evidence: Path | None = typer.Option(None, "--evidence", help="Carpeta de evidencia / evidence folder."),
    rate_limit: float = typer.Option(
        20.0,
        "--rate-limit",
        min=0,
        help="Peticiones por segundo por dirección (0: sin límite, p. ej. detrás de un CDN) / "
        "requests per second per address (0: none, e.g. behind a CDN).",
    ),
    workers: int = typer.Option(
        1, "--workers", min=1, max=64, help="Procesos que atienden / processes serving (e.g. one per core)."
    ),
) -> None:
    """El sitio público: resultados verificados, cada mesa con sus actas, y una API JSON (solo lectura).

    The public site: verified results, every mesa with its actas, and a JSON API (read-only).
    """
    import uvicorn

    from veedor.pipeline.scan import default_evidence_root
    from veedor.web.context import REQUEST_THREADS
    from veedor.web.site import ENV_DB, ENV_DEFINITION, ENV_EVIDENCE, ENV_RATE, create_site

    defn = get_definition(definition)
    store = get_store(db, connections=REQUEST_THREADS)  # migrates the database once, here
    root = evidence or default_evidence_root(store)
    shown = f"[{host}]" if ":" in host else host
    console.print(f"[bold]Sitio público / public site:[/] http://{shown}:{port}/  (API: /api/v1, /api/docs)")
    if host in LOCAL_HOSTS:
        console.print("solo desde esta computadora; --host 0.0.0.0 la abre / this computer only")
    options: dict[str, Any] = {"host": host, "port": port, "log_level": "warning", "server_header": False}
    if workers == 1:
        uvicorn.run(create_site(store, defn, root, rate=rate_limit), **options)
        return
    # Each process keeps its own views and its own rate limit (so N processes allow N times the
    # rate per address); all read the same database.
    store.engine.dispose()
    os.environ.update(
        {ENV_DB: store.url, ENV_DEFINITION: definition, ENV_EVIDENCE: str(root), ENV_RATE: str(rate_limit)}
    )
    console.print(f"{workers} procesos / processes")
    uvicorn.run("veedor.web.site:from_environment", factory=True, workers=workers, **options)
