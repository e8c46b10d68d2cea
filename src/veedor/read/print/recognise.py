"""A recogniser made for the acta's fields, and the choice of recogniser per field.

The PP-OCR network (:mod:`.ocr`) reads any Chinese or English line; the acta's counts need
only digits and the definition's number words, in one thermal font. ``acta-rec.onnx``
(``read/models/``, model card in ``docs/model-card-acta-rec.md``) is a small CTC network
trained for exactly that on synthetic crops (``training/recogniser/``). It runs through
onnxruntime on one thread like PP-OCR, one piece per run (no neighbours: it was trained on
lone fields), and returns the same :class:`~.ocr.Text` (per-step probabilities over the
piece's alphabet, blank first), so the reader's likelihood scoring works unchanged.

Which engine reads which field is chosen by :func:`choice`: the digits (counts and party
codes) and the words each have an engine, and so does the first look at the digits with the
QR known (a cascade: the rows that look does not confirm are read again by the digits'
engine, with every look); every other alphabet (acta id, labels, header) stays with PP-OCR,
which the acta model was not trained for. (With the QR's id known, the first look's engine
reads an id line's digits only to confirm it: :func:`.header._acta_id`.)
"""

from __future__ import annotations

import os
import threading
from functools import cache
from pathlib import Path

import cv2
import numpy as np

from veedor.read.levels import percentiles
from veedor.read.print.ocr import DIGITS, EngineUnavailable, Piece, Recogniser, Text

MODEL_PATH = Path(__file__).resolve().parents[1] / "models" / "acta-rec.onnx"
HEIGHT = 32  # the network's input height
MIN_WIDTH = 16  # a lone "1" still gets a few output steps
STRIDE = 4  # input columns per output step
FIELDS = ("first", "digits", "words")
"""What an engine is chosen for: ``first``, the first look at the counts' digits when the QR
is known (the risk rule weighs it with that engine's measured confusions); ``digits``, every
other look at the counts' digits and the party codes; ``words``, the counts in words."""
ENGINES = ("ppocr", "acta")
# See docs/ocr.md, "A recogniser made for the acta", and docs/reading.md, twelfth round.
DEFAULT = {"first": "acta", "digits": "ppocr", "words": "ppocr"}
ENV = "VEEDOR_RECOGNISER"


