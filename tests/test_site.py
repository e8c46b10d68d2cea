"""The public site (``veedor serve``): the pages and their /api/v1 twins say the same numbers as
the database, every unit drills down to its mesas, bad ids answer 404 or 422 (never 500),
nothing can be written, none of the desk's routes exist, and images carry no metadata."""

from __future__ import annotations

import io
import json
from pathlib import Path

import numpy as np
import pytest
from fastapi.testclient import TestClient
from PIL import Image
from sqlalchemy import select

import testdb
from imaging import payload, qr_image, write
from v1db import CENTRES, UNITS
from veedor.ingest.registry import import_registry
from veedor.pipeline.scan import scan_paths
from veedor.simulate.render import ActaRenderer, ActaSpec
from veedor.store import open_store
from veedor.store.schema import ActaRecord, Evidence
from veedor.tally import tally
from veedor.web.site import create_site

CENTRE = "040202001"
COUNTED = {
    1: [0, 2, 0, 0, 5, 1, *[0] * 20, 97, 3, *[0] * 10],
    2: [1, 0, 0, 3, *[0] * 22, 120, 0, 4, *[0] * 9],
}


@pytest.fixture(scope="module")
def site(tmp_path_factory, definition):
    """Two rendered actas read whole (counted), a mesa whose two QR copies disagree (not
    counted), the registry's centres and units; the first acta is a JPEG with EXIF."""
    root = tmp_path_factory.mktemp("site")
    folder = root / "in"
    folder.mkdir()
    renderer = ActaRenderer(definition)
    for mesa, votes in COUNTED.items():
        rendered = renderer.render(
            ActaSpec(CENTRE, mesa, tuple(votes), 2, electors=400), np.random.default_rng(mesa)
        )
        if mesa == 1:
            exif = Image.Exif()
            exif[0x013B] = "Juan Perez Fotografo"  # Artist
            exif[0x0110] = "Telefono de Juan"  # Model
            Image.fromarray(rendered.gray).save(folder / "1.jpg", "JPEG", quality=92, exif=exif)
        else:
            write(folder / f"{mesa}.jpg", rendered.gray, ".jpg")
    write(folder / "3-a.png", qr_image(payload(mesa=3, votes=[3] + [1] * 37)))
    write(folder / "3-b.png", qr_image(payload(mesa=3, votes=[4] + [1] * 37)))
    # Every state, municipality and parish, and the centres of one state (Aragua): the whole
    # country's 12,444 centres would only make the static site's tests slower, not stronger.
    lines = CENTRES.read_text(encoding="utf-8").splitlines(keepends=True)
    aragua = root / CENTRES.name
    aragua.write_text(
        "".join([lines[0], *(line for line in lines[1:] if line.startswith("04"))]), encoding="utf-8"
    )
    store = open_store(testdb.db_url(root))  # PostgreSQL with VEEDOR_TEST_DB_URL
    with store.session() as session:
        for path in (aragua, UNITS):
            import_registry(session, path, definition)
        session.commit()
    scan_paths([folder], store, evidence_root=root / "ev", workers=2)
    with store.session() as session:
        states = {r.mesa: r.status for r in session.scalars(select(ActaRecord))}
    assert states == {1: "ok", 2: "ok", 3: "conflict"}, states
    app = create_site(store, definition, root / "ev")
    yield TestClient(app, follow_redirects=False), store
    store.engine.dispose()


def test_the_national_page_and_api_say_what_the_tally_says(site, definition):
    client, store = site
    api = client.get("/api/v1/national").json()
    with store.session() as session:
        national = tally(session, definition, "national", "scan").rows[0]
    assert api["result"]["votes"] == national.votes and api["result"]["actas"] == 2
    assert api["result"]["valid"] == sum(sum(v) for v in COUNTED.values())
    page = client.get("/").text
    assert "Resultado nacional de actas verificadas" in page  # Spanish by default
    assert "{:,}".format(api["result"]["valid"]) in page
    # One row per state that has centres in the registry (here only Aragua's are loaded).
    assert [(c["code"], c["name"]) for c in api["children"]] == [("04", "EDO. ARAGUA")]
    # Both maps (coverage, margin) colour Aragua and link it; the other states have no data.
    assert page.count('<a href="/u/04"><title>') == 2 and page.count('fill="#d9d9d9"') >= 2 * 23
    visitor = TestClient(client.app)  # its own cookies: the language it picks stays its own
    assert "Compruébelo usted mismo" in client.get("/verify").text
    english = visitor.get("/?lang=en").text
    assert "National result from verified actas" in english and "Resultado nacional" not in english
    assert '<html lang="en">' in visitor.get("/u/04").text  # remembered
    assert "Resultado nacional" in client.get("/").text


