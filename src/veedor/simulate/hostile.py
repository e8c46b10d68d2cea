"""A battery of hostile inputs for ``veedor scan``: files, payloads, names and places.

Each kind is data: how to make it, and what a scan must say of it (status, a fragment of
the reason, whether its mesa may be counted). The tests scan the whole battery in one run
and hold every kind to its line; a drill can scatter it among good files. Tables and
bulletins are in :mod:`veedor.simulate.hostile_tables`.

The good acta the battery starts from is a real one (its bytes, pixels and QR text); every
other number in it is made here, never taken from a person.
"""

from __future__ import annotations

import io
import os
import zlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np
import segno
from PIL import Image

from veedor.definitions import ElectionDefinition
from veedor.simulate.degrade import tamper

SYNTHETIC_CENTRE = "130101001"
"""Synthetic sheets' centre: apart from any real acta the battery is made from."""


@dataclass(frozen=True)
class Acta:
    """The real acta the battery is made from."""

    data: bytes
    text: str
    """Its QR text (the ground truth)."""


@dataclass(frozen=True)
class Kind:
    name: str
    family: str
    """"image" (the file itself), "payload" (what its QR says), "name" (its file name),
    "place" (what the path is: a link, a pipe)."""
    make: Callable[[Path, Acta, ElectionDefinition], list[str]]
    """Writes the input into a folder; returns the names its report lines will carry."""
    status: str
    reason: str = ""
    """A fragment every one of its report lines' reason contains ("" for an ok line)."""
    counted: bool = False
    """Its mesa may be counted: only ever with the real acta's own numbers."""


def payload_text(
    definition: ElectionDefinition, mesa: int, votes: Sequence[object] | None = None, **kw: object
) -> str:
    """A payload in the definition's grammar (``ACTA!V0,V1,...!NULOS!BLANK``), with any part replaced."""
    counts = votes if votes is not None else [1] * len(definition.ballot)
    centre = kw.get("centre", SYNTHETIC_CENTRE)
    acta_id = kw.get("acta_id", f"{centre}.{mesa:02d}.1.0001")
    return f"{acta_id}!{','.join(map(str, counts))}!{kw.get('nulos', 0)}!{kw.get('blank', 0)}"


def qr_sheet(texts: list[str] | str, *, error: str = "q") -> np.ndarray:
    """A white sheet with one QR per text side by side (level Q, as on the actas)."""
    codes = []
    for text in [texts] if isinstance(texts, str) else texts:
        buffer = io.BytesIO()
        segno.make_qr(text, error=error).save(buffer, kind="png", scale=6, border=4)
        codes.append(_decoded(buffer.getvalue()))
    side = max(c.shape[0] for c in codes)
    sheet = np.full((side + 200, sum(c.shape[1] for c in codes) + 100 * len(codes) + 100), 255, np.uint8)
    x = 100
    for code in codes:
        sheet[100 : 100 + code.shape[0], x : x + code.shape[1]] = code
        x += code.shape[1] + 100
    return sheet


def _png(gray: np.ndarray) -> bytes:
    ok, data = cv2.imencode(".png", gray)
    assert ok
    return data.tobytes()


def _pillow(image: Image.Image, fmt: str, **kw: object) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, fmt, **kw)
    return buffer.getvalue()


def _decoded(data: bytes) -> np.ndarray:
    gray = cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_GRAYSCALE)
    assert gray is not None
    return gray


def _gray(acta: Acta) -> np.ndarray:
    return _decoded(acta.data)


def _file(name: str, content: Callable[[Acta, ElectionDefinition], bytes]) -> Callable[..., list[str]]:
    def make(folder: Path, acta: Acta, definition: ElectionDefinition) -> list[str]:
        (folder / name).write_bytes(content(acta, definition))
        return [name]

    return make


def _sheet(
    name: str, mesa: int, votes: Sequence[object] | None = None, **kw: object
) -> Callable[..., list[str]]:
    """A synthetic QR sheet whose payload is a valid one with ``votes`` or ``kw`` replaced."""
    return _file(name, lambda _a, d: _png(qr_sheet(payload_text(d, mesa, votes, **kw))))


def _raw_sheet(name: str, text: Callable[[ElectionDefinition], str]) -> Callable[..., list[str]]:
    return _file(name, lambda _a, d: _png(qr_sheet(text(d))))


