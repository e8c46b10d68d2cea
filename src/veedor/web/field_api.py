"""The field app's JSON API (``/api/field/v1/…``): a witness's phone sends photos and incident
reports with its invite code as a bearer token. A photo is stored in the evidence store by its
SHA-256 and queued for reading; sent again (a retry after a dropped connection), it is the same
photo: one record, the same answer.

Contract (scripts and tests rely on it): ``POST /api/field/v1/uploads`` with
``Authorization: Bearer INVITE_CODE`` and a multipart field ``file`` answers 201 with JSON
holding the image's ``sha256`` (200 with the same JSON for a retry of the same bytes), 401
without a valid code.
"""

from __future__ import annotations

import hashlib
import math
import re
from datetime import UTC, datetime, timedelta
from typing import Any

from fastapi import APIRouter
from sqlalchemy import select
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import UploadFile
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from veedor.capture.images import sniff_format
from veedor.i18n import gettext, negotiate
from veedor.store.field import (
    LimitReached,
    UnknownKind,
    accept_incident,
    accept_upload,
    before_storing,
    find_invite,
    upload_answer,
    used,
)
from veedor.store.schema import FieldInvite, FieldUpload
from veedor.web.field_state import N_, Field

router = APIRouter(prefix="/api/field/v1")
MAX_UPLOAD_BYTES = 40 * 2**20
"""A phone's largest photo (a 108 Mpx JPEG is ~25 MB); the app sends far less (docs/field.md)."""
SHA = re.compile(r"[0-9a-f]{64}")
CLIENT_ID = re.compile(r"[A-Za-z0-9_-]{8,64}")


def _lang(request: Request) -> str:
    return negotiate(request.headers.get("accept-language"), request.query_params.get("lang"))


def refusal(request: Request, status: int, error: str, message: str) -> JSONResponse:
    """A refusal in words, in the reader's language; never what was sent back."""
    return JSONResponse(
        {"error": error, "message": gettext(message, _lang(request))},
        status_code=status,
        headers={"WWW-Authenticate": "Bearer"} if status == 401 else None,
    )


class Refused(Exception):
    def __init__(self, status: int, error: str, message: str) -> None:
        super().__init__(error)
        self.status, self.error, self.message = status, error, message


def _field(request: Request) -> Field:
    field: Field = request.app.state.field
    return field


def _bearer(request: Request) -> str | None:
    scheme, _, code = request.headers.get("authorization", "").partition(" ")
    return code.strip() if scheme.lower() == "bearer" and code.strip() else None


def _invite(request: Request) -> FieldInvite:
    code = _bearer(request)
    field = _field(request)
    with field.store.session() as session:
        invite = find_invite(session, code) if code else None
    if invite is None:
        raise Refused(
            401,
            "invalid_code",
            N_("This invite code is not valid (mistyped, or revoked). Ask your coordinator."),
        )
    return invite


def _when(raw: object) -> datetime | None:
    """A time the phone sent (ISO 8601, or milliseconds since 1970), when plausible: not before
    the year 2000 nor more than a day ahead of the server's clock."""
    if not isinstance(raw, str) or not raw.strip():
        return None
    text = raw.strip()
    try:
        when = (
            datetime.fromtimestamp(int(text) / 1000, UTC)
            if text.isdigit()
            else datetime.fromisoformat(text.replace("Z", "+00:00"))
        )
    except (ValueError, OverflowError, OSError):
        return None
    when = when if when.tzinfo else when.replace(tzinfo=UTC)
    if when.year < 2000 or when > datetime.now(UTC) + timedelta(days=1):
        return None
    return when


def _number(raw: object, low: float, high: float) -> float | None:
    try:
        value = float(raw) if isinstance(raw, str) else None
    except ValueError:
        return None
    return value if value is not None and math.isfinite(value) and low <= value <= high else None


def _claimed(form: dict[str, Any], digits: int) -> tuple[str, int] | None:
    centre, mesa = form.get("centre"), form.get("mesa")
    if not (isinstance(centre, str) and centre.isascii() and centre.isdigit() and len(centre) == digits):
        return None
    if not (isinstance(mesa, str) and mesa.isascii() and mesa.isdigit() and 0 < int(mesa) < 1000):
        return None
    return centre, int(mesa)


async def read_form(request: Request) -> tuple[dict[str, Any], bytes | None]:
    """The posted fields and the ``file`` part's bytes (None when absent), within the bounds."""
    declared = request.headers.get("content-length")
    if declared and declared.isdigit() and int(declared) > MAX_UPLOAD_BYTES + 2**20:
        raise Refused(413, "too_large", N_("The photo is too large to send."))
    try:
        form = await request.form(max_files=1, max_fields=20)
    except Exception:  # not multipart, or malformed: said in words
        raise Refused(400, "bad_form", N_("The request is not a form with a photo.")) from None
    fields = {k: v for k, v in form.items() if isinstance(v, str)}
    upload = form.get("file")
    data = None
    if isinstance(upload, UploadFile):
        data = await upload.read(MAX_UPLOAD_BYTES + 1)
        await upload.close()
        if len(data) > MAX_UPLOAD_BYTES:
            raise Refused(413, "too_large", N_("The photo is too large to send."))
    await form.close()
    return fields, data


def photo_sha(data: bytes | None) -> str:
    """The photo's SHA-256, once it looks like an image (its bytes decide, never its name)."""
    if not data:
        raise Refused(400, "no_photo", N_("No photo was sent (the field 'file' is empty or missing)."))
    if sniff_format(data) is None:
        raise Refused(
            415, "not_an_image", N_("This file is not a photo (JPEG, PNG, WebP, HEIC, TIFF or PDF).")
        )
    return hashlib.sha256(data).hexdigest()


