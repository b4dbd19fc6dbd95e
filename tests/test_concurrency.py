"""Many raters at once: 16 writers x 500 judgments, each submitted twice, on SQLite and PostgreSQL.

Writers are processes (like separate Streamlit servers, each with its own
``Store``) and threads of one process (like the sessions of one server, which
Streamlit runs on threads and which share one cached ``Store``). Every answer is
submitted twice, as a double click or a replayed request would: some twice in
a row, some from two threads at the same moment. The store must end with
exactly one judgment per (rater, pair, drill), lose none, and let no error
reach a user.
"""

from __future__ import annotations

import multiprocessing
import threading
import time
import traceback
from concurrent.futures import ThreadPoolExecutor
from datetime import date, timedelta

import sqlalchemy as sa

from pairs.bank import STARTER_BANK_NAME, STARTER_BANK_PATH
from storage.store import Store, banks, cohorts, drill_items, judgments, pairs_table
from training import accounts, drills

WRITERS = 16
PER_WRITER = 500
DRILL_SIZE = 50  # ten daily drills of 50 pairs from the starter bank
DAYS = PER_WRITER // DRILL_SIZE
DAY0 = date(2026, 11, 1)
COHORT = "crowd"
PASSWORD = "many raters at once"
TIMEOUT = 300


def _choice(gold: str) -> str:
    # The gold answer (A for a tie): a right answer's feedback skips the text features, so the
    # time goes to the database, which is what is under test.
    return gold if gold in ("A", "B") else "A"


def server_process(url: str, index: int, start: multiprocessing.synchronize.Barrier, results) -> None:
    """One server with one rater: start on the shared database, answer 500 items, each twice.

    Every fourth answer is a double click, both submits at once from two threads;
    the others are replayed right after. Puts ``(index, counts, errors)`` on
    ``results``: no exception may escape, so errors are collected instead.
    """
    counts = {"first_stored": 0, "replay_refused": 0, "stored": 0, "refused": 0}
    errors: list[str] = []
    try:
        start.wait(timeout=TIMEOUT)
        # What every server does when it starts (views/common.py), all at once on a fresh database.
        store = Store(url)
        store.ensure_starter_bank()
        cohort_id = store.ensure_cohort(COHORT, bank=STARTER_BANK_NAME)
        invite = accounts.cohort_info(store, cohort_id)["invite_code"]
        rater = accounts.join_cohort(store, invite, f"rater-{index:02d}", PASSWORD)
        gold = store.load_bank(STARTER_BANK_NAME).set_index("id")["gold"]
        days = [DAY0 + timedelta(days=d) for d in range(DAYS)]
        todo = [
            (drill.key, item.position, _choice(gold[item.pair_id]))
            for drill in (
                drills.get_or_create_drill(store, rater.id, STARTER_BANK_NAME, day, size=DRILL_SIZE)
                for day in days
            )
            for item in drill.items
        ]
        together = threading.Barrier(2)

        def click(key: str, position: int, choice: str, *, double: bool = False) -> bool:
            if double:
                together.wait(timeout=TIMEOUT)
            return drills.submit(store, rater.id, key, position, choice, 0.75) is not None

        with ThreadPoolExecutor(2) as pool:
            for n, item in enumerate(todo):
                if n % 4 == 0:
                    outcomes = [f.result() for f in [pool.submit(click, *item, double=True) for _ in "12"]]
                else:
                    first, again = click(*item), click(*item)
                    counts["first_stored"] += first
                    counts["replay_refused"] += not again
                    outcomes = [first, again]
                counts["stored"] += sum(outcomes)
                counts["refused"] += len(outcomes) - sum(outcomes)
    except BaseException:  # noqa: B036 - reported to the test, which fails on it
        errors.append(traceback.format_exc())
    results.put((index, counts, errors))


def _duplicates(store: Store) -> list:
    key = (judgments.c.rater_id, judgments.c.bank_id, judgments.c.pair_id, judgments.c.drill)
    with store.read() as conn:
        return conn.execute(sa.select(*key).group_by(*key).having(sa.func.count() > 1)).all()


