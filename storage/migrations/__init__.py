"""Schema migrations: Alembic revisions that bring any PairCal database to the current schema.

Each change to ``storage/schema.py`` comes with a revision in ``versions/``
(``0001_baseline.py`` is the schema as commit 89237ea created it, before there
were migrations). :class:`storage.Store` runs :func:`upgrade` when it opens a
database whose revision is not :func:`head`, under the store's schema lock, so
servers starting together upgrade it once. Alembic is configured here, in code:
no ``alembic.ini`` is needed. ``python -m storage.migrations`` shows the
revisions and writes a new one.

On SQLite, revisions run in batch mode (a table is rebuilt for an ALTER that
SQLite lacks) with foreign-key enforcement off, so rebuilding a table never
cascades a delete into the tables that refer to it; the keys are checked
before the upgrade commits.
"""

from __future__ import annotations

import ast
import functools
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING

import sqlalchemy as sa
from sqlalchemy.engine import Connection
from sqlalchemy.exc import OperationalError, ProgrammingError

if TYPE_CHECKING:  # Alembic (0.2 s to import) is loaded only when a database needs upgrading
    from alembic.config import Config

MIGRATIONS_DIR = Path(__file__).resolve().parent
"""Alembic's script location: ``env.py`` and the revision template."""

VERSIONS_DIR = MIGRATIONS_DIR / "versions"
"""The revisions. :func:`upgrade` and :func:`head` read this module attribute at call time."""

BASELINE = "0001"
"""The revision of the schema made before migrations existed (commit 89237ea)."""

BASELINE_TABLES = frozenset(
    {"banks", "settings", "pairs", "cohorts", "raters", "drill_items", "judgments", "sessions"}
)
"""The tables of the baseline: a database with all of them and no revision was made by 89237ea."""

VERSION_TABLE = "alembic_version"
"""Where a database records its revision (Alembic's default name)."""

__all__ = [
    "BASELINE",
    "BASELINE_TABLES",
    "MIGRATIONS_DIR",
    "VERSIONS_DIR",
    "VERSION_TABLE",
    "SchemaError",
    "config",
    "current_revision",
    "head",
    "sqlite_foreign_keys_off",
    "upgrade",
]

# Alembic's ``context`` and ``op`` are module-level proxies: one command at a time per process.
_ALEMBIC = threading.Lock()


class SchemaError(RuntimeError):
    """The database cannot be brought to this code's schema (too new, or not PairCal's)."""


def config(connection: Connection | None = None, *, versions: Path | None = None) -> Config:
    """An Alembic configuration for PairCal's revisions, built in code (no ``alembic.ini``).

    Parameters
    ----------
    connection : Connection, optional
        The connection ``env.py`` runs the revisions on, inside its transaction.
    versions : Path, optional
        The directory of revisions; default :data:`VERSIONS_DIR`.

    Returns
    -------
    alembic.config.Config
    """
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", _escaped(MIGRATIONS_DIR))
    cfg.set_main_option("version_locations", _escaped(versions or VERSIONS_DIR))
    cfg.set_main_option("path_separator", "os")
    cfg.attributes["connection"] = connection
    cfg.attributes["applied"] = []
    return cfg


def _escaped(path: Path) -> str:
    return str(path).replace("%", "%%")  # the options are read through ConfigParser interpolation


def head(versions: Path | None = None) -> str:
    """The newest revision in ``versions`` (default :data:`VERSIONS_DIR`): the schema this code expects.

    Read once per directory and modification time, so a revision added to a
    running process's directory is seen by the next call.

    Raises
    ------
    SchemaError
        If the revisions do not form one line (two heads).
    """
    versions = versions or VERSIONS_DIR
    return _head(str(versions), versions.stat().st_mtime_ns)


@functools.lru_cache(maxsize=8)
def _head(versions: str, _mtime: int) -> str:
    heads = _literal_heads(Path(versions))
    if heads is None:
        from alembic.script import ScriptDirectory

        heads = ScriptDirectory.from_config(config(versions=Path(versions))).get_heads()
    if len(heads) != 1:
        raise SchemaError(f"the revisions in {versions} must form one line; they end in {sorted(heads)}.")
    return heads[0]


def _literal_heads(versions: Path) -> list[str] | None:
    """The heads of the revisions in ``versions``, read without importing Alembic or the revisions.

    Each revision file (the ``*.py`` files Alembic reads: not ``__init__.py``)
    is parsed, not run, for its module-level ``revision`` and
    ``down_revision`` literals; a head is a revision no other one revises.
    None when a file does not spell them as literals: Alembic then reads them.
    """
    revisions: set[str] = set()
    revised: set[str] = set()
    for path in sorted(versions.glob("*.py")):
        if path.name.startswith((".#", "__init__")):
            continue
        found = _module_literals(path, ("revision", "down_revision"))
        revision = None if found is None else found.get("revision")
        if found is None or not isinstance(revision, str):
            return None
        down = found.get("down_revision")
        downs = list(down) if isinstance(down, (tuple, list)) else [down]
        if not all(d is None or isinstance(d, str) for d in downs):
            return None
        revisions.add(revision)
        revised.update(str(d) for d in downs if d is not None)
    return sorted(revisions - revised)


