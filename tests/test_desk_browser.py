"""The desk as a person uses it, in a real headless Chromium (Debian's ``chromium``, driven by
Playwright): reviewers log in, type what they see on rendered actas in conflict, and the
mesas are counted; the one who types wrong numbers scores higher; a visitor without an
account is refused everywhere. Screenshots of the pages are taken every run; they replace the
ones in docs/img/ only when asked (``VEEDOR_SCREENSHOTS=docs/img``), so a test run leaves the
working tree as it was."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
from sqlalchemy import select

from conftest import ROOT
from imaging import payload, qr_image, write
from veedor.pipeline.scan import scan_paths
from veedor.simulate.render import ActaRenderer, ActaSpec
from veedor.store import open_store
from veedor.store.accounts import add_user
from veedor.store.review import reviewer_scores
from veedor.store.schema import ActaRecord, Evidence

CHROMIUM = Path("/usr/bin/chromium")
pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(
        not CHROMIUM.exists(),
        reason="needs Debian's chromium at /usr/bin/chromium (apt-get install chromium)",
    ),
]
sync_api = pytest.importorskip("playwright.sync_api", reason="needs the playwright package (pip)")

CENTRE = "040202001"
GENUINE = {
    1: [0, 2, 0, 0, 5, 1, *[0] * 20, 97, 3, *[0] * 10],
    2: [1, 0, 0, 3, *[0] * 22, 120, 0, 4, *[0] * 9],
}
FORGED = {1: [90, 2, 0, 0, 5, 1, *[0] * 20, 7, 3, *[0] * 10], 2: [1, 0, 0, 3, *[0] * 22, 20, 0, 4, *[0] * 9]}
NULOS = {1: 2, 2: 1}
EXTRA = range(3, 7)
"""More mesas in conflict (plain QR sheets), so the queue looks like a night's work."""
DOCS = Path(os.environ["VEEDOR_SCREENSHOTS"]) if os.environ.get("VEEDOR_SCREENSHOTS") else None


def code(mesa: int) -> str:
    return f"{CENTRE}.{mesa:02d}"


@pytest.fixture(scope="module")
def desk_db(tmp_path_factory, definition):
    """Two rendered actas per mesa 1 and 2, the genuine one and one that says other numbers
    (each read whole, so the mesa is in conflict), plus plain QR conflicts; four accounts."""
    root = tmp_path_factory.mktemp("browser")
    folder = root / "in"
    folder.mkdir()
    renderer = ActaRenderer(definition)
    for mesa in GENUINE:
        for kind, votes in (("a", GENUINE[mesa]), ("b", FORGED[mesa])):
            spec = ActaSpec(CENTRE, mesa, tuple(votes), NULOS[mesa], electors=400)
            rendered = renderer.render(spec, np.random.default_rng(mesa * 10 + len(kind)))
            write(folder / f"{mesa}-{kind}.jpg", rendered.gray, ".jpg")
    for mesa in EXTRA:
        write(folder / f"{mesa}-a.png", qr_image(payload(mesa=mesa, votes=[3] + [1] * 37)))
        write(folder / f"{mesa}-b.png", qr_image(payload(mesa=mesa, votes=[4] + [1] * 37)))
    store = open_store(str(root / "veedor.db"))
    scan_paths([folder], store, evidence_root=root / "ev", workers=2)
    with store.session() as session:
        states = {r.mesa: r.status for r in session.scalars(select(ActaRecord))}
        assert states[1] == states[2] == "conflict", states
        for name in ("ana", "beto", "caro"):
            add_user(session, name, "reviewer", "secret-" + name)
        add_user(session, "sup", "supervisor", "secret-sup")
        session.commit()
    store.engine.dispose()
    return root


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(scope="module")
def server(desk_db):
    """``veedor desk --workers 2`` itself, in a subprocess, on a free port of 127.0.0.1: two
    processes serve the pages, so every flow below crosses them (sessions, the one-writer rule,
    the login limit)."""
    port = free_port()
    env = {
        **os.environ,
        "PYTHONPATH": str(ROOT / "src"),
        "VEEDOR_DESK_SECRET": "browser-test-secret-0123456789",
        "VEEDOR_LANG": "es",  # its start-up lines are checked in Spanish, the default
    }
    db, evidence = str(desk_db / "veedor.db"), str(desk_db / "ev")
    # Its log goes to a file: a pipe nobody reads until the end fills (64 KiB) and freezes it.
    log = (desk_db / "desk.log").open("w+")
    command = [
        sys.executable,
        "-m",
        "veedor",
        "desk",
        "--port",
        str(port),
        "--db",
        db,
        "--evidence",
        evidence,
    ]
    process = subprocess.Popen(
        [*command, "--workers", "2"],
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        text=True,
    )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                break
        except OSError:
            assert process.poll() is None, (desk_db / "desk.log").read_text()
            time.sleep(0.2)
    yield url
    process.terminate()
    process.wait(timeout=20)
    log.close()
    said = (desk_db / "desk.log").read_text()
    assert f"{url}/" in said and "solo desde esta computadora" in said and "2 procesos" in said
    assert "Traceback" not in said


