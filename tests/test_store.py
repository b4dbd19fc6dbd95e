"""The judgment store against SQLite and a real PostgreSQL server."""

from __future__ import annotations

import math
import sqlite3
from datetime import UTC, datetime, timedelta

import pandas as pd
import pytest
import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError

from pairs.bank import build_bank
from storage import store as store_mod
from storage.store import Store


def small_bank(n: int = 4, gold: str = "A") -> pd.DataFrame:
    records = [
        (
            i + 1,
            {
                "id": f"q{i}",
                "prompt": f"Question {i}?",
                "response_a": f"Answer {i} " * (i + 1),
                "response_b": f"**Other** {i}",
                "gold": gold if i % 3 else "tie",
                "rationale": "Because.",
                "tags": ["length"] if i % 2 else ["control"],
                "domain": "factual",
                "gold_confidence": 0.9 if i else None,
            },
        )
        for i in range(n)
    ]
    return build_bank(records, "mem")


def judgments_frame(raters: list[str], pair_ids: list[str]) -> pd.DataFrame:
    t0 = datetime(2026, 11, 1, 9, 0, tzinfo=UTC)
    rows = []
    for r, rater in enumerate(raters):
        for p, pid in enumerate(pair_ids):
            rows.append(
                {
                    "rater": rater,
                    "pair_id": pid,
                    "choice": "AB"[(r + p) % 2],
                    "confidence": 0.5 + 0.05 * ((r + p) % 11),
                    "left": "BA"[p % 2],
                    "answered_at": t0 + timedelta(minutes=10 * r + p),
                    "seconds": 3.0 + p,
                }
            )
    return pd.DataFrame(rows)


def test_default_url_is_sqlite_file_under_data(monkeypatch):
    monkeypatch.delenv("PAIRCAL_DB_URL", raising=False)
    assert store_mod.database_url() == f"sqlite:///{store_mod.DEFAULT_DB_PATH}"
    monkeypatch.setenv("PAIRCAL_DB_URL", "postgresql+psycopg://x@h/db")
    assert store_mod.database_url() == "postgresql+psycopg://x@h/db"


class _LockedCursor:
    """An SQLite cursor whose switch to WAL is refused ``locked`` times, as when servers start together."""

    def __init__(self, locked: int, error: str = "database is locked"):
        self.locked, self.error, self.mode, self.attempts = locked, error, "delete", 0

    def execute(self, sql: str):
        if sql == "PRAGMA journal_mode=WAL":
            self.attempts += 1
            if self.attempts <= self.locked:
                raise sqlite3.OperationalError(self.error)
            self.mode = "wal"
        return self

    def fetchone(self):
        return (self.mode,)


def test_switching_to_wal_waits_out_a_database_locked_answer():
    cursor = _LockedCursor(locked=3)
    store_mod.use_wal(cursor)
    assert (cursor.mode, cursor.attempts) == ("wal", 4)
    store_mod.use_wal(cursor)  # already in WAL mode: nothing to switch
    assert cursor.attempts == 4


def test_switching_to_wal_gives_up_on_other_errors_and_after_its_patience():
    with pytest.raises(sqlite3.OperationalError, match="disk I/O error"):
        store_mod.use_wal(_LockedCursor(locked=1, error="disk I/O error"))
    with pytest.raises(sqlite3.OperationalError, match="locked"):
        store_mod.use_wal(_LockedCursor(locked=10**6), patience=0.2)


def test_sqlite_uses_wal_and_busy_timeout(tmp_path):
    s = Store(f"sqlite:///{tmp_path / 'x.db'}")
    with s.read() as conn:
        assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        assert conn.exec_driver_sql("PRAGMA busy_timeout").scalar() == 60000
        assert conn.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1


def test_bank_round_trip(db_url):
    s = Store(db_url)
    bank = small_bank(5)
    assert s.import_bank("b1", bank) == {"added": 5, "updated": 0}
    loaded = s.load_bank("b1")
    assert list(loaded["id"]) == list(bank["id"])
    for col in ("prompt", "response_a", "response_b", "gold", "rationale", "tags", "domain", "source"):
        assert list(loaded[col]) == list(bank[col]), col
    assert math.isnan(loaded["gold_confidence"][0]) and loaded["gold_confidence"][1] == 0.9
    assert s.bank_names() == ["b1"]


