"""Every page under AppTest, as a rater and as a lead; the drill's submit rules; access checks."""

from __future__ import annotations

import html
import re
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import streamlit as st
from streamlit.testing.v1 import AppTest

from pairs.markdown import escape_markdown, markdown_to_html
from storage.store import Store
from training import accounts, drills, onboarding
from views.common import TOKEN

ROOT = Path(__file__).resolve().parent.parent
APP = str(ROOT / "app.py")


@pytest.fixture
def env(app_store):
    store = app_store
    lead, invite = accounts.create_cohort(store, "alpha", "lena", "lead-password")
    rater = accounts.join_cohort(store, invite, "ravi", "rater-password")
    onboarding.finish(store, rater.id)  # finished onboarding: these tests are about other pages
    return store, lead, rater, invite


def app_as(store: Store, user: accounts.Rater | None, page: str | None = None) -> AppTest:
    at = AppTest.from_file(APP, default_timeout=90)
    if user is not None:
        at.session_state[TOKEN] = accounts.start_session(store, user.id)
    at.run()
    if page is not None:
        at.switch_page(page).run()
    return at


def text_of(at: AppTest) -> str:
    parts = [m.value for m in at.markdown] + [m.value for m in at.caption] + [m.value for m in at.subheader]
    parts += [e.value for kind in (at.success, at.error, at.warning, at.info) for e in kind]
    parts += [visible_text(h.value) for h in at.html]  # pair text and rationales (views.rich_text)
    return "\n".join(str(p) for p in parts)


def visible_text(body: str) -> str:
    """The text a reader sees of HTML: tags and style sheets dropped, entities decoded."""
    return html.unescape(re.sub(r"<style>.*?</style>|<[^>]*>", "", body, flags=re.DOTALL))


def test_signed_out_sees_the_sign_in_page(env):
    at = app_as(env[0], None)
    assert not at.exception
    assert [t.label for t in at.tabs] == ["Sign in", "Join a cohort"]  # only the admin creates cohorts
    assert "starter" not in text_of(at) and not at.selectbox  # a visitor sees no bank names


def test_join_through_the_form_signs_in(env):
    store, _, _, invite = env
    at = app_as(store, None)
    at.text_input(key="join_code").input(invite)
    at.text_input(key="join_name").input("nora")
    at.text_input(key="join_password").input("nora-password")
    at.text_input(key="join_password2").input("nora-password")
    at.button[1].click().run()  # the Join form's submit button
    assert not at.exception
    # The page sends the browser to redeem a one-time token for the session cookie (views/web.py).
    [go] = [h.value for h in at.html if "data-paircal-go" in h.value]
    once = re.search(r"/paircal/session\?once=([A-Za-z0-9_-]+)", go).group(1)
    nora = accounts.resolve_session(store, accounts.redeem_sign_in_token(store, once))
    assert (nora.name, nora.role) == ("nora", "rater")
    first = app_as(store, nora)  # a new rater lands on onboarding, not the drill
    assert "How to rate" in [t.value for t in first.title] and "Pair 1 of 10" not in text_of(first)


def test_first_run_sets_up_the_first_cohort_and_its_lead_is_the_admin(app_store):
    store = app_store
    at = app_as(store, None)
    assert [t.label for t in at.tabs] == ["Set up PairCal", "Sign in", "Join a cohort"]
    at.text_input(key="create_cohort").input("beta")
    at.text_input(key="create_name").input("bo")
    at.text_input(key="create_password").input("bo-password")
    at.button[0].click().run()
    assert not at.exception
    user = accounts.login(store, "beta", "bo", "bo-password")
    assert user.is_lead and user.admin
    assert accounts.cohort_info(store, user.cohort_id)["bank"] == "starter"
    again = app_as(store, None)  # the next visitor is offered no set-up
    assert [t.label for t in again.tabs] == ["Sign in", "Join a cohort"]


def test_the_admin_creates_a_cohort_whose_lead_joins_with_the_one_time_invite(env):
    store, lead, _, _ = env
    assert lead.admin  # the first account of the database
    at = app_as(store, lead, "views/lead.py")
    at.text_input(key="admin_cohort_name").input("beta")
    [b for b in at.button if b.label == "Create the cohort and a lead invite"][0].click().run()
    assert not at.exception, at.exception
    invite = at.code[-1].value
    beta = accounts.join_cohort(store, invite, "bo", "bo-password")
    assert (beta.cohort, beta.role, beta.admin) == ("beta", "lead", False)
    with pytest.raises(accounts.AccountError, match="invite code is not valid"):
        accounts.join_cohort(store, invite, "eve", "eve-password")  # one time only


