"""The official claim against the verified actas: the done-criterion numbers, and per-mesa evidence."""

from __future__ import annotations

import csv

from typer.testing import CliRunner

from v1db import BULLETINS, UNITS, V1, v1_store
from veedor.cli import app
from veedor.ingest.official import import_official
from veedor.ingest.registry import import_registry
from veedor.ingest.tables import import_results_table
from veedor.tally.compare import compare, load_official


def test_gonzalez_verified_exceeds_official_bulletin_2(v1_session, definition):
    c = compare(v1_session, definition, "boletin-2", "table:1")
    rows = {r.candidate: r for r in c.rows}
    eg, nm = rows["EG"], rows["NM"]
    assert (eg.official, eg.verified, eg.difference) == (5_326_104, 7_156_462, 1_830_358)
    assert eg.proven_wrong and not nm.proven_wrong
    assert nm.difference == 3_241_461 - 6_408_844
    assert (eg.coverage.mesas_ok, eg.coverage.mesas_total) == (24_532, 30_026)
    assert round(eg.coverage.pct, 1) == 81.7
    assert rows["valid"].official == 12_335_884 and rows["nulos"].official == 50_785
    # Without per-mesa official data the evidence is every verified mesa behind the figure.
    eg_ev = c.evidence.filter(c.evidence["candidate"] == "EG")
    assert eg_ev["verified"].sum() == 7_156_462
    assert eg_ev["evidence"].str.starts_with("https://").all()


def test_bulletin_1_lumps_the_other_candidates(v1_session, definition):
    official = load_official(v1_session, definition, "boletin-1")
    assert official.candidates == ("EG", "NM") and official.source.actas_pct == 80.0
    rows = {r.candidate: r for r in compare(v1_session, definition, "boletin-1", "table:1").rows}
    assert rows["others"].official == 462_704
    assert rows["others"].verified == 10_659_128 - 7_156_462 - 3_241_461


def test_reimport_is_idempotent(v1_session, definition):
    result = import_official(v1_session, BULLETINS, definition)
    assert result.unchanged == ["boletin-1", "boletin-2"] and not result.keys
    v1_session.rollback()


def test_per_mesa_official_data_gives_the_differing_mesas(store, definition, tmp_path):
    """An authority's per-mesa table (here: V1 rows, one altered) → only that mesa is evidence."""
    with V1.open(encoding="utf-8-sig", newline="") as handle:
        reader = csv.DictReader(handle)
        rows = [r for r, _ in zip(reader, range(40), strict=False)]
    altered = dict(rows[5])
    altered["NM"] = str(int(altered["NM"]) + 50)
    altered["VOTOS_VALIDOS"] = str(int(altered["VOTOS_VALIDOS"]) + 50)
    official_csv = tmp_path / "oficial_por_mesa.csv"
    verified_csv = tmp_path / "verified.csv"
    for path, data in ((official_csv, [*rows[:5], altered, *rows[6:]]), (verified_csv, rows[:39])):
        with path.open("w", newline="", encoding="utf-8") as handle:
            writer = csv.DictWriter(handle, fieldnames=list(rows[0]))
            writer.writeheader()
            writer.writerows(data)
    with store.session() as s:
        import_results_table(s, verified_csv, definition)
        result = import_official(s, official_csv, definition, key="cne-por-mesa")
        assert result.keys == ["cne-por-mesa"] and result.units == 40
        s.commit()
        c = compare(s, definition, "cne-por-mesa", "table:1", level="state")
        ev = c.evidence
        changed = ev.filter(ev["official"].is_not_null() & ev["verified"].is_not_null())
        assert changed.height == 2  # NM and valid of the altered mesa
        assert set(changed["difference"]) == {-50}
        assert changed["centre"][0] == altered["CENTRO"].zfill(9) and changed["mesa"][0] == int(
            altered["MESA"]
        )
        only_official = ev.filter(ev["verified"].is_null())
        assert only_official["centre"].unique().to_list() == [rows[39]["CENTRO"].zfill(9)]
        nm = next(r for r in c.rows if r.candidate == "NM")
        assert nm.difference == -50 - int(rows[39]["NM"])


def test_simple_bulletin_csv(store, definition, tmp_path):
    path = tmp_path / "boletin.csv"
    path.write_text(
        "bulletin,level,code,actas_pct,EG,NM,valid,nulos\n"
        "b3,national,,100,100,200,300,5\nb3,state,1,100,40,60,100,1\n"
    )
    with store.session() as s:
        import_registry(s, UNITS, definition)
        result = import_official(s, path, definition)
        assert result.keys == ["b3"] and result.units == 2 and not result.errors
        official = load_official(s, definition, "b3")
        state = official.units.filter(official.units["level"] == "state")
        assert state["code"][0] == "01" and state["EG"][0] == 40


def test_cli_compare_and_evidence_file(tmp_path):
    url = v1_store().url
    evidence = tmp_path / "ev.csv"
    res = CliRunner().invoke(
        app,
        [
            "compare",
            "--source",
            "table:1",
            "--db",
            url,
            "-o",
            "boletin-2",
            "--evidence",
            str(evidence),
        ],
        terminal_width=200,
    )
    assert res.exit_code == 0, res.output
    assert "1,830,358" in res.output and "81.7" in res.output
    with evidence.open() as handle:
        header = handle.readline()
    assert "official_key" in header and "evidence" in header
