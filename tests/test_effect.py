"""The training effect (calibration.effect) against reference implementations and planted learning."""

from __future__ import annotations

import math
import re

import numpy as np
import pandas as pd
import pytest
from scipy import stats
from scipy.special import ndtri
from statsmodels.stats.proportion import confint_proportions_2indep, proportion_confint

from calibration import effect
from calibration.data import prepare
from calibration.effect import (
    EFFECT_COLUMNS,
    MEASURES,
    effect_table,
    form_versions,
    qualification,
    readiness,
    training_effect,
)
from calibration.simulate import RaterSpec, simulate_forms, synthetic_bank

COUNTS = [(20, 40, 30, 40), (0, 10, 5, 12), (40, 40, 35, 40), (7, 25, 9, 31), (3, 3, 0, 4)]


@pytest.mark.parametrize(("k1", "n1", "k2", "n2"), COUNTS)
def test_newcombe_matches_statsmodels(k1, n1, k2, n2):
    _, low, high = effect._newcombe(k1, n1, k2, n2, ndtri(0.975))
    ref = confint_proportions_2indep(k2, n2, k1, n1, method="newcomb", compare="diff")
    assert low == pytest.approx(ref[0], abs=1e-12)
    assert high == pytest.approx(ref[1], abs=1e-12)


@pytest.mark.parametrize(("k1", "n1", "k2", "n2"), COUNTS)
def test_newcombe_p_value_agrees_with_the_interval(k1, n1, k2, n2):
    p = float(effect._newcombe_p(k1, n1, k2, n2))
    if k1 / n1 == k2 / n2:
        assert p == 1.0
        return
    # at the level 1 - p the interval's nearer end touches 0; a bit above it, it covers 0
    _, low, high = effect._newcombe(k1, n1, k2, n2, ndtri(1 - p / 2))
    assert min(abs(low), abs(high)) < 1e-9
    _, low, high = effect._newcombe(k1, n1, k2, n2, ndtri(1 - p / 2) * 1.01)
    assert low < 0 < high
    for level in (0.9, 0.95, 0.99):
        _, low, high = effect._newcombe(k1, n1, k2, n2, ndtri(0.5 + level / 2))
        assert (p < 1 - level) == (low > 0 or high < 0)


def test_welch_matches_scipy():
    rng = np.random.default_rng(0)
    a, b = rng.normal(0, 1, 23), rng.normal(0.4, 2, 31)
    bounds = effect._welch_family(a.mean(), a.var(ddof=1), len(a), b.mean(), b.var(ddof=1), len(b))
    x = {"change": np.array([b.mean() - a.mean()]), "bounds": bounds}
    effect._finish(x, np.zeros(1), np.zeros(1), 0.95)  # no form adjustment: Welch's own interval and p
    ref = stats.ttest_ind(b, a, equal_var=False)
    ci = ref.confidence_interval(0.95)
    got = (float(x["low"][0]), float(x["high"][0]), float(x["p"][0]))
    assert got == pytest.approx((ci.low, ci.high, ref.pvalue), rel=1e-9)


def test_paired_without_versions_is_scipys_paired_t():
    rng = np.random.default_rng(1)
    pre, post = rng.uniform(0.5, 0.8, 15), rng.uniform(0.55, 0.9, 15)
    same = np.array(["X"] * 15, dtype=object)
    mu, low, high, p, df, adjusted = effect._paired(post - pre, same, same, 0.95)[:6]
    ref = stats.ttest_rel(post, pre)
    ci = ref.confidence_interval(0.95)
    assert not adjusted and df == 14
    assert (mu, low, high, p) == pytest.approx(((post - pre).mean(), ci.low, ci.high, ref.pvalue), rel=1e-9)


def test_paired_with_two_orders_averages_the_order_groups():
    # form Y is 10 points harder; learning is +5 points; 3 raters X then Y, 6 raters Y then X
    d = np.array([-0.05, -0.04, -0.06, 0.15, 0.16, 0.14, 0.15, 0.15, 0.15])
    before = np.array(["X"] * 3 + ["Y"] * 6, dtype=object)
    after = np.array(["Y"] * 3 + ["X"] * 6, dtype=object)
    fit = effect._paired(d, before, after, 0.95)
    mu, low, high, df, adjusted, effects = fit.mu, fit.low, fit.high, fit.df, fit.adjusted, fit.effects
    assert adjusted and df == 7
    assert mu == pytest.approx((d[:3].mean() + d[3:].mean()) / 2)
    assert effects["Y"] == pytest.approx(-0.10)
    assert low < 0.05 < high
    assert d.mean() > 0.08  # the unadjusted mean would be biased by the unbalanced order
    # each rater's shift is the difference of their forms' effects, with its standard error
    shift, se = fit.shift(before, after)
    assert shift[:3] == pytest.approx([-0.10] * 3) and shift[3:] == pytest.approx([0.10] * 6)
    assert se == pytest.approx([math.sqrt(fit.cov[0, 0])] * 9)


