"""engine names: a reading's engine up to 255 characters

Revision ID: 0014
Revises: 0013

A print reading names every engine that read it, with versions ("rapidocr 3.10.0
PP-OCRv6_rec_small.onnx (onnxruntime 1.31.1); first look at the digits: acta-rec 2
(onnxruntime 1.31.1)"): past 64 characters, which PostgreSQL refused to store. SQLite never
enforces a VARCHAR's length, so there nothing is rewritten.
"""

import sqlalchemy as sa
from alembic import op

revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None


def _engine(length: int) -> None:
    if op.get_bind().dialect.name == "sqlite":
        return  # no length enforced (see above)
    op.alter_column("readings", "engine", type_=sa.String(length=length), existing_nullable=False)


def upgrade() -> None:
    _engine(255)


def downgrade() -> None:
    _engine(64)