def test_reimport_updates_gold_and_keeps_ids(db_url):
    s = Store(db_url)
    s.import_bank("b", small_bank(3, gold="A"))
    assert s.import_bank("b", small_bank(4, gold="B")) == {"added": 1, "updated": 3}
    loaded = s.load_bank("b")
    assert list(loaded["id"]) == ["q0", "q1", "q2", "q3"]
    assert list(loaded["gold"]) == ["tie", "B", "B", "tie"]


def test_failed_bank_import_leaves_nothing(db_url):
    s = Store(db_url)
    bank = small_bank(3)
    bad = bank.copy()
    bad.loc[2, "gold"] = "C"  # violates the CHECK constraint inside the transaction
    with pytest.raises(sa.exc.DBAPIError):
        s.import_bank("b", bad)
    assert s.bank_names() == []


def test_judgments_import_export_round_trip(db_url):
    s = Store(db_url)
    s.import_bank("b", small_bank(4))
    frame = judgments_frame(["ann", "bob", "=cmd"], ["q0", "q1", "q2", "q3"])
    assert s.import_judgments(frame, bank="b") == {"added": 12, "already_present": 0}
    out = s.export_judgments(bank="b")
    assert len(out) == 12
    key = ["rater", "pair_id"]
    merged = frame.merge(out, on=key, suffixes=("", "_db"))
    assert len(merged) == 12
    for col in ("choice", "left", "confidence", "seconds"):
        assert (merged[col] == merged[f"{col}_db"]).all(), col
    assert (pd.to_datetime(merged["answered_at"], utc=True) == merged["answered_at_db"]).all()


def test_judgments_import_twice_stores_once(db_url):
    s = Store(db_url)
    s.import_bank("b", small_bank(4))
    frame = judgments_frame(["ann"], ["q0", "q1"])
    s.import_judgments(frame, bank="b")
    assert s.import_judgments(frame, bank="b") == {"added": 0, "already_present": 2}
    assert s.count_judgments() == 2


def test_judgment_on_unknown_pair_rolls_back_whole_import(db_url):
    s = Store(db_url)
    s.import_bank("b", small_bank(2))
    frame = judgments_frame(["ann"], ["q0", "q1"])
    frame.loc[1, "pair_id"] = "nope"
    with pytest.raises(IntegrityError):
        s.import_judgments(frame, bank="b")
    assert s.count_judgments() == 0


def test_one_answer_per_rater_pair_drill(db_url):
    s = Store(db_url)
    s.import_bank("b", small_bank(2))
    bid = s.bank_id("b")
    with s._write_once() as conn:
        cid = s.ensure_cohort("c", conn=conn)
        rid = s.ensure_raters(conn, cid, ["ann"])["ann"]
    kw = dict(rater_id=rid, bank_id=bid, pair_id="q1", choice="A", confidence=0.7, left="B")
    assert s.record_judgment(drill="daily:2026-11-21", **kw) is True
    assert s.record_judgment(drill="daily:2026-11-21", **{**kw, "choice": "B"}) is False
    assert s.record_judgment(drill="daily:2026-11-22", **kw) is True
    out = s.export_judgments()
    assert list(out["choice"]) == ["A", "A"]
    # the database itself refuses a duplicate, not only record_judgment
    with pytest.raises(IntegrityError):
        with s._write_once() as conn:
            conn.execute(
                sa.insert(store_mod.judgments).values(
                    rater_id=rid, bank_id=bid, pair_id="q1", drill="daily:2026-11-21", choice="B"
                )
            )


def test_confidence_range_is_a_database_constraint(db_url):
    s = Store(db_url)
    s.import_bank("b", small_bank(2))
    frame = judgments_frame(["ann"], ["q0"])
    frame.loc[0, "confidence"] = 1.5
    with pytest.raises(IntegrityError):
        s.import_judgments(frame, bank="b")


def test_settings(db_url):
    s = Store(db_url)
    assert s.get_setting("drill_size", "10") == "10"
    s.set_setting("drill_size", "12")
    s.set_setting("drill_size", "14")
    assert Store(db_url).get_setting("drill_size") == "14"
