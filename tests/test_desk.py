"""The review desk's web pages (``veedor desk``), through FastAPI's TestClient: every route
refuses a visitor without an account, forms need their session's token, logins are rate
limited, reviewers see only their own task and entries, and two agreeing blind entries typed
on the page count a mesa in conflict."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from babel.messages.extract import extract_from_dir
from babel.messages.pofile import read_po
from fastapi.routing import APIRoute
from fastapi.testclient import TestClient
from PIL import Image
from sqlalchemy import func, select

import testdb
from imaging import payload, qr_image, write
from veedor.i18n import LANGUAGES, catalog_path, negotiate, one_language
from veedor.pipeline.scan import scan_paths
from veedor.store import open_store
from veedor.store.accounts import add_user
from veedor.store.review import reviewer_scores
from veedor.store.schema import ActaRecord, Evidence, ReviewEntry, ReviewLease, ReviewVerdict
from veedor.web import create_app

TRUE = [3] + [1] * 37
OTHER = [4] + [1] * 37
MESAS = 4
PEOPLE = {"ana": "reviewer", "beto": "reviewer", "caro": "reviewer", "sup": "supervisor"}
SECRET = "test-secret-of-the-desk-0123456789"
WEB = Path(__file__).resolve().parents[1] / "src" / "veedor" / "web"


def code(mesa: int) -> str:
    return f"040202001.{mesa:02d}"


@pytest.fixture(scope="module")
def scanned(tmp_path_factory, definition):
    """Mesas in conflict (a genuine copy and one that says other numbers), scanned once; the
    first copy of mesa 1 is a JPEG whose EXIF names its photographer."""
    root = tmp_path_factory.mktemp("desk")
    folder = root / "in"
    folder.mkdir()
    for mesa in range(1, MESAS + 1):
        write(folder / f"{mesa}-b.png", qr_image(payload(mesa=mesa, votes=OTHER)))
        if mesa == 1:
            exif = Image.Exif()
            exif[0x013B] = "Juan Perez Fotografo"  # Artist
            Image.fromarray(qr_image(payload(mesa=mesa, votes=TRUE))).save(
                folder / "1-a.jpg", "JPEG", quality=95, exif=exif
            )
        else:
            write(folder / f"{mesa}-a.png", qr_image(payload(mesa=mesa, votes=TRUE)))
    store = open_store(testdb.db_url(root))  # PostgreSQL with VEEDOR_TEST_DB_URL
    scan_paths([folder], store, evidence_root=root / "ev", workers=1)
    with store.session() as session:
        for name, role in PEOPLE.items():
            add_user(session, name, role, "secret-" + name)
        session.commit()
        assert session.scalar(select(func.count()).select_from(ActaRecord)) == MESAS
    store.engine.dispose()
    return root


@pytest.fixture
def desk(scanned, tmp_path, definition):
    """A fresh copy of the scanned database, and the desk's app on it."""
    store = open_store(testdb.copy(testdb.db_url(scanned), tmp_path))
    app = create_app(store, definition, scanned / "ev", SECRET)
    yield app, store
    store.engine.dispose()


def client(app) -> TestClient:
    return TestClient(app, base_url="http://testserver", follow_redirects=False)


def csrf_of(html: str) -> str:
    found = re.search(r'name="csrf" value="([^"]+)"', html)
    assert found, html[:500]
    return found.group(1)


def login(app, name: str, password: str | None = None) -> tuple[TestClient, str]:
    browser = client(app)
    token = csrf_of(browser.get("/login").text)
    done = browser.post(
        "/login", data={"name": name, "password": password or "secret-" + name, "csrf": token}
    )
    assert done.status_code == 303 and done.headers["location"] == "/", done.text
    return browser, csrf_of(browser.get("/").text)


def take(browser: TestClient, token: str) -> str:
    done = browser.post("/take", data={"csrf": token})
    assert done.status_code == 303 and done.headers["location"].startswith("/mesa/"), done.headers
    return done.headers["location"].removeprefix("/mesa/")


def form(token: str, votes: list[int], nulos: int = 0) -> dict[str, str]:
    fields = {f"v{i}": str(n) if n else "" for i, n in enumerate(votes)}  # zeros left empty
    return {**fields, "nulos": str(nulos) if nulos else "", "blank": "", "csrf": token}


def count(store, model) -> int:
    with store.session() as session:
        return session.scalar(select(func.count()).select_from(model)) or 0


