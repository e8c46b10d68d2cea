"""The acta images, by SHA-256, to whoever may see their mesa: decoded and encoded again as a
plain JPEG, upright, so no EXIF (a phone's GPS position, its owner's name) and no file name
ever leave the evidence store."""

from __future__ import annotations

import base64
import io
import re
from functools import lru_cache
from pathlib import Path

import cv2
import numpy as np
from fastapi import APIRouter
from PIL import Image, ImageOps
from sqlalchemy import select
from sqlalchemy.orm import Session
from starlette.responses import Response

from veedor.capture.images import MAX_PIXELS, sniff_format
from veedor.read.print.geometry import ballot_rows
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


@lru_cache(maxsize=64)
def plain_jpeg(path: Path) -> bytes | None:
    """The image at ``path`` as a JPEG without metadata, EXIF orientation applied."""
    try:
        data = path.read_bytes()
    except OSError:
        return None
    if sniff_format(data) == "HEIC":
        import pillow_heif

        pillow_heif.register_heif_opener()
    try:
        with Image.open(io.BytesIO(data)) as img:
            if img.width * img.height > MAX_PIXELS:
                return None
            upright = ImageOps.exif_transpose(img)
            plain = upright.convert("L" if upright.mode in ("1", "L", "I", "I;16", "F") else "RGB")
    except Exception:  # the evidence is kept as it came; a corrupt one is simply not shown
        return None
    out = io.BytesIO()
    plain.save(out, format="JPEG", quality=88, optimize=True)
    return out.getvalue()


BLANK = base64.b64decode("R0lGODlhAQABAIAAAP///wAAACH5BAEAAAAALAAAAAABAAEAAAICRAEAOw==")
"""A 1x1 white GIF: where a line's crop cannot be placed, the page shows nothing there."""


@router.get("/crop/{sha}/{line}")
def line_crop(sha: str, line: int, desk: DeskDep, db: DbDep, viewer: ViewerDep) -> Response:
    """Ballot line ``line`` (1-based) as printed on the image: shown beside its field."""
    _check(db, viewer, sha)
    crops = line_crops(desk.evidence.path_for(sha), len(desk.definition.ballot))
    piece = crops[line - 1] if crops is not None and 1 <= line <= len(crops) else None
    if piece is None:
        return Response(BLANK, media_type="image/gif")
    return Response(piece, media_type="image/jpeg")


@lru_cache(maxsize=32)
def line_crops(path: Path, ballot_lines: int) -> tuple[bytes | None, ...] | None:
    """Each ballot line's crop of the image at ``path`` (as plain JPEGs, no metadata), or None
    when its table was not found whole (:func:`veedor.read.print.geometry.ballot_rows`)."""
    data = plain_jpeg(path)
    if data is None:
        return None
    gray = cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_GRAYSCALE)
    found = ballot_rows(gray, ballot_lines) if gray is not None else None
    if found is None:
        return None
    upright, boxes = found
    out: list[bytes | None] = []
    for box in boxes:
        pad = max(4, box.height // 2)
        piece = upright[max(0, box.y0 - pad) : box.y1 + pad, max(0, box.x0 - pad) : box.x1 + pad]
        ok, encoded = (
            cv2.imencode(".jpg", piece, [cv2.IMWRITE_JPEG_QUALITY, 85]) if piece.size else (False, None)
        )
        out.append(encoded.tobytes() if ok and encoded is not None else None)
    return tuple(out)
