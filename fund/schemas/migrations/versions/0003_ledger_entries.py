"""Money after the award as a finance office handles it: the ledger holds entries (a payment
may be partial, a reversal names the entry it reverses), tranches keep what was paid and the
day a suspended agreement closed them, agreements keep why they stand as they do and what went
back to the fund, and the reconciliation with the finance office's statement is kept.

The ledger's key changes from (proposal, tranche) to an entry number: the rows are read,
the table is made again and the rows go back numbered in the order they were recorded."""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

KIND_ORDER = {"signing": 0, "midterm": 1, "final": 2}


def payment_columns(entries: bool) -> list:
    key = [sa.Column("entry", sa.Integer(), nullable=False)] if entries else []
    return [
        sa.Column("cycle_id", sa.String(length=64), nullable=False),
        *key,
        sa.Column("proposal_id", sa.String(), nullable=False),
        sa.Column("kind", sa.String(), nullable=False),
        sa.Column("amount_fen", sa.BigInteger(), nullable=False),
        sa.Column("paid_on", sa.Date(), nullable=False),
        sa.Column("paid_by", sa.Text(), nullable=False),
        sa.Column("reference", sa.Text(), nullable=True),
        *([sa.Column("reverses", sa.Text(), nullable=True)] if entries else []),
        sa.Column("source", sa.String(), nullable=False),
        sa.Column("recorded_at", sa.String(), nullable=False),
        sa.PrimaryKeyConstraint("cycle_id", "entry") if entries else sa.PrimaryKeyConstraint("cycle_id", "proposal_id", "kind"),
    ]


def rebuild_payment(entries: bool, rows: list[dict]) -> None:
    op.drop_table("payment")
    table = op.create_table("payment", *payment_columns(entries))
    if rows:
        op.bulk_insert(table, rows)


def read_payments() -> list[dict]:
    bind = op.get_bind()
    table = sa.Table("payment", sa.MetaData(), autoload_with=bind)  # typed columns: dates come back as dates
    return [dict(row) for row in bind.execute(sa.select(table)).mappings()]


def upgrade() -> None:
    rows = read_payments()
    numbered, count = [], {}
    for row in sorted(
        rows, key=lambda r: (r["cycle_id"], r["recorded_at"], r["paid_on"], r["proposal_id"], KIND_ORDER.get(r["kind"], 9))
    ):
        count[row["cycle_id"]] = count.get(row["cycle_id"], 0) + 1
        numbered.append({**row, "entry": count[row["cycle_id"]], "reverses": None})
    rebuild_payment(True, numbered)
    with op.batch_alter_table("tranche") as table:
        table.add_column(sa.Column("closed_on", sa.Date(), nullable=True))
        table.add_column(sa.Column("paid_fen", sa.BigInteger(), nullable=False, server_default="0"))
    op.execute("UPDATE tranche SET paid_fen = amount_fen WHERE status = 'paid'")
    with op.batch_alter_table("agreement") as table:
        table.add_column(sa.Column("ended_on", sa.Date(), nullable=True))
        table.add_column(sa.Column("returned_fen", sa.BigInteger(), nullable=False, server_default="0"))
        table.add_column(sa.Column("reason", sa.String(), nullable=False, server_default=""))
        table.add_column(sa.Column("detail", sa.Text(), nullable=False, server_default="{}"))
    op.create_table(
        "reconciliation",
        sa.Column("cycle_id", sa.String(length=64), nullable=False),
        sa.Column("line", sa.Integer(), nullable=False),
        sa.Column("outcome", sa.String(), nullable=False),
        sa.Column("reference", sa.Text(), nullable=True),
        sa.Column("proposal_id", sa.String(), nullable=True),
        sa.Column("kind", sa.String(), nullable=True),
        sa.Column("entry", sa.Integer(), nullable=True),
        sa.Column("ledger_on", sa.Date(), nullable=True),
        sa.Column("ledger_fen", sa.BigInteger(), nullable=True),
        sa.Column("ledger_payee", sa.Text(), nullable=True),
        sa.Column("statement_on", sa.Date(), nullable=True),
        sa.Column("statement_fen", sa.BigInteger(), nullable=True),
        sa.Column("statement_payee", sa.Text(), nullable=True),
        sa.Column("statement_row", sa.Integer(), nullable=True),
        sa.PrimaryKeyConstraint("cycle_id", "line"),
    )


def downgrade() -> None:
    """Back to one row per paid tranche (the earlier release's ledger): a tranche's entries
    become one row of their sum, dated and signed as its latest entry; a tranche they add up
    to nothing on has no row."""
    tranches: dict[tuple, list[dict]] = {}
    for row in sorted(read_payments(), key=lambda r: r["entry"]):
        tranches.setdefault((row["cycle_id"], row["proposal_id"], row["kind"]), []).append(row)
    rows = []
    for entries in tranches.values():
        total = sum(e["amount_fen"] for e in entries)
        last = entries[-1]
        if total > 0:
            rows.append({k: v for k, v in last.items() if k not in ("entry", "reverses")} | {"amount_fen": total})
    rebuild_payment(False, rows)
    op.drop_table("reconciliation")
    with op.batch_alter_table("agreement") as table:
        for column in ("detail", "reason", "returned_fen", "ended_on"):
            table.drop_column(column)
    with op.batch_alter_table("tranche") as table:
        table.drop_column("paid_fen")
        table.drop_column("closed_on")