def _json(body: dict[str, Any], status: int) -> JSONResponse:
    return JSONResponse(body, status_code=status)


@router.post("/uploads")
async def upload(request: Request) -> Response:
    try:
        invite = await run_in_threadpool(_invite, request)
        fields, data = await read_form(request)
        sha = photo_sha(data)
        assert data is not None
        field = _field(request)

        def received_before() -> FieldUpload | None:
            with field.store.session() as session:
                return before_storing(session, invite, sha)

        earlier = await run_in_threadpool(received_before)
        if earlier is not None:  # a retry: the bytes are on disk already
            return _json(upload_answer(earlier), 200)
        await run_in_threadpool(field.evidence.put, data, sha)  # durable before it is acknowledged
        location = None
        lat, lon = _number(fields.get("lat"), -90, 90), _number(fields.get("lon"), -180, 180)
        if lat is not None and lon is not None:
            location = {"lat": lat, "lon": lon, "accuracy_m": _number(fields.get("accuracy"), 0, 1e6)}

        def accept() -> tuple[FieldUpload, bool]:
            with field.store.session() as session:
                return accept_upload(
                    session,
                    invite,
                    sha,
                    len(data),
                    claimed=_claimed(fields, field.definition.centre_code_digits),
                    taken_at=_when(fields.get("taken_at")),
                    location=location,
                )

        row, new = await run_in_threadpool(accept)
    except Refused as exc:
        return refusal(request, exc.status, exc.error, exc.message)
    except LimitReached:
        return refusal(request, 429, "limit", N_("This code has sent all it may. Ask your coordinator."))
    field.wake()
    return _json(upload_answer(row), 201 if new else 200)


@router.get("/uploads/{sha}")
def upload_status(sha: str, request: Request) -> Response:
    """Whether this code's photo arrived (so a phone need not send it again): the upload's
    answer, or 404 (unknown, or sent by another code: the same answer)."""
    try:
        invite = _invite(request)
    except Refused as exc:
        return refusal(request, exc.status, exc.error, exc.message)
    if not SHA.fullmatch(sha):
        return refusal(request, 404, "unknown", N_("No such photo was received from this code."))
    with _field(request).store.session() as session:
        row = session.scalar(
            select(FieldUpload).where(FieldUpload.sha256 == sha, FieldUpload.invite_id == invite.id)
        )
    if row is None:
        return refusal(request, 404, "unknown", N_("No such photo was received from this code."))
    return _json(upload_answer(row), 200)


@router.post("/incidents")
async def incident(request: Request) -> Response:
    field = _field(request)
    try:
        invite = await run_in_threadpool(_invite, request)
        fields, data = await read_form(request)
        photo = None
        if data:
            photo = photo_sha(data)
            await run_in_threadpool(field.evidence.put, data, photo)
        client_id = fields.get("client_id", "")
        if not CLIENT_ID.fullmatch(client_id):
            raise Refused(400, "bad_report", N_("The report is incomplete: send it again from the app."))

        def accept() -> tuple[Any, bool]:
            with field.store.session() as session:
                return accept_incident(
                    session,
                    invite,
                    field.definition,
                    client_id=client_id,
                    centre=fields.get("centre", ""),
                    kind=fields.get("kind", ""),
                    text=fields.get("text"),
                    photo_sha256=photo,
                    observed_at=_when(fields.get("observed_at")),
                )

        row, new = await run_in_threadpool(accept)
    except Refused as exc:
        return refusal(request, exc.status, exc.error, exc.message)
    except LimitReached:
        return refusal(request, 429, "limit", N_("This code has sent all it may. Ask your coordinator."))
    except UnknownKind:
        return refusal(
            request, 422, "unknown_kind", N_("This kind of incident is not on this election's list.")
        )
    except ValueError:
        return refusal(request, 422, "bad_centre", N_("The centre code is not valid: check its digits."))
    return _json({"id": row.client_id, "received_at": row.received_at.isoformat()}, 201 if new else 200)


@router.get("/me")
def me(request: Request) -> Response:
    """What the server knows of this code: its pseudonym, scope and limits (shown on the phone,
    so the witness sees it is nothing more)."""
    try:
        invite = _invite(request)
    except Refused as exc:
        return refusal(request, exc.status, exc.error, exc.message)
    with _field(request).store.session() as session:
        sent = used(session, invite.id)
    return _json(
        {
            "pseudonym": invite.pseudonym,
            "scope": list(invite.scope),
            "limit": invite.upload_limit,
            "used": sent,
            "send_location": invite.send_location,
        },
        200,
    )


@router.get("/config")
def config(request: Request) -> Response:
    """What the app needs to read a QR on the phone and offer the incident form: the
    definition's payload grammar, ballot and incident kinds (public, cached offline)."""
    field = _field(request)
    lang = _lang(request)
    definition = field.definition
    return _json(
        {
            "election": definition.id,
            "name": definition.name_en if lang == "en" else definition.name_es,
            "payload": {
                k: definition.payload.get(k)
                for k in ("parser", "separator", "count_separator", "fields", "acta_id_pattern", "max_length")
            },
            "ballot": [position.candidate for position in definition.ballot],
            "candidates": [{"code": c.code, "name": c.name} for c in definition.candidates],
            "incident_kinds": [{"code": k.code, "label": k.label(lang)} for k in definition.incident_kinds],
            "centre_digits": definition.centre_code_digits,
            "max_pixels": field.max_pixels,
        },
        200,
    )