def images_of(store, mesa_code: str) -> list[str]:
    centre, number = mesa_code.split(".")
    with store.session() as session:
        pk = session.scalar(
            select(ActaRecord.id).where(ActaRecord.centre == centre, ActaRecord.mesa == int(number))
        )
        return sorted(session.scalars(select(Evidence.sha256).where(Evidence.acta_pk == pk)))


def api_routes(routes) -> list[APIRoute]:
    """Every route of the app, through included routers (however FastAPI wraps them)."""
    found: list[APIRoute] = []
    for route in routes:
        inner = getattr(route, "original_router", None)
        if inner is not None:
            found += api_routes(inner.routes)
        elif isinstance(route, APIRoute):
            found.append(route)
    return found


def test_every_route_refuses_a_visitor_without_an_account(desk):
    app, store = desk
    sha = images_of(store, code(1))[0]
    anonymous = client(app)
    tried = 0
    for route in api_routes(app.routes):
        if route.path == "/login":
            continue
        path = route.path.replace("{code}", code(1)).replace("{sha}", sha).replace("{line}", "1")
        for method in route.methods:
            answer = anonymous.request(method, path, data={"csrf": "x", "v0": "3"})
            tried += 1
            if method == "GET":
                assert answer.status_code == 303 and answer.headers["location"] == "/login", path
            else:
                assert answer.status_code in (401, 403), (method, path)
            assert sha not in answer.text and "image/jpeg" not in answer.headers.get("content-type", "")
    assert tried >= 6
    assert count(store, ReviewEntry) == count(store, ReviewLease) == 0
    # A forged or altered session cookie is no session.
    forged = client(app)
    forged.cookies.set("veedor_desk", "eyJ1IjoxfQ.forged.signature")
    assert forged.get("/").headers["location"] == "/login"


def test_a_wrong_password_is_refused_and_repeated_failures_are_rate_limited(desk):
    app, _ = desk
    browser = client(app)
    token = csrf_of(browser.get("/login").text)
    for _ in range(5):
        wrong = browser.post("/login", data={"name": "ana", "password": "not-hers", "csrf": token})
        assert wrong.status_code == 401 and "Seudónimo o contraseña incorrectos" in wrong.text
        assert "veedor_desk" not in wrong.headers.get("set-cookie", "") or browser.get("/").status_code == 303
        token = csrf_of(wrong.text)
    # The sixth try is refused before the password is even checked, the right one too.
    limited = browser.post("/login", data={"name": "ana", "password": "secret-ana", "csrf": token})
    assert limited.status_code == 429 and "Espere 5 minutos" in limited.text
    assert browser.get("/").status_code == 303
    # Another pseudonym from the same address is not locked out.
    token = csrf_of(limited.text)
    other = browser.post("/login", data={"name": "beto", "password": "secret-beto", "csrf": token})
    assert other.status_code == 303 and browser.get("/").status_code == 200


def test_a_form_without_its_sessions_token_is_refused_and_nothing_stored(desk):
    app, store = desk
    anonymous = client(app)
    assert anonymous.post("/login", data={"name": "ana", "password": "secret-ana"}).status_code == 403
    ana, token = login(app, "ana")
    _, beto_token = login(app, "beto")
    assert ana.post("/take", data={}).status_code == 403
    assert ana.post("/take", data={"csrf": beto_token}).status_code == 403  # another session's token
    assert count(store, ReviewLease) == 0
    mesa = take(ana, token)
    for bad in ({}, {"csrf": "wrong"}, {"csrf": beto_token}):
        refused = ana.post(f"/mesa/{mesa}", data={**form(token, TRUE), "csrf": ""} | bad)
        assert refused.status_code == 403 and "No se guardó nada" in refused.text
    assert count(store, ReviewEntry) == 0
    assert ana.post("/logout", data={"csrf": "wrong"}).status_code == 403
    assert ana.get("/").status_code == 200
    assert ana.post("/logout", data={"csrf": token}).headers["location"] == "/login"
    assert ana.get("/").status_code == 303


