"""The SQL behind drills: their items, answers, and the counts that make progress and streaks.

What a drill contains and what the rater is told live in
:mod:`training.drills`; this module reads and writes the rows, each public
function in one transaction (or inside the caller's connection where it takes
one), so a page can gather everything it shows in a single read.
"""

from __future__ import annotations

import json
from collections.abc import Collection
from datetime import date, datetime
from typing import Any

import pandas as pd
import sqlalchemy as sa
from sqlalchemy.engine import Connection

from pairs.judgments import COLUMNS as JUDGMENT_COLUMNS
from storage.schema import banks, cohorts, drill_items, judgments, pairs_table, raters
from storage.store import Store


def _answer_join():
    j = judgments
    return sa.and_(
        j.c.rater_id == drill_items.c.rater_id,
        j.c.bank_id == drill_items.c.bank_id,
        j.c.pair_id == drill_items.c.pair_id,
        j.c.drill == drill_items.c.drill,
    )


def read_items(conn: Connection, rater_id: int, key: str) -> list[dict[str, Any]]:
    """A drill's items in position order, each with its answer (None fields while unanswered); [] if none.

    ``repeat`` says whether the item's answer is (or, unanswered, would be) a
    repeat: the rater has answered the pair in another drill before.
    """
    j = judgments
    earlier = sa.alias(judgments, "earlier")
    answered_elsewhere = sa.exists().where(
        earlier.c.rater_id == drill_items.c.rater_id,
        earlier.c.bank_id == drill_items.c.bank_id,
        earlier.c.pair_id == drill_items.c.pair_id,
        earlier.c.drill != drill_items.c.drill,
    )
    query = (
        sa.select(
            drill_items.c.position,
            drill_items.c.bank_id,
            drill_items.c.pair_id,
            drill_items.c.left,
            drill_items.c.shown_at,
            j.c.choice,
            j.c.confidence,
            j.c.answered_at,
            banks.c.name.label("bank"),
            sa.case((j.c.id.is_(None), answered_elsewhere), else_=j.c.repeat).label("repeat"),
        )
        .join(banks, banks.c.id == drill_items.c.bank_id)
        .outerjoin(j, _answer_join())
        .where(drill_items.c.rater_id == int(rater_id), drill_items.c.drill == key)
        .order_by(drill_items.c.position)
    )
    return [dict(row) for row in conn.execute(query).mappings()]


def insert_items(store: Store, rater_id: int, key: str, items: list[dict[str, Any]]) -> None:
    """Store a new drill's items (``position``, ``bank_id``, ``pair_id``, ``left``) unless it exists already.

    Two processes creating the same drill at once end with one drill: the
    first writer's.
    """
    rows = [{"rater_id": int(rater_id), "drill": key, "shown_at": None, **item} for item in items]

    def fn(conn: Connection) -> None:
        exists = conn.execute(
            sa.select(drill_items.c.position)
            .where(drill_items.c.rater_id == int(rater_id), drill_items.c.drill == key)
            .limit(1)
        ).first()
        if exists is None and rows:
            conn.execute(store.insert_ignore(drill_items, ["rater_id", "drill", "position"]), rows)

    store.write(fn)


def mark_shown(store: Store, rater_id: int, key: str, position: int, at: datetime) -> bool:
    """Set an item's first-shown time unless it is set; True if this call set it."""

    def fn(conn: Connection) -> bool:
        result = conn.execute(
            sa.update(drill_items)
            .where(
                drill_items.c.rater_id == int(rater_id),
                drill_items.c.drill == key,
                drill_items.c.position == int(position),
                drill_items.c.shown_at.is_(None),
            )
            .values(shown_at=at)
        )
        return result.rowcount > 0

    return store.write(fn)


def record_answer(
    store: Store,
    rater_id: int,
    key: str,
    position: int,
    *,
    choice: str,
    confidence: float,
    answered_at: datetime,
    drill_date: date,
) -> tuple[str, dict[str, Any] | None, dict[str, Any] | None]:
    """Store the answer to one drill item and read its pair, in one write transaction.

    Returns
    -------
    (status, item, pair)
        ``status`` is ``"stored"``, ``"answered"`` (the item had an answer
        already; nothing stored), ``"no-drill"``, ``"missing:N"`` (the drill
        has N items and none at ``position``) or ``"no-tie"`` (``choice`` is
        ``"tie"`` and the rater's cohort does not offer it; nothing stored);
        item and pair are None for the last three. ``item`` is the item row as :func:`read_items` gives it,
        before this answer; ``pair`` the pair's row (``tags`` decoded to a tuple).
    """

    def fn(conn: Connection) -> tuple[str, dict[str, Any] | None, dict[str, Any] | None]:
        items = read_items(conn, rater_id, key)
        if not items:
            return "no-drill", None, None
        item = next((i for i in items if i["position"] == int(position)), None)
        if item is None:
            return f"missing:{len(items)}", None, None
        if choice == "tie" and not _offers_ties(conn, rater_id):
            return "no-tie", None, None
        pair = _pair(conn, item["bank_id"], item["pair_id"])
        if item["choice"] is not None:
            return "answered", item, pair
        stored = store.insert_judgment(
            conn,
            rater_id=int(rater_id),
            bank_id=item["bank_id"],
            pair_id=item["pair_id"],
            drill=key,
            choice=choice,
            confidence=confidence,
            left=item["left"],
            shown_at=item["shown_at"],
            answered_at=answered_at,
            drill_date=drill_date,
        )
        return ("stored" if stored else "answered"), item, pair

    return store.write(fn)


