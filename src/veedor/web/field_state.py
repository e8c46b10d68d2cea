"""What every request of the field app needs: the database, the definition, the evidence store,
the largest photo the phones should send, and a way to wake the reader."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from veedor.capture.evidence import EvidenceStore
from veedor.definitions import ElectionDefinition
from veedor.store import Store


def N_(message: str) -> str:
    """Marks a message for the catalogs (``pybabel extract`` finds it); translated where shown."""
    return message


MAX_PIXELS = 12_600_000
"""Photos are scaled down on the phone to at most this many pixels: a 12 Mpx phone photo
(4032 × 3024, what most phones save) passes with its pixels untouched, a 48 to 200 Mpx one is
scaled to it. Measured (docs/field.md, bench/bench_field_downscale.py): halving a 12 Mpx photo of
the whole receipt saved half its bytes but left 1 of 8 actas readable where 5 of 8 were."""


@dataclass
class Field:
    store: Store
    definition: ElectionDefinition
    evidence: EvidenceStore
    max_pixels: int = MAX_PIXELS
    on_upload: Callable[[], None] | None = field(default=None)

    def wake(self) -> None:
        """A photo arrived: the reader (if it runs here) need not wait for its next turn."""
        if self.on_upload is not None:
            self.on_upload()