@pytest.mark.parametrize("page", ["views/drill.py", "views/report.py", "views/leaderboard.py"])
def test_rater_pages_render(env, page):
    store, _, rater, _ = env
    at = app_as(store, rater, page)
    assert not at.exception, at.exception


@pytest.mark.parametrize(
    "page", ["views/drill.py", "views/report.py", "views/leaderboard.py", "views/lead.py", "views/bank.py"]
)
def test_lead_pages_render_with_a_demo_cohort(env, page):
    store, lead, _, _ = env
    at = app_as(store, lead, "views/lead.py")
    at.button(key="load_demo").click().run()
    assert not at.exception, at.exception
    assert store.count_judgments() > 1000
    at = app_as(store, lead, page)
    assert not at.exception, at.exception


def choose(at: AppTest, pick: str = "Response 1", confidence: int = 80) -> AppTest:
    """Click the pick and the confidence, each a run, as in the browser."""
    key = {"Response 1": "pick_1", "Response 2": "pick_2", "About equally good": "pick_3"}[pick]
    at = at.button(key=key).click().run()
    return at.button(key=f"confidence_{confidence}").click().run()


def answer_current_item(at: AppTest, pick: str = "Response 1", confidence: int = 80) -> AppTest:
    """Choose, then Submit."""
    at = choose(at, pick, confidence)
    submit = [b for b in at.button if b.label == "Submit"][0]
    return submit.click().run()


def test_drill_submit_stores_one_judgment_and_reveals_the_gold(env):
    store, _, rater, _ = env
    at = app_as(store, rater, "views/drill.py")
    drill = drills.get_or_create_drill(store, rater.id, "starter", datetime.now(UTC).date(), size=10)
    pair = store.load_bank("starter").set_index("id").loc[drill.items[0].pair_id]
    rationale = visible_text(markdown_to_html(pair["rationale"]))
    assert rationale not in text_of(at)  # nothing of the answer before submitting
    at = answer_current_item(at)
    assert not at.exception
    assert store.count_judgments() == 1
    shown = text_of(at)
    assert rationale in shown and "expert" in shown
    stored = store.export_judgments().iloc[0]
    assert stored["confidence"] == 0.8 and stored["left"] == drill.items[0].left
    assert stored["choice"] == drill.items[0].left  # Response 1 is the left one


def test_a_second_submit_of_the_same_item_stores_nothing(env):
    store, _, rater, _ = env
    first = app_as(store, rater, "views/drill.py")
    second = app_as(store, rater, "views/drill.py")  # the same item open in a second tab
    second = choose(second, "Response 2")  # chosen in the second tab, not yet submitted
    answer_current_item(first, "Response 1")
    second = [b for b in second.button if b.label == "Submit"][0].click().run()
    assert store.count_judgments() == 1
    assert "already answered" in text_of(second)
    drill = drills.get_or_create_drill(store, rater.id, "starter", datetime.now(UTC).date(), size=10)
    assert store.export_judgments().iloc[0]["choice"] == drill.items[0].left  # the first answer stands


def test_drill_resumes_after_a_restart(env):
    store, _, rater, _ = env
    at = app_as(store, rater, "views/drill.py")
    at = answer_current_item(at)
    [b for b in at.button if b.label == "Next pair"][0].click().run()
    at = answer_current_item(at)
    st.cache_resource.clear()  # a new server process: nothing but the database survives
    st.cache_data.clear()
    again = app_as(store, rater, "views/drill.py")
    assert "Pair 3 of 10" in text_of(again)


def test_a_rater_is_refused_the_lead_console_and_the_bank(env):
    store, _, rater, _ = env
    for script in ("views/lead.py", "views/bank.py"):
        at = AppTest.from_file(str(ROOT / script), default_timeout=60)
        at.session_state[TOKEN] = accounts.start_session(store, rater.id)
        at.run()
        assert not at.exception
        assert any("for cohort leads only" in e.value for e in at.error)
        assert not at.tabs and not at.dataframe  # nothing of the console was drawn


