"""Importing published tables and the registry; tallies match the tables' own sums."""

from __future__ import annotations

import csv
from collections import Counter

import pytest
from typer.testing import CliRunner

from conftest import CENTRES, V1, V2
from veedor.cli import app
from veedor.ingest.registry import import_registry
from veedor.ingest.tables import TableError, import_results_table
from veedor.tally import tally


@pytest.fixture(scope="module")
def imported(tmp_path_factory, definition):
    from veedor.store import open_store

    store = open_store(str(tmp_path_factory.mktemp("imp") / "v.db"))
    with store.session() as session:
        v1 = import_results_table(session, V1, definition)
        v2 = import_results_table(session, V2, definition)
        session.commit()
    return store, v1, v2


def state_sums(path, encoding):
    sums: dict[str, Counter] = {}
    with path.open(encoding=encoding, newline="") as handle:
        for row in csv.DictReader(handle):
            c = sums.setdefault(row["CENTRO"].zfill(9)[:2], Counter())
            c.update({k: int(row[k]) for k in ("EG", "NM", "VOTOS_VALIDOS", "VOTOS_NULOS")})
            c["actas"] += 1
    return sums


@pytest.mark.parametrize(
    ("which", "eg", "nm", "valid", "actas", "encoding"),
    [
        ("v1", 7_156_462, 3_241_461, 10_659_128, 24_532, "utf-8-sig"),
        ("v2", 7_303_480, 3_316_142, 10_887_262, 25_073, "latin-1"),
    ],
)
def test_national_and_state_totals(imported, definition, which, eg, nm, valid, actas, encoding):
    store, v1, v2 = imported
    table = v1 if which == "v1" else v2
    assert table.errors == []
    with store.session() as session:
        national = tally(session, definition, "national", f"table:{table.table_id}").rows[0]
        states = tally(session, definition, "state", f"table:{table.name}").rows
    assert (national.votes["EG"], national.votes["NM"], national.valid, national.actas) == (
        eg,
        nm,
        valid,
        actas,
    )
    expected = state_sums(V1 if which == "v1" else V2, encoding)
    assert {r.code for r in states} == set(expected)
    for row in states:
        e = expected[row.code]
        assert (row.votes["EG"], row.votes["NM"], row.valid, row.nulos, row.actas) == (
            e["EG"],
            e["NM"],
            e["VOTOS_VALIDOS"],
            e["VOTOS_NULOS"],
            e["actas"],
        )
    if which == "v1":
        assert national.electors == 17_745_239
        assert states[0].name == "DTTO. CAPITAL"


def test_reimport_is_noop(imported, definition):
    store, v1, _ = imported
    with store.session() as session:
        again = import_results_table(session, V1, definition)
    assert again.already_imported and again.table_id == v1.table_id


def test_bad_rows_reported_by_line(tmp_path, store, definition):
    header = V1.read_text(encoding="utf-8-sig").splitlines()[0]
    good = V1.read_text(encoding="utf-8-sig").splitlines()[1:4]
    broken = good[1].split(",")
    broken[11] = "doce"  # EG column
    lines = [header, good[0], ",".join(broken), good[2], good[0], "1,2,3"]
    path = tmp_path / "t.csv"
    path.write_bytes(("\r".join(lines) + "\r").encode("latin-1"))  # old Mac line endings, Latin-1
    with store.session() as session:
        summary = import_results_table(session, path, definition)
    assert summary.rows == 2
    assert [e["line"] for e in summary.errors] == [3, 5, 6]
    assert "EG" in str(summary.errors[0]["error"]) and "duplicate" in str(summary.errors[1]["error"])


def test_missing_columns_is_precise(tmp_path, store, definition):
    path = tmp_path / "t.csv"
    path.write_text("CENTRO,MESA,VOTOS_VALIDOS\n1,1,1\n")
    with store.session() as session, pytest.raises(TableError, match=r"VOTOS_NULOS.*EG"):
        import_results_table(session, path, definition)


def test_registry_and_electors(store, definition):
    with store.session() as session:
        centres = import_registry(session, CENTRES, definition)
        electors = import_registry(session, V1, definition)
        session.commit()
    assert centres.kind == "centres" and centres.rows == 12_444
    assert electors.kind == "electors" and electors.rows == 24_532


def test_cli_tally_formats(tmp_path):
    db = str(tmp_path / "v.db")
    runner = CliRunner()
    assert runner.invoke(app, ["import-results", str(V1), "--db", db]).exit_code == 0
    result = runner.invoke(
        app, ["tally", "--source", "table:1", "--level", "state", "--format", "csv", "--db", db]
    )
    assert result.exit_code == 0
    rows = list(csv.DictReader(result.stdout.splitlines()))
    assert len(rows) == 24 and sum(int(r["EG"]) for r in rows) == 7_156_462
    bad = runner.invoke(app, ["tally", "--source", "table:nope", "--db", db])
    assert bad.exit_code == 2 and "unknown source" in bad.output
    bad_level = runner.invoke(app, ["tally", "--level", "galaxy", "--db", db])
    assert bad_level.exit_code == 2 and "unknown level" in bad_level.output
