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
        digits = ascii_digits(str(value)[:40])
        if digits is None or len(str(value)) > 40:
            raise ValueError(f"{what}: {str(value)[:40]!r} no es un entero ≥ 0 / not a non-negative integer")
        number = int(digits)
    if number < 0:
        raise ValueError(f"{what}: {number} es negativo / is negative")
    if number > maximum:
        raise ValueError(
            f"{what}: {number} supera el máximo posible {maximum} / exceeds the possible maximum"
        )
    return number


def code(value: Any, what: str, digits: int) -> str:
    """A geography code of at most ``digits`` ASCII digits, zero-padded, or ValueError."""
    normal = ascii_digits(str(value)[: digits + 1])
    if normal is None or len(normal) > digits:
        raise ValueError(f"{what}: código inválido / invalid code {str(value)[:40]!r}")
    return normal.zfill(digits)