def _png_bomb(_a: Acta, _d: ElectionDefinition, side: int = 30_000) -> bytes:
    """A valid side×side PNG of ~1 MB that inflates to ~900 MB."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return len(data).to_bytes(4, "big") + kind + data + zlib.crc32(kind + data).to_bytes(4, "big")

    compressor = zlib.compressobj(1)
    row = b"\x00" * (side + 1)
    body = b"".join(compressor.compress(row * 500) for _ in range(side // 500)) + compressor.flush()
    header = side.to_bytes(4, "big") * 2 + bytes([8, 0, 0, 0, 0])
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", body) + chunk(b"IEND", b"")


def _forged(acta: Acta, definition: ElectionDefinition) -> bytes:
    forged, _text = tamper(_gray(acta), definition, np.random.default_rng(7), votes_moved=20)
    return _png(forged)


def _pages(fmt: str) -> Callable[[Acta, ElectionDefinition], bytes]:
    """The acta twice in one file (a scanner's batch)."""

    def content(acta: Acta, _d: ElectionDefinition) -> bytes:
        page = Image.fromarray(_gray(acta))
        if fmt == "PDF":
            return _pillow(page, "PDF", save_all=True, append_images=[page], resolution=200.0)
        return _pillow(page, "TIFF", save_all=True, append_images=[page.rotate(0)], compression="tiff_lzw")

    return content


def _paged(name: str, fmt: str) -> Callable[..., list[str]]:
    def make(folder: Path, acta: Acta, definition: ElectionDefinition) -> list[str]:
        (folder / name).write_bytes(_pages(fmt)(acta, definition))
        return [f"{name}#page=1", f"{name}#page=2"]

    return make


def _heic(acta: Acta, _d: ElectionDefinition) -> bytes:
    from pillow_heif import register_heif_opener

    register_heif_opener()
    return _pillow(Image.fromarray(_gray(acta)).convert("RGB"), "HEIF", quality=90)


def _named(name: str | bytes, mesa: int) -> Callable[..., list[str]]:
    """A good synthetic sheet under an odd name; returns the name as the report shows it."""

    def make(folder: Path, _a: Acta, definition: ElectionDefinition) -> list[str]:
        raw = name if isinstance(name, bytes) else os.fsencode(name)
        with open(os.path.join(os.fsencode(folder), raw), "wb") as handle:
            handle.write(_png(qr_sheet(payload_text(definition, mesa))))
        return [raw.decode("utf-8", "replace")]

    return make


def _place(build: Callable[[Path], str]) -> Callable[..., list[str]]:
    def make(folder: Path, _a: Acta, _d: ElectionDefinition) -> list[str]:
        return [build(folder)]

    return make


def _fifo(folder: Path) -> str:
    os.mkfifo(folder / "pipe.jpg")  # a scan that opened it would wait forever
    return "pipe.jpg"


def _broken_link(folder: Path) -> str:
    os.symlink("nowhere.jpg", folder / "broken-link.jpg")
    return "broken-link.jpg"


def _loop(folder: Path) -> str:
    os.symlink("loop.jpg", folder / "loop.jpg")
    return "loop.jpg"


def _hard_link(folder: Path) -> str:
    target = folder / "good.jpg"
    os.link(target, folder / "hard-link.jpg")
    return "hard-link.jpg"


QR_ONLY = "QR"  # a sheet with a QR and no print: read, never counted (nobody compared it)
NOT_AN_IMAGE = "no es una imagen"


def _kinds() -> list[Kind]:
    n = 38  # ballot lines; payload kinds below change one thing of a valid payload
    return [
        # -- the file itself -------------------------------------------------------------
        Kind("good", "image", _file("good.jpg", lambda a, _d: a.data), "ok", counted=True),
        Kind("same bytes, other name", "image", _file("copy.jpg", lambda a, _d: a.data), "ok", counted=True),
        Kind(
            "lossless re-encoding",
            "image",
            _file("good.png", lambda a, _d: _png(_gray(a))),
            "ok",
            counted=True,
        ),
        Kind(
            "motion photo (video after the JPEG)",
            "image",
            _file("motion.jpg", lambda a, _d: a.data + b"\x00\x00\x00\x18ftypmp42" + bytes(4000)),
            "ok",
            counted=True,
        ),
        Kind("two-page TIFF", "image", _paged("batch.tif", "TIFF"), "ok", counted=True),
        Kind("two-page PDF", "image", _paged("batch.pdf", "PDF"), "ok", counted=True),
        Kind("iPhone HEIC", "image", _file("photo.heic", _heic), "ok", counted=True),
        # Its mesa is the real acta's: counted with the print's true numbers, and an alert.
        Kind("forged QR sticker", "image", _file("forged.png", _forged), "review", "QR", counted=True),
        Kind("empty file", "image", _file("empty.jpg", lambda _a, _d: b""), "rejected", "vacío"),
        Kind(
            "text named .jpg",
            "image",
            _file("notes.jpg", lambda _a, _d: b"hola\n" * 40),
            "rejected",
            NOT_AN_IMAGE,
        ),
        Kind(
            "HTML error page saved as .jpg",
            "image",
            _file("page.jpg", lambda _a, _d: b"<!DOCTYPE html><html><body>404</body></html>"),
            "rejected",
            NOT_AN_IMAGE,
        ),
        Kind(
            "zip named .jpg",
            "image",
            _file("archive.jpg", lambda _a, _d: b"PK\x03\x04" + bytes(200)),
            "rejected",
            NOT_AN_IMAGE,
        ),
        Kind(
            "JPEG cut in half",
            "image",
            _file("half.jpg", lambda a, _d: a.data[: len(a.data) // 2]),
            "rejected",
            "incompleto",
        ),
        Kind(
            "PNG cut short",
            "image",
            _file("half.png", lambda a, _d: _png(_gray(a))[:5000]),
            "rejected",
            "incompleto",
        ),
        Kind("PNG decompression bomb", "image", _file("bomb.png", _png_bomb), "rejected", "bomba"),
        Kind(
            "image too small to be an acta",
            "image",
            _file("thumb.png", lambda _a, _d: _png(np.full((20, 20), 255, np.uint8))),
            "rejected",
            "pequeña",
        ),
        Kind(
            "JPEG header with garbage body",
            "image",
            _file("garbage.jpg", lambda a, _d: a.data[:600] + os.urandom(20_000) + b"\xff\xd9"),
            "rejected",
            "",
        ),
        Kind(
            "PDF that is not one",
            "image",
            _file("fake.pdf", lambda _a, _d: b"%PDF-1.7\n" + b"garbage" * 100),
            "rejected",
            "PDF",
        ),
        Kind(
            "blank white page",
            "image",
            _file("blank.png", lambda _a, _d: _blank_scan()),
            "rejected",
            "en blanco",
        ),
        Kind(
            "16-bit PNG",
            "image",
            _file(
                "deep.png",
                lambda _a, d: cv2.imencode(".png", qr_sheet(payload_text(d, 40)).astype(np.uint16) * 257)[
                    1
                ].tobytes(),
            ),
            "review",
            QR_ONLY,
        ),
        Kind(
            "RGBA PNG with a transparent background",
            "image",
            _file("alpha.png", lambda _a, d: _alpha(qr_sheet(payload_text(d, 41)))),
            "review",
            QR_ONLY,
        ),
        Kind(
            "CMYK JPEG",
            "image",
            _file(
                "cmyk.jpg",
                lambda _a, d: _pillow(Image.fromarray(qr_sheet(payload_text(d, 42))).convert("CMYK"), "JPEG"),
            ),
            "review",
            QR_ONLY,
        ),
        Kind(
            "WEBP (a messaging app's re-encoding)",
            "image",
            _file(
                "chat.webp",
                lambda _a, d: _pillow(Image.fromarray(qr_sheet(payload_text(d, 43))), "WEBP", lossless=True),
            ),
            "review",
            QR_ONLY,
        ),
        # -- what its QR says -----------------------------------------------------------
        Kind(
            "a web address",
            "payload",
            _raw_sheet("url.png", lambda _d: "https://example.org/acta/1"),
            "review",
            "URL",
        ),
        Kind("37 ballot lines", "payload", _sheet("short.png", 1, votes=[1] * (n - 1)), "review", "37"),
        Kind("39 ballot lines", "payload", _sheet("long.png", 2, votes=[1] * (n + 1)), "review", "39"),
        Kind(
            "a negative count",
            "payload",
            _sheet("negative.png", 3, votes=[1] * (n - 1) + [-3]),
            "review",
            "negative",
        ),
        Kind(
            "a letter for a count",
            "payload",
            _sheet("letter.png", 4, votes=["x"] + [1] * (n - 1)),
            "review",
            "integer",
        ),
        Kind(
            "a decimal count",
            "payload",
            _sheet("decimal.png", 5, votes=["1.5"] + [1] * (n - 1)),
            "review",
            "integer",
        ),
        Kind(
            "a billion votes",
            "payload",
            _sheet("billion.png", 6, votes=[999_999_999] + [0] * (n - 1)),
            "review",
            "",
        ),
        Kind(
            "a count past 2^63",
            "payload",
            _sheet("huge.png", 7, votes=[2**64] + [0] * (n - 1)),
            "review",
            "integer",
        ),
        Kind(
            "Arabic-Indic digits",
            "payload",
            _sheet("arabic.png", 8, votes=["١"] * n),
            "review",
            "integer",
        ),
        Kind("mesa 00", "payload", _sheet("mesa-00.png", 0), "review", ""),
        Kind(
            "a centre code too short", "payload", _sheet("centre.png", 9, centre="1301"), "review", "acta id"
        ),
        Kind(
            "blank field not 0", "payload", _sheet("blank-field.png", 10, blank=5), "review", "fourth field"
        ),
        Kind("nulos past any mesa", "payload", _sheet("nulos.png", 11, nulos=5000), "review", ""),
        Kind("an empty code", "payload", _raw_sheet("empty-code.png", lambda _d: " "), "review", ""),
        Kind(
            "three fields",
            "payload",
            _raw_sheet("fields.png", lambda d: payload_text(d, 12).rsplit("!", 1)[0]),
            "review",
            "fields",
        ),
        Kind(
            "markup in the code",
            "payload",
            _raw_sheet("markup.png", lambda d: "[bold red]" + payload_text(d, 13) + "[/]"),
            "review",
            "acta id",
        ),
        Kind(
            "control characters",
            "payload",
            _raw_sheet("control.png", lambda d: payload_text(d, 14).replace("!", "\x00!", 1)),
            "review",
            "",
        ),
        Kind(
            "two codes of one mesa that disagree",
            "payload",
            _file(
                "two-codes.png",
                lambda _a, d: _png(
                    qr_sheet([payload_text(d, 15), payload_text(d, 15, votes=[2] + [1] * (n - 1))])
                ),
            ),
            "review",
            "several different acta QR codes",
        ),
        Kind(
            "two mesas on one sheet",
            "payload",
            _file("two-mesas.png", lambda _a, d: _png(qr_sheet([payload_text(d, 16), payload_text(d, 17)]))),
            "review",
            "several different acta QR codes",
        ),
        Kind("a valid code with no print", "payload", _sheet("qr-alone.png", 18), "review", QR_ONLY),
        # -- its name -------------------------------------------------------------------
        Kind("name not UTF-8 (a Windows zip)", "name", _named(b"mesa-\xe9\xf1.png", 20), "review", QR_ONLY),
        Kind("name with a newline", "name", _named("mesa\n21.png", 21), "review", QR_ONLY),
        Kind("name with markup", "name", _named("[bold red]mesa[blink] 22.png", 22), "review", QR_ONLY),
        Kind("name like an option", "name", _named("--help.png", 23), "review", QR_ONLY),
        Kind("name of 250 bytes", "name", _named("m" * 246 + ".png", 24), "review", QR_ONLY),
        Kind(
            "name with a right-to-left override",
            "name",
            _named("acta\u202egnp.exe.png", 25),
            "review",
            QR_ONLY,
        ),
        Kind("name with quotes and spaces", "name", _named('it\'s "mesa" 26 .png', 26), "review", QR_ONLY),
        Kind("PNG named .jpg", "name", _named("mesa27.jpg", 27), "review", QR_ONLY),
        Kind("no extension", "name", _named("mesa28", 28), "review", QR_ONLY),
        Kind("upper-case extension", "name", _named("MESA29.PNG", 29), "review", QR_ONLY),
        Kind("a hidden file", "name", _named(".mesa30.png", 30), "review", QR_ONLY),
        # -- what the path is -----------------------------------------------------------
        Kind("a named pipe", "place", _place(_fifo), "rejected", "not a regular file"),
        Kind("a broken link", "place", _place(_broken_link), "rejected", "symlink"),
        Kind("a link to itself", "place", _place(_loop), "rejected", "symlink"),
        Kind("a hard link to a good file", "place", _place(_hard_link), "ok", counted=True),
    ]


def _blank_scan() -> bytes:
    """The back of a double-sided scan: paper grey with sensor noise, nothing printed."""
    noise = np.random.default_rng(3).normal(236, 4, (2200, 1700))
    return _png(np.clip(noise, 0, 255).astype(np.uint8))


def _alpha(gray: np.ndarray) -> bytes:
    """The sheet's ink kept, its paper made transparent (alpha 0) and black underneath."""
    rgba = np.zeros((*gray.shape, 4), np.uint8)
    rgba[..., 3] = 255 - gray
    return _png(rgba)


KINDS: list[Kind] = _kinds()


def write_battery(folder: Path, acta: Acta, definition: ElectionDefinition) -> dict[str, Kind]:
    """Write every kind into ``folder``; returns report name → kind."""
    folder.mkdir(parents=True, exist_ok=True)
    names: dict[str, Kind] = {}
    for kind in KINDS:  # in order: the hard link needs good.jpg first
        for name in kind.make(folder, acta, definition):
            names[name] = kind
    return names
