"""Bounds from the definition and the registry: no impossible number or id is counted or stored.

Issue 17's first class of failures: a QR or a table row with numbers no mesa can have, ids no
mesa can carry, digits from other scripts, and official bulletins that are malformed.
"""

from __future__ import annotations

import json

import pytest

from conftest import V1
from veedor.definitions.parsers import parse_payload
from veedor.ingest.numbers import code, count
from veedor.ingest.official import import_official
from veedor.ingest.tables import TableError, import_results_table
from veedor.model import Status
from veedor.verify.checks import RegistryView
from veedor.verify.decide import judge
from veedor.verify.grade import grade_copy


def qr(definition, text):
    acta = parse_payload(text, definition)
    verdict = judge(acta, (), None, definition, RegistryView(), cross_check=False)
    return verdict, grade_copy(verdict, None, cross_check=False)


def payload(definition, first=1, mesa=1):
    votes = [first, *([0] * (len(definition.ballot) - 1))]
    return f"040202001.{mesa:02d}.1.0001!{','.join(map(str, votes))}!0!0"


def test_a_qr_with_more_votes_than_any_mesa_has_is_never_counted(definition):
    verdict, copy = qr(definition, payload(definition, 999_999_999))
    failed = [c for c in verdict.checks if not c.passed]
    assert verdict.status is Status.REVIEW and [c.name for c in failed] == ["votes_within_electors"]
    assert copy.grade.value == "partial"  # a failed check: evidence for a person, no claim
    fine, _ = qr(definition, payload(definition, 300))
    assert all(c.passed for c in fine.checks)


def test_a_qr_for_mesa_zero_is_impossible_with_or_without_a_registry(definition):
    verdict, copy = qr(definition, payload(definition, mesa=0))
    assert "mesa_id_possible" in {c.name for c in verdict.checks if not c.passed}
    assert copy.grade.value == "partial"


@pytest.mark.parametrize(
    ("value", "expected"),
    [("١٢", 12), ("０７", 7), (" 42 ", 42), (7, 7)],
)
def test_digits_of_any_script_are_stored_as_ascii(value, expected):
    assert count(value, "x") == expected


@pytest.mark.parametrize("value", ["-3", -3, "2e3", "²", "12a", "", 3.0, True, "9" * 30, 2**63])
def test_impossible_counts_are_refused_with_a_reason(value):
    with pytest.raises(ValueError, match="x"):
        count(value, "x")


def test_codes_are_ascii_of_the_definitions_length():
    assert code("٤٠٢٠٢٠٠١", "c", 9) == "040202001"
    with pytest.raises(ValueError):
        code("1234567890", "c", 9)


def table(tmp_path, rows):
    lines = V1.read_text(encoding="utf-8-sig").splitlines()
    path = tmp_path / "t.csv"
    path.write_text("\n".join([lines[0], *rows]) + "\n", encoding="utf-8")
    return path, lines[1].split(",")


def test_impossible_table_rows_are_refused_by_line_and_the_rest_imports(tmp_path, store, definition):
    lines = V1.read_text(encoding="utf-8-sig").splitlines()
    header = lines[0].split(",")
    at = {name: i for i, name in enumerate(header)}
    good = lines[1].split(",")

    def variant(**cells):
        row = list(good)
        for name, value in cells.items():
            row[at[name]] = str(value)
        return ",".join(row)

    eg, valid = int(good[at["EG"]]), int(good[at["VOTOS_VALIDOS"]])
    rows = [
        variant(MESA=1),  # line 2: good
        variant(MESA=2, RE=10),  # more votes than electors
        variant(MESA=3, VOTOS_VALIDOS=valid + 1),  # stated total is not the candidates' sum
        variant(MESA=4, EG=eg + 10**20, VOTOS_VALIDOS=valid + 10**20),  # past any integer column
        variant(MESA=5, CENTRO="١٠١٠١٠٠١"),  # Arabic-Indic digits: stored as ASCII
        variant(MESA=6),
        variant(MESA=6, VOTOS_NULOS=int(good[at["VOTOS_NULOS"]]) + 1),  # listed twice, differently
        variant(MESA=0),
    ]
    path, _ = table(tmp_path, rows)
    with store.session() as session:
        summary = import_results_table(session, path, definition)
        from sqlalchemy import select

        from veedor.store.schema import ResultRow

        stored = {(r.centre, r.mesa) for r in session.scalars(select(ResultRow))}
    refused = {e["line"]: e["error"] for e in summary.errors}
    assert set(refused) == {3, 4, 5, 7, 9}
    assert "electores" in refused[3] and "suma" in refused[4] and "máximo" in refused[5]
    assert "distintos" in refused[7] and "mesa 0" in refused[9]
    centre = good[at["CENTRO"]].zfill(9)
    assert stored == {(centre, 1), ("010101001", 5)}


