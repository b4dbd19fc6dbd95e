"""The drill engine: stored drills, the choice of pairs, answers and feedback, streaks."""

from __future__ import annotations

import dataclasses
import re
import threading
from datetime import UTC, date, datetime, timedelta

import pandas as pd
import pytest
import sqlalchemy as sa

from pairs.bank import STARTER_BANK_PATH, build_bank
from pairs.importers import read_bank
from storage.store import Store, drill_items, judgments
from training import drills

DAY = date(2026, 3, 2)


@pytest.fixture(scope="module")
def starter() -> pd.DataFrame:
    return read_bank(STARTER_BANK_PATH, "jsonl")


@pytest.fixture
def store(db_url):
    s = Store(db_url)
    s.ensure_starter_bank()
    yield s
    s.engine.dispose()


def add_rater(store: Store, name: str = "dana", bank: str = "starter") -> int:
    def fn(conn):
        cohort = store.ensure_cohort("c1", bank=bank, conn=conn)
        return store.ensure_raters(conn, cohort, [name])[name]

    return store.write(fn)


def pair(pid: str, a: str, b: str, gold: str, tags=("control",)) -> dict:
    return {
        "id": pid,
        "prompt": f"Prompt {pid}?",
        "response_a": a,
        "response_b": b,
        "gold": gold,
        "tags": tags,
    }


def import_pairs(store: Store, name: str, pairs: list[dict]) -> pd.DataFrame:
    bank = build_bank([(i + 1, p) for i, p in enumerate(pairs)], f"{name}.jsonl")
    store.import_bank(name, bank)
    return bank


def stored_items(store: Store, rater_id: int, key: str) -> list[tuple]:
    with store.read() as conn:
        return conn.execute(
            sa.select(drill_items.c.position, drill_items.c.pair_id, drill_items.c.left)
            .where(drill_items.c.rater_id == rater_id, drill_items.c.drill == key)
            .order_by(drill_items.c.position)
        ).all()


def layout(drill: drills.Drill) -> list[tuple]:
    return [(i.position, i.pair_id, i.left) for i in drill.items]


# -- keys ---------------------------------------------------------------------------------------


def test_drill_keys():
    assert drills.drill_key(DAY) == "daily:2026-03-02"
    assert drills.drill_key(datetime(2026, 3, 2, 23, 59, tzinfo=UTC)) == "daily:2026-03-02"
    assert drills.drill_key(DAY, kind="practice", round=3) == "practice:2026-03-02:3"
    assert drills.is_practice("practice:2026-03-02:3") and not drills.is_practice("daily:2026-03-02")
    assert drills.parse_drill_key("daily:2026-03-02") == ("daily", DAY, 1)
    with pytest.raises(ValueError, match=re.escape("kind must be 'daily' or 'practice'; got 'weekly'.")):
        drills.drill_key(DAY, kind="weekly")
    with pytest.raises(ValueError, match=re.escape("round must be a positive integer; got 0.")):
        drills.drill_key(DAY, kind="practice", round=0)
    with pytest.raises(ValueError, match=re.escape("a day has one daily drill; round must be 1, got 2.")):
        drills.drill_key(DAY, round=2)
    with pytest.raises(ValueError, match="is not a drill key"):
        drills.parse_drill_key("import:2026-03-02")
    with pytest.raises(ValueError, match="its date does not exist"):
        drills.parse_drill_key("daily:2026-02-30")


# -- stored drills ------------------------------------------------------------------------------


def test_same_drill_after_reload_and_after_restart(store, db_url):
    rater = add_rater(store)
    first = drills.get_or_create_drill(store, rater, "starter", DAY, size=10)
    again = drills.get_or_create_drill(store, rater, "starter", DAY, size=10)
    restarted = Store(db_url)  # a new server process: only the database survives
    try:
        after = drills.get_or_create_drill(restarted, rater, "starter", DAY, size=10)
    finally:
        restarted.engine.dispose()
    assert layout(first) == layout(again) == layout(after)
    assert first.key == "daily:2026-03-02" and first.bank == "starter" and first.rater_id == rater
    assert len(stored_items(store, rater, first.key)) == 10
    # a drill keeps its pairs even if the requested size changes later the same day
    assert layout(drills.get_or_create_drill(store, rater, "starter", DAY, size=5)) == layout(first)


