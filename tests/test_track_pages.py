"""Tracks as a user meets them (AppTest): picked on My report, assigned by the lead, shown per track."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from storage.store import Store
from training import accounts, drills, onboarding, tracks
from views.common import TOKEN

APP = str(Path(__file__).resolve().parent.parent / "app.py")


@pytest.fixture
def env(app_store):
    store = app_store
    lead, invite = accounts.create_cohort(store, "alpha", "lena", "lead-password")
    rater = accounts.join_cohort(store, invite, "ravi", "rater-password")
    onboarding.finish(store, rater.id)  # finished onboarding: these tests are about other pages
    return store, lead, rater


def app_as(store: Store, user: accounts.Rater, page: str) -> AppTest:
    at = AppTest.from_file(APP, default_timeout=90)
    at.session_state[TOKEN] = accounts.start_session(store, user.id)
    at.run()
    return at.switch_page(page).run()


def captions(at: AppTest) -> str:
    return "\n".join(str(c.value) for c in at.caption)


def law_share(store: Store, drill: drills.Drill) -> int:
    domain = store.load_bank("starter").set_index("id")["domain"]
    return sum(domain[item.pair_id] == "law" for item in drill.items)


def today():
    return datetime.now(UTC).date()


def test_a_rater_picks_a_track_on_my_report_and_the_next_drill_leans_to_it(env):
    store, _, rater = env
    at = app_as(store, rater, "views/report.py")  # signed in on the drill page: today's drill is drawn
    assert not at.exception
    started = drills.get_or_create_drill(store, rater.id, "starter", today(), size=10)
    assert law_share(store, started) < 7
    picker = at.selectbox(key="track_pick")
    assert picker.value == "all" and "law (36 pairs)" in picker.options
    at = picker.select("law").run()
    assert not at.exception
    assert "Your track is **law**, chosen by you" in captions(at)
    assert tracks.current_track(store, rater.id).track == "law"

    drill_page = app_as(store, rater, "views/drill.py")
    assert not drill_page.exception
    assert drills.get_or_create_drill(store, rater.id, "starter", today(), size=10) == started  # kept
    practice = drills.get_or_create_drill(store, rater.id, "starter", today(), size=10, kind="practice")
    tomorrow = drills.get_or_create_drill(store, rater.id, "starter", today() + timedelta(days=1), size=10)
    assert law_share(store, practice) == 7 and law_share(store, tomorrow) == 7


def test_my_report_shows_accuracy_and_bias_per_track(env):
    store, _, rater = env
    tracks.choose_track(store, rater, "law", bank="starter")
    drill = drills.get_or_create_drill(store, rater.id, "starter", today(), size=10)
    for item in drill.items:
        drills.submit(store, rater.id, drill.key, item.position, "A", 0.8)
    at = app_as(store, rater, "views/report.py")
    assert not at.exception
    [table] = [d.value for d in at.dataframe if "track" in d.value.columns and "judgments" in d.value.columns]
    assert table.columns.tolist() == [
        "track",
        "judgments",
        "accuracy",
        "95% CI",
        "length bias",
        "polish bias",
        "position bias",
    ]
    by_track = table.set_index("track")
    assert "law" in by_track.index and by_track.loc["law", "judgments"] <= 7
    assert by_track["judgments"].sum() <= 10 and len(by_track) >= 2  # the rest came from other domains
    assert (by_track["length bias"] == "n/a").all()  # ten judgments: too few for a bias per track
    assert by_track.loc["law", "95% CI"].endswith("%")


def test_the_lead_assigns_tracks_on_my_report_and_the_rater_sees_who_chose(env):
    store, lead, rater = env
    tracks.choose_track(store, rater, "law", bank="starter")
    at = app_as(store, lead, "views/report.py")
    assert not at.exception
    at.selectbox(key="track_cohort").select("coding")
    at = [b for b in at.button if b.label == "Save the cohort's track"][0].click().run()
    assert not at.exception
    assert tracks.current_track(store, rater.id).track == "coding"
    [table] = [d.value for d in at.dataframe if "chosen by" in d.value.columns]
    assert table[["rater", "track", "chosen by", "their own pick"]].to_dict("records") == [
        {"rater": "ravi", "track": "coding", "chosen by": "you, for the cohort", "their own pick": "law"}
    ]

    mine = app_as(store, rater, "views/report.py")
    shown = captions(mine)
    assert "Your track is **coding**, chosen by your lead, for the whole cohort" in shown
    assert "Your own pick, law, applies again if your lead removes theirs." in shown

    at.selectbox(key="track_rater").select(rater.id)
    at.selectbox(key="track_rater_track").select("math")
    at = [b for b in at.button if b.label == "Assign the track"][0].click().run()
    assert not at.exception
    assert tracks.current_track(store, rater.id) == tracks.TrackChoice("math", "lead", "law")
    domain = store.load_bank("starter").set_index("id")["domain"]
    daily = drills.get_or_create_drill(store, rater.id, "starter", today(), size=10)
    practice = drills.get_or_create_drill(store, rater.id, "starter", today(), size=10, kind="practice")
    assert sum(domain[item.pair_id] == "coding" for item in daily.items) == 7  # drawn as ravi signed in
    assert sum(domain[item.pair_id] == "math" for item in practice.items) == 7


def test_a_rater_sees_no_cohort_track_controls(env):
    store, _, rater = env
    at = app_as(store, rater, "views/report.py")
    assert not at.exception
    assert "track_cohort" not in [s.key for s in at.selectbox]
    assert "Tracks of the cohort" not in [s.value for s in at.subheader]


def test_a_pick_the_new_bank_lacks_is_kept_and_said_to_draw_from_every_domain(env):
    store, lead, rater = env
    tracks.choose_track(store, rater, "law", bank="starter")
    starter = store.load_bank("starter")
    store.import_bank("maths-only", starter[starter["domain"] == "math"].reset_index(drop=True))
    accounts.set_drill_settings(store, lead.cohort_id, bank="maths-only")
    at = app_as(store, rater, "views/report.py")
    assert not at.exception
    assert at.selectbox(key="track_pick").value == "all"
    assert "Your track, law (chosen by you), is not a domain of your cohort's bank now" in captions(at)
    assert tracks.current_track(store, rater.id).picked == "law"  # showing the page changed nothing
