"""Assessment forms in the store and the schedule (training/assessments.py, storage/assessments.py).

Pairs set aside never reach a drill; the baseline is due before the first drill, the post form after
the lead's days or drills, the retention form later; one attempt per stage, timed on the server,
no feedback while open; forms counterbalanced across raters; all of it survives a restart. Run on
SQLite and PostgreSQL.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pandas as pd
import pytest

from pairs.bank import STARTER_BANK_NAME
from storage import assessments as rows
from storage.store import Store
from training import accounts, assessments, drills, onboarding

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
N_MARKED = 24


@pytest.fixture
def env(db_url):
    store = Store(db_url)
    store.ensure_starter_bank()
    lead, invite = accounts.create_cohort(store, "alpha", "lena", "lead-password")
    raters = [accounts.join_cohort(store, invite, name, "rater-password") for name in ("ravi", "rosa", "raj")]
    for rater in raters:
        onboarding.finish(store, rater.id)
    return store, lead, raters


def set_up(store, lead, **plan) -> list[str]:
    """Set the first N_MARKED decided pairs of the starter bank aside and save a plan; the pair ids."""
    bank = store.load_bank(STARTER_BANK_NAME)
    ids = bank.loc[bank["gold"] != "tie", "id"].astype(str).head(N_MARKED).tolist()
    assert assessments.mark_pairs(store, lead, STARTER_BANK_NAME, ids) == N_MARKED
    settings = {"post_after_days": 7, "post_after_drills": 3, "time_limit_minutes": 20, **plan}
    assessments.save_plan(store, lead, bank=STARTER_BANK_NAME, **settings)
    return ids


def take(store, rater, at: datetime, *, right: bool = True) -> assessments.Attempt:
    """Open the form due and answer every pair (rightly, or wrongly) at 90%, a second apart."""
    gold = store.load_bank(STARTER_BANK_NAME).set_index("id")["gold"]
    attempt = assessments.open_form(store, rater.id, at=at)
    assert attempt is not None
    for k, item in enumerate(attempt.items):
        g = gold[item.pair_id]
        choice = g if right else {"A": "B", "B": "A"}[g]
        assessments.mark_shown(store, rater.id, attempt.stage, item.position, at=at + timedelta(seconds=k))
        assert assessments.answer(
            store, rater.id, attempt.stage, item.position, choice, 0.9, at=at + timedelta(seconds=k + 1)
        )
    return attempt


def test_pairs_set_aside_never_reach_a_drill_and_are_split_into_matched_forms(env):
    store, lead, (ravi, *_) = env
    bank = store.load_bank(STARTER_BANK_NAME)
    # most of the bank set aside: a drill that ignored the marks would draw some of them
    aside = bank["id"].astype(str).iloc[: len(bank) - 60].tolist()
    assessments.mark_pairs(store, lead, STARTER_BANK_NAME, aside)
    hidden = assessments.hidden_pairs(store, lead.cohort_id, STARTER_BANK_NAME)
    assert hidden == set(aside)
    for day in range(3):
        drill = drills.get_or_create_drill(store, ravi.id, STARTER_BANK_NAME, date(2026, 3, 2 + day), size=40)
        assert len(drill.items) == 40
        assert not {item.pair_id for item in drill.items} & hidden
    forms = assessments.forms_of(store, lead.cohort_id, STARTER_BANK_NAME)
    assert set(forms.index) == hidden and sorted(set(forms)) == ["X", "Y"]
    assert abs(int((forms == "X").sum()) - int((forms == "Y").sum())) <= 2
    balance = assessments.form_balance(store, lead.cohort_id, STARTER_BANK_NAME)
    assert {"criterion", "X", "Y", "smd"} <= set(balance.columns)
    # given back: the pairs can be drawn again and the forms are split anew
    assessments.mark_pairs(store, lead, STARTER_BANK_NAME, aside[:100], marked=False)
    assert assessments.hidden_pairs(store, lead.cohort_id, STARTER_BANK_NAME) == set(aside[100:])
    assert len(assessments.forms_of(store, lead.cohort_id, STARTER_BANK_NAME)) == len(aside) - 100


def test_only_the_lead_sets_pairs_aside_and_the_drill_bank_keeps_enough_pairs(env):
    store, lead, (ravi, *_) = env
    with pytest.raises(accounts.AccountError, match="Only the cohort's lead"):
        assessments.mark_pairs(store, ravi, STARTER_BANK_NAME, None)
    with pytest.raises(accounts.AccountError, match="drill bank"):
        assessments.mark_pairs(store, lead, STARTER_BANK_NAME, None)  # the whole drill bank
    with pytest.raises(accounts.AccountError, match="no pair"):
        assessments.mark_pairs(store, lead, STARTER_BANK_NAME, ["no-such-pair"])
    with pytest.raises(accounts.AccountError, match="days or how many drills"):
        assessments.save_plan(
            store, lead, bank=STARTER_BANK_NAME, post_after_days=None, post_after_drills=None
        )
    assert assessments.plan(store, lead.cohort_id) is None


def test_the_baseline_is_due_at_once_then_post_after_days_and_retention_later(env):
    store, lead, (ravi, *_) = env
    assert assessments.status(store, ravi.id, at=T0).due is None  # no plan yet: nothing due
    set_up(store, lead, post_after_drills=None, retention_after_days=30)
    assert assessments.status(store, lead.id, at=T0).due is None  # leads take no form
    assert assessments.status(store, ravi.id, at=T0).due == "pre"
    pre = take(store, ravi, T0)
    assert len(pre.items) == N_MARKED // 3  # a retention form is planned: three forms
    state = assessments.status(store, ravi.id, at=T0 + timedelta(minutes=5))
    assert state.due is None and state.attempts["pre"].closed
    assert "2026-03-09" in state.next_note
    assert assessments.status(store, ravi.id, at=T0 + timedelta(days=6, hours=23)).due is None
    assert assessments.status(store, ravi.id, at=T0 + timedelta(days=7, minutes=1)).due == "post"
    post = take(store, ravi, T0 + timedelta(days=8))
    assert post.form != pre.form  # the other form
    state = assessments.status(store, ravi.id, at=T0 + timedelta(days=9))
    assert state.due is None and "retention" in state.next_note
    assert assessments.status(store, ravi.id, at=T0 + timedelta(days=38, minutes=1)).due == "retention"
    kept = take(store, ravi, T0 + timedelta(days=39))
    assert kept.form not in {pre.form, post.form}  # never the baseline again: its golds were shown
    assert assessments.status(store, ravi.id, at=T0 + timedelta(days=400)).due is None


def test_the_post_form_falls_due_after_the_leads_number_of_finished_drills(env):
    store, lead, (ravi, *_) = env
    set_up(store, lead, post_after_days=None, post_after_drills=2)
    now = datetime.now(UTC)
    take(store, ravi, now - timedelta(hours=1))
    today = now.date()
    for k in range(2):
        assert assessments.status(store, ravi.id, at=now).due is None
        drill = drills.get_or_create_drill(
            store, ravi.id, STARTER_BANK_NAME, today, size=3, kind="practice", round=k + 1
        )
        for item in drill.items:
            drills.submit(store, ravi.id, drill.key, item.position, "A", 0.7)
    assert assessments.status(store, ravi.id, at=now).due == "post"


def test_one_attempt_per_stage_and_forms_counterbalanced_across_raters(env):
    store, lead, raters = env
    set_up(store, lead)
    first = assessments.open_form(store, raters[0].id, at=T0)
    again = assessments.open_form(store, raters[0].id, at=T0 + timedelta(minutes=1))
    assert first is not None and again is not None and first.id == again.id
    assert first.deadline == again.deadline == T0 + timedelta(minutes=20)
    forms = [assessments.open_form(store, r.id, at=T0).form for r in raters]
    assert forms[0] != forms[1] and forms[0] == forms[2]  # X, Y, X: half the raters start on each form
    # each rater's pairs are their form's pairs, in an order of their own
    stored = assessments.forms_of(store, lead.cohort_id, STARTER_BANK_NAME)
    for rater, form in zip(raters, forms, strict=True):
        items = assessments.attempt(store, rater.id, "pre").items
        assert {i.pair_id for i in items} == set(stored.index[stored == form])


def test_an_answer_after_the_deadline_is_refused_and_closes_the_form(env):
    store, lead, (ravi, *_) = env
    set_up(store, lead, time_limit_minutes=10)
    attempt = assessments.open_form(store, ravi.id, at=T0)
    assert assessments.answer(store, ravi.id, "pre", 0, "A", 0.8, at=T0 + timedelta(minutes=9))
    assert not assessments.answer(store, ravi.id, "pre", 0, "B", 0.6, at=T0 + timedelta(minutes=9))  # stands
    assert not assessments.attempt(store, ravi.id, "pre").closed
    with pytest.raises(assessments.AssessmentClosed, match="time for this form is up"):
        assessments.answer(store, ravi.id, "pre", 1, "A", 0.8, at=T0 + timedelta(minutes=10, seconds=1))
    closed = assessments.attempt(store, ravi.id, "pre")
    assert closed.closed and closed.closed_at == attempt.deadline and closed.answered == 1
    with pytest.raises(assessments.AssessmentClosed, match="closed"):
        assessments.answer(store, ravi.id, "pre", 2, "A", 0.8, at=T0 + timedelta(minutes=5))
    # no second attempt at the baseline; the post form waits for the plan's days or drills
    assert assessments.status(store, ravi.id, at=T0 + timedelta(hours=1)).due is None


def test_no_feedback_while_open_then_results_with_gold_after(env):
    store, lead, (ravi, *_) = env
    set_up(store, lead)
    gold = store.load_bank(STARTER_BANK_NAME).set_index("id")["gold"]
    attempt = assessments.open_form(store, ravi.id, at=T0)
    wrong = {"A": "B", "B": "A"}
    for k, item in enumerate(attempt.items[:-1]):
        choice = gold[item.pair_id] if k % 4 else wrong[gold[item.pair_id]]  # a quarter wrong
        assessments.answer(store, ravi.id, "pre", item.position, choice, 1.0, at=T0 + timedelta(seconds=k))
        assert (
            assessments.results(store, ravi.id, "pre", at=T0 + timedelta(minutes=1)) is None
        )  # open: nothing
    assert rows.form_judgments(store, cohort="alpha", bank=STARTER_BANK_NAME).empty  # nor in any report
    last = attempt.items[-1]
    assessments.answer(
        store, ravi.id, "pre", last.position, gold[last.pair_id], 1.0, at=T0 + timedelta(minutes=1)
    )
    found = assessments.results(store, ravi.id, "pre", at=T0 + timedelta(minutes=1))
    assert found is not None and found.answered == len(attempt.items)
    n = len(attempt.items)
    right = n - len(range(0, n - 1, 4))
    assert found.accuracy == pytest.approx(right / n)
    assert found.overconfidence == pytest.approx(1.0 - right / n)
    assert found.score == pytest.approx((right * 1.0 + (n - right) * -3.0) / n)
    assert (found.items["gold"] == gold[found.items["pair_id"]].to_numpy()).all()
    assert found.items["rationale"].str.len().gt(0).any()
    answers = rows.form_judgments(store, cohort="alpha", bank=STARTER_BANK_NAME)
    assert len(answers) == n and set(answers["form"]) == {"pre"} and set(answers["rater"]) == {"ravi"}
    assert list(answers.columns) == [
        "rater",
        "pair_id",
        "choice",
        "confidence",
        "left",
        "answered_at",
        "seconds",
        "form",
    ]


def test_an_open_form_and_its_deadline_survive_a_restart(env, db_url):
    store, lead, (ravi, *_) = env
    set_up(store, lead)
    attempt = assessments.open_form(store, ravi.id, at=T0)
    assessments.mark_shown(store, ravi.id, "pre", 0, at=T0)
    assessments.answer(store, ravi.id, "pre", 0, "B", 0.7, at=T0 + timedelta(seconds=30))
    store.engine.dispose()
    again = Store(db_url)  # a new server process
    resumed = assessments.open_form(again, ravi.id, at=T0 + timedelta(minutes=3))
    assert resumed is not None
    assert (resumed.id, resumed.deadline, resumed.answered, resumed.next_position) == (
        attempt.id,
        attempt.deadline,
        1,
        1,
    )
    assert [i.pair_id for i in resumed.items] == [i.pair_id for i in attempt.items]
    assert resumed.items[0].choice == "B" and resumed.items[0].confidence == 0.7
    assert resumed.seconds_left(T0 + timedelta(minutes=3)) == 17 * 60


def test_a_drilled_pair_later_set_aside_is_left_out_of_review(env):
    store, lead, (ravi, *_) = env
    drill = drills.get_or_create_drill(store, ravi.id, STARTER_BANK_NAME, date(2026, 3, 2), size=5)
    for item in drill.items:
        drills.submit(store, ravi.id, drill.key, item.position, "A", 0.7)
    ids = [item.pair_id for item in drill.items]
    assessments.mark_pairs(store, lead, STARTER_BANK_NAME, ids[:2])
    assert assessments.hidden_pairs(store, lead.cohort_id, STARTER_BANK_NAME) == set(ids[:2])
    assert assessments.hidden_pairs(store, lead.cohort_id, "no such bank") == set()


def test_pairs_stay_aside_per_cohort(env):
    store, lead, (ravi, *_) = env
    other, invite = accounts.create_cohort(store, "beta", "bo", "lead-password", by=lead)  # the admin
    set_up(store, lead)
    assert assessments.hidden_pairs(store, other.cohort_id, STARTER_BANK_NAME) == set()
    member = accounts.join_cohort(store, invite, "bea", "rater-password")
    assert assessments.status(store, member.id, at=T0).due is None
    assert isinstance(rows.marked_pairs(store, lead.cohort_id), pd.DataFrame)


def test_standing_after_the_baseline_alone_has_no_effect_yet_but_a_bar_and_readiness(env):
    store, lead, (ravi, *_) = env
    set_up(store, lead, min_accuracy=0.8)
    take(store, ravi, T0)  # every pair right at 90%, 12 pairs
    mine = assessments.rater_assessment(store, ravi)
    assert mine is not None and mine["stage"] == "pre" and mine["effect"] is None
    # 12 of 12 right: the lower 95% bound (one-sided Wilson) is about 81%, so the 80% bar is cleared
    assert mine["qualification"]["accuracy"] == 1.0 and mine["qualification"]["n"] == N_MARKED // 2
    assert mine["qualification"]["accuracy_low"] == pytest.approx(12 / (12 + 1.6448536**2), abs=1e-4)
    assert mine["qualification"]["passed"]  # and overconfidence 90% - 81.6% is within 10 points
    assert 0.5 < mine["readiness"]["probability"] < 1.0 and "20-pair quiz" in mine["readiness"]["summary"]
    cohort = assessments.cohort_assessment(store, lead.cohort_id)
    assert cohort is not None and cohort["effect"] is None
    assert cohort["raters"]["rater"].tolist() == ["ravi"] and cohort["raters"]["forms"].tolist() == ["pre"]


def test_a_form_answer_on_a_pair_seen_in_an_earlier_drill_is_left_out_of_the_effect(env):
    """A drill drawn before its pairs were set aside still shows them (with their gold); the form
    answers on those pairs then measure memory, so the training effect leaves them out."""
    store, lead, (ravi, rosa, _) = env
    drill = drills.get_or_create_drill(store, ravi.id, STARTER_BANK_NAME, date(2026, 3, 1), size=8)
    for k, item in enumerate(drill.items):
        drills.submit(
            store, ravi.id, drill.key, item.position, "A", 0.7, at=T0 - timedelta(hours=1, seconds=k)
        )
    seen = {item.pair_id for item in drill.items}
    bank = store.load_bank(STARTER_BANK_NAME)
    others = bank.loc[(bank["gold"] != "tie") & ~bank["id"].isin(seen), "id"].astype(str).head(16).tolist()
    assessments.mark_pairs(store, lead, STARTER_BANK_NAME, sorted(seen) + others)
    assessments.save_plan(
        store, lead, bank=STARTER_BANK_NAME, post_after_days=7, post_after_drills=3, time_limit_minutes=20
    )
    ravi_form = take(store, ravi, T0)
    rosa_form = take(store, rosa, T0)
    answers = rows.form_judgments(store, cohort="alpha", bank=STARTER_BANK_NAME)
    in_ravis = {i.pair_id for i in ravi_form.items}
    kept = set(answers.loc[answers["rater"] == "ravi", "pair_id"])
    assert in_ravis & seen  # the check is not empty: some drilled pairs are in ravi's form
    assert kept == in_ravis - seen
    # rosa never drilled: all of her answers count
    assert set(answers.loc[answers["rater"] == "rosa", "pair_id"]) == {i.pair_id for i in rosa_form.items}


def test_a_plan_with_a_retention_form_gets_three_forms_so_no_stage_repeats_a_revealed_form(env):
    """The baseline's results page shows its golds: with two forms the retention form would repeat
    it and measure memory. A plan with retention splits the pairs into three forms, one per stage."""
    store, lead, raters = env
    set_up(store, lead)  # no retention: two forms
    assert set(assessments.forms_of(store, lead.cohort_id, STARTER_BANK_NAME)) == {"X", "Y"}
    assessments.save_plan(
        store, lead, bank=STARTER_BANK_NAME, post_after_days=7, post_after_drills=3, retention_after_days=30
    )
    forms = assessments.forms_of(store, lead.cohort_id, STARTER_BANK_NAME)
    assert set(forms) == {"X", "Y", "Z"} and len(forms) == N_MARKED
    for rater in raters:
        stages = [assessments.stage_form(store, rater.id, s) for s in ("pre", "post", "retention")]
        assert len(set(stages)) == 3, stages
    # once a rater has opened a form, the forms stay as they are
    assessments.open_form(store, raters[0].id, at=T0)
    assessments.save_plan(store, lead, bank=STARTER_BANK_NAME, post_after_days=7, post_after_drills=3)
    assert set(assessments.forms_of(store, lead.cohort_id, STARTER_BANK_NAME)) == {"X", "Y", "Z"}
