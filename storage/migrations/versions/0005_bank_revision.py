"""A revision number per bank, raised by every change to its pairs: the key of every server's caches.

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-30
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Add ``banks.revision``, 0 for every bank."""
    with op.batch_alter_table("banks") as batch:
        batch.add_column(sa.Column("revision", sa.Integer, nullable=False, server_default="0"))


def downgrade() -> None:
    """Drop it."""
    with op.batch_alter_table("banks") as batch:
        batch.drop_column("revision")
