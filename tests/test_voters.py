"""Lookup by voter id: an imported voter list answers where one votes (centre and mesa) and
nothing more; no id is ever stored, shown back, put in a URL or logged."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.parse
import urllib.request

import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from veedor.cli import app as cli
from veedor.store import open_store
from veedor.store.schema import GeoUnit
from veedor.web.site import create_site

LIST = (
    "cedula,nombre,centro_code,mesa\n"
    "V-12.345.678,Ana Perez,040202001,1\n"  # the same voter as 12345678, written otherwise
    "8765432,Beto Ruiz,40202001,2\n"  # a centre code without its leading zero
    "99,Cira,040202001,1\n"  # too short to be a cedula
    "12345678,Ana otra vez,040202001,3\n"  # repeated: the first row says where
    "7654321,Dora,04020200X,1\n"  # a centre code that is not one
)


@pytest.fixture
def voters(tmp_path):
    path = tmp_path / "electores.csv"
    path.write_text(LIST, encoding="utf-8")
    db = tmp_path / "v.db"
    result = CliRunner().invoke(cli, ["import-voters", str(path), "--db", str(db)])
    store = open_store(str(db))
    with store.session() as session:
        session.add(
            GeoUnit(
                election="ve-2024-presidential",
                code="040202001",
                level="centre",
                name="ESCUELA LAS ACACIAS",
                source="test",
            )
        )
        session.commit()
    yield result, store, db
    store.engine.dispose()


def test_the_list_is_imported_by_digits_refused_rows_are_named_by_line_and_no_id_is_stored(voters):
    result, _store, db = voters
    assert result.exit_code == 1  # refused rows: told, and the good ones kept
    assert "2 voters" in result.output and "refused: 2" in result.output
    assert "repeated: 1" in result.output
    assert "line 4" in result.output and "line 6" in result.output
    assert "99" not in result.output.replace("line", "")  # the refused id is not repeated
    raw = db.read_bytes()
    for secret in (b"12345678", b"12.345.678", b"8765432", b"Ana", b"Perez", b"Beto"):
        assert secret not in raw, secret


def test_a_voter_finds_their_centre_and_mesa_and_the_answer_does_not_repeat_the_id(
    voters, definition, tmp_path
):
    _result, store, _db = voters
    client = TestClient(create_site(store, definition, tmp_path / "ev"))
    form = client.get("/voter").text
    assert 'method="post"' in form and "cédula" in form
    for typed in ("12345678", "V-12.345.678", " v12345678 "):
        answer = client.post("/voter", data={"id": typed})
        assert answer.status_code == 200 and answer.headers["cache-control"] == "no-store"
        assert "ESCUELA LAS ACACIAS" in answer.text and "mesa 1" in answer.text
        assert 'href="/m/040202001/1"' in answer.text
        assert "12345678" not in answer.text and "12.345.678" not in answer.text
    beto = client.post("/voter", data={"id": "8765432"}, headers={"Accept-Language": "en"})
    assert "mesa 2" in beto.text and "8765432" not in beto.text
    assert "no está en la lista" in client.post("/voter", data={"id": "11111111"}).text
    assert "no es un número de cédula" in client.post("/voter", data={"id": "DROP TABLE voters"}).text


def test_the_lookup_refuses_what_is_not_one_short_form_and_keeps_its_own_rate(voters, definition, tmp_path):
    _result, store, _db = voters
    client = TestClient(create_site(store, definition, tmp_path / "ev", rate=20))
    assert client.post("/voter", content=b"id=" + b"1" * 600).status_code == 413
    assert client.post("/search", data={"q": "x"}).status_code == 405
    assert client.get("/search", headers={"Content-Length": "10"}).status_code == 413
    answers = [client.post("/voter", data={"id": "12345678"}).status_code for _ in range(8)]
    assert answers[:4] == [200] * 4 and 429 in answers  # 2 a second, bursts of 4
    assert client.get("/").status_code == 200  # pages keep their own, larger, rate


def test_without_a_list_the_page_says_so(store, definition, tmp_path):
    client = TestClient(create_site(store, definition, tmp_path / "ev"))
    assert "no se ha importado ninguna lista" in client.get("/voter").text
    assert "no está en la lista" in client.post("/voter", data={"id": "12345678"}).text


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.mark.slow
def test_the_served_site_logs_nothing_of_an_id_asked_for(voters, tmp_path):
    _result, _store, db = voters
    port = free_port()
    server = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "veedor",
            "serve",
            "--db",
            str(db),
            "--evidence",
            str(tmp_path / "ev"),
            "--port",
            str(port),
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        env={**os.environ, "COLUMNS": "200"},
    )
    try:
        for _ in range(100):
            try:
                urllib.request.urlopen(f"http://127.0.0.1:{port}/voter", timeout=1).read()
                break
            except OSError:
                time.sleep(0.1)
        body = urllib.parse.urlencode({"id": "12345678"}).encode()
        answer = urllib.request.urlopen(f"http://127.0.0.1:{port}/voter", data=body, timeout=5).read()
        assert b"ESCUELA LAS ACACIAS" in answer
    finally:
        server.terminate()
        output = server.communicate(timeout=10)[0]
    assert b"12345678" not in output and b"/voter" not in output
