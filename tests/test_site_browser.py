"""The public site as a voter uses it, in a real headless Chromium (Debian's ``chromium``, driven
by Playwright): the home page, the language switch, a search with a misspelt centre name, the
drill-down to a mesa whose numbers are those of the database, its image; then the same walk on
the static export opened from ``file://``. Screenshots replace docs/img/site-*.png only when
asked (``VEEDOR_SCREENSHOTS=docs/img``)."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
from sqlalchemy import select

import testdb
from conftest import ROOT
from test_site import CENTRE, COUNTED
from test_site import site as site  # the database: registry, two counted actas, a conflict
from veedor.store.schema import ActaRecord

CHROMIUM = Path("/usr/bin/chromium")
pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(not CHROMIUM.exists(), reason="needs Debian's chromium (apt-get install chromium)"),
]
sync_api = pytest.importorskip("playwright.sync_api", reason="needs the playwright package (pip)")
DOCS = Path(os.environ["VEEDOR_SCREENSHOTS"]) if os.environ.get("VEEDOR_SCREENSHOTS") else None


@pytest.fixture(scope="module")
def served(site):
    """``veedor serve --workers 2`` itself on the fixture's database, on a free port of 127.0.0.1."""
    _client, store = site
    db = store.url.removeprefix("sqlite:///")  # a file, or a PostgreSQL URL (VEEDOR_TEST_DB_URL)
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    log = open(testdb.folder_of(store.url) / "serve.log", "w+")  # noqa: SIM115 (closed below)
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "veedor",
            "serve",
            "--port",
            str(port),
            "--db",
            db,
            "--evidence",
            str(testdb.folder_of(store.url) / "ev"),
            "--workers",
            "2",
        ],
        env={**os.environ, "PYTHONPATH": str(ROOT / "src")},
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
            break
        except OSError:
            assert process.poll() is None, Path(log.name).read_text()
            time.sleep(0.2)
    yield f"http://127.0.0.1:{port}", store
    process.terminate()
    process.wait(timeout=20)
    log.close()
    assert "Traceback" not in Path(log.name).read_text()


@pytest.fixture(scope="module")
def browser():
    with sync_api.sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=str(CHROMIUM))
        yield chromium
        chromium.close()


def _walk(page, start: str, store, shots: Path | None, searchable: bool) -> None:
    page.goto(start)
    assert "Resultado nacional de actas verificadas" in page.inner_text("h1")
    if shots:
        page.screenshot(path=str(shots / "site-home.png"), full_page=False)
        page.locator(".maps").screenshot(path=str(shots / "site-maps.png"))
    page.click("a.lang")
    assert "National result from verified actas" in page.inner_text("h1")
    page.click("a.lang")  # and back to Spanish
    if searchable:
        page.fill("#q", "escuela rosa amela flores")  # no accents, a letter missing
        page.click("button[type=submit]")
        page.click(f"text={'ESCUELA BASICA ROSA AMELIA FLORES'}")
    else:  # the static site has no search: down the units, by their codes
        for digits in (2, 4, 6, 9):
            page.click(f"a:text-is('{CENTRE[:digits]}')")
    assert CENTRE in page.inner_text("h1")
    page.click(f"text={CENTRE}.01")
    with store.session() as session:
        record = session.scalar(select(ActaRecord).where(ActaRecord.centre == CENTRE, ActaRecord.mesa == 1))
    assert record.votes == COUNTED[1]
    page.click("text=Línea por línea, como en el acta")
    shown = [int(n) for n in page.locator("details table td.num:nth-child(3)").all_inner_texts()]
    assert shown == record.votes
    image = page.locator(".copies img").first
    image.scroll_into_view_if_needed()
    # A lazy image starts loading when scrolled into view, after the page's load event:
    # wait for it (up to 30 s), then check that it is a real picture.
    loaded = "i => i.complete && i.naturalWidth > 0"
    page.wait_for_function(loaded, arg=image.element_handle(), timeout=30_000)
    assert image.evaluate("i => i.complete && i.naturalWidth > 100")
    if shots:
        page.screenshot(path=str(shots / "site-mesa.png"), full_page=False)


def test_a_voter_finds_their_mesa_and_its_acta_in_a_real_browser(served, browser, tmp_path):
    url, store = served
    page = browser.new_context(locale="es-VE", viewport={"width": 1200, "height": 1300}).new_page()
    shots = DOCS or tmp_path
    shots.mkdir(parents=True, exist_ok=True)
    _walk(page, url + "/", store, shots, searchable=True)


def test_the_same_walk_on_the_static_site_opened_from_disk(site, browser, definition, tmp_path):
    from veedor.web.static_site import write_static

    _client, store = site
    out = tmp_path / "public"
    write_static(store, definition, testdb.folder_of(store.url) / "ev", out)
    page = browser.new_context(locale="es-VE", viewport={"width": 1200, "height": 1300}).new_page()
    # The static copy searches in the page itself (search.js over search-index.js).
    _walk(page, (out / "index.html").as_uri(), store, None, searchable=True)
