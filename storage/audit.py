"""The SQL of a lead's console: gold corrections, retired pairs, guidelines, removing demo data.

A correction of a pair's gold is an explicit, recorded act: the pair's row in
``pairs`` and a row of ``pair_changes`` (who, when, pair, field, old, new) are
written in one transaction. Every statistic reads gold from the bank, so past
answers to the pair are scored against the new gold everywhere from then on.
Only the bank's owner cohort may change it, and never a read-only bank.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import pandas as pd
import sqlalchemy as sa
from sqlalchemy.engine import Connection

from storage.schema import (
    banks,
    cohort_guidelines,
    cohorts,
    drill_items,
    judgments,
    pair_changes,
    pairs_table,
    raters,
    retired_pairs,
    sessions,
)
from storage.store import BankRefused, Store, now

FIELDS = ("gold", "rationale", "retired")
"""What a change may touch: the gold, the reason given for it, or whether the pair is retired."""
CHANGE_COLUMNS = ["pair_id", "field", "old", "new", "changed_by", "changed_at"]
"""Columns of :func:`pair_changes`."""


class LastPair(Exception):
    """Retiring this pair would leave the bank no pair for a drill to draw."""


def _editable_bank(conn: Connection, bank: str, cohort_id: int) -> int:
    """The id of ``bank`` if cohort ``cohort_id`` may change it; else :class:`BankRefused`."""
    row = conn.execute(
        sa.select(banks.c.id, banks.c.owner_cohort_id, banks.c.read_only).where(banks.c.name == bank)
    ).first()
    if row is None:
        raise KeyError(f"no bank named {bank!r}")
    if row.read_only:
        raise BankRefused("read-only", bank)
    if row.owner_cohort_id is None or int(row.owner_cohort_id) != int(cohort_id):
        raise BankRefused("not-yours", bank)
    return int(row.id)


def _record(
    conn: Connection, bank_id: int, pair_id: str, field: str, old: str, new: str, by: int, moment: datetime
) -> None:
    name = conn.execute(sa.select(raters.c.name).where(raters.c.id == int(by))).scalar_one()
    # every server's caches of the bank and its statistics are keyed by the revision: all see the change
    conn.execute(sa.update(banks).where(banks.c.id == bank_id).values(revision=banks.c.revision + 1))
    conn.execute(
        sa.insert(pair_changes).values(
            bank_id=bank_id,
            pair_id=pair_id,
            field=field,
            old=old,
            new=new,
            changed_by=int(by),
            changed_by_name=name,
            changed_at=moment,
        )
    )


def change_pair(
    store: Store,
    *,
    bank: str,
    cohort_id: int,
    pair_id: str,
    field: str,
    new: str,
    by: int,
    moment: datetime | None = None,
) -> bool:
    """Change a pair's ``gold`` or ``rationale`` and record the change, in one transaction.

    Parameters
    ----------
    store : Store
    bank : str
        The bank's name.
    cohort_id : int
        The cohort making the change: it must own the bank.
    pair_id : str
    field : {"gold", "rationale"}
    new : str
        The new value (gold ``"A"``, ``"B"`` or ``"tie"``; checked by the caller).
    by : int
        The lead's rater id.
    moment : datetime, optional
        When (default now).

    Returns
    -------
    bool
        False when the pair already had that value (nothing is stored).

    Raises
    ------
    BankRefused
        The bank is read-only or not the cohort's.
    KeyError
        No such bank or pair.
    """
    if field not in ("gold", "rationale"):
        raise ValueError(f"field must be 'gold' or 'rationale'; got {field!r}.")
    column = pairs_table.c[field]

    def fn(conn: Connection) -> bool:
        bank_id = _editable_bank(conn, bank, cohort_id)
        where = (pairs_table.c.bank_id == bank_id, pairs_table.c.pair_id == pair_id)
        old = conn.execute(sa.select(column).where(*where)).scalar()
        if old is None:
            raise KeyError(f"no pair {pair_id!r} in bank {bank!r}")
        if old == new:
            return False
        conn.execute(sa.update(pairs_table).where(*where).values({field: new}))
        _record(conn, bank_id, pair_id, field, str(old), new, by, moment or now())
        return True

    return store.write(fn)


def set_retired(
    store: Store,
    *,
    bank: str,
    cohort_id: int,
    pair_id: str,
    retired: bool,
    by: int,
    moment: datetime | None = None,
) -> bool:
    """Retire a pair (never drawn into a drill again; its answers stay) or bring it back; recorded.

    Parameters and errors as :func:`change_pair`, and :class:`LastPair` when
    retiring the pair would leave no pair to draw. Returns False when the pair
    was already in that state.
    """

    def fn(conn: Connection) -> bool:
        bank_id = _editable_bank(conn, bank, cohort_id)
        exists = conn.execute(
            sa.select(pairs_table.c.pair_id).where(
                pairs_table.c.bank_id == bank_id, pairs_table.c.pair_id == pair_id
            )
        ).first()
        if exists is None:
            raise KeyError(f"no pair {pair_id!r} in bank {bank!r}")
        key = (retired_pairs.c.bank_id == bank_id, retired_pairs.c.pair_id == pair_id)
        was = conn.execute(sa.select(retired_pairs.c.pair_id).where(*key)).first() is not None
        if was == retired:
            return False
        at = moment or now()
        if retired:
            total = conn.execute(
                sa.select(sa.func.count()).select_from(pairs_table).where(pairs_table.c.bank_id == bank_id)
            ).scalar_one()
            gone = conn.execute(
                sa.select(sa.func.count())
                .select_from(retired_pairs)
                .where(retired_pairs.c.bank_id == bank_id)
            ).scalar_one()
            if total - gone <= 1:
                raise LastPair(bank)
            conn.execute(sa.insert(retired_pairs).values(bank_id=bank_id, pair_id=pair_id, retired_at=at))
        else:
            conn.execute(sa.delete(retired_pairs).where(*key))
        _record(conn, bank_id, pair_id, "retired", _yes_no(was), _yes_no(retired), by, at)
        return True

    return store.write(fn)


def _yes_no(flag: bool) -> str:
    return "yes" if flag else "no"


def retired(store: Store, bank: str, conn: Connection | None = None) -> set[str]:
    """The ids of the bank's retired pairs (empty for an unknown bank)."""
    query = (
        sa.select(retired_pairs.c.pair_id)
        .join(banks, banks.c.id == retired_pairs.c.bank_id)
        .where(banks.c.name == bank)
    )
    if conn is not None:
        return set(conn.execute(query).scalars())
    with store.read() as c:
        return set(c.execute(query).scalars())


