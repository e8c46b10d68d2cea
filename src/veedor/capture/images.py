"""Open an input safely: sniff its format, refuse bombs and corrupt files, read its metadata.

Nothing here trusts the file name or extension; only the bytes decide.
"""

from __future__ import annotations

import io
import os
import warnings
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

import cv2
import numpy as np
from PIL import ExifTags, Image, ImageOps

from veedor.model import ImageFacts

MAX_FILE_BYTES = 200 * 1024 * 1024
# A 200-dpi acta is ~5 Mpx; the largest phone photos are 108 Mpx (12,000 x 9,000). The bound
# is memory, not a side's length: decoding holds up to 3 bytes a pixel, 360 MB per worker
# at this bound, and a bomb (a tiny file claiming a huge image) is refused before decoding.
MAX_PIXELS = 120_000_000
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


IMAGE_SUFFIXES = frozenset(
    [
        ".jpg",
        ".jpeg",
        ".jpe",
        ".jfif",
        ".png",
        ".tif",
        ".tiff",
        ".bmp",
        ".gif",
        ".webp",
        ".heic",
        ".heif",
        ".pdf",
    ]
)
"""Names that say "image" (or a scanner's PDF): such a file is read even if its bytes are not
one, so that a broken photo is reported, not passed over in silence."""


def looks_like_image(path: str) -> bool:
    """Worth reading as an acta: an image's (or PDF's) name, or an image's first bytes under any
    name. What is neither (a README, a CSV, the JSON a simulation writes beside its images) is
    not an acta, and reading it would only store it as rejected evidence."""
    if os.path.splitext(path)[1].lower() in IMAGE_SUFFIXES:
        return True
    try:
        with open(path, "rb") as handle:
            head = handle.read(16)
    except OSError:
        return True  # the reader says why it cannot be opened
    return sniff_format(head) is not None


def jpeg_end(data: bytes) -> int | None:
    """Where a JPEG's image ends (just past its EOI marker), walking its segments and scans;
    None when it ends first (truncated). Phones append a video after the EOI (motion photos):
    those bytes are not the image's, and do not make it incomplete."""
    i = 2
    n = len(data)
    while i + 2 <= n:
        if data[i] != 0xFF:
            return None
        marker = data[i + 1]
        if marker == 0xD9:
            return i + 2
        if marker == 0xFF:  # fill byte
            i += 1
            continue
        if 0xD0 <= marker <= 0xD7 or marker == 0x01:
            i += 2
            continue
        if i + 4 > n:
            return None
        length = int.from_bytes(data[i + 2 : i + 4], "big")
        i += 2 + length
        if marker == 0xDA:  # entropy-coded data: runs to the next marker that is not a restart
            while True:
                j = data.find(b"\xff", i)
                if j < 0 or j + 1 >= n:
                    return None
                follower = data[j + 1]
                if follower == 0x00 or 0xD0 <= follower <= 0xD7:
                    i = j + 2  # a stuffed 0xFF or a restart marker: still the scan
                elif follower == 0xFF:
                    i = j + 1
                else:
                    i = j
                    break
    return None


def _looks_truncated(data: bytes, fmt: str) -> bool:
    if fmt == "JPEG":
        return jpeg_end(data) is None
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
    if fmt == "PDF":  # capture.pages splits a PDF into its pages first
        raise ImageRejected("un PDF se lee página por página / a PDF is read page by page")
    if fmt == "HEIC":
        _heif_opener()
    if _looks_truncated(data, fmt):
        raise ImageRejected(
            f"archivo {fmt} incompleto o dañado (le falta el final); vuelva a copiarlo o escanearlo / "
            f"truncated or corrupt {fmt} file; copy or scan it again"
        )
    size = len(data)
    if fmt == "JPEG" and (end := jpeg_end(data)) is not None and end < len(data):
        trailing = len(data) - end
        data = data[:end]  # the evidence keeps every byte; the image is what comes before
    else:
        trailing = 0
    width, height, metadata = _header(data, fmt)
    if trailing:
        metadata["trailing_bytes"] = trailing
    if width * height > MAX_PIXELS:
        raise ImageRejected(
            f"imagen de {width}×{height} píxeles: demasiado grande, posible bomba de descompresión / "
            f"{width}x{height} pixels is too large (possible decompression bomb)"
        )
    if min(width, height) < MIN_SIDE:
        raise ImageRejected(
            f"imagen de {width}×{height} píxeles: demasiado pequeña para ser un acta / too small"
        )
    gray = _decode_heif(data) if fmt == "HEIC" else _decode(data, bool(metadata.pop("alpha", False)))
    if gray is None or gray.size == 0:
        raise ImageRejected(
            f"el archivo {fmt} está dañado y no se puede decodificar / corrupt {fmt}, cannot decode"
        )
    if is_blank(gray):
        raise ImageRejected(
            "página en blanco, sin nada escrito (p. ej. el reverso de un escaneo a doble cara) / "
            "blank page, nothing on it (e.g. the back of a double-sided scan)"
        )
    facts = ImageFacts(
        sha256=sha256,
        size=size,
        format=fmt,
        width=int(gray.shape[1]),
        height=int(gray.shape[0]),
        metadata=metadata,
    )
    return LoadedImage(gray, facts)


