"""The assessment pages under AppTest: the drill sends a rater with a form due to it, the form takes
answers without feedback, results follow; the lead sets pairs aside and the schedule in the console;
the demo cohort's forms give My report and the console a training effect."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from pairs.bank import STARTER_BANK_NAME
from tests import test_console
from tests.test_app import app_as, text_of
from training import accounts, assessments, cohort

env = test_console.env  # the fixture: a cohort "alpha" with its lead lena and a rater ravi (onboarded)
PAGE = "views/assessment.py"


def frames_with(at, column: str) -> list:
    """The tables on the page that have ``column``."""
    return [d.value for d in at.dataframe if column in d.value.columns]


def set_up(store, lead, n: int = 8) -> list[str]:
    bank = store.load_bank(STARTER_BANK_NAME)
    ids = bank.loc[bank["gold"] != "tie", "id"].astype(str).head(n).tolist()
    assessments.mark_pairs(store, lead, STARTER_BANK_NAME, ids)
    assessments.save_plan(store, lead, bank=STARTER_BANK_NAME, time_limit_minutes=15)
    return ids


def test_a_rater_with_the_baseline_due_is_sent_to_it_and_takes_it_without_feedback(env):
    store, lead, rater, _ = env
    set_up(store, lead)
    at = app_as(store, rater)  # lands on the drill, which sends them to the form
    assert not at.exception
    assert "Baseline form" in [h.value for h in at.header]
    assert at.button(key="start_form")
    at.button(key="start_form").click().run()
    attempt = assessments.attempt(store, rater.id, "pre")
    assert attempt is not None and not attempt.closed
    bank = store.load_bank(STARTER_BANK_NAME).set_index("id")
    for k in range(len(attempt.items)):
        body = text_of(at)
        assert "Time left" in body
        item = assessments.attempt(store, rater.id, "pre").items[k]
        reason = str(bank.loc[item.pair_id, "rationale"])
        assert reason[:40] not in body  # no reason of a pair on screen before the form closes
        at.radio(key=f"assessment_choice_pre_{k}").set_value(bank.loc[item.pair_id, "gold"])
        at.radio(key=f"assessment_confidence_pre_{k}").set_value("90%")
        at.get("form_submit_button")[0].click().run()
        assert not at.exception
    done = assessments.attempt(store, rater.id, "pre")
    assert done.closed and done.answered == len(done.items)
    body = text_of(at)
    assert "Baseline form: your results" in body
    assert [m.value for m in at.metric][:1] == ["100%"]
    assert "Your post-training form opens" in body
    # the drill no longer sends them away
    at = app_as(store, rater)
    assert not at.exception and "Baseline form" not in [h.value for h in at.header]


def test_an_answer_after_the_deadline_is_refused_on_the_page(env):
    store, lead, rater, _ = env
    set_up(store, lead)
    assessments.open_form(store, rater.id, at=datetime.now(UTC) - timedelta(minutes=16))  # time is up
    at = app_as(store, rater, PAGE)
    assert not at.exception
    found = assessments.attempt(store, rater.id, "pre")
    assert found.closed and found.answered == 0
    assert "Baseline form: your results" in text_of(at)


def test_the_lead_sets_pairs_aside_and_saves_the_schedule_in_the_console(env):
    store, lead, rater, _ = env
    at = app_as(store, lead, "views/lead.py")
    assert not at.exception
    at.number_input(key="aside_n").set_value(20)
    next(b for b in at.get("form_submit_button") if b.label == "Set them aside").click().run()
    assert not at.exception
    assert len(assessments.hidden_pairs(store, lead.cohort_id, STARTER_BANK_NAME)) == 20
    assert f"20 of {len(store.load_bank(STARTER_BANK_NAME))} pairs" in text_of(at)
    (balance,) = frames_with(at, "smd")  # how well the two forms are matched
    assert {"X", "Y"} <= set(balance.columns)
    at.number_input(key="plan_days").set_value(3)
    at.number_input(key="plan_drills").set_value(0)
    at.number_input(key="plan_accuracy").set_value(85)
    next(b for b in at.get("form_submit_button") if b.label == "Save the schedule").click().run()
    assert not at.exception
    saved = assessments.plan(store, lead.cohort_id)
    assert (saved["post_after_days"], saved["post_after_drills"], saved["min_accuracy"]) == (3, None, 0.85)
    assert assessments.status(store, rater.id).due == "pre"


def test_the_demo_forms_give_the_console_and_my_report_a_training_effect(env):
    store, lead, _, _ = env
    assessments.load_demo_forms(store, lead, STARTER_BANK_NAME, seed=3)
    at = app_as(store, lead, "views/lead.py")
    assert not at.exception
    body = text_of(at)
    (standing,) = frames_with(at, "forms taken")
    assert "Training effect" in body and standing["rater"].str.endswith("(simulated)").all()
    cohort_rows = frames_with(at, "clear change")[0]  # post vs pre comes first
    accuracy = cohort_rows[cohort_rows["measure"] == "Accuracy"].iloc[0]
    assert accuracy["clear change"] == "yes" and accuracy["change"].startswith("up ")
    sim = accounts.Rater(
        id=0, name="sim-01-steady", role="rater", cohort_id=lead.cohort_id, cohort="alpha", simulated=True
    )
    mine = assessments.rater_assessment(store, sim)
    assert mine is not None and mine["stage"] == "retention"
    assert "chance of passing" in mine["readiness"]["summary"]
    # removing the demo data removes its forms too
    cohort.remove_demo_data(store, lead)
    assert assessments.cohort_assessment(store, lead.cohort_id) is None
    assert assessments.forms_version(store, lead.cohort_id) == (0, 0)


def test_the_cohort_report_opens_with_the_training_effect_of_the_forms(env):
    from calibration.report import build_report

    store, lead, rater, _ = env
    assessments.load_demo_forms(store, lead, STARTER_BANK_NAME, seed=5, n_raters=8)
    forms = assessments.cohort_form_answers(store, lead.cohort_id)
    assert set(forms["form"]) == {"pre", "post", "retention"} and forms["rater"].nunique() == 8
    assert assessments.forms_version(store, lead.cohort_id) == (8 * 3, len(forms))
    report = build_report(forms, n_boot=50, simulated=store.simulated_raters(cohort="alpha"))
    effect = report["cohort"]["effect"]["accuracy"]
    assert effect["post"] > effect["pre"] and effect["ci_low"] <= effect["change"] <= effect["ci_high"]
    opening = report["cohort"]["verdict"][0]  # the verdict opens with it, labelled simulated
    assert opening.startswith("Training effect over 8 rater(s)") and "simulated" in opening


def test_pairs_set_aside_after_a_drill_leave_the_review_page(env):
    from datetime import date

    from tests.test_review import drill_day, shown_pairs

    store, lead, rater, _ = env
    missed, _ = drill_day(store, rater, STARTER_BANK_NAME, date(2026, 3, 2), wrong=4)
    at = app_as(store, rater, "views/review.py")
    assert shown_pairs(at) == set(missed)
    assessments.mark_pairs(store, lead, STARTER_BANK_NAME, missed[:2])
    at = app_as(store, rater, "views/review.py")
    assert not at.exception
    assert shown_pairs(at) == set(missed[2:])  # their gold and reason are not shown again
