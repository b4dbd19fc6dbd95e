"""Choosing a drill's pairs (training.selection): freshness, adaptive lean, controls, balance.

Pure functions of a bank, a prepared history and a generator: no database here.
"""

from __future__ import annotations

import re

import numpy as np
import pandas as pd
import pytest

from calibration.data import prepare
from pairs.bank import STARTER_BANK_PATH, build_bank
from pairs.importers import read_bank
from training import selection


@pytest.fixture(scope="module")
def starter() -> pd.DataFrame:
    return read_bank(STARTER_BANK_PATH, "jsonl")


def pair(pid: str, a: str, b: str, gold: str, tags=("control",)) -> dict:
    return {
        "id": pid,
        "prompt": f"Prompt {pid}?",
        "response_a": a,
        "response_b": b,
        "gold": gold,
        "tags": tags,
    }


def sides(bank: pd.DataFrame) -> pd.DataFrame:
    """+1 gold longer (more polished), -1 gold shorter (plainer), 0 not counted: the rule's inputs."""
    length, polish = selection._balance_sides(bank, bank["id"].astype(str).to_numpy())
    return pd.DataFrame({"length": length, "polish": polish}, index=bank["id"].astype(str))


def balanced(side: pd.Series) -> bool:
    """At most 60% on either side among counted pairs (a lead of one when fewer than 5 count)."""
    plus, minus = int((side > 0).sum()), int((side < 0).sum())
    counted = plus + minus
    return max(plus, minus) <= 0.6 * counted or (counted < 5 and abs(plus - minus) <= 1)


def tagged(bank: pd.DataFrame, tag: str) -> list[str]:
    return [pid for pid, tags in zip(bank["id"], bank["tags"], strict=True) if tag in tags]


def history_of(bank: pd.DataFrame, pair_ids, *, wrong=(), when=None) -> pd.DataFrame:
    """Prepared judgments of one rater: right on every pair except those in ``wrong``."""
    gold = bank.set_index("id").loc[list(pair_ids), "gold"].to_numpy()
    right = np.where(gold == "tie", "A", gold)
    flip = {"A": "B", "B": "A"}
    choice = [flip[r] if pid in set(wrong) else r for pid, r in zip(pair_ids, right, strict=True)]
    if when is None:
        when = pd.Timestamp("2026-02-01", tz="UTC")
    frame = pd.DataFrame({"rater": "r", "pair_id": list(pair_ids), "choice": choice, "answered_at": when})
    return prepare(bank, frame)


def test_choose_pairs_is_deterministic_for_a_generator(starter):
    a = selection.choose_pairs(starter, pd.DataFrame(), 10, np.random.default_rng(7))
    b = selection.choose_pairs(starter, pd.DataFrame(), 10, np.random.default_rng(7))
    c = selection.choose_pairs(starter, pd.DataFrame(), 10, np.random.default_rng(8))
    assert a == b and a != c and len(set(a)) == 10


def test_unseen_pairs_come_first(starter):
    seen = starter["id"].iloc[::2].tolist()  # 48 seen, 48 unseen
    history = history_of(starter, seen)
    for seed in range(100):
        picked = selection.choose_pairs(starter, history, 10, np.random.default_rng(seed))
        assert not set(picked) & set(seen)


def test_when_the_bank_runs_out_the_least_recently_seen_come_next():
    # a bank where length and polish never differ and there are no controls: freshness alone decides
    bank = build_bank(
        [
            (i + 1, pair(f"n{i:02d}", "alpha beta gamma", "delta epsilon zeta", "AB"[i % 2], ()))
            for i in range(30)
        ],
        "neutral.jsonl",
    )
    ids = bank["id"].tolist()
    when = [pd.NaT] * 2 + [pd.Timestamp("2026-02-01 09:00", tz="UTC")] * 8
    when += [pd.Timestamp("2026-02-02 09:00", tz="UTC")] * 10 + [
        pd.Timestamp("2026-02-03 09:00", tz="UTC")
    ] * 4
    # pairs 0-1 seen at an unknown time, 2-9 on day 1, 10-19 on day 2, 20-23 on day 3; 24-29 unseen
    history = history_of(bank, ids[:24], when=when)
    for seed in range(50):
        picked = set(selection.choose_pairs(bank, history, 10, np.random.default_rng(seed)))
        assert set(ids[24:]) | set(ids[:2]) <= picked  # the unseen, then the oldest
        assert len(picked & set(ids[2:10])) == 2 and not picked & set(ids[10:24])


