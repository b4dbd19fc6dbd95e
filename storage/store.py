"""The judgment store: every bank, pair, cohort, rater, drill and judgment.

All storage goes through this module (SQLAlchemy 2 Core, bound parameters
only). The database is named by a SQLAlchemy URL:

* ``PAIRCAL_DB_URL`` when set, e.g. ``postgresql+psycopg://user@host/paircal``;
* otherwise an SQLite file, ``data/paircal.db`` under the project root, created
  on first use in WAL mode with a busy timeout, so several processes (two
  Streamlit servers, a CLI import) can write at once.

A rater answers a given pair in a given drill once: the table ``judgments`` has
a unique key on (rater, bank, pair, drill), so a double-clicked or replayed
submit stores nothing the second time, whatever the UI does.

Many writers at once (threads of one Streamlit server, several servers, a CLI
import) are safe on both databases: every write is one transaction
(:meth:`Store.write`) that is retried, after a random back-off, when the
database reports a lock or a serialization conflict; creating the schema,
the starter bank and a cohort are race-free, so servers may start together on
a fresh database. ``tests/test_concurrency.py`` checks this with 16 processes
and 16 threads of 500 double-submitted judgments each.
"""

from __future__ import annotations

import gc
import json
import math
import random
import time
from collections.abc import Collection, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any

import numpy as np
import pandas as pd
import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.exc import IntegrityError, OperationalError

from pairs import features
from pairs.bank import COLUMNS as BANK_COLUMNS
from pairs.bank import PROBE_COLUMNS, STARTER_BANK_NAME, STARTER_BANK_PATH, text_problem, with_probe_columns
from pairs.errors import InputError, Problem
from pairs.judgments import COLUMNS as JUDGMENT_CSV_COLUMNS
from pairs.names import name_skeleton, printable
from storage import migrations
from storage.engine import (  # noqa: F401
    DEFAULT_DB_PATH,
    DatabaseUnavailable,
    database_url,
    is_contention,
    is_outage,
    make_engine,
    use_wal,
)
from storage.schema import (  # noqa: F401
    UtcDateTime,
    as_utc,
    bank_text_counts,
    banks,
    cohorts,
    drill_items,
    judgments,
    metadata,
    pairs_table,
    raters,
    sessions,
    settings,
)


class BankRefused(Exception):
    """A change to a bank the caller may not make.

    Attributes
    ----------
    reason : str
        ``"read-only"`` (the starter bank), ``"not-yours"`` (another cohort's
        bank, or the server's for a cohort) or ``"name-taken"``.
    name : str
        The bank.
    """

    def __init__(self, reason: str, name: str):
        super().__init__(f"{reason}: {name}")
        self.reason = reason
        self.name = name


_SCORED_FIELDS = ("prompt", "response_a", "response_b", "gold", "probe", "probe_of", "styled")
"""What an import may not change on an answered pair: a change would re-score past answers (or, for a
probe's fields, change which copy past answers picked)."""

_SCHEMA_LOCK = 0x50414952  # PostgreSQL advisory lock key ("PAIR") held while creating the tables
IMPORTED_COHORT = "imported"


def now() -> datetime:
    """The current time, aware, in UTC."""
    return datetime.now(UTC)


