"""Joining judgments to the bank: one analysis-ready row per judgment.

Judgments arrive in the CSV layout of the judgment store::

    rater, pair_id, choice, confidence, left, answered_at, seconds

``choice`` and ``left`` name responses by identity (``"A"``/``"B"``), whichever
side they were shown on; ``choice`` may also be ``"tie"`` ("About equally
good", where the cohort offers it), and ``confidence`` (in [0.5, 1]) is then the
rater's confidence that the two are about equal. ``confidence``,
``left``, ``answered_at`` and ``seconds`` may be absent or empty: statistics that
need them then report "not estimable" instead of inventing values.

:func:`prepare` returns these columns (one row per judgment):

=====================  ==============================================================
column                 meaning
=====================  ==============================================================
``rater``              rater id (str)
``pair_id``            pair id (str)
``choice``             ``"A"``, ``"B"`` or ``"tie"`` (a tie answer)
``confidence``         float in [0.5, 1] or NaN
``left``               ``"A"``, ``"B"`` or ``None`` (side shown on the left unknown)
``answered_at``        timestamp (UTC) or NaT
``seconds``            float or NaN: time spent on the item
``gold``               ``"A"``, ``"B"`` or ``"tie"``
``tie``                True when gold is ``"tie"``: such judgments have no right
                       answer and are left out of accuracy, calibration and bias
                       (see :func:`split_ties`)
``correct``            1.0 when ``choice == gold``, 0.0 when not, NaN on ties;
                       a tie answer on a decided pair is 0.0 (it did not agree
                       with the experts' majority)
``gold_share``         share of experts for gold (the bank's ``gold_confidence``),
                       NaN when unknown (taken as unanimous)
``split``              True when ``gold_share < 1``: the experts disagreed
``tie_answer``         True when ``choice`` is ``"tie"``
``tags``               tuple of the pair's trap kinds
``source``             the pair's ``source`` in the bank (``""`` when the bank has none):
                       with the ``adversarial`` tag, the item strata of the bias model
``length_doublings``   ``log2((words_a + 1) / (words_b + 1))``, A minus B
``polish_diff``        ``(polish_a - polish_b) / (polish_a + polish_b + 1)``
``longer``             ``"A"``, ``"B"`` or ``""`` (same word count)
``more_polished``      ``"A"``, ``"B"`` or ``""`` (same polish)
``probe``              ``""`` for an ordinary pair, else the probe's kind
                       (``"polish"``, ``"padding"``, ``"authority"``); ``""`` when
                       the bank has no ``probe`` column
``probe_of``           the probe's base pair id (``""`` for an ordinary pair)
``styled``             ``"A"`` or ``"B"``, the probe's restyled response (``""`` for
                       an ordinary pair)
``form``               ``""`` for an ordinary (drill) answer, else the assessment
                       stage it was given in: ``"pre"``, ``"post"`` or
                       ``"retention"`` (:mod:`calibration.effect`); ``""`` when
                       the judgments have no ``form`` column
=====================  ==============================================================

Probes (``calibration.probes``) are pairs derived from a base pair by
restyling one response. They count in accuracy, calibration and scores like
any pair with a gold, but stay out of the bias models and the plain rates
(:func:`ordinary_mask`): those regress on pairs that differ in many ways at
once, and a probe repeats its base's content, which would count it twice; the
probe measure (:func:`calibration.probes.probe_rates`) is the one designed for them.

How split pairs and tie answers count
-------------------------------------
* **Accuracy** counts agreement with the experts' majority (``gold``) on decided
  pairs, whatever the split; a tie answer there counts as not agreeing. Gold
  ties stay out of accuracy, as before; tie answers on them are counted apart.
* **Calibration** (confidence against ``correct``) uses decided pairs with a
  side answered: a tie answer's confidence is about "equal", not about a side,
  so it is left out (:func:`sided`).
* **Bias models** and agreement use the same rows: a tie answer chose neither
  side, so it says nothing about length, polish or position.
* **The leaderboard's score** is the ranked probability skill
  (:func:`calibration.scoring.ranked_probability_skill`), expected over the
  experts' split, on every judgment with a confidence, gold ties and tie
  answers included.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from pairs.features import pair_features
from pairs.judgments import COLUMNS as JUDGMENT_COLUMNS  # the judgment columns, defined once

__all__ = [
    "BANK_SEPARATOR",
    "JUDGMENT_COLUMNS",
    "across_banks",
    "PROBE_COLUMNS",
    "first_answer_mask",
    "first_answers",
    "ordinary_mask",
    "prepare",
    "sided",
    "sided_mask",
    "split_ties",
]


def first_answers(judgments: pd.DataFrame) -> pd.DataFrame:
    """Each rater's first answer to each pair: later answers to a pair they had answered are dropped.

    A rater who sees a pair again has seen its gold; a second answer measures
    memory, and counting it would let anyone raise their score by repeating
    pairs. So every statistic counts the first answer only (the database marks
    repeats as it stores them; this applies the same rule to a judgments file).

    An answer in an assessment form (column ``form``, :mod:`calibration.effect`)
    is first within its stage: a retention form may repeat the pairs of the pre
    form, answered without feedback, and both answers count.

    Parameters
    ----------
    judgments : DataFrame
        Columns ``rater`` and ``pair_id``, optionally ``answered_at`` and ``form``.

    Returns
    -------
    DataFrame
        The rows kept, in their order; "first" is the earliest ``answered_at``,
        and among equal or missing times the earlier row.

    Examples
    --------
    >>> j = pd.DataFrame({"rater": ["a", "a", "b"], "pair_id": ["p", "p", "p"], "choice": ["B", "A", "A"]})
    >>> first_answers(j)["choice"].tolist()
    ['B', 'A']
    >>> first_answers(j.assign(form=["pre", "retention", "pre"]))["choice"].tolist()
    ['B', 'A', 'A']
    """
    if judgments.empty:
        return judgments
    return judgments[first_answer_mask(judgments)]


def first_answer_mask(judgments: pd.DataFrame) -> np.ndarray:
    """Which rows :func:`first_answers` keeps, as a boolean array in the frame's order.

    An assessment form (column ``form``) is part of the key, so a retention form
    that repeats the pre form's pairs still counts.

    Examples
    --------
    >>> j = pd.DataFrame({"rater": ["a", "a", "b"], "pair_id": ["p", "p", "p"]})
    >>> first_answer_mask(j).tolist()
    [True, False, True]
    """
    if len(judgments) == 0:
        return np.zeros(0, dtype=bool)
    keys = judgments[["rater", "pair_id", *(["form"] if "form" in judgments.columns else [])]]
    keys = keys.astype(str)
    if "answered_at" in judgments.columns:
        when = pd.to_datetime(judgments["answered_at"], utc=True, errors="coerce")
        stamp = when.to_numpy(dtype="datetime64[ns]").astype("int64")
        order = np.lexsort((np.arange(len(judgments)), stamp, when.isna().to_numpy()))  # NaT last
        ranked = keys.iloc[order]
        later = np.zeros(len(judgments), dtype=bool)
        later[order] = ranked.duplicated().to_numpy()
    else:
        later = keys.duplicated().to_numpy()
    return ~later


def prepare(
    bank: pd.DataFrame, judgments: pd.DataFrame, *, features: pd.DataFrame | None = None
) -> pd.DataFrame:
    """Join judgments to their pairs' gold, tags and features.

    Parameters
    ----------
    bank : DataFrame
        A pair bank (``pairs.bank`` columns).
    judgments : DataFrame
        Columns ``rater``, ``pair_id``, ``choice`` and optionally ``confidence``,
        ``left``, ``answered_at``, ``seconds``, ``form``. Values are assumed valid (see
        ``pairs.judgments.validate_judgments``).
    features : DataFrame, optional
        ``pairs.features.pair_features(bank)``, when the caller keeps it: a
        cache that prepares a few judgments at a time then skips hashing the
        bank to look its features up.

    Returns
    -------
    DataFrame
        Columns as in the module docstring, in the judgments' order.

    Raises
    ------
    ValueError
        If a judgment names a pair that is not in the bank.
    """
    missing_cols = {"rater", "pair_id", "choice"} - set(judgments.columns)
    if missing_cols:
        raise ValueError(f"judgments lack the column(s) {sorted(missing_cols)}.")
    # Whole-column operations throughout: at a million judgments a Python loop
    # over rows, or converting tz-aware timestamps to an object array, costs
    # seconds (see bench/bench_stats.py).
    j = pd.DataFrame(
        {
            "rater": judgments["rater"].astype(str).array,
            "pair_id": judgments["pair_id"].astype(str).array,
            "choice": judgments["choice"].astype(str).str.upper().replace("TIE", "tie").array,
        }
    )
    j["confidence"] = _optional(judgments, "confidence", float)
    if "left" in judgments.columns:
        left = judgments["left"].astype(str).str.upper()
        j["left"] = left.where(left.isin(["A", "B"])).array
    else:
        j["left"] = None
    if "answered_at" in judgments.columns:
        j["answered_at"] = pd.to_datetime(judgments["answered_at"], utc=True, errors="coerce").array
    else:
        j["answered_at"] = pd.NaT
    j["seconds"] = _optional(judgments, "seconds", float)

    ids = pd.Index(bank["id"].astype(str))
    feats = (pair_features(bank) if features is None else features).reindex(ids)
    # each judgment's row in the bank: distinct pair ids are looked up once, by hashing
    codes, pair_ids = pd.factorize(j["pair_id"])
    row = ids.get_indexer(pair_ids)[codes]
    unknown = row < 0
    if unknown.any():
        missing = pd.unique(j["pair_id"].to_numpy()[unknown])[:5]
        raise ValueError(
            f"{int(unknown.sum())} judgment(s) name pairs not in the bank, e.g. {list(missing)}."
        )
    j["gold"] = bank["gold"].array.take(row)
    j["tie"] = j["gold"].eq("tie").to_numpy()
    j["correct"] = np.where(j["tie"], np.nan, (j["choice"] == j["gold"]).astype(float))
    if "gold_confidence" in bank.columns:
        j["gold_share"] = pd.to_numeric(bank["gold_confidence"], errors="coerce").to_numpy(dtype=float)[row]
    else:
        j["gold_share"] = np.nan
    j["split"] = (j["gold_share"] < 1).to_numpy()
    j["tie_answer"] = j["choice"].eq("tie").to_numpy()
    j["tags"] = bank["tags"].to_numpy(dtype=object)[row]
    if "source" in bank.columns:
        j["source"] = bank["source"].fillna("").astype(str).to_numpy(dtype=object)[row]
    else:
        j["source"] = ""
    for col in ("length_doublings", "polish_diff", "longer", "more_polished"):
        j[col] = feats[col].array.take(row)
    for col in PROBE_COLUMNS:  # optional in a bank: absent (or empty everywhere) means no probes
        values = bank[col].fillna("").astype(str).str.strip() if col in bank.columns else None
        if values is not None and values.ne("").any():
            j[col] = values.to_numpy(dtype=object)[row]
        else:
            j[col] = ""  # one scalar: no per-judgment work for a bank without probes
    if "form" in judgments.columns:
        j["form"] = judgments["form"].fillna("").astype(str).str.strip().str.lower().array
    else:
        j["form"] = ""
    return j


PROBE_COLUMNS = ("probe", "probe_of", "styled")
"""The optional bank fields of a probe (see :mod:`calibration.probes`), carried through :func:`prepare`."""


def ordinary_mask(prepared: pd.DataFrame) -> np.ndarray:
    """Which judgments are on ordinary pairs (not probes), as a boolean array in the frame's order.

    The bias models and plain rates use these rows only; a frame without a
    ``probe`` column has no probes.

    Parameters
    ----------
    prepared : DataFrame
        Output of :func:`prepare` (column ``probe``, optional).

    Returns
    -------
    ndarray of bool
        True where ``probe`` is empty or missing.

    Examples
    --------
    >>> ordinary_mask(pd.DataFrame({"probe": ["", "polish", None]})).tolist()
    [True, False, True]
    >>> ordinary_mask(pd.DataFrame({"choice": ["A"]})).tolist()
    [True]
    """
    if "probe" not in prepared.columns:
        return np.ones(len(prepared), dtype=bool)
    return prepared["probe"].fillna("").astype(str).eq("").to_numpy(dtype=bool)


BANK_SEPARATOR = " / "
"""Between a bank's name and a pair id where one frame holds several banks' pairs (``llmbar / 17``)."""


def across_banks(parts: dict[str, pd.DataFrame], *, column: str = "pair_id") -> pd.DataFrame:
    """Frames of several banks as one: a ``bank`` column, and pair ids that stay unique.

    Two banks may both have a pair ``17``; statistics that group by pair
    (agreement, the gold audit) must not mix them. With more than one bank,
    each pair id becomes ``BANK / ID`` (:data:`BANK_SEPARATOR`); with one, ids
    are left as they are, so a single bank's figures read as before.

    Parameters
    ----------
    parts : dict of str to DataFrame
        Bank name to its rows (e.g. :func:`prepare` of its judgments, or the
        bank itself with ``column="id"``), in the order wanted.
    column : str, default "pair_id"
        The column holding pair ids.

    Returns
    -------
    DataFrame
        The rows stacked in that order, with a ``bank`` column.

    Examples
    --------
    >>> a = pd.DataFrame({"pair_id": ["1", "2"]})
    >>> across_banks({"x": a, "y": a.head(1)})[["bank", "pair_id"]].to_dict("list")
    {'bank': ['x', 'x', 'y'], 'pair_id': ['x / 1', 'x / 2', 'y / 1']}
    >>> across_banks({"x": a})["pair_id"].tolist()
    ['1', '2']
    """
    several = len(parts) > 1
    frames = []
    for bank, frame in parts.items():
        frame = frame.assign(bank=bank)
        if several:
            frame[column] = bank + BANK_SEPARATOR + frame[column].astype(str)
        frames.append(frame)
    if not frames:
        return pd.DataFrame({column: pd.Series(dtype=object), "bank": pd.Series(dtype=object)})
    return pd.concat(frames, ignore_index=True) if several else frames[0]


def split_ties(prepared: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Split prepared judgments into (decided, ties).

    Judgments on gold ties have no right answer, so accuracy, calibration, bias
    and the leaderboard use only the decided ones; reports count ties apart.

    Parameters
    ----------
    prepared : DataFrame
        Output of :func:`prepare` (column ``tie``).

    Returns
    -------
    tuple of DataFrame
        ``(decided, ties)``: the rows with a right answer, and the rows on gold
        ties, each in their original order.
    """
    tie = prepared["tie"].to_numpy(dtype=bool)
    return prepared[~tie], prepared[tie]


