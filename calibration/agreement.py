"""Agreement: Krippendorff's alpha of raters with the expert gold and with each other.

Krippendorff's alpha (nominal) is ``1 - D_o / D_e``: one minus the observed
disagreement over the disagreement expected by chance from how often each value
is used. 1 is perfect agreement, 0 is chance level, below 0 systematic
disagreement. The values are the responses chosen, ``"A"`` or ``"B"`` (by
identity, whichever side they were shown on).

* :func:`alpha_vs_gold`: one rater against gold, two "coders" over the pairs the
  rater judged.
* :func:`alpha_by_rater`: the same for every rater at once.
* :func:`cohort_alpha`: the raters among themselves, on the pairs that two or
  more of them judged.

Choices made here:

* **Gold ties.** A rater cannot answer "tie", so counting a gold tie as a third
  value would score every tie as a disagreement the rater could not avoid. For
  alpha against gold, gold ties are missing values: such a pair has one coder
  only, is not pairable and does not enter alpha (as ties are left out of
  accuracy and calibration). For the cohort alpha, tie pairs are left out too by
  default (``include_ties=False``): on them the experts see no better response,
  so raters' agreement there measures the pair, not the raters.
* **Repeats.** When a rater judged a pair more than once, their last judgment
  (in row order) counts.
* **Confidence intervals.** Against gold: the Wilson score interval of the
  disagreement rate carried through alpha's formula (:func:`alpha_vs_gold`), a
  closed form that keeps about 95% coverage for accurate raters, where a
  bootstrap of the pairs collapses (30 of 30 right resamples to alpha = 1 every
  time, and at 97% accuracy and n = 30 the percentile interval covered 60%).
  Among raters (:func:`cohort_alpha`): percentile bootstrap over units (pairs),
  seeded (``seed=0``), :data:`N_BOOT` = 1000 resamples, level 95%; resamples in
  which alpha is undefined (one value only) are dropped; with fewer than half
  defined the interval is NaN.
* **Degenerate data** (no judgments, one rater, no shared pair, a single value)
  give NaN and a ``reason``, never an exception.

Point estimates of :func:`alpha_vs_gold` and :func:`cohort_alpha` come from the
``krippendorff`` package. :func:`alpha_by_rater` and all bootstrap resamples use
the same nominal formula written on value counts, vectorized over raters and
resamples; ``tests/test_agreement.py`` checks it equals ``krippendorff.alpha``
on many random cases and on Krippendorff's published example (0.743).

References
----------
Krippendorff, K. (2011). Computing Krippendorff's alpha-reliability.
Annenberg School for Communication, University of Pennsylvania.
Hayes, A. F., & Krippendorff, K. (2007). Answering the call for a standard
reliability measure for coding data. Communication Methods and Measures 1(1), 77-89.
"""

from __future__ import annotations

from typing import Any

import krippendorff
import numpy as np
import pandas as pd

from calibration.intervals import wilson_interval

__all__ = ["ALPHA_COLUMNS", "N_BOOT", "VALUES", "alpha_by_rater", "alpha_vs_gold", "cohort_alpha"]

N_BOOT = 1000
"""Bootstrap resamples for the intervals."""

VALUES = ("A", "B")
"""The nominal values: the response chosen, by identity."""

ALPHA_COLUMNS = ["rater", "n", "alpha", "ci_low", "ci_high", "reason"]
"""Columns of :func:`alpha_by_rater`."""

_CHUNK = 4_000_000  # bootstrap draws held in memory at once (values, not bytes)

_GOLD_REASONS = (
    "",
    "no judgments",
    "no judged pair has a decided gold (all gold ties)",
    "only 'A' occurs among the choices and gold: alpha is undefined without variation",
    "only 'B' occurs among the choices and gold: alpha is undefined without variation",
)


# ----------------------------------------------------------------------------- validation


