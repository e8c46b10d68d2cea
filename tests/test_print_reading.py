"""Reading the printed acta from real images (the recogniser runs: a few seconds each)."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import pytest

from veedor.definitions import ElectionDefinition
from veedor.definitions.parsers import parse_payload
from veedor.read.print import read_print
from veedor.read.print.checks import QR_PRINT, qr_print_check
from veedor.read.print.layout import find_layout, upright_layout
from veedor.read.print.ocr import recogniser
from veedor.verify.crosscheck import explain

ROOT = Path(__file__).resolve().parents[1]
ACTAS = ROOT / "samples" / "actas"
SOMMARIVA = ACTAS / "andres-sommariva-vzla-elections-2024"


def _gray(path: Path) -> np.ndarray:
    gray = cv2.imread(str(path), cv2.IMREAD_GRAYSCALE)
    assert gray is not None, path
    return gray


@pytest.fixture(scope="module")
def unreadable(definition: ElectionDefinition):  # type: ignore[no-untyped-def]
    return read_print(_gray(SOMMARIVA / "qr-unreadable-incomplete-1.jpg"), definition)


def test_engine_ships_its_model() -> None:
    # The model file comes inside the pinned wheel: nothing is fetched at run time.
    assert "rapidocr 3.10.0" in recogniser().name


def test_layout_finds_every_numeric_row(definition: ElectionDefinition) -> None:
    layout = find_layout(_gray(SOMMARIVA / "784821_007643_0134Acta0133.jpg"), len(definition.ballot))
    assert len(layout.table) == 40  # "Votantes" (2) and the ballot (38)
    assert len(layout.summary) >= 8


def test_unreadable_qr_acta_is_read_from_its_print(unreadable, definition, v1_rows) -> None:  # type: ignore[no-untyped-def]
    """The done criterion: QR cut off, print read, every redundancy check agrees, and the
    numbers are exactly those of mesa 070704017.03 in the V1 results table."""
    assert unreadable is not None
    assert unreadable.agrees, [c.detail for c in unreadable.checks if not c.passed]
    acta = unreadable.acta
    assert acta.acta_id == "070704017.03.1.0001"
    assert (acta.centre, acta.mesa) == ("070704017", 3)
    assert unreadable.centre_printed == "070704017"
    assert unreadable.electors == 699
    assert unreadable.voters_machine == 449 and unreadable.voters_book == 449
    row = v1_rows[("070704017", 3)]
    totals = definition.totals_by_candidate(acta.votes)
    assert totals == {code: int(row[code]) for code in definition.candidate_codes}
    assert sum(acta.votes) == int(row["VOTOS_VALIDOS"]) == unreadable.summary["validos"].value
    assert acta.nulos == int(row["VOTOS_NULOS"])
    assert unreadable.summary["votos"].value == 449


def test_explain_says_print_was_read(unreadable) -> None:  # type: ignore[no-untyped-def]
    text = explain("QR cortado en el borde / QR cut off at the edge", unreadable)
    assert "tabla impresa leída" in text and "todo cuadra" in text


@pytest.mark.parametrize(
    "name",
    ["784821_007643_0134Acta0133.jpg", "021274_667795_2024-07-29-0006.jpg"],
)
def test_print_agrees_with_qr(
    name: str, definition: ElectionDefinition, qr_truth: dict[str, str | None]
) -> None:
    text = qr_truth[f"{SOMMARIVA.name}/{name}"]
    assert text is not None
    qr = parse_payload(text, definition)
    reading = read_print(_gray(SOMMARIVA / name), definition, expect=qr)
    assert reading is not None
    check = qr_print_check(qr, reading)
    assert check.passed, check.detail
    assert reading.acta is not None and reading.acta.votes == qr.votes


def test_a_changed_qr_is_caught(definition: ElectionDefinition, qr_truth: dict[str, str | None]) -> None:
    """A QR that says 10 more votes for one party than the print: not ok, the line named,
    both readings kept."""
    name = "784821_007643_0134Acta0133.jpg"
    text = qr_truth[f"{SOMMARIVA.name}/{name}"]
    assert text is not None
    qr = parse_payload(text, definition)
    votes = list(qr.votes)
    votes[35] += 10
    forged = type(qr)(qr.acta_id, qr.centre, qr.mesa, tuple(votes), qr.nulos, qr.extra)
    reading = read_print(_gray(SOMMARIVA / name), definition, expect=forged)
    assert reading is not None
    check = qr_print_check(forged, reading)
    assert check.name == QR_PRINT and not check.passed
    assert f"línea 36: QR {votes[35]} vs impreso {qr.votes[35]}" in check.detail
    line = reading.lines[35]
    assert line is not None and line.words_read and line.agrees  # both spellings were read


def test_digits_misread_in_place_do_not_read_every_code(
    definition: ElectionDefinition, qr_truth: dict[str, str | None], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Four digits misread where they stand ("6" for a thin "5", "618" for 518) are read
    again with their words; every row's party code and the summary's labels (a third of
    the time) are read only when rows may be out of place. The numbers still agree."""
    import veedor.read.print.parse as parse

    name = "017911_039828_0111Acta0111.jpg"
    text = qr_truth[f"{SOMMARIVA.name}/{name}"]
    assert text is not None
    qr = parse_payload(text, definition)
    called: list[str] = []
    for costly in ("read_codes", "by_label"):
        real = getattr(parse, costly)
        monkeypatch.setattr(
            parse, costly, lambda *a, _f=real, _n=costly, **k: called.append(_n) or _f(*a, **k)
        )
    reading = read_print(_gray(SOMMARIVA / name), definition, expect=qr)
    assert reading is not None and qr_print_check(qr, reading).passed
    assert called == []
    # Moved votes are still caught on that sheet: the moved lines are re-read with words.
    votes = list(qr.votes)
    votes[0], votes[35] = votes[0] - 5, votes[35] + 5
    forged = type(qr)(qr.acta_id, qr.centre, qr.mesa, tuple(votes), qr.nulos, qr.extra)
    reading = read_print(_gray(SOMMARIVA / name), definition, expect=forged)
    assert reading is not None
    check = qr_print_check(forged, reading)
    assert not check.passed
    assert f"línea 1: QR {votes[0]} vs impreso {qr.votes[0]}" in check.detail
    assert f"línea 36: QR {votes[35]} vs impreso {qr.votes[35]}" in check.detail


