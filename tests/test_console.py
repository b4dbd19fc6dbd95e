"""The lead's console for running a cohort: the gold audit's recorded acts, retired pairs, guidelines,
removing the demo data, the readable leaderboard, the join link, and the import message."""

from __future__ import annotations

import json
import re
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import sqlalchemy as sa
from streamlit.testing.v1 import AppTest

from calibration.leaderboard import MIN_RANKED
from pairs.bank import STARTER_BANK_NAME
from pairs.markdown import escape_markdown
from storage.schema import pair_changes
from storage.store import Store
from tests.test_app import APP, app_as, text_of
from training import accounts, cohort, drills, onboarding
from views.common import TOKEN

ROOT = Path(__file__).resolve().parent.parent

FLIPPED = "starter-coding-001"
OTHER = {"A": "B", "B": "A"}


@pytest.fixture
def env(app_store):
    store = app_store
    lead, invite = accounts.create_cohort(store, "alpha", "lena", "lead-password")
    rater = accounts.join_cohort(store, invite, "ravi", "rater-password")
    onboarding.finish(store, rater.id)  # finished onboarding: these tests are about other pages
    return store, lead, rater, invite


def own_bank(store: Store, lead: accounts.Rater, *, wrong: tuple[str, ...] = ()) -> pd.DataFrame:
    """The cohort's own bank "mine": the starter bank with the gold of ``wrong`` pairs flipped.

    Returns the true bank (the starter's golds)."""
    truth = store.load_bank(STARTER_BANK_NAME)
    mine = truth.copy()
    flip = mine["id"].isin(wrong)
    mine.loc[flip, "gold"] = mine.loc[flip, "gold"].map(OTHER)
    store.import_bank("mine", mine, owner_cohort_id=lead.cohort_id, as_server=False)
    accounts.set_drill_settings(store, lead.cohort_id, bank="mine")
    return truth


def skilled_raters(store: Store, lead: accounts.Rater, truth: pd.DataFrame, *, raters: int = 20) -> None:
    """Simulated raters who answer every pair by its true gold 80-95% of the time, at 80%."""
    rng = np.random.default_rng(0)
    start = pd.Timestamp(datetime.now(UTC)) - pd.Timedelta(days=20)
    rows = []
    for r in range(raters):
        skill = 0.8 + 0.15 * rng.random()
        for i, (pid, gold) in enumerate(zip(truth["id"], truth["gold"], strict=True)):
            right = gold if gold in OTHER else rng.choice(["A", "B"])
            rows.append(
                {
                    "rater": f"sim-{r:02d}",
                    "pair_id": pid,
                    "choice": right if rng.random() < skill else OTHER[right],
                    "confidence": 0.8,
                    "left": "A",
                    "answered_at": start + pd.Timedelta(minutes=200 * r + i),
                    "seconds": 10.0,
                }
            )
    frame = pd.DataFrame(rows)
    accounts.add_simulated_raters(store, lead.cohort_id, sorted(frame["rater"].unique()))
    store.import_judgments(frame, bank="mine", cohort=lead.cohort)


def answer(store: Store, rater: accounts.Rater, bank: str, day: date, choice_of) -> list[str]:
    """Finish the rater's daily drill of ``day``; ``choice_of(pair_id)`` gives each answer."""
    drill = drills.get_or_create_drill(store, rater.id, bank, day, size=10)
    for item in drill.items:
        drills.submit(
            store, rater.id, drill.key, item.position, choice=choice_of(item.pair_id), confidence=0.9
        )
    return [item.pair_id for item in drill.items]


# -- the recorded acts, in the store ------------------------------------------------------