def test_two_reviewers_take_different_tasks_and_see_only_their_own(desk):
    app, store = desk
    ana, ana_token = login(app, "ana")
    beto, beto_token = login(app, "beto")
    mine, theirs = take(ana, ana_token), take(beto, beto_token)
    assert mine != theirs
    assert take(ana, ana_token) == mine  # asking again gives the task in hand, not a second one
    page = ana.get(f"/mesa/{mine}")
    assert page.status_code == 200 and mine in page.text
    # Blind: the form is empty, and neither copy's numbers nor anyone's entry is on the page.
    assert not re.search(r'class="count"[^>]*value="\d', page.text)
    assert len(re.findall(r'<img src="/image/[0-9a-f]{64}"', page.text)) == 2  # the copies, side by side
    assert len(re.findall(r'name="v\d+"', page.text)) == 38
    assert ana.get(f"/mesa/{theirs}").status_code == 403
    for sha in images_of(store, theirs):
        assert ana.get(f"/image/{sha}").status_code == 403
    assert ana.get("/image/" + "0" * 64).status_code == 403
    assert ana.get("/mesa/999999999.01").status_code == 403
    shown = ana.get(f"/image/{images_of(store, mine)[0]}")
    assert shown.status_code == 200 and shown.headers["content-type"] == "image/jpeg"
    # beto's entry is nowhere on ana's pages.
    beto.post(f"/mesa/{theirs}", data=form(beto_token, TRUE))
    assert theirs not in ana.get("/").text and "beto" not in ana.get("/").text


def test_images_are_served_without_exif_or_file_name(desk, scanned):
    app, store = desk
    sup, _ = login(app, "sup")
    for sha in images_of(store, code(1)):
        original = (scanned / "ev" / sha[:2] / sha[2:4] / sha).read_bytes()
        served = sup.get(f"/image/{sha}")
        assert served.status_code == 200 and served.content[:3] == b"\xff\xd8\xff"
        assert b"Exif" not in served.content and b"Juan Perez" not in served.content
        assert "1-a" not in served.headers["content-disposition"]
        if original.startswith(b"\xff\xd8"):
            assert b"Juan Perez" in original  # it was there, and stays in the evidence


def test_two_reviewers_who_type_the_same_numbers_count_a_mesa_in_conflict(desk):
    app, store = desk
    ana, ana_token = login(app, "ana")
    beto, beto_token = login(app, "beto")
    mesa = take(ana, ana_token)
    first = ana.post(f"/mesa/{mesa}", data=form(ana_token, TRUE))
    assert first.status_code == 303
    following = ana.get(first.headers["location"])
    assert "su entrada quedó guardada" in following.text
    assert take(beto, beto_token) == mesa  # the next free task for beto: ana's is no longer leased
    second = beto.post(f"/mesa/{mesa}", data=form(beto_token, TRUE))
    assert second.status_code == 303
    assert f"Mesa {mesa} resuelta" in beto.get(second.headers["location"]).text
    centre, number = mesa.split(".")
    with store.session() as session:
        record = session.scalar(
            select(ActaRecord).where(ActaRecord.centre == centre, ActaRecord.mesa == int(number))
        )
        assert record.status == "ok" and record.source == "people" and record.votes == TRUE
        channels = set(session.scalars(select(ReviewEntry.channel)))
        assert channels == {"web"}
    assert "contada" in ana.get("/").text
    sup, _ = login(app, "sup")
    queue = sup.get("/").text
    assert mesa not in queue  # settled: no longer a task
    assert "Puntaje de los revisores" in queue and "ana" in queue and "beto" in queue


def test_the_entry_form_checks_what_was_typed_and_stores_nothing_on_a_mistake(desk):
    app, store = desk
    ana, token = login(app, "ana")
    mesa = take(ana, token)
    typo = ana.post(f"/mesa/{mesa}", data={**form(token, TRUE), "v5": "1o"})
    assert typo.status_code == 422 and "«1o» no es un número entero" in typo.text
    assert 'value="1o"' in typo.text  # what she typed is shown back, to correct it
    short = ana.post(f"/mesa/{mesa}", data={**form(token, TRUE), "check": "41"})
    assert short.status_code == 422 and "Las líneas suman 40, pero" in short.text
    assert count(store, ReviewEntry) == 0
    # Empty fields are zeros; the typed total checks out.
    done = ana.post(f"/mesa/{mesa}", data={**form(token, [7] + [0] * 37), "check": "7"})
    assert done.status_code == 303
    with store.session() as session:
        entry = session.scalar(select(ReviewEntry))
        assert entry.votes == [7] + [0] * 37 and entry.nulos == 0 and entry.blank == 0
    # The library refuses a second entry by the same person: shown, nothing stored.
    again = ana.post(f"/mesa/{mesa}", data=form(token, TRUE))
    assert again.status_code == 403 and count(store, ReviewEntry) == 1


