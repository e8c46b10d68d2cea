"""Synthetic field crops for the acta recogniser, and the degradations they go through.

Two sources, both with their text known:

* **Rendered actas** (:mod:`veedor.simulate.render`) with random counts, whose rows are found
  by the reader's own layout code (:func:`veedor.read.print.layout.find_layout`): the crops
  have the sizes, margins, table rules and neighbours the reader really cuts. Each crop is
  kept with a margin of context so that the degradations (blur, perspective) act on the
  surroundings too and the box can be re-cut with other paddings.
* **Field strings re-rendered** alone (digits, 1–4 number words) in the bundled Liberation
  Sans (regular and bold) and, where installed, DejaVu Sans: other sizes, widths and
  weights than the renderer's.

Degradations are drawn per crop from :data:`KINDS`, each with a strength ``u`` in [0, 1).
The strength space is split in ten bins: even bins are for training (and tuning), odd bins
are **held back** for the report (:func:`strength`). :data:`HELD_OUT_KINDS` are never used
in training at all.

A third source, **real crops** (:func:`real_samples`), cuts the same fields from the real actas
of ``samples/actas/`` with the reader's layout code, labelled by each acta's QR (the label
veedor itself has on election night: the QR's counts are what the print must confirm). The
real actas are split by :func:`real_split` into a tuning half, the only one training may
use, and a held-back half that only the report reads.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np
from PIL import Image, ImageDraw, ImageFont

from veedor.definitions import load_definition
from veedor.definitions.parsers import parse_payload
from veedor.model import ActaCounts
from veedor.read.print.layout import Box, Layout, NumericRow, find_layout, upright_layout
from veedor.read.print.ocr import recogniser
from veedor.read.print.parse import SUMMARY_NEEDED, _title_rows, summary_wanted
from veedor.read.print.rows import read_digits
from veedor.read.print.summary import by_position
from veedor.simulate.render import FONT_DIR, ActaRenderer, ActaSpec

DEFINITION = "ve-2024-presidential"
ACTAS = Path(__file__).resolve().parents[2] / "samples" / "actas"
CONTEXT = 1.0  # margin kept around a box, in text-line heights


@dataclass(frozen=True)
class Sample:
    """A field crop with context: the box to cut lies at ``box`` inside ``image``."""

    image: np.ndarray  # uint8 gray
    box: tuple[int, int, int, int]  # x0, y0, x1, y1 inside image
    scale: float  # text-line height in pixels
    text: str
    field: str  # "digits" or "words"


def digit_words() -> tuple[str, ...]:
    return tuple(load_definition(DEFINITION).reader["digit_words"])


def spell(value: int, words: tuple[str, ...], width: int = 4) -> str:
    return ", ".join(words[int(c)] for c in str(value).zfill(width))


def random_count(rng: np.random.Generator) -> int:
    """Counts as a table holds them: many zeros and small numbers, some three-digit ones."""
    digits = int(rng.choice(4, p=[0.15, 0.35, 0.3, 0.2]))
    return 0 if digits == 0 else int(rng.integers(10 ** (digits - 1) if digits > 1 else 1, 10**digits))


# -- source 1: crops the layout code cuts from rendered actas ------------------------------


def _cut(gray: np.ndarray, box: Box, scale: float, text: str, field: str) -> Sample:
    """The crop of ``box`` with its context, labelled."""
    m = int(CONTEXT * scale)
    h, w = gray.shape
    x0, y0 = max(0, box.x0 - m), max(0, box.y0 - m)
    x1, y1 = min(w, box.x1 + m), min(h, box.y1 + m)
    rel = (box.x0 - x0, box.y0 - y0, box.x1 - x0, box.y1 - y0)
    return Sample(gray[y0:y1, x0:x1].copy(), rel, scale, text, field)


def acta_samples(rng: np.random.Generator, renderer: ActaRenderer) -> list[Sample]:
    """Digits, party-code and words crops of one rendered acta, as the layout finds them."""
    d = renderer.d
    words = tuple(renderer.t["digit_words"])
    for _ in range(20):
        votes = tuple(random_count(rng) for _ in d.ballot)
        nulos = random_count(rng) % 100
        if sum(votes) + nulos < 10_000:
            break
    spec = ActaSpec(
        centre=f"{int(rng.integers(10**8, 10**9 - 1)):09d}",
        mesa=int(rng.integers(1, 20)),
        votes=votes,
        nulos=nulos,
    )
    gray = renderer.render(spec, rng).gray
    layout = find_layout(gray, len(d.ballot))
    if len(layout.table) != len(d.ballot) + 2:
        return []  # rows not all found: their order would not be known
    total = sum(votes) + nulos
    values = [total, total, *votes]
    codes = [None, None, *(p.party_code for p in d.ballot)]
    out = []
    for row, value, code in zip(layout.table, values, codes, strict=True):
        box = row.tight if row.tight is not None and rng.random() < 0.7 else row.digits
        out.append(_cut(gray, box, layout.scale, str(value), "digits"))
        if len(row.words) == 1:
            out.append(_cut(gray, row.words[0], layout.scale, spell(value, words), "words"))
        if code is not None and row.code is not None and rng.random() < 0.3:
            out.append(_cut(gray, row.code, layout.scale, str(code), "digits"))
    return out


# -- source 2: field strings re-rendered alone ----------------------------------------------


def _fonts() -> list[Path]:
    found = [FONT_DIR / "LiberationSans-Regular.ttf", FONT_DIR / "LiberationSans-Bold.ttf"]
    dejavu = Path("/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf")
    return found + ([dejavu] if dejavu.is_file() else [])


def text_sample(rng: np.random.Generator, words: tuple[str, ...]) -> Sample:
    field = "digits" if rng.random() < 0.5 else "words"
    if field == "digits":
        text = str(random_count(rng)) if rng.random() < 0.8 else str(int(rng.integers(0, 10_000)))
    else:
        n = 4 if rng.random() < 0.85 else int(rng.integers(1, 4))
        text = ", ".join(words[int(rng.integers(0, 10))] for _ in range(n))
    fonts = _fonts()
    weights = np.array([0.6, 0.25, 0.15][: len(fonts)])
    path = fonts[int(rng.choice(len(fonts), p=weights / weights.sum()))]
    size = int(rng.integers(13, 24))
    font = ImageFont.truetype(str(path), size)
    ascent, descent = font.getmetrics()
    width = int(font.getlength(text)) + 2
    margin = size
    image = Image.new("L", (width + 2 * margin, ascent + descent + 2 * margin), 0)
    ImageDraw.Draw(image).text((margin, margin), text, font=font, fill=255)
    ink = np.asarray(image).astype(np.float32)
    # Thermal dot gain, then the paper: ink darker than the paper by a random contrast.
    ink = cv2.GaussianBlur(ink, (3, 3), float(rng.uniform(0.3, 0.8))) * float(rng.uniform(1.0, 1.3))
    paper = float(rng.uniform(225, 252))
    gray = np.clip(paper - np.clip(ink, 0, 255) * float(rng.uniform(0.8, 0.98)), 0, 255).astype(np.uint8)
    top = margin + (ascent - int(size * 0.72))
    box = (margin - 1, top, margin + width, margin + ascent + descent // 2)
    if rng.random() < 0.4:  # a table rule beside or under the field, as in the real table
        gray = gray.copy()
        t = int(rng.integers(1, 3))
        dark = int(rng.integers(10, 80))
        side = rng.integers(0, 3)
        if side == 0:
            x = box[2] + int(rng.integers(1, size // 2 + 2))
            gray[:, x : x + t] = dark
        elif side == 1:
            x = max(0, box[0] - int(rng.integers(1, size // 2 + 2)))
            gray[:, x : x + t] = dark
        else:
            y = box[3] + int(rng.integers(1, size // 3 + 2))
            gray[y : y + t, :] = dark
    return Sample(gray, box, float(size) * 0.75, text, field)


# -- source 3: the real actas, labelled by their QR -----------------------------------------


def real_split(name: str) -> str:
    """ "tune" or "held" for a real acta's file name: the SHA-256 of the name decides, so that
    the split depends on nothing we could tune (12 and 10 of the 22 actas with a QR)."""
    return "tune" if int(hashlib.sha256(name.encode()).hexdigest(), 16) % 2 == 0 else "held"


def real_actas(split: str) -> list[tuple[Path, tuple[int, ...]]]:
    """The real actas of ``split`` whose QR text is known, with their counts."""
    return [(path, counts.votes) for path, counts in _real_counts(split)]


def _real_counts(split: str) -> list[tuple[Path, ActaCounts]]:
    definition = load_definition(DEFINITION)
    truth = json.loads((ACTAS / "_ground_truth" / "qr_text_by_image.json").read_text())
    by_name = {k.split("/")[-1]: v for k, v in truth.items()}
    out = []
    for path in sorted(ACTAS.glob("*/*.jpg")):
        text = by_name.get(path.name)
        if text and real_split(path.name) == split:
            out.append((path, parse_payload(text, definition)))
    return out


def real_samples(split: str, summary_weight: int = 0) -> list[Sample]:
    """Digits (tight box and column window), words and party-code crops of the ballot lines
    of the real actas of ``split``, with context, where the layout finds the whole table;
    with ``summary_weight``, also their summary's totals, each that many times (three totals
    per acta against 38 lines would be drowned otherwise)."""
    d = load_definition(DEFINITION)
    words = digit_words()
    out: list[Sample] = []
    for path, counts in _real_counts(split):
        gray = cv2.imread(str(path), cv2.IMREAD_GRAYSCALE)
        gray, layout = upright_layout(gray, len(d.ballot))
        if len(layout.table) != len(d.ballot) + 2:
            continue
        votes = counts.votes
        for row, value, party in zip(layout.table[2:], votes, d.ballot, strict=True):
            out += _both_spellings(gray, row, layout.scale, value, words)
            if row.code is not None:
                out.append(_cut(gray, row.code, layout.scale, str(party.party_code), "digits"))
        if summary_weight:
            out += _summary_samples(gray, layout, counts, words) * summary_weight
    return out


def _summary_samples(
    gray: np.ndarray, layout: Layout, counts: ActaCounts, words: tuple[str, ...]
) -> list[Sample]:
    """Votos, válidos and nulos of the summary, labelled by the QR's totals, where the
    reader (PP-OCR, as in a scan) places them and reads their digits as the QR says: a
    row it would place elsewhere is left out rather than mislabelled."""
    rows = layout.summary[: SUMMARY_NEEDED + 2]
    reads = read_digits(gray, rows, layout.scale, recogniser("ppocr"), codes=False, squeeze=0.8)
    wanted = summary_wanted(counts)
    keys = by_position(len(reads), _title_rows(reads, wanted))
    out = []
    for row, read, key in zip(rows, reads, keys, strict=True):
        if key not in wanted or wanted[key] not in read.digits:
            continue
        out += _both_spellings(gray, row, layout.scale, wanted[key], words)
    return out


def _both_spellings(
    gray: np.ndarray, row: NumericRow, scale: float, value: int, words: tuple[str, ...]
) -> list[Sample]:
    """A real row's digits (tight box and column window) and words, labelled ``value``."""
    out = [_cut(gray, box, scale, str(value), "digits") for box in {row.tight, row.digits} - {None}]
    if len(row.words) == 1:
        out.append(_cut(gray, row.words[0], scale, spell(value, words), "words"))
    return out


