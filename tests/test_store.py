"""The judgment store against SQLite and a real PostgreSQL server."""

from __future__ import annotations

import math
import sqlite3
import threading
import time
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
    assert s.import_bank("b1", bank) == {"added": 5, "updated": 0, "unchanged": 0}
    loaded = s.load_bank("b1")
    assert list(loaded["id"]) == list(bank["id"])
    for col in ("prompt", "response_a", "response_b", "gold", "rationale", "tags", "domain", "source"):
        assert list(loaded[col]) == list(bank[col]), col
    assert math.isnan(loaded["gold_confidence"][0]) and loaded["gold_confidence"][1] == 0.9
    assert s.bank_names() == ["b1"]


def test_reimport_updates_gold_and_keeps_ids(db_url):
    s = Store(db_url)
    s.import_bank("b", small_bank(3, gold="A"))
    assert s.import_bank("b", small_bank(4, gold="B")) == {"added": 1, "updated": 2, "unchanged": 1}
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


# -- pair positions -----------------------------------------------------------------------------


def bank_of(ids: list[str]) -> pd.DataFrame:
    """A bank with these pair ids, in this order (deliberately not alphabetical)."""
    return build_bank(
        [
            (i + 1, {"id": pid, "prompt": f"{pid}?", "response_a": "yes", "response_b": "no", "gold": "A"})
            for i, pid in enumerate(ids)
        ],
        "order.jsonl",
    )


def stored_positions(s: Store, name: str) -> dict[str, int]:
    with s.read() as conn:
        rows = conn.execute(
            sa.select(store_mod.pairs_table.c.pair_id, store_mod.pairs_table.c.position).where(
                store_mod.pairs_table.c.bank_id == s.bank_id(name, conn)
            )
        ).all()
    return dict(rows)


def test_pairs_are_numbered_from_zero_in_import_order(db_url):
    s = Store(db_url)
    s.import_bank("b", bank_of(["m", "z", "a"]))
    assert stored_positions(s, "b") == {"m": 0, "z": 1, "a": 2}
    assert list(s.load_bank("b")["id"]) == ["m", "z", "a"]


def test_later_imports_continue_the_numbering_and_keep_old_positions(db_url):
    s = Store(db_url)
    s.import_bank("b", bank_of(["m", "z", "a"]))
    # "z" is already there (updated in place); "k" and "b" are new and go after the last pair
    assert s.import_bank("b", bank_of(["k", "z", "b"])) == {"added": 2, "updated": 0, "unchanged": 1}
    assert stored_positions(s, "b") == {"m": 0, "z": 1, "a": 2, "k": 3, "b": 4}
    s.import_bank("b", bank_of(["c"]))
    assert stored_positions(s, "b")["c"] == 5
    assert list(s.load_bank("b")["id"]) == ["m", "z", "a", "k", "b", "c"]
    # another bank has its own numbering
    s.import_bank("other", bank_of(["y", "x"]))
    assert stored_positions(s, "other") == {"y": 0, "x": 1}


# -- export order -------------------------------------------------------------------------------


def test_export_is_oldest_first_then_in_storage_order_with_unknown_times_last(db_url):
    s = Store(db_url)
    s.import_bank("b", small_bank(4))
    t = datetime(2026, 11, 1, 9, 0, tzinfo=UTC)
    rows = [  # stored in this order (one import keeps row order)
        ("ann", "q0", t + timedelta(hours=3)),
        ("ann", "q1", None),
        ("bob", "q0", t + timedelta(hours=1)),
        ("ann", "q2", t + timedelta(hours=2)),
        ("cy", "q0", t + timedelta(hours=1)),  # same time as bob's: storage order breaks the tie
        ("bob", "q1", None),
        ("cy", "q3", t),
    ]
    frame = pd.DataFrame(
        {
            "rater": [r for r, _, _ in rows],
            "pair_id": [p for _, p, _ in rows],
            "choice": "A",
            "confidence": 0.7,
            "answered_at": pd.to_datetime([a for _, _, a in rows], utc=True),
        }
    )
    assert s.import_judgments(frame, bank="b")["added"] == 7
    out = s.export_judgments(bank="b")
    assert list(zip(out["rater"], out["pair_id"], strict=True)) == [
        ("cy", "q3"),
        ("bob", "q0"),
        ("cy", "q0"),
        ("ann", "q2"),
        ("ann", "q0"),
        ("ann", "q1"),
        ("bob", "q1"),
    ]
    assert out["answered_at"].iloc[:5].is_monotonic_increasing and out["answered_at"].iloc[5:].isna().all()


