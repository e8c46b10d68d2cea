"""The desk's page of the witnesses' incident reports (``/incidents``): for supervisors and
administrators only, with each report's text and its reporter's pseudonym; counted by state.
Reviewers are refused (403), as for any page that is not theirs."""

from __future__ import annotations

from fastapi import APIRouter
from starlette.requests import Request
from starlette.responses import Response

from veedor.store.field import incident_counts, incidents_for_coordinators, invites_overview
from veedor.web.auth import Forbidden
from veedor.web.context import DbDep, DeskDep, ViewerDep
from veedor.web.pages import render

router = APIRouter()


@router.get("/incidents")
def incidents(request: Request, desk: DeskDep, db: DbDep, viewer: ViewerDep) -> Response:
    if not viewer.supervising:
        raise Forbidden
    definition = desk.definition
    kinds = {k.code: k.label(viewer.lang) for k in definition.incident_kinds}
    top = definition.levels[0]
    return render(
        request,
        desk,
        "incidents.html",
        viewer.lang,
        viewer=viewer,
        reports=incidents_for_coordinators(db, definition),
        counts=incident_counts(db, definition, top.name),
        level=top.label_en if viewer.lang == "en" else top.label_es,
        kinds=kinds,
        witnesses=invites_overview(db),
    )
