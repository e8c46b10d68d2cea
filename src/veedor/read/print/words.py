"""Counts spelt as the receipt prints them: one word per digit, a fixed number of digits.

The words come from the definition (:mod:`.vocabulary`): on Venezuela's receipt ``149`` is
printed "Cero, Uno, Cuatro, Nueve". Reading the words back tolerates small OCR slips ("Cinca"
→ "Cinco") only when exactly one word is that close, so a doubtful word becomes ``None``,
never a guess.
"""

from __future__ import annotations

import re
from typing import Any

from rapidfuzz.distance import Levenshtein

from veedor.read.print.vocabulary import current


def digit_words() -> tuple[str, ...]:
    """The words for 0 to 9 of the receipt being read."""
    return current().digit_words


def words_per_count() -> int:
    """How many words spell one count on the receipt being read."""
    return current().width


def __getattr__(name: str) -> Any:
    # ``DIGIT_WORDS`` and ``WIDTH`` as module names, for callers outside a reading: the default
    # definition's (never a constant of this module).
    if name == "DIGIT_WORDS":
        return digit_words()
    if name == "WIDTH":
        return words_per_count()
    raise AttributeError(name)


def to_words(value: int, width: int | None = None) -> str:
    """``149`` → ``"Cero, Uno, Cuatro, Nueve"`` (zero-padded to the receipt's width)."""
    if value < 0:
        raise ValueError("negative counts have no printed form")
    words = digit_words()
    digits = str(value).zfill(words_per_count() if width is None else width)
    return ", ".join(words[int(d)] for d in digits)


def edit_distance(a: str, b: str) -> int:
    """Levenshtein distance: one insertion, deletion or substitution costs 1."""
    return int(Levenshtein.distance(a, b))


def word_digit(word: str) -> int | None:
    """The digit a (possibly misread) word stands for, or None when unsure."""
    lookup = current().lookup
    w = word.strip().lower()
    if w in lookup:
        return lookup[w]
    if len(w) < 2:
        return None
    scored = sorted((edit_distance(w, k), d) for k, d in lookup.items())
    best, runner_up = scored[0], scored[1]
    # One slip in a word of four letters or more ("Sos" could be Dos or Seis: no guess);
    # never when two words are equally near.
    if best[0] == 1 and len(w) >= 4 and runner_up[0] > 1:
        return best[1]
    return None


WORD_PATTERN = re.compile(r"[A-ZÁÉÍÓÚ][a-záéíóúñ]*|[a-záéíóúñ]+")
"""A word: a capital starts one, which also splits "CeroCero" read without its comma."""


def from_words(text: str, width: int | None = None) -> int | None:
    """``"Cero, Uno, Cuatro, Nueve"`` → ``149``; None unless exactly ``width`` words are sure."""
    words = WORD_PATTERN.findall(text)
    if len(words) != (words_per_count() if width is None else width):
        return None
    digits = [word_digit(w) for w in words]
    if any(d is None for d in digits):
        return None
    return int("".join(str(d) for d in digits))