def test_balance_rule_holds_on_the_starter_bank(starter):
    side = sides(starter)
    histories = [pd.DataFrame(), history_of(starter, starter["id"].iloc[:40].tolist())]
    counted = []
    for history in histories:
        for seed in range(300):
            picked = selection.choose_pairs(starter, history, 10, np.random.default_rng(seed))
            chosen = side.loc[picked]
            assert balanced(chosen["length"]), (seed, chosen["length"].tolist())
            assert balanced(chosen["polish"]), (seed, chosen["polish"].tolist())
            counted.append(int((chosen["length"] != 0).sum()))
    assert np.mean(counted) > 9  # the rule is not met by leaving pairs out of the count


def test_without_the_rule_the_starter_bank_would_break_it(starter):
    # the balance rule does work: plain random draws of 10 from the same bank often break it
    side = sides(starter)
    rng = np.random.default_rng(0)
    broken = sum(
        not (balanced(c["length"]) and balanced(c["polish"]))
        for c in (side.loc[rng.choice(side.index, 10, replace=False)] for _ in range(300))
    )
    assert broken > 60


def test_adaptive_lean_toward_missed_constraint_traps(starter):
    ids = starter["id"].tolist()
    constraint, control = set(tagged(starter, "constraint")), set(tagged(starter, "control"))
    side = sides(starter)
    seen = ids[::2][:40]  # 40 decided judgments, some on constraint pairs
    missed = [pid for pid in seen if pid in constraint]
    assert len(missed) >= 5
    good = history_of(starter, seen)
    weak = history_of(starter, seen, wrong=missed)
    counts = {"good": [], "weak": []}
    for name, history in (("good", good), ("weak", weak)):
        for seed in range(200):
            picked = selection.choose_pairs(starter, history, 10, np.random.default_rng(seed))
            counts[name].append(len(constraint & set(picked)))
            assert len(control & set(picked)) >= 2  # at least 20% controls
            assert balanced(side.loc[picked, "length"]) and balanced(side.loc[picked, "polish"])
    # missing constraint traps also raises the miss rate of the length and polish tags they share
    # pairs with, so the lean is toward all three, most toward constraint (1.8x on the 512-pair bank)
    assert np.mean(counts["weak"]) > 1.5 * np.mean(counts["good"])


def test_no_lean_before_thirty_decided_judgments(starter):
    seen = starter["id"].tolist()[:29]
    constraint = tagged(starter, "constraint")
    good, weak = history_of(starter, seen), history_of(starter, seen, wrong=constraint)
    for seed in range(20):
        assert selection.choose_pairs(
            starter, good, 10, np.random.default_rng(seed)
        ) == selection.choose_pairs(starter, weak, 10, np.random.default_rng(seed))


def test_controls_are_kept_even_from_a_staler_tier(starter):
    controls = tagged(starter, "control")
    history = history_of(starter, controls)  # every control already seen
    for seed in range(30):
        picked = selection.choose_pairs(starter, history, 10, np.random.default_rng(seed))
        assert len(set(controls) & set(picked)) == 2


def test_choose_pairs_validates_its_input(starter):
    rng = np.random.default_rng(0)
    with pytest.raises(ValueError, match=re.escape("n must be a positive integer; got 0.")):
        selection.choose_pairs(starter, pd.DataFrame(), 0, rng)
    with pytest.raises(ValueError, match=re.escape("rng must be a numpy.random.Generator")):
        selection.choose_pairs(starter, pd.DataFrame(), 5, 0)
    with pytest.raises(ValueError, match=re.escape("the bank has no pairs to choose from.")):
        selection.choose_pairs(starter.iloc[:0], pd.DataFrame(), 5, rng)
    with pytest.raises(ValueError, match=re.escape("history lacks the column(s) ['answered_at', 'correct'")):
        selection.choose_pairs(starter, pd.DataFrame({"pair_id": ["x"]}), 5, rng)


# -- the lead of one pair in a small drill ------------------------------------------------------

LONG = "one two three four five six seven eight nine ten"
SHORT = "one two three"
SAME = "alpha beta gamma delta"


def small_drill_bank(longer_gold: int, shorter_gold: int, uncounted: int = 7) -> pd.DataFrame:
    """``longer_gold`` pairs whose gold is the longer answer, ``shorter_gold`` the shorter, the rest
    of equal length (not counted by the balance rule); no markdown, so polish never counts, and no
    controls."""
    pairs = [pair(f"long{i}", LONG, SHORT, "A", ()) for i in range(longer_gold)]
    pairs += [pair(f"short{i}", LONG, SHORT, "B", ()) for i in range(shorter_gold)]
    pairs += [pair(f"same{i}", SAME, SAME.upper(), "AB"[i % 2], ()) for i in range(uncounted)]
    return build_bank([(i + 1, p) for i, p in enumerate(pairs)], "small.jsonl")


