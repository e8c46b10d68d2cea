"""The ``boxed-form`` reader: which acta (its QR), where each box is (its corner marks), and the
plain statement that its handwritten counts are for people to type.

An acta read this way is never ``ok`` by itself: the copy is filed under the mesa its QR names
(a partial copy: no count vouched for) and goes to the review desk, where two people type its
numbers blind. The definition's form says where every box lies (:mod:`veedor.definitions.forms`).
"""

from __future__ import annotations

import json
import re
import time

import cv2
import numpy as np

from veedor.definitions import ElectionDefinition
from veedor.definitions.forms import FormSpec
from veedor.model import ActaCounts, CheckResult, Reading
from veedor.read.form.marks import Marks, find_marks, form_to_image, to_image
from veedor.read.print.layout import Box
from veedor.read.print.parse import Line, PrintReading
from veedor.read.readers import SheetReader

ENGINE = "veedor boxed-form (corner marks)"
FORM_FOUND = "form_found"
HANDWRITTEN = "handwritten_counts"
HEADER = "print_header"  # the name the copy's grade looks for: the sheet names its mesa


def place(gray: np.ndarray, form: FormSpec) -> tuple[Marks, dict[str, Box]] | None:
    """The marks found and every field's box in pixels (digits and words together), inside the
    image; None unless the top marks were found and every box lies on the image."""
    if gray.ndim == 3:
        gray = cv2.cvtColor(gray, cv2.COLOR_BGR2GRAY)
    marks = find_marks(gray, form.mark_size)
    matrix = form_to_image(marks, form.bottom_marks_y)
    if matrix is None:
        return None
    h, w = gray.shape[:2]
    boxes = {}
    for f in form.fields:
        x0, y0, x1, y1 = to_image(matrix, f.box)
        if x0 < 0 or y0 < 0 or x1 > w or y1 > h or x1 - x0 < 4 or y1 - y0 < 4:
            return None  # part of the form is off the image: no box is trusted
        boxes[f.key] = Box(x0, y0, x1, y1)
    return marks, boxes


def field_boxes(gray: np.ndarray, definition: ElectionDefinition) -> tuple[np.ndarray, dict[str, Box]] | None:
    """Each count's box, keyed by the review desk's input name (``v0`` … ``nulos``, ``blank``).

    Only the fields the definition marks as counts: the form's other figures, and above all the
    officers' names and signatures below them, are never cropped."""
    form = definition.form
    if form is None:
        return None
    placed = place(gray, form)
    if placed is None:
        return None
    _, boxes = placed
    return gray, {name: boxes[f.key] for f in form.fields if (name := f.entry_name) is not None}


def printed_id(gray: np.ndarray, form: FormSpec, matrix: np.ndarray) -> str | None:
    """The id the form prints in type (``identity_box``: Honduras' "JRV N° 18108"), digits only;
    None when the form has no such box or nothing legible is there."""
    if form.identity_box is None:
        return None
    x0, y0, x1, y1 = to_image(matrix, form.identity_box)
    h, w = gray.shape[:2]
    if x0 < 0 or y0 < 0 or x1 > w or y1 > h:
        return None
    from veedor.read.print import ocr

    text = ocr.recogniser().read([[ocr.Piece(gray[y0:y1, x0:x1], ocr.DIGITS)]])[0][0]
    digits = text.text.replace(" ", "")
    return digits if digits.isdigit() and len(digits) >= 2 and text.confidence >= 0.5 else None


def _header(identity: ActaCounts | None, printed: str | None, definition: ElectionDefinition) -> CheckResult:
    """The sheet names its mesa: by its QR, and where the form prints the id in type too, the
    two must agree (a QR pasted from another acta would file the sheet under that acta)."""
    if identity is None:
        return CheckResult(
            HEADER, False, "no se leyó el código QR que identifica el acta / the acta's QR was not read"
        )
    group = definition.form.identity_group if definition.form is not None else "mesa"
    match = re.match(definition.payload.get("acta_id_pattern") or "(?!)", identity.acta_id)
    wanted = match.groupdict().get(group) if match else None
    if printed is None or wanted is None:
        return CheckResult(
            HEADER,
            True,
            f"el código QR identifica el acta {identity.acta_id}; su número impreso no se leyó / "
            "the QR names the acta; its printed number was not read",
        )
    if int(printed) != int(wanted):
        return CheckResult(
            HEADER,
            False,
            f"el QR dice {int(wanted)} y la hoja imprime {printed}: ¿un QR de otra acta? / "
            f"the QR says {int(wanted)}, the sheet prints {printed}: a QR from another acta?",
        )
    return CheckResult(
        HEADER,
        True,
        f"el código QR ({identity.acta_id}) y el número impreso ({printed}) coinciden / "
        "the QR and the printed number agree",
    )


