"""Counts spelt as the acta prints them: one Spanish word per digit, four digits.

``149`` is printed "Cero, Uno, Cuatro, Nueve". Reading the words back tolerates small
OCR slips ("Cinca" → "Cinco") only when exactly one word is that close, so a doubtful
word becomes ``None``, never a guess.
"""

from __future__ import annotations

import re

DIGIT_WORDS = ("Cero", "Uno", "Dos", "Tres", "Cuatro", "Cinco", "Seis", "Siete", "Ocho", "Nueve")
WIDTH = 4
_LOOKUP = {w.lower(): d for d, w in enumerate(DIGIT_WORDS)}


def to_words(value: int, width: int = WIDTH) -> str:
    """``149`` → ``"Cero, Uno, Cuatro, Nueve"`` (zero-padded to ``width`` digits)."""
    if value < 0:
        raise ValueError("negative counts have no printed form")
    digits = str(value).zfill(width)
    return ", ".join(DIGIT_WORDS[int(d)] for d in digits)


def edit_distance(a: str, b: str) -> int:
    previous = list(range(len(b) + 1))
    for i, ca in enumerate(a, 1):
        current = [i]
        for j, cb in enumerate(b, 1):
            current.append(min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (ca != cb)))
        previous = current
    return previous[-1]


def word_digit(word: str) -> int | None:
    """The digit a (possibly misread) word stands for, or None when unsure."""
    w = word.strip().lower()
    if w in _LOOKUP:
        return _LOOKUP[w]
    if len(w) < 2:
        return None
    scored = sorted((edit_distance(w, k), d) for k, d in _LOOKUP.items())
    best, runner_up = scored[0], scored[1]
    # One slip in a word of four letters or more ("Sos" could be Dos or Seis: no guess);
    # never when two words are equally near.
    if best[0] == 1 and len(w) >= 4 and runner_up[0] > 1:
        return best[1]
    return None


def from_words(text: str, width: int = WIDTH) -> int | None:
    """``"Cero, Uno, Cuatro, Nueve"`` → ``149``; None unless exactly ``width`` words are sure."""
    # Words always start with a capital, which also splits "CeroCero" read without its comma.
    words = re.findall(r"[A-ZÁÉÍÓÚ][a-záéíóúñ]*|[a-záéíóúñ]+", text)
    if len(words) != width:
        return None
    digits = [word_digit(w) for w in words]
    if any(d is None for d in digits):
        return None
    return int("".join(str(d) for d in digits))
