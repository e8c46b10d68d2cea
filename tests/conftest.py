"""Shared fixtures: the real sample data and fresh databases."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest

from veedor.definitions import ElectionDefinition, load_definition
from veedor.store import Store, open_store

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


@pytest.fixture
def store(tmp_path: Path) -> Store:
    return open_store(str(tmp_path / "veedor.db"))


@pytest.fixture(scope="module")
def v1_session():
    """A session on the shared read-only V1 database (registry, V1 table, CNE bulletins)."""
    from v1db import v1_store

    with v1_store().session() as session:
        yield session
