"""The SQL of onboarding: a rater's answers to the guided pairs and whether they finished, in ``settings``.

Two kinds of row of the key-value table ``settings``:

==========================  =====================================================
key                         value
==========================  =====================================================
``onboarding:{rater_id}``   the guided pairs answered so far: ``{"answers": {PAIR:
                            [CHOICE, CONFIDENCE]}, "for": [cohort, rater]}``
``onboarded:{rater_id}``    the rater finished onboarding: ``{"at": ISO TIME,
                            "for": [cohort, rater]}``
==========================  =====================================================

The guided pairs' answers are practice, never judgments: they are not in the
``judgments`` table, so no statistic, leaderboard or report can count them.
As in :mod:`storage.tracks`, a value written for someone other than whom the
key's number now stands for (after a store import numbered raters afresh) is
read as no row.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from storage.schema import judgments, settings
from storage.store import Store
from storage.tracks import _owner, written_for

__all__ = ["answers_key", "finished_key", "read_state", "record_answer", "record_finished"]


def answers_key(rater_id: int) -> str:
    """The settings key of the rater's answers to the guided pairs."""
    return f"onboarding:{int(rater_id)}"


def finished_key(rater_id: int) -> str:
    """The settings key that says the rater finished onboarding."""
    return f"onboarded:{int(rater_id)}"


def read_state(store: Store, rater_id: int) -> dict[str, Any] | None:
    """The rater's onboarding in one read; None when there is no rater ``rater_id``.

    Returns
    -------
    dict or None
        ``answers`` ({pair id: (choice, confidence)}), ``finished`` (bool:
        the finished row is there) and ``judged`` (bool: the rater has at
        least one judgment, i.e. drilled before onboarding existed).
    """
    with store.read() as conn:
        owner = _owner(conn, rater_id)
        if owner is None:
            return None
        whom = [owner[1], owner[2]]
        keys = [answers_key(rater_id), finished_key(rater_id)]
        found = dict(
            conn.execute(sa.select(settings.c.key, settings.c.value).where(settings.c.key.in_(keys))).all()
        )
        judged = (
            conn.execute(
                sa.select(judgments.c.id).where(judgments.c.rater_id == int(rater_id)).limit(1)
            ).first()
            is not None
        )
    stored = written_for(found.get(answers_key(rater_id)), whom) or {}
    raw = stored.get("answers")
    answers = {}
    if isinstance(raw, dict):
        for pair_id, answer in raw.items():
            if isinstance(answer, list) and len(answer) == 2:
                answers[str(pair_id)] = (str(answer[0]), float(answer[1]))
    finished = written_for(found.get(finished_key(rater_id)), whom) is not None
    return {"answers": answers, "finished": finished, "judged": judged}


def record_answer(store: Store, rater_id: int, pair_id: str, choice: str, confidence: float) -> bool:
    """Keep the rater's answer to a guided pair; an earlier answer to that pair stays (False then).

    Raises
    ------
    KeyError
        If there is no rater ``rater_id``.
    """

    def change(old: dict[str, Any] | None, whom: list[str]) -> dict[str, Any] | None:
        answers = dict((old or {}).get("answers") or {})
        if pair_id in answers:
            return None
        answers[pair_id] = [choice, float(confidence)]
        return {"answers": answers, "for": whom}

    return _update(store, rater_id, answers_key(rater_id), change)


def record_finished(store: Store, rater_id: int, at: datetime | None = None) -> None:
    """Keep that the rater finished onboarding (again: the first time stays).

    Raises
    ------
    KeyError
        If there is no rater ``rater_id``.
    """
    when = (at or datetime.now(UTC)).isoformat()
    _update(
        store, rater_id, finished_key(rater_id), lambda old, whom: None if old else {"at": when, "for": whom}
    )


def _update(store: Store, rater_id: int, key: str, change: Callable[..., dict[str, Any] | None]) -> bool:
    """Replace the value under ``key`` with ``change(old value for the rater or None, whom)``; None keeps it.

    Returns whether it was replaced.
    """

    def fn(conn: Connection) -> bool:
        whom = _whom(conn, rater_id)
        old = conn.execute(sa.select(settings.c.value).where(settings.c.key == key)).scalar()
        new = change(written_for(old, whom), whom)
        if new is None:
            return False
        conn.execute(sa.delete(settings).where(settings.c.key == key))
        conn.execute(sa.insert(settings).values(key=key, value=json.dumps(new, ensure_ascii=False)))
        return True

    return store.write(fn)


def _whom(conn: Connection, rater_id: int) -> list[str]:
    owner = _owner(conn, rater_id)
    if owner is None:
        raise KeyError(f"no rater with id {rater_id}")
    return [owner[1], owner[2]]