def test_a_stale_or_forged_token_is_signed_out(env):
    at = AppTest.from_file(APP, default_timeout=60)
    at.session_state[TOKEN] = "forged-token"
    at.run()
    assert not at.exception
    assert [t.label for t in at.tabs] == ["Sign in", "Join a cohort"]  # only the admin creates cohorts
    assert "starter" not in text_of(at) and not at.selectbox  # a visitor sees no bank names


def test_a_new_judgment_reaches_the_cached_report_and_leaderboard(env):
    """Cached cohort data is keyed by the judgments' version: a new answer shows on the next run."""
    store, _, rater, _ = env
    at = app_as(store, rater, "views/report.py")
    assert any("No judgments yet" in i.value for i in at.info)
    drill = drills.get_or_create_drill(store, rater.id, "starter", datetime.now(UTC).date(), size=10)
    drills.submit(store, rater.id, drill.key, 0, "A", 0.9)
    at = app_as(store, rater, "views/report.py")  # caches are not cleared in between
    assert not at.exception
    assert [m.value for m in at.metric][0] == "1"


def test_tables_offer_no_live_formula_to_their_csv_download(env):
    """Streamlit's table toolbar downloads cells as they are: a rater named like a formula, with
    enough answers to be ranked, shows on the leaderboard and the lead console behind an apostrophe."""
    from pairs.export import formula_like

    store, lead, _, invite = env
    sneaky = accounts.join_cohort(store, invite, '=HYPERLINK("http://evil.example","x")', "sneaky-password")
    today = datetime.now(UTC).date()
    for day in range(3):
        drill = drills.get_or_create_drill(store, sneaky.id, "starter", today - timedelta(days=day), size=10)
        for item in drill.items:
            drills.submit(store, sneaky.id, drill.key, item.position, choice="A", confidence=0.7)
    for user, page in ((sneaky, "views/leaderboard.py"), (lead, "views/lead.py")):
        at = app_as(store, user, page)
        assert not at.exception, at.exception
        raters = [str(v) for frame in at.dataframe if "rater" in frame.value for v in frame.value["rater"]]
        assert "'" + sneaky.name in raters, (page, raters)
        cells = [str(v) for frame in at.dataframe for v in frame.value.to_numpy().ravel()]
        assert not [c for c in cells if formula_like(c)], page  # figures like "+20%" call nothing
        assert not [c for c in cells if c[:1] in ("=", "@")], page


def test_loading_the_demo_cohort_says_what_it_loaded(env):
    """The load reruns the page (so the figures above include the demo); its message survives that."""
    store, lead, _, _ = env
    at = app_as(store, lead, "views/lead.py")
    at.button(key="load_demo").click().run()
    assert not at.exception, at.exception
    loaded = [s.value for s in at.success if "demo" in s.value or "simulated" in s.value]
    assert loaded == [f"Loaded {store.count_judgments()} simulated judgments."]
    at.button(key="load_demo").click().run()
    loaded = [s.value for s in at.success if "demo" in s.value or "simulated" in s.value]
    assert loaded == ["The demo cohort is already loaded: nothing added."]


# --- cohort data: one rater at a time, simulated from the database, streaks from drills ---------


class JudgmentReads:
    """Records which raters' judgments each Store read returned (every frame with a ``pair_id``)."""

    def __init__(self, monkeypatch):
        self.reads: list[set[str]] = []
        for name in ("export_judgments", "cohort_judgments"):
            method = getattr(Store, name, None)
            if method is not None:
                monkeypatch.setattr(Store, name, self._recording(method))

    def _recording(self, method):
        def wrapper(store, *args, **kwargs):
            frame = method(store, *args, **kwargs)
            self.reads.append(set(frame["rater"]))
            return frame

        return wrapper

    def raters(self) -> set[str]:
        return set().union(*self.reads) if self.reads else set()


def drill_days(store: Store, rater: accounts.Rater, days: list, *, size: int, choice: str = "A") -> None:
    """Finish the rater's daily drill of each day (answers stored now)."""
    for day in days:
        drill = drills.get_or_create_drill(store, rater.id, "starter", day, size=size)
        for item in drill.items:
            drills.submit(store, rater.id, drill.key, item.position, choice=choice, confidence=0.7)


