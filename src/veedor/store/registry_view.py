"""Build the checks' :class:`RegistryView` snapshot from the stored geography."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from veedor.definitions import ElectionDefinition
from veedor.store.schema import GeoUnit, Mesa
from veedor.verify.checks import RegistryView


def registry_view(session: Session, definition: ElectionDefinition) -> RegistryView:
    centre_level = definition.levels[-1].name
    rows = session.execute(
        select(GeoUnit.code, GeoUnit.mesas_total).where(
            GeoUnit.election == definition.id,
            GeoUnit.level == centre_level,
            GeoUnit.source != "results-table",
        )
    ).all()
    listed = session.execute(
        select(Mesa.centre, Mesa.number, Mesa.electors).where(Mesa.election == definition.id)
    ).all()
    electors = {(centre, number): n for centre, number, n in listed if n is not None}
    # Only where the definition checks it: a set of every mesa is kept (and sent to every worker)
    # for nothing otherwise.
    every = "mesa_in_registry" in definition.checks
    mesas = frozenset((centre, number) for centre, number, _ in listed) if every else frozenset()
    return RegistryView(
        centres=frozenset(code for code, _ in rows),
        mesas_per_centre={code: n for code, n in rows if n},
        electors=electors,
        mesas=mesas,
    )
