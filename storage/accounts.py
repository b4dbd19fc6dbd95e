"""The SQL behind accounts: cohorts, raters, passwords' rows, sign-in counters and sessions.

Policy (which names are allowed, how passwords are hashed, how long a lock
lasts, what a refusal says) lives in :mod:`training.accounts`; this module only
reads and writes rows, each public function in one transaction. A function
that cannot do what it was asked raises :class:`Refused` with a short reason
code, which the caller turns into a sentence for the user.

Rows come back as :class:`RaterRow` mappings with ``id``, ``name``, ``role``,
``cohort_id``, ``cohort`` and ``simulated``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import datetime, timedelta
from typing import Any, TypedDict

import pandas as pd
import sqlalchemy as sa
from sqlalchemy.engine import Connection
from sqlalchemy.exc import IntegrityError

from storage.schema import as_utc, banks, cohorts, raters, sessions
from storage.store import Store, now


class Refused(Exception):
    """An account action the database state does not allow.

    Attributes
    ----------
    reason : str
        One of ``"cohort-taken"``, ``"no-bank"``, ``"bad-invite"``, ``"name-taken"``,
        ``"no-cohort"``, ``"real-rater"``, ``"no-rater"``, ``"simulated"``,
        ``"no-account"``, ``"no-password"``.
    name : str or None
        The name concerned, where there is one.
    """

    def __init__(self, reason: str, name: str | None = None):
        super().__init__(reason if name is None else f"{reason}: {name}")
        self.reason = reason
        self.name = name


class RaterRow(TypedDict):
    """A rater as stored, with the cohort's name."""

    id: int
    name: str
    role: str
    cohort_id: int
    cohort: str
    simulated: bool


# -- the two inserts every path shares ----------------------------------------------------


def insert_cohort(
    conn: Connection, *, name: str, invite_code: str, bank_id: int | None, drill_size: int, ignore_taken=False
) -> int | None:
    """Insert a cohort row; its id (None when ``ignore_taken`` and the name is held already)."""
    values = {
        "name": name,
        "invite_code": invite_code,
        "bank_id": bank_id,
        "drill_size": drill_size,
        "simulated": False,
        "created_at": now(),
    }
    if ignore_taken:
        conn.execute(Store.insert_ignore_for(conn.dialect.name, cohorts, ["name"]).values(**values))
        return None
    key = conn.execute(sa.insert(cohorts).values(**values)).inserted_primary_key
    assert key is not None
    return int(key[0])


def insert_raters(
    conn: Connection, cohort_id: int, people: Iterable[dict[str, Any]], *, ignore_taken: bool = False
) -> None:
    """Insert raters of one cohort.

    Each dict gives ``name`` and optionally ``role``, ``password_hash`` and ``simulated``.

    With ``ignore_taken`` a name already held in the cohort is skipped instead of failing.
    """
    moment = now()
    rows = [
        {
            "cohort_id": cohort_id,
            "name": p["name"],
            "role": p.get("role", "rater"),
            "password_hash": p.get("password_hash"),
            "failed_logins": 0,
            "simulated": bool(p.get("simulated", False)),
            "created_at": moment,
        }
        for p in people
    ]
    if not rows:
        return
    stmt = (
        Store.insert_ignore_for(conn.dialect.name, raters, ["cohort_id", "name"])
        if ignore_taken
        else sa.insert(raters)
    )
    conn.execute(stmt, rows)


# -- reading raters ----------------------------------------------------------------------------


def _rater_query() -> sa.Select:
    return sa.select(
        raters.c.id,
        raters.c.name,
        raters.c.role,
        raters.c.cohort_id,
        cohorts.c.name.label("cohort"),
        raters.c.simulated,
    ).join(cohorts, cohorts.c.id == raters.c.cohort_id)


def _row(row: Any) -> RaterRow:
    return RaterRow(
        id=int(row.id),
        name=row.name,
        role=row.role,
        cohort_id=int(row.cohort_id),
        cohort=row.cohort,
        simulated=bool(row.simulated),
    )