def test_every_level_drills_down_to_the_mesa_and_its_numbers(site, definition):
    client, _store = site
    code = ""
    for level in definition.levels:
        code = CENTRE[: level.code_digits]
        page = client.get(f"/u/{code}")
        assert page.status_code == 200, code
        data = client.get(f"/api/v1/units/{code}").json()
        assert data["result"]["actas"] == 2 and data["level"] == level.name
    centre = client.get(f"/api/v1/units/{CENTRE}").json()
    assert [(m["mesa"], m["counted"]) for m in centre["children"]] == [(1, True), (2, True), (3, False)]
    mesa = client.get(f"/api/v1/mesas/{CENTRE}/1").json()
    assert [line["votes"] for line in mesa["lines"]] == COUNTED[1]
    assert mesa["counted"] and len(mesa["copies"]) == 1 and mesa["copies"][0]["engine"]
    page = client.get(f"/m/{CENTRE}/1").text
    assert mesa["copies"][0]["image"] in page and "Contada" in page
    conflict = client.get(f"/api/v1/mesas/{CENTRE}/3").json()
    assert conflict["state"] == "conflict" and conflict["votes"] is None and len(conflict["copies"]) == 2


def test_a_public_image_carries_no_metadata(site):
    client, store = site
    with store.session() as session:
        record = session.scalar(select(ActaRecord).where(ActaRecord.mesa == 1))
        sha = session.scalar(select(Evidence.sha256).where(Evidence.acta_pk == record.id))
    answer = client.get(f"/image/{sha}")
    assert answer.status_code == 200 and answer.headers["content-type"] == "image/jpeg"
    assert b"Juan" not in answer.content and b"Exif" not in answer.content
    with Image.open(io.BytesIO(answer.content)) as img:
        assert not img.getexif() and not img.info.get("exif") and not img.info.get("xmp")


@pytest.mark.parametrize(
    "path",
    [
        "/u/99",
        "/u/abc",
        "/u/..%2F..%2Fetc%2Fpasswd",
        "/m/040202001/9",
        "/m/../../etc/passwd",
        "/api/v1/units/0402020019999",
        "/api/v1/mesas/040202001/0",
        "/api/v1/mesas/040202001/x",
        "/api/v1/mesas/{{7*7}}/1",
        "/image/" + "0" * 64,
        "/image/../../veedor.db",
        "/u/04' OR '1'='1",
        "/login",
        "/take",
        "/mesa/040202001.01",
        "/sheet/" + "0" * 64,
        "/data/verified/..%2F..%2Fveedor.db",
        "/data/verified/../../veedor.db",
        "/data/table-1/actas.csv",
        "/data/verified/evil.csv",
        "/data/.new-x/actas.csv",
    ],
)
def test_bad_ids_and_the_desks_routes_answer_404_or_422_never_500(site, path):
    client, _store = site
    answer = client.get(path)
    assert answer.status_code in (404, 422), (path, answer.status_code)
    assert (
        "Traceback" not in answer.text and "sqlalchemy" not in answer.text.lower() and "49" not in answer.text
    )


def test_nothing_can_be_written_and_headers_are_strict(site):
    client, _store = site
    for method in ("POST", "PUT", "DELETE", "PATCH"):
        assert client.request(method, "/api/v1/national").status_code == 405
        assert client.request(method, "/take").status_code == 405
    answer = client.get("/api/v1/national")
    assert answer.headers["access-control-allow-origin"] == "*"
    assert "default-src 'none'" in answer.headers["content-security-policy"]
    again = client.get("/api/v1/national", headers={"If-None-Match": answer.headers["etag"]})
    assert again.status_code == 304 and again.content == b""
    assert client.get("/u/" + "1" * 3000).status_code == 414
    home = client.get("/", headers={"Accept-Encoding": "gzip"})
    assert home.headers["content-encoding"] == "gzip" and "<html" in home.text  # compressed once, kept
    assert client.get("/", headers={"If-None-Match": home.headers["etag"]}).status_code == 304


