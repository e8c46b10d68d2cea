"""Files with several pages (a scanner's PDF, a multi-page TIFF): each page its own image.

Each page is rendered once, losslessly (PNG), and becomes its own piece of evidence, named
by its file and page and pointing back to the file's SHA-256. The file itself is kept whole.
"""

from __future__ import annotations

import io

from PIL import Image

from veedor.capture.images import MAX_PIXELS, ImageRejected

MAX_PAGES = 200
"""A folder of actas scanned into one PDF; more pages than this is not a batch of actas."""
PDF_DPI = 200  # the resolution of the real acta scans


def split_pages(data: bytes, fmt: str | None) -> list[bytes] | None:
    """Every page as PNG bytes, or None when the file is a single image (read as it is)."""
    if fmt == "PDF":
        return _pdf_pages(data)
    if fmt == "TIFF":
        return _tiff_pages(data)
    return None


def _png(img: Image.Image) -> bytes:
    buffer = io.BytesIO()
    img.convert("L").save(buffer, format="PNG")
    return buffer.getvalue()


def _too_many(n: int) -> None:
    if n > MAX_PAGES:
        raise ImageRejected(
            f"{n} páginas: más de {MAX_PAGES}; divida el archivo / {n} pages, more than {MAX_PAGES}: split it"
        )


def _tiff_pages(data: bytes) -> list[bytes] | None:
    try:
        img = Image.open(io.BytesIO(data))
        frames = int(getattr(img, "n_frames", 1))
        if frames <= 1:
            return None
        _too_many(frames)
        pages = []
        for i in range(frames):
            img.seek(i)
            if img.size[0] * img.size[1] > MAX_PIXELS:
                raise ImageRejected(f"página {i + 1} demasiado grande / page {i + 1} too large")
            pages.append(_png(img))
        return pages
    except ImageRejected:
        raise
    except Exception as exc:
        raise ImageRejected(f"TIFF dañado / corrupt TIFF ({type(exc).__name__})") from None


def _pdf_pages(data: bytes) -> list[bytes]:
    import pypdfium2 as pdfium

    try:
        pdf = pdfium.PdfDocument(data)
    except Exception as exc:
        raise ImageRejected(
            f"PDF dañado o cifrado / corrupt or encrypted PDF ({type(exc).__name__})"
        ) from None
    try:
        _too_many(len(pdf))
        if len(pdf) == 0:
            raise ImageRejected("PDF sin páginas / PDF with no pages")
        scale = PDF_DPI / 72
        pages = []
        for i in range(len(pdf)):
            page = pdf[i]
            width, height = page.get_size()
            if width * scale * height * scale > MAX_PIXELS:
                raise ImageRejected(f"página {i + 1} demasiado grande / page {i + 1} too large")
            pages.append(_png(page.render(scale=scale, grayscale=True).to_pil()))
        return pages
    finally:
        pdf.close()
