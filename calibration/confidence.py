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
``calibration``             a label of :data:`CALIBRATION_LABELS`:
                            ``"overconfident"``, ``"underconfident"``,
                            ``"well calibrated"``, ``"not enough data yet"``
                            (fewer than 30 scored judgments), ``"confidence
                            without resolution"`` or ``"miscalibrated"``
                            (see :func:`calibration_summary`)
``slope``                   logistic recalibration slope (1 = calibrated)
``intercept``               logistic recalibration intercept (0 = calibrated)
``slope_reason``            ``""``, or why ``slope`` and ``intercept`` are NaN
``spiegelhalter_z``         Spiegelhalter's (1986) z: calibration of every
                            stated confidence at once (0 = calibrated, > 0
                            sure answers too sure)
``spiegelhalter_p_value``   its two-sided p-value
``auc``                     discrimination: the chance that a right answer
                            was stated with more confidence than a wrong one
                            (ties count half; 0.5 = no resolution)
``auc_p_value``             one-sided Mann-Whitney p-value of ``auc > 0.5``
                            (1 when every confidence is the same; NaN
                            without a right and a wrong answer)
``resolution_shown``        ``auc_p_value < 0.05``; None (NaN in the table)
                            without a right and a wrong answer
``mcb``, ``dsc``, ``unc``   CORP decomposition (Dimitriadis, Gneiting &
                            Jordan 2021): miscalibration, discrimination,
                            uncertainty; ``brier = mcb - dsc + unc``
``verdict``                 one sentence for the rater (two when the
                            resolution clause applies)
==========================  ===================================================

Why these tests. The mean test alone (``overconfidence``) calls a rater whose
confidence carries no information (55% and 95% at random, right 75% of the
time) "well calibrated". The verdict therefore adds two checks:

* **Spiegelhalter's z** rather than the 2-df likelihood-ratio test of the
  logistic recalibration (Cox 1958): the recalibration's maximum likelihood
  estimate does not exist for many drill-sized samples (every answer right,
  one confidence value, separation: ``slope_reason``), while z is a closed form
  defined for any sample, computed for a thousand raters in one pass. The LRT
  has more power against uninformative confidence (55-95% at random, n = 100:
  with the mean test it let 13% pass against z's 54%), but that case is the
  resolution test's; and the LRT also rejects honest raters whose confidence
  is a noisy reading of item difficulty (regression dilution: slope below 1),
  34% of them at n = 200 against 13% for z.
* **Resolution**: the Mann-Whitney test that right answers carry more
  confidence than wrong ones (the AUC). A calibration test cannot see a rater
  whose confidence is uninformative but right on average; only a resolution
  check can. ``"well calibrated"`` is said only when resolution is shown.

See :mod:`calibration.scoring` for formulas and references.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
from scipy import special

from calibration.intervals import wilson_interval
from calibration.reliability import DEFAULT_EDGES, _bin_labels, reliability_bins
from calibration.scoring import (
    _FIT_REASONS,
    LOG_EPS,
    MIN_N,
    VERDICTS,
    _bin_index,
    _cells,
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
    "CALIBRATION_LABELS",
    "ECE_BINS",
    "RESOLUTION_ALPHA",
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
    "spiegelhalter_z",
    "spiegelhalter_p_value",
    "auc",
    "auc_p_value",
    "resolution_shown",
    "mcb",
    "dsc",
    "unc",
    "verdict",
]
"""Scalar fields of a summary, in order; :func:`calibration_by_rater` adds ``rater`` first."""

CALIBRATION_LABELS = (*VERDICTS, "confidence without resolution", "miscalibrated")
"""Values of the ``calibration`` field: the mean test's labels, then the two the
resolution and Spiegelhalter checks add."""

RESOLUTION_ALPHA = 0.05
"""Level of the resolution (AUC) test and of Spiegelhalter's test."""

HINT_AUC = 0.6
"""An AUC from which a resolution not yet shown is worded as a sign that more answers may confirm."""

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


def _grouped_spiegelhalter(y, p, codes, n_groups, eps):
    """Spiegelhalter's z and its two-sided p-value per group, confidences clipped to ``[eps, 1 - eps]``.

    .. math:: z = \\frac{\\sum_i (y_i - p_i)(1 - 2 p_i)}{\\sqrt{\\sum_i (1 - 2 p_i)^2 p_i (1 - p_i)}}

    NaN where every confidence is 50% (the denominator is 0).
    """
    q = np.clip(p, eps, 1 - eps)
    num = _sums(codes, n_groups, (y - q) * (1 - 2 * q))
    den = np.sqrt(_sums(codes, n_groups, (1 - 2 * q) ** 2 * q * (1 - q)))
    z = _ratio(num, den)
    return z, 2 * special.ndtr(-np.abs(z))


def _grouped_auc(y, p, codes, n_groups):
    """AUC of confidence for right against wrong answers, and the one-sided Mann-Whitney p-value.

    ``U`` counts the (right, wrong) pairs where the right answer had the higher
    confidence, ties half; ``auc = U / (n_right n_wrong)``. The p-value is the
    normal approximation with the tie-corrected variance and no continuity
    correction (``scipy.stats.mannwhitneyu(..., alternative="greater",
    method="asymptotic", use_continuity=False)``); 1 when every confidence is
    the same; AUC and p-value NaN without both a right and a wrong answer.
    """
    g, _, inverse = _cells(codes, n_groups, p)  # cells sorted by group, then confidence
    total = np.bincount(inverse, minlength=len(g)).astype(float)
    right = np.bincount(inverse, weights=y, minlength=len(g))
    wrong = total - right
    below = np.cumsum(wrong) - wrong  # wrong answers in earlier cells, all groups
    start = np.searchsorted(g, g, side="left")
    below -= below[start]  # ... of the same group only
    u = _sums(g, n_groups, right * (below + 0.5 * wrong))
    n1, n0 = _sums(g, n_groups, right), _sums(g, n_groups, wrong)
    n = n1 + n0
    ties = _sums(g, n_groups, total**3 - total)
    both = (n1 > 0) & (n0 > 0)
    with np.errstate(invalid="ignore", divide="ignore"):
        var = np.where(both, n1 * n0 / 12 * ((n + 1) - ties / np.where(n > 1, n * (n - 1), 1)), 0.0)
        z = np.where(var > 1e-12, (u - n1 * n0 / 2) / np.sqrt(np.where(var > 1e-12, var, 1)), np.nan)
        auc = np.where(both, u / np.where(both, n1 * n0, 1), np.nan)
    p_value = np.where(both, np.where(np.isnan(z), 1.0, special.ndtr(-np.nan_to_num(z))), np.nan)
    return auc, p_value


def _grouped_corp(y, p, codes, n_groups):
    """CORP's MCB, DSC, UNC per group and the cells of each group's curve.

    One pool-adjacent-violators pass over every group's cells: each group's
    accuracies are shifted by twice its number, so no block can span two groups,
    and the fit of each group is the isotonic fit of that group alone
    (:func:`calibration.reliability.corp_reliability`).
    """
    from scipy.optimize import isotonic_regression  # here: scipy.optimize takes 0.15 s to import

    g, values, inverse = _cells(codes, n_groups, p)
    cn = np.bincount(inverse, minlength=len(g)).astype(float)
    ck = np.bincount(inverse, weights=y, minlength=len(g))
    accuracy = ck / np.maximum(cn, 1)
    fitted = (
        isotonic_regression(accuracy + 2.0 * g, weights=cn, increasing=True).x - 2.0 * g if len(g) else cn
    )
    n = _sums(g, n_groups, cn)
    ybar = _ratio(_sums(g, n_groups, ck), n)
    unc = ybar * (1 - ybar)
    fitted_brier = _ratio(_sums(g, n_groups, cn * fitted**2 - 2 * fitted * ck + ck), n)
    mcb = _grouped_brier(y, p, codes, n_groups) - fitted_brier
    curve = pd.DataFrame(
        {
            "group": g,
            "confidence": values,
            "calibrated": fitted,
            "accuracy": accuracy,
            "n": cn.astype(np.int64),
        }
    )
    return mcb, unc - fitted_brier, unc, curve


def _labels(code, auc_p, spiegel_p):
    """The ``calibration`` label's index in :data:`CALIBRATION_LABELS`, from the mean test's code."""
    defined = ~np.isnan(auc_p)
    no_resolution = defined & (auc_p >= RESOLUTION_ALPHA)
    spread_off = defined & (spiegel_p < RESOLUTION_ALPHA)
    well = code == 2
    return np.select([well & no_resolution, well & spread_off], [4, 5], default=code)


def _summaries(
    y: np.ndarray, p: np.ndarray, codes: np.ndarray, n_groups: int, n_excluded: np.ndarray
) -> tuple[dict, pd.DataFrame]:
    """Every scalar field for every group, as arrays (grouped kernels only), and the CORP curves' cells."""
    ones = np.ones_like(p)
    n = _sums(codes, n_groups, ones)
    brier = _grouped_brier(y, p, codes, n_groups)
    rel, res, unc = _grouped_murphy(y, p, codes, n_groups)
    diff, low, high, code, n_int = _grouped_overconfidence(y, p, codes, n_groups, 0.95, MIN_N)
    slope, intercept, reason = _grouped_logistic(y, p, codes, n_groups, LOG_EPS)
    z, z_p = _grouped_spiegelhalter(y, p, codes, n_groups, LOG_EPS)
    auc, auc_p = _grouped_auc(y, p, codes, n_groups)
    mcb, dsc, corp_unc, curve = _grouped_corp(y, p, codes, n_groups)
    label = _labels(code, auc_p, z_p)
    shown = np.asarray([None if np.isnan(v) else bool(v < RESOLUTION_ALPHA) for v in auc_p], dtype=object)
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
        "calibration": np.asarray(CALIBRATION_LABELS, dtype=object)[label],
        "slope": slope,
        "intercept": intercept,
        "slope_reason": np.asarray(_FIT_REASONS, dtype=object)[reason],
        "spiegelhalter_z": z,
        "spiegelhalter_p_value": z_p,
        "auc": auc,
        "auc_p_value": auc_p,
        "resolution_shown": shown,
        "mcb": mcb,
        "dsc": dsc,
        "unc": corp_unc,
    }
    distinct = np.bincount(curve["group"].to_numpy(), minlength=n_groups)
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
                auc,
                shown,
                z,
                z_p,
                distinct,
                strict=True,
            )
        ],
        dtype=object,
    )
    return out, curve


