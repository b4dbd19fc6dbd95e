"""Switching a cohort's drill bank hides no history: the leaderboard, My report, the lead console and its
export count every bank the cohort answered, say which, and filter to one bank on request."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pandas as pd
import pytest

from calibration.data import BANK_SEPARATOR
from pairs.bank import STARTER_BANK_NAME
from tests.test_app import app_as, text_of
from tests.test_console import answer
from training import accounts, cohort


@pytest.fixture
def switched(app_store):
    """Ravi drills 3 days on the starter bank; the lead then switches to their own bank "mine" (the
    starter's pairs under the same ids) and ravi drills one day there."""
    store = app_store
    lead, invite = accounts.create_cohort(store, "alpha", "lena", "lead-password")
    rater = accounts.join_cohort(store, invite, "ravi", "rater-password")
    gold = store.load_bank(STARTER_BANK_NAME).set_index("id")["gold"]
    right = lambda pid: gold[pid] if gold[pid] in ("A", "B") else "A"  # noqa: E731
    today = datetime.now(UTC).date()
    before = [
        p
        for d in (3, 2, 1)
        for p in answer(store, rater, STARTER_BANK_NAME, today - timedelta(days=d), right)
    ]
    store.import_bank(
        "mine", store.load_bank(STARTER_BANK_NAME), owner_cohort_id=lead.cohort_id, as_server=False
    )
    accounts.set_drill_settings(store, lead.cohort_id, bank="mine")
    after = answer(store, rater, "mine", today, right)
    return store, lead, rater, before, after


def test_figure_banks_lists_every_bank_answered_and_the_drill_bank(switched, app_store):
    store, lead, rater, before, after = switched
    assert cohort.figure_banks(store, "alpha", "mine") == [STARTER_BANK_NAME, "mine"]
    assert store.cohort_banks(cohort="alpha") == [STARTER_BANK_NAME, "mine"]
    accounts.create_cohort(store, "beta", "bob", "lead-password", by=lead)  # by the admin
    assert cohort.figure_banks(store, "beta", STARTER_BANK_NAME) == [
        STARTER_BANK_NAME
    ]  # nothing answered yet
    assert store.cohort_banks(cohort="beta") == []


def test_the_leaderboard_keeps_the_old_banks_answers_and_filters_to_one(switched):
    store, lead, rater, before, after = switched
    at = app_as(store, rater, "views/leaderboard.py")
    at.segmented_control(key="board_window").set_value("All time").run()
    assert not at.exception, at.exception
    board = at.dataframe[0].value.set_index("rater")
    assert board.loc["ravi", "n"] == len(before) + len(after) == 40  # not just the 10 on the new bank
    assert "Covers 2 banks (starter, mine): 40 judgments." in text_of(at)
    at.selectbox(key="board_banks").set_value("mine").run()
    assert at.dataframe[0].value.set_index("rater").loc["ravi", "n"] == 10
    assert "Covers the bank mine: 10 judgments." in text_of(at)


def test_my_report_and_the_console_count_every_bank(switched):
    store, lead, rater, before, after = switched
    report = app_as(store, rater, "views/report.py")
    assert not report.exception, report.exception
    assert "Covers 2 banks (starter, mine): 40 judgments." in text_of(report)
    console = app_as(store, lead, "views/lead.py")
    assert not console.exception, console.exception
    metrics = {m.label: m.value for m in console.metric}
    assert (metrics["Raters"], metrics["Judgments"]) == ("1", "40")
    console.selectbox(key="console_banks").set_value(STARTER_BANK_NAME).run()
    metrics = {m.label: m.value for m in console.metric}
    assert metrics["Judgments"] == "30"
    assert "Auditing the bank starter." in text_of(console)


def test_the_export_says_what_it_covers_and_keeps_each_pairs_own_id(switched):
    store, lead, rater, before, after = switched
    console = app_as(store, lead, "views/lead.py")
    console.button(key="build_cohort_report").click().run()
    assert not console.exception, console.exception
    assert "Covers 2 banks (starter, mine): 40 judgments." in text_of(console)
    from pairs.judgments import to_csv
    from views import cohort_cache
    from views.coverage import covers, judgments_for_csv

    data = cohort_cache.cohort_cache("alpha", lead.cohort_id, (STARTER_BANK_NAME, "mine"))
    frame = data.prepared()
    assert frame["pair_id"].str.contains(BANK_SEPARATOR, regex=False).all()  # ids kept apart per bank
    assert sorted(frame["bank"].value_counts().to_dict().items()) == [("mine", 10), (STARTER_BANK_NAME, 30)]
    csv = pd.read_csv(pd.io.common.StringIO(to_csv(*judgments_for_csv(frame, data.banks))))
    assert list(csv.columns[:2]) == ["bank", "rater"]
    assert sorted(csv.loc[csv["bank"] == "mine", "pair_id"]) == sorted(after)
    assert covers(data.banks, len(frame)) == {"banks": [STARTER_BANK_NAME, "mine"], "judgments": 40}
    from calibration.render import to_html, to_markdown
    from calibration.report import build_report

    report = build_report(frame, n_boot=50)
    report["covers"] = covers(data.banks, len(frame))
    assert "Covers 2 banks (starter, mine): 40 judgments." in to_html(report)
    assert "Covers 2 banks (starter, mine): 40 judgments." in to_markdown(report)
    assert json.loads(json.dumps(report["covers"]))["judgments"] == 40


def test_a_drill_drawn_before_the_bank_switch_goes_on_with_its_own_pairs(app_store):
    """The lead switches the cohort's bank while a rater is half-way through today's drill: the drill
    page keeps showing that drill's pairs (from the bank it was drawn from) and takes the answers."""
    from datetime import UTC, datetime

    from tests.test_drill_page import submit
    from training import drills

    store = app_store
    lead, invite = accounts.create_cohort(store, "alpha", "lena", "lead-password")
    rater = accounts.join_cohort(store, invite, "ravi", "rater-password")
    today = datetime.now(UTC).date()
    drill = drills.get_or_create_drill(store, rater.id, STARTER_BANK_NAME, today, size=10)
    drills.submit(store, rater.id, drill.key, 0, "A", 0.8)
    other = store.load_bank(STARTER_BANK_NAME).head(30).assign(id=lambda b: "other-" + b["id"])
    store.import_bank("other", other, owner_cohort_id=lead.cohort_id, as_server=False)
    accounts.set_drill_settings(store, lead.cohort_id, bank="other")
    at = app_as(store, rater, "views/drill.py")
    assert not at.exception, at.exception
    assert "Pair 2 of 10" in [h.value for h in at.subheader]
    prompt = store.load_bank(STARTER_BANK_NAME).set_index("id").loc[drill.items[1].pair_id, "prompt"]
    assert prompt[:40] in text_of(at)
    at = submit(at.button(key="pick_1").click().run().button(key="confidence_80").click().run())
    assert not at.exception, at.exception
    assert len(store.export_judgments()) == 2
