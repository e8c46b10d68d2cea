"""The whole decision (QR ladder, print reading, judge) on a few degraded real actas.

Each case is one image of ``bench/bench_reading.py`` (same family, same seed) that once
went wrong or needed a fix: it must end ok with exactly the QR's numbers, and a pasted
QR with moved votes must never end ok.
"""

from __future__ import annotations

import json
from pathlib import Path

import cv2
import numpy as np
import pytest

from veedor.definitions import ElectionDefinition
from veedor.definitions.parsers import parse_payload
from veedor.model import ActaCounts, Status
from veedor.pipeline.worker import read_print_views
from veedor.read.acta import read_qr
from veedor.read.print.parse import _words_settle
from veedor.read.print.rows import Line
from veedor.simulate.degrade import degrade, tamper
from veedor.verify.checks import RegistryView
from veedor.verify.decide import Verdict, judge

ACTAS = Path(__file__).resolve().parents[1] / "samples" / "actas"
SOMMARIVA = "andres-sommariva-vzla-elections-2024"
TRUTH = json.loads((ACTAS / "_ground_truth" / "qr_text_by_image.json").read_text())


def _decide(gray: np.ndarray, definition: ElectionDefinition) -> Verdict:
    """What ``veedor scan`` decides (pipeline/worker.py's three calls)."""
    qr = read_qr(gray, definition)
    printed, _ = read_print_views(gray, definition, qr.acta, True)
    return judge(qr.acta, qr.problems, printed, definition, RegistryView())


def _image(name: str) -> np.ndarray:
    gray = cv2.imread(str(ACTAS / _rel(name)), cv2.IMREAD_GRAYSCALE)
    assert gray is not None
    return gray


def _assert_v1_numbers(
    acta: ActaCounts | None, definition: ElectionDefinition, v1_rows: dict[tuple[str, int], dict[str, str]]
) -> None:
    """The QR-less acta's numbers are mesa 070704017.03's in the published V1 table."""
    assert acta is not None and acta.key == ("070704017", 3)
    row = v1_rows[("070704017", 3)]
    totals = definition.totals_by_candidate(acta.votes)
    assert totals == {code: int(row[code]) for code in definition.candidate_codes}
    assert acta.nulos == int(row["VOTOS_NULOS"])


def _rel(name: str) -> str:
    return name if "/" in name else f"{SOMMARIVA}/{name}"


