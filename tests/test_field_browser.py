"""The witness's app as a phone uses it, in a real headless Chromium (Debian's ``chromium``,
driven by Playwright) with a phone's viewport, against ``veedor field`` itself in a subprocess:
the code typed in; a real acta photographed (a file input) and its QR read on the phone; the
network switched off, the app reloaded from its service worker, three photos and an incident
queued; the network back, each sent once and read as its content deserves; an upload whose
answer was lost sent again and stored once; no EXIF in any public copy, no code or pseudonym in
any public output; "clear this phone" leaves nothing. Screenshots go to a temporary folder, or
replace docs/img/field-*.png with ``VEEDOR_SCREENSHOTS=docs/img``."""

from __future__ import annotations

import io
import json
import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
from PIL import Image
from sqlalchemy import select

from conftest import ACTAS, ROOT
from veedor.store import open_store
from veedor.store.field import issue_invites
from veedor.store.schema import ActaRecord, FieldIncident, FieldInvite, FieldUpload, LogEntry

CHROMIUM = Path("/usr/bin/chromium")
pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(
        not CHROMIUM.exists(),
        reason="needs Debian's chromium at /usr/bin/chromium (apt-get install chromium)",
    ),
]
sync_api = pytest.importorskip("playwright.sync_api", reason="needs the playwright package (pip)")

