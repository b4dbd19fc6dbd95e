"""Connecting to the database: the URL in use, engines, and which errors are worth a retry.

The database is named by a SQLAlchemy URL: ``PAIRCAL_DB_URL`` when set, else
the SQLite file ``data/paircal.db`` under the project root, created on first
use in WAL mode with a busy timeout so several processes can write at once.
"""

from __future__ import annotations

import logging
import os
import random
import sqlite3
import time
from pathlib import Path

import sqlalchemy as sa
from sqlalchemy import event
from sqlalchemy.engine import Engine
from sqlalchemy.exc import OperationalError

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_DB_PATH = ROOT / "data" / "paircal.db"
"""The SQLite file used when neither an argument nor ``PAIRCAL_DB_URL`` names a database."""


def database_url(url: str | None = None) -> str:
    """The URL in use: the argument, else ``PAIRCAL_DB_URL``, else the SQLite default."""
    if url:
        return url
    env = os.environ.get("PAIRCAL_DB_URL", "").strip()
    if env:
        return env
    return f"sqlite:///{DEFAULT_DB_PATH}"


class _NoRowLogging(logging.Filter):
    """Drop SQLAlchemy's DEBUG log of result rows: rows hold password and token hashes."""

    def filter(self, record: logging.LogRecord) -> bool:
        return not (isinstance(record.msg, str) and record.msg.startswith("Row "))


logging.getLogger("sqlalchemy.engine.Engine").addFilter(_NoRowLogging())


def make_engine(url: str | None = None) -> Engine:
    """Create an engine; for SQLite, WAL mode, a busy timeout and explicit ``BEGIN IMMEDIATE`` writes.

    Statement parameters are never logged or put into error messages
    (``hide_parameters``), nor are result rows: they include password hashes
    and session tokens.
    """
    url = database_url(url)
    sa_url = sa.engine.make_url(url)
    if sa_url.get_backend_name() != "sqlite":
        # A burst of answers larger than the pool (5 + 10 overflow) waits for a free
        # connection, as SQLite's writers wait for the lock (60 s), rather than failing
        # after the default 30 s on a busy machine.
        return sa.create_engine(url, pool_pre_ping=True, pool_timeout=120, hide_parameters=True)
    if sa_url.database and sa_url.database != ":memory:":
        Path(sa_url.database).parent.mkdir(parents=True, exist_ok=True)
    engine = sa.create_engine(
        url, connect_args={"timeout": 60, "check_same_thread": False}, hide_parameters=True
    )

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection, _record):  # pragma: no cover - exercised by every test
        # Let SQLAlchemy, not the sqlite3 module, decide when transactions begin.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA busy_timeout=60000")
        use_wal(cursor)
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn):  # pragma: no cover - exercised by every test
        # A write transaction takes the write lock up front, so two writers never
        # deadlock upgrading a read lock; reads begin deferred and never block.
        conn.exec_driver_sql("BEGIN IMMEDIATE" if conn.info.get("write") else "BEGIN")

    return engine


def use_wal(cursor, *, patience: float = 60.0) -> None:
    """Put an SQLite database in WAL mode, waiting out other connections doing the same.

    Switching to WAL needs an exclusive lock, and SQLite may answer "database
    is locked" at once, without waiting the busy timeout, when another
    connection is switching or writing at that moment (it refuses to wait where
    waiting could deadlock): servers starting together on a new file hit this.
    So the switch is retried after a short random pause, for up to ``patience``
    seconds. A database already in WAL mode (the mode is kept in the file) is
    left alone; an in-memory one stays in memory mode.
    """
    deadline = time.monotonic() + patience
    pause = 0.01
    while True:
        try:
            if str(cursor.execute("PRAGMA journal_mode").fetchone()[0]).lower() != "wal":
                cursor.execute("PRAGMA journal_mode=WAL")
            return
        except sqlite3.OperationalError as error:
            if "locked" not in str(error).lower() or time.monotonic() > deadline:
                raise
        time.sleep(pause * (0.5 + random.random()))
        pause = min(pause * 2, 0.5)


_CONTENTION_SQLSTATES = {"40001", "40P01"}  # PostgreSQL serialization failure, deadlock detected


class DatabaseUnavailable(ConnectionError):
    """The database cannot be reached (down, restarting, its file unreadable): nothing was stored.

    A :class:`ConnectionError` (so an ``OSError``): the command lines report it
    as they report an unreadable file, and exit 2.

    :class:`storage.store.Store` raises it in place of the driver's error, so
    the app can say plainly that the last action was not saved and to retry;
    the engine's pool checks connections before use, so the next action after
    the database is back works without a restart.
    """


_OUTAGE_SQLSTATES = {"57P01", "57P02", "57P03"}  # admin shutdown, crash shutdown, cannot connect now
_OUTAGE_WORDS = (
    "could not connect",
    "connection refused",
    "connection failed",
    "server closed the connection",
    "terminating connection",
    "the database system is",
    "unable to open database file",
    "disk i/o error",
    "no route to host",
    "timeout expired",
)


def is_outage(error: Exception) -> bool:
    """True when ``error`` says the database could not be reached, rather than refusing a statement."""
    if getattr(error, "connection_invalidated", False):
        return True
    orig = getattr(error, "orig", error)
    state = str(getattr(orig, "sqlstate", "") or "")
    if state.startswith("08") or state in _OUTAGE_SQLSTATES:
        return True
    text = str(orig).lower()
    return any(word in text for word in _OUTAGE_WORDS)


def is_contention(error: OperationalError) -> bool:
    """True when a transaction failed only because of concurrent writers, so running it again may work."""
    if getattr(error.orig, "sqlstate", None) in _CONTENTION_SQLSTATES:
        return True
    return "locked" in str(error.orig).lower()  # SQLite: "database is locked", "database table is locked"
