"""calibration.reliability against scikit-learn, statsmodels and the CORP paper's identities."""

from __future__ import annotations

import math
import re

import numpy as np
import pandas as pd
import pytest
from sklearn.calibration import calibration_curve
from sklearn.isotonic import IsotonicRegression
from statsmodels.stats.proportion import proportion_confint

from calibration.reliability import (
    BIN_COLUMNS,
    CORP_COLUMNS,
    corp_consistency_band,
    corp_reliability,
    reliability_bins,
)
from calibration.scoring import brier_loss, murphy_decomposition

GRID = np.arange(50, 101) / 100


def rater(seed, n=300, levels=GRID, shift=0.0):
    rng = np.random.default_rng(seed)
    p = rng.choice(levels, size=n)
    return (rng.random(n) < p - shift).astype(float), p


# ----------------------------------------------------------------------------- binned diagram


def test_bins_columns_and_labels():
    table = reliability_bins(*rater(0))
    assert list(table.columns) == BIN_COLUMNS
    assert table["bin"].tolist() == ["50-59%", "60-69%", "70-79%", "80-89%", "90-100%"]
    assert table["n"].dtype == np.int64
    assert table["n"].sum() == 300


@pytest.mark.parametrize("seed", range(5))
def test_bins_match_sklearn_calibration_curve(seed):
    y, p = rater(seed, levels=GRID[(GRID * 100) % 10 != 0], shift=0.08)  # off the edges
    prob_true, prob_pred = calibration_curve(y, p, n_bins=10)
    table = reliability_bins(y, p)
    table = table[table["n"] > 0]
    np.testing.assert_allclose(table["accuracy"], prob_true, rtol=1e-12)
    np.testing.assert_allclose(table["confidence"], prob_pred, rtol=1e-12)


def test_bins_wilson_matches_statsmodels():
    y, p = rater(3, shift=0.1)
    table = reliability_bins(y, p)
    k = np.round(table["accuracy"] * table["n"]).astype(int)
    low, high = proportion_confint(k, table["n"], alpha=0.05, method="wilson")
    np.testing.assert_allclose(table["ci_low"], low, rtol=1e-10)
    np.testing.assert_allclose(table["ci_high"], high, rtol=1e-10)


def test_bin_edges_go_up():
    table = reliability_bins([1, 1, 0, 1, 1, 0], [0.5, 0.6, 0.7, 0.1 * 7, 0.8999999999, 1.0])
    assert table["n"].tolist() == [1, 1, 2, 0, 2]
    empty = table.iloc[3]
    assert empty["n"] == 0 and math.isnan(empty["accuracy"]) and math.isnan(empty["ci_low"])


def test_custom_edges():
    table = reliability_bins([1, 0, 1], [0.5, 0.75, 1.0], edges=(0.5, 0.75, 1.0))
    assert table["bin"].tolist() == ["50-74%", "75-100%"]
    assert table["n"].tolist() == [1, 2]


def test_bins_empty_input():
    table = reliability_bins([], [])
    assert table["n"].tolist() == [0] * 5
    assert table["accuracy"].isna().all()


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"y_true": [1], "y_prob": [0.4]}, "y_prob has values outside the bin edges [0.5, 1]."),
        (
            {"y_true": [1], "y_prob": [0.6], "edges": (0.5,)},
            "edges must be an increasing sequence of at least two",
        ),
        ({"y_true": [1], "y_prob": [0.6], "edges": (0.5, 0.5, 1)}, "edges must be an increasing sequence"),
        ({"y_true": [1], "y_prob": [0.6], "edges": (0.5, 1.5)}, "edges must lie within [0, 1]."),
        ({"y_true": [1, 0], "y_prob": [0.6]}, "y_true and y_prob have different lengths (2 and 1)."),
    ],
)
def test_bins_errors(kwargs, message):
    with pytest.raises(ValueError, match=re.escape(message)):
        reliability_bins(**kwargs)


# ----------------------------------------------------------------------------- CORP


@pytest.mark.parametrize("seed", range(20))
def test_corp_decomposition_adds_up_to_brier(seed):
    rng = np.random.default_rng(seed)
    n = int(rng.integers(1, 500))
    y, p = rater(seed, n=n, shift=float(rng.uniform(-0.2, 0.3)))
    corp = corp_reliability(y, p)
    assert abs(corp.mcb - corp.dsc + corp.unc - brier_loss(y, p)) < 1e-12
    assert corp.brier == pytest.approx(brier_loss(y, p), abs=1e-15)
    assert corp.mcb >= -1e-15 and corp.dsc >= -1e-15
    assert (np.diff(corp.curve["calibrated"]) >= 0).all()  # isotonic fit is monotone


