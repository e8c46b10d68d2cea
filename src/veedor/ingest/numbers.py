"""Counts and codes as people and adversaries write them: bounded, ASCII, or refused with a reason.

``str.isdigit`` accepts Arabic-Indic, Devanagari and superscript digits, and Python ints
have no size: a table cell of ``١٢`` or ``99999999999999999999`` must neither become a
state "0١" nor overflow the database. Every importer reads numbers through here.
"""

from __future__ import annotations

import unicodedata
from typing import Any

COUNT_MAX = 2**31 - 1
"""Above any real count (the database's integer), for values with no tighter bound."""


def ascii_digits(text: str) -> str | None:
    """``text`` with every Unicode decimal digit as its ASCII digit; None unless all are digits."""
    text = text.strip()
    if not text:
        return None
    out = []
    for ch in text:
        value = unicodedata.decimal(ch, None)
        if value is None:
            return None
        out.append(str(value))
    return "".join(out)


def count(value: Any, what: str, maximum: int = COUNT_MAX) -> int:
    """A non-negative integer count no larger than ``maximum``, or ValueError saying why."""
    if isinstance(value, (bool, float)):
        raise ValueError(f"{what}: {value!r} no es un entero ≥ 0 / not a non-negative integer")
    if isinstance(value, int):
        number = value
    else:
        text = str(value).strip()
        digits = ascii_digits(text) if len(text) <= 40 else None
        if digits is None:
            raise ValueError(f"{what}: {text[:40]!r} no es un entero ≥ 0 / not a non-negative integer")
        number = int(digits)
    if number < 0:
        raise ValueError(f"{what}: {number} es negativo / is negative")
    if number > maximum:
        raise ValueError(
            f"{what}: {number} supera el máximo posible {maximum} / exceeds the possible maximum"
        )
    return number


def code(value: Any, what: str, digits: int) -> str:
    """A geography code of at most ``digits`` ASCII digits, zero-padded, or ValueError.

    Spaces around it are stripped before its length is bounded: "  100000001" was cut to
    "  10000000" first, and became centre 010000000, in another state.
    """
    text = str(value).strip()
    normal = ascii_digits(text) if len(text) <= digits else None
    if normal is None:
        raise ValueError(f"{what}: código inválido / invalid code {text[:40]!r}")
    return normal.zfill(digits)
