"""What the unverified tables would need to give: the official result is impossible, with numbers."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from v1db import v1_store
from veedor.cli import app
from veedor.ingest.official import import_official
from veedor.tally.scenario import scenario, sentences, verdict


def test_bulletin_2_is_impossible_for_any_electorate(v1_session, definition):
    s = scenario(v1_session, definition, "boletin-2", "table:1")
    c = {x.candidate: x for x in s.candidates}
    assert s.mesas_remaining == 30_026 - 24_532
    assert c["EG"].needed == -1_830_358 and "negative" in c["EG"].reasons
    assert c["NM"].needed == 3_167_383 and "exceeds_remaining_valid" in c["NM"].reasons
    assert s.remaining_valid == 12_335_884 - 10_659_128
    assert c["NM"].share_of_remaining_valid == pytest.approx(100 * 3_167_383 / 1_676_756)
    # Even if the bulletin's 96.87 % left out every unverified table, González keeps more than it says.
    assert c["EG"].floor > c["EG"].official and "below_floor" in c["EG"].reasons
    assert not s.possible and s.robust
    # The most generous electorate changes nothing: the argument does not use it.
    generous = scenario(v1_session, definition, "boletin-2", "table:1", electorates=[50_000_000])
    assert generous.robust
    es, en = verdict(s)
    assert en.startswith("No distribution") and "boletin-2" in es
    lines = dict(sentences(s))
    eg_en = next(v for v in lines.values() if v.startswith("Edmundo"))
    assert "-1,830,358" in eg_en and "IMPOSSIBLE" in eg_en


def test_turnout_needed_uses_remaining_electors(v1_session, definition):
    s = scenario(v1_session, definition, "boletin-2", "table:1", electorates=[21_321_805])
    remaining = 21_321_805 - 17_745_239
    assert s.remaining_electors(21_321_805) == remaining
    assert s.turnout_needed[21_321_805] == pytest.approx(100 * (12_386_669 - 10_660_267) / remaining)


def test_bulletin_1_is_impossible_even_as_a_partial_count(v1_session, definition):
    s = scenario(v1_session, definition, "boletin-1", "table:1")
    eg = next(c for c in s.candidates if c.candidate == "EG")
    assert s.partial and eg.floor > 4_445_978 and s.robust


def test_a_consistent_bulletin_is_possible(store, definition, tmp_path):
    from v1db import V1
    from veedor.ingest.tables import import_results_table

    path = tmp_path / "ok.json"
    path.write_text(
        json.dumps(
            {
                "bulletins": [
                    {
                        "id": "fair",
                        "actas_transmitted_pct": 100,
                        "votes": {"EG": 8_700_000, "NM": 4_000_000},
                        "others_total": 330_000,
                        "null_votes": 1_500,
                    }
                ]
            }
        )
    )
    with store.session() as s:
        import_results_table(s, V1, definition)
        import_official(s, path, definition)
        s.commit()
        result = scenario(s, definition, "fair", "table:1", electorates=[21_321_805])
        assert result.possible and not result.robust
        assert all(c.needed >= 0 for c in result.candidates)
        assert "posible" in sentences(result)[0][0]


def test_cli_scenario_json(v1_session):
    res = CliRunner().invoke(app, ["scenario", "--source", "table:1", "--db", v1_store().url, "-f", "json"])
    assert res.exit_code == 0, res.output
    data = {d["official"]: d for d in json.loads(res.output)}
    assert set(data) == {"boletin-1", "boletin-2"}
    assert data["boletin-2"]["impossible_for_any_electorate"] is True