def test_my_report_allows_for_pair_easiness_as_the_lead_sees_it(env, monkeypatch):
    """My report reads the rater's judgments with each pair's easiness measured on the rest of the
    cohort: its bias figures are the ones the lead console shows for that rater, it says so, and a
    later answer by someone else re-reads only them."""
    from calibration.report import build_report
    from calibration.simulate import RaterSpec, simulate_judgments
    from views.cohort_cache import CohortCache

    store, lead, rater, invite = env
    bank = store.load_bank("starter")
    specs = [RaterSpec(f"sim{i}", skill=0.8 + i / 5, length_bias=0.3) for i in range(8)]
    store.import_judgments(
        simulate_judgments(bank, specs, n_per_rater=60, seed=5), bank="starter", cohort="alpha"
    )
    today = datetime.now(UTC).date()
    drill_days(store, rater, [today - timedelta(days=d) for d in range(4)], size=10)
    at = app_as(store, rater, "views/report.py")
    assert not at.exception, at.exception
    assert [m.value for m in at.metric][0] == "40"
    assert "how hard each pair was for the rest of your cohort" in text_of(at)

    cache = CohortCache(store, "alpha", lead.cohort_id, {"starter": bank})
    cache.refresh()
    seen = cache.rater_prepared("ravi")
    assert seen["easiness"].notna().sum() > 20
    lead_view = build_report(seen, rater="ravi", n_boot=20)
    alone = build_report(seen.drop(columns=["easiness", "easiness_var"]), rater="ravi", n_boot=20)
    summaries = [lead_view["bias"][e]["summary"] for e in ("length", "polish", "position")]
    assert summaries != [alone["bias"][e]["summary"] for e in ("length", "polish", "position")]
    page = "\n".join(m.value for m in at.markdown)
    for summary in summaries:  # the lead's sentences, odds ratios and intervals included
        assert escape_markdown(summary) in page

    other = accounts.join_cohort(store, invite, "olga", "olga-password")
    onboarding.finish(store, other.id)
    drill_days(store, other, [today], size=10)
    reads = JudgmentReads(monkeypatch)
    at.run()
    assert not at.exception, at.exception
    assert reads.reads and reads.raters() == {"olga"}  # the cohort is cached: only the new answers are read


def test_a_new_judgment_rereads_only_its_rater_on_the_leaderboard(env, monkeypatch):
    """The first view reads the cohort; after one new answer only that rater's judgments are read."""
    store, lead, rater, invite = env
    other = accounts.join_cohort(store, invite, "olga", "olga-password")
    today = datetime.now(UTC).date()
    drill_days(store, other, [today], size=10)
    drill = drills.get_or_create_drill(store, rater.id, "starter", today, size=10)
    drills.submit(store, rater.id, drill.key, 0, "A", 0.9)
    reads = JudgmentReads(monkeypatch)
    at = app_as(store, lead, "views/leaderboard.py")
    assert not at.exception, at.exception
    assert reads.raters() == {"ravi", "olga"}
    answers = dict(zip(at.dataframe[0].value["rater"], at.dataframe[0].value["n"], strict=True))
    assert answers == {"olga": 10, "ravi": 1}
    reads.reads.clear()
    drills.submit(store, rater.id, drill.key, 1, "B", 0.8)
    at.run()
    assert not at.exception, at.exception
    assert reads.reads == [{"ravi"}]
    answers = dict(zip(at.dataframe[0].value["rater"], at.dataframe[0].value["n"], strict=True))
    assert answers == {"olga": 10, "ravi": 2}
    reads.reads.clear()
    at.run()  # nothing new: nothing read
    assert reads.reads == []


def test_simulated_raters_are_labelled_from_the_database_not_their_names(env):
    store, lead, _, _ = env
    at = app_as(store, lead, "views/lead.py")
    at.button(key="load_demo").click().run()
    assert not at.exception, at.exception
    demo = store.export_judgments(cohort="alpha")
    imported = demo[demo["rater"] == demo["rater"].iloc[0]].assign(rater="sim-imported")
    store.import_judgments(imported, bank="starter", cohort="alpha")  # a real rater, whatever the name
    at = app_as(store, lead, "views/leaderboard.py")
    at.segmented_control(key="board_window").set_value("All time").run()
    assert not at.exception, at.exception
    shown = list(at.dataframe[0].value["rater"])
    assert "sim-imported" in shown and "sim-imported (simulated)" not in shown
    assert sum(name.endswith(" (simulated)") for name in shown) == 24


