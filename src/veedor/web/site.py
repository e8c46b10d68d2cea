"""The public site (``veedor serve``): read-only pages and a JSON API over the same views
(:mod:`veedor.publish.views`), so a page and its ``/api/v1`` twin always say the same.

It is a separate application from the review desk: none of the desk's routes, accounts or
sessions exist here, even when both run on one machine. No public answer changes data.
"""

from __future__ import annotations

import gzip
import hashlib
import json
import re
import threading
import time
from collections import OrderedDict
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from fastapi import FastAPI, Query
from fastapi import Path as PathParam
from fastapi.staticfiles import StaticFiles
from sqlalchemy import func, select
from sqlalchemy.orm import Session
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import FileResponse, HTMLResponse, JSONResponse, Response

from veedor.capture.evidence import EvidenceStore
from veedor.definitions import ElectionDefinition
from veedor.i18n import LANGUAGES
from veedor.publish.forensics_report import LATEST, latest_forensics, render_report
from veedor.publish.maps import unit_maps
from veedor.publish.views import NotFound, Snapshot, mesa_view, search_view
from veedor.store import Store, evidence_log
from veedor.store.schema import (
    Evidence,
    GeoUnit,
    Mesa,
    MesaEvent,
    ResultTable,
    ReviewCopyCall,
    ReviewDecision,
    Setting,
)
from veedor.web.context import LANG_COOKIE, REQUEST_THREADS, language_of
from veedor.web.headers import HEADERS
from veedor.web.images import SHA, public_jpeg
from veedor.web.opendata import OpenData
from veedor.web.pages import environment
from veedor.web.voter import MAX_BODY, add_voter_lookup
from veedor.web.voter import PATH as VOTER_PATH

STATIC = Path(__file__).parent / "static"
MEDIA = {
    ".csv": "text/csv; charset=utf-8",
    ".json": "application/json",
    ".parquet": "application/vnd.apache.parquet",
}
MAX_QUERY = 2048
"""Longer URLs are refused before any work (414)."""
CODE = re.compile(r"[0-9]{1,16}")


