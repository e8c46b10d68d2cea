"""The acta images, by SHA-256, to whoever may see their mesa: decoded and encoded again as a
plain JPEG, upright, so no EXIF (a phone's GPS position, its owner's name) and no file name
ever leave the evidence store."""

from __future__ import annotations

import base64
import re
import threading
from pathlib import Path

import cv2
import numpy as np
from fastapi import APIRouter
from sqlalchemy import select
from sqlalchemy.orm import Session
from starlette.responses import Response

from veedor.capture.images import plain_jpeg
from veedor.definitions import ElectionDefinition
from veedor.read.readers import get_reader
from veedor.store.schema import ActaRecord, Evidence
from veedor.web.auth import Forbidden
from veedor.web.context import DbDep, DeskDep, Viewer, ViewerDep
from veedor.web.desk import may_see
from veedor.web.sheets import may_see_sheet

router = APIRouter()
SHA = re.compile(r"[0-9a-f]{64}")


def _check(db: Session, viewer: Viewer, sha: str) -> None:
    """Refused unless the image is one of a mesa or sheet the viewer may see (unknown, or not
    theirs: the same answer)."""
    if not SHA.fullmatch(sha):
        raise Forbidden
    pks = db.scalars(select(Evidence.acta_pk).where(Evidence.sha256 == sha)).all()
    records = [r for pk in pks if (r := db.get(ActaRecord, pk)) is not None]
    if not any(may_see(db, viewer, r) for r in records) and not may_see_sheet(db, viewer, sha):
        raise Forbidden


@router.get("/image/{sha}")
def image(sha: str, desk: DeskDep, db: DbDep, viewer: ViewerDep) -> Response:
    _check(db, viewer, sha)
    data = plain_jpeg(desk.evidence.path_for(sha))
    if data is None:
        return Response(status_code=404)
    return Response(
        data,
        media_type="image/jpeg",
        headers={"Content-Disposition": f'inline; filename="{sha[:16]}.jpg"'},
    )


def public_jpeg(path: Path, definition: ElectionDefinition) -> bytes | None:
    """The image as the public may see it: :func:`plain_jpeg`, with what the definition's sheet
    reader says is personal data (a form's names, identity numbers and signatures) painted out;
    None when that cannot be done safely (then the image is not shown at all)."""
    data = plain_jpeg(path)
    public = get_reader(definition.reader["name"]).public
    if data is None or public is None:
        return data
    image = cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_UNCHANGED)
    safe = public(image, definition) if image is not None else None
    if safe is None:
        return None
    ok, encoded = cv2.imencode(".jpg", safe, [cv2.IMWRITE_JPEG_QUALITY, 88])
    return encoded.tobytes() if ok else None


BLANK = base64.b64decode("R0lGODlhAQABAIAAAP///wAAACH5BAEAAAAALAAAAAABAAEAAAICRAEAOw==")
"""A 1x1 white GIF: where a line's crop cannot be placed, the page shows nothing there."""


@router.get("/crop/{sha}/{line}")
def line_crop(sha: str, line: int, desk: DeskDep, db: DbDep, viewer: ViewerDep) -> Response:
    """Ballot line ``line`` (1-based) as printed on the image: shown beside its field."""
    return _crop(sha, f"v{line - 1}" if line >= 1 else "", desk, db, viewer)


@router.get("/crop/{sha}/count/{name}")
def count_crop(sha: str, name: str, desk: DeskDep, db: DbDep, viewer: ViewerDep) -> Response:
    """The null or blank votes' box, where the sheet's reader places it (a hand-filled form)."""
    return _crop(sha, name if name in ("nulos", "blank") else "", desk, db, viewer)


def _crop(sha: str, field: str, desk: DeskDep, db: DbDep, viewer: ViewerDep) -> Response:
    _check(db, viewer, sha)
    piece = field_crops(desk.evidence.path_for(sha), desk.definition).get(field)
    if piece is None:
        return Response(BLANK, media_type="image/gif")
    return Response(piece, media_type="image/jpeg")


_CROPS: dict[tuple[Path, str], dict[str, bytes]] = {}
_CROPS_LOCK = threading.Lock()
CROPS_KEPT = 32


def field_crops(path: Path, definition: ElectionDefinition) -> dict[str, bytes]:
    """Each entry field's crop of the image at ``path`` (as plain JPEGs, no metadata), keyed by
    the entry form's input names (``v0`` …, ``nulos``, ``blank``), where the definition's sheet
    reader places them (:mod:`veedor.read.readers`); none when it cannot place them whole. Only
    the counts' own boxes are ever cropped: never a form's names or signatures."""
    key = (path, definition.id)
    with _CROPS_LOCK:
        if key in _CROPS:
            return _CROPS[key]
    data = plain_jpeg(path)
    gray = cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_GRAYSCALE) if data is not None else None
    reader = get_reader(definition.reader["name"])
    found = reader.boxes(gray, definition) if gray is not None else None
    out: dict[str, bytes] = {}
    if found is not None:
        upright, boxes = found
        for name, box in boxes.items():
            pad = max(4, int(box.height * reader.crop_margin))
            piece = upright[max(0, box.y0 - pad) : box.y1 + pad, max(0, box.x0 - pad) : box.x1 + pad]
            ok, encoded = (
                cv2.imencode(".jpg", piece, [cv2.IMWRITE_JPEG_QUALITY, 85]) if piece.size else (False, None)
            )
            if ok and encoded is not None:
                out[name] = encoded.tobytes()
    with _CROPS_LOCK:
        if len(_CROPS) >= CROPS_KEPT:
            _CROPS.pop(next(iter(_CROPS)))
        _CROPS[key] = out
    return out
