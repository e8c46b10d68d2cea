"""People judge the copies of a mesa in conflict (the rule: :mod:`veedor.verify.verdicts`).

Each person's verdicts are appended; a copy's call, once settled, is appended too, and the
mesa is recomputed without the copies set aside. A copy settled as another mesa's is also
attached to that mesa as a copy with no numbers, for its reviewers to look at. A call that a
flagged reviewer helped settle is withdrawn by a new row, never edited.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from veedor.definitions import ElectionDefinition
from veedor.model import ActaState
from veedor.store import evidence_log as log
from veedor.store.accounts import SUPERVISING, ReviewError, flagged_ids, is_flagged, required_entries
from veedor.store.identify import attach_sheet, registered_mesa
from veedor.store.records import as_utc, combine_mesa, now
from veedor.store.schema import (
    ActaRecord,
    Evidence,
    ReviewCopyCall,
    ReviewLease,
    ReviewVerdict,
    User,
)
from veedor.verify.verdicts import OTHER, VERDICTS, CopyCall, Verdict, settle_copies

Said = Mapping[str, str]
"""What one person says of a mesa's copies: SHA-256 (or its first 12+ characters) to
"genuine", "forged", or the CENTRO.MESA code of the mesa whose acta it is."""


@dataclass
class Judged:
    state: str
    """The mesa's state afterwards."""
    calls: dict[str, CopyCall]
    """Every judged copy's call so far, by SHA-256."""

    @property
    def needs(self) -> str:
        """ "supervisor" when people disagree past the point another reviewer would help."""
        return "supervisor" if any(c.basis == "supervisor" for c in self.calls.values()) else "entry"


def judged_by(session: Session, record: ActaRecord, user: User) -> bool:
    mine = select(ReviewVerdict.id).where(
        ReviewVerdict.acta_pk == record.id, ReviewVerdict.user_id == user.id
    )
    return session.scalar(mine) is not None


def judge(
    session: Session, definition: ElectionDefinition, user: User, record: ActaRecord, said: Said
) -> Judged:
    """One person's verdicts on the copies of one mesa; settles each copy when the rule says so.
    Reviewers judge mesas in conflict, once each; a supervisor may judge any mesa, again."""
    if is_flagged(session, user.id) or user.disabled_at is not None:
        raise ReviewError(
            "esta cuenta no puede escribir entradas; hable con un supervisor / this account may not enter"
        )
    code = f"{record.centre}.{record.mesa:02d}"
    supervising = user.role in SUPERVISING
    if not supervising:
        if record.status != ActaState.CONFLICT.value:
            raise ReviewError(
                f"la mesa {code} no tiene copias en conflicto ({record.status}) / no copies in conflict"
            )
        if judged_by(session, record, user):
            raise ReviewError(f"ya juzgó las copias de la mesa {code} / you already judged mesa {code}")
        lease = session.get(ReviewLease, record.id)
        if lease is not None and lease.user_id != user.id and as_utc(lease.expires_at) > now():
            raise ReviewError(f"otra persona está revisando la mesa {code} / another person has this task")
    rows = _verdict_rows(session, definition, record, said)
    for sha, verdict, other in rows:
        session.add(
            ReviewVerdict(
                acta_pk=record.id, sha256=sha, user_id=user.id, at=now(), verdict=verdict, other=other
            )
        )
        log.append(
            session,
            "copy_verdict",
            {
                "centre": record.centre,
                "mesa": record.mesa,
                "image": sha,
                "by": user.name,
                "verdict": verdict,
                "other": other,
            },
        )
    session.flush()
    session.execute(delete(ReviewLease).where(ReviewLease.acta_pk == record.id))
    calls = apply_copies(session, definition, record)
    session.flush()  # the record as combined, never reloaded over its unflushed state
    return Judged(record.status, calls)