def pair_changes_of(store: Store, bank: str, pair_ids: list[str] | None = None) -> pd.DataFrame:
    """The recorded changes to the bank's pairs (of ``pair_ids`` if given), oldest first.

    Returns
    -------
    DataFrame
        :data:`CHANGE_COLUMNS`: ``changed_by`` is the lead's name as it was
        then, ``changed_at`` an aware UTC time.
    """
    query = (
        sa.select(
            pair_changes.c.pair_id,
            pair_changes.c.field,
            pair_changes.c.old,
            pair_changes.c.new,
            pair_changes.c.changed_by_name,
            pair_changes.c.changed_at,
        )
        .join(banks, banks.c.id == pair_changes.c.bank_id)
        .where(banks.c.name == bank)
        .order_by(pair_changes.c.changed_at, pair_changes.c.id)
    )
    if pair_ids is not None:
        query = query.where(pair_changes.c.pair_id.in_([str(p) for p in pair_ids]))
    with store.read() as conn:
        rows = conn.execute(query).all()
    frame = pd.DataFrame([tuple(r) for r in rows], columns=CHANGE_COLUMNS)
    frame["changed_at"] = pd.to_datetime(frame["changed_at"], utc=True)
    return frame


def gold_corrections_answered(store: Store, rater_id: int, bank: str) -> pd.DataFrame:
    """Gold corrections of pairs on ``bank`` that the rater has answered, oldest first.

    Returns
    -------
    DataFrame
        Columns ``pair_id``, ``old``, ``new``, ``changed_at`` (aware UTC).
    """
    answered = sa.select(judgments.c.pair_id).where(
        judgments.c.rater_id == int(rater_id), judgments.c.bank_id == pair_changes.c.bank_id
    )
    query = (
        sa.select(pair_changes.c.pair_id, pair_changes.c.old, pair_changes.c.new, pair_changes.c.changed_at)
        .join(banks, banks.c.id == pair_changes.c.bank_id)
        .where(
            banks.c.name == bank,
            pair_changes.c.field == "gold",
            pair_changes.c.pair_id.in_(answered.scalar_subquery()),
        )
        .order_by(pair_changes.c.changed_at, pair_changes.c.id)
    )
    with store.read() as conn:
        rows = conn.execute(query).all()
    frame = pd.DataFrame([tuple(r) for r in rows], columns=["pair_id", "old", "new", "changed_at"])
    frame["changed_at"] = pd.to_datetime(frame["changed_at"], utc=True)
    return frame


