"""pictures: where each image's QR lies and its sheet key, and the reused photos found

Revision ID: 0013
Revises: 0012
"""

import sqlalchemy as sa
from alembic import op

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "picture_keys",
        sa.Column("sha256", sa.String(length=64), sa.ForeignKey("images.sha256"), nullable=False),
        sa.Column("sheet_key", sa.String(length=48), nullable=False),
        sa.Column("qr_quad", sa.JSON(), nullable=False),
        sa.PrimaryKeyConstraint("sha256"),
    )
    op.create_table(
        "picture_matches",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("other_sha256", sa.String(length=64), nullable=False),
        sa.Column("score", sa.Float(), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("original", sa.String(length=64), nullable=True),
        sa.Column("found_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_picture_matches_sha256", "picture_matches", ["sha256"])
    op.create_index("ix_picture_matches_other_sha256", "picture_matches", ["other_sha256"])


def downgrade() -> None:
    op.drop_table("picture_matches")
    op.drop_table("picture_keys")
