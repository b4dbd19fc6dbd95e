"""Bias model, plain rates and tag accuracy, against statsmodels, hand counts and planted raters."""

from __future__ import annotations

import math
import re

import numpy as np
import pandas as pd
import pytest
import statsmodels.api as sm
from scipy import stats
from statsmodels.stats.proportion import proportion_confint

from calibration.bias import (
    BIAS_COLUMNS,
    MIN_JUDGMENTS,
    bias_by_rater,
    plain_rates,
    pooled_bias,
    tag_accuracy,
)
from calibration.data import prepare
from calibration.simulate import RaterSpec, demo_cohort, simulate_judgments, synthetic_bank

PLANTED = {"length_bias": math.log(2.0), "polish_bias": 0.5, "position_bias": 0.3}
EFFECT_OF = {"length": "length_bias", "polish": "polish_bias", "position": "position_bias"}


@pytest.fixture(scope="module")
def bank() -> pd.DataFrame:
    return synthetic_bank(3_000, seed=21)


def _cohort(bank, n_raters, n_per_rater, seed, **planted):
    """Raters with skill spread over 0.5-2.5 (accuracy 62-92%) and the planted biases."""
    skill = np.random.default_rng(seed).uniform(0.5, 2.5, n_raters)
    specs = [RaterSpec(f"sim-{i:04d}", skill=float(s), **planted) for i, s in enumerate(skill)]
    return prepare(bank, simulate_judgments(bank, specs, n_per_rater=n_per_rater, seed=seed + 1))


def _outside_design(p: pd.DataFrame):
    """The bias model's design built by hand from prepared rows that all have ``left``."""
    sign = np.where(p["left"] == "A", 1.0, -1.0)
    X = np.column_stack(
        [
            np.ones(len(p)),
            np.where(p["gold"] == p["left"], 1.0, -1.0),
            sign * p["length_doublings"],
            sign * p["polish_diff"] / 0.5,
        ]
    )
    return X, (p["choice"] == p["left"]).to_numpy(float)


def _by_effect(out: pd.DataFrame, effect: str) -> pd.DataFrame:
    return out[out["effect"] == effect]


# --- layout --------------------------------------------------------------------------------


def test_long_layout_three_rows_per_rater(bank):
    p = prepare(bank, demo_cohort(bank, n_raters=5, n_per_rater=60))
    out = bias_by_rater(p)
    assert list(out.columns) == BIAS_COLUMNS
    assert out["rater"].tolist() == [r for r in p["rater"].unique() for _ in range(3)]
    assert out["effect"].tolist() == ["length", "polish", "position"] * 5
    assert out["estimable"].all() and (out["n"] == 60).all()
    assert out["significant"].dtype == bool and out["estimable"].dtype == bool
    assert (out["ci_low"] < out["odds_ratio"]).all() and (out["odds_ratio"] < out["ci_high"]).all()
    assert out["unit"].str.len().gt(0).all()


# --- simulation studies ----------------------------------------------------------------------


@pytest.mark.slow
def test_no_planted_bias_flags_about_five_percent(bank):
    p = _cohort(bank, 1_000, 200, seed=100)
    out = bias_by_rater(p)
    # each penalized likelihood-ratio test holds its level ...
    rates = (out["p_value"] < 0.05).groupby(out["effect"]).mean()
    # 1,000 raters: the standard error of a 5% rate is 0.7 points, so 7.5% tells 5% from 10%
    assert (rates <= 0.075).all(), rates.to_dict()
    assert (rates >= 0.025).all(), rates.to_dict()  # not uselessly conservative either
    # ... and the weighted Holm correction over the three keeps the share of raters with any
    # bias line at its 7% family-wise level (FAMILY_ALPHA), under the 10% target
    any_line = out.groupby("rater")["significant"].any().mean()
    assert any_line <= 0.09, any_line


@pytest.mark.slow
def test_few_judgments_do_not_inflate_false_positives(bank):
    p = _cohort(bank, 1_000, MIN_JUDGMENTS, seed=200)
    rates = bias_by_rater(p).groupby("effect")["significant"].mean()
    assert (rates <= 0.075).all(), rates.to_dict()