class Store:
    """The PairCal database.

    Parameters
    ----------
    url : str, optional
        SQLAlchemy URL; default ``PAIRCAL_DB_URL`` or ``data/paircal.db``.
    """

    def __init__(self, url: str | None = None, *, engine: Engine | None = None):
        self.url = database_url(url)
        self.url_for_display = sa.engine.make_url(self.url).render_as_string(hide_password=True)
        self.engine = engine or make_engine(self.url)
        self.dialect = self.engine.dialect.name
        self._create_schema()

    def _create_schema(self, *, attempts: int = 8) -> None:
        """Bring the database to this code's schema revision, one process at a time.

        A database already at the newest revision costs one query. Any other
        goes through :func:`storage.migrations.upgrade` in one transaction under
        the schema lock (PostgreSQL: advisory lock ``_SCHEMA_LOCK``; SQLite:
        ``BEGIN IMMEDIATE``), which re-reads the state: a new database gets every
        revision, one made before migrations (commit 89237ea) is stamped at the
        baseline and upgraded, an older one gets the revisions it lacks. So
        servers may start together on a new or an old database; one upgrades it,
        the others find it done. Retried on contention like :meth:`write`.
        """
        with self.read() as conn:
            if migrations.current_revision(conn) == migrations.head():
                return

        def upgrade(conn: Connection) -> None:
            if self.dialect == "postgresql":  # SQLite's BEGIN IMMEDIATE already serializes this
                conn.execute(sa.select(sa.func.pg_advisory_xact_lock(_SCHEMA_LOCK)))
            migrations.upgrade(conn)

        if self.dialect != "sqlite":
            self.write(upgrade, attempts=attempts)
            return
        # SQLite: foreign keys must be off for the whole upgrade (a rebuilt table would cascade
        # deletes), and that switch only works before BEGIN, on the connection itself: so this
        # connection is set up here rather than taken by write().
        for attempt in range(attempts):
            try:
                with self.engine.connect() as conn, migrations.sqlite_foreign_keys_off(conn):
                    conn.info["write"] = True
                    try:
                        with conn.begin():
                            upgrade(conn)
                    finally:
                        conn.info.pop("write", None)
                return
            except OperationalError as exc:
                if not is_contention(exc) or attempt == attempts - 1:
                    raise
                time.sleep(0.05 * (2**attempt) * (0.5 + random.random()))

    # -- transactions ---------------------------------------------------------------

    @contextmanager
    def read(self) -> Iterator[Connection]:
        """A read transaction: a connection whose statements commit (or roll back) together.

        Raises :class:`~storage.engine.DatabaseUnavailable` when the database cannot be reached.
        """
        with _outage_said_plainly(), self.engine.connect() as conn:
            with conn.begin():
                yield conn

    @contextmanager
    def _write_once(self) -> Iterator[Connection]:
        with _outage_said_plainly(), self.engine.connect() as conn:
            conn.info["write"] = True
            try:
                with conn.begin():
                    yield conn
            finally:
                conn.info.pop("write", None)

    def write(self, fn, *, attempts: int = 8):
        """Run ``fn(conn)`` in one write transaction, retrying when the database is locked.

        Everything ``fn`` does commits together or not at all. A transaction
        that fails because of other writers (SQLite "database is locked" after
        the busy timeout; PostgreSQL serialization failure or deadlock) is run
        again from the start after a random back-off of about 0.05 s, doubling
        each time (at most ``attempts`` runs, about 20 s of waiting in all).
        """
        for attempt in range(attempts):
            try:
                with self._write_once() as conn:
                    return fn(conn)
            except OperationalError as exc:
                if not is_contention(exc) or attempt == attempts - 1:
                    raise
                time.sleep(0.05 * (2**attempt) * (0.5 + random.random()))
        raise AssertionError("unreachable")

    @contextmanager
    def snapshot(self) -> Iterator[Connection]:
        """A read-only transaction that sees one consistent state of the whole database.

        On PostgreSQL it is ``REPEATABLE READ`` (each statement of a plain
        :meth:`read` sees the data committed when *it* starts); an SQLite read
        transaction in WAL mode is a snapshot already.
        """
        with self.engine.connect() as conn:
            if self.dialect == "postgresql":
                conn = conn.execution_options(isolation_level="REPEATABLE READ", postgresql_readonly=True)
            with conn.begin():
                yield conn

    def insert_ignore(self, table: sa.Table, index_elements: list[str]):
        """``INSERT ... ON CONFLICT (index_elements) DO NOTHING`` for this database."""
        return self.insert_ignore_for(self.dialect, table, index_elements)

    @staticmethod
    def insert_ignore_for(dialect: str, table: sa.Table, index_elements: list[str]):
        """``INSERT ... ON CONFLICT (index_elements) DO NOTHING`` for the database named ``dialect``."""
        if dialect == "postgresql":
            from sqlalchemy.dialects.postgresql import insert
        elif dialect == "sqlite":
            from sqlalchemy.dialects.sqlite import insert  # type: ignore[assignment]  # same shape
        else:  # pragma: no cover - only SQLite and PostgreSQL are supported
            raise ValueError(f"unsupported database {dialect!r}; use SQLite or PostgreSQL.")
        return insert(table).on_conflict_do_nothing(index_elements=index_elements)

    # -- settings -------------------------------------------------------------------

    def get_setting(self, key: str, default: str | None = None) -> str | None:
        """The stored value of setting ``key``, or ``default`` when it is not set."""
        with self.read() as conn:
            value = conn.execute(sa.select(settings.c.value).where(settings.c.key == key)).scalar()
        return default if value is None else value

    def set_setting(self, key: str, value: str) -> None:
        """Store ``value`` for setting ``key``, replacing any earlier value."""

        def fn(conn):
            conn.execute(sa.delete(settings).where(settings.c.key == key))
            conn.execute(sa.insert(settings).values(key=key, value=value))

        self.write(fn)

    # -- banks ----------------------------------------------------------------------

    def bank_names(self, *, cohort_id: int | None = None) -> list[str]:
        """Names of the stored banks, in the order they were created.

        With ``cohort_id``, only the banks that cohort may use: its own and the
        server's shared ones (the starter bank, banks loaded with the CLI).
        """
        query = sa.select(banks.c.name).order_by(banks.c.id)
        if cohort_id is not None:
            query = query.where(
                sa.or_(banks.c.owner_cohort_id.is_(None), banks.c.owner_cohort_id == int(cohort_id))
            )
        with self.read() as conn:
            return list(conn.execute(query).scalars())

    def bank_revision(self, name: str) -> int:
        """How many times the bank's pairs have changed (imports, corrections, retirements); 0 if unknown.

        Caches of the bank, and of statistics scored against its gold, are
        keyed by it, so every server process sees a change made by any other.
        """
        with self.read() as conn:
            found = conn.execute(sa.select(banks.c.revision).where(banks.c.name == name)).scalar()
        return int(found or 0)

    def bank_info(self, name: str) -> dict[str, Any]:
        """``id``, ``name``, ``owner_cohort_id`` (None: the server's) and ``read_only`` of a bank.

        Raises ``KeyError`` if there is no bank of that name.
        """
        query = sa.select(banks.c.id, banks.c.name, banks.c.owner_cohort_id, banks.c.read_only).where(
            banks.c.name == name
        )
        with self.read() as conn:
            row = conn.execute(query).first()
        if row is None:
            raise KeyError(f"no bank named {name!r}")
        return {
            "id": int(row.id),
            "name": row.name,
            "owner_cohort_id": None if row.owner_cohort_id is None else int(row.owner_cohort_id),
            "read_only": bool(row.read_only),
        }

    def bank_id(self, name: str, conn: Connection | None = None) -> int:
        """Row id of the bank named ``name`` (``KeyError`` if there is none)."""
        query = sa.select(banks.c.id).where(banks.c.name == name)
        if conn is not None:
            found = conn.execute(query).scalar()
        else:
            with self.read() as c:
                found = c.execute(query).scalar()
        if found is None:
            raise KeyError(f"no bank named {name!r}")
        return int(found)

    def import_bank(
        self,
        name: str,
        bank: pd.DataFrame,
        *,
        source_file: str = "",
        owner_cohort_id: int | None = None,
        as_server: bool = True,
    ) -> dict[str, int]:
        """Add a validated bank's pairs to bank ``name`` (created if new), all in one transaction.

        A pair whose id is already in the bank is updated, except that an
        import never re-scores anyone: a pair somebody has answered keeps its
        prompt, responses and gold (changing those is the gold audit's recorded
        act), and the import is refused, naming those pairs. Returns counts
        ``added`` and ``updated`` (pairs that really changed; identical ones are
        ``unchanged``).

        Parameters
        ----------
        owner_cohort_id : int or None
            The cohort importing (a lead's import in the app): a new bank
            becomes this cohort's, and an existing bank must be this cohort's.
        as_server : bool, default True
            With no ``owner_cohort_id``: the server's operator (the CLI), who
            may add to any bank that is not read-only; a new bank is shared.

        Raises
        ------
        BankRefused
            The bank is read-only (the starter bank), or belongs to another
            cohort (or to the server, for a cohort's import).
        InputError
            Answered pairs would change.
        """
        if name == STARTER_BANK_NAME:  # the name is kept for the shipped, read-only bank
            raise BankRefused("read-only", name)
        return self.write(
            lambda conn: self.add_pairs(
                conn,
                name,
                bank,
                source_file=source_file,
                owner_cohort_id=owner_cohort_id,
                as_server=as_server and owner_cohort_id is None,
            )
        )

    def add_pairs(
        self,
        conn: Connection,
        name: str,
        bank: pd.DataFrame,
        *,
        source_file: str = "",
        created_at: datetime | None = None,
        owner_cohort_id: int | None = None,
        as_server: bool = True,
        read_only: bool = False,
    ) -> dict[str, int]:
        """:meth:`import_bank` inside the caller's write transaction ``conn``.

        ``created_at`` dates a new bank (default now); ``read_only`` marks a new
        bank read-only (the starter bank).
        """
        if not name or not name.strip():
            raise ValueError("bank name must not be empty.")
        _check_name(name, banks.c.name, source_file or "bank", "bank name")
        _check_name(source_file, banks.c.source_file, "file name", "file name")
        records = [_pair_row(rec) for rec in with_probe_columns(bank)[BANK_COLUMNS].to_dict("records")]
        found = conn.execute(
            sa.select(banks.c.id, banks.c.owner_cohort_id, banks.c.read_only).where(banks.c.name == name)
        ).first()
        if found is None:
            key = conn.execute(
                sa.insert(banks).values(
                    name=name,
                    created_at=created_at or now(),
                    source_file=source_file,
                    owner_cohort_id=owner_cohort_id,
                    read_only=read_only,
                )
            ).inserted_primary_key
            assert key is not None
            bid = key[0]
        else:
            bid = found.id
            if found.read_only:
                raise BankRefused("read-only", name)
            mine = owner_cohort_id is not None and found.owner_cohort_id == owner_cohort_id
            server = as_server and owner_cohort_id is None
            if not (mine or server):
                raise BankRefused("not-yours", name)
        stored = {
            r["pair_id"]: r
            for r in conn.execute(sa.select(pairs_table).where(pairs_table.c.bank_id == bid)).mappings()
        }
        answered = set(
            conn.execute(
                sa.select(judgments.c.pair_id).where(judgments.c.bank_id == bid).group_by(judgments.c.pair_id)
            ).scalars()
        )
        start = conn.execute(
            sa.select(sa.func.coalesce(sa.func.max(pairs_table.c.position), -1)).where(
                pairs_table.c.bank_id == bid
            )
        ).scalar_one()
        new: list[dict[str, Any]] = []
        changed: list[dict[str, Any]] = []
        rescored: list[str] = []
        for rec in records:
            before = stored.get(rec["pair_id"])
            if before is None:
                new.append(rec)
            elif any(before[k] != v for k, v in rec.items()):
                changed.append(rec)
                if rec["pair_id"] in answered and any(before[k] != rec[k] for k in _SCORED_FIELDS):
                    rescored.append(rec["pair_id"])
        if rescored:
            raise InputError(
                Problem(
                    source_file or "bank",
                    None,
                    "id",
                    f"pair {pid!r} has answers already: an import does not change its prompt, responses, "
                    "gold or probe fields (that would re-score past answers); correct its gold in the gold "
                    "audit, or import it under a new id",
                )
                for pid in rescored
            )
        for i, rec in enumerate(new):
            rec.update(bank_id=bid, position=start + 1 + i)
        if new:
            conn.execute(sa.insert(pairs_table), new)
        for rec in changed:
            conn.execute(
                sa.update(pairs_table)
                .where(pairs_table.c.bank_id == bid, pairs_table.c.pair_id == rec["pair_id"])
                .values({k: v for k, v in rec.items() if k != "pair_id"})
            )
        if new or changed or found is None:
            final = {
                pid: (row["position"], row["response_a"], row["response_b"]) for pid, row in stored.items()
            }
            for rec in [*new, *changed]:
                position = rec.get("position", final.get(rec["pair_id"], (0,))[0])
                final[rec["pair_id"]] = (position, rec["response_a"], rec["response_b"])
            ordered = sorted(final.items(), key=lambda item: item[1][0])
            texts = pd.DataFrame(
                {
                    "id": [pid for pid, _ in ordered],
                    "response_a": [v[1] for _, v in ordered],
                    "response_b": [v[2] for _, v in ordered],
                }
            )
            self._keep_text_counts(conn, int(bid), features.bank_key(texts), features.bank_text_counts(texts))
            conn.execute(sa.update(banks).where(banks.c.id == bid).values(revision=banks.c.revision + 1))
        unchanged = len(records) - len(new) - len(changed)
        return {"added": len(new), "updated": len(changed), "unchanged": unchanged}

    def text_counts(self, name: str, bank: pd.DataFrame) -> np.ndarray:
        """The bank's :func:`pairs.features.bank_text_counts`, kept in the database.

        Counted when a bank is imported or changed and stored with the bank;
        read back here, so a page in a new server process need not read every
        response again (0.15 s for 2,000 pairs). Counts kept for other
        content, or by another version of the counting, are counted again and
        replaced.

        Parameters
        ----------
        name : str
            The bank.
        bank : DataFrame
            Its pairs, as :meth:`load_bank` gives them.

        Returns
        -------
        ndarray of int64, shape (2 * len(bank), 9)
        """
        key = features.bank_key(bank)
        with self.read() as conn:
            bid = self.bank_id(name, conn)
            row = conn.execute(
                sa.select(bank_text_counts.c.content_key, bank_text_counts.c.counts).where(
                    bank_text_counts.c.bank_id == bid
                )
            ).first()
        if row is not None and row.content_key == key:
            counts = np.frombuffer(bytes(row.counts), dtype="<i4").astype(np.int64)
            if counts.size == 2 * len(bank) * 9:
                return counts.reshape(-1, 9)
        counts = features.bank_text_counts(bank)
        self.write(lambda conn: self._keep_text_counts(conn, bid, key, counts))
        return counts

    @staticmethod
    def _keep_text_counts(conn: Connection, bank_id: int, key: str, counts: np.ndarray) -> None:
        """Store a bank's text counts (replacing what was kept) inside ``conn``'s transaction."""
        conn.execute(sa.delete(bank_text_counts).where(bank_text_counts.c.bank_id == bank_id))
        conn.execute(
            sa.insert(bank_text_counts).values(
                bank_id=bank_id,
                content_key=key,
                counts=np.asarray(counts, dtype="<i4").tobytes(),
            )
        )

    def copy_bank(self, source: str, name: str, *, owner_cohort_id: int) -> int:
        """Copy bank ``source`` to a new bank ``name`` owned by a cohort; the number of pairs copied.

        This is how a lead gets an editable copy of the read-only starter bank.
        Raises :class:`BankRefused` (``"name-taken"``) when ``name`` exists,
        ``KeyError`` when ``source`` does not.
        """
        bank = self.load_bank(source)

        def fn(conn: Connection) -> int:
            if conn.execute(sa.select(banks.c.id).where(banks.c.name == name)).first() is not None:
                raise BankRefused("name-taken", name)
            self.add_pairs(
                conn, name, bank, source_file=f"copy of {source}"[:500], owner_cohort_id=owner_cohort_id
            )
            return len(bank)

        try:
            return self.write(fn)
        except IntegrityError:
            raise BankRefused("name-taken", name) from None

    def load_bank(self, name: str, conn: Connection | None = None) -> pd.DataFrame:
        """The bank's pairs in import order, in the :mod:`pairs.bank` columns (``KeyError`` if unknown)."""
        if conn is None:
            with self.read() as c:
                return self.load_bank(name, c)
        bid = self.bank_id(name, conn)
        rows = conn.execute(
            sa.select(pairs_table).where(pairs_table.c.bank_id == bid).order_by(pairs_table.c.position)
        ).mappings()
        frame = pd.DataFrame([dict(r) for r in rows])
        if frame.empty:
            return pd.DataFrame(columns=BANK_COLUMNS)
        frame = frame.rename(columns={"pair_id": "id"})
        frame["tags"] = [tuple(json.loads(t)) for t in frame["tags"]]
        frame["gold_confidence"] = pd.to_numeric(frame["gold_confidence"], errors="coerce")
        return frame[BANK_COLUMNS].reset_index(drop=True)

    def ensure_starter_bank(self) -> bool:
        """Load the shipped starter bank if no bank of that name exists; True if it was loaded.

        Safe when several servers start at once: one loads it, the others find it.
        """
        if STARTER_BANK_NAME in self.bank_names():
            return False
        from pairs.importers import read_bank

        bank = read_bank(STARTER_BANK_PATH, "jsonl")

        def fn(conn: Connection) -> bool:
            if self._starter_bank_stored(conn):
                return False
            self.add_pairs(conn, STARTER_BANK_NAME, bank, source_file=STARTER_BANK_PATH.name, read_only=True)
            return True

        try:
            return self.write(fn)
        except (IntegrityError, BankRefused):
            # PostgreSQL: another server stored it after our check. Our insert then
            # collides with its row (IntegrityError), or, when its transaction committed
            # before add_pairs looked the name up, add_pairs finds a read-only bank.
            if STARTER_BANK_NAME in self.bank_names():
                return False
            raise

    @staticmethod
    def _starter_bank_stored(conn: Connection) -> bool:
        found = conn.execute(sa.select(banks.c.id).where(banks.c.name == STARTER_BANK_NAME)).first()
        return found is not None

    # -- cohorts and raters ---------------------------------------------------------

    def cohort_id(self, name: str) -> int | None:
        """The id of cohort ``name``, or None if there is none."""
        with self.read() as conn:
            found = conn.execute(sa.select(cohorts.c.id).where(cohorts.c.name == name)).scalar()
        return None if found is None else int(found)

    def ensure_cohort(self, name: str, *, bank: str | None = None, conn: Connection | None = None) -> int:
        """Id of cohort ``name``, creating it (with a random invite code) if needed.

        Two processes ensuring the same new cohort at once get the same one.
        """
        import secrets

        from storage.accounts import insert_cohort

        def fn(c):
            cid = c.execute(sa.select(cohorts.c.id).where(cohorts.c.name == name)).scalar()
            if cid is None:
                bank_id = self.bank_id(bank, c) if bank else None
                insert_cohort(
                    c,
                    name=name,
                    invite_code=secrets.token_urlsafe(9),
                    bank_id=bank_id,
                    drill_size=10,
                    ignore_taken=True,
                )
                cid = c.execute(sa.select(cohorts.c.id).where(cohorts.c.name == name)).scalar_one()
            return int(cid)

        return fn(conn) if conn is not None else self.write(fn)

    def ensure_raters(self, conn: Connection, cohort_id: int, names: list[str]) -> dict[str, int]:
        """Ids of imported raters ``names`` in a cohort, creating those that are missing (no password).

        Returns only raters of kind ``imported``: a name held by a person's
        account (also one created by a concurrent join, which the insert or
        this read sees) is left out, and the caller refuses the import.
        """
        from storage.accounts import insert_raters

        insert_raters(conn, cohort_id, [{"name": n, "kind": "imported"} for n in names], ignore_taken=True)
        rows = conn.execute(
            sa.select(raters.c.name, raters.c.id).where(
                raters.c.cohort_id == cohort_id, raters.c.kind == "imported"
            )
        ).all()
        wanted = set(names)
        return {n: int(i) for n, i in rows if n in wanted}

    def people(self, conn: Connection, cohort_id: int) -> set[str]:
        """Names of a cohort's people: the raters of kind ``account`` (who sign in).

        Simulated raters and raters created by a judgments import are not people.
        """
        query = sa.select(raters.c.name).where(raters.c.cohort_id == cohort_id, raters.c.kind == "account")
        return set(conn.execute(query).scalars())

    # -- judgments ------------------------------------------------------------------

    def import_judgments(
        self,
        frame: pd.DataFrame,
        *,
        bank: str,
        cohort: str = IMPORTED_COHORT,
        source: str = "judgments",
    ) -> dict[str, int]:
        """Store judgments in the CSV layout (already validated), all in one transaction.

        Each imported judgment's drill key is ``import:`` plus its ``answered_at``
        (or, without one, its row content), so importing the same file twice, or
        from two processes at once, stores each judgment once. Raters new to the
        cohort are created without a password; a name already held in the cohort
        by a person's account (a lead, someone with a password, or someone who
        has done a drill in the app) is refused, so an import never credits a
        real person with judgments they did not make. Returns counts ``added``
        and ``already_present``.

        Raises
        ------
        InputError
            Naming ``source`` and every such rater; nothing is imported.
        """
        frame = frame.reset_index(drop=True)
        answered = (
            pd.to_datetime(frame["answered_at"], utc=True, errors="coerce").dt.floor("us")
            if "answered_at" in frame
            else None
        )

        _check_name(cohort, cohorts.c.name, source, "cohort")

        def fn(conn):
            bid = self.bank_id(bank, conn)
            cid = self.ensure_cohort(cohort, conn=conn)
            names = sorted(frame["rater"].astype(str).unique())
            taken = sorted(set(names) & self.people(conn, cid))
            if taken:
                raise InputError(
                    Problem(
                        source,
                        None,
                        "rater",
                        f"{name!r} is a person's account in cohort {cohort!r}; imported judgments "
                        "must not be credited to it (rename the rater or import into another cohort)",
                    )
                    for name in taken
                )
            held = set(conn.execute(sa.select(raters.c.name).where(raters.c.cohort_id == cid)).scalars())
            looks = {name_skeleton(h): h for h in sorted(held)}
            alike = [(name, looks.get(name_skeleton(name))) for name in names if name not in held]
            if any(other for _, other in alike):
                raise InputError(
                    Problem(
                        source,
                        None,
                        "rater",
                        f"{printable(name)!r} looks like {printable(other)!r}, already in cohort {cohort!r}; "
                        "use the same name or a clearly different one",
                    )
                    for name, other in alike
                    if other
                )
            ids = self.ensure_raters(conn, cid, names)
            raced = sorted(set(names) - set(ids))
            if raced:  # an account of that name was created since the check above
                raise InputError(
                    Problem(source, None, "rater", f"{name!r} is a person's account in cohort {cohort!r}")
                    for name in raced
                )
            seen = self._answered_pairs(conn, bid, list(ids.values()))
            rows = []
            for i, rec in enumerate(frame.to_dict("records")):
                at = (
                    None
                    if answered is None or pd.isna(answered.iloc[i])
                    else answered.iloc[i].to_pydatetime()
                )
                key = at.isoformat() if at else _row_key(rec)
                who = (ids[str(rec["rater"])], str(rec["pair_id"]))
                repeat = who in seen
                seen.add(who)
                rows.append(
                    {
                        "repeat": repeat,
                        "rater_id": ids[str(rec["rater"])],
                        "bank_id": bid,
                        "pair_id": str(rec["pair_id"]),
                        "drill": f"import:{key}"[:64],
                        "drill_date": at.date() if at else None,
                        "left": _opt_side(rec.get("left")),
                        "choice": "tie"
                        if str(rec["choice"]).upper() == "TIE"
                        else str(rec["choice"]).upper(),
                        "confidence": _opt_float(rec.get("confidence")),
                        "shown_at": None,
                        "answered_at": at,
                        "seconds": _opt_float(rec.get("seconds")),
                    }
                )
            added = 0
            stmt = self.insert_ignore(judgments, ["rater_id", "bank_id", "pair_id", "drill"]).returning(
                judgments.c.id
            )
            for start in range(0, len(rows), 5000):
                added += len(conn.execute(stmt, rows[start : start + 5000]).all())
            return {"added": added, "already_present": len(rows) - added}

        return self.write(fn)

    def record_judgment(
        self,
        *,
        rater_id: int,
        bank_id: int,
        pair_id: str,
        drill: str,
        choice: str,
        confidence: float | None,
        left: str | None,
        shown_at: datetime | None = None,
        answered_at: datetime | None = None,
        drill_date=None,
    ) -> bool:
        """Store one judgment in its own transaction; False (and nothing stored) if this drill has it."""
        fields = dict(
            rater_id=rater_id,
            bank_id=bank_id,
            pair_id=pair_id,
            drill=drill,
            choice=choice,
            confidence=confidence,
            left=left,
            shown_at=shown_at,
            answered_at=answered_at,
            drill_date=drill_date,
        )
        return self.write(lambda conn: self.insert_judgment(conn, **fields))

    def insert_judgment(
        self,
        conn: Connection,
        *,
        rater_id: int,
        bank_id: int,
        pair_id: str,
        drill: str,
        choice: str,
        confidence: float | None,
        left: str | None,
        shown_at: datetime | None = None,
        answered_at: datetime | None = None,
        drill_date=None,
    ) -> bool:
        """Insert one judgment inside ``conn``'s transaction; False if this drill already has it.

        ``answered_at`` defaults to now, ``drill_date`` to its date, and the
        time on the item (``seconds``) is ``answered_at - shown_at`` when the
        item's showing was recorded.
        """
        answered_at = answered_at or now()
        repeat = self.answered_before(conn, rater_id, bank_id, pair_id)
        row = {
            "repeat": repeat,
            "rater_id": rater_id,
            "bank_id": bank_id,
            "pair_id": pair_id,
            "drill": drill,
            "drill_date": drill_date or answered_at.date(),
            "left": left,
            "choice": choice,
            "confidence": confidence,
            "shown_at": shown_at,
            "answered_at": answered_at,
            "seconds": (answered_at - shown_at).total_seconds() if shown_at else None,
        }
        stmt = self.insert_ignore(judgments, ["rater_id", "bank_id", "pair_id", "drill"]).returning(
            judgments.c.id
        )
        return conn.execute(stmt, row).first() is not None

    @staticmethod
    def answered_before(conn: Connection, rater_id: int, bank_id: int, pair_id: str) -> bool:
        """Whether the rater has a stored answer to this pair (then a new one is a repeat)."""
        query = (
            sa.select(judgments.c.id)
            .where(
                judgments.c.rater_id == rater_id,
                judgments.c.bank_id == bank_id,
                judgments.c.pair_id == pair_id,
            )
            .limit(1)
        )
        return conn.execute(query).first() is not None

    @staticmethod
    def _answered_pairs(conn: Connection, bank_id: int, rater_ids: list[int]) -> set[tuple[int, str]]:
        """(rater id, pair id) of every stored answer of these raters on the bank."""
        if not rater_ids:
            return set()
        query = (
            sa.select(judgments.c.rater_id, judgments.c.pair_id)
            .where(judgments.c.bank_id == bank_id, judgments.c.rater_id.in_(rater_ids))
            .group_by(judgments.c.rater_id, judgments.c.pair_id)
        )
        return {(int(r), str(p)) for r, p in conn.execute(query).all()}

    def export_judgments(self, *, bank: str | None = None, cohort: str | None = None) -> pd.DataFrame:
        """All judgments (optionally of one bank / cohort) in the CSV layout, oldest first."""
        q = (
            sa.select(
                raters.c.name.label("rater"),
                judgments.c.pair_id,
                judgments.c.choice,
                judgments.c.confidence,
                judgments.c.left,
                judgments.c.answered_at,
                judgments.c.seconds,
            )
            .join(raters, raters.c.id == judgments.c.rater_id)
            .join(cohorts, cohorts.c.id == raters.c.cohort_id)
            .join(banks, banks.c.id == judgments.c.bank_id)
            .order_by(judgments.c.answered_at.nulls_last(), judgments.c.id)  # NULLs last on both databases
        )
        if bank is not None:
            q = q.where(banks.c.name == bank)
        if cohort is not None:
            q = q.where(cohorts.c.name == cohort)
        with self.read() as conn:
            frame = pd.DataFrame(conn.execute(q).all(), columns=JUDGMENT_CSV_COLUMNS)
        if not frame.empty:
            frame["answered_at"] = pd.to_datetime(frame["answered_at"], utc=True)
        return frame

    def judgments_version(self, *, cohort: str | None = None) -> tuple[int, int]:
        """(count, largest id) of the judgments, of one cohort if given: changes with every new one."""
        q = sa.select(sa.func.count(), sa.func.coalesce(sa.func.max(judgments.c.id), 0)).select_from(
            judgments
        )
        if cohort is not None:
            q = (
                q.join(raters, raters.c.id == judgments.c.rater_id)
                .join(cohorts, cohorts.c.id == raters.c.cohort_id)
                .where(cohorts.c.name == cohort)
            )
        with self.read() as conn:
            count, largest = conn.execute(q).one()
        return int(count), int(largest)

    def count_judgments(self) -> int:
        """Number of judgments stored, in every bank and cohort."""
        with self.read() as conn:
            return int(conn.execute(sa.select(sa.func.count()).select_from(judgments)).scalar_one())

    # -- one cohort's judgments, rater by rater (the app's statistics and their caches) -----

    def cohort_banks(self, *, cohort: str) -> list[str]:
        """The banks ``cohort``'s raters answered, in the order the banks were created.

        A bank the cohort drilled on and then left keeps its history: the
        cohort's figures cover it. One probe per bank over the (rater, bank)
        index, stopping at the first answer found.
        """
        answered = (
            sa.select(judgments.c.id)
            .join(raters, raters.c.id == judgments.c.rater_id)
            .join(cohorts, cohorts.c.id == raters.c.cohort_id)
            .where(judgments.c.bank_id == banks.c.id, cohorts.c.name == cohort)
            .exists()
        )
        with self.read() as conn:
            return list(conn.execute(sa.select(banks.c.name).where(answered).order_by(banks.c.id)).scalars())

    def rater_versions(self, *, cohort: str, bank: str, names: Collection[str] | None = None) -> pd.DataFrame:
        """The raters of ``cohort`` with judgments on ``bank``, and the version of each one's judgments.

        Columns ``rater`` (name), ``rater_id``, ``simulated`` (the
        ``raters.simulated`` column: demo raters, not people), ``n`` (judgments),
        ``version`` (the largest judgment id) and ``removed`` (a lead removed
        the rater; their judgments stay). A rater's ``(n, version)`` changes when, and only when,
        that rater's judgments on the bank change: the cache key of their
        statistics. One grouped query over the (rater, bank) index; ``names``
        limits it to those raters.
        """
        q = (
            sa.select(
                raters.c.name,
                raters.c.id,
                raters.c.simulated,
                sa.func.count(judgments.c.id),
                sa.func.max(judgments.c.id),
                raters.c.removed_at.is_not(None),
            )
            .select_from(raters)
            .join(cohorts, cohorts.c.id == raters.c.cohort_id)
            .join(
                judgments,
                sa.and_(judgments.c.rater_id == raters.c.id, judgments.c.bank_id == _bank_id_of(bank)),
            )
            .where(cohorts.c.name == cohort)
            .group_by(raters.c.id, raters.c.name, raters.c.simulated, raters.c.removed_at)
            .order_by(raters.c.id)
        )
        if names is not None:
            q = q.where(raters.c.name.in_([str(name) for name in names]))
        with self.read() as conn:
            rows = conn.execute(q).all()
        return pd.DataFrame(
            {
                "rater": pd.Series([r[0] for r in rows], dtype=object),
                "rater_id": pd.Series([int(r[1]) for r in rows], dtype="int64"),
                "simulated": pd.Series([bool(r[2]) for r in rows], dtype=bool),
                "n": pd.Series([int(r[3]) for r in rows], dtype="int64"),
                "version": pd.Series([int(r[4]) for r in rows], dtype="int64"),
                "removed": pd.Series([bool(r[5]) for r in rows], dtype=bool),
            }
        )

    def cohort_judgments(
        self,
        *,
        cohort: str | None,
        bank: str,
        names: Collection[str] | None = None,
        since: datetime | None = None,
        before: datetime | None = None,
        repeats: bool = False,
        only_repeats: bool = False,
    ) -> pd.DataFrame:
        """The judgments on ``bank`` of ``cohort``'s raters (of every cohort if None), or of ``names``.

        Only first answers unless ``repeats``: an answer to a pair the rater had
        answered before counts in no statistic and on no leaderboard. With
        ``only_repeats``, only those answers (the probes' swap figure adds them
        to the first answers a cache already holds).

        The rows of ``export_judgments(bank=bank, cohort=cohort)`` (the CSV
        layout, oldest first) for the raters named, read over the (rater, bank)
        index and turned into columns without a Python object per row: about
        three times faster at 200,000 judgments. My report reads one rater this
        way, the cohort caches re-read only the raters whose judgments changed,
        and ``python -m calibration`` reads the database this way.

        ``since`` keeps judgments answered at or after it; ``before`` keeps
        those answered before it or at an unknown time, so that ``since=t``
        and then ``before=t`` read everything once (a page showing this week
        reads this week).
        """
        members = sa.select(raters.c.id)
        if cohort is not None:
            members = members.join(cohorts, cohorts.c.id == raters.c.cohort_id)
            members = members.where(cohorts.c.name == cohort)
        if names is not None:
            members = members.where(raters.c.name.in_([str(name) for name in names]))
        q = sa.select(
            judgments.c.rater_id,
            judgments.c.pair_id,
            judgments.c.choice,
            judgments.c.confidence,
            judgments.c.left,
            sa.type_coerce(judgments.c.answered_at, sa.String),  # SQLite: text, parsed below in one go
            judgments.c.seconds,
            judgments.c.id,
        ).where(judgments.c.bank_id == _bank_id_of(bank), judgments.c.rater_id.in_(members))
        if only_repeats:
            q = q.where(judgments.c.repeat.is_(True))
        elif not repeats:
            q = q.where(judgments.c.repeat.is_(False))
        if since is not None:
            q = q.where(judgments.c.answered_at >= since)
        if before is not None:
            q = q.where(sa.or_(judgments.c.answered_at < before, judgments.c.answered_at.is_(None)))
        with self.read() as conn, _collector_paused():
            rows = conn.execute(q).all()
            name_of: dict[int, str] = dict(conn.execute(members.add_columns(raters.c.name)).all())
            rater_id, pair_id, choice, confidence, left, answered, seconds, ids = (
                list(zip(*rows, strict=True)) if rows else [()] * 8
            )
            del rows  # gone before the collector runs again: it has nothing of them to walk
        frame = pd.DataFrame(
            {
                "rater": pd.Series([name_of[i] for i in rater_id], dtype=object),
                "pair_id": pd.Series(pair_id, dtype=object),
                "choice": pd.Series(choice, dtype=object),
                "confidence": pd.Series(confidence, dtype=float),
                "left": pd.Series(left, dtype=object),
                "answered_at": pd.to_datetime(
                    pd.Series(answered, dtype=object), utc=True, format="ISO8601"
                ).astype("datetime64[us, UTC]"),
                "seconds": pd.Series(seconds, dtype=float),
            }
        )
        when = frame["answered_at"].to_numpy(dtype="datetime64[us]")  # NaT sorts last
        order = np.lexsort((np.asarray(ids, dtype=np.int64), when))
        return frame.iloc[order].reset_index(drop=True)[JUDGMENT_CSV_COLUMNS]

    def simulated_raters(self, *, cohort: str | None = None) -> set[str]:
        """Names of the simulated raters (the ``raters.simulated`` column), of one cohort if given.

        Without ``cohort`` a name counts when it is simulated in every cohort
        that has it, as judgments exported from several cohorts are joined by name.
        """
        q = sa.select(raters.c.name).group_by(raters.c.name)
        if cohort is not None:
            q = q.join(cohorts, cohorts.c.id == raters.c.cohort_id).where(cohorts.c.name == cohort)
        q = q.having(sa.func.min(sa.case((raters.c.simulated, 1), else_=0)) == 1)
        with self.read() as conn:
            return set(conn.execute(q).scalars())


