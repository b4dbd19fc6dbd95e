"""The cohort leaderboard, ranked by a strictly proper score so that honest confidence pays.

Score
-----
Each decided judgment with a stated confidence ``c`` earns the Brier skill over
a coin, ``1 - (c - correct)^2 / 0.25``: +1 for 100% on a right answer, 0 for
always saying 50%, -3 for 100% on a wrong one. The Brier score is strictly
proper (Brier 1950; Gneiting & Raftery 2007, JASA 102:359-378): a rater
maximises their expected score only by stating the probability they really
believe, so neither bluffing nor hedging pays.

That score is the two-outcome case of the one the leaderboard uses on every
judgment with a confidence, :func:`calibration.scoring.ranked_probability_skill`:
the ranked probability skill over A better, about equal, B better, expected over
the experts' split. So on a unanimous pair a side answered scores exactly as
above; on a split pair (experts 60/40) it scores the Brier skill averaged over
the experts, ``1 - 4 (c - 0.6)^2 - 0.96`` for the majority side; a tie answer
("About equally good") scores ``-c^2`` on a decided pair and ``1 - (1 - c)^2``
on a gold tie; a side answered on a gold tie scores ``-(2c - 1)^2`` (0 at 50%).
Gold ties therefore count in ``n`` and the score.

A rater's ``raw_score`` is the mean over their judgments. To keep a lucky
handful of answers from topping the board, the board shows and ranks
``score``, the empirical-Bayes estimate of the rater's true mean score
(:func:`rank_raters`): the raw mean pulled toward the cohort by as much as the
spread between raters and the rater's own number of answers call for, and
``ci_low``-``ci_high``, the 95% posterior interval *of that score*. The
interval always contains the score, stays inside the score's range
:data:`SCORE_RANGE` (-3 to 1) and never has zero width, even for 20 sure right
answers out of 20. ``raw_ci_low``-``raw_ci_high`` is the t interval of
``raw_score`` (what ``ci_low``-``ci_high`` held before).

Raters with fewer than ``min_n`` scored judgments are listed but not ranked.

Columns of :func:`leaderboard`: ``rank`` (1 = best; NaN when unranked),
``rater``, ``n`` (scored judgments), ``score``, ``raw_score``, ``ci_low``,
``ci_high`` (95% posterior interval of ``score``), ``accuracy``,
``overconfidence`` (mean confidence minus accuracy), ``length_or`` and
``polish_or`` (odds ratios from :func:`calibration.bias.bias_by_rater`; NaN
below its minimum), ``streak`` (days in a row with a finished daily drill, as
given by the caller, else estimated from timestamps), ``ranked``, then
``raw_ci_low``, ``raw_ci_high`` (95% t interval of ``raw_score``) and
``prior_judgments`` (the weight of the cohort mean in the score, in
judgments: ``score`` is about ``(n * raw_score + prior_judgments * mean) /
(n + prior_judgments)``).

Two steps, so that a live cohort need not be recomputed whole: each rater's
row of :func:`rater_scores` depends on that rater's judgments only, and
:func:`rank_raters` combines the rows (the cohort mean, the shrinkage and the
order are cheap). :func:`leaderboard` does both.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pandas as pd
from scipy import special  # not scipy.stats: it takes longer to import than pandas

from calibration.bias import bias_by_rater
from calibration.data import sided, split_ties
from calibration.scoring import ranked_probability_skill

__all__ = [
    "DRILL_SIZE",
    "SCORE_RANGE",
    "eb_scores",
    "LEADERBOARD_COLUMNS",
    "MIN_RANKED",
    "PRIOR_JUDGMENTS",
    "RATER_SCORE_COLUMNS",
    "bias_odds",
    "leaderboard",
    "rank_raters",
    "rater_scores",
    "skill_points",
    "timestamp_streaks",
]

PRIOR_JUDGMENTS = 30
"""Most weight the cohort mean can have in a rater's score, in pseudo-judgments (``k``)."""
SCORE_RANGE = (-3.0, 1.0)
"""Lowest and highest mean score per answer: every answer sure and wrong, every answer sure and right."""
PRIOR_DF = 10
"""Degrees of freedom of the cohort's per-answer variance in each rater's own (Smyth 2004)."""
VARIANCE_FLOOR = 0.25
"""Least pooled per-answer variance assumed, so a lone rater or a cohort of perfect raters still gets
intervals of honest width: about the variance of a rater right 98% of the time at 95% confidence."""
MIN_RANKED = 20
"""Scored judgments a rater needs to be ranked (``min_n``)."""
DRILL_SIZE = 10
"""Judgments a day that :func:`timestamp_streaks` counts as a finished drill."""
RATER_SCORE_COLUMNS = [
    "rater",
    "n",
    "points",
    "points_sq",
    "mean_confidence",
    "mean_correct",
    "accuracy",
    "length_or",
    "polish_or",
]
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
    "raw_ci_low",
    "raw_ci_high",
    "prior_judgments",
]


