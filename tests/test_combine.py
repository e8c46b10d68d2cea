"""Several views' readings combined count by count, with the QR known: as strict as one view."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from veedor.model import ActaCounts
from veedor.read.print.combine import MISPLACED, combine
from veedor.read.print.parse import PrintReading, print_reading_checks
from veedor.read.print.rows import Line
from veedor.read.print.words import to_words
from veedor.verify.crosscheck import qr_print_check

QR = ActaCounts("070704017.03.1.0001", "070704017", 3, (120, 7, 0, 3, 55, 1), 4)


def _line(label: str, value: int, **kw: object) -> Line:
    return Line(label, value, value, str(value), to_words(value), **kw)  # type: ignore[arg-type]


def _reading(
    votes: list[int | None], nulos: int | None = 4, acta_id: str | None = QR.acta_id, **line_kw: object
) -> PrintReading:
    """A reading of the print that read ``votes`` (None: that line unreadable)."""
    lines: list[Line | None] = [
        Line(f"L{p}", None, None, "", "") if v is None else _line(f"L{p}", v, **line_kw)
        for p, v in enumerate(votes)
    ]
    total = sum(QR.votes)
    summary = {"votos": _line("votos", total + QR.nulos), "validos": _line("validos", total)}
    if nulos is not None:
        summary["nulos"] = _line("nulos", nulos)
    acta, checks = print_reading_checks(lines, summary, acta_id, None, len(votes), QR, 1)
    return PrintReading(acta, tuple(lines), summary, {}, acta_id, None, None, tuple(checks), "test", 1.0)


def _holds(reading: PrintReading | None) -> bool:
    return reading is not None and qr_print_check(QR, reading).passed


def test_views_that_each_miss_different_counts_read_the_sheet_together() -> None:
    a = _reading([120, None, 0, 3, 55, 1])
    b = _reading([120, 7, 0, None, 55, 1], nulos=None)
    assert not _holds(a) and not _holds(b)
    both = combine([("plain", a), ("smoothed:5", b)], QR)
    assert _holds(both)
    assert both is not None and "plain" in both.notes[0] and "smoothed:5" in both.notes[0]


def test_one_view_alone_is_never_combined() -> None:
    assert combine([("plain", _reading([120, None, 0, 3, 55, 1]))], QR) is None


def test_a_count_read_otherwise_in_any_view_stays_a_mismatch() -> None:
    """A forged QR: one view reads the printed 8 where the QR says 7; another cannot read it."""
    forged = [
        ("plain", _reading([120, 8, 0, None, 55, 1])),
        ("smoothed:5", _reading([120, None, 0, 3, 55, 1])),
    ]
    out = combine(forged, QR)
    assert out is not None and not _holds(out)
    assert "línea 2" in qr_print_check(QR, out).detail


def test_counts_only_inferred_are_not_taken() -> None:
    """Counts a view explained by the QR or left over by its sums do not fill another's gaps."""
    gap = _reading([120, None, 0, 3, 55, 1])
    inferred = _reading([120, 7, 0, 3, 55, 1], inferred="qr")
    assert not _holds(combine([("plain", gap), ("sharpened:1.5", inferred)], QR))
    by_sums = _reading([120, 7, 0, 3, 55, 1], inferred="sums")
    assert not _holds(combine([("plain", gap), ("smoothed:3", by_sums)], QR))


def test_a_view_with_its_rows_out_of_place_takes_no_part() -> None:
    shifted = _reading([7, 0, 3, 55, 1, 120])  # every row one line up
    assert sum(a != b for a, b in zip(shifted.acta.votes, QR.votes, strict=True)) > MISPLACED  # type: ignore[union-attr]
    gap = _reading([120, None, 0, 3, 55, 1])
    other_gap = _reading([120, 7, 0, None, 55, 1])
    assert combine([("plain", gap), ("warp", shifted)], QR) is None
    assert _holds(combine([("plain", gap), ("warp", shifted), ("smoothed:3", other_gap)], QR))


def test_another_printed_acta_id_in_any_view_stays_a_mismatch() -> None:
    a = _reading([120, None, 0, 3, 55, 1])
    b = _reading([120, 7, 0, 3, 55, 1], acta_id="070704017.05.1.0001")
    out = combine([("plain", a), ("smoothed:3", b)], QR)
    assert out is not None and not _holds(out)
    assert out.acta_id == "070704017.05.1.0001"


@settings(max_examples=200, deadline=None)
@given(
    st.lists(
        st.lists(st.one_of(st.none(), st.integers(0, 130)), min_size=6, max_size=6),
        min_size=2,
        max_size=5,
    )
)
def test_a_combined_reading_holds_only_if_every_count_was_read_as_the_qrs(
    views: list[list[int | None]],
) -> None:
    """Whatever the views read: the combination agrees with the QR only when each count
    was read equal to the QR's in some view taking part, and never read otherwise in one."""
    readings = [(f"v{k}", _reading(v)) for k, v in enumerate(views)]
    taking_part = [
        v
        for v in views
        if sum(1 for x, q in zip(v, QR.votes, strict=True) if x is not None and x != q) <= MISPLACED
    ]
    out = combine(readings, QR)
    expected = len(taking_part) >= 2 and all(
        any(v[p] == q for v in taking_part) and all(v[p] in (None, q) for v in taking_part)
        for p, q in enumerate(QR.votes)
    )
    assert _holds(out) == expected
