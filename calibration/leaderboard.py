"""The cohort leaderboard, ranked by a strictly proper score so that honest confidence pays.

Score
-----
Each decided judgment with a stated confidence ``c`` earns the Brier skill over
a coin, ``1 - (c - correct)^2 / 0.25``: +1 for 100 % on a right answer, 0 for
always saying 50 %, -3 for 100 % on a wrong one. The Brier score is strictly
proper (Brier 1950; Gneiting & Raftery 2007, JASA 102:359-378): a rater
maximises their expected score only by stating the probability they really
believe, so neither bluffing nor hedging pays.

A rater's ``raw_score`` is the mean over their judgments. To keep a lucky
handful of answers from topping the board, the ranking uses ``score``, shrunk
toward the cohort mean with a prior worth ``k`` pseudo-judgments (as
Metaculus's leaderboard uses a prior of 30 questions)::

    score = (n * raw_score + k * cohort_mean) / (n + k)

Raters with fewer than ``min_n`` scored judgments are listed but not ranked.

Columns of :func:`leaderboard`: ``rank`` (1 = best; NaN when unranked),
``rater``, ``n`` (scored judgments), ``score``, ``raw_score``, ``ci_low``,
``ci_high`` (95 % t interval of ``raw_score``), ``accuracy``, ``overconfidence``
(mean confidence minus accuracy), ``length_or`` and ``polish_or`` (odds ratios
from :func:`calibration.bias.bias_by_rater`; NaN below its minimum),
``streak`` (days in a row, up to ``as_of``, with a finished drill), ``ranked``.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy import stats

from calibration.bias import bias_by_rater
from calibration.data import split_ties

PRIOR_JUDGMENTS = 30
MIN_RANKED = 20
DRILL_SIZE = 10
_EPOCH = pd.Timestamp("1970-01-01", tz="UTC")
LEADERBOARD_COLUMNS = [
    "rank",
    "rater",
    "n",
    "score",
    "raw_score",
    "ci_low",
    "ci_high",
    "accuracy",
    "overconfidence",
    "length_or",
    "polish_or",
    "streak",
    "ranked",
]


def skill_points(correct, confidence):
    """Per-judgment Brier skill over the coin: ``1 - (confidence - correct)**2 / 0.25``.

    >>> skill_points([1, 0, 1], [1.0, 1.0, 0.5]).tolist()
    [1.0, -3.0, 0.0]
    """
    c = np.asarray(confidence, dtype=float)
    y = np.asarray(correct, dtype=float)
    return 1.0 - (c - y) ** 2 / 0.25


def leaderboard(
    prepared: pd.DataFrame,
    *,
    k: float = PRIOR_JUDGMENTS,
    min_n: int = MIN_RANKED,
    drill_size: int = DRILL_SIZE,
    as_of: pd.Timestamp | None = None,
    with_bias: bool = True,
) -> pd.DataFrame:
    """Rank a cohort's raters.

    Parameters
    ----------
    prepared : DataFrame
        Output of :func:`calibration.data.prepare`.
    k : float, default 30
        Weight of the cohort mean, in pseudo-judgments.
    min_n : int, default 20
        Scored judgments needed to be ranked.
    drill_size : int, default 10
        Judgments in a day that make a finished drill, for ``streak``.
    as_of : Timestamp, optional
        The day streaks end on (default: the latest ``answered_at``). A streak
        is alive if its last finished day is ``as_of`` or the day before.
    with_bias : bool, default True
        Add ``length_or`` and ``polish_or`` (one batched bias fit).

    Returns
    -------
    DataFrame with :data:`LEADERBOARD_COLUMNS`, ranked raters first.
    """
    if k < 0:
        raise ValueError("k must be >= 0.")
    raters = pd.Index(pd.unique(prepared["rater"]), name="rater")
    decided, _ = split_ties(prepared)
    scored = decided[decided["confidence"].notna()]
    points = skill_points(scored["correct"], scored["confidence"])
    frame = pd.DataFrame(
        {
            "rater": scored["rater"].to_numpy(),
            "p": points,
            "p2": points**2,
            "c": scored["confidence"].to_numpy(),
            "y": scored["correct"].to_numpy(),
        }
    )
    g = frame.groupby("rater", sort=False).agg(
        n=("p", "size"), s=("p", "sum"), s2=("p2", "sum"), c=("c", "mean"), y=("y", "mean")
    )
    g = g.reindex(raters)
    n = g["n"].fillna(0).to_numpy()
    with np.errstate(invalid="ignore", divide="ignore"):
        raw = g["s"].to_numpy() / n
        var = (g["s2"].to_numpy() - n * raw**2) / (n - 1)
        half = stats.t.ppf(0.975, np.maximum(n - 1, 1)) * np.sqrt(np.maximum(var, 0) / n)
    half = np.where(n >= 2, half, np.nan)
    cohort_mean = frame["p"].mean() if len(frame) else np.nan
    shrunk = (np.nan_to_num(g["s"].to_numpy()) + k * cohort_mean) / (n + k)
    accuracy = decided.groupby("rater", sort=False)["correct"].mean().reindex(raters)
    out = pd.DataFrame(
        {
            "rater": raters.to_numpy(),
            "n": n.astype(int),
            "score": np.where(n > 0, shrunk, np.nan),
            "raw_score": raw,
            "ci_low": raw - half,
            "ci_high": raw + half,
            "accuracy": accuracy.to_numpy(),
            "overconfidence": (g["c"] - g["y"]).to_numpy(),
        }
    )
    if with_bias:
        bias = bias_by_rater(prepared)
        wide = bias.pivot(index="rater", columns="effect", values="odds_ratio")
        for effect in ("length", "polish"):
            col = wide[effect] if effect in wide else pd.Series(dtype=float)
            out[f"{effect}_or"] = col.reindex(raters).to_numpy()
    else:
        out["length_or"] = np.nan
        out["polish_or"] = np.nan
    out["streak"] = streaks(prepared, drill_size=drill_size, as_of=as_of).reindex(raters).fillna(0).to_numpy()
    out["streak"] = out["streak"].astype(int)
    out["ranked"] = out["n"] >= min_n
    ranked = out[out["ranked"]].sort_values(["score", "n"], ascending=[False, False], kind="stable")
    rest = out[~out["ranked"]].sort_values(["n", "rater"], ascending=[False, True], kind="stable")
    ranked = ranked.assign(rank=np.arange(1, len(ranked) + 1, dtype=float))
    rest = rest.assign(rank=np.nan)
    return pd.concat([ranked, rest], ignore_index=True)[LEADERBOARD_COLUMNS]


def streaks(
    prepared: pd.DataFrame, *, drill_size: int = DRILL_SIZE, as_of: pd.Timestamp | None = None
) -> pd.Series:
    """Days in a row, ending at ``as_of`` or the day before, with at least ``drill_size`` judgments.

    Returns a Series indexed by rater (0 without a live streak or without
    ``answered_at``).

    Examples
    --------
    >>> days = ["2026-11-18", "2026-11-19", "2026-11-20", "2026-11-16"]
    >>> j = pd.DataFrame({"rater": ["r"] * 40, "answered_at": pd.to_datetime(days * 10, utc=True)})
    >>> int(streaks(j, as_of=pd.Timestamp("2026-11-21", tz="UTC"))["r"])
    3
    """
    at = pd.to_datetime(prepared["answered_at"], utc=True, errors="coerce")
    known = at.notna().to_numpy()
    code, raters = pd.factorize(prepared["rater"], use_na_sentinel=False)  # first-appearance order
    result = pd.Series(0, index=pd.Index(raters, name="rater"))
    if not known.any():
        return result
    end = (pd.Timestamp(as_of) if as_of is not None else at.max()).tz_convert("UTC").floor("D")
    end_day = (end - _EPOCH).days
    # integer day numbers and one sort: no per-row timestamps (slow at a million judgments)
    day = (at[known] - _EPOCH).dt.days.to_numpy()
    first_day = int(day.min())
    span = int(day.max()) - first_day + 1
    keys, counts = np.unique(code[known].astype(np.int64) * span + (day - first_day), return_counts=True)
    keys = keys[counts >= drill_size]  # (rater, day) with a finished drill, sorted by rater then day
    if not len(keys):
        return result
    rater, day = keys // span, keys % span + first_day
    new_run = np.r_[True, (rater[1:] != rater[:-1]) | (np.diff(day) != 1)]
    run_start = np.flatnonzero(new_run)[np.cumsum(new_run) - 1]
    last = np.r_[np.flatnonzero(rater[1:] != rater[:-1]), len(keys) - 1]  # each rater's latest day
    alive = last[day[last] >= end_day - 1]
    result.iloc[rater[alive]] = alive - run_start[alive] + 1
    return result