def test_a_gold_correction_is_recorded_and_rescores_past_answers(env):
    store, lead, rater, _ = env
    truth = own_bank(store, lead)
    gold = truth.set_index("id")["gold"]
    answered = answer(
        store, rater, "mine", date(2026, 11, 2), lambda pid: gold[pid] if gold[pid] != "tie" else "A"
    )
    pid = next(p for p in answered if gold[p] in OTHER)
    before = store.cohort_judgments(cohort="alpha", bank="mine")
    assert cohort.correct_gold(store, lead, "mine", pid, OTHER[gold[pid]])
    assert not cohort.correct_gold(store, lead, "mine", pid, OTHER[gold[pid]])  # already so: nothing recorded
    assert store.load_bank("mine").set_index("id").loc[pid, "gold"] == OTHER[gold[pid]]
    history = cohort.pair_history(store, "mine")
    assert history[["pair_id", "field", "old", "new", "changed_by"]].values.tolist() == [
        [pid, "gold", gold[pid], OTHER[gold[pid]], "lena"]
    ]
    assert history["changed_at"].iloc[0] > pd.Timestamp(datetime.now(UTC)) - pd.Timedelta(minutes=5)
    # the answers are untouched; what scores them, the bank's gold, changed
    assert store.cohort_judgments(cohort="alpha", bank="mine").equals(before)
    prepared = drills.rater_history(store, rater.id, "mine").set_index("pair_id")
    assert prepared.loc[pid, "correct"] == 0.0
    noted = cohort.corrections_for(store, rater, "mine")
    assert noted[["pair_id", "old", "new"]].values.tolist() == [[pid, gold[pid], OTHER[gold[pid]]]]
    assert cohort.corrections_for(store, lead, "mine").empty  # the lead answered nothing


def test_the_reason_is_corrected_and_recorded_too(env):
    store, lead, _, _ = env
    own_bank(store, lead)
    old = store.load_bank("mine").set_index("id").loc[FLIPPED, "rationale"]
    assert cohort.correct_reason(store, lead, "mine", FLIPPED, "  A is *right*: it runs.  ")
    assert store.load_bank("mine").set_index("id").loc[FLIPPED, "rationale"] == "A is *right*: it runs."
    assert cohort.pair_history(store, "mine")[["field", "old", "new"]].values.tolist() == [
        ["rationale", old, "A is *right*: it runs."]
    ]


def test_only_the_lead_of_the_cohort_owning_the_bank_may_change_it(env):
    store, lead, rater, _ = env
    with pytest.raises(accounts.AccountError, match=re.escape("Make an editable copy")):
        cohort.correct_gold(store, lead, STARTER_BANK_NAME, FLIPPED, "B")  # the shared, read-only bank
    assert not cohort.can_edit(store, lead, STARTER_BANK_NAME)
    own_bank(store, lead)
    assert cohort.can_edit(store, lead, "mine") and not cohort.can_edit(store, rater, "mine")
    with pytest.raises(accounts.AccountError, match="Only the cohort's lead"):
        cohort.correct_gold(store, rater, "mine", FLIPPED, "B")
    other, _ = accounts.create_cohort_with_invite(store, "beta", bank=STARTER_BANK_NAME, by=lead)
    beta = accounts.Rater(
        id=lead.id, name="bo", role="lead", cohort_id=other, cohort="beta", simulated=False, admin=False
    )
    for act in (
        lambda: cohort.correct_gold(store, beta, "mine", FLIPPED, "B"),
        lambda: cohort.retire_pair(store, beta, "mine", FLIPPED),
    ):
        with pytest.raises(accounts.AccountError, match=re.escape(cohort.NOT_EDITABLE)):
            act()
    with pytest.raises(accounts.AccountError, match="A, B or tie"):
        cohort.correct_gold(store, lead, "mine", FLIPPED, "C")
    with store.read() as conn:
        assert conn.execute(sa.select(sa.func.count()).select_from(pair_changes)).scalar() == 0


def test_a_retired_pair_is_never_drawn_into_a_drill_again(env):
    store, lead, rater, _ = env
    own_bank(store, lead)
    ids = store.load_bank("mine")["id"].tolist()
    keep = set(ids[:12])
    for pid in ids[12:]:
        assert cohort.retire_pair(store, lead, "mine", pid)
    assert cohort.retired_pairs(store, "mine") == set(ids[12:])
    for day in range(1, 6):
        drill = drills.get_or_create_drill(store, rater.id, "mine", date(2026, 11, day), size=10)
        assert {item.pair_id for item in drill.items} <= keep
    for pid in ids[1:12]:
        cohort.retire_pair(store, lead, "mine", pid)
    with pytest.raises(accounts.AccountError, match="last pair"):
        cohort.retire_pair(store, lead, "mine", ids[0])
    drill = drills.get_or_create_drill(store, rater.id, "mine", date(2026, 11, 9), size=10)
    assert [item.pair_id for item in drill.items] == [ids[0]]
    for pid in ids[1:12]:
        cohort.retire_pair(store, lead, "mine", pid, retired=False)
    assert cohort.retire_pair(store, lead, "mine", ids[20], retired=False)  # back in drills
    assert not cohort.retire_pair(store, lead, "mine", ids[20], retired=False)
    fields = cohort.pair_history(store, "mine")[["pair_id", "field", "old", "new"]].values.tolist()
    assert fields[-1] == [ids[20], "retired", "yes", "no"] and len(fields) == len(ids) - 12 + 11 + 11 + 1


