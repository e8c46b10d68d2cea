"""Properties of the payload parser and the importers, held over generated inputs.

The parser: a valid payload gives back its own numbers; any text parses or is refused with a
PayloadError, never anything else. The importers: a valid table of N rows imports N rows with
the numbers it was made from, however it is encoded; random cells are refused by line (or the
file with a TableError), never with another exception, and no line is lost without a word.
"""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select

from test_battery_imports import assert_consistent
from veedor.definitions import load_definition
from veedor.definitions.parsers import PayloadError, parse_payload
from veedor.ingest.tables import TableError, import_results_table
from veedor.model import ActaCounts
from veedor.simulate.hostile_tables import v1_slice
from veedor.store import open_store
from veedor.store.schema import ResultRow, ResultTable, ResultVotes

DEFINITION = load_definition("ve-2024-presidential")
POSITIONS = len(DEFINITION.ballot)
CANDIDATES = DEFINITION.candidate_codes
HEADER = v1_slice()[0]
SETTINGS = settings(
    max_examples=60,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)

# --- the payload parser ----------------------------------------------------------------------

counts = st.integers(-999_999_999, 999_999_999)
space = st.sampled_from(["", " ", "  "])


@st.composite
def payloads(draw: st.DrawFn) -> tuple[str, ActaCounts]:
    centre = draw(st.from_regex(r"\A[0-9]{9}\Z"))
    mesa = draw(st.integers(0, 99))
    acta_id = f"{centre}.{mesa:02d}.{draw(st.integers(0, 9))}.{draw(st.integers(0, 9999)):04d}"
    votes = draw(st.lists(counts, min_size=POSITIONS, max_size=POSITIONS))
    nulos, blank = draw(counts), draw(counts)
    shown = ",".join(f"{draw(space)}{v}{draw(space)}" for v in votes)
    text = f"{draw(space)}{acta_id}!{shown}!{draw(space)}{nulos}!{blank}{draw(space)}"
    return text, ActaCounts(acta_id, centre, mesa, tuple(votes), nulos, {"blank": blank})


@SETTINGS
@given(payloads())
def test_a_valid_payload_gives_back_its_own_numbers(made: tuple[str, ActaCounts]):
    text, expected = made
    assert parse_payload(text, DEFINITION) == expected


def _mutated(draw: st.DrawFn, text: str) -> str:
    chars = list(text)
    for _ in range(draw(st.integers(1, 5))):
        at = draw(st.integers(0, max(0, len(chars) - 1)))
        op = draw(st.sampled_from(["replace", "insert", "delete"]))
        char = draw(st.characters() | st.sampled_from("!,.-0123456789١٢０ \n"))
        if op == "replace" and chars:
            chars[at] = char
        elif op == "insert":
            chars.insert(at, char)
        elif chars:
            del chars[at]
    return "".join(chars)


@st.composite
def mutated_payloads(draw: st.DrawFn) -> str:
    return _mutated(draw, draw(payloads())[0])


any_text = st.text(max_size=600) | mutated_payloads()


@SETTINGS
@given(any_text)
def test_any_text_parses_or_is_a_payload_error(text: str):
    try:
        acta = parse_payload(text, DEFINITION)
    except PayloadError as exc:
        assert str(exc)  # a reason, always
        return
    # What parses is what the grammar says: ASCII digits where the numbers are.
    assert re.fullmatch(r"[0-9]{9}", acta.centre) and 0 <= acta.mesa <= 99
    assert all(isinstance(v, int) and abs(v) <= 999_999_999 for v in (*acta.votes, acta.nulos))


# --- the importers ---------------------------------------------------------------------------


