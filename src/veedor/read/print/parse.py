"""Turn the recognised text of the printed acta into numbers, and check it against itself."""

from __future__ import annotations

import time
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any

import cv2
import numpy as np

from veedor.model import ActaCounts, CheckResult
from veedor.read.print import ocr
from veedor.read.print.align import Placement, assign_rows
from veedor.read.print.checks import lines_placed, print_checks
from veedor.read.print.header import read_header
from veedor.read.print.layout import Layout, NumericRow, upright_layout
from veedor.read.print.recognise import choice
from veedor.read.print.risk import digits_risk, needing_words
from veedor.read.print.rows import (
    PER_LINE,
    SQUEEZE,
    Line,
    RowRead,
    read_codes,
    read_digits,
    read_rows,
    slipped,
    words_look,
)
from veedor.read.print.summary import SUMMARY_KEYS, by_label, by_position, summary_rows
from veedor.read.print.sums import settle_by_sums
from veedor.read.print.vocabulary import current, using

if TYPE_CHECKING:
    from collections.abc import Sequence

    from veedor.definitions.schema import BallotPosition, ElectionDefinition

__all__ = ["Line", "PrintReading", "read_print"]

# Up to this many rows whose digits differ from the QR, with every other row equal to it
# in order, cannot be misplaced rows: their own party codes (read with their words) are
# enough, and the codes of the other rows are not read. Up to twice as many, when none of
# them reads a neighbouring line's count (``_maybe_shifted``).
FEW_DOUBTFUL = 3
SUMMARY_NEEDED = 4  # votos, válidos, parciales, nulos: the rows the QR comparison uses


@dataclass(frozen=True)
class PrintReading:
    acta: ActaCounts | None
    lines: tuple[Line | None, ...]  # one per ballot position (None: not found)
    summary: dict[str, Line]
    votantes: dict[str, Line]  # "maquina", "cuaderno"
    acta_id: str | None
    centre_printed: str | None
    electors: int | None
    checks: tuple[CheckResult, ...]
    engine: str
    ms: float
    notes: tuple[str, ...] = ()
    timings: dict[str, float] = field(default_factory=dict)

    @property
    def agrees(self) -> bool:
        return bool(self.checks) and all(c.passed for c in self.checks)

    @property
    def voters_machine(self) -> int | None:
        line = self.votantes.get("maquina")
        return line.value if line else None

    @property
    def voters_book(self) -> int | None:
        line = self.votantes.get("cuaderno")
        return line.value if line else None

    def as_dict(self) -> dict[str, Any]:
        return {
            "acta_id": self.acta_id,
            "centre_printed": self.centre_printed,
            "electors": self.electors,
            "lines": [None if ln is None else ln.__dict__ for ln in self.lines],
            "summary": {k: v.__dict__ for k, v in self.summary.items()},
            "votantes": {k: v.__dict__ for k, v in self.votantes.items()},
            "checks": [c.as_dict() for c in self.checks],
            "engine": self.engine,
            "ms": round(self.ms, 1),
            "agrees": self.agrees,
        }


def read_print(
    gray: np.ndarray, definition: ElectionDefinition, expect: ActaCounts | None = None
) -> PrintReading | None:
    """Read the printed acta in a grayscale image, with the definition's words, labels and id
    pattern (:mod:`.vocabulary`); None when no acta table is found (see :func:`_read_print`)."""
    with using(definition):
        return _read_print(gray, definition, expect)