def test_size_is_respected_and_left_sides_are_recorded(store):
    rater = add_rater(store)
    lefts = []
    for offset, size in enumerate((10, 7, 1)):
        drill = drills.get_or_create_drill(store, rater, "starter", DAY + timedelta(days=offset), size=size)
        assert drill.size == size and len({i.pair_id for i in drill.items}) == size
        assert [i.position for i in drill.items] == list(range(size))
        assert [(p, pid, left) for p, pid, left in stored_items(store, rater, drill.key)] == layout(drill)
        assert drill.answered == 0 and not drill.finished and drill.next_position == 0
        lefts += [i.left for i in drill.items]
    assert set(lefts) == {"A", "B"}
    assert 0.2 < lefts.count("A") / len(lefts) < 0.8


def test_a_small_bank_gives_a_shorter_drill(store):
    import_pairs(store, "tiny", [pair(f"t{i}", "one two", "three four", "A") for i in range(3)])
    rater = add_rater(store, bank="tiny")
    assert drills.get_or_create_drill(store, rater, "tiny", DAY, size=10).size == 3
    with pytest.raises(ValueError, match=re.escape("size must be a positive integer; got 0.")):
        drills.get_or_create_drill(store, rater, "tiny", DAY + timedelta(days=1), size=0)


def test_unknown_bank_or_rater(store):
    rater = add_rater(store)
    with pytest.raises(ValueError, match=re.escape("there is no bank named 'nope'.")):
        drills.get_or_create_drill(store, rater, "nope", DAY, size=10)
    with pytest.raises(ValueError, match=re.escape("there is no rater with id 999.")):
        drills.get_or_create_drill(store, 999, "starter", DAY, size=10)


def test_concurrent_creation_gives_one_drill(store, db_url):
    rater = add_rater(store)
    stores = [Store(db_url), Store(db_url)]  # two servers
    try:
        for offset in range(4):
            day = DAY + timedelta(days=offset)
            barrier = threading.Barrier(2)
            results, errors = [None, None], []

            def create(i, day=day, barrier=barrier, results=results, errors=errors):
                try:
                    barrier.wait()
                    # different seeds, so two uncoordinated creators would pick different pairs
                    results[i] = drills.get_or_create_drill(
                        stores[i], rater, "starter", day, size=10, rng_seed=100 + i
                    )
                except Exception as exc:  # pragma: no cover - reported below
                    errors.append(exc)

            threads = [threading.Thread(target=create, args=(i,)) for i in range(2)]
            for t in threads:
                t.start()
            for t in threads:
                t.join()
            assert not errors, errors
            assert layout(results[0]) == layout(results[1])
            assert [tuple(r) for r in stored_items(store, rater, results[0].key)] == layout(results[0])
    finally:
        for s in stores:
            s.engine.dispose()


def test_seed_is_derived_from_rater_and_key():
    assert drills.drill_seed(1, "daily:2026-03-02") == drills.drill_seed(1, "daily:2026-03-02")
    seeds = {drills.drill_seed(r, k) for r in (1, 2) for k in ("daily:2026-03-02", "daily:2026-03-03")}
    assert len(seeds) == 4


# -- answering ----------------------------------------------------------------------------------


def count_judgments(store: Store) -> int:
    with store.read() as conn:
        return conn.execute(sa.select(sa.func.count()).select_from(judgments)).scalar()


def test_submit_stores_one_judgment_and_the_first_answer_stands(store, starter):
    rater = add_rater(store)
    drill = drills.get_or_create_drill(store, rater, "starter", DAY, size=10)
    item = drill.items[0]
    assert drills.feedback_for(store, rater, drill.key, 0) is None  # nothing before answering
    shown = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
    assert drills.mark_shown(store, rater, drill.key, 0, at=shown) is True
    assert drills.mark_shown(store, rater, drill.key, 0) is False  # never overwritten

    result = drills.submit(store, rater, drill.key, 0, "B", 0.8)
    row = starter.set_index("id").loc[item.pair_id]
    assert result.gold == row["gold"] and result.rationale == row["rationale"]
    assert result.tags == tuple(row["tags"])
    assert result.correct == (None if row["gold"] == "tie" else row["gold"] == "B")
    assert drills.feedback_for(store, rater, drill.key, 0) == result

    assert drills.submit(store, rater, drill.key, 0, "A", 0.95) is None
    assert count_judgments(store) == 1
    stored = store.export_judgments().iloc[0]
    assert (stored["choice"], stored["confidence"], stored["left"]) == ("B", 0.8, item.left)
    assert stored["seconds"] > 0  # from the recorded shown_at

    after = drills.get_or_create_drill(store, rater, "starter", DAY, size=10)
    assert after.answered == 1 and after.next_position == 1
    assert after.items[0].shown_at == shown and after.items[0].choice == "B"
    assert after.items[0].confidence == 0.8 and after.items[0].answered_at is not None
    history = drills.rater_history(store, rater, "starter")
    assert history[["rater", "pair_id", "choice"]].values.tolist() == [["dana", item.pair_id, "B"]]