def set_guidelines(
    store: Store, cohort_id: int, text: str, *, by: int, moment: datetime | None = None
) -> None:
    """Store the cohort's guidelines (Markdown), replacing earlier ones; empty text removes them."""

    def fn(conn: Connection) -> None:
        conn.execute(sa.delete(cohort_guidelines).where(cohort_guidelines.c.cohort_id == int(cohort_id)))
        if text.strip():
            conn.execute(
                sa.insert(cohort_guidelines).values(
                    cohort_id=int(cohort_id), text=text, updated_at=moment or now(), updated_by=int(by)
                )
            )

    store.write(fn)


def guidelines(store: Store, cohort_id: int) -> dict[str, Any] | None:
    """The cohort's guidelines: ``text``, ``updated_at``, ``updated_by`` (a name or None); None if unset."""
    query = (
        sa.select(cohort_guidelines.c.text, cohort_guidelines.c.updated_at, raters.c.name)
        .outerjoin(raters, raters.c.id == cohort_guidelines.c.updated_by)
        .where(cohort_guidelines.c.cohort_id == int(cohort_id))
    )
    with store.read() as conn:
        row = conn.execute(query).first()
    if row is None:
        return None
    return {"text": row[0], "updated_at": row[1], "updated_by": row[2]}


def remove_simulated_raters(store: Store, cohort_id: int) -> dict[str, int]:
    """Delete the cohort's simulated raters with their judgments and drills, in one transaction.

    Returns
    -------
    dict
        ``raters`` and ``judgments`` deleted.
    """

    def fn(conn: Connection) -> dict[str, int]:
        if conn.execute(sa.select(cohorts.c.id).where(cohorts.c.id == int(cohort_id))).first() is None:
            raise KeyError(f"no cohort with id {cohort_id}")
        ids = list(
            conn.execute(
                sa.select(raters.c.id).where(raters.c.cohort_id == int(cohort_id), raters.c.simulated)
            ).scalars()
        )
        if not ids:
            return {"raters": 0, "judgments": 0}
        removed = conn.execute(sa.delete(judgments).where(judgments.c.rater_id.in_(ids))).rowcount
        conn.execute(sa.delete(drill_items).where(drill_items.c.rater_id.in_(ids)))
        conn.execute(sa.delete(sessions).where(sessions.c.rater_id.in_(ids)))
        conn.execute(sa.delete(raters).where(raters.c.id.in_(ids)))
        return {"raters": len(ids), "judgments": int(removed)}

    return store.write(fn)


__all__ = [
    "CHANGE_COLUMNS",
    "FIELDS",
    "LastPair",
    "change_pair",
    "gold_corrections_answered",
    "guidelines",
    "pair_changes_of",
    "remove_simulated_raters",
    "retired",
    "set_guidelines",
    "set_retired",
]
