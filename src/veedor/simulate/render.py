"""Render a thermal-receipt acta as a 200-dpi grayscale scan.

Layout and sizes were measured on the real scans in samples/actas/ (a ~628 px wide
receipt, 38 ballot lines, summary, six signature blocks, the QR at the bottom). All the
words printed come from the definition's ``acta_render`` section.

Speed: text is rasterised once per (string, font) and cached; everything is drawn as
"ink" into a uint8 array and shaded onto paper in a few whole-image OpenCV operations.
"""

from __future__ import annotations

import hashlib
import uuid
from dataclasses import dataclass, field
from functools import cache, lru_cache
from pathlib import Path
from typing import Any

import cv2
import numpy as np
import segno
from PIL import Image, ImageDraw, ImageFont

from veedor.definitions.schema import DefinitionError, ElectionDefinition

FONT_DIR = Path(__file__).parent / "fonts"
_FALLBACK_FONTS = {
    False: ["/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf"],
    True: ["/usr/share/fonts/truetype/dejavu/DejaVuSans-Bold.ttf"],
}
INK_WIDTH = 628  # the receipt as measured; paper width varies around it
Font = ImageFont.FreeTypeFont | ImageFont.ImageFont


@cache
def font(bold: bool, size: int) -> Font:
    """Liberation Sans (Arial metrics, as on the real actas), shipped in fonts/."""
    name = "LiberationSans-Bold.ttf" if bold else "LiberationSans-Regular.ttf"
    for path in [str(FONT_DIR / name), *_FALLBACK_FONTS[bold]]:
        try:
            return ImageFont.truetype(path, size)
        except OSError:
            continue
    return ImageFont.load_default(size)


@lru_cache(maxsize=4096)  # bounded: names and ids are unique per acta
def glyphs(text: str, bold: bool, size: int) -> np.ndarray:
    """Ink mask of one line of text; its top is the line's ascent box, so lines align."""
    fnt = font(bold, size)
    width = int(fnt.getlength(text)) + 2
    ascent, descent = fnt.getmetrics() if isinstance(fnt, ImageFont.FreeTypeFont) else (size, 2)
    image = Image.new("L", (max(width, 1), ascent + descent), 0)
    ImageDraw.Draw(image).text((0, 0), text, font=fnt, fill=255)
    return np.asarray(image)


def text_width(text: str, bold: bool, size: int) -> int:
    return int(font(bold, size).getlength(text))


def wrap(text: str, bold: bool, size: int, max_px: int) -> list[str]:
    lines: list[str] = []
    for word in text.split():
        if lines and text_width(f"{lines[-1]} {word}", bold, size) <= max_px:
            lines[-1] = f"{lines[-1]} {word}"
        else:
            lines.append(word)
    return lines or [""]


@dataclass(frozen=True)
class ActaSpec:
    """The numbers and names one acta carries (what a results-table row holds)."""

    centre: str
    mesa: int
    votes: tuple[int, ...]
    nulos: int
    blank: int = 0
    electors: int | None = None
    places: dict[str, str] = field(default_factory=dict)
    centre_name: str | None = None
    spread: bool = False


@dataclass
class Rendered:
    gray: np.ndarray
    payload: str
    signature_hex: str
    qr_box: tuple[int, int, int, int]  # x, y, w, h in the image
    truth: dict[str, Any]


class _Ink:
    """A receipt-wide uint8 ink layer (255 = full ink) with clipped drawing helpers."""

    def __init__(self, height: int) -> None:
        self.a = np.zeros((height, INK_WIDTH), np.uint8)

    def paste(self, mask: np.ndarray, x: int, y: int) -> None:
        h, w = mask.shape
        x0, y0 = max(x, 0), max(y, 0)
        x1, y1 = min(x + w, self.a.shape[1]), min(y + h, self.a.shape[0])
        if x1 <= x0 or y1 <= y0:
            return
        region = self.a[y0:y1, x0:x1]
        np.maximum(region, mask[y0 - y : y1 - y, x0 - x : x1 - x], out=region)

    def text(self, s: str, x: float, y: int, size: int, bold: bool = False, align: str = "left") -> None:
        mask = glyphs(s, bold, size)
        w = mask.shape[1]
        left = x - w / 2 if align == "center" else x - w if align == "right" else x
        self.paste(mask, round(left), y)

    def hline(self, x0: int, x1: int, y: int, t: int = 1) -> None:
        self.a[y : y + t, x0:x1] = 255

    def vline(self, x: int, y0: int, y1: int, t: int = 1) -> None:
        self.a[y0:y1, x : x + t] = 255

    def rect(self, x0: int, y0: int, x1: int, y1: int, t: int = 1) -> None:
        self.hline(x0, x1 + t, y0, t)
        self.hline(x0, x1 + t, y1, t)
        self.vline(x0, y0, y1, t)
        self.vline(x1, y0, y1, t)


