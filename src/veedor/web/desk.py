"""The queue and the task page: take the next acta, look at its image(s), type its numbers
blind. Reviewers see only the task leased to them and their own entries; supervisors see
every task, who typed, and the scores."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from fastapi.responses import RedirectResponse
from sqlalchemy import select
from sqlalchemy.orm import Session
from starlette.requests import Request
from starlette.responses import Response

from veedor.i18n import one_language
from veedor.model import ActaState
from veedor.store.accounts import ReviewError
from veedor.store.identify import sheet_held_by, sheets_for, take_sheet, unidentified
from veedor.store.records import now
from veedor.store.review import (
    OPEN_STATES,
    enter,
    judge_copies,
    pins,
    record_for,
    reviewer_scores,
    take,
    tasks,
    trail,
)
from veedor.store.schema import ActaRecord, Evidence, Mesa, ReviewEntry, ReviewLease, User
from veedor.store.verdicts import Judged, judged_by
from veedor.verify.verdicts import FORGED, GENUINE, OTHER
from veedor.web.auth import Forbidden
from veedor.web.context import DbDep, Desk, DeskDep, FormDep, Viewer, ViewerDep
from veedor.web.form import Typed, ballot_lines, doubtful_lines, parse_entry
from veedor.web.pages import render

router = APIRouter()


def code_of(record: ActaRecord) -> str:
    return f"{record.centre}.{record.mesa:02d}"


def held_by(db: Session, user: User) -> str | None:
    """The open mesa leased to ``user`` and not yet entered by them: their task in hand."""
    for lease in db.scalars(
        select(ReviewLease).where(ReviewLease.user_id == user.id, ReviewLease.expires_at > now())
    ):
        record = db.get(ActaRecord, lease.acta_pk)
        if record is not None and record.status in OPEN_STATES and not _entered(db, record, user):
            return code_of(record)
    return None


def _entered(db: Session, record: ActaRecord, user: User) -> bool:
    """They typed its numbers or judged its copies: their part of this task is done."""
    mine = select(ReviewEntry.id).where(ReviewEntry.acta_pk == record.id, ReviewEntry.user_id == user.id)
    return db.scalar(mine) is not None or judged_by(db, record, user)


def may_see(db: Session, viewer: Viewer, record: ActaRecord) -> bool:
    """Supervisors: every mesa. A reviewer: only the open mesa leased to them, before they enter it
    (the lease stays theirs until someone else takes it, so a slow reviewer loses nothing)."""
    if viewer.supervising:
        return True
    lease = db.get(ReviewLease, record.id)
    return (
        lease is not None
        and lease.user_id == viewer.user.id
        and record.status in OPEN_STATES
        and not _entered(db, record, viewer.user)
    )


@router.get("/")
def queue(request: Request, desk: DeskDep, db: DbDep, viewer: ViewerDep) -> Response:
    flash, viewer.session.flash = viewer.session.flash, None
    context: dict[str, Any] = {"flash": flash}
    if viewer.supervising:
        context["tasks"] = tasks(db, desk.definition)
        context["scores"] = reviewer_scores(db)
        context["sheets"] = unidentified(db)
        context["pins"] = pins(db)
    else:
        context["waiting"] = len(tasks(db, desk.definition, viewer.user)) + len(sheets_for(db, viewer.user))
        context["held"] = held_by(db, viewer.user)
        context["held_sheet"] = sheet_held_by(db, viewer.user)
        context["mine"] = _own_entries(db, viewer.user)
    return render(request, desk, "queue.html", viewer.lang, viewer=viewer, **context)


def _own_entries(db: Session, user: User) -> list[dict[str, Any]]:
    rows = db.execute(
        select(ReviewEntry, ActaRecord)
        .join(ActaRecord, ActaRecord.id == ReviewEntry.acta_pk)
        .where(ReviewEntry.user_id == user.id)
        .order_by(ReviewEntry.id.desc())
        .limit(100)
    )
    return [
        {
            "code": code_of(record),
            "at": entry.entered_at.strftime("%Y-%m-%d %H:%M"),
            "total": sum(entry.votes) + entry.nulos + entry.blank,
            "counted": record.status == "ok",
        }
        for entry, record in rows
    ]


@router.post("/take")
def take_next(request: Request, desk: DeskDep, db: DbDep, viewer: ViewerDep, form: FormDep) -> Response:
    with desk.write(db):
        url = next_task(db, desk, viewer.user)
    if url is None:
        viewer.session.flash = {"kind": "empty"}
        return redirect(request, desk, viewer, "/")
    return redirect(request, desk, viewer, url)


def next_task(db: Session, desk: Desk, user: User) -> str | None:
    """The page of the task in ``user``'s hands, else of the next one (a mesa, then a sheet to
    identify), leased to them; None when nothing waits for them."""
    if (code := held_by(db, user)) is not None:
        return f"/mesa/{code}"
    if (sha := sheet_held_by(db, user)) is not None:
        return f"/sheet/{sha}"
    if (task := take(db, desk.definition, user)) is not None:
        return f"/mesa/{task.code}"
    if (sha := take_sheet(db, user)) is not None:
        return f"/sheet/{sha}"
    return None


def redirect(request: Request, desk: Desk, viewer: Viewer, url: str) -> Response:
    response = RedirectResponse(url, status_code=303)
    desk.sessions.write(response, request, viewer.session)
    return response


def _record(db: Session, desk: Desk, viewer: Viewer, code: str) -> ActaRecord:
    try:
        record = record_for(db, desk.definition, code)
    except ReviewError:
        raise Forbidden from None  # the same answer as a mesa that is not theirs: nothing to learn
    if not may_see(db, viewer, record):
        raise Forbidden
    return record


@router.get("/mesa/{code}")
async def task_page(request: Request, code: str, desk: DeskDep, db: DbDep, viewer: ViewerDep) -> Response:
    # async: the page is a handful of indexed reads (about 1.5 ms, WAL readers never wait for a
    # writer); served on the event loop it skips a thread hop and the GIL's thread contention,
    # which under 50 reviewers cost more than the page itself. Pages that write stay threads.
    record = _record(db, desk, viewer, code)
    flash, viewer.session.flash = viewer.session.flash, None
    return _task(request, desk, db, viewer, record, Typed(), flash=flash)


def _task(
    request: Request,
    desk: Desk,
    db: Session,
    viewer: Viewer,
    record: ActaRecord,
    typed: Typed,
    *,
    flash: dict[str, str] | None = None,
    status: int = 200,
    said: dict[str, str] | None = None,
) -> Response:
    electors = db.scalar(
        select(Mesa.electors).where(
            Mesa.election == desk.definition.id, Mesa.centre == record.centre, Mesa.number == record.mesa
        )
    )
    copies = db.scalars(select(Evidence).where(Evidence.acta_pk == record.id)).all()
    images = sorted(e.sha256 for e in copies)
    doubtful = doubtful_lines([(list(e.votes or []), e.printed) for e in copies])
    judging = record.status == ActaState.CONFLICT.value or (viewer.supervising and len(images) > 1)
    return render(
        request,
        desk,
        "task.html",
        viewer.lang,
        viewer=viewer,
        status=status,
        code=code_of(record),
        state=record.status,
        electors=electors,
        images=images,
        lines=ballot_lines(desk.definition),
        typed=typed,
        flash=flash,
        history=trail(db, record) if viewer.supervising else [],
        judging=judging,
        said=said or {},
        doubtful=doubtful,
        # A hand-filled form's null and blank boxes are placed too (its reader knows them).
        count_crops=desk.definition.form is not None,
    )


@router.post("/mesa/{code}")
def task_entry(
    request: Request, code: str, desk: DeskDep, db: DbDep, viewer: ViewerDep, form: FormDep
) -> Response:
    record = _record(db, desk, viewer, code)
    typed = parse_entry(form, desk.definition, viewer.lang)
    if typed.values is None:
        return _task(request, desk, db, viewer, record, typed, status=422)
    with desk.write(db):
        try:
            result = enter(db, desk.definition, viewer.user, code_of(record), typed.values, channel="web")
        except ReviewError as exc:
            db.rollback()
            typed.errors.append(one_language(str(exc), viewer.lang))
            return _task(request, desk, db, viewer, record, typed, status=409)
        kind = "settled" if result.settled else ("supervisor" if result.needs == "supervisor" else "stored")
        viewer.session.flash = {"kind": kind, "code": code_of(record)}
        if result.flagged and viewer.supervising:
            viewer.session.flash["flagged"] = ", ".join(result.flagged)
        if viewer.supervising:
            return redirect(request, desk, viewer, "/")
        url = next_task(db, desk, viewer.user)
    return redirect(request, desk, viewer, url or "/")


def _judged_kind(judged: Judged) -> str:
    if judged.state not in OPEN_STATES:
        return "judged-settled"
    if judged.needs == "supervisor":
        return "supervisor"
    return "judged-open" if any(c.verdict for c in judged.calls.values()) else "judged"


@router.post("/mesa/{code}/copies")
def copies_judged(
    request: Request, code: str, desk: DeskDep, db: DbDep, viewer: ViewerDep, form: FormDep
) -> Response:
    """What the person says of each copy of a mesa in conflict: its acta, forged, or another
    mesa's (with that mesa's code). A copy left on "cannot tell" is not judged."""
    record = _record(db, desk, viewer, code)
    said: dict[str, str] = {}
    for sha in db.scalars(select(Evidence.sha256).where(Evidence.acta_pk == record.id)):
        verdict = str(form.get(f"copy-{sha}", ""))
        if verdict in (GENUINE, FORGED):
            said[sha] = verdict
        elif verdict == OTHER:
            said[sha] = str(form.get(f"other-{sha}", "")).strip()[:48] or "?"
    raw = {key: str(value)[:48] for key, value in form.items() if key.startswith(("copy-", "other-"))}
    with desk.write(db):
        try:
            judged = judge_copies(db, desk.definition, viewer.user, code_of(record), said)
        except ReviewError as exc:
            db.rollback()
            typed = Typed()
            typed.errors.append(one_language(str(exc), viewer.lang))
            return _task(request, desk, db, viewer, record, typed, status=409, said=raw)
        viewer.session.flash = {"kind": _judged_kind(judged), "code": code_of(record)}
        if viewer.supervising:
            return redirect(request, desk, viewer, "/")
        url = next_task(db, desk, viewer.user)
    return redirect(request, desk, viewer, url or "/")
