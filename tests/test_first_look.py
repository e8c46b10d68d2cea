"""The first look at the digits (``parse._first_digits``): one engine reads every row, the
next reads again only the line images holding a row not read as the QR's count, and each
row keeps the engine that read it, whose measured confusions weigh it (:mod:`.risk`).

The engines here are stand-ins that answer from a script, on the layout of a real acta."""

from __future__ import annotations

import json
from pathlib import Path

import cv2
import pytest

from veedor.definitions import ElectionDefinition
from veedor.definitions.parsers import parse_payload
from veedor.read.print import ocr, parse
from veedor.read.print.layout import upright_layout
from veedor.read.print.rows import PER_LINE
from veedor.read.print.vocabulary import using

ACTAS = Path(__file__).resolve().parents[1] / "samples" / "actas"
NAME = "andres-sommariva-vzla-elections-2024/017911_018022_0093Acta0093.jpg"
VOTANTES = 2  # the "Votantes" rows above the ballot lines


class Scripted:
    """Answers each digits piece, in reading order, with the next of ``counts`` (the counts,
    then the party codes read after them; anything further comes out unread); remembers how
    many pieces it read."""

    def __init__(self, counts: list[int]) -> None:
        self.counts = counts
        self.pieces = 0
        self.name = "scripted"

    def read(self, lines: list[list[ocr.Piece]]) -> list[list[ocr.Text]]:
        out = []
        for pieces in lines:
            texts = []
            for _ in pieces:
                k = self.pieces
                texts.append(
                    ocr.Text(str(self.counts[k]), 0.999) if k < len(self.counts) else ocr.Text("", 0.0)
                )
                self.pieces += 1
            out.append(texts)
        return out


@pytest.fixture(scope="module")
def acta(definition: ElectionDefinition):  # type: ignore[no-untyped-def]
    truth = json.loads((ACTAS / "_ground_truth" / "qr_text_by_image.json").read_text())[NAME]
    expect = parse_payload(truth, definition)
    gray, layout = upright_layout(cv2.imread(str(ACTAS / NAME), cv2.IMREAD_GRAYSCALE), len(definition.ballot))
    assert len(layout.table) == VOTANTES + len(definition.ballot)
    # The first rows' printed party codes, as a first look reads them after the counts: they
    # say where the ballot starts.
    codes = [definition.ballot[k - VOTANTES].party_code for k in range(4) if layout.table[k].code is not None]
    assert codes
    return gray, layout, expect, codes


def _first_digits(definition, acta, first: Scripted, then: Scripted):  # type: ignore[no-untyped-def]
    gray, layout, expect, _ = acta
    with using(definition):
        reads, placed = parse._first_digits(gray, layout, definition, expect, ((first, "one"), (then, "two")))
    if placed is not None:  # the placement handed on is the one these reads give
        with using(definition):
            assert placed == parse.assign_rows(layout.table, reads, definition)
    return reads


def test_only_the_line_images_the_first_look_doubts_are_read_again(definition, acta) -> None:  # type: ignore[no-untyped-def]
    _, layout, expect, codes = acta
    right = [100, 99, *expect.votes]
    wrong = list(right)
    row = VOTANTES + 10  # ballot line 11
    wrong[row] = expect.votes[10] + 1
    first, then = Scripted(wrong + codes), Scripted(right[row - row % PER_LINE :])
    reads = _first_digits(definition, acta, first, then)
    group = range(row - row % PER_LINE, row - row % PER_LINE + PER_LINE)
    assert then.pieces == PER_LINE  # one line image read again, no code (not the first group)
    assert [k for k, r in enumerate(reads) if r.engine == "two"] == list(group)
    assert all(r.engine == "one" for k, r in enumerate(reads) if k not in group)
    assert [r.digits for r in reads[VOTANTES:]] == [[v] for v in expect.votes]
    assert len(reads) == len(layout.table)


def test_a_first_look_that_agrees_everywhere_is_not_read_again(definition, acta) -> None:  # type: ignore[no-untyped-def]
    _, _, expect, codes = acta
    first, then = Scripted([100, 99, *expect.votes, *codes]), Scripted([])
    reads = _first_digits(definition, acta, first, then)
    assert then.pieces == 0
    assert {r.engine for r in reads} == {"one"}


def test_rows_lost_to_the_first_look_send_every_row_to_the_next(definition, acta) -> None:  # type: ignore[no-untyped-def]
    _, layout, expect, codes = acta
    right = [100, 99, *expect.votes]
    first, then = Scripted([]), Scripted(right + codes)  # the first look reads nothing at all
    reads = _first_digits(definition, acta, first, then)
    assert then.pieces >= len(layout.table)  # every count (and the first rows' codes)
    assert {r.engine for r in reads} == {"two"}
    assert [r.digits for r in reads[VOTANTES:]] == [[v] for v in expect.votes]