@pytest.mark.parametrize(
    ("family", "name", "seed", "why"),
    [
        ("scan", "784821_007643_0134Acta0133.jpg", 1, "a re-scan: the common case"),
        # The top of the ballot table was dropped when one row after a candidate heading
        # was not recognised (the table was cut in two chains).
        ("jpeg", "017911_032908_0032Acta0032.jpg", 10494498012649206871, "chain cut by a lost row"),
        # A thin "5" read "6" by the digits recogniser while the words say "Cinco".
        ("jpeg", "017911_039828_0111Acta0111.jpg", 8084444353547246691, "5 read as 6, words agree"),
        # A thin leading "1" lost: "09" for 109, the words spell "Cero, Uno, Cero, Nueve".
        ("scan", "784821_715691_0137Acta0136.jpg", 16232386734456065792, "lost 1, words agree"),
        # Crumpled paper brought two ballot lines as close as the summary's rows: the
        # ballot table ended four lines early and its last lines were read as the summary.
        ("crumpled", "784821_412219_0136Acta0135.jpg", 9663770739104835982, "table cut early"),
        ("stain", "784821_533014_0138Acta0137.jpg", 16612580567815873145, "table cut early"),
        # A blurred party code 906 read "006": not party 6's line, only a damaged code.
        (
            "blur",
            "nicorodriguezx-Venezuela2024/408106_675186_0363Acta0351.jpg",
            8870070065058085300,
            "code with a lost first glyph",
        ),
        # Faded paper: a speck at the paper's edge ended the id's line, hiding the id.
        ("faded", "017911_039828_0111Acta0111.jpg", 5162086052964080008, "id beside an edge speck"),
        # A whole-sheet phone photo: PSUV's count (86) is unreadable, every other line
        # and the totals equal the QR's, so válidos minus the other lines settles it.
        ("phone_full", "784821_939966_0139Acta0138.jpg", 18369312209842735107, "settled by the sums"),
        # A re-read row moved the rows along; the row that then landed on PPT's line had
        # never been re-read and stayed unreadable.
        # (Its PCV code reads "1": AD's code, and the end of TUPAMARO's 931; one glyph must
        # not pull the rows one line down.)
        ("phone_full", "784821_911027_0130Acta0129.jpg", 7532455169864920859, "row re-read twice"),
        # Receipt found by its text only (no paper edge against a blotchy table): the view
        # used to end inside the words column, cutting "Cuatro" to "Cu".
        ("phone_full", "784821_412219_0136Acta0135.jpg", 14899667330515237977, "words column kept"),
        # EL CAMBIO's digits unreadable; its words spell the QR's 3 clearly. Since the
        # measured-confusion rule, PCV's and TUPAMARO's "6" (read at low confidence, where a
        # thin 5 reads "6" in a third of the measured cases) need their words, and neither
        # reads in any look: left to people, by rule.
        pytest.param(
            "phone_full",
            "784821_705855_0163Acta0162.jpg",
            18272267454969474458,
            "words alone",
            marks=pytest.mark.xfail(strict=True, reason="two unsure 6s whose words are unreadable"),
        ),
        # A stamp glued to every summary number: no summary row was clean, and the
        # signature lines below lent their columns to the summary instead.
        ("jpeg", "qr-readable-incomplete-1.jpg", 18312164102031340426, "summary under the ballot"),
        # The plain reading of a warped scan spent the whole time budget on re-reads; its
        # straightened view (read in 0.4 s, every line equal to the QR) was never tried.
        ("perspective", "qr-readable-incomplete-1.jpg", 8166851404854390860, "straightened view tried"),
        # The straightened view read all 38 lines but not the id; only the plain view, which
        # read 28, was retouched. The best reading so far is the one retouched now.
        ("blur", "017911_032908_0032Acta0032.jpg", 11549516135408327108, "best view retouched"),
        # A dark scan: plain and straightened readings took ~13 s, and only the plain
        # image's smoothed view reads it; its straightened view, matching the QR on one
        # line by chance, must not become the one retouched.
        ("dark", "784821_533014_0138Acta0137.jpg", 13078194753264566775, "plain view retouched"),
        # A grainy dark photo read whole by no view: smoothed and light-flattened views
        # combine, the last of them read ~20 s in, past the time budget views once had.
        # Since the measured-confusion rule, its grainy "0" for nulos and MPV's "8" need their
        # words, which no view reads: left to people, by rule.
        pytest.param(
            "dark",
            "784821_149098_0135Acta0134.jpg",
            17772149393555632287,
            "every retouch read",
            marks=pytest.mark.xfail(
                strict=True, reason="unsure nulos and line 35 whose words are unreadable"
            ),
        ),
        # A dark, vignetted scan: its straightened view kept only the lit half, without
        # the party codes, and rows were placed one line off. Straightened whole, then
        # smoothed, it reads whole.
        ("dark", "784821_007643_0134Acta0133.jpg", 8722418958818058524, "straightened whole"),
        # A phone photo whose straightened view is still sheared: the digits column drifts
        # ~2.5 line heights down the table, and its first three rows fell out of the column.
        ("phone_full", "784821_932198_0164Acta0163.jpg", 13701229683286654925, "drifting column"),
        # A stain over the first rows hides their digits: the column's rows above it were a
        # chain too short to join the table, and three ballot lines were lost.
        ("stain", "784821_715359_0131Acta0130.jpg", 13094074079690042534, "rows under a stain"),
        # Upside down, the party codes and acronyms look like counts and words: 44 "rows".
        # A layout with a ballot's worth of rows must still be tried turned over.
        ("upside_down", "784821_893143_0133Acta0132.jpg", 16307574702312902146, "rows upside down"),
        # Motion smear of 9 px: every line's digits and words were a blur; divided out
        # (the streak measured from the image), the sheet reads whole.
        ("motion_blur", "784821_715691_0137Acta0136.jpg", 2281099173504156687, "smear divided out"),
        ("motion_blur", "784821_939966_0139Acta0138.jpg", 672152391333718190, "smear divided out"),
        # Focus blur of 2.5 px: the straightened view cut the words column's last word off;
        # the plain scan with the blur divided out reads whole.
        ("blur", "784821_705855_0163Acta0162.jpg", 5416048875056883793, "focus blur divided out"),
        # A bend left in the straightened view: its summary rows came two lines tall and
        # nulos was unreadable there; another view read nulos, and the views combine.
        (
            "perspective",
            "nicorodriguezx-Venezuela2024/408106_191008_0364Acta0351.jpg",
            18369452205490547895,
            "views combined",
        ),
    ],
)
def test_degraded_acta_is_ok_with_exact_numbers(
    family: str, name: str, seed: int, why: str, definition: ElectionDefinition
) -> None:
    img = degrade(_image(name), family, np.random.default_rng(seed))
    verdict = _decide(img, definition)
    truth = parse_payload(TRUTH[_rel(name)], definition)
    assert verdict.status is Status.OK, (why, verdict.reason)
    assert verdict.acta is not None
    assert (verdict.acta.key, verdict.acta.votes, verdict.acta.nulos) == (truth.key, truth.votes, truth.nulos)


