"""The database schema: every table PairCal stores, defined once.

Times are stored in UTC. :class:`UtcDateTime` is the one column type for them:
it accepts aware datetimes (naive ones are taken as UTC) and always returns
aware UTC datetimes, on SQLite (which keeps no zone) and PostgreSQL alike.
"""

from __future__ import annotations

from datetime import UTC, datetime

import sqlalchemy as sa
from sqlalchemy.types import TypeDecorator


class UtcDateTime(TypeDecorator):
    """A timezone-aware UTC datetime column, the same on every database."""

    impl = sa.DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect) -> datetime | None:
        """The value to store: UTC, aware."""
        return None if value is None else as_utc(value)

    def process_result_value(self, value: datetime | None, dialect) -> datetime | None:
        """The value read back: UTC, aware, whatever the database kept."""
        return None if value is None else as_utc(value)


def as_utc(moment: datetime) -> datetime:
    """``moment`` as an aware UTC datetime; a naive one is taken to be in UTC already.

    >>> as_utc(datetime(2026, 1, 2, 3, 4)).isoformat()
    '2026-01-02T03:04:00+00:00'
    """
    if moment.tzinfo is None:
        return moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC)


metadata = sa.MetaData()

banks = sa.Table(
    "banks",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("name", sa.String(200), nullable=False, unique=True),
    sa.Column("created_at", UtcDateTime(), nullable=False),
    sa.Column("source_file", sa.String(500), nullable=False, default=""),
    # Tenancy: a bank belongs to one cohort (its lead changes it) or, when
    # ``owner_cohort_id`` is NULL, to the server (the shipped starter bank and
    # banks loaded with the CLI): shared, and read-only in the app.
    sa.Column("owner_cohort_id", sa.Integer, nullable=True),
    sa.Column("read_only", sa.Boolean, nullable=False, default=False),
    # Raised by every change to the bank's pairs (an import, a gold correction, a retirement):
    # the key under which every server process caches the bank and the statistics built on it.
    sa.Column("revision", sa.Integer, nullable=False, default=0),
)

pairs_table = sa.Table(
    "pairs",
    metadata,
    sa.Column("bank_id", sa.Integer, sa.ForeignKey("banks.id", ondelete="CASCADE"), primary_key=True),
    sa.Column("pair_id", sa.String(200), primary_key=True),
    sa.Column("position", sa.Integer, nullable=False),
    sa.Column("prompt", sa.Text, nullable=False),
    sa.Column("response_a", sa.Text, nullable=False),
    sa.Column("response_b", sa.Text, nullable=False),
    sa.Column("gold", sa.String(3), nullable=False),
    sa.Column("rationale", sa.Text, nullable=False, default=""),
    sa.Column("tags", sa.Text, nullable=False, default="[]"),
    sa.Column("domain", sa.String(100), nullable=False, default=""),
    sa.Column("source", sa.String(200), nullable=False, default=""),
    sa.Column("gold_confidence", sa.Float, nullable=True),
    # A counterfactual probe (pairs.bank): its kind, the id of its base pair in the same bank,
    # and the response that carries the added style. All "" on an ordinary pair.
    sa.Column("probe", sa.String(20), nullable=False, server_default=""),
    sa.Column("probe_of", sa.String(200), nullable=False, server_default=""),
    sa.Column("styled", sa.String(1), nullable=False, server_default=""),
    sa.CheckConstraint("gold IN ('A', 'B', 'tie')", name="gold_value"),
)

bank_text_counts = sa.Table(
    "bank_text_counts",
    metadata,
    # Derived data: pairs.features.bank_text_counts of the bank's responses, kept so that a page
    # in a new server process does not read every text again. ``content_key`` is
    # pairs.features.bank_key of the bank they were counted on; another key means stale.
    sa.Column("bank_id", sa.Integer, sa.ForeignKey("banks.id", ondelete="CASCADE"), primary_key=True),
    sa.Column("content_key", sa.String(64), nullable=False),
    sa.Column("counts", sa.LargeBinary, nullable=False),
)