def _verdict_rows(
    session: Session, definition: ElectionDefinition, record: ActaRecord, said: Said
) -> list[tuple[str, str, str | None]]:
    """(copy, verdict, other mesa) for each copy named, checked: nothing is stored on a mistake."""
    if not isinstance(said, Mapping) or not said:
        raise ReviewError(
            'diga algo de al menos una copia: {"<sha256>": "genuine"|"forged"|"CENTRO.MESA"} / '
            "judge at least one copy"
        )
    copies = sorted(session.scalars(select(Evidence.sha256).where(Evidence.acta_pk == record.id)))
    rows: dict[str, tuple[str, str, str | None]] = {}
    for key, value in said.items():
        matches = [sha for sha in copies if isinstance(key, str) and len(key) >= 12 and sha.startswith(key)]
        if len(matches) != 1:
            raise ReviewError(f"{str(key)[:64]!r} no es una copia de esta mesa / not a copy of this mesa")
        if not isinstance(value, str):
            raise ReviewError(f"veredicto no válido {value!r} / invalid verdict")
        if value in VERDICTS and value != OTHER:
            verdict, other = value, None
        else:
            centre, mesa = registered_mesa(session, definition, value)
            if (centre, mesa) == (record.centre, record.mesa):
                raise ReviewError(
                    "esa es esta misma mesa: marque la copia como auténtica / that is this very mesa"
                )
            verdict, other = OTHER, f"{centre}.{mesa:02d}"
        rows[matches[0]] = (matches[0], verdict, other)
    return list(rows.values())


def apply_copies(session: Session, definition: ElectionDefinition, record: ActaRecord) -> dict[str, CopyCall]:
    """Settle each copy its verdicts now settle (a new call), withdraw a call they no longer
    support, and recompute the mesa without the copies set aside."""
    banned = flagged_ids(session)
    names = {u.id: (u.name, u.role in SUPERVISING) for u in session.scalars(select(User))}
    verdicts = [
        Verdict(v.id, names[v.user_id][0], v.sha256, v.verdict, v.other, names[v.user_id][1])
        for v in session.scalars(select(ReviewVerdict).where(ReviewVerdict.acta_pk == record.id))
        if v.user_id not in banned
    ]
    calls = settle_copies(verdicts, required_entries())
    latest: dict[str, tuple[str | None, str | None]] = {}
    for row in session.scalars(
        select(ReviewCopyCall).where(ReviewCopyCall.acta_pk == record.id).order_by(ReviewCopyCall.id)
    ):
        latest[row.sha256] = (row.verdict, row.other)
    changed = False
    for sha in sorted(set(calls) | set(latest)):
        call = calls.get(sha)
        now_said = (call.verdict, call.other) if call and call.verdict else (None, None)
        if now_said == latest.get(sha, (None, None)):
            continue
        session.add(
            ReviewCopyCall(
                acta_pk=record.id,
                sha256=sha,
                at=now(),
                verdict=now_said[0],
                other=now_said[1],
                basis=call.basis if call and call.verdict else "withdrawn",
                verdicts=list(call.verdicts) if call and call.verdict else [],
            )
        )
        log.append(
            session,
            "copy_call",
            {
                "centre": record.centre,
                "mesa": record.mesa,
                "image": sha,
                "verdict": now_said[0],
                "other": now_said[1],
                "basis": call.basis if call and call.verdict else "withdrawn",
            },
        )
        changed = True
        if now_said[0] == OTHER and now_said[1] is not None:
            centre, _, number = now_said[1].rpartition(".")
            who = sorted({v.reviewer for v in verdicts if v.id in (call.verdicts if call else ())})
            attach_sheet(session, definition, sha, centre, int(number), who)
    if changed:
        session.flush()
        combine_mesa(session, record, definition, cause="review")
    return calls


def verdict_trail(session: Session, record: ActaRecord) -> list[dict[str, object]]:
    """Every verdict and copy call on the mesa, people by pseudonym (for :func:`review.trail`)."""
    out: list[dict[str, object]] = []
    for verdict, name in session.execute(
        select(ReviewVerdict, User.name)
        .join(User, User.id == ReviewVerdict.user_id)
        .where(ReviewVerdict.acta_pk == record.id)
    ):
        out.append(
            {
                "at": verdict.at.isoformat(),
                "kind": "verdict",
                "id": verdict.id,
                "by": name,
                "image": verdict.sha256,
                "verdict": verdict.verdict,
                "other": verdict.other,
            }
        )
    for call in session.scalars(select(ReviewCopyCall).where(ReviewCopyCall.acta_pk == record.id)):
        out.append(
            {
                "at": call.at.isoformat(),
                "kind": "copy-call" if call.verdict else "copy-withdrawn",
                "id": call.id,
                "basis": call.basis,
                "image": call.sha256,
                "verdict": call.verdict,
                "other": call.other,
                "verdicts": call.verdicts,
            }
        )
    return out