SOMMARIVA = ACTAS / "andres-sommariva-vzla-elections-2024"
FIRST = SOMMARIVA / "017911_018022_0093Acta0093.jpg"  # mesa 040202001.01
WITH_EXIF = SOMMARIVA / "021274_667795_2024-07-29-0006.jpg"  # mesa 010118029.01, EXIF, 9.4 Mpx
WHOLE = ACTAS / "nicorodriguezx-Venezuela2024" / "637933_329296_0476Acta0120.jpg"  # 010111043.01
SECOND_TRY = SOMMARIVA / "784821_007643_0134Acta0133.jpg"  # 240111020.01
DOCS = Path(os.environ["VEEDOR_SCREENSHOTS"]) if os.environ.get("VEEDOR_SCREENSHOTS") else None
PHONE = {
    "viewport": {"width": 412, "height": 915},
    "device_scale_factor": 2.625,
    "is_mobile": True,
    "has_touch": True,
    "locale": "es-VE",
    "user_agent": "Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/126.0 Mobile Safari/537.36",
}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(scope="module")
def served(tmp_path_factory):
    """``veedor field`` on a free port of 127.0.0.1 (a secure context, as HTTPS is on a LAN),
    with its reader; one invite code for the witness's centres."""
    root = tmp_path_factory.mktemp("field")
    store = open_store(str(root / "veedor.db"))
    with store.session() as session:
        code = issue_invites(session, ["040202001", "010118029", "010111043", "240111020"], 1)[0].code
    store.engine.dispose()
    port = free_port()
    log = (root / "field.log").open("w+")
    env = {**os.environ, "PYTHONPATH": str(ROOT / "src")}
    command = [sys.executable, "-m", "veedor", "field", "--port", str(port), "--db", str(root / "veedor.db")]
    process = subprocess.Popen(
        [*command, "--evidence", str(root / "ev"), "--readers", "1"],
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                break
        except OSError:
            assert process.poll() is None, (root / "field.log").read_text()
            time.sleep(0.2)
    yield f"http://127.0.0.1:{port}", root, code
    process.terminate()
    process.wait(timeout=90)
    log.close()
    said = (root / "field.log").read_text()
    assert "Traceback" not in said and f"127.0.0.1:{port}/" in said


def uploads(root: Path) -> list[FieldUpload]:
    store = open_store(str(root / "veedor.db"), migrate=False)
    with store.session() as session:
        rows = list(session.scalars(select(FieldUpload).order_by(FieldUpload.id)))
    store.engine.dispose()
    return rows


def wait_until(check, seconds: float, what: str, page=None):
    """Until ``check()`` holds; with ``page``, Playwright's events are handled meanwhile (its
    sync API runs a route's handler only while it is called)."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        got = check()
        if got:
            return got
        if page is not None:
            page.wait_for_timeout(300)
        else:
            time.sleep(0.3)
    raise AssertionError(f"timed out waiting for {what}")


def wait_text(page, selector: str, wanted: str, seconds: float = 30) -> None:
    """Until ``selector``'s text holds ``wanted`` (wait_for_function evaluates a string, which
    the app's CSP rightly forbids)."""
    wait_until(lambda: wanted in page.inner_text(selector), seconds, f"{wanted!r} in {selector}", page)


def bottom_with_qr(path: Path, out: Path) -> Path:
    """What a witness gets when only the bottom of the receipt can be photographed: the QR."""
    with Image.open(path) as image:
        gray = image.convert("L")
        gray.crop((0, gray.height - int(gray.width * 1.3), gray.width, gray.height)).save(out, quality=90)
    return out


def photograph(page, path: Path) -> None:
    page.set_input_files("#photo", str(path))
    page.wait_for_selector("#review:not([hidden])", timeout=60_000)


def test_a_witness_captures_offline_and_everything_arrives_once(served, tmp_path):
    url, root, code = served
    shots = DOCS or tmp_path
    shots.mkdir(parents=True, exist_ok=True)
    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), headless=True)
        context = browser.new_context(**PHONE)
        page = context.new_page()
        page.on("dialog", lambda dialog: dialog.accept())
        page.goto(url + "/")
        # The script shows the enrolment card and hides the plain form once it has started.
        page.wait_for_selector("#enrol:not([hidden])", timeout=30_000)
        page.wait_for_selector("#plain", state="hidden", timeout=30_000)
        assert page.evaluate("navigator.serviceWorker.ready.then(() => true)")
        page.fill("#code", code.lower().replace("-", " "))  # as typed on a phone
        page.click("text=Usar este código")
        page.wait_for_selector("#main:not([hidden])")
        wait_text(page, "#who", "T-")
        assert "Usted es T-" in page.inner_text("#who")

        # Online: one real acta, its QR read on the phone, its totals shown, then sent.
        photograph(page, FIRST)
        assert page.inner_text("#qr-line") == "QR leído en este teléfono: mesa 040202001.01."
        totals = dict(
            (row.split("\t")[0], row.split("\t")[-1]) for row in page.inner_text("#totals tbody").splitlines()
        )
        assert totals["Votos válidos"] == "482" and totals["Votos nulos"] == "1"
        will = page.inner_text("#will-send")
        assert "sin los datos de la cámara" in will and "nunca su nombre" in will and "040202001.01" in will
        page.screenshot(path=str(shots / "field-capture.png"), full_page=True)
        page.click("#queue-it")
        wait_until(lambda: len(uploads(root)) == 1, 30, "the first photo", page)
        wait_text(page, "#queue-line", "0 por enviar")

        # Offline: the app opens from its service worker; three photos and a report wait.
        context.set_offline(True)
        page.reload()
        page.wait_for_selector("#main:not([hidden])")
        assert "Sin conexión" in page.inner_text("#net")
        # A PNG is drawn again and encoded anew on the phone (the canvas path), a JPEG only
        # loses its metadata: both ways are taken.
        whole_png = tmp_path / "whole.png"
        Image.open(WHOLE).save(whole_png)
        for path in (WITH_EXIF, whole_png, bottom_with_qr(SECOND_TRY, tmp_path / "bottom.jpg")):
            photograph(page, path)
            page.click("#queue-it")
            page.wait_for_selector("#review", state="hidden")
        page.click("#incident-box summary")
        page.fill("#inc-centre", "040202001")
        page.select_option("#inc-kind", "witness_denied")
        page.fill("#inc-text", "No dejaron pasar a la testigo hasta las 7 pm")
        page.screenshot(path=str(shots / "field-incident.png"), full_page=True)
        page.click("text=Enviar el reporte")
        wait_text(page, "#queue-line", "4 por enviar")
        page.screenshot(path=str(shots / "field-offline.png"), full_page=True)
        time.sleep(2)
        assert len(uploads(root)) == 1  # nothing left the phone

        # Back online: each goes out once.
        context.set_offline(False)
        page.evaluate("window.dispatchEvent(new Event('online'))")
        wait_text(page, "#queue-line", "0 por enviar", 60)
        rows = uploads(root)
        assert len(rows) == 4 and len({r.sha256 for r in rows}) == 4

        # "Clear this phone": nothing of the witness stays.
        page.click("text=Borrar este teléfono")
        page.click("#wipe")
        page.wait_for_selector("#enrol:not([hidden])")
        assert page.evaluate("indexedDB.databases().then(d => d.map(x => x.name))") == []
        assert page.evaluate("caches.keys()") == []
        assert page.url == url + "/"  # nothing ever in the address
        browser.close()

    # Read in the pipeline as their content deserves.
    rows = wait_until(lambda: (r := uploads(root)) and all(u.read_at for u in r) and r, 600, "the readings")
    by_centre = {(u.centre, u.status) for u in rows}
    assert by_centre == {
        ("040202001", "ok"),
        ("010118029", "ok"),
        ("010111043", "ok"),
        ("240111020", "review"),  # the bottom alone: a QR with no print to confirm it
    }, by_centre
    store = open_store(str(root / "veedor.db"), migrate=False)
    with store.session() as session:
        states = {(r.centre, r.mesa): r.status for r in session.scalars(select(ActaRecord))}
        assert states[("040202001", 1)] == "ok" and states[("240111020", 1)] == "unconfirmed"
        incidents = session.scalars(select(FieldIncident)).all()
        assert [(i.centre, i.kind) for i in incidents] == [("040202001", "witness_denied")]
        pseudonym = session.scalar(select(FieldInvite.pseudonym))
        log = b"".join(session.scalars(select(LogEntry.entry))).decode()
    # The phone sent the photo with EXIF cleaned: the evidence itself holds none.
    exif_sha = next(u.sha256 for u in rows if u.centre == "010118029")
    with Image.open(root / "ev" / exif_sha[:2] / exif_sha[2:4] / exif_sha) as sent:
        assert not sent.getexif()
    from fastapi.testclient import TestClient

    from veedor.definitions import load_definition
    from veedor.web.site import create_site

    site = TestClient(create_site(store, load_definition("ve-2024-presidential"), root / "ev"))
    public = [log]
    for row in rows:
        answer = site.get(f"/image/{row.sha256}")
        if answer.status_code == 200:
            assert not Image.open(io.BytesIO(answer.content)).getexif()
    for centre, mesa in states:
        public.append(site.get(f"/api/v1/mesas/{centre}/{mesa}").text)
        public.append(site.get(f"/u/{centre}").text)
    public.append(json.dumps(site.get("/api/v1/national").json()))
    for text in public:
        assert code not in text and code.replace("-", "") not in text and pseudonym not in text
    store.engine.dispose()


