"""calibration.scoring against scikit-learn, statsmodels and simulated raters with planted effects."""

from __future__ import annotations

import math
import re

import numpy as np
import pytest
import statsmodels.api as sm
from scipy.special import logit
from sklearn.calibration import calibration_curve
from sklearn.metrics import brier_score_loss
from sklearn.metrics import log_loss as sk_log_loss
from statsmodels.stats.proportion import proportion_confint

from calibration.scoring import (
    LOG_EPS,
    brier_loss,
    brier_skill_score,
    calibration_slope_intercept,
    expected_calibration_error,
    log_loss,
    log_score,
    murphy_decomposition,
    overconfidence,
)

GRID = np.arange(50, 101) / 100  # a whole-percent slider


def calibrated_rater(rng, n, levels=GRID):
    """States p, is right with probability p."""
    p = rng.choice(levels, size=n)
    return (rng.random(n) < p).astype(float), p


# ----------------------------------------------------------------------------- Brier and log


@pytest.mark.parametrize("seed", range(5))
def test_brier_matches_sklearn(seed):
    rng = np.random.default_rng(seed)
    y, p = calibrated_rater(rng, 300)
    assert brier_loss(y, p) == pytest.approx(brier_score_loss(y, p), abs=1e-15)


def test_brier_reference_points():
    y = np.array([1, 0, 1, 1, 0])
    assert brier_loss(y, np.full(5, 0.5)) == 0.25
    assert brier_skill_score(y, np.full(5, 0.5)) == 0.0
    assert brier_skill_score(y, y.astype(float)) == 1.0
    assert brier_loss([0, 0], [1.0, 1.0]) == 1.0
    assert brier_skill_score([1, 1, 0, 1], [0.9, 0.8, 0.6, 0.7]) == pytest.approx(
        1 - brier_score_loss([1, 1, 0, 1], [0.9, 0.8, 0.6, 0.7]) / 0.25
    )


@pytest.mark.parametrize("seed", range(5))
def test_log_loss_matches_sklearn_inside_the_clip(seed):
    rng = np.random.default_rng(seed)
    y, p = calibrated_rater(rng, 300, levels=GRID[:-1])  # no 100%: no clipping involved
    assert log_loss(y, p) == pytest.approx(sk_log_loss(y, p, labels=[0, 1]), rel=1e-12)
    assert log_score(y, p) == -log_loss(y, p)


def test_log_loss_clips_certain_mistakes_at_documented_eps():
    y = np.array([1, 0, 1, 0])
    p = np.array([1.0, 1.0, 0.7, 0.5])
    clipped = np.clip(p, LOG_EPS, 1 - LOG_EPS)
    assert LOG_EPS == 0.005
    assert log_loss(y, p) == pytest.approx(sk_log_loss(y, clipped, labels=[0, 1]), rel=1e-12)
    assert log_loss([0], [1.0]) == pytest.approx(math.log(200), rel=1e-12)
    assert log_loss([1, 0], [0.5, 0.5]) == pytest.approx(math.log(2), rel=1e-12)
    assert log_loss([0], [1.0], eps=1e-15) == pytest.approx(math.log(1e15), rel=1e-9)


# ----------------------------------------------------------------------------- Murphy


@pytest.mark.parametrize("seed", range(20))
def test_murphy_identity_exact_on_discrete_forecasts(seed):
    rng = np.random.default_rng(seed)
    n = int(rng.integers(1, 400))
    y, p = calibrated_rater(rng, n, levels=rng.choice(GRID, size=int(rng.integers(1, 12))))
    rel, res, unc = murphy_decomposition(y, p)
    assert abs(rel - res + unc - brier_loss(y, p)) < 1e-12
    assert rel >= 0 and res >= 0 and 0 <= unc <= 0.25


def test_murphy_reliability_matches_sklearn_calibration_curve():
    # one distinct forecast per sklearn bin: Murphy's groups are sklearn's bins
    rng = np.random.default_rng(7)
    p = rng.choice([0.55, 0.65, 0.75, 0.85, 0.95], size=500)
    y = (rng.random(500) < p - 0.1).astype(float)
    prob_true, prob_pred = calibration_curve(y, p, n_bins=10)
    counts = np.histogram(p, bins=np.linspace(0, 1, 11))[0]
    counts = counts[counts > 0]
    rel, res, unc = murphy_decomposition(y, p)
    assert rel == pytest.approx(np.sum(counts * (prob_pred - prob_true) ** 2) / 500, rel=1e-12)
    assert res == pytest.approx(np.sum(counts * (prob_true - y.mean()) ** 2) / 500, rel=1e-12)
    assert unc == pytest.approx(y.mean() * (1 - y.mean()), rel=1e-12)