def test_dark_photo_of_the_qrless_acta_is_read_from_its_print(
    definition: ElectionDefinition, v1_rows: dict[tuple[str, int], dict[str, str]]
) -> None:
    """The acta whose QR no tool reads, photographed dark: a watermark glued to the
    summary's first rows spread them as far apart as ballot lines, and the ballot table
    took them in (votos and válidos lost). Its numbers are mesa 070704017.03's in V1."""
    from veedor.read.print import read_print

    name = "qr-unreadable-incomplete-1.jpg"
    img = degrade(_image(name), "dark", np.random.default_rng(10167375266097868536))
    # The plain view alone, not the whole decision: with more time the straightened views
    # could hide a wrong layout of the plain one.
    reading = read_print(img, definition)
    assert reading is not None and reading.agrees, [c.detail for c in reading.checks if not c.passed]
    _assert_v1_numbers(reading.acta, definition, v1_rows)


@pytest.mark.parametrize(
    ("family", "seed", "why"),
    [
        # A 6-pixel motion smear, divided out.
        ("motion_blur", 16579261804413584003, "smear divided out"),
        # Válidos unreadable ("45", words lost in a fold): the lines' sum and votos minus
        # nulos both say 449.
        ("crumpled", 2844853089957690186, "válidos settled by both sums"),
        # The sheet's left edge cut: the last lines' party codes lose their first glyphs
        # ("75" of 1075, "2" of 1092) and must still place their rows.
        ("qr_cut", 8379827874914683420, "codes cut at the left edge"),
        # No view reads it whole: the plain one loses the first summary row (its totals
        # shift to 449, 0, 449), a sharpened one a ballot row; the plain view's table and
        # the sharpened view's totals fit each other.
        ("low_res", 1815932983868455045, "table of one view, totals of another"),
    ],
)
def test_degraded_qrless_acta_is_read_from_its_print(
    family: str,
    seed: int,
    why: str,
    definition: ElectionDefinition,
    v1_rows: dict[tuple[str, int], dict[str, str]],
) -> None:
    """The acta whose QR no tool reads, degraded: no QR, so its print alone must hold
    together, and its numbers are mesa 070704017.03's in V1."""
    name = "qr-unreadable-incomplete-1.jpg"
    img = degrade(_image(name), family, np.random.default_rng(seed))
    verdict = _decide(img, definition)
    assert verdict.status is Status.OK, (why, verdict.reason)
    _assert_v1_numbers(verdict.acta, definition, v1_rows)


def test_one_vote_forgery_on_a_smeared_sheet_is_caught(definition: ElectionDefinition) -> None:
    """Deblurring makes the smeared print readable: it must read the printed numbers, so
    one vote moved in the pasted QR is named, not explained away."""
    rng = np.random.default_rng(14956165955895335736)
    img, forged = tamper(_image("784821_715691_0137Acta0136.jpg"), definition, rng, votes_moved=1)
    img = degrade(img, "motion_blur", rng)
    verdict = _decide(img, definition)
    assert verdict.acta is not None and verdict.acta.votes == parse_payload(forged, definition).votes
    assert verdict.status is Status.REVIEW
    assert {c.name for c in verdict.checks if not c.passed} == {"qr_print_mismatch"}, verdict.reason