def _check_prepared(prepared: pd.DataFrame, name: str, columns: tuple[str, ...]) -> None:
    if not isinstance(prepared, pd.DataFrame):
        raise ValueError(f"{name} must be a DataFrame from calibration.data.prepare.")
    missing = [c for c in columns if c not in prepared.columns]
    if missing:
        raise ValueError(f"{name} lacks the column(s) {missing}.")
    bad = ~prepared["choice"].isin((*VALUES, "tie"))
    if bad.any():
        raise ValueError(
            f"choice has values other than 'A', 'B' and 'tie', e.g. {prepared['choice'][bad].iloc[0]!r}."
        )


def _check_options(n_boot: int, confidence: float) -> None:
    if isinstance(n_boot, bool) or not isinstance(n_boot, (int, np.integer)) or n_boot < 0:
        raise ValueError(f"n_boot must be a non-negative integer, got {n_boot!r}.")
    if not 0 < confidence < 1:
        raise ValueError(f"confidence must lie in (0, 1), got {confidence!r}.")


def _last_judgments(prepared: pd.DataFrame) -> pd.DataFrame:
    """One judgment per (rater, pair): the last in row order; tie answers chose no side and are left out."""
    prepared = prepared[prepared["choice"].ne("tie").to_numpy(dtype=bool)]
    frame = prepared.assign(rater=prepared["rater"].astype(str), pair_id=prepared["pair_id"].astype(str))
    return frame.drop_duplicates(["rater", "pair_id"], keep="last")


def _is_tie(frame: pd.DataFrame) -> np.ndarray:
    if "tie" in frame.columns:
        return frame["tie"].to_numpy(dtype=bool)
    return frame["gold"].eq("tie").to_numpy(dtype=bool)


# ----------------------------------------------------------------------------- the formula


def _alpha(n_v: np.ndarray, d_num: np.ndarray) -> np.ndarray:
    """Nominal alpha from pairable value totals ``n_v`` (..., V) and disagreement ``d_num`` (...).

    With :math:`c_{uv}` coders giving value :math:`v` to unit :math:`u`,
    :math:`m_u = \\sum_v c_{uv}`, pairable units :math:`m_u \\ge 2`,
    :math:`n_v = \\sum_u c_{uv}`, :math:`n = \\sum_v n_v` and
    :math:`d = \\sum_u (m_u^2 - \\sum_v c_{uv}^2) / (m_u - 1)`
    (the off-diagonal mass of the coincidence matrix):

    .. math:: \\alpha = 1 - (n - 1) \\frac{d}{n^2 - \\sum_v n_v^2}

    NaN where the denominator is 0 (fewer than two values in use).
    """
    n = n_v.sum(axis=-1)
    expected = n**2 - (n_v**2).sum(axis=-1)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(expected > 0, 1 - (n - 1) * d_num / np.where(expected > 0, expected, 1), np.nan)


