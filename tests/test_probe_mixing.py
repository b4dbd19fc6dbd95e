"""Probes in drills (rules 8 to 10 of training.selection): a fifth at most, never beside their base,
swaps only of pairs answered rightly a week or more before, and nothing spent when there is none."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import numpy as np
import pandas as pd
import pytest

from training import accounts, drills
from training.selection import SWAP_AFTER_DAYS, choose_probes, probe_slots

TODAY = date(2026, 3, 20)


def bank_with_probes(n: int = 40) -> pd.DataFrame:
    """``n`` ordinary pairs ``p0``... and one probe of each, polish and padding in turn."""
    base = pd.DataFrame(
        {
            "id": [f"p{i}" for i in range(n)],
            "prompt": [f"Question {i}?" for i in range(n)],
            "response_a": [f"Right answer {i}." for i in range(n)],
            "response_b": [f"Wrong answer {i}." for i in range(n)],
            "gold": ["A"] * n,
            "rationale": ["A is right."] * n,
            "tags": [()] * n,
            "domain": ["general"] * n,
            "source": [""] * n,
            "gold_confidence": [float("nan")] * n,
            "probe": [""] * n,
            "probe_of": [""] * n,
            "styled": [""] * n,
        }
    )
    kinds = ["polish" if i % 2 == 0 else "padding" for i in range(n)]
    probes = base.assign(
        id=[f"p{i}~{k}" for i, k in enumerate(kinds)],
        response_b=[f"## Wrong answer\n\n**Wrong** answer {i}." for i in range(n)],
        probe=kinds,
        probe_of=base["id"],
        styled="B",
    )
    return pd.concat([base, probes], ignore_index=True)


def history(rows: list[tuple[str, date, float, str]]) -> pd.DataFrame:
    """Prepared-like judgments: (pair_id, day answered, correct, left)."""
    return pd.DataFrame(
        {
            "pair_id": [r[0] for r in rows],
            "answered_at": pd.to_datetime([datetime(*r[1].timetuple()[:3], 9) for r in rows], utc=True),
            "correct": [r[2] for r in rows],
            "left": [r[3] for r in rows],
            "tags": [()] * len(rows),
        }
    )


def test_a_drill_offers_a_fifth_of_its_places_rounded_down():
    assert [probe_slots(n) for n in (1, 4, 5, 9, 10, 20)] == [0, 0, 1, 1, 2, 4]


def test_probes_fill_their_places_with_distinct_bases_and_both_kinds():
    bank = bank_with_probes()
    kinds = bank.set_index("id")["probe"]
    seen_kinds = set()
    for seed in range(40):
        got = choose_probes(bank, history([]), 2, np.random.default_rng(seed), today=TODAY)
        assert len(got) == 2
        assert all(left is None for _, left in got)  # a derived probe's side is drawn as for any pair
        bases = {pid.split("~")[0] for pid, _ in got}
        assert len(bases) == 2
        seen_kinds |= {kinds[pid] for pid, _ in got}
    assert seen_kinds == {"polish", "padding"}


def test_never_a_probe_whose_base_or_sibling_was_answered_today_nor_one_answered_before():
    bank = bank_with_probes(4)  # p0..p3, probes p0~polish, p1~padding, p2~polish, p3~padding
    answered = history(
        [
            ("p0", TODAY, 1.0, "A"),  # its base today: p0~polish is out
            ("p1~padding", TODAY - timedelta(days=30), 1.0, "A"),  # answered long ago: never again
        ]
    )
    for seed in range(30):
        got = {pid for pid, _ in choose_probes(bank, answered, 4, np.random.default_rng(seed), today=TODAY)}
        assert got <= {"p2~polish", "p3~padding"}, got
    # another drill of the day answered p2 (not yet in the history): its probe is out too
    got = choose_probes(bank, answered, 4, np.random.default_rng(0), today=TODAY, answered_today={"p2"})
    assert [pid for pid, _ in got] == ["p3~padding"]


def test_a_swap_is_a_pair_answered_once_rightly_a_week_before_shown_the_other_way_round():
    bank = bank_with_probes(6).query("probe == ''")  # no derived probes: swaps only
    week = TODAY - timedelta(days=SWAP_AFTER_DAYS)
    answered = history(
        [
            ("p0", week, 1.0, "A"),  # right, a week ago: comes back with B first
            ("p1", week - timedelta(days=3), 1.0, "B"),  # right, ten days ago: comes back with A first
            ("p2", week, 0.0, "A"),  # wrong: the gold was shown, a switch would be learning
            ("p3", week + timedelta(days=1), 1.0, "A"),  # six days: too soon
            ("p4", week, 1.0, "A"),  # answered twice: already seen again
            ("p4", week + timedelta(days=2), 1.0, "B"),
        ]
    )
    for seed in range(20):
        got = dict(choose_probes(bank, answered, 5, np.random.default_rng(seed), today=TODAY))
        assert got == {"p0": "B", "p1": "A"}


def test_without_any_probe_to_offer_no_random_number_is_spent():
    bank = bank_with_probes(6).query("probe == ''")
    rng = np.random.default_rng(3)
    before = rng.bit_generator.state
    assert choose_probes(bank, history([("p0", TODAY, 1.0, "A")]), 2, rng, today=TODAY) == []
    assert rng.bit_generator.state == before


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
def test_a_stored_drill_mixes_swaps_in_and_keeps_its_other_pairs_fresh(app_store):
    """A rater who answered 12 pairs rightly ten days ago: today's drill of 10 brings 2 of them back
    with the sides swapped, the other 8 are fresh, and the answers to the swaps are repeats."""
    store = app_store
    lead, invite = accounts.create_cohort(store, "probes", "lena", "lead-password", bank=None)
    bank = bank_with_probes(40).query("probe == ''").drop(columns=["probe", "probe_of", "styled"])
    store.import_bank("mini", bank, owner_cohort_id=lead.cohort_id, as_server=False)
    ann = accounts.join_cohort(store, invite, "ann", "ann-password")
    before = TODAY - timedelta(days=10)
    first = drills.get_or_create_drill(store, ann.id, "mini", before, size=12)
    at = datetime(before.year, before.month, before.day, 9, tzinfo=UTC)
    for item in first.items:
        drills.submit(store, ann.id, first.key, item.position, "A", 0.8, at=at)
    sides = {item.pair_id: item.left for item in first.items}
    today = drills.get_or_create_drill(store, ann.id, "mini", TODAY, size=10)
    back = [item for item in today.items if item.pair_id in sides]
    assert len(back) == 2
    assert all(item.left != sides[item.pair_id] for item in back)  # the other response first
    assert all(item.repeat for item in back)
    assert len({item.pair_id for item in today.items}) == 10


def answered_ten_days_ago(store):
    """Cohort "probes" drilling on a 40-pair bank "mini": rater ann answered 12 pairs rightly ten
    days ago; returns the lead, ann and today's drill of 10, drawn (it brings 2 of them back swapped)."""
    from training import onboarding

    lead, invite = accounts.create_cohort(store, "probes", "lena", "lead-password", bank=None)
    bank = bank_with_probes(40).query("probe == ''").drop(columns=["probe", "probe_of", "styled"])
    store.import_bank("mini", bank, owner_cohort_id=lead.cohort_id, as_server=False)
    accounts.set_drill_settings(store, lead.cohort_id, bank="mini", drill_size=10)
    ann = accounts.join_cohort(store, invite, "ann", "ann-password")
    onboarding.finish(store, ann.id)
    now = datetime.now(UTC)
    first = drills.get_or_create_drill(store, ann.id, "mini", now.date() - timedelta(days=10), size=12)
    for item in first.items:
        drills.submit(store, ann.id, first.key, item.position, "A", 0.8, at=now - timedelta(days=10))
    return lead, ann, drills.get_or_create_drill(store, ann.id, "mini", now.date(), size=10)


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
def test_my_report_shows_the_pairs_answered_again_with_the_sides_swapped(app_store):
    """Two pairs come back swapped; the rater keeps one answer and changes the other: My report's
    matched pairs say "On 2 pairs answered again with the sides swapped, you picked the same ... 1"."""
    from streamlit.testing.v1 import AppTest

    from tests.test_app import APP
    from views.common import TOKEN

    store = app_store
    lead, ann, today = answered_ten_days_ago(store)
    swaps = [item for item in today.items if item.repeat]
    assert len(swaps) == 2
    for item, choice in zip(swaps, ["A", "B"], strict=True):  # the same answer, then a changed one
        drills.submit(store, ann.id, today.key, item.position, choice, 0.8)

    # the store gives the repeats alone (the cohort report adds them to the first answers it holds)
    repeats = store.cohort_judgments(cohort="probes", bank="mini", only_repeats=True)
    assert sorted(repeats["pair_id"]) == sorted(item.pair_id for item in swaps)
    every = store.cohort_judgments(cohort="probes", bank="mini", repeats=True)
    assert len(every) == len(store.cohort_judgments(cohort="probes", bank="mini")) + len(repeats)

    at = AppTest.from_file(APP, default_timeout=90)
    at.session_state[TOKEN] = accounts.start_session(store, ann.id)
    at.run()
    at.switch_page("views/report.py").run()
    assert not at.exception, at.exception
    assert "Matched pairs" in [s.value for s in at.subheader]
    said = " ".join(str(m.value) for m in at.markdown)
    assert "On 2 pairs answered again with the sides swapped" in said, said