@pytest.mark.slow
def test_planted_biases_are_found_and_covered(bank):
    p = _cohort(bank, 1_000, 200, seed=300, **PLANTED)
    out = bias_by_rater(p)
    length = _by_effect(out, "length")
    assert length["significant"].mean() >= 0.80  # odds ratio 2 per doubling, 200 judgments
    assert length["summary"].str.startswith("You favour longer answers").mean() >= 0.80
    for effect, key in EFFECT_OF.items():
        rows = _by_effect(out, effect)
        true = math.exp(PLANTED[key])
        coverage = ((rows["ci_low"] <= true) & (true <= rows["ci_high"])).mean()
        assert 0.92 <= coverage <= 0.975, (effect, coverage)
        # the estimator is nearly unbiased on the log scale
        assert abs(np.log(rows["odds_ratio"]).mean() - PLANTED[key]) < 0.03


def test_per_rater_estimates_match_statsmodels_logit(bank):
    specs = [
        RaterSpec("sim-a", skill=1.0, length_bias=0.5, polish_bias=-0.3, position_bias=0.2),
        RaterSpec("sim-b", skill=2.0, length_bias=-0.4, polish_bias=0.6),
        RaterSpec("sim-c", skill=0.7, position_bias=-0.5),
    ]
    p = prepare(bank, simulate_judgments(bank, specs, n_per_rater=2_500, seed=7))
    out = bias_by_rater(p)
    for rater, one in p.groupby("rater"):
        X, y = _outside_design(one)
        ml = sm.Logit(y, X).fit(disp=0)
        ci = np.exp(ml.conf_int())
        for effect, j in (("position", 0), ("length", 2), ("polish", 3)):
            row = out[(out["rater"] == rater) & (out["effect"] == effect)].iloc[0]
            # Firth and ML differ by O(1/n): well under a tenth of a standard error here
            assert abs(math.log(row["odds_ratio"]) - ml.params[j]) < 0.1 * ml.bse[j]
            assert row["ci_low"] == pytest.approx(ci[j, 0], rel=0.01)
            assert row["ci_high"] == pytest.approx(ci[j, 1], rel=0.01)
            assert row["p_value"] == pytest.approx(ml.pvalues[j], rel=0.1, abs=1e-4)


def test_pooled_bias_matches_statsmodels_cluster_robust(bank):
    specs = [
        RaterSpec(f"sim-{i}", skill=0.8 + 0.05 * i, length_bias=0.3 + 0.02 * i, position_bias=0.1 * (i % 3))
        for i in range(30)
    ]
    p = prepare(bank, simulate_judgments(bank, specs, n_per_rater=300, seed=8))
    out = pooled_bias(p)
    assert list(out.columns) == BIAS_COLUMNS and (out["rater"] == "cohort").all()
    X, y = _outside_design(p)
    groups = np.column_stack([pd.factorize(p["rater"])[0], pd.factorize(p["pair_id"])[0]])
    ml = sm.Logit(y, X).fit(disp=0, cov_type="cluster", cov_kwds={"groups": groups}, use_t=True)
    ci = np.exp(ml.conf_int())
    for effect, j in (("position", 0), ("length", 2), ("polish", 3)):
        row = out[out["effect"] == effect].iloc[0]
        assert math.log(row["odds_ratio"]) == pytest.approx(ml.params[j], abs=0.02 * ml.bse[j] + 1e-3)
        assert row["ci_low"] == pytest.approx(ci[j, 0], rel=0.005)
        assert row["ci_high"] == pytest.approx(ci[j, 1], rel=0.005)
        assert row["p_value"] == pytest.approx(ml.pvalues[j], rel=0.05, abs=1e-6)
    assert out.set_index("effect").loc["length", "summary"].startswith("The cohort favours longer answers")


def test_pooled_bias_needs_two_raters(bank):
    p = prepare(bank, simulate_judgments(bank, [RaterSpec("sim-solo")], n_per_rater=100, seed=9))
    out = pooled_bias(p)
    assert not out["estimable"].any() and out["odds_ratio"].isna().all()
    assert out["summary"].str.contains("a cluster-robust interval needs at least 2").all()
    with pytest.raises(ValueError, match=re.escape("min_raters must be an integer >= 2; got 1.")):
        pooled_bias(p, min_raters=1)


