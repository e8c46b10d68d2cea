"""The desk's application: routes, static files, refusals as pages, security headers."""

from __future__ import annotations

import os
from collections.abc import Awaitable, Callable
from pathlib import Path

from fastapi import FastAPI
from fastapi.responses import RedirectResponse
from fastapi.staticfiles import StaticFiles
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response

from veedor.capture.evidence import EvidenceStore
from veedor.definitions import ElectionDefinition
from veedor.store import Store
from veedor.web import desk, field_desk, images, login, sheets
from veedor.web.auth import CsrfRefused, Forbidden, LoginRequired, Sessions
from veedor.web.context import REQUEST_THREADS, Desk, language_of
from veedor.web.headers import HEADERS
from veedor.web.pages import render

STATIC = Path(__file__).parent / "static"


def create_app(
    store: Store, definition: ElectionDefinition, evidence_root: str | Path, secret: str
) -> FastAPI:
    """The desk on ``store``; ``secret`` signs the session cookies (keep it to keep sessions
    across restarts)."""
    if len(secret) < 16:
        raise ValueError("the session secret must have at least 16 characters")
    app = FastAPI(docs_url=None, redoc_url=None, openapi_url=None)
    app.state.desk = Desk(store, definition, EvidenceStore(evidence_root), Sessions(secret))
    app.include_router(login.router)
    app.include_router(desk.router)
    app.include_router(sheets.router)
    app.include_router(images.router)
    app.include_router(field_desk.router)  # the witnesses' incident reports (supervisors)
    app.mount("/static", StaticFiles(directory=STATIC), name="static")

    @app.middleware("http")
    async def security_headers(
        request: Request, call_next: Callable[[Request], Awaitable[Response]]
    ) -> Response:
        response = await call_next(request)
        response.headers.update(HEADERS)
        static = request.url.path.startswith("/static/")
        response.headers["Cache-Control"] = "public, max-age=3600" if static else "no-store"
        return response

    @app.exception_handler(LoginRequired)
    def login_required(request: Request, exc: LoginRequired) -> Response:
        if request.method in ("GET", "HEAD"):
            return RedirectResponse("/login", status_code=303)
        return _refusal(request, 401, "login")

    @app.exception_handler(CsrfRefused)
    def csrf_refused(request: Request, exc: CsrfRefused) -> Response:
        return _refusal(request, 403, "csrf")

    @app.exception_handler(Forbidden)
    def forbidden(request: Request, exc: Forbidden) -> Response:
        return _refusal(request, 403, "forbidden")

    @app.exception_handler(HTTPException)
    def http_error(request: Request, exc: HTTPException) -> Response:
        return _refusal(request, exc.status_code, "missing" if exc.status_code == 404 else "error")

    return app


ENV_DB, ENV_DEFINITION, ENV_EVIDENCE, ENV_SECRET = (
    "VEEDOR_DESK_DB",
    "VEEDOR_DESK_DEFINITION",
    "VEEDOR_DESK_EVIDENCE",
    "VEEDOR_DESK_SECRET",
)


def from_environment() -> FastAPI:
    """The desk as ``veedor desk --workers N`` starts it in each worker process: the database,
    definition, evidence folder and the shared session secret come from the environment."""
    from veedor.definitions import load_definition
    from veedor.store import open_store

    store = open_store(os.environ[ENV_DB], migrate=False, connections=REQUEST_THREADS)
    definition = load_definition(os.environ[ENV_DEFINITION])
    return create_app(store, definition, os.environ[ENV_EVIDENCE], os.environ[ENV_SECRET])


def _refusal(request: Request, status: int, why: str) -> Response:
    """A page that says why, in the reader's language, with no data of anyone's."""
    app_desk: Desk = request.app.state.desk
    # The language link goes home: a refusal never echoes what was asked for.
    return render(request, app_desk, "refused.html", language_of(request), status=status, why=why, path="/")
