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
    """State of one mesa's acta after all its evidence is combined."""

    OK = "ok"
    REVIEW = "review"
    CONFLICT = "conflict"


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

    @property
    def winning_reading(self) -> Reading | None:
        """The reading the numbers came from (the first successful one of ``source``)."""
        if self.acta is None:
            return None
        for reading in self.readings:
            if reading.text is not None and reading.source == self.source:
                return reading
        return None