def test_pooled_bias_by_group_fits_each_groups_judgments_apart(bank):
    specs = [RaterSpec(f"sim-{i}", skill=1.0, length_bias=0.5 * (i % 2)) for i in range(6)]
    p = prepare(bank, simulate_judgments(bank, specs, n_per_rater=150, seed=12))
    group = np.where(p["rater"].isin(["sim-0", "sim-1", "sim-2"]), "first", "second")
    group[:20] = "few"  # 20 judgments: too few for any estimate
    out = pooled_bias(p, by=group)
    assert out["rater"].tolist() == ["few"] * 3 + ["first"] * 3 + ["second"] * 3
    assert out[out["rater"] == "few"]["summary"].str.startswith("Not enough data yet: 20 decided").all()
    for name in ("first", "second"):
        alone = pooled_bias(p[group == name])
        mine = out[out["rater"] == name].reset_index(drop=True)
        pd.testing.assert_frame_equal(mine.drop(columns="rater"), alone.drop(columns="rater"))
    with pytest.raises(ValueError, match=re.escape("by has 3 values for 900 judgments; it needs one per")):
        pooled_bias(p, by=["a", "b", "c"])


# --- verdicts ------------------------------------------------------------------------------


def test_verdicts_name_the_direction(bank):
    specs = [
        RaterSpec("sim-long", skill=1.5, length_bias=math.log(3)),
        RaterSpec("sim-short", skill=1.5, length_bias=-math.log(3), polish_bias=-1.0, position_bias=-1.0),
        RaterSpec("sim-fancy", skill=1.5, polish_bias=1.0, position_bias=1.0),
    ]
    p = prepare(bank, simulate_judgments(bank, specs, n_per_rater=400, seed=10))
    said = bias_by_rater(p).set_index(["rater", "effect"])["summary"]
    assert said["sim-long", "length"].startswith(
        "You favour longer answers: when one answer is twice as long, your odds of picking it rise "
    )
    assert said["sim-long", "length"].endswith("beyond what answer quality explains.")
    assert said["sim-short", "length"].startswith("You favour shorter answers:")
    assert "odds of picking the shorter one rise" in said["sim-short", "length"]
    assert said["sim-short", "polish"].startswith("You favour plainer answers:")
    assert said["sim-short", "position"].startswith("You favour the answer shown on the right:")
    assert said["sim-fancy", "polish"].startswith("You favour more polished answers:")
    assert said["sim-fancy", "position"].startswith("You favour the answer shown on the left:")
    assert said["sim-long", "polish"].startswith("No clear polish bias")
    assert re.search(r"rise \d+\.\dx \(95% CI \d+\.\d+-\d+\.\d+\)", said["sim-long", "length"])


def test_sentences_say_when_the_direction_decided_the_verdict(bank):
    """Most of each level goes to the usual direction (TOWARD_SHARES): a called pull toward
    longer whose 95% interval reaches 1 says the evidence is moderate, and a pull toward
    shorter that the interval shows but the verdict does not call says it needs more."""
    rng = np.random.default_rng(3)
    pulls = rng.choice([-math.log(2), 0.0, math.log(2)], 300)
    specs = [RaterSpec(f"sim-{i:03d}", skill=1.2, length_bias=float(b)) for i, b in enumerate(pulls)]
    out = bias_by_rater(prepare(bank, simulate_judgments(bank, specs, n_per_rater=40, seed=14)))
    rows = out[(out["effect"] == "length") & out["estimable"]]
    moderate = rows["summary"].str.contains("The evidence is moderate: the 95% interval still reaches 1")
    up = rows["significant"] & (rows["odds_ratio"] > 1)
    assert (moderate == (up & (rows["ci_low"] <= 1))).all()
    held = rows["summary"].str.contains("a pull toward shorter answers needs stronger evidence")
    assert (held == (~rows["significant"] & (rows["ci_high"] < 1))).all()
    # both happen among these raters, so the two checks above are not vacuous
    assert moderate.sum() >= 5 and held.sum() >= 5, (moderate.sum(), held.sum())


# --- missing data and degenerate raters ----------------------------------------------------