def test_sixteen_server_processes_double_submitting_store_each_judgment_once(db_url):
    context = multiprocessing.get_context("forkserver")
    context.set_forkserver_preload(["training.drills", "training.accounts", "sqlalchemy.dialects.sqlite"])
    start, results = context.Barrier(WRITERS), context.Queue()
    processes = [
        context.Process(target=server_process, args=(db_url, i, start, results)) for i in range(WRITERS)
    ]
    began = time.perf_counter()
    for process in processes:
        process.start()
    reports = sorted(results.get(timeout=TIMEOUT) for _ in processes)
    for process in processes:
        process.join(timeout=30)
    elapsed = time.perf_counter() - began

    assert [errors for _, _, errors in reports] == [[]] * WRITERS
    assert [p.exitcode for p in processes] == [0] * WRITERS
    for index, counts, _ in reports:
        # 125 double clicks (one of the two stores it) and 375 replays (the first stores it)
        assert counts == {"first_stored": 375, "replay_refused": 375, "stored": 500, "refused": 500}, index

    store = Store(db_url)
    assert store.count_judgments() == WRITERS * PER_WRITER
    assert _duplicates(store) == []
    with store.read() as conn:
        # every item of every drill answered exactly once: nothing lost, nothing extra
        unanswered = conn.execute(
            sa.select(sa.func.count())
            .select_from(drill_items)
            .outerjoin(
                judgments,
                sa.and_(
                    judgments.c.rater_id == drill_items.c.rater_id,
                    judgments.c.pair_id == drill_items.c.pair_id,
                    judgments.c.drill == drill_items.c.drill,
                ),
            )
            .where(judgments.c.id.is_(None))
        ).scalar()
        items = conn.execute(sa.select(sa.func.count()).select_from(drill_items)).scalar()
        # the servers started together on an empty database: one starter bank, one cohort
        assert conn.execute(sa.select(banks.c.name)).scalars().all() == [STARTER_BANK_NAME]
        starter_pairs = len(STARTER_BANK_PATH.read_text("utf-8").splitlines())
        assert conn.execute(sa.select(sa.func.count()).select_from(pairs_table)).scalar() == starter_pairs
        assert conn.execute(sa.select(cohorts.c.name)).scalars().all() == [COHORT]
    assert (items, unanswered) == (WRITERS * PER_WRITER, 0)
    rows = store.count_judgments()
    print(f"\n{store.dialect}: {WRITERS} processes x {PER_WRITER}: {rows} rows in {elapsed:.1f} s")


def test_sixteen_sessions_on_threads_of_one_server_double_submitting(db_url):
    """16 raters on threads of one process sharing one Store; each answer sent from two threads at once.

    The threads call :meth:`Store.record_judgment`, the store write that
    :func:`training.drills.submit` makes (the drill reads around it are tested by
    the process test above).
    """
    store = Store(db_url)
    store.ensure_starter_bank()
    bank_id = store.bank_id(STARTER_BANK_NAME)
    pair_ids = list(store.load_bank(STARTER_BANK_NAME)["id"][:DRILL_SIZE])
    with store._write_once() as conn:
        cohort_id = store.ensure_cohort(COHORT, conn=conn)
        ids = store.ensure_raters(conn, cohort_id, [f"rater-{i:02d}" for i in range(WRITERS)])
    keys = [(drills.drill_key(DAY0 + timedelta(days=d)), pid) for d in range(DAYS) for pid in pair_ids]
    outcomes: dict[tuple[int, int], list[bool]] = {}
    errors: list[str] = []

    def session(rater_id: int, click: int, ready: threading.Barrier) -> None:
        stored = outcomes.setdefault((rater_id, click), [])
        try:
            ready.wait(timeout=TIMEOUT)
            for key, pid in keys:
                stored.append(
                    store.record_judgment(
                        rater_id=rater_id,
                        bank_id=bank_id,
                        pair_id=pid,
                        drill=key,
                        choice="A",
                        confidence=0.75,
                        left="B",
                    )
                )
        except BaseException:  # noqa: B036 - reported to the test, which fails on it
            errors.append(traceback.format_exc())

    ready = threading.Barrier(2 * WRITERS)
    threads = [
        threading.Thread(target=session, args=(rid, click, ready)) for rid in ids.values() for click in (1, 2)
    ]
    began = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=TIMEOUT)
    elapsed = time.perf_counter() - began

    assert errors == []
    for rid in ids.values():
        first, second = outcomes[(rid, 1)], outcomes[(rid, 2)]
        assert len(first) == len(second) == PER_WRITER
        assert all(a != b for a, b in zip(first, second, strict=True))  # one of the two clicks stored it
    assert store.count_judgments() == WRITERS * PER_WRITER
    assert _duplicates(store) == []
    print(f"\n{store.dialect}: {WRITERS} threads x {PER_WRITER}, double clicks: {elapsed:.1f} s")
