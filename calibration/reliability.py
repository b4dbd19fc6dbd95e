"""Reliability diagrams: accuracy against stated confidence.

Two views of the same question, "when this rater says p, are they right p of
the time?":

* :func:`reliability_bins`: the classic binned diagram, one row per confidence
  bin with a Wilson interval on accuracy; what a rater reads.
* :func:`corp_reliability`: the CORP diagram of Dimitriadis, Gneiting & Jordan
  (2021): no binning choices, the conditional accuracy is the isotonic (PAV) fit
  of outcome on confidence, and the Brier loss splits exactly into miscalibration,
  discrimination and uncertainty.

Both take decided judgments only (drop gold ties and missing confidences first).
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np
import pandas as pd
from numpy.typing import ArrayLike

from calibration.intervals import wilson_interval
from calibration.scoring import _bin_index, _check_forecasts

__all__ = [
    "DEFAULT_EDGES",
    "BIN_COLUMNS",
    "CORP_COLUMNS",
    "CorpReliability",
    "corp_consistency_band",
    "corp_reliability",
    "reliability_bins",
]

DEFAULT_EDGES = (0.5, 0.6, 0.7, 0.8, 0.9, 1.0)
"""Bin edges of the stated confidence: 50-59%, 60-69%, 70-79%, 80-89%, 90-100%."""

BIN_COLUMNS = ["bin", "confidence", "accuracy", "n", "ci_low", "ci_high"]
"""Columns of :func:`reliability_bins`."""

CORP_COLUMNS = ["confidence", "calibrated", "accuracy", "n"]
"""Columns of :attr:`CorpReliability.curve`."""


class CorpReliability(NamedTuple):
    """A CORP reliability diagram and score decomposition, ``brier = mcb - dsc + unc``."""

    curve: pd.DataFrame
    mcb: float
    dsc: float
    unc: float
    brier: float


def _bin_labels(edges: np.ndarray) -> list[str]:
    """``"50-59%"`` for ``[0.5, 0.6)``; the last, closed bin ``"90-100%"``."""
    pct = np.round(edges * 100, 6)
    labels = []
    for k, (lo, hi) in enumerate(zip(pct[:-1], pct[1:], strict=True)):
        last = k == len(pct) - 2
        if last:
            labels.append(f"{lo:g}-{hi:g}%")
        elif hi == int(hi):
            labels.append(f"{lo:g}-{hi - 1:g}%")
        else:
            labels.append(f"{lo:g}-<{hi:g}%")
    return labels


def reliability_bins(
    y_true: ArrayLike,
    y_prob: ArrayLike,
    *,
    edges: ArrayLike = DEFAULT_EDGES,
    confidence: float = 0.95,
) -> pd.DataFrame:
    """Accuracy by stated-confidence bin, with Wilson intervals.

    Bin :math:`b = [e_b, e_{b+1})` (the last bin closed) holds the judgments with
    stated confidence in it; a confidence within 1e-9 below an edge counts as on it,
    so ``0.1 * 7`` is in the 70-79% bin. For each bin

    .. math:: \\text{confidence}_b = \\frac{1}{n_b}\\sum_{i \\in b} p_i, \\qquad
              \\text{accuracy}_b = \\frac{1}{n_b}\\sum_{i \\in b} y_i

    and ``ci_low, ci_high`` is the Wilson interval of the accuracy
    (:func:`calibration.intervals.wilson_interval`). A calibrated rater's points lie
    on the diagonal, within their intervals.

    Every bin gets a row, in order; an empty bin has ``n == 0`` and NaN elsewhere.

    Parameters
    ----------
    y_true : array_like of shape (n,)
        Outcomes, 1 (choice agrees with gold) or 0.
    y_prob : array_like of shape (n,)
        Stated confidences, within ``[edges[0], edges[-1]]``.
    edges : array_like of float, default (0.5, 0.6, 0.7, 0.8, 0.9, 1.0)
        Increasing bin edges, at least two.
    confidence : float, default 0.95
        Level of the Wilson intervals.

    Returns
    -------
    DataFrame
        One row per bin, columns :data:`BIN_COLUMNS`:

        ==============  =====================================================
        ``bin``         label, ``"50-59%"`` ... ``"90-100%"``
        ``confidence``  mean stated confidence in the bin (0-1)
        ``accuracy``    share of the bin's choices that agree with gold
        ``n``           judgments in the bin (int)
        ``ci_low``      lower Wilson bound of ``accuracy``
        ``ci_high``     upper Wilson bound of ``accuracy``
        ==============  =====================================================

    References
    ----------
    Murphy, A. H., & Winkler, R. L. (1977). Reliability of subjective probability
    forecasts of precipitation and temperature. Applied Statistics 26(1), 41-47.

    Examples
    --------
    >>> table = reliability_bins([1, 0, 1, 1, 1], [0.55, 0.6, 0.7, 0.95, 1.0])
    >>> table[["bin", "confidence", "accuracy", "n"]]
           bin  confidence  accuracy  n
    0   50-59%       0.550       1.0  1
    1   60-69%       0.600       0.0  1
    2   70-79%       0.700       1.0  1
    3   80-89%         NaN       NaN  0
    4  90-100%       0.975       1.0  2
    """
    y, p = _check_forecasts(y_true, y_prob)
    e = np.asarray(edges, dtype=float)
    if e.ndim != 1 or len(e) < 2 or not (np.diff(e) > 0).all():
        raise ValueError("edges must be an increasing sequence of at least two numbers.")
    if e[0] < 0 or e[-1] > 1:
        raise ValueError("edges must lie within [0, 1].")
    if ((p < e[0] - 1e-9) | (p > e[-1])).any():
        raise ValueError(f"y_prob has values outside the bin edges [{e[0]:g}, {e[-1]:g}].")
    n_bins = len(e) - 1
    idx = _bin_index(p, e)
    n = np.bincount(idx, minlength=n_bins)
    k = np.bincount(idx, weights=y, minlength=n_bins)
    low, high = wilson_interval(k, n, confidence=confidence)
    with np.errstate(invalid="ignore", divide="ignore"):
        return pd.DataFrame(
            {
                "bin": _bin_labels(e),
                "confidence": np.bincount(idx, weights=p, minlength=n_bins) / n,
                "accuracy": k / n,
                "n": n.astype(np.int64),
                "ci_low": low,
                "ci_high": high,
            }
        )


def corp_reliability(y_true: ArrayLike, y_prob: ArrayLike) -> CorpReliability:
    """CORP reliability diagram and Brier decomposition (Dimitriadis, Gneiting & Jordan 2021).

    CORP: Consistent, Optimally binned, Reproducible, PAV-based. The recalibrated
    forecast :math:`\\hat p` is the isotonic (non-decreasing) least-squares fit of
    the outcomes on the stated confidences, computed by the pool-adjacent-violators
    algorithm (:func:`scipy.optimize.isotonic_regression`) on the distinct confidence
    values weighted by their counts, so tied confidences share one fitted value. With
    :math:`\\mathrm{S}(\\cdot)` the mean Brier loss and :math:`\\bar y` the overall
    accuracy:

    .. math::
        \\mathrm{MCB} = \\mathrm{S}(p) - \\mathrm{S}(\\hat p), \\quad
        \\mathrm{DSC} = \\mathrm{S}(\\bar y) - \\mathrm{S}(\\hat p), \\quad
        \\mathrm{UNC} = \\mathrm{S}(\\bar y) = \\bar y (1 - \\bar y)

    so that ``brier = MCB - DSC + UNC`` exactly, with MCB, DSC >= 0. MCB
    (miscalibration, lower is better) is what recalibrating would save, DSC
    (discrimination, higher is better) how much better than always saying the
    base rate the recalibrated confidences are. When accuracy already rises with
    confidence, the fit is the observed accuracy at each confidence and MCB, DSC
    equal Murphy's reliability and resolution
    (:func:`calibration.scoring.murphy_decomposition`).

    Parameters
    ----------
    y_true : array_like of shape (n,)
        Outcomes, 1 or 0.
    y_prob : array_like of shape (n,)
        Stated confidences (forecast probabilities of outcome 1), in [0, 1].

    Returns
    -------
    CorpReliability
        ``curve``: one row per distinct confidence, ascending, columns
        :data:`CORP_COLUMNS`:

        ==============  =====================================================
        ``confidence``  the distinct stated confidence
        ``calibrated``  isotonic estimate of P(right | confidence); the diagram
                        plots it against ``confidence``
        ``accuracy``    raw share right at this confidence
        ``n``           judgments at this confidence (int)
        ==============  =====================================================

        and the floats ``mcb``, ``dsc``, ``unc``, ``brier``; all NaN (and an empty
        curve) for empty input.

    References
    ----------
    Dimitriadis, T., Gneiting, T., & Jordan, A. I. (2021). Stable reliability
    diagrams for probabilistic classifiers. PNAS 118(8), e2016191118.

    Examples
    --------
    >>> corp = corp_reliability([0, 1, 1, 0, 1, 1], [0.6, 0.6, 0.7, 0.8, 0.9, 0.9])
    >>> corp.curve
       confidence  calibrated  accuracy  n
    0         0.6         0.5       0.5  2
    1         0.7         0.5       1.0  1
    2         0.8         0.5       0.0  1
    3         0.9         1.0       1.0  2
    >>> round(corp.mcb, 4), round(corp.dsc, 4), round(corp.unc, 4), round(corp.brier, 4)
    (0.045, 0.0556, 0.2222, 0.2117)
    """
    y, p = _check_forecasts(y_true, y_prob)
    values, inverse = np.unique(p, return_inverse=True)
    n = np.bincount(inverse, minlength=len(values))
    k = np.bincount(inverse, weights=y, minlength=len(values))
    if len(y) == 0:
        curve = pd.DataFrame({c: np.array([], dtype=np.int64 if c == "n" else float) for c in CORP_COLUMNS})
        return CorpReliability(curve, np.nan, np.nan, np.nan, np.nan)
    accuracy = k / n
    from scipy.optimize import isotonic_regression  # here: scipy.optimize takes 0.15 s to import

    fitted = isotonic_regression(accuracy, weights=n, increasing=True).x
    ybar = y.mean()
    brier = np.mean((p - y) ** 2)
    brier_fitted = np.sum(n * fitted**2 - 2 * fitted * k + k) / len(y)
    unc = ybar * (1 - ybar)
    curve = pd.DataFrame(
        {"confidence": values, "calibrated": fitted, "accuracy": accuracy, "n": n.astype(np.int64)}
    )
    return CorpReliability(
        curve, float(brier - brier_fitted), float(unc - brier_fitted), float(unc), float(brier)
    )


def corp_consistency_band(
    confidence: ArrayLike,
    n: ArrayLike,
    *,
    level: float = 0.9,
    n_resamples: int = 500,
    seed: int | None = 0,
) -> tuple[np.ndarray, np.ndarray]:
    """Where the CORP curve of a calibrated rater would fall, at each confidence used.

    The consistency band of Dimitriadis, Gneiting & Jordan (2021): outcomes are
    drawn as if the rater were calibrated (right with probability equal to the
    stated confidence, ``n`` judgments at each), the CORP curve is refitted to
    each draw, and the band is the central ``level`` range of the refitted
    curves at each confidence. A CORP curve inside the band is consistent with
    calibration at this number of judgments; outside it, the gap is more than
    chance. All resamples are fitted in one pool-adjacent-violators pass (each
    shifted by twice its number, so no block spans two).

    Parameters
    ----------
    confidence : array_like of shape (J,)
        The distinct stated confidences, increasing (``CorpReliability.curve["confidence"]``).
    n : array_like of int, shape (J,)
        Judgments at each.
    level : float, default 0.9
        Central share of the refitted curves the band holds.
    n_resamples : int, default 500
        Draws of a calibrated rater.
    seed : int or None, default 0
        Seed of the draws.

    Returns
    -------
    low, high : ndarray of shape (J,)

    References
    ----------
    Dimitriadis, T., Gneiting, T., & Jordan, A. I. (2021). Stable reliability
    diagrams for probabilistic classifiers. PNAS 118(8), e2016191118.

    Examples
    --------
    >>> low, high = corp_consistency_band([0.6, 0.9], [200, 200])
    >>> bool(low[0] < 0.6 < high[0]), bool(low[1] < 0.9 < high[1]), bool(high[1] - low[1] < 0.1)
    (True, True, True)
    """
    c = np.asarray(confidence, dtype=float)
    k = np.asarray(n, dtype=np.int64)
    if c.shape != k.shape or c.ndim != 1:
        raise ValueError("confidence and n must be 1-D arrays of the same length.")
    if not 0 < level < 1:
        raise ValueError(f"level must lie in (0, 1), got {level!r}.")
    if len(c) == 0:
        return np.array([]), np.array([])
    from scipy.optimize import isotonic_regression  # here: scipy.optimize takes 0.15 s to import

    rng = np.random.default_rng(seed)
    right = rng.binomial(k, np.clip(c, 0, 1), size=(n_resamples, len(c)))
    shift = 2.0 * np.arange(n_resamples)[:, None]
    share = right / np.maximum(k, 1) + shift
    fitted = isotonic_regression(share.ravel(), weights=np.tile(np.maximum(k, 1), n_resamples)).x
    curves = fitted.reshape(n_resamples, len(c)) - shift
    low, high = np.quantile(curves, [(1 - level) / 2, (1 + level) / 2], axis=0)
    return low, high
