"""Sheets whose mesa could not be read: a person looks at the image and types its centre and
mesa (checked against the registry), blind; two who agree, or a supervisor, attach it. And the
supervisor's one lever on the queue: put a unit's mesas first."""

from __future__ import annotations

from fastapi import APIRouter
from sqlalchemy.orm import Session
from starlette.requests import Request
from starlette.responses import Response

from veedor.i18n import one_language
from veedor.store.accounts import ReviewError
from veedor.store.identify import identify, sheets_for, unidentified
from veedor.store.review import pin
from veedor.store.schema import ReviewSheetLease
from veedor.web.auth import Forbidden
from veedor.web.context import DbDep, Desk, DeskDep, FormDep, Viewer, ViewerDep
from veedor.web.desk import next_task, redirect
from veedor.web.pages import render

router = APIRouter()


def may_see_sheet(db: Session, viewer: Viewer, sha: str) -> bool:
    """Supervisors: every sheet waiting to be identified. A reviewer: the one leased to them,
    until they have identified it."""
    if viewer.supervising:
        return sha in unidentified(db)
    lease = db.get(ReviewSheetLease, sha)
    return lease is not None and lease.user_id == viewer.user.id and sha in sheets_for(db, viewer.user)


@router.get("/sheet/{sha}")
def sheet_page(request: Request, sha: str, desk: DeskDep, db: DbDep, viewer: ViewerDep) -> Response:
    if not may_see_sheet(db, viewer, sha):
        raise Forbidden
    return _sheet(request, desk, viewer, sha, {}, [])


def _sheet(
    request: Request,
    desk: Desk,
    viewer: Viewer,
    sha: str,
    typed: dict[str, str],
    errors: list[str],
    status: int = 200,
) -> Response:
    return render(
        request,
        desk,
        "sheet.html",
        viewer.lang,
        viewer=viewer,
        status=status,
        sha=sha,
        typed=typed,
        errors=errors,
        digits=desk.definition.centre_code_digits,
    )


@router.post("/sheet/{sha}")
def sheet_identified(
    request: Request, sha: str, desk: DeskDep, db: DbDep, viewer: ViewerDep, form: FormDep
) -> Response:
    if not may_see_sheet(db, viewer, sha):
        raise Forbidden
    centre = str(form.get("centre", "")).strip()[:32]
    number = str(form.get("mesa", "")).strip()[:6]
    code = f"{centre}.{int(number):02d}" if number.isascii() and number.isdigit() else f"{centre}.{number}"
    with desk.write(db):
        try:
            done = identify(db, desk.definition, viewer.user, sha, code)
        except ReviewError as exc:
            db.rollback()
            errors = [one_language(str(exc), viewer.lang)]
            return _sheet(request, desk, viewer, sha, {"centre": centre, "mesa": number}, errors, 409)
        viewer.session.flash = (
            {"kind": "identified", "code": done.code or ""} if done.settled else {"kind": "identify-stored"}
        )
        if viewer.supervising:
            return redirect(request, desk, viewer, "/")
        url = next_task(db, desk, viewer.user)
    return redirect(request, desk, viewer, url or "/")


@router.post("/pin")
def pin_unit(request: Request, desk: DeskDep, db: DbDep, viewer: ViewerDep, form: FormDep) -> Response:
    """Put a unit's mesas first in the queue, or take it off (supervisors only)."""
    if not viewer.supervising:
        raise Forbidden
    code = str(form.get("code", "")).strip()[:32]
    with desk.write(db):
        try:
            pin(db, desk.definition, viewer.user, code, pinned=form.get("pinned") != "0")
        except ReviewError as exc:
            db.rollback()
            viewer.session.flash = {"kind": "refused", "detail": one_language(str(exc), viewer.lang)}
            return redirect(request, desk, viewer, "/")
    return redirect(request, desk, viewer, "/")