def test_murphy_binned_for_continuous_forecasts():
    rng = np.random.default_rng(3)
    p = rng.uniform(0.5, 1, 2000)
    y = (rng.random(2000) < p).astype(float)
    by_value = murphy_decomposition(y, p)  # singletons: REL is about the Brier loss itself
    binned = murphy_decomposition(y, p, n_bins=10)
    assert by_value.reliability > 0.1
    assert binned.reliability < 0.005  # calibrated once within-bin noise is pooled
    within = brier_loss(y, p) - (binned.reliability - binned.resolution + binned.uncertainty)
    assert abs(within) < 0.01  # the Stephenson et al. within-bin terms are small, not zero


# ----------------------------------------------------------------------------- ECE


@pytest.mark.parametrize("seed", range(5))
def test_ece_matches_sklearn_calibration_curve(seed):
    rng = np.random.default_rng(seed)
    p = rng.choice(GRID[(GRID * 100) % 10 != 0], size=400)  # off the bin edges
    y = (rng.random(400) < p - 0.05).astype(float)
    prob_true, prob_pred = calibration_curve(y, p, n_bins=10)
    counts = np.histogram(p, bins=np.linspace(0, 1, 11))[0]
    expected = np.sum(counts[counts > 0] * np.abs(prob_true - prob_pred)) / len(p)
    assert expected_calibration_error(y, p) == pytest.approx(expected, rel=1e-12)


def test_ece_puts_a_stated_70_percent_in_the_70s_bin():
    # sklearn's calibration_curve puts 0.7 into [0.6, 0.7) (float edge 0.7000000000000001): we do not
    assert np.linspace(0, 1, 11)[7] > 0.7
    assert expected_calibration_error([1, 0], [0.7, 0.75]) == pytest.approx(abs(1 - 1.45) / 2)
    assert expected_calibration_error([1, 0], [0.1 * 7, 0.75]) == pytest.approx(abs(1 - 1.45) / 2)
    assert expected_calibration_error([1, 1, 1], [1.0, 1.0, 1.0]) == 0.0


# ----------------------------------------------------------------------------- overconfidence


def test_overconfidence_interval_is_mean_confidence_minus_wilson():
    y = np.array([1] * 28 + [0] * 12)
    p = np.linspace(0.6, 1.0, 40)
    low, high = proportion_confint(28, 40, alpha=0.05, method="wilson")
    res = overconfidence(y, p)
    assert res.overconfidence == pytest.approx(p.mean() - 0.7)
    assert (res.ci_low, res.ci_high) == pytest.approx((p.mean() - high, p.mean() - low), rel=1e-10)
    assert res.n == 40


def test_overconfident_rater_is_flagged():
    flagged = []
    for seed in range(200):
        rng = np.random.default_rng(seed)
        y = (rng.random(200) < 0.7).astype(float)
        flagged.append(overconfidence(y, np.full(200, 0.9)).verdict == "overconfident")
    assert np.mean(flagged) == 1.0


def test_underconfident_rater_is_flagged():
    rng = np.random.default_rng(1)
    y = (rng.random(200) < 0.9).astype(float)
    assert overconfidence(y, np.full(200, 0.6)).verdict == "underconfident"


@pytest.mark.parametrize(
    ("n", "levels", "max_rate"),
    [
        (200, GRID, 0.06),  # measured 0.036 over 20,000 repetitions
        (50, GRID, 0.06),  # measured 0.038
        (200, np.array([0.9]), 0.08),  # measured 0.045
        (200, np.array([0.7]), 0.08),  # measured 0.052
        (100, np.arange(5, 11) / 10, 0.06),  # measured 0.033
    ],
)
def test_calibrated_rater_is_rarely_flagged(n, levels, max_rate):
    flags = [
        overconfidence(*calibrated_rater(np.random.default_rng(seed), n, levels)).verdict
        in ("overconfident", "underconfident")
        for seed in range(1000)
    ]
    assert np.mean(flags) <= max_rate


def test_all_right_at_99_percent_is_not_called_underconfident():
    # a paired t interval would have zero width here and call it underconfident
    res = overconfidence(np.ones(30), np.full(30, 0.99))
    assert res.verdict == "well calibrated"
    assert res.ci_low < 0 < res.ci_high


def test_verdict_needs_min_n():
    assert overconfidence(np.zeros(29), np.full(29, 1.0)).verdict == "not enough data yet"
    assert overconfidence(np.zeros(30), np.full(30, 1.0)).verdict == "overconfident"
    assert overconfidence(np.zeros(5), np.full(5, 1.0), min_n=5).verdict == "overconfident"


# ----------------------------------------------------------------------------- slope and intercept


def test_slope_intercept_match_statsmodels_logit():
    rng = np.random.default_rng(11)
    p = rng.choice(GRID, size=400)
    y = (rng.random(400) < 0.5 + 0.6 * (p - 0.5)).astype(float)  # slope below 1: overconfident at the top
    fit = calibration_slope_intercept(y, p)
    x = logit(np.clip(p, LOG_EPS, 1 - LOG_EPS))
    ref = sm.Logit(y, sm.add_constant(x)).fit(disp=0, tol=1e-12)
    assert fit.reason == ""
    assert fit.intercept == pytest.approx(ref.params[0], abs=1e-7)
    assert fit.slope == pytest.approx(ref.params[1], abs=1e-7)
    assert fit.slope < 1