# -- time on item -------------------------------------------------------------------------------


def test_time_on_item_is_answered_minus_shown(db_url):
    from training import drills

    s = Store(db_url)
    s.import_bank("b", small_bank(2))
    with s._write_once() as conn:
        rater = s.ensure_raters(conn, s.ensure_cohort("c", bank="b", conn=conn), ["ann"])["ann"]
    drill = drills.get_or_create_drill(s, rater, "b", datetime(2026, 11, 2).date(), size=1)
    shown = datetime(2026, 11, 2, 9, 0, 0, 250000, tzinfo=UTC)
    answered = shown + timedelta(minutes=1, seconds=23)
    assert drills.mark_shown(s, rater, drill.key, 0, at=shown)
    assert drills.submit(s, rater, drill.key, 0, "A", 0.7, at=answered) is not None
    with s.read() as conn:
        row = conn.execute(
            sa.select(
                store_mod.judgments.c.shown_at,
                store_mod.judgments.c.answered_at,
                store_mod.judgments.c.seconds,
            )
        ).one()
    assert (row.shown_at, row.answered_at, row.seconds) == (shown, answered, 83.0)
    assert s.export_judgments()["seconds"].tolist() == [83.0]


def test_record_judgment_times_the_item_from_shown_to_answered(db_url):
    s = Store(db_url)
    s.import_bank("b", small_bank(2))
    with s._write_once() as conn:
        rater = s.ensure_raters(conn, s.ensure_cohort("c", conn=conn), ["ann"])["ann"]
    shown = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)
    kw = dict(rater_id=rater, bank_id=s.bank_id("b"), pair_id="q1", choice="A", confidence=0.7, left="A")
    answered = shown + timedelta(seconds=9.5)
    assert s.record_judgment(drill="daily:2026-11-02", shown_at=shown, answered_at=answered, **kw)
    # never shown: no time on item
    assert s.record_judgment(drill="daily:2026-11-03", answered_at=shown + timedelta(days=1), **kw)
    seconds = s.export_judgments()["seconds"]
    assert seconds.iloc[0] == 9.5 and math.isnan(seconds.iloc[1])


# -- contention ---------------------------------------------------------------------------------


class _PgError(Exception):
    """A driver error carrying a PostgreSQL SQLSTATE, as psycopg's errors do."""

    def __init__(self, message: str, sqlstate: str):
        super().__init__(message)
        self.sqlstate = sqlstate


@pytest.mark.parametrize(
    ("orig", "retry"),
    [
        (sqlite3.OperationalError("database is locked"), True),
        (sqlite3.OperationalError("database table is locked"), True),
        (sqlite3.OperationalError("disk I/O error"), False),
        (sqlite3.OperationalError("no such table: judgments"), False),
        (_PgError("could not serialize access due to concurrent update", "40001"), True),
        (_PgError("deadlock detected", "40P01"), True),
        (_PgError("canceling statement due to statement timeout", "57014"), False),
        (_PgError("could not obtain lock on row in relation", "55P03"), False),
    ],
    ids=lambda v: v if isinstance(v, bool) else str(v),
)
def test_is_contention(orig, retry):
    error = sa.exc.OperationalError("UPDATE ...", {}, orig)
    assert store_mod.is_contention(error) is retry