def skill_points(correct, confidence) -> np.ndarray:
    """Per-judgment Brier skill over the coin: ``1 - (confidence - correct)**2 / 0.25``.

    Parameters
    ----------
    correct : array_like of shape (n,)
        1 when the choice agrees with gold, else 0.
    confidence : array_like of shape (n,)
        Stated confidence in [0.5, 1].

    Returns
    -------
    ndarray of shape (n,)
        +1 for a sure right answer, 0 for 50%, -3 for a sure wrong one.

    Examples
    --------
    >>> skill_points([1, 0, 1], [1.0, 1.0, 0.5]).tolist()
    [1.0, -3.0, 0.0]
    """
    c = np.asarray(confidence, dtype=float)
    y = np.asarray(correct, dtype=float)
    return 1.0 - (c - y) ** 2 / 0.25


def rater_scores(
    prepared: pd.DataFrame, *, bias: pd.DataFrame | None = None, with_bias: bool = True
) -> pd.DataFrame:
    """Everything the leaderboard needs that depends on one rater's judgments only.

    Each row is computed from that rater's judgments alone, so rows of raters
    computed at different times (e.g. cached per rater while a cohort is
    drilling) can be stacked and passed to :func:`rank_raters`.

    Parameters
    ----------
    prepared : DataFrame
        Output of :func:`calibration.data.prepare`.
    bias : DataFrame, optional
        Output of :func:`calibration.bias.bias_by_rater` on the same judgments,
        when the caller has it already (the bias model is then not fitted again).
    with_bias : bool, default True
        Without ``bias``: fit the bias model for ``length_or`` and ``polish_or``
        (one batched fit), or leave them NaN.

    Returns
    -------
    DataFrame
        One row per rater, in order of first appearance, columns
        :data:`RATER_SCORE_COLUMNS`: ``rater``; ``n`` scored judgments (decided,
        with a confidence); ``points`` and ``points_sq``, the sums of their
        :func:`calibration.scoring.ranked_probability_skill` and of its squares
        (gold ties and tie answers included); ``mean_confidence`` and
        ``mean_correct`` over those that picked a side on a decided pair
        (:func:`calibration.data.sided`); ``accuracy`` over all decided
        judgments (a tie answer there counts as not agreeing);
        ``length_or`` and ``polish_or``.

    Examples
    --------
    >>> j = pd.DataFrame({"rater": ["a", "a", "b"], "confidence": [1.0, 0.5, 0.9],
    ...                   "correct": [1.0, 0.0, 1.0], "tie": False})
    >>> rater_scores(j, with_bias=False)[["rater", "n", "points", "accuracy"]]
      rater  n  points  accuracy
    0     a  2    1.00       0.5
    1     b  1    0.96       1.0
    """
    raters = pd.Index(pd.unique(prepared["rater"]), name="rater")
    decided, _ = split_ties(prepared)
    if {"choice", "gold"} <= set(prepared.columns):
        # every judgment with a confidence, scored against the experts' split over three outcomes
        scored = prepared[prepared["confidence"].notna()]
        share = scored["gold_share"] if "gold_share" in scored.columns else None
        points = ranked_probability_skill(scored["choice"], scored["confidence"], scored["gold"], share)
        sided_scored = sided(scored)
    else:  # a frame of decided outcomes only (no answers to score three ways)
        scored = decided[decided["confidence"].notna()]
        points = skill_points(scored["correct"], scored["confidence"])
        sided_scored = scored
    frame = pd.DataFrame({"rater": scored["rater"].to_numpy(), "p": points, "p2": points**2})
    g = frame.groupby("rater", sort=False).agg(n=("p", "size"), s=("p", "sum"), s2=("p2", "sum"))
    sides = pd.DataFrame(
        {
            "rater": sided_scored["rater"].to_numpy(),
            "c": sided_scored["confidence"].to_numpy(dtype=float),
            "y": sided_scored["correct"].to_numpy(dtype=float),
        }
    )
    g = g.join(sides.groupby("rater", sort=False).agg(c=("c", "mean"), y=("y", "mean")))
    g = g.reindex(raters)
    accuracy = decided.groupby("rater", sort=False)["correct"].mean().reindex(raters)
    out = pd.DataFrame(
        {
            "rater": raters.to_numpy(),
            "n": g["n"].fillna(0).to_numpy().astype(int),
            "points": g["s"].fillna(0.0).to_numpy(),
            "points_sq": g["s2"].fillna(0.0).to_numpy(),
            "mean_confidence": g["c"].to_numpy(),
            "mean_correct": g["y"].to_numpy(),
            "accuracy": accuracy.to_numpy(dtype=float),
        }
    )
    if bias is None and with_bias:
        bias = bias_by_rater(prepared)
    if bias is None:
        out["length_or"] = np.nan
        out["polish_or"] = np.nan
    else:
        odds = bias_odds(bias, raters)
        out["length_or"] = odds["length_or"].to_numpy()
        out["polish_or"] = odds["polish_or"].to_numpy()
    return out[RATER_SCORE_COLUMNS]


