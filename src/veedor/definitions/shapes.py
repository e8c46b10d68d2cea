"""The boundaries a definition's map draws (``geography.map``): its GeoJSON file read once,
checked, and each feature tied to the election's unit code through the definition's crosswalk.

The file is data a definition brings, so it is checked like any input: a FeatureCollection of
Polygons and MultiPolygons with finite longitudes and latitudes, of bounded size.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

from veedor.definitions.schema import DefinitionError, MapSpec

MAX_BYTES = 20 * 1024 * 1024
MAX_POINTS = 1_000_000

Ring = tuple[tuple[float, float], ...]
"""(longitude, latitude) pairs, in degrees."""


@dataclass(frozen=True)
class Shape:
    key: str
    """The feature's own key (e.g. ``VE-X``)."""
    name: str | None
    """The name the boundary file gives (may be out of date: the unit's name comes from the registry)."""
    code: str | None
    """The election's unit code, or None where the crosswalk has none (drawn without data)."""
    rings: tuple[Ring, ...]


def load_shapes(spec: MapSpec) -> tuple[Shape, ...]:
    """Every feature of ``spec``'s boundary file, with its unit code."""
    return tuple(
        Shape(key, name, spec.codes.get(key), rings)
        for key, name, rings in _features(spec.boundaries, spec.feature_key)
    )


@cache
def _features(path: Path, key_field: str) -> tuple[tuple[str, str | None, tuple[Ring, ...]], ...]:
    def fail(message: str) -> DefinitionError:
        return DefinitionError(f"mapa inválido / invalid map {path.name}: {message}")

    if path.stat().st_size > MAX_BYTES:
        raise fail(f"larger than {MAX_BYTES // 2**20} MiB")
    try:
        data = json.loads(path.read_bytes())
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise fail(f"not JSON ({exc})") from None
    if not isinstance(data, dict) or data.get("type") != "FeatureCollection":
        raise fail("not a GeoJSON FeatureCollection")
    features = data.get("features")
    if not isinstance(features, list):
        raise fail("no list of features")
    out, points, seen = [], 0, set()
    for i, feature in enumerate(features):
        properties = feature.get("properties") if isinstance(feature, dict) else None
        key = properties.get(key_field) if isinstance(properties, dict) else None
        if not isinstance(key, str) or not key or key in seen:
            raise fail(f"feature {i}: no {key_field!r} of its own")
        seen.add(key)
        name = properties.get("NAME_1") or properties.get("name")  # type: ignore[union-attr]
        rings = _rings(feature.get("geometry"))
        if rings is None:
            raise fail(f"feature {key}: geometry must be a Polygon or MultiPolygon of [lon, lat] points")
        points += sum(len(r) for r in rings)
        if points > MAX_POINTS:
            raise fail(f"more than {MAX_POINTS:,} points")
        out.append((key, name if isinstance(name, str) else None, rings))
    return tuple(out)


def _rings(geometry: Any) -> tuple[Ring, ...] | None:
    if not isinstance(geometry, dict):
        return None
    kind, coordinates = geometry.get("type"), geometry.get("coordinates")
    polygons = [coordinates] if kind == "Polygon" else coordinates if kind == "MultiPolygon" else None
    if not isinstance(polygons, list):
        return None
    rings: list[Ring] = []
    for polygon in polygons:
        if not isinstance(polygon, list):
            return None
        for ring in polygon:
            points = _points(ring)
            if points is None:
                return None
            rings.append(points)
    return tuple(rings)


def _points(ring: Any) -> Ring | None:
    if not isinstance(ring, list) or len(ring) < 3:
        return None
    points = []
    for point in ring:
        if not (isinstance(point, list) and len(point) >= 2):
            return None
        lon, lat = point[0], point[1]
        if not all(isinstance(x, (int, float)) and not isinstance(x, bool) for x in (lon, lat)):
            return None
        if not (math.isfinite(lon) and math.isfinite(lat) and -180 <= lon <= 180 and -90 <= lat <= 90):
            return None
        points.append((float(lon), float(lat)))
    return tuple(points)
