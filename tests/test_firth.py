"""Firth logistic regression against closed forms, statsmodels and itself one group at a time."""

from __future__ import annotations

import re
import tracemalloc

import numpy as np
import pytest
import statsmodels.api as sm
from scipy.special import expit

from calibration import firth
from calibration.firth import firth_logistic


def _table_design(tables: np.ndarray):
    """2x2 tables (R, 4) of counts [x=0,y=0], [x=0,y=1], [x=1,y=0], [x=1,y=1] as weighted rows."""
    R = len(tables)
    x = np.array([0.0, 0.0, 1.0, 1.0])
    X = np.stack([np.ones((R, 4)), np.tile(x, (R, 1))], axis=2)
    y = np.tile([0.0, 1.0, 0.0, 1.0], (R, 1))
    return X, y, tables.astype(float)


def _simulated(R, n, beta, seed):
    rng = np.random.default_rng(seed)
    X = np.concatenate(
        [
            np.ones((R, n, 1)),
            rng.choice([-1.0, 1.0], (R, n, 1)),
            rng.normal(0, 1.5, (R, n, 1)),
            rng.uniform(-2, 2, (R, n, 1)),
        ],
        axis=2,
    )
    y = (rng.random((R, n)) < expit(X @ np.asarray(beta))).astype(float)
    return X, y


def test_two_by_two_table_is_the_log_odds_ratio_with_half_added_to_each_cell():
    # Firth's estimate in a saturated 2x2 model is the empirical log odds ratio
    # of the table with 0.5 added to each cell (Firth 1993; Heinze & Schemper 2002).
    rng = np.random.default_rng(0)
    tables = rng.integers(0, 15, (200, 4))
    tables[:20, 1] = 0  # quasi-separation: an empty cell
    tables[20:30, [1, 2]] = 0  # complete separation
    tables = tables[(tables[:, :2].sum(1) > 0) & (tables[:, 2:].sum(1) > 0)]
    X, y, w = _table_design(tables)
    fit = firth_logistic(X, y, w)
    a, b, c, d = (tables + 0.5).T  # a: x=0,y=0  b: x=0,y=1  c: x=1,y=0  d: x=1,y=1
    assert fit.converged.all()
    np.testing.assert_allclose(fit.coef[:, 1], np.log(d * a / (c * b)), atol=1e-7)
    np.testing.assert_allclose(fit.coef[:, 0], np.log(b / a), atol=1e-7)


def test_intercept_only_is_k_plus_half_over_n_plus_one():
    n = 12
    k = np.arange(n + 1)
    y = (np.arange(n)[None, :] < k[:, None]).astype(float)
    fit = firth_logistic(np.ones((n + 1, n, 1)), y)
    np.testing.assert_allclose(expit(fit.coef[:, 0]), (k + 0.5) / (n + 1), atol=1e-9)
    # and its variance is the inverse information n p (1 - p) at that estimate
    p = (k + 0.5) / (n + 1)
    np.testing.assert_allclose(fit.cov[:, 0, 0], 1 / (n * p * (1 - p)), rtol=1e-7)


@pytest.mark.filterwarnings("ignore::statsmodels.tools.sm_exceptions.PerfectSeparationWarning")
def test_finite_under_complete_and_quasi_complete_separation():
    X, y = _simulated(4, 60, [0.0, 1.0, 0.0, 0.0], seed=1)
    y[0] = 1.0  # always "agrees": intercept separated
    y[1] = (X[1, :, 1] > 0).astype(float)  # gold direction separates completely
    y[2] = (X[2, :, 2] > 0).astype(float)  # a continuous covariate separates completely
    y[3] = (X[3, :, 1] > 0).astype(float)
    y[3, 0] = 1.0 - y[3, 0]  # quasi-complete
    fit = firth_logistic(X, y)
    assert fit.converged.all()
    assert np.isfinite(fit.coef).all() and np.isfinite(fit.cov).all() and np.isfinite(fit.loglik).all()
    assert (np.abs(fit.coef) < 20).all()
    # maximum likelihood diverges on the same data: the penalty is what keeps it finite
    ml = sm.Logit(y[1], X[1]).fit(disp=0, maxiter=200, warn_convergence=False)
    assert np.abs(ml.params[1]) > 2 * np.abs(fit.coef[1, 1])