def test_unknown_left_makes_position_not_estimable_but_keeps_length(bank):
    specs = [
        RaterSpec("sim-old", skill=1.5, length_bias=math.log(2), records_left=False),
        RaterSpec("sim-new", skill=1.5, length_bias=math.log(2)),
    ]
    judgments = simulate_judgments(bank, specs, n_per_rater=400, seed=11)
    partly = judgments["rater"].eq("sim-new") & (np.arange(len(judgments)) % 400 >= 20)
    judgments.loc[partly, "left"] = None  # sim-new: left known for only 20 judgments
    out = bias_by_rater(prepare(bank, judgments)).set_index(["rater", "effect"])
    for rater in ("sim-old", "sim-new"):
        row = out.loc[(rater, "position")]
        assert not row["estimable"] and np.isnan(row["odds_ratio"]) and np.isnan(row["p_value"])
        assert not row["significant"]
        assert out.loc[(rater, "length"), "estimable"]
        assert out.loc[(rater, "length"), "ci_low"] < 2 < out.loc[(rater, "length"), "ci_high"]
    assert out.loc[("sim-old", "position"), "summary"] == (
        "Position bias not estimable: the side each answer was shown on was not recorded."
    )
    assert out.loc[("sim-new", "position"), "summary"] == (
        "Position bias not estimable: the side each answer was shown on was recorded for only "
        "20 of your 400 decided judgments (at least 30 needed)."
    )
    assert out.loc[("sim-old", "position"), "n"] == 0


def test_no_left_column_at_all(bank):
    judgments = simulate_judgments(bank, [RaterSpec("sim-a"), RaterSpec("sim-b")], n_per_rater=60, seed=12)
    p = prepare(bank, judgments.drop(columns=["left"]))
    assert bias_by_rater(p)["estimable"].tolist() == [True, True, False] * 2
    pooled = pooled_bias(p).set_index("effect")
    assert pooled["estimable"].tolist() == [True, True, False]
    assert pooled.loc["position", "summary"] == (
        "Position bias not estimable for the cohort: the side each answer was shown on was recorded "
        "for 0 decided judgments from 0 raters (at least 30 judgments from 2 raters needed)."
    )


def test_few_judgments_all_ties_and_no_judgments(bank):
    tied_bank = synthetic_bank(50, seed=13, tie_share=1.0)
    both = pd.concat([bank, tied_bank.assign(id=tied_bank["id"].str.replace("syn", "tie"))])
    specs = [RaterSpec("sim-few"), RaterSpec("sim-ties")]
    few = simulate_judgments(bank, specs[:1], n_per_rater=12, seed=14)
    ties = simulate_judgments(both[both["gold"] == "tie"], specs[1:], n_per_rater=20, seed=15)
    p = prepare(both, pd.concat([few, ties], ignore_index=True))
    out = bias_by_rater(p)
    assert len(out) == 6 and not out["estimable"].any()
    assert out[["odds_ratio", "ci_low", "ci_high", "p_value"]].isna().all().all()
    assert (
        out.loc[out["rater"] == "sim-few", "summary"]
        == ("Not enough data yet: 12 decided judgments, at least 30 needed.")
    ).all()
    assert out.loc[out["rater"] == "sim-ties", "n"].eq(0).all()
    assert out.loc[out["rater"] == "sim-ties", "summary"].str.startswith("Not enough data yet: 0").all()
    empty = bias_by_rater(p.iloc[:0])
    assert list(empty.columns) == BIAS_COLUMNS and empty.empty
    assert plain_rates(p.iloc[:0]).empty and tag_accuracy(p.iloc[:0]).empty


def test_always_right_rater_gets_not_enough_evidence(bank):
    """No errors: the choices carry no information on a pull, so no odds ratio from the penalty alone."""
    judgments = simulate_judgments(bank, [RaterSpec("sim-perfect", skill=1.0)], n_per_rater=100, seed=16)
    p = prepare(bank, judgments)
    p["choice"] = p["gold"]  # complete separation on gold
    p["correct"] = 1.0
    out = bias_by_rater(p)
    assert not out["estimable"].any()
    assert out[["odds_ratio", "ci_low", "ci_high", "p_value"]].isna().all().all()
    assert not out["significant"].any()
    assert out["summary"].str.startswith("Not enough evidence: you agreed with the expert on all 100").all()
    # one error is enough to be fitted, finite thanks to Firth's penalty
    p.loc[p.index[0], "choice"] = "B" if p["gold"].iloc[0] == "A" else "A"
    out = bias_by_rater(p)
    assert out["estimable"].all()
    assert np.isfinite(out[["odds_ratio", "p_value"]].to_numpy()).all()


