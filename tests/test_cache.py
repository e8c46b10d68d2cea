"""The columnar cache beside a SQLite file can never lie: a forged, edited or stale snapshot
is rebuilt from the database (issue 17: a forged Parquet changed what ``tally`` printed)."""

from __future__ import annotations

import polars as pl
from sqlalchemy import text

from test_copies import CONFIRMED, DEFINITION, OTHER_MESA, fresh_store, record_all
from veedor.tally import columnar, tally


def national(store):
    with store.session() as session:
        (row,) = columnar.tally_columnar(session, DEFINITION, "national").rows
        (sql,) = tally(session, DEFINITION, "national").rows
    return row.votes, sql.votes


def test_a_forged_snapshot_on_disk_is_rebuilt_not_believed(tmp_path):
    store = fresh_store(str(tmp_path))
    record_all(store, [CONFIRMED, OTHER_MESA])
    truth, _ = national(store)
    (snapshot,) = (tmp_path / ".v.db.veedor-cache").glob("verified-*.parquet")
    forged = pl.read_parquet(snapshot).with_columns(pl.col("EG") * 100)
    snapshot.chmod(0o644)
    forged.write_parquet(snapshot)
    columnar._MEMORY.clear()  # a new process
    assert national(store)[0] == truth
    snapshot.write_bytes(b"half a file")
    columnar._MEMORY.clear()
    assert national(store)[0] == truth


def test_an_edit_of_the_counted_votes_is_seen_by_every_tally(tmp_path):
    store = fresh_store(str(tmp_path))
    record_all(store, [CONFIRMED, OTHER_MESA])
    national(store)
    with store.engine.begin() as conn:
        conn.execute(text("UPDATE acta_votes SET votes = votes + 7 WHERE candidate = 'EG'"))
    columnar_votes, sql_votes = national(store)
    assert columnar_votes == sql_votes
