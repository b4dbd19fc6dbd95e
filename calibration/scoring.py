"""Scores for probability forecasts: is a rater's stated confidence calibrated?

In PairCal the forecast is the stated confidence ``y_prob`` (the probability
that the rater's choice agrees with gold, in [0.5, 1]) and the outcome is
``y_true`` (1 when the choice agrees with gold, 0 when not). Every function here
takes plain arrays of decided judgments: drop gold ties and judgments without a
confidence first (:func:`calibration.confidence.calibration_summary` does this
and reports how many it left out).

Direction follows scikit-learn: a ``*_loss`` or ``*_error`` is lower-is-better,
a ``*_score`` higher-is-better.

===================================  ============================================
function                             returns
===================================  ============================================
:func:`brier_loss`                   mean squared error of the forecast, 0-1
:func:`brier_skill_score`            ``1 - brier / 0.25``: skill over a coin
:func:`log_loss`                     mean negative log probability of the outcome
:func:`log_score`                    ``-log_loss`` (higher is better)
:func:`murphy_decomposition`         reliability, resolution, uncertainty
:func:`expected_calibration_error`   weighted mean ``|accuracy - confidence|``
:func:`overconfidence`               mean confidence minus accuracy, CI, verdict
:func:`calibration_slope_intercept`  logistic recalibration slope and intercept
:func:`ranked_probability_skill`     per-judgment score over A better, equal, B
                                     better, expected over the experts' split
===================================  ============================================

Empty input gives NaN (never an exception); statistics that can be undefined on
non-empty data (the verdict, the recalibration fit) say why in a ``verdict`` or
``reason`` field.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np
import pandas as pd
from numpy.typing import ArrayLike
from scipy import special

from calibration.intervals import wilson_interval

__all__ = [
    "COIN_BRIER",
    "LOG_EPS",
    "MIN_N",
    "VERDICTS",
    "CalibrationFit",
    "MurphyDecomposition",
    "Overconfidence",
    "brier_loss",
    "brier_skill_score",
    "calibration_slope_intercept",
    "expected_calibration_error",
    "log_loss",
    "log_score",
    "murphy_decomposition",
    "overconfidence",
    "ranked_probability_skill",
]

COIN_BRIER = 0.25
"""Brier loss of always saying 50%, whatever happens: the no-skill reference."""

LOG_EPS = 0.005
"""Probabilities are clipped to ``[LOG_EPS, 1 - LOG_EPS]`` before taking logs.

On a whole-percent slider a stated 100% stands for anything that rounds to
100%, i.e. at least 99.5%; reading it as 99.5% keeps one confident mistake
finite: it costs ``ln(200) = 5.30`` nats, as much as 7.6 coin-flip answers
(``ln 2 = 0.69`` each), instead of the ``ln(1e15) = 34.5`` nats of a
machine-epsilon clip that would let a single slip drown a whole session.
"""

MIN_N = 30
"""Fewest decided judgments with a confidence for an over/underconfidence verdict."""

VERDICTS = ("overconfident", "underconfident", "well calibrated", "not enough data yet")
"""The labels :func:`overconfidence` can return, in code order."""

_EDGE_TOL = 1e-9  # a confidence within this of a bin edge belongs to the upper bin


class MurphyDecomposition(NamedTuple):
    """Murphy's partition of the Brier loss: ``brier = reliability - resolution + uncertainty``."""

    reliability: float
    resolution: float
    uncertainty: float


class Overconfidence(NamedTuple):
    """Mean confidence minus accuracy, its confidence interval and a verdict from :data:`VERDICTS`."""

    overconfidence: float
    ci_low: float
    ci_high: float
    verdict: str
    n: int


class CalibrationFit(NamedTuple):
    """Logistic recalibration: ``logit P(correct) = intercept + slope * logit(confidence)``.

    ``reason`` is ``""`` when the fit exists, otherwise why slope and intercept are NaN.
    """

    slope: float
    intercept: float
    reason: str


# ----------------------------------------------------------------------------- validation


def _check_forecasts(y_true: ArrayLike, y_prob: ArrayLike) -> tuple[np.ndarray, np.ndarray]:
    """Validate and return ``(y_true, y_prob)`` as 1-D float arrays of equal length."""
    try:
        y = np.asarray(y_true, dtype=float)
    except (TypeError, ValueError):
        raise ValueError("y_true must hold the numbers 0 and 1.") from None
    try:
        p = np.asarray(y_prob, dtype=float)
    except (TypeError, ValueError):
        raise ValueError("y_prob must hold numbers in [0, 1].") from None
    if y.ndim != 1:
        raise ValueError(f"y_true must be one-dimensional, got {y.ndim} dimensions.")
    if p.ndim != 1:
        raise ValueError(f"y_prob must be one-dimensional, got {p.ndim} dimensions.")
    if len(y) != len(p):
        raise ValueError(f"y_true and y_prob have different lengths ({len(y)} and {len(p)}).")
    if not np.isin(y, (0.0, 1.0)).all():
        raise ValueError("y_true has values other than 0 and 1 (drop ties and missing outcomes first).")
    if np.isnan(p).any():
        raise ValueError("y_prob has missing values (drop judgments without a confidence first).")
    if ((p < 0) | (p > 1)).any():
        raise ValueError("y_prob has values outside [0, 1].")
    return y, p