# -- guidelines and demo data, in the store ---------------------------------------------------


def test_guidelines_are_stored_replaced_and_removed(env):
    store, lead, rater, _ = env
    assert cohort.guidelines(store, lead.cohort_id) is None
    cohort.set_guidelines(store, lead, "# Rules\n\nPrefer the *correct* answer.")
    cohort.set_guidelines(store, lead, "Prefer the **correct** answer, then the shorter.")
    kept = cohort.guidelines(store, lead.cohort_id)
    assert kept["text"] == "Prefer the **correct** answer, then the shorter." and kept["updated_by"] == "lena"
    with pytest.raises(accounts.AccountError):
        cohort.set_guidelines(store, rater, "mine now")
    cohort.set_guidelines(store, lead, "   ")
    assert cohort.guidelines(store, lead.cohort_id) is None


def test_removing_the_demo_data_keeps_the_people_answers(env):
    store, lead, rater, _ = env
    truth = own_bank(store, lead)
    skilled_raters(store, lead, truth, raters=3)
    answer(store, rater, "mine", date(2026, 11, 2), lambda pid: "A")
    assert store.count_judgments() == 3 * len(truth) + 10
    assert cohort.remove_demo_data(store, lead) == {"raters": 3, "judgments": 3 * len(truth)}
    assert store.count_judgments() == 10
    assert set(accounts.list_raters(store, lead.cohort_id)["name"]) == {"lena", "ravi"}
    assert cohort.remove_demo_data(store, lead) == {"raters": 0, "judgments": 0}


# -- the readable board -----------------------------------------------------------------------


def board_of(**columns) -> pd.DataFrame:
    n = len(columns["rater"])
    base = {"rank": [np.nan] * n, "n": [0] * n, "score": [np.nan] * n, "ci_low": [np.nan] * n}
    base |= {"ci_high": [np.nan] * n, "streak": [0] * n}
    return pd.DataFrame(base | columns)


def test_the_readable_board_says_how_many_answers_are_missing_never_none():
    board = board_of(
        rater=["ann", "bo", "cy"],
        rank=[1.0, np.nan, np.nan],
        n=[30, 7, 0],
        score=[0.4, 0.2, np.nan],
        ci_low=[0.2, 0.0, np.nan],
        ci_high=[0.6, 0.4, np.nan],
    )
    table = cohort.readable_board(board, min_n=MIN_RANKED)
    assert list(table.columns) == cohort.BOARD_COLUMNS
    assert table["rank"].tolist() == [
        "1",
        f"not ranked yet ({MIN_RANKED - 7} more answers)",
        f"not ranked yet ({MIN_RANKED} more answers)",
    ]
    assert table["score"].tolist() == ["0.400", "0.200", "no score yet"]
    assert table["interval"].tolist() == ["0.200 to 0.600", "0.000 to 0.400", "no answers yet"]
    cells = {str(v) for v in table.drop(columns="score_bar").to_numpy().ravel()}
    assert not cells & {"None", "nan", "NaN", "<NA>"}


