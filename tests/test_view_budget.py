"""How many views of one image are read: a fixed list, not a time budget, so that the
same image gives the same reading on a busy machine as on an idle one. The clock and the
reading are stand-ins here: the rule is about when a view starts, not what it reads."""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import pytest

from veedor.definitions import ElectionDefinition
from veedor.model import ActaCounts
from veedor.pipeline import worker
from veedor.read.print import views
from veedor.read.rectify import upright_views
from veedor.read.variants import retouched_views

QR = ActaCounts("070704017.03.1.0001", "070704017", 3, (449,) + (0,) * 37, 0)


def _views_read(
    monkeypatch: pytest.MonkeyPatch,
    definition: ElectionDefinition,
    seconds_each: float,
    qr: ActaCounts | None = None,
) -> int:
    clock = [0.0]
    started: list[float] = []

    def slow_reading(image: np.ndarray, definition: ElectionDefinition, expect: object = None) -> None:
        started.append(clock[0])
        clock[0] += seconds_each
        return None  # no table in any view: every view is tried

    monkeypatch.setattr(views, "time", SimpleNamespace(perf_counter=lambda: clock[0]))
    monkeypatch.setattr(views, "read_print", slow_reading)
    worker.read_print_views(_grey_scan(), definition, qr, True)
    assert all(t <= (worker.PRINT_ONLY_SAFETY_S if qr is None else worker.SAFETY_S) for t in started)
    return len(started)


def _grey_scan() -> np.ndarray:
    # Receipt-shaped and grainy (a dark scan): read plain, then its retouched views.
    return np.random.default_rng(7).normal(120, 30, (2400, 240)).clip(0, 255).astype(np.uint8)


def _views() -> int:
    scan = _grey_scan()
    return 1 + len(list(upright_views(scan, limit=2))) + len(list(retouched_views(scan)))


@pytest.mark.parametrize("qr", [QR, None], ids=["qr-read", "print-only"])
def test_every_view_is_read_however_long_each_takes(
    qr: ActaCounts | None, monkeypatch: pytest.MonkeyPatch, definition: ElectionDefinition
) -> None:
    """4.5 s a reading (a busy machine) still reaches the last retouched view: a
    time budget used to stop after the fourth and turn a dark photo's ok into review."""
    assert _views() >= 5
    assert _views_read(monkeypatch, definition, 4.5, qr) == _views()
    assert _views_read(monkeypatch, definition, 0.5, qr) == _views()


@pytest.mark.parametrize("qr", [QR, None], ids=["qr-read", "print-only"])
def test_a_hopeless_image_stops_at_the_safety_limit(
    qr: ActaCounts | None, monkeypatch: pytest.MonkeyPatch, definition: ElectionDefinition
) -> None:
    limit = worker.PRINT_ONLY_SAFETY_S if qr is None else worker.SAFETY_S
    assert _views_read(monkeypatch, definition, limit / 2.5, qr) == 3 < _views()


@pytest.mark.parametrize(
    ("plain_finds_table", "order"),
    [
        (False, ["plain", "straightened", "plain+0", "plain+1", "straightened+0", "straightened+1"]),
        (True, ["plain", "straightened", "plain+0", "plain+1"]),
    ],
    ids=["no-table-in-plain", "table-in-plain"],
)
def test_a_scan_whose_plain_image_shows_no_table_is_retouched_plain_first(
    plain_finds_table: bool, order: list[str], monkeypatch: pytest.MonkeyPatch, definition: ElectionDefinition
) -> None:
    """A dark scan: grain hid the table from the plain image, and its straightened view
    (resampled, sharpened) read most lines; only the plain image's smoothed views read
    the rest. Both are retouched, the plain image first. A plain image that found a
    table keeps the old rule: the best reading so far is the one retouched."""
    from veedor.read import rectify

    scan = _grey_scan()
    what: dict[int, str] = {id(scan): "plain"}
    keep: list[np.ndarray] = []  # alive, so that no id is reused

    def tagged(image: np.ndarray, name: str) -> np.ndarray:
        keep.append(image)
        what[id(image)] = name
        return image

    def straightened(gray: np.ndarray, limit: int = 2) -> object:
        yield "deskew", tagged(gray.copy(), "straightened")

    def retouched(view: np.ndarray) -> object:
        for k in range(2):
            yield f"retouch{k}", tagged(view.copy(), f"{what[id(view)]}+{k}")

    read: list[str] = []

    def reading(image: np.ndarray, definition: ElectionDefinition, expect: object = None) -> object:
        read.append(what[id(image)])
        if read[-1].startswith("plain") and not plain_finds_table:
            return None
        return SimpleNamespace(agrees=False, as_dict=dict, engine="stand-in")

    monkeypatch.setattr(rectify, "upright_views", straightened)
    monkeypatch.setattr(views, "retouched_views", retouched)
    monkeypatch.setattr(views, "read_print", reading)
    monkeypatch.setattr(views, "combine_print", lambda seen: None)
    worker.read_print_views(scan, definition, None, True)
    assert read == order


@pytest.mark.parametrize("holds", [True, False], ids=["plain-holds", "plain-does-not-hold"])
def test_a_scan_whose_plain_reading_holds_is_never_straightened(
    holds: bool, monkeypatch: pytest.MonkeyPatch, definition: ElectionDefinition
) -> None:
    """Straightening a receipt (finding its edges, warping, enhancing) costs ~65 ms: it is
    done only when its view is going to be read, not to be thrown away once the plain
    reading holds (every clean scan paid it until the thirteenth round)."""
    from veedor.read import rectify

    made: list[str] = []

    def straightened(gray: np.ndarray, limit: int = 2) -> object:
        made.append("straightened")
        yield "deskew", gray.copy()

    read: list[int] = []

    def reading(image: np.ndarray, definition: ElectionDefinition, expect: object = None) -> object:
        read.append(1)
        return SimpleNamespace(agrees=holds, as_dict=dict, engine="stand-in")

    monkeypatch.setattr(rectify, "upright_views", straightened)
    monkeypatch.setattr(views, "retouched_views", lambda view: iter(()))
    monkeypatch.setattr(views, "read_print", reading)
    monkeypatch.setattr(views, "combine_print", lambda seen: None)
    worker.read_print_views(_grey_scan(), definition, None, True)
    assert made == ([] if holds else ["straightened"])
    assert len(read) == (1 if holds else 2)
