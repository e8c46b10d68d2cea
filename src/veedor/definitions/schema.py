"""Load and validate an election definition file."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any, NoReturn

BUNDLED_DIR = Path(__file__).parent


class DefinitionError(ValueError):
    """A definition file is broken; the message says where and how."""


@dataclass(frozen=True)
class Candidate:
    code: str
    name: str


@dataclass(frozen=True)
class BallotPosition:
    position: int
    acronym: str
    party_code: int | None
    candidate: str


@dataclass(frozen=True)
class GeoLevel:
    name: str
    label_es: str
    label_en: str
    code_digits: int


@dataclass(frozen=True)
class MapSpec:
    """The map of one geography level (``geography.map``): a GeoJSON file of its units and the
    crosswalk from each feature's key (e.g. an ISO 3166-2 code) to the election's unit code."""

    level: str
    boundaries: Path
    feature_key: str
    codes: dict[str, str]
    source: str


@dataclass(frozen=True)
class ElectionDefinition:
    id: str
    name_es: str
    name_en: str
    candidates: tuple[Candidate, ...]
    ballot: tuple[BallotPosition, ...]
    levels: tuple[GeoLevel, ...]
    centre_code_digits: int
    national_mesas: int | None
    payload: dict[str, Any]
    checks: tuple[str, ...]
    results_tables: dict[str, dict[str, Any]]
    registry: dict[str, Any]
    raw: dict[str, Any] = field(repr=False, compare=False)
    max_voters_per_mesa: int | None = None
    """No mesa can have more voters (geography.max_voters_per_mesa, with its source): the bound
    on every count where the mesa's registered electors are unknown."""
    map: MapSpec | None = None
    """The map the public site draws (geography.map), if the definition brings one."""

    @property
    def candidate_codes(self) -> tuple[str, ...]:
        return tuple(c.code for c in self.candidates)

    def candidate_name(self, code: str) -> str:
        return next(c.name for c in self.candidates if c.code == code)

    def level(self, name: str) -> GeoLevel:
        for level in self.levels:
            if level.name == name:
                return level
        known = ", ".join(lvl.name for lvl in self.levels)
        raise DefinitionError(f"nivel desconocido / unknown level {name!r}; known: {known}")

    def totals_by_candidate(self, votes: tuple[int, ...] | list[int]) -> dict[str, int]:
        """Sum ballot-position counts into per-candidate totals, in candidate order."""
        totals = dict.fromkeys(self.candidate_codes, 0)
        for pos, count in zip(self.ballot, votes, strict=True):
            totals[pos.candidate] += count
        return totals


def available_definitions() -> list[str]:
    return sorted(p.stem for p in BUNDLED_DIR.glob("*.json"))


def load_definition(name_or_path: str | Path) -> ElectionDefinition:
    """Load a bundled definition by id, or any definition file by path."""
    path = Path(name_or_path)
    if not path.suffix:
        path = BUNDLED_DIR / f"{name_or_path}.json"
    return _load(path.resolve())


@cache
def _load(path: Path) -> ElectionDefinition:
    if not path.is_file():
        raise DefinitionError(
            f"no existe la definición / definition not found: {path} "
            f"(bundled: {', '.join(available_definitions())})"
        )
    try:
        raw = json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as exc:
        raise DefinitionError(
            f"{path.name}: JSON inválido / invalid JSON at line {exc.lineno}, column {exc.colno}: {exc.msg}"
        ) from exc
    return parse_definition(raw, source=path.name, base=path.parent)


def parse_definition(raw: Any, source: str = "<definition>", base: Path = BUNDLED_DIR) -> ElectionDefinition:
    """Validate a decoded definition; every error names the offending key. Files it names
    (a map's boundaries) are found beside it, in ``base``."""
    v = _Validator(source)
    obj = v.mapping(raw, "")
    candidates = tuple(
        Candidate(
            code=v.string(c, f"candidates[{i}].code", key="code"),
            name=v.string(c, f"candidates[{i}].name", key="name"),
        )
        for i, c in enumerate(v.nonempty_list(obj, "candidates"))
    )
    codes = [c.code for c in candidates]
    if len(set(codes)) != len(codes):
        v.fail("candidates", f"códigos repetidos / duplicate codes: {sorted(codes)}")
    ballot = []
    for i, b in enumerate(v.nonempty_list(obj, "ballot")):
        where = f"ballot[{i}]"
        pos = v.integer(b, where, key="position")
        if pos != i:
            v.fail(f"{where}.position", f"expected {i} (positions must be in order), got {pos}")
        cand = v.string(b, where, key="candidate")
        if cand not in codes:
            v.fail(f"{where}.candidate", f"{cand!r} is not one of the candidates {codes}")
        party = b.get("party_code")
        if party is not None and not isinstance(party, int):
            v.fail(f"{where}.party_code", "must be an integer or null")
        ballot.append(BallotPosition(pos, v.string(b, where, key="acronym"), party, cand))
    geo = v.mapping(obj.get("geography"), "geography")
    levels = []
    previous = 0
    for i, lv in enumerate(v.nonempty_list(geo, "levels", where="geography")):
        where = f"geography.levels[{i}]"
        digits = v.integer(lv, where, key="code_digits")
        if digits <= previous:
            v.fail(f"{where}.code_digits", "levels must go from coarse to fine (growing code_digits)")
        previous = digits
        label = v.mapping(lv.get("label"), f"{where}.label")
        levels.append(
            GeoLevel(
                v.string(lv, where, key="name"),
                v.string(label, f"{where}.label", key="es"),
                v.string(label, f"{where}.label", key="en"),
                digits,
            )
        )
    centre_digits = v.integer(geo, "geography", key="centre_code_digits")
    if levels[-1].code_digits != centre_digits:
        v.fail("geography.levels", "the last (finest) level must have centre_code_digits digits")
    payload = v.mapping(obj.get("payload"), "payload")
    v.string(payload, "payload", key="parser")
    pattern = payload.get("acta_id_pattern")
    if pattern is not None:
        try:
            groups = re.compile(pattern).groupindex
        except re.error as exc:
            v.fail("payload.acta_id_pattern", f"invalid regular expression: {exc}")
        if not {"centre", "mesa"} <= set(groups):
            v.fail("payload.acta_id_pattern", "needs named groups 'centre' and 'mesa'")
    from veedor.verify.checks import KNOWN_CHECKS

    checks = tuple(v.string_list(obj, "checks"))
    for name in checks:
        if name not in KNOWN_CHECKS:
            v.fail("checks", f"unknown check {name!r}; known: {sorted(KNOWN_CHECKS)}")
    names = v.mapping(obj.get("name"), "name")
    from veedor.definitions.parsers import get_parser

    try:
        get_parser(payload["parser"])
    except KeyError as exc:
        v.fail("payload.parser", str(exc))
    return ElectionDefinition(
        id=v.string(obj, "", key="id"),
        name_es=v.string(names, "name", key="es"),
        name_en=v.string(names, "name", key="en"),
        candidates=candidates,
        ballot=tuple(ballot),
        levels=tuple(levels),
        centre_code_digits=centre_digits,
        national_mesas=geo.get("national_mesas"),
        payload=payload,
        checks=checks,
        results_tables=obj.get("results_tables", {}),
        registry=obj.get("registry", {}),
        raw=obj,
        max_voters_per_mesa=_bound(v, geo, "max_voters_per_mesa"),
        map=_map(v, geo, levels, base),
    )


