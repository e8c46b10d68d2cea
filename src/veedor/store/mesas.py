"""Mesas as people ask about them: which are counted, which are not and why, and one mesa's
copies and history side by side (``veedor mesas``, ``veedor mesa``)."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from veedor.definitions import ElectionDefinition
from veedor.store.records import grade_of
from veedor.store.schema import ActaRecord, Evidence, MesaEvent


@dataclass(frozen=True)
class MesaRow:
    centre: str
    mesa: int
    state: str
    reason: str | None
    copies: dict[str, int]
    """Copies per grade."""
    alerts: list[dict[str, str]]
    votes: list[int] | None
    nulos: int | None

    @property
    def code(self) -> str:
        return f"{self.centre}.{self.mesa:02d}"

    def as_dict(self) -> dict[str, Any]:
        return {
            "code": self.code,
            "centro": self.centre,
            "mesa": self.mesa,
            "state": self.state,
            "counted": self.state == "ok",
            "reason": self.reason,
            "copies": self.copies,
            "alerts": self.alerts,
            "votes": self.votes,
            "nulos": self.nulos,
        }


def list_mesas(
    session: Session,
    definition: ElectionDefinition,
    *,
    state: str | None = None,
    with_alerts: bool = False,
    centre_prefix: str = "",
) -> list[MesaRow]:
    """Every scanned mesa (or those in ``state``, with alerts, under a geography code)."""
    query = select(ActaRecord).where(ActaRecord.election == definition.id)
    if state:
        query = query.where(ActaRecord.status == state)
    if centre_prefix:
        query = query.where(ActaRecord.centre.startswith(centre_prefix))
    records = list(session.scalars(query.order_by(ActaRecord.centre, ActaRecord.mesa)))
    if with_alerts:
        records = [r for r in records if r.alerts]
    grades: dict[int, Counter[str]] = {r.id: Counter() for r in records}
    if records:
        rows = session.execute(
            select(Evidence.acta_pk, Evidence.grade, Evidence.status, func.count())
            .where(Evidence.acta_pk.in_(list(grades)))
            .group_by(Evidence.acta_pk, Evidence.grade, Evidence.status)
        )
        for pk, grade, status, n in rows:
            grades[pk][grade_of(Evidence(grade=grade, status=status)).value] += n
    return [
        MesaRow(r.centre, r.mesa, r.status, r.reason, dict(grades[r.id]), r.alerts or [], r.votes, r.nulos)
        for r in records
    ]


@dataclass
class MesaDetail:
    row: MesaRow
    copies: list[dict[str, Any]] = field(default_factory=list)
    history: list[dict[str, Any]] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return {**self.row.as_dict(), "copies": self.copies, "history": self.history}


def mesa_detail(
    session: Session, definition: ElectionDefinition, centre: str, mesa: int
) -> MesaDetail | None:
    """One mesa: its state, every copy (image hash, grade, numbers) and every change of state."""
    rows = [r for r in list_mesas(session, definition, centre_prefix=centre) if r.mesa == mesa]
    if not rows or rows[0].centre != centre:
        return None
    record = session.scalar(
        select(ActaRecord).where(
            ActaRecord.election == definition.id, ActaRecord.centre == centre, ActaRecord.mesa == mesa
        )
    )
    assert record is not None
    detail = MesaDetail(rows[0])
    for e in session.scalars(select(Evidence).where(Evidence.acta_pk == record.id).order_by(Evidence.sha256)):
        detail.copies.append(
            {
                "sha256": e.sha256,
                "grade": grade_of(e).value,
                "file_status": e.status,
                "source": e.source,
                "votes": e.votes,
                "nulos": e.nulos,
                "printed": e.printed,
                "printed_nulos": e.printed_nulos,
            }
        )
    for ev in session.scalars(select(MesaEvent).where(MesaEvent.acta_pk == record.id).order_by(MesaEvent.id)):
        detail.history.append(
            {
                "at": ev.at.isoformat(),
                "state": ev.state,
                "previous": ev.previous,
                "cause": ev.cause,
                "sha256": ev.sha256,
                "reason": ev.reason,
                "alerts": ev.alerts or [],
            }
        )
    return detail