def test_finishing_a_drill(store):
    rater = add_rater(store)
    drill = drills.get_or_create_drill(store, rater, "starter", DAY, size=3)
    for position in range(3):
        assert drills.submit(store, rater, drill.key, position, "A", 0.6) is not None
    drill = drills.get_or_create_drill(store, rater, "starter", DAY, size=3)
    assert drill.finished and drill.answered == 3 and drill.next_position is None


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("C", 0.8), "choice must be 'A', 'B' or 'tie'; got 'C'."),
        (("a", 0.8), "choice must be 'A', 'B' or 'tie'; got 'a'."),
        (("A", 0.4), "confidence must be in [0.5, 1]; got 0.4."),
        (("A", 1.01), "confidence must be in [0.5, 1]; got 1.01."),
        (("A", float("nan")), "confidence must be in [0.5, 1]; got nan."),
        (("A", "0.8"), "confidence must be a number in [0.5, 1]; got '0.8'."),
        (("A", True), "confidence must be a number in [0.5, 1]; got True."),
    ],
)
def test_submit_refuses_invalid_answers(store, args, message):
    rater = add_rater(store)
    drill = drills.get_or_create_drill(store, rater, "starter", DAY, size=2)
    with pytest.raises(ValueError, match=re.escape(message)):
        drills.submit(store, rater, drill.key, 0, *args)
    assert count_judgments(store) == 0


def test_submit_refuses_unknown_positions_and_drills(store):
    rater = add_rater(store)
    drill = drills.get_or_create_drill(store, rater, "starter", DAY, size=2)
    with pytest.raises(ValueError, match=re.escape("drill 'daily:2026-03-02' has positions 0 to 1; got 2.")):
        drills.submit(store, rater, drill.key, 2, "A", 0.8)
    with pytest.raises(ValueError, match=re.escape("has positions 0 to 1; got -1.")):
        drills.feedback_for(store, rater, drill.key, -1)
    with pytest.raises(ValueError, match=re.escape(f"rater {rater} has no drill 'daily:2026-03-03'.")):
        drills.submit(store, rater, "daily:2026-03-03", 0, "A", 0.8)
    with pytest.raises(ValueError, match="is not a drill key"):
        drills.mark_shown(store, rater, "tomorrow", 0)
    assert count_judgments(store) == 0


def test_items_carry_no_gold_before_answering(store):
    rater = add_rater(store)
    drill = drills.get_or_create_drill(store, rater, "starter", DAY, size=2)
    fields = {f.name for f in dataclasses.fields(drills.DrillItem)} | {
        f.name for f in dataclasses.fields(drills.Drill)
    }
    assert not fields & {"gold", "rationale", "tags"}
    assert drills.feedback_for(store, rater, drill.key, 1) is None


TWELVE = "one two three four five six seven eight nine ten eleven twelve"
FIVE = "one two three four five"
POLISHED = "# Title\n\n- one\n- **two**\n- three\n\nSee [docs](https://example.org) \u2705"  # 7 elements
PLAIN = "A plain answer with **one** bold word and nothing else at all here"  # 1 element


def test_feedback_note_for_a_length_trap(store):
    import_pairs(store, "traps", [pair("len", TWELVE, FIVE, "B", ("length",))])
    rater = add_rater(store, bank="traps")
    drill = drills.get_or_create_drill(store, rater, "traps", DAY, size=1)
    assert drills.feedback_for(store, rater, drill.key, 0) is None
    result = drills.submit(store, rater, drill.key, 0, "A", 0.9)
    assert result.correct is False and result.gold == "B" and result.tags == ("length",)
    assert result.note == "You picked the answer that was 2.4x longer; the expert preferred the shorter one."
    assert drills.feedback_for(store, rater, drill.key, 0) == result


def test_feedback_notes():
    polish = pair("pol", POLISHED, PLAIN, "B", ("polish",))
    assert drills.feedback(polish, "A").note == (
        "You picked the answer that had more formatting (7 markdown elements against 1); "
        "the expert preferred the plainer one."
    )
    both = pair("both", POLISHED + " " + TWELVE + " " + TWELVE, FIVE, "B", ("length", "polish"))
    assert drills.feedback(both, "A").note == (
        "You picked the answer that was 7.0x longer and had more formatting (7 markdown elements "
        "against 0); the expert preferred the shorter, plainer one."
    )
    # right answers, small differences and ties carry no note
    assert drills.feedback(pair("len", TWELVE, FIVE, "B"), "B").note is None
    assert drills.feedback(pair("close", TWELVE, TWELVE + " more", "A"), "B").note is None
    tie = drills.feedback(pair("tie", TWELVE, FIVE, "tie"), "A")
    assert tie.correct is None and tie.note is None
    with pytest.raises(ValueError, match=re.escape("choice must be 'A', 'B' or 'tie'; got 'left'.")):
        drills.feedback(polish, "left")


