"""Why a file is not ok, in words a volunteer understands.

Pure functions: no OCR, no I/O. ``explain`` says why a file is not ok; the print's own checks
and its comparison with the QR are in :mod:`veedor.read.print.checks`.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from veedor.model import CheckResult

if TYPE_CHECKING:
    from veedor.read.print.parse import PrintReading


def explain(qr_status: str | None, printed: PrintReading | None, checks: Sequence[CheckResult] = ()) -> str:
    """One paragraph saying why a file is not ok, Spanish first then English.

    ``qr_status`` is the QR reader's own words (e.g. "QR cortado en el borde inferior /
    QR cut off at the bottom edge"), or None when the QR was read.
    """
    parts: list[str] = []
    if qr_status:
        parts.append(qr_status)
    if printed is None:
        parts.append("no se encontró la tabla impresa / printed table not found")
    else:
        failed = [c for c in printed.checks if not c.passed]
        parts.append(
            "tabla impresa leída / printed table read"
            + ("" if failed else "; todo cuadra / every check agrees")
        )
        parts += [c.detail for c in failed]
    parts += [c.detail for c in checks if not c.passed]
    return "; ".join(parts)