def bias_odds(bias: pd.DataFrame, raters) -> pd.DataFrame:
    """The length and polish odds ratios of :func:`calibration.bias.bias_by_rater`, one row per rater.

    Parameters
    ----------
    bias : DataFrame
        Output of :func:`calibration.bias.bias_by_rater`.
    raters : array_like
        The raters, in the order wanted (NaN for a rater without a fit).

    Returns
    -------
    DataFrame
        Columns ``rater``, ``length_or`` and ``polish_or``.
    """
    raters = pd.Index(raters, name="rater")
    wide = bias.pivot(index="rater", columns="effect", values="odds_ratio")
    out = pd.DataFrame({"rater": raters.to_numpy()})
    for effect in ("length", "polish"):
        col = wide[effect] if effect in wide else pd.Series(dtype=float)
        out[f"{effect}_or"] = col.reindex(raters).to_numpy(dtype=float)
    return out


def eb_scores(
    n: np.ndarray, points: np.ndarray, points_sq: np.ndarray, *, k: float = PRIOR_JUDGMENTS
) -> pd.DataFrame:
    """Empirical-Bayes scores of raters and their 95% posterior intervals, inside :data:`SCORE_RANGE`.

    Normal-normal empirical Bayes (Efron & Morris 1975) on the score scale,
    with the true mean score bounded to its range:

    1. Each rater's raw mean :math:`\\bar x_i` has sampling variance
       :math:`v_i = \\tilde s_i^2 / n_i`, where :math:`\\tilde s_i^2` is the
       rater's per-answer variance moderated toward the cohort's pooled one
       with :data:`PRIOR_DF` degrees of freedom (Smyth 2004), so a rater right
       20 times of 20 is not taken to have no variance. The pooled variance is
       at least :data:`VARIANCE_FLOOR`.
    2. The true means :math:`\\theta_i` vary across the cohort as
       :math:`N(\\mu, \\tau^2)`; :math:`\\tau^2` is the DerSimonian-Laird
       method-of-moments estimate, floored at the pooled variance over ``k``
       so that the cohort mean never weighs more than ``k`` answers (with
       one or two raters the floor is the estimate); :math:`\\mu` is the
       precision-weighted mean.
    3. Each rater's posterior is that normal prior, cut to
       :data:`SCORE_RANGE` (a mean score cannot leave it), times the normal
       likelihood of :math:`\\bar x_i`: a normal with mean
       :math:`m_i = (\\bar x_i / v_i + \\mu / \\tau^2) / (1 / v_i + 1 / \\tau^2)`
       and variance :math:`1 / (1 / v_i + 1 / \\tau^2)`, truncated to the
       range. ``score`` is its mean, ``ci_low``, ``ci_high`` its 2.5% and
       97.5% quantiles. A truncated normal is log-concave, so its mean lies
       between its 37% and 63% quantiles: always inside the interval.

    Parameters
    ----------
    n, points, points_sq : array_like of shape (R,)
        Each rater's number of scored answers, the sum of their scores and of
        the squared scores (:func:`rater_scores`).
    k : float, default 30
        Most weight of the cohort mean, in answers (:data:`PRIOR_JUDGMENTS`).

    Returns
    -------
    DataFrame
        One row per rater, columns ``score``, ``ci_low``, ``ci_high`` and
        ``prior_judgments`` (the cohort mean's weight in answers,
        :math:`\\tilde s_i^2 / \\tau^2`); NaN for raters without answers.

    References
    ----------
    Efron, B., & Morris, C. (1975). Data analysis using Stein's estimator and
    its generalizations. JASA 70(350), 311-319.
    DerSimonian, R., & Laird, N. (1986). Meta-analysis in clinical trials.
    Controlled Clinical Trials 7(3), 177-188.
    Smyth, G. K. (2004). Linear models and empirical Bayes methods for
    assessing differential expression in microarray experiments. Statistical
    Applications in Genetics and Molecular Biology 3(1), article 3.

    Examples
    --------
    Twenty sure right answers, beside two ordinary raters:

    >>> out = eb_scores([20, 40, 40], [20.0, 16.0, 8.0], [20.0, 30.0, 28.0])
    >>> out.round(3)
       score  ci_low  ci_high  prior_judgments
    0  0.918   0.778    0.997            0.971
    1  0.410   0.182    0.639            3.205
    2  0.227  -0.011    0.466            3.517
    """
    n = np.asarray(n, dtype=float)
    s = np.asarray(points, dtype=float)
    ss = np.asarray(points_sq, dtype=float)
    lo, hi = SCORE_RANGE
    has = n > 0
    with np.errstate(invalid="ignore", divide="ignore"):
        raw = np.where(has, s / np.where(has, n, 1), np.nan)
        within = np.where(n > 1, np.maximum(ss - n * np.nan_to_num(raw) ** 2, 0.0), 0.0)
    df = np.maximum(n - 1, 0)
    pooled = within.sum() / df.sum() if df.sum() > 0 else VARIANCE_FLOOR
    pooled = max(pooled, VARIANCE_FLOOR)
    own = (PRIOR_DF * pooled + within) / (PRIOR_DF + df)  # moderated per-answer variance
    v = np.where(has, own / np.where(has, n, 1), np.inf)
    tau2 = pooled / k if k > 0 else np.inf
    w = np.where(has, 1 / v, 0.0)
    if has.sum() >= 3 and np.isfinite(tau2):
        mean_w = np.sum(w * np.nan_to_num(raw)) / w.sum()
        q = np.sum(w * (np.nan_to_num(raw) - mean_w) ** 2)
        c = w.sum() - np.sum(w**2) / w.sum()
        tau2 = max(tau2, (q - (has.sum() - 1)) / c)
    if has.any() and np.isfinite(tau2):
        weights = np.where(has, 1 / (tau2 + v), 0.0)
        mu = np.sum(weights * np.nan_to_num(raw)) / weights.sum()
    else:  # no rater, or no prior (k = 0): the cohort mean does not enter
        mu = 0.0
    with np.errstate(invalid="ignore", divide="ignore"):
        precision = 1 / v + 1 / tau2
        m = (np.nan_to_num(raw) / v + mu / tau2) / precision
        sd = np.sqrt(1 / precision)
        a, b = (lo - m) / sd, (hi - m) / sd
        below, above = special.ndtr(a), special.ndtr(b)
        mass = above - below
        mean = m + sd * (_phi(a) - _phi(b)) / mass

        def quantile(u: float) -> np.ndarray:
            return np.clip(m + sd * special.ndtri(below + u * mass), lo, hi)

        out = pd.DataFrame(
            {
                "score": np.clip(mean, lo, hi),
                "ci_low": quantile(0.025),
                "ci_high": quantile(0.975),
                "prior_judgments": own / tau2,
            }
        )
    return out.where(np.repeat(has[:, None], out.shape[1], axis=1))


