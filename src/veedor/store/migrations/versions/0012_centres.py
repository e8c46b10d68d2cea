"""processing centres: spooled scans pushed to the central store (issue 23)

Revision ID: 0012
Revises: 0011
"""

import sqlalchemy as sa
from alembic import op

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "centre_pushes",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("centre", sa.String(length=100), nullable=False),
        sa.Column("host", sa.String(length=255), nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("finished_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("version", sa.String(length=32), nullable=False),
        sa.Column("images", sa.Integer(), nullable=False),
        sa.Column("known", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_centre_pushes_centre", "centre_pushes", ["centre"])
    op.create_table(
        "centre_images",
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("centre", sa.String(length=100), nullable=False),
        sa.Column("push_id", sa.Integer(), nullable=False),
        sa.Column("read_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("pushed_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["push_id"], ["centre_pushes.id"]),
        sa.PrimaryKeyConstraint("sha256", "centre"),
    )
    op.create_index("ix_centre_images_push_id", "centre_images", ["push_id"])


def downgrade() -> None:
    op.drop_index("ix_centre_images_push_id", table_name="centre_images")
    op.drop_table("centre_images")
    op.drop_index("ix_centre_pushes_centre", table_name="centre_pushes")
    op.drop_table("centre_pushes")