def create_site(
    store: Store, definition: ElectionDefinition, evidence_root: str | Path, rate: float = 0.0
) -> FastAPI:
    """The public site on ``store``. ``rate``: requests per second allowed to one address (a
    burst of twice that), 0 for none (behind a CDN or a proxy every visitor has its address)."""
    app = FastAPI(
        title="veedor public API",
        version="1",
        docs_url="/api/docs",
        redoc_url=None,
        openapi_url="/api/openapi.json",
    )
    evidence = EvidenceStore(evidence_root)
    views = Views(store)

    def view(key: tuple[Any, ...], build: Callable[[Any], dict[str, Any]]) -> Shown:
        try:
            return views.get(key, build)
        except NotFound:
            raise HTTPException(404) from None

    def page(
        request: Request, template: str, data: dict[str, Any], status: int = 200, cache: bool = True
    ) -> Response:
        lang = language_of(request)
        path = request.url.path
        report = forensics_made()

        def render() -> bytes:
            return render_page(
                definition,
                template,
                lang,
                lambda kind, *parts: served_url(path, kind, *parts),
                {"served": True, "forensics": report, **data},
            ).encode()

        if not (cache and status == 200):
            return HTMLResponse(render(), status_code=status)
        # A page is the same for everyone who asks for it in one language until the data
        # changes: rendered and compressed once, then answered with its ETag (304s on a slow
        # link cost nothing).
        html = views.rendered((template, path, request.url.query, lang, report), render)
        response = cached_response(request, html, "text/html; charset=utf-8")
        if request.query_params.get("lang") in LANGUAGES:
            response.set_cookie(
                LANG_COOKIE, lang, max_age=365 * 86400, path="/", httponly=True, samesite="lax"
            )
        return response

    def forensics_made() -> bool:
        with store.session() as session:
            return session.get(Setting, LATEST) is not None

    def unit_code(code: str) -> str:
        if not CODE.fullmatch(code):
            raise HTTPException(404)
        return code

    @app.get("/", include_in_schema=False)
    def home(request: Request) -> Response:
        shown = view(("unit", None), lambda _s: views.snapshot(definition).unit())
        return page(request, "site/unit.html", unit_page(definition, shown.data))

    @app.get("/u/{code}", include_in_schema=False)
    def unit(request: Request, code: str) -> Response:
        code = unit_code(code)
        shown = view(("unit", code), lambda _s: views.snapshot(definition).unit(code))
        return page(request, "site/unit.html", unit_page(definition, shown.data))

    @app.get("/m/{centre}/{mesa}", include_in_schema=False)
    def mesa(request: Request, centre: str, mesa: int) -> Response:
        centre = unit_code(centre)
        shown = view(("mesa", centre, mesa), lambda s: mesa_view(s, definition, centre, mesa))
        return page(request, "site/mesa.html", {"v": shown.data})

    @app.get("/verify", include_in_schema=False)
    def verify(request: Request) -> Response:
        return page(request, "site/verify.html", {})

    open_data = OpenData(store, definition, views.version)
    app.router.on_shutdown.append(open_data.close)

    @app.get("/data", include_in_schema=False)
    def data_page(request: Request) -> Response:
        return page(request, "site/data.html", {"sources": open_data.groups()})

    @app.get("/api/v1/data", summary="Every export of the open data: sources, files, rows, SHA-256")
    def api_data() -> Response:
        _folder, index = open_data.index()
        return JSONResponse(index, headers={"Cache-Control": "public, max-age=60"})

    @app.get("/data/{source}/{name}", include_in_schema=False)
    def data_file(source: str, name: str) -> Response:
        found = open_data.file(source, name)
        if found is None:
            raise HTTPException(404)
        path, listed = found
        headers = {"Cache-Control": "public, max-age=60"}
        if "sha256" in listed:
            headers["ETag"] = f'"{listed["sha256"][:32]}"'
        return FileResponse(
            path, headers=headers, media_type=MEDIA.get(path.suffix, "application/octet-stream")
        )

    log_files = LogFiles(store)

    @app.get("/log/{path:path}", include_in_schema=False)
    def log_file(path: str) -> Response:
        """The evidence log as C2SP tlog-tiles (what ``publish --static`` writes under log/)."""
        data = log_files.get(path)
        if data is None:
            raise HTTPException(404)
        # Full tiles never change; the checkpoint and partial tiles do.
        final = path.startswith("tile/") and ".p/" not in path
        return Response(
            data,
            media_type="text/plain; charset=utf-8"
            if not path.startswith("tile/")
            else "application/octet-stream",
            headers={
                "Cache-Control": "public, max-age=31536000, immutable" if final else "public, max-age=10"
            },
        )

    @app.get("/forensics", include_in_schema=False)
    def forensics_report(request: Request) -> Response:
        """The latest ``veedor forensics`` report, in the visitor's language."""
        data = latest_forensics(store)
        if data is None:
            raise HTTPException(404)
        html = render_report(data, definition, language_of(request))
        # The report is one self-contained page (it is also a file people keep): its style is
        # inline and its figures data: URLs; nothing else is allowed.
        policy = "default-src 'none'; style-src 'unsafe-inline'; img-src data:; frame-ancestors 'none'; base-uri 'none'"
        return HTMLResponse(
            html, headers={"Content-Security-Policy": policy, "Cache-Control": "public, max-age=60"}
        )

    @app.get("/manifest.json", include_in_schema=False)
    def manifest() -> Response:
        """Served, the site's files are its pages: the manifest is the static site's (see
        ``veedor publish --static``); here, the list of what can be fetched."""
        return JSONResponse(
            {"api": "/api/v1/national", "docs": "/api/docs", "static": "veedor publish --static DIR"}
        )

    @app.get("/api/v1/national", summary="The nation: verified tally, coverage, one row per state")
    def api_national(request: Request) -> Response:
        return api(request, view(("unit", None), lambda _s: views.snapshot(definition).unit()))

    @app.get("/api/v1/units/{code}", summary="One unit (state ... centre): tally, coverage, units below")
    def api_unit(request: Request, code: str) -> Response:
        code = unit_code(code)
        return api(request, view(("unit", code), lambda _s: views.snapshot(definition).unit(code)))

    @app.get("/api/v1/mesas/{centre}/{mesa}", summary="One mesa: its numbers, copies, checks and decisions")
    def api_mesa(request: Request, centre: str, mesa: int = PathParam(ge=1, le=999)) -> Response:
        centre = unit_code(centre)
        return api(request, view(("mesa", centre, mesa), lambda s: mesa_view(s, definition, centre, mesa)))

    @app.get("/search", include_in_schema=False)
    def search(request: Request, q: str = Query("", max_length=200)) -> Response:
        shown = view(("search", q.strip()[:100]), lambda s: search_view(s, definition, q))
        return page(request, "site/search.html", {"v": shown.data})

    @app.get("/api/v1/search", summary="Units and mesas by code or name (accents, case and typos forgiven)")
    def api_search(request: Request, q: str = Query(min_length=1, max_length=200)) -> Response:
        return api(request, view(("search", q.strip()[:100]), lambda s: search_view(s, definition, q)))

    @app.get("/image/{sha}", include_in_schema=False)
    def image(sha: str) -> Response:
        """A stored acta image, decoded and encoded again from its pixels: no EXIF, XMP, IPTC,
        GPS, device, capture time or thumbnail, and no file name, ever reaches the public."""
        if not SHA.fullmatch(sha):
            raise HTTPException(404)
        with store.session() as session:
            known = session.scalar(select(Evidence.id).where(Evidence.sha256 == sha).limit(1))
        data = public_jpeg(evidence.path_for(sha), definition) if known is not None else None
        if data is None:
            raise HTTPException(404)
        return Response(
            data,
            media_type="image/jpeg",
            headers={"Cache-Control": "public, max-age=86400, immutable", "ETag": f'"{sha[:32]}"'},
        )

    app.mount("/static", StaticFiles(directory=STATIC), name="static")

    limiter = RateLimiter(rate) if rate > 0 else None
    # A lookup by id is what someone mapping voters would repeat: a tenth of the pages' rate.
    lookups = RateLimiter(max(rate / 10, 0.2)) if rate > 0 else None
    add_voter_lookup(app, store, definition, page, lookups.allow if lookups else lambda _a: True)

    @app.middleware("http")
    async def guard(request: Request, call_next: Callable[[Request], Awaitable[Response]]) -> Response:
        if limiter is not None and not limiter.allow(request.client.host if request.client else "?"):
            return Response("too many requests", status_code=429, headers={"Retry-After": "1"})
        if len(str(request.url)) > MAX_QUERY:
            return Response("URI too long", status_code=414)
        lookup = request.method == "POST" and request.url.path == VOTER_PATH
        if request.method not in ("GET", "HEAD", "OPTIONS") and not lookup:
            return Response("read-only", status_code=405, headers={"Allow": "GET, HEAD"})
        length = request.headers.get("content-length")
        if lookup and length is None:
            return Response("length required", status_code=411)
        if length is not None and (not length.isdigit() or int(length) > (MAX_BODY if lookup else 0)):
            return Response("request too large", status_code=413)
        response = await call_next(request)
        own_policy = response.headers.get("content-security-policy")
        response.headers.update(HEADERS)
        if own_policy:  # a page that sets its own, stricter in all but its inline style
            response.headers["Content-Security-Policy"] = own_policy
        if request.url.path.startswith("/api/"):
            response.headers["Access-Control-Allow-Origin"] = "*"
            response.headers["Cross-Origin-Resource-Policy"] = "cross-origin"
        response.headers.setdefault("Cache-Control", "public, max-age=60")
        return response

    @app.exception_handler(HTTPException)
    def http_error(request: Request, exc: HTTPException) -> Response:
        if request.url.path.startswith("/api/"):
            return JSONResponse(
                {"error": "not found" if exc.status_code == 404 else "error"}, exc.status_code
            )
        return page(request, "site/missing.html", {"status": exc.status_code}, status=exc.status_code)

    return app


