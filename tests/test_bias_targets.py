"""The bias verdicts against raters who behave like people (calibration.people).

Each test simulates its own raters with planted truth: hard pairs whose gold is
mostly the shorter answer (as LLMBar's adversarial sets), item easiness spread,
fatigue within a drill and 10% repeats answered from memory. Figures measured
with these seeds are in the comments; the assertions are the targets (or, where
a target is out of reach, the level reached, said so).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from calibration.bias import EFFECTS, across_raters, bias_by_rater, holm, pooled_bias
from calibration.data import prepare
from calibration.people import Person, llmbar_like_bank, simulate_people
from calibration.simulate import synthetic_bank
from calibration.trend import bias_trend

LOG2 = float(np.log(2.0))


@pytest.fixture(scope="module")
def bank() -> pd.DataFrame:
    return llmbar_like_bank(1500, seed=0)


def _people(n_raters: int, seed: int, **planted) -> list[Person]:
    """Skill 0.5-2.5 (accuracy about 60-90% on pairs of average easiness), some fatigue."""
    skill = np.random.default_rng(seed).uniform(0.5, 2.5, n_raters)
    return [Person(f"p{i:04d}", skill=float(s), fatigue=0.5, **planted) for i, s in enumerate(skill)]


def _run(bank, n_raters, n, seed, repeat_share=0.1, **planted) -> pd.DataFrame:
    sim = simulate_people(
        bank, _people(n_raters, seed, **planted), n_per_rater=n, seed=seed + 1, repeat_share=repeat_share
    )
    return prepare(bank, sim)


def _told(out: pd.DataFrame, effect: str, above_one: bool = True) -> float:
    rows = out[out["effect"] == effect]
    return float((rows["significant"] & ((rows["odds_ratio"] > 1) == above_one)).mean())


def _raw(out: pd.DataFrame, effect: str) -> float:
    """Share with an uncorrected p < 0.05 and an odds ratio above 1."""
    rows = out[out["effect"] == effect]
    return float(((rows["p_value"] < 0.05) & (rows["odds_ratio"] > 1)).mean())


def test_hard_short_gold_pairs_are_not_length_bias(bank):
    """Unbiased raters worse on hard, short-gold pairs: 'you favour longer' stays rare (target <= 10%)."""
    p = _run(bank, 300, 200, seed=1)
    out = bias_by_rater(p)
    told_longer = _told(out, "length")
    assert told_longer <= 0.10, told_longer  # measured 2%
    any_line = out.groupby("rater")["significant"].any().mean()
    assert any_line <= 0.10, any_line  # target <= 10%; measured 4.0%
    # the confound is real: without the strata (one skill term, as before) the uncorrected test
    # finds a pull toward longer answers far more often than its level; with them it holds it
    flat = bias_by_rater(p.assign(source="", tags=[()] * len(p)))
    raw = {name: _raw(o, "length") for name, o in (("strata", out), ("flat", flat))}
    assert raw["flat"] > 0.10 and raw["strata"] <= 0.05, raw  # measured 16.3% and 0%


def test_a_cohort_of_such_raters_is_not_called_length_biased():
    """Pooled model, 30 cohorts of 30 unbiased raters x 200 on banks of 300 pairs (target <= 10%).

    Each pair is judged about 20 times, so its difficulty is shared across raters:
    clustering by rater alone flagged about a quarter of such cohorts (uncorrected).
    """
    flagged, raw = [], []
    for c in range(30):
        small = llmbar_like_bank(300, seed=500 + c)
        pooled = pooled_bias(_run(small, 30, 200, seed=1_000 + c)).set_index("effect")
        flagged.append(bool(pooled.loc["length", "significant"]))
        raw.append(pooled.loc["length", "p_value"] < 0.05)
    assert np.mean(flagged) <= 0.10, np.mean(flagged)  # measured 0 of 30 (Holm)
    assert np.mean(raw) <= 0.15, np.mean(raw)  # measured 13% uncorrected (nominal 5%)


def test_cohort_flags_control_the_false_discovery_rate(bank):
    """Half the raters favour longer answers: among the flagged raters few are unbiased."""
    biased = _run(bank, 150, 200, seed=5, length_bias=LOG2)
    clean = _run(bank, 150, 200, seed=6).assign(rater=lambda f: "u-" + f["rater"])
    flags = across_raters(bias_by_rater(pd.concat([biased, clean], ignore_index=True)))
    hit = flags[flags["significant"]]
    false_share = hit["rater"].str.startswith("u-").mean()
    assert false_share <= 0.10, false_share  # measured 2.7%; 96.7% of biased raters flagged
    assert hit["correction"].str.startswith("Benjamini-Hochberg").all()
    assert (hit["effect"] == "length").mean() > 0.9


def test_power_for_a_length_odds_ratio_of_two():
    """Length OR 2 per doubling, raters of skill 1 (accuracy about 73%), synthetic bank.

    Target: found in >= 50% at n = 30 and >= 90% at n = 100. The penalized LR
    test alone finds 53-58% at n = 30; at a 5% family-wise level no split of the
    level over the three dimensions reaches 50% (Holm's equal shares 33-37%,
    60% on length 42-47%). At the 7% family-wise level (FAMILY_ALPHA) with
    length first at 5.6%, nine tenths of it toward longer (TOWARD_SHARES), it is met.
    """
    bank = synthetic_bank(1500, seed=0)
    found = {}
    for n in (30, 100):
        people = [Person(f"p{i}", skill=1.0, item_weight=0.0, length_bias=LOG2) for i in range(400)]
        out = bias_by_rater(prepare(bank, simulate_people(bank, people, n_per_rater=n, seed=n + 7)))
        rows = out[out["effect"] == "length"]
        assert tuple(out["effect"][: len(EFFECTS)]) == EFFECTS  # raters outer, effects inner
        equal = holm(out["p_value"].to_numpy().reshape(-1, len(EFFECTS)))[:, 0] < 0.05  # equal shares
        above = rows["odds_ratio"].to_numpy() > 1
        found[n] = {
            "uncorrected": float(((rows["p_value"] < 0.05) & (rows["odds_ratio"] > 1)).mean()),
            "weighted": _told(out, "length"),
            "equal": float((equal & above).mean()),
        }
    assert found[30]["uncorrected"] >= 0.50, found  # measured 56%
    assert found[30]["weighted"] >= 0.50, found  # target 50%
    # measured 68.8% against 36% (65.3% with a two-sided split of a 10% level, length 80%)
    assert found[30]["weighted"] >= found[30]["equal"] + 0.05, found
    assert found[100]["weighted"] >= 0.90, found  # measured 99%


def test_a_rater_who_favours_shorter_answers_is_still_told(bank):
    """Most of the length line's level goes toward "longer" (TOWARD_SHARES); the other
    direction keeps the rest, so a planted odds ratio of 1/2 per doubling is found, on
    stronger evidence, and never read as favouring longer."""
    found = {}
    for n in (100, 200):
        out = bias_by_rater(_run(bank, 300, n, seed=31, length_bias=-LOG2))
        assert _told(out, "length") == 0.0
        shorter = _told(out, "length", above_one=False)
        rows = out[out["effect"] == "length"]
        p = out["p_value"].to_numpy().reshape(-1, len(EFFECTS))
        even = holm(p, weights=[0.8, 0.05, 0.15])[:, 0] < 0.10  # the two-sided split at 10%
        found[n] = (shorter, float((even & (rows["odds_ratio"].to_numpy() < 1)).mean()))
    assert found[100][0] >= 0.60, found  # measured 73% (94% with the two-sided split)
    assert found[200][0] >= 0.95, found  # measured 98% (99.7%)
    assert found[100][0] < found[100][1], found  # the price of the direction, said in the docs


def test_power_for_position_and_coverage(bank):
    """Position OR 2.7 at n = 100 (target >= 85%); 95% intervals cover the planted log-odds (92-98%)."""
    out = bias_by_rater(_run(bank, 300, 100, seed=11, position_bias=float(np.log(2.7))))
    assert _told(out, "position") >= 0.85  # measured 88%
    planted = {"length": LOG2, "polish": 0.5, "position": 0.3}
    out = bias_by_rater(_run(bank, 600, 200, seed=12, length_bias=LOG2, polish_bias=0.5, position_bias=0.3))
    for effect, beta in planted.items():
        rows = out[out["effect"] == effect]
        cover = float(((np.log(rows["ci_low"]) < beta) & (np.log(rows["ci_high"]) > beta)).mean())
        # target 92-98%; measured 92.3%, 92.0%, 93.7% (length, polish, position) here and 92-94%
        # over 1,800 more raters: at the low end, because the people's item easiness, which the
        # model does not hold, pulls every logistic coefficient a little toward 0. 600 raters:
        # the standard error of a 95% share is 0.9 points, so 91% still tells 95% from 88%
        assert 0.91 <= cover <= 0.98, (effect, cover)


def test_a_preference_for_response_a_does_not_leak_into_length(bank):
    """Without the left column, a rater who favours response A (OR 3) is not told about length."""
    p = _run(bank, 300, 200, seed=21, a_bias=float(np.log(3.0)))
    p["left"] = None
    out = bias_by_rater(p)
    assert _told(out, "length") + _told(out, "length", above_one=False) <= 0.10  # measured 3%
    assert not out.loc[out["effect"] == "position", "estimable"].any()


def test_trend_tells_a_stable_rater_nothing_and_ignores_memory(bank):
    """A stable rater with many repeats (answered from memory) is not told his bias changed."""
    p = _run(bank, 300, 200, seed=31, repeat_share=0.3, length_bias=0.7)
    out = bias_trend(p)
    changed = out.groupby("rater")["significant"].any().mean()
    assert changed <= 0.10, changed  # measured 4.3%
    # a bias fading from 2.7 to about 1 over 200 judgments is found, and the interval holds the truth
    fading = bias_trend(_run(bank, 300, 200, seed=32, length_bias=1.0, length_change=-0.5))
    rows = fading[fading["effect"] == "length"]
    assert (rows["significant"] & (rows["change_per_100_judgments"] < 1)).mean() >= 0.30  # measured 41%
    cover = ((np.log(rows["ci_low"]) < -0.5) & (np.log(rows["ci_high"]) > -0.5)).mean()
    assert 0.9 <= cover <= 0.98, cover  # measured 94.3%


def _llmbar_bank(llmbar_dir) -> pd.DataFrame:
    """The five LLMBar sets as one bank (ids unique), with a hidden easiness: adversarial pairs harder."""
    from pairs.importers import read_bank

    parts = []
    names = (
        "natural",
        "adversarial-neighbor",
        "adversarial-gptinst",
        "adversarial-gptout",
        "adversarial-manual",
    )
    for name in names:
        part = read_bank(llmbar_dir / f"{name}.json")
        parts.append(part.assign(id=name + "-" + part["id"].astype(str)))
    bank = pd.concat(parts, ignore_index=True).drop(columns="line")
    hard = np.array(["adversarial" in tags for tags in bank["tags"]])
    rng = np.random.default_rng(0)
    return bank.assign(easiness=np.where(hard, -1.0, 1.0) + rng.normal(0, 0.6, len(bank)))


@pytest.mark.slow
def test_real_llmbar_hard_pairs_are_not_length_bias(llmbar_dir):
    """On the real LLMBar bank (as imported: source "llmbar", adversarial pairs tagged), unbiased
    raters worse on the adversarial pairs are rarely told they favour longer answers; a planted
    length odds ratio of 2 is still found."""
    bank = _llmbar_bank(llmbar_dir)
    p = _run(bank, 200, 200, seed=41)
    out = bias_by_rater(p)
    assert _told(out, "length") <= 0.10  # measured 0%
    # without the adversarial stratum the uncorrected one-sided rate (nominal 2.5%) is far above its level
    assert _raw(bias_by_rater(p.assign(tags=[()] * len(p))), "length") > 0.08  # measured 11.5%
    planted = bias_by_rater(_run(bank, 200, 200, seed=42, length_bias=LOG2))
    assert _told(planted, "length") >= 0.9  # measured 99.5%
