"""What a tally counts, written once: which rows (a source, the mesa states it counts) and which
unit each row belongs to at a level (the level-to-code rule, for SQL and for Polars).

Every tally, coverage figure, comparison, estimate and export asks here; none writes these
rules again. A unit's code is its centre code's first ``code_digits`` digits (the definition's
geography), ``""`` for the whole country, and ``centre.mesa`` (two digits) for a single mesa.
"""

from __future__ import annotations

from typing import Any

import polars as pl
from sqlalchemy import func, literal, select
from sqlalchemy.orm import Session

from veedor.definitions import ElectionDefinition
from veedor.model import ActaState
from veedor.store.schema import ActaRecord, ResultTable

NATIONAL = "national"
MESA = "mesa"
SCAN = "scan"
"""Scanned actas, ``ok`` only: the verified figure."""
PRELIMINARY = "scan+unconfirmed"
"""The source of ``veedor tally --include unconfirmed``: verified mesas plus the mesas only QR
codes vouch for, a separate preliminary figure (never the verified one)."""
TABLE = "table"


class SourceError(ValueError):
    """A source or level that this election does not have; the message says which exist."""


def counted_states(source: str) -> tuple[str, ...]:
    """The mesa states a scanned source counts: ``ok`` only, unless it is the preliminary figure."""
    if source == PRELIMINARY:
        return (ActaState.OK.value, ActaState.UNCONFIRMED.value)
    return (ActaState.OK.value,)


def is_scanned(source: str) -> bool:
    return source in (SCAN, PRELIMINARY)


def resolve_source(
    session: Session, definition: ElectionDefinition, source: str
) -> tuple[str, int | None, str]:
    """``scan``, the preliminary figure or ``table:<id|name>`` (a bare table name works too) →
    (kind: ``scan`` or ``table``, table id, label)."""
    if source == SCAN:
        return SCAN, None, "actas escaneadas (solo ok) / scanned actas (ok only)"
    if source == PRELIMINARY:
        return (
            SCAN,
            None,
            "CIFRA PRELIMINAR: actas verificadas + mesas con solo QR sin confirmar / "
            "PRELIMINARY FIGURE: verified actas + mesas with unconfirmed QR codes only",
        )
    ref = source.removeprefix("table:")
    query = select(ResultTable).where(ResultTable.election == definition.id)
    tables = list(session.scalars(query.order_by(ResultTable.id)))
    for table in tables:
        if ref in (str(table.id), table.name, table.sha256):
            return TABLE, table.id, f"tabla importada / imported table {table.name}"
    names = ", ".join(f"{t.id}:{t.name}" for t in tables) or "ninguna / none (use veedor import-results)"
    raise SourceError(f"fuente desconocida / unknown source {source!r}; tablas / tables: {names}")


def preliminary_note(session: Session, definition: ElectionDefinition) -> str:
    """What the preliminary figure adds to the verified one, said first wherever it is shown."""
    n = session.scalar(
        select(func.count()).where(
            ActaRecord.election == definition.id, ActaRecord.status == ActaState.UNCONFIRMED.value
        )
    )
    return (
        f"CIFRA PRELIMINAR: incluye {n:,} mesas con solo QR que ninguna impresión confirma; no es la "
        f"cifra verificada (veedor tally sin --include) / PRELIMINARY: includes {n:,} mesas only "
        "unconfirmed QR codes vouch for; not the verified figure"
    )


def levels(definition: ElectionDefinition) -> list[str]:
    """Every level a tally can be asked for, coarsest first."""
    return [NATIONAL, *(lv.name for lv in definition.levels), MESA]


def check_level(definition: ElectionDefinition, level: str) -> None:
    if level not in levels(definition):
        raise SourceError(
            f"nivel desconocido / unknown level {level!r}; known: {', '.join(levels(definition))}"
        )


def level_digits(definition: ElectionDefinition, level: str) -> int:
    """How many leading digits of a centre code name a unit of ``level`` (0: the country)."""
    return 0 if level == NATIONAL else definition.level(level).code_digits


def unit_sql(definition: ElectionDefinition, level: str, centre_col: Any) -> Any:
    """The unit code of a row at ``level`` (not ``mesa``: group by centre and mesa), in SQL."""
    digits = level_digits(definition, level)
    return literal("") if digits == 0 else func.substr(centre_col, 1, digits)


def code_prefix(digits: int, column: str = "centre") -> pl.Expr:
    """The first ``digits`` of a code column (``""`` for 0), in Polars."""
    if digits == 0:
        return pl.lit("")
    return pl.col(column).str.slice(0, digits)


def unit_frame(
    definition: ElectionDefinition, level: str, column: str = "centre", mesa_column: str = "mesa"
) -> pl.Expr:
    """The unit code of a row at ``level``, in Polars (``mesa``: ``centre.NN``)."""
    if level == MESA:
        return pl.format("{}.{}", pl.col(column), pl.col(mesa_column).cast(pl.Utf8).str.zfill(2))
    digits = level_digits(definition, level)
    if column == "centre" and digits == definition.centre_code_digits:
        return pl.col(column)  # whole centre codes already: no slice saves a copy of a million strings
    return code_prefix(digits, column)