def test_blank_image_has_no_acta(definition: ElectionDefinition) -> None:
    assert read_print(np.full((2000, 600), 255, np.uint8), definition) is None


@pytest.mark.parametrize("stack", [np.hstack, np.vstack])
def test_two_actas_in_one_image_are_flagged(stack, definition: ElectionDefinition) -> None:  # type: ignore[no-untyped-def]
    gray = _gray(SOMMARIVA / "784821_007643_0134Acta0133.jpg")[:3600]
    layout = find_layout(stack([gray, gray]), len(definition.ballot))
    assert layout.tables == 2  # read_print then fails "print_single_acta": never merged


@pytest.mark.parametrize("degrees", [1.2, -1.2])
def test_tilted_scan_digit_windows_follow_the_tilt(
    degrees: float, definition: ElectionDefinition, qr_truth: dict[str, str | None]
) -> None:
    """A scan fed in slightly askew still gives the whole table, so it is not straightened;
    one upright digits window would cut the numbers at the table's top or bottom."""
    from veedor.read.print.layout import rotate

    name = "784821_007643_0134Acta0133.jpg"
    text = qr_truth[f"{SOMMARIVA.name}/{name}"]
    assert text is not None
    qr = parse_payload(text, definition)
    reading = read_print(rotate(_gray(SOMMARIVA / name), degrees), definition, expect=qr)
    assert reading is not None
    check = qr_print_check(qr, reading)
    assert check.passed, check.detail


def test_a_stain_edge_is_not_a_second_acta(definition: ElectionDefinition) -> None:
    """A stain whose edge splits every line at one place (bench seed): one receipt, whose
    marks are closer to its own digits column than another receipt could be."""
    from veedor.simulate.degrade import degrade

    gray = _gray(SOMMARIVA / "784821_715359_0131Acta0130.jpg")
    stained = degrade(gray, "stain", np.random.default_rng(13094074079690042534))
    _, layout = upright_layout(stained, len(definition.ballot))
    assert layout.table and layout.tables == 1


def test_a_qr_forged_into_the_digits_own_misreads_is_caught(
    definition: ElectionDefinition, qr_truth: dict[str, str | None]
) -> None:
    """A forger who knows the reader: on this clean scan the first pass reads PODEMOS's 2 as
    "4" and DDP's thin 5 as "6", so a QR saying 4 and 6 matched the digits and was counted
    (the digits alone confirmed any line that equalled the QR). Those readings are likely
    slips by the measured confusions (``read/print/risk.py``): their words are read, and
    they spell the printed counts."""
    name = "017911_039828_0111Acta0111.jpg"
    text = qr_truth[f"{SOMMARIVA.name}/{name}"]
    assert text is not None
    qr = parse_payload(text, definition)
    votes = list(qr.votes)
    assert (votes[5], votes[17]) == (2, 5)
    votes[5], votes[17] = 4, 6
    forged = type(qr)(qr.acta_id, qr.centre, qr.mesa, tuple(votes), qr.nulos, qr.extra)
    reading = read_print(_gray(SOMMARIVA / name), definition, expect=forged)
    assert reading is not None
    check = qr_print_check(forged, reading)
    assert not check.passed
    assert "línea 6: QR 4 vs impreso 2" in check.detail and "línea 18: QR 6 vs impreso 5" in check.detail


def test_a_vote_added_where_the_digits_slip_is_caught(
    definition: ElectionDefinition, qr_truth: dict[str, str | None]
) -> None:
    """One vote added to one line (the totals then differ from the QR's sums): on this scan
    the first pass reads PCV's thin 5 as "6", the only number a forger must match. The line
    must stand on its own, and its words say "Cinco"."""
    name = "784821_489421_0129Acta0128.jpg"
    text = qr_truth[f"{SOMMARIVA.name}/{name}"]
    assert text is not None
    qr = parse_payload(text, definition)
    votes = list(qr.votes)
    assert votes[33] == 5
    votes[33] = 6
    forged = type(qr)(qr.acta_id, qr.centre, qr.mesa, tuple(votes), qr.nulos, qr.extra)
    reading = read_print(_gray(SOMMARIVA / name), definition, expect=forged)
    assert reading is not None
    check = qr_print_check(forged, reading)
    assert not check.passed and "línea 34: QR 6 vs impreso 5" in check.detail