def _read_print(
    gray: np.ndarray, definition: ElectionDefinition, expect: ActaCounts | None = None
) -> PrintReading | None:
    """Read the printed acta in a grayscale image; None when no acta table is found.

    With ``expect`` (the QR's numbers) only the digits are read first; the words are read,
    with every extra look, only for the rows whose digits differ from the QR, and for the
    summary when its sums do not hold. That keeps the common case (print and QR agree) to
    about a third of the recognition work, and still reads both spellings of every count
    that is in question.
    """
    start = time.perf_counter()
    if gray.ndim == 3:
        gray = cv2.cvtColor(gray, cv2.COLOR_BGR2GRAY)
    ballot = definition.ballot
    gray, layout = upright_layout(gray, len(ballot))
    t_layout = time.perf_counter()
    if not layout.found:
        return None
    rec = ocr.recogniser()
    scale = layout.scale
    quick = expect is not None
    kept: list[float] = []  # risks of the lines left to their digits (:mod:`.risk`)
    first, first_engine = ocr.first_look() if quick else (rec, "")
    if quick:
        assert expect is not None
        digits_engine = choice()["digits"]
        table_reads, placed = _first_digits(
            gray, layout, definition, expect, ((first, first_engine), (rec, digits_engine))
        )
        summary_reads = _summary_digits(
            gray, layout, summary_wanted(expect), ((first, first_engine), (rec, digits_engine))
        )
    else:
        table_reads, placed = read_rows(gray, layout.table, scale, rec, code=True), None
        summary_reads = read_rows(gray, layout.summary, scale, rec, code=False)
    lines, votantes, notes, used = placed or assign_rows(layout.table, table_reads, definition)
    if expect is not None:
        doubtful = _doubtful(lines, used, expect)
        if None in lines or (len(doubtful) > FEW_DOUBTFUL and _maybe_shifted(lines, doubtful, expect)):
            # Rows lost, extra or misplaced: every party code is needed to place them.
            read_codes(gray, layout.table, scale, rec, table_reads)
            lines, votantes, notes, used = assign_rows(layout.table, table_reads, definition)
            doubtful = _doubtful(lines, used, expect)
        reread: set[int] = set()
        # The re-read rows carry their party codes and are placed again; a row that then
        # moves into a doubtful place is re-read in a second round.
        for second in (False, True):
            doubtful = [(p, k) for p, k in doubtful if k not in reread]
            if not doubtful:
                break
            wants: list[int | None] = [
                expect.votes[p] if p < len(expect.votes) else None for p, _ in doubtful
            ]
            again = read_rows(
                gray, [layout.table[k] for _, k in doubtful], scale, rec, code=True, wants=wants
            )
            for (_, k), read in zip(doubtful, again, strict=True):
                table_reads[k] = read
                reread.add(k)
            placed = assign_rows(layout.table, table_reads, definition)
            if second and len(_doubtful(placed[0], placed[3], expect)) > len(doubtful):
                # The codes read in the second round moved rows out of place: keep the
                # first placement, with the rows' new readings.
                for p, k in used:
                    lines[p] = table_reads[k].line(ballot[p].acronym)
                break
            lines, votantes, notes, used = placed
            doubtful = _doubtful(lines, used, expect)
        # Lines whose digits equal the QR's but could be misreads of forged counts have their
        # words read too: only the words can then confirm them (:mod:`.risk`).
        risks = _line_risks(used, table_reads, expect)
        unsure = needing_words(risks)
        kept = [r for key, r in risks.items() if key not in unsure]
        _words_for(gray, layout, rec, table_reads, lines, sorted(unsure), expect, ballot)
    wanted = summary_wanted(expect) if expect is not None else None
    keys = by_position(len(summary_reads), _title_rows(summary_reads, wanted))
    summary = _summary(summary_reads, keys)
    if wanted is not None and _summary_off(summary_rows(summary_reads, keys), wanted):
        # Positions do not hold up: the printed labels say which row is which total.
        keys = by_label(gray, layout, layout.summary[: len(summary_reads)], rec) or keys
        summary = _summary(summary_reads, keys)
    elif wanted is None and not _totals_agree(summary, lines):
        labelled = by_label(gray, layout, layout.summary, rec)
        if labelled is not None and _totals_agree(by_labels := _summary(summary_reads, labelled), lines):
            keys, summary = labelled, by_labels
    if wanted is not None:
        row_of_key = {key: k for k, key in enumerate(keys) if key is not None}
        totals = {
            key: r
            for key, value in wanted.items()
            if key in row_of_key
            and key in summary
            and (r := _digits_risk(summary_reads[row_of_key[key]], value)) is not None
        }
        wordy = needing_words(totals, kept)
        redo = [
            row_of_key[key]
            for key, value in wanted.items()
            if key in row_of_key and (key not in summary or summary[key].digits != value or key in wordy)
        ]
        if redo:
            want_of = {row_of_key[key]: value for key, value in wanted.items() if key in row_of_key}
            # Totals read as the QR's but too likely a misread to stand on their digits: their
            # words first, one look by the acta's recogniser, as for the table's lines.
            agreeing = [k for k in redo if want_of[k] in summary_reads[k].digits]
            _confirm_words(gray, layout.summary, scale, rec, summary_reads, agreeing, want_of)
            differing = [k for k in redo if k not in agreeing]
            again = read_rows(
                gray,
                [layout.summary[k] for k in differing],
                scale,
                rec,
                code=False,
                wants=[want_of[k] for k in differing],
            )
            for k, read in zip(differing, again, strict=True):
                summary_reads[k] = read
            summary = _summary(summary_reads, keys)
        if expect is not None and not _totals_confirmed(summary, wanted):
            # The QR is compared line by line; its sums are not (a misplaced or misread total
            # would leave good actas to people). While the printed válidos and votos do not
            # read as the QR's sums, a QR that adds votes to one line needs only that line
            # misread: every line left to its digits must then stand alone (:mod:`.risk`).
            alone = sorted(needing_words(_line_risks(used, table_reads, expect), kept=[1.0]))
            _words_for(gray, layout, rec, table_reads, lines, alone, expect, ballot)
    if len(summary) != len(SUMMARY_KEYS) and (expect is None or len(summary) < SUMMARY_NEEDED):
        notes.append(f"resumen: {len(summary)} de {len(SUMMARY_KEYS)} filas / summary rows")
    if expect is not None:
        row_of = dict(used)
        lines = [
            ln
            if ln is None or p >= len(expect.votes)
            else _settle(ln, table_reads[row_of[p]] if p in row_of else None, expect.votes[p], notes)
            for p, ln in enumerate(lines)
        ]
        assert wanted is not None
        summary_row = summary_rows(summary_reads, keys)
        summary = {
            k: _settle(v, summary_row.get(k), wanted[k], notes) if k in wanted else v
            for k, v in summary.items()
        }
    lines, summary = settle_by_sums(
        lines,
        {p: table_reads[k] for p, k in used},
        summary,
        summary_rows(summary_reads, keys),
        notes,
    )
    t_rows = time.perf_counter()
    acta_id, centre, electors = read_header(
        gray,
        layout,
        layout.table[0].band,
        rec,
        expect.acta_id if expect is not None else None,
        first if first is not rec else None,
    )
    t_header = time.perf_counter()
    acta, checks = print_reading_checks(
        lines, summary, acta_id, centre, len(ballot), expect, layout.tables, [b.party_code for b in ballot]
    )
    return PrintReading(
        acta=acta,
        lines=tuple(lines),
        summary=summary,
        votantes=votantes,
        acta_id=acta_id,
        centre_printed=centre,
        electors=electors,
        checks=tuple(checks),
        engine=rec.name
        if first is rec
        else f"{rec.name}; first look at the digits: {ocr.engine_name(first_engine)}",
        ms=(time.perf_counter() - start) * 1000,
        notes=tuple(notes),
        timings={
            "layout": (t_layout - start) * 1000,
            "rows": (t_rows - t_layout) * 1000,
            "header": (t_header - t_rows) * 1000,
        },
    )


