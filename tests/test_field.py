"""The witnesses' app (``veedor field``) through its API and library: invite codes, uploads that
are idempotent by SHA-256, limits and revocation, a photo outside its code's scope kept for a
person, incident reports counted but never shown, the photos read into the same pipeline as a
scan, and nothing of the witness in anything public."""

from __future__ import annotations

import hashlib
import io
import json
from pathlib import Path

import numpy as np
import pytest
from fastapi.testclient import TestClient
from PIL import Image
from sqlalchemy import select
from typer.testing import CliRunner

from imaging import payload, qr_image
from veedor.definitions import DefinitionError
from veedor.definitions.schema import parse_definition
from veedor.i18n import one_language
from veedor.pipeline.field import OUT_OF_SCOPE, SCOPE_CHECK, read_queued
from veedor.simulate.render import ActaRenderer, ActaSpec
from veedor.store.field import (
    incident_counts,
    invites_overview,
    issue_invites,
    normalize,
    token_hash,
)
from veedor.store.schema import (
    ActaRecord,
    CheckRecord,
    Decision,
    Evidence,
    FieldIncident,
    FieldInvite,
    FieldUpload,
    ImageName,
    LogEntry,
)
from veedor.store.schema import (
    Image as ImageRow,
)
from veedor.web.field import create_field_app

CENTRE = "040202001"
UPLOADS = "/api/field/v1/uploads"
INCIDENTS = "/api/field/v1/incidents"


def jpeg(gray: np.ndarray, exif: Image.Exif | None = None) -> bytes:
    out = io.BytesIO()
    Image.fromarray(gray).save(out, "JPEG", quality=90, **({"exif": exif} if exif is not None else {}))
    return out.getvalue()


def qr_sheet(mesa: int, votes: list[int] | None = None) -> bytes:
    return jpeg(qr_image(payload(mesa=mesa, votes=votes)))


