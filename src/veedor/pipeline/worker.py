"""The per-file work, run in worker processes: bytes in, :class:`FileOutcome` out.

Workers never touch the database; they store evidence (atomic, content-addressed) and
return plain data to the main process, which alone writes records.
"""

from __future__ import annotations

import hashlib
import os
import time
from dataclasses import dataclass, replace

import cv2
import numpy as np

from veedor.capture.evidence import EvidenceStore
from veedor.capture.images import MAX_FILE_BYTES, ImageRejected, load_image, sniff_format
from veedor.capture.pages import split_pages
from veedor.definitions import ElectionDefinition, load_definition
from veedor.model import CheckResult, FileOutcome, ImageFacts, Picture, Status
from veedor.read.acta import read_qr
from veedor.read.print.views import PRINT_ONLY_SAFETY_S, SAFETY_S, read_print_views
from veedor.read.readers import get_reader
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
    # A code that names the acta and carries no counts is its identity, never a claim.
    qr_acta, identity = (qr.acta, None) if definition.qr_counts else (None, qr.acta)
    reader = get_reader(definition.reader["name"])
    printed, print_reading = reader.read(loaded.gray, definition, qr_acta, identity, ctx.cross_check)
    verdict = judge(
        qr_acta,
        qr.problems,
        printed,
        definition,
        ctx.registry,
        cross_check=ctx.cross_check,
        identity=identity,
    )
    picture = None
    if qr_acta is not None:
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
    key = sheet_key(gray, quad)
    picture = None if key is None else Picture(tuple((float(x), float(y)) for x, y in quad), f"{key:048x}")
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


__all__ = ["PRINT_ONLY_SAFETY_S", "SAFETY_S", "init_worker", "process_file", "read_print_views"]
