"""PostgreSQL against SQLite: the same data, the same run, as ratios (PostgreSQL time / SQLite time).

1. The 1,000,000-mesa tallies at every level (the synthetic table of ``bench_tally.py``: one
   result row per mesa, one vote row per candidate, the registry's mesas and units), loaded into
   a SQLite file and into a PostgreSQL database. For each: the columnar snapshot built from the
   database (what every new process on PostgreSQL pays: there is no Parquet copy beside a server),
   then each level's tally, first call and again (snapshot in memory), and the SQL tally.
2. ``compare`` and ``scenario`` (and the state/centre tallies) on the Venezuelan data (V1 table,
   registry, CNE bulletins) imported into both, as functions and as whole commands.

Run:  .ci/postgres                  # a throw-away server; prints its URL
      PYTHONPATH=src python bench/bench_postgres.py --url postgresql+psycopg://veedor@127.0.0.1:54329/veedor
      (or VEEDOR_TEST_DB_URL set; --mesas 1000000 by default; --skip-sql leaves out the SQL tallies)
Each database is created for the run and dropped at its end.
"""

from __future__ import annotations

import argparse
import io
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import pandas as pd
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url
from sqlalchemy.pool import NullPool

from bench_tally import LEVELS, load_store, synthetic, timed
from veedor.definitions import load_definition
from veedor.ingest.official import import_official
from veedor.ingest.registry import import_registry
from veedor.ingest.tables import import_results_table
from veedor.store import Store, open_store
from veedor.tally import tally
from veedor.tally.columnar import _MEMORY, tally_columnar, verified_frame
from veedor.tally.compare import compare
from veedor.tally.scenario import scenario

ROOT = Path(__file__).resolve().parents[1]
SAMPLES = ROOT / "samples"
ELECTION = "ve-2024-presidential"