def _map(v: _Validator, geo: dict[str, Any], levels: list[GeoLevel], base: Path) -> MapSpec | None:
    """``geography.map``, optional: which level it draws, the boundary file beside the
    definition or bundled (no absolute path, no way out of its folder) and the crosswalk."""
    if "map" not in geo:
        return None
    spec = v.mapping(geo["map"], "geography.map")
    level = v.string(spec, "geography.map", key="level")
    digits = next((lv.code_digits for lv in levels if lv.name == level), None)
    if digits is None:
        v.fail("geography.map.level", f"{level!r} is not one of the levels")
    name = v.string(spec, "geography.map", key="boundaries")
    relative = Path(name)
    if relative.is_absolute() or ".." in relative.parts:
        v.fail("geography.map.boundaries", "must be a path inside the definition's folder")
    # Beside the definition, else among the bundled ones: a copy of a bundled definition, edited
    # elsewhere, keeps its map.
    path = next((p for p in (base / relative, BUNDLED_DIR / relative) if p.is_file()), base / relative)
    if not path.is_file():
        v.fail("geography.map.boundaries", f"file not found: {name}")
    codes = v.mapping(spec.get("codes"), "geography.map.codes")
    for key, code in codes.items():
        if not (isinstance(code, str) and code.isascii() and code.isdigit() and len(code) == digits):
            v.fail(f"geography.map.codes.{key}", f"must be a {level} code of {digits} digits")
    if len(set(codes.values())) != len(codes):
        v.fail("geography.map.codes", "two features map to the same unit")
    return MapSpec(
        level,
        path,
        v.string(spec, "geography.map", key="feature_key"),
        dict(codes),
        v.string(spec, "geography.map", key="source"),
    )


def _bound(v: _Validator, geo: dict[str, Any], key: str) -> int | None:
    """An optional bound ``{"value": N, "source": "why"}``: a number without its reason is refused."""
    if key not in geo:
        return None
    spec = v.mapping(geo[key], f"geography.{key}")
    value = v.integer(spec, f"geography.{key}", key="value")
    v.string(spec, f"geography.{key}", key="source")
    if value < 1:
        v.fail(f"geography.{key}", "must be ≥ 1")
    return value


class _Validator:
    def __init__(self, source: str) -> None:
        self.source = source

    def fail(self, where: str, message: str) -> NoReturn:
        raise DefinitionError(
            f"definición inválida / invalid definition {self.source}: {where or '<root>'}: {message}"
        )

    def mapping(self, value: Any, where: str) -> dict[str, Any]:
        if not isinstance(value, dict):
            self.fail(where, f"expected an object, got {type(value).__name__}")
        return value

    def _get(self, obj: Any, where: str, key: str) -> Any:
        obj = self.mapping(obj, where)
        if key not in obj:
            self.fail(f"{where}.{key}".lstrip("."), "missing")
        return obj[key]

    def string(self, obj: Any, where: str, *, key: str) -> str:
        value = self._get(obj, where, key)
        if not isinstance(value, str) or not value.strip():
            self.fail(f"{where}.{key}".lstrip("."), "must be a non-empty string")
        return value

    def integer(self, obj: Any, where: str, *, key: str) -> int:
        value = self._get(obj, where, key)
        if not isinstance(value, int) or isinstance(value, bool):
            self.fail(f"{where}.{key}".lstrip("."), f"must be an integer, got {value!r}")
        return value

    def nonempty_list(self, obj: Any, key: str, where: str = "") -> list[Any]:
        value = self._get(obj, where, key)
        if not isinstance(value, list) or not value:
            self.fail(f"{where}.{key}".lstrip("."), "must be a non-empty list")
        return value

    def string_list(self, obj: Any, key: str) -> list[str]:
        value = self._get(obj, "", key)
        if not isinstance(value, list) or not all(isinstance(x, str) for x in value):
            self.fail(key, "must be a list of strings")
        return value
