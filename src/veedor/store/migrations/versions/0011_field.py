"""field capture: witnesses' invite codes, uploads and incident reports (issue 26)

Revision ID: 0011
Revises: 0010
"""

import sqlalchemy as sa
from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "field_invites",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("pseudonym", sa.String(length=64), nullable=False),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("scope", sa.JSON(), nullable=False),
        sa.Column("upload_limit", sa.Integer(), nullable=False),
        sa.Column("send_location", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("revoked_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("pseudonym"),
        sa.UniqueConstraint("token_hash"),
    )
    op.create_table(
        "field_uploads",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("invite_id", sa.Integer(), nullable=False),
        sa.Column("size", sa.BigInteger(), nullable=False),
        sa.Column("claimed_centre", sa.String(length=32), nullable=True),
        sa.Column("claimed_mesa", sa.Integer(), nullable=True),
        sa.Column("taken_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("location", sa.JSON(), nullable=True),
        sa.Column("read_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("status", sa.String(length=16), nullable=True),
        sa.Column("centre", sa.String(length=32), nullable=True),
        sa.Column("in_scope", sa.Boolean(), nullable=True),
        sa.ForeignKeyConstraint(["invite_id"], ["field_invites.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("sha256"),
    )
    op.create_index("ix_field_uploads_invite_id", "field_uploads", ["invite_id"])
    op.create_index("ix_field_uploads_read_at", "field_uploads", ["read_at"])
    op.create_table(
        "field_incidents",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("invite_id", sa.Integer(), nullable=False),
        sa.Column("client_id", sa.String(length=64), nullable=False),
        sa.Column("election", sa.String(length=64), nullable=False),
        sa.Column("centre", sa.String(length=32), nullable=False),
        sa.Column("kind", sa.String(length=48), nullable=False),
        sa.Column("text", sa.Text(), nullable=True),
        sa.Column("photo_sha256", sa.String(length=64), nullable=True),
        sa.Column("observed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("in_scope", sa.Boolean(), nullable=False),
        sa.ForeignKeyConstraint(["invite_id"], ["field_invites.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("invite_id", "client_id"),
    )
    op.create_index("ix_field_incidents_invite_id", "field_incidents", ["invite_id"])
    op.create_index("ix_field_incidents_centre", "field_incidents", ["centre"])


def downgrade() -> None:
    op.drop_index("ix_field_incidents_centre", table_name="field_incidents")
    op.drop_index("ix_field_incidents_invite_id", table_name="field_incidents")
    op.drop_table("field_incidents")
    op.drop_index("ix_field_uploads_read_at", table_name="field_uploads")
    op.drop_index("ix_field_uploads_invite_id", table_name="field_uploads")
    op.drop_table("field_uploads")
    op.drop_table("field_invites")