@pytest.fixture(scope="module")
def browser():
    with sync_api.sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=str(CHROMIUM), headless=True)
        yield chromium
        chromium.close()


def person(browser, url: str, name: str):
    """A new browser window where ``name`` has logged in."""
    page = browser.new_context(viewport={"width": 1360, "height": 900}, locale="es-VE").new_page()
    page.goto(f"{url}/login")
    page.fill("#name", name)
    page.fill("#password", "secret-" + name)
    page.click("button[type=submit]")
    page.wait_for_url(f"{url}/")
    return page


def type_acta(page, votes: list[int], nulos: int) -> None:
    """As a person would: Tab through the lines, typing only those that are not 0."""
    page.focus("#v0")
    for n in votes:
        if n:
            page.keyboard.type(str(n))
        page.keyboard.press("Tab")
    page.keyboard.type(str(nulos))


def current_mesa(page, url: str) -> str:
    assert page.url.startswith(f"{url}/mesa/"), page.url
    return page.url.removeprefix(f"{url}/mesa/")


def test_reviewers_settle_mesas_in_conflict_in_a_real_browser(server, browser, desk_db, tmp_path):
    url = server
    ana = person(browser, url, "ana")
    ana.click("text=Tomar la próxima acta")
    assert current_mesa(ana, url) == code(1)
    images = ana.locator(".copies img")
    assert images.count() == 2  # the copies, side by side
    ana.wait_for_load_state("load")  # images loaded: served, and allowed by the page's CSP
    assert images.evaluate_all("els => els.every(i => i.complete && i.naturalWidth > 0)")
    assert ana.locator("input.count").evaluate_all("els => els.every(e => e.value === '')")  # blind
    # The copies differ on lines 1 and 27: each is marked, with its crop from both copies
    # beside it (read from the images' tables), and no other line is.
    marked = ana.locator("tr.doubtful td:first-child").all_inner_texts()
    assert [m.split()[0] for m in marked] == ["1", "27"]
    crops = ana.locator("img.line-crop")
    crops.first.scroll_into_view_if_needed()
    ana.locator("img.line-crop").nth(3).scroll_into_view_if_needed()
    deadline = time.monotonic() + 30  # (wait_for_function evaluates a string: the CSP forbids it)
    while not crops.evaluate_all("els => els.every(i => i.complete)") and time.monotonic() < deadline:
        time.sleep(0.1)
    assert crops.count() == 4
    assert crops.evaluate_all("els => els.every(i => i.naturalWidth > 100 && i.naturalHeight > 8)")
    type_acta(ana, GENUINE[1], NULOS[1])
    assert ana.inner_text("#lines-sum") == str(sum(GENUINE[1]))  # the typed total, live
    (DOCS or tmp_path).mkdir(parents=True, exist_ok=True)
    # For the picture: the whole form in view, each copy scrolled (in its frame) to its votes.
    ana.set_viewport_size({"width": 1360, "height": 1640})
    ana.locator("header.top").scroll_into_view_if_needed()
    images.evaluate_all("els => els.forEach(i => { i.parentElement.scrollTop = i.clientHeight * 0.2; })")
    ana.screenshot(path=str((DOCS or tmp_path) / "desk-task.png"))
    ana.click("text=Guardar mi entrada")
    assert current_mesa(ana, url) == code(2)  # on to the next task
    assert "su entrada quedó guardada" in ana.inner_text(".notice")
    type_acta(ana, GENUINE[2], NULOS[2])
    ana.keyboard.press("Enter")  # Enter sends the form, as anywhere
    ana.wait_for_url(f"{url}/mesa/{code(3)}")

    caro = person(browser, url, "caro")  # types mesa 1 wrong, mesa 2 right
    caro.click("text=Tomar la próxima acta")
    assert current_mesa(caro, url) == code(1)
    type_acta(caro, FORGED[1], NULOS[1])
    caro.click("text=Guardar mi entrada")
    assert current_mesa(caro, url) == code(2)
    type_acta(caro, GENUINE[2], NULOS[2])
    caro.click("text=Guardar mi entrada")
    assert f"Mesa {code(2)} resuelta" in caro.inner_text(".notice")

    sup = person(browser, url, "sup")
    assert sup.locator("table.list").first.inner_text().count(CENTRE) == 1 + len(EXTRA)
    sup.screenshot(path=str((DOCS or tmp_path) / "desk-queue.png"), full_page=True)

    beto = person(browser, url, "beto")  # the third entry of mesa 1 agrees with ana
    beto.click("text=Tomar la próxima acta")
    assert current_mesa(beto, url) == code(1)
    type_acta(beto, GENUINE[1], NULOS[1])
    beto.click("text=Guardar mi entrada")
    assert f"Mesa {code(1)} resuelta" in beto.inner_text(".notice")

    store = open_store(str(desk_db / "veedor.db"))
    with store.session() as session:
        for mesa in GENUINE:
            record = session.scalar(select(ActaRecord).where(ActaRecord.mesa == mesa))
            assert (record.status, record.source, record.votes) == ("ok", "people", GENUINE[mesa])
        scores = reviewer_scores(session)
        assert scores["caro"]["points"] > scores["ana"]["points"] == scores["beto"]["points"] == 0
    store.engine.dispose()
    db = str(desk_db / "veedor.db")
    tallied = subprocess.run(
        [sys.executable, "-m", "veedor", "tally", "--level", "mesa", "--format", "json", "--db", db],
        capture_output=True,
        text=True,
        env={**os.environ, "PYTHONPATH": str(ROOT / "src")},
        timeout=120,
        check=True,
    )
    rows = {row["code"]: row for row in json.loads(tallied.stdout)["rows"]}
    for mesa in GENUINE:
        assert (rows[code(mesa)]["valid"], rows[code(mesa)]["nulos"]) == (sum(GENUINE[mesa]), NULOS[mesa])
    sup.reload()
    assert "caro" in sup.inner_text("body")


