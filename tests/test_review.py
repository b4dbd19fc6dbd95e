"""The Review page (views/review.py) over training/review.py: missed pairs with their reason, filters,
gold corrections, several banks, pages, and nothing of a pair the rater has not answered."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import numpy as np
import pandas as pd

from pairs.bank import STARTER_BANK_NAME
from pairs.markdown import markdown_to_html
from tests import test_console
from tests.test_app import app_as, text_of, visible_text
from tests.test_console import OTHER, own_bank
from training import accounts, cohort, drills, glossary, review

PAGE = "views/review.py"
env = test_console.env  # the fixture: a cohort "alpha" with its lead lena and a rater ravi


def as_drawn(rationale: str) -> str:
    """The start of a rationale as :func:`tests.test_app.text_of` reads it off the page: its Markdown
    rendered (a code span loses its backticks), tags dropped; the raw text of a rationale with markup
    would never match, so checking it absent would test nothing."""
    return visible_text(markdown_to_html(rationale)).strip()[:60]


def drill_day(store, rater, bank: str, day: date, wrong: int) -> tuple[list[str], list[str]]:
    """Answer the rater's daily drill of ``day`` on ``bank``: the first ``wrong`` decided pairs wrongly,
    the rest rightly. Returns (missed pair ids, right pair ids)."""
    gold = store.load_bank(bank).set_index("id")["gold"]
    drill = drills.get_or_create_drill(store, rater.id, bank, day, size=10)
    missed, right = [], []
    for item in drill.items:
        g = gold[item.pair_id]
        if g in OTHER and len(missed) < wrong:
            choice = OTHER[g]
            missed.append(item.pair_id)
        else:
            choice = g if g in OTHER else "A"
            if g in OTHER:
                right.append(item.pair_id)
        drills.submit(store, rater.id, drill.key, item.position, choice=choice, confidence=0.8)
    return missed, right


def shown_pairs(at) -> set[str]:
    """The pair ids the page lists (each answer starts with 'DATE · pair ID')."""
    text = text_of(at)
    return {line.split("pair ", 1)[1].strip() for line in text.splitlines() if " · pair " in line}


# -- the library -------------------------------------------------------------------------------


def frame(n: int) -> pd.DataFrame:
    when = pd.Timestamp("2026-01-01", tz="UTC") + pd.to_timedelta(np.arange(n), unit="h")
    return pd.DataFrame(
        {
            "pair_id": [f"p{i}" for i in range(n)],
            "correct": [0.0 if i % 3 == 0 else 1.0 for i in range(n)],
            "tags": [("length",) if i % 2 else ("polish", "control") for i in range(n)],
            "answered_at": when,
        }
    )


def test_review_lists_missed_answers_newest_first_a_page_at_a_time():
    found = review.review(frame(2000), page=3, page_size=20)
    assert (found.answered, found.missed, found.listed, found.pages) == (2000, 667, 667, 34)
    newest_missed = [f"p{i}" for i in range(1999, -1, -1) if i % 3 == 0]
    assert found.rows["pair_id"].tolist() == newest_missed[40:60]
    assert review.review(frame(2000), page=99, page_size=20).page == 34  # clipped to the last page


def test_review_filters_by_trap_kind_and_day():
    j = frame(60)  # hours 0..59: Jan 1 (0-23), Jan 2 (24-47), Jan 3 (48-59)
    length = review.review(j, missed_only=False, kinds=["length"], page_size=100)
    assert all("length" in t for t in length.rows["tags"]) and length.answered == 30
    day2 = review.review(j, missed_only=False, start=date(2026, 1, 2), end=date(2026, 1, 2), page_size=100)
    assert sorted(day2.rows["pair_id"], key=lambda p: int(p[1:])) == [f"p{i}" for i in range(24, 48)]
    both = review.review(j, kinds=["polish"], start=date(2026, 1, 3), page_size=100)
    assert set(both.rows["pair_id"]) == {f"p{i}" for i in range(48, 60) if i % 3 == 0 and i % 2 == 0}
    assert review.trap_kinds(j) == ["control", "length", "polish"]


def test_a_side_on_a_gold_tie_is_not_missed_and_a_tie_answer_on_a_decided_pair_is():
    j = frame(3).assign(correct=[np.nan, 0.0, 1.0])
    assert review.review(j).rows["pair_id"].tolist() == ["p1"]


# -- the page ----------------------------------------------------------------------------------


def test_the_page_lists_missed_pairs_with_reason_and_traps_and_nothing_unanswered(env):
    store, _, rater, _ = env
    day = datetime.now(UTC).date()
    missed, right = drill_day(store, rater, STARTER_BANK_NAME, day, wrong=3)
    # tomorrow's drill is drawn but not answered: none of its pairs may show, nor their reasons
    later = drills.get_or_create_drill(store, rater.id, STARTER_BANK_NAME, day + timedelta(days=1), size=10)
    unanswered = [i.pair_id for i in later.items]
    at = app_as(store, rater, PAGE)
    assert not at.exception, at.exception
    assert shown_pairs(at) == set(missed)
    text = text_of(at)
    assert "3 missed pairs of 10 answered" in text
    bank = store.load_bank(STARTER_BANK_NAME).set_index("id")
    for pid in missed:
        assert as_drawn(bank.loc[pid, "rationale"]) in text  # the reason is drawn (as HTML, from Markdown)
        assert glossary.describe(bank.loc[pid, "tags"])[0] in text  # the trap kinds, in plain words
    assert "You said Response" in text and "The expert preferred Response" in text
    for pid in unanswered:
        assert pid not in text
        assert as_drawn(bank.loc[pid, "rationale"]) not in text
    at.radio(key="review_show").set_value("All my answers").run()
    answered = drills.get_or_create_drill(store, rater.id, STARTER_BANK_NAME, day, size=10)
    assert shown_pairs(at) == {item.pair_id for item in answered.items} >= set(missed) | set(right)


def test_the_trap_kind_and_date_filters(env):
    store, _, rater, _ = env
    today = datetime.now(UTC).date()
    old, _ = drill_day(store, rater, STARTER_BANK_NAME, today - timedelta(days=5), wrong=4)
    # answers stored "today" by submit; move the first day's answers five days back
    import sqlalchemy as sa

    from storage.schema import judgments

    with store.engine.begin() as conn:
        conn.execute(
            sa.update(judgments)
            .where(judgments.c.drill == drills.drill_key(today - timedelta(days=5)))
            .values(answered_at=datetime.now(UTC) - timedelta(days=5))
        )
    new, _ = drill_day(store, rater, STARTER_BANK_NAME, today, wrong=2)
    at = app_as(store, rater, PAGE)
    assert shown_pairs(at) == set(old) | set(new)
    assert "6 missed pairs of 20 answered" in text_of(at)
    at.date_input(key="review_dates").set_value((today - timedelta(days=1), today)).run()
    assert not at.exception, at.exception
    assert shown_pairs(at) == set(new)
    assert "2 missed pairs of 10 answered (with these filters)" in text_of(at)
    at.date_input(key="review_dates").set_value((today - timedelta(days=5), today)).run()
    bank = store.load_bank(STARTER_BANK_NAME).set_index("id")
    kind = bank.loc[old[0], "tags"][0]
    at.multiselect(key="review_kinds").set_value([kind]).run()
    assert not at.exception, at.exception
    expected = {p for p in set(old) | set(new) if kind in bank.loc[p, "tags"]}
    assert shown_pairs(at) == expected and old[0] in expected


def test_a_gold_corrected_to_the_raters_answer_leaves_the_missed_list(env):
    store, lead, rater, _ = env
    own_bank(store, lead)
    missed, _ = drill_day(store, rater, "mine", datetime.now(UTC).date(), wrong=2)
    at = app_as(store, rater, PAGE)
    assert shown_pairs(at) == set(missed)
    gold = store.load_bank("mine").set_index("id")["gold"]
    assert cohort.correct_gold(store, lead, "mine", missed[0], OTHER[gold[missed[0]]])
    at = app_as(store, rater, PAGE)
    assert shown_pairs(at) == {missed[1]}
    assert "1 missed pair of 10 answered" in text_of(at)
    at.radio(key="review_show").set_value("All my answers").run()
    assert missed[0] in shown_pairs(at)
    assert "Your lead corrected the gold of this pair" in text_of(at)


def test_a_rater_sees_only_their_own_answers(env):
    store, _, rater, invite = env
    nora = accounts.join_cohort(store, invite, "nora", "nora-password")
    day = datetime.now(UTC).date()
    mine, _ = drill_day(store, rater, STARTER_BANK_NAME, day, wrong=3)
    hers, _ = drill_day(store, nora, STARTER_BANK_NAME, day, wrong=5)
    assert set(hers) - set(mine)
    at = app_as(store, nora, PAGE)
    assert shown_pairs(at) == set(hers)
    at = app_as(store, rater, PAGE)
    assert shown_pairs(at) == set(mine)
    fresh = accounts.join_cohort(store, invite, "omar", "omar-password")
    at = app_as(store, fresh, PAGE)
    assert not at.exception and not shown_pairs(at)
    assert "not answered any pair yet" in text_of(at)


def test_several_banks_are_reviewed_and_named(env):
    store, lead, rater, _ = env
    day = datetime.now(UTC).date()
    first, _ = drill_day(store, rater, STARTER_BANK_NAME, day - timedelta(days=1), wrong=2)
    own_bank(store, lead)  # the cohort now drills on "mine"
    second, _ = drill_day(store, rater, "mine", day, wrong=2)
    at = app_as(store, rater, PAGE)
    assert not at.exception, at.exception
    assert shown_pairs(at) == set(first) | set(second)
    text = text_of(at)
    assert f"bank {STARTER_BANK_NAME} · pair {first[0]}" in text and f"bank mine · pair {second[0]}" in text
    assert "4 missed pairs of 20 answered" in text


def test_a_long_history_is_shown_a_page_at_a_time(env):
    store, lead, rater, _ = env
    bank = store.load_bank(STARTER_BANK_NAME)
    decided = bank[bank["gold"].isin(["A", "B"])].head(45)
    start = datetime.now(UTC) - timedelta(days=3)
    bank_id = store.bank_id(STARTER_BANK_NAME)
    for i, (pid, gold) in enumerate(zip(decided["id"], decided["gold"], strict=True)):
        store.record_judgment(
            rater_id=rater.id,
            bank_id=bank_id,
            pair_id=pid,
            drill="import",
            choice=OTHER[gold],
            confidence=0.9,
            left="A",
            answered_at=start + timedelta(minutes=i),
        )
    at = app_as(store, rater, PAGE)
    assert not at.exception, at.exception
    ids = decided["id"].tolist()
    assert shown_pairs(at) == set(ids[-review.PAGE_SIZE :])  # the newest first
    assert "45 missed pairs of 45 answered" in text_of(at)
    assert "Page 1 of 5, newest first" in text_of(at)
    at.number_input(key="review_page").set_value(5).run()
    assert shown_pairs(at) == set(ids[:5])
    assert "Page 5 of 5" in text_of(at)


def test_a_lead_has_the_page_too_and_it_lists_their_own_answers_only(env):
    store, lead, rater, _ = env
    at = app_as(store, lead, "views/lead.py")
    at.button(key="load_demo").click().run()  # a simulated cohort with thousands of answers
    assert store.count_judgments() > 1000
    at = app_as(store, lead, PAGE)
    assert not at.exception, at.exception
    assert "not answered any pair yet" in text_of(at) and not shown_pairs(at)
    missed, _ = drill_day(store, lead, STARTER_BANK_NAME, datetime.now(UTC).date(), wrong=1)
    at = app_as(store, lead, PAGE)
    assert shown_pairs(at) == set(missed)
