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

from storage.schema import as_utc, banks, cohorts, invites, raters, sessions
from storage.store import Store, now


class Refused(Exception):
    """An account action the database state does not allow.

    Attributes
    ----------
    reason : str
        One of ``"cohort-taken"``, ``"no-bank"``, ``"bad-invite"``, ``"name-taken"``,
        ``"no-cohort"``, ``"real-rater"``, ``"no-rater"``, ``"simulated"``,
        ``"no-account"``, ``"no-password"``, ``"removed"``, ``"not-admin"``, ``"lead"``.
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
    admin: bool


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

    Each dict gives ``name`` and optionally ``role``, ``password_hash``,
    ``simulated``, ``kind`` (default ``"account"``) and ``admin``.

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
            "kind": p.get("kind", "account"),
            "admin": bool(p.get("admin", False)),
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
        raters.c.admin,
    ).join(cohorts, cohorts.c.id == raters.c.cohort_id)


def _row(row: Any) -> RaterRow:
    return RaterRow(
        id=int(row.id),
        name=row.name,
        role=row.role,
        cohort_id=int(row.cohort_id),
        cohort=row.cohort,
        simulated=bool(row.simulated),
        admin=bool(row.admin),
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
    by: int | None = None,
) -> RaterRow:
    """Create a cohort and its lead in one transaction; the lead's row.

    Who may: the server's admin (``by``, a rater id, checked here), or anyone
    while the database holds no account at all, and then the new lead is the
    admin (the first run). The bank must be one of the server's shared banks.

    Raises ``Refused("not-admin")`` when neither holds (also when a concurrent
    first run won), ``Refused("cohort-taken")`` when the name is held (also by
    a concurrent creator) and ``Refused("no-bank")`` for an unknown or a
    cohort's own bank.
    """

    def fn(conn: Connection) -> RaterRow:
        first_run = False
        if by is None:
            _lock_first_run(conn)
            first_run = not _any_account(conn)
            if not first_run:
                raise Refused("not-admin")
        elif not _is_admin(conn, by):
            raise Refused("not-admin")
        if conn.execute(sa.select(cohorts.c.id).where(cohorts.c.name == name)).first():
            raise Refused("cohort-taken", name)
        bank_id = _shared_bank_id(store, conn, bank) if bank is not None else None
        cohort_id = insert_cohort(
            conn, name=name, invite_code=invite_code, bank_id=bank_id, drill_size=drill_size
        )
        assert cohort_id is not None  # inserted without ignore_taken: an id or an error
        insert_raters(
            conn,
            cohort_id,
            [{"name": lead_name, "role": "lead", "password_hash": lead_password_hash, "admin": first_run}],
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


def join_cohort(
    store: Store,
    *,
    invite_code: str,
    name: str,
    password_hash: str,
    same_name: Callable[[str, str], bool] | None = None,
) -> RaterRow:
    """Add a rater with a password to the cohort of ``invite_code``; the new row.

    ``same_name(a, b)`` says when two names would pass for one another (the
    caller's confusables rule); a name like any name in the cohort, of any
    kind, is taken.

    Raises ``Refused("bad-invite")`` or ``Refused("name-taken")``.
    """

    def fn(conn: Connection) -> RaterRow:
        cohort_id = conn.execute(sa.select(cohorts.c.id).where(cohorts.c.invite_code == invite_code)).scalar()
        if cohort_id is None:
            raise Refused("bad-invite")
        _check_name_free(conn, int(cohort_id), name, same_name)
        insert_raters(conn, cohort_id, [{"name": name, "password_hash": password_hash}])
        rater_id = conn.execute(
            sa.select(raters.c.id).where(raters.c.cohort_id == cohort_id, raters.c.name == name)
        ).scalar_one()
        return _load(conn, int(rater_id))

    try:
        return store.write(fn)
    except IntegrityError:
        raise Refused("name-taken", name) from None  # the only unique key the insert can break


def _check_name_free(
    conn: Connection, cohort_id: int, name: str, same_name: Callable[[str, str], bool] | None
) -> None:
    """``Refused("name-taken")`` when the cohort has ``name``, or one ``same_name`` calls alike."""
    held = conn.execute(sa.select(raters.c.name).where(raters.c.cohort_id == cohort_id)).scalars()
    for other in held:
        if other == name or (same_name is not None and same_name(other, name)):
            raise Refused("name-taken", other)


def _lock_first_run(conn: Connection) -> None:
    """Serialise first runs: a advisory lock on PostgreSQL (SQLite writes one at a time)."""
    if conn.dialect.name == "postgresql":
        conn.execute(sa.text("SELECT pg_advisory_xact_lock(:key)"), {"key": _FIRST_RUN_LOCK})


_FIRST_RUN_LOCK = 0x50414944  # "PAID": held while the first account is created


def _any_account(conn: Connection) -> bool:
    return conn.execute(sa.select(raters.c.id).where(raters.c.kind == "account").limit(1)).first() is not None


def _is_admin(conn: Connection, rater_id: int) -> bool:
    row = conn.execute(
        sa.select(raters.c.admin).where(raters.c.id == int(rater_id), raters.c.removed_at.is_(None))
    ).first()
    return bool(row is not None and row.admin)


def _shared_bank_id(store: Store, conn: Connection, bank: str) -> int:
    """The id of a server's shared bank (``Refused("no-bank")`` for an unknown or a cohort's own bank)."""
    row = conn.execute(sa.select(banks.c.id, banks.c.owner_cohort_id).where(banks.c.name == bank)).first()
    if row is None or row.owner_cohort_id is not None:
        raise Refused("no-bank", bank)
    return int(row.id)


def server_has_accounts(store: Store) -> bool:
    """Whether anyone can sign in yet (False on a fresh database: the first run)."""
    with store.read() as conn:
        return _any_account(conn)


def is_admin(store: Store, rater_id: int) -> bool:
    """Whether the rater is the server's admin (and not removed)."""
    with store.read() as conn:
        return _is_admin(conn, rater_id)