def test_the_consoles_extra_columns_are_text_with_no_none_and_no_escaped_figure():
    """Negative scores and intervals, accuracy, overconfidence and odds ratios as the console shows
    them: no "None" for a rater the bias model cannot fit yet, and no cell the spreadsheet guard
    would prefix with an apostrophe (a leading "-" reads as a formula)."""
    from pairs.export import spreadsheet_safe

    board = board_of(
        rater=["ann", "bo"],
        rank=[1.0, 2.0],
        n=[40, 25],
        score=[0.05, -0.12],
        ci_low=[-0.1, -0.3],
        ci_high=[0.2, 0.06],
    )
    board = board.assign(
        accuracy=[0.7321, 1.0],
        overconfidence=[0.083, -0.2],
        length_or=[2.4213, np.nan],
        polish_or=[0.9, np.nan],
    )
    table = cohort.readable_board(
        board, min_n=20, keep=("accuracy", "overconfidence", "length_or", "polish_or")
    )
    assert table["score"].tolist() == ["0.050", "-0.120"]
    assert table["interval"].tolist() == ["-0.100 to 0.200", "-0.300 to 0.060"]
    assert table[["accuracy", "overconfidence", "length_or", "polish_or"]].values.tolist() == [
        ["73%", "+8%", "2.42", "0.90"],
        ["100%", "-20%", "n/a", "n/a"],
    ]
    safe = spreadsheet_safe(table)
    pd.testing.assert_frame_equal(safe, table)  # nothing needed escaping
    cells = {str(v) for v in table.drop(columns="score_bar").to_numpy().ravel()}
    assert not cells & {"None", "nan", "NaN", "<NA>"}


def test_simulated_raters_leave_the_board_once_people_are_on_it():
    board = board_of(rater=["sim-01", "ann", "sim-02", "imp"], rank=[1.0, 2.0, 3.0, 4.0], n=[40, 30, 25, 22])
    alone = board_of(rater=["sim-01", "sim-02"], rank=[1.0, 2.0], n=[40, 30])
    sims = {"sim-01", "sim-02"}
    hidden = cohort.readable_board(board, min_n=20, simulated=sims, people={"ann"})
    assert hidden[["rank", "rater"]].values.tolist() == [
        ["1", "ann"],
        ["2", "imp"],
    ]  # ranked among those shown
    shown = cohort.readable_board(board, min_n=20, simulated=sims, people={"ann"}, show_simulated=True)
    assert shown["rater"].tolist() == ["sim-01 (simulated)", "ann", "sim-02 (simulated)", "imp"]
    assert shown["rank"].tolist() == ["1", "2", "3", "4"]
    only = cohort.readable_board(alone, min_n=20, simulated=sims, people={"ann"})
    assert only["rater"].tolist() == ["sim-01 (simulated)", "sim-02 (simulated)"]  # nobody else: shown
    imported = cohort.readable_board(board, min_n=20, simulated=sims, people=set())
    assert len(imported) == 4  # imported raters are not people: the demo stays beside them


def test_an_identical_reimport_says_nothing_changed():
    assert cohort.import_message("b", {"added": 0, "updated": 0, "unchanged": 96}) == (
        "Bank 'b': nothing changed (96 pairs already as in the file)."
    )
    assert cohort.import_message("b", {"added": 1, "updated": 0, "unchanged": 95}) == (
        "Bank 'b': 1 pair added, 0 updated, 95 unchanged."
    )


# -- the console and the pages, under AppTest -------------------------------------------------


def test_a_lead_lands_on_the_console_and_a_rater_on_the_drill(env):
    store, lead, rater, _ = env
    at = app_as(store, lead)
    assert not at.exception, at.exception
    assert at.title[0].value.startswith("Lead console")
    at = app_as(store, rater)
    assert "Pair 1 of 10" in [s.value for s in at.subheader]


def test_the_join_link_fills_in_the_invite_code(env):
    store, lead, _, invite = env
    at = app_as(store, lead, "views/lead.py")
    links = [c.value for c in at.code if "?invite=" in c.value]
    assert len(links) == 1 and links[0].endswith(f"/?invite={invite}")
    visitor = AppTest.from_file(APP, default_timeout=90)
    visitor.query_params["invite"] = invite
    visitor.run()
    assert not visitor.exception, visitor.exception
    assert visitor.text_input(key="join_code").value == invite


def open_console_pair(at: AppTest, pid: str) -> AppTest:
    at.selectbox(key="audit_open").set_value(pid).run()
    assert not at.exception, at.exception
    return at


def metric(at: AppTest, label: str) -> str:
    return {m.label: m.value for m in at.metric}[label]


