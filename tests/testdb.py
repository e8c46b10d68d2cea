"""Where the tests' databases live: a SQLite file in the test's folder, or, with
``VEEDOR_TEST_DB_URL`` set (``.ci/postgres`` prints one), a fresh PostgreSQL database per test.

Each PostgreSQL database is copied from a template migrated once per test process
(``CREATE DATABASE ... TEMPLATE``: tens of milliseconds, where running the migrations is
seconds), named after the process so two runs on one server never meet, and dropped when the
test ends (``WITH (FORCE)``: a connection a test left open does not keep it).
"""

from __future__ import annotations

import atexit
import contextlib
import itertools
import os
import shutil
from pathlib import Path

from sqlalchemy import create_engine, text
from sqlalchemy.engine import URL, make_url
from sqlalchemy.pool import NullPool

from veedor.store import open_store

ENV = "VEEDOR_TEST_DB_URL"
NEEDS_SERVER = f"needs a PostgreSQL server: set {ENV} (e.g. the URL `.ci/postgres` prints)"

_names = itertools.count()
_template: str | None = None
_made: list[str] = []
_by_path: dict[str, str] = {}


def server_url() -> URL | None:
    """The server's URL, or None when the tests run on SQLite."""
    raw = os.environ.get(ENV)
    return make_url(raw) if raw else None


def on_server() -> bool:
    return server_url() is not None


def _admin(statement: str) -> None:
    url = server_url()
    assert url is not None
    # CREATE/DROP DATABASE cannot run inside a transaction.
    engine = create_engine(url, isolation_level="AUTOCOMMIT", poolclass=NullPool)
    try:
        with engine.connect() as conn:
            conn.execute(text(statement))
    finally:
        engine.dispose()


def _url_of(name: str) -> str:
    url = server_url()
    assert url is not None
    return url.set(database=name).render_as_string(hide_password=False)


def _template_db() -> str:
    global _template
    if _template is None:
        name = f"veedor_tpl_{os.getpid()}"
        _admin(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
        _admin(f"CREATE DATABASE {name}")
        _made.append(name)
        open_store(_url_of(name)).engine.dispose()  # the migrations, once
        _template = name
    return _template


def new_database(prefix: str = "t") -> str:
    """A fresh, migrated PostgreSQL database (its URL); dropped by :func:`drop` or at exit."""
    name = f"veedor_{prefix}_{os.getpid()}_{next(_names)}"
    _admin(f"CREATE DATABASE {name} TEMPLATE {_template_db()}")
    _made.append(name)
    return _url_of(name)


def blank_database() -> str:
    """An empty PostgreSQL database, not migrated (its URL); dropped by :func:`drop` or at exit."""
    name = f"veedor_b_{os.getpid()}_{next(_names)}"
    _admin(f"CREATE DATABASE {name}")
    _made.append(name)
    return _url_of(name)


def drop(url: str) -> None:
    if not on_server() or not url.startswith("postgresql"):
        return  # a SQLite file: its folder goes with the test's tmp_path
    name = make_url(url).database
    if name in _made:
        _made.remove(name)
        _by_path.pop(next((p for p, n in _by_path.items() if n == url), ""), None)
        _admin(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")


def db_url(folder: Path, name: str = "veedor.db") -> str:
    """Where a test's database goes: a SQLite file ``folder/name`` (a plain path, as the CLI's
    ``--db`` takes it), or on the server a fresh database standing for that file: asked again
    for the same path, the same database (as the same file would be)."""
    if not on_server():
        return str(folder / name)
    key = str(folder / name)
    if key not in _by_path:
        _by_path[key] = new_database()
    return _by_path[key]


def folder_of(url: str) -> Path:
    """The folder a test's database stands in (where its evidence and logs go beside it)."""
    path = next((p for p, u in _by_path.items() if u == url), None)
    return Path(path or url.removeprefix("sqlite:///")).parent


def copy(source: str, folder: Path, name: str = "veedor.db") -> str:
    """A copy of the database ``source`` (what ``shutil.copy`` of the SQLite file is)."""
    if not on_server():
        shutil.copy(source, folder / name)
        return str(folder / name)
    origin = make_url(source).database
    # A template must have no one connected while it is copied.
    _admin(f"SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = '{origin}'")
    target = f"veedor_t_{os.getpid()}_{next(_names)}"
    _admin(f"CREATE DATABASE {target} TEMPLATE {origin}")
    _made.append(target)
    _by_path[str(folder / name)] = _url_of(target)
    return _url_of(target)


@atexit.register
def _drop_all() -> None:
    if not on_server():
        return
    for name in reversed(list(_made)):
        with contextlib.suppress(Exception):  # the server is gone already: nothing is left
            _admin(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
    _made.clear()
