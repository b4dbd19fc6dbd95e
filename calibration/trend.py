"""How a rater's accuracy, biases and confidence change over time, period by period.

:func:`trend` turns prepared judgments into a tidy table with one row per
period and measure, ready for a line chart (:func:`calibration.charts.trend_chart`).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from calibration.bias import LENGTH_RATIO

__all__ = ["MEASURES", "TREND_COLUMNS", "trend"]

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