# -- degradations ------------------------------------------------------------------------------

Degrade = Callable[[np.ndarray, float, float, np.random.Generator], np.ndarray]


def strength(rng: np.random.Generator, split: str) -> float:
    """A strength in [0, 1): bins 0, 2, 4, 6, 8 (of ten) for "train", 1, 3, … for "held"."""
    b = int(rng.integers(0, 5)) * 2 + (1 if split == "held" else 0)
    return (b + float(rng.random())) / 10


def _gauss(g: np.ndarray, u: float, s: float, rng: np.random.Generator) -> np.ndarray:
    sx = s * (0.03 + 0.17 * u)
    sy = sx * float(rng.uniform(0.6, 1.4))  # astigmatic as often as round
    return cv2.GaussianBlur(g, (0, 0), sigmaX=sx, sigmaY=sy)


def _motion(g: np.ndarray, u: float, s: float, rng: np.random.Generator) -> np.ndarray:
    length = max(2, round(s * (0.1 + 0.5 * u)))
    k = np.zeros((length, length), np.float32)
    k[length // 2, :] = 1.0
    m = cv2.getRotationMatrix2D(((length - 1) / 2, (length - 1) / 2), float(rng.uniform(0, 180)), 1.0)
    k = cv2.warpAffine(k, m, (length, length))
    return cv2.filter2D(g, -1, k / max(float(k.sum()), 1e-6))


def _defocus(g: np.ndarray, u: float, s: float, rng: np.random.Generator) -> np.ndarray:
    r = max(1.0, s * (0.05 + 0.18 * u))
    n = int(np.ceil(r)) * 2 + 1
    yy, xx = np.mgrid[:n, :n] - n // 2
    k = (xx**2 + yy**2 <= r * r).astype(np.float32)
    return cv2.filter2D(g, -1, k / k.sum())


def _resolution(g: np.ndarray, u: float, s: float, rng: np.random.Generator) -> np.ndarray:
    f = 1.0 - 0.55 * u
    h, w = g.shape
    small = cv2.resize(g, (max(2, round(w * f)), max(2, round(h * f))), interpolation=cv2.INTER_AREA)
    if rng.random() < 0.5:
        return small  # a photo that is small
    return cv2.resize(small, (w, h), interpolation=cv2.INTER_LINEAR)


def _jpeg(g: np.ndarray, u: float, s: float, rng: np.random.Generator) -> np.ndarray:
    ok, buf = cv2.imencode(".jpg", g, [cv2.IMWRITE_JPEG_QUALITY, int(92 - 85 * u)])
    return cv2.imdecode(buf, cv2.IMREAD_GRAYSCALE) if ok else g


def _noise(g: np.ndarray, u: float, s: float, rng: np.random.Generator) -> np.ndarray:
    return np.clip(g + rng.normal(0, 2 + 28 * u, g.shape), 0, 255).astype(np.uint8)


def _contrast(g: np.ndarray, u: float, s: float, rng: np.random.Generator) -> np.ndarray:
    keep = 1.0 - 0.85 * u
    base = float(rng.uniform(-60, 10)) * u
    return np.clip(255 - (255 - g.astype(np.float32)) * keep + base, 0, 255).astype(np.uint8)


def _field(shape: tuple[int, int], cell: float, rng: np.random.Generator) -> np.ndarray:
    h, w = shape
    gh, gw = max(2, int(h / cell) + 2), max(2, int(w / cell) + 2)
    return cv2.resize(rng.uniform(-1, 1, (gh, gw)).astype(np.float32), (w, h), interpolation=cv2.INTER_CUBIC)


def _faded(g: np.ndarray, u: float, s: float, rng: np.random.Generator) -> np.ndarray:
    paper = float(np.percentile(g, 90))
    keep = np.clip(1.0 - 0.8 * u * (0.6 + 0.4 * _field(g.shape, 2 * s, rng)), 0.12, 1.0)
    return np.clip(paper - (paper - g.astype(np.float32)) * keep, 0, 255).astype(np.uint8)


def _stain(g: np.ndarray, u: float, s: float, rng: np.random.Generator) -> np.ndarray:
    blot = np.clip(_field(g.shape, 1.5 * s, rng) + float(rng.uniform(-0.3, 0.5)), 0, 1)
    shade = float(rng.uniform(40, 140)) * (0.2 + 0.8 * u)
    return np.clip(g.astype(np.float32) - shade * blot, 0, 255).astype(np.uint8)


def _lighting(g: np.ndarray, u: float, s: float, rng: np.random.Generator) -> np.ndarray:
    h, w = g.shape
    ramp = (
        np.linspace(0, 1, w, dtype=np.float32)[None, :]
        if rng.random() < 0.5
        else np.linspace(0, 1, h, dtype=np.float32)[:, None]
    )
    gain = 1.0 - 0.6 * u * (ramp if rng.random() < 0.5 else 1 - ramp)
    return np.clip(g.astype(np.float32) * gain, 0, 255).astype(np.uint8)


def _perspective(g: np.ndarray, u: float, s: float, rng: np.random.Generator) -> np.ndarray:
    h, w = g.shape
    d = 0.05 * u * h
    src = np.float32([[0, 0], [w, 0], [w, h], [0, h]])
    dst = src + rng.uniform(-d, d, (4, 2)).astype(np.float32)
    shear = float(rng.uniform(-0.12, 0.12)) * u * h
    dst[:2, 0] += shear
    m = cv2.getPerspectiveTransform(src, dst)
    border = int(np.percentile(g, 90))
    return cv2.warpPerspective(g, m, (w, h), flags=cv2.INTER_LINEAR, borderValue=border)


def _weight(g: np.ndarray, u: float, s: float, rng: np.random.Generator) -> np.ndarray:
    """Thermal head too hot (bolder strokes) or too cold (thinner, broken strokes)."""
    k = np.ones((2, 2), np.uint8)
    if rng.random() < 0.5:
        return cv2.erode(g, k) if u > 0.3 else cv2.addWeighted(g, 0.5, cv2.erode(g, k), 0.5, 0)
    thin = cv2.dilate(g, k)
    return thin if u > 0.3 else cv2.addWeighted(g, 0.5, thin, 0.5, 0)


def _dots(g: np.ndarray, u: float, s: float, rng: np.random.Generator) -> np.ndarray:
    """Thermal dot structure: ink lost in a random fraction of the dots."""
    paper = float(np.percentile(g, 90))
    lost = (rng.random(g.shape) < 0.35 * u).astype(np.float32)
    lost = cv2.GaussianBlur(lost, (3, 3), 0.5)
    return np.clip(g + (paper - g.astype(np.float32)) * lost, 0, 255).astype(np.uint8)


KINDS: dict[str, tuple[float, Degrade]] = {
    # kind: (probability per crop in training, function)
    "gauss_blur": (0.35, _gauss),
    "motion_blur": (0.2, _motion),
    "defocus": (0.15, _defocus),
    "resolution": (0.3, _resolution),
    "jpeg": (0.4, _jpeg),
    "noise": (0.3, _noise),
    "contrast": (0.3, _contrast),
    "faded": (0.2, _faded),
    "stain": (0.12, _stain),
    "lighting": (0.15, _lighting),
    "perspective": (0.35, _perspective),
    "weight": (0.2, _weight),
    "dots": (0.15, _dots),
}
BLURS = ("gauss_blur", "motion_blur", "defocus")
ORDER = (
    "weight",
    "dots",
    "faded",
    "stain",
    "perspective",
    "gauss_blur",
    "defocus",
    "motion_blur",
    "lighting",
    "contrast",
    "resolution",
    "noise",
    "jpeg",
)  # print, paper, optics, sensor, file


def _sharpen(g: np.ndarray, u: float, s: float, rng: np.random.Generator) -> np.ndarray:
    """A phone's over-sharpening: unsharp mask with halos (never in training)."""
    soft = cv2.GaussianBlur(g, (0, 0), 0.6 + 1.5 * u)
    return cv2.addWeighted(g, 1.0 + 2.5 * u, soft, -2.5 * u, 0)


def _dead_dots(g: np.ndarray, u: float, s: float, rng: np.random.Generator) -> np.ndarray:
    """A thermal head with dead elements: white streaks along the paper (never in training)."""
    out = g.copy()
    paper = int(np.percentile(g, 90))
    for x in rng.choice(g.shape[1], size=max(1, int(g.shape[1] * 0.06 * u)), replace=False):
        out[:, x] = paper
    return out


def _salt_pepper(g: np.ndarray, u: float, s: float, rng: np.random.Generator) -> np.ndarray:
    out = g.copy()
    r = rng.random(g.shape)
    p = 0.08 * u
    out[r < p / 2] = 0
    out[r > 1 - p / 2] = 255
    return out


HELD_OUT_KINDS: dict[str, Degrade] = {
    "sharpen": _sharpen,
    "dead_dots": _dead_dots,
    "salt_pepper": _salt_pepper,
}


def degrade(
    sample: Sample, rng: np.random.Generator, split: str, held_kind: str | None = None, clean: bool = False
) -> np.ndarray:
    """The sample's field crop, degraded (``split`` "train" or "held"), cut with a random
    padding around its box as the reader's crops have."""
    g = sample.image
    s = sample.scale
    if not clean:
        picked = [k for k in ORDER if rng.random() < KINDS[k][0]]
        blurs = [k for k in picked if k in BLURS]
        if len(blurs) > 1:  # one optical blur per crop: stacked blurs leave nothing to read
            keep = blurs[int(rng.integers(0, len(blurs)))]
            picked = [k for k in picked if k not in BLURS or k == keep]
        for k in picked:
            g = KINDS[k][1](g, strength(rng, split), s, rng)  # "resolution" may keep it small
        if held_kind is not None:
            g = HELD_OUT_KINDS[held_kind](g, float(rng.random()), s, rng)
    fy, fx = g.shape[0] / sample.image.shape[0], g.shape[1] / sample.image.shape[1]
    x0, y0, x1, y1 = sample.box
    if clean:
        px0 = px1 = 0.25 * s if sample.field == "digits" else 0.0
        py0 = py1 = 0.1 * s
    else:
        px0, px1 = (float(v) * s for v in rng.uniform(0.0, 1.2, 2))
        py0, py1 = (float(v) * s for v in rng.uniform(-0.05, 0.4, 2))
    h, w = g.shape
    cx0, cx1 = max(0, int((x0 - px0) * fx)), min(w, int(np.ceil((x1 + px1) * fx)))
    cy0, cy1 = max(0, int((y0 - py0) * fy)), min(h, int(np.ceil((y1 + py1) * fy)))
    if cx1 - cx0 < 2 or cy1 - cy0 < 2:
        return g
    return g[cy0:cy1, cx0:cx1]


def make_pool(seed: int, actas: int, texts: int) -> list[Sample]:
    """Clean samples with context: ``actas`` rendered actas' crops plus ``texts`` strings."""
    rng = np.random.default_rng(seed)
    renderer = ActaRenderer(load_definition(DEFINITION))
    pool: list[Sample] = []
    for _ in range(actas):
        pool += acta_samples(rng, renderer)
    words = tuple(renderer.t["digit_words"])
    pool += [text_sample(rng, words) for _ in range(texts)]
    return pool