def test_supervisors_see_the_whole_queue_who_typed_and_the_scores(desk):
    app, store = desk
    for name in ("ana", "beto"):
        browser, token = login(app, name)
        browser.post(f"/mesa/{take(browser, token)}", data=form(token, TRUE))
    caro, caro_token = login(app, "caro")
    take(caro, caro_token)
    sup, sup_token = login(app, "sup")
    queue = sup.get("/").text
    assert all(code(m) in queue for m in range(2, MESAS + 1))
    assert "caro" in queue  # who has a task in hand
    with store.session() as session:
        assert "ana" in reviewer_scores(session)
    # A supervisor opens any mesa, sees its history, and settles it alone.
    page = sup.get(f"/mesa/{code(1)}")  # settled by ana and beto
    assert page.status_code == 200 and "solo supervisores" in page.text
    assert "ana" in page.text and "beto" in page.text
    mesa = code(MESAS)  # in caro's hands: a supervisor's word settles it all the same
    assert sup.post(f"/mesa/{mesa}", data=form(sup_token, TRUE)).headers["location"] == "/"
    with store.session() as session:
        record = session.scalar(select(ActaRecord).where(ActaRecord.mesa == MESAS))
        assert record.status == "ok" and record.source == "people"


def test_pages_are_in_one_language_spanish_unless_the_browser_asks_for_english(desk):
    app, _ = desk
    spanish = client(app).get("/login")
    assert "Entrar" in spanish.text and "Log in" not in spanish.text and '<html lang="es">' in spanish.text
    english = client(app).get("/login", headers={"Accept-Language": "en-GB,en;q=0.9,es;q=0.5"})
    assert "Log in" in english.text and "Entrar" not in english.text and '<html lang="en">' in english.text
    browser = client(app)
    assert "Log in" in browser.get("/login?lang=en").text
    assert "Log in" in browser.get("/login").text  # remembered
    ana, token = login(app, "ana")
    mesa = take(ana, token)
    page = ana.get(f"/mesa/{mesa}", headers={"Accept-Language": "en"}).text
    assert "Save my entry" in page and "Guardar" not in page
    assert negotiate("fr, es;q=0.8, en;q=0.9") == "en" and negotiate(None) == "es"
    assert negotiate("en", "es") == "es"
    assert one_language("sí / yes", "en") == "yes" and one_language("sí / yes", "es") == "sí"


def test_security_headers_and_cookie_flags(desk):
    app, _ = desk
    browser = client(app)
    page = browser.get("/login")
    assert page.headers["x-frame-options"] == "DENY"
    assert "default-src 'none'" in page.headers["content-security-policy"]
    assert "frame-ancestors 'none'" in page.headers["content-security-policy"]
    assert page.headers["cache-control"] == "no-store"
    cookie = page.headers["set-cookie"].lower()
    assert "httponly" in cookie and "samesite=strict" in cookie
    assert "<script>" not in page.text and " style=" not in page.text  # nothing inline: the CSP allows none
    assert browser.get("/static/desk.css").status_code == 200


def test_every_message_on_the_pages_has_a_spanish_translation():
    method_map = [("**/templates/**.html", "jinja2.ext:babel_extract"), ("**.py", "python")]
    options = {"**/templates/**.html": {"extensions": "jinja2.ext.i18n", "trim_blocks": "True"}}
    found = {
        message[2] if isinstance(message[2], str) else message[2][0]
        for message in extract_from_dir(str(WEB), method_map, options)
    }
    assert len(found) > 50
    with catalog_path("es").open("rb") as handle:
        spanish = read_po(handle)
    missing = [m for m in sorted(found) if not (spanish.get(m) and spanish.get(m).string)]
    assert not missing, f"no Spanish translation in {catalog_path('es')}: {missing}"
    for message in spanish:
        if message.id:
            ids = message.id if isinstance(message.id, tuple) else (message.id,)
            strings = message.string if isinstance(message.string, tuple) else (message.string,)
            wanted = set(re.findall(r"%\(\w+\)s", ids[-1]))
            assert all(set(re.findall(r"%\(\w+\)s", s)) == wanted for s in strings), message.id
    for lang in LANGUAGES:
        assert catalog_path(lang).is_file()


def test_a_disabled_account_or_a_reset_password_ends_its_sessions(desk):
    from veedor.store.accounts import disable_user, reset_password

    app, store = desk
    ana, _ = login(app, "ana")
    beto, _ = login(app, "beto")
    with store.session() as session:
        disable_user(session, "ana")
        reset_password(session, "beto", "a-new-secret-for-beto")
        session.commit()
    assert ana.get("/").headers["location"] == "/login"
    assert beto.get("/").headers["location"] == "/login"
    login(app, "beto", "a-new-secret-for-beto")
    browser = client(app)
    token = csrf_of(browser.get("/login").text)
    refused = browser.post("/login", data={"name": "ana", "password": "secret-ana", "csrf": token})
    assert refused.status_code == 401 and "desactivada" in refused.text


