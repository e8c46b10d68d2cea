"""review desk: people's verdicts on the copies of a mesa in conflict, sheet leases, and the
login rate limit shared by the desk's processes

Revision ID: 0007
Revises: 0006
"""

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None

WHEN = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "review_verdicts",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("acta_pk", sa.Integer(), sa.ForeignKey("actas.id"), nullable=False),
        sa.Column("sha256", sa.String(length=64), sa.ForeignKey("images.sha256"), nullable=False),
        sa.Column("user_id", sa.Integer(), sa.ForeignKey("users.id"), nullable=False),
        sa.Column("at", WHEN, nullable=False),
        sa.Column("verdict", sa.String(length=16), nullable=False),
        sa.Column("other", sa.String(length=48), nullable=True),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_review_verdicts_acta_pk", "review_verdicts", ["acta_pk"])
    op.create_index("ix_review_verdicts_user_id", "review_verdicts", ["user_id"])
    op.create_table(
        "review_copy_calls",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("acta_pk", sa.Integer(), sa.ForeignKey("actas.id"), nullable=False),
        sa.Column("sha256", sa.String(length=64), sa.ForeignKey("images.sha256"), nullable=False),
        sa.Column("at", WHEN, nullable=False),
        sa.Column("verdict", sa.String(length=16), nullable=True),
        sa.Column("other", sa.String(length=48), nullable=True),
        sa.Column("basis", sa.String(length=16), nullable=False),
        sa.Column("verdicts", sa.JSON(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_review_copy_calls_acta_pk", "review_copy_calls", ["acta_pk"])
    op.create_table(
        "review_sheet_leases",
        sa.Column("sha256", sa.String(length=64), sa.ForeignKey("images.sha256"), nullable=False),
        sa.Column("user_id", sa.Integer(), sa.ForeignKey("users.id"), nullable=False),
        sa.Column("expires_at", WHEN, nullable=False),
        sa.PrimaryKeyConstraint("sha256"),
    )
    op.create_table(
        "login_failures",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("key", sa.String(length=64), nullable=False),
        sa.Column("at", WHEN, nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_login_failures_key", "login_failures", ["key"])


def downgrade() -> None:
    for table in ("login_failures", "review_sheet_leases", "review_copy_calls", "review_verdicts"):
        op.drop_table(table)
