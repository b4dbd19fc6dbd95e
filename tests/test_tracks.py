"""Tracks (training.tracks, storage.tracks): who picks a rater's track, and the drills that lean to it."""

from __future__ import annotations

import json
import re
from datetime import date

import pytest

from pairs.bank import STARTER_BANK_NAME
from storage import tracks as rows
from storage.store import Store
from training import accounts, drills, tracks

DAY = date(2026, 3, 2)


@pytest.fixture
def store(db_url):
    s = Store(db_url)
    s.ensure_starter_bank()
    yield s
    s.engine.dispose()


@pytest.fixture
def cohort(store):
    lead, invite = accounts.create_cohort(store, "alpha", "lena", "lead-password")
    ravi = accounts.join_cohort(store, invite, "ravi", "rater-password")
    nora = accounts.join_cohort(store, invite, "nora", "rater-password")
    return lead, ravi, nora


def domains_of(store: Store, drill: drills.Drill) -> list[str]:
    bank = store.load_bank(STARTER_BANK_NAME).set_index("id")
    return [bank.loc[item.pair_id, "domain"] for item in drill.items]


def test_the_options_are_all_then_the_banks_domains_by_size(store):
    options = tracks.track_options(store, STARTER_BANK_NAME)
    assert options[:4] == ["all", "general", "coding", "math"]
    assert {"law", "french", "summarization"} <= set(options) and "" not in options
    assert tracks.track_options(store, "no-such-bank") == ["all"]


def test_nobody_chose_then_the_rater_then_the_cohort_then_the_lead_for_the_rater(store, cohort):
    lead, ravi, nora = cohort
    assert tracks.current_track(store, ravi.id) == tracks.TrackChoice("all", "default", "all")

    now = tracks.choose_track(store, ravi, "law", bank=STARTER_BANK_NAME)
    assert (now.track, now.source, now.chosen_by, now.locked) == ("law", "rater", "you", False)

    tracks.assign_track(store, lead, "coding", bank=STARTER_BANK_NAME)  # the whole cohort
    now = tracks.current_track(store, ravi.id)
    assert (now.track, now.chosen_by, now.picked, now.locked) == (
        "coding",
        "your lead, for the whole cohort",
        "law",  # the rater's pick is kept
        True,
    )
    assert tracks.current_track(store, nora.id).track == "coding"

    tracks.assign_track(store, lead, "math", bank=STARTER_BANK_NAME, rater_id=nora.id)
    assert tracks.current_track(store, nora.id).chosen_by == "your lead, for you"
    assert tracks.current_track(store, nora.id).track == "math"
    assert tracks.current_track(store, ravi.id).track == "coding"

    # the rater picks again while the lead decides: stored, not in effect
    assert tracks.choose_track(store, ravi, "french", bank=STARTER_BANK_NAME).track == "coding"
    tracks.assign_track(store, lead, None, bank=STARTER_BANK_NAME)  # the lead leaves it to the raters
    assert tracks.current_track(store, ravi.id) == tracks.TrackChoice("french", "rater", "french")
    assert tracks.current_track(store, nora.id).track == "math"


def test_a_lead_assigning_all_overrides_the_raters_pick(store, cohort):
    lead, ravi, _ = cohort
    tracks.choose_track(store, ravi, "law", bank=STARTER_BANK_NAME)
    tracks.assign_track(store, lead, "all", bank=STARTER_BANK_NAME, rater_id=ravi.id)
    assert tracks.current_track(store, ravi.id) == tracks.TrackChoice("all", "lead", "law")


def test_the_lead_sees_every_raters_track_and_who_chose_it(store, cohort):
    lead, ravi, nora = cohort
    tracks.choose_track(store, ravi, "law", bank=STARTER_BANK_NAME)
    cohort_track, table = tracks.cohort_tracks(store, lead)
    assert cohort_track is None
    assert table[["name", "picked", "track", "chosen_by"]].to_dict("records") == [
        {"name": "ravi", "picked": "law", "track": "law", "chosen_by": "rater"},
        {"name": "nora", "picked": "all", "track": "all", "chosen_by": "default"},
    ]
    tracks.assign_track(store, lead, "coding", bank=STARTER_BANK_NAME)
    tracks.assign_track(store, lead, "math", bank=STARTER_BANK_NAME, rater_id=nora.id)
    cohort_track, table = tracks.cohort_tracks(store, lead)
    assert cohort_track == "coding"
    assert table[["name", "track", "chosen_by"]].to_dict("records") == [
        {"name": "ravi", "track": "coding", "chosen_by": "cohort"},
        {"name": "nora", "track": "math", "chosen_by": "lead"},
    ]


