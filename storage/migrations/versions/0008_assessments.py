"""Assessment forms: pairs set aside for them, each cohort's schedule and bar, attempts and answers.

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-30
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def _utc() -> sa.DateTime:
    """Written out here, not imported from ``storage/schema.py``: a revision is history."""
    return sa.DateTime(timezone=True)


def upgrade() -> None:
    """Create the four assessment tables, empty: every cohort starts without assessments."""
    op.create_table(
        "assessment_pairs",
        sa.Column("cohort_id", sa.Integer, sa.ForeignKey("cohorts.id", ondelete="CASCADE"), primary_key=True),
        sa.Column("bank_id", sa.Integer, sa.ForeignKey("banks.id", ondelete="CASCADE"), primary_key=True),
        sa.Column("pair_id", sa.String(200), primary_key=True),
        sa.Column("form", sa.String(10), nullable=False, server_default=""),
        sa.Column("marked_at", _utc(), nullable=False),
    )
    op.create_table(
        "assessment_plans",
        sa.Column("cohort_id", sa.Integer, sa.ForeignKey("cohorts.id", ondelete="CASCADE"), primary_key=True),
        sa.Column("bank_id", sa.Integer, sa.ForeignKey("banks.id", ondelete="CASCADE"), nullable=False),
        sa.Column("post_after_days", sa.Integer, nullable=True),
        sa.Column("post_after_drills", sa.Integer, nullable=True),
        sa.Column("retention_after_days", sa.Integer, nullable=True),
        sa.Column("time_limit_minutes", sa.Integer, nullable=False),
        sa.Column("min_accuracy", sa.Float, nullable=False),
        sa.Column("max_overconfidence", sa.Float, nullable=False),
        sa.Column("updated_at", _utc(), nullable=False),
    )
    op.create_table(
        "assessment_attempts",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("rater_id", sa.Integer, sa.ForeignKey("raters.id", ondelete="CASCADE"), nullable=False),
        sa.Column("stage", sa.String(10), nullable=False),
        sa.Column("form", sa.String(10), nullable=False),
        sa.Column("bank_id", sa.Integer, sa.ForeignKey("banks.id", ondelete="CASCADE"), nullable=False),
        sa.Column("started_at", _utc(), nullable=False),
        sa.Column("deadline", _utc(), nullable=False),
        sa.Column("closed_at", _utc(), nullable=True),
        sa.UniqueConstraint("rater_id", "stage", name="one_attempt_per_stage"),
        sa.CheckConstraint("stage IN ('pre', 'post', 'retention')", name="stage_value"),
    )
    op.create_table(
        "assessment_answers",
        sa.Column(
            "attempt_id",
            sa.Integer,
            sa.ForeignKey("assessment_attempts.id", ondelete="CASCADE"),
            primary_key=True,
        ),
        sa.Column("position", sa.Integer, primary_key=True),
        sa.Column("pair_id", sa.String(200), nullable=False),
        sa.Column("left", sa.String(1), nullable=False),
        sa.Column("choice", sa.String(3), nullable=True),
        sa.Column("confidence", sa.Float, nullable=True),
        sa.Column("shown_at", _utc(), nullable=True),
        sa.Column("answered_at", _utc(), nullable=True),
        sa.Column("seconds", sa.Float, nullable=True),
        sa.CheckConstraint("choice IS NULL OR choice IN ('A', 'B', 'tie')", name="form_choice_value"),
        sa.CheckConstraint("\"left\" IN ('A', 'B')", name="form_left_value"),
        sa.CheckConstraint(
            "confidence IS NULL OR (confidence >= 0.5 AND confidence <= 1)", name="form_confidence_range"
        ),
    )


def downgrade() -> None:
    """Drop them (the answers given in forms go with them)."""
    op.drop_table("assessment_answers")
    op.drop_table("assessment_attempts")
    op.drop_table("assessment_plans")
    op.drop_table("assessment_pairs")