def _load(conn: Connection, rater_id: int) -> RaterRow:
    return _row(conn.execute(_rater_query().where(raters.c.id == rater_id)).one())


def load_rater(store: Store, rater_id: int) -> RaterRow:
    """The rater with this id (``Refused("no-account")`` if there is none)."""
    with store.read() as conn:
        row = conn.execute(_rater_query().where(raters.c.id == rater_id)).first()
    if row is None:
        raise Refused("no-account")
    return _row(row)


def _bank_id(store: Store, conn: Connection, bank: str) -> int:
    try:
        return store.bank_id(bank, conn)
    except KeyError:
        raise Refused("no-bank", bank) from None


# -- cohorts -----------------------------------------------------------------------------------


def create_cohort(
    store: Store,
    *,
    name: str,
    invite_code: str,
    bank: str | None,
    drill_size: int,
    lead_name: str,
    lead_password_hash: str,
) -> RaterRow:
    """Create a cohort and its lead in one transaction; the lead's row.

    Raises ``Refused("cohort-taken")`` when the name is held (also by a
    concurrent creator) and ``Refused("no-bank")`` for an unknown bank.
    """

    def fn(conn: Connection) -> RaterRow:
        if conn.execute(sa.select(cohorts.c.id).where(cohorts.c.name == name)).first():
            raise Refused("cohort-taken", name)
        bank_id = _bank_id(store, conn, bank) if bank is not None else None
        cohort_id = insert_cohort(
            conn, name=name, invite_code=invite_code, bank_id=bank_id, drill_size=drill_size
        )
        assert cohort_id is not None  # inserted without ignore_taken: an id or an error
        insert_raters(
            conn, cohort_id, [{"name": lead_name, "role": "lead", "password_hash": lead_password_hash}]
        )
        lead_id = conn.execute(
            sa.select(raters.c.id).where(raters.c.cohort_id == cohort_id, raters.c.name == lead_name)
        ).scalar_one()
        return _load(conn, int(lead_id))

    try:
        return store.write(fn)
    except IntegrityError:
        # Another process created the same name between our check and our insert.
        with store.read() as conn:
            if conn.execute(sa.select(cohorts.c.id).where(cohorts.c.name == name)).first():
                raise Refused("cohort-taken", name) from None
        raise


def join_cohort(store: Store, *, invite_code: str, name: str, password_hash: str) -> RaterRow:
    """Add a rater with a password to the cohort of ``invite_code``; the new row.

    Raises ``Refused("bad-invite")`` or ``Refused("name-taken")``.
    """

    def fn(conn: Connection) -> RaterRow:
        cohort_id = conn.execute(sa.select(cohorts.c.id).where(cohorts.c.invite_code == invite_code)).scalar()
        if cohort_id is None:
            raise Refused("bad-invite")
        taken = conn.execute(
            sa.select(raters.c.id).where(raters.c.cohort_id == cohort_id, raters.c.name == name)
        ).first()
        if taken:
            raise Refused("name-taken", name)
        insert_raters(conn, cohort_id, [{"name": name, "password_hash": password_hash}])
        rater_id = conn.execute(
            sa.select(raters.c.id).where(raters.c.cohort_id == cohort_id, raters.c.name == name)
        ).scalar_one()
        return _load(conn, int(rater_id))

    try:
        return store.write(fn)
    except IntegrityError:
        raise Refused("name-taken", name) from None  # the only unique key the insert can break


def cohort_info(store: Store, cohort_id: int) -> dict[str, Any] | None:
    """A cohort's settings, or None if there is no such cohort.

    Keys ``id``, ``name``, ``invite_code``, ``bank`` (name or None), ``drill_size`` and ``simulated``.
    """
    query = (
        sa.select(
            cohorts.c.id,
            cohorts.c.name,
            cohorts.c.invite_code,
            banks.c.name.label("bank"),
            cohorts.c.drill_size,
            cohorts.c.simulated,
        )
        .select_from(cohorts)
        .outerjoin(banks, banks.c.id == cohorts.c.bank_id)
        .where(cohorts.c.id == cohort_id)
    )
    with store.read() as conn:
        row = conn.execute(query).first()
    if row is None:
        return None
    return {
        "id": int(row.id),
        "name": row.name,
        "invite_code": row.invite_code,
        "bank": row.bank,
        "drill_size": int(row.drill_size),
        "simulated": bool(row.simulated),
    }