def test_the_lead_corrects_a_flagged_gold_and_the_figures_change(env):
    store, lead, rater, _ = env
    truth = own_bank(store, lead, wrong=(FLIPPED,))
    skilled_raters(store, lead, truth)
    gold = truth.set_index("id")["gold"]
    store.record_judgment(  # ravi answered the flagged pair, by its true gold
        rater_id=rater.id,
        bank_id=store.bank_id("mine"),
        pair_id=FLIPPED,
        drill="daily:2026-11-02",
        choice=gold[FLIPPED],
        confidence=0.9,
        left="A",
    )
    at = app_as(store, lead, "views/lead.py")
    assert not at.exception, at.exception
    flagged = [e.label for e in at.expander if escape_markdown(FLIPPED) in e.label]
    assert flagged and "gold " + OTHER[gold[FLIPPED]] in flagged[0]
    agreement = metric(at, "Cohort agreement with experts")
    drawn = text_of(at)
    assert "strong raters chose against the gold" in drawn
    key = f"flag_{FLIPPED}"
    at.radio(key=f"gold_{key}").set_value(gold[FLIPPED])
    at.button(key=f"FormSubmitter:correct_{key}-Save the correction").click().run()
    assert "Tick the box" in " ".join(e.value for e in at.error)
    assert store.load_bank("mine").set_index("id").loc[FLIPPED, "gold"] == OTHER[gold[FLIPPED]]
    at.radio(key=f"gold_{key}").set_value(gold[FLIPPED])
    at.checkbox(key=f"sure_{key}").check()
    at.button(key=f"FormSubmitter:correct_{key}-Save the correction").click().run()
    assert not at.exception, at.exception
    assert store.load_bank("mine").set_index("id").loc[FLIPPED, "gold"] == gold[FLIPPED]
    assert any(f"gold {OTHER[gold[FLIPPED]]} → {gold[FLIPPED]}" in s.value for s in at.success)
    assert not [e for e in at.expander if escape_markdown(FLIPPED) in e.label]  # no longer in doubt
    assert metric(at, "Cohort agreement with experts") != agreement  # re-scored everywhere
    at = open_console_pair(at, FLIPPED)
    history = [t.value for t in at.dataframe if "changed_by" in t.value]
    assert history and history[0][["changed_by", "field"]].values.tolist()[0] == ["lena", "gold"]
    report = text_of(app_as(store, rater, "views/report.py"))
    assert "corrected the gold of pairs you answered" in report
    assert escape_markdown(FLIPPED) in report


def test_the_console_retires_a_pair_and_refuses_changes_to_a_shared_bank(env):
    store, lead, rater, _ = env
    answer(store, rater, STARTER_BANK_NAME, datetime.now(UTC).date(), lambda pid: "A")
    at = app_as(store, lead, "views/lead.py")
    assert cohort.NOT_EDITABLE in [i.value for i in at.info]
    at = open_console_pair(at, FLIPPED)
    assert not [b for b in at.button if b.key == f"retire_any_{FLIPPED}"]  # no action offered
    own_bank(store, lead)
    answer(store, rater, "mine", datetime.now(UTC).date() - timedelta(days=1), lambda pid: "B")
    at = open_console_pair(app_as(store, lead, "views/lead.py"), FLIPPED)
    at.button(key=f"retire_any_{FLIPPED}").click().run()
    assert not at.exception, at.exception
    assert cohort.retired_pairs(store, "mine") == {FLIPPED}
    assert "retired" in " ".join(s.value for s in at.success)


def test_guidelines_written_in_the_console_show_on_the_drill_page(env):
    store, lead, rater, _ = env
    at = app_as(store, lead, "views/lead.py")
    at.text_area(key="guidelines_text").input("Prefer the **correct** answer, whatever its length.")
    at.button(key="FormSubmitter:guidelines_form-Save the guidelines").click().run()
    assert not at.exception, at.exception
    assert cohort.guidelines(store, lead.cohort_id)["text"].startswith("Prefer the **correct**")
    drill = app_as(store, rater, "views/drill.py")
    [box] = [e for e in drill.expander if e.label == "Guidelines"]
    shown = " ".join(h.value for h in box.get("html"))
    assert "<strong>correct</strong>" in shown


