"""Figures for the end of a drill: how a set of judgments went, and what each confidence would have scored.

Everything here reads prepared judgments (:func:`calibration.data.prepare`) and
returns numbers; the sentences that read them are in :mod:`training.debrief`.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from calibration.data import sided
from calibration.scoring import ranked_probability_skill

__all__ = ["NOT_A_TRAP", "SUMMARY_COLUMNS", "judgment_summary", "skill_by_confidence", "trap_misses"]

SUMMARY_COLUMNS = ("n", "n_decided", "accuracy", "score", "mean_confidence", "sided_accuracy", "seconds")
"""The figures of :func:`judgment_summary`, in order."""

NOT_A_TRAP = frozenset({"control"})
"""Tags of pairs that set no trap (a plain comparison): :func:`trap_misses` leaves them out."""


def skill_by_confidence(
    choice: str, gold: str, gold_share: float | None = None, *, confidences: Sequence[float]
) -> pd.Series:
    """What one answer would have scored at each confidence, on the leaderboard's proper score.

    The score is :func:`calibration.scoring.ranked_probability_skill` of the
    same answer (``choice``) stated with each of ``confidences``, against the
    pair's ``gold`` and the experts' split ``gold_share`` (None or NaN:
    unanimous). So it covers tie answers, gold ties and split pairs alike.

    Parameters
    ----------
    choice : {"A", "B", "tie"}
    gold : {"A", "B", "tie"}
    gold_share : float, optional
        Share of experts for gold; None or NaN when unanimous.
    confidences : sequence of float
        Confidences in [0.5, 1].

    Returns
    -------
    Series
        The skill at each confidence, indexed by the confidence.

    Examples
    --------
    >>> skill_by_confidence("A", "A", confidences=[0.5, 0.7, 1.0]).round(2).tolist()
    [0.0, 0.64, 1.0]
    >>> skill_by_confidence("B", "A", confidences=[0.5, 0.7, 1.0]).round(2).tolist()
    [0.0, -0.96, -3.0]
    """
    c = np.asarray(confidences, dtype=float)
    share = np.nan if gold_share is None else float(gold_share)
    points = ranked_probability_skill([choice] * len(c), c, [gold] * len(c), np.full(len(c), share))
    return pd.Series(points, index=pd.Index(c, name="confidence"), name="skill")


def judgment_summary(prepared: pd.DataFrame) -> pd.Series:
    """Accuracy, score, confidence and time of a set of judgments (one drill, or a week).

    Parameters
    ----------
    prepared : DataFrame
        Output of :func:`calibration.data.prepare` (any number of rows).

    Returns
    -------
    Series
        Indexed by :data:`SUMMARY_COLUMNS`:

        =================  ==========================================================
        ``n``              judgments
        ``n_decided``      of them on pairs the experts decided (gold not a tie)
        ``accuracy``       share of those that agree with gold (a tie answer does not)
        ``score``          mean ranked probability skill over the judgments with a
                           confidence (gold ties and tie answers included): the
                           leaderboard's per-answer score
        ``mean_confidence``  mean confidence of the answers that picked a side on a
                           decided pair (:func:`calibration.data.sided`)
        ``sided_accuracy``  share of those same answers that agree with gold, so
                           ``mean_confidence - sided_accuracy`` is overconfidence
        ``seconds``        median seconds from a pair shown to its answer
        =================  ==========================================================

        A figure with nothing to compute it from is NaN.

    Examples
    --------
    >>> p = pd.DataFrame({"choice": ["A", "B", "A"], "gold": ["A", "A", "tie"], "confidence": [0.9, 0.7, 0.6],
    ...                   "correct": [1.0, 0.0, np.nan], "tie": [False, False, True],
    ...                   "tie_answer": [False] * 3, "gold_share": [np.nan] * 3,
    ...                   "seconds": [10.0, 30.0, 20.0]})
    >>> judgment_summary(p).round(4).tolist()
    [3.0, 2.0, 0.5, -0.0133, 0.8, 0.5, 20.0]
    """
    decided = prepared[~prepared["tie"].astype(bool)]
    scored = prepared[prepared["confidence"].notna()]
    points = ranked_probability_skill(
        scored["choice"].to_numpy(),
        scored["confidence"].to_numpy(),
        scored["gold"].to_numpy(),
        scored["gold_share"],
    )
    on_side = sided(prepared)
    on_side = on_side[on_side["confidence"].notna()]
    values = [
        len(prepared),
        len(decided),
        _mean(decided["correct"]),
        float(points.mean()) if len(points) else np.nan,
        _mean(on_side["confidence"]),
        _mean(on_side["correct"]),
        float(prepared["seconds"].median()) if prepared["seconds"].notna().any() else np.nan,
    ]
    return pd.Series(values, index=list(SUMMARY_COLUMNS), dtype=float)


def _mean(values: pd.Series) -> float:
    return float(values.mean()) if len(values) else np.nan


def trap_misses(prepared: pd.DataFrame) -> pd.DataFrame:
    """Per trap kind: pairs answered and answers that missed gold, the kind that caught most first.

    Only decided pairs count (a gold tie has no right side); a pair with two
    trap kinds counts for both. Kinds in :data:`NOT_A_TRAP` are left out.

    Returns
    -------
    DataFrame
        Columns ``tag``, ``n`` (decided pairs of that kind), ``misses`` and
        ``miss_rate``; sorted by ``misses`` then ``miss_rate`` (both
        descending), then ``tag``. Empty (with these columns) when no decided
        pair has a trap kind.

    Examples
    --------
    >>> p = pd.DataFrame({"tags": [("length",), ("length", "polish"), ("polish",), ("control",)],
    ...                   "correct": [0.0, 0.0, 1.0, 0.0], "tie": [False] * 4})
    >>> trap_misses(p).values.tolist()
    [['length', 2, 2, 1.0], ['polish', 2, 1, 0.5]]
    """
    decided = prepared[~prepared["tie"].astype(bool)]
    rows = decided[["tags", "correct"]].explode("tags").dropna(subset=["tags"])
    rows = rows[~rows["tags"].isin(NOT_A_TRAP)]
    if rows.empty:
        return pd.DataFrame({"tag": [], "n": [], "misses": [], "miss_rate": []}).astype(
            {"tag": object, "n": int, "misses": int, "miss_rate": float}
        )
    grouped = (rows["correct"] == 0).groupby(rows["tags"]).agg(["size", "sum"])
    out = pd.DataFrame(
        {
            "tag": grouped.index.astype(str),
            "n": grouped["size"].astype(int),
            "misses": grouped["sum"].astype(int),
        }
    )
    out["miss_rate"] = out["misses"] / out["n"]
    out = out.sort_values(["misses", "miss_rate", "tag"], ascending=[False, False, True])
    return out.reset_index(drop=True)
