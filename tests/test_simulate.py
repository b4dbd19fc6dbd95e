"""Simulated raters and the synthetic bank: they must do what their planted truth says."""

from __future__ import annotations

import math
import re

import numpy as np
import pandas as pd
import pytest
import statsmodels.api as sm
from scipy import stats
from scipy.special import expit, logit

from calibration.data import JUDGMENT_COLUMNS, prepare
from calibration.simulate import (
    CONFIDENCE_STEP,
    DRILL_LENGTH,
    RaterSpec,
    demo_cohort,
    demo_raters,
    simulate_judgments,
    synthetic_bank,
)
from pairs.bank import COLUMNS, bank_to_records, validate_records
from pairs.features import pair_features


@pytest.fixture(scope="module")
def bank() -> pd.DataFrame:
    return synthetic_bank(2_000, seed=3)


def test_synthetic_bank_is_a_valid_bank(bank):
    assert list(bank.columns) == COLUMNS
    assert bank["id"].iloc[0] == "syn-00001" and bank["id"].iloc[-1] == "syn-02000"
    records = list(enumerate(bank_to_records(bank), start=1))
    _, problems = validate_records(records, "synthetic.jsonl")
    assert problems == []


def test_synthetic_bank_varies_widely_and_independently_of_gold(bank):
    f = pair_features(bank)
    ratio = 2.0 ** f["length_doublings"]
    assert ratio.min() < 1 / 5 and ratio.max() > 5
    for side in ("a", "b"):
        polish = f[f"polish_{side}"]
        # every generated element is counted once by pairs.features, nothing else is
        assert polish.min() == 0 and polish.max() == 12
        assert set(polish.unique()) == set(range(13))
    gold_a = (bank["gold"] == "A").to_numpy()
    assert gold_a.sum() == len(bank) // 2  # counterbalanced
    for column in ("length_doublings", "polish_diff"):
        x = f[column].to_numpy()
        assert stats.ttest_ind(x[gold_a], x[~gold_a]).pvalue > 0.001
        assert stats.levene(x[gold_a], x[~gold_a]).pvalue > 0.001


def test_synthetic_bank_tags_mark_the_traps(bank):
    f = pair_features(bank)
    gold_words = np.where(bank["gold"] == "A", f["words_a"], f["words_b"])
    other_words = np.where(bank["gold"] == "A", f["words_b"], f["words_a"])
    has_length = bank["tags"].map(lambda t: "length" in t).to_numpy()
    np.testing.assert_array_equal(has_length, other_words + 1 >= 1.5 * (gold_words + 1))
    assert bank["tags"].map(len).min() >= 1


def test_synthetic_bank_ties_and_errors():
    tied = synthetic_bank(100, seed=1, tie_share=0.2)
    assert (tied["gold"] == "tie").sum() == 20
    with pytest.raises(ValueError, match=re.escape("n_pairs must be a positive integer; got 0.")):
        synthetic_bank(0, seed=1)
    with pytest.raises(ValueError, match=re.escape("tie_share must be in [0, 1]; got 2.")):
        synthetic_bank(10, seed=1, tie_share=2)


def test_judgments_layout_and_plausible_values(bank):
    raters = [RaterSpec("sim-a"), RaterSpec("sim-b", skill=2.0)]
    sim = simulate_judgments(bank, raters, n_per_rater=95, seed=1)
    assert list(sim.columns) == JUDGMENT_COLUMNS
    assert len(sim) == 190 and sim["rater"].tolist() == ["sim-a"] * 95 + ["sim-b"] * 95
    assert sim["choice"].isin(["A", "B"]).all() and sim["left"].isin(["A", "B"]).all()
    assert sim.groupby("rater")["pair_id"].nunique().eq(95).all()
    conf = sim["confidence"].to_numpy()
    assert ((conf >= 0.5) & (conf <= 1)).all()
    np.testing.assert_allclose(conf / CONFIDENCE_STEP, np.round(conf / CONFIDENCE_STEP), atol=1e-9)
    assert sim["seconds"].between(3, 1800).all()
    assert str(sim["answered_at"].dt.tz) == "UTC"
    for _, one in sim.groupby("rater"):
        times = one["answered_at"]
        assert times.is_monotonic_increasing
        per_day = times.dt.floor("D").value_counts().sort_index().to_numpy()
        assert (per_day[:-1] == DRILL_LENGTH).all() and per_day[-1] == 95 % DRILL_LENGTH
        gaps = np.diff(times.to_numpy()).astype("timedelta64[ms]").astype(float) / 1000
        within = np.arange(1, 95) % DRILL_LENGTH != 0
        np.testing.assert_allclose(gaps[within], one["seconds"].to_numpy()[1:][within], atol=1e-3)
    assert prepare(bank, sim)["tie"].sum() == 0


