"""Shared fixtures: the real sample data and fresh databases."""

from __future__ import annotations

import csv
import json
import os
from collections.abc import Iterator
from pathlib import Path

import pytest

import testdb
from veedor.definitions import ElectionDefinition, load_definition
from veedor.store import Store, open_store

# The command line speaks one language, chosen by --lang, VEEDOR_LANG or the locale (Spanish by
# default). Tests read its English messages: English here, whatever this machine's locale; the
# tests of the choice itself (tests/test_cli_language.py) set it themselves.
os.environ.setdefault("VEEDOR_LANG", "en")

ROOT = Path(__file__).resolve().parents[1]
SAMPLES = ROOT / "samples"
ACTAS = SAMPLES / "actas"
V1 = SAMPLES / "results" / "RESULTADOS_2024_CSV_V1.csv"
V2 = SAMPLES / "results" / "RESULTADOS_2024_CSV_V2.csv"
CENTRES = SAMPLES / "registry" / "centros_resultadosconvzla_site_2024-08-01.csv"
UNREADABLE = "qr-unreadable-incomplete-1.jpg"


@pytest.fixture(scope="session")
def definition() -> ElectionDefinition:
    return load_definition("ve-2024-presidential")


@pytest.fixture(scope="session")
def qr_truth() -> dict[str, str | None]:
    """ "subdir/file.jpg" → QR text (None where no decoder reads it), from the ground truth."""
    return json.loads((ACTAS / "_ground_truth" / "qr_text_by_image.json").read_text())


@pytest.fixture(scope="session")
def real_images() -> list[Path]:
    return sorted(ACTAS.glob("*/*.jpg"))


@pytest.fixture(scope="session")
def v1_rows() -> dict[tuple[str, int], dict[str, str]]:
    with V1.open(encoding="utf-8-sig", newline="") as handle:
        return {(r["CENTRO"].zfill(9), int(r["MESA"])): r for r in csv.DictReader(handle)}


# The fixtures whose database is the server's when VEEDOR_TEST_DB_URL is set (tests/testdb.py),
# here and in test modules: every test using one, or the shared V1 database (v1db.py), is marked
# ``postgres``, so that `pytest -m postgres` runs the tests a PostgreSQL run changes (the others
# keep a SQLite file of their own and would only repeat the SQLite run).
DB_FIXTURES = {"store", "db_url", "v1_session", "site", "logged", "desk", "sheet_desk"}


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "postgres: runs against PostgreSQL when VEEDOR_TEST_DB_URL is set")


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        module = getattr(item, "module", None)
        if DB_FIXTURES & set(getattr(item, "fixturenames", ())) or hasattr(module, "v1_store"):
            item.add_marker(pytest.mark.postgres)


@pytest.fixture
def db_url(tmp_path: Path) -> Iterator[str]:
    """A fresh empty database for the test, as ``--db`` takes it: a SQLite file, or a new
    PostgreSQL database with VEEDOR_TEST_DB_URL set (dropped after the test)."""
    url = testdb.db_url(tmp_path)
    yield url
    testdb.drop(url)


@pytest.fixture
def store(db_url: str) -> Iterator[Store]:
    opened = open_store(db_url)
    yield opened
    opened.engine.dispose()


@pytest.fixture(scope="module")
def v1_session():
    """A session on the shared read-only V1 database (registry, V1 table, CNE bulletins)."""
    from v1db import v1_store

    with v1_store().session() as session:
        yield session
