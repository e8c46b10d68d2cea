"""Every tally carries its coverage: mesas with an ok acta / all mesas, electors, pending actas."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy import insert

from v1db import CENTRES, UNITS, v1_store
from veedor.ingest.registry import import_registry
from veedor.store.schema import ActaRecord, ActaVotes, Mesa
from veedor.tally import tally
from veedor.tally.aggregate import tally_sql
from veedor.tally.coverage import verified_mesas


def test_national_coverage_of_v1(v1_session, definition):
    result = tally(v1_session, definition, "national", "table:1")
    row = result.rows[0]
    assert (row.votes["EG"], row.actas, row.electors) == (7_156_462, 24_532, 17_745_239)
    cov = row.coverage
    assert (cov.mesas_ok, cov.mesas_total) == (24_532, 30_026)
    assert round(cov.pct, 2) == 81.70
    # Electors of the mesas without an acta are not in the partial registry: unknown, not guessed.
    assert cov.electors_total is None and cov.electors_pct is None
    assert any("electores" in n for n in result.coverage.notes)


def test_state_coverage_adds_up_and_parish_registry_is_partial(v1_session, definition):
    states = tally(v1_session, definition, "state", "table:1")
    assert sum(c.mesas_total for c in states.coverage_units.values()) == 30_026
    capital = next(r for r in states.rows if r.code == "01")
    assert (capital.coverage.mesas_ok, capital.coverage.mesas_total, capital.coverage.missing) == (
        1534,
        2260,
        726,
    )
    assert states.coverage.registry_complete
    parishes = tally(v1_session, definition, "parish", "table:1")
    assert not parishes.coverage.registry_complete
    assert parishes.coverage.units_without_total  # parishes only the results table names
    assert any("registro parcial" in n for n in parishes.coverage.notes)


def test_centre_with_every_mesa_known_has_electors_coverage(v1_session, definition):
    centres = tally(v1_session, definition, "centre", "table:1")
    row = next(r for r in centres.rows if r.code == "010101001")
    assert row.coverage.mesas_total == 3 and row.coverage.electors_total == row.electors == 2272
    assert row.coverage.electors_pct == 100.0


def test_scan_source_counts_pending_and_only_ok(store, definition):
    """Review and conflict actas are pending: never counted, always shown."""
    with store.session() as s:
        import_registry(s, CENTRES, definition)
        import_registry(s, UNITS, definition)
        s.execute(
            insert(Mesa),
            [
                {
                    "election": definition.id,
                    "centre": "010101001",
                    "number": n,
                    "electors": 700 + n,
                    "source": "test",
                }
                for n in (1, 2, 3)
            ],
        )
        now = datetime.now(UTC)
        for n, status in ((1, "ok"), (2, "review"), (3, "conflict")):
            acta = ActaRecord(
                election=definition.id,
                centre="010101001",
                mesa=n,
                acta_id=f"010101001.0{n}.1.0001",
                status=status,
                reason=None,
                votes=None,
                nulos=1,
                updated_at=now,
            )
            s.add(acta)
            s.flush()
            s.execute(
                insert(ActaVotes),
                [
                    {"acta_pk": acta.id, "candidate": "EG", "votes": 100 * n},
                    {"acta_pk": acta.id, "candidate": "NM", "votes": 10 * n},
                ],
            )
        s.commit()
        result = tally(s, definition, "centre", "scan")
        row = result.rows[0]
        assert row.votes["EG"] == 100 and row.actas == 1
        cov = row.coverage
        assert (cov.mesas_ok, cov.review, cov.conflict, cov.mesas_total, cov.missing) == (
            1,
            1,
            1,
            3,
            0,
        )
        assert cov.electors_total == 701 + 702 + 703 and cov.electors_covered == 701
        national = tally(s, definition, "national", "scan").rows[0].coverage
        assert (national.mesas_ok, national.pending, national.mesas_total) == (1, 2, 30_026)
        frame = verified_mesas(s, definition, "scan")
        assert frame.height == 1 and frame["EG"][0] == 100 and frame["valid"][0] == 110


def test_cli_tally_shows_coverage(definition):
    from typer.testing import CliRunner

    from veedor.cli import app

    url = v1_store().url
    res = CliRunner().invoke(app, ["tally", "--source", "table:1", "--db", url, "--format", "csv"])
    assert res.exit_code == 0, res.output
    header, first = res.output.splitlines()[:2]
    assert "coverage_pct" in header and "mesas_total" in header
    assert "81.7" in first and "30026" in first


@pytest.mark.parametrize("level", ["national", "state", "parish", "centre", "mesa"])
def test_columnar_tally_equals_sql_tally(v1_session, definition, level):
    from veedor.tally.columnar import tally_columnar

    sql = tally_sql(v1_session, definition, level, "table:1")
    fast = tally_columnar(v1_session, definition, level, "table:1")
    assert fast.rows == sql.rows
    assert fast.coverage_units == sql.coverage_units and fast.coverage == sql.coverage


def test_columnar_snapshot_follows_scan_changes(store, definition):
    """A changed acta changes the snapshot's key: the fast tally is never stale."""
    from veedor.tally.columnar import tally_columnar

    with store.session() as s:
        now = datetime.now(UTC)
        acta = ActaRecord(
            election=definition.id,
            centre="010101001",
            mesa=1,
            acta_id="010101001.01.1.0001",
            status="ok",
            reason=None,
            votes=None,
            nulos=0,
            updated_at=now,
        )
        s.add(acta)
        s.flush()
        s.execute(insert(ActaVotes), [{"acta_pk": acta.id, "candidate": "EG", "votes": 5}])
        s.commit()
        assert tally_columnar(s, definition, "national", "scan").rows[0].votes["EG"] == 5
        acta.status = "conflict"
        acta.updated_at = datetime.now(UTC)
        s.commit()
        assert tally_columnar(s, definition, "national", "scan").rows == []
