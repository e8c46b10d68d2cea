"""The per-file work, run in worker processes: bytes in, :class:`FileOutcome` out.

Workers never touch the database; they store evidence (atomic, content-addressed) and
return plain data to the main process, which alone writes records.
"""

from __future__ import annotations

import hashlib
import json
import os
import time
from dataclasses import dataclass, replace

import cv2
import numpy as np

from veedor.capture.evidence import EvidenceStore
from veedor.capture.images import MAX_FILE_BYTES, ImageRejected, load_image, sniff_format
from veedor.capture.pages import split_pages
from veedor.definitions import ElectionDefinition, load_definition
from veedor.model import ActaCounts, CheckResult, FileOutcome, ImageFacts, Picture, Reading, Status
from veedor.read.acta import read_qr
from veedor.read.deblur import deblurred, smear
from veedor.read.print import PrintReading, read_print
from veedor.read.print.combine import combine, combine_print
from veedor.read.print.ocr import recogniser
from veedor.read.variants import retouched_views
from veedor.verify.checks import RegistryView
from veedor.verify.decide import Verdict, judge
from veedor.verify.grade import grade_copy


@dataclass(frozen=True)
class WorkerContext:
    definition_id: str
    evidence_root: str
    registry: RegistryView
    known: frozenset[str]
    """SHA-256 of images already processed in earlier runs: not read again."""
    cross_check: bool = True
    """Read the printed table too and compare it with the QR (off only with --qr-only)."""


_CTX: WorkerContext | None = None
_DEFINITION: ElectionDefinition | None = None


def init_worker(ctx: WorkerContext) -> None:
    global _CTX, _DEFINITION
    # One process per core already; OpenCV's own threads would only fight them.
    cv2.setNumThreads(1)
    _CTX = ctx
    _DEFINITION = load_definition(ctx.definition_id)


def process_file(path: str) -> list[FileOutcome]:
    """One outcome per image: one for most files, one per page of a PDF or multi-page TIFF."""
    assert _CTX is not None and _DEFINITION is not None, "init_worker() first"
    started = time.perf_counter()
    return [_with_ms(outcome, started) for outcome in _process(path, _CTX, _DEFINITION)]


def _with_ms(outcome: FileOutcome, started: float) -> FileOutcome:
    return replace(outcome, ms=round((time.perf_counter() - started) * 1000, 1))


def _rejected(path: str, sha: str | None, reason: str, facts: ImageFacts | None = None) -> FileOutcome:
    return FileOutcome(path, sha, Status.REJECTED, reason, facts=facts)


def _process(path: str, ctx: WorkerContext, definition: ElectionDefinition) -> list[FileOutcome]:
    try:
        size = os.stat(path).st_size
        if size > MAX_FILE_BYTES:
            return [
                _rejected(path, None, f"archivo de {size // 2**20} MiB: demasiado grande / file too large")
            ]
        with open(path, "rb") as handle:
            data = handle.read()
    except OSError as exc:
        return [
            _rejected(
                path,
                None,
                f"no se puede leer el archivo ({exc.strerror}); revise permisos / cannot read file",
            )
        ]
    sha = hashlib.sha256(data).hexdigest()
    fmt = sniff_format(data)
    try:
        pages = split_pages(data, fmt) if sha not in ctx.known else None
    except ImageRejected as exc:
        EvidenceStore(ctx.evidence_root).put(data, sha)
        return [_rejected(path, sha, str(exc), ImageFacts(sha, len(data), fmt))]
    if pages is None:
        return [_read_image(path, data, sha, ctx, definition)]
    EvidenceStore(ctx.evidence_root).put(data, sha)  # the file whole, beside its pages
    source = {"source_sha256": sha, "pages": len(pages)}
    return [
        _read_image(
            f"{path}#page={i}", page, hashlib.sha256(page).hexdigest(), ctx, definition, {**source, "page": i}
        )
        for i, page in enumerate(pages, 1)
    ]


