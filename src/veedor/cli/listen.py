"""Serving a web face (the review desk, the public site): where it listens, said plainly, and
on one process or several sharing the port."""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import typer

from veedor.cli.common import (
    _,
    console,
)

if TYPE_CHECKING:
    from veedor.store import Store

LOCAL_HOSTS = ("127.0.0.1", "localhost", "::1")
HOST_OPTION = typer.Option(
    "127.0.0.1",
    "--host",
    help="Address to listen on.",
)
WORKERS_OPTION = typer.Option(
    1,
    "--workers",
    min=1,
    max=64,
    help="Processes serving pages (e.g. one per core).",
)


def listen(
    title: str,
    host: str,
    port: int,
    workers: int,
    store: Store,
    app: Callable[[], Any],
    factory: str,
    environment: dict[str, str],
) -> None:
    """Say where ``title`` listens, then serve ``app()`` in this process, or, with several
    ``workers``, ``factory`` (an import path) in each, configured by ``environment``."""
    import uvicorn

    shown = f"[{host}]" if ":" in host else host
    console.print(f"[bold]{title}:[/] http://{shown}:{port}/")
    if host in LOCAL_HOSTS:
        console.print(_("this computer only; --host 0.0.0.0 opens it to the local network"))
    else:
        console.print("[yellow]" + _("open to the network: use it only on a trusted network") + "[/]")
    options: dict[str, Any] = {"host": host, "port": port, "log_level": "warning", "server_header": False}
    if workers == 1:
        uvicorn.run(app(), **options)
        return
    store.engine.dispose()  # each process opens its own connections to the same database
    os.environ.update(environment)
    console.print(_("{n} processes", n=workers))
    uvicorn.run(factory, factory=True, workers=workers, **options)
