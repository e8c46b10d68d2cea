"""Open an input safely: sniff its format, refuse bombs and corrupt files, read its metadata.

Nothing here trusts the file name or extension; only the bytes decide.
"""

from __future__ import annotations

import io
import warnings
from dataclasses import dataclass
from typing import Any

import cv2
import numpy as np
from PIL import ExifTags, Image

from veedor.model import ImageFacts

MAX_FILE_BYTES = 200 * 1024 * 1024
# A 200-dpi acta is ~5 Mpx and a 48-Mpx phone photo is the largest real input we expect.
MAX_PIXELS = 80_000_000
MIN_SIDE = 64

_MAGIC: list[tuple[bytes, str]] = [
    (b"\xff\xd8\xff", "JPEG"),
    (b"\x89PNG\r\n\x1a\n", "PNG"),
    (b"II*\x00", "TIFF"),
    (b"MM\x00*", "TIFF"),
    (b"BM", "BMP"),
    (b"GIF87a", "GIF"),
    (b"GIF89a", "GIF"),
]


class ImageRejected(ValueError):
    """The file cannot be an acta image; the message is the reason shown to people."""


@dataclass(frozen=True)
class LoadedImage:
    gray: np.ndarray
    facts: ImageFacts


def sniff_format(data: bytes) -> str | None:
    for magic, name in _MAGIC:
        if data.startswith(magic):
            return name
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "WEBP"
    if data[4:12] in (b"ftypheic", b"ftypheix", b"ftypmif1"):
        return "HEIC"
    if data[:4] == b"%PDF":
        return "PDF"
    return None


def _looks_truncated(data: bytes, fmt: str) -> bool:
    tail = data[-64:].rstrip(b"\x00\r\n ")
    if fmt == "JPEG":
        return not tail.endswith(b"\xff\xd9")
    if fmt == "PNG":
        return b"IEND" not in data[-32:]
    return False


def load_image(data: bytes, sha256: str) -> LoadedImage:
    """Decode to 8-bit grayscale, or raise :class:`ImageRejected` with a plain reason."""
    if not data:
        raise ImageRejected("archivo vacío (0 bytes) / empty file")
    fmt = sniff_format(data)
    if fmt is None:
        raise ImageRejected(
            "no es una imagen (formato no reconocido); envíe JPEG, PNG o TIFF / "
            "not an image (unknown format); send JPEG, PNG or TIFF"
        )
    if fmt in {"HEIC", "PDF"}:
        raise ImageRejected(
            f"formato {fmt} no soportado todavía; conviértalo a JPEG o PNG / "
            f"{fmt} not supported yet, convert it to JPEG or PNG"
        )
    if _looks_truncated(data, fmt):
        raise ImageRejected(
            f"archivo {fmt} incompleto o dañado (le falta el final); vuelva a copiarlo o escanearlo / "
            f"truncated or corrupt {fmt} file; copy or scan it again"
        )
    width, height, metadata = _header(data, fmt)
    if width * height > MAX_PIXELS:
        raise ImageRejected(
            f"imagen de {width}×{height} píxeles: demasiado grande, posible bomba de descompresión / "
            f"{width}x{height} pixels is too large (possible decompression bomb)"
        )
    if min(width, height) < MIN_SIDE:
        raise ImageRejected(
            f"imagen de {width}×{height} píxeles: demasiado pequeña para ser un acta / too small"
        )
    buffer = np.frombuffer(data, dtype=np.uint8)
    gray = cv2.imdecode(buffer, cv2.IMREAD_GRAYSCALE)
    if gray is None or gray.size == 0:
        raise ImageRejected(
            f"el archivo {fmt} está dañado y no se puede decodificar / corrupt {fmt}, cannot decode"
        )
    facts = ImageFacts(
        sha256=sha256,
        size=len(data),
        format=fmt,
        width=int(gray.shape[1]),
        height=int(gray.shape[0]),
        metadata=metadata,
    )
    return LoadedImage(gray, facts)


_EXIF_IFD = 0x8769
_GPS_IFD = 0x8825


def _header(data: bytes, fmt: str) -> tuple[int, int, dict[str, Any]]:
    """Read dimensions and metadata without decoding pixels."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            img = Image.open(io.BytesIO(data))
            width, height = img.size
            metadata = _metadata(img)
            frames = int(getattr(img, "n_frames", 1))
            if frames > 1:
                metadata["frames"] = frames
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
        raise ImageRejected(
            "imagen demasiado grande, posible bomba de descompresión / "
            f"image too large, possible decompression bomb ({exc})"
        ) from None
    except Exception as exc:
        raise ImageRejected(
            f"el archivo {fmt} está dañado / corrupt {fmt} file ({type(exc).__name__})"
        ) from None
    return int(width), int(height), metadata


def _metadata(img: Image.Image) -> dict[str, Any]:
    """Capture time, device and GPS from EXIF: private evidence, never published."""
    try:
        exif = img.getexif()
    except Exception:
        return {}
    out: dict[str, Any] = {}
    tags = {**dict(exif.items()), **dict(exif.get_ifd(_EXIF_IFD).items())}
    for tag_id, key in (
        (ExifTags.Base.DateTimeOriginal, "captured_at"),
        (ExifTags.Base.DateTime, "modified_at"),
        (ExifTags.Base.Make, "device_make"),
        (ExifTags.Base.Model, "device_model"),
        (ExifTags.Base.Software, "software"),
        (ExifTags.Base.Orientation, "orientation"),
    ):
        if tag_id in tags:
            out[key] = _plain(tags[tag_id])
    gps = exif.get_ifd(_GPS_IFD)
    if gps:
        out["gps"] = {ExifTags.GPSTAGS.get(k, str(k)): _plain(v) for k, v in gps.items()}
    return out


def _plain(value: Any) -> Any:
    if isinstance(value, bytes):
        return value.decode("latin-1", "replace").strip("\x00")
    if isinstance(value, tuple):
        return [_plain(v) for v in value]
    if isinstance(value, int | str):
        return value
    try:
        return float(value)
    except (TypeError, ValueError):
        return str(value)