def test_no_polish_variation_is_not_estimable():
    plain = pd.DataFrame(
        {
            "id": [f"p{i}" for i in range(40)],
            "prompt": "q",
            "response_a": [" ".join(["word"] * (5 + i)) for i in range(40)],
            "response_b": [" ".join(["word"] * (45 - i)) for i in range(40)],
            "gold": ["A", "B"] * 20,
            "tags": [()] * 40,
        }
    )
    judgments = simulate_judgments(plain, [RaterSpec("sim-a")], n_per_rater=40, seed=17)
    out = bias_by_rater(prepare(plain, judgments)).set_index("effect")
    assert not out.loc["polish", "estimable"] and out.loc["length", "estimable"]
    assert out.loc["polish", "summary"] == (
        "Polish bias not estimable: no pair you judged differs in formatting."
    )


def test_bad_arguments(bank):
    p = prepare(bank, simulate_judgments(bank, [RaterSpec("sim-a")], n_per_rater=10, seed=18))
    with pytest.raises(ValueError, match=re.escape("min_n must be a positive integer; got 0.")):
        bias_by_rater(p, min_n=0)
    with pytest.raises(ValueError, match=re.escape("prepared lacks the column(s) ['polish_diff']")):
        bias_by_rater(p.drop(columns=["polish_diff"]))


# --- plain rates ---------------------------------------------------------------------------


def _toy(choice, gold, doublings):
    n = len(choice)
    return pd.DataFrame(
        {
            "rater": "r1",
            "choice": choice,
            "gold": gold,
            "tie": [g == "tie" for g in gold],
            "length_doublings": doublings,
            "more_polished": [""] * n,
        }
    )


def test_plain_rates_fisher_is_the_lady_tasting_tea():
    # A is longer in every pair. Gold shorter (B) 4 times: right 3, wrong 1; gold
    # longer (A) 4 times: right 1, wrong 3. Table [[3, 1], [1, 3]]: Fisher's
    # two-sided p = (C(4,1)C(4,3) + C(4,3)C(4,1) + 2 C(4,0)C(4,4)) / C(8,4) = 34/70.
    choice = ["B", "B", "B", "A", "A", "B", "B", "B"]
    gold = ["B"] * 4 + ["A"] * 4
    row = plain_rates(_toy(choice, gold, [1.0] * 8)).iloc[0]
    by_hand = (2 * math.comb(4, 1) * math.comb(4, 3) + 2) / math.comb(8, 4)
    assert row["p_value"] == pytest.approx(by_hand, rel=1e-12) == pytest.approx(34 / 70)
    assert (row["n_gold_less"], row["picked_more_gold_less"]) == (4, 1)
    assert (row["n_gold_more"], row["picked_more_gold_more"]) == (4, 1)
    assert row["summary"] == (
        "When the expert preferred the shorter answer, you picked the longer one 25% of the time "
        "(n = 4); when the expert preferred the longer answer, you picked it 25% of the time (n = 4)."
    )


def test_plain_rates_fisher_equals_scipy_for_every_rater(bank):
    """Fisher's test is computed for every rater's table at once; each equals scipy's own call."""
    p = _cohort(bank, 60, 120, seed=23, length_bias=0.5, polish_bias=0.4)
    out = plain_rates(p)
    assert out["p_value"].notna().sum() > 100
    for row in out.itertuples():
        table = [
            [row.n_gold_less - row.picked_more_gold_less, row.picked_more_gold_less],
            [row.picked_more_gold_more, row.n_gold_more - row.picked_more_gold_more],
        ]
        if min(sum(table[0]), sum(table[1])) == 0:
            assert np.isnan(row.p_value)
        else:
            assert row.p_value == pytest.approx(stats.fisher_exact(table).pvalue, rel=1e-9)