def bulletins(tmp_path, doc, name="b.json"):
    path = tmp_path / name
    path.write_text(doc if isinstance(doc, str) else json.dumps(doc))
    return path


def test_malformed_bulletins_are_refused_one_by_one(tmp_path, store, definition):
    doc = {
        "bulletins": [
            {"id": "ok", "votes": {"NM": 5, "EG": 4}},
            {"id": "negative", "votes": {"NM": -5}},
            {"id": "huge", "votes": {"NM": 10**30}},
            {"id": "list-as-object", "votes": ["NM", 5]},
            {"id": "units-as-numbers", "votes": {"NM": 1}, "units": [3]},
            {"id": "twice", "votes": {"NM": 1}},
            {"id": "twice", "votes": {"NM": 2}},
        ]
    }
    with store.session() as session:
        result = import_official(session, bulletins(tmp_path, doc), definition)
    assert result.keys == ["ok"]
    assert len(result.errors) == 5
    assert any("twice" in str(e["line"]) for e in result.errors)


def test_bulletins_nested_without_end_are_one_clear_error(tmp_path, store, definition):
    with store.session() as session, pytest.raises(TableError, match="anidado"):
        import_official(session, bulletins(tmp_path, "[" * 100_000 + "]" * 100_000), definition)


def test_a_huge_cell_or_a_quote_never_closed_is_one_refused_line(tmp_path, store, definition):
    lines = V1.read_text(encoding="utf-8-sig").splitlines()
    huge = lines[2].split(",")
    huge[1] = "x" * 1_000_000
    path = tmp_path / "t.csv"
    path.write_text("\n".join([lines[0], lines[1], ",".join(huge), lines[3], '"' + lines[4]]) + "\n")
    with store.session() as session:
        summary = import_results_table(session, path, definition)
    assert summary.rows == 2  # lines 2 and 4; the unclosed quote swallows the rest of its line
    errors = {e["line"]: str(e["error"]) for e in summary.errors}
    assert set(errors) == {3, 5} and "ilegible" in errors[3]


def test_arabic_digits_in_a_table_never_become_a_geography_code(tmp_path, store, definition):
    from sqlalchemy import select

    from veedor.store.schema import GeoUnit

    lines = V1.read_text(encoding="utf-8-sig").splitlines()
    header = lines[0].split(",")
    row = lines[1].split(",")
    row[header.index("CENTRO")] = "١٠١٠١٠٠١"
    path = tmp_path / "t.csv"
    path.write_text("\n".join([lines[0], ",".join(row)]) + "\n")
    with store.session() as session:
        import_results_table(session, path, definition)
        codes = set(session.scalars(select(GeoUnit.code)))
    assert codes and all(c.isascii() and c.isdigit() for c in codes)


def test_registry_rows_with_impossible_numbers_are_refused(tmp_path, store, definition):
    from veedor.ingest.registry import import_registry

    path = tmp_path / "electors.csv"
    path.write_text("CENTRO,MESA,RE\n010101001,1,500\n010101001,2,-4\n010101001,3,99999\n١٠١٠١٠٠١,4,300\n")
    with store.session() as session:
        summary = import_registry(session, path, definition)
    assert summary.rows == 2 and [e["line"] for e in summary.errors] == [3, 4]


def test_a_bulletin_giving_one_unit_twice_is_refused_not_a_crash(tmp_path, store, definition):
    """Found by bench/fuzz_parsers.py: a 'national' unit beside the bulletin's own total."""
    doc = {
        "bulletins": [{"id": "x", "votes": {"NM": 1}, "units": [{"level": "national", "votes": {"NM": 2}}]}]
    }
    with store.session() as session:
        result = import_official(session, bulletins(tmp_path, doc), definition)
    assert result.keys == [] and "dos veces" in str(result.errors[0]["error"])
