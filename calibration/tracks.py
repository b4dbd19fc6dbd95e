"""Accuracy and bias per track: the figures of each rater, and of the cohort, on each domain of the bank.

A track is a ``domain`` of the bank (``coding``, ``law``, ...). Judgments are
grouped by the domain of their pair; a pair without a domain counts under
:data:`NO_DOMAIN`. :func:`track_accuracy` gives each rater's figures,
:func:`cohort_track_accuracy` the cohort's (its counts are the sums of the
raters' counts; its bias is the pooled model of
:func:`calibration.bias.pooled_bias` on each track), and :func:`bank_domains`
says which banks have tracks at all.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pandas as pd

from calibration.bias import EFFECTS, bias_by_rater, pooled_bias
from calibration.intervals import wilson_interval

__all__ = [
    "COHORT_TRACK_COLUMNS",
    "NO_DOMAIN",
    "TRACK_COLUMNS",
    "bank_domains",
    "cohort_track_accuracy",
    "track_accuracy",
]

NO_DOMAIN = "(no domain)"
"""The track of judgments on pairs without a domain."""

_BIAS_COLUMNS = [
    f"{effect}_{key}" for effect in EFFECTS for key in ("or", "ci_low", "ci_high", "significant")
]

TRACK_COLUMNS = ["rater", "track", "n", "correct", "accuracy", "ci_low", "ci_high", *_BIAS_COLUMNS]
"""Columns of :func:`track_accuracy`."""

COHORT_TRACK_COLUMNS = ["track", "n_raters", "n", "correct", "accuracy", "ci_low", "ci_high", *_BIAS_COLUMNS]
"""Columns of :func:`cohort_track_accuracy`."""


def bank_domains(bank: pd.DataFrame) -> pd.Series | None:
    """The domain of each pair of a bank, by pair id; None when no pair has one.

    A bank without domains has no tracks: a report built from it has no track
    figures rather than one track, :data:`NO_DOMAIN`, repeating the overall ones.

    Parameters
    ----------
    bank : DataFrame
        A pair bank (``pairs.bank`` columns; ``domain`` may be absent).

    Returns
    -------
    Series of str or None
        ``domain`` indexed by ``id`` (empty where a pair has none), for
        :func:`track_accuracy`'s ``domains``; None when no pair has a domain.

    Examples
    --------
    >>> bank_domains(pd.DataFrame({"id": ["p1", "p2"], "domain": ["law", ""]})).to_dict()
    {'p1': 'law', 'p2': ''}
    >>> bank_domains(pd.DataFrame({"id": ["p1"], "domain": [None]})) is None
    True
    """
    if "domain" not in bank.columns:
        return None
    domain = bank["domain"].fillna("").astype(str).str.strip()
    if not domain.ne("").any():
        return None
    return pd.Series(domain.to_numpy(dtype=object), index=bank["id"].astype(str).to_numpy(), name="domain")


def track_accuracy(
    prepared: pd.DataFrame, domains: Mapping[str, str] | pd.Series, *, bias: pd.DataFrame | None = None
) -> pd.DataFrame:
    """Each rater's accuracy and length, polish and position bias on each track.

    Accuracy is the share of decided judgments (gold not a tie) that agree with
    gold, with its Wilson 95% interval (:func:`calibration.intervals.wilson_interval`).
    Bias is the odds ratio of :func:`calibration.bias.bias_by_rater` fitted on
    the rater's judgments of that track alone, with its Wald 95% interval and
    whether it is significant; NaN (and not significant) below the model's
    minimum of decided judgments, so a track needs some 30 judgments before
    its bias is estimated. The fits of all (rater, track) cells are one batched
    fit, each cell as a rater.

    Parameters
    ----------
    prepared : DataFrame
        Output of :func:`calibration.data.prepare`, one rater or many.
    domains : mapping or Series of str
        The domain of each pair, by pair id (e.g. the bank's ``domain`` column
        indexed by ``id``); a pair missing from it, or with an empty domain,
        counts under :data:`NO_DOMAIN`.
    bias : DataFrame, optional
        ``bias_by_rater(prepared)``, when the caller has it: a rater whose
        judgments are all on one track has that fit as their track's, which is
        then not fitted again (the same judgments give the same fit).

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
    track = _track_of(prepared, domains)
    if prepared.empty:
        return pd.DataFrame({c: pd.Series(dtype=object) for c in TRACK_COLUMNS})
    rater_code, raters = pd.factorize(prepared["rater"], use_na_sentinel=False)  # first appearance
    track_code, names = pd.factorize(track, sort=True, use_na_sentinel=False)
    cell_ids, cell = np.unique(rater_code * len(names) + track_code, return_inverse=True)
    cell_rater = cell_ids // len(names)
    cells = pd.DataFrame(
        {
            "rater": np.asarray(raters, dtype=object)[cell_rater],
            "track": np.asarray(names, dtype=object)[cell_ids % len(names)],
        }
    )
    decided = ~prepared["tie"].to_numpy(dtype=bool)
    right = prepared["correct"].to_numpy(dtype=float)[decided]
    n = np.bincount(cell[decided], minlength=len(cells))
    k = np.rint(np.bincount(cell[decided], weights=right, minlength=len(cells)))
    out = cells.assign(n=n, correct=k.astype(int), **_accuracy(k, n))
    alone = None
    if bias is not None:  # a rater with one track: that track's fit is the rater's own
        alone = np.bincount(cell_rater, minlength=len(raters))[cell_rater] == 1
    return out.join(_bias_by_cell(prepared, cell, cells, bias=bias, alone=alone))[TRACK_COLUMNS]