def _unit_terms(counts: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Pairable units' value counts (U, V) and disagreement terms (U,) from value counts (N, V)."""
    m = counts.sum(axis=1)
    keep = m >= 2
    c, m = counts[keep].astype(float), m[keep].astype(float)
    return c, (m**2 - (c**2).sum(axis=1)) / (m - 1)


def _percentile_ci(reps: np.ndarray, confidence: float) -> tuple[np.ndarray, np.ndarray]:
    """Percentile interval over axis 0; NaN where fewer than half the resamples are defined."""
    if len(reps) == 0:
        nan = np.full(reps.shape[1:], np.nan)
        return nan, nan
    finite = np.isfinite(reps)
    enough = 2 * finite.sum(axis=0) >= len(reps)
    filled = np.where(enough, reps, 0.0)  # columns without enough resamples: placeholder, no warning
    q = (1 - confidence) / 2
    low, high = np.full(reps.shape[1:], np.nan), np.full(reps.shape[1:], np.nan)
    whole = finite.all(axis=0) | ~enough  # no NaN to skip: the plain quantile, column by column at once
    if whole.any():
        low[whole], high[whole] = np.quantile(filled[:, whole], [q, 1 - q], axis=0)
    if (~whole).any():
        low[~whole], high[~whole] = np.nanquantile(filled[:, ~whole], [q, 1 - q], axis=0)
    return np.where(enough, low, np.nan), np.where(enough, high, np.nan)


def _gold_alpha_counts(agree_a, agree_b, disagree):
    """Alpha of a rater against gold from counts of unit types (arrays of any shape).

    Each decided pair is a unit with two values: the rater's choice and gold. With
    ``N`` units, ``D`` disagreements and ``n_A = 2 AA + D``, ``n_B = 2 BB + D``
    the general formula reduces to ``alpha = 1 - (2N - 1) D / (n_A n_B)``.
    """
    d = np.asarray(disagree, dtype=float)
    n_a = 2.0 * np.asarray(agree_a, dtype=float) + d
    n_b = 2.0 * np.asarray(agree_b, dtype=float) + d
    # _alpha with two values, written out: n^2 - n_A^2 - n_B^2 = 2 n_A n_B, exactly (integer counts)
    expected = 2.0 * n_a * n_b
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(
            expected > 0, 1 - (n_a + n_b - 1) * (2.0 * d) / np.where(expected > 0, expected, 1), np.nan
        )


def _gold_interval(types: np.ndarray, confidence: float) -> tuple[np.ndarray, np.ndarray]:
    """Interval of alpha against gold for each row of unit-type counts ``types`` (R, 3): AA, BB, disagree.

    With the value totals ``n_A``, ``n_B`` held at their observed values, alpha
    falls linearly in the disagreement rate ``d = D / N``:
    ``alpha = 1 - d (2N - 1) N / (n_A n_B)``. The Wilson score interval of ``d``
    (:func:`calibration.intervals.wilson_interval`) mapped through that line
    gives the interval of alpha: never empty, ``[<1, 1]`` when every answer
    agrees, and inside it the point estimate always lies. The totals are the
    marginal use of each value, estimated from ``2N`` values and entering
    alpha through ``n_A n_B``, flat near a balanced gold, so holding them fixed
    costs little coverage (checked by simulation in ``tests/test_agreement.py``:
    93-97% at n = 30, 50, 100 and accuracies 0.7-0.97).
    """
    aa, bb, d = (types[:, i].astype(float) for i in range(3))
    n = aa + bb + d
    n_a, n_b = 2 * aa + d, 2 * bb + d
    low_d, high_d = wilson_interval(d, n, confidence=confidence)
    with np.errstate(invalid="ignore", divide="ignore"):
        scale = np.where(n_a * n_b > 0, (2 * n - 1) * n / np.where(n_a * n_b > 0, n_a * n_b, 1), np.nan)
    return 1 - high_d * scale, 1 - low_d * scale


def _gold_types(frame: pd.DataFrame, codes: np.ndarray, n_groups: int):
    """Per group: unit-type counts (n_groups, 3) over decided pairs."""
    decided = ~_is_tie(frame)
    choice = frame["choice"].to_numpy(dtype=object)[decided]
    gold = frame["gold"].to_numpy(dtype=object)[decided]
    kind = np.where(choice != gold, 2, np.where(gold == "A", 0, 1))
    cells = codes[decided].astype(np.int64) * 3 + kind
    return np.bincount(cells, minlength=3 * n_groups).reshape(n_groups, 3)


def _gold_reason(n_rows: np.ndarray, types: np.ndarray) -> np.ndarray:
    n = types.sum(axis=1)
    only_a = types[:, 1] + types[:, 2] == 0
    only_b = types[:, 0] + types[:, 2] == 0
    return np.select([n_rows == 0, n == 0, only_a, only_b], [1, 2, 3, 4], default=0)


# ----------------------------------------------------------------------------- public API


def alpha_vs_gold(
    prepared_one_rater: pd.DataFrame,
    *,
    n_boot: int = N_BOOT,
    seed: int | None = 0,
    confidence: float = 0.95,
) -> dict[str, Any]:
    """Krippendorff's alpha (nominal) between one rater and the expert gold.

    Reliability data: two coders (the rater, gold) by the pairs the rater judged,
    values ``"A"``/``"B"``; gold ties are missing values, so only pairs with a
    decided gold count (see the module docstring). The point estimate is
    ``krippendorff.alpha(reliability_data=..., level_of_measurement="nominal")``;
    for two coders it equals ``1 - (2N - 1) D / (n_A n_B)`` with ``N`` pairs,
    ``D`` disagreements and ``n_A``, ``n_B`` the uses of each value by rater and
    gold together. Unlike accuracy it discounts agreement expected by chance: a
    rater who always picks the response gold prefers most often gets alpha <= 0.

    Parameters
    ----------
    prepared_one_rater : DataFrame
        Rows of :func:`calibration.data.prepare` for one rater (columns
        ``rater``, ``pair_id``, ``choice``, ``gold``, and ``tie`` if present).
    n_boot : int, default 1000
        Not used: the interval is in closed form (the argument is kept so that
        callers can pass the same options as to :func:`cohort_alpha`).
    seed : int or None, default 0
        Not used, as ``n_boot``.
    confidence : float, default 0.95
        Level of the interval.

    Returns
    -------
    dict
        ``n`` (pairs with a decided gold), ``alpha``, ``ci_low``, ``ci_high`` (the
        Wilson interval of the disagreement rate through alpha's formula; see
        :func:`_gold_interval`) and ``reason`` (``""``, or why alpha is NaN).

    Raises
    ------
    ValueError
        If a column is missing, ``choice`` has a value other than A/B, or the rows
        belong to more than one rater.

    Examples
    --------
    >>> frame = pd.DataFrame({
    ...     "rater": "ana", "pair_id": ["p1", "p2", "p3", "p4", "p5"],
    ...     "choice": ["A", "B", "A", "B", "A"], "gold": ["A", "B", "B", "B", "tie"],
    ... })
    >>> res = alpha_vs_gold(frame)
    >>> res["n"], round(res["alpha"], 4), res["reason"]
    (4, 0.5333, '')
    >>> every = pd.DataFrame({"rater": "bo", "pair_id": [f"p{i}" for i in range(30)],
    ...                       "choice": ["A", "B"] * 15, "gold": ["A", "B"] * 15})
    >>> res = alpha_vs_gold(every)
    >>> res["alpha"], round(res["ci_low"], 3), res["ci_high"]
    (1.0, 0.777, 1.0)
    >>> alpha_vs_gold(frame.iloc[:1])["reason"]
    "only 'A' occurs among the choices and gold: alpha is undefined without variation"
    """
    _check_prepared(prepared_one_rater, "prepared_one_rater", ("rater", "pair_id", "choice", "gold"))
    _check_options(n_boot, confidence)
    if prepared_one_rater["rater"].astype(str).nunique() > 1:
        raise ValueError(
            "prepared_one_rater holds judgments of more than one rater; "
            "pass one rater's rows or use alpha_by_rater."
        )
    frame = _last_judgments(prepared_one_rater)
    types = _gold_types(frame, np.zeros(len(frame), dtype=np.int64), 1)
    reason = _gold_reason(np.array([len(frame)]), types)[0]
    result = {"n": int(types.sum()), "alpha": np.nan, "ci_low": np.nan, "ci_high": np.nan}
    if reason:
        return {**result, "reason": _GOLD_REASONS[reason]}
    decided = frame[~_is_tie(frame)]
    data = np.array([decided["choice"].eq("B"), decided["gold"].eq("B")], dtype=float)
    result["alpha"] = float(krippendorff.alpha(reliability_data=data, level_of_measurement="nominal"))
    low, high = _gold_interval(types, confidence)
    return {**result, "ci_low": float(low[0]), "ci_high": float(high[0]), "reason": ""}


def alpha_by_rater(
    prepared: pd.DataFrame,
    *,
    n_boot: int = N_BOOT,
    seed: int | None = 0,
    confidence: float = 0.95,
) -> pd.DataFrame:
    """Krippendorff's alpha against gold for every rater, one row each.

    Same definition as :func:`alpha_vs_gold`, computed for all raters at once from
    counts of the three kinds of unit (both A, both B, disagree) and the closed
    form ``1 - (2N - 1) D / (n_A n_B)``, and the same closed-form interval as
    :func:`alpha_vs_gold`, equal to it for every rater.

    Parameters
    ----------
    prepared : DataFrame
        Output of :func:`calibration.data.prepare`.
    n_boot : int, default 1000
        Not used (see :func:`alpha_vs_gold`).
    seed : int or None, default 0
        Not used.
    confidence : float, default 0.95
        Level of the intervals.

    Returns
    -------
    DataFrame
        One row per rater, sorted by rater, columns :data:`ALPHA_COLUMNS`: ``rater``,
        ``n`` (pairs judged with a decided gold), ``alpha``, ``ci_low``, ``ci_high``,
        ``reason`` (``""``, or why alpha is NaN).

    Examples
    --------
    >>> frame = pd.DataFrame({
    ...     "rater": ["ana"] * 4 + ["bo"] * 2, "pair_id": ["p1", "p2", "p3", "p4", "p1", "p2"],
    ...     "choice": ["A", "B", "A", "B", "A", "A"], "gold": ["A", "B", "B", "B", "A", "A"],
    ... })
    >>> table = alpha_by_rater(frame, n_boot=0)
    >>> table[["rater", "n", "alpha"]].round(4)
      rater  n   alpha
    0   ana  4  0.5333
    1    bo  2     NaN
    >>> table["reason"].tolist()
    ['', "only 'A' occurs among the choices and gold: alpha is undefined without variation"]
    """
    _check_prepared(prepared, "prepared", ("rater", "pair_id", "choice", "gold"))
    _check_options(n_boot, confidence)
    frame = _last_judgments(prepared)
    codes, raters = pd.factorize(frame["rater"], sort=True)
    types = _gold_types(frame, codes, len(raters))
    reason = _gold_reason(np.bincount(codes, minlength=len(raters)), types)
    alpha = _gold_alpha_counts(types[:, 0], types[:, 1], types[:, 2])
    low, high = _gold_interval(types, confidence)
    ok = reason == 0
    return pd.DataFrame(
        {
            "rater": np.asarray(raters, dtype=object),
            "n": types.sum(axis=1).astype(np.int64),
            "alpha": np.where(ok, alpha, np.nan),
            "ci_low": np.where(ok, low, np.nan),
            "ci_high": np.where(ok, high, np.nan),
            "reason": np.asarray(_GOLD_REASONS, dtype=object)[reason],
        },
        columns=ALPHA_COLUMNS,
    )


def cohort_alpha(
    prepared: pd.DataFrame,
    *,
    include_ties: bool = False,
    n_boot: int = N_BOOT,
    seed: int | None = 0,
    confidence: float = 0.95,
) -> dict[str, Any]:
    """Krippendorff's alpha (nominal) among raters, on the pairs they share.

    Reliability data: raters by pairs, the chosen response (``"A"``/``"B"``), NaN
    where a rater did not judge a pair. Pairs judged by a single rater are not
    pairable and do not count. The point estimate is
    ``krippendorff.alpha(reliability_data=..., level_of_measurement="nominal")``;
    the interval is a percentile bootstrap over the shared pairs.

    Parameters
    ----------
    prepared : DataFrame
        Output of :func:`calibration.data.prepare` (columns ``rater``,
        ``pair_id``, ``choice``, and ``tie`` or ``gold``).
    include_ties : bool, default False
        Count pairs whose gold is a tie (left out by default; see the module docstring).
    n_boot : int, default 1000
        Bootstrap resamples of the shared pairs; 0 skips the interval.
    seed : int or None, default 0
        Seed of the bootstrap.
    confidence : float, default 0.95
        Level of the percentile interval.

    Returns
    -------
    dict
        ``n_raters`` (raters with a judgment on a shared pair), ``n_pairs`` (pairs
        judged by two or more raters), ``n_judgments`` (judgments on those pairs),
        ``alpha``, ``ci_low``, ``ci_high``, ``reason`` (``""``, or why alpha is NaN).

    Raises
    ------
    ValueError
        If a column is missing or ``choice`` has a value other than A/B.

    Examples
    --------
    >>> frame = pd.DataFrame({
    ...     "rater": ["ana", "bo", "cy"] * 3,
    ...     "pair_id": ["p1"] * 3 + ["p2"] * 3 + ["p3"] * 3,
    ...     "choice": ["A", "A", "A", "B", "B", "A", "B", "B", "B"],
    ...     "gold": ["A"] * 3 + ["B"] * 3 + ["B"] * 3,
    ... })
    >>> res = cohort_alpha(frame, n_boot=0)
    >>> res["n_raters"], res["n_pairs"], round(res["alpha"], 4)
    (3, 3, 0.6)
    >>> cohort_alpha(frame[frame["rater"] == "ana"])["reason"]
    'only one rater: agreement between raters needs at least two'
    """
    _check_prepared(prepared, "prepared", ("rater", "pair_id", "choice"))
    if not include_ties and "tie" not in prepared.columns and "gold" not in prepared.columns:
        raise ValueError("prepared lacks the column(s) ['tie'] (or 'gold') needed to leave out gold ties.")
    _check_options(n_boot, confidence)
    frame = _last_judgments(prepared)
    if not include_ties:
        frame = frame[~_is_tie(frame)]
    pair_codes, _ = pd.factorize(frame["pair_id"])
    value = frame["choice"].eq("B").to_numpy(dtype=np.int64)
    counts = np.bincount(pair_codes * 2 + value, minlength=2 * (pair_codes.max(initial=-1) + 1)).reshape(
        -1, 2
    )
    shared = counts.sum(axis=1) >= 2
    in_shared = shared[pair_codes] if len(frame) else np.zeros(0, dtype=bool)
    result: dict[str, Any] = {
        "n_raters": int(frame["rater"][in_shared].nunique()),
        "n_pairs": int(shared.sum()),
        "n_judgments": int(in_shared.sum()),
        "alpha": np.nan,
        "ci_low": np.nan,
        "ci_high": np.nan,
    }
    used = counts[shared].sum(axis=0)
    if len(frame) == 0:
        reason = "no judgments" + ("" if include_ties else " on pairs with a decided gold")
    elif frame["rater"].nunique() < 2:
        reason = "only one rater: agreement between raters needs at least two"
    elif not shared.any():
        reason = "no pair was judged by two or more raters"
    elif (used == 0).any():
        only = VALUES[int(np.argmax(used))]
        reason = f"every judgment on shared pairs is {only!r}: alpha is undefined without variation"
    else:
        reason = ""
    if reason:
        return {**result, "reason": reason}

    rows = frame[in_shared]
    rater_codes, raters = pd.factorize(rows["rater"])
    _, col_codes = np.unique(pair_codes[in_shared], return_inverse=True)
    data = np.full((len(raters), int(shared.sum())), np.nan)
    data[rater_codes, col_codes] = value[in_shared]
    result["alpha"] = float(krippendorff.alpha(reliability_data=data, level_of_measurement="nominal"))

    if n_boot:
        rng = np.random.default_rng(seed)
        unit_counts, unit_d = _unit_terms(counts[shared])
        n_units = len(unit_d)
        step = max(1, _CHUNK // n_units)
        reps = []
        for start in range(0, n_boot, step):
            weights = rng.multinomial(n_units, np.full(n_units, 1 / n_units), size=min(step, n_boot - start))
            reps.append(_alpha(weights @ unit_counts, weights @ unit_d))
        low, high = _percentile_ci(np.concatenate(reps), confidence)
        result["ci_low"], result["ci_high"] = float(low), float(high)
    return {**result, "reason": ""}
