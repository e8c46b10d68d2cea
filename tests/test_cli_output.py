"""Output people read: every candidate in the definition's order, summary tables first,
differences only, paging hints, plain progress in logs; scanning skips what is not an image;
the registry in one step; `veedor doctor`."""

from __future__ import annotations

import json
import re

import pytest
from typer.testing import CliRunner

from conftest import CENTRES, SAMPLES, V1
from veedor.cli import app

UNITS = SAMPLES / "registry" / "admin_units_resultadosconvzla_site_2024-08-01.csv"
BULLETINS = SAMPLES / "official" / "cne_bulletins_2024.json"


def run(*args: str, width: int = 200):
    result = CliRunner().invoke(app, ["--lang", "en", *args], terminal_width=width)
    return result.exit_code, result.output


@pytest.fixture(scope="module")
def db(tmp_path_factory) -> str:
    path = str(tmp_path_factory.mktemp("output") / "v.db")
    assert run("import-results", str(V1), "--db", path)[0] == 0
    assert run("import-official", str(BULLETINS), "--db", path)[0] == 0
    return path


def test_tally_shows_every_candidate_in_the_definitions_order(db):
    from veedor.definitions import load_definition

    codes = list(load_definition("ve-2024-presidential").candidate_codes)
    code, text = run("tally", "--source", "table:1", "--level", "state", "--db", db, width=400)
    header = next(line for line in text.splitlines() if " EG " in line)
    shown = [c for c in re.findall(r"[A-Z]{2,4}", header) if c in codes]
    assert code == 0 and shown == codes and "others" not in header
    national = run("tally", "--source", "table:1", "--db", db)[1]
    assert all(f"({c})" in national for c in codes)  # one line per candidate, by name and code
    code, text = run("tally", "--source", "table:1", "--level", "state", "--candidates", "nm,EG", "--db", db)
    header = next(line for line in text.splitlines() if " EG " in line)
    assert code == 0 and header.index(" EG ") < header.index(" NM ") and "others" in header
    assert run("tally", "--candidates", "XX", "--db", db)[0] == 2


def test_compare_leads_with_a_summary_filters_differences_and_pages(db, tmp_path):
    code, text = run("compare", "--source", "table:1", "-o", "boletin-2", "--db", db)
    assert code == 0 and text.index("Summary") < text.index("boletin-2 vs") < text.index(
        "verified 7,156,462 >"
    )
    code, text = run(
        "compare", "--source", "table:1", "--level", "mesa", "--only-differences", "--rows", "5", "--db", db
    )
    assert code == 0 and "no figures at level mesa" in text  # national bulletins: said, not an empty table
    code, text = run("compare", "--source", "table:1", "--level", "state", "--db", db)
    assert code == 0 and "no figures at level state" in text and "veedor compare --level national" in text
    code, text = run("compare", "--source", "table:1", "-o", "boletin-2", "--rows", "3", "--db", db)
    assert "showing 3 of 12 rows" in " ".join(text.split())
    code, text = run("compare", "--source", "table:1", "-o", "boletin-2", "--only-differences", "--db", db)
    assert code == 0 and "only the rows where the figures differ" in text
    evidence = tmp_path / "ev.csv"
    code, text = run(
        "compare", "--source", "table:1", "--level", "state", "--evidence", str(evidence), "--db", db
    )
    assert code == 0 and "was not written" in " ".join(text.split()) and not evidence.exists()
    assert run("compare", "-o", "boletin-9", "--source", "table:1", "--db", db)[0] == 2


def test_scenario_leads_with_a_summary_table_and_speaks_one_language(db):
    code, text = run("scenario", "--source", "table:1", "--db", db)
    flat = " ".join(text.split())
    assert code == 0 and flat.index("What the unverified mesas would have to give") < flat.index("•")
    assert "more than the valid votes left" in flat
    assert "el boletín" not in flat  # the Spanish sentences are not printed beside the English
    code, text = run("scenario", "--source", "table:1", "--db", db, "--format", "json")
    assert code == 0 and json.loads(text)[0]["official"] == "boletin-1"