def test_pairs_repeat_only_when_the_bank_runs_out():
    small = synthetic_bank(40, seed=2)
    sim = simulate_judgments(small, [RaterSpec("sim-a"), RaterSpec("sim-b")], n_per_rater=100, seed=3)
    counts = sim.groupby("rater")["pair_id"].value_counts()
    assert counts.min() == 2 and counts.max() == 3  # 100 = 2 x 40 + 20: as even as possible


def test_pair_draws_are_uniform():
    # both samplers (rejection for n << bank, permutations otherwise) draw every
    # pair and every order equally often
    for size, n in ((400, 10), (12, 10)):
        small = synthetic_bank(size, seed=4)
        raters = [RaterSpec(f"sim-{i}") for i in range(3_000)]
        sim = simulate_judgments(small, raters, n_per_rater=n, seed=5)
        assert sim.groupby("rater")["pair_id"].nunique().eq(n).all()
        observed = sim["pair_id"].value_counts().reindex(small["id"], fill_value=0).to_numpy()
        assert stats.chisquare(observed).pvalue > 0.001
        first = sim.groupby("rater")["pair_id"].first().value_counts().reindex(small["id"], fill_value=0)
        assert stats.chisquare(first.to_numpy()).pvalue > 0.001


def test_skill_and_position_bias_follow_the_logistic_model(bank):
    # accuracy on balanced pairs is expit(skill); with skill 0 the left answer
    # is picked with probability expit(position_bias)
    raters = [RaterSpec(f"sim-s{i}", skill=1.0) for i in range(40)]
    raters += [RaterSpec(f"sim-p{i}", skill=0.0, position_bias=math.log(3)) for i in range(40)]
    sim = simulate_judgments(bank, raters, n_per_rater=500, seed=6)
    p = prepare(bank, sim)
    skilled = p[p["rater"].str.startswith("sim-s")]
    flat = (skilled["length_doublings"].abs() < 0.05) & (skilled["polish_diff"].abs() < 0.05)
    accuracy = skilled.loc[flat, "correct"]
    assert abs(accuracy.mean() - expit(1.0)) < 4 * accuracy.std() / math.sqrt(len(accuracy))
    leaning = p[p["rater"].str.startswith("sim-p")]
    picked_left = (leaning["choice"] == leaning["left"]).to_numpy()
    assert stats.binomtest(int(picked_left.sum()), len(picked_left), 0.75).pvalue > 0.001


def test_planted_length_bias_is_recovered_by_maximum_likelihood(bank):
    # an outside fit (statsmodels) of the choice model recovers the planted values
    planted = {"skill": 1.3, "length_bias": 0.7, "polish_bias": -0.4, "position_bias": 0.25}
    raters = [RaterSpec(f"sim-{i}", **planted) for i in range(30)]
    p = prepare(bank, simulate_judgments(bank, raters, n_per_rater=1_000, seed=7))
    sign = np.where(p["left"] == "A", 1.0, -1.0)
    X = np.column_stack(
        [
            np.ones(len(p)),
            np.where(p["gold"] == p["left"], 1.0, -1.0),
            sign * p["length_doublings"],
            sign * p["polish_diff"] / 0.5,
        ]
    )
    fit = sm.Logit((p["choice"] == p["left"]).to_numpy(float), X).fit(disp=0)
    planted = np.array([0.25, 1.3, 0.7, -0.4])
    assert (np.abs(fit.params - planted) < 3.5 * fit.bse).all()


