"""'About equally good' answers: judgments.choice may be 'tie'; cohorts.tie_answers turns the option on.

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-30
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Widen ``judgments.choice`` to hold ``'tie'`` and its CHECK; add ``cohorts.tie_answers``, off."""
    with op.batch_alter_table("judgments") as batch:
        batch.drop_constraint("choice_value", type_="check")
        batch.alter_column("choice", existing_type=sa.String(1), type_=sa.String(3), existing_nullable=False)
        batch.create_check_constraint("choice_value", "choice IN ('A', 'B', 'tie')")
    with op.batch_alter_table("cohorts") as batch:
        batch.add_column(sa.Column("tie_answers", sa.Boolean, nullable=False, server_default=sa.false()))


def downgrade() -> None:
    """Drop the setting; tie answers must be gone first (the narrower CHECK refuses them)."""
    with op.batch_alter_table("cohorts") as batch:
        batch.drop_column("tie_answers")
    with op.batch_alter_table("judgments") as batch:
        batch.drop_constraint("choice_value", type_="check")
        batch.alter_column("choice", existing_type=sa.String(3), type_=sa.String(1), existing_nullable=False)
        batch.create_check_constraint("choice_value", "choice IN ('A', 'B')")
