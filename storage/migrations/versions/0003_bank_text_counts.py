"""Kept text counts of each bank's responses (derived data, filled at the next import or first use).

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-30
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Create ``bank_text_counts``; it starts empty (counts are made when a bank is next needed)."""
    op.create_table(
        "bank_text_counts",
        sa.Column("bank_id", sa.Integer, sa.ForeignKey("banks.id", ondelete="CASCADE"), primary_key=True),
        sa.Column("content_key", sa.String(64), nullable=False),
        sa.Column("counts", sa.LargeBinary, nullable=False),
    )


def downgrade() -> None:
    """Drop it."""
    op.drop_table("bank_text_counts")