def test_a_raters_change_allows_for_form_difficulty():
    # a cohort without learning where form Y is much harder: raw changes are +-, adjusted ones near 0
    bank = synthetic_bank(200, seed=21)
    sim = simulate_forms(
        bank,
        n_raters=16,
        form_size=60,
        seed=22,
        accuracy_gain=0.0,
        length_fade=1.0,
        calibration_keep=1.0,
        form_shift=1.2,
        retention=False,
    )
    out = training_effect(prepare(bank, sim))
    raw, adjusted = [], []
    for rater in out["raters"].values():
        acc = rater["effect"]["accuracy"]
        raw.append(acc["post"] - acc["pre"])
        adjusted.append(acc["change"])
        assert acc["change"] == pytest.approx(acc["post"] - acc["pre"] - acc["form_adjustment"])
        assert acc["ci_low"] < acc["change"] < acc["ci_high"]
    assert np.mean(np.abs(raw)) > 0.15 and np.mean(np.abs(adjusted)) < 0.1
    assert "difference in difficulty" in out["raters"]["sim-01-steady"]["effect"]["accuracy"]["summary"]


def test_wilcoxon_matches_scipy():
    d = np.array([0.1, -0.05, 0.2, 0.2, 0.0, 0.15, -0.1, 0.3, 0.05, 0.05, 0.12])
    ref = stats.wilcoxon(d, method="approx", correction=False, zero_method="wilcox").pvalue
    assert effect._wilcoxon_p(d) == pytest.approx(ref, rel=1e-12)


@pytest.mark.parametrize(
    ("k", "n", "q", "bar"), [(48, 60, 20, 0.8), (10, 12, 10, 0.9), (3, 30, 20, 0.5), (60, 60, 40, 1.0)]
)
def test_readiness_is_scipys_beta_binomial(k, n, q, bar):
    frame = pd.DataFrame({"rater": "ann", "correct": [1.0] * k + [0.0] * (n - k), "answered_at": pd.NaT})
    got = readiness(frame, quiz_size=q, bar=bar)
    need = math.ceil(bar * q - 1e-9)
    assert got["probability"] == pytest.approx(
        stats.betabinom(q, k + 0.5, n - k + 0.5).sf(need - 1), rel=1e-10
    )
    assert got["n"] == n and got["accuracy"] == pytest.approx(k / n)


def test_readiness_uses_the_latest_answers():
    times = pd.date_range("2025-01-01", periods=100, freq="h", tz="UTC")
    correct = [0.0] * 40 + [1.0] * 60  # learned: the last 60 are all right
    frame = pd.DataFrame({"rater": "ann", "correct": correct, "answered_at": times})
    shuffled = frame.sample(frac=1.0, random_state=0)
    got = readiness(shuffled, window=60)
    assert got["accuracy"] == 1.0 and got["probability"] > 0.95
    assert "from your last 60 answers (100% right)" in got["summary"]


def test_readiness_without_answers_and_bad_arguments():
    empty = pd.DataFrame({"rater": pd.Series([], dtype=str), "correct": pd.Series([], dtype=float)})
    assert math.isnan(readiness(empty)["probability"])
    one = pd.DataFrame({"rater": ["a"], "correct": [1.0]})
    with pytest.raises(ValueError, match=re.escape("quiz_size must be a positive integer; got 0.")):
        readiness(one, quiz_size=0)
    with pytest.raises(ValueError, match=re.escape("bar must be in [0, 1]; got 80.")):
        readiness(one, bar=80)
    two = pd.DataFrame({"rater": ["a", "b"], "correct": [1.0, 0.0]})
    with pytest.raises(ValueError, match=re.escape("readiness needs one rater's answers; got 2 raters.")):
        readiness(two)