def read_sheet(
    gray: np.ndarray,
    definition: ElectionDefinition,
    qr_acta: ActaCounts | None,
    identity: ActaCounts | None,
    cross_check: bool,
) -> tuple[PrintReading | None, Reading | None]:
    """What a hand-filled form says without reading the hand: which acta (``identity``, from its
    QR) and where its boxes are. Its counts stay unknown, so it is always for people."""
    started = time.perf_counter()
    form = definition.form
    assert form is not None, "a boxed-form reader needs the definition's form"
    placed = place(gray, form)
    printed = None
    if placed is not None:
        plain = gray if gray.ndim == 2 else cv2.cvtColor(gray, cv2.COLOR_BGR2GRAY)
        matrix = form_to_image(placed[0], form.bottom_marks_y)
        printed = printed_id(plain, form, matrix) if matrix is not None else None
    ms = (time.perf_counter() - started) * 1000
    if placed is None and identity is None:
        return None, Reading("print", ENGINE, "marks", None, ms)
    checks = [
        CheckResult(
            FORM_FOUND,
            placed is not None,
            (
                f"formulario enderezado por {len(placed[0].centres)} marcas de esquina; {len(placed[1])} "
                f"casillas ubicadas / form straightened by its corner marks; boxes placed"
            )
            if placed is not None
            else "no se encontraron las marcas de esquina del formulario / the form's corner marks were not found",
        ),
        _header(identity, printed, definition),
        CheckResult(
            HANDWRITTEN,
            False,
            "los números están escritos a mano: dos personas deben transcribirlos / "
            "the counts are handwritten: two people must type them",
        ),
    ]
    positions = len(definition.ballot)
    acta = (
        ActaCounts(identity.acta_id, identity.centre, identity.mesa, (-1,) * positions, -1)
        if identity is not None
        else None
    )
    lines = tuple(Line(b.acronym, None, None, "", "", words_read=False) for b in definition.ballot)
    reading = PrintReading(
        acta=acta,
        lines=lines,
        summary={},
        votantes={},
        acta_id=identity.acta_id if identity is not None else None,
        centre_printed=None,
        electors=None,
        checks=tuple(checks),
        engine=ENGINE,
        ms=ms,
        notes=(f"marcas / marks: {', '.join(sorted(placed[0].centres))}",) if placed is not None else (),
    )
    # Where each box is, in pixels, is evidence too: a person can check the placing.
    record = reading.as_dict()
    record["printed_id"] = printed
    if placed is not None:
        record["boxes"] = {key: [b.x0, b.y0, b.x1, b.y1] for key, b in placed[1].items()}
    return reading, Reading("print", ENGINE, "boxes", json.dumps(record, ensure_ascii=False), ms)


def public_view(image: np.ndarray, definition: ElectionDefinition) -> np.ndarray | None:
    """``image`` (gray or colour) with the form's private block (``reader.private``: the officers'
    names, identity numbers, signatures) painted white, from its top edge to the bottom of the
    image and across its whole width; None when the marks cannot place it: such an image is not
    shown at all."""
    form = definition.form
    if form is None or form.private is None:
        return image
    gray = image if image.ndim == 2 else cv2.cvtColor(image, cv2.COLOR_BGR2GRAY)
    matrix = form_to_image(find_marks(gray, form.mark_size), form.bottom_marks_y)
    if matrix is None:
        return None
    _, y0, _, _ = to_image(matrix, form.private)
    if y0 <= 0 or y0 >= image.shape[0]:
        return None
    safe = image.copy()
    safe[y0:] = 255
    return safe


READER = SheetReader("boxed-form", read_sheet, field_boxes, crop_margin=0.1, public=public_view)
