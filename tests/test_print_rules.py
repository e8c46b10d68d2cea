"""The pure rules around the print reading: placing rows, naming summary rows, the sums,
and where the ballot table ends. No OCR: readings are built by hand."""

from __future__ import annotations

from veedor.definitions import ElectionDefinition
from veedor.model import ActaCounts
from veedor.read.print import ocr
from veedor.read.print.align import assign_rows
from veedor.read.print.checks import lines_placed, print_checks, qr_print_check
from veedor.read.print.layout import Band, Box, Layout, NumericRow, _completeness, _packed
from veedor.read.print.parse import _settle
from veedor.read.print.rows import Line, RowRead
from veedor.read.print.summary import by_position, closest_label
from veedor.read.print.sums import settle_by_sums


def _row(k: int) -> NumericRow:
    box = Box(300, 40 * k, 340, 40 * k + 16)
    return NumericRow(k, box, box, (Box(380, 40 * k, 560, 40 * k + 16),), None)


def _read(code: str, digits: int) -> RowRead:
    read = RowRead(code_text=code, digits_text=str(digits))
    read.digits.append(digits)
    return read


def _ballot_reads(definition: ElectionDefinition, codes: dict[int, str]) -> list[RowRead]:
    return [_read(codes.get(p, str(b.party_code)), 1) for p, b in enumerate(definition.ballot)]


def test_a_code_with_its_first_glyph_lost_is_not_another_partys(definition: ElectionDefinition) -> None:
    # ORA (906) read "006": not MEP (6), only a damaged code; its row keeps its place.
    ora = next(p for p, b in enumerate(definition.ballot) if b.party_code == 906)
    reads = _ballot_reads(definition, {ora: "006"})
    lines, _, _, _ = assign_rows(tuple(_row(k) for k in range(len(reads))), reads, definition)
    assert all(line is not None for line in lines)
    assert [line.label for line in lines if line] == [b.acronym for b in definition.ballot]


def test_one_code_misread_as_another_lines_keeps_its_row(definition: ElectionDefinition) -> None:
    # Dark noise: PV (1053) read "1065", MR's code, between neighbours that place themselves.
    pv = next(p for p, b in enumerate(definition.ballot) if b.acronym == "PV")
    reads = _ballot_reads(definition, {pv: "1065"})
    lines, _, _, _ = assign_rows(tuple(_row(k) for k in range(len(reads))), reads, definition)
    assert lines[pv] is not None and lines[pv].label == "PV"


def test_codes_cut_at_the_left_edge_keep_their_rows(definition: ElectionDefinition) -> None:
    # The QR-less acta cut by the frame: the last lines' codes lose their first glyphs
    # ("75" of MUD's 1075, "2" of CONDE's 1092, which is also COPEI's code) and one row
    # reads no code at all; every row must stay on its line, none shifted or left out.
    tail = {b.acronym: p for p, b in enumerate(definition.ballot)}
    codes = {
        tail["AREPA"]: "4",
        tail["UNTC"]: "50",
        tail["MPV"]: "63",
        tail["MUD"]: "75",
        tail["CENTRADOS"]: "73",
        tail["CONDE"]: "2",
    }
    reads = _ballot_reads(definition, codes)
    reads[tail["VPA"]] = _read("", 1)
    lines, _, _, _ = assign_rows(tuple(_row(k) for k in range(len(reads))), reads, definition)
    assert [line.label if line else None for line in lines] == [b.acronym for b in definition.ballot]


def test_summary_labels_are_matched_by_their_endings() -> None:
    assert closest_label("Votos") == "votos"
    assert closest_label("clales") == "parciales"  # "Votos parciales", its left edge cut
    assert closest_label("dos") == "validos"
    assert closest_label("validas") == "opciones_validas"
    assert closest_label("nulas") == "opciones_nulas"
    assert closest_label("vali") is None  # "validos" or "validas": no guess
    assert closest_label("s") is None
    assert by_position(4, 1) == [None, "votos", "validos", "parciales"]


def _line(label: str, value: int | None, digits: int | None = None) -> Line:
    shown = value if value is not None else digits
    return Line(label, shown, value, str(shown), "", "", True)


def _unsure(label: str, digits: int) -> Line:
    # Digits read, words not: the print alone does not settle it.
    return Line(label, digits, None, str(digits), "C?ro, aro, Uno, Seis", "", True)


def _summary(votos: Line, validos: Line, nulos: Line) -> dict[str, Line]:
    return {"votos": votos, "validos": validos, "nulos": nulos}