def cohort_track_accuracy(
    prepared: pd.DataFrame,
    domains: Mapping[str, str] | pd.Series,
    *,
    by_rater: pd.DataFrame | None = None,
    pooled: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """The cohort's accuracy and length, polish and position bias on each track.

    Accuracy pools the raters: on each track, the decided judgments ``n`` and
    the right answers ``correct`` are the sums of the raters' counts of
    :func:`track_accuracy`, the accuracy is their ratio (each judgment weighs
    the same, so a rater with many answers weighs more) and its interval is
    Wilson's on the pooled counts. Bias is the cohort model of
    :func:`calibration.bias.pooled_bias` fitted on the track's judgments: one
    coefficient per effect for all raters, cluster-robust (by rater) Wald
    interval with Student's t; NaN below 30 decided judgments or 2 raters.

    Parameters
    ----------
    prepared : DataFrame
        Output of :func:`calibration.data.prepare`.
    domains : mapping or Series of str
        The domain of each pair, by pair id, as for :func:`track_accuracy`.
    by_rater : DataFrame, optional
        ``track_accuracy(prepared, domains)``, when the caller has it (it is
        computed otherwise).
    pooled : DataFrame, optional
        ``pooled_bias(prepared)``, when the caller has it: with a single track
        it is that track's fit (the same judgments), which is then not fitted again.

    Returns
    -------
    DataFrame
        Columns :data:`COHORT_TRACK_COLUMNS`, one row per track with judgments,
        by name; ``n_raters`` counts the raters with judgments on the track.

    Examples
    --------
    >>> from calibration.data import prepare
    >>> from calibration.simulate import synthetic_bank
    >>> bank = synthetic_bank(4, seed=0)  # gold A, B, B, A
    >>> answers = {"rater": ["r1"] * 4 + ["r2"] * 4, "pair_id": list(bank["id"]) * 2}
    >>> judged = prepare(bank, pd.DataFrame({**answers, "choice": ["A"] * 4 + ["B"] * 4}))
    >>> domains = pd.Series(["law", "law", "math", "math"], index=bank["id"])
    >>> out = cohort_track_accuracy(judged, domains)  # r1 right on pairs 1 and 4, r2 on 2 and 3
    >>> out[["track", "n_raters", "n", "correct", "accuracy"]].to_dict("list")
    {'track': ['law', 'math'], 'n_raters': [2, 2], 'n': [4, 4], 'correct': [2, 2], 'accuracy': [0.5, 0.5]}
    """
    track = _track_of(prepared, domains)
    if by_rater is None:
        by_rater = track_accuracy(prepared, domains)
    if by_rater.empty:
        return pd.DataFrame({c: pd.Series(dtype=object) for c in COHORT_TRACK_COLUMNS})
    grouped = by_rater.groupby("track", sort=True)
    n = grouped["n"].sum()
    k = grouped["correct"].sum()
    out = pd.DataFrame(
        {
            "track": n.index.to_numpy(dtype=object),
            "n_raters": grouped.size().to_numpy(),
            "n": n.to_numpy(),
            "correct": k.to_numpy(),
            **_accuracy(k.to_numpy(dtype=float), n.to_numpy()),
        }
    )
    if pooled is not None and len(out) == 1:
        fits = pooled.assign(rater=out["track"].iloc[0])
    else:
        fits = pooled_bias(prepared, by=track)  # one design matrix, a model per track
    return out.join(pd.DataFrame(_wide(fits, out["track"].to_numpy())))[COHORT_TRACK_COLUMNS]


def _track_of(prepared: pd.DataFrame, domains: Mapping[str, str] | pd.Series) -> np.ndarray:
    """The track of each judgment: its pair's domain, :data:`NO_DOMAIN` where it has none."""
    missing = [c for c in ("rater", "pair_id", "tie", "correct") if c not in prepared.columns]
    if missing:
        raise ValueError(
            f"prepared lacks the column(s) {missing}; pass judgments prepared by calibration.data.prepare."
        )
    mapping = pd.Series(domains, dtype=object) if not isinstance(domains, pd.Series) else domains
    codes, pair_ids = pd.factorize(prepared["pair_id"].astype(str))  # each pair looked up once
    looked_up = pd.Series(pair_ids).map(mapping.astype(object)).fillna("").astype(str).str.strip()
    track = looked_up.mask(looked_up == "", NO_DOMAIN).to_numpy(dtype=object)
    return track[codes] if len(codes) else np.array([], dtype=object)


def _accuracy(k: np.ndarray, n: np.ndarray) -> dict[str, np.ndarray]:
    """``accuracy`` (NaN where ``n`` is 0) and its Wilson interval, from right answers ``k`` of ``n``."""
    low, high = wilson_interval(k, n)
    with np.errstate(invalid="ignore", divide="ignore"):
        accuracy = np.where(n > 0, k / np.maximum(n, 1), np.nan)
    return {"accuracy": accuracy, "ci_low": low, "ci_high": high}


def _bias_by_cell(
    prepared: pd.DataFrame,
    cell: np.ndarray,
    cells: pd.DataFrame,
    *,
    bias: pd.DataFrame | None,
    alone: np.ndarray | None,
) -> pd.DataFrame:
    """The bias columns of each (rater, track) cell: the rater's own fit where ``alone``, else fitted."""
    wide = {c: np.full(len(cells), np.nan) for c in _BIAS_COLUMNS}
    for effect in EFFECTS:
        wide[f"{effect}_significant"] = np.zeros(len(cells), dtype=bool)
    fit = np.ones(len(cells), dtype=bool) if alone is None else ~alone
    if fit.any():
        rows = fit[cell]
        one_each = bias_by_rater(prepared[rows].assign(rater=cell[rows]))  # each cell as a rater
        for column, values in _wide(one_each, np.flatnonzero(fit).astype(str)).items():
            wide[column][fit] = values
    if bias is not None and alone is not None and alone.any():
        for column, values in _wide(bias, cells["rater"].to_numpy()[alone].astype(str)).items():
            wide[column][alone] = values
    return pd.DataFrame(wide)


def _wide(bias: pd.DataFrame, labels) -> dict[str, np.ndarray]:
    """The rows of a long bias table (:data:`calibration.bias.BIAS_COLUMNS`) as ``{effect}_*`` arrays, in
    the order of ``labels`` (its ``rater`` values, as text)."""
    by_label = bias.assign(rater=bias["rater"].astype(str))
    wide = {}
    for effect in EFFECTS:
        one = by_label[by_label["effect"] == effect].set_index("rater").reindex(labels)
        wide[f"{effect}_or"] = one["odds_ratio"].to_numpy(dtype=float)
        wide[f"{effect}_ci_low"] = one["ci_low"].to_numpy(dtype=float)
        wide[f"{effect}_ci_high"] = one["ci_high"].to_numpy(dtype=float)
        wide[f"{effect}_significant"] = one["significant"].fillna(False).to_numpy(dtype=bool)
    return wide
