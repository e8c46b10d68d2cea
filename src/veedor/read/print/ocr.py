"""Text-line recogniser: the PP-OCR recognition model shipped inside the rapidocr wheel.

Only the recognition network is used, through onnxruntime directly: the page layout is
fixed and found by :mod:`layout`, so the (slow) text detector is not needed, and rapidocr's
own pipeline (which may download files) is never started. The session runs on one thread:
a scan runs one worker per core. Decoding is restricted to the characters a field can
hold (digits for counts, the letters of the number words for words), which removes most
confusions ("O"/"0", "l"/"1") before they happen.
"""

from __future__ import annotations

import importlib.util
import threading
from dataclasses import dataclass, field
from functools import cache
from importlib.metadata import version
from pathlib import Path
from typing import Protocol

import cv2
import numpy as np

from veedor.read.levels import percentiles

MODEL_FILE = "PP-OCRv6_rec_small.onnx"
HEIGHT = 48  # the model's fixed input height
DIGITS = "0123456789"
LOW_CONTRAST = 120  # grey levels between ink and paper below which a crop is stretched


def __getattr__(name: str) -> str:
    # The alphabets of a count in words and of an acta id are the election's (its definition's
    # words and id pattern, :mod:`.vocabulary`), never constants here.
    from veedor.read.print.vocabulary import current

    if name == "WORD_CHARS":
        return current().word_chars
    if name == "ID_CHARS":
        return current().id_chars
    raise AttributeError(name)


class EngineUnavailable(RuntimeError):
    """The recogniser cannot run here (package or model file missing)."""


@dataclass(frozen=True)
class Piece:
    """Part of a line image to be decoded with its own alphabet (by x range in the line)."""

    image: np.ndarray  # grayscale, any size; scaled to the model height
    alphabet: str
    squeeze: float = 1.0  # horizontal factor after scaling: narrower input, less work


@dataclass(frozen=True)
class Text:
    text: str
    confidence: float  # lowest per-character probability (0 when nothing was read)
    # Per-step probabilities over ``alphabet`` (column 0 is the CTC blank), kept so that
    # a doubtful word can be scored against the few words it may be.
    probs: np.ndarray | None = field(default=None, repr=False, compare=False)
    alphabet: str = ""


def model_path() -> Path:
    spec = importlib.util.find_spec("rapidocr")
    if spec is None or not spec.submodule_search_locations:
        raise EngineUnavailable("rapidocr no está instalado / rapidocr is not installed")
    path = Path(next(iter(spec.submodule_search_locations))) / "models" / MODEL_FILE
    if not path.is_file():
        raise EngineUnavailable(f"falta el modelo / model file missing: {path}")
    return path


class Recogniser(Protocol):
    """What the reader needs of a recogniser (:func:`recogniser` picks one per field)."""

    name: str

    def read(self, lines: list[list[Piece]]) -> list[list[Text]]: ...


