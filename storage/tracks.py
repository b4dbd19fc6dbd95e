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

A value is JSON, ``{"track": TRACK, "for": WHOM}``: TRACK is a domain of the
bank or ``"all"``, WHOM the names the key's number stood for when it was
written (``[cohort, rater]`` or ``[cohort]``). A store export names raters and
cohorts but copies ``settings`` as they are, and an import numbers raters
afresh (a removed demo cohort leaves gaps), so a key's number may then stand
for someone else: a value whose WHOM is not who the number now stands for is
no choice, rather than another person's. No row means no choice.
"""

from __future__ import annotations

import json

import pandas as pd
import sqlalchemy as sa
from sqlalchemy.engine import Connection

from storage.schema import banks, cohorts, pairs_table, raters, settings
from storage.store import Store

__all__ = [
    "bank_domains",
    "cohort_key",
    "cohort_track_rows",
    "lead_key",
    "rater_key",
    "read_choices",
    "write_cohort",
    "write_rater",
    "written_for",
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
        owner = _owner(conn, rater_id)
        if owner is None:
            return None
        cohort_id, cohort, name = owner
        keys = {"rater": rater_key(rater_id), "lead": lead_key(rater_id), "cohort": cohort_key(cohort_id)}
        found = dict(
            conn.execute(
                sa.select(settings.c.key, settings.c.value).where(settings.c.key.in_(list(keys.values())))
            ).all()
        )
    whom = {"rater": [cohort, name], "lead": [cohort, name], "cohort": [cohort]}
    return {who: _track(found.get(key), whom[who]) for who, key in keys.items()}


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
        cohort = str(conn.execute(sa.select(cohorts.c.name).where(cohorts.c.id == int(cohort_id))).scalar())
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
            "picked": [_track(found.get(rater_key(p.id)), [cohort, p.name]) for p in people],
            "assigned": [_track(found.get(lead_key(p.id)), [cohort, p.name]) for p in people],
        }
    )
    return _track(found.get(cohort_key(cohort_id)), [cohort]), frame


def write_rater(store: Store, key: str, rater_id: int, track: str | None) -> None:
    """Store ``track`` under ``key`` (:func:`rater_key` or :func:`lead_key` of ``rater_id``); None removes it.

    Raises
    ------
    KeyError
        If there is no rater ``rater_id``.
    """

    def fn(conn):
        owner = _owner(conn, rater_id)
        if owner is None:
            raise KeyError(f"no rater with id {rater_id}")
        _put(conn, key, track, [owner[1], owner[2]])

    store.write(fn)


def write_cohort(store: Store, cohort_id: int, track: str | None) -> None:
    """Store the track of a whole cohort (:func:`cohort_key`); None removes it.

    Raises
    ------
    KeyError
        If there is no cohort ``cohort_id``.
    """

    def fn(conn):
        name = conn.execute(sa.select(cohorts.c.name).where(cohorts.c.id == int(cohort_id))).scalar()
        if name is None:
            raise KeyError(f"no cohort with id {cohort_id}")
        _put(conn, cohort_key(cohort_id), track, [name])

    store.write(fn)


def _owner(conn: Connection, rater_id: int) -> tuple[int, str, str] | None:
    """(cohort id, cohort name, rater name) of a rater, or None."""
    row = conn.execute(
        sa.select(raters.c.cohort_id, cohorts.c.name, raters.c.name.label("rater"))
        .select_from(raters.join(cohorts, raters.c.cohort_id == cohorts.c.id))
        .where(raters.c.id == int(rater_id))
    ).first()
    return None if row is None else (int(row.cohort_id), str(row.name), str(row.rater))


def _put(conn: Connection, key: str, track: str | None, whom: list[str]) -> None:
    conn.execute(sa.delete(settings).where(settings.c.key == key))
    if track is not None:
        value = json.dumps({"track": track, "for": whom}, ensure_ascii=False)
        conn.execute(sa.insert(settings).values(key=key, value=value))


def _track(value: str | None, whom: list[str]) -> str | None:
    """The track stored in ``value`` if it was written for ``whom``; else None."""
    stored = written_for(value, whom)
    if stored is None or not isinstance(stored.get("track"), str):
        return None
    return stored["track"]


def written_for(value: str | None, whom: list[str]) -> dict | None:
    """A settings value (a JSON object) if its ``for`` is ``whom``; None if not, or not such an object."""
    if value is None:
        return None
    try:
        stored = json.loads(value)
    except ValueError:
        return None
    if not isinstance(stored, dict) or stored.get("for") != whom:
        return None
    return stored


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