def test_the_sums_settle_one_unsure_line_its_reading_allows() -> None:
    lines: list[Line | None] = [_line("A", 100), _unsure("B", 16), _line("C", 33)]
    summary = _summary(_line("votos", 151), _line("validos", 149), _line("nulos", 2))
    notes: list[str] = []
    out, out_summary = settle_by_sums(lines, {1: _read("", 16)}, summary, {}, notes)
    assert out[1] is not None and out[1].value == 16
    assert all(c.passed for c in print_checks(out, out_summary, "x", "x", 3)[:4])
    assert notes and "sumas" in notes[0]


def test_the_sums_never_invent_a_value_the_line_does_not_show() -> None:
    # The sums say 16, but the digits read 116: a person must look.
    lines: list[Line | None] = [_line("A", 100), _unsure("B", 116), _line("C", 33)]
    summary = _summary(_line("votos", 151), _line("validos", 149), _line("nulos", 2))
    out, _ = settle_by_sums(lines, {1: _read("", 116)}, summary, {}, [])
    assert out[1] is not None and out[1].value is None


def test_two_unsure_lines_stay_unsure() -> None:
    lines: list[Line | None] = [_line("A", 100), _unsure("B", 16), _unsure("C", 33)]
    summary = _summary(_line("votos", 151), _line("validos", 149), _line("nulos", 2))
    reads = {1: _read("", 16), 2: _read("", 33)}
    out, _ = settle_by_sums(lines, reads, summary, {}, [])
    assert out[1] is not None and out[1].value is None
    assert out[2] is not None and out[2].value is None


def test_each_sum_settles_its_own_unknown() -> None:
    # One unsure line (lines = válidos) and an unsure "votos" (válidos + nulos = votos).
    lines: list[Line | None] = [_line("A", 100), _unsure("B", 16), _line("C", 33)]
    summary = _summary(_unsure("votos", 151), _line("validos", 149), _line("nulos", 2))
    out, out_summary = settle_by_sums(lines, {1: _read("", 16)}, summary, {"votos": _read("", 151)}, [])
    assert out[1] is not None and out[1].value == 16
    assert out_summary["votos"].value == 151


def test_both_sums_settle_an_unreadable_valid_votes() -> None:
    """Válidos unreadable ("45" for 149): the lines' sum and votos minus nulos, each from
    numbers read twice, both say 149: válidos is settled without a reading of its own."""
    lines: list[Line | None] = [_line("A", 100), _line("B", 16), _line("C", 33)]
    summary = _summary(_line("votos", 151), _unsure("validos", 45), _line("nulos", 2))
    notes: list[str] = []
    _, out_summary = settle_by_sums(lines, {}, summary, {"validos": _read("", 45)}, notes)
    assert out_summary["validos"].value == 149 and notes
    # When the two sums disagree (votos read 152), nothing is settled.
    summary = _summary(_line("votos", 152), _unsure("validos", 45), _line("nulos", 2))
    _, out_summary = settle_by_sums(lines, {}, summary, {"validos": _read("", 45)}, [])
    assert out_summary["validos"].value is None
    # Nor with a line unsure: one sum alone must not override válidos' own reading.
    lines[1] = _unsure("B", 16)
    summary = _summary(_line("votos", 151), _unsure("validos", 45), _line("nulos", 2))
    _, out_summary = settle_by_sums(lines, {1: _read("", 16)}, summary, {"validos": _read("", 45)}, [])
    assert out_summary["validos"].value is None


def test_a_qr_with_a_vote_moved_off_an_unreadable_line_still_differs() -> None:
    # With the QR known: B is unreadable, a forged QR moved one vote from B to A. The
    # sums settle B from the print (16, not the QR's 15), and A still reads 100.
    lines: list[Line | None] = [_line("A", 100), _unsure("B", 16), _line("C", 33)]
    summary = _summary(_line("votos", 151), _line("validos", 149), _line("nulos", 2))
    out, _ = settle_by_sums(lines, {1: _read("", 16)}, summary, {}, [])
    printed = ActaCounts("x", "x", 1, tuple(ln.value if ln and ln.value is not None else -1 for ln in out), 2)
    forged = ActaCounts("x", "x", 1, (101, 15, 33), 2)
    check = qr_print_check(forged, printed)
    assert not check.passed and "línea 1" in check.detail and "línea 2" in check.detail
    assert qr_print_check(ActaCounts("x", "x", 1, (100, 16, 33), 2), printed).passed


