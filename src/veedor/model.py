"""The core data model passed between pipeline stages.

Plain frozen dataclasses: no I/O, no database, no country knowledge.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any


class Status(StrEnum):
    """What may be done with a file's numbers.

    ``ok`` means the numbers may be counted with nobody looking; ``review`` means a
    person must look; ``rejected`` means the file is not a readable acta at all.
    """

    OK = "ok"
    REVIEW = "review"
    REJECTED = "rejected"


class ActaState(StrEnum):
    """State of one mesa after all its copies are combined (the rule: docs/copies.md).

    ``ok`` is counted in the verified tally; ``unconfirmed`` (QR claims nothing on any sheet
    confirms) only in the labelled preliminary figure; ``review`` and ``conflict`` never.
    """

    OK = "ok"
    UNCONFIRMED = "unconfirmed"
    REVIEW = "review"
    CONFLICT = "conflict"


class Grade(StrEnum):
    """What one copy's numbers are worth for its mesa (see :mod:`veedor.verify.grade`)."""

    CONFIRMED = "confirmed"
    """The sheet agrees with itself: QR = print, or a print alone whose every redundancy holds."""
    QR_ONLY = "qr_only"
    """A QR was read and nothing on the image confirms it."""
    PARTIAL = "partial"
    """Some numbers unread or a check failed: evidence for a person, never a claim."""
    CONTRADICTORY = "contradictory"
    """The QR and the print disagree where both are legible: the mark of a pasted QR."""


@dataclass(frozen=True)
class ActaCounts:
    """The numbers of one acta, as read from one piece of evidence."""

    acta_id: str
    centre: str
    mesa: int
    votes: tuple[int, ...]
    nulos: int
    extra: dict[str, int] = field(default_factory=dict)

    @property
    def key(self) -> tuple[str, int]:
        return (self.centre, self.mesa)

    def same_numbers(self, other: ActaCounts) -> bool:
        return (self.votes, self.nulos, self.extra) == (other.votes, other.nulos, other.extra)


@dataclass(frozen=True)
class Copy:
    """One image's evidence for one mesa: its grade and what it says (``None``: not read).

    ``votes``/``nulos`` are the copy's claim: the QR's numbers when it was read, else the
    print's. ``printed``/``printed_nulos`` are the print's legible counts when the claim is
    the QR's, so that a contradictory copy's print can be weighed on its own.
    """

    grade: Grade
    acta_id: str
    centre: str
    mesa: int
    votes: tuple[int | None, ...]
    nulos: int | None
    extra: dict[str, int] = field(default_factory=dict)
    source: str = "qr"
    printed: tuple[int | None, ...] | None = None
    printed_nulos: int | None = None

    @property
    def key(self) -> tuple[str, int]:
        return (self.centre, self.mesa)


@dataclass(frozen=True)
class CheckResult:
    name: str
    passed: bool
    detail: str

    def as_dict(self) -> dict[str, Any]:
        return {"name": self.name, "passed": self.passed, "detail": self.detail}


@dataclass(frozen=True)
class Reading:
    """One attempt of one engine on one image: what it saw, how, and how long it took."""

    source: str  # "qr" | "print" | ...
    engine: str  # e.g. "zxing-cpp 3.1.1"
    variant: str  # e.g. "full", "crop-bottom+otsu"
    text: str | None
    ms: float


@dataclass(frozen=True)
class ImageFacts:
    """What capture learned about an input file, before any reading."""

    sha256: str
    size: int
    format: str | None
    width: int | None = None
    height: int | None = None
    metadata: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Picture:
    """What the reused-photo search keeps of an image (``veedor.read.forensics``)."""

    qr_quad: tuple[tuple[float, float], ...]
    """The QR's four corners, clockwise from its top-left, in the image's pixels."""
    sheet_key: str
    """:func:`veedor.read.forensics.sheet_key`, 48 hex digits."""


@dataclass(frozen=True)
class FileOutcome:
    """The result for one input file: one line of the scan report."""

    file: str
    sha256: str | None
    status: Status
    reason: str | None
    acta: ActaCounts | None = None
    readings: tuple[Reading, ...] = ()
    checks: tuple[CheckResult, ...] = ()
    duplicate_of: str | None = None
    ms: float = 0.0
    facts: ImageFacts | None = None
    source: str | None = None
    """Where the numbers came from ("qr", "print"); None when no acta was read."""
    copy: Copy | None = None
    """What this file is worth as evidence for its mesa; None when it names no mesa."""
    mesa: dict[str, Any] | None = None
    """Its mesa's state after this file was stored (the report's ``mesa``; docs/report.md)."""
    picture: Picture | None = None
    """Where its QR lies and the key of the sheet around it (reused-photo search), when the
    plain image shows the QR."""

    @property
    def winning_reading(self) -> Reading | None:
        """The reading the numbers came from (the first successful one of ``source``)."""
        source = self.source or (self.copy.source if self.copy else None)
        if source is None:
            return None
        for reading in self.readings:
            if reading.text is not None and reading.source == source:
                return reading
        return None