def test_close_to_maximum_likelihood_on_a_large_sample():
    X, y = _simulated(1, 20_000, [0.2, 1.0, 0.5, -0.3], seed=2)
    fit = firth_logistic(X, y)
    ml = sm.Logit(y[0], X[0]).fit(disp=0)
    # Firth differs from ML by O(1/n): far below one standard error here
    np.testing.assert_allclose(fit.coef[0], ml.params, atol=0.05 * ml.bse.min())
    np.testing.assert_allclose(np.sqrt(np.diag(fit.cov[0])), ml.bse, rtol=1e-3)


def test_batched_equals_one_at_a_time_with_ragged_groups():
    X, y = _simulated(30, 150, [0.3, 1.2, 0.4, 0.2], seed=3)
    rng = np.random.default_rng(4)
    sizes = rng.integers(20, 151, 30)
    w = (np.arange(150)[None, :] < sizes[:, None]).astype(float)
    y[0] = X[0, :, 1] > 0
    X[np.arange(150)[None, :] >= sizes[:, None]] = rng.normal(size=4) * 50  # padding must not matter
    batched = firth_logistic(X, y, w, chunk_size=7)
    for r in range(30):
        n = sizes[r]
        single = firth_logistic(X[r : r + 1, :n], y[r : r + 1, :n])
        np.testing.assert_allclose(batched.coef[r], single.coef[0], atol=1e-8)
        np.testing.assert_allclose(batched.cov[r], single.cov[0], rtol=1e-6, atol=1e-10)
        np.testing.assert_allclose(batched.loglik[r], single.loglik[0], rtol=1e-10)


def test_frequency_weights_equal_repeated_rows():
    X, y = _simulated(1, 40, [0.0, 1.0, 0.5, 0.0], seed=5)
    counts = np.random.default_rng(6).integers(1, 4, 40)
    weighted = firth_logistic(X, y, counts[None].astype(float))
    repeated = firth_logistic(np.repeat(X, counts, axis=1), np.repeat(y, counts, axis=1))
    np.testing.assert_allclose(weighted.coef, repeated.coef, atol=1e-8)
    np.testing.assert_allclose(weighted.cov, repeated.cov, rtol=1e-6)


def test_all_zero_column_is_left_out():
    X, y = _simulated(2, 100, [0.2, 1.0, 0.5, 0.3], seed=7)
    X[0, :, 3] = 0.0
    fit = firth_logistic(X, y)
    alone = firth_logistic(X[:1, :, :3], y[:1])
    assert fit.converged.all()
    assert fit.coef[0, 3] == 0 and np.isnan(fit.cov[0, 3]).all() and np.isnan(fit.cov[0, :, 3]).all()
    np.testing.assert_allclose(fit.coef[0, :3], alone.coef[0], atol=1e-8)
    np.testing.assert_allclose(fit.cov[0, :3, :3], alone.cov[0], rtol=1e-6)
    np.testing.assert_allclose(fit.loglik[0], alone.loglik[0], rtol=1e-10)
    assert np.isfinite(fit.cov[1]).all()


def test_collinear_design_gives_nan_not_a_crash():
    X, y = _simulated(2, 50, [0.0, 1.0, 0.0, 0.0], seed=8)
    X[0, :, 3] = 2 * X[0, :, 2]
    fit = firth_logistic(X, y)
    assert not fit.converged[0] and np.isnan(fit.coef[0]).all() and np.isnan(fit.loglik[0])
    assert fit.converged[1] and np.isfinite(fit.coef[1]).all()


def test_fixed_coefficient_gives_a_likelihood_ratio_close_to_maximum_likelihood():
    # With x3 held at 0, 2 (l*_full - l*_held) is the penalized likelihood-ratio
    # statistic; on a large sample it approaches statsmodels' nested-model LR.
    X, y = _simulated(1, 5_000, [0.2, 1.0, 0.5, 0.15], seed=9)
    full = firth_logistic(X, y)
    held = firth_logistic(X, y, fixed=[False, False, False, True])
    assert held.converged[0] and held.coef[0, 3] == 0 and np.isnan(held.cov[0, 3, 3])
    lr = 2 * (full.loglik[0] - held.loglik[0])
    ml_lr = 2 * (sm.Logit(y[0], X[0]).fit(disp=0).llf - sm.Logit(y[0], X[0, :, :3]).fit(disp=0).llf)
    assert lr > 0
    assert lr == pytest.approx(ml_lr, rel=0.02)


