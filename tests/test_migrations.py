"""Schema migrations: a database made before migrations upgrades in place, on SQLite and PostgreSQL.

The fixture ``fixtures/db/paircal-89237ea.db`` was written by the code of
commit 89237ea (``fixtures/db/make_v1_db.py``, see the README there); its
PostgreSQL schema, as that code created it, is ``postgresql-89237ea-schema.json``.
"""

from __future__ import annotations

import functools
import hashlib
import importlib.util
import json
import shutil
import threading
from datetime import UTC, date, datetime
from pathlib import Path

import pytest
import sqlalchemy as sa
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import event

from storage import migrations
from storage.engine import make_engine
from storage.schema import judgments, metadata, raters, sessions
from storage.store import Store
from training import accounts, drills

FIXTURE_DIR = Path(__file__).resolve().parent / "fixtures" / "db"
OLD_DB = FIXTURE_DIR / "paircal-89237ea.db"
FACTS = json.loads((FIXTURE_DIR / "paircal-89237ea.json").read_text())
OLD_POSTGRESQL_CATALOG = json.loads((FIXTURE_DIR / "postgresql-89237ea-schema.json").read_text())

_spec = importlib.util.spec_from_file_location("make_v1_db", FIXTURE_DIR / "make_v1_db.py")
make_v1_db = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(make_v1_db)

# In creation order, parents first (the baseline revision's order).
TABLES = ["banks", "settings", "pairs", "cohorts", "raters", "drill_items", "judgments", "sessions"]
COUNTS = {
    "banks": 1,
    "settings": 1,
    "pairs": 96,
    "cohorts": 1,
    "raters": 4,
    "drill_items": 10,
    "judgments": 6,
    "sessions": 1,
}
LEAD_ID, BEA_ID, CAL_ID = 1, 2, 3
DAY = date(2026, 3, 2)


def _at(hour: int, minute: int, second: int, day: int = 2) -> datetime:
    return datetime(2026, 3, day, hour, minute, second, tzinfo=UTC)


DAILY = "daily:2026-03-02"
IMPORTED = "import:2026-03-01T08:0{}:00+00:00"
# (rater, pair, drill, left, choice, confidence, shown_at, answered_at, seconds), as 89237ea stored them
JUDGMENTS = [
    ("Bea Rater", "starter-coding-014", DAILY, "B", "A", 0.5, _at(9, 0, 35), _at(9, 0, 42), 7.0),
    ("Bea Rater", "starter-summarization-001", DAILY, "A", "B", 0.75, _at(9, 0, 49), _at(9, 0, 56), 7.0),
    ("Bea Rater", "starter-factual-003", DAILY, "A", "A", 1.0, _at(9, 1, 3), _at(9, 1, 10), 7.0),
    ("Cal Rater", "starter-writing-011", DAILY, "A", "B", 0.9, _at(9, 1, 17), _at(9, 1, 24), 7.0),
    ("sim-01", "starter-coding-001", IMPORTED.format(0), "A", "A", 0.6, None, _at(8, 0, 0, 1), 12.5),
    ("sim-01", "starter-coding-002", IMPORTED.format(1), "B", "B", 0.8, None, _at(8, 1, 0, 1), 7.0),
]
TOKEN_HASH = "3804557ac6b6b4a821a13f4db0a39fb56ef752a095572fbed29fdf316b62c9ac"


# -- helpers -----------------------------------------------------------------------


def _old_sqlite(tmp_path) -> str:
    """A private copy of the 89237ea database file (a test must never change the fixture)."""
    target = tmp_path / "old.db"
    shutil.copyfile(OLD_DB, target)
    return f"sqlite:///{target}"


def _utc(value):
    if isinstance(value, datetime):
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)
    return value


def _dump(url: str) -> dict[str, list[tuple]]:
    """Every row of the baseline tables, read by reflection (no PairCal code), times as aware UTC.

    Only the baseline's columns are read: later revisions add columns, and
    what must survive is what the old database held.
    """
    engine = sa.create_engine(url)
    try:
        reflected = sa.MetaData()
        reflected.reflect(engine, only=TABLES)
        with engine.connect() as conn:
            return {
                name: sorted(
                    (
                        tuple(_utc(v) for v in row)
                        for row in conn.execute(
                            sa.select(*(reflected.tables[name].c[c] for c in _baseline_columns()[name]))
                        )
                    ),
                    key=repr,
                )
                for name in TABLES
            }
    finally:
        engine.dispose()


