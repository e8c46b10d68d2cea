"""The print's redundancy checks and the QR-vs-print comparison (pure functions, no OCR)."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from veedor.model import ActaCounts
from veedor.read.print.checks import QR_PRINT, print_checks, qr_print_check
from veedor.read.print.parse import Line, PrintReading
from veedor.read.print.words import DIGIT_WORDS, from_words, to_words, word_digit
from veedor.verify.crosscheck import explain

ID = "070704017.03.1.0001"
VOTES = (
    71,
    1,
    3,
    1,
    0,
    2,
    1,
    1,
    3,
    1,
    0,
    0,
    2,
    1,
    0,
    0,
    0,
    1,
    0,
    0,
    0,
    0,
    0,
    1,
    0,
    0,
    1,
    0,
    0,
    1,
    0,
    0,
    0,
    16,
    16,
    323,
    0,
    3,
)


def _line(label: str, value: int, words: int | None = None) -> Line:
    spelled = value if words is None else words
    return Line(label, value, spelled, str(value), to_words(spelled))


def _summary(votos: int, validos: int, nulos: int) -> dict[str, Line]:
    return {
        "votos": _line("votos", votos),
        "validos": _line("validos", validos),
        "nulos": _line("nulos", nulos),
    }


def _reading(
    lines: list[Line | None], summary: dict[str, Line], acta_id: str = ID, centre: str = "070704017"
) -> PrintReading:
    checks = print_checks(lines, summary, acta_id, centre, 38)
    votes = tuple(-1 if ln is None or ln.value is None else ln.value for ln in lines)
    nulos = summary["nulos"].value if "nulos" in summary else -1
    acta = ActaCounts(acta_id, acta_id[:9], int(acta_id[10:12]), votes, nulos if nulos is not None else -1)
    return PrintReading(acta, tuple(lines), summary, {}, acta_id, centre, 699, tuple(checks), "test", 0.0)


def test_a_consistent_print_agrees() -> None:
    lines: list[Line | None] = [_line(str(i), v) for i, v in enumerate(VOTES)]
    reading = _reading(lines, _summary(449, 449, 0))
    assert reading.agrees, [c.detail for c in reading.checks if not c.passed]


def test_digits_against_words_names_the_line() -> None:
    lines: list[Line | None] = [_line(str(i), v) for i, v in enumerate(VOTES)]
    lines[33] = Line("UNTC", 12, 16, "12", "Cero, Cero, Uno, Seis")
    reading = _reading(lines, _summary(449, 449, 0))
    bad = {c.name: c.detail for c in reading.checks if not c.passed}
    assert "print_digits_words" in bad
    assert "línea 34" in bad["print_digits_words"] and "'12'" in bad["print_digits_words"]
    assert not reading.agrees


def test_lines_must_sum_to_valid_votes() -> None:
    lines: list[Line | None] = [_line(str(i), v) for i, v in enumerate(VOTES)]
    reading = _reading(lines, _summary(450, 450, 0))
    bad = {c.name for c in reading.checks if not c.passed}
    assert bad == {"print_lines_sum"}


def test_valid_plus_null_must_equal_votes() -> None:
    lines: list[Line | None] = [_line(str(i), v) for i, v in enumerate(VOTES)]
    reading = _reading(lines, _summary(449, 449, 2))
    assert {c.name for c in reading.checks if not c.passed} == {"print_valid_plus_null"}


def test_header_centre_must_match_acta_id() -> None:
    lines: list[Line | None] = [_line(str(i), v) for i, v in enumerate(VOTES)]
    reading = _reading(lines, _summary(449, 449, 0), centre="070704018")
    assert {c.name for c in reading.checks if not c.passed} == {"print_header"}


def test_missing_line_is_never_guessed() -> None:
    lines: list[Line | None] = [_line(str(i), v) for i, v in enumerate(VOTES)]
    lines[36] = None
    reading = _reading(lines, _summary(449, 449, 0))
    bad = {c.name: c.detail for c in reading.checks if not c.passed}
    assert "print_lines_found" in bad and "37" in bad["print_lines_found"]
    assert "print_lines_sum" in bad
    assert reading.acta is not None and reading.acta.votes[36] == -1


def test_qr_print_agreement_and_mismatch_names_lines() -> None:
    lines: list[Line | None] = [_line(str(i), v) for i, v in enumerate(VOTES)]
    reading = _reading(lines, _summary(449, 449, 0))
    qr = ActaCounts(ID, "070704017", 3, VOTES, 0, {"blank": 0})
    assert qr_print_check(qr, reading).passed
    changed = list(VOTES)
    changed[35] = 320
    changed[0] = 74
    bad = qr_print_check(ActaCounts(ID, "070704017", 3, tuple(changed), 1), reading)
    assert bad.name == QR_PRINT and not bad.passed
    assert "línea 1:" in bad.detail and "línea 36:" in bad.detail and "nulos" in bad.detail
    assert "QR 320 vs impreso 323" in bad.detail


def test_qr_print_mismatch_on_acta_id() -> None:
    lines: list[Line | None] = [_line(str(i), v) for i, v in enumerate(VOTES)]
    reading = _reading(lines, _summary(449, 449, 0))
    other = ActaCounts("070704017.02.1.0001", "070704017", 2, VOTES, 0)
    assert not qr_print_check(other, reading).passed


def test_equal_numbers_without_printed_identity_are_not_enough() -> None:
    # A real QR of another mesa pasted on this sheet: equal numbers, but neither the
    # printed acta id nor the centre was read, so nothing ties the QR to the sheet.
    qr = ActaCounts(ID, "070704017", 3, VOTES, 0)
    unnamed = ActaCounts("", "", 0, VOTES, 0)
    check = qr_print_check(qr, unnamed)
    assert not check.passed and "no se leyó el acta" in check.detail
    assert qr_print_check(qr, ActaCounts("", "070704017", 0, VOTES, 0)).passed


def test_unread_print_fails_the_comparison() -> None:
    qr = ActaCounts(ID, "070704017", 3, VOTES, 0)
    assert not qr_print_check(qr, None).passed  # type: ignore[arg-type]


def test_explain_in_plain_words() -> None:
    lines: list[Line | None] = [_line(str(i), v) for i, v in enumerate(VOTES)]
    lines[33] = Line("UNTC", 12, 16, "12", "Cero, Cero, Uno, Seis")
    reading = _reading(lines, _summary(449, 449, 0))
    text = explain("QR cortado en el borde inferior / QR cut off at the bottom edge", reading)
    assert text.startswith("QR cortado")
    assert "tabla impresa leída" in text and "'12'" in text
    ok = _reading([_line(str(i), v) for i, v in enumerate(VOTES)], _summary(449, 449, 0))
    assert "todo cuadra" in explain("QR cortado / QR cut off", ok)
    assert "no se encontró" in explain(None, None)


@given(st.integers(min_value=0, max_value=9999))
def test_words_round_trip(value: int) -> None:
    assert from_words(to_words(value)) == value


def test_printed_style() -> None:
    assert to_words(149) == "Cero, Uno, Cuatro, Nueve"
    assert to_words(0) == "Cero, Cero, Cero, Cero"


@given(st.sampled_from(DIGIT_WORDS), st.integers(min_value=0, max_value=5))
def test_one_slip_never_turns_into_another_word(word: str, where: int) -> None:
    # Dropping one letter gives either the right digit or no answer, never another digit.
    where = min(where, len(word) - 1)
    slipped = word[:where] + word[where + 1 :]
    assert word_digit(slipped) in (DIGIT_WORDS.index(word), None)


@pytest.mark.parametrize("text", ["Cero, Cero", "Cero, Cero, Cero, Cero, Uno", "Sos, Cero, Cero, Uno"])
def test_doubtful_words_are_not_numbers(text: str) -> None:
    assert from_words(text) is None