def _check_n_bins(n_bins: int) -> int:
    if isinstance(n_bins, bool) or not isinstance(n_bins, (int, np.integer)) or n_bins < 1:
        raise ValueError(f"n_bins must be a positive integer, got {n_bins!r}.")
    return int(n_bins)


def _check_eps(eps: float) -> float:
    if not 0 < eps < 0.5:
        raise ValueError(f"eps must lie in (0, 0.5), got {eps!r}.")
    return float(eps)


def _check_confidence(confidence: float) -> float:
    if not 0 < confidence < 1:
        raise ValueError(f"confidence must lie in (0, 1), got {confidence!r}.")
    return float(confidence)


# ----------------------------------------------------------------------------- grouped kernels
#
# Every statistic is computed by a kernel over groups (one group per rater), so
# the per-rater table of :mod:`calibration.confidence` and the single-forecaster
# functions below run the same code. ``codes`` are group numbers 0..n_groups-1.


def _sums(codes: np.ndarray, n_groups: int, weights: np.ndarray) -> np.ndarray:
    return np.bincount(codes, weights=weights, minlength=n_groups)


def _ratio(num: np.ndarray, den: np.ndarray) -> np.ndarray:
    """``num / den``, NaN where ``den == 0``."""
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(den > 0, num / np.where(den > 0, den, 1), np.nan)


def _bin_index(y_prob: np.ndarray, edges: np.ndarray) -> np.ndarray:
    """Bin of each forecast for increasing ``edges``: ``[e_k, e_k+1)``, the last bin closed.

    A forecast within ``1e-9`` below an edge counts as on it, so ``0.1 * 7`` lands
    in the 70% bin like ``0.7`` does.
    """
    idx = np.searchsorted(edges, y_prob + _EDGE_TOL, side="right") - 1
    return np.clip(idx, 0, len(edges) - 2)