_NOT_YET = "Your confidence does not yet tell your right answers from your wrong ones"


def _points(x: float) -> str:
    return signed_percent(x)


def _sentence(label, n, n_excluded, mean_conf, acc, diff, low, high, auc, shown, z, z_p, distinct) -> str:
    """The verdict for a rater; percentages rounded for reading."""
    left_out = f" ({n_excluded} on ties or without a confidence left out)" if n_excluded else ""
    if label == "not enough data yet":
        return (
            f"Not enough data yet: {count_of(n, 'judgment')} with a confidence on pairs with a right answer"
            f"{left_out}; a verdict needs at least {MIN_N}."
        )
    means = f"mean confidence {100 * mean_conf:.0f}% against accuracy {100 * acc:.0f}%"
    over = f"overconfidence {_points(diff)} (95% CI {_points(low)} to {_points(high)})"
    comparisons = (
        f"a right answer carried more confidence than a wrong one in {100 * auc:.0f}% of comparisons, "
        "where 50% is chance"
    )
    hint = distinct > 1 and auc >= HINT_AUC  # a sign of resolution, not yet clear
    if distinct == 1:
        unresolved = "you gave every answer the same confidence, so it cannot tell them apart"
    elif hint:
        unresolved = f"{comparisons}, a sign that more answers may confirm but not clear yet"
    else:
        unresolved = comparisons
    if label == "confidence without resolution":
        advice = (
            "so keep stating how sure you are: more answers will tell"
            if hint
            else "so save high confidence for answers you have a reason to be sure of"
        )
        return (
            f"{_NOT_YET}: {unresolved}. "
            f"On average it is right ({means}, {over}, over {count_of(n, 'judgment')}{left_out}), "
            f"{advice}."
        )
    if label == "miscalibrated":
        spread = (
            "your surest answers are too sure and your least sure ones not sure enough"
            if z > 0
            else "your surest answers are not sure enough and your least sure ones too sure"
        )
        return (
            f"Miscalibrated: on average your confidence is right ({means}), but {spread} "
            f"(Spiegelhalter's z {z:+.1f}, p = {z_p:.3f}) over {count_of(n, 'judgment')}{left_out}."
        )
    first = f"{label.capitalize()}: {means}, {over} over {count_of(n, 'judgment')}{left_out}."
    if shown is False:
        return f"{first} {_NOT_YET}: {unresolved}."
    if shown is True and label == "well calibrated":
        return f"{first} It also tells your right answers from your wrong ones: {comparisons}."
    return first