def test_matches_statsmodels_per_group_without_separation():
    X, y = _simulated(5, 3_000, [-0.2, 0.8, 0.4, 0.3], seed=10)
    fit = firth_logistic(X, y)
    for r in range(5):
        ml = sm.Logit(y[r], X[r]).fit(disp=0)
        np.testing.assert_allclose(fit.coef[r], ml.params, atol=0.1 * ml.bse.min())
        np.testing.assert_allclose(np.sqrt(np.diag(fit.cov[r])), ml.bse, rtol=0.01)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"X": np.ones((3, 2))}, "X must have shape (R, n, p); got 2 dimension(s)."),
        ({"y": np.ones((2, 4))}, "y must have shape (2, 5) to match X; got (2, 4)."),
        ({"weights": np.ones(10)}, "weights must have shape (2, 5) to match X; got (10,)."),
        ({"weights": -np.ones((2, 5))}, "weights must be finite and non-negative."),
        ({"y": np.full((2, 5), 2.0)}, "y has values outside [0, 1]."),
        ({"X": np.full((2, 5, 2), np.nan)}, "X has missing or infinite values."),
        ({"fixed": [True]}, "fixed must have shape (2,) or (2, 2); got (1,)."),
        ({"n_jobs": 0}, "n_jobs must be -1 or a positive number of threads; got 0."),
    ],
)
def test_bad_input_raises_value_error_naming_the_argument(kwargs, message):
    args = {"X": np.ones((2, 5, 2)), "y": np.ones((2, 5)), **kwargs}
    X, y = args.pop("X"), args.pop("y")
    with pytest.raises(ValueError, match=re.escape(message)):
        firth_logistic(X, y, **args)


def test_threads_give_exactly_the_fit_of_one_thread(monkeypatch):
    X, y = _simulated(700, 60, [0.3, 1.0, 0.4, 0.2], seed=8)
    y[:50] = X[:50, :, 1] > 0  # separated groups too, which take the exact-Hessian iterations
    w = (np.arange(60)[None, :] < np.random.default_rng(9).integers(10, 61, 700)[:, None]).astype(float)
    used = []
    real = firth.ThreadPoolExecutor

    def counting(workers):
        used.append(workers)
        return real(workers)

    monkeypatch.setattr(firth, "ThreadPoolExecutor", counting)
    one = firth_logistic(X, y, w, n_jobs=1)
    assert used == []
    for n_jobs, chunk_size in ((2, 2048), (3, 100), (-1, 2048)):
        many = firth_logistic(X, y, w, n_jobs=n_jobs, chunk_size=chunk_size)
        for field in one._fields:
            np.testing.assert_array_equal(getattr(many, field), getattr(one, field), err_msg=field)
    assert used[:2] == [2, 3]  # the rows were really split between threads
    # a few raters stay on one thread: a second one would cost more than it saves
    firth_logistic(X[:100], y[:100], w[:100], n_jobs=2)
    assert len(used) == 2 + (firth.usable_cores() > 1)


@pytest.mark.slow
@pytest.mark.parametrize("n_jobs", [1, 2])
def test_memory_is_bounded_by_chunks(n_jobs):
    X, y = _simulated(5_000, 200, [0.2, 1.0, 0.5, 0.3], seed=12)
    tracemalloc.start()
    fit = firth_logistic(X, y, chunk_size=1_000, n_jobs=n_jobs)
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    assert fit.converged.all()
    chunk_bytes = 1_000 * 200 * 4 * 8  # one (chunk, n, p) array of floats
    # a few chunk-sized arrays per thread, not a multiple of the 32 MB input
    assert peak < 8 * n_jobs * chunk_bytes


def test_held_coefficient_at_a_value_is_the_profile_point():
    """Holding a coefficient at b via ``start``: the free ones maximize the penalized likelihood."""
    rng = np.random.default_rng(7)
    n = 120
    x = rng.normal(size=n)
    z = rng.normal(size=n)
    y = (rng.random(n) < 1 / (1 + np.exp(-(0.3 + 0.8 * x - 0.5 * z)))).astype(float)
    X = np.column_stack([np.ones(n), x, z])[None]
    held = firth_logistic(X, y[None], fixed=[False, True, False], start=[0.0, 0.5, 0.0])
    assert held.coef[0, 1] == 0.5
    # the penalized log-likelihood is maximal over the free coefficients: nudging them lowers it
    full = firth_logistic(X, y[None])
    assert full.loglik[0] >= held.loglik[0]
    for j in (0, 2):
        for step in (-1e-3, 1e-3):
            nudged = held.coef.copy()
            nudged[0, j] += step
            moved = firth_logistic(X, y[None], fixed=[True, True, True], start=nudged[0])
            assert moved.loglik[0] < held.loglik[0]
    # a warm start lands on the same estimate in fewer steps
    warm = firth_logistic(X, y[None], start=full.coef[0] + 1e-4)
    np.testing.assert_allclose(warm.coef, full.coef, atol=1e-7)
    assert warm.n_iter[0] < full.n_iter[0]