def test_the_leaderboard_streak_counts_finished_drills_across_the_week(env):
    """Drills of 5 on the 8 days up to today: the streak is 8 even on "This week", which starts on a
    Monday at most 6 days ago, and even though no day had 10 answers."""
    store, _, rater, _ = env
    today = datetime.now(UTC).date()
    drill_days(store, rater, [today - timedelta(days=d) for d in range(7, -1, -1)], size=5)
    at = app_as(store, rater, "views/leaderboard.py")
    assert not at.exception, at.exception
    board = at.dataframe[0].value.set_index("rater")
    assert board.loc["ravi", "streak"] == 8
    assert board.loc["ravi", "n"] == 40
    assert {m.label: m.value for m in at.metric}["Your streak"] == "8 days"


def test_the_cohort_cache_equals_a_recomputation_after_every_change(app_store):
    """Rater-by-rater updates, a week read before all time, raters added: each board equals the
    leaderboard computed from scratch on the database's judgments."""
    from calibration.data import prepare
    from calibration.leaderboard import leaderboard
    from calibration.simulate import RaterSpec, simulate_judgments
    from views.cohort_cache import CohortCache

    store = app_store
    lead, _ = accounts.create_cohort(store, "gamma", "gil", "lead-password")
    bank = store.load_bank("starter")
    now = datetime.now(UTC)
    specs = [RaterSpec(f"r{i}", skill=0.5 + i / 5, length_bias=0.1 * i) for i in range(6)]
    start = pd.Timestamp(now - timedelta(days=20)).floor("D")
    old = simulate_judgments(bank, specs, n_per_rater=40, seed=3, start=start)
    store.import_judgments(old[old["answered_at"] <= pd.Timestamp(now)], bank="starter", cohort="gamma")
    week = pd.Timestamp(now - timedelta(days=3)).floor("D")
    cache = CohortCache(store, "gamma", lead.cohort_id, {"starter": bank})

    def check(since):
        cache.refresh()
        frame = prepare(bank, store.cohort_judgments(cohort="gamma", bank="starter"))
        if since is not None:
            frame = frame[frame["answered_at"] >= since]
        # the rater's board (no odds ratios) first, then the lead's: the bias rows update on their own
        for with_bias in (False, True):
            got = cache.leaderboard(since=since, today=now.date(), k=30, min_n=20, with_bias=with_bias)
            want = leaderboard(frame, streaks={}, with_bias=with_bias)
            got, want = (b.sort_values("rater").reset_index(drop=True) for b in (got, want))
            pd.testing.assert_frame_equal(got, want, check_exact=False, rtol=1e-9)
        assert since is not None or got["length_or"].notna().any()  # all time: enough to fit

    check(week)  # reads this week only
    check(None)  # then the rest
    more = simulate_judgments(bank, specs[:2] + [RaterSpec("new", skill=2.0)], n_per_rater=25, seed=4)
    more = more.assign(answered_at=pd.Timestamp(now) - pd.to_timedelta(np.arange(len(more)), unit="s"))
    store.import_judgments(more, bank="starter", cohort="gamma")
    assert sorted(cache.refresh()) == ["new", "r0", "r1"]
    check(None)
    check(week)


def test_a_raters_report_in_the_console_allows_for_pair_easiness_as_the_cohort_report_does(app_store):
    """The lead console opens a rater's report from the cohort cache: it carries each pair's easiness
    measured on the rest of the cohort, so its bias figures are the cohort report's for that rater."""
    from calibration.report import build_report
    from calibration.simulate import RaterSpec, simulate_judgments
    from views.cohort_cache import CohortCache

    store = app_store
    lead, _ = accounts.create_cohort(store, "delta", "dana", "lead-password")
    bank = store.load_bank("starter")
    specs = [RaterSpec(f"r{i}", skill=0.8 + i / 5, length_bias=0.3) for i in range(8)]
    store.import_judgments(
        simulate_judgments(bank, specs, n_per_rater=60, seed=5), bank="starter", cohort="delta"
    )
    cache = CohortCache(store, "delta", lead.cohort_id, {"starter": bank})
    cache.refresh()
    mine = cache.rater_prepared("r2")
    assert mine["easiness"].notna().sum() > 30  # the pairs others judged too
    opened = build_report(mine, rater="r2", n_boot=20)
    whole = next(r for r in build_report(cache.prepared(), n_boot=20)["raters"] if r["rater"] == "r2")
    assert opened["pair_easiness"] == whole["pair_easiness"] > 30
    for effect in ("length", "polish", "position"):
        assert opened["bias"][effect]["odds_ratio"] == pytest.approx(
            whole["bias"][effect]["odds_ratio"], rel=1e-9
        )
