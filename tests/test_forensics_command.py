"""``veedor forensics`` over the real V1 table and the CNE bulletins: the JSON the issue names,
bulletin 1's arithmetic, a 2BL statistic recomputed from the CSV by hand, the report in each
language, and the public site showing the latest report."""

from __future__ import annotations

import csv
import json
import shutil

import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner

import v1db
from veedor.cli import app as cli
from veedor.publish.forensics_report import battery_for, render_report, report_json, stored_bulletins

pytestmark = pytest.mark.slow  # the battery on 24,532 mesas, with few simulations


@pytest.fixture(scope="module")
def result(definition):
    with v1db.v1_store().session() as session:
        bulletins = stored_bulletins(session, definition)
        battery = battery_for(session, definition, "table:1", bulletins, reps=19, calibration_sims=0, seed=3)
    return report_json(battery, definition, "table:1")


def second_digit_mean(counts: list[int]) -> float:
    digits = [int(str(n)[1]) for n in counts if n >= 10]
    return sum(digits) / len(digits)


def test_the_json_has_every_field_the_issue_names_and_the_2bl_is_the_csvs(result):
    for t in result["tests"]:
        assert {
            "test",
            "candidate",
            "level",
            "n",
            "statistic",
            "expected",
            "p_value",
            "flag",
            "explanation",
        } <= set(t)
    with v1db.V1.open(encoding="utf-8-sig", newline="") as handle:
        rows = list(csv.DictReader(handle))
    for candidate in ("EG", "NM"):
        row = next(t for t in result["tests"] if t["test"] == "second_digit" and t["candidate"] == candidate)
        assert row["statistic"] == pytest.approx(
            second_digit_mean([int(r[candidate]) for r in rows]), abs=1e-9
        )
        assert row["expected"] is not None and 0 <= row["p_value"] <= 1


def test_bulletin_1_is_round_tenths_of_a_percent_with_its_probability(result):
    one = [b for b in result["bulletins"] if b["bulletin"] == "boletin-1" and b["probability"] is not None]
    assert one and one[0]["probability"] == pytest.approx(9.9e-9, rel=0.02)
    assert "Derivation" in one[0]["explanation"]


def test_the_report_is_one_language_at_a_time(result, definition):
    spanish, english = render_report(result, definition, "es"), render_report(result, definition, "en")
    assert "Análisis forense de la elección" in spanish and "Election forensics" not in spanish
    assert "Derivación" in spanish and "Derivation" not in spanish
    assert "Election forensics" in english and "Derivation" in english
    assert "data:image/png;base64," in english and "<script" not in english


def test_the_command_writes_the_report_and_the_site_shows_it(result, definition, tmp_path):
    from veedor.web.site import create_site

    source = v1db.v1_store().url.removeprefix("sqlite:///")
    if v1db.v1_store().url.startswith("postgresql"):
        pytest.skip("the command's run is the same on PostgreSQL; its copy is SQLite's")
    db = tmp_path / "v1.db"
    shutil.copy(source, db)
    out = tmp_path / "report"
    ran = CliRunner().invoke(
        cli,
        [
            "forensics",
            "--source",
            "table:1",
            "--reps",
            "19",
            "--calibration",
            "0",
            "--report",
            str(out),
            "--format",
            "json",
            "--db",
            str(db),
        ],
    )
    assert ran.exit_code == 0, ran.output
    data = json.loads((out / "forensics.json").read_text())
    assert (
        data["tests"]
        and data["bulletins"]
        and (out / "informe.html").is_file()
        and (out / "report.html").is_file()
    )
    from veedor.store import open_store

    site = TestClient(create_site(open_store(str(db)), definition, tmp_path / "ev"))
    page = site.get("/forensics")
    assert page.status_code == 200 and "Análisis forense" in page.text
    assert "style-src 'unsafe-inline'" in page.headers["content-security-policy"]
    assert 'href="/forensics"' in site.get("/").text
    bad = CliRunner().invoke(cli, ["forensics", "--official", "boletin-9", "--db", str(db)])
    assert bad.exit_code == 2 and "boletin-9" in bad.output