@pytest.fixture(scope="module")
def template(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("props") / "empty.db"
    open_store(str(path)).engine.dispose()
    return path


class Fresh:
    """A new database for each example (a fixture would be shared by all of them)."""

    def __init__(self, template: Path, folder: Path) -> None:
        self.template, self.folder, self.n = template, folder, 0

    def __call__(self):
        self.n += 1
        db = self.folder / f"p{self.n}.db"
        shutil.copy(self.template, db)
        return open_store(str(db)), self.folder / f"p{self.n}.csv"


@pytest.fixture
def fresh(template, tmp_path) -> Fresh:
    return Fresh(template, tmp_path)


names = st.text(
    st.characters(codec="latin-1", exclude_categories=("Cs", "Cc")) | st.sampled_from(',"\n[]/='), max_size=12
)
DIGITS = {"ascii": "0123456789", "arabic": "٠١٢٣٤٥٦٧٨٩", "fullwidth": "０１２３４５６７８９"}


@st.composite
def valid_tables(draw: st.DrawFn) -> tuple[list[dict[str, object]], str, str, str]:
    """(the rows' numbers, the CSV text, its encoding, its line ending)."""
    keys = draw(
        st.lists(
            st.tuples(st.integers(1, 24), st.integers(1, 999_999), st.integers(1, 60)),
            min_size=1,
            max_size=25,
            unique_by=lambda k: (k[0], k[1], k[2]),
        )
    )
    rows, lines = [], []
    for state, rest, mesa in keys:
        votes = {c: draw(st.integers(0, 150)) for c in CANDIDATES}
        nulos = draw(st.integers(0, 50))
        valid = sum(votes.values())
        electors = draw(st.integers(valid + nulos, 2000))
        centre = f"{state:02d}{rest:07d}"
        rows.append({"centre": centre, "mesa": mesa, "valid": valid, "votes": votes})
        digits = DIGITS[draw(st.sampled_from(sorted(DIGITS)))]

        def number(n: int, digits: str = digits) -> str:
            return draw(space) + "".join(digits[int(c)] for c in str(n)) + draw(space)

        cells = {
            "COD_EDO": str(state),
            "EDO": draw(names),
            "COD_MUN": "1",
            "MUN": draw(names),
            "COD_PAR": "1",
            "PAR": draw(names),
            "CENTRO": number(int(centre)) if draw(st.booleans()) else centre,
            "MESA": number(mesa),
            "RE": number(electors),
            "VOTOS_VALIDOS": number(valid),
            "VOTOS_NULOS": number(nulos),
            **{c: number(v) for c, v in votes.items()},
            "URL": "https://example.org/" + draw(names),
        }
        lines.append([cells[h] for h in HEADER])
    end = draw(st.sampled_from(["\n", "\r\n", "\r"]))
    text = "".join(_csv_line(line) + end for line in [HEADER, *lines])
    return rows, text, draw(st.sampled_from(["utf-8", "utf-8-sig", "utf-16", "cp1252"])), end


def _csv_line(cells: list[str]) -> str:
    """RFC 4180 quoting (the csv module leaves a "\n" bare when its line ending is "\r")."""
    return ",".join('"' + c.replace('"', '""') + '"' if any(ch in c for ch in ',"\r\n') else c for c in cells)


@SETTINGS
@given(valid_tables())
def test_a_valid_table_of_n_rows_imports_n_rows_with_its_numbers(fresh: Fresh, made):
    rows, text, encoding, _ = made
    store, path = fresh()
    try:
        path.write_bytes(text.encode(encoding))
    except UnicodeEncodeError:
        path.write_bytes(text.encode("utf-8"))
    with store.session() as session:
        summary = import_results_table(session, path, DEFINITION)
        session.commit()
        assert summary.errors == [] and summary.rows == len(rows)
        stored = {
            candidate: n
            for candidate, n in session.execute(
                select(ResultVotes.candidate, func.sum(ResultVotes.votes)).group_by(ResultVotes.candidate)
            )
        }
        assert stored == {c: sum(r["votes"][c] for r in rows) for c in CANDIDATES}
        got = {(r.centre, r.mesa): r.valid for r in session.scalars(select(ResultRow))}
        assert got == {(r["centre"], r["mesa"]): r["valid"] for r in rows}
        assert_consistent(session, DEFINITION)
    store.engine.dispose()


cells = st.one_of(
    st.text(st.characters(exclude_characters='"\r\n'), max_size=12),
    st.integers(-(2**70), 2**70).map(str),
    st.integers(0, 3000).map(str),
    st.sampled_from(["", " ", "١٢", "０７", "²", "1e3", "12.0", "-0", "[/red]", "=1+1", "\x00", "\x1b[2J"]),
)


@st.composite
def hostile_tables(draw: st.DrawFn) -> list[list[str]]:
    """Rows of the V1 slice with random cells, cut short or grown, some repeated."""
    _, base = v1_slice()
    rows = []
    for _ in range(draw(st.integers(0, 12))):
        row = list(draw(st.sampled_from(base)))
        for _ in range(draw(st.integers(0, 3))):
            row[draw(st.integers(0, len(row) - 1))] = draw(cells)
        shape = draw(st.sampled_from(["same", "same", "same", "short", "long"]))
        if shape == "short":
            row = row[: draw(st.integers(0, len(row) - 1))]
        elif shape == "long":
            row = [*row, *draw(st.lists(cells, min_size=1, max_size=3))]
        rows.append(row)
    return rows


@SETTINGS
@given(hostile_tables(), st.sampled_from(["\n", "\r\n", "\r"]))
def test_random_cells_are_refused_by_line_and_no_line_is_lost_without_a_word(fresh: Fresh, rows, end):
    store, path = fresh()
    # Each row one physical line (no quotes, no line breaks in a cell): line n + 2 is row n.
    path.write_text(
        end.join([",".join(HEADER), *(",".join(r) for r in rows)]) + end,
        encoding="utf-8",
        errors="surrogatepass",
    )
    with store.session() as session:
        try:
            summary = import_results_table(session, path, DEFINITION)
        except TableError as exc:  # the only exception allowed out
            assert str(exc)
            return
        session.commit()
        kept = set(session.scalars(select(ResultRow.line)))
        assert len(kept) == summary.rows == session.scalar(select(ResultTable.rows))
        said: set[int] = set()
        for error in summary.errors:
            said.add(int(str(error["line"])))
            for pair in re.findall(r"líneas (\d+), (\d+)", str(error["error"])):
                said.update(int(n) for n in pair)
        lines = {n + 2 for n, r in enumerate(rows) if any(c.strip() for c in r)}
        assert kept <= lines and kept.isdisjoint(e["line"] for e in summary.errors)
        assert kept | said == lines, "every line imported, or refused with its number"
        assert_consistent(session, DEFINITION)
    store.engine.dispose()