def calibration_summary(prepared_one_rater: pd.DataFrame) -> dict[str, Any]:
    """Calibration of one rater's stated confidence.

    Scores the judgments that have a right answer and a confidence (see the
    module docstring for exclusions) with every measure of
    :mod:`calibration.scoring`: Brier loss and skill, log score, Murphy
    decomposition (by distinct confidence value), ECE (ten equal bins),
    overconfidence with its 95% interval and verdict (at least
    :data:`~calibration.scoring.MIN_N` = 30 judgments), and the logistic
    recalibration slope and intercept (confidence clipped at 99.5%),
    Spiegelhalter's z, the AUC of confidence for right against wrong answers
    with its one-sided Mann-Whitney p-value, and CORP's MCB, DSC and UNC.

    The ``calibration`` label (:data:`CALIBRATION_LABELS`), from at least
    :data:`~calibration.scoring.MIN_N` = 30 judgments: ``"overconfident"`` or
    ``"underconfident"`` when the interval of mean confidence minus accuracy
    leaves out 0; otherwise ``"confidence without resolution"`` when there are
    right and wrong answers and the AUC is not shown above 0.5 (one-sided
    p >= :data:`RESOLUTION_ALPHA`); otherwise ``"miscalibrated"`` when
    Spiegelhalter's test rejects (the confidence is right on average but spread
    too wide or too narrow); else ``"well calibrated"``. The verdict sentence
    says the same in plain words, with the resolution clause added to an
    over- or underconfident verdict when resolution is not shown.

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
        keys ``bin``, ``confidence``, ``accuracy``, ``n``, ``ci_low``, ``ci_high``;
        and ``corp``: the CORP reliability diagram, one dict per distinct
        confidence with keys ``confidence``, ``calibrated`` (isotonic estimate of
        the chance of being right), ``accuracy``, ``n``
        (:func:`calibration.reliability.corp_reliability`).

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
    'Overconfident: mean confidence 90% against accuracy 70%, overconfidence +20% (95% CI +8% to +35%) over 40 judgments (2 on ties or without a confidence left out). Your confidence does not yet tell your right answers from your wrong ones: you gave every answer the same confidence, so it cannot tell them apart.'
    >>> s["bins"][4]["bin"], s["bins"][4]["n"], s["bins"][4]["accuracy"]
    ('90-100%', 40, 0.7)

    Confidence right on average but no help in telling right from wrong
    (55% and 95% alike, right 3 times in 4 either way):

    >>> noise = pd.DataFrame({
    ...     "rater": "bo",
    ...     "confidence": [0.55, 0.95] * 40,
    ...     "correct": [1.0, 1.0, 1.0, 0.0, 1.0, 1.0, 0.0, 1.0] * 10,
    ... })
    >>> s = calibration_summary(noise)
    >>> s["calibration"], round(s["auc"], 2), s["resolution_shown"]
    ('confidence without resolution', 0.5, False)
    >>> round(s["spiegelhalter_z"], 2), round(s["mcb"], 4), round(s["dsc"], 4)
    (5.0, 0.04, 0.0)
    >>> s["verdict"]
    'Your confidence does not yet tell your right answers from your wrong ones: a right answer carried more confidence than a wrong one in 50% of comparisons, where 50% is chance. On average it is right (mean confidence 75% against accuracy 75%, overconfidence 0% (95% CI -8% to +10%), over 80 judgments), so save high confidence for answers you have a reason to be sure of.'
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
    fields, curve = _summaries(y, p, codes, 1, n_excluded)
    summary = {key: _scalar(value[0]) for key, value in fields.items()}
    summary["bins"] = reliability_bins(y, p).to_dict("records")
    for row in summary["bins"]:
        row["n"] = int(row["n"])
    summary["corp"] = _curve_records(curve)
    return summary


def _curve_records(curve: pd.DataFrame) -> list[dict[str, Any]]:
    """A group's CORP cells as the summary's ``corp`` list (plain Python numbers)."""
    return [
        {"confidence": c, "calibrated": f, "accuracy": a, "n": int(k)}
        for c, f, a, k in zip(
            curve["confidence"].tolist(),
            curve["calibrated"].tolist(),
            curve["accuracy"].tolist(),
            curve["n"].tolist(),
            strict=True,
        )
    ]


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
    fields, _ = _summaries(y, p, codes, len(raters), n_excluded)
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
    fields, curve = _summaries(y, p, codes, n_groups, n_excluded)
    cells = np.searchsorted(curve["group"].to_numpy(), np.arange(n_groups + 1))
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
        summary["corp"] = _curve_records(curve.iloc[cells[g] : cells[g + 1]])
        out[str(rater)] = summary
    return out