@contextmanager
def _outage_said_plainly() -> Iterator[None]:
    """Turn the driver's "cannot reach the database" errors into :class:`DatabaseUnavailable`."""
    try:
        yield
    except (OperationalError, sa.exc.InterfaceError) as exc:
        if is_outage(exc):
            detail = str(exc.orig).splitlines()[0] if exc.orig else str(exc)
            raise DatabaseUnavailable(f"cannot reach the database ({detail}); nothing was stored") from exc
        raise


@contextmanager
def _collector_paused() -> Iterator[None]:
    """Pause Python's cyclic garbage collector while rows become tuples.

    Reading 200,000 rows makes a million small tuples, none of them in a cycle,
    and the collector would walk them again and again as they pile up: a third
    of the read. It is paused for the read only (the whole process, for well
    under a second) and resumed as it was.
    """
    was_on = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_on:
            gc.enable()


def _bank_id_of(name: str):
    """The id of bank ``name``, as a scalar subquery."""
    return sa.select(banks.c.id).where(banks.c.name == name).scalar_subquery()


def _pair_row(rec: dict[str, Any]) -> dict[str, Any]:
    conf = rec.get("gold_confidence")
    return {
        "pair_id": str(rec["id"]),
        "prompt": rec["prompt"],
        "response_a": rec["response_a"],
        "response_b": rec["response_b"],
        "gold": rec["gold"],
        "rationale": rec.get("rationale") or "",
        "tags": json.dumps(list(rec.get("tags") or ())),
        "domain": rec.get("domain") or "",
        "source": rec.get("source") or "",
        "gold_confidence": None
        if conf is None or (isinstance(conf, float) and math.isnan(conf))
        else float(conf),
        **{field: _opt_text(rec.get(field)) for field in PROBE_COLUMNS},
    }


def _opt_text(value: Any) -> str:
    """An optional text of a bank row: ``""`` for None or NaN."""
    return value if isinstance(value, str) else ""


def _opt_float(value) -> float | None:
    if value is None or value == "":
        return None
    try:
        x = float(value)
    except (TypeError, ValueError):
        return None
    return None if math.isnan(x) else x


def _opt_side(value) -> str | None:
    return value.upper() if isinstance(value, str) and value.upper() in ("A", "B") else None


def _row_key(rec: dict[str, Any]) -> str:
    import hashlib

    text = json.dumps({k: str(v) for k, v in sorted(rec.items())}, ensure_ascii=False)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:24]


def _check_name(name: str, column: sa.Column, source: str, field: str) -> None:
    """Raise :class:`InputError` when ``name`` does not fit ``column`` (too long, NUL, not Unicode).

    SQLite would store it anyway; PostgreSQL refuses it in the middle of the transaction.
    """
    length = getattr(column.type, "length", None)
    problem: str | None
    if length is not None and len(name) > length:
        problem = f"longer than {length} characters"
    else:
        problem = text_problem(name)
    if problem:
        raise InputError([Problem(source, None, field, problem)])