def update_cohort(
    store: Store, cohort_id: int, *, drill_size: int | None = None, bank: str | None = None
) -> None:
    """Set a cohort's drill size and/or bank; None keeps a setting.

    Raises ``Refused("no-bank")`` or ``Refused("no-cohort")``.
    """

    def fn(conn: Connection) -> None:
        values: dict[str, Any] = {}
        if drill_size is not None:
            values["drill_size"] = drill_size
        if bank is not None:
            values["bank_id"] = _bank_id(store, conn, bank)
        if conn.execute(sa.select(cohorts.c.id).where(cohorts.c.id == cohort_id)).first() is None:
            raise Refused("no-cohort")
        if values:
            conn.execute(sa.update(cohorts).where(cohorts.c.id == cohort_id).values(**values))

    store.write(fn)


def list_raters(store: Store, cohort_id: int) -> pd.DataFrame:
    """The cohort's raters, oldest first: ``id``, ``name``, ``role``, ``simulated``, ``created_at`` (UTC)."""
    columns = ["id", "name", "role", "simulated", "created_at"]
    query = (
        sa.select(raters.c.id, raters.c.name, raters.c.role, raters.c.simulated, raters.c.created_at)
        .where(raters.c.cohort_id == cohort_id)
        .order_by(raters.c.id)
    )
    with store.read() as conn:
        frame = pd.DataFrame([tuple(r) for r in conn.execute(query)], columns=columns)
    frame["id"] = frame["id"].astype("int64")
    frame["simulated"] = frame["simulated"].astype(bool)
    frame["created_at"] = pd.to_datetime(frame["created_at"], utc=True)
    return frame


def add_simulated_raters(store: Store, cohort_id: int, names: list[str]) -> dict[str, int]:
    """Add simulated raters (no password) to a cohort, reusing simulated ones of the same name; id by name.

    Raises ``Refused("no-cohort")``, or ``Refused("real-rater", name)`` when a
    name is held by a real rater of the cohort.
    """

    def fn(conn: Connection) -> dict[str, int]:
        if conn.execute(sa.select(cohorts.c.id).where(cohorts.c.id == cohort_id)).first() is None:
            raise Refused("no-cohort")
        existing = {
            row.name: bool(row.simulated)
            for row in conn.execute(
                sa.select(raters.c.name, raters.c.simulated).where(
                    raters.c.cohort_id == cohort_id, raters.c.name.in_(names)
                )
            )
        }
        for name, simulated in existing.items():
            if not simulated:
                raise Refused("real-rater", name)
        insert_raters(conn, cohort_id, [{"name": n, "simulated": True} for n in names if n not in existing])
        rows = conn.execute(
            sa.select(raters.c.name, raters.c.id).where(
                raters.c.cohort_id == cohort_id, raters.c.name.in_(names)
            )
        )
        return {name: int(rater_id) for name, rater_id in rows}

    return store.write(fn) if names else {}


def set_password(store: Store, *, cohort: str, name: str, password_hash: str) -> RaterRow:
    """Replace a rater's password hash, clear their failures and lock, end their sessions.

    Raises ``Refused("no-rater")`` or ``Refused("simulated")``.
    """

    def fn(conn: Connection) -> RaterRow:
        row = conn.execute(
            sa.select(raters.c.id, raters.c.simulated)
            .join(cohorts, cohorts.c.id == raters.c.cohort_id)
            .where(cohorts.c.name == cohort, raters.c.name == name)
        ).first()
        if row is None:
            raise Refused("no-rater", name)
        if row.simulated:
            raise Refused("simulated", name)
        conn.execute(
            sa.update(raters)
            .where(raters.c.id == row.id)
            .values(password_hash=password_hash, failed_logins=0, locked_until=None)
        )
        conn.execute(sa.delete(sessions).where(sessions.c.rater_id == row.id))
        return _load(conn, int(row.id))

    return store.write(fn)


