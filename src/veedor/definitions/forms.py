"""A hand-filled form as a definition describes it (``reader`` of a ``boxed-form`` reader):
where each field's boxes are, which count each field is, and the sums that must hold.

Pure data and arithmetic: the reader (:mod:`veedor.read.form`) places the boxes on an image,
people type the numbers, and :func:`FormSpec.sums_hold` says whether a full set of values
agrees with itself.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, NoReturn

Box = tuple[float, float, float, float]
"""(x0, y0, x1, y1) in form units (see :mod:`veedor.read.form.marks`)."""

_COUNTS = re.compile(r"^(ballot:(?P<position>[0-9]{1,3})|nulos|blank)$")


@dataclass(frozen=True)
class FormField:
    key: str
    label: str
    digits_box: Box
    words_box: Box | None
    counts: str | None
    """Which count of the acta it is: ``ballot:<position>``, ``nulos`` or ``blank``; None for the
    form's other figures (its grand total, the ballots' and voters' balance)."""

    @property
    def box(self) -> Box:
        """Digits and words together: what a person compares with the number they type."""
        if self.words_box is None:
            return self.digits_box
        d, w = self.digits_box, self.words_box
        return (min(d[0], w[0]), min(d[1], w[1]), max(d[2], w[2]), max(d[3], w[3]))

    @property
    def entry_name(self) -> str | None:
        """The name of this count's input on the review desk's entry form (``v0``, ``nulos``)."""
        if self.counts is None:
            return None
        return f"v{self.counts.split(':')[1]}" if self.counts.startswith("ballot:") else self.counts


@dataclass(frozen=True)
class FormSum:
    name: str
    total: str
    add: tuple[str, ...]
    subtract: tuple[str, ...] = ()

    def holds(self, values: Mapping[str, int]) -> bool | None:
        """Whether ``total = Σ add − Σ subtract``; None when a value it needs is missing."""
        needed = (self.total, *self.add, *self.subtract)
        if any(key not in values for key in needed):
            return None
        return values[self.total] == sum(values[k] for k in self.add) - sum(values[k] for k in self.subtract)


@dataclass(frozen=True)
class FormSpec:
    bottom_marks_y: float
    mark_size: tuple[float, float]
    digits: int
    digit_words: tuple[str, ...]
    fields: tuple[FormField, ...]
    sums: tuple[FormSum, ...]
    identity_box: Box | None = None
    """Where the form prints its id's ``identity_group`` in type: read, and compared with the QR."""
    identity_group: str = "mesa"
    private: Box | None = None
    """Where the form holds personal data (names, identity numbers, signatures): never shown."""

    def field(self, key: str) -> FormField:
        return next(f for f in self.fields if f.key == key)

    def failed_sums(self, values: Mapping[str, int]) -> list[str]:
        """The names of the sums ``values`` break (those it has every value for)."""
        return [s.name for s in self.sums if s.holds(values) is False]


def parse_form(spec: Any, ballot_positions: int, fail: Callable[[str, str], NoReturn]) -> FormSpec:
    """Validate a ``boxed-form`` reader section; ``fail(where, message)`` raises."""
    if not isinstance(spec, dict):
        fail("reader", "expected an object")
    fields: list[FormField] = []
    raw_fields = spec.get("fields")
    if not isinstance(raw_fields, list) or not raw_fields:
        fail("reader.fields", "must be a non-empty list")
    for i, raw in enumerate(raw_fields):
        where = f"reader.fields[{i}]"
        if not isinstance(raw, dict) or not isinstance(raw.get("key"), str) or not raw["key"]:
            fail(where, "needs a 'key'")
        counts = raw.get("counts")
        if counts is not None:
            m = _COUNTS.match(str(counts))
            if m is None or (m["position"] is not None and int(m["position"]) >= ballot_positions):
                fail(
                    f"{where}.counts", f"{counts!r} is not ballot:<0..{ballot_positions - 1}>, nulos or blank"
                )
        words = raw.get("words_box")
        fields.append(
            FormField(
                raw["key"],
                str(raw.get("label", raw["key"])),
                _box(raw.get("digits_box"), f"{where}.digits_box", fail),
                None if words is None else _box(words, f"{where}.words_box", fail),
                counts,
            )
        )
    keys = [f.key for f in fields]
    if len(set(keys)) != len(keys):
        fail("reader.fields", "two fields with one key")
    counted = [f.counts for f in fields if f.counts is not None]
    if len(set(counted)) != len(counted):
        fail("reader.fields", "two fields for one count")
    missing = [f"ballot:{p}" for p in range(ballot_positions) if f"ballot:{p}" not in counted]
    if missing:
        fail("reader.fields", f"no field for {', '.join(missing)}")
    sums = []
    for i, raw in enumerate(spec.get("sums", [])):
        where = f"reader.sums[{i}]"
        if not isinstance(raw, dict):
            fail(where, "expected an object")
        named = [raw.get("total"), *raw.get("add", []), *raw.get("subtract", [])]
        unknown = [k for k in named if k not in keys]
        if unknown or not raw.get("add"):
            fail(where, f"needs a total and parts among the fields' keys; unknown: {unknown}")
        sums.append(
            FormSum(
                str(raw.get("name", f"sum_{i}")),
                raw["total"],
                tuple(raw["add"]),
                tuple(raw.get("subtract", [])),
            )
        )
    words = spec.get("digit_words")
    if not (isinstance(words, list) and len(words) == 10 and len({str(w).lower() for w in words}) == 10):
        fail("reader.digit_words", "must be the ten different words for 0 to 9")
    digits = spec.get("digits")
    if not isinstance(digits, int) or not 1 <= digits <= 9:
        fail("reader.digits", "must be the number of boxes of a count (1 to 9)")
    bottom = spec.get("bottom_marks_y")
    if not isinstance(bottom, (int, float)) or bottom <= 0:
        fail("reader.bottom_marks_y", "must be the bottom marks' y in form units (> 0)")
    size = spec.get("mark_size", [0.03, 0.07])
    if not (isinstance(size, list) and len(size) == 2 and 0 < size[0] < size[1] < 1):
        fail("reader.mark_size", "must be [smallest, largest] share of the image's width")
    identity = spec.get("identity_box")
    private = spec.get("private")
    if private is not None and not isinstance(private, dict):
        fail("reader.private", "must be an object with a 'box'")
    return FormSpec(
        float(bottom),
        (float(size[0]), float(size[1])),
        digits,
        tuple(str(w) for w in words),
        tuple(fields),
        tuple(sums),
        None if identity is None else _box(identity, "reader.identity_box", fail),
        str(spec.get("identity_group", "mesa")),
        None if private is None else _box(private.get("box"), "reader.private.box", fail),
    )


def _box(value: Any, where: str, fail: Callable[[str, str], NoReturn]) -> Box:
    if not (
        isinstance(value, list)
        and len(value) == 4
        and all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in value)
        and value[0] < value[2]
        and value[1] < value[3]
    ):
        fail(where, "must be [x0, y0, x1, y1] in form units, x0 < x1 and y0 < y1")
    return (float(value[0]), float(value[1]), float(value[2]), float(value[3]))