# -- days, streaks and practice -----------------------------------------------------------------


def finish(
    store: Store, rater: int, day: date, *, kind="daily", round=1, size=2, answer=None
) -> drills.Drill:
    drill = drills.get_or_create_drill(store, rater, "starter", day, size=size, kind=kind, round=round)
    for position in range(size if answer is None else answer):
        drills.submit(store, rater, drill.key, position, "A", 0.7)
    return drill


def test_streak_counts_finished_daily_drills_in_a_row(store):
    rater = add_rater(store)
    today = date(2026, 3, 10)
    assert drills.streak(store, rater, today) == 0
    finish(store, rater, today - timedelta(days=5))  # before a gap: not part of the streak
    finish(store, rater, today - timedelta(days=4), answer=1)  # unfinished: the gap
    finish(store, rater, today - timedelta(days=4), kind="practice")  # practice does not fill it
    finish(store, rater, today - timedelta(days=3))
    finish(store, rater, today - timedelta(days=2))
    finish(store, rater, today - timedelta(days=1))
    assert drills.streak(store, rater, today) == 3  # today's not done yet: up to yesterday
    finish(store, rater, today, answer=1)
    assert drills.streak(store, rater, today) == 3
    finish(store, rater, today)
    assert drills.streak(store, rater, today) == 4
    assert drills.streak(store, rater, today + timedelta(days=1)) == 4
    assert drills.streak(store, rater, today + timedelta(days=2)) == 0


def test_practice_rounds_are_separate_drills(store):
    rater = add_rater(store)
    daily = finish(store, rater, DAY, size=3)
    assert drills.latest_round(store, rater, DAY) == 0
    first = finish(store, rater, DAY, kind="practice", round=1, size=3)
    second = drills.get_or_create_drill(store, rater, "starter", DAY, size=3, kind="practice", round=2)
    assert (daily.key, first.key, second.key) == (
        "daily:2026-03-02",
        "practice:2026-03-02:1",
        "practice:2026-03-02:2",
    )
    assert drills.latest_round(store, rater, DAY) == 2
    # practice pairs are fresh ones: the daily drill's pairs were judged already
    assert not {i.pair_id for i in daily.items} & {i.pair_id for i in first.items + second.items}
    # the daily drill is untouched by practice, and practice does not start a streak by itself
    assert layout(drills.get_or_create_drill(store, rater, "starter", DAY, size=10)) == layout(daily)
    progress = drills.today_progress(store, rater, DAY)
    assert progress == drills.Progress(
        daily_answered=3, daily_size=3, daily_finished=True, practice_rounds=2, practice_answered=3, streak=1
    )
    other = add_rater(store, "eli")
    finish(store, other, DAY, kind="practice", size=2)
    assert drills.streak(store, other, DAY) == 0
    assert drills.today_progress(store, other, DAY) == drills.Progress(
        daily_answered=0, daily_size=0, daily_finished=False, practice_rounds=1, practice_answered=2, streak=0
    )


def test_open_drill_resumes_the_days_latest_practice_round_from_the_database(store):
    rater = add_rater(store)
    daily = drills.open_drill(store, rater, "starter", DAY, size=3)
    assert daily.drill.key == "daily:2026-03-02" and daily.latest_round == 0
    finish(store, rater, DAY, size=3)
    # done, and no practice asked for: the daily drill stays on screen, and no round is created
    assert drills.open_drill(store, rater, "starter", DAY, size=3).drill.key == "daily:2026-03-02"
    assert drills.latest_round(store, rater, DAY) == 0
    started = drills.open_drill(store, rater, "starter", DAY, size=3, practice=True).drill
    drills.submit(store, rater, started.key, 0, "A", 0.6)
    # a reload asks for no practice (it knows nothing of the last page): the round goes on
    resumed = drills.open_drill(store, rater, "starter", DAY, size=3)
    assert resumed.drill.key == "practice:2026-03-02:1" and resumed.latest_round == 1
    assert (resumed.drill.answered, resumed.drill.next_position) == (1, 1)
    assert layout(resumed.drill) == layout(started)
    # a finished round stays on screen until the next one is started; that one is then resumed
    finish(store, rater, DAY, kind="practice", round=1, size=3)
    assert drills.open_drill(store, rater, "starter", DAY, size=3).drill.finished
    drills.get_or_create_drill(store, rater, "starter", DAY, size=3, kind="practice", round=2)
    assert drills.open_drill(store, rater, "starter", DAY, size=3).drill.key == "practice:2026-03-02:2"
    # the next day starts with its own daily drill
    assert drills.open_drill(store, rater, "starter", DAY + timedelta(days=1), size=3).drill.key == (
        "daily:2026-03-03"
    )