def test_plain_rates_only_counts_clear_differences_and_decided_pairs():
    choice = ["A", "A", "A", "B", "A"]
    gold = ["A", "B", "tie", "B", "B"]
    doublings = [1.0, math.log2(1.4), 1.0, -2.0, 0.0]  # 1.4x is not clearly longer; 0 is equal
    row = plain_rates(_toy(choice, gold, doublings)).iloc[0]
    assert (row["n_gold_less"], row["n_gold_more"]) == (0, 2)
    assert row["picked_more_gold_more"] == 2 and row["rate_gold_more"] == 1.0
    assert np.isnan(row["rate_gold_less"]) and np.isnan(row["p_value"])
    assert row["summary"].startswith("No pairs yet where the expert preferred the shorter answer")


def test_plain_rates_wilson_matches_statsmodels(bank):
    p = _cohort(bank, 20, 150, seed=19, length_bias=0.7)
    out = plain_rates(p)
    assert out["dimension"].tolist() == ["length", "polish"] * 20
    for label in ("less", "more"):
        k = out[f"picked_more_gold_{label}"].to_numpy()
        n = out[f"n_gold_{label}"].to_numpy()
        low, high = proportion_confint(k, n, alpha=0.05, method="wilson")
        np.testing.assert_allclose(out[f"ci_low_gold_{label}"], low, atol=1e-12)
        np.testing.assert_allclose(out[f"ci_high_gold_{label}"], high, atol=1e-12)
    for row in out.itertuples():
        table = [
            [row.n_gold_less - row.picked_more_gold_less, row.picked_more_gold_less],
            [row.picked_more_gold_more, row.n_gold_more - row.picked_more_gold_more],
        ]
        assert row.p_value == pytest.approx(stats.fisher_exact(table).pvalue, rel=1e-12)
    length = out[out["dimension"] == "length"]
    # a length-biased rater picks the longer answer more often than 1 - accuracy when it is wrong
    assert (length["rate_gold_less"] + length["rate_gold_more"]).mean() > 1.1


# --- tag accuracy --------------------------------------------------------------------------


def test_tag_accuracy_against_statsmodels_and_scipy(bank):
    specs = [
        RaterSpec("sim-long", skill=1.5, length_bias=math.log(4)),
        RaterSpec("sim-fair", skill=1.5),
    ]
    p = prepare(bank, simulate_judgments(bank, specs, n_per_rater=400, seed=20))
    out = tag_accuracy(p)
    low, high = proportion_confint(out["correct"], out["n"], alpha=0.05, method="wilson")
    np.testing.assert_allclose(out["ci_low"], low, atol=1e-12)
    np.testing.assert_allclose(out["ci_high"], high, atol=1e-12)
    for row in out.itertuples():
        k_other = round(row.accuracy_other * row.n_other)
        table = [[row.correct, row.n - row.correct], [k_other, row.n_other - k_other]]
        assert row.p_value == pytest.approx(stats.fisher_exact(table, alternative="less").pvalue, rel=1e-9)
    flagged = out[out["weak_spot"]]
    assert ("sim-long", "length") in set(zip(flagged["rater"], flagged["tag"], strict=True))
    assert "sim-fair" not in set(flagged["rater"])
    decided = p[~p["tie"]]
    overall = decided.groupby("rater")["correct"].mean()
    np.testing.assert_allclose(out["overall_accuracy"], overall.reindex(out["rater"]).to_numpy())


# --- the cohort's cluster-robust interval ---------------------------------------------------


def test_pooled_interval_has_the_small_sample_factor_of_few_clusters(bank):
    """With 4 raters the CR1 factor G/(G-1) (N-1)/(N-K) widens the standard errors by about 15%:
    the interval must match statsmodels' two-way (rater, pair) clustered covariance with it."""
    specs = [RaterSpec(f"sim-{i}", skill=1.0 + 0.3 * i, length_bias=0.2 + 0.15 * i) for i in range(4)]
    p = prepare(bank, simulate_judgments(bank, specs, n_per_rater=400, seed=31))
    out = pooled_bias(p).set_index("effect")
    X, y = _outside_design(p)
    groups = np.column_stack([pd.factorize(p["rater"])[0], pd.factorize(p["pair_id"])[0]])
    fit = sm.Logit(y, X).fit(disp=0, cov_type="cluster", cov_kwds={"groups": groups}, use_t=True)
    t = stats.t.ppf(0.975, 4 - 1)
    for effect, j in (("position", 0), ("length", 2), ("polish", 3)):
        row = out.loc[effect]
        se = (math.log(row["ci_high"]) - math.log(row["ci_low"])) / (2 * t)
        assert se == pytest.approx(fit.bse[j], rel=0.02), effect
        assert math.log(row["odds_ratio"]) == pytest.approx(fit.params[j], abs=0.05 * fit.bse[j])


