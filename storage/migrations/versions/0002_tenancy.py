"""Tenancy and identity: banks owned by cohorts, account kinds, an admin, lead invites, repeats.

* ``banks.owner_cohort_id`` and ``banks.read_only``: a bank used by exactly
  one cohort becomes that cohort's; the starter bank, and a bank used by
  several cohorts or by none, stays the server's, read-only in the app.
* ``raters.kind``: ``account`` for people (a lead, someone with a password, or
  someone who did a drill), ``imported`` for the rest (judgment imports,
  simulations); ``raters.admin``: the oldest lead with a password becomes the
  server's admin; ``raters.removed_at``.
* ``judgments.repeat``: set on every judgment of a pair the rater had answered
  before (an earlier row of the same rater, bank and pair).
* New tables ``invites`` (one-time lead invitations) and ``identities``
  (accounts signed in through an identity provider).

Written out in full, not imported from ``storage/schema.py``: a revision is history.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-30
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def _utc() -> sa.DateTime:
    return sa.DateTime(timezone=True)


def upgrade() -> None:
    """Add the columns and tables, then fill them from what the database holds."""
    with op.batch_alter_table("banks") as batch:
        batch.add_column(sa.Column("owner_cohort_id", sa.Integer, nullable=True))
        batch.add_column(sa.Column("read_only", sa.Boolean, nullable=False, server_default=sa.false()))
    with op.batch_alter_table("raters") as batch:
        batch.add_column(sa.Column("kind", sa.String(10), nullable=False, server_default="account"))
        batch.add_column(sa.Column("admin", sa.Boolean, nullable=False, server_default=sa.false()))
        batch.add_column(sa.Column("removed_at", _utc(), nullable=True))
        batch.create_check_constraint("kind_value", "kind IN ('account', 'imported')")
    with op.batch_alter_table("judgments") as batch:
        batch.add_column(sa.Column("repeat", sa.Boolean, nullable=False, server_default=sa.false()))
    op.create_table(
        "invites",
        sa.Column("token_hash", sa.String(64), primary_key=True),
        sa.Column("cohort_id", sa.Integer, sa.ForeignKey("cohorts.id", ondelete="CASCADE"), nullable=False),
        sa.Column("role", sa.String(10), nullable=False),
        sa.Column("created_at", _utc(), nullable=False),
        sa.Column("expires_at", _utc(), nullable=False),
        sa.Column("used_at", _utc(), nullable=True),
        sa.Column("used_by", sa.Integer, nullable=True),
    )
    op.create_table(
        "identities",
        sa.Column("issuer", sa.String(500), primary_key=True),
        sa.Column("subject", sa.String(255), primary_key=True),
        sa.Column("rater_id", sa.Integer, sa.ForeignKey("raters.id", ondelete="CASCADE"), nullable=False),
        sa.Column("created_at", _utc(), nullable=False),
    )

    # Who owns each bank: the one cohort that uses it; the starter bank and shared banks nobody.
    op.execute(
        """
        UPDATE banks SET owner_cohort_id = (
            SELECT MIN(c.id) FROM cohorts c WHERE c.bank_id = banks.id
        )
        WHERE name <> 'starter'
          AND (SELECT COUNT(*) FROM cohorts c WHERE c.bank_id = banks.id) = 1
        """
    )
    op.execute("UPDATE banks SET read_only = (owner_cohort_id IS NULL)")
    # Imported names: no password, not a lead, never did a drill in the app.
    op.execute(
        """
        UPDATE raters SET kind = 'imported'
        WHERE password_hash IS NULL AND role <> 'lead'
          AND NOT EXISTS (SELECT 1 FROM drill_items d WHERE d.rater_id = raters.id)
        """
    )
    op.execute(
        """
        UPDATE raters SET admin = (id = (
            SELECT MIN(r.id) FROM raters r WHERE r.role = 'lead' AND r.password_hash IS NOT NULL
        ))
        """
    )
    op.execute("UPDATE raters SET admin = (1 = 0) WHERE admin IS NULL")
    # A later answer to a pair the rater had answered before is a repeat.
    op.execute(
        """
        UPDATE judgments SET repeat = (1 = 1)
        WHERE EXISTS (
            SELECT 1 FROM judgments e
            WHERE e.rater_id = judgments.rater_id AND e.bank_id = judgments.bank_id
              AND e.pair_id = judgments.pair_id AND e.id < judgments.id
        )
        """
    )


def downgrade() -> None:
    """Drop what :func:`upgrade` added."""
    op.drop_table("identities")
    op.drop_table("invites")
    with op.batch_alter_table("judgments") as batch:
        batch.drop_column("repeat")
    with op.batch_alter_table("raters") as batch:
        batch.drop_constraint("kind_value", type_="check")
        batch.drop_column("removed_at")
        batch.drop_column("admin")
        batch.drop_column("kind")
    with op.batch_alter_table("banks") as batch:
        batch.drop_column("read_only")
        batch.drop_column("owner_cohort_id")