@pytest.mark.parametrize("seed", range(5))
def test_corp_fit_matches_sklearn_isotonic(seed):
    y, p = rater(seed, shift=0.1)
    corp = corp_reliability(y, p)
    ref = IsotonicRegression(out_of_bounds="clip").fit(p, y)
    np.testing.assert_allclose(corp.curve["calibrated"], ref.predict(corp.curve["confidence"]), atol=1e-12)


def test_corp_equals_murphy_when_accuracy_rises_with_confidence():
    # Dimitriadis et al. (2021): with monotone observed frequencies PAV changes nothing
    p = np.repeat([0.6, 0.7, 0.8, 0.9], 10)
    y = np.concatenate([np.r_[np.ones(k), np.zeros(10 - k)] for k in (4, 6, 7, 9)])
    corp = corp_reliability(y, p)
    rel, res, unc = murphy_decomposition(y, p)
    assert corp.curve["calibrated"].tolist() == pytest.approx(corp.curve["accuracy"].tolist())
    assert (corp.mcb, corp.dsc, corp.unc) == pytest.approx((rel, res, unc), abs=1e-14)


def test_corp_curve_columns():
    corp = corp_reliability([1, 0, 1], [0.6, 0.6, 1.0])
    assert list(corp.curve.columns) == CORP_COLUMNS
    assert corp.curve["n"].tolist() == [2, 1]


def test_corp_degenerate_inputs():
    empty = corp_reliability([], [])
    assert empty.curve.empty and list(empty.curve.columns) == CORP_COLUMNS
    assert all(math.isnan(v) for v in (empty.mcb, empty.dsc, empty.unc, empty.brier))
    perfect = corp_reliability([1, 1, 1], [1.0, 1.0, 1.0])
    assert (perfect.mcb, perfect.dsc, perfect.unc, perfect.brier) == (0.0, 0.0, 0.0, 0.0)
    one = corp_reliability([0], [0.8])
    assert one.mcb == pytest.approx(0.64) and one.dsc == 0 and one.unc == 0
    assert isinstance(one.curve, pd.DataFrame)


def test_consistency_band_holds_calibrated_raters_and_not_uninformative_ones():
    """A calibrated rater's CORP curve stays inside the 90% band at most confidences (measured 91%);
    a rater whose confidence carries nothing (right 75% whatever is said) falls below it at their
    highest confidence (measured in 86% of such raters, of calibrated raters 7%)."""
    rng = np.random.default_rng(3)
    grid = np.arange(55, 100, 5) / 100
    inside, below_at_top = {"calibrated": [], "flat": []}, {"calibrated": [], "flat": []}
    for _ in range(100):
        c = rng.choice(grid, 150)
        for kind, y in (("calibrated", rng.random(150) < c), ("flat", rng.random(150) < 0.75)):
            curve = corp_reliability(y * 1.0, c).curve
            low, high = corp_consistency_band(curve["confidence"], curve["n"], n_resamples=300, seed=1)
            fit = curve["calibrated"].to_numpy()
            inside[kind].append(np.mean((low - 1e-12 <= fit) & (fit <= high + 1e-12)))
            below_at_top[kind].append(fit[-1] < low[-1] - 1e-12)
    assert np.mean(inside["calibrated"]) >= 0.85
    assert np.mean(below_at_top["calibrated"]) <= 0.10
    assert np.mean(below_at_top["flat"]) >= 0.85


def test_consistency_band_narrows_to_the_diagonal_and_checks_its_input():
    low, high = corp_consistency_band([0.55, 0.75, 0.95], [20000] * 3)
    np.testing.assert_allclose(low, [0.55, 0.75, 0.95], atol=0.01)
    np.testing.assert_allclose(high, [0.55, 0.75, 0.95], atol=0.01)
    assert corp_consistency_band([], [])[0].size == 0
    with pytest.raises(
        ValueError, match=re.escape("confidence and n must be 1-D arrays of the same length.")
    ):
        corp_consistency_band([0.6], [1, 2])
