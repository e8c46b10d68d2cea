"""Open the database and bring its schema up to date (Alembic migrations, never create_all)."""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine, create_engine, event
from sqlalchemy.exc import IntegrityError, OperationalError
from sqlalchemy.orm import Session, sessionmaker

T = TypeVar("T")

DEFAULT_DB_ENV = "VEEDOR_DB"
MIGRATIONS = Path(__file__).parent / "migrations"


def default_url() -> str:
    return os.environ.get(DEFAULT_DB_ENV) or "sqlite:///veedor.db"


def as_url(db: str | None) -> str:
    """Accept a SQLAlchemy URL or a plain file path (taken as a SQLite file)."""
    if not db:
        return default_url()
    return db if "://" in db else f"sqlite:///{db}"


def _alembic_config() -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    return cfg


@dataclass
class Store:
    engine: Engine
    sessions: sessionmaker[Session]
    url: str

    def session(self) -> Session:
        return self.sessions()


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    # WAL lets readers (tally, web) work while a scan writes; synchronous=NORMAL is
    # still crash-safe in WAL mode (a killed process loses at most the open transaction).
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=30000")
    cursor.close()


WRITER_LOCK = 0x7665_6564  # "veed": the advisory lock every PostgreSQL writer shares (scans, desk, imports)
MIGRATION_LOCK = 0x7665_6D69  # "vemi": held while a process migrates the schema


def serialize_writes(session: Session) -> None:
    """Make the session's transaction the database's only writer until it ends, across
    processes (the desk's workers, a ``veedor review`` beside them): it reads what the last
    writer committed and nobody changes it meanwhile. SQLite: ``BEGIN IMMEDIATE`` (waits up to
    the busy timeout); PostgreSQL: a transaction-scoped advisory lock."""
    connection = session.connection()
    if connection.dialect.name == "sqlite":
        raw = connection.connection.dbapi_connection
        if raw is not None and not raw.in_transaction:
            connection.exec_driver_sql("BEGIN IMMEDIATE")
    elif connection.dialect.name == "postgresql":
        connection.exec_driver_sql(f"SELECT pg_advisory_xact_lock({WRITER_LOCK})")


RETRY_SQLSTATES = frozenset({"40001", "40P01", "55P03"})
"""PostgreSQL: serialization failure, deadlock detected, lock not available."""


def lost_a_race(exc: BaseException) -> bool:
    """A write that another writer got in the way of, and that succeeds if run again: SQLite's
    "database is locked" (busy), PostgreSQL's deadlock or serialization failure (each names it
    otherwise, and a deadlock's message only says "locked" by chance: "blocked by process")."""
    orig = getattr(exc, "orig", None)
    if getattr(orig, "sqlstate", None) in RETRY_SQLSTATES:
        return True
    return "locked" in str(exc) or "busy" in str(exc)


def commit_retrying(
    session: Session, work: Callable[[], T], on_retry: Callable[[str], None] | None = None, tries: int = 6
) -> T:
    """Run ``work`` and commit, whole or not at all. When another writer got in the way (a lost
    race, or rows it stored first: an ``IntegrityError``), roll back and run it again after a
    growing wait; any other error, or the last try's, is raised."""
    for attempt in range(tries):
        try:
            result = work()
            session.commit()
            return result
        except (IntegrityError, OperationalError) as exc:
            session.rollback()
            if attempt == tries - 1 or (isinstance(exc, OperationalError) and not lost_a_race(exc)):
                raise
            wait = 0.5 * 2**attempt
            if on_retry:
                on_retry(
                    f"base de datos ocupada por otra operación; reintento en {wait:.1f} s / database "
                    f"busy with another operation; retrying in {wait:.1f} s"
                )
            time.sleep(wait)
    raise AssertionError("unreachable")


def open_store(db: str | None = None, *, migrate: bool = True, connections: int | None = None) -> Store:
    """``connections``: how many may be open at once (a server: one per request thread)."""
    url = as_url(db)
    if url.startswith("sqlite:///") and not url.startswith("sqlite:///:memory:"):
        Path(url.removeprefix("sqlite:///")).expanduser().parent.mkdir(parents=True, exist_ok=True)
    pool = {"pool_size": connections, "max_overflow": 10} if connections else {}
    engine = create_engine(url, future=True, **pool)
    if engine.dialect.name == "sqlite":
        event.listen(engine, "connect", _sqlite_pragmas)
    if migrate:
        upgrade(engine)
    return Store(engine, sessionmaker(engine, expire_on_commit=False), url)


def upgrade(engine: Engine) -> None:
    cfg = _alembic_config()
    head = ScriptDirectory.from_config(cfg).get_current_head()
    with engine.connect() as conn:
        if MigrationContext.configure(conn).get_current_revision() == head:
            return
    with engine.begin() as conn:
        if engine.dialect.name == "sqlite":
            # pysqlite runs DDL outside any transaction unless one is begun by hand: a scan killed
            # while it created a fresh database's tables left them without their version, and
            # every later open failed ("table actas already exists"). In one IMMEDIATE
            # transaction the migration is whole or absent, and a second process waits for it.
            conn.exec_driver_sql("BEGIN IMMEDIATE")
            if MigrationContext.configure(conn).get_current_revision() == head:
                return  # another process migrated it meanwhile
        elif engine.dialect.name == "postgresql":
            # DDL is transactional here too, but nothing stops two processes (two scans started
            # on a fresh database) both creating the tables: the second waits on this lock,
            # then finds the work done.
            conn.exec_driver_sql(f"SELECT pg_advisory_xact_lock({MIGRATION_LOCK})")
            if MigrationContext.configure(conn).get_current_revision() == head:
                return
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, "head")
