"""Shared fixtures."""

from __future__ import annotations

from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
SHARED_DATA = ROOT.parent / "shared" / "data"
LLMBAR_DIR = SHARED_DATA / "llmbar"
FIXTURES = Path(__file__).resolve().parent / "fixtures"


@pytest.fixture
def llmbar_dir() -> Path:
    """The real LLMBar files beside the project; tests using it skip when absent."""
    if not (LLMBAR_DIR / "natural.json").exists():
        pytest.skip("../shared/data/llmbar/ is not present")
    return LLMBAR_DIR


# -- databases ---------------------------------------------------------------------

import itertools  # noqa: E402
import os  # noqa: E402
import shutil  # noqa: E402
import socket  # noqa: E402
import subprocess  # noqa: E402
import tempfile  # noqa: E402


def _pg_bin(name: str) -> str | None:
    found = shutil.which(name)
    if found:
        return found
    for version in ("17", "16", "15", "14"):
        candidate = f"/usr/lib/postgresql/{version}/bin/{name}"
        if os.path.exists(candidate):
            return candidate
    return None


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="session")
def postgres_url():
    """A throwaway PostgreSQL cluster in a temp dir, for the whole session.

    Skips when the binaries or the driver are missing, unless ``PAIRCAL_REQUIRE_POSTGRES=1``
    (set by ``.ci/run``), which turns the skip into a failure so CI cannot pass without it.
    """
    required = os.environ.get("PAIRCAL_REQUIRE_POSTGRES") == "1"
    initdb, pg_ctl = _pg_bin("initdb"), _pg_bin("pg_ctl")
    try:
        import psycopg  # noqa: F401
    except ImportError:
        initdb = None
    if not (initdb and pg_ctl):
        if required:
            pytest.fail("PostgreSQL binaries or psycopg missing but PAIRCAL_REQUIRE_POSTGRES=1")
        pytest.skip("PostgreSQL binaries (initdb, pg_ctl) or psycopg not available")
    tmp = tempfile.mkdtemp(prefix="paircal-pg-")
    datadir = os.path.join(tmp, "data")
    prefix: list[str] = []
    if os.geteuid() == 0:  # PostgreSQL refuses to run as root
        shutil.chown(tmp, "postgres")
        os.chmod(tmp, 0o700)
        prefix = ["runuser", "-u", "postgres", "--"]
    port = _free_port()
    subprocess.run(
        [*prefix, initdb, "-D", datadir, "-U", "paircal", "--auth=trust", "-E", "UTF8", "--no-sync"],
        check=True,
        capture_output=True,
    )
    opts = f"-p {port} -k {tmp} -c listen_addresses=127.0.0.1 -c fsync=off -c max_connections=200"
    subprocess.run(
        [*prefix, pg_ctl, "-D", datadir, "-o", opts, "-l", os.path.join(tmp, "log"), "-w", "start"],
        check=True,
        capture_output=True,
    )
    try:
        subprocess.run(
            [
                *prefix,
                _pg_bin("createdb") or "createdb",
                "-h",
                "127.0.0.1",
                "-p",
                str(port),
                "-U",
                "paircal",
                "paircal",
            ],
            check=True,
            capture_output=True,
        )
        yield f"postgresql+psycopg://paircal@127.0.0.1:{port}/paircal"
    finally:
        subprocess.run([*prefix, pg_ctl, "-D", datadir, "-m", "immediate", "stop"], capture_output=True)
        shutil.rmtree(tmp, ignore_errors=True)


@pytest.fixture
def new_db(request, tmp_path):
    """Make fresh, empty databases: ``new_db("sqlite")`` or ``new_db("postgresql")`` gives a new URL.

    An SQLite file in the test's temp dir, or a new database in the session's
    throwaway PostgreSQL cluster.
    """
    numbers = itertools.count(1)

    def make(kind: str) -> str:
        if kind == "sqlite":
            return f"sqlite:///{tmp_path / f'paircal-{next(numbers)}.db'}"
        base = request.getfixturevalue("postgres_url")
        import sqlalchemy as sa

        name = "t_" + os.urandom(6).hex()
        engine = sa.create_engine(base, isolation_level="AUTOCOMMIT")
        with engine.connect() as conn:
            conn.exec_driver_sql(f'CREATE DATABASE "{name}"')
        engine.dispose()
        return base.rsplit("/", 1)[0] + "/" + name

    return make


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def db_url(request, new_db):
    """A fresh, empty database URL: an SQLite file, and a PostgreSQL database."""
    return new_db(request.param)


@pytest.fixture
def app_store(db_url, monkeypatch):
    """The store the app under AppTest will use (SQLite, then PostgreSQL), with the starter bank.

    The app's cached store and data are cleared before and after, as if each test
    started a new server.
    """
    import streamlit as st

    from storage.store import Store

    monkeypatch.setenv("PAIRCAL_DB_URL", db_url)
    st.cache_resource.clear()
    st.cache_data.clear()
    store = Store(db_url)
    store.ensure_starter_bank()
    yield store
    st.cache_resource.clear()
    st.cache_data.clear()
