"""The gold audit's record of changes, retired pairs, and each cohort's guidelines.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-30
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def _utc() -> sa.DateTime:
    """Written out here, not imported from ``storage/schema.py``: a revision is history."""
    return sa.DateTime(timezone=True)


def upgrade() -> None:
    """Create ``pair_changes``, ``retired_pairs`` and ``cohort_guidelines``, empty."""
    op.create_table(
        "pair_changes",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("bank_id", sa.Integer, sa.ForeignKey("banks.id", ondelete="CASCADE"), nullable=False),
        sa.Column("pair_id", sa.String(200), nullable=False),
        sa.Column("field", sa.String(20), nullable=False),
        sa.Column("old", sa.Text, nullable=False),
        sa.Column("new", sa.Text, nullable=False),
        sa.Column("changed_by", sa.Integer, sa.ForeignKey("raters.id", ondelete="SET NULL"), nullable=True),
        sa.Column("changed_by_name", sa.String(200), nullable=False),
        sa.Column("changed_at", _utc(), nullable=False),
        sa.CheckConstraint("field IN ('gold', 'rationale', 'retired')", name="changed_field"),
    )
    op.create_index("pair_changes_by_pair", "pair_changes", ["bank_id", "pair_id"])
    op.create_table(
        "retired_pairs",
        sa.Column("bank_id", sa.Integer, sa.ForeignKey("banks.id", ondelete="CASCADE"), primary_key=True),
        sa.Column("pair_id", sa.String(200), primary_key=True),
        sa.Column("retired_at", _utc(), nullable=False),
    )
    op.create_table(
        "cohort_guidelines",
        sa.Column("cohort_id", sa.Integer, sa.ForeignKey("cohorts.id", ondelete="CASCADE"), primary_key=True),
        sa.Column("text", sa.Text, nullable=False),
        sa.Column("updated_at", _utc(), nullable=False),
        sa.Column("updated_by", sa.Integer, sa.ForeignKey("raters.id", ondelete="SET NULL"), nullable=True),
    )


def downgrade() -> None:
    """Drop them."""
    op.drop_table("cohort_guidelines")
    op.drop_table("retired_pairs")
    op.drop_index("pair_changes_by_pair", table_name="pair_changes")
    op.drop_table("pair_changes")
