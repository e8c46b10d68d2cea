"""Open data: CSV/Parquet/JSON per export folder, a manifest that verifies, the V1 column layout."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import polars as pl
import pytest

from v1db import V1, v1_store
from veedor.publish.export import ExportError, export, verify_manifest

NOW = datetime(2024, 8, 2, 12, 0, tzinfo=UTC)


@pytest.fixture(scope="module")
def exported(tmp_path_factory, definition):
    with v1_store().session() as s:
        return export(s, definition, tmp_path_factory.mktemp("exp"), source="table:1", now=NOW)


def test_manifest_lists_every_file_with_hash_and_rows(exported):
    data = json.loads((exported.folder / "manifest.json").read_text())
    names = {f["path"] for f in data["files"]}
    for stem in (
        "actas",
        "tally_national",
        "tally_state",
        "tally_municipality",
        "tally_parish",
        "tally_centre",
    ):
        assert {f"{stem}.csv", f"{stem}.parquet", f"{stem}.json"} <= names
    assert "mesas_resultadosconvzla.csv" in names
    assert verify_manifest(exported.folder) == []
    assert data["definition"]["id"] == "ve-2024-presidential" and data["veedor_version"]
    assert data["source"]["table"]["sha256"].startswith("fd2712796bf8")
    assert {s["key"] for s in data["official_sources"]} == {"boletin-1", "boletin-2"}
    rows = {f["path"]: f["rows"] for f in data["files"]}
    assert rows["actas.parquet"] == 24_532 and rows["tally_state.csv"] == 24
    (exported.folder / "tally_state.csv").write_text("tampered\n")
    assert verify_manifest(exported.folder) == ["tally_state.csv"]


def test_formats_agree(exported):
    parquet = pl.read_parquet(exported.folder / "actas.parquet")
    from_json = pl.read_json(exported.folder / "actas.json")
    assert parquet["EG"].sum() == from_json["EG"].sum() == 7_156_462
    national = pl.read_csv(exported.folder / "tally_national.csv")
    assert national["coverage_pct"][0] == 81.7 and national["mesas_total"][0] == 30_026


def test_resultadosconvzla_layout_matches_v1(exported):
    ours = pl.read_csv(exported.folder / "mesas_resultadosconvzla.csv", infer_schema_length=0)
    original = pl.read_csv(V1.read_bytes().removeprefix(b"\xef\xbb\xbf"), infer_schema_length=0)
    assert ours.columns == original.columns
    key = ["CENTRO", "MESA"]
    ours, original = ours.sort(key), original.sort(key)
    # COD_PAR is the site's own parish id in the original; veedor writes the CNE parish digits.
    for column in (c for c in ours.columns if c != "COD_PAR"):
        assert ours[column].to_list() == original[column].to_list(), column


def test_never_overwrites(exported, definition):
    with v1_store().session() as s, pytest.raises(ExportError):
        export(s, definition, exported.folder.parent, source="table:1", now=NOW)
