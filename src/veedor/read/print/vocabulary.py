"""What the receipt reader must know of one election's receipt, from its definition (``reader``):
the words for the digits and how many of them spell a count, the summary rows' labels, the
electors' label, and the acta id's pattern (``payload.acta_id_pattern``).

``read_print`` reads each sheet under its definition's vocabulary (:func:`using`); the helpers
deep in the reader (:mod:`.words`, :mod:`.lexicon`, :mod:`.rows`, :mod:`.summary`) ask
:func:`current` rather than carry it through every call. Outside a reading (tests, tools) the
default definition's vocabulary applies.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from functools import cache
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from veedor.definitions.schema import ElectionDefinition


@dataclass(frozen=True)
class Vocabulary:
    digit_words: tuple[str, ...]
    """The printed word for each digit, 0 to 9."""
    width: int
    """How many words spell one count (its digits, zero-padded)."""
    summary_labels: tuple[str, ...]
    """The summary rows' labels in printed order, lower case."""
    electors_label: str
    acta_id: re.Pattern[str]
    """The acta id as it may appear inside a line of text (the payload pattern, unanchored)."""
    centre: re.Pattern[str]
    """A line that is a centre code alone."""

    @property
    def lookup(self) -> dict[str, int]:
        """Lower-case word → its digit."""
        return _lookup(self.digit_words)

    @property
    def word_chars(self) -> str:
        """The letters the number words use, a comma and a space: the recogniser's alphabet for
        a count in words."""
        return "".join(sorted({c for w in self.digit_words for c in w})) + ", "

    @property
    def label_chars(self) -> str:
        return "".join(sorted({c for label in self.summary_labels for c in label + label.title()}))

    @property
    def id_chars(self) -> str:
        """What an acta id is made of (its digits and separators), from the pattern's own text."""
        literals = set(re.findall(r"\\([^\w\s])", self.acta_id.pattern))  # escaped separators: "\."
        return "0123456789" + "".join(sorted(literals)) + " "


@cache
def _lookup(words: tuple[str, ...]) -> dict[str, int]:
    return {w.lower(): d for d, w in enumerate(words)}


_CACHE: dict[tuple[str, int], Vocabulary] = {}


def of(definition: ElectionDefinition) -> Vocabulary:
    key = (definition.id, id(definition.raw))
    if key not in _CACHE:
        spec = definition.reader
        pattern = definition.payload.get("acta_id_pattern") or "(?!)"
        # Named groups and anchors are the payload's; inside a printed line the id is searched.
        unanchored = pattern.removeprefix("^").removesuffix("$")
        _CACHE[key] = Vocabulary(
            digit_words=tuple(spec["digit_words"]),
            width=int(spec["word_digits"]),
            summary_labels=tuple(label.lower() for label in spec["summary_labels"]),
            electors_label=spec["electors_label"],
            acta_id=re.compile(unanchored),
            centre=re.compile(rf"^\s*(\d{{{definition.centre_code_digits}}})\s*$"),
        )
    return _CACHE[key]


_CURRENT: ContextVar[Vocabulary | None] = ContextVar("receipt_vocabulary", default=None)


def current() -> Vocabulary:
    found = _CURRENT.get()
    return found if found is not None else _default()


@cache
def _default() -> Vocabulary:
    from veedor.definitions import DEFAULT_DEFINITION, load_definition

    return of(load_definition(DEFAULT_DEFINITION))


@contextmanager
def using(definition: ElectionDefinition) -> Iterator[Vocabulary]:
    """Read under ``definition``'s vocabulary."""
    token = _CURRENT.set(of(definition))
    try:
        yield _CURRENT.get() or current()
    finally:
        _CURRENT.reset(token)
