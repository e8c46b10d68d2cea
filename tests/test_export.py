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


def test_csv_cells_a_spreadsheet_would_run_are_defused_and_inputs_named_not_pathed(
    tmp_path, store, definition
):
    """OWASP's CSV injection rule; and a manifest must not carry a volunteer's folder names."""
    import polars as pl

    from veedor.ingest.tables import import_results_table
    from veedor.publish.export import export, formula_safe

    lines = V1.read_text(encoding="utf-8-sig").splitlines()
    header = lines[0].split(",")
    row = lines[1].split(",")
    row[header.index("EDO")] = "=1+2"
    home = tmp_path / "home" / "maria-volunteer"
    home.mkdir(parents=True)
    (home / "t.csv").write_text("\n".join([lines[0], ",".join(row)]) + "\n", encoding="utf-8")
    with store.session() as session:
        import_results_table(session, home / "t.csv", definition)
        manifest = export(session, definition, tmp_path / "out", source="table:t.csv", formats=("csv",))
    state = pl.read_csv(manifest.folder / "tally_state.csv")
    assert state["name"][0] == "'=1+2"
    text = (manifest.folder / "manifest.json").read_text()
    assert "maria-volunteer" not in text and '"file": "t.csv"' in text
    frame = pl.DataFrame({"a": ["-1", "+x", "@s", "ok", None], "n": [-1, 2, 3, 4, 5]})
    assert formula_safe(frame).rows() == [("'-1", -1), ("'+x", 2), ("'@s", 3), ("ok", 4), (None, 5)]
