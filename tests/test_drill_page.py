"""The drill page's data flow: what one Submit click costs the database and what it shows."""

from __future__ import annotations

import re
from contextlib import contextmanager
from pathlib import Path

import pytest
from sqlalchemy import event
from streamlit.testing.v1 import AppTest

from training import accounts, onboarding
from views.common import TOKEN, get_store

APP = str(Path(__file__).resolve().parent.parent / "app.py")


@contextmanager
def transactions(engine):
    """Count the transactions begun on ``engine`` inside the block (a list whose length is the count)."""
    begun: list[int] = []

    def on_begin(conn):
        begun.append(1)

    event.listen(engine, "begin", on_begin)
    try:
        yield begun
    finally:
        event.remove(engine, "begin", on_begin)


@pytest.fixture
def drilling(app_store):
    _, invite = accounts.create_cohort(app_store, "alpha", "lena", "lead-password")
    rater = accounts.join_cohort(app_store, invite, "ravi", "rater-password")
    onboarding.finish(app_store, rater.id)  # finished onboarding: these tests are about other pages
    at = AppTest.from_file(APP, default_timeout=90)
    at.session_state[TOKEN] = accounts.start_session(app_store, rater.id)
    at.run()
    at.switch_page("views/drill.py").run()
    assert not at.exception, at.exception
    return at


def choose(at: AppTest) -> AppTest:
    """Pick the first response shown at 80%: two clicks, each a run of its own, before Submit."""
    at = at.button(key="pick_1").click().run()
    return at.button(key="confidence_80").click().run()


def submit(at: AppTest) -> AppTest:
    return [b for b in at.button if b.label == "Submit"][0].click().run()


def test_a_submit_click_takes_at_most_four_transactions_and_one_write(drilling):
    engine = get_store().engine  # the app's own store: cache_resource is shared with this process
    writes_before = get_store().count_judgments()
    at = choose(drilling)
    assert get_store().count_judgments() == writes_before  # choosing stores nothing
    with transactions(engine) as begun:
        at = submit(at)
    assert not at.exception, at.exception
    assert get_store().count_judgments() == writes_before + 1
    assert "expert" in " ".join(str(e.value) for e in [*at.success, *at.error, *at.info])
    assert len(begun) <= 4, f"one Submit click ran {len(begun)} transactions"


def test_the_next_pair_click_reads_once_per_run(drilling):
    at = submit(choose(drilling))
    with transactions(get_store().engine) as begun:
        at = at.button(key="next_pair").click().run()
    assert not at.exception, at.exception
    assert "Pair 2 of 10" in [s.value for s in at.subheader]
    # one session check, one cohort read, one drill read, one write marking the pair as shown
    assert len(begun) <= 4, f"one Next click ran {len(begun)} transactions"


def test_the_feedback_shown_is_the_one_submit_stored(drilling, monkeypatch):
    # Reading the feedback back from the database after a submit is no longer needed: fail if it happens.
    from training import drills

    def no_reread(*args, **kwargs):
        raise AssertionError("the page read back feedback that submit had just returned")

    monkeypatch.setattr(drills, "feedback_for", no_reread)
    at = submit(choose(drilling))
    assert not at.exception, at.exception
    assert "<strong>Why:</strong>" in " ".join(str(h.value) for h in at.html)


def confidence_buttons(at: AppTest) -> dict[str, str]:
    """The drill's confidence buttons: label -> button type ("primary" marks the one chosen)."""
    return {b.label: b.proto.type for b in at.button if b.key and b.key.startswith("confidence_")}


def errors(at: AppTest) -> str:
    return " ".join(str(e.value) for e in at.error)


def test_no_confidence_is_preselected_and_submitting_without_one_stores_nothing(drilling):
    assert confidence_buttons(drilling) == dict.fromkeys(
        ["50%", "60%", "70%", "80%", "90%", "100%"], "secondary"
    )
    at = drilling.button(key="pick_1").click().run()
    at = submit(at)
    assert not at.exception, at.exception
    assert get_store().count_judgments() == 0
    assert "Choose how sure you are before submitting" in errors(at)
    assert "Pick the better response" not in errors(at)  # the pick was kept
    assert "Pair 1 of 10" in [s.value for s in at.subheader]

    at = submit(at.button(key="confidence_70").click().run())
    assert get_store().count_judgments() == 1
    assert get_store().export_judgments().iloc[0]["confidence"] == 0.7


def test_submitting_without_a_pick_stores_nothing_and_a_choice_does_not_carry_to_the_next_pair(drilling):
    at = submit(drilling.button(key="confidence_90").click().run())
    assert get_store().count_judgments() == 0
    assert "Pick the better response first" in errors(at)
    assert confidence_buttons(at)["90%"] == "primary"  # the confidence chosen is kept, and shown

    at = submit(at.button(key="pick_2").click().run())
    assert get_store().count_judgments() == 1
    at = at.button(key="next_pair").click().run()
    assert "Pair 2 of 10" in [s.value for s in at.subheader]
    assert set(confidence_buttons(at).values()) == {"secondary"}  # nothing chosen on the new pair
    at = submit(at)
    assert get_store().count_judgments() == 1
    assert "Pick the better response first" in errors(at) and "Choose how sure" in errors(at)