def _offers_ties(conn: Connection, rater_id: int) -> bool:
    """Whether the rater's cohort lets raters answer "About equally good"."""
    query = sa.select(cohorts.c.tie_answers).join(raters, raters.c.cohort_id == cohorts.c.id)
    return bool(conn.execute(query.where(raters.c.id == int(rater_id))).scalar())


def _pair(conn: Connection, bank_id: int, pair_id: str) -> dict[str, Any]:
    where = (pairs_table.c.bank_id == bank_id, pairs_table.c.pair_id == pair_id)
    pair = dict(conn.execute(sa.select(pairs_table).where(*where)).mappings().one())
    pair["tags"] = tuple(json.loads(pair["tags"] or "[]"))
    return pair


def read_pair(store: Store, bank_id: int, pair_id: str) -> dict[str, Any]:
    """One stored pair with its gold and rationale (``tags`` as a tuple)."""
    with store.read() as conn:
        return _pair(conn, bank_id, pair_id)


def drill_counts(conn: Connection, rater_id: int, pattern: str) -> dict[str, tuple[int, int]]:
    """``{key: (items, answered)}`` of a rater's drills whose key matches the LIKE ``pattern``."""
    query = (
        sa.select(drill_items.c.drill, sa.func.count(), sa.func.count(judgments.c.id))
        .outerjoin(judgments, _answer_join())
        .where(drill_items.c.rater_id == int(rater_id), drill_items.c.drill.like(pattern))
        .group_by(drill_items.c.drill)
    )
    return {key: (int(size), int(done)) for key, size, done in conn.execute(query).all()}


def cohort_drill_counts(
    store: Store,
    cohort_id: int,
    pattern: str,
    *,
    from_key: str | None = None,
    names: Collection[str] | None = None,
) -> pd.DataFrame:
    """Every drill of a cohort's raters whose key matches ``pattern``.

    ``from_key`` keeps the drills whose key sorts at or after it (``daily:``
    keys sort by day, so ``"daily:2026-03-01"`` keeps that day on), read over
    the (rater, drill) key; ``names`` keeps those raters.

    Columns ``rater`` (name), ``drill`` (key), ``items`` and ``answered``.
    """
    query = (
        sa.select(
            raters.c.name.label("rater"),
            drill_items.c.drill,
            sa.func.count().label("items"),
            sa.func.count(judgments.c.id).label("answered"),
        )
        .join(raters, raters.c.id == drill_items.c.rater_id)
        .outerjoin(judgments, _answer_join())
        .where(raters.c.cohort_id == int(cohort_id), drill_items.c.drill.like(pattern))
        .group_by(raters.c.name, drill_items.c.drill)
    )
    if from_key is not None:
        query = query.where(drill_items.c.drill >= from_key)
    if names is not None:
        query = query.where(raters.c.name.in_([str(name) for name in names]))
    with store.read() as conn:
        rows = conn.execute(query).all()
    return pd.DataFrame(rows, columns=["rater", "drill", "items", "answered"])


def _judgment_columns() -> list[Any]:
    """A rater's judgments in the judgments CSV layout (joined to ``raters`` for the name)."""
    j = judgments
    return [
        raters.c.name.label("rater"),
        j.c.pair_id,
        j.c.choice,
        j.c.confidence,
        j.c.left,
        j.c.answered_at,
        j.c.seconds,
    ]


def _judgment_frame(rows: Any, columns: list[str]) -> pd.DataFrame:
    frame = pd.DataFrame(rows, columns=columns)
    frame["answered_at"] = pd.to_datetime(frame["answered_at"], utc=True)
    return frame


def rater_judgments(conn: Connection, rater_id: int, bank_id: int) -> pd.DataFrame:
    """A rater's judgments on one bank in the judgments CSV layout, oldest first."""
    j = judgments
    rows = conn.execute(
        sa.select(*_judgment_columns())
        .join(raters, raters.c.id == j.c.rater_id)
        .where(j.c.rater_id == int(rater_id), j.c.bank_id == bank_id)
        .order_by(j.c.answered_at, j.c.id)
    ).all()
    return _judgment_frame(rows, list(JUDGMENT_COLUMNS))


def drill_and_recent_judgments(
    store: Store, rater_id: int, bank: str, key: str, since: datetime
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """A rater's answers in drill ``key`` and every answer of theirs on ``bank`` since ``since``.

    The judgments CSV layout plus ``drill`` (its key) and ``repeat`` (True for
    a pair the rater had answered before), oldest first, and the bank's pairs
    are read in the same transaction: ``(judgments, bank)``.
    """
    j = judgments
    with store.read() as conn:
        bank_id = store.bank_id(bank, conn)
        rows = conn.execute(
            sa.select(*_judgment_columns(), j.c.drill, j.c.repeat)
            .join(raters, raters.c.id == j.c.rater_id)
            .where(j.c.rater_id == int(rater_id), j.c.bank_id == bank_id)
            .where(sa.or_(j.c.drill == key, j.c.answered_at >= since))
            .order_by(j.c.answered_at, j.c.id)
        ).all()
        pairs = store.load_bank(bank, conn)
    frame = _judgment_frame(rows, [*JUDGMENT_COLUMNS, "drill", "repeat"])
    frame["repeat"] = frame["repeat"].astype(bool)
    return frame, pairs


def rater_exists(conn: Connection, rater_id: int) -> bool:
    """Whether a rater with this id exists."""
    return conn.execute(sa.select(raters.c.id).where(raters.c.id == int(rater_id))).first() is not None


__all__ = [
    "cohort_drill_counts",
    "drill_and_recent_judgments",
    "drill_counts",
    "insert_items",
    "mark_shown",
    "rater_exists",
    "rater_judgments",
    "read_items",
    "read_pair",
    "record_answer",
]
