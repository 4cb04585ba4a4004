"""The schema of the release before migrations (0.1.0), as `create_all` made it.

Databases made by that release have no `alembic_version`; this revision creates only the
tables and indexes that are missing, so it brings such a database (even one from an older
release that lacked a table) to this baseline without touching its rows."""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def tables() -> dict[str, list]:
    return {
        "agreement": [
            sa.Column("cycle_id", sa.String(length=64), nullable=False),
            sa.Column("proposal_id", sa.String(), nullable=False),
            sa.Column("amount_fen", sa.BigInteger(), nullable=False),
            sa.Column("signed_on", sa.Date(), nullable=True),
            sa.Column("status", sa.String(), nullable=False),
            sa.PrimaryKeyConstraint("cycle_id", "proposal_id"),
        ],
        "approval": [
            sa.Column("cycle_id", sa.String(length=64), nullable=False),
            sa.Column("id", sa.Integer(), nullable=False),
            sa.Column("allocation_hash", sa.String(), nullable=False),
            sa.Column("decision", sa.String(), nullable=False),
            sa.Column("by", sa.String(), nullable=False),
            sa.Column("reason", sa.String(), nullable=True),
            sa.Column("at", sa.String(), nullable=False),
            sa.PrimaryKeyConstraint("cycle_id", "id"),
        ],
        "assignment": [
            sa.Column("cycle_id", sa.String(length=64), nullable=False),
            sa.Column("proposal_id", sa.String(), nullable=False),
            sa.Column("reviewer_id", sa.String(), nullable=False),
            sa.Column("round", sa.Integer(), nullable=False),
            sa.Column("cause", sa.String(), nullable=False),
            sa.PrimaryKeyConstraint("cycle_id", "proposal_id", "reviewer_id"),
        ],
        "auditevent": [
            sa.Column("id", sa.Integer(), nullable=False),
            sa.Column("cycle_id", sa.String(length=64), nullable=False),
            sa.Column("at", sa.String(), nullable=False),
            sa.Column("actor", sa.String(), nullable=False),
            sa.Column("action", sa.String(), nullable=False),
            sa.Column("subject", sa.Text(), nullable=False),
            sa.Column("detail", sa.Text(), nullable=False),
            sa.Column("prev_hash", sa.String(), nullable=False),
            sa.Column("hash", sa.String(), nullable=False),
            sa.PrimaryKeyConstraint("id"),
        ],
        "award": [
            sa.Column("cycle_id", sa.String(length=64), nullable=False),
            sa.Column("proposal_id", sa.String(), nullable=False),
            sa.Column("policy", sa.String(), nullable=False),
            sa.Column("status", sa.String(), nullable=False),
            sa.Column("awarded_fen", sa.BigInteger(), nullable=False),
            sa.Column("reason", sa.String(), nullable=False),
            sa.Column("detail", sa.Text(), nullable=False),
            sa.PrimaryKeyConstraint("cycle_id", "proposal_id"),
        ],
        "budgetline": [
            sa.Column("cycle_id", sa.String(length=64), nullable=False),
            sa.Column("line_id", sa.Integer(), nullable=False),
            sa.Column("proposal_id", sa.String(), nullable=False),
            sa.Column("item", sa.Text(), nullable=False),
            sa.Column("kind", sa.String(), nullable=False),
            sa.Column("amount_fen", sa.BigInteger(), nullable=False),
            sa.Column("source_row", sa.Integer(), nullable=False),
            sa.PrimaryKeyConstraint("cycle_id", "line_id"),
        ],
        "communityrating": [
            sa.Column("cycle_id", sa.String(length=64), nullable=False),
            sa.Column("proposal_id", sa.String(), nullable=False),
            sa.Column("rater_group", sa.String(), nullable=False),
            sa.Column("raters", sa.Integer(), nullable=False),
            sa.Column("rating_centi", sa.Integer(), nullable=False),
            sa.Column("source_row", sa.Integer(), nullable=False),
            sa.PrimaryKeyConstraint("cycle_id", "proposal_id", "rater_group"),
        ],
        "cycle": [
            sa.Column("id", sa.String(length=64), nullable=False),
            sa.Column("name", sa.String(), nullable=False),
            sa.Column("budget_fen", sa.BigInteger(), nullable=False),
            sa.Column("opens", sa.Date(), nullable=False),
            sa.Column("closes", sa.Date(), nullable=False),
            sa.Column("config_toml", sa.Text(), nullable=False),
            sa.PrimaryKeyConstraint("id"),
        ],
        "evaluation": [
            sa.Column("cycle_id", sa.String(length=64), nullable=False),
            sa.Column("proposal_id", sa.String(), nullable=False),
            sa.Column("n_reviews", sa.Integer(), nullable=False),
            sa.Column("expert_centi", sa.Integer(), nullable=True),
            sa.Column("community_centi", sa.Integer(), nullable=True),
            sa.Column("final_centi", sa.Integer(), nullable=True),
            sa.Column("status", sa.String(), nullable=False),
            sa.PrimaryKeyConstraint("cycle_id", "proposal_id"),
        ],
        "incentive": [
            sa.Column("cycle_id", sa.String(length=64), nullable=False),
            sa.Column("proposal_id", sa.String(), nullable=False),
            sa.Column("credit_code", sa.String(), nullable=False),
            sa.Column("band", sa.String(), nullable=False),
            sa.Column("combined_centi", sa.Integer(), nullable=False),
            sa.Column("measures", sa.String(), nullable=False),
            sa.Column("bonus_centi", sa.Integer(), nullable=False),
            sa.Column("barred", sa.Boolean(), nullable=False),
            sa.PrimaryKeyConstraint("cycle_id", "proposal_id"),
        ],
        "objection": [
            sa.Column("cycle_id", sa.String(length=64), nullable=False),
            sa.Column("objection_id", sa.String(), nullable=False),
            sa.Column("proposal_id", sa.String(), nullable=False),
            sa.Column("received_on", sa.Date(), nullable=False),
            sa.Column("objector", sa.Text(), nullable=True),
            sa.Column("content", sa.Text(), nullable=False),
            sa.Column("resolution", sa.String(), nullable=False),
            sa.Column("resolved_on", sa.Date(), nullable=True),
            sa.Column("note", sa.Text(), nullable=True),
            sa.Column("source", sa.String(), nullable=False),
            sa.Column("source_row", sa.Integer(), nullable=True),
            sa.PrimaryKeyConstraint("cycle_id", "objection_id"),
        ],
        "organization": [
            sa.Column("cycle_id", sa.String(length=64), nullable=False),
            sa.Column("credit_code", sa.String(), nullable=False),
            sa.Column("name", sa.Text(), nullable=False),
            sa.Column("org_type", sa.Text(), nullable=True),
            sa.Column("registered_on", sa.Date(), nullable=False),
            sa.Column("inspection", sa.String(), nullable=False),
            sa.Column("contact", sa.Text(), nullable=True),
            sa.Column("phone", sa.Text(), nullable=True),
            sa.Column("source_row", sa.Integer(), nullable=False),
            sa.PrimaryKeyConstraint("cycle_id", "credit_code"),
        ],
        "payment": [
            sa.Column("cycle_id", sa.String(length=64), nullable=False),
            sa.Column("proposal_id", sa.String(), nullable=False),
            sa.Column("kind", sa.String(), nullable=False),
            sa.Column("amount_fen", sa.BigInteger(), nullable=False),
            sa.Column("paid_on", sa.Date(), nullable=False),
            sa.Column("paid_by", sa.Text(), nullable=False),
            sa.Column("reference", sa.Text(), nullable=True),
            sa.Column("source", sa.String(), nullable=False),
            sa.Column("recorded_at", sa.String(), nullable=False),
            sa.PrimaryKeyConstraint("cycle_id", "proposal_id", "kind"),
        ],
        "priorincentive": [
            sa.Column("cycle_id", sa.String(length=64), nullable=False),
            sa.Column("proposal_id", sa.String(), nullable=False),
            sa.Column("credit_code", sa.String(), nullable=False),
            sa.Column("bonus_centi", sa.Integer(), nullable=False),
            sa.Column("barred", sa.Boolean(), nullable=False),
            sa.Column("source_row", sa.Integer(), nullable=False),
            sa.PrimaryKeyConstraint("cycle_id", "proposal_id"),
        ],
        "progress": [
            sa.Column("cycle_id", sa.String(length=64), nullable=False),
            sa.Column("proposal_id", sa.String(), nullable=False),
            sa.Column("period_end", sa.Date(), nullable=False),
            sa.Column("services", sa.Integer(), nullable=False),
            sa.Column("activities", sa.Integer(), nullable=False),
            sa.Column("beneficiaries", sa.Integer(), nullable=False),
            sa.Column("spent_fen", sa.BigInteger(), nullable=False),
            sa.Column("satisfaction_centi", sa.Integer(), nullable=True),
            sa.Column("note", sa.Text(), nullable=True),
            sa.Column("submitted_on", sa.Date(), nullable=True),
            sa.Column("source_file", sa.String(), nullable=False),
            sa.Column("source_row", sa.Integer(), nullable=False),
            sa.PrimaryKeyConstraint("cycle_id", "proposal_id", "period_end"),
        ],
        "projectevaluation": [
            sa.Column("cycle_id", sa.String(length=64), nullable=False),
            sa.Column("proposal_id", sa.String(), nullable=False),
            sa.Column("phase", sa.String(), nullable=False),
            sa.Column("evaluator", sa.Text(), nullable=True),
            sa.Column("expert_centi", sa.Integer(), nullable=False),
            sa.Column("evaluated_on", sa.Date(), nullable=False),
            sa.Column("comment", sa.Text(), nullable=True),
            sa.Column("satisfaction_centi", sa.Integer(), nullable=True),
            sa.Column("combined_centi", sa.Integer(), nullable=True),
            sa.Column("status", sa.String(), nullable=False),
            sa.Column("source_file", sa.String(), nullable=False),
            sa.Column("source_row", sa.Integer(), nullable=False),
            sa.PrimaryKeyConstraint("cycle_id", "proposal_id", "phase"),
        ],
        "proposal": [
            sa.Column("cycle_id", sa.String(length=64), nullable=False),
            sa.Column("proposal_id", sa.String(), nullable=False),
            sa.Column("credit_code", sa.String(), nullable=True),
            sa.Column("title", sa.Text(), nullable=True),
            sa.Column("category", sa.String(), nullable=True),
            sa.Column("street", sa.Text(), nullable=True),
            sa.Column("community", sa.Text(), nullable=True),
            sa.Column("requested_fen", sa.BigInteger(), nullable=True),
            sa.Column("cofunding_fen", sa.BigInteger(), nullable=True),
            sa.Column("beneficiaries", sa.Integer(), nullable=True),
            sa.Column("start_on", sa.Date(), nullable=True),
            sa.Column("end_on", sa.Date(), nullable=True),
            sa.Column("summary", sa.Text(), nullable=True),
            sa.Column("submitted_on", sa.Date(), nullable=True),
            sa.Column("source_row", sa.Integer(), nullable=False),
            sa.Column("eligible", sa.Boolean(), nullable=False),
            sa.PrimaryKeyConstraint("cycle_id", "proposal_id"),
        ],
        "rejection": [
            sa.Column("cycle_id", sa.String(length=64), nullable=False),
            sa.Column("stage", sa.String(), nullable=False),
            sa.Column("id", sa.Integer(), nullable=False),
            sa.Column("source_file", sa.String(), nullable=False),
            sa.Column("source_row", sa.Integer(), nullable=True),
            sa.Column("record_id", sa.String(), nullable=False),
            sa.Column("field", sa.String(), nullable=False),
            sa.Column("value", sa.Text(), nullable=False),
            sa.Column("rule", sa.String(), nullable=False),
            sa.Column("params", sa.Text(), nullable=False),
            sa.PrimaryKeyConstraint("cycle_id", "stage", "id"),
        ],
        "reportsnapshot": [
            sa.Column("cycle_id", sa.String(length=64), nullable=False),
            sa.Column("id", sa.Integer(), nullable=False),
            sa.Column("at", sa.String(), nullable=False),
            sa.Column("as_of", sa.Date(), nullable=False),
            sa.Column("input_hash", sa.String(), nullable=False),
            sa.Column("headline", sa.Text(), nullable=False),
            sa.Column("delivery", sa.String(), nullable=False),
            sa.PrimaryKeyConstraint("cycle_id", "id"),
        ],
        "review": [
            sa.Column("cycle_id", sa.String(length=64), nullable=False),
            sa.Column("proposal_id", sa.String(), nullable=False),
            sa.Column("reviewer_id", sa.String(), nullable=False),
            sa.Column("comment", sa.Text(), nullable=True),
            sa.Column("conflict", sa.Boolean(), nullable=False),
            sa.Column("scores_half", sa.Text(), nullable=False),
            sa.Column("total_half", sa.Integer(), nullable=False),
            sa.Column("source_file", sa.String(), nullable=False),
            sa.Column("source_row", sa.Integer(), nullable=False),
            sa.PrimaryKeyConstraint("cycle_id", "proposal_id", "reviewer_id"),
        ],
        "reviewer": [
            sa.Column("cycle_id", sa.String(length=64), nullable=False),
            sa.Column("reviewer_id", sa.String(), nullable=False),
            sa.Column("name", sa.Text(), nullable=False),
            sa.Column("email", sa.Text(), nullable=True),
            sa.Column("expertise", sa.String(), nullable=True),
            sa.Column("affiliations", sa.String(), nullable=True),
            sa.Column("max_load", sa.Integer(), nullable=False),
            sa.Column("source_row", sa.Integer(), nullable=False),
            sa.PrimaryKeyConstraint("cycle_id", "reviewer_id"),
        ],
        "stagerun": [
            sa.Column("cycle_id", sa.String(length=64), nullable=False),
            sa.Column("stage", sa.String(), nullable=False),
            sa.Column("input_hash", sa.String(), nullable=False),
            sa.Column("outcome", sa.String(), nullable=False),
            sa.Column("finished_at", sa.String(), nullable=False),
            sa.Column("summary", sa.Text(), nullable=False),
            sa.PrimaryKeyConstraint("cycle_id", "stage"),
        ],
        "tranche": [
            sa.Column("cycle_id", sa.String(length=64), nullable=False),
            sa.Column("proposal_id", sa.String(), nullable=False),
            sa.Column("kind", sa.String(), nullable=False),
            sa.Column("seq", sa.Integer(), nullable=False),
            sa.Column("amount_fen", sa.BigInteger(), nullable=False),
            sa.Column("status", sa.String(), nullable=False),
            sa.Column("due_on", sa.Date(), nullable=True),
            sa.Column("reason", sa.String(), nullable=False),
            sa.Column("detail", sa.Text(), nullable=False),
            sa.PrimaryKeyConstraint("cycle_id", "proposal_id", "kind"),
        ],
    }


INDEXES = [
    ("ix_auditevent_cycle_id", "auditevent", ["cycle_id"], False),
]


def upgrade() -> None:
    inspector = sa.inspect(op.get_bind())
    for name, columns in tables().items():
        if not inspector.has_table(name):
            op.create_table(name, *columns)
    for index, table, columns, unique in INDEXES:
        if index not in {i["name"] for i in inspector.get_indexes(table)}:
            op.create_index(index, table, columns, unique=unique)


def downgrade() -> None:
    for index, table, _columns, _unique in INDEXES:
        op.drop_index(index, table_name=table)
    for name in reversed(list(tables())):
        op.drop_table(name)
