"""The review desk's library: accounts, the queue, blind entries, settling and scoring.

The CLI (``veedor users``, ``veedor review``) and the desk's pages are thin faces over these
functions, so an entry typed anywhere is counted the same way. Everything a person does is
appended (entries, decisions, account events); a settlement is withdrawn by a new row, never
edited. The rule itself is pure: :mod:`veedor.verify.settle`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Select, delete, func, insert, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from veedor.definitions import ElectionDefinition
from veedor.model import ActaState, Grade
from veedor.store import evidence_log as log
from veedor.store.accounts import (
    LEASE,
    ROLES,
    SUPERVISING,
    ReviewError,
    event,
    flagged_ids,
    is_flagged,
    required_entries,
    user_named,
)
from veedor.store.records import (
    as_utc,
    combine_mesa,
    grade_of,
    now,
    people_settled,
    set_aside_among,
    set_aside_of,
)
from veedor.store.schema import (
    ActaRecord,
    Evidence,
    Mesa,
    ReviewDecision,
    ReviewEntry,
    ReviewLease,
    ReviewPin,
    ReviewVerdict,
    User,
    UserEvent,
)
from veedor.store.verdicts import Judged, apply_copies, judge, verdict_trail
from veedor.verify.settle import Entry, Settlement, Typed, flagged, scores, settle
from veedor.verify.verdicts import Verdict, settle_copies

OPEN_STATES = (ActaState.REVIEW.value, ActaState.CONFLICT.value, ActaState.UNCONFIRMED.value)


# -- the queue ---------------------------------------------------------------------------


@dataclass
class Task:
    acta_pk: int
    code: str
    """CENTRO.MESA, as ``veedor tally --level mesa`` writes it."""
    state: str
    reason: str
    electors: int | None
    images: list[str]
    entries: int
    needs: str
    """"entry" (a reviewer's blind entry) or "supervisor"."""
    leased_to: str | None = None
    entered_by: list[str] = field(default_factory=list)
    detail: str | None = None
    """The machine's own reason (it may quote numbers it read): for supervisors only."""
    judged_by: list[str] = field(default_factory=list)
    """Who gave verdicts on its copies (a mesa in conflict)."""

    def as_dict(self, *, reviewer_view: bool = True) -> dict[str, Any]:
        data: dict[str, Any] = {
            "mesa": self.code,
            "state": self.state,
            "reason": self.reason,
            "electors": self.electors,
            "images": self.images,
            "entries": self.entries,
            "needs": self.needs,
        }
        if not reviewer_view:
            data["leased_to"] = self.leased_to
            data["entered_by"] = self.entered_by
            data["judged_by"] = self.judged_by
            data["detail"] = self.detail
        return data


TASK_REASONS = {
    ActaState.REVIEW.value: "la máquina no pudo leer o confirmar los números: escríbalos de la imagen / "
    "the machine could not read or confirm the numbers: type them from the image",
    ActaState.UNCONFIRMED.value: "solo se leyó un QR, sin impresión que lo confirme: escriba los números "
    "de la imagen / only a QR was read, with no print to confirm it: type the numbers from the image",
    ActaState.CONFLICT.value: "copias que dicen números distintos: diga cuál es el acta de la mesa "
    "(veedor review judge) o escriba los números de la auténtica / copies that say different "
    "numbers: say which is the mesa's acta, or type the numbers of the genuine one",
}


def tasks(session: Session, definition: ElectionDefinition, user: User | None = None) -> list[Task]:
    """Every mesa people must settle, pinned units first, then most registered electors. For a
    reviewer: only what they may take now (not done by them, not taken by another, not for a
    supervisor)."""
    out = _tasks_among(session, definition, _open(definition), user)
    order = {pk: i for i, pk in enumerate(_priority(session, definition))}
    return sorted(out, key=lambda t: order.get(t.acta_pk, len(order)))


def _open(definition: ElectionDefinition) -> Select[Any]:
    return select(ActaRecord.id).where(
        ActaRecord.election == definition.id, ActaRecord.status.in_(OPEN_STATES)
    )


def _priority(session: Session, definition: ElectionDefinition) -> list[int]:
    """The open mesas in the queue's order (one query): pinned units first, then most
    registered electors, then by code."""
    first = pins(session)
    found = session.execute(
        select(ActaRecord.id, ActaRecord.centre, ActaRecord.mesa, Mesa.electors)
        .outerjoin(
            Mesa,
            (Mesa.election == ActaRecord.election)
            & (Mesa.centre == ActaRecord.centre)
            & (Mesa.number == ActaRecord.mesa),
        )
        .where(ActaRecord.id.in_(_open(definition)))
    ).all()
    rows = sorted(
        found,
        key=lambda r: (not any(r.centre.startswith(p) for p in first), -(r.electors or 0), r.centre, r.mesa),
    )
    return [r.id for r in rows]


def _tasks_among(
    session: Session, definition: ElectionDefinition, open_: Select[Any] | list[int], user: User | None
) -> list[Task]:
    """The tasks of the mesas ``open_`` selects, unordered, in a few queries for all of them
    (never a few per task: 3,000 open tasks took 2 s)."""
    records = session.scalars(select(ActaRecord).where(ActaRecord.id.in_(open_))).all()
    if not records:
        return []
    electors = {
        (centre, number): n
        for centre, number, n in session.execute(
            select(Mesa.centre, Mesa.number, Mesa.electors)
            .join(ActaRecord, (ActaRecord.centre == Mesa.centre) & (ActaRecord.mesa == Mesa.number))
            .where(Mesa.election == definition.id, ActaRecord.id.in_(open_))
        )
    }
    images: dict[int, list[str]] = {}
    machine: dict[int, list[Typed]] = {}
    aside = set_aside_among(session, open_)
    for evidence in session.scalars(select(Evidence).where(Evidence.acta_pk.in_(open_))):
        images.setdefault(evidence.acta_pk, []).append(evidence.sha256)
        if evidence.sha256 in aside.get(evidence.acta_pk, {}):
            continue
        if (typed := _machine_typed(evidence)) is not None:
            machine.setdefault(evidence.acta_pk, []).append(typed)
    users = {u.id: u for u in session.scalars(select(User))}
    names = {uid: u.name for uid, u in users.items()}
    banned = flagged_ids(session)
    if user is not None and user.id in banned:
        return []  # a flagged account gets no more tasks (its entries no longer count)
    entered: dict[int, list[str]] = {}
    counting: dict[int, list[Entry]] = {}
    for e in session.scalars(select(ReviewEntry).where(ReviewEntry.acta_pk.in_(open_))):
        entered.setdefault(e.acta_pk, []).append(names[e.user_id])
        if e.user_id not in banned:
            counting.setdefault(e.acta_pk, []).append(_entry(e, users[e.user_id]))
    judged: dict[int, list[str]] = {}
    verdicts: dict[int, list[Verdict]] = {}
    for v in session.scalars(select(ReviewVerdict).where(ReviewVerdict.acta_pk.in_(open_))):
        judged.setdefault(v.acta_pk, []).append(names[v.user_id])
        if v.user_id not in banned:
            who = users[v.user_id]
            verdicts.setdefault(v.acta_pk, []).append(
                Verdict(v.id, who.name, v.sha256, v.verdict, v.other, who.role in SUPERVISING)
            )
    leases = {
        lease.acta_pk: lease
        for lease in session.scalars(select(ReviewLease).where(ReviewLease.expires_at > now()))
    }
    required = required_entries()
    out = []
    for record in records:
        state = settle(counting.get(record.id, []), machine.get(record.id, []), required)
        copies_stuck = any(
            call.basis == "supervisor"
            for call in settle_copies(verdicts.get(record.id, []), required).values()
        )
        lease = leases.get(record.id)
        task = Task(
            record.id,
            f"{record.centre}.{record.mesa:02d}",
            record.status,
            # From the state, never the machine's own reason: it may quote the numbers it read,
            # and an entry is blind.
            TASK_REASONS[record.status],
            electors.get((record.centre, record.mesa)),
            sorted(images.get(record.id, [])),
            len(entered.get(record.id, [])),
            # Settled, yet open: a copy stored later disagrees with the people: a supervisor's call.
            "supervisor" if state.settled or copies_stuck else state.basis,
            names.get(lease.user_id) if lease else None,
            sorted(entered.get(record.id, [])),
            record.reason,
            sorted(judged.get(record.id, [])),
        )
        if user is not None and user.role == "reviewer":
            if task.needs == "supervisor" or user.name in task.entered_by or user.name in task.judged_by:
                continue
            if lease is not None and lease.user_id != user.id:
                continue
        out.append(task)
    return out


def pins(session: Session) -> list[str]:
    """Geography codes a supervisor put first in the queue (a state, a municipality, a centre)."""
    latest: dict[str, bool] = {}
    for pin in session.scalars(select(ReviewPin).order_by(ReviewPin.id)):
        latest[pin.code] = pin.pinned
    return sorted(code for code, pinned in latest.items() if pinned)


def pin(session: Session, definition: ElectionDefinition, user: User, code: str, pinned: bool = True) -> None:
    """Put a unit's mesas first in the queue (or take it off): supervisors and admins only."""
    if user.role not in ("supervisor", "admin"):
        raise ReviewError("solo un supervisor ordena la cola / only a supervisor orders the queue")
    code = code.strip()
    if not (code.isascii() and code.isdigit() and 0 < len(code) <= definition.centre_code_digits):
        raise ReviewError(f"código de unidad no válido {code!r}, p. ej. 04 (un estado) / invalid unit code")
    session.add(ReviewPin(code=code, pinned=pinned, user_id=user.id, at=now()))
    session.flush()


TAKE_BATCH = 32
"""Tasks built at a time when one is taken: the first batch nearly always has one free, so a
take costs the queue's order (one query) and a few small reads, not the whole queue."""


def take(session: Session, definition: ElectionDefinition, user: User) -> Task | None:
    """The next task for ``user``, leased to them so nobody else gets it meanwhile."""
    ordered = _priority(session, definition)
    for start in range(0, len(ordered), TAKE_BATCH):
        batch = ordered[start : start + TAKE_BATCH]
        built = {t.acta_pk: t for t in _tasks_among(session, definition, batch, user)}
        task = _lease_first(session, user, [built[pk] for pk in batch if pk in built])
        if task is not None:
            return task
    return None


def _lease_first(session: Session, user: User, candidates: list[Task]) -> Task | None:
    for task in candidates:
        current = session.get(ReviewLease, task.acta_pk)
        if current is not None and current.user_id != user.id and as_utc(current.expires_at) > now():
            continue
        try:
            with session.begin_nested():  # another desk process may lease it at the same moment
                if current is None:
                    session.add(ReviewLease(acta_pk=task.acta_pk, user_id=user.id, expires_at=now() + LEASE))
                else:
                    current.user_id, current.expires_at = user.id, now() + LEASE
                session.flush()
        except IntegrityError:
            continue
        task.leased_to = user.name
        return task
    return None


# -- entries and settling ----------------------------------------------------------------


def parse_values(values: Any, definition: ElectionDefinition) -> Typed:
    """``{"votes": [...], "nulos": N, "blank": N}`` as typed, checked against the definition."""
    if not isinstance(values, dict) or not isinstance(values.get("votes"), list):
        raise ReviewError(
            'se esperaba {"votes": [...], "nulos": N, "blank": N} / expected the payload fields'
        )
    votes, lines = values["votes"], len(definition.ballot)
    if len(votes) != lines:
        raise ReviewError(
            f"{len(votes)} números para {lines} líneas de la boleta / {len(votes)} counts for {lines} lines"
        )
    limit = definition.max_voters_per_mesa or 10**6
    numbers = [*votes, values.get("nulos", 0), values.get("blank", 0)]
    for i, n in enumerate(numbers):
        if not isinstance(n, int) or isinstance(n, bool) or not 0 <= n <= limit:
            what = f"línea {i + 1}" if i < lines else ("nulos" if i == lines else "blank")
            raise ReviewError(
                f"{what}: {n!r} no es un número entre 0 y {limit} / not a count from 0 to {limit}"
            )
    return tuple(votes), numbers[lines], numbers[lines + 1]


def record_for(session: Session, definition: ElectionDefinition, code: str) -> ActaRecord:
    centre, _, number = code.strip().rpartition(".")
    if not centre or not number.isdigit():
        raise ReviewError(
            f"código de mesa no válido {code!r}; use CENTRO.MESA, p. ej. 040202001.01 / invalid mesa code"
        )
    record = session.scalar(
        select(ActaRecord).where(
            ActaRecord.election == definition.id, ActaRecord.centre == centre, ActaRecord.mesa == int(number)
        )
    )
    if record is None:
        raise ReviewError(f"la mesa {code} no tiene ninguna copia escaneada / no scanned copy of mesa {code}")
    return record


@dataclass
class EntryResult:
    entry_id: int
    state: str
    settled: bool
    needs: str
    flagged: list[str]


def enter(
    session: Session,
    definition: ElectionDefinition,
    user: User,
    code: str,
    values: Any,
    channel: str = "cli",
) -> EntryResult:
    """One person's blind entry for one mesa; settles it when the rule says so."""
    typed = parse_values(values, definition)
    record = record_for(session, definition, code)
    if user.role not in ROLES or is_flagged(session, user.id):
        raise ReviewError(
            "esta cuenta no puede escribir entradas; hable con un supervisor / this account may not enter"
        )
    if record.status not in OPEN_STATES and user.role == "reviewer":
        raise ReviewError(
            f"la mesa {code} ya está resuelta ({record.status}); no hace falta / already settled"
        )
    if user.role == "reviewer":
        if settlement_of(session, record, definition).basis == "supervisor":
            raise ReviewError(f"la mesa {code} espera a un supervisor / waits for a supervisor")
        mine = select(ReviewEntry.id).where(ReviewEntry.acta_pk == record.id, ReviewEntry.user_id == user.id)
        if session.scalar(mine) is not None:
            raise ReviewError(f"ya escribió los números de la mesa {code} / you already entered mesa {code}")
        lease = session.get(ReviewLease, record.id)
        if lease is not None and lease.user_id != user.id and as_utc(lease.expires_at) > now():
            raise ReviewError(f"otra persona está revisando la mesa {code} / another person has this task")
    votes, nulos, blank = typed
    images = sorted(session.scalars(select(Evidence.sha256).where(Evidence.acta_pk == record.id)))
    entry_id = session.execute(
        insert(ReviewEntry).returning(ReviewEntry.id),
        [
            {
                "acta_pk": record.id,
                "user_id": user.id,
                "entered_at": now(),
                "votes": list(votes),
                "nulos": nulos,
                "blank": blank,
                "images": images,
                "channel": channel,
            }
        ],
    ).scalar_one()
    log.append(
        session,
        "review_entry",
        {
            "centre": record.centre,
            "mesa": record.mesa,
            "by": user.name,
            "votes": list(votes),
            "nulos": nulos,
            "blank": blank,
            "images": images,
            "channel": channel,
        },
    )
    session.execute(delete(ReviewLease).where(ReviewLease.acta_pk == record.id))
    state = apply(session, definition, record)
    # Only the scores of those who typed this mesa can have changed: not everyone's, each time.
    typed_it = set(session.scalars(select(ReviewEntry.user_id).where(ReviewEntry.acta_pk == record.id)))
    newly = rescore(session, definition, typed_it)
    session.flush()  # the record as combined, never reloaded over its unflushed state
    return EntryResult(entry_id, record.status, state.settled, state.basis, newly)


def _entries(session: Session, acta_pk: int) -> list[Entry]:
    """The mesa's entries that count: not from a flagged account."""
    banned = flagged_ids(session)
    rows = session.execute(
        select(ReviewEntry, User)
        .join(User, User.id == ReviewEntry.user_id)
        .where(ReviewEntry.acta_pk == acta_pk)
    ).all()
    return [_entry(e, user) for e, user in rows if e.user_id not in banned]


def _entry(entry: ReviewEntry, user: User) -> Entry:
    return Entry(
        entry.id,
        user.name,
        (tuple(entry.votes), entry.nulos, entry.blank),
        user.role in ("supervisor", "admin"),
    )


def _machine(session: Session, acta_pk: int) -> list[Typed]:
    """The numbers of the mesa's QR-only copies: read whole, short only of a confirmation."""
    evidence = session.scalars(select(Evidence).where(Evidence.acta_pk == acta_pk))
    aside = set_aside_of(session, acta_pk)  # a copy people judged forged vouches for nothing
    return [typed for e in evidence if e.sha256 not in aside and (typed := _machine_typed(e)) is not None]


def _machine_typed(evidence: Evidence) -> Typed | None:
    if grade_of(evidence) is not Grade.QR_ONLY or evidence.nulos is None:
        return None
    return tuple(evidence.votes), evidence.nulos, int((evidence.extra or {}).get("blank", 0))


def settlement_of(session: Session, record: ActaRecord, definition: ElectionDefinition) -> Settlement:
    return settle(_entries(session, record.id), _machine(session, record.id), required_entries())


def apply(session: Session, definition: ElectionDefinition, record: ActaRecord) -> Settlement:
    """Settle the mesa if its entries now do (a new decision, then its state recomputed), or
    withdraw a settlement its entries no longer support."""
    state = settlement_of(session, record, definition)
    current = people_settled(session, record.id)
    if state.settled and state.typed is not None:
        votes, nulos, blank = state.typed
        same = current is not None and current.numbers == (votes, nulos, (("blank", blank),))
        if not same:
            copies = sorted(session.scalars(select(Evidence.sha256).where(Evidence.acta_pk == record.id)))
            session.add(
                ReviewDecision(
                    acta_pk=record.id,
                    at=now(),
                    kind="settled",
                    basis=state.basis,
                    votes=list(votes),
                    nulos=nulos,
                    blank=blank,
                    entries=list(state.entries),
                    copies=copies,
                )
            )
    elif current is not None:
        session.add(
            ReviewDecision(
                acta_pk=record.id, at=now(), kind="withdrawn", basis="flagged", entries=[], copies=[]
            )
        )
    else:
        return state
    session.flush()
    decision = session.scalar(
        select(ReviewDecision).where(ReviewDecision.acta_pk == record.id).order_by(ReviewDecision.id.desc())
    )
    assert decision is not None
    log.append(
        session,
        "review_decision",
        {
            "centre": record.centre,
            "mesa": record.mesa,
            "decision": decision.kind,
            "basis": decision.basis,
            "votes": decision.votes,
            "nulos": decision.nulos,
            "blank": decision.blank,
            "entries": decision.entries,
            "copies": decision.copies,
        },
    )
    combine_mesa(session, record, definition, cause="review")
    return state


def rescore(session: Session, definition: ElectionDefinition, among: set[int] | None = None) -> list[str]:
    """Score the reviewers ``among`` (default: all) against what is settled; flag the new
    ones, withdraw their tasks, and send every mesa they helped settle back to the queue.
    Returns who was flagged now."""
    pairs = _settled_pairs(session, among)
    helped: dict[str, set[int]] = {}
    for entry, _settled, acta_pk in pairs:
        helped.setdefault(entry.reviewer, set()).add(acta_pk)
    already = set(
        session.scalars(
            select(User.name).join(UserEvent, UserEvent.user_id == User.id).where(UserEvent.kind == "flagged")
        )
    )
    all_scores = scores((entry, settled) for entry, settled, _pk in pairs)
    newly = sorted(flagged(all_scores) - already)
    for name in newly:
        user = user_named(session, name)
        score = all_scores[name]
        event(
            session, user, "flagged", f"{score.points} puntos en {score.disagreements} desacuerdos / points"
        )
        session.execute(delete(ReviewLease).where(ReviewLease.user_id == user.id))
        session.flush()
        judged = set(session.scalars(select(ReviewVerdict.acta_pk).where(ReviewVerdict.user_id == user.id)))
        for acta_pk in sorted(helped.get(name, set()) | judged):
            record = session.get(ActaRecord, acta_pk)
            if record is not None:
                apply_copies(session, definition, record)
                apply(session, definition, record)
    return newly


def _settled_pairs(session: Session, among: set[int] | None = None) -> list[tuple[Entry, Typed, int]]:
    """(a reviewer's counting entry, the numbers its mesa was settled with, the mesa) for every
    settled mesa, or only those of the reviewers ``among`` (user ids), in a few queries."""
    entries = select(ReviewEntry).where(ReviewEntry.acta_pk.in_(_settled_pks()))
    if among is not None:
        entries = entries.where(ReviewEntry.user_id.in_(among))
    mesas = entries.with_only_columns(ReviewEntry.acta_pk)
    settled = {
        d.acta_pk: (tuple(d.votes or ()), d.nulos or 0, d.blank or 0)
        for d in _current_settlements(session, mesas)
    }
    users = {u.id: u for u in session.scalars(select(User))}
    banned = flagged_ids(session)
    pairs = []
    for e in session.scalars(entries):
        if e.acta_pk not in settled:
            continue
        entry = _entry(e, users[e.user_id])
        if e.user_id not in banned and not entry.supervisor:
            pairs.append((entry, settled[e.acta_pk], e.acta_pk))
    return pairs


def _settled_pks() -> Select[int]:
    latest = select(func.max(ReviewDecision.id)).group_by(ReviewDecision.acta_pk)
    return select(ReviewDecision.acta_pk).where(
        ReviewDecision.id.in_(latest), ReviewDecision.kind == "settled"
    )


def _current_settlements(session: Session, mesas: Select[Any] | None = None) -> list[ReviewDecision]:
    latest = select(func.max(ReviewDecision.id)).group_by(ReviewDecision.acta_pk)
    if mesas is not None:
        latest = latest.where(ReviewDecision.acta_pk.in_(mesas))
    return [
        d
        for d in session.scalars(select(ReviewDecision).where(ReviewDecision.id.in_(latest)))
        if d.kind == "settled"
    ]


def reviewer_scores(session: Session) -> dict[str, dict[str, Any]]:
    """Each reviewer's score, entries and whether they are flagged: for supervisors."""
    pairs = [(entry, settled) for entry, settled, _pk in _settled_pairs(session)]
    flagged_names = set(
        session.scalars(
            select(User.name).join(UserEvent, UserEvent.user_id == User.id).where(UserEvent.kind == "flagged")
        )
    )
    return {
        name: {
            "points": s.points,
            "disagreements": s.disagreements,
            "settled_entries": s.entries,
            "flagged": name in flagged_names,
        }
        for name, s in scores(pairs).items()
    }


def trail(session: Session, record: ActaRecord) -> list[dict[str, Any]]:
    """Every entry and decision on the mesa, in order, people by pseudonym."""
    out: list[dict[str, Any]] = []
    for entry, name in session.execute(
        select(ReviewEntry, User.name)
        .join(User, User.id == ReviewEntry.user_id)
        .where(ReviewEntry.acta_pk == record.id)
    ):
        out.append(
            {
                "at": entry.entered_at.isoformat(),
                "kind": "entry",
                "id": entry.id,
                "by": name,
                "votes": entry.votes,
                "nulos": entry.nulos,
                "blank": entry.blank,
                "images": entry.images,
                "channel": entry.channel,
            }
        )
    for decision in session.scalars(select(ReviewDecision).where(ReviewDecision.acta_pk == record.id)):
        out.append(
            {
                "at": decision.at.isoformat(),
                "kind": decision.kind,
                "id": decision.id,
                "basis": decision.basis,
                "votes": decision.votes,
                "nulos": decision.nulos,
                "blank": decision.blank,
                "entries": decision.entries,
                "copies": decision.copies,
            }
        )
    out += verdict_trail(session, record)
    return sorted(out, key=lambda x: (x["at"], x["kind"] not in ("entry", "verdict"), x["id"]))


def judge_copies(
    session: Session, definition: ElectionDefinition, user: User, code: str, said: Any
) -> Judged:
    """One person's verdicts on the copies of mesa ``code`` (:func:`veedor.store.verdicts.judge`);
    once copies are set aside, the numbers typed so far may settle the mesa."""
    record = record_for(session, definition, code)
    judged = judge(session, definition, user, record, said)
    apply(session, definition, record)
    session.flush()  # the record as combined, never reloaded over its unflushed state
    judged.state = record.status
    return judged