@functools.cache
def _baseline_columns() -> dict[str, list[str]]:
    """The columns of each baseline table, as the fixture database (written by 89237ea) has them."""
    engine = sa.create_engine(f"sqlite:///{OLD_DB}")
    try:
        reflected = sa.MetaData()
        reflected.reflect(engine, only=TABLES)
        return {name: [c.name for c in reflected.tables[name].columns] for name in TABLES}
    finally:
        engine.dispose()


def _revision(url: str) -> str | None:
    engine = sa.create_engine(url)
    try:
        with engine.connect() as conn:
            return migrations.current_revision(conn)
    finally:
        engine.dispose()


def _old_postgresql(url: str, tmp_path) -> None:
    """Make ``url`` a database like one 89237ea made: its schema, the fixture's rows, no revision."""
    source = sa.create_engine(_old_sqlite(tmp_path))
    rows = {}
    reflected = sa.MetaData()
    reflected.reflect(source, only=TABLES)
    with source.connect() as conn:
        for name in TABLES:
            rows[name] = [
                {k: _utc(v) for k, v in row.items()}
                for row in conn.execute(sa.select(reflected.tables[name])).mappings()
            ]
    source.dispose()
    engine = sa.create_engine(url)
    with engine.begin() as conn:
        command.upgrade(migrations.config(conn), migrations.BASELINE)
        target = sa.MetaData()
        target.reflect(conn, only=TABLES)
        for name in TABLES:
            conn.execute(sa.insert(target.tables[name]), rows[name])
        for name in ("banks", "cohorts", "raters", "judgments"):  # as if the rows came through the sequences
            sequence = f"pg_get_serial_sequence('{name}', 'id')"
            conn.execute(sa.text(f"SELECT setval({sequence}, max(id)) FROM {name}"))
        conn.execute(sa.text(f"DROP TABLE {migrations.VERSION_TABLE}"))
    engine.dispose()


def _check_rows(store: Store) -> None:
    """Exact values of the old rows, read through today's store and column types."""
    with store.read() as conn:
        people = conn.execute(
            sa.select(raters.c.name, raters.c.role, raters.c.simulated, raters.c.failed_logins).order_by(
                raters.c.id
            )
        ).all()
        answers = conn.execute(
            sa.select(
                raters.c.name,
                judgments.c.pair_id,
                judgments.c.drill,
                judgments.c.left,
                judgments.c.choice,
                judgments.c.confidence,
                judgments.c.shown_at,
                judgments.c.answered_at,
                judgments.c.seconds,
            )
            .join(raters, raters.c.id == judgments.c.rater_id)
            .order_by(judgments.c.id)
        ).all()
        session = conn.execute(sa.select(sessions)).one()
        locked_until = conn.execute(sa.select(raters.c.locked_until).where(raters.c.id == CAL_ID)).scalar()
    assert [tuple(p) for p in people] == [
        ("Ada Lead", "lead", False, 0),
        ("Bea Rater", "rater", False, 0),
        ("Cal Rater", "rater", False, 5),
        ("sim-01", "rater", True, 0),
    ]
    assert [tuple(a) for a in answers] == JUDGMENTS
    assert session.token_hash == TOKEN_HASH == hashlib.sha256(FACTS["session_token"].encode()).hexdigest()
    assert (session.rater_id, session.created_at, session.expires_at) == (
        LEAD_ID,
        _at(9, 2, 13),
        datetime(2026, 4, 1, 9, 2, 13, tzinfo=UTC),
    )
    assert locked_until == _at(9, 2, 36)
    assert store.get_setting("theme") == "dark"


