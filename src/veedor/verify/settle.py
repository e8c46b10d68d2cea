"""People settle what the machine could not: blind entries in, a settlement (or the next step) out.

Pure functions of the entries, so that the CLI, the desk and ``veedor check`` agree:

- an acta is settled when ``required`` reviewers (default 2), each typing blind, typed the
  same numbers (Mexico's PREP: two typists in different places, published when they agree);
- or when one reviewer typed the numbers of a QR that failed only for want of confirmation
  (a QR read whole with no print to compare it with, and no other QR saying otherwise): two
  independent sources agree;
- a supervisor's entry settles it alone (after reviewers disagreed, or to override);
- reviewers who disagree send it to one more reviewer; past ``required + 1`` entries with no
  agreement, to a supervisor.

A reviewer's score grows with each disagreement with the settled numbers, by the size of the
difference (EscrutinioSocial's antitrolling); past a threshold they are flagged, and
everything they helped settle goes back to the queue.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

Typed = tuple[tuple[int, ...], int, int]
"""(votes in ballot order, nulos, blank): what a person types for one acta."""

REQUIRED = 2
TROLL_POINTS = 100
"""A reviewer whose entries differ from settled numbers by more than this, in total, over at
least ``TROLL_ENTRIES`` actas, is flagged: one slip of a digit is not sabotage; a pattern is."""
TROLL_ENTRIES = 2


@dataclass(frozen=True)
class Entry:
    id: int
    reviewer: str
    """Pseudonym: the only name people are known by."""
    typed: Typed
    supervisor: bool = False


@dataclass(frozen=True)
class Settlement:
    typed: Typed | None
    """The settled numbers; None while not settled."""
    basis: str
    """"agreement", "machine", "supervisor", or what is needed next: "entry", "supervisor"."""
    entries: tuple[int, ...] = ()
    """The entries that settled it."""

    @property
    def settled(self) -> bool:
        return self.typed is not None


def settle(entries: Iterable[Entry], machine: Iterable[Typed] = (), required: int = REQUIRED) -> Settlement:
    """What the entries of one acta settle. ``machine``: the numbers of its QR-only copies."""
    ordered = sorted(entries, key=lambda e: e.id)
    supervised = [e for e in ordered if e.supervisor]
    if supervised:  # the latest supervisor's word is the decision
        last = supervised[-1]
        return Settlement(last.typed, "supervisor", (last.id,))
    latest: dict[str, Entry] = {}
    for entry in ordered:  # a reviewer who typed twice counts once, with their latest entry
        latest[entry.reviewer] = entry
    groups: dict[Typed, list[Entry]] = defaultdict(list)
    for entry in latest.values():
        groups[entry.typed].append(entry)
    agreeing = [(typed, group) for typed, group in groups.items() if len(group) >= required]
    if len(agreeing) == 1:
        typed, group = agreeing[0]
        return Settlement(typed, "agreement", tuple(sorted(e.id for e in group)))
    read = set(machine)
    if not agreeing and len(read) == 1:  # QR copies that disagree with each other vouch for nothing
        matches = [(typed, group) for typed, group in groups.items() if typed in read]
        if len(matches) == 1 and len(groups) == 1:
            typed, group = matches[0]
            return Settlement(typed, "machine", tuple(sorted(e.id for e in group)))
    if len(latest) > required:
        return Settlement(None, "supervisor")
    return Settlement(None, "entry")


def difference(a: Typed, b: Typed) -> int:
    """How far apart two entries are: the sum of the absolute differences, line by line."""
    if len(a[0]) != len(b[0]):
        return sum(a[0]) + sum(b[0]) + a[1] + b[1] + a[2] + b[2]
    return sum(abs(x - y) for x, y in zip(a[0], b[0], strict=True)) + abs(a[1] - b[1]) + abs(a[2] - b[2])


@dataclass(frozen=True)
class Score:
    points: int
    disagreements: int
    entries: int

    def flagged(self, points: int = TROLL_POINTS, disagreements: int = TROLL_ENTRIES) -> bool:
        return self.points > points and self.disagreements >= disagreements


def scores(entries: Iterable[tuple[Entry, Typed]]) -> dict[str, Score]:
    """Each reviewer's score from (their entry, the acta's settled numbers) pairs."""
    points: dict[str, list[int]] = defaultdict(list)
    for entry, settled in entries:
        points[entry.reviewer].append(difference(entry.typed, settled))
    return {
        who: Score(sum(diffs), sum(1 for d in diffs if d), len(diffs))
        for who, diffs in sorted(points.items())
    }


def flagged(all_scores: Mapping[str, Score]) -> set[str]:
    return {who for who, score in all_scores.items() if score.flagged()}
