"""Reading the table rows: crops, extra looks, and what the looks add up to."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field

import cv2
import numpy as np

from veedor.read.print import lexicon, ocr
from veedor.read.print.layout import Box, NumericRow
from veedor.read.print.vocabulary import current
from veedor.read.print.words import from_words, to_words, word_digit, words_per_count

_WORDS = re.compile(r"[A-ZÁÉÍÓÚ][a-záéíóúñ]*|[a-záéíóúñ]+")


@dataclass(frozen=True)
class Line:
    """One printed count: what the digits and the words say, and the value kept."""

    label: str  # ballot acronym, "votantes_maquina", or a summary key
    digits: int | None
    words: int | None
    digits_text: str
    words_text: str
    code_text: str = ""
    words_read: bool = True  # False: only the digits were read (they matched the QR)
    # How a count that was not read outright was settled: "qr" (the QR's count explains
    # both unsure spellings) or "sums" (the acta's sums leave one value); "" when read.
    inferred: str = ""

    @property
    def agrees(self) -> bool:
        return self.digits is not None and self.digits == self.words

    @property
    def value(self) -> int | None:
        """The count when digits and words agree (or only digits were read); when they
        disagree, None: the print itself is then in doubt."""
        if self.agrees or not self.words_read:
            return self.digits
        return self.words if self.digits is None else None


def crop(gray: np.ndarray, box: Box, scale: float, pad_x: float = 0.3, pad_y: float = 0.2) -> np.ndarray:
    px, py = int(pad_x * scale), int(pad_y * scale)
    h, w = gray.shape[:2]
    return gray[max(0, box.y0 - py) : min(h, box.y1 + py), max(0, box.x0 - px) : min(w, box.x1 + px)]


def as_int(text: str) -> int | None:
    text = text.replace(" ", "")
    return int(text) if text.isdigit() and len(text) <= 5 else None


def digits_piece(
    gray: np.ndarray,
    row: NumericRow,
    scale: float,
    squeeze: float = 1.0,
    pad: tuple[float, float] = (0.25, 0.1),
) -> ocr.Piece:
    # The glyphs themselves when they were found: the column window may hold a smudge.
    if row.tight is not None:
        return ocr.Piece(crop(gray, row.tight, scale, *pad), ocr.DIGITS, squeeze)
    return ocr.Piece(crop(gray, row.digits, scale, pad_x=0.0), ocr.DIGITS, squeeze)


def row_pieces(
    gray: np.ndarray, row: NumericRow, scale: float, code: bool, words: bool = True
) -> list[ocr.Piece]:
    pieces = []
    if code:
        box = (
            row.code
            if row.code is not None
            else Box(row.digits.x0 - int(3 * scale), row.digits.y0, row.digits.x0, row.digits.y1)
        )
        pieces.append(ocr.Piece(crop(gray, box, scale), ocr.DIGITS))
    pieces.append(digits_piece(gray, row, scale))
    if words:
        pieces += [ocr.Piece(crop(gray, w, scale, pad_x=0.0), current().word_chars) for w in row.words]
    return pieces


def words_look(
    gray: np.ndarray, rows: list[NumericRow], scale: float, rec: ocr.Recogniser
) -> list[list[ocr.Text]]:
    """One look at each row's count in words (its pieces, when the words wrap)."""
    return rec.read(
        [
            [ocr.Piece(crop(gray, w, scale, pad_x=0.0), current().word_chars) for w in row.words]
            for row in rows
        ]
    )


Variant = Callable[[np.ndarray, float], np.ndarray]
MANY_OPEN = 8  # unsettled rows past which, with the QR known, filtered looks are skipped


def _close(gray: np.ndarray, scale: float) -> np.ndarray:
    # Erases dark hairlines (stamp outlines) thinner than the print's strokes.
    size = max(3, round(scale / 8)) | 1
    return cv2.morphologyEx(gray, cv2.MORPH_CLOSE, np.ones((size, size), np.uint8))