def test_progress_is_plain_lines_when_the_output_is_not_a_terminal(capsys):
    from veedor.cli.common import Ticker

    ticker = Ticker("reading actas", total=3, every=0.0)
    with ticker.running():
        for kind in ("ok", "ok", "review"):
            ticker.advance(kind=kind)
    err = capsys.readouterr().err
    assert "reading actas: 3/3 (ok 2, review 1)" in err and "━" not in err and "\r" not in err


def test_scan_skips_what_is_not_an_image_and_stores_none_of_it(tmp_path):
    from imaging import payload, qr_image, write

    folder = tmp_path / "sim"
    folder.mkdir()
    write(folder / "acta.png", qr_image(payload()))
    write(folder / "acta-sin-extension", qr_image(payload(mesa=2)))  # an image, by its bytes
    (folder / "README.md").write_text("# a simulation\n")
    (folder / "truth.json").write_text('{"votes": [1, 2]}\n')
    (folder / "manifest.csv").write_text("file,mesa\nacta.png,1\n")
    (folder / "broken.jpg").write_bytes(b"\0" * 2048)  # an image by its name: read, and rejected
    db = str(tmp_path / "v.db")
    report = tmp_path / "r.jsonl"
    code, text = run("scan", str(folder), "--db", db, "--jsonl", str(report), "--workers", "1")
    flat = " ".join(text.split())
    assert code == 0 and "skipped 3 files that are not images" in flat
    files = {json.loads(line)["file"].rsplit("/", 1)[-1] for line in report.read_text().splitlines()}
    assert files == {"acta.png", "acta-sin-extension", "broken.jpg"}
    stored = {p.name for p in (tmp_path / "v-evidence").rglob("*") if p.is_file()}
    assert not any(name.endswith((".md", ".json", ".csv")) for name in stored)
    code, text = run("scan", str(folder), "--db", db, "--all-files", "--workers", "1")
    assert code == 0 and "skipped" not in text and "files in" in text


def test_the_registry_imports_in_one_step_in_any_order(tmp_path):
    db = str(tmp_path / "v.db")
    folder = tmp_path / "registry"
    folder.mkdir()
    for source in (UNITS, CENTRES):
        (folder / source.name).write_bytes(source.read_bytes())
    (folder / "README.md").write_text("not a table\n")
    # the electors first and the units before the centres: the command puts them in order
    code, text = run("import-registry", str(V1), str(folder), "--db", db)
    flat = " ".join(text.split())
    # done; the sample's own 6 ambiguous parish names are refused by line (exit 1), not 1,404 rows
    assert code == 1 and flat.count("unit not found") == 6 and "errors: 6" in flat, flat
    assert "README.md: not a registry file, skipped" in flat
    assert flat.index("rows of centres") < flat.index("rows of mesas and electors per unit")
    assert flat.index("rows of mesas and electors per unit") < flat.index("rows of electors per mesa")
    assert run("import-results", str(V1), "--db", db)[0] == 0
    code, text = run("tally", "--source", "table:1", "--level", "state", "--db", db, width=400)
    assert code == 0 and "/?" not in text and "1,534/2,260" in text
    assert run("import-registry", str(tmp_path / "nowhere"), "--db", db)[0] == 2


def test_doctor_checks_the_installation(tmp_path):
    db = str(tmp_path / "v.db")
    code, text = run("doctor", "--db", db, "--format", "json")
    checks = {c["name"]: c for c in json.loads(text)}
    assert code == 0, text
    assert checks["database"]["state"] == "warn" and "veedor scan" in checks["database"]["fix"]
    assert checks["OCR"]["state"] == "ok" and "PP-OCR" in checks["OCR"]["detail"]
    assert checks["QR decoder (zxing-cpp)"]["state"] == "ok"
    assert {"definition", "messages", "evidence disk", "python"} <= set(checks)
    assert run("--create", "tally", "--db", db)[0] == 0
    code, text = run("doctor", "--db", db, "--format", "json")
    assert {c["name"]: c for c in json.loads(text)}["database"]["state"] == "ok"
    code, text = run("doctor", "--db", db)
    assert code == 0 and "Ready" in text
