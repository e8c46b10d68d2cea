"""One database with the real V1 table, the partial registry and the CNE bulletins, built once
per test session and shared (read-only) by the coverage/compare/scenario/estimate/export tests."""

from __future__ import annotations

import functools
import tempfile
from pathlib import Path

import testdb
from veedor.definitions import load_definition
from veedor.ingest.official import import_official
from veedor.ingest.registry import import_registry
from veedor.ingest.tables import import_results_table
from veedor.store import Store, open_store

ROOT = Path(__file__).resolve().parents[1]
SAMPLES = ROOT / "samples"
V1 = SAMPLES / "results" / "RESULTADOS_2024_CSV_V1.csv"
V2 = SAMPLES / "results" / "RESULTADOS_2024_CSV_V2.csv"
CENTRES = SAMPLES / "registry" / "centros_resultadosconvzla_site_2024-08-01.csv"
UNITS = SAMPLES / "registry" / "admin_units_resultadosconvzla_site_2024-08-01.csv"
BULLETINS = SAMPLES / "official" / "cne_bulletins_2024.json"


@functools.cache
def v1_store() -> Store:
    definition = load_definition("ve-2024-presidential")
    folder = Path(tempfile.mkdtemp(prefix="veedor-v1-"))
    store = open_store(testdb.db_url(folder, "v1.db"))  # PostgreSQL with VEEDOR_TEST_DB_URL
    with store.session() as session:
        for path in (CENTRES, UNITS, V1):
            import_registry(session, path, definition)
        import_results_table(session, V1, definition)
        import_official(session, BULLETINS, definition)
        session.commit()
    return store