def require_render(definition: ElectionDefinition) -> None:
    """A clear refusal, before any work, for a definition that does not say how its actas look.

    Not a crash: a definition may describe a real election without an ``acta_render`` section
    (a hand-filled form: nothing here could fake the hand)."""
    if "acta_render" not in definition.raw:
        raise DefinitionError(
            f"la definición {definition.id} no tiene sección acta_render: no se pueden simular sus "
            "actas / the definition has no acta_render section: its actas cannot be simulated"
        )


class ActaRenderer:
    """Renders :class:`ActaSpec` into a grayscale acta; one per process, reused."""

    def __init__(self, definition: ElectionDefinition) -> None:
        require_render(definition)
        self.d = definition
        self.t: dict[str, Any] = definition.raw["acta_render"]
        self._noise = np.clip(np.random.default_rng(7).normal(8, 2.0, (1024, 1024)), 0, 16).astype(np.uint8)

    # -- numbers and codes ------------------------------------------------------------
    def letters(self, n: int) -> str:
        words = self.t["digit_words"]
        return ", ".join(words[int(c)] for c in str(n).zfill(int(self.t["word_digits"])))

    def acta_id(self, spec: ActaSpec) -> str:
        return str(self.t["acta_id_format"]).format(centre=spec.centre, mesa=spec.mesa)

    def payload(self, spec: ActaSpec, votes: tuple[int, ...] | None = None) -> str:
        p = self.d.payload
        values = {
            "acta_id": self.acta_id(spec),
            "votes": p["count_separator"].join(str(v) for v in (votes or spec.votes)),
            "nulos": str(spec.nulos),
        }
        return str(p["separator"]).join(values.get(f, str(spec.blank)) for f in p["fields"])

    @staticmethod
    def signature_hex(payload: str, digits: int = 64) -> str:
        # The real line is unexplained (not sha256 of the payload); this only looks alike.
        return hashlib.sha512(b"veedor-simulate:" + payload.encode()).hexdigest()[:digits].upper()

    def qr_mask(self, payload: str) -> np.ndarray:
        """Ink mask of the QR at the definition's error level and printed size."""
        # A fixed mask per payload: any mask is valid to decoders, and segno's pure-Python
        # search for the best of eight costs more than the rest of the acta.
        mask = int(hashlib.sha256(payload.encode()).hexdigest(), 16) % 8
        qr = segno.make(
            payload, error=str(self.t.get("qr_error", "Q")).lower(), micro=False, boost_error=False, mask=mask
        )
        matrix = np.array([list(row) for row in qr.matrix], dtype=np.uint8)
        scale = max(2, round(int(self.t.get("qr_size_px", 450)) / matrix.shape[0]))
        return np.kron(matrix, np.ones((scale, scale), np.uint8)) * np.uint8(255)

    # -- layout -----------------------------------------------------------------------
    def _header(self, ink: _Ink, y: int, spec: ActaSpec, rng: np.random.Generator) -> int:
        top = y
        cx = 386
        self._logo(ink, 72, y + 40, rng)
        ink.text(self.t["title"], cx, y + 5, 23, bold=True, align="center")
        ink.text(self.acta_id(spec), cx, y + 45, 19, align="center")
        uid = str(uuid.UUID(bytes=rng.bytes(16), version=4))
        ink.text(uid[:24], cx, y + 82, 19, align="center")
        ink.text(uid[24:], cx, y + 105, 19, align="center")
        lo, hi = self.t.get("time_window_s", [64800, 86399])
        secs = int(rng.integers(lo, hi))
        hh, mm, ss = secs // 3600, secs // 60 % 60, secs % 60
        stamp = f"{(hh - 1) % 12 + 1:02d}:{mm:02d}:{ss:02d} {'PM' if hh >= 12 else 'AM'}"
        ink.text(f"{self.t['date']} {stamp}", 570, y + 140, 19, align="right")
        y += 185
        for line in self.t["heading"]:
            ink.text(line, 390, y - 3, 30, bold=True, align="center")
            y += 35
        y += 15
        ink.text(self.t["election_line"], 388, y, 19, align="center")
        y += 40
        ink.text(self.t["country_line"], 568, y, 19, align="right")
        for level in self.d.levels[:-1]:
            y += 40
            prefix = self.t["level_prefixes"].get(level.name, level.label_es)
            name = spec.places.get(level.name, "")
            for line in wrap(f"{prefix} {name}", False, 19, 360):
                ink.text(line, 568, y, 19, align="right")
                y += 24
            y -= 24
        y += 40
        for line in wrap(spec.centre_name or self._centre_name(rng), False, 19, 350):
            ink.text(line, 568, y, 19, align="right")
            y += 24
        y += 10
        ink.text(spec.centre, 568, y, 19, align="right")
        y += 33
        electors = spec.electors if spec.electors is not None else self._electors(spec)
        ink.text(f"{electors} {self.t['electors_label']}", 568, y, 19, bold=True, align="right")
        y += 40
        ink.vline(200, top, y, 2)
        return y + 20

    def _logo(self, ink: _Ink, x: int, y: int, rng: np.random.Generator) -> None:
        # A dotted diamond behind the authority's initials, as on the real logo.
        for i in range(0, 70, 5):
            for j in range(0, 70, 5):
                if abs(i - 35) + abs(j - 35) < 34:
                    ink.a[y + i : y + i + 2, x + 30 + j : x + 32 + j] = 200
        text = str(self.t.get("logo_text", ""))
        if text:
            ink.text(text, x + 40, y + 18, 24, bold=True, align="center")

    def _centre_name(self, rng: np.random.Generator) -> str:
        kinds, names = self.t["centre_name_words"]
        words = self.t["address_words"]
        street = " ".join(str(rng.choice(words)) for _ in range(int(rng.integers(3, 12))))
        return f"{rng.choice(kinds)} {rng.choice(names)} {street}"

    def _electors(self, spec: ActaSpec) -> int:
        voted = sum(spec.votes) + spec.nulos
        return voted + max(1, voted // 2)

    def _row(self, ink: _Ink, x: dict[str, int], y: int, value: int, size: int, words: int = 0) -> None:
        ink.text(str(value), x["nro"], y, size, align="center")
        ink.text(self.letters(value), x["letras"], y, words or size, align="center")

    def _voters(self, ink: _Ink, y: int, spec: ActaSpec) -> int:
        head = self.t["voters_header"]
        total = sum(spec.votes) + spec.nulos
        ink.rect(37, y, 577, y + 100, 2)
        ink.hline(37, 577, y + 28, 2)
        ink.hline(37, 577, y + 64, 2)
        ink.vline(250, y, y + 100, 2)
        ink.vline(357, y, y + 100, 2)
        ink.text(head[0], 42, y + 1, 23, bold=True)
        ink.text(head[1], 303, y + 1, 23, bold=True, align="center")
        ink.text(head[2], 467, y + 1, 23, bold=True, align="center")
        cols = {"nro": 303, "letras": 467}
        for i, label in enumerate(self.t["voters_rows"]):
            ry = y + 30 + i * 36
            for k, line in enumerate(wrap(label, False, 16, 150)[:2]):
                ink.text(line, 40, ry + k * 16, 16)
            self._row(ink, cols, ry, total, 17)
        y += 112
        labels = self.t["ballot_header"]
        for label, px in zip(labels, (40, 157, 210, 296, 443), strict=False):
            ink.text(label, px, y, 15)
        return y + 30

    def _ballot(self, ink: _Ink, y: int, spec: ActaSpec) -> int:
        top = y
        y += 8
        cols = {"nro": 316, "letras": 465}
        current = None
        for pos in self.d.ballot:
            if pos.candidate != current:
                if current is not None:
                    y += 9
                current = pos.candidate
                heading = self.t["candidate_headings"].get(current) or self.d.candidate_name(current).upper()
                ink.text(heading, 42, y - 2, 28, bold=True)
                y += 37
            lines = wrap(pos.acronym, False, 16, 125)
            for k, line in enumerate(lines):
                ink.text(line, 195, y + k * 17 - (len(lines) - 1) * 8, 17, align="right")
            if pos.party_code is not None:
                ink.text(str(pos.party_code), 222, y, 17)
            self._row(ink, cols, y, spec.votes[pos.position], 17, 18)
            y += 40
        y += 4
        ink.rect(37, top, 577, y, 2)
        return y + 14

    def _summary(self, ink: _Ink, y: int, spec: ActaSpec) -> int:
        ink.text(self.t["summary_title"], 307, y, 19, bold=True, align="center")
        y += 24
        valid = sum(spec.votes)
        values = {
            "votes": valid + spec.nulos,
            "valid": valid,
            "nulos": spec.nulos,
            "blank": spec.blank,
            "zero": 0,
        }
        rows = self.t["summary_rows"]
        ink.rect(37, y, 577, y + 25 * len(rows), 1)
        ink.vline(250, y, y + 25 * len(rows), 1)
        ink.vline(331, y, y + 25 * len(rows), 1)
        cols = {"nro": 290, "letras": 455}
        for i, (label, key) in enumerate(rows):
            ry = y + i * 25
            if i:
                ink.hline(37, 577, ry, 1)
            ink.text(label, 40, ry + 3, 17)
            self._row(ink, cols, ry + 4, values[key], 16, 17)
        y += 25 * len(rows) + 24
        ink.rect(37, y, 577, y + 163, 1)
        ink.vline(305, y, y + 35, 1)
        ink.text(self.t["observations_label"], 42, y + 4, 23)
        for k in range(4):
            ink.hline(37, 577, y + 35 + 32 * k, 1)
        y += 195
        for line in self.t["closing"]:
            ink.text(line, 42, y, 23, bold=True)
            y += 25
        y += 18
        ink.text(self.t["members_title"], 310, y, 19, bold=True, align="center")
        return y + 28

    def _members(self, ink: _Ink, y: int, rng: np.random.Generator) -> int:
        given, surnames = self.t["given_names"], self.t["surnames"]
        lo, hi = self.t.get("id_number_range", [1000000, 30000000])
        name_label, id_label, sign_label = self.t["member_fields"]
        for role in self.t["member_roles"]:
            ink.rect(44, y, 577, y + 320, 1)
            ink.text(role, 48, y + 4, 22, bold=True)
            fields = [
                f"{name_label} {rng.choice(given)} {rng.choice(given)} "
                f"{rng.choice(surnames)} {rng.choice(surnames)}",
                f"{id_label} {int(rng.integers(lo, hi))}",
                sign_label,
            ]
            for k, value in enumerate(fields):
                ry = y + 33 + 40 * k
                ink.hline(44, 577, ry, 1)
                ink.text(value, 48, ry + 9, 18)
            ink.hline(44, 577, y + 153, 1)
            self._scribble(ink, 110, y + 170, 400, 140, rng)
            y += 366
        return y

    @staticmethod
    def _scribble(ink: _Ink, x: int, y: int, w: int, h: int, rng: np.random.Generator) -> None:
        """A fast fake signature: a few looping strokes of summed sinusoids."""
        for _ in range(int(rng.integers(1, 3))):
            n = 160
            t = np.linspace(0, 1, n)
            span = rng.uniform(0.4, 0.9) * w
            loops = rng.uniform(3, 9)
            px = (
                x
                + rng.uniform(0, w - span)
                + span * t
                + rng.uniform(8, 30) * np.sin(2 * np.pi * loops * t + rng.uniform(0, 6))
            )
            py = (
                y
                + h / 2
                + rng.uniform(10, h / 2.5) * np.sin(2 * np.pi * rng.uniform(2, 6) * t + rng.uniform(0, 6))
                + rng.uniform(-30, 30) * t
            )
            pts = np.stack([px, py], 1).astype(np.int32).reshape(-1, 1, 2)
            cv2.polylines(ink.a, [pts], False, 255, int(rng.integers(1, 3)), cv2.LINE_AA)

    def _bottom(self, ink: _Ink, y: int, payload: str) -> tuple[int, tuple[int, int, int, int]]:
        y += 45
        mask = self.qr_mask(payload)
        x = 314 - mask.shape[1] // 2
        ink.paste(mask, x, y)
        box = (x, y, mask.shape[1], mask.shape[0])
        y += mask.shape[0] + 58
        digits = int(self.t.get("signature_hex_digits", 64))
        hexline = self.signature_hex(payload, digits)
        ink.text(hexline[:42], 314, y, 19, align="center")
        ink.text(hexline[42:], 314, y + 24, 19, align="center")
        ink.hline(45, 585, y + 110, 1)
        return y + 140, box

    # -- the whole acta ---------------------------------------------------------------
    def ink(self, spec: ActaSpec, rng: np.random.Generator) -> tuple[np.ndarray, str, tuple[int, ...]]:
        """The receipt's ink layer (before paper and scanner), payload and QR box."""
        if len(spec.votes) != len(self.d.ballot):
            raise ValueError(f"expected {len(self.d.ballot)} votes, got {len(spec.votes)}")
        payload = self.payload(spec)
        ink = _Ink(9000)  # ~6,400 used; more ballot lines or roles need more
        y = self._header(ink, 10, spec, rng)
        y = self._voters(ink, y, spec)
        y = self._ballot(ink, y, spec)
        y = self._summary(ink, y, spec)
        y = self._members(ink, y, rng)
        y, box = self._bottom(ink, y, payload)
        if y > ink.a.shape[0]:
            raise ValueError(f"el acta no cabe / the acta does not fit: {y} px")
        return ink.a[:y], payload, box

    def render(self, spec: ActaSpec, rng: np.random.Generator) -> Rendered:
        """A clean 200-dpi gray scan of the acta (paper tone, scanner noise and edges)."""
        layer, payload, (qx, qy, qw, qh) = self.ink(spec, rng)
        lo_w, hi_w = self.t.get("width_px", [620, 660])
        width = int(rng.integers(lo_w, hi_w + 1))
        lo_l, hi_l = self.t.get("lead_blank_px", [300, 420])
        lead = int(rng.integers(lo_l, hi_l + 1))
        dx = (width - INK_WIDTH) // 2 + int(rng.integers(-6, 7))
        height = lead + layer.shape[0]
        gray = self._paper(height, width, rng)
        placed = np.zeros((height, width), np.uint8)
        src_x0, dst_x0 = max(0, -dx), max(0, dx)
        span = min(INK_WIDTH - src_x0, width - dst_x0)
        placed[lead:, dst_x0 : dst_x0 + span] = layer[:, src_x0 : src_x0 + span]
        # thermal dot gain: the head's heat spreads, strokes print bolder than the font
        cv2.GaussianBlur(placed, (3, 3), 0.5, dst=placed)
        cv2.convertScaleAbs(placed, dst=placed, alpha=float(rng.uniform(1.05, 1.3)))
        strength = float(rng.uniform(0.88, 0.98))
        gray = cv2.subtract(gray, cv2.convertScaleAbs(placed, alpha=strength))
        self._scanner(gray, rng)
        box = (qx + dx, qy + lead, qw, qh)
        truth = {
            "acta_id": self.acta_id(spec),
            "centre": spec.centre,
            "mesa": spec.mesa,
            "votes": list(spec.votes),
            "nulos": spec.nulos,
            "blank": spec.blank,
            "valid": sum(spec.votes),
            "electors": spec.electors,
            "totals": self.d.totals_by_candidate(spec.votes),
            "spread": spec.spread,
            "payload": payload,
            "signature_hex": self.signature_hex(payload),
            "qr_box": list(box),
            "size": [width, height],
        }
        return Rendered(gray, payload, self.signature_hex(payload), box, truth)

    def _paper(self, height: int, width: int, rng: np.random.Generator) -> np.ndarray:
        level = float(rng.uniform(236, 250))
        coarse = np.clip(rng.normal(level, 3.0, (height // 128 + 2, width // 128 + 2)), 0, 255)
        return cv2.resize(coarse.astype(np.uint8), (width, height), interpolation=cv2.INTER_LINEAR)

    def _scanner(self, gray: np.ndarray, rng: np.random.Generator) -> None:
        """In place: sensor noise, slight optical blur, the dark bed beyond the paper."""
        h, w = gray.shape
        oy, ox = int(rng.integers(0, 512)), int(rng.integers(0, 512))
        tile = self._noise[oy:, ox:]
        noise = np.tile(tile, (h // tile.shape[0] + 1, w // tile.shape[1] + 1))[:h, :w]
        cv2.add(gray, noise, dst=gray)
        cv2.subtract(gray, 8, dst=gray)  # type: ignore[call-overload]
        cv2.GaussianBlur(gray, (3, 3), 0.6, dst=gray)
        edge = int(rng.integers(0, 5))
        if edge:
            gray[:, w - edge :] //= 6
        top = int(rng.integers(0, 12))
        if top:
            gray[:top] //= 4
