"""When a line's digits alone may confirm the QR: the chance that a printed count other than
the QR's is read as the QR's, from the recogniser's measured confusions (issue 25).

With the QR known, the print's job is to catch a pasted QR. A forged count is confirmed by
the digits alone only when the printed digits are *misread* as exactly the forged count. A
forger who knows the recogniser's slips ("5" read "6", "1" read "0") would choose the forged
counts to match them, so the risk of a line is the worst case over the counts one glyph off
the QR's (a glyph read as another, lost or added): the largest measured rate, taken at the
95 % upper bound of its count (a glyph seen 100 times and never misread still leaves 2.6 %).

The rates depend on how sure the recogniser was of the reading: they are kept per
confidence bin (``BINS``), measured on the tuning half of the real actas, clean and degraded,
through the reader's own first pass (``training/recogniser/confusions.py``), one table per
engine in ``read/models/<engine>.confusions.json``.

A QR that moves votes changes two lines at least; one that adds votes changes a line and the
printed totals válidos and votos no longer read as the QR's sums. A forgery passes only when
every number it changed is misread as forged. So the numbers whose digits equal the QR's are
left to their digits while no two of them carry a joint risk above ``ACTA_RISK``
(:func:`needing_words`); the riskiest of the others have their words read too, and are
confirmed only when the words spell the same count (the words' slips into another
well-formed count were measured far rarer, ``docs/reading.md``). When the printed válidos
and votos do not both read as the QR's sums, every line must stand alone: its risk within
``ACTA_RISK`` by itself. The bound assumes the misreads of two lines independent; rows read
one line off are placed by their party codes, not by this rule.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterable
from dataclasses import dataclass
from functools import cache, cached_property
from pathlib import Path
from typing import TypeVar

TABLE_DIR = Path(__file__).resolve().parents[1] / "models"
# Confidence bins: the recogniser's lowest per-glyph probability for the reading.
BINS: tuple[tuple[str, float], ...] = (("sure", 0.99), ("likely", 0.9), ("unsure", 0.5), ("guess", 0.0))
ACTA_RISK = 1e-3  # a forged acta confirmed by misread digits: at most this likely
Z = 1.645  # one-sided 95 %
FEW = 100  # a glyph seen fewer times than this in a bin is pooled with the others as rare
GLYPHS = "0123456789"
K = TypeVar("K")


def engine_key(engine: str) -> str:
    """The table's file stem for an engine name of :mod:`.recognise` ("ppocr", "acta")."""
    return "acta-rec" if engine == "acta" else engine


def bin_of(confidence: float) -> str:
    return next(name for name, low in BINS if confidence >= low)


def upper_bound(hits: int, n: int) -> float:
    """Wilson's one-sided 95 % upper bound of a rate seen ``hits`` times in ``n``."""
    if n <= 0:
        return 1.0
    p = hits / n
    denominator = 1 + Z * Z / n
    centre = (p + Z * Z / (2 * n)) / denominator
    half = Z / denominator * math.sqrt(p * (1 - p) / n + Z * Z / (4 * n * n))
    return min(1.0, centre + half)


@dataclass(frozen=True)
class Rates:
    """One confidence bin of a table (the shape ``confusions.py`` writes)."""

    counts: int
    glyphs: dict[str, int]
    read_as: dict[str, dict[str, int]]
    lost: int
    added: int

    def into(self, target: str) -> float:
        """The worst bound of another glyph read as ``target``. Glyphs seen fewer than
        ``FEW`` times in this bin are pooled: ten "9"s never misread bound nothing (21 %),
        and taken alone they would make every reading in the bin need its words."""
        sources = [a for a in GLYPHS if a != target]
        few = [a for a in sources if self.glyphs.get(a, 0) < FEW]
        bounds = [self._bound(a, target) for a in sources if a not in few]
        if few:
            hits = sum(self.read_as.get(a, {}).get(target, 0) for a in few)
            bounds.append(upper_bound(hits, sum(self.glyphs.get(a, 0) for a in few)))
        return max(bounds)

    def _bound(self, source: str, target: str) -> float:
        return upper_bound(self.read_as.get(source, {}).get(target, 0), self.glyphs.get(source, 0))

    @cached_property
    def _worst(self) -> tuple[float, dict[str, float]]:
        # Once per table: every line of every acta asks for these.
        slips = max(upper_bound(self.lost, self.counts), upper_bound(self.added, self.counts))
        return slips, {g: self.into(g) for g in GLYPHS}

    def risk(self, value: int) -> float:
        """The worst bound, over the counts one glyph off ``value``, of reading ``value``."""
        slips, into = self._worst
        return max(slips, *(into[g] for g in str(value)))


@dataclass(frozen=True)
class ConfusionTable:
    engine: str  # the recogniser's name when it was measured
    bins: dict[str, Rates]

    def risk(self, value: int, confidence: float) -> float:
        rates = self.bins.get(bin_of(confidence))
        return 1.0 if rates is None else rates.risk(value)


def parse_table(data: dict[str, object]) -> ConfusionTable:
    bins = data["bins"]
    assert isinstance(bins, dict)
    return ConfusionTable(
        str(data["engine"]),
        {
            name: Rates(b["counts"], b["glyphs"], b["read_as"], b["lost"], b["added"])
            for name, b in bins.items()
        },
    )


@cache
def table(engine: str) -> ConfusionTable | None:
    """The shipped table of ``engine`` ("ppocr", "acta"); None when none was measured."""
    path = TABLE_DIR / f"{engine_key(engine)}.confusions.json"
    if not path.is_file():
        return None
    return parse_table(json.loads(path.read_text()))


def digits_risk(value: int, confidence: float, engine: str) -> float:
    """The risk of confirming the QR's ``value`` by ``engine``'s reading of it at
    ``confidence`` (1 when no table was measured for the engine: the words are then always
    read)."""
    measured = table(engine)
    return 1.0 if measured is None else measured.risk(value, confidence)


def needing_words(risks: dict[K, float], kept: Iterable[float] = ()) -> set[K]:
    """The numbers whose words must be read so that no two numbers confirmed by their
    digits alone carry a joint risk above ``ACTA_RISK``: a forgery changes two numbers at
    least, and passes only when both are misread as forged. ``kept``: risks of numbers
    already left to their digits. The riskiest go first: once one may stay, all below may."""
    others = sorted(kept, reverse=True)
    order = sorted(risks, key=risks.__getitem__, reverse=True)
    out: set[K] = set()
    for i, key in enumerate(order):
        rest = [risks[k] for k in order[i + 1 : i + 2]] + others[:1]
        if risks[key] * max(rest, default=0.0) <= ACTA_RISK:
            break
        out.add(key)
    return out
