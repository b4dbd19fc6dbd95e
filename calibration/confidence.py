"""Per-rater calibration: does a rater's stated confidence match how often they are right?

Input is the output of :func:`calibration.data.prepare` (one row per judgment);
the columns used are ``rater``, ``confidence``, ``correct`` and ``tie``.

Only judgments that have a right answer and a stated confidence are scored:
judgments on gold ties (``tie``, ``correct`` NaN), tie answers (``choice``
``"tie"``: their confidence is about "equal", not a side) and judgments without a
confidence are left out and counted in ``n_excluded``.

:func:`calibration_summary` describes one rater (a dict, with the reliability
bins); :func:`calibration_by_rater` gives the same scalar fields for every rater
at once, one row each, computed for all raters together by grouped numpy
kernels (no per-rater loop). Both return the fields of :data:`SUMMARY_FIELDS`:

==========================  ===================================================
field                       meaning
==========================  ===================================================
``n``                       judgments scored (decided pair, confidence given)
``n_excluded``              judgments left out: gold ties, tie answers or no
                            confidence
``accuracy``                share of scored choices that agree with gold
``mean_confidence``         mean stated confidence (0-1)
``brier``                   Brier loss (0-1, lower is better, coin = 0.25)
``brier_skill``             ``1 - brier / 0.25`` (higher is better)
``log_score``               mean log probability of the outcome, nats, clipped
                            at 0.005 / 0.995 (higher is better, coin = -0.693)
``reliability``             Murphy reliability, by distinct confidence (lower
                            is better)
``resolution``              Murphy resolution (higher is better)
``uncertainty``             ``accuracy * (1 - accuracy)``;
                            ``brier = reliability - resolution + uncertainty``
``ece``                     expected calibration error, 10 equal bins of [0, 1]
                            (the five bins of ``bins``)
``overconfidence``          ``mean_confidence - accuracy``
``overconfidence_ci_low``   95% interval: ``mean_confidence`` minus the Wilson
``overconfidence_ci_high``  interval of ``accuracy``
``calibration``             ``"overconfident"``, ``"underconfident"``,
                            ``"well calibrated"`` or ``"not enough data yet"``
                            (fewer than 30 scored judgments)
``slope``                   logistic recalibration slope (1 = calibrated)
``intercept``               logistic recalibration intercept (0 = calibrated)
``slope_reason``            ``""``, or why ``slope`` and ``intercept`` are NaN
``verdict``                 one sentence for the rater
==========================  ===================================================

See :mod:`calibration.scoring` for formulas and references.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from calibration.intervals import wilson_interval
from calibration.reliability import DEFAULT_EDGES, _bin_labels, reliability_bins
from calibration.scoring import (
    _FIT_REASONS,
    LOG_EPS,
    MIN_N,
    VERDICTS,
    _bin_index,
    _grouped_brier,
    _grouped_ece,
    _grouped_log_loss,
    _grouped_logistic,
    _grouped_murphy,
    _grouped_overconfidence,
    _ratio,
    _sums,
)
from pairs.export import count_of, signed_percent

__all__ = [
    "ECE_BINS",
    "SUMMARY_FIELDS",
    "calibration_by_rater",
    "calibration_summaries",
    "calibration_summary",
]

ECE_BINS = 10
"""Equal-width bins of [0, 1] for the ECE; on [0.5, 1] they are the reliability bins."""

SUMMARY_FIELDS = [
    "n",
    "n_excluded",
    "accuracy",
    "mean_confidence",
    "brier",
    "brier_skill",
    "log_score",
    "reliability",
    "resolution",
    "uncertainty",
    "ece",
    "overconfidence",
    "overconfidence_ci_low",
    "overconfidence_ci_high",
    "calibration",
    "slope",
    "intercept",
    "slope_reason",
    "verdict",
]
"""Scalar fields of a summary, in order; :func:`calibration_by_rater` adds ``rater`` first."""

_REQUIRED = ("rater", "confidence", "correct")


def _check_prepared(prepared: pd.DataFrame, name: str) -> None:
    if not isinstance(prepared, pd.DataFrame):
        raise ValueError(f"{name} must be a DataFrame from calibration.data.prepare.")
    missing = [c for c in _REQUIRED if c not in prepared.columns]
    if missing:
        raise ValueError(f"{name} lacks the column(s) {missing}.")


def _scored(prepared: pd.DataFrame, codes: np.ndarray, n_groups: int):
    """Rows to score, their arrays, and excluded counts per group."""
    p_all = pd.to_numeric(prepared["confidence"], errors="coerce").to_numpy(dtype=float)
    y_all = pd.to_numeric(prepared["correct"], errors="coerce").to_numpy(dtype=float)
    usable = ~np.isnan(p_all) & ~np.isnan(y_all)
    if "tie" in prepared.columns:
        usable &= ~prepared["tie"].to_numpy(dtype=bool)
    if "choice" in prepared.columns:  # a tie answer's confidence is about "equal", not a side
        usable &= prepared["choice"].ne("tie").to_numpy(dtype=bool)
    p, y = p_all[usable], y_all[usable]
    bad = (p < 0.5) | (p > 1)
    if bad.any():
        i = np.flatnonzero(usable)[np.argmax(bad)]
        row = prepared.iloc[i]
        pair = f" on pair {row['pair_id']!r}" if "pair_id" in prepared.columns else ""
        raise ValueError(
            f"confidence {p_all[i]:g} of rater {str(row['rater'])!r}{pair} is outside [0.5, 1] "
            f"({count_of(bad.sum(), 'such judgment')})."
        )
    if not np.isin(y, (0.0, 1.0)).all():
        raise ValueError("correct has values other than 0, 1 and NaN.")
    n_excluded = np.bincount(codes[~usable], minlength=n_groups)
    return y, p, codes[usable], n_excluded


def _summaries(
    y: np.ndarray, p: np.ndarray, codes: np.ndarray, n_groups: int, n_excluded: np.ndarray
) -> dict:
    """Every scalar field for every group, as arrays (grouped kernels only)."""
    ones = np.ones_like(p)
    n = _sums(codes, n_groups, ones)
    brier = _grouped_brier(y, p, codes, n_groups)
    rel, res, unc = _grouped_murphy(y, p, codes, n_groups)
    diff, low, high, code, n_int = _grouped_overconfidence(y, p, codes, n_groups, 0.95, MIN_N)
    slope, intercept, reason = _grouped_logistic(y, p, codes, n_groups, LOG_EPS)
    out = {
        "n": n_int,
        "n_excluded": n_excluded.astype(np.int64),
        "accuracy": _ratio(_sums(codes, n_groups, y), n),
        "mean_confidence": _ratio(_sums(codes, n_groups, p), n),
        "brier": brier,
        "brier_skill": 1 - brier / 0.25,
        "log_score": -_grouped_log_loss(y, p, codes, n_groups, LOG_EPS),
        "reliability": rel,
        "resolution": res,
        "uncertainty": unc,
        "ece": _grouped_ece(y, p, codes, n_groups, ECE_BINS),
        "overconfidence": diff,
        "overconfidence_ci_low": low,
        "overconfidence_ci_high": high,
        "calibration": np.asarray(VERDICTS, dtype=object)[code],
        "slope": slope,
        "intercept": intercept,
        "slope_reason": np.asarray(_FIT_REASONS, dtype=object)[reason],
    }
    out["verdict"] = np.asarray(
        [
            _sentence(*args)
            for args in zip(
                out["calibration"],
                n_int,
                out["n_excluded"],
                out["mean_confidence"],
                out["accuracy"],
                diff,
                low,
                high,
                strict=True,
            )
        ],
        dtype=object,
    )
    return out


def _points(x: float) -> str:
    return signed_percent(x)


def _sentence(label, n, n_excluded, mean_conf, acc, diff, low, high) -> str:
    """One sentence for a rater; percentages rounded for reading."""
    left_out = f" ({n_excluded} on ties or without a confidence left out)" if n_excluded else ""
    if label == "not enough data yet":
        return (
            f"Not enough data yet: {count_of(n, 'judgment')} with a confidence on pairs with a right answer"
            f"{left_out}; a verdict needs at least {MIN_N}."
        )
    return (
        f"{label.capitalize()}: mean confidence {100 * mean_conf:.0f}% against accuracy "
        f"{100 * acc:.0f}%, overconfidence {_points(diff)} (95% CI {_points(low)} to {_points(high)}) "
        f"over {count_of(n, 'judgment')}{left_out}."
    )


def calibration_summary(prepared_one_rater: pd.DataFrame) -> dict[str, Any]:
    """Calibration of one rater's stated confidence.

    Scores the judgments that have a right answer and a confidence (see the
    module docstring for exclusions) with every measure of
    :mod:`calibration.scoring`: Brier loss and skill, log score, Murphy
    decomposition (by distinct confidence value), ECE (ten equal bins),
    overconfidence with its 95% interval and verdict (at least
    :data:`~calibration.scoring.MIN_N` = 30 judgments), and the logistic
    recalibration slope and intercept (confidence clipped at 99.5%).

    Parameters
    ----------
    prepared_one_rater : DataFrame
        Rows of :func:`calibration.data.prepare` for a single rater (columns
        ``rater``, ``confidence``, ``correct``, and ``tie`` if present).

    Returns
    -------
    dict
        The fields of :data:`SUMMARY_FIELDS` (floats are NaN when not defined,
        e.g. with no scored judgment) plus ``bins``: a list of one dict per
        reliability bin (:func:`calibration.reliability.reliability_bins`) with
        keys ``bin``, ``confidence``, ``accuracy``, ``n``, ``ci_low``, ``ci_high``.

    Raises
    ------
    ValueError
        If a column is missing, the rows belong to more than one rater, or a
        scored confidence is outside [0.5, 1].

    Examples
    --------
    >>> frame = pd.DataFrame({
    ...     "rater": "ana",
    ...     "confidence": [0.9] * 40 + [0.8, np.nan],
    ...     "correct": [1.0] * 28 + [0.0] * 12 + [np.nan, 1.0],
    ...     "tie": [False] * 40 + [True, False],
    ... })
    >>> s = calibration_summary(frame)
    >>> s["n"], s["n_excluded"], round(s["brier"], 3), s["calibration"]
    (40, 2, 0.25, 'overconfident')
    >>> s["verdict"]
    'Overconfident: mean confidence 90% against accuracy 70%, overconfidence +20% (95% CI +8% to +35%) over 40 judgments (2 on ties or without a confidence left out).'
    >>> s["bins"][4]["bin"], s["bins"][4]["n"], s["bins"][4]["accuracy"]
    ('90-100%', 40, 0.7)
    """  # noqa: E501
    _check_prepared(prepared_one_rater, "prepared_one_rater")
    raters = pd.unique(prepared_one_rater["rater"].astype(str))
    if len(raters) > 1:
        raise ValueError(
            f"prepared_one_rater holds judgments of {len(raters)} raters; "
            "pass one rater's rows or use calibration_by_rater."
        )
    codes = np.zeros(len(prepared_one_rater), dtype=np.int64)
    y, p, codes, n_excluded = _scored(prepared_one_rater, codes, 1)
    fields = _summaries(y, p, codes, 1, n_excluded)
    summary = {key: _scalar(value[0]) for key, value in fields.items()}
    summary["bins"] = reliability_bins(y, p).to_dict("records")
    for row in summary["bins"]:
        row["n"] = int(row["n"])
    return summary


def _scalar(value: Any) -> Any:
    if isinstance(value, np.integer):
        return int(value)
    if isinstance(value, np.floating):
        return float(value)
    return value


def calibration_by_rater(prepared: pd.DataFrame) -> pd.DataFrame:
    """Calibration summary of every rater, one row each.

    The same numbers as :func:`calibration_summary` (without ``bins``), computed
    for all raters together with grouped numpy kernels: on 1,000 raters with 200
    judgments each it takes well under half a second.

    Parameters
    ----------
    prepared : DataFrame
        Output of :func:`calibration.data.prepare` (columns ``rater``,
        ``confidence``, ``correct``, and ``tie`` if present).

    Returns
    -------
    DataFrame
        One row per rater, sorted by rater, columns ``rater`` then
        :data:`SUMMARY_FIELDS`. Raters whose judgments are all excluded have a
        row with ``n == 0``.

    Raises
    ------
    ValueError
        If a column is missing or a scored confidence is outside [0.5, 1].

    Examples
    --------
    >>> frame = pd.DataFrame({
    ...     "rater": ["bo"] * 3 + ["ana"] * 2,
    ...     "confidence": [0.6, 0.8, 1.0, 0.7, 0.9],
    ...     "correct": [1.0, 0.0, 1.0, 1.0, np.nan],
    ... })
    >>> table = calibration_by_rater(frame)
    >>> table[["rater", "n", "n_excluded", "brier", "calibration"]].round(4)
      rater  n  n_excluded   brier          calibration
    0   ana  1           1  0.0900  not enough data yet
    1    bo  3           0  0.2667  not enough data yet
    """
    _check_prepared(prepared, "prepared")
    codes, raters = pd.factorize(prepared["rater"].astype(str), sort=True)
    y, p, codes, n_excluded = _scored(prepared, codes, len(raters))
    fields = _summaries(y, p, codes, len(raters), n_excluded)
    return pd.DataFrame(
        {"rater": np.asarray(raters, dtype=object), **fields}, columns=["rater", *SUMMARY_FIELDS]
    )


def calibration_summaries(prepared: pd.DataFrame) -> dict[str, dict[str, Any]]:
    """:func:`calibration_summary` of every rater, computed for all of them at once.

    The same dicts, bins included, as calling :func:`calibration_summary` on
    each rater's rows, but with grouped kernels instead of one call per rater
    (what a cohort report of a thousand raters needs).

    Parameters
    ----------
    prepared : DataFrame
        Output of :func:`calibration.data.prepare` (columns ``rater``,
        ``confidence``, ``correct``, and ``tie`` if present).

    Returns
    -------
    dict
        ``{rater: summary}``, raters in order of first appearance.

    Raises
    ------
    ValueError
        If a column is missing or a scored confidence is outside [0.5, 1].

    Examples
    --------
    >>> frame = pd.DataFrame({
    ...     "rater": ["bo"] * 3 + ["ana"] * 2,
    ...     "confidence": [0.6, 0.8, 1.0, 0.7, 0.9],
    ...     "correct": [1.0, 0.0, 1.0, 1.0, np.nan],
    ... })
    >>> out = calibration_summaries(frame)
    >>> list(out), out["ana"]["n"], [b["n"] for b in out["bo"]["bins"]]
    (['bo', 'ana'], 1, [0, 1, 0, 1, 1])
    """
    _check_prepared(prepared, "prepared")
    codes, raters = pd.factorize(prepared["rater"].astype(str), use_na_sentinel=False)
    n_groups = len(raters)
    y, p, codes, n_excluded = _scored(prepared, codes, n_groups)
    fields = _summaries(y, p, codes, n_groups, n_excluded)
    edges = np.asarray(DEFAULT_EDGES, dtype=float)
    n_bins = len(edges) - 1
    cell = codes * n_bins + _bin_index(p, edges)
    size = n_groups * n_bins
    n = np.bincount(cell, minlength=size)
    k = np.bincount(cell, weights=y, minlength=size)
    low, high = wilson_interval(k, n)
    with np.errstate(invalid="ignore", divide="ignore"):
        conf = np.bincount(cell, weights=p, minlength=size) / n
        acc = k / n
    bins = pd.DataFrame(
        {
            "bin": np.tile(np.asarray(_bin_labels(edges), dtype=object), n_groups),
            "confidence": conf,
            "accuracy": acc,
            "n": n.astype(int),
            "ci_low": low,
            "ci_high": high,
        }
    ).to_dict("records")
    columns = {key: value.tolist() for key, value in fields.items()}
    out = {}
    for g, rater in enumerate(raters):
        summary = {key: _scalar(value[g]) for key, value in columns.items()}
        summary["bins"] = bins[g * n_bins : (g + 1) * n_bins]
        out[str(rater)] = summary
    return out