def copies_by_numbers(store, mesa_code: str) -> dict[str, str]:
    """{"genuine": sha, "other": sha} of a mesa of the fixture."""
    shas = images_of(store, mesa_code)
    with store.session() as session:
        votes = {
            e.sha256: e.votes for e in session.scalars(select(Evidence).where(Evidence.sha256.in_(shas)))
        }
    return {
        "genuine": next(s for s in shas if votes[s] == TRUE),
        "other": next(s for s in shas if votes[s] != TRUE),
    }


def test_two_reviewers_judge_the_copies_of_a_conflict_and_a_third_types_the_numbers(desk):
    app, store = desk
    ana, ana_token = login(app, "ana")
    mesa = take(ana, ana_token)
    page = ana.get(f"/mesa/{mesa}").text
    assert "¿Cuál copia es el acta de esta mesa?" in page and page.count('value="forged"') == 2
    copies = copies_by_numbers(store, mesa)
    said = {"csrf": ana_token, f"copy-{copies['genuine']}": "genuine", f"copy-{copies['other']}": "forged"}
    wrong = ana.post(f"/mesa/{mesa}/copies", data={**said, f"copy-{copies['other']}": "other"})
    assert wrong.status_code == 409 and "No se guardó nada." in wrong.text  # another mesa, but which?
    assert count(store, ReviewVerdict) == 0
    first = ana.post(f"/mesa/{mesa}/copies", data=said)
    assert first.status_code == 303 and first.headers["location"] != f"/mesa/{mesa}"  # on to the next
    assert "lo que dijo de sus copias está guardado" in ana.get(first.headers["location"]).text
    beto, beto_token = login(app, "beto")
    assert take(beto, beto_token) == mesa
    said["csrf"] = beto_token
    second = beto.post(f"/mesa/{mesa}/copies", data=said)
    assert "hay acuerdo sobre sus copias" in beto.get(second.headers["location"]).text
    with store.session() as session:
        record = session.scalar(select(ActaRecord).where(ActaRecord.mesa == int(mesa[-2:])))
        assert record.status == "unconfirmed"  # the genuine copy is a QR alone: one entry must agree
    caro, caro_token = login(app, "caro")
    assert take(caro, caro_token) == mesa
    assert "¿Cuál copia" not in caro.get(f"/mesa/{mesa}").text  # no longer a conflict
    caro.post(f"/mesa/{mesa}", data=form(caro_token, TRUE))
    with store.session() as session:
        record = session.scalar(select(ActaRecord).where(ActaRecord.mesa == int(mesa[-2:])))
        assert (record.status, record.source, record.votes) == ("ok", "people", TRUE)
    sup, _ = login(app, "sup")
    history = sup.get(f"/mesa/{mesa}").text
    assert history.count("veredicto sobre una copia") == 4 and "copia resuelta" in history


def test_a_reviewer_may_not_judge_a_mesa_that_is_not_theirs(desk):
    app, store = desk
    ana, ana_token = login(app, "ana")
    beto, beto_token = login(app, "beto")
    mesa = take(ana, ana_token)
    copies = copies_by_numbers(store, mesa)
    refused = beto.post(
        f"/mesa/{mesa}/copies", data={"csrf": beto_token, f"copy-{copies['other']}": "forged"}
    )
    assert refused.status_code == 403 and count(store, ReviewVerdict) == 0


@pytest.fixture
def sheet_desk(tmp_path, definition):
    """Two sheets whose mesa the machine could not tell (their codes are web addresses)."""
    folder = tmp_path / "in"
    folder.mkdir()
    for i in (1, 2):
        write(folder / f"{i}.png", qr_image(f"https://example.org/{i}"))
    store = open_store(testdb.db_url(tmp_path))
    scan_paths([folder], store, evidence_root=tmp_path / "ev", workers=1)
    with store.session() as session:
        for name, role in PEOPLE.items():
            add_user(session, name, role, "secret-" + name)
        session.commit()
    yield create_app(store, definition, tmp_path / "ev", SECRET), store
    store.engine.dispose()