def _one(k: int, n: int, conf: float | None = 0.85) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "rater": "ann",
            "correct": [1.0] * k + [0.0] * (n - k),
            "confidence": np.nan if conf is None else conf,
            "choice": "A",
            "tie": False,
        }
    )


def test_qualification_uses_the_lower_bound_not_the_estimate():
    low = proportion_confint(170, 200, alpha=0.10, method="wilson")[0]  # one-sided 95%
    got = qualification(_one(170, 200), min_accuracy=0.8, max_overconfidence=0.10)
    assert got["accuracy_low"] == pytest.approx(low, rel=1e-12)
    assert got["passed"]
    # the same accuracy on 20 pairs does not clear the bar
    assert not qualification(_one(17, 20))["passed"]
    # overconfidence: 0.85 stated, 85% right, upper bound 0.85 - low
    assert got["overconfidence_high"] == pytest.approx(0.85 - low, rel=1e-12)
    over = qualification(_one(170, 200, conf=0.99), max_overconfidence=0.10)
    assert over["overconfidence_high"] > 0.10 and not over["passed"]
    assert qualification(_one(170, 200, conf=0.99), max_overconfidence=None)["passed"]


def test_qualification_without_confidence_does_not_pass_a_calibration_bar():
    got = qualification(_one(190, 200, conf=None))
    assert not got["passed"] and "overconfidence cannot be checked" in got["summary"]


# --- the whole effect on simulated cohorts -------------------------------------------------


@pytest.fixture(scope="module")
def bank():
    return synthetic_bank(300, seed=11)


@pytest.fixture(scope="module")
def learned(bank):
    sim = simulate_forms(bank, n_raters=16, form_size=40, seed=5)
    return training_effect(prepare(bank, sim))


def test_schema(learned):
    rater = learned["raters"]["sim-01-steady"]
    assert rater["n"] == {"pre": 40, "post": 40, "retention": 40}
    for key in ("effect", "retention", "retention_vs_pre"):
        assert list(rater[key]) == list(MEASURES)
        assert list(learned["cohort"][key]) == list(MEASURES)
        for entry in rater[key].values():
            assert set(entry) - {"form_adjustment"} == {*EFFECT_COLUMNS[3:], "summary"}
        for m in ("accuracy", "score", "brier_skill", "overconfidence"):
            assert "form_adjustment" in rater[key][m]
    assert learned["cohort"]["n_raters"] == 16
    assert learned["cohort"]["order_balance"]["balanced"]
    assert learned["cohort"]["summary"][0].startswith("Training effect over 16 rater(s)")


def test_planted_learning_is_found(learned):
    cohort = learned["cohort"]["effect"]
    assert cohort["accuracy"]["significant"] and cohort["accuracy"]["change"] > 0
    assert cohort["overconfidence"]["significant"] and cohort["overconfidence"]["change"] < 0
    assert cohort["brier_skill"]["significant"] and cohort["brier_skill"]["change"] > 0
    assert cohort["length"]["change"] < 1
    # the check from the raters' own changes agrees in direction
    check = cohort["length"]["raters_mean"]
    assert check["n"] == 16 and check["change"] < 1 and check["ci_low"] < check["change"] < check["ci_high"]


def test_effect_table_rows(learned):
    table = effect_table(learned)
    assert list(table.columns) == EFFECT_COLUMNS
    assert len(table) == (16 + 1) * 3 * len(MEASURES)
    assert set(table["comparison"]) == {"post vs pre", "retention vs post", "retention vs pre"}
    cohort = table[(table["rater"] == "cohort") & (table["measure"] == "accuracy")]
    assert cohort["comparison"].tolist() == ["post vs pre", "retention vs post", "retention vs pre"]


def test_form_versions_follow_the_counterbalanced_order(bank):
    sim = simulate_forms(bank, n_raters=4, form_size=10, seed=2, retention=False)
    versions = form_versions(sim)
    pre = versions[versions["stage"] == "pre"]["version"].tolist()
    post = versions[versions["stage"] == "post"]["version"].tolist()
    assert pre[0] == pre[2] != pre[1] == pre[3]
    assert post == [pre[1], pre[0], pre[1], pre[0]]