def _phi(x: np.ndarray) -> np.ndarray:
    """Standard normal density (0 at infinity)."""
    return np.exp(-0.5 * np.square(x)) / np.sqrt(2 * np.pi)


def rank_raters(
    scores: pd.DataFrame,
    *,
    k: float = PRIOR_JUDGMENTS,
    min_n: int = MIN_RANKED,
    streaks: Mapping[str, int] | None = None,
) -> pd.DataFrame:
    """Score each rater by empirical Bayes (:func:`eb_scores`) and rank.

    The cohort's spread and mean (:func:`eb_scores`) are the only quantities
    that mix raters, computed from the rows' sums, so re-ranking after one
    rater's row changed is cheap.

    Parameters
    ----------
    scores : DataFrame
        Rows of :func:`rater_scores` (:data:`RATER_SCORE_COLUMNS`), one per rater.
    k : float, default 30
        Most weight of the cohort mean, in pseudo-judgments.
    min_n : int, default 20
        Scored judgments needed to be ranked.
    streaks : mapping of str to int, optional
        Each rater's streak in days; raters missing from it get 0.

    Returns
    -------
    DataFrame with :data:`LEADERBOARD_COLUMNS`, ranked raters first (best
    first), then the unranked by number of judgments.

    Raises
    ------
    ValueError
        If ``k`` is negative.
    """
    if k < 0:
        raise ValueError("k must be >= 0.")
    n = scores["n"].to_numpy(dtype=float)
    s = scores["points"].to_numpy(dtype=float)
    ss = scores["points_sq"].to_numpy(dtype=float)
    with np.errstate(invalid="ignore", divide="ignore"):
        raw = s / n
        var = (ss - n * raw**2) / (n - 1)
        half = special.stdtrit(np.maximum(n - 1, 1), 0.975) * np.sqrt(np.maximum(var, 0) / n)
    raw = np.where(n > 0, raw, np.nan)
    half = np.where(n >= 2, half, np.nan)
    eb = eb_scores(n, s, ss, k=k)
    out = pd.DataFrame(
        {
            "rater": scores["rater"].to_numpy(),
            "n": n.astype(int),
            "score": eb["score"].to_numpy(),
            "raw_score": raw,
            "ci_low": eb["ci_low"].to_numpy(),
            "ci_high": eb["ci_high"].to_numpy(),
            "accuracy": scores["accuracy"].to_numpy(dtype=float),
            "overconfidence": (scores["mean_confidence"] - scores["mean_correct"]).to_numpy(dtype=float),
            "length_or": scores["length_or"].to_numpy(dtype=float),
            "polish_or": scores["polish_or"].to_numpy(dtype=float),
            "raw_ci_low": raw - half,
            "raw_ci_high": raw + half,
            "prior_judgments": eb["prior_judgments"].to_numpy(),
        }
    )
    given = streaks or {}
    out["streak"] = np.array([int(given.get(r, 0)) for r in out["rater"]], dtype=int)
    out["ranked"] = out["n"] >= min_n
    ranked = out[out["ranked"]].sort_values(["score", "n"], ascending=[False, False], kind="stable")
    rest = out[~out["ranked"]].sort_values(["n", "rater"], ascending=[False, True], kind="stable")
    ranked = ranked.assign(rank=np.arange(1, len(ranked) + 1, dtype=float))
    rest = rest.assign(rank=np.nan)
    return pd.concat([ranked, rest], ignore_index=True)[LEADERBOARD_COLUMNS]