def _check_app_works(store: Store) -> None:
    """The app's logic on the upgraded data: sign-in, the old session, the old drill, new rows."""
    lead = FACTS["lead"]
    signed_in = accounts.login(store, FACTS["cohort"], lead["name"], lead["password"])
    assert (signed_in.id, signed_in.role) == (LEAD_ID, "lead")
    found = accounts.resolve_session(store, FACTS["session_token"], now=datetime(2026, 3, 3, tzinfo=UTC))
    assert found is not None and found.id == LEAD_ID
    cal = FACTS["raters"][1]
    with pytest.raises(accounts.AccountError):  # still locked out at 09:02:30
        accounts.login(store, FACTS["cohort"], cal["name"], cal["password"], now=_at(9, 2, 30))

    drill = drills.get_or_create_drill(store, BEA_ID, "starter", DAY, size=5)
    assert [item.pair_id for item in drill.items[:3]] == [j[1] for j in JUDGMENTS[:3]]
    assert [item.answered for item in drill.items] == [True, True, True, False, False]
    assert drills.submit(store, BEA_ID, drill.key, 3, "B", 0.8) is not None
    assert drills.submit(store, BEA_ID, drill.key, 3, "A", 0.8) is None  # one answer per item, still
    dee = accounts.join_cohort(store, FACTS["invite_code"], "Dee Rater", "rater password 4")
    assert dee.id == 5
    with store.read() as conn:
        assert conn.execute(sa.select(sa.func.count()).select_from(judgments)).scalar() == 7


# -- (1), (2): a database of 89237ea upgrades in place ------------------------------


def test_fixture_is_a_small_v1_database():
    assert OLD_DB.stat().st_size < 400_000
    assert _revision(f"sqlite:///{OLD_DB}") is None
    assert {name: len(rows) for name, rows in _dump(f"sqlite:///{OLD_DB}").items()} == COUNTS


def test_sqlite_database_of_89237ea_upgrades_with_every_row(tmp_path):
    url = _old_sqlite(tmp_path)
    before = _dump(url)
    assert {name: len(rows) for name, rows in before.items()} == COUNTS

    store = Store(url)

    assert _revision(url) == migrations.head()
    assert _dump(url) == before
    _check_rows(store)
    _check_app_works(store)
    assert Store(url).get_setting("theme") == "dark"  # opening it again changes nothing
    assert _revision(url) == migrations.head()


@pytest.mark.postgres
def test_postgresql_database_of_89237ea_upgrades_with_every_row(new_db, tmp_path):
    url = new_db("postgresql")
    _old_postgresql(url, tmp_path)
    engine = sa.create_engine(url)
    with engine.connect() as conn:
        assert make_v1_db.postgresql_catalog(conn) == OLD_POSTGRESQL_CATALOG
    engine.dispose()
    before = _dump(url)
    assert before == _dump(_old_sqlite(tmp_path))  # the same rows as the SQLite fixture
    assert _revision(url) is None

    store = Store(url)

    assert _revision(url) == migrations.head()
    assert _dump(url) == before
    _check_rows(store)
    _check_app_works(store)