def create_cohort_with_invite(
    store: Store,
    *,
    name: str,
    invite_code: str,
    bank: str | None,
    drill_size: int,
    lead_invite_hash: str,
    expires_at: datetime,
    by: int | None,
) -> int:
    """Create a cohort without a lead, and a one-time invitation to lead it; the cohort's id.

    ``by`` is the admin's rater id, or None for the server's operator (the
    CLI, which runs with the database's own credentials).

    Raises ``Refused("not-admin")``, ``Refused("cohort-taken")`` or ``Refused("no-bank")``.
    """

    def fn(conn: Connection) -> int:
        if by is not None and not _is_admin(conn, by):
            raise Refused("not-admin")
        if conn.execute(sa.select(cohorts.c.id).where(cohorts.c.name == name)).first():
            raise Refused("cohort-taken", name)
        bank_id = _shared_bank_id(store, conn, bank) if bank is not None else None
        cohort_id = insert_cohort(
            conn, name=name, invite_code=invite_code, bank_id=bank_id, drill_size=drill_size
        )
        assert cohort_id is not None
        _insert_invite(conn, cohort_id, lead_invite_hash, expires_at)
        return cohort_id

    try:
        return store.write(fn)
    except IntegrityError:
        raise Refused("cohort-taken", name) from None


def _insert_invite(conn: Connection, cohort_id: int, token_hash: str, expires_at: datetime) -> None:
    conn.execute(
        sa.insert(invites).values(
            token_hash=token_hash, cohort_id=cohort_id, role="lead", created_at=now(), expires_at=expires_at
        )
    )


def add_lead_invite(
    store: Store, cohort_id: int, *, token_hash: str, expires_at: datetime, by: int | None
) -> None:
    """Store a one-time invitation to lead a cohort (``Refused("not-admin")``, ``Refused("no-cohort")``)."""

    def fn(conn: Connection) -> None:
        if by is not None and not _is_admin(conn, by):
            raise Refused("not-admin")
        if conn.execute(sa.select(cohorts.c.id).where(cohorts.c.id == cohort_id)).first() is None:
            raise Refused("no-cohort")
        _insert_invite(conn, cohort_id, token_hash, expires_at)

    store.write(fn)


