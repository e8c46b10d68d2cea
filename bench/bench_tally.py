"""Tally, compare and scenario timings, each against a bare baseline measured in the same run.

1. Tallies at every level over N synthetic mesas (default 1,000,000) stored like an imported
   results table (one row per mesa, one vote row per candidate): ``veedor.tally.tally`` with its
   coverage columns, against a plain pandas group-by of the same data already in memory.
2. ``compare`` and ``scenario`` on the real Venezuelan data (V1 table, bulletins), as functions and
   as whole commands (process start included), against a pandas read + sum of the V1 CSV.

Run:  PYTHONPATH=src python bench/bench_tally.py [--mesas 1000000] [--skip-synthetic]
Targets (issue): each tally < 2 s; compare and scenario < 1 s.
"""

from __future__ import annotations

import argparse
import os
import sqlite3
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import pandas as pd

from veedor.cli.tally import records_frame
from veedor.definitions import load_definition
from veedor.store import open_store
from veedor.tally import tally
from veedor.tally.columnar import _MEMORY, tally_columnar, verified_frame

ROOT = Path(__file__).resolve().parents[1]
LEVELS = ("national", "state", "municipality", "parish", "centre")


def timed(fn, repeat: int = 3):  # type: ignore[no-untyped-def]
    best = float("inf")
    out = None
    for _ in range(repeat):
        t = time.perf_counter()
        out = fn()
        best = min(best, time.perf_counter() - t)
    return best, out