def test_tampered_sheet_is_caught(definition: ElectionDefinition) -> None:
    """A sticker QR with moved votes (every QR-only check passes) is stopped by the print."""
    name = "784821_007643_0134Acta0133.jpg"
    img, forged = tamper(_image(name), definition, np.random.default_rng(5))
    verdict = _decide(img, definition)
    assert verdict.acta is not None and verdict.acta.votes == parse_payload(forged, definition).votes
    assert verdict.status is Status.REVIEW
    failed = {c.name for c in verdict.checks if not c.passed}
    assert failed == {"qr_print_mismatch"}, verdict.reason


def test_words_settle_only_a_one_glyph_slip_towards_the_qr() -> None:
    notes: list[str] = []
    slip = Line("DDP", 6, 5, "6", "Cero, Cero, Cero, Cinco")
    assert _words_settle(slip, 5, notes).digits == 5 and notes  # the words spell the QR's 5
    # The print says 6 in both spellings: a QR saying 5 stays a mismatch.
    six = Line("DDP", 6, 6, "6", "Cero, Cero, Cero, Seis")
    assert _words_settle(six, 5, []).value == 6
    # More than one glyph off, or words not read: nothing is settled.
    assert _words_settle(Line("X", 66, 5, "66", "Cero, Cero, Cero, Cinco"), 5, []).value is None
    assert _words_settle(Line("X", 16, 15, "16", "Cero, Cero, Uno, Cinco"), 15, []).value == 15
    assert _words_settle(Line("X", 6, None, "6", "", words_read=False), 5, []).digits == 6
    # A thin leading "1" lost ("09" for 109) is one slip; no digit read at all is not.
    assert _words_settle(Line("MUD", 9, 109, "09", "Cero, Uno, Cero, Nueve"), 109, []).value == 109
    assert _words_settle(Line("X", None, 5, "", "Cero, Cero, Cero, Cinco"), 5, []).digits is None


@pytest.mark.parametrize(
    "name",
    ["784821_149098_0135Acta0134.jpg", "017911_018022_0093Acta0093.jpg", "784821_939966_0139Acta0138.jpg"],
)
def test_one_vote_forgery_on_a_blurred_sheet_is_caught(name: str, definition: ElectionDefinition) -> None:
    """The subtlest forgery (one vote moved: "16" printed, 15 in the QR) on a blurred sheet,
    where the print check accepts a QR count that explains an unsure reading: never ok."""
    rng = np.random.default_rng(11)
    img, forged = tamper(_image(name), definition, rng, votes_moved=1)
    img = degrade(img, "blur", rng)
    verdict = _decide(img, definition)
    assert verdict.status is Status.REVIEW, verdict.reason
    if verdict.acta is not None and verdict.acta.votes == parse_payload(forged, definition).votes:
        assert "qr_print_mismatch" in {c.name for c in verdict.checks if not c.passed}


def test_rows_out_of_place_on_a_print_only_acta_are_caught_by_their_codes(
    definition: ElectionDefinition, v1_rows: dict[tuple[str, int], dict[str, str]]
) -> None:
    """The QR-less acta turned by an angle of the generator's held-back part (issue 25's
    protocol found it): the plain view lost a row above line 33 and slid the next ones up,
    so 16 votes of UNTC went to AREPA. Every sum still held (moving votes between lines
    keeps them all) and it was counted: the one wrong number the bench ever saw. The rows'
    printed party codes ("450" on AREPA's line, 1094) now say they are out of place, and
    the views tried next read the sheet right (test_print_rules has the check by hand)."""
    name = "qr-unreadable-incomplete-1.jpg"
    img = degrade(_image(name), "rotate", np.random.default_rng(8579833818131455298), "held")
    verdict = _decide(img, definition)
    assert verdict.status is Status.OK, verdict.reason
    _assert_v1_numbers(verdict.acta, definition, v1_rows)