cohorts = sa.Table(
    "cohorts",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("name", sa.String(200), nullable=False, unique=True),
    sa.Column("invite_code", sa.String(64), nullable=False, unique=True),
    sa.Column("bank_id", sa.Integer, sa.ForeignKey("banks.id"), nullable=True),
    sa.Column("drill_size", sa.Integer, nullable=False, default=10),
    sa.Column("simulated", sa.Boolean, nullable=False, default=False),
    sa.Column("created_at", UtcDateTime(), nullable=False),
    # The lead lets raters answer "About equally good" (stored as choice 'tie'); off by default.
    sa.Column("tie_answers", sa.Boolean, nullable=False, default=False),
)

raters = sa.Table(
    "raters",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("cohort_id", sa.Integer, sa.ForeignKey("cohorts.id", ondelete="CASCADE"), nullable=False),
    sa.Column("name", sa.String(200), nullable=False),
    sa.Column("role", sa.String(10), nullable=False, default="rater"),
    sa.Column("password_hash", sa.String(300), nullable=True),
    sa.Column("failed_logins", sa.Integer, nullable=False, default=0),
    sa.Column("locked_until", UtcDateTime(), nullable=True),
    sa.Column("simulated", sa.Boolean, nullable=False, default=False),
    sa.Column("created_at", UtcDateTime(), nullable=False),
    # "account": a person who signs in; "imported": a name from a judgments
    # import or a simulation, never signed in as and never merged with an account.
    sa.Column("kind", sa.String(10), nullable=False, default="account"),
    sa.Column("admin", sa.Boolean, nullable=False, default=False),
    sa.Column("removed_at", UtcDateTime(), nullable=True),
    sa.UniqueConstraint("cohort_id", "name", name="rater_name_in_cohort"),
    sa.CheckConstraint("role IN ('rater', 'lead')", name="role_value"),
    sa.CheckConstraint("kind IN ('account', 'imported')", name="kind_value"),
)

drill_items = sa.Table(
    "drill_items",
    metadata,
    sa.Column("rater_id", sa.Integer, sa.ForeignKey("raters.id", ondelete="CASCADE"), primary_key=True),
    sa.Column("drill", sa.String(64), primary_key=True),
    sa.Column("position", sa.Integer, primary_key=True),
    sa.Column("bank_id", sa.Integer, nullable=False),
    sa.Column("pair_id", sa.String(200), nullable=False),
    sa.Column("left", sa.String(1), nullable=False),
    sa.Column("shown_at", UtcDateTime(), nullable=True),
    sa.ForeignKeyConstraint(["bank_id", "pair_id"], ["pairs.bank_id", "pairs.pair_id"]),
)

judgments = sa.Table(
    "judgments",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("rater_id", sa.Integer, sa.ForeignKey("raters.id", ondelete="CASCADE"), nullable=False),
    sa.Column("bank_id", sa.Integer, nullable=False),
    sa.Column("pair_id", sa.String(200), nullable=False),
    sa.Column("drill", sa.String(64), nullable=False),
    sa.Column("drill_date", sa.Date, nullable=True),
    sa.Column("left", sa.String(1), nullable=True),
    # "A" or "B" (the response by identity), or "tie": "About equally good", where the cohort offers it.
    sa.Column("choice", sa.String(3), nullable=False),
    sa.Column("confidence", sa.Float, nullable=True),
    sa.Column("shown_at", UtcDateTime(), nullable=True),
    sa.Column("answered_at", UtcDateTime(), nullable=True),
    sa.Column("seconds", sa.Float, nullable=True),
    # True when the rater had answered this pair before: it counts in no
    # statistic and on no leaderboard (the first answer does).
    sa.Column("repeat", sa.Boolean, nullable=False, default=False),
    sa.ForeignKeyConstraint(["bank_id", "pair_id"], ["pairs.bank_id", "pairs.pair_id"]),
    sa.UniqueConstraint("rater_id", "bank_id", "pair_id", "drill", name="one_answer_per_drill"),
    sa.CheckConstraint("choice IN ('A', 'B', 'tie')", name="choice_value"),
    sa.CheckConstraint("\"left\" IS NULL OR \"left\" IN ('A', 'B')", name="left_value"),
    sa.CheckConstraint(
        "confidence IS NULL OR (confidence >= 0.5 AND confidence <= 1)", name="confidence_range"
    ),
)
sa.Index("judgments_by_rater", judgments.c.rater_id, judgments.c.answered_at)
sa.Index("judgments_by_pair", judgments.c.bank_id, judgments.c.pair_id)

