"""The import battery (issue 17): every hostile kind of table, bulletin and registry file,
through the library one by one and through the CLI all at once.

Nothing lost (every row but the refused ones is imported), nothing wrong counted (the
stored votes are the real rows' own, nothing past a bound is stored), and every failure a
clear message (the whole file with its reason, or each line with its number and reason).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections import Counter, defaultdict
from pathlib import Path

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from conftest import ROOT
from veedor.definitions import ElectionDefinition
from veedor.ingest.numbers import COUNT_MAX
from veedor.ingest.official import import_official
from veedor.ingest.registry import import_registry
from veedor.ingest.tables import TableError, import_results_table
from veedor.simulate.hostile_tables import (
    ImportKind,
    by_family,
    candidate_sums,
    kinds,
    v1_slice,
    write_all,
)
from veedor.store import Store, open_store
from veedor.store.official import NATIONAL, OfficialSource, OfficialUnit, OfficialVotes
from veedor.store.schema import GeoUnit, Mesa, ResultRow, ResultTable, ResultVotes

IMPORTERS = {"table": import_results_table, "bulletin": import_official, "registry": import_registry}


def test_the_battery_is_wide_enough():
    families = Counter(k.family for k in kinds())
    assert families["table"] >= 20 and families["bulletin"] >= 10 and families["registry"] >= 5
    for kind in kinds():
        assert kind.whole or kind.imported or kind.name.endswith("header_only"), kind.name
        assert not (kind.whole and (kind.refused or kind.imported)), kind.name
        assert len({r.line for r in kind.refused}) == len(kind.refused), kind.name


@pytest.fixture(scope="module")
def template(tmp_path_factory) -> Path:
    """An empty, migrated database, copied for each kind (migrating each costs more)."""
    path = tmp_path_factory.mktemp("template") / "empty.db"
    open_store(str(path)).engine.dispose()
    return path


@pytest.fixture
def fresh(template, tmp_path) -> Store:
    shutil.copy(template, tmp_path / "v.db")
    return open_store(str(tmp_path / "v.db"))


def _imported(summary, family: str) -> int:
    return len(summary.keys) if family == "bulletin" else summary.rows


@pytest.mark.parametrize("kind", kinds(), ids=lambda k: k.name)
def test_each_kind_imports_as_it_should(kind: ImportKind, fresh: Store, tmp_path, definition):
    importer = IMPORTERS[kind.family]
    folder = tmp_path / "in"
    folder.mkdir()
    with fresh.session() as session:
        if kind.before is not None:
            first = importer(session, kind.before(folder), definition)
            assert not first.errors
            session.commit()
        before = _contents(session)
        path = kind.make(folder)
        if kind.whole:
            with pytest.raises(TableError) as refused:
                importer(session, path, definition)
            assert kind.whole in str(refused.value)
            assert "Traceback" not in str(refused.value) and len(str(refused.value)) < 2000
            session.rollback()
            assert _contents(session) == before, "a file refused whole leaves nothing behind"
            return
        summary = importer(session, path, definition)
        session.commit()
        # Exactly the expected lines refused, each with its reason.
        reasons: dict[object, list[str]] = defaultdict(list)
        for error in summary.errors:
            reasons[error["line"]].append(str(error["error"]))
        assert set(reasons) == {r.line for r in kind.refused}, summary.errors
        for refusal in kind.refused:
            assert all(refusal.reason in why for why in reasons[refusal.line]), (refusal, reasons)
        # The rest imported, exactly.
        assert _imported(summary, kind.family) == kind.imported
        assert_consistent(session, definition)
        if kind.family == "table":
            _table_holds_the_real_numbers(session, kind, summary.table_id, definition)
        elif kind.family == "bulletin":
            assert sorted(summary.keys) == sorted(kind.keys)
            stored = set(session.scalars(select(OfficialSource.key)))
            assert stored == set(kind.keys)
        for code, name in kind.names:
            assert session.get(GeoUnit, (definition.id, code)).name == name


def _contents(session: Session) -> dict[str, int]:
    return {
        model.__tablename__: session.scalar(select(func.count()).select_from(model)) or 0
        for model in (ResultTable, ResultRow, ResultVotes, OfficialSource, OfficialUnit, GeoUnit, Mesa)
    }


def _table_holds_the_real_numbers(session: Session, kind: ImportKind, table_id: int, definition) -> None:
    """The stored rows are the slice's kept rows, with their real numbers: summed per candidate,
    and mesa by mesa."""
    stored = dict(
        session.execute(
            select(ResultVotes.candidate, func.sum(ResultVotes.votes))
            .join(ResultRow, ResultRow.id == ResultVotes.row_id)
            .where(ResultRow.table_id == table_id)
            .group_by(ResultVotes.candidate)
        ).all()
    )
    expected = candidate_sums(kind.kept, definition.candidate_codes)
    assert {c: stored.get(c, 0) for c in definition.candidate_codes} == expected
    header, rows = v1_slice()
    at = {h: i for i, h in enumerate(header)}
    real = {
        (rows[i][at["CENTRO"]].zfill(9), int(rows[i][at["MESA"]])): int(rows[i][at["VOTOS_VALIDOS"]])
        for i in kind.kept
    }
    got = {
        (centre, mesa): valid
        for centre, mesa, valid in session.execute(
            select(ResultRow.centre, ResultRow.mesa, ResultRow.valid).where(ResultRow.table_id == table_id)
        )
    }
    assert got == real


def assert_consistent(session: Session, definition: ElectionDefinition) -> None:
    """What any import must leave, whatever it was given."""
    bound = definition.max_voters_per_mesa or COUNT_MAX
    digits = definition.centre_code_digits
    candidates = set(definition.candidate_codes)
    for table in session.scalars(select(ResultTable)):
        n = session.scalar(select(func.count()).select_from(ResultRow).where(ResultRow.table_id == table.id))
        assert n == table.rows, f"table {table.name}: {n} rows stored, {table.rows} said"
    votes: dict[int, dict[str, int]] = defaultdict(dict)
    for row_id, candidate, n in session.execute(
        select(ResultVotes.row_id, ResultVotes.candidate, ResultVotes.votes)
    ):
        assert candidate not in votes[row_id], "one vote row per candidate"
        votes[row_id][candidate] = n
    rows = session.scalars(select(ResultRow)).all()
    assert set(votes) <= {r.id for r in rows}, "no result_votes without a row"
    for row in rows:
        assert set(votes[row.id]) == candidates, row.line
        assert row.valid == sum(votes[row.id].values()), row.line
        assert all(0 <= v <= bound for v in votes[row.id].values())
        assert len(row.centre) == digits and row.centre.isascii() and row.centre.isdigit()
        assert 1 <= row.mesa <= bound and row.nulos >= 0 and row.valid + row.nulos <= bound
        if row.electors is not None:
            assert row.valid + row.nulos <= row.electors <= bound
    lengths = {lv.code_digits for lv in definition.levels}
    for code in session.scalars(select(GeoUnit.code)):
        assert code.isascii() and code.isdigit() and len(code) in lengths, code
    for mesa in session.scalars(select(Mesa)):
        assert len(mesa.centre) == digits and mesa.centre.isascii() and mesa.centre.isdigit()
        assert 1 <= mesa.number <= bound and (mesa.electors is None or 0 <= mesa.electors <= bound)
    units = session.scalars(select(OfficialUnit)).all()
    assert {u.source_id for u in units} <= set(session.scalars(select(OfficialSource.id)))
    assert set(session.scalars(select(OfficialVotes.unit_id))) <= {u.id for u in units}
    for unit in units:
        assert unit.code == "" if unit.level == NATIONAL else unit.code.isascii() and unit.code.isdigit()
        for n in (unit.electors, unit.voters, unit.valid, unit.nulos, unit.others):
            assert n is None or 0 <= n <= COUNT_MAX
    assert all(0 <= v <= COUNT_MAX for v in session.scalars(select(OfficialVotes.votes)))
    for pct in session.scalars(select(OfficialSource.actas_pct)):
        assert pct is None or 0 <= pct <= 100
    try:
        from veedor.store.consistency import check_consistency
    except ImportError:  # written beside this battery
        return
    assert check_consistency(session, evidence_root=None).problems == []


# --- specific fixes, each held by its own test ---------------------------------------------------


def test_an_unclosed_quote_loses_only_its_line_and_later_lines_keep_their_numbers(
    tmp_path, store, definition
):
    """The csv module put the rest of the file in the quote's cell: every row after it was lost
    (past 128 KiB, the reader resumed, and each later line number was off by the lines swallowed)."""
    header, rows = v1_slice()
    lines = [",".join(header), *(",".join(r) for r in rows)]
    bad = list(rows[20])
    bad[header.index("VOTOS_VALIDOS")] = "1"
    lines[21] = ",".join(bad)  # line 22: refused for its sum
    lines[3] = '"' + lines[3]  # line 4: a quote never closed
    path = tmp_path / "t.csv"
    path.write_text("\n".join(lines) + "\n")
    with store.session() as session:
        summary = import_results_table(session, path, definition)
    assert [e["line"] for e in summary.errors] == [4, 22]
    assert summary.rows == 28


def test_a_mesa_list_does_not_blank_the_registry_a_centres_file_gave(tmp_path, store, definition):
    """samples/registry/mesas_*.csv has centro_code and no names: it was taken for a centres
    file, and its empty names and totals replaced the centres' (13,848 of them)."""
    from conftest import CENTRES
    from veedor.simulate.hostile_tables import MESAS

    with store.session() as session:
        import_registry(session, CENTRES, definition)
        session.commit()
        named = session.scalar(select(func.count()).select_from(GeoUnit).where(GeoUnit.name.is_not(None)))
        with pytest.raises(TableError, match="no se reconoce"):
            import_registry(session, MESAS, definition)
        session.rollback()
        assert (
            session.scalar(select(func.count()).select_from(GeoUnit).where(GeoUnit.name.is_not(None)))
            == named
        )