def synthetic(n_mesas: int, seed: int = 7) -> tuple[pd.DataFrame, list[str]]:
    """Mesas in 24 states x 15 municipalities x 8 parishes, 1-4 mesas per centre."""
    rng = np.random.default_rng(seed)
    cands = list(load_definition("ve-2024-presidential").candidate_codes)
    per_centre = rng.integers(1, 5, size=n_mesas)  # more than enough centres
    cum = np.cumsum(per_centre)
    n_centres = int(np.searchsorted(cum, n_mesas)) + 1
    per_centre = per_centre[:n_centres]
    per_centre[-1] -= int(cum[n_centres - 1] - n_mesas)
    parishes = 24 * 15 * 8
    idx = np.arange(n_centres)
    parish = idx % parishes
    state, rest = parish // 120 + 1, parish % 120
    code = state * 10**7 + (rest // 8 + 1) * 10**5 + (rest % 8 + 1) * 10**3 + idx // parishes + 1
    centre_of = np.repeat(np.char.zfill(code.astype(str), 9), per_centre)
    mesa_no = (
        np.concatenate([np.arange(1, k + 1) for k in per_centre])
        if n_centres < 50
        else (np.arange(n_mesas) - np.repeat(np.cumsum(per_centre) - per_centre, per_centre) + 1)
    )
    electors = rng.integers(200, 900, size=n_mesas)
    lean = rng.beta(6, 3, size=n_mesas)
    voters = rng.binomial(electors, 0.6)
    eg = rng.binomial(voters, lean * 0.97)
    nm = rng.binomial(voters - eg, 0.9)
    frame = pd.DataFrame(
        {"centre": centre_of, "mesa": mesa_no, "electors": electors, "nulos": rng.poisson(1, n_mesas)}
    )
    frame["EG"], frame["NM"] = eg, nm
    left = voters - eg - nm
    for c in cands[2:]:
        share = rng.binomial(left, 0.12)
        frame[c] = share
        left = left - share
    return frame, cands


def load_store(frame: pd.DataFrame, cands: list[str], path: Path) -> str:
    """Bulk-load the synthetic mesas into a migrated veedor database (registry + one table)."""
    store = open_store(str(path))
    election = "ve-2024-presidential"
    store.engine.dispose()
    con = sqlite3.connect(path)
    con.execute("PRAGMA synchronous=OFF")
    now = datetime.now(UTC).isoformat()
    con.execute(
        "INSERT INTO result_tables (id, election, name, sha256, path, format, encoding, rows, errors, "
        "imported_at) VALUES (1, ?, 'synthetic', 'x', 'synthetic', 'resultadosconvzla', 'utf-8', ?, "
        "'[]', ?)",
        (election, len(frame), now),
    )
    ids = np.arange(1, len(frame) + 1)
    valid = frame[cands].sum(axis=1).to_numpy()
    con.executemany(
        "INSERT INTO result_rows (id, table_id, line, centre, mesa, electors, valid, nulos, image_ref) "
        "VALUES (?, 1, ?, ?, ?, ?, ?, ?, NULL)",
        zip(
            ids.tolist(),
            (ids + 1).tolist(),
            frame["centre"].tolist(),
            frame["mesa"].tolist(),
            frame["electors"].tolist(),
            valid.tolist(),
            frame["nulos"].tolist(),
            strict=True,
        ),
    )
    for c in cands:
        con.executemany(
            "INSERT INTO result_votes (row_id, candidate, votes) VALUES (?, ?, ?)",
            zip(ids.tolist(), [c] * len(ids), frame[c].tolist(), strict=True),
        )
    con.executemany(
        "INSERT INTO mesas (election, centre, number, electors, source) VALUES (?, ?, ?, ?, 'synthetic')",
        zip(
            [election] * len(frame),
            frame["centre"].tolist(),
            frame["mesa"].tolist(),
            frame["electors"].tolist(),
            strict=True,
        ),
    )
    units = []
    for level, digits in (("state", 2), ("municipality", 4), ("parish", 6), ("centre", 9)):
        counts = frame.groupby(frame["centre"].str.slice(0, digits)).size()
        units += [
            (election, code, level, f"{level} {code}", None, int(n), "synthetic")
            for code, n in counts.items()
        ]
    con.executemany(
        "INSERT INTO geo_units (election, code, level, name, parent_code, mesas_total, source) "
        "VALUES (?, ?, ?, ?, ?, ?, ?)",
        units,
    )
    con.commit()
    con.execute("ANALYZE")
    con.close()
    return str(path)


def pandas_tally(frame: pd.DataFrame, cands: list[str], level: str) -> pd.DataFrame:
    digits = {"state": 2, "municipality": 4, "parish": 6, "centre": 9}
    key = "" if level == "national" else frame["centre"].str.slice(0, digits[level])
    return frame.groupby(key if level != "national" else np.zeros(len(frame)))[
        [*cands, "nulos", "electors"]
    ].sum()


def bench_synthetic(n: int, skip_sql: bool = False) -> None:
    print(f"== tally over {n:,} synthetic mesas ({n * 10:,} vote rows) ==")
    t = time.perf_counter()
    frame, cands = synthetic(n)
    print(f"generated in {time.perf_counter() - t:.1f} s")
    with tempfile.TemporaryDirectory() as tmp:
        t = time.perf_counter()
        db = load_store(frame, cands, Path(tmp) / "synthetic.db")
        print(f"loaded into SQLite in {time.perf_counter() - t:.1f} s")
        definition = load_definition("ve-2024-presidential")
        store = open_store(db)
        with store.session() as session:
            cold, _ = timed(lambda s=session: verified_frame(s, definition, "table:1"), repeat=1)
            print(f"columnar snapshot built once (SQLite → Polars → Parquet): {cold:.2f} s")
            _MEMORY.clear()
            reread, _ = timed(lambda s=session: verified_frame(s, definition, "table:1"), repeat=1)
            print(f"snapshot re-read from Parquet by a new process: {reread:.2f} s")
        print(
            f"{'level':<13}{'sql s':>8}{'first s':>8}{'columnar s':>11}{'+csv s':>8}{'pandas s':>10}{'ratio':>7}"
            f"{'rows':>9}  target < 2 s"
        )
        for level in LEVELS:
            with store.session() as session:
                sql = float("nan")
                if not skip_sql:
                    sql, by_sql = timed(
                        lambda lv=level, s=session: tally(s, definition, lv, "table:1"), repeat=1
                    )
                # First call: also builds the level's registry units (cached by registry version).
                first, _ = timed(
                    lambda lv=level, s=session: tally_columnar(s, definition, lv, "table:1"), repeat=1
                )
                ours, result = timed(
                    lambda lv=level, s=session: tally_columnar(s, definition, lv, "table:1"), repeat=2
                )
                if not skip_sql:
                    assert by_sql.rows == result.rows
            # What `veedor tally --format csv` adds: the published columns written as CSV.
            csv_s, _ = timed(lambda r=result: records_frame(r, definition).write_csv(), repeat=2)
            base, expected = timed(lambda lv=level: pandas_tally(frame, cands, lv), repeat=2)
            got = result.frame()
            assert int(got["EG"].sum()) == int(frame["EG"].sum())
            assert got.height == len(expected)
            print(
                f"{level:<13}{sql:>8.2f}{first:>8.2f}{ours:>11.2f}{csv_s:>8.2f}{base:>10.2f}{ours / base:>7.1f}"
                f"{got.height:>9,}  {'OK' if ours < 2 else 'SLOW'}"
            )
        store.engine.dispose()


def bench_venezuela() -> None:
    sys.path.insert(0, str(ROOT / "tests"))
    from v1db import V1, v1_store
    from veedor.tally.compare import compare
    from veedor.tally.scenario import scenario

    print("== compare / scenario on V1 + CNE bulletins ==")
    store = v1_store()
    definition = load_definition("ve-2024-presidential")
    base, _ = timed(lambda: pd.read_csv(V1, encoding="utf-8-sig")[["EG", "NM", "VOTOS_VALIDOS"]].sum())
    print(f"baseline pandas read_csv + sum of V1: {base:.2f} s")
    with store.session() as session:
        for name, fn in (
            ("tally state (columnar)", lambda: tally_columnar(session, definition, "state", "table:1")),
            ("tally centre (columnar)", lambda: tally_columnar(session, definition, "centre", "table:1")),
            ("compare boletin-2", lambda: compare(session, definition, "boletin-2", "table:1")),
            ("scenario boletin-2", lambda: scenario(session, definition, "boletin-2", "table:1")),
        ):
            ours, _ = timed(fn)
            print(
                f"{name:<22} function {ours:.2f} s  ratio {ours / base:.1f}  {'OK' if ours < 1 else 'SLOW'}"
            )
    env = {**os.environ, "PYTHONPATH": str(ROOT / "src")}
    commands = (
        ["--version"],
        ["--help"],
        ["compare", "-o", "boletin-2"],
        ["scenario", "-o", "boletin-2"],
        ["tally", "-l", "centre", "-f", "csv"],
    )
    for cmd in commands:
        args = [sys.executable, "-m", "veedor", *cmd]
        if not cmd[0].startswith("--"):
            args += ["--source", "table:1", "--db", store.url]
        wall, _ = timed(lambda a=args: subprocess.run(a, env=env, capture_output=True, check=True), repeat=2)
        print(f"command {' '.join(cmd):<22} {wall:.2f} s (process start included)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--mesas", type=int, default=1_000_000)
    parser.add_argument("--skip-synthetic", action="store_true")
    parser.add_argument("--skip-sql", action="store_true", help="do not time the SQL tally (slow at 1M)")
    args = parser.parse_args()
    bench_venezuela()
    if not args.skip_synthetic:
        bench_synthetic(args.mesas, args.skip_sql)


if __name__ == "__main__":
    main()