def test_a_visitor_without_an_account_is_refused_everywhere(server, browser, desk_db):
    url = server
    store = open_store(str(desk_db / "veedor.db"))
    with store.session() as session:
        sha = session.scalars(select(Evidence.sha256)).first()
    store.engine.dispose()
    page = browser.new_context().new_page()
    for path in ("/", f"/mesa/{code(1)}", f"/image/{sha}"):
        page.goto(url + path)
        assert page.url == f"{url}/login" and page.locator("#password").count() == 1
    for path in ("/take", f"/mesa/{code(3)}", "/logout"):
        answer = page.request.post(url + path, form={"v0": "1", "csrf": "guess"})
        assert answer.status in (401, 403), path
    english = browser.new_context(locale="en-US").new_page()
    english.goto(url + "/")
    assert english.url == f"{url}/login" and english.inner_text("h1") == "Log in"


def test_the_login_limit_holds_across_the_desks_processes(server):
    """Five wrong passwords, then the sixth try is refused, whichever process answers: the
    failures are counted in the database, not in one process's memory."""
    import httpx

    with httpx.Client(base_url=server, follow_redirects=False) as visitor:
        statuses = []
        for _ in range(6):
            token = visitor.get("/login").text.split('name="csrf" value="', 1)[1].split('"', 1)[0]
            answer = visitor.post("/login", data={"name": "nadie", "password": "wrong-one", "csrf": token})
            statuses.append(answer.status_code)
    assert statuses == [401] * 5 + [429]