def test_a_later_file_without_totals_keeps_the_totals_an_earlier_one_gave(tmp_path, store, definition):
    """Centres imported after the unit totals used to set every state's mesas_total back to None."""
    from conftest import CENTRES
    from v1db import UNITS

    with store.session() as session:
        import_registry(session, CENTRES, definition)
        import_registry(session, UNITS, definition)
        session.commit()
        before = session.get(GeoUnit, (definition.id, "01")).mesas_total
        import_registry(session, CENTRES, definition)
        session.commit()
        assert before == 2260 and session.get(GeoUnit, (definition.id, "01")).mesas_total == 2260


def test_a_bulletin_csv_leaves_out_the_candidates_it_does_not_give(tmp_path, store, definition):
    """An empty cell is a candidate the bulletin did not give, not 0 votes to compare with."""
    kind = next(k for k in by_family("bulletin") if k.name == "bulletin_csv_empty_cells")
    with store.session() as session:
        import_official(session, kind.make(tmp_path), definition)
        given = set(session.scalars(select(OfficialVotes.candidate)))
    assert given == {"EG", "NM"}


def test_a_per_mesa_official_table_is_not_quadratic():
    """Each unit's duplicates were counted with list.count: V1 as official per-mesa data took
    17 s instead of 3, and a national table of 30,000 mesas, minutes."""
    import time

    from veedor.ingest.official import _Source, _units_unique

    units = [{"level": "mesa", "code": f"{c:09d}", "mesa": m} for c in range(1, 20_001) for m in (1, 2)]
    units.append({"level": "mesa", "code": "000000007", "mesa": 2})
    errors: list[dict[str, object]] = []
    started = time.monotonic()
    assert not _units_unique(_Source("k", {}, units), errors)
    assert time.monotonic() - started < 2  # ~0.02 s; with list.count, over a minute
    assert "000000007.2" in str(errors[0]["error"])