def print_reading_checks(
    lines: list[Line | None],
    summary: dict[str, Line],
    acta_id: str | None,
    centre: str | None,
    positions: int,
    expect: ActaCounts | None,
    tables: int,
    codes: Sequence[int | None] = (),
) -> tuple[ActaCounts, list[CheckResult]]:
    """The acta a reading gives and the print's checks on it; without a QR, and where the
    form prints party codes (``codes``, one per position), each line with votes must sit on
    its party's code (:func:`~veedor.read.print.checks.lines_placed`)."""
    checks = print_checks(lines, summary, acta_id, centre, positions)
    if expect is None and any(code is not None for code in codes):
        checks.append(lines_placed(lines, codes))
    if expect is not None and centre is None and acta_id == expect.acta_id:
        checks = [_id_equals_qr(acta_id) if c.name == "print_header" else c for c in checks]
    if tables > 1:
        # Never merge two actas: read the clearer one, and say that the image holds more.
        checks.append(
            CheckResult(
                "print_single_acta",
                False,
                f"{tables} actas en una imagen: fotografiar cada una por separado / "
                f"{tables} actas in one image: photograph each one separately",
            )
        )
    return _acta(acta_id, centre, lines, summary), checks


def _settle(line: Line, read: RowRead | None, want: int, notes: list[str]) -> Line:
    """With the QR known: a line whose readings stay unsure agrees when its words spell
    the QR's count (``_words_settle``) or when that count explains both spellings about
    as well as the recogniser's best readings (``RowRead.confirms``)."""
    line = _words_settle(line, want, notes, read)
    if line.value == want or read is None or not read.confirms(want):
        return line
    notes.append(
        f"{line.label}: cifras {line.digits_text!r} y letras {line.words_text!r} explicadas por "
        f"{want} / both spellings explained by the QR's count"
    )
    return replace(line, digits=want, words=want, words_read=True, inferred="qr")


