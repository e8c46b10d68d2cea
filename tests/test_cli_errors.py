"""Every command answers bad input with exit code 2 and a message saying what is wrong."""

from __future__ import annotations

import pytest
from typer.testing import CliRunner

from conftest import V1
from veedor.cli import app


@pytest.fixture(scope="module")
def db(tmp_path_factory) -> str:
    path = str(tmp_path_factory.mktemp("cli") / "v.db")
    assert CliRunner().invoke(app, ["import-results", str(V1), "--db", path]).exit_code == 0
    return path


class Ran:
    def __init__(self, *args: str) -> None:
        result = CliRunner().invoke(app, list(args))
        self.exit_code = result.exit_code
        # Rich wraps long messages at the terminal width; compare the words, not the lines.
        self.output = " ".join(result.output.split())


run = Ran


def test_import_registry_unknown_kind(tmp_path, db):
    odd = tmp_path / "odd.csv"
    odd.write_text("a,b\n1,2\n")
    result = run("import-registry", str(odd), "--db", db)
    assert result.exit_code == 2 and "unknown registry file" in result.output


def test_import_results_unreadable_file(tmp_path, db):
    result = run("import-results", str(tmp_path / "missing.csv"), "--db", db)
    assert result.exit_code == 2 and "cannot read file" in result.output


def test_compare_without_bulletins_says_what_to_do(db):
    result = run("compare", "--source", "table:1", "--db", db)
    assert result.exit_code == 2 and "import-official" in result.output


def test_scenario_unknown_source(db):
    result = run("scenario", "--source", "table:nope", "--db", db)
    assert result.exit_code == 2 and "unknown source" in result.output


def test_simulate_unknown_profile(tmp_path):
    result = run(
        "simulate", "--results", str(V1), "--count", "1", "--out", str(tmp_path / "o"), "--profile", "moon"
    )
    assert result.exit_code == 2 and "unknown profile" in result.output


def test_simulate_needs_a_count(tmp_path):
    result = run("simulate", "--results", str(V1), "--out", str(tmp_path / "o"))
    assert result.exit_code == 2 and "--count N or --all" in result.output


def test_no_traceback_reaches_a_user_and_markup_in_data_is_shown_not_run(tmp_path, monkeypatch, capsys):
    import sys

    from veedor import cli
    from veedor.tally import columnar

    def broken(*_a, **_k):
        raise RuntimeError("disk said [/red] no")

    monkeypatch.setattr(columnar, "tally_columnar", broken)
    monkeypatch.setattr(sys, "argv", ["veedor", "--create", "tally", "--db", str(tmp_path / "v.db")])
    monkeypatch.delenv("VEEDOR_DEBUG", raising=False)
    with pytest.raises(SystemExit) as ended:
        cli.main()
    err = " ".join(capsys.readouterr().err.split())
    assert ended.value.code == 2
    assert "Traceback" not in err and "RuntimeError: disk said [/red] no" in err and "VEEDOR_DEBUG" in err


def test_a_locked_database_says_to_wait(tmp_path, monkeypatch, capsys):
    import sqlite3
    import sys

    from veedor import cli
    from veedor.tally import columnar

    def locked(*_a, **_k):
        raise sqlite3.OperationalError("database is locked")

    monkeypatch.setattr(columnar, "tally_columnar", locked)
    monkeypatch.setattr(sys, "argv", ["veedor", "--create", "tally", "--db", str(tmp_path / "v.db")])
    with pytest.raises(SystemExit):
        cli.main()
    assert "another veedor command is writing" in " ".join(capsys.readouterr().err.split())


def test_markup_in_table_cells_and_file_names_is_printed_as_text(tmp_path):
    from imaging import payload, qr_image, write

    lines = V1.read_text(encoding="utf-8-sig").splitlines()
    header = lines[0].split(",")
    row = lines[1].split(",")
    row[header.index("EDO")] = "[/red]"
    bad = lines[2].split(",")
    bad[header.index("EG")] = "[bold]x"
    table = tmp_path / "t.csv"
    table.write_text("\n".join([lines[0], ",".join(row), ",".join(bad)]) + "\n", encoding="utf-8")
    db = str(tmp_path / "v.db")
    imported = run("import-results", str(table), "--db", db)
    assert imported.exit_code == 1 and "[bold]x" in imported.output  # done, a row refused
    shown = run("tally", "--source", "table:t.csv", "--level", "state", "--db", db)
    assert shown.exit_code == 0 and "[/red]" in shown.output
    folder = tmp_path / "in"
    folder.mkdir()
    write(folder / "[red]x[bold].png", qr_image(payload()))
    assert run("scan", str(folder), "--db", db).exit_code == 0


def test_importers_exit_1_when_done_with_rows_refused(tmp_path):
    bulletins = tmp_path / "b.json"
    bulletins.write_text('{"bulletins": [{"id": "a", "votes": {"NM": 1}}, {"id": "b", "votes": {"NM": -1}}]}')
    electors = tmp_path / "e.csv"
    electors.write_text("CENTRO,MESA,RE\n010101001,1,500\n010101001,2,-4\n")
    db = str(tmp_path / "v.db")
    assert run("import-official", str(bulletins), "--db", db).exit_code == 1
    assert run("import-registry", str(electors), "--db", db).exit_code == 1
    good = tmp_path / "g.csv"
    good.write_text("CENTRO,MESA,RE\n010101001,1,500\n")
    assert run("import-registry", str(good), "--db", db).exit_code == 0