def test_a_reload_mid_practice_resumes_the_round_at_the_same_pair(app_store):
    from datetime import UTC, datetime

    from training import drills

    _, invite = accounts.create_cohort(app_store, "alpha", "lena", "lead-password")
    rater = accounts.join_cohort(app_store, invite, "ravi", "rater-password")
    onboarding.finish(app_store, rater.id)  # finished onboarding: these tests are about other pages
    daily = drills.get_or_create_drill(app_store, rater.id, "starter", datetime.now(UTC).date(), size=10)
    for item in daily.items:
        drills.submit(app_store, rater.id, daily.key, item.position, "A", 0.7)

    def open_page() -> AppTest:  # a fresh browser session: nothing carried in session state
        at = AppTest.from_file(APP, default_timeout=90)
        at.session_state[TOKEN] = accounts.start_session(app_store, rater.id)
        at.run()
        return at.switch_page("views/drill.py").run()

    at = open_page().button(key="practice_more").click().run()
    assert "Practice round 1" in [t.value for t in at.title]
    for _ in range(2):
        at = submit(choose(at)).button(key="next_pair").click().run()
    assert "Pair 3 of 10" in [s.value for s in at.subheader]

    at = open_page()  # the reload
    assert not at.exception, at.exception
    assert "Practice round 1" in [t.value for t in at.title]
    assert "Pair 3 of 10" in [s.value for s in at.subheader]
    assert at.get("progress")[0].proto.text == "2 of 10 pairs done"
    assert drills.latest_round(app_store, rater.id, datetime.now(UTC).date()) == 1  # no new round


def test_each_answer_shows_its_points_at_every_confidence_and_the_drill_ends_with_a_debrief(app_store):
    from datetime import UTC, datetime, timedelta

    from training import debrief, drills

    lead, invite = accounts.create_cohort(app_store, "alpha", "lena", "lead-password")
    accounts.set_drill_settings(app_store, lead.cohort_id, drill_size=2)
    rater = accounts.join_cohort(app_store, invite, "ravi", "rater-password")
    onboarding.finish(app_store, rater.id)  # finished onboarding: these tests are about other pages
    now = datetime.now(UTC)
    yesterday = drills.get_or_create_drill(
        app_store, rater.id, "starter", now.date() - timedelta(days=1), size=2
    )
    for item in yesterday.items:  # the last 7 days: two answers yesterday
        drills.submit(app_store, rater.id, yesterday.key, item.position, "A", 0.9, at=now - timedelta(days=1))

    at = AppTest.from_file(APP, default_timeout=90)
    at.session_state[TOKEN] = accounts.start_session(app_store, rater.id)
    at.run()
    at = submit(choose(at.switch_page("views/drill.py").run()))
    assert not at.exception, at.exception
    today = drills.get_or_create_drill(app_store, rater.id, "starter", now.date(), size=2)
    shown = drills.feedback_for(app_store, rater.id, today.key, 0)
    [said] = [str(c.value) for c in at.caption if "The same answer at each confidence" in str(c.value)]
    line = said.split("The same answer at each confidence", 1)[1]  # the line after "You said ..."
    for percent, points in shown.points_at:
        cell = f"{percent}%: {points:+.2f}"
        assert (f"**{cell} (yours)**" if percent == 80 else cell) in line
    assert f"this answer scores {shown.points:+.2f}" in " ".join(str(c.value) for c in at.caption)

    at = at.button(key="next_pair").click().run()
    at = submit(choose(at)).button(key="next_pair").click().run()  # the last pair, then Finish
    assert not at.exception, at.exception
    assert "Debrief" in [s.value for s in at.subheader]
    assert [m.label for m in at.metric][1:] == [
        "Accuracy",
        "Score per answer",
        "Mean confidence",
        "Time per pair",
    ]
    expected = debrief.drill_debrief(app_store, rater.id, today)
    assert expected.drill["n"] == 2 and expected.week["n"] == 2
    assert expected.calibration in " ".join(str(m.value) for m in at.markdown)
    assert any(expected.trap in str(h.proto.body) for h in at.get("html"))  # drawn literally
    assert "Last 7 days: 2 answers" in " ".join(str(c.value) for c in at.caption)
    assert "Mean confidence" in [m.label for m in at.metric] and "80%" in [m.value for m in at.metric]


def test_each_response_is_named_by_its_letter_as_the_reason_names_it(app_store):
    """Whichever order the drill draws, the captions, the answer buttons and the feedback call the
    responses "Response A" and "Response B": the expert's reason says A and B too."""
    from datetime import UTC, datetime

    from tests.test_app import app_as
    from training import drills, onboarding

    store = app_store
    _, invite = accounts.create_cohort(store, "alpha", "lena", "lead-password")
    rater = accounts.join_cohort(store, invite, "ravi", "rater-password")
    onboarding.finish(store, rater.id)  # not a test of onboarding
    drill = drills.get_or_create_drill(store, rater.id, "starter", datetime.now(UTC).date(), size=10)
    lefts = [item.left for item in drill.items]
    assert set(lefts) == {"A", "B"}  # the drill shows both orders, so the test sees both
    bank = store.load_bank("starter").set_index("id")
    at = app_as(store, rater, "views/drill.py")
    for item in drill.items[:4]:
        shown = [item.left, "B" if item.left == "A" else "A"]
        picks = [b.label for b in at.button if b.key and b.key.startswith("pick_")]
        assert picks == [f"Response {x}" for x in shown]
        blocks = " ".join(h.value for h in at.html)
        headings = re.findall(r'class="paircal-text-heading">(Response [AB])<', blocks)
        assert headings == [f"Response {x}" for x in shown]
        at = submit(at.button(key="pick_2").click().run().button(key="confidence_70").click().run())
        assert not at.exception, at.exception
        gold = bank.loc[item.pair_id, "gold"]
        said = " ".join(
            [m.value for m in at.success] + [m.value for m in at.error] + [m.value for m in at.info]
        )
        if gold in ("A", "B"):
            assert f"Response {gold}" in said
        assert f"You said Response {shown[1]} with 70% confidence" in " ".join(c.value for c in at.caption)
        at = at.button(key="next_pair").click().run()