def bearer(code: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {code}"}


@pytest.fixture
def field(store, tmp_path, definition):
    app = create_field_app(store, definition, tmp_path / "ev")
    with store.session() as session:
        here = issue_invites(session, [CENTRE], 1, limit=5)[0]
        elsewhere = issue_invites(session, ["24"], 1)[0]  # a witness of another state
    return TestClient(app), store, tmp_path / "ev", here.code, elsewhere.code


def test_codes_are_random_tokens_of_which_the_server_keeps_a_hash(store):
    with store.session() as session:
        issued = issue_invites(session, [CENTRE], 3)
        rows = session.scalars(select(FieldInvite)).all()
    codes = [i.code for i in issued]
    assert len(set(codes)) == 3 and all(len(c) == 23 and c.count("-") == 3 for c in codes)
    stored = json.dumps([[r.pseudonym, r.token_hash, r.scope] for r in rows])
    assert not any(normalize(c).replace("-", "") in stored or c in stored for c in codes)  # type: ignore[union-attr]
    assert {r.token_hash for r in rows} == {token_hash(c) for c in codes}
    # As a person types it: lower case, no dashes, O for 0 and l for 1 all name the same code.
    typed = codes[0].lower().replace("-", " ").replace("0", "o").replace("1", "l")
    assert token_hash(typed) == token_hash(codes[0])
    assert normalize("too-short") is None and token_hash("U" * 20) is None


def test_an_upload_is_one_record_however_often_it_is_sent(field):
    client, store, evidence, code, _other = field
    data = qr_sheet(1)
    sha = hashlib.sha256(data).hexdigest()
    assert client.post(UPLOADS, files={"file": ("a.jpg", data, "image/jpeg")}).status_code == 401
    wrong = client.post(UPLOADS, headers=bearer("AAAAA-AAAAA-AAAAA-AAAAA"), files={"file": ("a.jpg", data)})
    assert wrong.status_code == 401 and wrong.headers["www-authenticate"] == "Bearer"
    first = client.post(
        UPLOADS,
        headers=bearer(code),
        files={"file": ("a.jpg", data, "image/jpeg")},
        data={"taken_at": "2024-07-28T18:40:00-04:00", "centre": CENTRE, "mesa": "1"},
    )
    assert first.status_code == 201, first.text
    assert first.json()["sha256"] == sha and first.json()["bytes"] == len(data)
    again = client.post(UPLOADS, headers=bearer(code), files={"file": ("other-name.jpg", data)})
    assert (again.status_code, again.json()) == (200, first.json())
    assert (evidence / sha[:2] / sha[2:4] / sha).read_bytes() == data  # kept as it came
    with store.session() as session:
        rows = session.scalars(select(FieldUpload)).all()
        assert [(r.sha256, r.claimed_centre, r.claimed_mesa) for r in rows] == [(sha, CENTRE, 1)]
        assert rows[0].taken_at is not None and rows[0].read_at is None
    assert first.headers["cache-control"] == "no-store"
    # Its own code may ask whether it arrived (so a phone need not send it again).
    assert client.get(f"{UPLOADS}/{sha}", headers=bearer(code)).json() == first.json()


def test_refusals_say_why_and_store_nothing(field):
    client, store, evidence, code, _other = field
    for content, status in ((b"", 400), (b"%!PS-Adobe not a photo", 415)):
        answer = client.post(UPLOADS, headers=bearer(code), files={"file": ("x.jpg", content)})
        assert answer.status_code == status and answer.json()["message"]
    assert client.post(UPLOADS, headers=bearer(code), data={"nothing": "here"}).status_code == 400
    english = client.post(
        UPLOADS, headers={**bearer(code), "Accept-Language": "en"}, files={"file": ("x", b"nope")}
    )
    assert english.json()["message"].startswith("This file is not a photo")
    spanish = client.post(UPLOADS, headers=bearer(code), files={"file": ("x", b"nope")})
    assert spanish.json()["message"] != english.json()["message"]
    with store.session() as session:
        assert session.scalars(select(FieldUpload)).all() == []
    assert not evidence.exists() or not any(p.is_file() for p in evidence.rglob("*"))


def test_limits_and_revocation(field):
    client, store, _evidence, code, _other = field
    statuses = [
        client.post(UPLOADS, headers=bearer(code), files={"file": ("a.jpg", qr_sheet(m))}).status_code
        for m in range(1, 7)
    ]
    assert statuses == [201] * 5 + [429]  # the code's limit is 5
    refused = hashlib.sha256(qr_sheet(6)).hexdigest()
    assert not (_evidence / refused[:2] / refused[2:4] / refused).exists()  # nothing written past it
    # A retry of what was accepted is still answered (it is not a new upload).
    assert (
        client.post(UPLOADS, headers=bearer(code), files={"file": ("a.jpg", qr_sheet(1))}).status_code == 200
    )
    runner = CliRunner()
    from veedor.cli import app

    with store.session() as session:
        pseudonym = session.scalar(
            select(FieldInvite.pseudonym).where(FieldInvite.token_hash == token_hash(code))
        )
    done = runner.invoke(app, ["field", "revoke", pseudonym, "--db", store.url])
    assert done.exit_code == 0, done.output
    assert (
        client.post(UPLOADS, headers=bearer(code), files={"file": ("a.jpg", qr_sheet(1))}).status_code == 401
    )
    assert client.get("/api/field/v1/me", headers=bearer(code)).status_code == 401
    assert runner.invoke(app, ["field", "revoke", pseudonym, "--db", store.url]).exit_code == 2


def test_photos_are_read_into_the_pipeline_with_their_channel_and_times(field, definition):
    client, store, evidence, code, other = field
    renderer = ActaRenderer(definition)
    votes = [0, 2, 0, 0, 5, 1, *[0] * 20, 97, 3, *[0] * 10]
    acta = jpeg(
        renderer.render(ActaSpec(CENTRE, 1, tuple(votes), 2, electors=400), np.random.default_rng(1)).gray
    )
    mine = client.post(
        UPLOADS, headers=bearer(code), files={"file": ("p.jpg", acta)}, data={"taken_at": "1722206400000"}
    ).json()["sha256"]
    # The same acta's QR alone, from a witness of another state: kept, read, never counted alone.
    stray = client.post(UPLOADS, headers=bearer(other), files={"file": ("q.jpg", qr_sheet(2))}).json()[
        "sha256"
    ]
    outcomes = read_queued(store, definition.id, evidence)
    assert {o.sha256 for o in outcomes} == {mine, stray}
    with store.session() as session:
        uploads = {u.sha256: u for u in session.scalars(select(FieldUpload))}
        assert uploads[mine].status == "ok" and uploads[mine].in_scope is True and uploads[mine].read_at
        assert uploads[stray].status == "review" and uploads[stray].in_scope is False
        assert uploads[stray].centre == CENTRE
        record = session.scalar(select(ActaRecord).where(ActaRecord.mesa == 1))
        assert (record.status, record.votes, record.nulos) == ("ok", votes, 2)
        other_mesa = session.scalar(select(ActaRecord).where(ActaRecord.mesa == 2))
        assert other_mesa.status != "ok"
        grades = dict(session.execute(select(Evidence.sha256, Evidence.grade)).all())
        assert grades == {mine: "confirmed", stray: "partial"}
        failed = session.scalar(
            select(CheckRecord).where(CheckRecord.sha256 == stray, CheckRecord.name == SCOPE_CHECK)
        )
        assert failed is not None and not failed.passed and failed.detail == OUT_OF_SCOPE
        reason = session.scalar(select(Decision.reason).where(Decision.sha256 == stray))
        assert one_language(reason, "en").endswith(
            "; sent with a witness code issued for other centres; a person must look at it"
        )
        assert one_language(reason, "es").endswith(
            "; enviada con un código de testigo emitido para otros centros; una persona debe mirarla"
        )
        assert {d.cause for d in session.scalars(select(Decision))} == {"field"}
        meta = session.get(ImageRow, mine).metadata_json
        assert meta["channel"] == "field" and meta["taken_at"].startswith("2024-07-28T22:40:00")
        assert meta["received_at"]
        assert set(session.scalars(select(ImageName.path))) == {f"field:{mine}", f"field:{stray}"}
        entries = [
            json.loads(e.entry) for e in session.scalars(select(LogEntry).where(LogEntry.kind == "image"))
        ]
        assert {e["channel"] for e in entries} == {"field"}
    assert read_queued(store, definition.id, evidence) == []  # nothing read twice


def test_nothing_of_the_witness_reaches_anything_public(field, definition, tmp_path):
    """The photo's EXIF (a phone's position, its owner's name) stays in the original; the public
    site's copy has none; no code or pseudonym appears in any public answer or the evidence log."""
    client, store, evidence, code, _other = field
    exif = Image.Exif()
    exif[0x013B] = "Juana Testigo"  # Artist
    exif[0x0110] = "Telefono de Juana"  # Model
    exif[0x8825] = {1: "N", 2: (10.0, 30.0, 0.0), 3: "W", 4: (66.0, 55.0, 0.0)}  # GPS
    data = jpeg(qr_image(payload(mesa=1)), exif)
    sha = client.post(UPLOADS, headers=bearer(code), files={"file": ("p.jpg", data)}).json()["sha256"]
    read_queued(store, definition.id, evidence)
    with store.session() as session:
        pseudonym = session.scalar(select(FieldInvite.pseudonym))
        log = b"".join(session.scalars(select(LogEntry.entry)))
    from veedor.web.site import create_site

    site = TestClient(create_site(store, definition, evidence))
    public = site.get(f"/image/{sha}")
    assert public.status_code == 200
    shown = Image.open(io.BytesIO(public.content))
    assert not shown.getexif() and "exif" not in shown.info
    assert b"Juana" not in public.content and b"Juana" in data
    pages = [site.get(p).text for p in ("/", f"/u/{CENTRE}", f"/api/v1/mesas/{CENTRE}/1", "/api/v1/national")]
    secrets = [code, code.replace("-", ""), pseudonym, "Juana"]
    for text in [*pages, log.decode()]:
        assert not any(s in text for s in secrets)


def test_incidents_are_stored_once_and_public_only_as_counts(field, definition):
    client, store, _evidence, code, other = field
    report = {
        "client_id": "a" * 32,
        "centre": CENTRE,
        "kind": "late_opening",
        "text": "Abrió a las 9, sin testigos",
    }
    first = client.post(INCIDENTS, headers=bearer(code), data=report)
    assert first.status_code == 201, first.text
    assert client.post(INCIDENTS, headers=bearer(code), data=report).status_code == 200
    photo = qr_sheet(9)
    answer = client.post(
        INCIDENTS,
        headers=bearer(other),
        data={**report, "client_id": "b" * 32, "kind": "violence", "text": ""},
        files={"file": ("i.jpg", photo)},
    )
    assert answer.status_code == 201
    for bad, status in (({"kind": "invented"}, 422), ({"centre": "12"}, 422), ({"client_id": "x"}, 400)):
        assert client.post(INCIDENTS, headers=bearer(code), data={**report, **bad}).status_code == status
    assert client.post(INCIDENTS, data=report).status_code == 401
    with store.session() as session:
        rows = session.scalars(select(FieldIncident).order_by(FieldIncident.id)).all()
        assert [(r.kind, r.in_scope) for r in rows] == [("late_opening", True), ("violence", False)]
        assert rows[1].photo_sha256 == hashlib.sha256(photo).hexdigest() and rows[1].text is None
        counts = incident_counts(session, definition, "state")
        assert counts == [
            {"code": "04", "kind": "late_opening", "reports": 1},
            {"code": "04", "kind": "violence", "reports": 1},
        ]
        overview = {o["scope"][0]: o for o in invites_overview(session)}
        assert overview[CENTRE]["incidents"] == 1 and overview["24"]["incidents"] == 1
    assert "Abrió" not in json.dumps(counts)


def test_the_app_page_its_files_and_headers(field, definition):
    client, _store, _evidence, code, _other = field
    page = client.get("/")
    assert page.status_code == 200 and '<html lang="es">' in page.text
    assert 'rel="manifest"' in page.text and 'action="/send"' in page.text  # works without script too
    csp = page.headers["content-security-policy"]
    assert "'wasm-unsafe-eval'" in csp and "connect-src 'self'" in csp and "'unsafe-inline'" not in csp
    assert page.headers["cache-control"] == "no-store" and page.headers["referrer-policy"] == "no-referrer"
    strings = json.loads(page.text.split('id="strings">', 1)[1].split("</script>", 1)[0])
    assert strings["sent"] == "Enviada: la sala de datos la recibió."
    assert "Sent: the data room received it." in client.get("/?lang=en").text
    manifest = client.get("/manifest.webmanifest").json()
    assert manifest["display"] == "standalone" and {i["sizes"] for i in manifest["icons"]} >= {
        "192x192",
        "512x512",
    }
    worker = client.get("/sw.js")
    assert worker.headers["content-type"].startswith("text/javascript") and "__VERSION__" not in worker.text
    for path in (
        "/static/field/app.js",
        "/static/field/vendor/zxing-wasm/reader.js",
        "/static/field/vendor/zxing-wasm/zxing_reader.wasm",
        "/static/field/icon-192.png",
    ):
        assert client.get(path).status_code == 200, path
    wasm = client.get("/static/field/vendor/zxing-wasm/zxing_reader.wasm").content
    readme = (
        Path(__file__).parents[1] / "src/veedor/web/static/field/vendor/zxing-wasm/README.md"
    ).read_text()
    assert hashlib.sha256(wasm).hexdigest() in readme  # the vendored file is the one recorded
    config = client.get("/api/field/v1/config").json()
    assert config["payload"]["separator"] == "!" and len(config["ballot"]) == len(definition.ballot)
    assert [k["code"] for k in config["incident_kinds"]][:2] == ["late_opening", "witness_denied"]
    me = client.get("/api/field/v1/me", headers=bearer(code)).json()
    assert (
        me["scope"] == [CENTRE] and me["limit"] == 5 and me["used"] == 0 and me["pseudonym"].startswith("T-")
    )


def test_the_page_without_script_sends_one_photo(field):
    client, store, _evidence, code, _other = field
    data = qr_sheet(4)
    sent = client.post("/send", data={"code": code.lower()}, files={"file": ("p.jpg", data)})
    assert sent.status_code == 200 and hashlib.sha256(data).hexdigest() in sent.text
    refused = client.post("/send", data={"code": "nope"}, files={"file": ("p.jpg", data)})
    assert refused.status_code == 401 and "no es válido" in refused.text
    with store.session() as session:
        assert len(session.scalars(select(FieldUpload)).all()) == 1


def test_invite_prints_one_code_a_line(store, tmp_path):
    from veedor.cli import app

    result = CliRunner().invoke(
        app,
        [
            "field",
            "invite",
            "--centre",
            CENTRE,
            "--count",
            "3",
            "--db",
            store.url,
            "--qr",
            str(tmp_path / "qr"),
        ],
    )
    assert result.exit_code == 0, result.output
    codes = result.stdout.strip().splitlines()
    assert len(codes) == 3 and all(normalize(c) == c for c in codes)
    assert len(list((tmp_path / "qr").glob("T-*.png"))) == 3
    bad = CliRunner().invoke(app, ["field", "invite", "--centre", "04-02", "--db", store.url])
    assert bad.exit_code == 2


def test_incident_kinds_in_a_definition_are_checked(definition):
    raw = json.loads(json.dumps(definition.raw))
    raw["incident_kinds"] = [{"code": "Late Opening", "label": {"es": "a", "en": "b"}}]
    with pytest.raises(DefinitionError, match="incident_kinds"):
        parse_definition(raw)
    raw["incident_kinds"] = [{"code": "x", "label": {"es": "a", "en": "b"}}] * 2
    with pytest.raises(DefinitionError, match="duplicate"):
        parse_definition(raw)
    del raw["incident_kinds"]
    assert parse_definition(raw).incident_kinds == ()  # optional


def test_the_migration_creates_the_tables_the_schema_declares(store):
    from alembic.autogenerate import compare_metadata
    from alembic.runtime.migration import MigrationContext

    from veedor.store.schema import Base

    with store.engine.connect() as connection:
        diff = compare_metadata(MigrationContext.configure(connection), Base.metadata)
    assert [d for d in diff if "field_" in str(d)] == []


def test_coordinators_see_incidents_at_the_desk_and_reviewers_do_not(field, definition, tmp_path):
    import re

    from veedor.store.accounts import add_user
    from veedor.web import create_app

    client, store, evidence, code, _other = field
    report = {"client_id": "c" * 32, "centre": CENTRE, "kind": "power_cut", "text": "Sin luz desde las 3 pm"}
    assert client.post(INCIDENTS, headers=bearer(code), data=report).status_code == 201
    with store.session() as session:
        add_user(session, "sup", "supervisor", "secret-sup")
        add_user(session, "ana", "reviewer", "secret-ana")
        session.commit()
        pseudonym = session.scalar(
            select(FieldInvite.pseudonym).where(FieldInvite.token_hash == token_hash(code))
        )
    desk = create_app(store, definition, evidence, "field-test-secret-0123456789")

    def login(name: str) -> TestClient:
        browser = TestClient(desk, follow_redirects=False)
        token = re.search(r'name="csrf" value="([^"]+)"', browser.get("/login").text)[1]  # type: ignore[index]
        done = browser.post("/login", data={"name": name, "password": f"secret-{name}", "csrf": token})
        assert done.status_code == 303
        return browser

    page = login("sup").get("/incidents")
    assert page.status_code == 200
    assert (
        "Sin luz desde las 3 pm" in page.text
        and pseudonym in page.text
        and "Corte de electricidad" in page.text
    )
    assert login("ana").get("/incidents").status_code == 403
    assert TestClient(desk, follow_redirects=False).get("/incidents").status_code == 303  # to /login