def starter_part(n: int = 60) -> pd.DataFrame:
    """The first ``n`` English pairs of the starter bank, as a cohort's own bank."""
    from pairs.bank import STARTER_BANK_PATH
    from pairs.importers import read_bank

    bank = read_bank(STARTER_BANK_PATH)
    english = bank[~bank["domain"].isin(["french", "spanish"])]
    return english.head(n).drop(columns=["line"], errors="ignore").reset_index(drop=True)


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
def test_the_lead_adds_matched_pairs_in_one_action_and_drills_mix_them_in(app_store):
    from streamlit.testing.v1 import AppTest

    from tests.test_app import APP
    from training import onboarding
    from views.common import TOKEN

    store = app_store
    lead, invite = accounts.create_cohort(store, "probes", "lena", "lead-password", bank=None)
    store.import_bank("mine", starter_part(), owner_cohort_id=lead.cohort_id, as_server=False)
    accounts.set_drill_settings(store, lead.cohort_id, bank="mine", drill_size=10)

    at = AppTest.from_file(APP, default_timeout=120)
    at.session_state[TOKEN] = accounts.start_session(store, lead.id)
    at.run()
    at.switch_page("views/lead.py").run()
    at.selectbox(key="bank_stats_name").set_value("mine").run()
    assert not at.exception, at.exception
    assert "This bank holds none yet." in " ".join(str(c.value) for c in at.caption)
    at.button(key="add_probes").click().run()
    assert not at.exception, at.exception
    [done] = [str(m.value) for m in at.success if "matched pairs added" in str(m.value)]
    bank = store.load_bank("mine")
    probes = bank[bank["probe"] != ""]
    assert done.startswith(f"{len(probes)} matched pairs added")
    assert set(probes["probe"]) == {"polish", "padding"} and set(probes["probe_of"]) <= set(bank["id"])
    # a second click adds nothing: the same probes are derived again
    at.button(key="add_probes").click().run()
    assert any(str(m.value).startswith("0 matched pairs added") for m in at.success)

    ann = accounts.join_cohort(store, invite, "ann", "ann-password")
    onboarding.finish(store, ann.id)
    base_of = probes.set_index("id")["probe_of"]
    counted = 0
    for day in range(6):  # six daily drills: each holds 2 probes, never beside its base pair
        drill = drills.get_or_create_drill(store, ann.id, "mine", TODAY + timedelta(days=day), size=10)
        ids = [item.pair_id for item in drill.items]
        mixed = [pid for pid in ids if pid in base_of.index]
        assert len(mixed) == 2, ids
        assert not {base_of[pid] for pid in mixed} & set(ids)
        counted += len(mixed)
        at_day = datetime(*(TODAY + timedelta(days=day)).timetuple()[:3], 9, tzinfo=UTC)
        for item in drill.items:
            drills.submit(store, ann.id, drill.key, item.position, "A", 0.7, at=at_day)
    assert counted == 12


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
def test_the_cohort_report_counts_the_swapped_repeats(app_store, monkeypatch):
    """The lead's cohort report adds the repeats to the first answers it holds: its cohort probes
    count both swapped pairs of the rater."""
    from streamlit.testing.v1 import AppTest

    import calibration.report
    from tests.test_app import APP
    from views.common import TOKEN

    store = app_store
    lead, ann, today = answered_ten_days_ago(store)
    for item in today.items:
        drills.submit(store, ann.id, today.key, item.position, "A", 0.8)

    built = []
    real = calibration.report.build_report

    def keep(*args, **kwargs):
        built.append(real(*args, **kwargs))
        return built[-1]

    monkeypatch.setattr(calibration.report, "build_report", keep)  # the page imports it on each run
    at = AppTest.from_file(APP, default_timeout=120)
    at.session_state[TOKEN] = accounts.start_session(store, lead.id)
    at.run()
    at.switch_page("views/lead.py").run()
    at.button(key="build_cohort_report").click().run()
    assert not at.exception, at.exception
    [report] = built
    assert report["cohort"]["probes"]["swap"]["n"] == 2
    assert report["cohort"]["probes"]["swap"]["consistent"] == 2
