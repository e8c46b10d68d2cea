"""Load and validate an election definition file."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any, NoReturn

from veedor.definitions.forms import FormSpec, parse_form

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
class IncidentKind:
    """A kind of incident a witness may report at a centre (``incident_kinds``), with its label
    in each language: the list is the election's, not the code's."""

    code: str
    label_es: str
    label_en: str

    def label(self, lang: str) -> str:
        return self.label_en if lang == "en" else self.label_es


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
    reader: dict[str, Any] = field(default_factory=lambda: {"name": "none"})
    """How the sheet itself is read (``reader.name``: a reader registered in
    :mod:`veedor.read.readers`), with what that reader needs to know of this election's sheet."""
    form: FormSpec | None = None
    """The boxes and sums of a hand-filled form (a ``boxed-form`` reader), checked on load."""
    unit_names: dict[str, str] = field(default_factory=dict)
    """Unit code → name as the authority writes it (geography.unit_names): lets a table that
    names its units, without codes, say which unit each row is in."""
    incident_kinds: tuple[IncidentKind, ...] = ()
    """What witnesses may report from a centre (optional; none: the field app offers no form)."""

    @property
    def qr_counts(self) -> bool:
        """Whether the code carries the counts (False: it names the acta only, ``payload.counts``)."""
        return self.payload.get("counts", True) is not False

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
    from veedor.verify.checks import known_checks

    checks = tuple(v.string_list(obj, "checks"))
    for name in checks:
        if name not in known_checks():
            v.fail("checks", f"unknown check {name!r}; known: {sorted(known_checks())}")
    names = v.mapping(obj.get("name"), "name")
    from veedor.definitions.parsers import get_parser

    try:
        get_parser(payload["parser"])
    except KeyError as exc:
        v.fail("payload.parser", str(exc))
    if "counts" in payload and not isinstance(payload["counts"], bool):
        v.fail("payload.counts", "must be true or false")
    reader, form = _reader(v, obj, len(ballot))
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
        reader=reader,
        form=form,
        unit_names=_unit_names(v, geo, levels),
        incident_kinds=_incident_kinds(v, obj),
    )


def _incident_kinds(v: _Validator, obj: dict[str, Any]) -> tuple[IncidentKind, ...]:
    """``incident_kinds``, optional: each a ``code`` (letters, digits, ``_``) and a label in
    each language; codes unique."""
    if "incident_kinds" not in obj:
        return ()
    raw = obj["incident_kinds"]
    if not isinstance(raw, list):
        v.fail("incident_kinds", "must be a list")
    kinds = []
    for i, item in enumerate(raw):
        where = f"incident_kinds[{i}]"
        code = v.string(item, where, key="code")
        if not re.fullmatch(r"[a-z0-9_]{1,48}", code):
            v.fail(f"{where}.code", "lower-case letters, digits and _ only, at most 48")
        label = v.mapping(item.get("label"), f"{where}.label")
        kinds.append(
            IncidentKind(
                code, v.string(label, f"{where}.label", key="es"), v.string(label, f"{where}.label", key="en")
            )
        )
    codes = [k.code for k in kinds]
    if len(set(codes)) != len(codes):
        v.fail("incident_kinds", f"códigos repetidos / duplicate codes: {sorted(codes)}")
    return tuple(kinds)


def _reader(v: _Validator, obj: dict[str, Any], positions: int) -> tuple[dict[str, Any], FormSpec | None]:
    """``reader``, optional (none: the sheet's print is not read): a registered reader's name,
    and what that reader needs, checked whole."""
    if "reader" not in obj:
        return {"name": "none"}, None
    spec = v.mapping(obj["reader"], "reader")
    name = v.string(spec, "reader", key="name")
    from veedor.read.readers import known_readers

    if name not in known_readers():
        v.fail("reader.name", f"unknown reader {name!r}; registered: {sorted(known_readers())}")
    form = parse_form(spec, positions, v.fail) if name == "boxed-form" else None
    if name == "thermal-receipt":
        words = spec.get("digit_words")
        if not (
            isinstance(words, list) and len(words) == 10 and all(isinstance(w, str) and w for w in words)
        ):
            v.fail("reader.digit_words", "must be the ten words for 0 to 9")
        if len({w.lower() for w in words}) != 10:
            v.fail("reader.digit_words", "two digits with one word")
        labels = spec.get("summary_labels")
        if not (
            isinstance(labels, list) and len(labels) == 8 and all(isinstance(s, str) and s for s in labels)
        ):
            v.fail("reader.summary_labels", "must be the eight summary rows' labels, in printed order")
        v.string(spec, "reader", key="electors_label")
        v.integer(spec, "reader", key="word_digits")
    return spec, form


def _unit_names(v: _Validator, geo: dict[str, Any], levels: list[GeoLevel]) -> dict[str, str]:
    """``geography.unit_names``, optional: every code a level's length, its parent named too."""
    names = v.mapping(geo.get("unit_names", {}), "geography.unit_names")
    lengths = {lv.code_digits for lv in levels}
    for code, name in names.items():
        if not (code.isascii() and code.isdigit() and len(code) in lengths):
            v.fail(f"geography.unit_names.{code}", "must be a level's code (ASCII digits, a level's length)")
        if not isinstance(name, str) or not name.strip():
            v.fail(f"geography.unit_names.{code}", "must be a non-empty name")
        parents = [lv.code_digits for lv in levels if lv.code_digits < len(code)]
        if parents and code[: parents[-1]] not in names:
            v.fail(f"geography.unit_names.{code}", f"its parent {code[: parents[-1]]} has no name")
    return dict(names)


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
