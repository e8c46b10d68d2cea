"""official results: bulletins and per-mesa official figures

Revision ID: 0002
Revises: 0001
"""

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "official_sources",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("election", sa.String(length=64), nullable=False),
        sa.Column("key", sa.String(length=100), nullable=False),
        sa.Column("authority", sa.String(length=200), nullable=True),
        sa.Column("announced_at", sa.String(length=40), nullable=True),
        sa.Column("actas_pct", sa.Float(), nullable=True),
        sa.Column("registered_electors", sa.Integer(), nullable=True),
        sa.Column("sources", sa.JSON(), nullable=True),
        sa.Column("caveat", sa.Text(), nullable=True),
        sa.Column("path", sa.Text(), nullable=False),
        sa.Column("file_sha256", sa.String(length=64), nullable=False),
        sa.Column("format", sa.String(length=32), nullable=False),
        sa.Column("imported_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("election", "key"),
    )
    op.create_table(
        "official_units",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("source_id", sa.Integer(), nullable=False),
        sa.Column("level", sa.String(length=32), nullable=False),
        sa.Column("code", sa.String(length=32), nullable=False),
        sa.Column("mesa", sa.Integer(), nullable=False),
        sa.Column("electors", sa.Integer(), nullable=True),
        sa.Column("voters", sa.Integer(), nullable=True),
        sa.Column("valid", sa.Integer(), nullable=True),
        sa.Column("nulos", sa.Integer(), nullable=True),
        sa.Column("others", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(["source_id"], ["official_sources.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("source_id", "level", "code", "mesa"),
    )
    with op.batch_alter_table("official_units", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_official_units_source_id"), ["source_id"], unique=False)
    op.create_table(
        "official_votes",
        sa.Column("unit_id", sa.Integer(), nullable=False),
        sa.Column("candidate", sa.String(length=32), nullable=False),
        sa.Column("votes", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["unit_id"], ["official_units.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("unit_id", "candidate"),
    )


def downgrade() -> None:
    op.drop_table("official_votes")
    with op.batch_alter_table("official_units", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_official_units_source_id"))
    op.drop_table("official_units")
    op.drop_table("official_sources")
