"""Tally: votes per candidate at any geography level, from scanned actas or an imported table.

:func:`tally` is the one code path: ``veedor tally``, the site, the exports and the library all
call it. Which rows count and which unit a row belongs to are written once, in
:mod:`veedor.tally.sources`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from veedor.tally.aggregate import TallyResult, TallyRow
from veedor.tally.sources import PRELIMINARY, SCAN, SourceError, check_level, preliminary_note, resolve_source

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

    from veedor.definitions import ElectionDefinition

__all__ = ["PRELIMINARY", "SCAN", "SourceError", "TallyResult", "TallyRow", "resolve_source", "tally"]


def tally(
    session: Session, definition: ElectionDefinition, level: str = "national", source: str = SCAN
) -> TallyResult:
    """Votes per candidate, nulos, actas and electors per unit of ``level`` (``national``, a level of
    the definition, or ``mesa``), each with its coverage; ``source`` is ``scan`` (verified mesas),
    :data:`PRELIMINARY` (plus the mesas only unconfirmed QR codes vouch for, said first in the
    notes) or ``table:<id|name>``. Raises :class:`SourceError` for a source or level that does
    not exist. Computed with Polars on a cached snapshot (:mod:`veedor.tally.columnar`); the tests
    hold it equal to the SQL reference, :func:`veedor.tally.aggregate.tally_sql`."""
    from veedor.tally import columnar

    check_level(definition, level)
    result = columnar.tally_columnar(session, definition, level, source)
    if source == PRELIMINARY and result.coverage is not None:
        result.coverage.notes.insert(0, preliminary_note(session, definition))
    return result