def _soften(gray: np.ndarray, _scale: float) -> np.ndarray:
    # Halving and restoring the resolution smooths speckle and JPEG blocks.
    h, w = gray.shape[:2]
    small = cv2.resize(gray, (w // 2, h // 2), interpolation=cv2.INTER_AREA)
    return cv2.resize(small, (w, h), interpolation=cv2.INTER_LINEAR)


def _blur(gray: np.ndarray, _scale: float) -> np.ndarray:
    return cv2.GaussianBlur(gray, (5, 5), 0)


# Extra looks for rows whose digits and words disagree, most useful first.
VARIANTS: tuple[tuple[str, Variant], ...] = (("close", _close), ("soften", _soften), ("blur", _blur))


@dataclass
class RowRead:
    """Everything read for one row, over the looks taken so far."""

    code_text: str = ""
    digits_text: str = ""
    words_text: str = ""
    digits: list[int] = field(default_factory=list)  # one per look, when readable
    looks: list[list[ocr.Text]] = field(default_factory=list)  # the words pieces of each look
    digit_looks: list[ocr.Text] = field(default_factory=list)  # the digits piece of each look
    engine: str = ""  # the engine of a digits-only first look (whose confusions weigh it)

    def add(self, texts: list[ocr.Text], code: bool) -> None:
        rest = texts[1:] if code else texts
        if len(rest) == 1:  # digits only
            if not self.digits_text:
                self.digits_text = rest[0].text
            if code and as_int(self.code_text) is None:
                self.code_text = texts[0].text
            if (digits := as_int(rest[0].text)) is not None:
                self.digits.append(digits)
            self.digit_looks.append(rest[0])
            return
        if len(rest) > 2 and len(_WORDS.findall(rest[1].text)) >= words_per_count():
            rest = rest[:2]  # four words on the row itself: the "wrapped" line is a stray mark
        if code and as_int(self.code_text) is None:
            self.code_text = texts[0].text
        if not self.digits_text or as_int(self.digits_text) is None:
            self.digits_text = rest[0].text
        if not self.words_text or from_words(self.words_text) is None:
            self.words_text = " ".join(t.text for t in rest[1:])
        digits = as_int(rest[0].text)
        if digits is not None:
            self.digits.append(digits)
        self.digit_looks.append(rest[0])
        self.looks.append(rest[1:])

    def words_value(self, scored: bool) -> int | None:
        """The count the words spell: each word from its clear spellings, or (``scored``)
        from the likelihood of each number word; two looks that disagree on a word leave
        it unknown."""
        slots = self._word_slots(scored)
        if any(len(slot) != 1 for slot in slots):
            return None
        return int("".join(str(next(iter(slot))) for slot in slots))

    def padded_by_digits(self) -> int | None:
        """The digits' count when the words spell its significant digits and only its
        leading zeros are unsure: "16" with "C?ro, aro, Uno, Seis". The digits say how
        many words are "Cero"; each unsure one must still be likeliest "Cero".

        A lost leading digit ("16" for 116, the "Uno" unsure) would pass here, so a
        count taken this way is never settled by itself: it goes on to the checks
        (with the QR, equal to the QR's count; without, lines summing to válidos)."""
        slots = self._word_slots(True)
        width = words_per_count()
        for value in dict.fromkeys(self.digits):
            spelt = str(value).zfill(width)
            if len(spelt) > width:
                continue
            lead = width - len(str(value))
            unsure = [k for k, slot in enumerate(slots) if len(slot) != 1]
            if not unsure or any(k >= lead or slots[k] for k in unsure):
                continue
            if any(next(iter(slots[k])) != int(spelt[k]) for k in range(width) if k not in unsure):
                continue
            if all(self._likeliest(k) == 0 for k in unsure):
                return value
        return None

    def _likeliest(self, k: int) -> int | None:
        """The number word likeliest at word ``k`` in every look that has four words."""
        found = {
            lexicon.word_digits(look[0], margin=0.0)[k]
            for look in self.looks
            if len(look) == 1 and look[0].probs is not None
        }
        return next(iter(found)) if len(found) == 1 else None

    def _word_slots(self, scored: bool) -> list[set[int]]:
        slots: list[set[int]] = [set() for _ in range(words_per_count())]
        for look in self.looks:
            for k, d in enumerate(_spelled(look)):
                if d is not None:
                    slots[k].add(d)
        if scored and any(not slot for slot in slots):
            found: list[set[int]] = [set() for _ in range(words_per_count())]
            for look in self.looks:
                if len(look) == 1:
                    for k, d in enumerate(lexicon.word_digits(look[0])):
                        if d is not None:
                            found[k].add(d)
            slots = [slot or extra for slot, extra in zip(slots, found, strict=True)]
        return slots

    def settled(self, scored: bool = False) -> bool:
        value = self.words_value(scored)
        if value is None:
            return False
        if value in self.digits:
            return True
        # A stroke over one digit ("449" read "44"): ask whether the digits image explains
        # the words' number about as well as the recogniser's own best reading.
        return scored and any(lexicon.explains(t, str(value)) for t in self.digit_looks)

    def digits_insist(self, want: int) -> bool:
        """Whether every look (two at least) read the digits as one same other number."""
        return want not in self.digits and len(self.digits) > 1 and len(set(self.digits)) == 1

    def confirms(self, want: int) -> bool:
        """Whether the QR's count ``want`` explains both printed spellings of this row, the
        digits and the words, about as well as the recogniser's own best readings, while
        no clear spelling says another count.

        Used only with the QR known, for rows whose greedy readings stay unsure (blur, a
        faded glyph). A forged count would have to explain two independent images of a
        different number, "16" and "Cero, Cero, Uno, Seis", within a factor of twenty.
        """
        if not self.digit_looks or not any(len(look) == 1 for look in self.looks):
            return False
        clear = self.words_value(False)
        if clear is not None and clear != want:
            return False
        if self.digits_insist(want):
            return False
        digits_ok = any(lexicon.explains(t, str(want)) for t in self.digit_looks)
        words_ok = any(len(look) == 1 and lexicon.explains(look[0], to_words(want)) for look in self.looks)
        return digits_ok and words_ok

    def line(self, label: str) -> Line:
        words_read = any(self.looks)
        value = self.words_value(scored=True) if words_read else None
        padded = self.padded_by_digits() if words_read and value is None else None
        digits: int | None
        if padded is not None:
            value = digits = padded  # read in the digits themselves, by construction
        else:
            digits = value if self.settled(True) else (self.digits[0] if self.digits else None)
        return Line(label, digits, value, self.digits_text, self.words_text, self.code_text, words_read)


def one_slip(a: str, b: str) -> bool:
    """One glyph misread, lost or added ("6" for "5", "09" for "109")."""
    if len(a) == len(b):
        return sum(x != y for x, y in zip(a, b, strict=True)) == 1
    short, long = sorted((a, b), key=len)
    return len(long) - len(short) == 1 and any(long[:i] + long[i + 1 :] == short for i in range(len(long)))


def slipped(text: str, want: int) -> bool:
    """Digits read (at least one) equal to ``want`` or one glyph off it."""
    raw = text.replace(" ", "")
    return raw.isdigit() and (raw == str(want) or one_slip(raw, str(want)))


def _words_give(read: RowRead, want: int | None) -> bool:
    value = read.words_value(False)
    return want is not None and value == want and any(slipped(t.text, want) for t in read.digit_looks)


def _spelled(texts: list[ocr.Text]) -> list[int | None]:
    words = _WORDS.findall(" ".join(t.text for t in texts))
    if len(words) != words_per_count():
        return [None] * words_per_count()
    return [word_digit(w) for w in words]


SQUEEZE = 0.5  # digits stay legible to the recogniser at half width (measured on the samples)
# The white gap between pieces already separates the numbers of a digits line: a wide
# margin around each number only adds columns to recognise (the cost is per column).
TIGHT_PAD = (0.1, 0.1)
PER_LINE = 5  # rows' digits side by side on one line image


def read_digits(
    gray: np.ndarray,
    rows: tuple[NumericRow, ...],
    scale: float,
    rec: ocr.Recogniser,
    codes: bool = True,
    per_line: int = PER_LINE,
    squeeze: float = SQUEEZE,
    engine: str = "",
) -> list[RowRead]:
    """Digits only, several rows' numbers side by side on one line image (the neighbours
    give the recogniser the context a lone "0" lacks), plus the party code of the first
    and last few rows so that the rows can still be placed on the ballot. ``engine``: the
    engine's name, kept on each row (:attr:`RowRead.engine`)."""
    pieces = []
    for row in rows:
        pieces.append(digits_piece(gray, row, scale, squeeze, TIGHT_PAD))
    lines = [pieces[i : i + per_line] for i in range(0, len(pieces), per_line)]
    texts = [t for line in rec.read(lines) for t in line]
    ends = set(range(min(4, len(rows))))  # enough to find where the ballot starts
    coded = [(k, box) for k in sorted(ends) if codes and (box := rows[k].code) is not None]
    read_codes = rec.read([[ocr.Piece(crop(gray, box, scale), ocr.DIGITS, SQUEEZE)] for _, box in coded])
    code_text = {k: c[0] for (k, _), c in zip(coded, read_codes, strict=True)}
    reads = []
    for k, t in enumerate(texts):
        read = RowRead(engine=engine)
        read.add([code_text.get(k, ocr.Text("", 0.0)), t], code=True)
        reads.append(read)
    return reads


def read_codes(
    gray: np.ndarray, rows: tuple[NumericRow, ...], scale: float, rec: ocr.Recogniser, reads: list[RowRead]
) -> None:
    """Read the party codes not read yet, in place."""
    todo = [(k, box) for k, r in enumerate(reads) if not r.code_text and (box := rows[k].code)]
    texts = rec.read([[ocr.Piece(crop(gray, box, scale), ocr.DIGITS, SQUEEZE)] for _, box in todo])
    for (k, _), t in zip(todo, texts, strict=True):
        reads[k].code_text = t[0].text


def read_rows(
    gray: np.ndarray,
    rows: tuple[NumericRow, ...] | list[NumericRow],
    scale: float,
    rec: ocr.Recogniser,
    code: bool,
    words: bool = True,
    wants: list[int | None] | None = None,
) -> list[RowRead]:
    """Read every row; rows whose digits and words disagree get more looks through
    filters (hairline removal, smoothing). A row settles only when a look's digits equal
    the words, and a word that two looks spell differently never settles.

    ``wants`` (the QR's counts, when known) also settles a row whose words spell that
    count clearly while its digits read one glyph off: more looks would not change the
    outcome (see ``parse._words_settle``)."""
    reads = [RowRead() for _ in rows]

    def open_rows() -> list[int]:
        return [
            k
            for k, r in enumerate(reads)
            if not r.settled() and not (wants is not None and _words_give(r, wants[k]))
        ]

    first = rec.read([row_pieces(gray, row, scale, code, words) for row in rows])
    for read, texts in zip(reads, first, strict=True):
        read.add(texts, code)
    if not words:
        return reads
    # Next look: the digits alone (a neighbour's words can sway how a lone digit reads).
    for pad_x, pad_y in ((0.5, 0.25), (1.0, 0.4)):
        retry = open_rows()
        alone = rec.read([[digits_piece(gray, rows[k], scale, pad=(pad_x, pad_y))] for k in retry])
        for k, texts in zip(retry, alone, strict=True):
            reads[k].add([ocr.Text("", 0.0), *texts] if code else texts, code)
    for _name, variant in VARIANTS:
        retry = open_rows()
        if not retry or (wants is not None and len(retry) > MANY_OPEN):
            # With the QR known, a sheet with this many unsettled rows almost always goes
            # to a person whatever the filters find: not worth seconds of recognition.
            break
        changed = variant(gray, scale)
        again = rec.read([row_pieces(changed, rows[k], scale, code) for k in retry])
        for k, texts in zip(retry, again, strict=True):
            reads[k].add(texts, code)
    return reads
