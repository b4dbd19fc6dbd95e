"""Accuracy and bias per track: the figures of each rater on each domain of the bank.

A track is a ``domain`` of the bank (``coding``, ``law``, ...). Judgments are
grouped by the domain of their pair; a pair without a domain counts under
:data:`NO_DOMAIN`.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pandas as pd

from calibration.bias import EFFECTS, bias_by_rater
from calibration.data import split_ties
from calibration.intervals import wilson_interval

__all__ = ["NO_DOMAIN", "TRACK_COLUMNS", "track_accuracy"]

NO_DOMAIN = "(no domain)"
"""The track of judgments on pairs without a domain."""

TRACK_COLUMNS = [
    "rater",
    "track",
    "n",
    "correct",
    "accuracy",
    "ci_low",
    "ci_high",
    *[f"{effect}_{key}" for effect in EFFECTS for key in ("or", "ci_low", "ci_high", "significant")],
]
"""Columns of :func:`track_accuracy`."""


def track_accuracy(prepared: pd.DataFrame, domains: Mapping[str, str] | pd.Series) -> pd.DataFrame:
    """Each rater's accuracy and length, polish and position bias on each track.

    Accuracy is the share of decided judgments (gold not a tie) that agree with
    gold, with its Wilson 95 % interval (:func:`calibration.intervals.wilson_interval`).
    Bias is the odds ratio of :func:`calibration.bias.bias_by_rater` fitted on
    the rater's judgments of that track alone, with its Wald 95 % interval and
    whether it is significant; NaN (and not significant) below the model's
    minimum of decided judgments, so a track needs some 30 judgments before
    its bias is estimated.

    Parameters
    ----------
    prepared : DataFrame
        Output of :func:`calibration.data.prepare`, one rater or many.
    domains : mapping or Series of str
        The domain of each pair, by pair id (e.g. the bank's ``domain`` column
        indexed by ``id``); a pair missing from it, or with an empty domain,
        counts under :data:`NO_DOMAIN`.

    Returns
    -------
    DataFrame
        Columns :data:`TRACK_COLUMNS`: one row per rater and track with
        judgments (ties included in none of the figures, a track of only ties
        has ``n = 0``), raters in order of first appearance, tracks by name.
        ``{effect}_or`` is the odds ratio of ``length``, ``polish`` and
        ``position``; ``{effect}_ci_low``/``{effect}_ci_high`` its interval.

    Examples
    --------
    >>> from calibration.data import prepare
    >>> from calibration.simulate import synthetic_bank
    >>> bank = synthetic_bank(4, seed=0)  # gold A, B, B, A
    >>> judged = prepare(bank, pd.DataFrame({"rater": "r1", "pair_id": bank["id"], "choice": "A"}))
    >>> out = track_accuracy(judged, {"syn-00001": "law", "syn-00002": "law", "syn-00003": "math"})
    >>> out[["track", "n", "correct", "accuracy"]].to_dict("list")  # doctest: +NORMALIZE_WHITESPACE
    {'track': ['(no domain)', 'law', 'math'], 'n': [1, 2, 1], 'correct': [1, 1, 0],
     'accuracy': [1.0, 0.5, 0.0]}
    """
    missing = [c for c in ("rater", "pair_id", "tie", "correct") if c not in prepared.columns]
    if missing:
        raise ValueError(
            f"prepared lacks the column(s) {missing}; pass judgments prepared by calibration.data.prepare."
        )
    mapping = pd.Series(domains, dtype=object) if not isinstance(domains, pd.Series) else domains
    track = prepared["pair_id"].astype(str).map(mapping.astype(object)).fillna("").astype(str).str.strip()
    track = track.mask(track == "", NO_DOMAIN)
    if prepared.empty:
        return pd.DataFrame({c: pd.Series(dtype=object) for c in TRACK_COLUMNS})
    frame = prepared.assign(track=track.to_numpy(dtype=object))
    cells = frame[["rater", "track"]].drop_duplicates()
    cells = cells.assign(order=pd.Index(pd.unique(frame["rater"])).get_indexer(cells["rater"]))
    cells = cells.sort_values(["order", "track"], kind="stable").drop(columns="order").reset_index(drop=True)

    decided, _ = split_ties(frame)
    keys = pd.MultiIndex.from_frame(cells)
    code = keys.get_indexer(pd.MultiIndex.from_frame(decided[["rater", "track"]]))
    n = np.bincount(code, minlength=len(cells))
    k = np.rint(np.bincount(code, weights=decided["correct"].to_numpy(dtype=float), minlength=len(cells)))
    low, high = wilson_interval(k, n)
    with np.errstate(invalid="ignore", divide="ignore"):
        accuracy = np.where(n > 0, k / np.maximum(n, 1), np.nan)
    out = cells.assign(n=n, correct=k.astype(int), accuracy=accuracy, ci_low=low, ci_high=high)
    return out.join(_bias_by_cell(frame, cells))[TRACK_COLUMNS]


def _bias_by_cell(frame: pd.DataFrame, cells: pd.DataFrame) -> pd.DataFrame:
    """The bias columns of each (rater, track) cell, one batched fit with each cell as a rater."""
    label = np.arange(len(cells)).astype(str)
    cell_of = pd.Series(label, index=pd.MultiIndex.from_frame(cells))
    relabelled = frame.assign(
        rater=cell_of.reindex(pd.MultiIndex.from_frame(frame[["rater", "track"]])).to_numpy()
    )
    bias = bias_by_rater(relabelled)
    wide = {}
    for effect in EFFECTS:
        one = bias[bias["effect"] == effect].set_index("rater").reindex(label)
        wide[f"{effect}_or"] = one["odds_ratio"].to_numpy(dtype=float)
        wide[f"{effect}_ci_low"] = one["ci_low"].to_numpy(dtype=float)
        wide[f"{effect}_ci_high"] = one["ci_high"].to_numpy(dtype=float)
        wide[f"{effect}_significant"] = one["significant"].fillna(False).to_numpy(dtype=bool)
    return pd.DataFrame(wide)
