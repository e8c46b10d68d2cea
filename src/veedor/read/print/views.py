"""The print reader's views of one image (``thermal-receipt``): plain, deblurred, straightened,
retouched, until one reading holds together or agrees with the QR; combined when none does.

Moved here from ``pipeline/worker.py``: choosing views is part of reading a sheet, and a
definition names its reader (:mod:`veedor.read.readers`)."""

from __future__ import annotations

import itertools
import json
import time
from collections.abc import Iterator

import numpy as np

from veedor.definitions import ElectionDefinition
from veedor.model import ActaCounts, Reading
from veedor.read.deblur import Focus, Streak, deblurred, smear
from veedor.read.print import PrintReading, read_print
from veedor.read.print.combine import combine, combine_print
from veedor.read.print.geometry import ballot_rows
from veedor.read.print.layout import Box
from veedor.read.print.ocr import recogniser
from veedor.read.print.vocabulary import using
from veedor.read.readers import SheetReader
from veedor.read.variants import retouched_views

# Every view is read until one holds (at most 4 views and 5 retouches), so an image with
# its QR gives the same reading on any machine, busy or idle: a time budget cut a dark
# photo's last retouch under load (bench 16). Only a hopeless photo reaches this safety
# limit, after which no view starts; without a QR, where one blind reading takes ~5 s,
# it still bounds the views of a poor photo.
SAFETY_S = 30.0
PRINT_ONLY_SAFETY_S = 36.0


# Lines a reading of grain matches the QR's on by chance (most counts are 0 or 1): a
# dark scan read 0 such lines plain and 1 or 3 straightened, and only the plain image's
# smoothed views read it (bench 18).
CHANCE_LINES = 4


def _lines_as_qr(reading: PrintReading, qr_acta: ActaCounts) -> int:
    return sum(
        1 for line, want in zip(reading.lines, qr_acta.votes, strict=False) if line and line.value == want
    )


def _shape_and_blur(gray: np.ndarray) -> tuple[bool, Focus | Streak | None]:
    from veedor.read.rectify import SCAN_ASPECT

    h, w = gray.shape[:2]
    scan_shaped = h >= SCAN_ASPECT * w  # a receipt scan is ~10:1; a phone frame is 4:3
    # A blurred scan is read first with the blur divided out: on the reading bench that
    # view read 7 of 8 legible motion-smeared ones at once, the plain view 4, and slower.
    # (A phone frame is straightened first; its views are deblurred when retouched.)
    return scan_shaped, smear(gray) if scan_shaped else None


def _candidates(
    gray: np.ndarray, scan_shaped: bool, blur: Focus | Streak | None
) -> Iterator[tuple[str | None, np.ndarray]]:
    """The views read in turn, before any retouch (see :func:`read_print_views`)."""
    from veedor.read.rectify import upright_views

    if blur is not None:
        yield blur.name, deblurred(gray, blur)
    if scan_shaped:
        yield None, gray
    yield from ((f"rectified:{name}", view) for name, view in upright_views(gray, limit=2))
    if not scan_shaped:
        yield None, gray


def first_view(gray: np.ndarray) -> np.ndarray:
    """The view the reader reads first: what its recogniser's measured confusions are
    measured on (``training/recogniser/confusions.py``)."""
    return next(_candidates(gray, *_shape_and_blur(gray)))[1]