def test_the_open_data_page_lists_every_export_and_each_file_is_what_its_manifest_says(site, definition):
    import csv
    import hashlib

    client, store = site
    index = client.get("/api/v1/data").json()
    assert [s["folder"] for s in index["sources"]] == ["verified"]  # no table imported here
    files = index["sources"][0]["files"]
    assert {f["path"] for f in files} >= {"actas.csv", "actas.parquet", "actas.json", "tally_state.csv"}
    page = client.get("/data").text
    manifest = client.get("/data/verified/manifest.json").json()
    for f in files:
        assert f'href="/data/verified/{f["path"]}"' in page
        body = client.get(f"/data/verified/{f['path']}").content
        assert (
            hashlib.sha256(body).hexdigest()
            == f["sha256"]
            == next(m["sha256"] for m in manifest["files"] if m["path"] == f["path"])
        )
    rows = list(csv.DictReader(io.StringIO(client.get("/data/verified/actas.csv").text)))
    with store.session() as session:
        counted = {
            (r.centre, r.mesa) for r in session.scalars(select(ActaRecord).where(ActaRecord.status == "ok"))
        }
    assert {(r["centre"], int(r["mesa"])) for r in rows} == counted
    assert "Datos abiertos" in page and "Una fila por mesa" in page
    assert client.get("/").text.count('href="/data"') >= 2  # the home page links it


def test_a_page_follows_the_database_within_a_second(site, definition):
    """Views are kept per state of the data: once people settle the mesa in conflict, the
    centre's API counts it (a cached view is never served past a change)."""
    import time

    from veedor.store.accounts import add_user
    from veedor.store.review import enter

    client, store = site
    before = client.get(f"/api/v1/units/{CENTRE}").json()
    assert before["result"]["actas"] == 2
    with store.session() as session:
        for name in ("ana", "beto"):
            person = add_user(session, name, "reviewer", "secret-" + name)
            enter(
                session, definition, person, f"{CENTRE}.03", {"votes": [3] + [1] * 37, "nulos": 0, "blank": 0}
            )
        session.commit()
    time.sleep(1.1)
    after = client.get(f"/api/v1/units/{CENTRE}").json()
    assert after["result"]["actas"] == 3 and after["result"]["valid"] == before["result"]["valid"] + 40
    mesa = client.get(f"/api/v1/mesas/{CENTRE}/3").json()
    assert mesa["source"] == "people" and [s["by"] for s in mesa["people"] if s["kind"] == "entry"] == [
        "ana",
        "beto",
    ]


@pytest.mark.parametrize(
    ("typed", "found"),
    [
        ("escuela basica rosa amelia flores", CENTRE),  # no accents, lower case
        ("Escuela Rosa Amela Flores", CENTRE),  # a word left out, a letter missing
        (CENTRE, CENTRE),
        (f"{CENTRE}.01", f"{CENTRE}.01"),  # as printed on the acta
        ("0402", "0402"),
    ],
)
def test_a_centre_is_found_by_a_misspelt_name_or_its_code(site, typed, found):
    client, _store = site
    results = client.get("/api/v1/search", params={"q": typed}).json()["results"]
    assert found in [r["code"] for r in results[:3]], results
    page = client.get("/search", params={"q": typed}).text
    assert found.split(".")[0] in page


def test_a_search_with_nothing_to_find_says_so_and_never_fails(site):
    client, _store = site
    assert "Nada encontrado" in client.get("/search", params={"q": "zzzzqqqq"}).text
    assert client.get("/api/v1/search", params={"q": "x" * 300}).status_code == 422
    assert client.get("/api/v1/search").status_code == 422
    assert client.get("/search", params={"q": "' OR 1=1 --"}).status_code == 200