class PaddleRecogniser:
    def __init__(self, threads: int = 1) -> None:
        import onnxruntime as ort

        options = ort.SessionOptions()
        options.intra_op_num_threads = threads
        options.inter_op_num_threads = 1
        options.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
        self._session = ort.InferenceSession(str(model_path()), options, providers=["CPUExecutionProvider"])
        meta = self._session.get_modelmeta().custom_metadata_map
        # CTC class 0 is "blank"; the model appends a space class after its dictionary.
        self._chars = ["", *meta["character"].splitlines(), " "]
        self._index = {c: i for i, c in enumerate(self._chars) if c}
        self._lock = threading.Lock()
        self.name = f"rapidocr {version('rapidocr')} {MODEL_FILE} (onnxruntime {ort.__version__})"

    def _ids(self, alphabet: str) -> np.ndarray:
        return np.array([0, *sorted({self._index[c] for c in alphabet})], dtype=np.int64)

    def read(self, lines: list[list[Piece]]) -> list[list[Text]]:
        """Read each line (a list of pieces laid side by side); one Text per piece.

        One line per run: on one thread a batch gains nothing, and padding every line to
        the batch's widest cost more (batches of 8: 524 ms mean cross-check, one by one:
        459 ms, ``bench/bench_print.py``)."""
        results: list[list[Text]] = []
        for pieces in lines:
            parts, spans, x = [], [], 0
            for piece in pieces:
                scaled = _scale(piece.image, piece.squeeze)
                gap = np.full((HEIGHT, HEIGHT // 4), 255, np.uint8)
                parts += [scaled, gap]
                spans.append((x, x + scaled.shape[1] + gap.shape[1] // 2, piece.alphabet))
                x += scaled.shape[1] + gap.shape[1]
            image = np.hstack(parts) if parts else np.full((HEIGHT, 8), 255, np.uint8)
            width = -(-image.shape[1] // 8) * 8
            batch_in = np.zeros((1, 3, HEIGHT, width), np.float32)
            batch_in[0, :, :, : image.shape[1]] = image.astype(np.float32) / 127.5 - 1.0
            with self._lock:
                out = self._session.run(None, {self._session.get_inputs()[0].name: batch_in})[0]
            steps = out.shape[1]
            results.append(
                [
                    self._decode(out[0, round(x0 / width * steps) : round(x1 / width * steps)], alphabet)
                    for x0, x1, alphabet in spans
                ]
            )
        return results

    def _decode(self, probs: np.ndarray, alphabet: str) -> Text:
        ids = self._ids(alphabet)
        sub = probs[:, ids]
        best = sub.argmax(axis=1)
        text, confidence, previous = [], 1.0, 0
        for step, k in enumerate(best):
            if k != previous and k != 0:
                text.append(self._chars[ids[k]])
                confidence = min(confidence, float(sub[step, k]))
            previous = k
        joined = "".join(text).strip()
        columns = "".join(self._chars[i] for i in ids[1:])
        return Text(joined, confidence if joined else 0.0, sub, columns)


def _scale(gray: np.ndarray, squeeze: float = 1.0) -> np.ndarray:
    h, w = gray.shape[:2]
    if h == 0 or w == 0:
        return np.full((HEIGHT, 8), 255, np.uint8)
    width = max(8, round(w * HEIGHT / h * squeeze))
    out = cv2.resize(gray, (width, HEIGHT), interpolation=cv2.INTER_CUBIC)
    lo, hi = percentiles(out, (1, 99))
    if 20 <= hi - lo < LOW_CONTRAST:
        # Faded or badly lit print: stretch to the ink-on-white the model was trained on.
        out = cv2.convertScaleAbs(out, alpha=255.0 / (hi - lo), beta=-lo * 255.0 / (hi - lo))
    return out


def recogniser(setting: str | None = None) -> Recogniser:
    """The recogniser for this process: PP-OCR, or the acta's own model for the fields the
    setting (or ``VEEDOR_RECOGNISER``) gives it (:func:`.recognise.choice`)."""
    from veedor.read.print.recognise import choice

    chosen = choice(setting)
    return _recogniser((("digits", chosen["digits"]), ("words", chosen["words"])))


def engine_name(engine: str) -> str:
    """The versioned name of an engine of :mod:`.recognise` ("ppocr", "acta")."""
    if engine == "acta":
        from veedor.read.print.recognise import acta_recogniser

        return acta_recogniser().name
    return _paddle().name


def first_look(setting: str | None = None) -> tuple[Recogniser, str]:
    """The recogniser of the first look at the counts' digits with the QR known, and its
    engine's name (whose measured confusions weigh that look, :mod:`.risk`): the setting's
    ``first`` engine, or the digits' engine when the acta model cannot run here."""
    from veedor.read.print.recognise import choice

    chosen = choice(setting)
    try:
        return _recogniser((("digits", chosen["first"]), ("words", chosen["words"]))), chosen["first"]
    except EngineUnavailable:
        return recogniser(setting), chosen["digits"]


@cache
def _paddle() -> PaddleRecogniser:
    """One session per process (workers included), created on first use."""
    return PaddleRecogniser()


@cache
def _recogniser(fields: tuple[tuple[str, str], ...]) -> Recogniser:
    from veedor.read.print.recognise import FieldRouter, acta_recogniser

    if all(engine == "ppocr" for _, engine in fields):
        return _paddle()
    acta = acta_recogniser()
    engines: dict[str, Recogniser] = {f: acta if e == "acta" else _paddle() for f, e in fields}
    return FieldRouter(engines, _paddle())
