"""Honest defaults and exit codes: a typo is an error, empty inputs say so, partial data says
its coverage, and an estimate refuses to stand on too little."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from conftest import V1
from veedor.cli import app


def run(*args: str):
    result = CliRunner().invoke(app, ["--lang", "en", *args])
    return result.exit_code, " ".join(result.output.split())


@pytest.fixture(scope="module")
def v1_db(tmp_path_factory) -> str:
    db = str(tmp_path_factory.mktemp("defaults") / "v.db")
    assert CliRunner().invoke(app, ["import-results", str(V1), "--db", db]).exit_code == 0
    return db


@pytest.mark.parametrize(
    "command",
    [
        ["tally"],
        ["mesas"],
        ["compare", "--source", "table:1"],
        ["scenario"],
        ["estimate"],
        ["export", "out"],
        ["review", "list"],
        ["check"],
    ],
)
def test_a_database_that_does_not_exist_is_an_error_not_an_empty_one(command, tmp_path):
    typo = tmp_path / "veedro.db"
    code, said = run(*command, "--db", str(typo))
    assert code == 2 and "no database at" in said and "--create" in said
    assert not typo.exists()  # nothing made by a typo


def test_create_makes_one_on_purpose_and_an_empty_tally_says_so(tmp_path):
    db = tmp_path / "new.db"
    code, said = run("--create", "tally", "--db", str(db))
    assert code == 0 and db.exists() and "No mesa is counted yet" in said and "veedor scan" in said


def test_scan_refuses_a_path_that_does_not_exist_and_an_empty_folder(tmp_path):
    code, said = run("scan", str(tmp_path / "nonexistent"), "--db", str(tmp_path / "v.db"))
    assert code == 2 and "does not exist" in said and "nothing was read" in said
    empty = tmp_path / "empty"
    empty.mkdir()
    code, said = run("scan", str(empty), "--db", str(tmp_path / "v.db"))
    assert code == 2 and "no image to read" in said


def test_estimate_refuses_without_data_or_below_its_minimum_coverage(tmp_path, v1_db):
    db = tmp_path / "empty.db"
    assert run("--create", "tally", "--db", str(db))[0] == 0
    code, said = run("estimate", "--db", str(db))
    assert code == 2 and "no verified mesa" in said and "nan" not in said
    # 23 of 30,026 mesas: refused in words, shown only when forced, with the warning beside it
    few = tmp_path / "few.csv"
    lines = V1.read_text(encoding="utf-8-sig").splitlines()
    few.write_text("\n".join(lines[:24]) + "\n", encoding="utf-8")
    small = str(tmp_path / "small.db")
    assert run("import-results", str(few), "--db", small)[0] == 0
    code, said = run("estimate", "--source", "table:1", "--db", small)
    assert code == 2 and "only 23 mesas are verified" in said and "at least 20 %" in said
    code, said = run("estimate", "--source", "table:1", "--db", small, "--force")
    assert code == 0 and "Warning: only 23 mesas are verified" in said and "ESTIMATE" in said
    code, said = run("estimate", "--source", "table:1", "--db", v1_db, "--format", "json")
    assert code == 0


def test_estimate_json_says_its_coverage(v1_db):
    result = CliRunner().invoke(app, ["estimate", "--source", "table:1", "--db", v1_db, "-f", "json"])
    data = json.loads(result.stdout)
    assert round(data["coverage_pct"], 1) == 81.7 and data["minimum_coverage_pct"] == 20.0


def test_tally_with_only_pending_mesas_names_them(tmp_path):
    from test_copies import FORGED_PHOTO, OTHER_MESA, fresh_store, record_all

    store = fresh_store(str(tmp_path))
    record_all(store, [OTHER_MESA, FORGED_PHOTO])  # two copies of one mesa that disagree: a conflict
    store.engine.dispose()
    code, said = run("tally", "--db", str(tmp_path / "v.db"))
    assert code == 0 and "No mesa is counted yet; 1 waits for people" in said
    assert "040202001.02 (conflict)" in said and "veedor review list" in said
    code, said = run("tally", "--level", "mesa", "--db", str(tmp_path / "v.db"))
    assert "1/1" not in said and "040202001.02 (conflict)" in said


def test_every_number_from_partial_data_has_its_coverage_beside_it(v1_db):
    code, said = run("tally", "--source", "table:1", "--db", v1_db)
    assert code == 0 and "coverage" in said and "24,532/30,026 81.70%" in said


def test_exit_codes_are_in_every_help_and_in_docs_cli_md():
    import typer.main

    root = Path(__file__).resolve().parents[1]
    docs = (root / "docs" / "cli.md").read_text(encoding="utf-8")
    assert "Exit codes" in run("--help")[1]
    command = typer.main.get_command(app)
    names = []
    for name, cmd in command.commands.items():
        subs = getattr(cmd, "commands", None)
        names += [f"{name} {sub}" for sub in subs] if subs else [name]
    for name in names:
        assert "Exit codes" in run(*name.split(), "--help")[1], name
        assert f"veedor {name}" in docs, f"docs/cli.md does not show veedor {name}"
    assert "## Exit codes" in docs
