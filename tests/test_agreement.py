"""calibration.agreement against the krippendorff package, Krippendorff's published example and simulation."""

from __future__ import annotations

import math
import re

import krippendorff
import numpy as np
import pandas as pd
import pytest

from calibration.agreement import (
    ALPHA_COLUMNS,
    _alpha,
    _gold_alpha_counts,
    _gold_interval,
    _unit_terms,
    alpha_by_rater,
    alpha_vs_gold,
    cohort_alpha,
)

# Krippendorff (2011), "Computing Krippendorff's Alpha-Reliability", section C: 4 coders x 12 units,
# values 1-5, missing values as NaN. Published nominal alpha: 0.743.
K2011 = np.array(
    [
        [1, 2, 3, 3, 2, 1, 4, 1, 2, np.nan, np.nan, np.nan],
        [1, 2, 3, 3, 2, 2, 4, 1, 2, 5, np.nan, 3],
        [np.nan, 3, 3, 3, 2, 3, 4, 2, 2, 5, 1, np.nan],
        [1, 2, 3, 3, 2, 4, 4, 1, 2, 5, 1, np.nan],
    ]
)


def value_counts(data):
    """(N, V) counts of each value per unit from a coders x units matrix."""
    values = np.unique(data[~np.isnan(data)])
    return (data.T[..., None] == values).sum(axis=1)


def our_alpha(data):
    unit_counts, unit_d = _unit_terms(value_counts(data))
    return float(_alpha(unit_counts.sum(axis=0), unit_d.sum()))


def simulated(n_raters, n_judgments, n_pairs, *, seed=0, accuracy=None, tie_share=0.06):
    """Prepared-like rows; rater i is right with probability accuracy[i] on decided pairs."""
    rng = np.random.default_rng(seed)
    gold_of_pair = rng.choice(["A", "B", "tie"], size=n_pairs, p=[(1 - tie_share) / 2] * 2 + [tie_share])
    pair = np.concatenate([rng.choice(n_pairs, n_judgments, replace=False) for _ in range(n_raters)])
    gold = gold_of_pair[pair]
    acc = np.repeat(rng.uniform(0.55, 0.95, n_raters) if accuracy is None else accuracy, n_judgments)
    right = rng.random(len(pair)) < acc
    choice = np.where(gold == "tie", rng.choice(["A", "B"], len(pair)), np.where(right, gold, "?"))
    choice = np.where(choice == "?", np.where(gold == "A", "B", "A"), choice)
    return pd.DataFrame(
        {
            "rater": np.repeat([f"r{i:04d}" for i in range(n_raters)], n_judgments),
            "pair_id": [f"p{i}" for i in pair],
            "choice": choice,
            "gold": gold,
            "tie": gold == "tie",
        }
    )


def frame(choice, gold, rater="ana", pair_id=None):
    n = len(choice)
    pair_id = pair_id or [f"p{i}" for i in range(n)]
    return pd.DataFrame({"rater": rater, "pair_id": pair_id, "choice": choice, "gold": gold}).assign(
        tie=lambda f: f["gold"].eq("tie")
    )


# ----------------------------------------------------------------------------- the formula


def test_krippendorff_2011_published_example():
    assert round(krippendorff.alpha(reliability_data=K2011, level_of_measurement="nominal"), 3) == 0.743
    assert round(our_alpha(K2011), 3) == 0.743
    assert our_alpha(K2011) == pytest.approx(
        krippendorff.alpha(reliability_data=K2011, level_of_measurement="nominal"), abs=1e-12
    )


def test_package_docstring_example():
    data = np.array(
        [
            [np.nan, np.nan, np.nan, np.nan, np.nan, 3, 4, 1, 2, 1, 1, 3, 3, np.nan, 3],
            [1, np.nan, 2, 1, 3, 3, 4, 3, np.nan, np.nan, np.nan, np.nan, np.nan, np.nan, np.nan],
            [np.nan, np.nan, 2, 1, 3, 4, 4, np.nan, 2, 1, 1, 3, 3, np.nan, 4],
        ]
    )
    assert round(our_alpha(data), 6) == 0.691358