def _words_settle(line: Line, want: int, notes: list[str], read: RowRead | None = None) -> Line:
    """A line whose words spell exactly the QR's count (each word clear, or a thousand
    times likelier than any other number word) agrees with the QR when its digits read
    one glyph off ("6" for a thin "5": the recogniser's commonest slip on thermal print,
    on 9 of the 22 clean real actas; or a thin "1" lost: "09" for 109), or, given the
    row's ``read``, when no two looks at the digits insist on another number (digits
    unreadable, or a digits window misplaced in a photo). The words are the print's own
    second spelling of the count, read independently: across 237 forged lines of the
    bench the forged word never came within a factor of 2 of the printed one. Only with
    the QR known; a printed "6" whose words say "Seis" still differs from a QR that says 5."""
    if not (line.words_read and line.words == want and line.digits != want):
        return line
    if slipped(line.digits_text, want) or slipped("" if line.digits is None else str(line.digits), want):
        notes.append(
            f"{line.label}: cifras {line.digits_text!r} leídas {want} por las letras "
            f"{line.words_text!r} / digits misread, the words spell the QR's count"
        )
        return replace(line, digits=want)
    if read is not None and not read.digits_insist(want):
        notes.append(
            f"{line.label}: letras {line.words_text!r} = {want}, cifras {line.digits_text!r} "
            "ilegibles / the words spell the QR's count, the digits are unreadable"
        )
        return replace(line, digits=want)
    return line


