"""Assessment forms in headless Chromium: the lead sets pairs aside and the schedule in the console, a
rater is sent to the baseline form before the first drill, answers it with no feedback on screen,
reloads mid-form and resumes with the same deadline, then sees the results; the lead's demo cohort
gives the console the cohort's training effect.

Screenshots are saved (``PAIRCAL_ASSESSMENT_SHOTS``, default a temp folder) to be looked at. Skips
without Chromium or Playwright, unless ``PAIRCAL_REQUIRE_BROWSER=1``.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from bench._server import sign_in_path
from pairs.bank import STARTER_BANK_NAME
from storage.store import Store
from tests.test_browser import browser, launch  # noqa: F401  (fixtures)
from training import accounts, assessments, onboarding

pytestmark = [pytest.mark.browser, pytest.mark.slow]


def test_lead_sets_up_forms_and_a_rater_takes_the_baseline_in_the_browser(launch, browser, tmp_path):  # noqa: F811
    db = f"sqlite:///{tmp_path / 'paircal.db'}"
    store = Store(db)
    store.ensure_starter_bank()
    lead, invite = accounts.create_cohort(store, "alpha", "lena", "lead-password")
    rater = accounts.join_cohort(store, invite, "ravi", "rater-password")
    onboarding.finish(store, rater.id)
    server = launch(db=db)
    shots = Path(os.environ.get("PAIRCAL_ASSESSMENT_SHOTS") or tmp_path)
    shots.mkdir(parents=True, exist_ok=True)

    # the lead: set 8 pairs aside at random, save the schedule
    page = browser.new_page(viewport={"width": 1400, "height": 2400})
    page.goto(server.url + sign_in_path(store, lead.id))
    page.get_by_role("tab", name="Assessments").click()
    page.get_by_label("Set aside pairs at random").fill("8")
    page.get_by_role("button", name="Set them aside").click()
    page.get_by_text("Set aside 8 pairs of starter", exact=False).wait_for(timeout=60_000)
    page.get_by_role("tab", name="Assessments").click()
    page.get_by_text("How well the forms are matched").wait_for(timeout=60_000)
    page.get_by_label("Time limit per form (minutes)").fill("15")
    page.get_by_role("button", name="Save the schedule").click()
    page.get_by_text("Assessment schedule saved").wait_for(timeout=60_000)
    page.get_by_role("tab", name="Assessments").click()
    page.get_by_text("How well the forms are matched").wait_for(timeout=60_000)
    page.wait_for_timeout(1000)
    page.screenshot(path=str(shots / "assessment-console.png"), full_page=True)
    held = assessments.hidden_pairs(store, lead.cohort_id, STARTER_BANK_NAME)
    assert len(held) == 8
    assert assessments.plan(store, lead.cohort_id)["time_limit_minutes"] == 15
    page.close()

    # the rater: sent to the baseline form, no feedback while answering, a reload resumes it
    bank = store.load_bank(STARTER_BANK_NAME).set_index("id")
    page = browser.new_page(viewport={"width": 1400, "height": 2400})
    page.goto(server.url + sign_in_path(store, rater.id))
    page.get_by_role("heading", name="Baseline form").wait_for(timeout=60_000)
    page.screenshot(path=str(shots / "assessment-intro.png"), full_page=True)
    page.get_by_role("button", name="Start the form").click()
    page.get_by_text("Pair 1 of 4", exact=True).wait_for(timeout=60_000)
    attempt = assessments.attempt(store, rater.id, "pre")
    assert attempt is not None and len(attempt.items) == 4
    for k, item in enumerate(attempt.items):
        if k == 2:  # a reload mid-form: the same pair, the same deadline
            page.reload()
        page.get_by_text(f"Pair {k + 1} of 4", exact=True).wait_for(timeout=60_000)
        page.wait_for_timeout(500)
        body = page.inner_text("body")
        assert "Time left" in body and "Why:" not in body
        reason = str(bank.loc[item.pair_id, "rationale"])
        assert reason[:40] not in body
        if k == 0:
            page.screenshot(path=str(shots / "assessment-pair.png"), full_page=True)
        page.get_by_text(f"Response {bank.loc[item.pair_id, 'gold']}", exact=True).last.click()
        page.get_by_text("90%", exact=True).last.click()
        page.get_by_role("button", name="Submit answer").click()
    page.get_by_text("Baseline form: your results").wait_for(timeout=60_000)
    page.get_by_text("Each pair, with the expert's reason").click()
    page.wait_for_timeout(1000)
    page.screenshot(path=str(shots / "assessment-results.png"), full_page=True)
    body = page.inner_text("body")
    assert "100%" in body and "Your post-training form opens" in body
    done = assessments.attempt(store, rater.id, "pre")
    assert done.closed and done.answered == 4 and done.deadline == attempt.deadline
    page.close()

    # the lead loads the demo cohort: its forms give the console the cohort's training effect
    page = browser.new_page(viewport={"width": 1400, "height": 3200})
    page.goto(server.url + sign_in_path(store, lead.id))
    page.get_by_text("Lead console: alpha").wait_for(timeout=60_000)
    page.wait_for_timeout(1500)
    page.get_by_role("tab", name="Drill settings").click()
    page.wait_for_timeout(3000)
    page.get_by_role("button", name="Load simulated demo cohort").click(timeout=60_000)
    page.get_by_text("Loaded", exact=False).wait_for(timeout=120_000)
    page.get_by_role("tab", name="Assessments").click()
    page.get_by_text("The cohort's training effect").wait_for(timeout=60_000)
    page.wait_for_timeout(1500)
    page.screenshot(path=str(shots / "assessment-effect.png"), full_page=True)
    body = page.inner_text("body")
    assert "Accuracy rose" in body and "Pre/post table (CSV)" in body  # the cohort's sentences, the CSV
    standing = assessments.cohort_assessment(store, lead.cohort_id)["raters"]
    assert len(standing) == 25 and standing["rater"].str.startswith("sim-").sum() == 24
    assert "Traceback" not in server.log


def test_my_report_shows_the_training_effect_and_readiness(launch, browser, tmp_path):  # noqa: F811
    from datetime import UTC, datetime, timedelta

    from storage import assessments as rows

    db = f"sqlite:///{tmp_path / 'paircal.db'}"
    store = Store(db)
    store.ensure_starter_bank()
    lead, invite = accounts.create_cohort(store, "alpha", "lena", "lead-password")
    rater = accounts.join_cohort(store, invite, "ravi", "rater-password")
    onboarding.finish(store, rater.id)
    pairs = store.load_bank(STARTER_BANK_NAME)
    decided = pairs[pairs["gold"] != "tie"]
    assessments.mark_pairs(store, lead, STARTER_BANK_NAME, decided["id"].head(60).tolist())
    assessments.save_plan(store, lead, bank=STARTER_BANK_NAME)
    forms = assessments.forms_of(store, lead.cohort_id, STARTER_BANK_NAME)
    gold = pairs.set_index("id")["gold"]
    start = datetime.now(UTC) - timedelta(days=20)

    def attempt(stage: str, form: str, at: datetime, wrong_every: int) -> dict:
        """A finished attempt: every ``wrong_every``-th pair answered wrongly, all at 90%."""
        ids = sorted(forms.index[forms == form])
        answers = [
            {
                "position": k,
                "pair_id": pid,
                "left": "A",
                "choice": {"A": "B", "B": "A"}[gold[pid]] if k % wrong_every == 0 else gold[pid],
                "confidence": 0.9,
                "shown_at": at + timedelta(seconds=20 * k),
                "answered_at": at + timedelta(seconds=20 * k + 15),
                "seconds": 15.0,
            }
            for k, pid in enumerate(ids)
        ]
        end = at + timedelta(seconds=20 * len(ids))
        return {
            "rater_id": rater.id,
            "stage": stage,
            "form": form,
            "bank_id": store.bank_id(STARTER_BANK_NAME),
            "started_at": at,
            "deadline": at + timedelta(minutes=20),
            "closed_at": end,
            "answers": answers,
        }

    # baseline: a third wrong; after training: one in ten wrong
    rows.insert_closed_attempts(
        store, [attempt("pre", "X", start, 3), attempt("post", "Y", start + timedelta(days=10), 10)]
    )
    server = launch(db=db)
    shots = Path(os.environ.get("PAIRCAL_ASSESSMENT_SHOTS") or tmp_path)
    shots.mkdir(parents=True, exist_ok=True)
    page = browser.new_page(viewport={"width": 1400, "height": 2400})
    page.goto(server.url + sign_in_path(store, rater.id))
    page.wait_for_timeout(2000)
    page.goto(server.url + "/report")
    page.get_by_text("Training effect and readiness").wait_for(timeout=60_000)
    page.wait_for_timeout(1500)
    page.screenshot(path=str(shots / "assessment-my-report.png"), full_page=True)
    body = page.inner_text("body")
    assert "chance of passing a 20-pair quiz at 80%" in body
    assert "Post vs pre" in body and "Pre/post table (CSV)" in body
    mine = assessments.rater_assessment(store, rater)
    accuracy = mine["effect"]["raters"]["ravi"]["effect"]["accuracy"]
    assert accuracy["pre"] == pytest.approx(20 / 30) and accuracy["post"] == pytest.approx(27 / 30)
    assert "Traceback" not in server.log