BLANK_LEVELS = 20
BLANK_SHARE = 1e-4
"""A page is blank when fewer than 0.01 % of its pixels (after a 3×3 median, which removes a
scanner's dust and noise) differ from its median by more than 20 levels. The emptiest real
acta in any degraded family (a whole-sheet phone photo) has 15× that share; a blank page with
scanner noise has none."""


def is_blank(gray: np.ndarray) -> bool:
    smooth = cv2.medianBlur(gray, 3)
    counts = np.cumsum(cv2.calcHist([smooth], [0], None, [256], [0, 256]).ravel())
    total = counts[-1]
    median = int(np.searchsorted(counts, total / 2))
    below = counts[median - BLANK_LEVELS - 1] if median > BLANK_LEVELS else 0
    above = total - counts[min(255, median + BLANK_LEVELS)]
    return bool((below + above) / total < BLANK_SHARE)


def _decode(data: bytes, alpha: bool) -> np.ndarray | None:
    """8-bit grayscale; transparent pixels shown over white paper, as a viewer prints them
    (dropping the alpha channel shows what is under it, often black)."""
    flag = cv2.IMREAD_UNCHANGED if alpha else cv2.IMREAD_GRAYSCALE
    image = cv2.imdecode(np.frombuffer(data, np.uint8), flag)
    if not alpha or image is None or image.ndim != 3 or image.shape[2] != 4:
        return image if image is None or image.ndim == 2 else cv2.cvtColor(image[..., :3], cv2.COLOR_BGR2GRAY)
    depth = 65535.0 if image.dtype == np.uint16 else 255.0
    color = cv2.cvtColor(image[..., :3], cv2.COLOR_BGR2GRAY).astype(np.float32) / depth
    opacity = image[..., 3].astype(np.float32) / depth
    return np.clip((color * opacity + (1 - opacity)) * 255, 0, 255).astype(np.uint8)


def _heif_opener() -> None:
    """iPhones save HEIC: Pillow reads it once pillow-heif's opener is registered."""
    import pillow_heif

    pillow_heif.register_heif_opener()


def _decode_heif(data: bytes) -> np.ndarray | None:
    try:
        with Image.open(io.BytesIO(data)) as img:
            return np.asarray(img.convert("L"))
    except Exception:  # a corrupt file: the caller says so in words
        return None


_EXIF_IFD = 0x8769
_GPS_IFD = 0x8825


def _header(data: bytes, fmt: str) -> tuple[int, int, dict[str, Any]]:
    """Read dimensions and metadata without decoding pixels."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            Image.MAX_IMAGE_PIXELS = MAX_PIXELS  # Pillow's own bound, set to ours
            img = Image.open(io.BytesIO(data))
            width, height = img.size
            metadata = _metadata(img)
            if img.mode in ("RGBA", "LA", "PA", "La", "RGBa") or "transparency" in img.info:
                metadata["alpha"] = True
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


@lru_cache(maxsize=64)
def plain_jpeg(path: Path) -> bytes | None:
    """The image at ``path`` as a JPEG without metadata, EXIF orientation applied: what the desk
    shows and what a public dispute package carries."""
    try:
        data = path.read_bytes()
    except OSError:
        return None
    if sniff_format(data) == "HEIC":
        _heif_opener()
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
