"""Sheet readers, chosen by the definition (``reader.name``), like the payload parsers.

A reader turns an acta image into what the sheet itself says: a :class:`PrintReading` for the
checks and the copy's grade, and the :class:`Reading` kept as evidence. It may also place each
field's box on the image, for the review desk to show beside its input. Country knowledge
(words, labels, id pattern, layout) comes from the definition, never from the reader's code:

- ``thermal-receipt``: a printed receipt whose counts are printed in digits and spelt in words,
  read by OCR and cross-checked with the QR (:mod:`veedor.read.print`);
- ``boxed-form``: a form filled by hand in boxes: its corner marks straighten it and every box
  is placed, for people to type (:mod:`veedor.read.form`); nothing handwritten is read;
- ``none``: the sheet is not read (its QR, if any, is all the machine has).

This module stays light (no OpenCV, no model): the definition loader asks it for the names.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import numpy as np

    from veedor.definitions.schema import ElectionDefinition
    from veedor.model import ActaCounts, Reading
    from veedor.read.print.layout import Box
    from veedor.read.print.parse import PrintReading

ReadSheet = Callable[
    ["np.ndarray", "ElectionDefinition", "ActaCounts | None", "ActaCounts | None", bool],
    "tuple[PrintReading | None, Reading | None]",
]
"""(gray, definition, the QR's counts, the acta the QR names without counts, cross-check)."""
FieldBoxes = Callable[["np.ndarray", "ElectionDefinition"], "tuple[np.ndarray, dict[str, Box]] | None"]
"""(gray, definition) → the upright image and each entry field's box on it (keys: the review
desk's input names, ``v0`` … ``nulos``, ``blank``); None when the sheet's layout was not found."""
PublicView = Callable[["np.ndarray", "ElectionDefinition"], "np.ndarray | None"]


@dataclass(frozen=True)
class SheetReader:
    name: str
    read: ReadSheet
    boxes: FieldBoxes
    crop_margin: float = 0.5
    """Margin around a box when it is cut out for people, as a share of its height: a receipt's
    line needs its neighbours' edges to be seen as a line; a form's box is its own frame."""
    public: PublicView | None = None
    """The image as the public may see it (personal data blanked), or None when it cannot be
    made safe; a reader without it has nothing private on its sheets."""


_BUILT_IN = {
    "thermal-receipt": "veedor.read.print.views",
    "boxed-form": "veedor.read.form.reader",
    "none": "veedor.read.readers",
}
"""Name → module defining ``READER``, imported on first use."""
_REGISTERED: dict[str, SheetReader] = {}


def register_reader(reader: SheetReader) -> SheetReader:
    """Add a reader (a plug-in's) under its name."""
    _REGISTERED[reader.name] = reader
    return reader


def _plugins() -> dict[str, SheetReader]:
    """Readers other packages declare (entry point group ``veedor.readers``)."""
    from veedor.plugins import plugins

    return {name: r for name, r in plugins("veedor.readers").items() if isinstance(r, SheetReader)}


def known_readers() -> set[str]:
    return set(_BUILT_IN) | set(_REGISTERED) | set(_plugins())


def get_reader(name: str) -> SheetReader:
    if name not in _REGISTERED and name in _BUILT_IN:
        reader = importlib.import_module(_BUILT_IN[name]).READER
        _REGISTERED.setdefault(reader.name, reader)
    if name not in _REGISTERED and name in _plugins():
        _REGISTERED[name] = _plugins()[name]
    try:
        return _REGISTERED[name]
    except KeyError:
        raise KeyError(f"unknown sheet reader {name!r}; registered: {sorted(known_readers())}") from None


def _read_nothing(
    gray: np.ndarray,
    definition: ElectionDefinition,
    qr: ActaCounts | None,
    identity: ActaCounts | None,
    cross_check: bool,
) -> tuple[PrintReading | None, Reading | None]:
    return None, None


def _no_boxes(gray: np.ndarray, definition: ElectionDefinition) -> None:
    return None


READER = SheetReader("none", _read_nothing, _no_boxes)
