"""Counterfactual probes: pairs.probe, pairs.probe_of and pairs.styled, empty on every pair stored before.

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-30
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Add the three probe columns to ``pairs``; every pair already stored is an ordinary pair (``""``)."""
    with op.batch_alter_table("pairs") as batch:
        batch.add_column(sa.Column("probe", sa.String(20), nullable=False, server_default=""))
        batch.add_column(sa.Column("probe_of", sa.String(200), nullable=False, server_default=""))
        batch.add_column(sa.Column("styled", sa.String(1), nullable=False, server_default=""))


def downgrade() -> None:
    """Drop the probe columns (a probe then reads as an ordinary pair)."""
    with op.batch_alter_table("pairs") as batch:
        batch.drop_column("styled")
        batch.drop_column("probe_of")
        batch.drop_column("probe")