def _bands(tops: list[int]) -> list[Band]:
    return [Band(Box(0, y, 500, y + 16), (Box(0, y, 500, y + 16),)) for y in tops]


def test_the_summary_starts_where_rows_pack_closely() -> None:
    scale = 16.0
    # Crumpled paper: two ballot lines 29 px apart, then 40 px again: still the ballot.
    assert not _packed(_bands([0, 29, 69, 109]), [0, 1, 2, 3], scale)
    # The "Resumen de votos" rows: ~26 px apart.
    assert _packed(_bands([0, 26, 52, 78]), [0, 1, 2, 3], scale)
    # The last ballot line, then the summary below its title: not packed from there.
    assert not _packed(_bands([0, 90, 116, 142]), [0, 1, 2, 3], scale)


def test_a_table_that_ran_on_is_not_complete() -> None:
    def layout(rows: int) -> Layout:
        return Layout(16.0, (), tuple(_row(k) for k in range(rows)), ())

    assert _completeness(layout(40), 38)[0] == 40
    assert _completeness(layout(41), 38)[0] == 40  # a stray title row is skipped later
    assert _completeness(layout(44), 38)[0] < _completeness(layout(39), 38)[0]


def _words_read(digits: list[int], words_value: int) -> tuple[Line, RowRead]:
    read = RowRead(digits_text=str(digits[0]) if digits else "")
    read.digits.extend(digits)
    line = Line("A", digits[0] if digits else None, words_value, read.digits_text, "Cero, Cero, Cero, Tres")
    return line, read


def test_words_that_spell_the_qrs_count_settle_unreadable_digits() -> None:
    line, read = _words_read([], 3)  # digits unreadable, words "Cero, Cero, Cero, Tres"
    assert _settle(line, read, 3, []).value == 3
    line, read = _words_read([35], 3)  # one look at a misplaced column
    assert _settle(line, read, 3, []).value == 3


def test_digits_that_insist_on_another_count_keep_the_line_in_doubt() -> None:
    line, read = _words_read([12, 12], 3)  # two looks both read "12"
    assert _settle(line, read, 3, []).value != 3
    line, read = _words_read([], 4)  # the words spell 4: a QR saying 3 is not confirmed
    assert _settle(line, read, 3, []).value != 3


def test_the_sums_never_side_with_digits_against_clear_words() -> None:
    # "16" in digits but the words clearly "Cero, Cero, Uno, Cinco": the sums say 16 (a
    # forged QR moved a vote and another line was misread to match), the words say 15.
    read = _read("", 16)
    read.looks.append([ocr.Text("Cero Cero Uno Cinco", 0.99)])
    lines: list[Line | None] = [_line("A", 100), _unsure("B", 16), _line("C", 33)]
    summary = _summary(_line("votos", 151), _line("validos", 149), _line("nulos", 2))
    out, _ = settle_by_sums(lines, {1: read}, summary, {}, [])
    assert out[1] is not None and out[1].value is None


def _coded(label: str, value: int, code: str) -> Line:
    return Line(label, value, value, str(value), "", code, True)


def test_on_a_print_only_acta_each_line_with_votes_sits_on_its_partys_code() -> None:
    """Rows slid up one line under a lost row: 16 votes of UNTC (460) read on AREPA's line
    (1094). Every sum holds; only the codes say whose votes they are."""
    codes = [1094, 460, 1069]
    slid = [_coded("AREPA", 16, "450"), _coded("UNTC", 16, "1063"), _coded("MPV", 323, "1076")]
    check = lines_placed(slid, codes)
    assert not check.passed
    assert all(name in check.detail for name in ("AREPA", "UNTC", "MPV"))
    # Read right, or one glyph off, or cut at the sheet's left edge ("60" of 460 read
    # "50", "69" of 1069): each row is its party's.
    for texts in (["1094", "460", "1069"], ["1084", "450", "1068"], ["94", "50", "69"], ["4", "0", "9"]):
        placed = [_coded(line.label, line.value or 0, t) for line, t in zip(slid, texts, strict=True)]
        assert lines_placed(placed, codes).passed, texts
    # A line at zero gives nobody a vote, whatever row sits there; a line with votes and no
    # code read (or a position with no printed code) cannot be placed.
    assert lines_placed([_coded("AREPA", 0, "450"), None, _coded("MPV", 323, "1069")], codes).passed
    assert not lines_placed([_coded("AREPA", 16, "")], [1094]).passed
    assert not lines_placed([_coded("AREPA", 16, "1094")], [None]).passed