ENV_DB, ENV_DEFINITION, ENV_EVIDENCE, ENV_RATE = (
    "VEEDOR_SITE_DB",
    "VEEDOR_SITE_DEFINITION",
    "VEEDOR_SITE_EVIDENCE",
    "VEEDOR_SITE_RATE",
)


def from_environment() -> FastAPI:
    """The site as ``veedor serve --workers N`` starts it in each worker process."""
    import os

    from veedor.definitions import load_definition
    from veedor.store import open_store

    store = open_store(os.environ[ENV_DB], migrate=False, connections=REQUEST_THREADS)
    definition = load_definition(os.environ[ENV_DEFINITION])
    return create_site(store, definition, os.environ[ENV_EVIDENCE], rate=float(os.environ.get(ENV_RATE, "0")))


class LogFiles:
    """The log's published files, made again at most every ``every`` seconds."""

    def __init__(self, store: Store, every: float = 10.0) -> None:
        self.store, self.every = store, every
        self._files: dict[str, bytes] = {}
        self._made = -every
        self._lock = threading.Lock()

    def get(self, path: str) -> bytes | None:
        with self._lock:
            if time.monotonic() - self._made >= self.every:
                with self.store.session() as session:
                    self._files = dict(evidence_log.published_files(session))
                self._made = time.monotonic()
            return self._files.get(path)


