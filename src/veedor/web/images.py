"""The acta images, by SHA-256, to whoever may see their mesa: decoded and encoded again as a
plain JPEG, upright, so no EXIF (a phone's GPS position, its owner's name) and no file name
ever leave the evidence store."""

from __future__ import annotations

import io
import re
from functools import lru_cache
from pathlib import Path

from fastapi import APIRouter
from PIL import Image, ImageOps
from sqlalchemy import select
from starlette.responses import Response

from veedor.capture.images import MAX_PIXELS, sniff_format
from veedor.store.schema import ActaRecord, Evidence
from veedor.web.auth import Forbidden
from veedor.web.context import DbDep, DeskDep, ViewerDep
from veedor.web.desk import may_see
from veedor.web.sheets import may_see_sheet

router = APIRouter()
SHA = re.compile(r"[0-9a-f]{64}")


@router.get("/image/{sha}")
def image(sha: str, desk: DeskDep, db: DbDep, viewer: ViewerDep) -> Response:
    if not SHA.fullmatch(sha):
        raise Forbidden
    pks = db.scalars(select(Evidence.acta_pk).where(Evidence.sha256 == sha)).all()
    records = [r for pk in pks if (r := db.get(ActaRecord, pk)) is not None]
    if not any(may_see(db, viewer, r) for r in records) and not may_see_sheet(db, viewer, sha):
        raise Forbidden  # unknown, or not theirs: the same answer
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
