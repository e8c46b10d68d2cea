"""big counts: every vote, elector and row count a 64-bit integer

Revision ID: 0010
Revises: 0009

On PostgreSQL ``INTEGER`` is 32 bits: a results table or bulletin with a count past 2^31 (a
national electorate summed into one row, a typo of eleven digits that the bounds checks must
see to refuse) failed to store instead of being counted or refused by line. SQLite's INTEGER is
already 64 bits whatever the declared type, so there this migration changes nothing: rewriting
every table (SQLite cannot alter a column's type in place) would cost minutes on a national
database for no change in what it holds.
"""

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None

COUNTS = {
    "geo_units": ("mesas_total",),
    "mesas": ("electors",),
    "actas": ("nulos",),
    "evidence": ("nulos", "printed_nulos"),
    "evidence_archive": ("nulos", "printed_nulos"),
    "mesa_events": ("nulos",),
    "acta_votes": ("votes",),
    "result_tables": ("rows",),
    "result_rows": ("electors", "valid", "nulos"),
    "result_votes": ("votes",),
    "official_sources": ("registered_electors",),
    "official_units": ("electors", "voters", "valid", "nulos", "others"),
    "official_votes": ("votes",),
    "review_entries": ("nulos", "blank"),
    "review_decisions": ("nulos", "blank"),
}


def _alter(old: type[sa.types.TypeEngine], new: type[sa.types.TypeEngine]) -> None:
    dialect = op.get_bind().dialect
    if dialect.name == "sqlite":
        return  # 64-bit already (see above)
    for table, columns in COUNTS.items():
        if dialect.name == "postgresql":
            # One statement per table: PostgreSQL rewrites a table once per ALTER TABLE, so a
            # table with five counts is copied once, not five times. Nullability is kept.
            kind = new().compile(dialect=dialect)
            changes = ", ".join(f'ALTER COLUMN "{c}" TYPE {kind}' for c in columns)
            op.execute(f'ALTER TABLE "{table}" {changes}')
        else:
            for column in columns:
                op.alter_column(table, column, type_=new(), existing_type=old())


def upgrade() -> None:
    _alter(sa.Integer, sa.BigInteger)


def downgrade() -> None:
    _alter(sa.BigInteger, sa.Integer)
