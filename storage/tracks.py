"""The SQL of tracks: which domain of the bank each rater's drills lean to, kept in ``settings``.

Three kinds of row of the key-value table ``settings`` hold the choices
(:mod:`training.tracks` says which one wins):

=============================  ===================================================
key                            value
=============================  ===================================================
``track:{rater_id}``           the track the rater picked
``track:lead:{rater_id}``      the track the lead assigned to that rater
``track:cohort:{cohort_id}``   the track the lead assigned to the whole cohort
=============================  ===================================================

A value is a domain of the bank or ``"all"``; no row means no choice.
"""

from __future__ import annotations

import pandas as pd
import sqlalchemy as sa

from storage.schema import banks, pairs_table, raters, settings
from storage.store import Store

__all__ = [
    "bank_domains",
    "cohort_key",
    "cohort_track_rows",
    "lead_key",
    "rater_key",
    "read_choices",
    "write",
]


def rater_key(rater_id: int) -> str:
    """The settings key of the track a rater picked."""
    return f"track:{int(rater_id)}"


def lead_key(rater_id: int) -> str:
    """The settings key of the track the lead assigned to one rater."""
    return f"track:lead:{int(rater_id)}"


def cohort_key(cohort_id: int) -> str:
    """The settings key of the track the lead assigned to a whole cohort."""
    return f"track:cohort:{int(cohort_id)}"


def read_choices(store: Store, rater_id: int) -> dict[str, str | None] | None:
    """The rater's pick, the lead's assignment to them and to their cohort, in one read.

    Returns
    -------
    dict or None
        ``{"rater": ..., "lead": ..., "cohort": ...}``, each a stored value or
        None; None when there is no rater ``rater_id``.
    """
    with store.read() as conn:
        cohort_id = conn.execute(sa.select(raters.c.cohort_id).where(raters.c.id == int(rater_id))).scalar()
        if cohort_id is None:
            return None
        keys = {"rater": rater_key(rater_id), "lead": lead_key(rater_id), "cohort": cohort_key(cohort_id)}
        found = dict(
            conn.execute(
                sa.select(settings.c.key, settings.c.value).where(settings.c.key.in_(list(keys.values())))
            ).all()
        )
    return {who: found.get(key) for who, key in keys.items()}


def cohort_track_rows(store: Store, cohort_id: int) -> tuple[str | None, pd.DataFrame]:
    """The cohort's assigned track and, for each account of the cohort, its two stored choices.

    Returns
    -------
    cohort_track : str or None
    DataFrame
        Columns ``rater_id``, ``name``, ``role``, ``picked`` (the rater's
        choice or None) and ``assigned`` (the lead's for that rater or None),
        in the order the accounts were made.
    """
    with store.read() as conn:
        people = conn.execute(
            sa.select(raters.c.id, raters.c.name, raters.c.role)
            .where(raters.c.cohort_id == int(cohort_id), raters.c.kind == "account")
            .order_by(raters.c.id)
        ).all()
        keys = [cohort_key(cohort_id)]
        keys += [rater_key(p.id) for p in people] + [lead_key(p.id) for p in people]
        found = dict(
            conn.execute(sa.select(settings.c.key, settings.c.value).where(settings.c.key.in_(keys))).all()
        )
    frame = pd.DataFrame(
        {
            "rater_id": [int(p.id) for p in people],
            "name": [p.name for p in people],
            "role": [p.role for p in people],
            "picked": [found.get(rater_key(p.id)) for p in people],
            "assigned": [found.get(lead_key(p.id)) for p in people],
        }
    )
    return found.get(cohort_key(cohort_id)), frame


def write(store: Store, key: str, value: str | None) -> None:
    """Store ``value`` under ``key``, replacing any earlier value; None removes the row."""

    def fn(conn):
        conn.execute(sa.delete(settings).where(settings.c.key == key))
        if value is not None:
            conn.execute(sa.insert(settings).values(key=key, value=value))

    store.write(fn)


def bank_domains(store: Store, bank: str) -> dict[str, int]:
    """Pairs of each non-empty domain of ``bank``, most pairs first (then by name); {} for no such bank."""
    with store.read() as conn:
        counted = conn.execute(
            sa.select(pairs_table.c.domain, sa.func.count())
            .select_from(pairs_table.join(banks, pairs_table.c.bank_id == banks.c.id))
            .where(banks.c.name == bank, pairs_table.c.domain != "")
            .group_by(pairs_table.c.domain)
        ).all()
    return dict(sorted(((str(d), int(n)) for d, n in counted), key=lambda kv: (-kv[1], kv[0])))
