"""The public site's maps: the crosswalk from the boundary file's ISO 3166-2 codes to the CNE's
state codes holds against the registry's names, hostile boundary files are refused with a
reason, and each state is coloured by its own numbers and links to its own page."""

from __future__ import annotations

import csv
import json
import unicodedata
from pathlib import Path

import pytest
from rapidfuzz import fuzz, process

from v1db import UNITS
from veedor.definitions import DefinitionError, load_definition
from veedor.definitions.schema import parse_definition
from veedor.definitions.shapes import load_shapes
from veedor.publish.maps import COVERAGE, LEADER, NO_DATA, RUNNER_UP, unit_maps


def plain(name: str) -> str:
    text = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode().upper()
    for prefix in ("EDO.", "DTTO."):
        text = text.removeprefix(prefix)
    return text.replace(".", " ").strip()


def test_every_state_of_the_registry_has_its_own_shape_and_the_names_agree(definition):
    with UNITS.open(encoding="utf-8", newline="") as handle:
        states = {
            f"{int(row['site_id']):02d}": row["name"]
            for row in csv.DictReader(handle)
            if row["level"] == "estado"
        }
    shapes = load_shapes(definition.map)
    mapped = {s.code: s for s in shapes if s.code is not None}
    assert sorted(mapped) == sorted(states) and len(states) == 24
    registry_names = {code: plain(name) for code, name in states.items()}
    for code, shape in mapped.items():
        if shape.key == "VE-X":  # the boundary file predates La Guaira's new name (2019)
            assert shape.name == "Vargas" and states[code] == "EDO. LA GUAIRA"
            continue
        best, score, found = process.extractOne(plain(shape.name), registry_names, scorer=fuzz.WRatio)
        assert found == code, (shape.key, shape.name, best, score)
    unmapped = {s.key for s in shapes if s.code is None}
    assert unmapped == {"VE-W", "VE-X01~"}  # Dependencias Federales, and an unnamed sliver


def view(children: dict[str, tuple[float | None, dict[str, int] | None]]) -> dict:
    candidates = [{"code": "A", "name": "Ana"}, {"code": "B", "name": "Beto"}, {"code": "C", "name": "Cira"}]
    rows = [
        {
            "code": code,
            "name": f"state {code}",
            "votes": votes,
            "valid": sum(votes.values()) if votes else 0,
            "coverage": {"coverage_pct": pct},
        }
        for code, (pct, votes) in children.items()
    ]
    return {
        "children_level": "state",
        "children": rows,
        "candidates": candidates,
        "result": {"valid": 300, "votes": {"A": 100, "B": 180, "C": 20}},
    }


def test_each_state_is_coloured_by_its_own_numbers_and_links_to_itself(definition):
    coverage, margin = unit_maps(
        definition,
        view({"04": (85.0, {"A": 10, "B": 90}), "24": (5.0, {"A": 60, "B": 40}), "13": (None, None)}),
    )
    by_code = {a["code"]: a for a in coverage["areas"] if a["code"]}
    assert set(by_code) == {"04", "24", "13"}
    assert by_code["04"]["fill"] == COVERAGE[-1][1] and by_code["24"]["fill"] == COVERAGE[0][1]
    assert by_code["13"]["fill"] == NO_DATA and by_code["04"]["name"] == "state 04"
    # States the view does not name (no registry row, no acta) are drawn, without data or link.
    assert sum(a["code"] is None for a in coverage["areas"]) == len(coverage["areas"]) - 3
    assert all(a["fill"] == NO_DATA for a in coverage["areas"] if a["code"] is None)
    # The margin is of the two leaders nationally (Beto over Ana), in points of valid votes.
    assert (margin["first"], margin["second"]) == ("Beto", "Ana")
    points = {a["code"]: (a["value"], a["fill"]) for a in margin["areas"] if a["code"]}
    assert points["04"] == (80.0, LEADER[2]) and points["24"] == (-20.0, RUNNER_UP[2])
    assert points["13"] == (None, NO_DATA)
    assert all(a["d"].startswith("M") for a in margin["areas"])