def test_the_small_drill_bank_counts_what_it_says():
    side = sides(small_drill_bank(2, 1))
    assert side["length"].to_dict() == {
        "long0": 1,
        "long1": 1,
        "short0": -1,
        **{f"same{i}": 0 for i in range(7)},
    }
    assert (side["polish"] == 0).all()


def test_a_drill_of_three_counted_pairs_keeps_its_lead_of_one():
    # The three counted pairs are the only unseen ones, so a drill of 3 is exactly them: 2 with the
    # longer answer as gold, 1 with the shorter. The docstring allows a lead of one pair when fewer
    # than 5 count, so nothing may be swapped out for a stale pair.
    bank = small_drill_bank(2, 1)
    history = history_of(bank, [f"same{i}" for i in range(7)])
    side = sides(bank)
    for seed in range(50):
        picked = selection.choose_pairs(bank, history, 3, np.random.default_rng(seed))
        assert sorted(picked) == ["long0", "long1", "short0"], seed
        split = side.loc[picked, "length"]
        assert (int((split > 0).sum()), int((split < 0).sum())) == (2, 1)
        assert balanced(split)


def test_a_lead_of_three_is_cut_to_a_lead_of_one():
    # Three unseen pairs all with the longer answer as gold break the rule (3-0); the stale pair
    # with the shorter answer as gold is swapped in for one of them, giving the allowed 2-1.
    bank = small_drill_bank(3, 1)
    history = history_of(bank, ["short0"] + [f"same{i}" for i in range(7)])
    side = sides(bank)
    for seed in range(50):
        picked = selection.choose_pairs(bank, history, 3, np.random.default_rng(seed))
        assert "short0" in picked and len(set(picked) & {"long0", "long1", "long2"}) == 2, (seed, picked)
        assert balanced(side.loc[picked, "length"])


# -- tracks --------------------------------------------------------------------------------------


def of_domain(bank: pd.DataFrame, domain: str) -> set[str]:
    return set(bank.loc[bank["domain"] == domain, "id"])


@pytest.mark.parametrize("track", ["law", "coding", "summarization"])
def test_a_track_takes_seven_of_ten_and_the_rest_come_from_other_domains(starter, track):
    mine, side = of_domain(starter, track), sides(starter)
    control = set(tagged(starter, "control"))
    other_domains: set[str] = set()
    for seed in range(100):
        picked = selection.choose_pairs(starter, pd.DataFrame(), 10, np.random.default_rng(seed), track=track)
        assert len(set(picked)) == 10
        assert len(mine & set(picked)) == 7, (seed, picked)
        others = starter.set_index("id").loc[[p for p in picked if p not in mine], "domain"]
        other_domains |= set(others)
        assert len(control & set(picked)) >= 2
        assert balanced(side.loc[picked, "length"]) and balanced(side.loc[picked, "polish"])
    assert other_domains == set(starter["domain"]) - {track}  # the rest are drawn from every other domain


def test_without_a_track_a_domain_gets_its_share_of_the_bank_only(starter):
    law = of_domain(starter, "law")  # 36 of 512 pairs: under one pair a drill on average
    shares = [
        len(law & set(selection.choose_pairs(starter, pd.DataFrame(), 10, np.random.default_rng(seed))))
        for seed in range(100)
    ]
    assert np.mean(shares) < 2


def test_a_track_is_deterministic_for_the_seed_and_draws_the_same_random_numbers(starter):
    draw = lambda seed, track: selection.choose_pairs(  # noqa: E731
        starter, pd.DataFrame(), 10, np.random.default_rng(seed), track=track
    )
    assert draw(3, "math") == draw(3, "math") != draw(4, "math")
    assert draw(3, None) == selection.choose_pairs(starter, pd.DataFrame(), 10, np.random.default_rng(3))


def test_freshness_comes_before_the_track(starter):
    law = sorted(of_domain(starter, "law"))
    fresh_law = law[:3]
    history = history_of(starter, law[3:])  # every law pair judged but three
    for seed in range(50):
        picked = selection.choose_pairs(starter, history, 10, np.random.default_rng(seed), track="law")
        # the three fresh law pairs, and seven fresh pairs of other domains rather than stale law pairs
        assert set(picked) & set(law) == set(fresh_law), (seed, picked)