def test_tracks_are_checked_and_only_a_lead_assigns_them(store, cohort):
    lead, ravi, _ = cohort
    other_lead, invite = accounts.create_cohort(store, "beta", "olga", "lead-password", by=lead)
    outsider = accounts.join_cohort(store, invite, "omar", "rater-password")
    with pytest.raises(
        accounts.AccountError, match=re.escape("'astrology' is not a track of your cohort's bank.")
    ):
        tracks.choose_track(store, ravi, "astrology", bank=STARTER_BANK_NAME)
    with pytest.raises(accounts.AccountError, match=re.escape("'law' is not a track of your cohort's bank.")):
        tracks.choose_track(store, ravi, "law", bank=None)
    with pytest.raises(accounts.AccountError, match=re.escape("Only the cohort's lead can assign tracks.")):
        tracks.assign_track(store, ravi, "law", bank=STARTER_BANK_NAME)
    with pytest.raises(accounts.AccountError, match=re.escape("That rater is not in your cohort.")):
        tracks.assign_track(store, lead, "law", bank=STARTER_BANK_NAME, rater_id=outsider.id)
    with pytest.raises(accounts.AccountError, match=re.escape("Only the cohort's lead can see")):
        tracks.cohort_tracks(store, ravi)
    with pytest.raises(accounts.AccountError, match=re.escape("That rater does not exist.")):
        tracks.current_track(store, 99999)
    assert tracks.choose_track(store, ravi, " Law ", bank=STARTER_BANK_NAME).track == "law"
    tracks.assign_track(store, other_lead, "math", bank=STARTER_BANK_NAME)
    assert tracks.current_track(store, ravi.id).track == "law"  # another cohort's track is not ravi's


def test_the_choices_live_in_the_settings_table_under_their_keys(store, cohort):
    lead, ravi, _ = cohort
    tracks.choose_track(store, ravi, "law", bank=STARTER_BANK_NAME)
    tracks.assign_track(store, lead, "math", bank=STARTER_BANK_NAME, rater_id=ravi.id)
    tracks.assign_track(store, lead, "coding", bank=STARTER_BANK_NAME)
    assert json.loads(store.get_setting(f"track:{ravi.id}")) == {"track": "law", "for": ["alpha", "ravi"]}
    assert json.loads(store.get_setting(f"track:lead:{ravi.id}"))["track"] == "math"
    assert json.loads(store.get_setting(f"track:cohort:{lead.cohort_id}")) == {
        "track": "coding",
        "for": ["alpha"],
    }
    tracks.assign_track(store, lead, None, bank=STARTER_BANK_NAME, rater_id=ravi.id)
    assert store.get_setting(f"track:lead:{ravi.id}") is None
    assert rows.read_choices(store, ravi.id) == {"rater": "law", "lead": None, "cohort": "coding"}


def test_a_choice_written_for_someone_else_under_the_same_number_is_no_choice(store, cohort):
    # A store import numbers raters afresh and copies settings as they are: a key's number may then
    # stand for another rater or cohort. Their choice must not become this one's.
    lead, ravi, nora = cohort
    tracks.choose_track(store, ravi, "law", bank=STARTER_BANK_NAME)
    tracks.assign_track(store, lead, "coding", bank=STARTER_BANK_NAME)
    store.set_setting(
        f"track:{nora.id}", store.get_setting(f"track:{ravi.id}")
    )  # ravi's, under nora's number
    store.set_setting(f"track:lead:{nora.id}", "math")  # not written by PairCal
    assert rows.read_choices(store, nora.id) == {"rater": None, "lead": None, "cohort": "coding"}
    other, _ = accounts.create_cohort(store, "beta", "olga", "lead-password", by=lead)
    store.set_setting(f"track:cohort:{other.cohort_id}", store.get_setting(f"track:cohort:{lead.cohort_id}"))
    assert tracks.current_track(store, other.id) == tracks.TrackChoice("all", "default", "all")
    _, table = tracks.cohort_tracks(store, lead)
    assert table.set_index("name").loc["nora", ["picked", "assigned", "track"]].tolist() == [
        "all",
        None,
        "coding",
    ]


def test_the_daily_drill_and_practice_lean_to_the_track(store, cohort):
    _, ravi, nora = cohort
    tracks.choose_track(store, ravi, "law", bank=STARTER_BANK_NAME)
    daily = drills.get_or_create_drill(store, ravi.id, STARTER_BANK_NAME, DAY, size=10)
    assert domains_of(store, daily).count("law") == 7
    practice = drills.get_or_create_drill(store, ravi.id, STARTER_BANK_NAME, DAY, size=10, kind="practice")
    assert domains_of(store, practice).count("law") == 7
    plain = drills.get_or_create_drill(store, nora.id, STARTER_BANK_NAME, DAY, size=10)
    assert domains_of(store, plain).count("law") < 7


def test_a_drill_already_drawn_keeps_its_pairs_and_a_stale_track_does_not_lean(store, cohort):
    _, ravi, _ = cohort
    before = drills.get_or_create_drill(store, ravi.id, STARTER_BANK_NAME, DAY, size=10)
    tracks.choose_track(store, ravi, "law", bank=STARTER_BANK_NAME)
    assert drills.get_or_create_drill(store, ravi.id, STARTER_BANK_NAME, DAY, size=10) == before
    bank = store.load_bank(STARTER_BANK_NAME)
    assert tracks.drill_track(store, ravi.id, bank) == "law"
    assert tracks.drill_track(store, ravi.id, bank[bank["domain"] != "law"]) is None  # not in this bank