@pytest.mark.parametrize("seed", range(200))
def test_formula_equals_package_on_random_data(seed):
    rng = np.random.default_rng(seed)
    coders, units = int(rng.integers(2, 7)), int(rng.integers(1, 40))
    data = rng.integers(0, int(rng.integers(2, 5)), size=(coders, units)).astype(float)
    data[rng.random(data.shape) < rng.uniform(0, 0.6)] = np.nan
    counts = value_counts(data)
    if (counts[counts.sum(axis=1) >= 2].sum(axis=0) > 0).sum() < 2:
        # alpha undefined (2 of the 200 seeds): the package raises or divides 0 by 0, we give NaN
        assert math.isnan(our_alpha(data))
        return
    assert our_alpha(data) == pytest.approx(
        krippendorff.alpha(reliability_data=data, level_of_measurement="nominal"), abs=1e-12
    )


@pytest.mark.parametrize("seed", range(200))
def test_two_coder_closed_form_equals_package(seed):
    rng = np.random.default_rng(1000 + seed)
    n = int(rng.integers(1, 60))
    gold = rng.integers(0, 2, n)
    rater = np.where(rng.random(n) < rng.uniform(0, 1), gold, 1 - gold)
    types = [np.sum((rater == 0) & (gold == 0)), np.sum((rater == 1) & (gold == 1)), np.sum(rater != gold)]
    ours = float(_gold_alpha_counts(*np.array(types)))
    if len(np.unique(np.r_[rater, gold])) < 2:
        assert math.isnan(ours)
        return
    data = np.array([rater, gold], dtype=float)
    assert ours == pytest.approx(
        krippendorff.alpha(reliability_data=data, level_of_measurement="nominal"), abs=1e-12
    )


# ----------------------------------------------------------------------------- rater vs gold


def test_alpha_vs_gold_equals_package_with_ties_as_missing():
    f = simulated(1, 150, 400, seed=3, tie_share=0.2)
    res = alpha_vs_gold(f)
    gold = f["gold"].map({"A": 0.0, "B": 1.0, "tie": np.nan})
    data = np.array([f["choice"].map({"A": 0.0, "B": 1.0}), gold])
    assert res["alpha"] == pytest.approx(
        krippendorff.alpha(reliability_data=data, level_of_measurement="nominal")
    )
    assert res["n"] == int((~f["tie"]).sum())
    assert res["ci_low"] < res["alpha"] < res["ci_high"]
    assert res["reason"] == ""


def test_alpha_by_rater_equals_alpha_vs_gold():
    f = simulated(30, 40, 100, seed=5)
    table = alpha_by_rater(f)
    assert list(table.columns) == ALPHA_COLUMNS
    for rater, rows in f.groupby("rater"):
        single = alpha_vs_gold(rows)
        row = table.set_index("rater").loc[rater]
        assert row["n"] == single["n"]
        assert row["alpha"] == pytest.approx(single["alpha"], abs=1e-12)
        assert row["ci_low"] == pytest.approx(single["ci_low"], abs=1e-12)
        assert row["ci_high"] == pytest.approx(single["ci_high"], abs=1e-12)


def test_planted_accuracy_gives_known_alpha_and_covering_intervals():
    # gold balanced A/B, choices right with probability q: alpha = 2q - 1 in expectation
    table = alpha_by_rater(simulated(500, 200, 2000, seed=8, accuracy=np.full(500, 0.8), tie_share=0))
    assert table["alpha"].mean() == pytest.approx(0.6, abs=0.01)
    coverage = ((table["ci_low"] <= 0.6) & (0.6 <= table["ci_high"])).mean()
    assert 0.9 <= coverage <= 0.99  # measured 0.948


def test_cohort_bootstrap_is_seeded_and_the_gold_interval_is_closed_form():
    f = simulated(1, 100, 300, seed=1)
    assert alpha_vs_gold(f, seed=1) == alpha_vs_gold(f, seed=2) == alpha_vs_gold(f, n_boot=0)
    c = simulated(4, 60, 80, seed=3)
    assert cohort_alpha(c) == cohort_alpha(c)
    assert cohort_alpha(c, seed=1)["ci_low"] != cohort_alpha(c, seed=2)["ci_low"]
    assert math.isnan(cohort_alpha(c, n_boot=0)["ci_low"])


