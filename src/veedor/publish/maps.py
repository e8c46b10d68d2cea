"""Choropleth maps of a unit page's children, as data for an inline SVG (no script, no tiles,
nothing fetched from elsewhere): the coverage of each unit and the margin between the two
leading candidates, in a few classes a reader can tell apart (ColorBrewer's Blues and PuOr,
both safe for colour-blind readers and in print).

The outlines are projected and simplified once per boundary file; a page only colours them.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

import cv2
import numpy as np

from veedor.definitions import ElectionDefinition, MapSpec
from veedor.definitions.shapes import load_shapes

WIDTH = 360.0
TOLERANCE = 0.5
"""Douglas-Peucker tolerance in pixels of the drawn map: finer detail than this is not seen."""
NO_DATA = "#d9d9d9"
COVERAGE = ((0, "#eff3ff"), (20, "#bdd7e7"), (40, "#6baed6"), (60, "#3182bd"), (80, "#08519c"))
"""Lower bound of each class of coverage (% of mesas counted) and its colour."""
MARGIN_STEPS = (0, 10, 20)
"""Lower bounds of the margin's classes, in percentage points, on each side."""
LEADER = ("#d8daeb", "#998ec3", "#542788")
RUNNER_UP = ("#fee0b6", "#f1a340", "#b35806")


@dataclass(frozen=True)
class Outline:
    code: str | None
    name: str | None
    d: str
    """The SVG path, in the map's pixels."""


def outlines(spec: MapSpec) -> tuple[tuple[Outline, ...], float]:
    """Every shape of the map as an SVG path, and the map's height."""
    return _outlines(spec.boundaries, spec.feature_key, tuple(sorted(spec.codes.items())))


@cache
def _outlines(
    boundaries: Path, feature_key: str, codes: tuple[tuple[str, str], ...]
) -> tuple[tuple[Outline, ...], float]:
    shapes = load_shapes(MapSpec("", boundaries, feature_key, dict(codes), ""))
    lons = [lon for s in shapes for r in s.rings for lon, _ in r]
    lats = [lat for s in shapes for r in s.rings for _, lat in r]
    # Equirectangular at the map's middle latitude: true shapes near it, and a country-sized
    # map needs no more.
    squash = math.cos(math.radians((min(lats) + max(lats)) / 2))
    scale = WIDTH / ((max(lons) - min(lons)) * squash)
    height = round((max(lats) - min(lats)) * scale, 1)

    def svg_path(ring: tuple[tuple[float, float], ...]) -> str:
        xy = np.array(
            [((lon - min(lons)) * squash * scale, (max(lats) - lat) * scale) for lon, lat in ring],
            dtype=np.float32,
        )
        kept = cv2.approxPolyDP(xy.reshape(-1, 1, 2), TOLERANCE, True).reshape(-1, 2)
        if len(kept) < 3:
            return ""
        return "M" + "L".join(f"{x:.1f},{y:.1f}" for x, y in kept) + "Z"

    drawn = (Outline(s.code, s.name, "".join(svg_path(r) for r in s.rings)) for s in shapes)
    return tuple(o for o in drawn if o.d), height  # a sliver under a pixel is not drawn


def unit_maps(definition: ElectionDefinition, view: dict[str, Any]) -> list[dict[str, Any]]:
    """The maps of a unit page (see :func:`veedor.publish.views.Snapshot.unit`) whose children
    are the level the definition maps: coverage, and the margin where anything was counted."""
    spec = definition.map
    if spec is None or view.get("children_level") != spec.level:
        return []
    shapes, height = outlines(spec)
    children = {c["code"]: c for c in view.get("children", [])}
    maps = [_coverage(shapes, height, children)]
    leaders = _leaders(view)
    if leaders is not None:
        maps.append(_margin(shapes, height, children, leaders))
    return maps


def _area(outline: Outline, fill: str, value: float | None, child: dict[str, Any] | None) -> dict[str, Any]:
    return {
        "code": outline.code if child is not None else None,
        "name": (child or {}).get("name") or outline.name,
        "d": outline.d,
        "fill": fill,
        "value": value,
    }


def _coverage(shapes: tuple[Outline, ...], height: float, children: dict[str, Any]) -> dict[str, Any]:
    areas = []
    for outline in shapes:
        child = children.get(outline.code or "")
        pct = ((child or {}).get("coverage") or {}).get("coverage_pct")
        fill = NO_DATA if pct is None else next(c for low, c in reversed(COVERAGE) if pct >= low)
        areas.append(_area(outline, fill, pct, child))
    legend = [
        {"fill": colour, "low": low, "high": COVERAGE[i + 1][0] if i + 1 < len(COVERAGE) else 100}
        for i, (low, colour) in enumerate(COVERAGE)
    ]
    return {
        "kind": "coverage",
        "width": WIDTH,
        "height": height,
        "areas": areas,
        "legend": legend,
        "no_data": NO_DATA,
    }


def _leaders(view: dict[str, Any]) -> tuple[dict[str, str], dict[str, str]] | None:
    """The two candidates with most verified votes here, or None before anything is counted."""
    result = view.get("result")
    if not result or not result.get("valid"):
        return None
    ranked = sorted(view["candidates"], key=lambda c: -result["votes"].get(c["code"], 0))
    return (ranked[0], ranked[1]) if len(ranked) > 1 else None


def _margin(
    shapes: tuple[Outline, ...],
    height: float,
    children: dict[str, Any],
    leaders: tuple[dict[str, str], dict[str, str]],
) -> dict[str, Any]:
    first, second = leaders
    areas = []
    for outline in shapes:
        child = children.get(outline.code or "")
        votes, valid = (child or {}).get("votes"), (child or {}).get("valid") or 0
        if not votes or not valid:
            areas.append(_area(outline, NO_DATA, None, child))
            continue
        points = 100 * (votes.get(first["code"], 0) - votes.get(second["code"], 0)) / valid
        palette = LEADER if points >= 0 else RUNNER_UP
        step = max(i for i, low in enumerate(MARGIN_STEPS) if abs(points) >= low)
        areas.append(_area(outline, palette[step], round(points, 1), child))
    legend = [
        {
            "fill": palette[i],
            "who": who["name"],
            "low": low,
            "high": MARGIN_STEPS[i + 1] if i + 1 < len(MARGIN_STEPS) else None,
        }
        for who, palette in ((second, RUNNER_UP), (first, LEADER))
        for i, low in (enumerate(MARGIN_STEPS) if who is first else reversed(list(enumerate(MARGIN_STEPS))))
    ]
    return {
        "kind": "margin",
        "width": WIDTH,
        "height": height,
        "areas": areas,
        "legend": legend,
        "no_data": NO_DATA,
        "first": first["name"],
        "second": second["name"],
    }