def test_the_console_removes_the_demo_data_in_one_action(env):
    store, lead, rater, _ = env
    answer(store, rater, STARTER_BANK_NAME, datetime.now(UTC).date(), lambda pid: "A")
    at = app_as(store, lead, "views/lead.py")
    at.button(key="load_demo").click().run()
    assert store.count_judgments() > 1000
    at.button(key="remove_demo_overview").click().run()
    assert not at.exception, at.exception
    assert store.count_judgments() == 10
    assert not accounts.list_raters(store, lead.cohort_id)["simulated"].any()
    assert any("simulated raters and their" in s.value for s in at.success)


def test_the_leaderboard_hides_the_demo_beside_people_and_shows_no_none(env):
    store, lead, rater, _ = env
    answer(store, rater, STARTER_BANK_NAME, datetime.now(UTC).date(), lambda pid: "A")
    app_as(store, lead, "views/lead.py").button(key="load_demo").click().run()
    at = app_as(store, lead, "views/leaderboard.py")
    at.segmented_control(key="board_window").set_value("All time").run()
    assert not at.exception, at.exception
    table = at.dataframe[0].value
    assert table["rater"].tolist() == ["ravi"]
    assert table["rank"].tolist() == [f"not ranked yet ({MIN_RANKED - 10} more answers)"]
    assert not {str(v) for v in table.to_numpy().ravel()} & {"None", "nan", "NaN"}
    at.checkbox(key="board_show_simulated").check().run()
    shown = at.dataframe[0].value["rater"].tolist()
    assert "ravi" in shown and sum(r.endswith(" (simulated)") for r in shown) == 24
    mine = app_as(store, rater, "views/leaderboard.py")
    assert not [c for c in mine.checkbox if c.key == "board_show_simulated"]  # for leads only


def test_an_identical_reimport_in_the_console_says_nothing_changed(env):
    store, lead, _, _ = env
    body = "\n".join(
        json.dumps({"id": f"p{i}", "prompt": f"Q{i}", "response_a": "a", "response_b": "b", "gold": "A"})
        for i in range(3)
    ).encode()
    at = app_as(store, lead, "views/lead.py")
    for _ in range(2):
        at.file_uploader(key="bank_upload").set_value(("tiny.jsonl", body, "application/octet-stream")).run()
        at.button(key="bank_import").click().run()
        assert not at.exception, at.exception
    assert [s.value for s in at.success] == [
        "Bank \\'tiny\\': nothing changed (3 pairs already as in the file)."
    ]


def test_the_pair_bank_page_marks_retired_pairs(env):
    store, lead, _, _ = env
    own_bank(store, lead)
    cohort.retire_pair(store, lead, "mine", FLIPPED)
    at = app_as(store, lead, "views/bank.py")
    at.selectbox(key="bank_name").set_value("mine").run()
    at.selectbox(key="bank_pair").set_value(FLIPPED).run()
    assert not at.exception, at.exception
    table = at.dataframe[0].value.set_index("id")
    assert table.loc[FLIPPED, "in_drills"] == "retired"
    assert set(table.drop(index=FLIPPED)["in_drills"]) == {"yes"}
    assert any("Retired in the gold audit" in c.value for c in at.caption)


def test_a_gold_corrected_by_another_server_rescores_this_servers_pages(env):
    """The correction is made by another server process (here: straight in the store, so this
    process's caches are not cleared): the leaderboard and My report re-score all the same, because
    every cache is keyed by the bank's revision, which the correction raises."""
    store, lead, rater, _ = env
    truth = own_bank(store, lead)
    gold = truth.set_index("id")["gold"]
    answered = answer(
        store, rater, "mine", date(2026, 11, 2), lambda pid: gold[pid] if gold[pid] != "tie" else "A"
    )
    decided = [p for p in answered if gold[p] in OTHER]

    def agreed() -> float:
        at = AppTest.from_file(str(ROOT / "views" / "report.py"), default_timeout=90)
        at.session_state[TOKEN] = accounts.start_session(store, rater.id)
        at.run()
        assert not at.exception, at.exception
        shown = {m.label: m.value for m in at.metric}
        return float(str(shown["Agreed with the expert"]).rstrip("%"))

    revision = store.bank_revision("mine")
    first = agreed()
    for pid in decided[:3]:  # another server's lead corrects three golds the rater had right
        cohort.correct_gold(store, lead, "mine", pid, OTHER[gold[pid]])
    assert store.bank_revision("mine") == revision + 3
    assert agreed() < first