def test_gold_interval_is_the_wilson_interval_of_disagreement_through_alpha():
    from statsmodels.stats.proportion import proportion_confint

    f = simulated(1, 120, 300, seed=4, tie_share=0)
    res = alpha_vs_gold(f)
    d = int((f["choice"] != f["gold"]).sum())
    n = len(f)
    n_a = int((f["choice"] == "A").sum() + (f["gold"] == "A").sum())
    low_d, high_d = proportion_confint(d, n, alpha=0.05, method="wilson")
    scale = (2 * n - 1) * n / (n_a * (2 * n - n_a))
    assert res["ci_low"] == pytest.approx(1 - high_d * scale, rel=1e-12)
    assert res["ci_high"] == pytest.approx(1 - low_d * scale, rel=1e-12)
    assert res["alpha"] == pytest.approx(1 - d / n * scale, rel=1e-12)  # the same line gives the estimate


def test_thirty_of_thirty_right_gets_an_interval_below_one():
    res = alpha_vs_gold(frame(["A", "B", "B"] * 10, ["A", "B", "B"] * 10))
    assert res["alpha"] == 1.0 and res["ci_high"] == 1.0
    assert 0.7 < res["ci_low"] < 0.85


@pytest.mark.parametrize("n", [30, 50, 100])
def test_gold_interval_keeps_coverage_for_accurate_raters(n):
    """Raters as people are: items differ in difficulty (each pair's chance of being right drawn
    around the rater's accuracy) and gold not quite balanced (58% A). Coverage of the population
    alpha at n = 30, 50, 100 and accuracies 0.7-0.97 measured 93-97%; the old bootstrap covered 60%
    at 97% accuracy and n = 30."""
    rng = np.random.default_rng(n)
    reps = 3000
    for accuracy in (0.7, 0.8, 0.9, 0.95, 0.97):
        # chance of being right per pair: Beta around the accuracy (hard and easy pairs)
        strength = 8.0
        p = rng.beta(accuracy * strength, (1 - accuracy) * strength, (reps, n))
        gold_a = rng.random((reps, n)) < 0.58
        right = rng.random((reps, n)) < p
        aa = (right & gold_a).sum(axis=1)
        bb = (right & ~gold_a).sum(axis=1)
        d = (~right).sum(axis=1)
        # population alpha: 1 - P(disagree) / (2 pi (1 - pi)), pi the share of A among both coders' values
        pi = (0.58 + (0.58 * accuracy + 0.42 * (1 - accuracy))) / 2
        truth = 1 - (1 - accuracy) / (2 * pi * (1 - pi))
        types = np.stack([aa, bb, d], axis=1)
        low, high = _gold_interval(types, 0.95)
        assert np.isfinite(low).all() and (high - low > 0).all()
        coverage = np.mean((low <= truth) & (truth <= high))
        assert 0.92 <= coverage <= 0.99, (accuracy, coverage)


def test_last_judgment_of_a_repeated_pair_counts():
    f = frame(["A", "B", "B", "A"], ["A", "B", "B", "B"], pair_id=["p1", "p2", "p3", "p3"])
    once = frame(["A", "B", "A"], ["A", "B", "B"])
    assert alpha_vs_gold(f, n_boot=0)["alpha"] == alpha_vs_gold(once, n_boot=0)["alpha"]
    assert alpha_vs_gold(f, n_boot=0)["n"] == 3


@pytest.mark.parametrize(
    ("choice", "gold", "n", "reason"),
    [
        ([], [], 0, "no judgments"),
        (["A", "B"], ["tie", "tie"], 0, "no judged pair has a decided gold (all gold ties)"),
        (["A"], ["A"], 1, "only 'A' occurs among the choices and gold: alpha is undefined without variation"),
        (
            ["B", "B", "A"],
            ["B", "B", "tie"],
            2,
            "only 'B' occurs among the choices and gold: alpha is undefined without variation",
        ),
    ],
)
def test_alpha_vs_gold_degenerate(choice, gold, n, reason):
    f = frame(choice, gold).astype({"choice": object, "gold": object})
    res = alpha_vs_gold(f)
    assert (res["n"], res["reason"]) == (n, reason)
    assert math.isnan(res["alpha"]) and math.isnan(res["ci_low"]) and math.isnan(res["ci_high"])
    row = alpha_by_rater(f)
    assert row["reason"].tolist() == ([] if not len(f) else [reason])


def test_one_disagreement_is_chance_level():
    res = alpha_vs_gold(frame(["A"], ["B"]))
    assert res["alpha"] == 0.0
    assert res["alpha"] == krippendorff.alpha(reliability_data=[[0.0], [1.0]], level_of_measurement="nominal")