def _first_digits(
    gray: np.ndarray,
    layout: Layout,
    definition: ElectionDefinition,
    expect: ActaCounts,
    looks: tuple[tuple[ocr.Recogniser, str], ...],
) -> tuple[list[RowRead], Placement | None]:
    """The digits of every table row, read by the first of ``looks`` (recogniser, engine);
    each line image (``PER_LINE`` rows side by side, as :func:`.rows.read_digits` lays them)
    that holds a row not read as the QR's count is read again by the next, the same way. By
    default the acta's own recogniser looks first (~0.3 ms a number, PP-OCR ~6.5) and PP-OCR
    reads only the line images it doubts: a row it reads is exactly what PP-OCR's first
    look gave before. Each row keeps the engine of its reading, whose measured confusions
    weigh it (:mod:`.risk`). Also the rows' placement on the ballot when it was made for
    the reads returned (:func:`.align.assign_rows`), else None."""
    rows, scale = layout.table, layout.scale
    recogniser, engine = looks[0]
    reads = read_digits(gray, rows, scale, recogniser, engine=engine)
    for recogniser, engine in looks[1:]:
        if recogniser is looks[0][0]:
            break
        placed = assign_rows(rows, reads, definition)
        lines, _, _, used = placed
        # Rows lost or extra: every row again; else the rows not read as the QR's.
        again = set(range(len(rows))) if None in lines else {k for _, k in _doubtful(lines, used, expect)}
        groups = sorted({k // PER_LINE for k in again})
        if not groups:
            return reads, placed
        redo = [k for g in groups for k in range(g * PER_LINE, min(len(rows), (g + 1) * PER_LINE))]
        fresh = read_digits(
            gray, tuple(rows[k] for k in redo), scale, recogniser, codes=groups[0] == 0, engine=engine
        )
        for k, read in zip(redo, fresh, strict=True):
            if not read.code_text:
                read.code_text = reads[k].code_text
            reads[k] = read
    return reads, None


def _summary_digits(
    gray: np.ndarray,
    layout: Layout,
    wanted: dict[str, int],
    looks: tuple[tuple[ocr.Recogniser, str], ...],
) -> list[RowRead]:
    """The digits of the summary's first rows (votos, válidos and nulos, a title row or two
    before them), read by the first of ``looks`` as the table's rows are (the same squeeze,
    so that its measured confusions weigh them), and all again by the next when any total
    the QR implies is not read as such. PP-OCR reads them less squeezed: its "5" squeezed
    reads "6"."""
    rows = layout.summary[: SUMMARY_NEEDED + 2]
    reads: list[RowRead] = []
    for k, (recogniser, engine) in enumerate(looks):
        if k and recogniser is looks[0][0]:
            break
        squeeze = SQUEEZE if engine == "acta" else 0.8
        reads = read_digits(gray, rows, layout.scale, recogniser, codes=False, squeeze=squeeze, engine=engine)
        keys = by_position(len(reads), _title_rows(reads, wanted))
        read = summary_rows(reads, keys)
        if all(key in read and value in read[key].digits for key, value in wanted.items()):
            break
    return reads


def _line_risks(
    used: list[tuple[int, int]], reads: list[RowRead], expect: ActaCounts
) -> dict[tuple[int, int], float]:
    """(position, row) → the risk of the lines read only in digits, as the QR's count."""
    return {
        (p, k): r
        for p, k in used
        if p < len(expect.votes) and (r := _digits_risk(reads[k], expect.votes[p])) is not None
    }


def _totals_confirmed(summary: dict[str, Line], wanted: dict[str, int]) -> bool:
    return all(key in summary and summary[key].value == wanted[key] for key in ("validos", "votos"))


def _words_for(
    gray: np.ndarray,
    layout: Layout,
    rec: ocr.Recogniser,
    reads: list[RowRead],
    lines: list[Line | None],
    rows: list[tuple[int, int]],
    expect: ActaCounts,
    ballot: tuple[BallotPosition, ...],
) -> None:
    """Read the words of these (position, row) lines of the table, in place
    (:func:`_confirm_words`)."""
    _confirm_words(
        gray,
        layout.table,
        layout.scale,
        rec,
        reads,
        [k for _, k in rows],
        {k: expect.votes[p] for p, k in rows},
    )
    for p, k in rows:
        lines[p] = reads[k].line(ballot[p].acronym)


def _confirm_words(
    gray: np.ndarray,
    table: tuple[NumericRow, ...],
    scale: float,
    rec: ocr.Recogniser,
    reads: list[RowRead],
    rows: list[int],
    wants: dict[int, int],
) -> None:
    """Read the words of these rows (indices into ``table`` and ``reads``), in place. First
    one look by the acta's own recogniser (~1 ms a row, PP-OCR ~38 ms): rows whose words
    spell the QR's count (``wants``; each word clear, or a thousand times likelier than any
    other number word, as :meth:`.rows.RowRead.line` takes them) are confirmed; only the
    others are read again with every look."""
    fast = _fast_words(gray, [table[k] for k in rows], scale)
    for k, texts in zip(rows, fast, strict=False):
        reads[k].add([reads[k].digit_looks[0], *texts], code=False)
    rows = [k for k in rows if reads[k].words_value(True) != wants[k]]
    if not rows:
        return
    again = read_rows(gray, [table[k] for k in rows], scale, rec, code=False, wants=[wants[k] for k in rows])
    for k, read in zip(rows, again, strict=True):
        reads[k] = read


def _fast_words(gray: np.ndarray, rows: list[NumericRow], scale: float) -> list[list[ocr.Text]]:
    """One look at the rows' words by ``acta-rec`` (none when its model cannot run; a row
    without words gets no text)."""
    from veedor.read.print.recognise import acta_recogniser

    try:
        rec = acta_recogniser()
    except ocr.EngineUnavailable:
        return []
    return words_look(gray, rows, scale, rec)


def _digits_risk(read: RowRead, want: int) -> float | None:
    """For a row read only in digits (a first look: a row read again has its words read
    too), as the QR's ``want``: the risk of confirming it by them, from the confusions of
    the engine that read them (:func:`.risk.digits_risk`); None for any other row."""
    if any(read.looks) or want not in read.digits:
        return None
    return digits_risk(want, min(t.confidence for t in read.digit_looks), read.engine)


def _id_equals_qr(acta_id: str) -> CheckResult:
    return CheckResult(
        "print_header",
        True,
        f"acta {acta_id} impresa igual al QR; línea del centro no leída / "
        "printed acta id equals the QR's; centre line not read",
    )


def _maybe_shifted(lines: list[Line | None], doubtful: list[tuple[int, int]], expect: ActaCounts) -> bool:
    """Whether the doubtful rows could be rows placed one line off: many of them, or one
    that reads a neighbouring line's count. A few digits misread in place ("6" for a
    thin "5") do not need every row's party code read (a third of a clean scan's time)."""
    if len(doubtful) > 2 * FEW_DOUBTFUL:
        return True
    votes = expect.votes
    for p, _ in doubtful:
        digits = getattr(lines[p], "digits", None)
        if digits is not None and digits in (
            votes[p - 1] if p > 0 else None,
            votes[p + 1] if p + 1 < len(votes) else None,
        ):
            return True
    return False


def _doubtful(
    lines: list[Line | None], used: list[tuple[int, int]], expect: ActaCounts
) -> list[tuple[int, int]]:
    """(position, row) pairs whose digits do not equal the QR's count."""
    return [
        (p, k)
        for p, k in used
        if p >= len(expect.votes) or getattr(lines[p], "digits", None) != expect.votes[p]
    ]


def _title_rows(reads: list[RowRead], wanted: dict[str, int] | None = None) -> int:
    """Leading rows with neither digits nor words: a title line ("Resumen de votos").

    With the QR's totals known, the title may have lent a stray digit to the NRO. column
    ("de" read "2"): the first row is then skipped when that makes more of votos,
    válidos and nulos read as the QR says. Only where the table starts is chosen this
    way; every number must still equal the QR's to agree.
    """
    skip = 0
    while skip < len(reads) and not reads[skip].digits and reads[skip].words_value(False) is None:
        skip += 1
    if wanted is None:
        return skip

    def matches(start: int) -> int:
        rows = dict(zip(SUMMARY_KEYS, reads[start:], strict=False))
        return sum(1 for key, value in wanted.items() if key in rows and value in rows[key].digits)

    return max((skip, skip + 1), key=matches)


def _summary(reads: list[RowRead], keys: list[str | None]) -> dict[str, Line]:
    return {key: read.line(key) for key, read in summary_rows(reads, keys).items()}


def _totals_agree(summary: dict[str, Line], lines: list[Line | None]) -> bool:
    """Whether votos, válidos and nulos add up, and válidos is the lines' sum when every
    line is read (a lost row shifts totals that still add up: 449, 0, 449)."""
    values = [summary[k].value if k in summary else None for k in ("votos", "validos", "nulos")]
    votos, validos, nulos = values
    if votos is None or validos is None or nulos is None or validos + nulos != votos:
        return False
    counts = [ln.value if ln is not None else None for ln in lines]
    return None in counts or sum(c for c in counts if c is not None) == validos


def _summary_off(rows: dict[str, RowRead], wanted: dict[str, int]) -> bool:
    """Whether some total the QR comparison needs is not where the positions put it: its
    row does not read it, not even one glyph off ("618" for 518 is read again, with its
    words, in place; reading the labels costs a fifth of a clean scan's time). Any one
    digit is one glyph off any other: a one-digit total must read exactly."""

    def in_place(read: RowRead, value: int) -> bool:
        return value in read.digits or (
            value >= 10 and any(slipped(look.text, value) for look in read.digit_looks)
        )

    return any(key not in rows or not in_place(rows[key], value) for key, value in wanted.items())


def summary_wanted(expect: ActaCounts) -> dict[str, int]:
    valid = sum(expect.votes)
    return {"votos": valid + expect.nulos, "validos": valid, "nulos": expect.nulos}


def _acta(
    acta_id: str | None, centre: str | None, lines: list[Line | None], summary: dict[str, Line]
) -> ActaCounts:
    m = current().acta_id.fullmatch(acta_id or "")
    votes = tuple(-1 if ln is None or ln.value is None else ln.value for ln in lines)
    nulos_line = summary.get("nulos")
    nulos = -1 if nulos_line is None or nulos_line.value is None else nulos_line.value
    return ActaCounts(
        acta_id=acta_id or "",
        centre=m["centre"] if m else (centre or ""),
        mesa=int(m["mesa"]) if m else 0,
        votes=votes,
        nulos=nulos,
    )
