"""copies: a grade per piece of evidence, mesa alerts and history, per-file decisions

Revision ID: 0003
Revises: 0002
"""

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

NUMBERS = (
    sa.Column("votes", sa.JSON(), nullable=True),
    sa.Column("nulos", sa.Integer(), nullable=True),
    sa.Column("extra", sa.JSON(), nullable=True),
)


def upgrade() -> None:
    with op.batch_alter_table("evidence", schema=None) as batch_op:
        batch_op.add_column(sa.Column("grade", sa.String(length=16), nullable=True))
        batch_op.add_column(sa.Column("source", sa.String(length=16), nullable=True))
        batch_op.add_column(sa.Column("printed", sa.JSON(), nullable=True))
        batch_op.add_column(sa.Column("printed_nulos", sa.Integer(), nullable=True))
        batch_op.alter_column("nulos", existing_type=sa.Integer(), nullable=True)
    # Evidence stored before grades: what its status meant then (``veedor rescan
    # --combine-only`` then applies the new rule to every mesa).
    op.execute(
        "UPDATE evidence SET grade = CASE status WHEN 'ok' THEN 'confirmed' "
        "WHEN 'unverified' THEN 'qr_only' ELSE 'partial' END"
    )
    with op.batch_alter_table("actas", schema=None) as batch_op:
        batch_op.add_column(sa.Column("alerts", sa.JSON(), nullable=True))
    op.create_table(
        "mesa_events",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("acta_pk", sa.Integer(), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("previous", sa.String(length=16), nullable=True),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.Column("sha256", sa.String(length=64), nullable=True),
        sa.Column("cause", sa.String(length=16), nullable=False),
        sa.Column("votes", sa.JSON(), nullable=True),
        sa.Column("nulos", sa.Integer(), nullable=True),
        sa.Column("alerts", sa.JSON(), nullable=True),
        sa.ForeignKeyConstraint(["acta_pk"], ["actas.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_mesa_events_acta_pk", "mesa_events", ["acta_pk"])
    op.create_table(
        "decisions",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("decided_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("version", sa.String(length=32), nullable=False),
        sa.Column("cause", sa.String(length=16), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.Column("grade", sa.String(length=16), nullable=True),
        sa.Column("checks", sa.JSON(), nullable=True),
        sa.ForeignKeyConstraint(["sha256"], ["images.sha256"]),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_decisions_sha256", "decisions", ["sha256"])
    op.create_table(
        "evidence_archive",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("acta_pk", sa.Integer(), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("reading_id", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("grade", sa.String(length=16), nullable=True),
        *NUMBERS,
        sa.Column("printed", sa.JSON(), nullable=True),
        sa.Column("printed_nulos", sa.Integer(), nullable=True),
        sa.Column("archived_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_evidence_archive_sha256", "evidence_archive", ["sha256"])


def downgrade() -> None:
    op.drop_table("evidence_archive")
    op.drop_table("decisions")
    op.drop_table("mesa_events")
    with op.batch_alter_table("actas", schema=None) as batch_op:
        batch_op.drop_column("alerts")
    with op.batch_alter_table("evidence", schema=None) as batch_op:
        batch_op.drop_column("printed_nulos")
        batch_op.drop_column("printed")
        batch_op.drop_column("source")
        batch_op.drop_column("grade")