# --- one CLI run per family over every file ------------------------------------------------------


def _cli(*args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(ROOT / "src")}
    env.pop("VEEDOR_DEBUG", None)
    return subprocess.run(
        # In Spanish: the battery's expected reasons are the Spanish halves of the messages.
        [sys.executable, "-m", "veedor", "--lang", "es", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )


def test_the_cli_takes_every_file_of_the_battery_in_one_run(tmp_path, definition):
    db = tmp_path / "battery.db"
    runs, paths = {}, {}
    for family, command in (
        ("table", "import-results"),
        ("bulletin", "import-official"),
        ("registry", "import-registry"),
    ):
        paths[family] = write_all(tmp_path / family, family)
        runs[family] = _cli(command, *map(str, paths[family]), "--db", str(db))
    for family, ran in runs.items():
        said = ran.stdout + ran.stderr
        assert "Traceback" not in said, said[-3000:]
        # 2: some file could not be imported (each family has kinds refused whole).
        assert ran.returncode == 2, (family, said[-3000:])
    tables, registry = runs["table"], runs["registry"]
    table_kinds = by_family("table")
    with open_store(str(db)).session() as session:
        assert_consistent(session, definition)
        # Tables: each file its own transaction; one refused whole is reported and the run goes on.
        stored = {name: rows for name, rows in session.execute(select(ResultTable.name, ResultTable.rows))}
        expected = {
            path.name: k.imported for k, path in zip(table_kinds, paths["table"], strict=True) if not k.whole
        }
        assert stored == expected
        said = " ".join(tables.stderr.split())
        assert all(k.whole in said for k in table_kinds if k.whole)
        assert all(path.name in said for path in paths["table"])  # each file said what became of it
        assert "[red]t[bold].csv" in said  # markup in a file name shown, not run
        said = " ".join(registry.stderr.split())
        assert all(k.whole in said for k in by_family("registry") if k.whole)
        assert session.scalar(select(func.count()).select_from(Mesa)) == 30
        bulletin_keys = set(session.scalars(select(OfficialSource.key)))
    bulletins = by_family("bulletin")
    # Bulletins too: a file refused whole is reported and the others are imported.
    assert bulletin_keys == {key for k in bulletins for key in k.keys}
    said = " ".join(runs["bulletin"].stderr.split())
    assert all(k.whole in said for k in bulletins if k.whole)
