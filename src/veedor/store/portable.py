"""SQL that reads the same on SQLite and PostgreSQL, where the two spell it differently.

Every query in veedor is written with SQLAlchemy's expression language; the few functions one
database has and the other lacks are here, compiled per dialect, so a caller never asks which
database it talks to.
"""

from __future__ import annotations

import io
from typing import Any

import polars as pl
from sqlalchemy import Float, Select
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.orm import Session
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.functions import FunctionElement


class total(FunctionElement[float]):
    """SQLite's ``total(x)``: the sum as a float, 0.0 over no rows, never an overflow error
    (``sum()`` of integers raises one past 2^63 on SQLite). PostgreSQL has no ``total``: there
    it is ``COALESCE(SUM(x::float8), 0)``, which is the same number."""

    type = Float()
    name = "total"
    inherit_cache = True


@compiles(total)
def _total_sqlite(element: total, compiler: SQLCompiler, **kw: Any) -> str:
    return f"total({compiler.process(element.clauses, **kw)})"


@compiles(total, "postgresql")
def _total_postgresql(element: total, compiler: SQLCompiler, **kw: Any) -> str:
    return f"COALESCE(SUM(CAST({compiler.process(element.clauses, **kw)} AS DOUBLE PRECISION)), 0.0)"


def frame_of(session: Session, query: Select, schema: dict[str, Any]) -> pl.DataFrame:
    """The rows of ``query`` as a Polars frame with ``schema`` (one column per selected column).

    PostgreSQL: through ``COPY (query) TO STDOUT`` as CSV, read by Polars' CSV reader. A million
    rows fetched as Python tuples and turned into a frame took ~20 s (most of a tally's first call
    in a new process: a server has no Parquet copy beside it); COPY sends them in ~2 s. The query
    is compiled with its values inline (COPY takes no bound parameters): they are veedor's own
    (election id, states, table ids, candidate codes), quoted by the dialect's compiler."""
    bind = session.get_bind()
    if bind.dialect.name != "postgresql":
        return pl.DataFrame(session.execute(query).all(), schema=schema, orient="row")
    sql = str(query.compile(dialect=bind.dialect, compile_kwargs={"literal_binds": True}))
    raw: Any = session.connection().connection.dbapi_connection  # psycopg's, for its COPY
    buffer = io.BytesIO()
    with raw.cursor() as cursor, cursor.copy(f"COPY ({sql}) TO STDOUT WITH (FORMAT csv)") as copy:
        for block in copy:
            buffer.write(block)
    if not buffer.tell():
        return pl.DataFrame(schema=schema)
    buffer.seek(0)
    # Quoted "" is an empty string, an unquoted empty field NULL (PostgreSQL's CSV).
    return pl.read_csv(buffer, has_header=False, new_columns=list(schema), schema=schema)
