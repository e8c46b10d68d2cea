"""Log in and out. The only pages open to anyone are the login form and the static files."""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import RedirectResponse
from starlette.requests import Request
from starlette.responses import Response

from veedor.i18n import gettext
from veedor.store.accounts import ReviewError, authenticate
from veedor.web.context import DbDep, DeskDep, FormDep, LangDep, ViewerDep
from veedor.web.pages import render

router = APIRouter()


def _address(request: Request) -> str:
    return request.client.host if request.client else "?"


@router.get("/login")
def login_page(request: Request, desk: DeskDep, lang: LangDep) -> Response:
    session = desk.sessions.read(request)
    if session is None or session.user_id is not None:
        session = desk.sessions.fresh()
    return render(request, desk, "login.html", lang, session=session, name="", error=None)


@router.post("/login")
def login(request: Request, desk: DeskDep, db: DbDep, lang: LangDep, form: FormDep) -> Response:
    name = str(form.get("name", ""))[:64]
    password = str(form.get("password", ""))[:1024]
    address = _address(request)
    anonymous = desk.sessions.fresh()
    wait = desk.limiter.wait(db, name, address)
    if wait:
        minutes = max(1, round(wait / 60))
        error = gettext(
            "Too many wrong passwords for this pseudonym. Wait %(minutes)s minutes and try again, "
            "or ask a supervisor to reset the password.",
            lang,
        ) % {"minutes": minutes}
        return render(
            request, desk, "login.html", lang, session=anonymous, status=429, name=name, error=error
        )
    try:
        user = authenticate(db, name, password)
    except ReviewError as exc:
        db.rollback()
        desk.limiter.failed(db, name, address)
        error = (
            gettext("This account is disabled; talk to a supervisor.", lang)
            if "disabled" in str(exc)
            else gettext("Wrong pseudonym or password.", lang)
        )
        return render(
            request, desk, "login.html", lang, session=anonymous, status=401, name=name, error=error
        )
    desk.limiter.succeeded(db, name, address)
    response = RedirectResponse("/", status_code=303)
    desk.sessions.write(response, request, desk.sessions.fresh(user))
    return response


@router.post("/logout")
def logout(request: Request, desk: DeskDep, viewer: ViewerDep, form: FormDep) -> Response:
    response = RedirectResponse("/login", status_code=303)
    desk.sessions.write(response, request, None)
    return response
