"""The lead console's Progress tab, drawn by the app (AppTest) on a small seeded cohort."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pandas as pd
import pytest

from calibration.simulate import RaterSpec, simulate_judgments
from pairs.bank import STARTER_BANK_NAME
from tests.test_app import app_as, text_of
from training import accounts, drills


def seed_cohort(store, *, people: int = 3, weeks: int = 5) -> accounts.Rater:
    """Lead lena; ravi (joined, never drilled); rosa (drilled today); ``people`` imported raters over
    ``weeks`` weeks, the first half of them learning (more skilled in their later drills); and a
    simulated demo rater. Returns the lead."""
    lead, invite = accounts.create_cohort(store, "alpha", "lena", "lead-password")
    accounts.join_cohort(store, invite, "ravi", "rater-password")
    rosa = accounts.join_cohort(store, invite, "rosa", "rater-password")
    bank = store.load_bank(STARTER_BANK_NAME)
    now = pd.Timestamp(datetime.now(UTC))
    days = 7 * weeks - 1
    names = ["nora", "omar", "pia", "quinn", "ruth", "sami", "tomas", "uma"][:people]
    learning = set(names[: people // 2])
    early = [RaterSpec(n, skill=0.4 if n in learning else 1.0) for n in names]
    late = [RaterSpec(n, skill=1.8 if n in learning else 1.0) for n in names]
    half = 15 * weeks
    parts = [
        simulate_judgments(bank, early, n_per_rater=half, seed=3, start=now - pd.Timedelta(days=days)),
        simulate_judgments(bank, late, n_per_rater=half, seed=4, start=now - pd.Timedelta(days=days // 2)),
    ]
    judged = pd.concat(parts, ignore_index=True)
    # imported answers end before this week (Monday 00:00 UTC): this week holds rosa's drill alone,
    # whatever the day and hour the tests run
    week = now.normalize() - pd.Timedelta(days=now.weekday())
    store.import_judgments(judged[judged["answered_at"] < week], bank=STARTER_BANK_NAME, cohort="alpha")
    demo = simulate_judgments(
        bank, [RaterSpec("sim-01-steady")], n_per_rater=40, seed=5, start=now - pd.Timedelta(days=30)
    )
    accounts.add_simulated_raters(store, lead.cohort_id, ["sim-01-steady"])
    store.import_judgments(demo[demo["answered_at"] < week], bank=STARTER_BANK_NAME, cohort="alpha")
    drill = drills.get_or_create_drill(store, rosa.id, STARTER_BANK_NAME, now.date(), size=5)
    for item in drill.items:
        drills.submit(store, rosa.id, drill.key, item.position, choice="A", confidence=0.7)
    return lead


@pytest.fixture
def seeded(app_store):
    return app_store, seed_cohort(app_store)


def progress_tab(at):
    labels = [t.label for t in at.tabs]
    assert labels[:3] == ["Cohort", "Progress", "Gold audit"]
    return at.tabs[1]


def charts_in(block) -> list[dict]:
    return [json.loads(c.proto.spec) for c in block.get("vega_lite_chart")]


def test_progress_tab_shows_weekly_panels_and_both_tables(seeded):
    store, lead = seeded
    at = app_as(store, lead, "views/lead.py")
    assert not at.exception
    tab = progress_tab(at)
    assert len(charts_in(tab)) == 6
    titles = [m.value for m in tab.markdown if m.value.startswith("**")]
    assert titles == [
        "**Agreement with experts**",
        "**Score per answer (the leaderboard's)**",
        "**Overconfidence**",
        "**Pull of the longer answer**",
        "**Pull of the more formatted answer**",
        "**Pull of the left side**",
    ]
    tables = tab.dataframe
    assert len(tables) == 2
    idle = tables[0].value
    assert idle.columns.tolist() == ["Rater", "Last drill", "Days since", "Streak (days)"]
    assert idle["Rater"].tolist()[0] == "ravi" and idle["Last drill"].tolist()[0] == "never"
    assert "rosa" not in idle["Rater"].tolist()  # drilled today
    assert "lena" not in idle["Rater"].tolist()  # the lead
    improved = tables[1].value
    assert set(improved["Rater"]) <= {"nora", "omar", "pia"}  # people only: the demo rater is left out
    assert len(improved) >= 2
    for frame in (idle, improved):
        cells = frame.astype(str).to_numpy().ravel().tolist()
        assert not {"None", "nan", "NaN", "NaT", ""} & set(cells)
        assert not any(c.startswith("'") for c in cells)  # nothing a spreadsheet would run
    assert all(c.startswith("from ") for c in improved["95% interval"])
    assert improved["Change (pts)"].dtype.kind == "f"  # a number, formatted by the column, never "'+10"
    text = text_of(at)
    assert "judgments by 4 raters on the bank starter" in text.replace("\\", "")
    assert "Monday to Sunday, UTC" in text


def test_simulated_raters_are_shown_labelled_when_asked(seeded):
    store, lead = seeded
    at = app_as(store, lead, "views/lead.py")
    at.checkbox(key="progress_show_simulated").check().run()
    assert not at.exception
    tab = progress_tab(at)
    shown = [*tab.dataframe[0].value["Rater"], *tab.dataframe[1].value["Rater"]]
    text = text_of(at).replace("\\", "")
    assert "judgments by 5 raters (1 of them simulated)" in text
    assert all(r == "sim-01-steady (simulated)" for r in shown if r.startswith("sim-"))


def test_a_cohort_without_judgments_lists_everyone_as_not_drilled(app_store):
    lead, invite = accounts.create_cohort(app_store, "alpha", "lena", "lead-password")
    accounts.join_cohort(app_store, invite, "ravi", "rater-password")
    at = app_as(app_store, lead, "views/lead.py")
    assert not at.exception
    tab = progress_tab(at)
    assert not charts_in(tab)
    assert tab.dataframe[0].value["Rater"].tolist() == ["ravi"]
    assert "No dated judgments yet" in text_of(at)


def test_the_figures_follow_new_answers(seeded):
    """The weekly figures are cached per version of the cohort's judgments: a new answer shows."""
    store, lead = seeded
    at = app_as(store, lead, "views/lead.py")

    def this_week(at) -> str:  # the caption drawn from the (cached) weekly figures
        return next(c.value for c in progress_tab(at).caption if c.value.startswith("No point yet"))

    assert "5 judgments so far" in this_week(at)
    ravi = accounts.login(store, "alpha", "ravi", "rater-password")
    drill = drills.get_or_create_drill(store, ravi.id, STARTER_BANK_NAME, datetime.now(UTC).date(), size=3)
    for item in drill.items:
        drills.submit(store, ravi.id, drill.key, item.position, choice="B", confidence=0.6)
    at.run()
    assert not at.exception
    assert "8 judgments so far" in this_week(at)
    assert "ravi" not in progress_tab(at).dataframe[0].value["Rater"].tolist()
