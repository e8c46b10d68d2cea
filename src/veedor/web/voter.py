"""The public site's lookup by voter id: where one votes (centre and mesa), nothing more.

The id comes in a POST body (never in a URL, where proxies and browsers' histories keep it),
is answered from salted hashes (:mod:`veedor.store.voters`), is not shown back, and nothing
of the question is written or logged. Lookups have their own, stricter, rate per address.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from fastapi import FastAPI
from sqlalchemy import select
from starlette.requests import Request
from starlette.responses import Response

from veedor.definitions import ElectionDefinition
from veedor.ingest.voters import normal_id
from veedor.store import Store
from veedor.store.schema import GeoUnit, Voter
from veedor.store.voters import find_voter

PATH = "/voter"
MAX_BODY = 512
"""A form with one short field: anything longer is refused before it is read."""

Page = Callable[..., Response]


def add_voter_lookup(
    app: FastAPI,
    store: Store,
    definition: ElectionDefinition,
    page: Page,
    allow: Callable[[str], bool],
) -> None:
    spec = definition.registry.get("voters_csv")

    def available() -> bool:
        if not spec:
            return False
        with store.session() as session:
            return (
                session.scalar(select(Voter.key).where(Voter.election == definition.id).limit(1)) is not None
            )

    @app.get(PATH, include_in_schema=False)
    def voter_form(request: Request) -> Response:
        return page(request, "site/voter.html", {"available": available(), "asked": False}, cache=False)

    @app.post(PATH, include_in_schema=False)
    async def voter_lookup(request: Request) -> Response:
        if not allow(request.client.host if request.client else "?"):
            return Response("too many requests", status_code=429, headers={"Retry-After": "5"})
        form = await request.form(max_files=0, max_fields=2)
        typed = form.get("id")
        voter = normal_id(typed, spec) if spec and isinstance(typed, str) else None
        found: dict[str, Any] | None = None
        if voter is not None:
            with store.session() as session:
                where = find_voter(session, definition.id, voter)
                if where is not None:
                    centre, mesa = where
                    name = session.scalar(
                        select(GeoUnit.name).where(GeoUnit.election == definition.id, GeoUnit.code == centre)
                    )
                    found = {"centre": centre, "name": name, "mesa": mesa}
        response = page(
            request,
            "site/voter.html",
            {"available": True, "asked": True, "valid": voter is not None, "found": found},
            cache=False,
        )
        response.headers["Cache-Control"] = "no-store"
        return response
