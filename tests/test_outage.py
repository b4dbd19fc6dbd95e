"""A database outage is said plainly: the page says the answer was not saved, and recovers by itself.

The break: with the database down, the drill page showed Streamlit's generic
error and did not say whether the answer was kept (it was not).
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import Engine
from streamlit.testing.v1 import AppTest

from storage.engine import DatabaseUnavailable, is_outage
from storage.store import Store
from training import accounts, onboarding
from views.common import TOKEN

ROOT = Path(__file__).resolve().parent.parent


UNREACHABLE = "postgresql+psycopg://nobody@127.0.0.1:1/paircal?connect_timeout=2"  # nothing listens on port 1


def test_an_unreachable_postgresql_server_is_an_outage():
    with pytest.raises(DatabaseUnavailable, match="cannot reach the database"):
        Store(UNREACHABLE)


def test_a_refused_statement_is_not_an_outage(db_url):
    store = Store(db_url)
    with pytest.raises(sa.exc.DBAPIError) as error, store.read() as conn:
        conn.execute(sa.text("SELECT no_such_column FROM banks"))
    assert not is_outage(error.value)


@pytest.fixture
def outage(monkeypatch):
    """``outage.on()`` makes every new connection fail as an unreachable server does; ``off()`` ends it."""

    class Switch:
        down = False

        def on(self):
            self.down = True

        def off(self):
            self.down = False

    switch = Switch()
    connect = Engine.connect

    def failing_connect(self):
        if switch.down:
            raise sa.exc.OperationalError(
                "SELECT 1", {}, ConnectionRefusedError("could not connect to server: Connection refused")
            )
        return connect(self)

    monkeypatch.setattr(Engine, "connect", failing_connect)
    return switch


def test_the_drill_says_the_answer_was_not_saved_and_recovers(app_store, outage):
    store = app_store
    _, invite = accounts.create_cohort(store, "alpha", "lena", "lead-password")
    ravi = accounts.join_cohort(store, invite, "ravi", "ravi-password")
    onboarding.finish(store, ravi.id)  # finished onboarding: these tests are about other pages
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=90)
    at.session_state[TOKEN] = accounts.start_session(store, ravi.id)
    at.run()
    assert "Pair 1 of 10" in " ".join(str(s.value) for s in at.subheader)
    at.button(key="pick_1").click().run()
    at.button(key="confidence_80").click().run()
    outage.on()
    [b for b in at.button if b.label == "Submit"][0].click().run()
    assert not at.exception, at.exception
    assert any("cannot reach its database" in str(e.value) for e in at.error)
    assert any("not saved" in str(e.value) for e in at.error)
    outage.off()
    assert store.count_judgments() == 0
    at.run()  # the database is back: the same session goes on, and says what happened
    assert not at.exception, at.exception
    assert any("NOT saved" in str(w.value) for w in at.warning)
    assert "Pair 1 of 10" in " ".join(str(s.value) for s in at.subheader)
    at = [b for b in at.button if b.label == "Submit"][0].click().run()  # the choices were kept
    assert not at.exception, at.exception
    assert store.count_judgments() == 1 and store.export_judgments().iloc[0]["confidence"] == 0.8


def test_the_cli_says_the_database_cannot_be_reached(capsys):
    from cli.pairs import main

    url = UNREACHABLE
    assert main(["export", "--bank", "starter", "--out", os.devnull, "--db", url]) == 2
    assert "cannot reach the database" in capsys.readouterr().err


def test_a_file_name_too_long_to_keep_is_refused_with_a_message(app_store):
    """An upload named with 600 characters: a message that says so, nothing stored (PostgreSQL used to
    fail the whole transaction with a generic error)."""
    store = app_store
    lead, _ = accounts.create_cohort(store, "alpha", "lena", "lead-password")
    at = AppTest.from_file(str(ROOT / "views" / "lead.py"), default_timeout=90)
    at.session_state[TOKEN] = accounts.start_session(store, lead.id)
    at.run()
    line = b'{"id": "q1", "prompt": "p", "response_a": "a", "response_b": "b", "gold": "A"}\n'
    name = "b" * 595 + ".jsonl"
    at.file_uploader(key="bank_upload").set_value((name, line, "application/json")).run()
    assert not at.exception, at.exception
    assert any("601 characters long" in str(e.value) for e in at.error)
    assert at.button(key="bank_import").disabled
    assert store.bank_names() == ["starter"]
