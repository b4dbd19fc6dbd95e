"""Baseline: the schema as commit 89237ea created it (banks, pairs, cohorts, raters, drills, sessions).

Written out in full rather than imported from ``storage/schema.py``: a revision
is history and must not change when the schema module does. A database made by
89237ea, which had no ``alembic_version`` table, is stamped at this revision
when it is first opened and then upgraded from here.

Revision ID: 0001
Revises:
Create Date: 2026-11-29
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

TABLES = ("banks", "settings", "pairs", "cohorts", "raters", "drill_items", "judgments", "sessions")
"""The tables this revision creates, in creation order (a database holding all of them is a v1 database)."""


def _utc() -> sa.DateTime:
    return sa.DateTime(timezone=True)


def upgrade() -> None:
    """Create the eight tables and two indexes of the 89237ea schema."""
    op.create_table(
        "banks",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("name", sa.String(200), nullable=False, unique=True),
        sa.Column("created_at", _utc(), nullable=False),
        sa.Column("source_file", sa.String(500), nullable=False),
    )
    op.create_table(
        "settings",
        sa.Column("key", sa.String(100), primary_key=True),
        sa.Column("value", sa.Text, nullable=False),
    )
    op.create_table(
        "pairs",
        sa.Column("bank_id", sa.Integer, sa.ForeignKey("banks.id", ondelete="CASCADE"), primary_key=True),
        sa.Column("pair_id", sa.String(200), primary_key=True),
        sa.Column("position", sa.Integer, nullable=False),
        sa.Column("prompt", sa.Text, nullable=False),
        sa.Column("response_a", sa.Text, nullable=False),
        sa.Column("response_b", sa.Text, nullable=False),
        sa.Column("gold", sa.String(3), nullable=False),
        sa.Column("rationale", sa.Text, nullable=False),
        sa.Column("tags", sa.Text, nullable=False),
        sa.Column("domain", sa.String(100), nullable=False),
        sa.Column("source", sa.String(200), nullable=False),
        sa.Column("gold_confidence", sa.Float, nullable=True),
        sa.CheckConstraint("gold IN ('A', 'B', 'tie')", name="gold_value"),
    )
    op.create_table(
        "cohorts",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("name", sa.String(200), nullable=False, unique=True),
        sa.Column("invite_code", sa.String(64), nullable=False, unique=True),
        sa.Column("bank_id", sa.Integer, sa.ForeignKey("banks.id"), nullable=True),
        sa.Column("drill_size", sa.Integer, nullable=False),
        sa.Column("simulated", sa.Boolean, nullable=False),
        sa.Column("created_at", _utc(), nullable=False),
    )
    op.create_table(
        "raters",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("cohort_id", sa.Integer, sa.ForeignKey("cohorts.id", ondelete="CASCADE"), nullable=False),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("role", sa.String(10), nullable=False),
        sa.Column("password_hash", sa.String(300), nullable=True),
        sa.Column("failed_logins", sa.Integer, nullable=False),
        sa.Column("locked_until", _utc(), nullable=True),
        sa.Column("simulated", sa.Boolean, nullable=False),
        sa.Column("created_at", _utc(), nullable=False),
        sa.UniqueConstraint("cohort_id", "name", name="rater_name_in_cohort"),
        sa.CheckConstraint("role IN ('rater', 'lead')", name="role_value"),
    )
    op.create_table(
        "drill_items",
        sa.Column("rater_id", sa.Integer, sa.ForeignKey("raters.id", ondelete="CASCADE"), primary_key=True),
        sa.Column("drill", sa.String(64), primary_key=True),
        sa.Column("position", sa.Integer, primary_key=True),
        sa.Column("bank_id", sa.Integer, nullable=False),
        sa.Column("pair_id", sa.String(200), nullable=False),
        sa.Column("left", sa.String(1), nullable=False),
        sa.Column("shown_at", _utc(), nullable=True),
        sa.ForeignKeyConstraint(["bank_id", "pair_id"], ["pairs.bank_id", "pairs.pair_id"]),
    )
    op.create_table(
        "judgments",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("rater_id", sa.Integer, sa.ForeignKey("raters.id", ondelete="CASCADE"), nullable=False),
        sa.Column("bank_id", sa.Integer, nullable=False),
        sa.Column("pair_id", sa.String(200), nullable=False),
        sa.Column("drill", sa.String(64), nullable=False),
        sa.Column("drill_date", sa.Date, nullable=True),
        sa.Column("left", sa.String(1), nullable=True),
        sa.Column("choice", sa.String(1), nullable=False),
        sa.Column("confidence", sa.Float, nullable=True),
        sa.Column("shown_at", _utc(), nullable=True),
        sa.Column("answered_at", _utc(), nullable=True),
        sa.Column("seconds", sa.Float, nullable=True),
        sa.ForeignKeyConstraint(["bank_id", "pair_id"], ["pairs.bank_id", "pairs.pair_id"]),
        sa.UniqueConstraint("rater_id", "bank_id", "pair_id", "drill", name="one_answer_per_drill"),
        sa.CheckConstraint("choice IN ('A', 'B')", name="choice_value"),
        sa.CheckConstraint("\"left\" IS NULL OR \"left\" IN ('A', 'B')", name="left_value"),
        sa.CheckConstraint(
            "confidence IS NULL OR (confidence >= 0.5 AND confidence <= 1)", name="confidence_range"
        ),
    )
    op.create_index("judgments_by_pair", "judgments", ["bank_id", "pair_id"])
    op.create_index("judgments_by_rater", "judgments", ["rater_id", "answered_at"])
    op.create_table(
        "sessions",
        sa.Column("token_hash", sa.String(64), primary_key=True),
        sa.Column("rater_id", sa.Integer, sa.ForeignKey("raters.id", ondelete="CASCADE"), nullable=False),
        sa.Column("created_at", _utc(), nullable=False),
        sa.Column("expires_at", _utc(), nullable=False),
    )


def downgrade() -> None:
    """Drop every table of the baseline (and with them all data)."""
    for name in reversed(TABLES):
        op.drop_table(name)
