"""Read one acta image: QR ladder first, then the sheet's print; every attempt is kept as evidence."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from veedor.definitions.parsers import PayloadError, parse_payload
from veedor.definitions.schema import ElectionDefinition
from veedor.model import ActaCounts, Reading
from veedor.read.qr import attempts

if TYPE_CHECKING:
    from veedor.read.print import PrintReading


@dataclass(frozen=True)
class QrResult:
    acta: ActaCounts | None
    readings: tuple[Reading, ...]
    problems: tuple[str, ...]
    """Why texts that were found could not be used (foreign QR, grammar errors...)."""
    several_actas: tuple[ActaCounts, ...] = ()


def read_qr(gray: np.ndarray, definition: ElectionDefinition) -> QrResult:
    readings: list[Reading] = []
    problems: list[str] = []
    for decoded in attempts(gray):
        if not decoded.texts:
            readings.append(Reading("qr", decoded.engine, decoded.variant, None, decoded.ms))
        parsed: list[ActaCounts] = []
        for text in decoded.texts:
            readings.append(Reading("qr", decoded.engine, decoded.variant, text, decoded.ms))
            try:
                parsed.append(parse_payload(text, definition))
            except PayloadError as exc:
                problems.append(f"código QR leído pero no es un acta válida: {exc}")
        # Same mesa with other numbers is as suspicious as another mesa: a sticker beside the
        # real QR must never be settled by picking one of them.
        distinct = {
            (acta.key, acta.votes, acta.nulos, tuple(sorted(acta.extra.items()))): acta for acta in parsed
        }
        if len(distinct) > 1:
            return QrResult(None, tuple(readings), tuple(problems), tuple(distinct.values()))
        if parsed:
            return QrResult(parsed[0], tuple(readings), tuple(problems))
    return QrResult(None, tuple(readings), tuple(problems))


@dataclass(frozen=True)
class ActaReading:
    """What one image says: the QR's readings and the print's, before anything is judged."""

    qr: QrResult
    claim: ActaCounts | None
    """The QR's numbers, when the definition's code carries counts."""
    identity: ActaCounts | None
    """The acta the code names, when it carries no counts (``payload.counts`` false)."""
    printed: PrintReading | None
    print_reading: Reading | None


def read_acta(gray: np.ndarray, definition: ElectionDefinition, *, cross_check: bool = True) -> ActaReading:
    """The QR ladder, then the definition's sheet reader on the print (which picks its own views).
    Several different acta codes in one image: nothing more is read (a person must look)."""
    from veedor.read.readers import get_reader

    qr = read_qr(gray, definition)
    if qr.several_actas:
        return ActaReading(qr, None, None, None, None)
    # A code that names the acta and carries no counts is its identity, never a claim.
    claim, identity = (qr.acta, None) if definition.qr_counts else (None, qr.acta)
    reader = get_reader(definition.reader["name"])
    printed, print_reading = reader.read(gray, definition, claim, identity, cross_check)
    return ActaReading(qr, claim, identity, printed, print_reading)
