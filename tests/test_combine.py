"""Several views' readings combined: count by count with the QR known, as strict as one
view; without it, a whole table from one view and the totals that fit it from another."""

from __future__ import annotations

from dataclasses import replace

from hypothesis import given, settings
from hypothesis import strategies as st

from veedor.model import ActaCounts
from veedor.read.print.checks import qr_print_check
from veedor.read.print.combine import MISPLACED, combine, combine_print
from veedor.read.print.parse import PrintReading, print_reading_checks
from veedor.read.print.rows import Line
from veedor.read.print.words import to_words

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


CENTRE = QR.centre
TABLE = [120, 7, 0, 3, 55, 1]  # sums to 186; nulos 4, votos 190


def _print_only(
    votes: list[int | None],
    totals: tuple[int | None, int | None, int | None],
    acta_id: str | None = QR.acta_id,
    centre: str | None = CENTRE,
) -> PrintReading:
    """A view's reading without a QR: ``votes`` (None: unreadable) and its votos, válidos,
    nulos (None: the row's digits and words disagree)."""
    lines: list[Line | None] = [
        Line(f"L{p}", None, None, "", "") if v is None else _line(f"L{p}", v) for p, v in enumerate(votes)
    ]
    summary = {
        key: Line(key, 45, None, "45", "") if value is None else _line(key, value)
        for key, value in zip(("votos", "validos", "nulos"), totals, strict=True)
    }
    acta, checks = print_reading_checks(lines, summary, acta_id, centre, len(votes), None, 1)
    return PrintReading(acta, tuple(lines), summary, {}, acta_id, centre, None, tuple(checks), "test", 1.0)


def test_without_qr_a_whole_table_takes_the_totals_that_fit_it() -> None:
    """The QR-less acta at low resolution: one view reads every line but loses a summary
    row, so its totals shift and still add up (190, 0, 190); another view loses a table
    row (its lines shift) but reads the totals. Neither holds; together they do."""
    table_view = _print_only(TABLE, (190, 0, 190))
    totals_view = _print_only([120, 7, 3, 55, 1, None], (190, 186, 4), centre=None)
    assert not table_view.agrees and not totals_view.agrees
    both = combine_print([("plain", table_view), ("sharpened:3", totals_view)])
    assert both is not None and both.agrees, [c.detail for c in both.checks if not c.passed]
    assert both.acta.votes == tuple(TABLE) and both.acta.nulos == 4
    assert both.acta.acta_id == QR.acta_id
    assert "plain" in both.notes[0] and "sharpened:3" in both.notes[0]


def test_without_qr_valid_votes_unread_are_what_both_sums_say() -> None:
    table_view = _print_only(TABLE, (None, None, None))
    totals_view = _print_only([120, 7, None, 3, 55, 1], (190, None, 4))
    both = combine_print([("plain", table_view), ("smoothed:5", totals_view)])
    assert both is not None and both.agrees
    assert both.summary["validos"].value == 186 and both.summary["validos"].inferred == "sums"


def test_without_qr_two_whole_tables_that_differ_are_not_combined() -> None:
    """Two views read every line, each with its digits and words agreeing, and differ:
    one of them misread, and without the QR nothing says which."""
    one = _print_only(TABLE, (190, 0, 190))
    other = _print_only([120, 7, 0, 3, 54, 2], (None, None, None))
    totals = _print_only([None] * 6, (190, 186, 4))
    assert combine_print([("plain", one), ("warp", other), ("smoothed:3", totals)]) is None


def test_without_qr_two_sets_of_totals_that_fit_are_not_combined() -> None:
    table_view = _print_only(TABLE, (None, None, None))
    a = _print_only([None] * 6, (190, 186, 4))
    b = _print_only([None] * 6, (196, 186, 10))
    assert combine_print([("plain", table_view), ("a", a), ("b", b)]) is None


def test_without_qr_views_reading_different_acta_ids_are_not_combined() -> None:
    table_view = _print_only(TABLE, (None, None, None))
    totals_view = _print_only([None] * 6, (190, 186, 4), acta_id="070704017.02.1.0001")
    assert combine_print([("plain", table_view), ("warp", totals_view)]) is None


def test_without_qr_a_table_with_a_count_only_inferred_is_not_whole() -> None:
    inferred = _print_only(TABLE, (None, None, None))
    lines = list(inferred.lines)
    lines[1] = replace(lines[1], inferred="sums")  # type: ignore[type-var]
    inferred = replace(inferred, lines=tuple(lines))
    totals_view = _print_only([None] * 6, (190, 186, 4))
    assert combine_print([("plain", inferred), ("warp", totals_view)]) is None
