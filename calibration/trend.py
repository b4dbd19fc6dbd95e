"""How a rater's accuracy, biases and confidence change over time, period by period, and a test of it.

:func:`trend` turns prepared judgments into a tidy table with one row per
period and measure, ready for a line chart (:func:`calibration.charts.trend_chart`).
Each point rests on few judgments, so the chart alone cannot say whether a bias
is shrinking: :func:`bias_trend` tests it, with a length x time and a polish x
time term in the rater's bias model (:func:`calibration.bias.bias_by_rater`),
penalized likelihood-ratio tests and profile intervals, first answers only.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from calibration.bias import (
    _COLUMN,
    ALPHA,
    LENGTH_RATIO,
    _batches,
    _check_min_n,
    _design,
    _gold_block,
    _offset,
    _per_pair,
    _stack,
    _stack_values,
    holm,
)
from calibration.firth import penalized_inference

__all__ = ["BIAS_TREND_COLUMNS", "MEASURES", "MIN_TREND", "TREND_COLUMNS", "TREND_PER", "bias_trend", "trend"]

#: Decided first answers a rater needs before the change of a bias is tested.
MIN_TREND = 60

#: Judgments per unit of time in :func:`bias_trend`.
TREND_PER = 100

BIAS_TREND_COLUMNS = [
    "rater",
    "effect",
    "n",
    "change_per_100_judgments",
    "ci_low",
    "ci_high",
    "p_value",
    "p_adjusted",
    "significant",
    "estimable",
    "summary",
]

_TREND_EFFECTS = ("length", "polish")
_WORDS = {"length": ("longer", "shorter"), "polish": ("more polished", "plainer")}

#: Measures, in output order within a period.
MEASURES = (
    "accuracy",
    "picked longer when gold was shorter",
    "picked more polished when gold was plainer",
    "mean confidence",
)

TREND_COLUMNS = ["period", "measure", "value", "n"]

_NEEDED = (
    "answered_at",
    "choice",
    "gold",
    "tie",
    "correct",
    "confidence",
    "length_doublings",
    "more_polished",
)


def trend(prepared: pd.DataFrame, *, freq: str = "W") -> pd.DataFrame:
    """Accuracy, length and polish traps, and confidence, per period of ``answered_at``.

    Judgments on gold ties and judgments without ``answered_at`` are left
    out. In each period (UTC), over the remaining *decided* judgments:

    ``accuracy``
        Share that agree with gold (``correct``); ``n`` = decided judgments.
    ``picked longer when gold was shorter``
        On pairs whose answers clearly differ in length (word ratio of
        ``words + 1`` at least :data:`calibration.bias.LENGTH_RATIO`, 1.5,
        i.e. ``|length_doublings| >= log2 1.5``) and whose gold is the shorter
        answer: the share where the rater picked the longer one. An error
        rate on length traps; ``n`` = such judgments.
    ``picked more polished when gold was plainer``
        On pairs whose polish counts differ (``more_polished`` not ``""``) and
        whose gold is the plainer answer: the share where the rater picked the
        more polished one; ``n`` = such judgments.
    ``mean confidence``
        Mean stated confidence over decided judgments with a confidence, so
        that it compares with ``accuracy`` (above it: over-confident); ``n`` =
        those judgments.

    These are the same judgments and thresholds as
    :func:`calibration.bias.plain_rates`, split by period. A measure with no
    judgment in a period has no row there; a period with no judgment has no rows.

    Parameters
    ----------
    prepared : DataFrame
        Output of :func:`calibration.data.prepare` (usually one rater's).
    freq : str, default "W"
        A pandas period alias: ``"D"`` days, ``"W"`` weeks (Monday to Sunday),
        ``"M"`` months, ...

    Returns
    -------
    DataFrame
        Columns ``period`` (UTC timestamp of the period's start), ``measure``
        (one of :data:`MEASURES`), ``value`` (float), ``n`` (int), sorted by
        period and then in the order of :data:`MEASURES`. Empty input gives
        an empty frame with these columns.

    Raises
    ------
    ValueError
        If ``prepared`` has rows but lacks a needed column, or ``freq`` is
        not a period alias.

    Examples
    --------
    Two judgments in the week of Monday 2 March 2026 (one fell for a length
    trap: gold was the shorter answer, a quarter of the other's length) and
    one the week after:

    >>> prepared = pd.DataFrame({
    ...     "answered_at": pd.to_datetime(["2026-03-02 10:00", "2026-03-04 09:00", "2026-03-10 12:00"]),
    ...     "choice": ["A", "B", "A"], "gold": ["B", "B", "A"], "tie": False,
    ...     "correct": [0.0, 1.0, 1.0], "confidence": [0.9, 0.7, 0.6],
    ...     "length_doublings": [2.0, 0.0, 0.0], "more_polished": "",
    ... })
    >>> out = trend(prepared)
    >>> print(out.assign(period=out["period"].dt.strftime("%Y-%m-%d")).to_string(index=False))
        period                             measure  value  n
    2026-03-02                            accuracy    0.5  2
    2026-03-02 picked longer when gold was shorter    1.0  1
    2026-03-02                     mean confidence    0.8  2
    2026-03-09                            accuracy    1.0  1
    2026-03-09                     mean confidence    0.6  1
    """
    empty = pd.DataFrame(
        {
            "period": pd.Series(dtype="datetime64[ns, UTC]"),
            "measure": pd.Series(dtype=object),
            "value": pd.Series(dtype=float),
            "n": pd.Series(dtype=np.int64),
        }
    )
    if len(prepared) == 0:
        return empty
    missing = [c for c in _NEEDED if c not in prepared.columns]
    if missing:
        raise ValueError(f"prepared lacks the column(s) {missing}; use calibration.data.prepare.")
    when = pd.to_datetime(prepared["answered_at"], utc=True, errors="coerce")
    tie = prepared["tie"].to_numpy(dtype=bool)
    keep = when.notna().to_numpy() & ~tie
    if not keep.any():
        return empty
    rows = prepared[keep]
    try:
        period = when[keep].dt.tz_convert(None).dt.to_period(freq).dt.start_time.to_numpy()
    except (ValueError, TypeError) as exc:
        raise ValueError(
            f"freq must be a pandas period alias such as 'D', 'W' or 'M'; got {freq!r}."
        ) from exc

    choice = rows["choice"].to_numpy(dtype=object)
    gold = rows["gold"].to_numpy(dtype=object)
    ld = rows["length_doublings"].to_numpy(dtype=float)
    longer = np.where(np.abs(ld) >= np.log2(LENGTH_RATIO), np.where(ld > 0, "A", "B"), "")
    polished = rows["more_polished"].fillna("").to_numpy(dtype=object).astype(str)
    confidence = pd.to_numeric(rows["confidence"], errors="coerce").to_numpy(dtype=float)
    # a tie answer chose neither side: it counts in accuracy (as not agreeing) and nowhere else
    side = choice != "tie"
    longer = np.where(side, longer, "")
    polished = np.where(side, polished, "")
    confidence = np.where(side, confidence, np.nan)
    # per measure: the value of each judgment, NaN where it does not count
    values = {
        "accuracy": rows["correct"].to_numpy(dtype=float),
        "picked longer when gold was shorter": np.where(
            (longer != "") & (gold != longer), (choice == longer).astype(float), np.nan
        ),
        "picked more polished when gold was plainer": np.where(
            (polished != "") & (gold != polished), (choice == polished).astype(float), np.nan
        ),
        "mean confidence": confidence,
    }
    long = pd.concat(
        [pd.DataFrame({"period": period, "order": i, "x": values[m]}) for i, m in enumerate(MEASURES)],
        ignore_index=True,
    ).dropna(subset=["x"])
    if long.empty:
        return empty
    out = long.groupby(["period", "order"], sort=True)["x"].agg(value="mean", n="size").reset_index()
    out["measure"] = np.asarray(MEASURES, dtype=object)[out["order"].to_numpy()]
    out["period"] = out["period"].dt.tz_localize("UTC").astype("datetime64[ns, UTC]")
    out["value"] = out["value"].astype(float)
    out["n"] = out["n"].astype(np.int64)
    return out[TREND_COLUMNS]


def bias_trend(prepared: pd.DataFrame, *, min_n: int = MIN_TREND) -> pd.DataFrame:
    r"""Is each rater's length (polish) bias changing? A test of a bias x time term.

    The rater's bias model (:func:`calibration.bias.bias_by_rater`: position,
    skill per item stratum, length, polish) gains the terms
    :math:`\gamma_{len}\, \ell_i t_i + \gamma_{pol}\, \pi_i t_i / 0.5`, with
    :math:`t_i` the judgment's place in the rater's decided first answers
    (in time order) divided by :data:`TREND_PER` and centred at the rater's
    mean, so :math:`e^{\gamma}` is the factor by which the odds ratio per
    doubling (per 0.5 polish difference) changes every 100 judgments. Each
    :math:`\gamma` gets a penalized likelihood-ratio test and a profile
    interval (:func:`calibration.firth.penalized_inference`); Holm over the two.

    Only first answers count (:func:`calibration.data.first_answer_mask`): a
    repeated pair is answered from memory of its gold, which would look like
    learning. Per-period points (:func:`trend`) stay for the chart; this is
    the verdict. Inside a cohort the pairs' easiness measured on the other
    raters (columns ``easiness`` and ``easiness_var``, as
    :func:`calibration.bias.bias_by_rater` reads them) enters as the same
    known term and per-pair scale, so pairs that grow harder over a rater's
    drills, in a way that runs with their length, do not read as a change of bias.

    Validation (``tests/test_bias_targets.py``, raters of :mod:`calibration.people`
    with item difficulty, fatigue and 10% repeats, 200 judgments): a stable
    rater was told his bias changed in at most 5%; a length bias moving
    from 2.7 to 1 over 200 judgments was found in most cases.

    Parameters
    ----------
    prepared : DataFrame
        Output of :func:`calibration.data.prepare` (columns of the bias model
        and ``answered_at``), optionally with ``easiness`` and ``easiness_var``.
    min_n : int, default :data:`MIN_TREND`

    Returns
    -------
    DataFrame
        Columns :data:`BIAS_TREND_COLUMNS`, two rows (``length``, ``polish``)
        per rater: ``change_per_100_judgments`` is :math:`e^{\gamma}` with its
        95% profile interval, ``p_value`` the penalized LR test,
        ``p_adjusted`` Holm's over the two, ``significant`` ``p_adjusted <``
        0.05.

    Examples
    --------
    >>> from calibration.people import Person, llmbar_like_bank, simulate_people
    >>> from calibration.data import prepare
    >>> bank = llmbar_like_bank(600, seed=0)
    >>> fading = Person("p", length_bias=1.0, length_change=-1.0)
    >>> sim = simulate_people(bank, [fading], n_per_rater=300, seed=1)
    >>> out = bias_trend(prepare(bank, sim))
    >>> out[["effect", "significant"]].to_dict("list")
    {'effect': ['length', 'polish'], 'significant': [True, False]}
    """
    min_n = _check_min_n(min_n)
    design = _design(prepared)
    offset = _offset(design, prepared)
    raters, code, n = design["raters"], design["code"], design["n"]
    R = len(raters)
    # place of each kept row in its rater's sequence, in time order (row order for missing times)
    kept = prepared[design["kept"]]
    if "answered_at" in kept.columns:
        when = pd.to_datetime(kept["answered_at"], utc=True, errors="coerce")
        stamp = when.to_numpy(dtype="datetime64[ns]").astype("int64").astype(float)
        stamp[when.isna().to_numpy()] = np.inf
    else:
        stamp = np.zeros(len(kept))
    order = np.lexsort((np.arange(len(kept)), stamp, code))
    rank = np.empty(len(kept))
    starts = np.cumsum(np.bincount(code, minlength=R)) - np.bincount(code, minlength=R)
    rank[order] = np.arange(len(kept)) - starts[code[order]]
    t = (rank - (n[code] - 1) / 2.0) / TREND_PER
    fit_ok = n >= min_n
    with_position = fit_ok & (design["n_left"] >= min_n)
    X = design["X"]
    X[:, 0] *= with_position[code]
    interactions = np.column_stack([X[:, _COLUMN[e]] * t for e in _TREND_EFFECTS])
    design["X"] = np.column_stack([X, interactions, _gold_block(design, code, R)])
    cols = [X.shape[1], X.shape[1] + 1]
    est = {key: np.full((R, 2), np.nan) for key in ("beta", "low", "high", "p")}
    ok = np.zeros(R, dtype=bool)
    errors = np.rint(design["errors"]).astype(int)
    informative = fit_ok & (errors > 0) & (errors < n)
    for batch in _batches(np.flatnonzero(informative), n, copies=2 * len(cols)):
        Xb, yb, wb = _stack(design, batch)
        off = None if offset is None else _stack_values(design, batch, offset)
        out = penalized_inference(Xb, yb, wb, cols, offset=off)
        for key in est:
            est[key][batch] = out[key]
        ok[batch] = out["converged"] & ~out["collinear"]
    _per_pair(est, design, prepared)
    varies = np.column_stack(
        [np.bincount(code, weights=interactions[:, j] != 0, minlength=R) > 0 for j in range(2)]
    )
    good = ok[:, None] & varies & np.isfinite(est["low"]) & np.isfinite(est["high"])
    p = np.where(good, est["p"], np.nan)
    p_adj = holm(p)
    rows = []
    for i, rater in enumerate(raters):
        for j, effect in enumerate(_TREND_EFFECTS):
            change, low, high = (float(np.exp(est[k][i, j])) for k in ("beta", "low", "high"))
            significant = bool(good[i, j] and p_adj[i, j] < ALPHA)
            if not fit_ok[i]:
                summary = (
                    f"Not enough data yet to tell a change: {n[i]} decided first answers, "
                    f"at least {min_n} needed."
                )
            elif not good[i, j]:
                summary = f"Not enough evidence to tell whether your {effect} bias is changing."
            else:
                summary = _trend_sentence(effect, change, low, high, significant)
            rows.append(
                {
                    "rater": rater,
                    "effect": effect,
                    "n": int(n[i]),
                    "change_per_100_judgments": change if good[i, j] else np.nan,
                    "ci_low": low if good[i, j] else np.nan,
                    "ci_high": high if good[i, j] else np.nan,
                    "p_value": p[i, j],
                    "p_adjusted": p_adj[i, j],
                    "significant": significant,
                    "estimable": bool(good[i, j]),
                    "summary": summary,
                }
            )
    return pd.DataFrame(rows, columns=BIAS_TREND_COLUMNS)


def _trend_sentence(effect: str, change: float, low: float, high: float, significant: bool) -> str:
    more, _ = _WORDS[effect]
    span = f"{change:.2f}x per 100 judgments (95% CI {low:.2f}-{high:.2f})"
    if not significant:
        return (
            f"No clear change in your {effect} bias: the odds ratio moved {span}, consistent with no change."
        )
    direction = "toward" if change > 1 else "away from"
    return f"Your {effect} bias is changing: your choices moved {direction} {more} answers, {span}."