class RateLimiter:
    """A token bucket per address: ``rate`` requests a second, bursts of twice that. Buckets of
    addresses not seen for a minute are forgotten (nothing about visitors is kept longer)."""

    def __init__(self, rate: float) -> None:
        self.rate, self.burst = rate, 2 * rate
        self._buckets: dict[str, tuple[float, float]] = {}
        self._lock = threading.Lock()
        self._swept = time.monotonic()

    def allow(self, address: str) -> bool:
        now = time.monotonic()
        with self._lock:
            tokens, seen = self._buckets.get(address, (self.burst, now))
            tokens = min(self.burst, tokens + (now - seen) * self.rate)
            allowed = tokens >= 1.0
            self._buckets[address] = (tokens - 1.0 if allowed else tokens, now)
            if now - self._swept > 60:
                self._buckets = {a: b for a, b in self._buckets.items() if now - b[1] < 60}
                self._swept = now
        return allowed


Url = Callable[..., str]


def unit_page(definition: ElectionDefinition, view: dict[str, Any]) -> dict[str, Any]:
    """What a unit page draws: its view, and the maps of the units below it if the definition
    has a map of their level."""
    return {"v": view, "maps": unit_maps(definition, view)}


def render_page(
    definition: ElectionDefinition, template: str, lang: str, url: Url, data: dict[str, Any], **extra: Any
) -> str:
    """One public page in ``lang``; ``url(kind, *parts)`` makes every link (served or static)."""
    other = next(code for code in LANGUAGES if code != lang)
    return (
        environment(lang)
        .get_template(template)
        .render(
            lang=lang,
            other_lang=other,
            url=url,
            searchable=extra.pop("searchable", True),
            election=definition.name_en if lang == "en" else definition.name_es,
            levels={lv.name: (lv.label_en if lang == "en" else lv.label_es) for lv in definition.levels},
            **data,
            **extra,
        )
    )


def served_url(path: str, kind: str, *parts: Any) -> str:
    """Links of the served site: absolute paths."""
    if kind == "lang":
        return f"{path}?lang={parts[0]}"
    return "/" + PLACES[kind](*parts)


PLACES: dict[str, Callable[..., str]] = {
    "home": lambda: "",
    "u": lambda code: f"u/{code}",
    "m": lambda centre, mesa: f"m/{centre}/{mesa}",
    "image": lambda sha: f"image/{sha}",
    "static": lambda name: f"static/{name}",
    "api_unit": lambda code: f"api/v1/units/{code}" if code else "api/v1/national",
    "api_mesa": lambda centre, mesa: f"api/v1/mesas/{centre}/{mesa}",
    "verify": lambda: "verify",
    "data": lambda: "data",
    "search": lambda: "search",
    "forensics": lambda: "forensics",
    "voter": lambda: "voter",
    "data_file": lambda source, name: f"data/{source}/{name}",
    "manifest": lambda: "manifest.json",
}
"""Where each kind of page lives, relative to the site's root (the static site adds suffixes)."""


def cached_response(request: Request, shown: Rendered, media_type: str) -> Response:
    headers = {"ETag": shown.etag, "Cache-Control": "public, max-age=60", "Vary": "Accept-Encoding, Cookie"}
    if shown.etag in request.headers.get("if-none-match", ""):
        return Response(status_code=304, headers=headers)
    if "gzip" in request.headers.get("accept-encoding", ""):
        return Response(shown.gzip, media_type=media_type, headers={**headers, "Content-Encoding": "gzip"})
    return Response(shown.body, media_type=media_type, headers=headers)


