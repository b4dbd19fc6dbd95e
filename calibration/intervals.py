"""Confidence intervals for proportions, shared by every statistic that reports a rate."""

from __future__ import annotations

import numpy as np
from scipy import special  # not scipy.stats: it takes longer to import than pandas


def wilson_interval(successes, n, *, confidence: float = 0.95):
    """Wilson score interval for a binomial proportion.

    Vectorized over ``successes`` and ``n``; where ``n == 0`` both bounds are NaN.

    Parameters
    ----------
    successes, n : array_like of int
    confidence : float, default 0.95

    Returns
    -------
    low, high : ndarray of float (0-d arrays for scalar input)

    References
    ----------
    Wilson, E. B. (1927). Probable inference, the law of succession, and
    statistical inference. JASA 22(158), 209-212.

    Examples
    --------
    >>> low, high = wilson_interval(8, 10)
    >>> round(float(low), 4), round(float(high), 4)
    (0.4902, 0.9433)
    """
    k = np.asarray(successes, dtype=float)
    n = np.asarray(n, dtype=float)
    if np.any(k < 0) or np.any(k > n):
        raise ValueError("successes must lie between 0 and n.")
    z = special.ndtri(0.5 + confidence / 2)
    with np.errstate(invalid="ignore", divide="ignore"):
        p = k / n
        denom = 1 + z**2 / n
        centre = (p + z**2 / (2 * n)) / denom
        half = z * np.sqrt(p * (1 - p) / n + z**2 / (4 * n**2)) / denom
        low = np.where(n > 0, np.clip(centre - half, 0, 1), np.nan)
        high = np.where(n > 0, np.clip(centre + half, 0, 1), np.nan)
    return low, high


def clopper_pearson_interval(successes, n, *, confidence: float = 0.95):
    """Exact (Clopper-Pearson) interval for a binomial proportion.

    The ends are quantiles of beta distributions: ``Beta(k, n - k + 1)`` at
    ``alpha / 2`` (0 when ``k == 0``) and ``Beta(k + 1, n - k)`` at
    ``1 - alpha / 2`` (1 when ``k == n``). It covers the true rate at least
    ``confidence`` of the time for every rate, which matters at the small
    counts of a probe study. Vectorized; where ``n == 0`` both ends are NaN.
    Equal to ``scipy.stats.binomtest(k, n).proportion_ci(method="exact")``.

    Parameters
    ----------
    successes, n : array_like of int
    confidence : float, default 0.95

    Returns
    -------
    low, high : ndarray of float (0-d arrays for scalar input)

    References
    ----------
    Clopper, C. J. and Pearson, E. S. (1934). The use of confidence or fiducial
    limits illustrated in the case of the binomial. Biometrika 26(4), 404-413.

    Examples
    --------
    >>> low, high = clopper_pearson_interval(7, 9)
    >>> round(float(low), 4), round(float(high), 4)
    (0.3999, 0.9719)
    """
    k = np.asarray(successes, dtype=float)
    n = np.asarray(n, dtype=float)
    if np.any(k < 0) or np.any(k > n):
        raise ValueError("successes must lie between 0 and n.")
    alpha = 1 - confidence
    with np.errstate(invalid="ignore", divide="ignore"):
        low = np.where(k > 0, special.betaincinv(np.maximum(k, 1e-300), n - k + 1, alpha / 2), 0.0)
        high = np.where(k < n, special.betaincinv(k + 1, np.maximum(n - k, 1e-300), 1 - alpha / 2), 1.0)
    low = np.where(n > 0, low, np.nan)
    high = np.where(n > 0, high, np.nan)
    return low, high