def accept_lead_invite(
    store: Store,
    *,
    token_hash: str,
    name: str,
    password_hash: str,
    moment: datetime,
    same_name: Callable[[str, str], bool] | None = None,
) -> RaterRow:
    """Use a lead invitation once: a new lead account in its cohort; the new row.

    Raises ``Refused("bad-invite")`` (unknown, used or expired) or ``Refused("name-taken")``.
    """

    def fn(conn: Connection) -> RaterRow:
        invite = conn.execute(
            sa.select(invites.c.cohort_id, invites.c.expires_at, invites.c.used_at)
            .where(invites.c.token_hash == token_hash)
            .with_for_update()
        ).first()
        if invite is None or invite.used_at is not None or as_utc(invite.expires_at) <= moment:
            raise Refused("bad-invite")
        cohort_id = int(invite.cohort_id)
        _check_name_free(conn, cohort_id, name, same_name)
        insert_raters(conn, cohort_id, [{"name": name, "role": "lead", "password_hash": password_hash}])
        rater_id = conn.execute(
            sa.select(raters.c.id).where(raters.c.cohort_id == cohort_id, raters.c.name == name)
        ).scalar_one()
        used = conn.execute(
            sa.update(invites)
            .where(invites.c.token_hash == token_hash, invites.c.used_at.is_(None))
            .values(used_at=moment, used_by=int(rater_id))
        )
        if used.rowcount != 1:  # a concurrent acceptance won
            raise Refused("bad-invite")
        return _load(conn, int(rater_id))

    try:
        return store.write(fn)
    except IntegrityError:
        raise Refused("name-taken", name) from None


def rotate_invite(store: Store, cohort_id: int, invite_code: str) -> None:
    """Replace a cohort's rater invite code (the old one stops working at once)."""

    def fn(conn: Connection) -> None:
        change = sa.update(cohorts).where(cohorts.c.id == cohort_id).values(invite_code=invite_code)
        done = conn.execute(change)
        if done.rowcount != 1:
            raise Refused("no-cohort")

    store.write(fn)


def remove_rater(store: Store, cohort_id: int, rater_id: int, *, moment: datetime) -> str:
    """Mark a rater of the cohort removed and end their sessions; their judgments stay. Their name.

    Raises ``Refused("no-rater")`` for a rater of another cohort or one
    already removed, and ``Refused("lead")`` for a lead.
    """

    def fn(conn: Connection) -> str:
        row = conn.execute(
            sa.select(raters.c.name, raters.c.role, raters.c.removed_at).where(
                raters.c.id == int(rater_id), raters.c.cohort_id == int(cohort_id)
            )
        ).first()
        if row is None or row.removed_at is not None:
            raise Refused("no-rater")
        if row.role == "lead":
            raise Refused("lead", row.name)
        conn.execute(sa.update(raters).where(raters.c.id == int(rater_id)).values(removed_at=moment))
        conn.execute(sa.delete(sessions).where(sessions.c.rater_id == int(rater_id)))
        return str(row.name)

    return store.write(fn)


def cohorts_overview(store: Store) -> pd.DataFrame:
    """Every cohort for the admin: ``id``, ``name``, ``bank``, ``raters``, ``leads``, ``created_at``."""
    people = (
        sa.select(
            raters.c.cohort_id,
            sa.func.count().label("raters"),
            sa.func.sum(sa.case((raters.c.role == "lead", 1), else_=0)).label("leads"),
        )
        .where(raters.c.kind == "account", raters.c.removed_at.is_(None))
        .group_by(raters.c.cohort_id)
        .subquery()
    )
    query = (
        sa.select(
            cohorts.c.id,
            cohorts.c.name,
            banks.c.name.label("bank"),
            sa.func.coalesce(people.c.raters, 0),
            sa.func.coalesce(people.c.leads, 0),
            cohorts.c.created_at,
        )
        .select_from(cohorts)
        .outerjoin(banks, banks.c.id == cohorts.c.bank_id)
        .outerjoin(people, people.c.cohort_id == cohorts.c.id)
        .order_by(cohorts.c.id)
    )
    columns = ["id", "name", "bank", "raters", "leads", "created_at"]
    with store.read() as conn:
        frame = pd.DataFrame([tuple(r) for r in conn.execute(query)], columns=columns)
    return frame.astype({"id": "int64", "raters": "int64", "leads": "int64"})