def prepare(gray: np.ndarray) -> np.ndarray:
    """The network's input for one crop: height 32, ink 1 and paper 0 (the crop's own 1st
    and 99th percentiles), width a multiple of the stride. Shared with the training."""
    h, w = gray.shape[:2]
    if h == 0 or w == 0:
        return np.zeros((HEIGHT, MIN_WIDTH), np.float32)
    width = max(MIN_WIDTH, round(w * HEIGHT / h))
    shrink = width < w or h > HEIGHT
    scaled = cv2.resize(gray, (width, HEIGHT), interpolation=cv2.INTER_AREA if shrink else cv2.INTER_CUBIC)
    lo, hi = percentiles(scaled, (1, 99))
    span = max(float(hi - lo), 24.0)  # a blank crop stays blank, not stretched noise
    ink = np.clip((float(hi) - scaled.astype(np.float32)) / span, 0.0, 1.0)
    padded = np.zeros((HEIGHT, -(-width // STRIDE) * STRIDE), np.float32)
    padded[:, :width] = ink
    return padded


class ActaRecogniser:
    """``acta-rec.onnx`` through onnxruntime, one thread."""

    def __init__(self, path: Path = MODEL_PATH, threads: int = 1) -> None:
        import onnxruntime as ort

        if not path.is_file():
            raise EngineUnavailable(f"falta el modelo / model file missing: {path}")
        options = ort.SessionOptions()
        options.intra_op_num_threads = threads
        options.inter_op_num_threads = 1
        options.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
        self._session = ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])
        self._input = self._session.get_inputs()[0].name
        meta = self._session.get_modelmeta().custom_metadata_map
        self.charset = meta["charset"]  # output column k + 1 is charset[k]; column 0 is the blank
        self._index = {c: i + 1 for i, c in enumerate(self.charset)}
        self._lock = threading.Lock()
        self.name = f"acta-rec {meta.get('version', '?')} (onnxruntime {ort.__version__})"

    def covers(self, alphabet: str) -> bool:
        return set(alphabet) <= set(self.charset)

    def probabilities(self, gray: np.ndarray) -> np.ndarray:
        """Per-step probabilities (steps × (1 + len(charset))) for one crop."""
        x = prepare(gray)[None, None]
        with self._lock:
            return np.asarray(self._session.run(None, {self._input: x})[0][0])

    def read(self, lines: list[list[Piece]]) -> list[list[Text]]:
        return [[self._decode(self.probabilities(p.image), p.alphabet) for p in pieces] for pieces in lines]

    def _decode(self, probs: np.ndarray, alphabet: str) -> Text:
        chars = sorted({c for c in alphabet if c in self._index}, key=self._index.__getitem__)
        ids = np.array([0, *(self._index[c] for c in chars)], dtype=np.int64)
        sub = probs[:, ids]
        best = sub.argmax(axis=1)
        text, confidence, previous = [], 1.0, 0
        for step, k in enumerate(best):
            if k != previous and k != 0:
                text.append(chars[k - 1])
                confidence = min(confidence, float(sub[step, k]))
            previous = k
        joined = "".join(text).strip()
        return Text(joined, confidence if joined else 0.0, sub, "".join(chars))


@cache
def acta_recogniser() -> ActaRecogniser:
    """One session per process, created on first use."""
    return ActaRecogniser()


def field_of(alphabet: str) -> str | None:
    """Which field an alphabet is: the counts' digits, the number words, or neither."""
    from veedor.read.print.vocabulary import current

    if alphabet == DIGITS:
        return "digits"
    if alphabet == current().word_chars:
        return "words"
    return None


class FieldRouter:
    """Reads each piece with the engine chosen for its field (PP-OCR for any other alphabet);
    the pieces of a line that go to one engine stay together, in order."""

    def __init__(self, engines: dict[str, Recogniser], other: Recogniser) -> None:
        self._engines = engines
        self._other = other
        chosen = ", ".join(f"{f}: {e.name}" for f, e in engines.items())
        self.name = f"{chosen}; other: {other.name}"

    def _engine(self, piece: Piece) -> Recogniser:
        field = field_of(piece.alphabet)
        engine = self._engines.get(field) if field else None
        if engine is None or (isinstance(engine, ActaRecogniser) and not engine.covers(piece.alphabet)):
            return self._other
        return engine

    def read(self, lines: list[list[Piece]]) -> list[list[Text]]:
        groups: dict[int, tuple[Recogniser, list[tuple[int, int]]]] = {}
        for i, pieces in enumerate(lines):
            for j, piece in enumerate(pieces):
                engine = self._engine(piece)
                groups.setdefault(id(engine), (engine, []))[1].append((i, j))
        out: list[list[Text | None]] = [[None] * len(pieces) for pieces in lines]
        for engine, where in groups.values():
            by_line: dict[int, list[int]] = {}
            for i, j in where:
                by_line.setdefault(i, []).append(j)
            sub = [[lines[i][j] for j in js] for i, js in by_line.items()]
            for (i, js), texts in zip(by_line.items(), engine.read(sub), strict=True):
                for j, text in zip(js, texts, strict=True):
                    out[i][j] = text
        return [[t if t is not None else Text("", 0.0) for t in line] for line in out]


def choice(setting: str | None = None) -> dict[str, str]:
    """The engine per field: ``DEFAULT``, overridden by ``setting`` (or the environment's
    ``VEEDOR_RECOGNISER``): one engine name for both fields ("acta", "ppocr") or
    ``"digits=acta,words=ppocr"``. An unknown name or field raises ``ValueError``."""
    text = (setting if setting is not None else os.environ.get(ENV, "")).strip()
    chosen = dict(DEFAULT)
    if not text:
        return chosen
    if "=" not in text:
        if text not in ENGINES:
            raise ValueError(f"recogniser desconocido / unknown recogniser: {text!r} ({', '.join(ENGINES)})")
        return dict.fromkeys(FIELDS, text)
    for part in text.split(","):
        field, _, engine = (s.strip() for s in part.partition("="))
        if field not in FIELDS or engine not in ENGINES:
            raise ValueError(f"campo o recogniser desconocido / unknown field or recogniser: {part!r}")
        chosen[field] = engine
    return chosen
