"""People judge the copies of a mesa in conflict: which is its acta, which is forged, which
belongs to another mesa. Pure functions of what each person said, like :mod:`.settle`:

- a copy's call is settled when ``required`` reviewers (default 2), each on their own, said
  the same of it (and, for "another mesa's", named the same mesa), and no other call on that
  copy has as many;
- a supervisor's latest word on a copy settles it alone;
- otherwise it waits for one more reviewer, and past ``required + 1`` of them, for a supervisor.

A copy settled as forged or as another mesa's is set aside: the machine's rule then decides
the mesa from the copies left (:func:`veedor.verify.mesa.decide_mesa`).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass

from veedor.verify.settle import REQUIRED

GENUINE, FORGED, OTHER = "genuine", "forged", "other"
VERDICTS = (GENUINE, FORGED, OTHER)
SET_ASIDE = (FORGED, OTHER)


@dataclass(frozen=True)
class Verdict:
    id: int
    reviewer: str
    sha256: str
    verdict: str
    other: str | None = None
    """CENTRO.MESA the copy belongs to, for ``other``."""
    supervisor: bool = False

    @property
    def call(self) -> tuple[str, str | None]:
        return self.verdict, self.other if self.verdict == OTHER else None


@dataclass(frozen=True)
class CopyCall:
    verdict: str | None
    """The settled verdict; None while open."""
    other: str | None
    basis: str
    """"agreement" or "supervisor" once settled; else what is needed: "entry", "supervisor"."""
    verdicts: tuple[int, ...] = ()

    @property
    def set_aside(self) -> bool:
        return self.verdict in SET_ASIDE


def settle_copy(verdicts: Iterable[Verdict], required: int = REQUIRED) -> CopyCall:
    """What people's verdicts on one copy settle."""
    ordered = sorted(verdicts, key=lambda v: v.id)
    supervised = [v for v in ordered if v.supervisor]
    if supervised:
        last = supervised[-1]
        return CopyCall(last.verdict, last.call[1], "supervisor", (last.id,))
    latest = {v.reviewer: v for v in ordered}  # one voice per person: their latest
    groups: dict[tuple[str, str | None], list[Verdict]] = defaultdict(list)
    for verdict in latest.values():
        groups[verdict.call].append(verdict)
    agreeing = [(call, group) for call, group in groups.items() if len(group) >= required]
    if len(agreeing) == 1:
        (said, other), group = agreeing[0]
        return CopyCall(said, other, "agreement", tuple(sorted(v.id for v in group)))
    return CopyCall(None, None, "supervisor" if len(latest) > required else "entry")


def settle_copies(verdicts: Iterable[Verdict], required: int = REQUIRED) -> dict[str, CopyCall]:
    """Each judged copy's call, by SHA-256."""
    by_copy: dict[str, list[Verdict]] = defaultdict(list)
    for verdict in verdicts:
        by_copy[verdict.sha256].append(verdict)
    return {sha: settle_copy(group, required) for sha, group in sorted(by_copy.items())}
