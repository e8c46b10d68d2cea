"""veedor: verify an election from its tally sheets (actas).

Pipeline stages, one package each: capture → read → verify → store → tally → publish.
The small data model they pass between them lives in :mod:`veedor.model`.

The library, one function per CLI command (docs/python-api.md)::

    import veedor

    definition = veedor.load_definition("ve-2024-presidential")
    store = veedor.open_store("sqlite:///actas.db")
    veedor.scan(["fotos/"], store, definition_id=definition.id)     # veedor scan
    with store.session() as session:
        result = veedor.tally_votes(session, definition, "state")  # veedor tally
    reading = veedor.read_acta("acta.jpg", definition)              # one acta, nothing stored

Everything is imported on first use, so ``import veedor`` stays fast.
"""

from __future__ import annotations

import importlib
from pathlib import Path
from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

_LAZY: dict[str, tuple[str, str]] = {
    "load_definition": ("veedor.definitions", "load_definition"),
    "ElectionDefinition": ("veedor.definitions", "ElectionDefinition"),
    "open_store": ("veedor.store", "open_store"),
    "scan": ("veedor.pipeline.scan", "scan_paths"),
    "judge": ("veedor.verify.decide", "judge"),
    "RegistryView": ("veedor.verify.checks", "RegistryView"),
    # not "tally": veedor.tally is the package, and importing it would shadow a function
    "tally_votes": ("veedor.tally", "tally"),
    "export": ("veedor.publish.export", "export"),
}
"""Public name → (module, attribute), imported when first asked for."""

__all__ = [
    "ElectionDefinition",
    "RegistryView",
    "__version__",
    "export",
    "judge",
    "load_definition",
    "open_store",
    "read_acta",
    "scan",
    "tally_votes",
]

if TYPE_CHECKING:
    import numpy as np

    from veedor.definitions import ElectionDefinition, load_definition
    from veedor.pipeline.scan import scan_paths as scan
    from veedor.publish.export import export
    from veedor.read.acta import ActaReading
    from veedor.store import open_store
    from veedor.tally import tally as tally_votes
    from veedor.verify.checks import RegistryView
    from veedor.verify.decide import judge


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        module, attribute = _LAZY[name]
        value = getattr(importlib.import_module(module), attribute)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'veedor' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))


def read_acta(
    image: str | Path | bytes | np.ndarray, definition: ElectionDefinition, *, cross_check: bool = True
) -> ActaReading:
    """Read one acta (a file, its bytes, or a grayscale array): the QR's readings and the print's,
    nothing stored and nothing judged (:func:`judge` does that). A file that is no readable
    image raises :class:`veedor.capture.images.ImageRejected` with the reason."""
    import hashlib

    import numpy as np

    from veedor.capture.images import load_image
    from veedor.read.acta import read_acta as read

    if isinstance(image, np.ndarray):
        gray = image
    else:
        data = image if isinstance(image, bytes) else Path(image).read_bytes()
        gray = load_image(data, hashlib.sha256(data).hexdigest()).gray
    return read(gray, definition, cross_check=cross_check)