def _read_image(
    path: str,
    data: bytes,
    sha: str,
    ctx: WorkerContext,
    definition: ElectionDefinition,
    origin: dict[str, object] | None = None,
) -> FileOutcome:
    """Read one image (a file, or one page of one) and decide what it is worth."""
    if sha in ctx.known:
        return FileOutcome(path, sha, Status.REVIEW, None, duplicate_of=sha)
    EvidenceStore(ctx.evidence_root).put(data, sha)
    try:
        loaded = load_image(data, sha)
    except ImageRejected as exc:
        return _rejected(path, sha, str(exc), ImageFacts(sha, len(data), sniff_format(data)))
    if origin:
        loaded = replace(loaded, facts=replace(loaded.facts, metadata={**loaded.facts.metadata, **origin}))
    qr = read_qr(loaded.gray, definition)
    if qr.several_actas:
        ids = ", ".join(a.acta_id for a in qr.several_actas)
        several = (
            f"hay {len(qr.several_actas)} códigos QR de acta distintos en una sola imagen ({ids}); "
            "escanee cada acta por separado y revise si hay un código pegado / "
            "several different acta QR codes in one image (separate actas, or a pasted code)"
        )
        return FileOutcome(path, sha, Status.REVIEW, several, None, qr.readings, facts=loaded.facts)
    printed, print_reading = read_print_views(loaded.gray, definition, qr.acta, ctx.cross_check)
    verdict = judge(qr.acta, qr.problems, printed, definition, ctx.registry, cross_check=ctx.cross_check)
    picture = None
    if qr.acta is not None:
        verdict, picture = _qr_belongs_to_sheet(loaded.gray, {r.text for r in qr.readings if r.text}, verdict)
    readings = qr.readings + ((print_reading,) if print_reading else ())
    return FileOutcome(
        path,
        sha,
        verdict.status,
        verdict.reason,
        verdict.acta,
        readings,
        verdict.checks,
        facts=loaded.facts,
        source=verdict.source,
        copy=grade_copy(verdict, printed, cross_check=ctx.cross_check),
        picture=picture,
    )


QR_PASTED = "qr_belongs_to_sheet"


def _qr_belongs_to_sheet(
    gray: np.ndarray, texts: set[str], verdict: Verdict
) -> tuple[Verdict, Picture | None]:
    """Do the QR's pixels belong to the sheet around them (``read.forensics.pasted_qr``)? A QR
    that looks pasted on is a failed check: the copy is not confirmed and a person looks, with
    the reason; its numbers are never changed. Only where the plain image shows the QR (a QR
    read only from a retouched view has no position on the original to compare). Also returns
    where the QR lies and the sheet's key, for the reused-photo search (``pipeline/reuse.py``)."""
    import zxingcpp

    from veedor.read.forensics import pasted_qr, sheet_key
    from veedor.read.regions import position_quad

    found = zxingcpp.read_barcodes(gray, formats=zxingcpp.BarcodeFormat.QRCode)  # type: ignore[arg-type]
    quad = next((position_quad(r.position) for r in found if r.valid and r.text in texts), None)
    if quad is None:
        return verdict, None
    picture = Picture(tuple((float(x), float(y)) for x, y in quad), f"{sheet_key(gray, quad):048x}")
    finding = pasted_qr(gray, quad)
    if not finding.suspicious:
        return replace(
            verdict, checks=(*verdict.checks, CheckResult(QR_PASTED, True, finding.reason))
        ), picture
    reason = f"¿QR pegado sobre la hoja? sus píxeles no son los del papel que lo rodea / {finding.reason}"
    return replace(
        verdict,
        checks=(*verdict.checks, CheckResult(QR_PASTED, False, reason)),
        status=Status.REVIEW,
        reason=reason if verdict.status is Status.OK else verdict.reason,
    ), picture


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
    from collections.abc import Iterator

    from veedor.read.rectify import SCAN_ASPECT, upright_views
    from veedor.verify.crosscheck import qr_print_check

    if qr_acta is not None and not cross_check:
        return None, None
    safety_s = SAFETY_S if qr_acta is not None else PRINT_ONLY_SAFETY_S
    started = time.perf_counter()
    h, w = gray.shape[:2]
    scan_shaped = h >= SCAN_ASPECT * w  # a receipt scan is ~10:1; a phone frame is 4:3
    # A blurred scan is read first with the blur divided out: on the reading bench that
    # view read 7 of 8 legible motion-smeared ones at once, the plain view 4, and slower.
    # (A phone frame is straightened first; its views are deblurred when retouched.)
    blur = smear(gray) if scan_shaped else None
    # A scan's views up to its straightened one are always read (see the loop).
    always_read = 1 + (blur is not None)

    def candidates() -> Iterator[tuple[str | None, np.ndarray]]:
        if blur is not None:
            yield blur.name, deblurred(gray, blur)
        if scan_shaped:
            yield None, gray
        yield from ((f"rectified:{name}", view) for name, view in upright_views(gray, limit=2))
        if not scan_shaped:
            yield None, gray

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
    for attempt, (name, image) in enumerate(candidates()):
        # A scan's straightened view is always tried: a plain reading that went wrong
        # (a tilted or warped sheet) found a table, but not the right one.
        always = scan_shaped and attempt <= always_read
        if attempt and time.perf_counter() - started > safety_s:
            break
        # Once a table is found, only a scan whose reading does not hold together gets
        # more looks, up to its straightened view.
        if printed is not None and (holds(printed) or not always):
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