def test_slope_of_a_calibrated_rater_is_near_one():
    rng = np.random.default_rng(5)
    y, p = calibrated_rater(rng, 20_000, levels=GRID[:-1])
    fit = calibration_slope_intercept(y, p)
    assert fit.slope == pytest.approx(1, abs=0.1)
    assert fit.intercept == pytest.approx(0, abs=0.1)


@pytest.mark.parametrize(
    ("y", "p", "reason"),
    [
        ([], [], "no judgments"),
        ([1], [0.8], "every answer is right: the slope is not estimable"),
        ([1, 1, 1], [0.6, 0.8, 1.0], "every answer is right: the slope is not estimable"),
        ([0, 0], [0.6, 1.0], "every answer is wrong: the slope is not estimable"),
        ([1, 0, 1], [1.0, 1.0, 1.0], "every judgment has the same confidence: the slope is not estimable"),
        (
            [0, 0, 1, 1],
            [0.6, 0.7, 0.7, 0.9],
            "confidence separates the answers (no wrong answer is more confident than a right one): "
            "the slope is infinite",
        ),
        (
            [1, 1, 0],
            [0.6, 0.7, 0.9],
            "confidence separates the answers (no right answer is more confident than a wrong one): "
            "the slope is minus infinity",
        ),
    ],
)
def test_slope_degenerate_gives_nan_and_reason(y, p, reason):
    fit = calibration_slope_intercept(y, p)
    assert math.isnan(fit.slope) and math.isnan(fit.intercept)
    assert fit.reason == reason


def test_stated_100_percent_is_clipped_in_the_fit():
    y = np.array([1, 0, 1, 1, 0, 1, 1, 0, 1, 1])
    p = np.array([1.0, 1.0, 0.9, 0.6, 0.6, 0.7, 1.0, 0.8, 0.8, 0.5])
    fit = calibration_slope_intercept(y, p)
    ref = sm.Logit(y, sm.add_constant(logit(np.clip(p, 0.005, 0.995)))).fit(disp=0, tol=1e-12)
    assert (fit.intercept, fit.slope) == pytest.approx(tuple(ref.params), abs=1e-7)


# ----------------------------------------------------------------------------- degenerate input


def test_empty_input_gives_nan_not_an_exception():
    assert math.isnan(brier_loss([], []))
    assert math.isnan(brier_skill_score([], []))
    assert math.isnan(log_loss([], []))
    assert math.isnan(expected_calibration_error([], []))
    assert all(math.isnan(v) for v in murphy_decomposition([], []))
    res = overconfidence([], [])
    assert math.isnan(res.overconfidence) and math.isnan(res.ci_low) and res.n == 0
    assert res.verdict == "not enough data yet"


def test_single_and_perfect_inputs_are_finite():
    assert brier_loss([1], [1.0]) == 0.0
    assert murphy_decomposition([1], [1.0]) == (0.0, 0.0, 0.0)
    assert expected_calibration_error([1, 1], [1.0, 1.0]) == 0.0
    res = overconfidence(np.ones(40), np.ones(40))
    assert res.overconfidence == 0.0 and res.verdict == "well calibrated"


# ----------------------------------------------------------------------------- validation


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda: brier_loss([1, 0], [0.5]), "y_true and y_prob have different lengths (2 and 1)."),
        (
            lambda: brier_loss([1, 2], [0.5, 0.5]),
            "y_true has values other than 0 and 1 (drop ties and missing outcomes first).",
        ),
        (
            lambda: brier_loss([1, np.nan], [0.5, 0.5]),
            "y_true has values other than 0 and 1 (drop ties and missing outcomes first).",
        ),
        (lambda: brier_loss([1, 0], [0.5, 1.2]), "y_prob has values outside [0, 1]."),
        (
            lambda: log_loss([1, 0], [0.5, np.nan]),
            "y_prob has missing values (drop judgments without a confidence first).",
        ),
        (lambda: brier_loss([[1, 0]], [[0.5, 0.5]]), "y_true must be one-dimensional, got 2 dimensions."),
        (lambda: brier_loss(["x"], [0.5]), "y_true must hold the numbers 0 and 1."),
        (
            lambda: expected_calibration_error([1], [0.5], n_bins=0),
            "n_bins must be a positive integer, got 0.",
        ),
        (lambda: murphy_decomposition([1], [0.5], n_bins=2.5), "n_bins must be a positive integer, got 2.5."),
        (lambda: log_loss([1], [0.5], eps=0), "eps must lie in (0, 0.5), got 0."),
        (lambda: overconfidence([1], [0.5], confidence=95), "confidence must lie in (0, 1), got 95."),
    ],
)
def test_errors_name_the_argument(call, message):
    with pytest.raises(ValueError, match=re.escape(message)):
        call()