sessions = sa.Table(
    "sessions",
    metadata,
    sa.Column("token_hash", sa.String(64), primary_key=True),
    sa.Column("rater_id", sa.Integer, sa.ForeignKey("raters.id", ondelete="CASCADE"), nullable=False),
    sa.Column("created_at", UtcDateTime(), nullable=False),
    sa.Column("expires_at", UtcDateTime(), nullable=False),
)

invites = sa.Table(
    "invites",
    metadata,
    # One-time invitations to lead a cohort; only a hash of the code is kept.
    sa.Column("token_hash", sa.String(64), primary_key=True),
    sa.Column("cohort_id", sa.Integer, sa.ForeignKey("cohorts.id", ondelete="CASCADE"), nullable=False),
    sa.Column("role", sa.String(10), nullable=False, default="lead"),
    sa.Column("created_at", UtcDateTime(), nullable=False),
    sa.Column("expires_at", UtcDateTime(), nullable=False),
    sa.Column("used_at", UtcDateTime(), nullable=True),
    sa.Column("used_by", sa.Integer, nullable=True),
)

identities = sa.Table(
    "identities",
    metadata,
    # Accounts signed in through an identity provider (OIDC): issuer and subject name one person.
    sa.Column("issuer", sa.String(500), primary_key=True),
    sa.Column("subject", sa.String(255), primary_key=True),
    sa.Column("rater_id", sa.Integer, sa.ForeignKey("raters.id", ondelete="CASCADE"), nullable=False),
    sa.Column("created_at", UtcDateTime(), nullable=False),
)

settings = sa.Table(
    "settings",
    metadata,
    sa.Column("key", sa.String(100), primary_key=True),
    sa.Column("value", sa.Text, nullable=False),
)

pair_changes = sa.Table(
    "pair_changes",
    metadata,
    # The gold audit's record: every correction of a pair's gold or reason, and every retirement
    # or return of a pair, by whom and when. Kept when the rater who made it is removed.
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("bank_id", sa.Integer, sa.ForeignKey("banks.id", ondelete="CASCADE"), nullable=False),
    sa.Column("pair_id", sa.String(200), nullable=False),
    sa.Column("field", sa.String(20), nullable=False),
    sa.Column("old", sa.Text, nullable=False),
    sa.Column("new", sa.Text, nullable=False),
    sa.Column("changed_by", sa.Integer, sa.ForeignKey("raters.id", ondelete="SET NULL"), nullable=True),
    sa.Column("changed_by_name", sa.String(200), nullable=False),
    sa.Column("changed_at", UtcDateTime(), nullable=False),
    sa.CheckConstraint("field IN ('gold', 'rationale', 'retired')", name="changed_field"),
)
sa.Index("pair_changes_by_pair", pair_changes.c.bank_id, pair_changes.c.pair_id)

retired_pairs = sa.Table(
    "retired_pairs",
    metadata,
    # Pairs a lead retired in the gold audit: never drawn into a drill again (answers stay).
    sa.Column("bank_id", sa.Integer, sa.ForeignKey("banks.id", ondelete="CASCADE"), primary_key=True),
    sa.Column("pair_id", sa.String(200), primary_key=True),
    sa.Column("retired_at", UtcDateTime(), nullable=False),
)

cohort_guidelines = sa.Table(
    "cohort_guidelines",
    metadata,
    # The lead's rating guidelines for the cohort (Markdown), shown to raters above each pair.
    sa.Column("cohort_id", sa.Integer, sa.ForeignKey("cohorts.id", ondelete="CASCADE"), primary_key=True),
    sa.Column("text", sa.Text, nullable=False),
    sa.Column("updated_at", UtcDateTime(), nullable=False),
    sa.Column("updated_by", sa.Integer, sa.ForeignKey("raters.id", ondelete="SET NULL"), nullable=True),
)