def test_calibrated_raters_state_the_true_probability(bank):
    specs = [RaterSpec(f"sim-c{i}", skill=1.0 + i % 3, length_bias=0.3 * (i % 2)) for i in range(60)]
    sim = simulate_judgments(bank, specs, n_per_rater=500, seed=8, truth=True)
    p = prepare(bank, sim)
    correct = p["correct"].to_numpy()
    truth = sim["p_correct"].to_numpy()
    # E[correct | p] = p: logistic recalibration (Cox 1958) has intercept 0 and slope 1
    cox = sm.Logit(correct, sm.add_constant(logit(np.clip(truth, 1e-6, 1 - 1e-6)))).fit(disp=0)
    assert abs(cox.params[0]) < 3 * cox.bse[0] and abs(cox.params[1] - 1) < 3 * cox.bse[1]
    # stated confidence is p rounded to the slider step (0.5 where a bias overrode the evidence)
    np.testing.assert_allclose(sim["confidence"], np.round(np.maximum(truth, 0.5), 2), atol=1e-9)
    unbiased = p["rater"].isin([s.rater for s in specs if s.length_bias == 0]).to_numpy()
    assert (truth[unbiased] >= 0.5).all()


def test_over_and_under_confidence_scale_the_log_odds(bank):
    specs = [RaterSpec(f"sim-o{i}", skill=1.5, confidence_scale=2.0) for i in range(30)]
    specs += [RaterSpec(f"sim-u{i}", skill=1.5, confidence_scale=0.5) for i in range(30)]
    sim = simulate_judgments(bank, specs, n_per_rater=500, seed=9)
    p = prepare(bank, sim)
    for prefix, gamma in (("sim-o", 2.0), ("sim-u", 0.5)):
        one = p[p["rater"].str.startswith(prefix) & (p["confidence"] > 0.5) & (p["confidence"] < 1)]
        x = logit(one["confidence"].to_numpy())
        cox = sm.Logit(one["correct"].to_numpy(), sm.add_constant(x)).fit(disp=0)
        assert abs(cox.params[1] - 1 / gamma) < 3 * cox.bse[1] + 0.02  # rounding blurs a little


def test_missing_left_and_confidence(bank):
    specs = [RaterSpec("sim-old", records_left=False, states_confidence=False)]
    sim = simulate_judgments(bank, specs, n_per_rater=20, seed=10)
    assert sim["left"].isna().all() and sim["confidence"].isna().all()
    assert prepare(bank, sim)["left"].isna().all()


def test_seed_makes_it_reproducible(bank):
    a = simulate_judgments(bank, demo_raters(3), n_per_rater=20, seed=11)
    b = simulate_judgments(bank, demo_raters(3), n_per_rater=20, seed=11)
    pd.testing.assert_frame_equal(a, b)


def test_demo_cohort_is_labelled_simulated(bank):
    sim = demo_cohort(bank)
    assert len(sim) == 24 * 120 and sim["rater"].nunique() == 24
    assert sim["rater"].str.startswith("sim-").all()
    names = {r.rater.split("-", 2)[2] for r in demo_raters(24)}
    assert {"steady", "overconfident", "long-lover", "polish-lover", "left-leaner"} <= names


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"rater": ""}, "rater must be a non-empty string; got ''."),
        ({"skill": -1.0}, "skill of rater 'x' must be >= 0; got -1.0."),
        ({"length_bias": math.nan}, "length_bias of rater 'x' must be finite."),
        ({"confidence_scale": 0.0}, "confidence_scale of rater 'x' must be > 0; got 0.0."),
    ],
)
def test_rater_spec_validation(kwargs, message):
    with pytest.raises(ValueError, match=re.escape(message)):
        RaterSpec(**{"rater": "x", **kwargs})


def test_simulate_validation(bank):
    with pytest.raises(ValueError, match=re.escape("raters must have distinct ids.")):
        simulate_judgments(bank, [RaterSpec("a"), RaterSpec("a")], n_per_rater=5, seed=0)
    with pytest.raises(ValueError, match=re.escape("n_per_rater must be a positive integer; got 0.")):
        simulate_judgments(bank, [RaterSpec("a")], n_per_rater=0, seed=0)
    with pytest.raises(ValueError, match=re.escape("raters must be a non-empty list of RaterSpec.")):
        simulate_judgments(bank, [], n_per_rater=5, seed=0)