def test_once_the_track_is_used_up_the_drill_is_drawn_as_without_one(starter):
    law = sorted(of_domain(starter, "law"))
    history = history_of(starter, law)
    for seed in range(20):
        with_track = selection.choose_pairs(starter, history, 10, np.random.default_rng(seed), track="law")
        without = selection.choose_pairs(starter, history, 10, np.random.default_rng(seed))
        assert with_track == without
        assert not set(with_track) & set(law)  # fresh pairs of other domains first


def test_the_share_holds_day_after_day_until_the_fresh_pairs_of_the_track_run_out(starter):
    law = of_domain(starter, "law")
    judged: list[str] = []
    shares = []
    for day in range(8):
        when = pd.Timestamp("2026-03-01", tz="UTC") + pd.Timedelta(days=day)
        history = history_of(starter, judged, when=when - pd.Timedelta(days=1)) if judged else pd.DataFrame()
        picked = selection.choose_pairs(starter, history, 10, np.random.default_rng(day), track="law")
        assert not set(picked) & set(judged)  # still all fresh
        shares.append(len(law & set(picked)))
        judged += picked
    assert shares == [7, 7, 7, 7, 7, 1, 0, 0]  # 36 law pairs: five drills of 7, then the last one


def test_a_track_that_is_not_a_domain_of_the_bank_is_refused(starter):
    with pytest.raises(
        ValueError, match=re.escape("track 'astrology' is not a domain of the bank (its domains: ")
    ):
        selection.choose_pairs(starter, pd.DataFrame(), 10, np.random.default_rng(0), track="astrology")


def test_a_track_smaller_than_its_share_gives_all_it_has_and_the_rest_from_others(starter):
    bank = starter.assign(
        domain=np.where(starter["id"].isin(sorted(of_domain(starter, "law"))[:4]), "tiny", "other")
    )
    for seed in range(20):
        picked = selection.choose_pairs(bank, pd.DataFrame(), 10, np.random.default_rng(seed), track="tiny")
        assert len(of_domain(bank, "tiny") & set(picked)) == 4


# -- spaced re-practice (rule 6) and the rest of missed pairs (rule 7) --------------------------

START = pd.Timestamp("2026-03-02 09:00", tz="UTC")


def simulate(bank: pd.DataFrame, misses_length: bool, days: int, *, today: bool = True, seed: int = 11):
    """A rater drilling 10 pairs a day: wrong on every decided ``length`` pair if ``misses_length``,
    right on everything else. Returns each day's pairs and the history after the last day."""
    gold = bank.set_index("id")["gold"]
    tags = bank.set_index("id")["tags"]
    history = history_of(bank, [])
    drawn = []
    for day in range(days):
        when = START + pd.Timedelta(days=day)
        picked = selection.choose_pairs(
            bank, history, 10, np.random.default_rng(seed + day), today=when.date() if today else None
        )
        drawn.append(picked)
        wrong = [p for p in picked if misses_length and "length" in tags[p] and gold[p] != "tie"]
        history = pd.concat([history, history_of(bank, picked, wrong=wrong, when=when)], ignore_index=True)
    return drawn, history


def test_a_trap_kind_missed_comes_back_in_the_next_days_through_fresh_pairs(starter):
    length, control = set(tagged(starter, "length")), set(tagged(starter, "control"))
    side = sides(starter)
    days = 14
    weak, weak_history = simulate(starter, True, days)
    good, _ = simulate(starter, False, days)
    weak_counts = [len(length & set(p)) for p in weak]
    good_counts = [len(length & set(p)) for p in good]
    assert weak_counts[0] == good_counts[0]  # the same first drill: nothing missed yet
    # from the next day on, at least 2 of 10 are length pairs, and more than the other rater meets
    assert min(weak_counts[1:]) >= 2
    assert sum(weak_counts[1:]) >= 1.5 * sum(good_counts[1:])
    seen: set[str] = set()
    for picked in weak:
        assert not set(picked) & seen  # fresh pairs only: the bank has plenty
        seen |= set(picked)
        assert len(control & set(picked)) >= 2
        assert balanced(side.loc[picked, "length"]) and balanced(side.loc[picked, "polish"])
    assert (weak_history["correct"] == 0).sum() >= 3 * (days - 1)