def read_print_views(
    gray: np.ndarray, definition: ElectionDefinition, qr_acta: ActaCounts | None, cross_check: bool
) -> tuple[PrintReading | None, Reading | None]:
    """The print is read for every acta (cross-check), and is the only witness when the QR is lost.

    A phone photo (small, tilted, sideways, upside down, in perspective) is read on
    upright, flattened views of its receipt (:mod:`veedor.read.rectify`): first when the
    image is not receipt-shaped (a phone frame), else only when the plain image gives no
    reading that holds together. Views change only geometry and light: their numbers
    still face every check. A fixed list of views, not a time budget, bounds the work.
    """
    from veedor.read.print.checks import qr_print_check

    if qr_acta is not None and not cross_check:
        return None, None
    safety_s = SAFETY_S if qr_acta is not None else PRINT_ONLY_SAFETY_S
    started = time.perf_counter()
    scan_shaped, blur = _shape_and_blur(gray)
    # A scan's views up to its straightened one are always read (see the loop).
    always_read = 1 + (blur is not None)

    def holds(reading: PrintReading) -> bool:
        # Its own checks agree, or its numbers are the QR's (a header it could not read
        # does not make a table that matches the QR worth a second look).
        return reading.agrees or (qr_acta is not None and qr_print_check(qr_acta, reading).passed)

    def better(reading: PrintReading | None, than: PrintReading | None) -> bool:
        # The reading kept (to retouch, and to explain a review) is the one that holds;
        # else, with the QR known, the one with most lines read as the QR's, past what a
        # reading of noise matches by chance; else the first (without a QR, more lines
        # read was measured to pick a view with a worse summary).
        if reading is None:
            return False
        if than is None or holds(reading):
            return True
        return (
            qr_acta is not None
            and not holds(than)
            and _lines_as_qr(reading, qr_acta) > max(_lines_as_qr(than, qr_acta), CHANCE_LINES)
        )

    printed: PrintReading | None = None
    view_name: str | None = None
    view = gray
    seen: list[tuple[str, PrintReading]] = []  # every view's reading, to combine
    tried: set[str] = set()
    plain_blank = False  # the plain image showed no table at all
    views = _candidates(gray, scan_shaped, blur)
    for attempt in itertools.count():
        # A scan's straightened view is always tried: a plain reading that went wrong
        # (a tilted or warped sheet) found a table, but not the right one.
        always = scan_shaped and attempt <= always_read
        # Once a table is found, only a scan whose reading does not hold together gets
        # more looks, up to its straightened view. Asked before the next view is made:
        # straightening a clean scan that already holds cost ~65 ms for nothing.
        if printed is not None and (holds(printed) or not always):
            break
        name, image = next(views, (None, None))
        if image is None or (attempt and time.perf_counter() - started > safety_s):
            break
        reading = read_print(image, definition, expect=qr_acta)
        tried.add(name or "plain")
        plain_blank = plain_blank or (name is None and reading is None)
        if reading is not None:
            seen.append((name or "plain", reading))
        if better(reading, printed):
            printed, view_name, view = reading, name, image
    if printed is None or not holds(printed):
        # Light only, on the best view read so far: a dark high-ISO photo is smoothed (grain
        # breaks glyphs into specks), a soft one sharpened. Numbers still face every check.
        # A scan is its receipt: when its plain image shows no table at all, darkness or
        # grain hid it, and the plain image (not resampled, not sharpened) is retouched
        # first; straightening brings no table back.
        bases = [(view_name, view)]
        if scan_shaped and view_name is not None and plain_blank:
            bases.insert(0, (None, gray))
        for base, source in bases:
            if time.perf_counter() - started > safety_s:
                break
            for name, image in retouched_views(source):
                if time.perf_counter() - started > safety_s:
                    break
                full_name = f"{base + '+' if base else ''}{name}"
                if full_name in tried:
                    continue  # the plain scan's blur, already divided out and read first
                tried.add(full_name)
                reading = read_print(image, definition, expect=qr_acta)
                if reading is not None:
                    seen.append((full_name, reading))
                if better(reading, printed):
                    printed, view_name = reading, full_name
                if printed is not None and holds(printed):
                    break
            if printed is not None and holds(printed):
                break
            # No view read the whole sheet; together they may have (see read.print.combine),
            # tried before another base's views add their own misreadings.
            combined = combine(seen, qr_acta) if qr_acta is not None else combine_print(seen)
            if combined is not None and holds(combined):
                printed, view_name = combined, "combined"
                break
    ms = (time.perf_counter() - started) * 1000
    if printed is None:
        return None, Reading("print", recogniser().name, "layout", None, ms)
    variant = "digits-vs-qr" if qr_acta is not None else "digits+words"
    if view_name:
        variant = f"{view_name}+{variant}"
    text = json.dumps(printed.as_dict(), ensure_ascii=False, default=str)
    return printed, Reading("print", printed.engine, variant, text, ms)


def _read_sheet(
    gray: np.ndarray,
    definition: ElectionDefinition,
    qr_acta: ActaCounts | None,
    identity: ActaCounts | None,
    cross_check: bool,
) -> tuple[PrintReading | None, Reading | None]:
    # A receipt's QR carries its counts; a code naming the acta only is not this reader's case,
    # and its print is read blind. The views are combined under the definition's words too.
    with using(definition):
        return read_print_views(gray, definition, qr_acta, cross_check)


def _ballot_boxes(
    gray: np.ndarray, definition: ElectionDefinition
) -> tuple[np.ndarray, dict[str, Box]] | None:
    found = ballot_rows(gray, len(definition.ballot))
    if found is None:
        return None
    upright, boxes = found
    return upright, {f"v{i}": box for i, box in enumerate(boxes)}


READER = SheetReader("thermal-receipt", _read_sheet, _ballot_boxes)