def _module_literals(path: Path, names: tuple[str, ...]) -> dict[str, object] | None:
    """The literal values assigned to ``names`` at a module's top level; None if one is not a literal."""
    try:
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    except (OSError, SyntaxError, UnicodeDecodeError):
        return None
    found: dict[str, object] = {}
    for node in tree.body:
        if isinstance(node, ast.Assign) and len(node.targets) == 1:
            target, value = node.targets[0], node.value
        elif isinstance(node, ast.AnnAssign) and node.value is not None:
            target, value = node.target, node.value
        else:
            continue
        if isinstance(target, ast.Name) and target.id in names:
            try:
                found[target.id] = ast.literal_eval(value)
            except ValueError:
                return None
    return found


def current_revision(conn: Connection) -> str | None:
    """The database's revision in one query, or None when it has no version table (yet).

    Run it in a transaction of its own: on PostgreSQL a missing table aborts the transaction.
    """
    query: sa.Select = sa.select(sa.column("version_num")).select_from(sa.table(VERSION_TABLE))
    try:
        found = conn.execute(query).scalars().all()
    except (OperationalError, ProgrammingError):
        return None
    return found[0] if len(found) == 1 else None


def upgrade(conn: Connection, *, versions: Path | None = None) -> list[str]:
    """Bring the database on ``conn`` to :func:`head` inside the caller's transaction.

    The caller holds the schema lock (PostgreSQL advisory lock, SQLite
    ``BEGIN IMMEDIATE``) so the state read here cannot change under it.

    * An empty database gets every revision from the first.
    * A database with the baseline tables and no revision (made by 89237ea) is
      stamped at :data:`BASELINE`, then upgraded; its rows stay as they are.
    * A database at an older revision gets the newer ones.

    Parameters
    ----------
    conn : Connection
        In a write transaction; on SQLite with foreign keys off (:func:`sqlite_foreign_keys_off`).
    versions : Path, optional
        The directory of revisions; default :data:`VERSIONS_DIR`.

    Returns
    -------
    list of str
        The revisions applied, oldest first (empty when already at head or only stamped).

    Raises
    ------
    SchemaError
        If the database is at a revision these revisions do not know (a newer
        PairCal upgraded it), holds some but not all of the baseline tables, or
        an SQLite upgrade left a foreign key pointing nowhere.
    """
    with _ALEMBIC:
        applied = _upgrade(conn, config(conn, versions=versions))
    if applied and conn.dialect.name == "sqlite":
        broken = conn.exec_driver_sql("PRAGMA foreign_key_check").fetchall()
        if broken:
            tables = ", ".join(sorted({str(row[0]) for row in broken}))
            raise SchemaError(f"upgrading to {applied[-1]} left rows of {tables} with a missing parent.")
    return applied


def _upgrade(conn: Connection, cfg: Config) -> list[str]:
    from alembic import command
    from alembic.runtime.migration import MigrationContext
    from alembic.script import ScriptDirectory
    from alembic.util.exc import CommandError

    revision = MigrationContext.configure(conn).get_current_revision()
    if revision is None:
        present = BASELINE_TABLES & set(sa.inspect(conn).get_table_names())
        if present == BASELINE_TABLES:
            command.stamp(cfg, BASELINE)
        elif present:
            missing = ", ".join(sorted(BASELINE_TABLES - present))
            raise SchemaError(f"the database has some of PairCal's tables but lacks {missing}; left as is.")
    else:
        try:
            ScriptDirectory.from_config(cfg).get_revision(revision)
        except CommandError:
            raise SchemaError(
                f"the database is at schema revision {revision!r}, which this version of PairCal does "
                "not know: a newer version has upgraded it. Run that version."
            ) from None
    command.upgrade(cfg, "head")
    return list(cfg.attributes["applied"])


@contextmanager
def sqlite_foreign_keys_off(conn: Connection) -> Iterator[Connection]:
    """Switch SQLite foreign-key enforcement off on ``conn`` while the block runs, then back on.

    SQLite ignores the switch inside a transaction, so enter this before
    ``conn.begin()``. A batch-mode revision rebuilds a table by copying it and
    dropping the old one; with enforcement on, the drop would delete the rows
    of every table referring to it (``ON DELETE CASCADE``). A connection whose
    enforcement cannot be switched back on is discarded, not returned to the pool.
    """
    driver = conn.connection.driver_connection
    assert driver is not None, "a checked-out connection has its driver connection"
    if conn.in_transaction():
        raise RuntimeError("switch foreign keys off before the transaction begins.")
    driver.execute("PRAGMA foreign_keys=OFF")
    if driver.execute("PRAGMA foreign_keys").fetchone()[0] != 0:
        raise RuntimeError("SQLite did not switch foreign keys off.")
    try:
        yield conn
    finally:
        try:
            driver.execute("PRAGMA foreign_keys=ON")
        except Exception:
            conn.invalidate()
            raise