def _servers_start_together(url: str, n: int = 8) -> list[BaseException]:
    start = threading.Barrier(n)
    errors: list[BaseException] = []

    def server() -> None:
        try:
            start.wait(timeout=60)
            store = Store(url)
            store.engine.dispose()
        except BaseException as exc:  # collected: the assertion is that there are none
            errors.append(exc)

    threads = [threading.Thread(target=server) for _ in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    return errors


@pytest.mark.parametrize("kind", ["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def test_servers_starting_together_on_an_old_database_upgrade_it_once(kind, new_db, tmp_path):
    if kind == "sqlite":
        url = _old_sqlite(tmp_path)
    else:
        url = new_db("postgresql")
        _old_postgresql(url, tmp_path)
    before = _dump(url)

    assert _servers_start_together(url) == []

    engine = sa.create_engine(url)
    with engine.connect() as conn:
        versions = conn.execute(sa.text(f"SELECT version_num FROM {migrations.VERSION_TABLE}")).all()
    engine.dispose()
    assert [v[0] for v in versions] == [migrations.head()]
    assert _dump(url) == before


# -- (3): a new database gets exactly the schema ------------------------------------


def test_new_database_upgrades_to_head_and_matches_the_schema_module(db_url):
    store = Store(db_url)
    with store.engine.connect() as conn:
        assert migrations.current_revision(conn) == migrations.head()
        context = MigrationContext.configure(conn, opts={"compare_type": True})
        assert compare_metadata(context, metadata) == []


def test_schema_module_differences_would_be_seen(new_db):
    # The check above can fail: a table the revisions lack, and a column they have that it lacks.
    store = Store(new_db("sqlite"))
    changed = sa.MetaData()
    for table in metadata.sorted_tables:
        table.to_metadata(changed)
    sa.Table("notes", changed, sa.Column("id", sa.Integer, primary_key=True))
    sa.Table("judgments", changed, sa.Column("reviewed", sa.Boolean), extend_existing=True)
    with store.engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn), changed)
    kinds = {(d[0], getattr(d[-1], "name", None)) for d in diff if isinstance(d, tuple)}
    assert kinds == {("add_table", "notes"), ("add_column", "reviewed")}


def _sqlite_schema(path) -> dict[str, tuple]:
    import sqlite3

    with sqlite3.connect(path) as conn:
        rows = conn.execute("SELECT type, name, tbl_name, sql FROM sqlite_master").fetchall()
    return {row[1]: row for row in rows if "alembic_version" not in row[1]}


def test_baseline_revision_creates_the_sqlite_schema_of_89237ea(tmp_path):
    path = tmp_path / "baseline.db"
    engine = make_engine(f"sqlite:///{path}")
    with engine.begin() as conn:
        command.upgrade(migrations.config(conn), migrations.BASELINE)
    engine.dispose()
    assert _sqlite_schema(path) == _sqlite_schema(OLD_DB)


@pytest.mark.postgres
def test_baseline_revision_creates_the_postgresql_schema_of_89237ea(new_db):
    engine = sa.create_engine(new_db("postgresql"))
    with engine.begin() as conn:
        command.upgrade(migrations.config(conn), migrations.BASELINE)
        assert make_v1_db.postgresql_catalog(conn) == OLD_POSTGRESQL_CATALOG
    engine.dispose()


# -- the fast path and refusals -----------------------------------------------------


def test_opening_a_database_at_head_costs_one_query(new_db):
    url = new_db("sqlite")
    Store(url)
    engine = make_engine(url)
    statements: list[str] = []

    @event.listens_for(engine, "before_cursor_execute")
    def _count(conn, cursor, statement, *args):
        if not statement.lstrip().upper().startswith(("BEGIN", "COMMIT", "ROLLBACK", "PRAGMA")):
            statements.append(statement)

    Store(url, engine=engine)
    engine.dispose()
    assert len(statements) == 1 and migrations.VERSION_TABLE in statements[0]


def test_a_database_from_a_newer_version_is_refused_untouched(tmp_path):
    url = _old_sqlite(tmp_path)
    Store(url).engine.dispose()
    engine = sa.create_engine(url)
    with engine.begin() as conn:
        conn.execute(sa.text(f"UPDATE {migrations.VERSION_TABLE} SET version_num = 'f00d'"))
    engine.dispose()
    before = _dump(url)
    with pytest.raises(migrations.SchemaError, match="'f00d'.*newer version"):
        Store(url)
    assert _dump(url) == before
    assert _revision(url) == "f00d"


def test_a_database_with_only_some_of_the_tables_is_refused(tmp_path):
    url = _old_sqlite(tmp_path)
    engine = sa.create_engine(url)
    with engine.begin() as conn:
        conn.execute(sa.text("DROP TABLE sessions"))
    engine.dispose()
    with pytest.raises(migrations.SchemaError, match="lacks sessions"):
        Store(url)
    assert _revision(url) is None


# -- (4): a revision added later runs on the next start -----------------------------

NEW_REVISION = '''"""A test revision: a new table, and a rebuilt referenced table."""

import sqlalchemy as sa
from alembic import op

revision = "9001"
down_revision = {down!r}


def upgrade():
    op.create_table(
        "notes",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("rater_id", sa.Integer, sa.ForeignKey("raters.id", ondelete="CASCADE"), nullable=False),
        sa.Column("text", sa.Text, nullable=False),
    )
    # On SQLite this rebuilds raters (copy, drop, rename): judgments and sessions refer to it.
    with op.batch_alter_table("raters") as batch:
        batch.alter_column("name", existing_type=sa.String(200), type_=sa.String(300), nullable=False)
    {fail}


def downgrade():
    op.drop_table("notes")
'''


@pytest.fixture
def versions(tmp_path, monkeypatch):
    """A copy of the revisions directory that a test may add to, used by every Store it opens."""
    copy = tmp_path / "versions"
    shutil.copytree(migrations.VERSIONS_DIR, copy, ignore=shutil.ignore_patterns("__pycache__"))
    monkeypatch.setattr(migrations, "VERSIONS_DIR", copy)
    return copy


@pytest.mark.parametrize("kind", ["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def test_a_new_revision_is_applied_on_next_start_and_loses_nothing(kind, versions, new_db, tmp_path):
    if kind == "sqlite":
        url = _old_sqlite(tmp_path)
    else:
        url = new_db("postgresql")
        _old_postgresql(url, tmp_path)
    previous = migrations.head()
    Store(url).engine.dispose()
    assert _revision(url) == previous
    before = _dump(url)

    (versions / "9001_notes.py").write_text(NEW_REVISION.format(down=previous, fail=""))
    store = Store(url)

    assert _revision(url) == migrations.head() == "9001"
    assert _dump(url) == before  # judgments and sessions survived the rebuild of raters
    with store.engine.connect() as conn:
        columns = {c["name"]: c for c in sa.inspect(conn).get_columns("raters")}
        assert columns["name"]["type"].length == 300
        assert "notes" in sa.inspect(conn).get_table_names()
    _check_app_works(store)
    if kind == "sqlite":  # foreign keys are enforced again on the pooled connections
        with store.engine.connect() as conn:
            assert conn.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1


@pytest.mark.parametrize("kind", ["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def test_a_failing_revision_changes_nothing(kind, versions, new_db, tmp_path):
    if kind == "sqlite":
        url = _old_sqlite(tmp_path)
    else:
        url = new_db("postgresql")
        _old_postgresql(url, tmp_path)
    previous = migrations.head()
    before = _dump(url)
    broken = NEW_REVISION.format(down=previous, fail='raise RuntimeError("revision 9001 failed")')
    (versions / "9001_notes.py").write_text(broken)

    with pytest.raises(RuntimeError, match="revision 9001 failed"):
        Store(url)

    assert _revision(url) is None  # not even stamped: the whole upgrade is one transaction
    assert _dump(url) == before
    engine = sa.create_engine(url)
    with engine.connect() as conn:
        assert "notes" not in sa.inspect(conn).get_table_names()
    engine.dispose()


def test_an_sqlite_revision_that_orphans_rows_is_refused(versions, tmp_path):
    # Foreign keys are off during an SQLite upgrade (no cascades), so they are checked before commit.
    url = _old_sqlite(tmp_path)
    Store(url).engine.dispose()
    before = _dump(url)
    (versions / "9001_orphans.py").write_text(
        f"from alembic import op\n\nrevision = '9001'\ndown_revision = {migrations.head()!r}\n\n\n"
        "def upgrade():\n    op.execute('DELETE FROM raters WHERE id = 2')\n"
    )
    with pytest.raises(migrations.SchemaError, match="9001 left rows of drill_items, judgments"):
        Store(url)
    assert _dump(url) == before


def test_an_autogenerated_revision_holds_the_new_table_and_runs_on_next_start(versions, tmp_path):
    from storage.migrations.__main__ import write_revision

    url = _old_sqlite(tmp_path)
    previous = migrations.head()
    Store(url).engine.dispose()
    before = _dump(url)
    notes = sa.Table(
        "notes",
        metadata,
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("rater_id", sa.Integer, sa.ForeignKey("raters.id", ondelete="CASCADE"), nullable=False),
    )
    try:
        path = write_revision("add notes", autogenerate=True)
    finally:
        metadata.remove(notes)

    assert path.parent == versions and path.name == f"{int(previous) + 1:04d}_add_notes.py"
    source = path.read_text()
    assert f'down_revision = "{previous}"' in source and "op.create_table('notes'" in source
    Store(url).engine.dispose()
    assert _revision(url) == path.name[:4]
    assert _dump(url) == before
    engine = sa.create_engine(url)
    with engine.connect() as conn:
        assert "notes" in sa.inspect(conn).get_table_names()
    engine.dispose()


# -- the head is read without Alembic --------------------------------------------------


def _alembic_heads(versions: Path) -> list[str]:
    from alembic.script import ScriptDirectory

    return sorted(ScriptDirectory.from_config(migrations.config(versions=versions)).get_heads())


def test_the_head_read_from_the_revision_files_is_alembics(versions):
    assert migrations._literal_heads(versions) == _alembic_heads(versions) == [migrations.head()]
    base = migrations.head()
    (versions / "9001_a.py").write_text(f"revision = '9001'\ndown_revision = {base!r}\n")
    (versions / "9002_b.py").write_text(f'revision: str = "9002"\ndown_revision: str | None = "{base}"\n')
    assert migrations._literal_heads(versions) == _alembic_heads(versions) == ["9001", "9002"]
    with pytest.raises(migrations.SchemaError, match="one line"):
        migrations.head()
    (versions / "9003_merge.py").write_text("revision = '9003'\ndown_revision = ('9001', '9002')\n")
    assert migrations._literal_heads(versions) == _alembic_heads(versions) == ["9003"]
    assert migrations.head() == "9003"
    # a revision not spelled as a literal is left to Alembic
    (versions / "9004_computed.py").write_text("revision = '90' + '04'\ndown_revision = '9003'\n")
    assert migrations._literal_heads(versions) is None
    assert migrations.head() == "9004"


def test_opening_a_database_at_head_does_not_import_alembic(new_db):
    import subprocess
    import sys

    url = new_db("sqlite")
    Store(url).engine.dispose()
    code = (
        "import sys\nfrom storage.store import Store\n"
        f"Store({url!r}).engine.dispose()\nassert 'alembic' not in sys.modules, 'alembic imported'\n"
    )
    root = Path(__file__).resolve().parent.parent
    subprocess.run([sys.executable, "-c", code], cwd=root, check=True)


def test_upgrade_fills_tenancy_kinds_admin_and_repeats_from_the_old_rows(tmp_path):
    """0002: the starter bank is the server's and read-only, the oldest lead the admin, names from
    imports and simulations are a kind apart, and a second answer to a pair is marked a repeat."""
    url = _old_sqlite(tmp_path)
    engine = sa.create_engine(url)
    with engine.begin() as conn:  # Bea answers her first pair again in a practice round
        conn.execute(
            sa.text(
                "INSERT INTO judgments (rater_id, bank_id, pair_id, drill, drill_date, choice, confidence) "
                "VALUES (:r, 1, 'starter-coding-014', 'practice:2026-03-02:1', '2026-03-02', 'B', 0.9)"
            ),
            {"r": BEA_ID},
        )
    engine.dispose()
    Store(url)
    engine = sa.create_engine(url)
    try:
        with engine.connect() as conn:
            bank = conn.execute(sa.text("SELECT owner_cohort_id, read_only FROM banks")).one()
            people = dict(conn.execute(sa.text("SELECT name, kind FROM raters")).all())
            admins = conn.execute(sa.text("SELECT name FROM raters WHERE admin")).scalars().all()
            repeats = conn.execute(
                sa.text("SELECT rater_id, pair_id, drill FROM judgments WHERE repeat")
            ).all()
    finally:
        engine.dispose()
    assert (bank.owner_cohort_id, bool(bank.read_only)) == (None, True)
    assert admins == ["Ada Lead"]
    kinds = {name: kind for name, kind in people.items()}
    assert kinds["Ada Lead"] == kinds["Bea Rater"] == kinds["Cal Rater"] == "account"
    assert kinds["sim-01"] == "imported"
    assert [tuple(r) for r in repeats] == [(BEA_ID, "starter-coding-014", "practice:2026-03-02:1")]