def api(request: Request, shown: Shown) -> Response:
    """JSON with an ETag of its own bytes: a client that has it gets 304 and no body."""
    headers = {"ETag": shown.etag, "Cache-Control": "public, max-age=60"}
    if shown.etag in request.headers.get("if-none-match", ""):
        return Response(status_code=304, headers=headers)
    return Response(shown.body, media_type="application/json", headers=headers)


@dataclass(frozen=True)
class Rendered:
    body: bytes
    gzip: bytes
    etag: str


@dataclass(frozen=True)
class Shown:
    data: dict[str, Any]
    body: bytes
    etag: str


class Views:
    """Each view built once per state of the data: a cheap version of the database (the last
    change of any mesa, decision, table or registry row) is read at most once a second, and a
    view is built again only when it moved. Bounded: the least recently used go first."""

    def __init__(self, store: Store, every: float = 1.0, size: int = 4096) -> None:
        self.store, self.every, self.size = store, every, size
        self._lock = threading.Lock()
        self._version: tuple[Any, ...] = ()
        self._checked = 0.0
        self._built: OrderedDict[tuple[Any, ...], tuple[tuple[Any, ...], Shown]] = OrderedDict()
        self._pages: OrderedDict[tuple[Any, ...], tuple[tuple[Any, ...], Rendered]] = OrderedDict()
        self._snapshot: tuple[tuple[Any, ...], Snapshot] | None = None
        self._building = threading.Lock()

    def version(self) -> tuple[Any, ...]:
        now = time.monotonic()
        with self._lock:
            if now - self._checked < self.every:
                return self._version
        with self.store.session() as session:
            # One subquery per table: a plain select of the maxima is their cartesian product,
            # empty (all null) while any one table is.
            maxes = session.execute(
                select(*(select(func.max(c)).scalar_subquery() for c in VERSION_COLUMNS))
            ).one()
            registry = session.execute(select(func.count(), func.sum(Mesa.electors)).select_from(Mesa)).one()
            version = (*maxes, *registry, session.scalar(select(func.count()).select_from(GeoUnit)))
        with self._lock:
            self._version, self._checked = version, now
        return version

    def snapshot(self, definition: ElectionDefinition) -> Snapshot:
        """Every tally of the unit pages, read once per state of the data."""
        version = self.version()
        # One thread builds it (seconds on national data); the others wait for that one instead
        # of each reading every tally again and holding a database connection meanwhile.
        with self._building:
            with self._lock:
                if self._snapshot is not None and self._snapshot[0] == version:
                    return self._snapshot[1]
            with self.store.session() as session:
                snapshot = Snapshot(session, definition)
            with self._lock:
                self._snapshot = (version, snapshot)
        return snapshot

    def rendered(self, key: tuple[Any, ...], render: Callable[[], bytes]) -> Rendered:
        """A page's bytes (and gzipped), rendered once per state of the data."""
        version = self.version()
        with self._lock:
            hit = self._pages.get(key)
            if hit is not None and hit[0] == version:
                self._pages.move_to_end(key)
                return hit[1]
        body = render()
        shown = Rendered(body, gzip.compress(body, 6), '"' + hashlib.sha256(body).hexdigest()[:32] + '"')
        with self._lock:
            self._pages[key] = (version, shown)
            self._pages.move_to_end(key)
            while len(self._pages) > self.size:
                self._pages.popitem(last=False)
        return shown

    def get(self, key: tuple[Any, ...], build: Callable[[Session], dict[str, Any]]) -> Shown:
        version = self.version()
        with self._lock:
            hit = self._built.get(key)
            if hit is not None and hit[0] == version:
                self._built.move_to_end(key)
                return hit[1]
        with self.store.session() as session:
            data = build(session)
        body = json.dumps(data, ensure_ascii=False, separators=(",", ":"), sort_keys=True).encode()
        shown = Shown(data, body, '"' + hashlib.sha256(body).hexdigest()[:32] + '"')
        with self._lock:
            self._built[key] = (version, shown)
            self._built.move_to_end(key)
            while len(self._built) > self.size:
                self._built.popitem(last=False)
        return shown


VERSION_COLUMNS = (MesaEvent.id, ReviewDecision.id, ReviewCopyCall.id, ResultTable.id)
"""Every change a page can show appends to one of these (a mesa's state, people's decisions, a
table imported); with the registry's counts they make the data's version."""
