"""Store: the database (SQLAlchemy 2 + Alembic). SQLite file by default, any SQLAlchemy URL works."""

from veedor.store import official as _official  # noqa: F401  (registers the official tables)
from veedor.store.db import DEFAULT_DB_ENV, Store, default_url, open_store

__all__ = ["DEFAULT_DB_ENV", "Store", "default_url", "open_store"]
