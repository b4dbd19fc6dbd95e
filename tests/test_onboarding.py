"""Onboarding under AppTest: where a new rater lands, the guided pairs, finishing, reopening; the glossary.

Also the drill's feedback in plain words and its pointer to the cohort's guidelines.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest
from test_app import app_as, env, text_of  # noqa: F401 (env: a cohort, its lead and a rater)

from calibration.leaderboard import skill_points
from pairs.bank import STARTER_BANK_PATH
from pairs.importers import read_bank
from storage import onboarding as rows
from training import accounts, cohort, drills, glossary, onboarding
from training.guidelines import TRAP_WORDS


@pytest.fixture
def new(env):  # noqa: F811
    """The cohort of ``env`` with a rater who has just joined: ``(store, lead, rater)``."""
    store, lead, _, invite = env
    return store, lead, accounts.join_cohort(store, invite, "nia", "nia-password")


def answer_guided(at, pick: str = "A", confidence: int = 80):
    """Answer the guided pair on screen: a pick, a confidence, Submit (one run each, as in a browser)."""
    at = at.button(key=f"guide_pick_{pick}").click().run()
    at = at.button(key=f"guide_confidence_{confidence}").click().run()
    return at.button(key="guide_submit").click().run()


def on_onboarding(at) -> bool:
    return any(t.value == "How to rate" for t in at.title)


def test_a_new_rater_lands_on_onboarding_even_when_asking_for_the_drill(new):
    store, _, rater = new
    at = app_as(store, rater)
    assert not at.exception, at.exception
    assert on_onboarding(at) and "Pair 1 of" not in text_of(at)
    at = app_as(store, rater, "views/drill.py")
    assert on_onboarding(at) and "Pair 1 of" not in text_of(at)


def test_the_guided_pairs_explain_and_store_no_judgment_and_finishing_is_kept(new):
    store, _, rater = new
    at = app_as(store, rater)
    assert "Practice pair 1 of 3" in text_of(at)
    assert not [b for b in at.button if b.key == "finish_onboarding"]  # not before the practice pairs
    at = at.button(key="guide_submit").click().run()  # nothing chosen: nothing kept, and it says so
    assert "Pick the better response first." in [e.value for e in at.error]
    assert onboarding.state(store, rater.id).answers == {}
    at = answer_guided(at, "A", 90)  # the longer one: the length trap
    assert not at.exception, at.exception
    shown = text_of(at)
    assert "The expert preferred Response B." in shown
    assert "Longer is not better" in shown  # the trap in plain words
    assert f"{float(skill_points([0], [0.9])[0]):+.2f}" in shown  # what it would have scored
    assert "Practice pair 2 of 3" in shown
    at = answer_guided(at, "A", 70)
    at = answer_guided(at, "B", 60)
    assert not at.exception, at.exception
    assert set(onboarding.state(store, rater.id).answers) == set(onboarding.guided_pairs()["id"])
    assert store.count_judgments() == 0  # practice, not judgments
    assert not onboarding.state(store, rater.id).finished
    at = at.button(key="finish_onboarding").click().run()
    assert not at.exception, at.exception
    assert onboarding.state(store, rater.id).finished
    assert "Pair 1 of 10" in text_of(at)  # straight on to the first drill
    again = app_as(store, rater)  # a new session, as after a restart: the drill, not onboarding
    assert "Pair 1 of 10" in text_of(again) and not on_onboarding(again)


def test_reloading_keeps_the_guided_answers(new):
    store, _, rater = new
    at = answer_guided(app_as(store, rater), "B", 80)
    assert "Practice pair 2 of 3" in text_of(at)
    again = app_as(store, rater)  # another session reads them back from the database
    assert "You agreed with the expert: Response B is better." in text_of(again)
    assert "Practice pair 2 of 3" in text_of(again)


def test_the_drill_page_reopens_onboarding(new):
    store, _, rater = new
    onboarding.finish(store, rater.id)
    at = app_as(store, rater)
    assert "Pair 1 of 10" in text_of(at)
    at = at.button(key="how_to_rate").click().run()
    assert not at.exception, at.exception
    assert on_onboarding(at)
    assert "What makes a response better" in [h.value.split(". ", 1)[-1] for h in at.header]


def test_a_lead_is_not_sent_to_onboarding_but_can_open_it(new):
    store, lead, _ = new
    at = app_as(store, lead)
    assert not on_onboarding(at)
    at = app_as(store, lead, "views/onboarding.py")
    assert not at.exception, at.exception
    assert on_onboarding(at)


def test_a_rater_who_drilled_before_onboarding_existed_is_not_sent_back(new):
    store, _, rater = new
    drill = drills.get_or_create_drill(store, rater.id, "starter", datetime.now(UTC).date(), size=10)
    drills.submit(store, rater.id, drill.key, 0, "A", 0.8)
    assert "Pair 2 of 10" in text_of(app_as(store, rater))


def test_the_calibration_example_uses_the_leaderboard_score(new):
    store, _, rater = new
    at = app_as(store, rater)
    [table] = at.table
    cells = table.value
    for level in (0.6, 0.9):
        row = cells.loc[f"{round(100 * level)}%"]
        assert row["Right answer"] == f"{float(skill_points([1], [level])[0]):+.2f}"
        assert row["Wrong answer"] == f"{float(skill_points([0], [level])[0]):+.2f}"
    assert "about 8 of them are right" in text_of(at)


def test_the_cohorts_guidelines_show_on_onboarding_as_text_not_markup(new):
    store, lead, rater = new
    cohort.set_guidelines(store, lead, "## Length\nShorter is fine. <img src=x onerror=alert(1)>")
    at = app_as(store, rater)
    assert "4. Your cohort's guidelines" in [h.value for h in at.header]
    html = " ".join(h.value for h in at.html)
    assert "Shorter is fine." in html and "<img" not in html


def test_a_finished_row_written_for_someone_else_does_not_count(new):
    store, _, rater = new
    rows.record_finished(store, rater.id)
    assert onboarding.state(store, rater.id).finished
    key = rows.finished_key(rater.id)
    store.write(
        lambda conn: conn.exec_driver_sql(
            "UPDATE settings SET value = ? WHERE key = ?"
            if store.engine.dialect.name == "sqlite"
            else "UPDATE settings SET value = %s WHERE key = %s",
            (json.dumps({"at": "x", "for": ["alpha", "somebody else"]}), key),
        )
    )
    assert not onboarding.state(store, rater.id).finished


def test_every_trap_kind_of_the_shipped_banks_has_a_glossary_entry():
    kinds = set()
    for path in (STARTER_BANK_PATH, onboarding.GUIDED_PATH):
        for tags in read_bank(path, "jsonl")["tags"]:
            kinds.update(tags)
    assert kinds, "the starter bank has tags"
    assert kinds <= set(glossary.GLOSSARY)
    assert set(TRAP_WORDS) <= set(glossary.GLOSSARY)  # every kind the guidelines know
    assert glossary.trap_name("control") == "None, a plain comparison"
    assert set(onboarding.guided_pairs()["tags"].map(lambda t: t[0])) == {"length", "polish", "constraint"}


def test_the_feedback_names_the_trap_in_plain_words_and_points_to_the_guidelines(new):
    store, lead, rater = new
    onboarding.finish(store, rater.id)
    cohort.set_guidelines(
        store,
        lead,
        "# Rating\nRead both.\n## Length\nA longer answer earns nothing for its length.\n## Polish\nx",
    )
    accounts.set_drill_settings(store, lead.cohort_id, drill_size=30)
    drill = drills.get_or_create_drill(store, rater.id, "starter", datetime.now(UTC).date(), size=30)
    bank = store.load_bank("starter").set_index("id")
    first = next(i for i in drill.items if "length" in bank.loc[i.pair_id, "tags"])
    for item in drill.items[: first.position]:  # answered before: the length pair is the one on screen
        drills.submit(store, rater.id, drill.key, item.position, "A", 0.7)
    at = app_as(store, rater)
    assert f"Pair {first.position + 1} of 30" in text_of(at)
    at = at.button(key="pick_1").click().run()
    at = at.button(key="confidence_70").click().run()
    at = at.button(key="submit").click().run()
    assert not at.exception, at.exception
    shown = text_of(at)
    assert "Longer is not better" in shown and glossary.trap_sentence("length") in shown
    [box] = [e for e in at.expander if e.label.startswith("Your cohort")]
    assert box.label == "Your cohort's guidelines on this: Length"
    section = " ".join(h.value for h in box.get("html"))
    assert "A longer answer earns nothing for its length." in section and "Read both." not in section


def test_no_guidelines_section_no_pointer(new):
    store, lead, rater = new
    onboarding.finish(store, rater.id)
    cohort.set_guidelines(store, lead, "# Rating\nRead both answers.")
    drill = drills.get_or_create_drill(store, rater.id, "starter", datetime.now(UTC).date(), size=10)
    at = app_as(store, rater)
    at = at.button(key="pick_1").click().run()
    at = at.button(key="confidence_70").click().run()
    at = at.button(key="submit").click().run()
    assert drill.items and not at.exception
    assert not [e for e in at.expander if e.label.startswith("Your cohort")]
    assert store.count_judgments() == 1


def test_a_guided_answer_is_kept_once_and_checked(new):
    store, _, rater = new
    assert onboarding.answer(store, rater.id, "onboarding-polish", "A", 0.9)
    assert not onboarding.answer(store, rater.id, "onboarding-polish", "B", 0.6)  # the first one stays
    assert onboarding.state(store, rater.id).answers == {"onboarding-polish": ("A", 0.9)}
    for pair_id, choice, confidence in [
        ("starter-coding-001", "A", 0.8),  # a bank pair is no guided pair
        ("onboarding-length", "tie", 0.8),
        ("onboarding-length", "A", 0.4),
    ]:
        with pytest.raises(ValueError):
            onboarding.answer(store, rater.id, pair_id, choice, confidence)
    assert store.count_judgments() == 0
    with pytest.raises(KeyError):
        onboarding.state(store, 10_000)