def test_pooled_fit_on_distinct_rows_equals_the_fit_on_every_judgment(bank):
    """Counting repeated designs as frequency weights leaves the Firth estimate as it is."""
    from calibration.bias import _design, _gold_block
    from calibration.firth import firth_logistic

    p = _cohort(bank, 40, 150, seed=33, **PLANTED)
    design = _design(p)
    X = np.column_stack([design["X"], _gold_block(design, np.zeros(len(design["y"]), dtype=int), 1)])
    full = firth_logistic(X[None], design["y"][None])
    out = pooled_bias(p).set_index("effect")
    for effect, j in (("position", 0), ("length", 2), ("polish", 3)):
        assert math.log(out.loc[effect, "odds_ratio"]) == pytest.approx(full.coef[0, j], rel=1e-9, abs=1e-12)


def test_holm_and_benjamini_hochberg_equal_statsmodels():
    from statsmodels.stats.multitest import multipletests

    from calibration.bias import benjamini_hochberg, holm

    rng = np.random.default_rng(5)
    p = np.where(rng.random((200, 3)) < 0.3, rng.random((200, 3)) * 0.02, rng.random((200, 3)))
    p[rng.random((200, 3)) < 0.1] = np.nan  # dimensions not tested
    adjusted = holm(p)
    for row, adj in zip(p, adjusted, strict=True):
        tested = np.isfinite(row)
        if tested.any():
            expected = multipletests(row[tested], method="holm")[1]
            np.testing.assert_allclose(adj[tested], expected, rtol=1e-12)
        assert np.isnan(adj[~tested]).all()
    flat = p.ravel()
    tested = np.isfinite(flat)
    np.testing.assert_allclose(
        benjamini_hochberg(flat)[tested], multipletests(flat[tested], method="fdr_bh")[1], rtol=1e-12
    )


def test_cohort_flags_look_first_in_the_traps_direction_as_a_raters_own_verdict():
    """across_raters: Benjamini-Hochberg (statsmodels) over the directed p-values.

    Two raters with the same two-sided p of 0.04 for length, one toward longer
    answers and one toward shorter: with two tests, the two-sided values would
    flag both (q = 0.04); toward longer the one-sided 0.02 spends 90% of the
    level (0.022) and is flagged, toward shorter 10% (0.2) and is not.
    """
    from statsmodels.stats.multitest import multipletests

    from calibration.bias import TOWARD_SHARES, across_raters

    table = pd.DataFrame(
        {
            "rater": ["long", "short", "none"],
            "effect": ["length", "length", "position"],
            "odds_ratio": [1.8, 1 / 1.8, 1.2],
            "p_value": [0.04, 0.04, np.nan],
            "estimable": [True, True, False],
        }
    )
    out = across_raters(table)
    assert out["significant"].tolist() == [True, False, False]
    one_sided = np.array([0.02 / TOWARD_SHARES["length"], 0.02 / (1 - TOWARD_SHARES["length"])])
    np.testing.assert_allclose(
        out["p_adjusted"].to_numpy()[:2], multipletests(one_sided, method="fdr_bh")[1], rtol=1e-12
    )
    assert np.isnan(out["p_adjusted"].iloc[2])
    assert out["correction"].iloc[0].startswith("Benjamini-Hochberg over 2 tests from 2 raters")
    assert "traps' direction" in out["correction"].iloc[0]


