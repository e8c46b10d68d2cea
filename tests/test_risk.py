"""The rule that says when a line's digits alone confirm the QR (``read/print/risk.py``),
on hand-built confusion tables and readings, and the shipped tables themselves."""

from __future__ import annotations

import json

import pytest

from veedor.read.print import ocr, parse, risk
from veedor.read.print.recognise import ActaRecogniser
from veedor.read.print.rows import RowRead


def _rates(n: int, read_as: dict[str, dict[str, int]] | None = None, lost: int = 0) -> risk.Rates:
    # Every glyph seen n times, the count-level slips out of n counts.
    return risk.Rates(n, dict.fromkeys(risk.GLYPHS, n), read_as or {}, lost, 0)


def _table(sure: risk.Rates, likely: risk.Rates) -> risk.ConfusionTable:
    return risk.ConfusionTable("hand-built", {"sure": sure, "likely": likely})


def test_the_bound_of_a_rate_never_seen_shrinks_with_the_sample() -> None:
    assert risk.upper_bound(0, 0) == 1.0
    assert 0.02 < risk.upper_bound(0, 100) < 0.03  # 100 clean reads still leave 2.6 %
    assert risk.upper_bound(0, 1000) < 0.003
    assert risk.upper_bound(3, 100) > risk.upper_bound(0, 100)
    assert risk.upper_bound(30, 100) > 0.3


def test_a_count_a_slip_could_produce_needs_its_words() -> None:
    # A thin "5" read "6" 30 times in 100: the QR's 16 may be a printed 15, misread.
    table = _table(_rates(1000), _rates(1000, {"5": {"6": 300}}))
    assert table.risk(16, 0.95) > 0.3
    assert table.risk(10, 0.95) < 0.003  # no glyph measured to become 1 or 0
    assert table.risk(16, 0.999) < 0.003  # the sure bin never made that slip


def test_lost_glyphs_make_every_count_risky() -> None:
    # A "1" lost from 109 reads "09": when counts often lose a glyph, no count is safe.
    table = _table(_rates(1000, lost=100), _rates(1000))
    assert table.risk(9, 0.999) > 0.1


def test_a_rarely_seen_glyph_or_an_empty_bin_is_not_trusted() -> None:
    # Rare glyphs are pooled: 20 eights and 20 nines never read "3" prove little, and
    # one of them read "3" weighs as much as one in 40.
    rare = {**dict.fromkeys(risk.GLYPHS, 1000), "8": 20, "9": 20}
    clean = risk.Rates(1000, rare, {}, 0, 0)
    slipped = risk.Rates(1000, rare, {"9": {"3": 1}}, 0, 0)
    assert 0.05 < clean.risk(3) < slipped.risk(3) < 0.2
    assert _table(clean, clean).risk(3, 0.2) == 1.0  # no "guess" bin measured


def test_no_two_numbers_left_to_their_digits_may_together_pass_a_forgery() -> None:
    # Joint risk at most ACTA_RISK (1e-3): a 25 % line and a 1 % line may not both stay.
    risks = {"A": 0.25, "B": 0.01, "C": 0.01, "D": 0.002}
    assert risk.needing_words(risks) == {"A"}
    assert risk.needing_words({"B": 0.01, "C": 0.01}) == set()  # 1e-4
    assert risk.needing_words({"A": 0.25}) == set()  # one number alone cannot hide a forgery
    assert risk.needing_words({"A": 0.25}, kept=[0.01]) == {"A"}  # but not beside a kept line
    assert risk.needing_words({"A": 0.5, "B": 0.5, "C": 0.5}) == {"A", "B"}


def _digits_only(value: int, confidence: float, engine: str = "acta") -> RowRead:
    read = RowRead(digits_text=str(value), engine=engine)
    read.digits.append(value)
    read.digit_looks.append(ocr.Text(str(value), confidence))
    return read


def test_the_reader_weighs_only_rows_read_in_digits_as_the_qr(monkeypatch: pytest.MonkeyPatch) -> None:
    table = _table(_rates(1000), _rates(1000, {"5": {"6": 300}}))
    monkeypatch.setattr(risk, "table", lambda engine: table if engine == "acta" else None)
    assert (parse._digits_risk(_digits_only(16, 0.95), 16) or 0) > 0.3
    assert (parse._digits_risk(_digits_only(16, 0.999), 16) or 1) < 0.003
    assert parse._digits_risk(_digits_only(15, 0.95), 16) is None  # differs: the doubtful path reads it
    with_words = _digits_only(16, 0.95)
    with_words.looks.append([ocr.Text("Cero Cero Uno Seis", 0.99)])
    assert parse._digits_risk(with_words, 16) is None  # its words were read already
    # Each row is weighed by the table of the engine that read it; none measured: the words.
    assert parse._digits_risk(_digits_only(16, 0.999, engine="ppocr"), 16) == 1.0
    assert parse._digits_risk(_digits_only(16, 0.999, engine=""), 16) == 1.0


@pytest.mark.parametrize("engine", ["ppocr", "acta"])
def test_the_shipped_tables_belong_to_the_shipped_engines(engine: str) -> None:
    """A table measures one engine: a new model or decoder version must be measured again
    (``training/recogniser/confusions.py``), on the tuning half only."""
    path = risk.TABLE_DIR / f"{risk.engine_key(engine)}.confusions.json"
    data = json.loads(path.read_text())
    current = ocr._paddle().name if engine == "ppocr" else ActaRecogniser().name
    assert data["engine"] == current
    assert "tuning half" in data["measured_on"]
    table = risk.table(engine)
    assert table is not None and set(table.bins) == {name for name, _ in risk.BINS}
    assert table.bins["sure"].counts > 1000
