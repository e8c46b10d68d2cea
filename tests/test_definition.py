"""The election definition loads, validates, and drives the payload parser."""

from __future__ import annotations

import copy
import json

import pytest
from hypothesis import given
from hypothesis import strategies as st

from veedor.definitions import DefinitionError, load_definition
from veedor.definitions.parsers import PayloadError, parse_payload
from veedor.definitions.schema import parse_definition
from veedor.verify.checks import RegistryView, run_checks

REAL = (
    "040202001.01.1.0001!87,5,4,1,4,0,1,4,4,0,0,0,4,0,1,0,0,1,0,1,0,0,1,0,0,0,1,0,1,0,2,0,0,5,20,332,0,3!1!0"
)


def test_bundled_definition(definition):
    assert definition.candidate_codes == ("EG", "NM", "LM", "JABE", "JOBR", "AE", "CF", "DC", "EM", "BERA")
    assert len(definition.ballot) == 38
    assert definition.ballot[0].acronym == "PSUV" and definition.ballot[0].candidate == "NM"
    assert [b.candidate for b in definition.ballot[33:36]] == ["EG"] * 3
    assert [lv.code_digits for lv in definition.levels] == [2, 4, 6, 9]


def test_real_payload_totals(definition):
    acta = parse_payload(REAL, definition)
    assert (acta.centre, acta.mesa, acta.nulos, acta.extra) == ("040202001", 1, 1, {"blank": 0})
    totals = definition.totals_by_candidate(acta.votes)
    assert totals["EG"] == 357 and totals["NM"] == 114 and sum(totals.values()) == 482
    assert all(c.passed for c in run_checks(acta, definition, RegistryView()))


@pytest.mark.parametrize(
    ("mutate", "fragment"),
    [
        (lambda d: d.pop("candidates"), "candidates: missing"),
        (lambda d: d["ballot"][3].update(candidate="XX"), "ballot[3].candidate"),
        (lambda d: d["ballot"][5].update(position=9), "ballot[5].position"),
        (lambda d: d["payload"].update(acta_id_pattern="([0-9]"), "payload.acta_id_pattern"),
        (lambda d: d["payload"].update(acta_id_pattern="^(?P<x>.*)$"), "named groups"),
        (lambda d: d["checks"].append("no_such_check"), "unknown check 'no_such_check'"),
        (lambda d: d["payload"].update(parser="nope"), "payload.parser"),
        (lambda d: d["geography"]["levels"][1].update(code_digits=1), "coarse to fine"),
    ],
)
def test_broken_definition_is_precise(definition, mutate, fragment):
    raw = copy.deepcopy(definition.raw)
    mutate(raw)
    with pytest.raises(DefinitionError, match=None) as info:
        parse_definition(raw, source="broken.json")
    assert fragment in str(info.value)
    assert "broken.json" in str(info.value)


def test_invalid_json_file(tmp_path):
    bad = tmp_path / "bad.json"
    bad.write_text('{"id": "x",\n  "candidates": [}')
    with pytest.raises(DefinitionError, match=r"line 2"):
        load_definition(bad)


def test_copy_of_definition_loads_from_path(tmp_path, definition):
    path = tmp_path / "other-election.json"
    path.write_text(json.dumps(definition.raw))
    assert load_definition(path).id == definition.id


@pytest.mark.parametrize(
    ("text", "fragment"),
    [
        ("https://example.org/acta?id=1", "URL"),
        ("040202001.01.1.0001!1,2,3!0", "expected 4 fields"),
        ("0402.01.1.0001!" + ",".join(["1"] * 38) + "!0!0", "acta id"),
        ("040202001.01.1.0001!" + ",".join(["1"] * 37 + ["x"]) + "!0!0", "position 37"),
        ("040202001.01.1.0001!" + ",".join(["1"] * 38) + "!uno!0", "nulos"),
    ],
)
def test_grammar_rejections(definition, text, fragment):
    with pytest.raises(PayloadError, match=fragment):
        parse_payload(text, definition)


def test_checks_catch_wrong_numbers(definition):
    short = parse_payload("040202001.01.1.0001!" + ",".join(["1"] * 37) + "!0!0", definition)
    negative = parse_payload("040202001.01.1.0001!" + ",".join(["1"] * 37 + ["-4"]) + "!0!0", definition)
    blank = parse_payload("040202001.01.1.0001!" + ",".join(["1"] * 38) + "!0!3", definition)
    failed = {
        name: [c.name for c in run_checks(a, definition, RegistryView()) if not c.passed]
        for name, a in (("short", short), ("negative", negative), ("blank", blank))
    }
    assert failed == {
        "short": ["positions_count"],
        "negative": ["counts_non_negative"],
        "blank": ["blank_is_zero"],
    }


def test_registry_checks(definition):
    acta = parse_payload(REAL, definition)  # 482 valid + 1 null
    registry = RegistryView(
        centres=frozenset({"040202001"}), mesas_per_centre={"040202001": 3}, electors={("040202001", 1): 400}
    )
    result = {c.name: c.passed for c in run_checks(acta, definition, registry)}
    assert result["centre_in_registry"] and result["mesa_in_centre"]
    assert result["votes_within_electors"] is False
    unknown = RegistryView(centres=frozenset({"999999999"}))
    assert {c.name: c.passed for c in run_checks(acta, definition, unknown)}["centre_in_registry"] is False


@given(
    centre=st.from_regex(r"[0-9]{9}", fullmatch=True),
    mesa=st.integers(1, 99),
    votes=st.lists(st.integers(0, 999_999), min_size=38, max_size=38),
    nulos=st.integers(0, 99_999),
)
def test_payload_round_trip(definition, centre, mesa, votes, nulos):
    text = f"{centre}.{mesa:02d}.1.0001!{','.join(map(str, votes))}!{nulos}!0"
    acta = parse_payload(text, definition)
    assert (acta.centre, acta.mesa, list(acta.votes), acta.nulos) == (centre, mesa, votes, nulos)
