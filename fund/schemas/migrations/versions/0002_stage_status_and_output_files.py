"""What each stage last said (`fund status`), every output file under seal (its bytes and
hash), the digest of every audited record, and organizations' e-mail (result letters)."""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("organization", sa.Column("email", sa.Text(), nullable=True))
    op.create_table(
        "stagestatus",
        sa.Column("cycle_id", sa.String(length=64), nullable=False),
        sa.Column("stage", sa.String(), nullable=False),
        sa.Column("outcome", sa.String(), nullable=False),
        sa.Column("message", sa.Text(), nullable=False),
        sa.Column("waiting_for", sa.Text(), nullable=False),
        sa.Column("at", sa.String(), nullable=False),
        sa.PrimaryKeyConstraint("cycle_id", "stage"),
    )
    op.create_table(
        "outputfile",
        sa.Column("cycle_id", sa.String(length=64), nullable=False),
        sa.Column("path", sa.String(), nullable=False),
        sa.Column("stage", sa.String(), nullable=False),
        sa.Column("sha256", sa.String(), nullable=False),
        sa.Column("size", sa.BigInteger(), nullable=False),
        sa.Column("content", sa.LargeBinary(), nullable=False),
        sa.PrimaryKeyConstraint("cycle_id", "path"),
    )
    op.create_table(
        "recorddigest",
        sa.Column("cycle_id", sa.String(length=64), nullable=False),
        sa.Column("table_name", sa.String(), nullable=False),
        sa.Column("record_key", sa.String(), nullable=False),
        sa.Column("digest", sa.String(), nullable=False),
        sa.PrimaryKeyConstraint("cycle_id", "table_name", "record_key"),
    )


def downgrade() -> None:
    with op.batch_alter_table("organization") as table:
        table.drop_column("email")
    op.drop_table("recorddigest")
    op.drop_table("outputfile")
    op.drop_table("stagestatus")