def test_a_write_waits_out_a_real_lock_by_retrying(tmp_path):
    path = tmp_path / "locked.db"
    s = Store(f"sqlite:///{path}")

    @sa.event.listens_for(s.engine, "connect")
    def _short_busy_timeout(dbapi_connection, _record):
        dbapi_connection.execute("PRAGMA busy_timeout=50")  # give up waiting for the lock after 50 ms

    s.engine.dispose()  # every connection from now on has the short timeout

    def put(value):
        return lambda conn: conn.execute(sa.insert(store_mod.settings).values(key="k", value=value))

    other = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
    try:
        other.execute("BEGIN IMMEDIATE")  # another process holds the write lock
        # one attempt is not enough: the lock is real and the busy timeout short
        with pytest.raises(sa.exc.OperationalError, match="database is locked"):
            s.write(put("never"), attempts=1)
        releasing = threading.Event()

        def release():
            time.sleep(0.3)
            releasing.set()
            other.execute("COMMIT")

        releaser = threading.Thread(target=release)
        releaser.start()
        try:
            s.write(put("stored"))  # locked on the first attempts, stored by a later one
            stored_after_release = releasing.is_set()
        finally:
            releaser.join()
        assert stored_after_release
    finally:
        other.close()
    assert s.get_setting("k") == "stored"
    s.engine.dispose()


# -- kept text counts ----------------------------------------------------------------------------


def test_text_counts_are_kept_with_the_bank_and_follow_its_changes(db_url, monkeypatch):
    from pairs import features

    s = Store(db_url)
    bank = small_bank(4)
    bank.loc[1, "response_a"] = "# Head\n- **one**\n- two https://x.example"
    s.import_bank("b", bank)
    loaded = s.load_bank("b")
    counted = []
    real = features.bank_text_counts
    monkeypatch.setattr(features, "bank_text_counts", lambda b: counted.append(len(b)) or real(b))
    kept = s.text_counts("b", loaded)
    assert counted == []  # read back, not counted again
    assert (kept == real(loaded)).all()
    assert features.pair_features(loaded, counts=kept).equals(
        features._features_from_counts(loaded, real(loaded))
    )
    # a re-import that changes a text counts again at once; the kept counts follow
    changed = bank.copy()
    changed.loc[2, "response_b"] = "Now with a [link](http://y.example) and **bold**."
    s.import_bank("b", changed)
    assert counted == [4]
    loaded = s.load_bank("b")
    assert (s.text_counts("b", loaded) == real(loaded)).all()
    assert counted == [4]
    # counts kept for other content (here: a text changed behind the store's back) are counted again
    with s.engine.begin() as conn:
        conn.execute(sa.text("UPDATE pairs SET response_a = 'plain' WHERE pair_id = 'q1'"))
    loaded = s.load_bank("b")
    assert (s.text_counts("b", loaded) == real(loaded)).all()
    assert counted == [4, 4]
    assert s.text_counts("b", loaded)[1, 3] == 0  # no header left in q1's response A


def test_starter_bank_stored_by_another_server_between_our_checks_is_not_an_error(db_url, monkeypatch):
    """Two servers start at once: the second checked before the first committed, then finds its row.

    On PostgreSQL each statement sees rows committed since the transaction began,
    so ``add_pairs`` can find the starter bank the check inside the same
    transaction missed (it then refuses to write to a read-only bank); 16
    servers starting together hit this in ``test_concurrency.py`` under load.
    """
    first, second = Store(db_url), Store(db_url)
    assert first.ensure_starter_bank()
    pairs = len(first.load_bank(store_mod.STARTER_BANK_NAME))
    real_names, calls = second.bank_names, []

    def names_before_the_commit(**kwargs):
        calls.append(kwargs)
        return [] if len(calls) == 1 else real_names(**kwargs)

    monkeypatch.setattr(second, "bank_names", names_before_the_commit)
    monkeypatch.setattr(Store, "_starter_bank_stored", staticmethod(lambda conn: False))
    assert second.ensure_starter_bank() is False
    assert first.bank_names().count(store_mod.STARTER_BANK_NAME) == 1
    assert len(first.load_bank(store_mod.STARTER_BANK_NAME)) == pairs
