"""The acta's own recogniser (``read/models/acta-rec.onnx``) and the choice of engine per field."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pytest

from veedor.read.print import ocr
from veedor.read.print.recognise import (
    DEFAULT,
    HEIGHT,
    MODEL_PATH,
    ActaRecogniser,
    FieldRouter,
    acta_recogniser,
    choice,
    field_of,
    prepare,
)
from veedor.read.print.vocabulary import current
from veedor.read.print.words import from_words, to_words
from veedor.simulate.render import glyphs


def printed(text: str, size: int = 17) -> np.ndarray:
    """``text`` as the receipt prints it: Liberation Sans, dark ink on light paper, a margin."""
    ink = glyphs(text, False, size).astype(np.float32)
    gray = np.clip(242 - ink * 0.92, 0, 255).astype(np.uint8)
    return np.pad(gray, ((2, 2), (4, 4)), constant_values=242)


@pytest.fixture(scope="module")
def acta() -> ActaRecogniser:
    return acta_recogniser()


def test_model_ships_small_and_loads(acta: ActaRecogniser) -> None:
    assert MODEL_PATH.is_file()
    assert MODEL_PATH.stat().st_size < 5_000_000
    assert "acta-rec" in acta.name


def test_charset_holds_every_field_character(acta: ActaRecogniser) -> None:
    assert len(set(acta.charset)) == len(acta.charset)
    assert acta.covers(ocr.DIGITS)
    assert acta.covers(current().word_chars)
    assert not acta.covers("ABCXYZ.-")  # acta ids and labels stay with PP-OCR


def test_prepare_scales_to_the_input_height_ink_bright() -> None:
    x = prepare(printed("149"))
    assert x.shape[0] == HEIGHT and x.shape[1] % 4 == 0
    assert x.max() == pytest.approx(1.0) and np.median(x) < 0.1  # paper ~0 (cubic overshoot)
    assert prepare(np.zeros((0, 5), np.uint8)).shape[0] == HEIGHT


def test_decoding_collapses_repeats_and_keeps_to_the_alphabet(acta: ActaRecogniser) -> None:
    index = {c: i + 1 for i, c in enumerate(acta.charset)}
    steps = ["1", "1", "", "1", "C", "4", ""]  # "C" is not a digit: the next best digit wins
    probs = np.full((len(steps), len(acta.charset) + 1), 0.001, np.float32)
    for t, c in enumerate(steps):
        probs[t, index[c] if c else 0] = 0.9
    probs[4, index["7"]] = 0.05
    text = acta._decode(probs, ocr.DIGITS)
    assert text.text == "1174"
    assert text.alphabet == ocr.DIGITS
    assert text.probs is not None and text.probs.shape == (len(steps), 11)


@pytest.mark.parametrize("value", [0, 1, 5, 6, 7, 10, 16, 38, 99, 104, 149, 500, 518, 881])
def test_reads_clean_digits_exactly(acta: ActaRecogniser, value: int) -> None:
    [[text]] = acta.read([[ocr.Piece(printed(str(value)), ocr.DIGITS)]])
    assert text.text == str(value)
    assert text.confidence > 0.5


@pytest.mark.parametrize(
    "value",
    [
        0,
        7,
        16,
        149,  # acta-rec 1 read "uatro" here
        # A known miss of this model (docs/model-card-acta-rec.md): "Ocho" read "Ochno" in the
        # renderer's font. Strict: a better model makes this test fail until the mark is removed.
        pytest.param(518, marks=pytest.mark.xfail(strict=True, reason="acta-rec 2 reads Ochno here")),
        2093,
        6385,
    ],
)
def test_reads_clean_words_exactly(acta: ActaRecogniser, value: int) -> None:
    words = to_words(value)
    [[text]] = acta.read([[ocr.Piece(printed(words, 18), current().word_chars)]])
    assert text.text == words
    assert from_words(text.text) == value


def test_reading_is_deterministic(acta: ActaRecogniser) -> None:
    piece = ocr.Piece(printed("Cero, Uno, Cuatro, Nueve", 18), current().word_chars)
    first, second = acta.read([[piece]]), acta.read([[piece]])
    assert first[0][0].text == second[0][0].text
    assert first[0][0].probs is not None and second[0][0].probs is not None
    assert np.array_equal(first[0][0].probs, second[0][0].probs)


def test_choice_per_field() -> None:
    assert choice("") == DEFAULT
    assert choice("acta") == {"first": "acta", "digits": "acta", "words": "acta"}
    assert choice("ppocr") == {"first": "ppocr", "digits": "ppocr", "words": "ppocr"}
    assert choice("digits=acta") == {**DEFAULT, "digits": "acta"}
    assert choice("first=ppocr, words=acta") == {**DEFAULT, "first": "ppocr", "words": "acta"}
    for bad in ("tesseract", "digits=tesseract", "header=acta"):
        with pytest.raises(ValueError):
            choice(bad)


def test_choice_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("VEEDOR_RECOGNISER", "words=acta")
    assert choice() == {**DEFAULT, "words": "acta"}


def test_fields_of_alphabets() -> None:
    assert field_of(ocr.DIGITS) == "digits"
    assert field_of(current().word_chars) == "words"
    assert field_of(current().id_chars) is None


class _Fake:
    def __init__(self, name: str) -> None:
        self.name = name
        self.seen: list[list[str]] = []

    def read(self, lines: list[list[ocr.Piece]]) -> list[list[ocr.Text]]:
        self.seen += [[p.alphabet for p in line] for line in lines]
        return [[ocr.Text(f"{self.name}:{p.alphabet[:2]}", 1.0) for p in line] for line in lines]


def test_router_sends_each_field_to_its_engine_in_order() -> None:
    digits, other = _Fake("d"), _Fake("o")
    router = FieldRouter({"digits": digits}, other)
    words = current().word_chars
    out = router.read(
        [
            [ocr.Piece(np.zeros((4, 4), np.uint8), ocr.DIGITS), ocr.Piece(np.zeros((4, 4), np.uint8), words)],
            [ocr.Piece(np.zeros((4, 4), np.uint8), current().id_chars)],
        ]
    )
    assert [[t.text for t in line] for line in out] == [
        ["d:01", f"o:{words[:2]}"],
        [f"o:{current().id_chars[:2]}"],
    ]
    assert digits.seen == [[ocr.DIGITS]]


def test_default_engine_is_unchanged(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("VEEDOR_RECOGNISER", raising=False)
    rec = ocr.recogniser()
    if (DEFAULT["digits"], DEFAULT["words"]) == ("ppocr", "ppocr"):
        assert isinstance(rec, ocr.PaddleRecogniser)
    else:
        assert isinstance(rec, FieldRouter)
    first, engine = ocr.first_look()
    assert engine == DEFAULT["first"]
    assert (first is rec) == (DEFAULT["first"] == DEFAULT["digits"])


def test_the_first_look_falls_back_to_the_digits_engine_without_the_model(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    def missing() -> None:
        raise ocr.EngineUnavailable("no model here")

    monkeypatch.setattr(
        ocr, "_recogniser", lambda fields: missing() if ("digits", "acta") in fields else "ppocr"
    )
    assert ocr.first_look("first=acta") == ("ppocr", "ppocr")


def test_acta_engine_through_the_registry_reads_a_row(monkeypatch: pytest.MonkeyPatch) -> None:
    rec = ocr.recogniser("acta")
    assert isinstance(rec, FieldRouter)
    [[digits, words]] = rec.read(
        [[ocr.Piece(printed("149"), ocr.DIGITS), ocr.Piece(printed(to_words(149), 18), current().word_chars)]]
    )
    assert digits.text == "149"
    assert from_words(words.text) == 149


# -- the real actas: a tuning half for training, a held-back half for the report ------------

TRAINING = Path(__file__).resolve().parents[1] / "training" / "recogniser"


@pytest.fixture(scope="module")
def synth():  # type: ignore[no-untyped-def]
    sys.path.insert(0, str(TRAINING))
    try:
        import synth as module
    finally:
        sys.path.remove(str(TRAINING))
    return module


def test_the_real_actas_split_in_two_fixed_halves_that_never_meet(synth) -> None:  # type: ignore[no-untyped-def]
    tune = {p.name for p, _ in synth.real_actas("tune")}
    held = {p.name for p, _ in synth.real_actas("held")}
    assert len(tune) == 12 and len(held) == 10 and not tune & held
    # The split is the SHA-256 of the name: it cannot move with anything tuned here.
    assert all(synth.real_split(name) == "held" for name in held)
    assert "017911_032908_0032Acta0032.jpg" in held and "017911_018022_0093Acta0093.jpg" in tune


def test_training_cuts_real_crops_from_the_tuning_half_only(synth, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    opened: list[str] = []
    real_imread = synth.cv2.imread
    monkeypatch.setattr(
        synth.cv2, "imread", lambda path, *a: opened.append(Path(path).name) or real_imread(path, *a)
    )
    samples = synth.real_samples("tune")
    assert opened and all(synth.real_split(name) == "tune" for name in opened)
    assert {s.field for s in samples} == {"digits", "words"} and len(samples) > 1000


def test_the_shipped_model_reads_the_held_back_actas_digits(synth, acta: ActaRecogniser) -> None:  # type: ignore[no-untyped-def]
    """On the real actas the training never saw, each ballot line's digits as the reader cuts
    them (``digits_piece``): right on at least 95 % (measured 97.7 %, PP-OCR 99.3 %; the
    synthetic-only model read 74 %: docs/model-card-acta-rec.md)."""
    import cv2

    from veedor.read.print.layout import upright_layout
    from veedor.read.print.rows import digits_piece

    right = total = 0
    for path, votes in synth.real_actas("held"):
        gray, layout = upright_layout(cv2.imread(str(path), cv2.IMREAD_GRAYSCALE), len(votes))
        if len(layout.table) != len(votes) + 2:
            continue
        for row, value in zip(layout.table[2:], votes, strict=True):
            piece = ocr.Piece(digits_piece(gray, row, layout.scale).image, ocr.DIGITS)
            right += acta.read([[piece]])[0][0].text == str(value)
            total += 1
    assert total >= 300 and right / total >= 0.95