def test_two_reviewers_identify_a_sheet_on_the_page_and_its_mesa_enters_the_queue(sheet_desk):
    app, store = sheet_desk
    ana, ana_token = login(app, "ana")
    taken = ana.post("/take", data={"csrf": ana_token})
    assert taken.headers["location"].startswith("/sheet/")
    sheet = taken.headers["location"]
    sha = sheet.removeprefix("/sheet/")
    page = ana.get(sheet).text
    assert "¿De qué mesa es esta hoja?" in page and f"/image/{sha}" in page
    assert ana.get(f"/image/{sha}").headers["content-type"] == "image/jpeg"
    beto, beto_token = login(app, "beto")
    assert beto.get(sheet).status_code == 403  # leased to ana
    bad = ana.post(sheet, data={"csrf": ana_token, "centre": "12", "mesa": "3"})
    assert bad.status_code == 409 and "No se guardó nada." in bad.text
    done = ana.post(sheet, data={"csrf": ana_token, "centre": "040202001", "mesa": "3"})
    assert done.status_code == 303
    assert beto.post("/take", data={"csrf": beto_token}).headers["location"] == sheet
    agreed = beto.post(sheet, data={"csrf": beto_token, "centre": "040202001", "mesa": "3"})
    # The sheet is now a copy of mesa 3, whose numbers are typed blind: beto's next task.
    assert agreed.headers["location"] == f"/mesa/{code(3)}"
    assert "La hoja pertenece ahora a la mesa 040202001.03" in beto.get(agreed.headers["location"]).text
    with store.session() as session:
        record = session.scalar(select(ActaRecord).where(ActaRecord.mesa == 3))
        assert record is not None and record.status == "review"
    assert beto.get(sheet).status_code == 403  # identified: no longer a sheet to look at


def test_a_supervisor_pins_a_unit_first_on_the_page_and_a_reviewer_may_not(desk):
    app, _store = desk
    sup, sup_token = login(app, "sup")
    done = sup.post("/pin", data={"csrf": sup_token, "code": "0402", "pinned": "1"})
    assert done.status_code == 303
    queue = sup.get("/").text
    assert '<span class="code">0402</span>' in queue
    refused = sup.post("/pin", data={"csrf": sup_token, "code": "abc", "pinned": "1"})
    assert "No se guardó nada." in sup.get(refused.headers["location"]).text
    ana, ana_token = login(app, "ana")
    assert ana.post("/pin", data={"csrf": ana_token, "code": "04", "pinned": "1"}).status_code == 403
    sup.post("/pin", data={"csrf": sup_token, "code": "0402", "pinned": "0"})
    assert '<span class="code">0402</span>' not in sup.get("/").text


def test_the_lines_to_look_at_closely_are_marked_without_saying_what_was_read(desk):
    """The fixture's copies differ only on line 1 (3 votes or 4): that line is marked, no other,
    and neither number appears on the page."""
    app, _store = desk
    ana, ana_token = login(app, "ana")
    page = ana.get(f"/mesa/{take(ana, ana_token)}").text
    rows = re.findall(r"<tr( class=\"doubtful\")?>\s*<td class=\"num\">(\d+)", page)
    assert [number for marked, number in rows if marked] == ["1"]
    assert "1 línea que mirar con atención" in page
    assert 'value="3"' not in page and 'value="4"' not in page


def test_a_line_is_doubtful_when_no_copy_read_it_or_the_copies_differ():
    from veedor.web.form import doubtful_lines

    read_whole = ([5, 0, 2], None)
    print_only = ([5, None, None], [5, None, 2])  # line 3 legible in print, line 2 nowhere
    assert doubtful_lines([read_whole]) == set()
    assert doubtful_lines([print_only]) == {1}
    assert doubtful_lines([read_whole, ([5, 0, 7], None)]) == {2}


def test_a_lines_crop_is_served_only_to_whoever_may_see_its_image(desk):
    """The fixture's sheets are QR codes with no printed table: no crop can be placed, and the
    page gets a blank pixel, never a wrong line. Another reviewer's mesa: refused."""
    app, store = desk
    ana, ana_token = login(app, "ana")
    mesa = take(ana, ana_token)
    sha = images_of(store, mesa)[0]
    crop = ana.get(f"/crop/{sha}/1")
    assert crop.status_code == 200 and crop.headers["content-type"] == "image/gif" and len(crop.content) < 100
    assert ana.get(f"/crop/{sha}/999").headers["content-type"] == "image/gif"
    assert ana.get(f"/crop/{sha}/x").status_code == 422
    beto, _ = login(app, "beto")
    assert beto.get(f"/crop/{sha}/1").status_code == 403