def test_re_practice_is_what_adds_them_before_the_lean_starts(starter):
    """Before 30 decided answers rule 2 does not lean at all: on the second and third days the extra
    length pairs come from the spaced re-practice alone (without the drill's day, the drills of a rater
    who misses length pairs are those of one who does not)."""
    length = set(tagged(starter, "length"))
    weak = good = 0
    for seed in range(20):
        with_rule, _ = simulate(starter, True, 3, seed=seed)
        without, _ = simulate(starter, True, 3, today=False, seed=seed)
        never, _ = simulate(starter, False, 3, seed=seed)
        assert without == never
        weak += sum(len(length & set(p)) for p in with_rule[1:])
        good += sum(len(length & set(p)) for p in never[1:])
    assert weak >= 1.15 * good


def test_the_spacing_steps_are_one_three_and_seven_days_after_a_miss(starter):
    pid = tagged(starter, "length")[0]
    other = [p for p in tagged(starter, "length") if p != pid][:3]
    missed = history_of(starter, [pid], wrong=[pid], when=START)
    day = START.date()
    due = [selection.due_trap_kinds(missed, day + pd.Timedelta(days=k).to_pytimedelta()) for k in range(10)]
    assert [bool(d.get("length")) for d in due] == [False] + [True] * 9  # unserved: due from day 1 on
    assert [d.get("length", 0) for d in due] == [0, 1, 1, 2, 2, 2, 2, 3, 3, 3]

    def served_on(*ks: int) -> pd.DataFrame:
        rows = [history_of(starter, [other[i]], when=START + pd.Timedelta(days=k)) for i, k in enumerate(ks)]
        return pd.concat([missed, *rows], ignore_index=True)

    # a rater who drills on days 1, 3 and 7 meets length pairs those days and at no other time
    history = served_on(1, 3, 7)
    schedule = [
        bool(selection.due_trap_kinds(history[history["answered_at"].dt.date < d], d).get("length"))
        for d in (day + pd.Timedelta(days=k).to_pytimedelta() for k in range(10))
    ]
    assert schedule == [False, True, False, True, False, False, False, True, False, False]
    # one who skips day 3 and comes back on day 5 gets the step then
    history = served_on(1)
    assert selection.due_trap_kinds(history, day + pd.Timedelta(days=5).to_pytimedelta())["length"] == 1


def test_a_missed_pair_rests_for_a_week_even_when_the_bank_runs_out():
    bank = build_bank(
        [
            (i + 1, pair(f"n{i:02d}", "alpha beta gamma", "delta epsilon zeta", "AB"[i % 2], ("factual",)))
            for i in range(30)
        ],
        "neutral.jsonl",
    )
    ids = bank["id"].tolist()
    for rule in (True, False):
        history = history_of(bank, [])
        recent_misses: list[tuple[pd.Timestamp, str]] = []
        drawn_back = 0
        for day in range(12):
            when = START + pd.Timedelta(days=day)
            picked = selection.choose_pairs(
                bank, history, 10, np.random.default_rng(day), today=when.date() if rule else None
            )
            resting = {p for t, p in recent_misses if (when - t).days < selection.REST_DAYS}
            drawn_back += len(resting & set(picked))
            wrong = [p for p in picked if int(p[1:]) % 3 == 0]  # the rater misses a third of the bank
            recent_misses += [(when, p) for p in wrong]
            history = pd.concat(
                [history, history_of(bank, picked, wrong=wrong, when=when)], ignore_index=True
            )
        assert set(history["pair_id"]) == set(ids)
        if rule:
            assert drawn_back == 0
        else:  # without the drill's day the bank's oldest pairs come back, missed ones included
            assert drawn_back > 0


def test_re_practice_keeps_the_tracks_share_and_the_controls(starter):
    _, history = simulate(starter, True, 3)
    day = (START + pd.Timedelta(days=3)).date()
    assert selection.due_trap_kinds(history, day).get("length")
    math_pairs, length = of_domain(starter, "math"), set(tagged(starter, "length"))
    control, side = set(tagged(starter, "control")), sides(starter)
    extra = 0
    for seed in range(20):
        rng = np.random.default_rng(seed)
        picked = selection.choose_pairs(starter, history, 10, rng, track="math", today=day)
        plain = selection.choose_pairs(starter, history, 10, np.random.default_rng(seed), track="math")
        assert len(math_pairs & set(picked)) == 7 and len(control & set(picked)) >= 2
        assert balanced(side.loc[picked, "length"]) and balanced(side.loc[picked, "polish"])
        extra += len(length & set(picked)) - len(length & set(plain))
    assert extra > 0
