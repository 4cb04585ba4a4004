"""The needs list and the resources pledged by units in the area (四张清单), and the needs each
proposal names. A cycle's intake runs again after the upgrade (it is what fills the new tables); its outputs are
the same when the cycle has neither list."""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("proposal", sa.Column("need_ids", sa.Text(), nullable=True))
    op.create_table(
        "need",
        sa.Column("cycle_id", sa.String(length=64), nullable=False),
        sa.Column("need_id", sa.String(), nullable=False),
        sa.Column("street", sa.Text(), nullable=False),
        sa.Column("community", sa.Text(), nullable=True),
        sa.Column("group", sa.String(), nullable=False),
        sa.Column("title", sa.Text(), nullable=False),
        sa.Column("description", sa.Text(), nullable=True),
        sa.Column("source", sa.Text(), nullable=True),
        sa.Column("people", sa.Integer(), nullable=True),
        sa.Column("urgency", sa.String(), nullable=False),
        sa.Column("raised_on", sa.Date(), nullable=True),
        sa.Column("source_row", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("cycle_id", "need_id"),
    )
    op.create_table(
        "resource",
        sa.Column("cycle_id", sa.String(length=64), nullable=False),
        sa.Column("resource_id", sa.String(), nullable=False),
        sa.Column("unit", sa.Text(), nullable=False),
        sa.Column("kind", sa.String(), nullable=False),
        sa.Column("amount", sa.Text(), nullable=False),
        sa.Column("street", sa.Text(), nullable=False),
        sa.Column("community", sa.Text(), nullable=True),
        sa.Column("pledged_to", sa.String(), nullable=True),
        sa.Column("amount_fen", sa.BigInteger(), nullable=True),
        sa.Column("quantity", sa.BigInteger(), nullable=True),
        sa.Column("source_row", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("cycle_id", "resource_id"),
    )
    # the intake fills these from needs.csv and resources.csv: the next run reads them again
    op.execute(sa.text("UPDATE stagerun SET input_hash = 'unsealed' WHERE stage = 'intake'"))


def downgrade() -> None:
    op.drop_table("resource")
    op.drop_table("need")
    with op.batch_alter_table("proposal") as table:
        table.drop_column("need_ids")