def test_rater_with_one_form_only_is_not_estimable(bank):
    sim = simulate_forms(bank, n_raters=4, form_size=20, seed=3, retention=False)
    sim = sim[~((sim["rater"] == sim["rater"].iloc[0]) & (sim["form"] == "post"))]
    out = training_effect(prepare(bank, sim))
    first = out["raters"][sim["rater"].iloc[0]]["effect"]["accuracy"]
    assert math.isnan(first["change"]) and not first["significant"]
    assert "no decided answers in the post form" in first["summary"]
    assert out["cohort"]["n_raters"] == 3
    assert out["raters"][sim["rater"].iloc[0]]["retention"] == {}


def test_errors(bank):
    sim = simulate_forms(bank, n_raters=2, form_size=10, seed=3, retention=False)
    prepared = prepare(bank, sim)
    with pytest.raises(ValueError, match="the judgments have no form column"):
        training_effect(prepared.drop(columns="form"))
    with pytest.raises(ValueError, match=re.escape("no answers in the post form")):
        training_effect(prepared[prepared["form"] != "post"])
    with pytest.raises(ValueError, match=re.escape("no answers in the pre or post form")):
        training_effect(prepared.assign(form=""))
    with pytest.raises(ValueError, match=re.escape("confidence must be in (0, 1); got 95.")):
        training_effect(prepared, confidence=95)


def test_rater_bias_change_recovers_a_planted_ratio(bank):
    # one rater, many answers per form: the ratio of length odds ratios is the planted one
    big = synthetic_bank(1200, seed=4)
    spec = RaterSpec("sim-long", skill=1.2, length_bias=math.log(2.0))
    sim = simulate_forms(
        big, raters=[spec], form_size=500, seed=6, length_pull=0.0, length_fade=0.25, retention=False
    )
    got = training_effect(prepare(big, sim))["raters"]["sim-long"]["effect"]["length"]
    planted = math.exp(math.log(2.0) * 0.25 - math.log(2.0))
    assert got["ci_low"] < planted < got["ci_high"]
    assert got["significant"]


def test_demo_cohort_with_forms_holds_the_forms_out_of_the_drills():
    from calibration.simulate import demo_cohort

    bank = synthetic_bank(300, seed=1)
    sim = demo_cohort(bank, n_raters=12, n_per_rater=40, with_forms=True, form_size=20)
    drills, forms = sim[sim["form"] == ""], sim[sim["form"] != ""]
    assert not set(drills["pair_id"]) & set(forms["pair_id"])
    first_drill = drills.groupby("rater")["answered_at"].min()
    pre_done = forms[forms["form"] == "pre"].groupby("rater")["answered_at"].max()
    assert (pre_done < first_drill.reindex(pre_done.index)).all()
    cohort = training_effect(prepare(bank, sim))["cohort"]["effect"]
    assert cohort["accuracy"]["significant"] and cohort["accuracy"]["change"] > 0
    # the existing call is unchanged
    plain = demo_cohort(bank, n_raters=3, n_per_rater=10)
    assert "form" not in plain.columns and len(plain) == 30


def test_simulate_forms_needs_two_forms_of_pairs():
    with pytest.raises(ValueError, match=re.escape("bank has 30 pairs; two forms of 20 need 40.")):
        simulate_forms(synthetic_bank(30, seed=0), n_raters=2, form_size=20)


def test_probe_rates_are_compared_where_forms_hold_probes(bank):
    sim = simulate_forms(bank, n_raters=4, form_size=40, seed=8, retention=False)
    prepared = prepare(bank, sim)
    probes = prepared["pair_id"].isin(
        prepared["pair_id"].drop_duplicates().iloc[::4]
    )  # a quarter of the pairs
    # the restyled copy is the one picked in every pre answer and never in a post answer
    prepared.loc[probes, "probe"] = "polish"
    styled = np.where(
        prepared["form"] == "pre", prepared["choice"], np.where(prepared["choice"] == "A", "B", "A")
    )
    prepared.loc[probes, "styled"] = styled[probes.to_numpy()]
    out = training_effect(prepared)
    cohort = out["cohort"]["effect"]["probe_polish"]
    assert (cohort["pre"], cohort["post"], cohort["change"]) == (1.0, 0.0, -1.0)
    assert cohort["significant"] and cohort["n"] == int(probes.sum())
    ref = confint_proportions_2indep(
        0, cohort["n"] // 2, cohort["n"] // 2, cohort["n"] // 2, method="newcomb"
    )
    assert cohort["ci_low"] == pytest.approx(ref[0]) and cohort["ci_high"] == pytest.approx(ref[1])
    assert "probe_polish" in out["raters"]["sim-01-steady"]["effect"]