def test_a_row_is_weighed_by_the_engine_that_read_it(definition, acta, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    """A row read by an engine with no measured table always needs its words (risk 1),
    whatever another engine's table would say of the same reading."""
    _, _, expect, codes = acta
    right = [100, 99, *expect.votes]
    reads = _first_digits(definition, acta, Scripted(right + codes), Scripted([]))
    read = reads[VOTANTES + 5]
    want = expect.votes[5]
    monkeypatch.setattr(
        parse, "digits_risk", lambda value, confidence, engine: 0.0 if engine == "one" else 1.0
    )
    assert parse._digits_risk(read, want) == 0.0
    read.engine = "two"
    assert parse._digits_risk(read, want) == 1.0


class Says:
    """Answers every piece with ``text`` and remembers the pieces' alphabets."""

    def __init__(self, text: str) -> None:
        self.text = text
        self.alphabets: list[str] = []
        self.name = "says"

    def read(self, lines: list[list[ocr.Piece]]) -> list[list[ocr.Text]]:
        self.alphabets += [p.alphabet for pieces in lines for p in pieces]
        return [[ocr.Text(self.text, 0.999) for _ in pieces] for pieces in lines]


def _summary_script(layout, wanted: dict[str, int]) -> list[int]:  # type: ignore[no-untyped-def]
    """Votos, válidos, parciales, nulos, … as the summary's rows print them (no title row
    on this acta's layout: checked)."""
    script = [wanted["votos"], wanted["validos"], wanted["validos"], wanted["nulos"], 0, 13, 0, 0]
    return script[: len(layout.summary[: parse.SUMMARY_NEEDED + 2])]


def test_the_summary_totals_read_as_the_qrs_by_the_first_look_are_not_read_again(definition, acta) -> None:  # type: ignore[no-untyped-def]
    gray, layout, expect, _ = acta
    wanted = parse.summary_wanted(expect)
    first, then = Scripted(_summary_script(layout, wanted)), Scripted([])
    with using(definition):
        reads = parse._summary_digits(gray, layout, wanted, ((first, "one"), (then, "two")))
    assert then.pieces == 0
    assert {r.engine for r in reads} == {"one"}
    assert [r.digits[0] for r in reads[:2]] == [wanted["votos"], wanted["validos"]]


def test_a_summary_total_the_first_look_misreads_sends_the_summary_to_the_next(definition, acta) -> None:  # type: ignore[no-untyped-def]
    gray, layout, expect, _ = acta
    wanted = parse.summary_wanted(expect)
    right = _summary_script(layout, wanted)
    wrong = [right[0] + 100, *right[1:]]  # votos misread
    first, then = Scripted(wrong), Scripted(right)
    with using(definition):
        reads = parse._summary_digits(gray, layout, wanted, ((first, "one"), (then, "two")))
    assert then.pieces == len(right)  # every summary row again, one line image
    assert {r.engine for r in reads} == {"two"}
    assert reads[0].digits == [wanted["votos"]]


def _acta_id(definition, acta, rec, first):  # type: ignore[no-untyped-def]
    from veedor.read.print.header import _acta_id

    gray, layout, expect, _ = acta
    with using(definition):
        return _acta_id(gray, layout, layout.table[0].band, rec, expect.acta_id, first)


def test_the_acta_id_is_the_qrs_when_the_first_look_reads_every_digit_of_it(definition, acta) -> None:  # type: ignore[no-untyped-def]
    _, _, expect, _ = acta
    first, rec = Says(expect.acta_id.replace(".", "")), Says("")
    assert _acta_id(definition, acta, rec, first) == expect.acta_id
    assert rec.alphabets == []  # PP-OCR never looked
    assert first.alphabets == [ocr.DIGITS]


def test_an_acta_id_the_first_look_reads_otherwise_is_left_to_the_recogniser(definition, acta) -> None:  # type: ignore[no-untyped-def]
    _, _, expect, _ = acta
    digits = expect.acta_id.replace(".", "")
    other = digits[:10] + ("2" if digits[10] != "2" else "3") + digits[11:]  # another mesa's id
    printed = f"{other[:9]}.{other[9:11]}.{other[11]}.{other[12:]}"
    first, rec = Says(other), Says(printed)
    assert _acta_id(definition, acta, rec, first) == printed  # the print's id, not the QR's
    assert rec.alphabets and ocr.DIGITS not in rec.alphabets


def _spelt(value: int) -> str:
    from veedor.read.print.vocabulary import current

    vocabulary = current()
    return ", ".join(vocabulary.digit_words[int(c)] for c in str(value).zfill(vocabulary.width))


@pytest.mark.parametrize("spelt_right", [True, False])
def test_a_total_read_as_the_qrs_has_its_words_looked_at_first_by_the_acta_recogniser(
    definition, acta, monkeypatch, spelt_right: bool
) -> None:  # type: ignore[no-untyped-def]
    """The summary's totals whose digits equal the QR's but need their words: one quick
    look first; only a total whose words do not spell the QR's count is read again with
    every look (PP-OCR's ~40 ms a row)."""
    gray, layout, expect, _ = acta
    votos = parse.summary_wanted(expect)["votos"]
    with using(definition):
        (read,) = parse.read_digits(gray, layout.summary[:1], layout.scale, Scripted([votos]), codes=False)
        quick = _spelt(votos if spelt_right else votos + 10)
        monkeypatch.setattr(parse, "_fast_words", lambda g, rows, s: [[ocr.Text(quick, 0.99)] for _ in rows])
        full = Says("")
        reads = [read]
        parse._confirm_words(gray, layout.summary, layout.scale, full, reads, [0], {0: votos})
    if spelt_right:
        assert full.alphabets == []
        assert reads[0] is read and read.words_value(False) == votos
        assert read.line("votos").value == votos
    else:
        assert full.alphabets  # read again, words and digits, with every look
        assert reads[0] is not read