def _cells(codes: np.ndarray, n_groups: int, keys: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Cells of (group, distinct key): ``(cell_group, cell_key, inverse)``, sorted by group then key.

    Same result as ``np.unique`` on (group, key) pairs, without sorting every row:
    keys are hashed (``pd.factorize``) and only the distinct ones sorted; when the
    table of all (group, key) cells is not much larger than the data, cells are
    found by counting into it.
    """
    key_code, values = pd.factorize(np.asarray(keys), use_na_sentinel=False)
    order = np.argsort(values, kind="stable")
    rank = np.empty_like(order)
    rank[order] = np.arange(len(order))
    values, key_code = values[order], rank[key_code]
    n_values = max(len(values), 1)
    ids = codes.astype(np.int64) * n_values + key_code
    if n_groups * n_values <= 4 * len(ids) + 1_000_000:
        present = np.bincount(ids, minlength=n_groups * n_values) > 0
        cell = np.flatnonzero(present)
        inverse = (np.cumsum(present) - 1)[ids]
    else:
        cell, inverse = np.unique(ids, return_inverse=True)
    return cell // n_values, values[cell % n_values], inverse


def _grouped_brier(y, p, codes, n_groups):
    return _ratio(_sums(codes, n_groups, (p - y) ** 2), _sums(codes, n_groups, np.ones_like(p)))


def _grouped_log_loss(y, p, codes, n_groups, eps):
    q = np.clip(np.where(y == 1, p, 1 - p), eps, 1 - eps)
    return _ratio(_sums(codes, n_groups, -np.log(q)), _sums(codes, n_groups, np.ones_like(p)))


def _grouped_murphy(y, p, codes, n_groups, n_bins=None):
    """REL, RES, UNC per group, forecasts grouped by distinct value or by ``n_bins`` equal bins."""
    n = _sums(codes, n_groups, np.ones_like(p))
    ybar = _ratio(_sums(codes, n_groups, y), n)
    keys = p if n_bins is None else _bin_index(p, np.linspace(0, 1, n_bins + 1))
    cell_group, _, inverse = _cells(codes, n_groups, keys)
    cell_n = np.bincount(inverse, minlength=len(cell_group)).astype(float)
    cell_f = np.bincount(inverse, weights=p, minlength=len(cell_group)) / cell_n
    cell_o = np.bincount(inverse, weights=y, minlength=len(cell_group)) / cell_n
    rel = _ratio(_sums(cell_group, n_groups, cell_n * (cell_f - cell_o) ** 2), n)
    res = _ratio(_sums(cell_group, n_groups, cell_n * (cell_o - ybar[cell_group]) ** 2), n)
    return rel, res, ybar * (1 - ybar)


def _grouped_ece(y, p, codes, n_groups, n_bins):
    """ECE per group: ``sum_b |sum_{i in b} (y_i - p_i)| / n``."""
    cells = codes.astype(np.int64) * n_bins + _bin_index(p, np.linspace(0, 1, n_bins + 1))
    gap = np.bincount(cells, weights=y - p, minlength=n_groups * n_bins).reshape(n_groups, n_bins)
    return _ratio(np.abs(gap).sum(axis=1), _sums(codes, n_groups, np.ones_like(p)))


def _grouped_overconfidence(y, p, codes, n_groups, confidence, min_n):
    """Mean ``p - y``, its interval ``mean(p) - wilson(sum y, n)``, and a verdict code."""
    n = _sums(codes, n_groups, np.ones_like(p))
    k = _sums(codes, n_groups, y)
    mean_p = _ratio(_sums(codes, n_groups, p), n)
    low, high = wilson_interval(k, n, confidence=confidence)
    diff, ci_low, ci_high = mean_p - _ratio(k, n), mean_p - high, mean_p - low
    code = np.select([n < min_n, ci_low > 0, ci_high < 0], [3, 0, 1], default=2)
    return diff, ci_low, ci_high, code, n.astype(np.int64)


_FIT_REASONS = (
    "",
    "no judgments",
    "every answer is right: the slope is not estimable",
    "every answer is wrong: the slope is not estimable",
    "every judgment has the same confidence: the slope is not estimable",
    "confidence separates the answers (no wrong answer is more confident than a right one): "
    "the slope is infinite",
    "confidence separates the answers (no right answer is more confident than a wrong one): "
    "the slope is minus infinity",
    "the logistic fit did not converge",
)


def _grouped_logistic(y, p, codes, n_groups, eps, max_iter=100, tol=1e-10):
    """Logistic regression of ``y`` on ``logit(clip(p, eps, 1 - eps))`` in every group at once.

    Newton-Raphson with step halving on the cells (group, distinct forecast),
    started at ``intercept = logit(mean y), slope = 0``. Groups where the maximum
    likelihood estimate does not exist (a single outcome or forecast, or complete or
    quasi-complete separation; Albert & Anderson 1984) are found before fitting and
    get NaN with a reason code indexing :data:`_FIT_REASONS`.
    """
    x_all = special.logit(np.clip(p, eps, 1 - eps))
    g, x, inverse = _cells(codes, n_groups, x_all)
    cn = np.bincount(inverse, minlength=len(g)).astype(float)
    cs = np.bincount(inverse, weights=y, minlength=len(g))
    n, s = _sums(g, n_groups, cn), _sums(g, n_groups, cs)
    n_cells = np.bincount(g, minlength=n_groups)

    def extreme(ufunc, fill, mask):
        out = np.full(n_groups, fill)
        ufunc.at(out, g[mask], x[mask])
        return out

    lo_right, hi_right = extreme(np.minimum, np.inf, cs > 0), extreme(np.maximum, -np.inf, cs > 0)
    lo_wrong, hi_wrong = extreme(np.minimum, np.inf, cs < cn), extreme(np.maximum, -np.inf, cs < cn)
    reason = np.select(
        [n == 0, s == n, s == 0, n_cells == 1, hi_wrong <= lo_right, hi_right <= lo_wrong],
        [1, 2, 3, 4, 5, 6],
        default=0,
    )
    ok = reason == 0
    a = np.where(ok, special.logit(np.clip(_ratio(s, n), 1e-6, 1 - 1e-6)), 0.0)
    b = np.zeros(n_groups)

    def loglik(a, b):
        eta = a[g] + b[g] * x
        return _sums(g, n_groups, cs * eta - cn * np.logaddexp(0, eta))

    ll = loglik(a, b)
    converged = ~ok
    for _ in range(max_iter):
        mu = special.expit(a[g] + b[g] * x)
        w, r = cn * mu * (1 - mu), cs - cn * mu
        g0, g1 = _sums(g, n_groups, r), _sums(g, n_groups, r * x)
        h00, h01, h11 = _sums(g, n_groups, w), _sums(g, n_groups, w * x), _sums(g, n_groups, w * x * x)
        with np.errstate(invalid="ignore", divide="ignore"):
            det = h00 * h11 - h01**2
            da = np.where(ok, (h11 * g0 - h01 * g1) / det, 0.0)
            db = np.where(ok, (h00 * g1 - h01 * g0) / det, 0.0)
        da, db = np.nan_to_num(da), np.nan_to_num(db)
        step = np.ones(n_groups)
        for _ in range(30):
            ll_new = loglik(a + step * da, b + step * db)
            worse = ok & (ll_new < ll - 1e-12 * (1 + np.abs(ll)))
            if not worse.any():
                break
            step = np.where(worse, step / 2, step)
        a, b, ll = a + step * da, b + step * db, ll_new
        converged = ~ok | (
            (np.abs(step * da) < tol * (1 + np.abs(a))) & (np.abs(step * db) < tol * (1 + np.abs(b)))
        )
        if converged.all():
            break
    reason = np.where(ok & ~converged, 7, reason)
    ok = reason == 0
    return np.where(ok, b, np.nan), np.where(ok, a, np.nan), reason


def _single(y_true, y_prob):
    """Validated arrays plus the one-group codes the kernels take."""
    y, p = _check_forecasts(y_true, y_prob)
    return y, p, np.zeros(len(y), dtype=np.int64), 1


# ----------------------------------------------------------------------------- public API


def brier_loss(y_true: ArrayLike, y_prob: ArrayLike) -> float:
    """Brier loss: mean squared difference between forecast and outcome.

    .. math:: \\mathrm{BS} = \\frac{1}{n} \\sum_{i=1}^{n} (p_i - y_i)^2

    On the 0-1 scale: 0 is perfect, always saying 50% scores 0.25 whatever the
    outcomes (:data:`COIN_BRIER`), and 1 is certain and always wrong.

    Parameters
    ----------
    y_true : array_like of shape (n,)
        Outcomes, 1 (choice agrees with gold) or 0.
    y_prob : array_like of shape (n,)
        Forecast probabilities of outcome 1, in [0, 1].

    Returns
    -------
    float
        The Brier loss; NaN for empty input.

    References
    ----------
    Brier, G. W. (1950). Verification of forecasts expressed in terms of
    probability. Monthly Weather Review 78(1), 1-3.

    Examples
    --------
    >>> brier_loss([1, 0, 1], [0.9, 0.6, 0.5])
    0.20666666666666667
    >>> brier_loss([1, 0], [0.5, 0.5])
    0.25
    """
    y, p, codes, n_groups = _single(y_true, y_prob)
    return float(_grouped_brier(y, p, codes, n_groups)[0])


def brier_skill_score(y_true: ArrayLike, y_prob: ArrayLike) -> float:
    """Brier skill score against a coin that always says 50%.

    .. math:: \\mathrm{BSS} = 1 - \\frac{\\mathrm{BS}}{0.25}

    1 is perfect, 0 is no better than a coin, negative is worse than a coin.
    The reference is the coin rather than the observed base rate because a rater
    cannot know their accuracy in advance and 50% is the honest know-nothing answer
    to "which of two responses is better".

    Parameters
    ----------
    y_true : array_like of shape (n,)
        Outcomes, 1 or 0.
    y_prob : array_like of shape (n,)
        Forecast probabilities of outcome 1, in [0, 1].

    Returns
    -------
    float
        The skill score; NaN for empty input.

    References
    ----------
    Murphy, A. H. (1973). A new vector partition of the probability score.
    Journal of Applied Meteorology 12(4), 595-600.

    Examples
    --------
    >>> round(brier_skill_score([1, 1, 0, 1], [0.9, 0.8, 0.6, 0.7]), 4)
    0.5
    """
    return 1 - brier_loss(y_true, y_prob) / COIN_BRIER


def log_loss(y_true: ArrayLike, y_prob: ArrayLike, *, eps: float = LOG_EPS) -> float:
    """Logarithmic loss: mean negative log probability given to what happened.

    .. math:: \\mathrm{LL} = -\\frac{1}{n} \\sum_{i=1}^{n}
              \\left[ y_i \\ln \\tilde p_i + (1 - y_i) \\ln (1 - \\tilde p_i) \\right],
              \\qquad \\tilde p_i = \\min(\\max(p_i, \\varepsilon), 1 - \\varepsilon)

    Always saying 50% scores ``ln 2 = 0.693``. A forecast of 100% that turns out
    wrong would cost infinitely much; the clip at ``eps`` (default :data:`LOG_EPS`
    = 0.005) reads a stated 100% as 99.5%, so such a mistake costs ``ln 200 = 5.30``.

    Parameters
    ----------
    y_true : array_like of shape (n,)
        Outcomes, 1 or 0.
    y_prob : array_like of shape (n,)
        Forecast probabilities of outcome 1, in [0, 1].
    eps : float, default 0.005
        Probabilities are clipped to ``[eps, 1 - eps]``; must lie in (0, 0.5).

    Returns
    -------
    float
        The log loss in nats; NaN for empty input.

    References
    ----------
    Good, I. J. (1952). Rational decisions. Journal of the Royal Statistical
    Society B 14(1), 107-114.

    Examples
    --------
    >>> round(log_loss([1, 0], [0.5, 0.5]), 4)
    0.6931
    >>> round(log_loss([0], [1.0]), 4)
    5.2983
    """
    y, p, codes, n_groups = _single(y_true, y_prob)
    return float(_grouped_log_loss(y, p, codes, n_groups, _check_eps(eps))[0])


def log_score(y_true: ArrayLike, y_prob: ArrayLike, *, eps: float = LOG_EPS) -> float:
    """Logarithmic score: mean log probability given to what happened, ``-log_loss``.

    Higher is better: 0 is perfect, always saying 50% scores ``-ln 2 = -0.693``.
    Clipping as in :func:`log_loss`.

    Parameters
    ----------
    y_true : array_like of shape (n,)
        Outcomes, 1 or 0.
    y_prob : array_like of shape (n,)
        Forecast probabilities of outcome 1, in [0, 1].
    eps : float, default 0.005
        Probabilities are clipped to ``[eps, 1 - eps]``.

    Returns
    -------
    float
        The log score in nats; NaN for empty input.

    References
    ----------
    Gneiting, T., & Raftery, A. E. (2007). Strictly proper scoring rules,
    prediction, and estimation. JASA 102(477), 359-378.

    Examples
    --------
    >>> round(log_score([1, 1, 0], [0.9, 0.6, 0.7]), 4)
    -0.6067
    """
    return -log_loss(y_true, y_prob, eps=eps)


def murphy_decomposition(
    y_true: ArrayLike, y_prob: ArrayLike, *, n_bins: int | None = None
) -> MurphyDecomposition:
    """Murphy's decomposition of the Brier loss into reliability, resolution and uncertainty.

    With forecasts grouped into sets :math:`k` of :math:`n_k` judgments with mean
    forecast :math:`\\bar f_k`, observed frequency :math:`\\bar o_k` and overall
    frequency :math:`\\bar o`:

    .. math::
        \\mathrm{REL} = \\frac{1}{n}\\sum_k n_k (\\bar f_k - \\bar o_k)^2, \\quad
        \\mathrm{RES} = \\frac{1}{n}\\sum_k n_k (\\bar o_k - \\bar o)^2, \\quad
        \\mathrm{UNC} = \\bar o (1 - \\bar o)

    REL (lower is better) is the calibration error, RES (higher is better) how much
    the forecasts sort right answers from wrong ones, UNC the difficulty of the items
    for this forecaster, out of their control.

    By default (``n_bins=None``) the sets are the distinct forecast values, and then
    ``brier_loss = REL - RES + UNC`` holds exactly. Stated confidences come from a
    slider and take few distinct values, so that is the right choice for them. For
    continuous forecasts (each value seen once the sets are singletons, REL is then
    just the Brier loss and RES the outcome variance, which says nothing) pass
    ``n_bins``: forecasts are grouped in ``n_bins`` equal-width bins of [0, 1] and
    :math:`\\bar f_k` is the bin's mean forecast. The identity is then off by the
    within-bin terms of Stephenson et al. (2008), ``brier - (REL - RES + UNC)``.

    Parameters
    ----------
    y_true : array_like of shape (n,)
        Outcomes, 1 or 0.
    y_prob : array_like of shape (n,)
        Forecast probabilities of outcome 1, in [0, 1].
    n_bins : int or None, default None
        None groups by distinct forecast value; an integer bins [0, 1] equally.

    Returns
    -------
    MurphyDecomposition
        ``(reliability, resolution, uncertainty)``; all NaN for empty input.

    References
    ----------
    Murphy, A. H. (1973). A new vector partition of the probability score.
    Journal of Applied Meteorology 12(4), 595-600.
    Stephenson, D. B., Coelho, C. A. S., & Jolliffe, I. T. (2008). Two extra
    components in the Brier score decomposition. Weather and Forecasting 23(4), 752-757.

    Examples
    --------
    >>> rel, res, unc = murphy_decomposition([1, 0, 1, 1], [0.9, 0.9, 0.6, 0.6])
    >>> round(rel, 4), round(res, 4), round(unc, 4)
    (0.16, 0.0625, 0.1875)
    >>> round(rel - res + unc, 4) == round(brier_loss([1, 0, 1, 1], [0.9, 0.9, 0.6, 0.6]), 4)
    True
    """
    y, p, codes, n_groups = _single(y_true, y_prob)
    if n_bins is not None:
        n_bins = _check_n_bins(n_bins)
    rel, res, unc = _grouped_murphy(y, p, codes, n_groups, n_bins)
    return MurphyDecomposition(float(rel[0]), float(res[0]), float(unc[0]))


def expected_calibration_error(y_true: ArrayLike, y_prob: ArrayLike, *, n_bins: int = 10) -> float:
    """Expected calibration error over equal-width bins of [0, 1].

    .. math:: \\mathrm{ECE} = \\sum_{b} \\frac{n_b}{n} \\left| \\bar y_b - \\bar p_b \\right|
              = \\frac{1}{n} \\sum_b \\Big| \\sum_{i \\in b} (y_i - p_i) \\Big|

    Bins are ``[k / n_bins, (k + 1) / n_bins)``, the last one closed; a forecast
    within 1e-9 below an edge counts as on it, so a stated 70% always falls in the
    70-79% bin (scikit-learn's ``calibration_curve`` puts ``0.7`` in the bin below,
    because ``np.linspace(0, 1, 11)[7]`` is ``0.7000000000000001``). With the
    default ten bins, confidences in [0.5, 1] fall in the five bins of
    :func:`calibration.reliability.reliability_bins`.

    ECE is biased upwards in small samples (each bin's gap is at least its noise),
    so compare raters with similar numbers of judgments.

    Parameters
    ----------
    y_true : array_like of shape (n,)
        Outcomes, 1 or 0.
    y_prob : array_like of shape (n,)
        Forecast probabilities of outcome 1, in [0, 1].
    n_bins : int, default 10
        Number of equal-width bins.

    Returns
    -------
    float
        The ECE on the probability scale; NaN for empty input.

    References
    ----------
    Naeini, M. P., Cooper, G., & Hauskrecht, M. (2015). Obtaining well calibrated
    probabilities using Bayesian binning. AAAI 29(1), 2901-2907.

    Examples
    --------
    >>> round(expected_calibration_error([1, 0, 1, 1], [0.9, 0.9, 0.7, 0.75]), 4)
    0.3375
    """
    y, p, codes, n_groups = _single(y_true, y_prob)
    return float(_grouped_ece(y, p, codes, n_groups, _check_n_bins(n_bins))[0])


def overconfidence(
    y_true: ArrayLike, y_prob: ArrayLike, *, confidence: float = 0.95, min_n: int = MIN_N
) -> Overconfidence:
    """Mean confidence minus accuracy, with a confidence interval and a verdict.

    .. math:: \\Delta = \\frac{1}{n} \\sum_{i=1}^n (p_i - y_i) = \\bar p - \\bar y

    Positive means overconfident (more sure than right), negative underconfident.

    The interval treats the stated confidences as fixed (they are what the rater
    said, not a sample) so all the uncertainty of :math:`\\Delta` is in the accuracy
    :math:`\\bar y`: it is :math:`\\bar p` minus the Wilson interval of
    :math:`\\bar y` (:func:`calibration.intervals.wilson_interval`). When the chance
    of being right varies between items the true variance of :math:`\\bar y`
    (Poisson-binomial) is below the binomial one, so the interval is, if anything,
    conservative. A paired *t* interval on :math:`p_i - y_i` is not used: it has zero
    width when every answer is right (30 right answers at 99% would be called
    "underconfident", an outcome with probability 0.74 for a calibrated rater).

    Verdict, in this order: ``"not enough data yet"`` when ``n < min_n``;
    ``"overconfident"`` when the interval lies above 0; ``"underconfident"`` when it
    lies below 0; else ``"well calibrated"`` (no detectable miscalibration).
    For a calibrated rater the chance of a false flag is at most about
    ``1 - confidence`` (measured in ``tests/test_scoring.py``).

    Parameters
    ----------
    y_true : array_like of shape (n,)
        Outcomes, 1 or 0.
    y_prob : array_like of shape (n,)
        Stated confidences, in [0, 1].
    confidence : float, default 0.95
        Level of the interval.
    min_n : int, default 30
        Fewest judgments for a verdict (:data:`MIN_N`).

    Returns
    -------
    Overconfidence
        ``(overconfidence, ci_low, ci_high, verdict, n)``; NaN for empty input.

    References
    ----------
    Lichtenstein, S., Fischhoff, B., & Phillips, L. D. (1982). Calibration of
    probabilities: the state of the art to 1980. In Judgment under Uncertainty:
    Heuristics and Biases, 306-334. Cambridge University Press.

    Examples
    --------
    >>> res = overconfidence([1] * 28 + [0] * 12, [0.9] * 40)
    >>> round(res.overconfidence, 2), round(res.ci_low, 3), round(res.ci_high, 3), res.verdict
    (0.2, 0.081, 0.354, 'overconfident')
    >>> overconfidence([1, 0], [0.9, 0.9]).verdict
    'not enough data yet'
    """
    y, p, codes, n_groups = _single(y_true, y_prob)
    diff, low, high, code, n = _grouped_overconfidence(
        y, p, codes, n_groups, _check_confidence(confidence), min_n
    )
    return Overconfidence(float(diff[0]), float(low[0]), float(high[0]), VERDICTS[code[0]], int(n[0]))


def calibration_slope_intercept(
    y_true: ArrayLike, y_prob: ArrayLike, *, eps: float = LOG_EPS
) -> CalibrationFit:
    """Calibration slope and intercept by logistic recalibration.

    Fits by maximum likelihood

    .. math:: \\operatorname{logit} P(y_i = 1) = \\alpha + \\beta \\operatorname{logit} \\tilde p_i,
              \\qquad \\tilde p_i = \\min(\\max(p_i, \\varepsilon), 1 - \\varepsilon)

    A calibrated forecaster has :math:`\\beta = 1, \\alpha = 0`. A slope below 1
    means confidence rises faster than accuracy (high confidences overconfident),
    above 1 the reverse; with confidences in [0.5, 1] the intercept is the log-odds
    of being right at 50% (logit 0.5 = 0). Stated 100% is clipped to
    ``1 - eps`` (:data:`LOG_EPS`, 99.5%).

    When the maximum likelihood estimate does not exist, slope and intercept are NaN
    and ``reason`` says why: no judgments, every answer right or every answer wrong,
    a single confidence value, or separation (every wrong answer at a confidence at
    most that of every right answer, or the reverse: the likelihood grows without
    bound as the slope goes to plus or minus infinity; Albert & Anderson 1984).
    Estimates from fewer than about 50 judgments are very noisy.

    Parameters
    ----------
    y_true : array_like of shape (n,)
        Outcomes, 1 or 0.
    y_prob : array_like of shape (n,)
        Stated confidences, in [0, 1].
    eps : float, default 0.005
        Confidences are clipped to ``[eps, 1 - eps]`` before the logit.

    Returns
    -------
    CalibrationFit
        ``(slope, intercept, reason)``, ``reason == ""`` when estimated.

    References
    ----------
    Cox, D. R. (1958). Two further applications of a model for binary regression.
    Biometrika 45(3/4), 562-565.
    Albert, A., & Anderson, J. A. (1984). On the existence of maximum likelihood
    estimates in logistic regression models. Biometrika 71(1), 1-10.

    Examples
    --------
    >>> fit = calibration_slope_intercept([0, 1, 0, 1, 1, 0, 1, 1], [0.6, 0.6, 0.7, 0.7, 0.8, 0.8, 0.9, 0.9])
    >>> round(fit.slope, 4), round(fit.intercept, 4)
    (1.3771, -1.0367)
    >>> calibration_slope_intercept([1, 1], [0.6, 0.9]).reason
    'every answer is right: the slope is not estimable'
    """
    y, p, codes, n_groups = _single(y_true, y_prob)
    slope, intercept, reason = _grouped_logistic(y, p, codes, n_groups, _check_eps(eps))
    return CalibrationFit(float(slope[0]), float(intercept[0]), _FIT_REASONS[reason[0]])


# ----------------------------------------------------------------------------- three outcomes


def _stated_cumulative(choice: np.ndarray, confidence: np.ndarray) -> np.ndarray:
    """Cumulative stated probabilities ``(P(A better), P(A better or equal))``, shape (n, 2).

    A side answered with confidence ``c`` states ``c`` for it, ``1 - c`` for the
    other and nothing for "equal"; a tie answer states ``c`` for "equal" and
    ``(1 - c) / 2`` for each side.
    """
    c = confidence
    p_a = np.where(choice == "A", c, np.where(choice == "B", 1 - c, (1 - c) / 2))
    p_tie = np.where(choice == "tie", c, 0.0)
    return np.column_stack([p_a, p_a + p_tie])


def _expert_cumulative(gold: np.ndarray, gold_share: np.ndarray) -> np.ndarray:
    """Cumulative expert probabilities over (A better, equal, B better), shape (n, 2).

    A decided gold with share ``s`` gives ``s`` to gold and ``1 - s`` to the other
    side; a tie gold with share ``s`` gives ``s`` to "equal" and splits the rest
    evenly. A missing share means every expert agreed (``s = 1``).
    """
    s = np.where(np.isnan(gold_share), 1.0, gold_share)
    g_a = np.where(gold == "A", s, np.where(gold == "B", 1 - s, (1 - s) / 2))
    g_tie = np.where(gold == "tie", s, 0.0)
    return np.column_stack([g_a, g_a + g_tie])


def ranked_probability_skill(
    choice: ArrayLike, confidence: ArrayLike, gold: ArrayLike, gold_share=None
) -> np.ndarray:
    """Per-judgment skill over the three ordered outcomes A better, equal, B better.

    The rater's answer states a distribution over the outcomes ordered
    ``A better < equal < B better``: a side answered with confidence ``c``
    puts ``c`` on that side and ``1 - c`` on the other; a tie answer ("About
    equally good") puts ``c`` on "equal" and ``(1 - c) / 2`` on each side. The
    ranked probability score (Epstein 1969) compares the cumulative stated
    probabilities ``F`` with the outcome's ``O``: ``RPS = sum_k (F_k - O_k)^2``
    over the two cut points. The experts' split is a distribution ``G`` over
    the outcomes (gold gets its ``gold_share``; see :func:`_expert_cumulative`),
    and the score is the RPS expected under it, which has the closed form::

        E[RPS] = sum_k (F_k - G_k)^2 + G_k (1 - G_k)

    because each ``O_k`` is a Bernoulli(``G_k``) indicator. The skill is
    ``1 - E[RPS] / 0.5``, 0.5 being the RPS of a coin flip on a decided pair.

    Why this rule: the RPS is strictly proper (Murphy 1969; Gneiting &
    Raftery 2007), so stating one's real belief maximises the expected score,
    and taking its expectation over the experts' split keeps that (the
    expected score of a report is linear in the outcome probabilities). On
    a unanimous decided pair with a side answered it equals the Brier skill of
    :func:`calibration.leaderboard.skill_points`, ``1 - (c - correct)^2 / 0.25``;
    on a split pair with share ``p`` and the gold side answered it is the
    Brier skill averaged over ``y ~ Bernoulli(p)``, ``1 - 4 (c - p)^2 - 4 p (1 - p)``.
    Because "equal" lies between the sides, a tie answer on a decided pair
    costs ``-c^2`` (at most 1), less than a sure wrong pick (-3); on a tie gold
    it earns ``1 - (1 - c)^2``, and a side answered at 50% there earns 0.

    Parameters
    ----------
    choice : array_like of shape (n,)
        ``"A"``, ``"B"`` or ``"tie"``.
    confidence : array_like of shape (n,)
        Stated confidence in the answer, in [0.5, 1].
    gold : array_like of shape (n,)
        ``"A"``, ``"B"`` or ``"tie"``: the experts' majority.
    gold_share : array_like of shape (n,), optional
        Share of experts for gold, in [0.5, 1] (or, on a tie gold, (0, 1]);
        NaN or omitted means unanimous.

    Returns
    -------
    ndarray of shape (n,)
        Higher is better: +1 for a sure right answer on a unanimous pair.

    References
    ----------
    Epstein, E. S. (1969). A scoring system for probability forecasts of ranked
    categories. Journal of Applied Meteorology 8(6), 985-987.
    Murphy, A. H. (1969). On the "ranked probability score". Journal of Applied
    Meteorology 8(6), 988-989.
    Gneiting, T., & Raftery, A. E. (2007). Strictly proper scoring rules,
    prediction, and estimation. JASA 102(477), 359-378.

    Examples
    --------
    >>> ranked_probability_skill(["A", "B", "tie", "tie", "A"], [1.0, 1.0, 1.0, 1.0, 0.6],
    ...                          ["A", "A", "A", "tie", "A"], [None, None, None, None, 0.6]).round(4).tolist()
    [1.0, -3.0, -1.0, 1.0, 0.04]
    """
    choice = np.asarray(choice, dtype=object)
    c = np.asarray(confidence, dtype=float)
    gold = np.asarray(gold, dtype=object)
    share = np.full(len(gold), np.nan) if gold_share is None else np.asarray(gold_share, dtype=float)
    if not (len(choice) == len(c) == len(gold) == len(share)):
        raise ValueError("choice, confidence, gold and gold_share have different lengths.")
    if not np.isin(choice, ["A", "B", "tie"]).all():
        raise ValueError("choice has values other than 'A', 'B' and 'tie'.")
    if not np.isin(gold, ["A", "B", "tie"]).all():
        raise ValueError("gold has values other than 'A', 'B' and 'tie'.")
    if np.any((c < 0.5) | (c > 1)) or np.isnan(c).any():
        raise ValueError("confidence has values outside [0.5, 1].")
    if np.any((share < 0) | (share > 1)):
        raise ValueError("gold_share has values outside [0, 1].")
    stated, expert = _stated_cumulative(choice, c), _expert_cumulative(gold, share)
    expected_rps = ((stated - expert) ** 2 + expert * (1 - expert)).sum(axis=1)
    return 1.0 - expected_rps / 0.5