def test_the_home_page_sets_the_verified_result_beside_each_table_and_bulletin(definition, tmp_path):
    """On the national data (V1 and the CNE's bulletins, no scanned acta): each is a named
    source of its own, with the figures the database holds."""
    from v1db import v1_store

    store = v1_store()
    client = TestClient(create_site(store, definition, tmp_path))
    data = client.get("/api/v1/national").json()
    assert [t["table"] for t in data["tables"]] == ["RESULTADOS_2024_CSV_V1.csv"]
    assert data["tables"][0]["actas"] == 24532
    assert [o["source"] for o in data["official"]] == ["boletin-1", "boletin-2"]
    with store.session() as session:
        v1 = tally(session, definition, "national", "table:1").rows[0]
    assert data["tables"][0]["votes"] == v1.votes
    page = client.get("/").text
    assert "Junto a las otras fuentes" in page and "Oficial boletin-2" in page
    assert "{:,}".format(data["tables"][0]["valid"]) in page


def _segment(marker: int, payload: bytes) -> bytes:
    return bytes([0xFF, marker]) + (len(payload) + 2).to_bytes(2, "big") + payload


def _loaded_with_metadata(gray) -> bytes:
    """A JPEG carrying everything a phone or an editor leaves behind: EXIF (device, capture
    time, owner, GPS position), an XMP packet, IPTC (Photoshop APP13) and a JFXX thumbnail."""
    exif = Image.Exif()
    exif[0x010F], exif[0x0110], exif[0x013B] = "JuanPhoneMaker", "JuanPhone 12", "Juan Perez"
    exif[0x0132] = "2024:07:28 18:45:00"
    gps = exif.get_ifd(0x8825)
    gps.update({1: "N", 2: (10.0, 29.0, 51.0), 3: "W", 4: (66.0, 52.0, 7.0)})
    out = io.BytesIO()
    Image.fromarray(gray).save(out, "JPEG", quality=90, exif=exif)
    thumb = io.BytesIO()
    Image.fromarray(gray).resize((40, 40)).save(thumb, "JPEG")
    xmp = b"http://ns.adobe.com/xap/1.0/\x00<x:xmpmeta><dc:creator>Juan Perez XMP</dc:creator></x:xmpmeta>"
    by_line = b"\x1c\x02\x50" + len(b"Juan Perez IPTC").to_bytes(2, "big") + b"Juan Perez IPTC"
    iptc = b"Photoshop 3.0\x008BIM\x04\x04\x00\x00" + len(by_line).to_bytes(4, "big") + by_line
    jfxx = b"JFXX\x00\x10" + thumb.getvalue()
    data = out.getvalue()
    return data[:2] + _segment(0xE1, xmp) + _segment(0xED, iptc) + _segment(0xE0, jfxx) + data[2:]


def test_a_photo_with_every_kind_of_metadata_is_published_with_none(tmp_path, definition):
    folder = tmp_path / "in"
    folder.mkdir()
    photo = folder / "Juan_Perez_en_su_casa.jpg"
    photo.write_bytes(_loaded_with_metadata(qr_image(payload(mesa=5, votes=[3] + [1] * 37))))
    with Image.open(photo) as original:  # it really carries them
        assert original.getexif().get(0x013B) == "Juan Perez" and original.getexif().get_ifd(0x8825)
    assert b"Juan Perez XMP" in photo.read_bytes() and b"Photoshop 3.0" in photo.read_bytes()
    store = open_store(str(tmp_path / "v.db"))
    scan_paths([folder], store, evidence_root=tmp_path / "ev", workers=1)
    client = TestClient(create_site(store, definition, tmp_path / "ev"))
    mesa = client.get(f"/api/v1/mesas/{CENTRE}/5").json()
    public = client.get(f"/image/{mesa['copies'][0]['image']}").content
    for trace in (b"Juan", b"Exif", b"xap/1.0", b"Photoshop", b"8BIM", b"JFXX", b"2024:07:28", b"GPS"):
        assert trace not in public, trace
    with Image.open(io.BytesIO(public)) as img:
        assert not img.getexif() and set(img.info) <= {
            "jfif",
            "jfif_version",
            "jfif_unit",
            "jfif_density",
            "dpi",
            "progressive",
            "progression",
            "adobe",
            "adobe_transform",
        }
    pages = client.get(f"/m/{CENTRE}/5").text + json.dumps(mesa) + client.get(f"/api/v1/units/{CENTRE}").text
    assert "Juan" not in pages and "casa" not in pages and str(tmp_path) not in pages
    store.engine.dispose()