# -- streaks from the drill store, for one rater and for a cohort's leaderboard -------------------


def finish_daily(store: Store, rater: int, day: date, size: int) -> None:
    drill = drills.get_or_create_drill(store, rater, "starter", day, size=size)
    for item in drill.items:
        drills.submit(store, rater, drill.key, item.position, "A", 0.7)


def cohort_id(store: Store) -> int:
    return store.ensure_cohort("c1")


def test_a_drill_of_five_finished_three_days_running_is_a_streak_of_three(store):
    rater = add_rater(store)
    for offset in (2, 1, 0):
        finish_daily(store, rater, DAY - timedelta(days=offset), size=5)
    assert drills.streak(store, rater, DAY) == 3
    assert drills.cohort_streaks(store, cohort_id(store), DAY) == {"dana": 3}


def test_a_friday_to_monday_streak_is_four_on_monday(store):
    monday = date(2026, 3, 2)
    assert monday.weekday() == 0
    rater = add_rater(store)
    for offset in (3, 2, 1, 0):  # Friday, Saturday, Sunday, Monday
        finish_daily(store, rater, monday - timedelta(days=offset), size=2)
    assert drills.cohort_streaks(store, cohort_id(store), monday) == {"dana": 4}
    assert drills.today_progress(store, rater, monday).streak == 4


def test_cohort_streaks_leave_out_unfinished_and_broken_days(store):
    dana, eli = add_rater(store, "dana"), add_rater(store, "eli")
    finish_daily(store, dana, DAY - timedelta(days=2), size=2)  # a gap yesterday: no streak today
    finish_daily(store, eli, DAY - timedelta(days=1), size=2)  # yesterday counts while today is open
    drills.get_or_create_drill(store, eli, "starter", DAY, size=2)  # started, not finished
    assert drills.cohort_streaks(store, cohort_id(store), DAY) == {"eli": 1}


def test_cohort_streaks_longer_than_the_days_read_first_are_counted_in_full(store):
    # cohort_streaks reads the last _STREAK_WINDOW days for everyone and longer streaks again
    window = drills._STREAK_WINDOW
    lengths = {"long": window + 4, "edge": window + 1, "window": window, "short": 2}
    for name, days in lengths.items():
        rater = add_rater(store, name)
        for offset in range(days):
            finish_daily(store, rater, DAY - timedelta(days=offset + (name == "edge")), size=1)
        assert drills.streak(store, rater, DAY) == days
    assert drills.cohort_streaks(store, cohort_id(store), DAY) == lengths


def test_the_next_days_drill_rests_the_pairs_missed_yesterday(store):
    """Twelve pairs, a drill of 10: the next day's drill has the 2 fresh pairs and 8 of the 10 seen
    ones. The 2 missed yesterday rest: the 8 are the others."""
    pairs = [pair(f"p{i:02d}", "one two", "three four", "AB"[i % 2], ("factual",)) for i in range(12)]
    bank = import_pairs(store, "small", pairs)
    rater = add_rater(store, bank="small")
    today = datetime.now(UTC).date()
    first = drills.get_or_create_drill(store, rater, "small", today, size=10)
    fresh = sorted(set(bank["id"]) - {i.pair_id for i in first.items})
    missed = [i.pair_id for i in first.items][:2]
    # the two pairs to be missed (and one fresh one) become "length" pairs
    tags = {pid: ("length",) for pid in [*missed, fresh[0]]}
    retagged = bank.assign(tags=[tags.get(p, ("factual",)) for p in bank["id"]])
    store.import_bank("small", retagged)
    gold = retagged.set_index("id")["gold"]
    for item in first.items:
        wrong = item.pair_id in missed
        choice = {"A": "B", "B": "A"}[gold[item.pair_id]] if wrong else gold[item.pair_id]
        drills.submit(store, rater, first.key, item.position, choice=choice, confidence=0.9)
    history = drills.rater_history(store, rater, "small")
    assert history.set_index("pair_id").loc[missed, "correct"].eq(0.0).all()
    nxt = drills.get_or_create_drill(store, rater, "small", today + timedelta(days=1), size=10)
    picked = {i.pair_id for i in nxt.items}
    assert set(fresh) <= picked and not set(missed) & picked
