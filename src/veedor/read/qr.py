"""QR reading strategy: which image variants to try, with which engine, in which order.

The fast path (the full image through zxing-cpp) comes first; fallbacks are appended to
``LADDER`` as ``Attempt`` entries. Reading stops at the first payload that parses and
passes the checks, and every attempt is kept as evidence.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass

import numpy as np

from veedor.read.engines import CodeEngine, ZxingEngine

Transform = Callable[[np.ndarray], np.ndarray]


@dataclass(frozen=True)
class Attempt:
    variant: str
    transform: Transform
    engine: str = "zxing"


def _identity(gray: np.ndarray) -> np.ndarray:
    return gray


LADDER: list[Attempt] = [Attempt("full", _identity)]

_ENGINES: dict[str, CodeEngine] = {}


def engine(name: str) -> CodeEngine:
    """Engines are created once per process (workers included) and reused."""
    if name not in _ENGINES:
        factories: dict[str, Callable[[], CodeEngine]] = {"zxing": ZxingEngine}
        _ENGINES[name] = factories[name]()
    return _ENGINES[name]


@dataclass(frozen=True)
class Decoded:
    """One attempt's outcome: texts found (possibly none), by which engine and variant."""

    engine: str
    variant: str
    texts: tuple[str, ...]
    ms: float


def attempts(gray: np.ndarray, ladder: list[Attempt] | None = None) -> Iterator[Decoded]:
    """Run the ladder lazily; the caller stops iterating when it is satisfied."""
    for step in ladder or LADDER:
        start = time.perf_counter()
        eng = engine(step.engine)
        texts = eng.decode(step.transform(gray))
        yield Decoded(eng.name, step.variant, tuple(texts), (time.perf_counter() - start) * 1000)