@pytest.mark.slow
def test_the_static_site_has_the_same_numbers_relative_links_that_resolve_and_rewrites_only_changes(
    site, definition, tmp_path
):
    import hashlib
    import re as regex

    from veedor.web.static_site import write_static

    client, store = site
    evidence = testdb.folder_of(store.url) / "ev"
    out = tmp_path / "public"
    first = write_static(store, definition, evidence, out)
    assert first.written == len(first.files) and first.images == 4 and not first.images_missing
    for path, api_path in (
        ("api/v1/national.json", "/api/v1/national"),
        (f"api/v1/mesas/{CENTRE}/1.json", f"/api/v1/mesas/{CENTRE}/1"),
    ):
        assert json.loads((out / path).read_text()) == client.get(api_path).json(), path
    assert (
        json.loads((out / f"api/v1/units/{CENTRE}.json").read_text())
        == client.get(f"/api/v1/units/{CENTRE}").json()
    )
    pages = sorted(out.rglob("*.html"))
    assert (out / "index.html").is_file() and (out / "en" / "index.html").is_file() and len(pages) > 20
    # The drill-down to the scanned centre, its mesas, and every 97th page of the rest.
    walk = [
        out / "index.html",
        out / "verify.html",
        *(out / "u" / f"{CENTRE[:n]}.html" for n in (2, 4, 6, 9)),
    ]
    walk += sorted((out / "m" / CENTRE).glob("*.html")) + sorted((out / "en" / "m" / CENTRE).glob("*.html"))
    broken = []
    for page in walk + pages[::97]:
        html = page.read_text()
        assert 'href="/' not in html and 'src="/' not in html, page
        for link in regex.findall(r'(?:href|src)="([^"#?]+)"', html):
            if not (page.parent / link).resolve().is_file():
                broken.append((page.relative_to(out), link))
    assert not broken, broken[:5]
    assert "Resultado nacional" in (out / "index.html").read_text()
    assert "National result" in (out / "en" / "index.html").read_text()
    assert (out / "index.html").read_text().count('<a href="u/04.html"><title>') == 2  # the maps
    data = json.loads((out / "api/v1/data.json").read_text())
    for f in data["sources"][0]["files"]:
        assert hashlib.sha256((out / "data/verified" / f["path"]).read_bytes()).hexdigest() == f["sha256"]
    assert 'href="data/verified/actas.csv"' in (out / "data.html").read_text()
    for image in out.glob("image/*.jpg"):
        assert b"Juan" not in image.read_bytes() and b"Exif" not in image.read_bytes()
    again = write_static(store, definition, evidence, out)
    assert again.written == 0 and again.unchanged == len(again.files)
    manifest = json.loads((out / "manifest.json").read_text())["files"]
    assert manifest == {p: h for p, h in again.files.items()}


def test_one_address_past_its_rate_is_told_to_wait_and_others_are_not(site, definition):
    _client, store = site
    app = create_site(store, definition, Path("/nonexistent"), rate=5)
    limited = TestClient(app)
    statuses = [limited.get("/api/v1/national").status_code for _ in range(30)]
    assert statuses[:10] == [200] * 10 and 429 in statuses  # a burst of 10, then 5 a second
    other = TestClient(
        create_site(store, definition, Path("/nonexistent"), rate=5), client=("10.0.0.9", 1234)
    )
    assert other.get("/api/v1/national").status_code == 200


def test_the_commands_refuse_bad_options_with_a_reason(tmp_path):
    from typer.testing import CliRunner

    from veedor.cli import app

    runner = CliRunner()
    bad_lang = runner.invoke(
        app, ["publish", "--static", str(tmp_path / "s"), "--lang", "fr", "--db", str(tmp_path / "v.db")]
    )
    assert bad_lang.exit_code == 2 and "fr" in bad_lang.output and not (tmp_path / "s").exists()
    for command in (["serve", "--workers", "0"], ["desk", "--workers", "0"], ["serve", "--rate-limit", "-1"]):
        refused = runner.invoke(app, [*command, "--db", str(tmp_path / "v.db")])
        assert (refused.exit_code == 2 and refused.exception is None) or isinstance(
            refused.exception, SystemExit
        ), command