def test_alpha_by_rater_covers_a_large_cohort():
    table = alpha_by_rater(simulated(1000, 200, 2000, seed=2))
    assert len(table) == 1000 and table["ci_low"].notna().all()


# ----------------------------------------------------------------------------- cohort


def test_cohort_alpha_equals_package():
    f = simulated(25, 60, 120, seed=6)
    res = cohort_alpha(f)
    decided = f[~f["tie"]]
    matrix = decided.pivot(index="rater", columns="pair_id", values="choice").replace({"A": 0.0, "B": 1.0})
    data = matrix.to_numpy(dtype=float)
    assert res["alpha"] == pytest.approx(
        krippendorff.alpha(reliability_data=data, level_of_measurement="nominal")
    )
    assert res["n_raters"] == 25
    assert res["n_pairs"] == int((matrix.notna().sum() >= 2).sum())
    assert res["ci_low"] < res["alpha"] < res["ci_high"]
    with_ties = cohort_alpha(f, include_ties=True, n_boot=0)
    assert with_ties["n_pairs"] > res["n_pairs"]


def test_cohort_alpha_reproduces_known_agreement():
    # raters right with probability 0.9 on balanced gold: alpha among raters ~ (2*0.9 - 1)**2 = 0.64
    res = cohort_alpha(simulated(20, 1000, 1000, seed=0, accuracy=np.full(20, 0.9), tie_share=0))
    assert res["alpha"] == pytest.approx(0.64, abs=0.02)  # 0.649; seeds 0-5 gave 0.633 to 0.649
    assert res["ci_low"] < 0.64 < res["ci_high"]
    assert res["ci_high"] - res["ci_low"] < 0.05


@pytest.mark.parametrize(
    ("rows", "reason"),
    [
        (frame([], []), "no judgments on pairs with a decided gold"),
        (frame(["A", "B"], ["A", "B"]), "only one rater: agreement between raters needs at least two"),
        (
            pd.concat([frame(["A"], ["A"], "ana", ["p1"]), frame(["B"], ["B"], "bo", ["p2"])]),
            "no pair was judged by two or more raters",
        ),
        (
            pd.concat([frame(["A", "B"], ["A", "B"], "ana"), frame(["A"], ["A"], "bo")]),
            "every judgment on shared pairs is 'A': alpha is undefined without variation",
        ),
        (frame(["A", "B"], ["tie", "tie"]), "no judgments on pairs with a decided gold"),
    ],
)
def test_cohort_alpha_degenerate(rows, reason):
    rows = rows.astype({"choice": object, "gold": object})
    res = cohort_alpha(rows)
    assert res["reason"] == reason
    assert math.isnan(res["alpha"]) and math.isnan(res["ci_low"])


# ----------------------------------------------------------------------------- validation


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (
            lambda: alpha_vs_gold(frame(["A"], ["A"]).drop(columns="gold")),
            "prepared_one_rater lacks the column(s)",
        ),
        (
            lambda: alpha_vs_gold(frame(["C"], ["A"])),
            "choice has values other than 'A', 'B' and 'tie', e.g. 'C'.",
        ),
        (
            lambda: alpha_vs_gold(pd.concat([frame(["A"], ["A"], "ana"), frame(["A"], ["A"], "bo")])),
            "prepared_one_rater holds judgments of more than one rater; "
            "pass one rater's rows or use alpha_by_rater.",
        ),
        (
            lambda: alpha_by_rater(frame(["A"], ["A"]), n_boot=-1),
            "n_boot must be a non-negative integer, got -1.",
        ),
        (
            lambda: cohort_alpha(frame(["A"], ["A"]), confidence=1.5),
            "confidence must lie in (0, 1), got 1.5.",
        ),
        (
            lambda: cohort_alpha(frame(["A"], ["A"]).drop(columns="rater")),
            "prepared lacks the column(s) ['rater'].",
        ),
        (
            lambda: cohort_alpha(frame(["A"], ["A"]).drop(columns=["tie", "gold"])),
            "prepared lacks the column(s) ['tie'] (or 'gold') needed to leave out gold ties.",
        ),
    ],
)
def test_errors(call, message):
    with pytest.raises(ValueError, match=re.escape(message)):
        call()