def test_an_upload_whose_answer_was_lost_is_stored_once(served):
    """The server stores the photo, the connection drops before the phone hears back; the phone
    sends it again and the server answers as for the first: one record. (Playwright sees a
    page's requests only without a service worker, so this phone has none.)"""
    url, root, code = served
    before = len(uploads(root))
    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), headless=True)
        page = browser.new_context(**PHONE, service_workers="block").new_page()
        page.goto(url + "/")
        page.fill("#code", code)
        page.click("text=Usar este código")
        page.wait_for_selector("#main:not([hidden])")
        dropped = []

        def drop_once(route):
            if dropped:
                route.continue_()
                return
            route.fetch()  # reaches the server ...
            dropped.append(True)
            route.abort("connectionreset")  # ... and the answer is lost

        page.route("**/api/field/v1/uploads", drop_once)
        photograph(page, SECOND_TRY)
        page.click("#queue-it")
        wait_until(
            lambda: dropped and len(uploads(root)) == before + 1, 30, "the upload to reach the server", page
        )
        wait_text(page, "#queue-line", "1 por enviar")  # the phone does not know it arrived
        page.evaluate("window.dispatchEvent(new Event('online'))")  # the app tries again
        wait_text(page, "#queue-line", "0 por enviar", 60)
        browser.close()
    rows = uploads(root)
    assert len(rows) == before + 1  # sent twice, stored once
    wait_until(lambda: all(u.read_at for u in uploads(root)), 300, "the reading")
    assert {(u.centre, u.status) for u in uploads(root)[before:]} == {("240111020", "ok")}
