"""Read one acta image: QR ladder first; every attempt is kept as evidence."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from veedor.definitions.parsers import PayloadError, parse_payload
from veedor.definitions.schema import ElectionDefinition
from veedor.model import ActaCounts, Reading
from veedor.read.qr import attempts


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