# -- signing in --------------------------------------------------------------------------------


def find_login(store: Store, cohort: str, name: str) -> Any | None:
    """``id``, ``password_hash`` and ``locked_until`` of a rater by cohort and name, or None."""
    query = (
        sa.select(raters.c.id, raters.c.password_hash, raters.c.locked_until)
        .join(cohorts, cohorts.c.id == raters.c.cohort_id)
        .where(cohorts.c.name == cohort, raters.c.name == name)
    )
    with store.read() as conn:
        return conn.execute(query).first()


def record_login(
    store: Store,
    rater_id: int,
    *,
    checked_hash: str,
    correct: bool,
    moment: datetime,
    lock_seconds: Callable[[int], int],
    new_hash: str | None = None,
) -> tuple[str, datetime | None]:
    """Count one sign-in attempt under a row lock, so racing attempts cannot slip past a lock just set.

    Returns ``("ok", None)``, ``("wrong", None)`` (counted; ``lock_seconds(failures)``
    may have locked the account), ``("locked", until)`` (not counted) or
    ``("gone", None)`` when the rater vanished or ``checked_hash`` is no longer theirs.
    """

    def fn(conn: Connection) -> tuple[str, datetime | None]:
        current = conn.execute(
            sa.select(raters.c.failed_logins, raters.c.locked_until, raters.c.password_hash)
            .where(raters.c.id == rater_id)
            .with_for_update()
        ).first()
        if current is None or current.password_hash != checked_hash:
            return "gone", None
        if current.locked_until is not None and as_utc(current.locked_until) > moment:
            return "locked", as_utc(current.locked_until)
        if correct:
            values: dict[str, Any] = {"failed_logins": 0, "locked_until": None}
            if new_hash:
                values["password_hash"] = new_hash
            conn.execute(sa.update(raters).where(raters.c.id == rater_id).values(**values))
            return "ok", None
        failures = int(current.failed_logins) + 1
        seconds = lock_seconds(failures)
        conn.execute(
            sa.update(raters)
            .where(raters.c.id == rater_id)
            .values(
                failed_logins=failures,
                locked_until=moment + timedelta(seconds=seconds) if seconds else current.locked_until,
            )
        )
        return "wrong", None

    return store.write(fn)


# -- sessions ----------------------------------------------------------------------------------


def start_session(
    store: Store, rater_id: int, *, token_hash: str, moment: datetime, expires_at: datetime
) -> None:
    """Store a session (only the token's hash), dropping this rater's expired ones.

    Raises ``Refused("no-account")`` or ``Refused("no-password")``.
    """

    def fn(conn: Connection) -> None:
        row = conn.execute(sa.select(raters.c.password_hash).where(raters.c.id == rater_id)).first()
        if row is None:
            raise Refused("no-account")
        if row.password_hash is None:
            raise Refused("no-password")
        conn.execute(
            sa.delete(sessions).where(sessions.c.rater_id == rater_id, sessions.c.expires_at <= moment)
        )
        conn.execute(
            sa.insert(sessions).values(
                token_hash=token_hash, rater_id=rater_id, created_at=moment, expires_at=expires_at
            )
        )

    store.write(fn)


def find_session(store: Store, token_hash: str) -> tuple[RaterRow, datetime] | None:
    """The rater and expiry of a session by its token's hash, or None."""
    query = (
        _rater_query()
        .add_columns(sessions.c.expires_at)
        .join(sessions, sessions.c.rater_id == raters.c.id)
        .where(sessions.c.token_hash == token_hash)
    )
    with store.read() as conn:
        row = conn.execute(query).first()
    return None if row is None else (_row(row), as_utc(row.expires_at))


def end_session(store: Store, token_hash: str) -> None:
    """Delete a session by its token's hash (nothing happens for an unknown one)."""
    store.write(lambda conn: conn.execute(sa.delete(sessions).where(sessions.c.token_hash == token_hash)))