def _penalized_loglik(X, y, beta):
    eta = X @ beta
    mu = 1 / (1 + np.exp(-eta))
    info = X.T @ (X * (mu * (1 - mu))[:, None])
    return np.sum(y * eta - np.logaddexp(0, eta)) + 0.5 * np.linalg.slogdet(info)[1]


def test_penalized_inference_matches_a_direct_profile():
    """Test and interval equal those computed by maximizing the penalized likelihood with scipy."""
    from scipy import optimize, stats

    from calibration.firth import penalized_inference

    rng = np.random.default_rng(11)
    n = 40
    X = np.column_stack([np.ones(n), rng.choice([-1.0, 1.0], n), rng.normal(size=n)])
    y = (rng.random(n) < 1 / (1 + np.exp(-(X @ [0.2, 1.5, 0.4])))).astype(float)
    out = penalized_inference(X[None], y[None], np.ones((1, n)), [0, 2])

    def best(held_col, value):
        free = [c for c in range(3) if c != held_col]

        def neg(b):
            beta = np.empty(3)
            beta[free], beta[held_col] = b, value
            return -_penalized_loglik(X, y, beta)

        return -optimize.minimize(neg, np.zeros(2), method="BFGS", options={"gtol": 1e-9}).fun

    top = -optimize.minimize(lambda b: -_penalized_loglik(X, y, b), np.zeros(3), method="BFGS").fun
    crit = stats.chi2.ppf(0.95, 1)
    for i, col in enumerate([0, 2]):
        stat = 2 * (top - best(col, 0.0))
        assert out["p"][0, i] == pytest.approx(stats.chi2.sf(stat, 1), rel=1e-4)
        est = out["beta"][0, i]
        low = optimize.brentq(lambda v, c=col: 2 * (top - best(c, v)) - crit, est - 6, est)
        high = optimize.brentq(lambda v, c=col: 2 * (top - best(c, v)) - crit, est, est + 6)
        # the ends end with a secant step onto the root: exact to well within 1e-3
        assert out["low"][0, i] == pytest.approx(low, abs=5e-4)
        assert out["high"][0, i] == pytest.approx(high, abs=5e-4)


def test_offset_of_a_constant_moves_only_the_intercept():
    # the information matrix depends on the fitted probabilities alone, so a constant offset
    # is absorbed by the intercept exactly, penalty included
    X, y = _simulated(3, 200, [0.2, 1.0, 0.5, -0.3], seed=11)
    plain = firth_logistic(X, y)
    moved = firth_logistic(X, y, offset=np.full(y.shape, 0.7))
    np.testing.assert_allclose(moved.coef[:, 0], plain.coef[:, 0] - 0.7, atol=1e-6)
    np.testing.assert_allclose(moved.coef[:, 1:], plain.coef[:, 1:], atol=1e-6)
    np.testing.assert_allclose(moved.loglik, plain.loglik, atol=1e-8)


def test_offset_matches_statsmodels_on_a_large_sample():
    X, y0 = _simulated(1, 20_000, [0.2, 1.0, 0.5, -0.3], seed=12)
    rng = np.random.default_rng(13)
    offset = rng.normal(0.0, 0.8, (1, 20_000))
    y = (rng.random((1, 20_000)) < expit(X[0] @ np.array([0.2, 1.0, 0.5, -0.3]) + offset[0])).astype(float)
    fit = firth_logistic(X, y, offset=offset)
    ml = sm.Logit(y[0], X[0], offset=offset[0]).fit(disp=0)
    np.testing.assert_allclose(fit.coef[0], ml.params, atol=0.05 * ml.bse.min())
    ignored = firth_logistic(X, y)  # without the offset the estimates are pulled toward 0
    assert abs(ignored.coef[0, 1]) < abs(fit.coef[0, 1]) - 3 * ml.bse[1]


def test_penalized_inference_with_an_offset_tests_the_planted_value():
    X, y = _simulated(1, 400, [0.0, 0.8, 0.0, 0.0], seed=14)
    offset = 0.8 * X[:, :, 1]  # the whole effect of column 1, given as known
    out = firth.penalized_inference(X, y, np.ones(y.shape), [1], offset=offset)
    assert abs(out["beta"][0, 0]) < 0.3 and out["p"][0, 0] > 0.01
    assert out["low"][0, 0] < 0 < out["high"][0, 0]
