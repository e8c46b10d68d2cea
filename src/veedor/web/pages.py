"""Rendering: one Jinja2 environment per language (its catalog installed once), so a page is
in one language only and no request changes another's."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from jinja2 import Environment
from starlette.requests import Request
from starlette.responses import HTMLResponse

from veedor.i18n import LANGUAGES, templates
from veedor.web.auth import SessionData
from veedor.web.context import LANG_COOKIE, Desk, Viewer

TEMPLATES = Path(__file__).parent / "templates"


def environment(lang: str) -> Environment:
    return templates(TEMPLATES, lang)


def render(
    request: Request,
    desk: Desk,
    template: str,
    lang: str,
    /,
    *,
    viewer: Viewer | None = None,
    session: SessionData | None = None,
    status: int = 200,
    **context: Any,
) -> HTMLResponse:
    """``template`` in ``lang``; ``session`` (when given) is written back, with its CSRF token in
    every form of the page."""
    session = session or (viewer.session if viewer else None)
    other = next(code for code in LANGUAGES if code != lang)
    html = (
        environment(lang)
        .get_template(template)
        .render(
            lang=lang,
            other_lang=other,
            election=desk.definition.name_en if lang == "en" else desk.definition.name_es,
            viewer=viewer,
            csrf=session.csrf if session else "",
            **{"path": request.url.path, **context},
        )
    )
    response = HTMLResponse(html, status_code=status)
    if session is not None:
        desk.sessions.write(response, request, session)
    if request.query_params.get("lang") in LANGUAGES:
        response.set_cookie(
            LANG_COOKIE, lang, max_age=365 * 86400, path="/", httponly=True, samesite="strict"
        )
    return response
