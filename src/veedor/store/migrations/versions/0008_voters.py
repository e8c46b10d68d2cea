"""voters: where each voter votes, from an imported voter-to-centre table (ids kept only as a
salted hash), and the database's own settings

Revision ID: 0008
Revises: 0007
"""

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "voters",
        sa.Column("key", sa.LargeBinary(length=16), nullable=False),
        sa.Column("election", sa.String(length=64), nullable=False),
        sa.Column("centre", sa.String(length=16), nullable=False),
        sa.Column("mesa", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("key"),
    )
    op.create_table(
        "settings",
        sa.Column("name", sa.String(length=64), nullable=False),
        sa.Column("value", sa.LargeBinary(), nullable=False),
        sa.PrimaryKeyConstraint("name"),
    )


def downgrade() -> None:
    op.drop_table("settings")
    op.drop_table("voters")
