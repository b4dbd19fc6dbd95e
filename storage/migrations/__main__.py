"""``python -m storage.migrations``: see the schema revisions, or write a new one.

``current`` prints the revision of the database in use (``PAIRCAL_DB_URL`` or
``data/paircal.db``) and the newest one; ``history`` lists the revisions;
``revision -m MESSAGE`` writes the next numbered revision in ``versions/``, and
with ``--autogenerate`` fills it with what ``storage/schema.py`` has that the
revisions do not (compared on a scratch SQLite database; read and edit it
before committing). None of these upgrades a database: the store does that when it opens one.
"""

from __future__ import annotations

import argparse
import re
import sys
import tempfile
from pathlib import Path

from alembic import command
from alembic.script import ScriptDirectory

from storage import migrations
from storage.engine import database_url, make_engine


def next_revision_id(versions: Path | None = None) -> str:
    """The next four-digit revision id: one more than the highest numbered revision."""
    script = ScriptDirectory.from_config(migrations.config(versions=versions))
    numbers = [int(r.revision) for r in script.walk_revisions() if re.fullmatch(r"\d+", r.revision)]
    return f"{max(numbers, default=0) + 1:04d}"


def write_revision(message: str, *, autogenerate: bool = False) -> Path:
    """Write the next revision file in :data:`storage.migrations.VERSIONS_DIR`; return its path."""
    rev_id = next_revision_id()
    if not autogenerate:
        return _path_of(command.revision(migrations.config(), message=message, rev_id=rev_id))
    with tempfile.TemporaryDirectory() as scratch:
        engine = make_engine(f"sqlite:///{Path(scratch) / 'head.db'}")
        with engine.begin() as conn:
            migrations.upgrade(conn)
            script = command.revision(
                migrations.config(conn), message=message, rev_id=rev_id, autogenerate=True
            )
        engine.dispose()
    return _path_of(script)


def _path_of(script: object) -> Path:
    """The file Alembic wrote for a new revision."""
    path = getattr(script, "path", None)
    if not isinstance(path, str):
        raise RuntimeError("Alembic did not write a revision file.")
    return Path(path)


def main(argv: list[str] | None = None) -> int:
    """Run the command line; returns the exit status."""
    parser = argparse.ArgumentParser(prog="python -m storage.migrations", description=__doc__.splitlines()[0])
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("current", help="the database's revision and the newest one")
    commands.add_parser("history", help="list the revisions, newest first")
    new = commands.add_parser("revision", help="write the next revision file")
    new.add_argument("-m", "--message", required=True, help="what the revision changes")
    new.add_argument("--autogenerate", action="store_true", help="fill it from storage/schema.py")
    args = parser.parse_args(argv)

    if args.command == "current":
        engine = make_engine(database_url())
        with engine.connect() as conn:
            found = migrations.current_revision(conn)
        engine.dispose()
        print(f"database: {found or 'no revision'}\nnewest:   {migrations.head()}")
    elif args.command == "history":
        for script in ScriptDirectory.from_config(migrations.config()).walk_revisions():
            print(f"{script.revision}  {script.doc}")
    else:
        print(f"wrote {write_revision(args.message, autogenerate=args.autogenerate)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