def test_no_map_below_the_mapped_level_nor_a_margin_before_anything_is_counted(definition):
    assert unit_maps(definition, {**view({}), "children_level": "municipality"}) == []
    empty = unit_maps(definition, {**view({"04": (0.0, None)}), "result": None})
    assert [m["kind"] for m in empty] == ["coverage"]


def boundaries(tmp_path: Path, content: object) -> Path:
    path = tmp_path / "b.geojson"
    path.write_text(content if isinstance(content, str) else json.dumps(content))
    return path


SQUARE = [[[0, 0], [1, 0], [1, 1], [0, 0]]]


@pytest.mark.parametrize(
    "content",
    [
        "not json {",
        {"type": "Feature"},
        {"type": "FeatureCollection", "features": {}},
        {"type": "FeatureCollection", "features": [{"properties": {}, "geometry": None}]},
        {
            "type": "FeatureCollection",
            "features": [{"properties": {"ISO": "A"}, "geometry": {"type": "Point", "coordinates": [0, 0]}}],
        },
        {
            "type": "FeatureCollection",
            "features": [
                {
                    "properties": {"ISO": "A"},
                    "geometry": {"type": "Polygon", "coordinates": [[[0, 0], [500, 0], [1, 1]]]},
                }
            ],
        },
        {
            "type": "FeatureCollection",
            "features": [
                {
                    "properties": {"ISO": "A"},
                    "geometry": {"type": "Polygon", "coordinates": [[["0", 0], [1, 0], [1, 1]]]},
                }
            ],
        },
        '{"type": "FeatureCollection", "features": [{"properties": {"ISO": "A"}, "geometry": {"type": "Polygon", "coordinates": [[[NaN, 0], [1, 0], [1, 1]]]}}]}',
        {
            "type": "FeatureCollection",
            "features": [{"properties": {"ISO": "A"}, "geometry": {"type": "Polygon", "coordinates": SQUARE}}]
            * 2,
        },
    ],
    ids=[
        "not-json",
        "not-collection",
        "features-not-list",
        "no-key",
        "point",
        "longitude-500",
        "string",
        "nan",
        "repeated-key",
    ],
)
def test_a_broken_boundary_file_is_refused_with_a_reason(tmp_path, definition, content):
    raw = json.loads(json.dumps(definition.raw))
    raw["geography"]["map"]["boundaries"] = "b.geojson"
    raw["geography"]["map"]["codes"] = {"A": "01"}
    boundaries(tmp_path, content)
    spec = parse_definition(raw, base=tmp_path).map
    assert spec is not None
    with pytest.raises(DefinitionError, match=r"invalid map b\.geojson"):
        load_shapes(spec)


@pytest.mark.parametrize(
    ("change", "says"),
    [
        ({"boundaries": "../../etc/passwd"}, "inside the definition's folder"),
        ({"boundaries": "/etc/passwd"}, "inside the definition's folder"),
        ({"boundaries": "missing.geojson"}, "file not found"),
        ({"level": "galaxy"}, "not one of the levels"),
        ({"codes": {"VE-A": "1"}}, "code of 2 digits"),
        ({"codes": {"VE-A": "01", "VE-B": "01"}}, "same unit"),
    ],
)
def test_a_definition_naming_a_bad_map_is_refused(definition, change, says):
    raw = json.loads(json.dumps(definition.raw))
    raw["geography"]["map"].update(change)
    with pytest.raises(DefinitionError, match=says):
        parse_definition(raw)


def test_a_definition_without_a_map_draws_none():
    raw = json.loads(json.dumps(load_definition("ve-2024-presidential").raw))
    del raw["geography"]["map"]
    bare = parse_definition(raw)
    assert bare.map is None and unit_maps(bare, view({"04": (50.0, {"A": 1})})) == []
