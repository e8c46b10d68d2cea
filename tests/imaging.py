"""Small image makers for tests (no image files are committed for these)."""

from __future__ import annotations

import io
import zlib
from pathlib import Path

import cv2
import numpy as np
import segno


def qr_image(text: str, scale: int = 8, canvas: tuple[int, int] = (900, 700)) -> np.ndarray:
    """A white sheet with one QR (level Q, as on the actas) near the bottom."""
    buffer = io.BytesIO()
    segno.make_qr(text, error="q").save(buffer, kind="png", scale=scale, border=4)
    code = cv2.imdecode(np.frombuffer(buffer.getvalue(), np.uint8), cv2.IMREAD_GRAYSCALE)
    sheet = np.full(canvas, 255, np.uint8)
    h, w = code.shape
    top = canvas[0] - h - 20
    sheet[top : top + h, 40 : 40 + w] = code
    return sheet


def write(path: Path, gray: np.ndarray, ext: str = ".png") -> Path:
    ok, data = cv2.imencode(ext, gray)
    assert ok
    path.write_bytes(data.tobytes())
    return path


def payload(
    centre: str = "040202001", mesa: int = 1, votes: list[int] | None = None, nulos: int = 0, blank: int = 0
) -> str:
    votes = votes if votes is not None else [1] * 38
    return f"{centre}.{mesa:02d}.1.0001!{','.join(map(str, votes))}!{nulos}!{blank}"


def png_bomb(path: Path, side: int = 30_000) -> Path:
    """A real decompression bomb: a valid side×side grayscale PNG of ~1 MB that inflates to ~900 MB."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return len(data).to_bytes(4, "big") + kind + data + zlib.crc32(kind + data).to_bytes(4, "big")

    header = side.to_bytes(4, "big") * 2 + bytes([8, 0, 0, 0, 0])
    compressor = zlib.compressobj(1)
    row = b"\x00" * (side + 1)
    parts = [compressor.compress(row * 500) for _ in range(side // 500)]
    parts.append(compressor.flush())
    with path.open("wb") as handle:
        handle.write(
            b"\x89PNG\r\n\x1a\n"
            + chunk(b"IHDR", header)
            + chunk(b"IDAT", b"".join(parts))
            + chunk(b"IEND", b"")
        )
    return path