def leaderboard(
    prepared: pd.DataFrame,
    *,
    k: float = PRIOR_JUDGMENTS,
    min_n: int = MIN_RANKED,
    streaks: Mapping[str, int] | None = None,
    drill_size: int = DRILL_SIZE,
    as_of: pd.Timestamp | None = None,
    bias: pd.DataFrame | None = None,
    with_bias: bool = True,
) -> pd.DataFrame:
    """Rank a cohort's raters.

    ``rank_raters(rater_scores(prepared), ...)``, with streaks from ``streaks``
    or, without it, from the judgments' timestamps.

    Parameters
    ----------
    prepared : DataFrame
        Output of :func:`calibration.data.prepare`.
    k : float, default 30
        Most weight of the cohort mean, in pseudo-judgments (:func:`eb_scores`).
    min_n : int, default 20
        Scored judgments needed to be ranked.
    streaks : mapping of str to int, optional
        Each rater's streak of finished daily drills, by rater (the app
        passes ``training.drills.cohort_streaks``, counted over all time even
        when ``prepared`` holds one week). Raters missing from it get 0.
        Without it, streaks are estimated from ``answered_at`` by
        :func:`timestamp_streaks` (``drill_size`` and ``as_of``): the fallback
        for judgments that come without their drills, e.g. from a CSV file.
    drill_size : int, default 10
        For the fallback only: judgments in a day that count as a finished drill.
    as_of : Timestamp, optional
        For the fallback only: the day streaks end on (default: the latest
        ``answered_at``).
    bias : DataFrame, optional
        Output of :func:`calibration.bias.bias_by_rater` on ``prepared``, to
        reuse instead of fitting the bias model again.
    with_bias : bool, default True
        Without ``bias``: add ``length_or`` and ``polish_or`` (one batched
        bias fit), or leave them NaN.

    Returns
    -------
    DataFrame with :data:`LEADERBOARD_COLUMNS`, ranked raters first.

    Raises
    ------
    ValueError
        If ``k`` is negative.
    """
    if k < 0:
        raise ValueError("k must be >= 0.")
    scores = rater_scores(prepared, bias=bias, with_bias=with_bias)
    if streaks is None:
        streaks = timestamp_streaks(prepared, drill_size=drill_size, as_of=as_of).to_dict()
    return rank_raters(scores, k=k, min_n=min_n, streaks=streaks)


