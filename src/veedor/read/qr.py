"""QR reading strategy: which image variants to try, with which engine, in which order.

The fast path (the full image through zxing-cpp) comes first and reads nearly every
scan. When it fails, the ladder climbs, cheapest rung first:

1. cheap whole-image fixes: a white quiet zone (cut photos), half size, Otsu, a motion
   smear divided out (:mod:`veedor.read.deblur`);
2. the ends of a long receipt, padded (the QR prints at the bottom; upside-down scans
   put it at the top);
3. the QR region found by ``regions.find`` (zxing's own failed detections, OpenCV's
   finder patterns, a texture search), perspective-corrected into an upright square
   and tried with contrast, threshold, denoise and morphology variants, then with a
   second engine (OpenCV's Aruco-based detector);
4. an upscale for tiny photos.

Reading stops at the first payload that parses and passes the checks (the caller
decides, by stopping iteration); every attempt is kept as evidence, with the variant's
stable name, so a report can say which rung read each acta. A time budget bounds the
ladder, so a hostile or hopeless image cannot stall a worker.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

import numpy as np

from veedor.read import deblur, regions, variants
from veedor.read.engines import CodeEngine, OpenCvArucoEngine, OpenCvEngine, ZxingEngine


@dataclass
class Scene:
    """One image plus what the ladder learned about it, computed once and shared by rungs."""

    gray: np.ndarray
    _regions: list[regions.Region] | None = None
    _squares: dict[int, np.ndarray] = field(default_factory=dict)
    _deblurred: np.ndarray | None = None
    _deblurred_done: bool = False

    @property
    def regions(self) -> list[regions.Region]:
        if self._regions is None:
            self._regions = regions.find(self.gray)
        return self._regions

    def square(self, index: int) -> np.ndarray | None:
        """The ``index``-th candidate region, straightened into an upright square."""
        if index >= len(self.regions):
            return None
        if index not in self._squares:
            self._squares[index] = regions.warp(self.gray, self.regions[index])
        return self._squares[index]

    def deblurred(self) -> np.ndarray | None:
        """The image with its blur divided out; None when it shows none."""
        if not self._deblurred_done:
            found = deblur.smear(self.gray)
            self._deblurred = None if found is None else deblur.deblurred(self.gray, found)
            self._deblurred_done = True
        return self._deblurred

    def end(self, which: int) -> np.ndarray | None:
        ends = regions.receipt_ends(self.gray)
        return ends[which][1] if which < len(ends) else None


# A transform returns None when it does not apply to this image (no such region, not a
# receipt...); the rung is then skipped without a decode and without a record.
Transform = Callable[[Scene], "np.ndarray | None"]


@dataclass(frozen=True)
class Attempt:
    variant: str
    transform: Transform
    engine: str = "zxing"


def _identity(scene: Scene) -> np.ndarray:
    return scene.gray


def _whole(fn: Callable[[np.ndarray], np.ndarray]) -> Transform:
    return lambda scene: fn(scene.gray)


def _end(which: int, fn: Callable[[np.ndarray], np.ndarray] = variants.pad) -> Transform:
    def transform(scene: Scene) -> np.ndarray | None:
        part = scene.end(which)
        return None if part is None else fn(part)

    return transform


def _square(index: int, fn: Callable[[np.ndarray], np.ndarray] | None = None) -> Transform:
    def transform(scene: Scene) -> np.ndarray | None:
        sq = scene.square(index)
        return None if sq is None or fn is None else fn(sq)

    return transform if fn is not None else (lambda scene: scene.square(index))


def _small_upscale(scene: Scene) -> np.ndarray | None:
    # Only for small photos: upscaling a full scan costs time and adds nothing.
    h, w = scene.gray.shape[:2]
    return variants.scale(scene.gray, 2.0) if h * w <= 1_500_000 else None


def _half(gray: np.ndarray) -> np.ndarray:
    return variants.scale(gray, 0.5)


def _smooth_otsu(gray: np.ndarray) -> np.ndarray:
    return variants.otsu(variants.smooth(gray, 2.0))


def _sharpen_strong(gray: np.ndarray) -> np.ndarray:
    # A wide unsharp mask partly undoes motion smear longer than a module.
    return variants.sharpen(gray, sigma=4.0, amount=2.0)


def _region_rungs(index: int) -> list[Attempt]:
    """Variants of one straightened region, ordered by how often they rescued a read."""
    tag = f"qr{index + 1}"
    return [
        Attempt(f"{tag}-warp", _square(index)),
        Attempt(f"{tag}-warp+clahe", _square(index, variants.clahe)),
        Attempt(f"{tag}-warp+close", _square(index, variants.close)),
        Attempt(f"{tag}-warp+median", _square(index, lambda g: variants.median(g, 5))),
        Attempt(f"{tag}-warp+smooth+otsu", _square(index, _smooth_otsu)),
        Attempt(f"{tag}-warp+sharpen", _square(index, variants.sharpen)),
        Attempt(f"{tag}-warp+sharpen-strong", _square(index, _sharpen_strong)),
        Attempt(f"{tag}-warp+half", _square(index, _half)),
        Attempt(f"{tag}-warp+adaptive", _square(index, variants.adaptive)),
        Attempt(f"opencv-aruco:{tag}-warp", _square(index), engine="opencv-aruco"),
        Attempt(f"opencv-aruco:{tag}-warp+clahe", _square(index, variants.clahe), "opencv-aruco"),
    ]


LADDER: list[Attempt] = [
    Attempt("full", _identity),
    Attempt("full+pad", _whole(variants.pad)),
    Attempt("end-a+pad", _end(0)),
    Attempt("end-b+pad", _end(1)),
    Attempt("full+half", _whole(_half)),
    Attempt("full+otsu", _whole(variants.otsu)),
    # A smear longer than a module blurs modules together; divided out, the fast path reads
    # it again (every motion-blurred QR of the reading bench that has a QR at all).
    Attempt("full+deblurred", lambda scene: scene.deblurred()),
    Attempt("end-a+clahe+pad", _end(0, lambda g: variants.pad(variants.clahe(g)))),
    *_region_rungs(0),
    *_region_rungs(1),
    Attempt("full+x2", _small_upscale),
    Attempt("full+smooth+otsu", _whole(_smooth_otsu)),
    *_region_rungs(2),
]

# Stop climbing after this long: a worker must move on (the print reader and a person
# remain). Measured fallbacks that succeed finish well inside it.
BUDGET_MS = 1500.0

_ENGINES: dict[str, CodeEngine] = {}
_FACTORIES: dict[str, Callable[[], CodeEngine]] = {
    "zxing": ZxingEngine,
    "opencv-aruco": OpenCvArucoEngine,
    "opencv": OpenCvEngine,
}


def engine(name: str) -> CodeEngine:
    """Engines are created once per process (workers included) and reused."""
    if name not in _ENGINES:
        _ENGINES[name] = _FACTORIES[name]()
    return _ENGINES[name]


@dataclass(frozen=True)
class Decoded:
    """One attempt's outcome: texts found (possibly none), by which engine and variant."""

    engine: str
    variant: str
    texts: tuple[str, ...]
    ms: float


def attempts(
    gray: np.ndarray, ladder: list[Attempt] | None = None, budget_ms: float = BUDGET_MS
) -> Iterator[Decoded]:
    """Run the ladder lazily; the caller stops iterating when it is satisfied.

    The first rung always runs; later rungs start only while the budget lasts. Each
    ``Decoded.ms`` includes the rung's own image work (region search included on the
    first rung that needs it).
    """
    scene = Scene(np.ascontiguousarray(gray))
    started = time.perf_counter()
    for i, step in enumerate(ladder or LADDER):
        if i and (time.perf_counter() - started) * 1000 > budget_ms:
            return
        t0 = time.perf_counter()
        image = step.transform(scene)
        if image is None:
            continue
        eng = engine(step.engine)
        texts = eng.decode(image)
        yield Decoded(eng.name, step.variant, tuple(texts), (time.perf_counter() - t0) * 1000)