def sided(prepared: pd.DataFrame) -> pd.DataFrame:
    """The decided judgments that picked a side: gold is not a tie and the answer is not a tie.

    Calibration, the bias models and agreement use these rows: a tie answer's
    confidence is about "equal" and it chose neither side.

    Parameters
    ----------
    prepared : DataFrame
        Output of :func:`prepare` (columns ``tie`` and ``choice``).

    Returns
    -------
    DataFrame
        Those rows, in their order.

    Examples
    --------
    >>> j = pd.DataFrame({"choice": ["A", "tie", "B"], "tie": [False, False, True]})
    >>> sided(j).index.tolist()
    [0]
    """
    return prepared[sided_mask(prepared)]


def sided_mask(prepared: pd.DataFrame) -> np.ndarray:
    """Which judgments :func:`sided` keeps, as a boolean array in the frame's order.

    Parameters
    ----------
    prepared : DataFrame
        As for :func:`sided`.

    Returns
    -------
    ndarray of bool
        True where gold is not a tie and the answer is not a tie.

    Examples
    --------
    >>> sided_mask(pd.DataFrame({"choice": ["A", "tie", "B"], "tie": [False, False, True]})).tolist()
    [True, False, False]
    """
    return ~prepared["tie"].to_numpy(dtype=bool) & prepared["choice"].ne("tie").to_numpy(dtype=bool)


def _optional(frame: pd.DataFrame, column: str, dtype) -> np.ndarray:
    if column not in frame.columns:
        return np.full(len(frame), np.nan)
    return pd.to_numeric(frame[column], errors="coerce").to_numpy(dtype=dtype)