def timestamp_streaks(
    prepared: pd.DataFrame, *, drill_size: int = DRILL_SIZE, as_of: pd.Timestamp | None = None
) -> pd.Series:
    """Days in a row, ending at ``as_of`` or the day before, with at least ``drill_size`` judgments.

    An estimate of the drill streak from timestamps alone, for judgments that
    come without their drills (a CSV file). It is wrong when the cohort's drill
    size is not ``drill_size`` or when ``prepared`` is cut to a period; the app
    counts finished drills in its database instead
    (``training.drills.cohort_streaks``).

    Parameters
    ----------
    prepared : DataFrame
        Columns ``rater`` and ``answered_at``.
    drill_size : int, default 10
        Judgments in a UTC day that count as a finished drill.
    as_of : Timestamp, optional
        The day streaks end on (default: the latest ``answered_at``). A streak
        is alive if its last finished day is ``as_of`` or the day before.

    Returns
    -------
    Series
        Indexed by rater (first-appearance order); 0 without a live streak or
        without ``answered_at``.

    Examples
    --------
    >>> days = ["2026-11-18", "2026-11-19", "2026-11-20", "2026-11-16"]
    >>> j = pd.DataFrame({"rater": ["r"] * 40, "answered_at": pd.to_datetime(days * 10, utc=True)})
    >>> int(timestamp_streaks(j, as_of=pd.Timestamp("2026-11-21", tz="UTC"))["r"])
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