class Server:
    """Databases made on the server for this run, dropped at its end."""

    def __init__(self, url: str) -> None:
        self.url = make_url(url)
        self.made: list[str] = []

    def _admin(self, sql: str) -> None:
        engine = create_engine(self.url, isolation_level="AUTOCOMMIT", poolclass=NullPool)
        with engine.connect() as conn:
            conn.execute(text(sql))
        engine.dispose()

    def new(self, label: str) -> str:
        name = f"veedor_bench_{label}_{os.getpid()}"
        self._admin(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
        self._admin(f"CREATE DATABASE {name}")
        self.made.append(name)
        return self.url.set(database=name).render_as_string(hide_password=False)

    def drop_all(self) -> None:
        for name in self.made:
            self._admin(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")


def _copy(cursor, table: str, columns: str, rows: pd.DataFrame) -> None:  # type: ignore[no-untyped-def]
    """COPY a frame in (PostgreSQL's bulk load: what an import of this size would use)."""
    buffer = io.StringIO()
    rows.to_csv(buffer, index=False, header=False, na_rep="")
    buffer.seek(0)
    with cursor.copy(f"COPY {table} ({columns}) FROM STDIN WITH (FORMAT csv)") as copy:
        while chunk := buffer.read(1 << 20):
            copy.write(chunk)


def load_postgres(frame: pd.DataFrame, cands: list[str], url: str) -> None:
    """The rows ``bench_tally.load_store`` puts in SQLite, the same ids and values."""
    import psycopg

    open_store(url).engine.dispose()  # the migrations: the same schema as SQLite's
    ids = np.arange(1, len(frame) + 1)
    dsn = make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)
    with psycopg.connect(dsn) as conn, conn.cursor() as cur:
        cur.execute(
            "INSERT INTO result_tables (id, election, name, sha256, path, format, encoding, rows, errors, "
            "imported_at) VALUES (1, %s, 'synthetic', 'x', 'synthetic', 'resultadosconvzla', 'utf-8', %s, "
            "'[]', %s)",
            (ELECTION, len(frame), datetime.now(UTC)),
        )
        rows = pd.DataFrame(
            {
                "id": ids,
                "table_id": 1,
                "line": ids + 1,
                "centre": frame["centre"],
                "mesa": frame["mesa"],
                "electors": frame["electors"],
                "valid": frame[cands].sum(axis=1).to_numpy(),
                "nulos": frame["nulos"],
            }
        )
        _copy(cur, "result_rows", "id, table_id, line, centre, mesa, electors, valid, nulos", rows)
        votes = pd.DataFrame(
            {
                "row_id": np.tile(ids, len(cands)),
                "candidate": np.repeat(cands, len(ids)),
                "votes": np.concatenate([frame[c].to_numpy() for c in cands]),
            }
        )
        _copy(cur, "result_votes", "row_id, candidate, votes", votes)
        mesas = pd.DataFrame(
            {
                "election": ELECTION,
                "centre": frame["centre"],
                "number": frame["mesa"],
                "electors": frame["electors"],
                "source": "synthetic",
            }
        )
        _copy(cur, "mesas", "election, centre, number, electors, source", mesas)
        units = []
        for level, digits in (("state", 2), ("municipality", 4), ("parish", 6), ("centre", 9)):
            counts = frame.groupby(frame["centre"].str.slice(0, digits)).size()
            units.append(
                pd.DataFrame(
                    {
                        "election": ELECTION,
                        "code": counts.index,
                        "level": level,
                        "name": [f"{level} {c}" for c in counts.index],
                        "mesas_total": counts.to_numpy(),
                        "source": "synthetic",
                    }
                )
            )
        _copy(cur, "geo_units", "election, code, level, name, mesas_total, source", pd.concat(units))
        cur.execute("SELECT setval(pg_get_serial_sequence('result_rows', 'id'), %s)", (len(frame),))
        conn.commit()
        conn.autocommit = True
        cur.execute("VACUUM ANALYZE")


def _ratio(pg: float, sqlite: float) -> str:
    return f"{pg / sqlite:>7.2f}" if sqlite > 0 and pg == pg and sqlite == sqlite else f"{'-':>7}"


def bench_synthetic(n: int, server: Server, skip_sql: bool) -> None:
    print(f"== tallies over {n:,} synthetic mesas ({n * 10:,} vote rows), SQLite vs PostgreSQL ==")
    t = time.perf_counter()
    frame, cands = synthetic(n)
    print(f"generated in {time.perf_counter() - t:.1f} s")
    definition = load_definition(ELECTION)
    with tempfile.TemporaryDirectory() as tmp:
        t = time.perf_counter()
        sqlite_db = load_store(frame, cands, Path(tmp) / "synthetic.db")
        print(f"loaded into SQLite in {time.perf_counter() - t:.1f} s")
        pg_url = server.new("synthetic")
        t = time.perf_counter()
        load_postgres(frame, cands, pg_url)
        print(f"loaded into PostgreSQL (COPY) in {time.perf_counter() - t:.1f} s")
        stores = {"sqlite": open_store(sqlite_db), "postgresql": open_store(pg_url)}
        snapshot: dict[str, float] = {}
        for name, store in stores.items():
            with store.session() as session:
                _MEMORY.clear()
                # SQLite: the build also writes the Parquet copy; PostgreSQL keeps it in memory only.
                snapshot[name], _ = timed(
                    lambda s=session: verified_frame(s, definition, "table:1"), repeat=1
                )
        _MEMORY.clear()
        print(
            f"snapshot from the database: sqlite {snapshot['sqlite']:.2f} s, postgresql "
            f"{snapshot['postgresql']:.2f} s, ratio {_ratio(snapshot['postgresql'], snapshot['sqlite'])}"
        )
        print(
            f"{'level':<13}{'sqlite first':>13}{'pg first':>9}{'ratio':>7}{'sqlite warm':>12}{'pg warm':>8}"
            f"{'ratio':>7}{'sqlite sql':>11}{'pg sql':>8}{'ratio':>7}"
        )
        for level in LEVELS:
            got: dict[str, tuple[float, float, float]] = {}
            results = {}
            for name, store in stores.items():
                _MEMORY.clear()  # each database's first call builds its own snapshot
                with store.session() as session:
                    first, _ = timed(
                        lambda lv=level, s=session: tally_columnar(s, definition, lv, "table:1"), 1
                    )
                    warm, results[name] = timed(
                        lambda lv=level, s=session: tally_columnar(s, definition, lv, "table:1"), 2
                    )
                    sql = float("nan")
                    if not skip_sql:
                        sql, by_sql = timed(
                            lambda lv=level, s=session: tally(s, definition, lv, "table:1"), 1
                        )
                        assert by_sql.rows == results[name].rows, (name, level)
                got[name] = (first, warm, sql)
            assert results["sqlite"].rows == results["postgresql"].rows, level  # the same answer
            (sf, sw, ss), (pf, pw, ps) = got["sqlite"], got["postgresql"]
            print(
                f"{level:<13}{sf:>13.2f}{pf:>9.2f}{_ratio(pf, sf)}{sw:>12.2f}{pw:>8.2f}{_ratio(pw, sw)}"
                f"{ss:>11.2f}{ps:>8.2f}{_ratio(ps, ss)}"
            )
        for store in stores.values():
            store.engine.dispose()


def venezuela(url: str) -> Store:
    """What tests/v1db.py imports: the registry, the V1 table and the CNE bulletins."""
    definition = load_definition(ELECTION)
    store = open_store(url)
    with store.session() as session:
        for path in (
            SAMPLES / "registry" / "centros_resultadosconvzla_site_2024-08-01.csv",
            SAMPLES / "registry" / "admin_units_resultadosconvzla_site_2024-08-01.csv",
            SAMPLES / "results" / "RESULTADOS_2024_CSV_V1.csv",
        ):
            import_registry(session, path, definition)
        import_results_table(session, SAMPLES / "results" / "RESULTADOS_2024_CSV_V1.csv", definition)
        import_official(session, SAMPLES / "official" / "cne_bulletins_2024.json", definition)
        session.commit()
    return store


def bench_venezuela(server: Server) -> None:
    print("== compare / scenario on V1 + CNE bulletins, SQLite vs PostgreSQL ==")
    definition = load_definition(ELECTION)
    with tempfile.TemporaryDirectory() as tmp:
        stores: dict[str, Store] = {}
        for name, url in (("sqlite", str(Path(tmp) / "v1.db")), ("postgresql", server.new("v1"))):
            t = time.perf_counter()
            stores[name] = venezuela(url)
            print(f"imported into {name} in {time.perf_counter() - t:.1f} s")
        print(f"{'':<26}{'sqlite s':>9}{'pg s':>8}{'ratio':>7}  target < 1 s")
        work: tuple[tuple[str, Callable], ...] = (
            ("tally state (columnar)", lambda s: tally_columnar(s, definition, "state", "table:1")),
            ("tally centre (columnar)", lambda s: tally_columnar(s, definition, "centre", "table:1")),
            ("compare boletin-2", lambda s: compare(s, definition, "boletin-2", "table:1")),
            ("scenario boletin-2", lambda s: scenario(s, definition, "boletin-2", "table:1")),
        )
        for label, fn in work:
            times = {}
            for name, store in stores.items():
                _MEMORY.clear()
                with store.session() as session:
                    times[name], _ = timed(lambda f=fn, s=session: f(s), repeat=3)
            pg = times["postgresql"]
            print(
                f"{label:<26}{times['sqlite']:>9.2f}{pg:>8.2f}{_ratio(pg, times['sqlite'])}"
                f"  {'OK' if pg < 1 else 'SLOW'}"
            )
        env = {**os.environ, "PYTHONPATH": str(ROOT / "src")}
        for cmd in (
            ["compare", "-o", "boletin-2"],
            ["scenario", "-o", "boletin-2"],
            ["tally", "-l", "state"],
        ):
            times = {}
            for name, store in stores.items():
                args = [sys.executable, "-m", "veedor", *cmd, "--source", "table:1", "--db", store.url]
                times[name], _ = timed(
                    lambda a=args: subprocess.run(a, env=env, capture_output=True, check=True), repeat=2
                )
            pg = times["postgresql"]
            print(
                f"command {' '.join(cmd):<18}{times['sqlite']:>9.2f}{pg:>8.2f}{_ratio(pg, times['sqlite'])}"
                "  (process start included)"
            )
        for store in stores.values():
            store.engine.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--url", default=os.environ.get("VEEDOR_TEST_DB_URL"), help="a PostgreSQL server")
    parser.add_argument("--mesas", type=int, default=1_000_000)
    parser.add_argument("--skip-synthetic", action="store_true")
    parser.add_argument("--skip-venezuela", action="store_true")
    parser.add_argument("--skip-sql", action="store_true", help="leave out the SQL tallies (slow at 1M)")
    args = parser.parse_args()
    if not args.url:
        parser.error("no server: give --url or set VEEDOR_TEST_DB_URL (.ci/postgres prints one)")
    server = Server(args.url)
    try:
        if not args.skip_venezuela:
            bench_venezuela(server)
        if not args.skip_synthetic:
            bench_synthetic(args.mesas, server, args.skip_sql)
    finally:
        server.drop_all()


if __name__ == "__main__":
    main()