STAGES = ("pre", "post", "retention")
"""The assessment stages, in the order a rater meets them: baseline, after training, later again."""

assessment_pairs = sa.Table(
    "assessment_pairs",
    metadata,
    # Pairs a cohort's lead set aside for assessment forms: no drill, practice or review of the cohort
    # shows them. ``form`` is the parallel form ("X", "Y", ...) the pair belongs to ("" until split).
    sa.Column("cohort_id", sa.Integer, sa.ForeignKey("cohorts.id", ondelete="CASCADE"), primary_key=True),
    sa.Column("bank_id", sa.Integer, sa.ForeignKey("banks.id", ondelete="CASCADE"), primary_key=True),
    sa.Column("pair_id", sa.String(200), primary_key=True),
    sa.Column("form", sa.String(10), nullable=False, server_default=""),
    sa.Column("marked_at", UtcDateTime(), nullable=False),
)

assessment_plans = sa.Table(
    "assessment_plans",
    metadata,
    # A cohort's assessment schedule and qualification bar. The post form falls due after
    # ``post_after_days`` days or ``post_after_drills`` finished drills since the baseline, whichever
    # comes first (NULL: not by that rule); the retention form ``retention_after_days`` after the post
    # form (NULL: none). Each form closes ``time_limit_minutes`` after it is opened.
    sa.Column("cohort_id", sa.Integer, sa.ForeignKey("cohorts.id", ondelete="CASCADE"), primary_key=True),
    sa.Column("bank_id", sa.Integer, sa.ForeignKey("banks.id", ondelete="CASCADE"), nullable=False),
    sa.Column("post_after_days", sa.Integer, nullable=True),
    sa.Column("post_after_drills", sa.Integer, nullable=True),
    sa.Column("retention_after_days", sa.Integer, nullable=True),
    sa.Column("time_limit_minutes", sa.Integer, nullable=False),
    sa.Column("min_accuracy", sa.Float, nullable=False),
    sa.Column("max_overconfidence", sa.Float, nullable=False),
    sa.Column("updated_at", UtcDateTime(), nullable=False),
)

assessment_attempts = sa.Table(
    "assessment_attempts",
    metadata,
    # One attempt per rater and stage: the form taken, when it opened, its deadline (answers after it
    # are refused) and when it closed (all answered, or found past its deadline).
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("rater_id", sa.Integer, sa.ForeignKey("raters.id", ondelete="CASCADE"), nullable=False),
    sa.Column("stage", sa.String(10), nullable=False),
    sa.Column("form", sa.String(10), nullable=False),
    sa.Column("bank_id", sa.Integer, sa.ForeignKey("banks.id", ondelete="CASCADE"), nullable=False),
    sa.Column("started_at", UtcDateTime(), nullable=False),
    sa.Column("deadline", UtcDateTime(), nullable=False),
    sa.Column("closed_at", UtcDateTime(), nullable=True),
    sa.UniqueConstraint("rater_id", "stage", name="one_attempt_per_stage"),
    sa.CheckConstraint("stage IN ('pre', 'post', 'retention')", name="stage_value"),
)

assessment_answers = sa.Table(
    "assessment_answers",
    metadata,
    # The items of an attempt, in the order shown, and the answer to each (NULL until answered).
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
    sa.Column("shown_at", UtcDateTime(), nullable=True),
    sa.Column("answered_at", UtcDateTime(), nullable=True),
    sa.Column("seconds", sa.Float, nullable=True),
    sa.CheckConstraint("choice IS NULL OR choice IN ('A', 'B', 'tie')", name="form_choice_value"),
    sa.CheckConstraint("\"left\" IN ('A', 'B')", name="form_left_value"),
    sa.CheckConstraint(
        "confidence IS NULL OR (confidence >= 0.5 AND confidence <= 1)", name="form_confidence_range"
    ),
)