def test_weighted_holm_is_the_closed_test_of_weighted_bonferroni():
    """Weighted Holm rejects exactly what the closure principle does (Marcus, Peritz & Gabriel 1976).

    A hypothesis is rejected when every intersection containing it is rejected by
    the weighted Bonferroni test: some p_j <= alpha w_j / (sum of the weights in it).
    The closure is computed here by brute force over all subsets, at several levels.
    """
    from itertools import combinations

    from calibration.bias import HOLM_WEIGHTS, holm

    rng = np.random.default_rng(9)
    p = np.where(rng.random((300, 3)) < 0.4, rng.random((300, 3)) * 0.05, rng.random((300, 3)))
    p[rng.random((300, 3)) < 0.1] = np.nan  # dimensions not tested
    w = np.array([HOLM_WEIGHTS[e] for e in ("length", "polish", "position")])
    adjusted = holm(p, weights=w)
    for alpha in (0.01, 0.03, 0.05, 0.1):
        for row, adj in zip(p, adjusted, strict=True):
            tested = [i for i in range(3) if np.isfinite(row[i])]
            for i in tested:
                closed = all(
                    any(row[j] <= alpha * w[j] / w[list(s)].sum() for j in s)
                    for k in range(1, len(tested) + 1)
                    for s in combinations(tested, k)
                    if i in s
                )
                assert (adj[i] <= alpha) == closed, (row, i, alpha)
            assert np.isnan(adj[[i for i in range(3) if i not in tested]]).all()
    # equal weights are Holm's procedure
    np.testing.assert_allclose(holm(p, weights=[2.0, 2.0, 2.0]), holm(p), rtol=1e-12)
    with pytest.raises(ValueError, match="weights"):
        holm(p, weights=[1.0, 0.0, 1.0])


def test_directed_p_is_a_weighted_bonferroni_over_the_two_directions():
    """``directed`` against one-sided normal tail areas from scipy: a signed statistic z
    (p = 2 P(|Z| > |z|)) is rejected at alpha upward exactly when P(Z > z) <= t alpha and
    downward when P(Z < z) <= (1 - t) alpha, so the level is alpha and both sides are tested."""
    from calibration.bias import directed

    rng = np.random.default_rng(4)
    z = rng.normal(0.0, 1.0, 200_000)
    p = 2 * stats.norm.sf(np.abs(z))
    toward, alpha = 0.9, 0.056
    got = directed(p, z, toward) <= alpha
    up = stats.norm.sf(z) <= toward * alpha
    down = stats.norm.cdf(z) <= (1 - toward) * alpha
    assert np.array_equal(got, up | down)
    # under the null the level holds, split as asked (standard error of 5.6%: 0.05 points)
    assert abs(got.mean() - alpha) < 0.0025, got.mean()
    assert abs((got & (z < 0)).mean() - (1 - toward) * alpha) < 0.001
    # a shift of 1.7 upward is found as often as a one-sided test at 5.04% finds it
    shifted = z + 1.7
    found = (directed(2 * stats.norm.sf(np.abs(shifted)), shifted, toward) <= alpha).mean()
    assert found == pytest.approx(stats.norm.sf(stats.norm.isf(toward * alpha) - 1.7), abs=0.005)
    assert found > stats.norm.sf(stats.norm.isf(alpha / 2) - 1.7) + 0.05  # the two-sided split's
    np.testing.assert_allclose(directed(p[:100], z[:100], 0.5), p[:100])
    for bad in (0.0, 1.0):
        with pytest.raises(ValueError, match="toward"):
            directed(p[:3], z[:3], bad)


def test_item_strata_read_source_and_the_adversarial_tag_whatever_the_tags_container():
    """Tags arrive as tuples from the store, lists or arrays from other readers, or are missing."""
    from calibration.bias import item_strata

    frame = pd.DataFrame(
        {
            "source": ["llmbar", "llmbar", None, "llmbar", "mt"],
            "tags": [("adversarial", "length"), ("length",), None, ["adversarial"], np.array(["polish"])],
        }
    )
    code, names = item_strata(frame)
    assert list(names[code]) == ["llmbar|adversarial", "llmbar|", "|", "llmbar|adversarial", "mt|"]
    tuples = [("adversarial", "length"), ("length",), None, ("adversarial",), ("polish",)]
    code2, names2 = item_strata(frame.assign(tags=tuples))
    assert list(names2[code2]) == list(names[code])
