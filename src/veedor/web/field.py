"""``veedor field``: the witnesses' capture app, on its own origin (its own port), apart from the
desk and the public site. A progressive web app: installed from the browser, it works offline
after the first visit (a service worker keeps its files; an IndexedDB queue keeps the photos and
reports until a connection appears). Without JavaScript the page is a plain form that sends one
photo. The API is :mod:`veedor.web.field_api`.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Awaitable, Callable
from functools import cache
from pathlib import Path

from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, Response

from veedor import __version__
from veedor.capture.evidence import EvidenceStore
from veedor.definitions import ElectionDefinition
from veedor.i18n import LANGUAGES, gettext, negotiate, ngettext, templates
from veedor.store import Store
from veedor.store.field import LimitReached, accept_upload, find_invite, upload_answer
from veedor.web import field_api
from veedor.web.field_api import Refused
from veedor.web.field_state import MAX_PIXELS, N_, Field
from veedor.web.headers import HEADERS

STATIC = Path(__file__).parent / "static" / "field"
TEMPLATES = Path(__file__).parent / "templates" / "field"
CSP = (
    "default-src 'none'; img-src 'self' blob:; style-src 'self'; "
    "script-src 'self' 'wasm-unsafe-eval'; connect-src 'self'; worker-src 'self'; "
    "manifest-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
)
"""The desk's policy, plus what the app needs: WebAssembly (the QR reader), fetch to its own
origin, its service worker and manifest, and blob: previews of the photo being sent."""
FIELD_HEADERS = {
    **HEADERS,
    "Content-Security-Policy": CSP,
    # The camera is reached through a file input (no permission); the position only when the
    # coordinator's policy asks for it.
    "Permissions-Policy": "camera=(), microphone=(), geolocation=(self)",
}
LANG_COOKIE = "veedor_field_lang"
SCRIPT_MESSAGES = {
    "online": N_("Online"),
    "offline_short": N_("Offline"),
    "offline": N_("Offline: what you send waits on this phone until there is signal."),
    "preparing": N_("Preparing the photo…"),
    "qr_read": N_("QR read on this phone: mesa %(mesa)s."),
    "qr_not_read": N_("The QR could not be read on this phone; the data room will read the photo."),
    "qr_not_acta": N_(
        "A QR was read, but it is not an acta of this election; the data room will look at the photo."
    ),
    "nulos": N_("Null votes"),
    "valid": N_("Valid votes"),
    "will_photo": N_(
        "This photo: %(kb)s KB, %(w)s × %(h)s pixels, without the camera's data (time, phone model, position)."
    ),
    "will_location": N_("The phone's position when you send it (your coordinator's policy asks for it)."),
    "will_mesa": N_("The mesa read on this phone: %(mesa)s."),
    "will_time": N_("When the photo was taken: %(time)s."),
    "will_code": N_("Your invite code, to show it comes from a witness: never your name or your number."),
    "queued": N_("Saved on this phone; it will be sent when there is signal."),
    "sent": N_("Sent: the data room received it."),
    "invalid_code": N_("This invite code is not valid (mistyped, or revoked). Ask your coordinator."),
    "limit": N_("This code has sent all it may. Ask your coordinator."),
    "refused": N_("The data room refused it: %(why)s"),
    "code_bad": N_("That does not look like an invite code (20 letters and digits)."),
    "code_ok": N_("Code accepted."),
    "code_unchecked": N_("Code saved; it will be checked when there is signal."),
    "who": N_("You are %(pseudonym)s, for %(scope)s. The data room knows nothing else about you."),
    "who_unchecked": N_("Code not checked yet (no signal)."),
    "incident_queued": N_("Report saved; it will be sent when there is signal."),
    "confirm_wipe": N_("Delete the code and everything waiting to be sent from this phone?"),
    "wiped": N_("This phone was cleared."),
    "no_qr_in_code_photo": N_("No QR found in that photo; type the code instead."),
    "photo_failed": N_("This photo could not be opened on the phone; try another one."),
}
"""What the page's script says, in the page's language (a JSON block in the page)."""
SCRIPT_PLURALS = {
    "waiting": ("%(n)s waiting to be sent", "%(n)s waiting to be sent"),
    "sent_count": ("%(n)s sent from this phone", "%(n)s sent from this phone"),
}


@cache
def static_version() -> str:
    """Changes whenever a file of the app changes: the service worker's cache is named by it,
    so a new veedor replaces every file on the phones at their next visit online."""
    digest = hashlib.sha256(__version__.encode())
    for path in sorted([*STATIC.rglob("*"), *TEMPLATES.rglob("*")]):
        if path.is_file():
            digest.update(path.relative_to(STATIC.parent.parent).as_posix().encode())
            digest.update(path.read_bytes())
    return digest.hexdigest()[:16]


def create_field_app(
    store: Store,
    definition: ElectionDefinition,
    evidence_root: str | Path,
    *,
    max_pixels: int = MAX_PIXELS,
    on_upload: Callable[[], None] | None = None,
) -> FastAPI:
    app = FastAPI(docs_url=None, redoc_url=None, openapi_url=None)
    app.state.field = Field(store, definition, EvidenceStore(evidence_root), max_pixels, on_upload)
    app.include_router(field_api.router)
    app.mount("/static/field", StaticFiles(directory=STATIC), name="static")

    def lang_of(request: Request) -> str:
        asked = request.query_params.get("lang") or request.cookies.get(LANG_COOKIE)
        return negotiate(request.headers.get("accept-language"), asked)

    def page(request: Request, template: str, status: int = 200, **context: object) -> HTMLResponse:
        lang = lang_of(request)
        html = (
            templates(TEMPLATES, lang)
            .get_template(template)
            .render(
                lang=lang,
                other_lang=next(code for code in LANGUAGES if code != lang),
                election=definition.name_en if lang == "en" else definition.name_es,
                version=static_version(),
                **context,
            )
        )
        response = HTMLResponse(html, status_code=status)
        if request.query_params.get("lang") in LANGUAGES:
            response.set_cookie(LANG_COOKIE, lang, max_age=365 * 86400, httponly=True, samesite="strict")
        return response

    @app.get("/")
    def home(request: Request) -> Response:
        lang = lang_of(request)
        strings: dict[str, str | list[str]] = {key: gettext(m, lang) for key, m in SCRIPT_MESSAGES.items()}
        for key, (one, many) in SCRIPT_PLURALS.items():
            strings[key] = [ngettext(one, many, 1, lang), ngettext(one, many, 2, lang)]
        return page(request, "app.html", strings=strings)

    @app.post("/send")
    async def send_without_script(request: Request) -> Response:
        """The page without JavaScript: one photo, the code typed in the form (never in the URL)."""
        field: Field = app.state.field
        try:
            fields, data = await field_api.read_form(request)
            code = fields.get("code", "")

            def lookup() -> object:
                with store.session() as session:
                    return find_invite(session, code)

            invite = await run_in_threadpool(lookup)
            if invite is None:
                raise Refused(
                    401,
                    "invalid_code",
                    N_("This invite code is not valid (mistyped, or revoked). Ask your coordinator."),
                )
            sha = field_api.photo_sha(data)
            assert data is not None
            await run_in_threadpool(field.evidence.put, data, sha)

            def accept() -> dict[str, object]:
                with store.session() as session:
                    row, _new = accept_upload(session, invite, sha, len(data))  # type: ignore[arg-type]
                    return upload_answer(row)

            answer = await run_in_threadpool(accept)
        except Refused as exc:
            return page(request, "sent.html", exc.status, answer=None, message=exc.message)
        except LimitReached:
            message = N_("This code has sent all it may. Ask your coordinator.")
            return page(request, "sent.html", 429, answer=None, message=message)
        field.wake()
        return page(request, "sent.html", answer=answer, message=None)

    @app.get("/manifest.webmanifest")
    def manifest(request: Request) -> Response:
        lang = lang_of(request)
        body = {
            "name": gettext("veedor: witness", lang),
            "short_name": "veedor",
            "description": gettext("Photograph the acta, report incidents; works without signal.", lang),
            "lang": lang,
            "start_url": "/",
            "scope": "/",
            "display": "standalone",
            "orientation": "portrait",
            "background_color": "#ffffff",
            "theme_color": "#1d3557",
            "icons": [
                {"src": "/static/field/icon-192.png", "sizes": "192x192", "type": "image/png"},
                {"src": "/static/field/icon-512.png", "sizes": "512x512", "type": "image/png"},
                {"src": "/static/field/icon.svg", "sizes": "any", "type": "image/svg+xml"},
            ],
        }
        return Response(json.dumps(body, ensure_ascii=False), media_type="application/manifest+json")

    @app.get("/sw.js")
    def service_worker() -> Response:
        """The service worker, served from the root so that it controls the whole app; its cache
        is named by the app's version."""
        source = (STATIC / "sw.js").read_text(encoding="utf-8").replace("__VERSION__", static_version())
        return Response(source, media_type="text/javascript", headers={"Cache-Control": "no-cache"})

    @app.middleware("http")
    async def security_headers(
        request: Request, call_next: Callable[[Request], Awaitable[Response]]
    ) -> Response:
        response = await call_next(request)
        response.headers.update(FIELD_HEADERS)
        static = request.url.path.startswith("/static/")
        if request.url.path != "/sw.js":
            # The app's files may be kept (they hold nothing of anyone's); pages and answers never.
            response.headers["Cache-Control"] = "public, max-age=3600" if static else "no-store"
        return response

    @app.exception_handler(HTTPException)
    def http_error(request: Request, exc: HTTPException) -> Response:
        lang = negotiate(request.headers.get("accept-language"), None)
        return JSONResponse(
            {
                "error": "not_found" if exc.status_code == 404 else "error",
                "message": gettext("Not here.", lang),
            },
            status_code=exc.status_code,
        )

    return app