def cohort_info(store: Store, cohort_id: int) -> dict[str, Any] | None:
    """A cohort's settings, or None if there is no such cohort.

    Keys ``id``, ``name``, ``invite_code``, ``bank`` (name or None), ``drill_size``, ``simulated``
    and ``tie_answers`` (raters may answer "About equally good").
    """
    query = (
        sa.select(
            cohorts.c.id,
            cohorts.c.name,
            cohorts.c.invite_code,
            banks.c.name.label("bank"),
            cohorts.c.drill_size,
            cohorts.c.simulated,
            cohorts.c.tie_answers,
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
        "tie_answers": bool(row.tie_answers),
    }


def update_cohort(
    store: Store,
    cohort_id: int,
    *,
    drill_size: int | None = None,
    bank: str | None = None,
    tie_answers: bool | None = None,
) -> None:
    """Set a cohort's drill size, bank and/or whether tie answers are offered; None keeps a setting.

    Raises ``Refused("no-bank")`` or ``Refused("no-cohort")``.
    """

    def fn(conn: Connection) -> None:
        values: dict[str, Any] = {}
        if drill_size is not None:
            values["drill_size"] = drill_size
        if tie_answers is not None:
            values["tie_answers"] = bool(tie_answers)
        if bank is not None:
            row = conn.execute(
                sa.select(banks.c.id, banks.c.owner_cohort_id).where(banks.c.name == bank)
            ).first()
            if row is None or row.owner_cohort_id not in (None, cohort_id):
                raise Refused("no-bank", bank)
            values["bank_id"] = int(row.id)
        if conn.execute(sa.select(cohorts.c.id).where(cohorts.c.id == cohort_id)).first() is None:
            raise Refused("no-cohort")
        if values:
            conn.execute(sa.update(cohorts).where(cohorts.c.id == cohort_id).values(**values))

    store.write(fn)


def list_raters(store: Store, cohort_id: int) -> pd.DataFrame:
    """The cohort's raters, oldest first.

    Columns ``id``, ``name``, ``role``, ``simulated``, ``created_at`` (UTC),
    ``kind`` (``account`` or ``imported``) and ``removed_at`` (UTC or NaT).
    """
    columns = ["id", "name", "role", "simulated", "created_at", "kind", "removed_at"]
    query = (
        sa.select(
            raters.c.id,
            raters.c.name,
            raters.c.role,
            raters.c.simulated,
            raters.c.created_at,
            raters.c.kind,
            raters.c.removed_at,
        )
        .where(raters.c.cohort_id == cohort_id)
        .order_by(raters.c.id)
    )
    with store.read() as conn:
        frame = pd.DataFrame([tuple(r) for r in conn.execute(query)], columns=columns)
    frame["id"] = frame["id"].astype("int64")
    frame["simulated"] = frame["simulated"].astype(bool)
    frame["created_at"] = pd.to_datetime(frame["created_at"], utc=True)
    frame["removed_at"] = pd.to_datetime(frame["removed_at"], utc=True)
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
        insert_raters(
            conn,
            cohort_id,
            [{"name": n, "simulated": True, "kind": "imported"} for n in names if n not in existing],
        )
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
        .where(cohorts.c.name == cohort, raters.c.name == name, raters.c.removed_at.is_(None))
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

    Raises ``Refused("no-account")``, ``Refused("no-password")`` or
    ``Refused("removed")`` (a rater removed from the cohort).
    """

    def fn(conn: Connection) -> None:
        row = conn.execute(
            sa.select(raters.c.password_hash, raters.c.removed_at).where(raters.c.id == rater_id)
        ).first()
        if row is None:
            raise Refused("no-account")
        if row.password_hash is None:
            raise Refused("no-password")
        if row.removed_at is not None:
            raise Refused("removed")
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
    """The rater and expiry of a session by its token's hash, or None (also for a removed rater)."""
    query = (
        _rater_query()
        .add_columns(sessions.c.expires_at)
        .join(sessions, sessions.c.rater_id == raters.c.id)
        .where(sessions.c.token_hash == token_hash, raters.c.removed_at.is_(None))
    )
    with store.read() as conn:
        row = conn.execute(query).first()
    return None if row is None else (_row(row), as_utc(row.expires_at))


def end_session(store: Store, token_hash: str) -> None:
    """Delete a session by its token's hash (nothing happens for an unknown one)."""
    store.write(lambda conn: conn.execute(sa.delete(sessions).where(sessions.c.token_hash == token_hash)))


def take_session(store: Store, token_hash: str) -> tuple[RaterRow, datetime] | None:
    """Delete a session row by its token's hash and return its rater and expiry; None if there was none.

    For one-time tokens: of two callers racing with the same hash, only one
    gets the row (the delete must remove it for the caller to have it).
    """

    def fn(conn: Connection) -> tuple[RaterRow, datetime] | None:
        row = conn.execute(
            _rater_query()
            .add_columns(sessions.c.expires_at)
            .join(sessions, sessions.c.rater_id == raters.c.id)
            .where(sessions.c.token_hash == token_hash)
        ).first()
        if row is None:
            return None
        deleted = conn.execute(sa.delete(sessions).where(sessions.c.token_hash == token_hash)).rowcount
        return (_row(row), as_utc(row.expires_at)) if deleted == 1 else None

    return store.write(fn)
