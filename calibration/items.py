"""Item statistics and the gold audit: which pairs discriminate, which gold may be wrong.

:func:`item_table` returns one row per pair judged, columns:

====================  ==============================================================
column                meaning
====================  ==============================================================
``pair_id``           the pair
``gold``              its gold (``"A"``, ``"B"`` or ``"tie"``)
``n``                 judgments on it (ties included)
``votes_a``           judgments choosing A
``votes_b``           judgments choosing B (a tie answer, "About equally good",
                      is a vote for neither, so ``votes_a + votes_b`` may be below ``n``)
``accuracy``          share agreeing with gold (NaN on ties)
``ci_low``/``ci_high``  Wilson 95% interval of ``accuracy``
``discrimination``    point-biserial correlation between being right on this pair
                      and the rater's accuracy on all *other* pairs (the classical
                      corrected item-total correlation); NaN below 5 raters or
                      without variation
``strong_n``          judgments by strong raters (rest-accuracy at or above the
                      cohort median, and at least :data:`STRONG_MIN_JUDGMENTS`
                      other judgments)
``strong_against``    how many of them disagreed with gold
``expected_against``  how many of them the cohort's model predicts to disagree:
                      the sum over their judgments of 1 - P(agree with gold),
                      from :func:`agreement_model` (rater strength plus the
                      pair's length, polish and side pull)
``p_value``           one-sided test of "strong raters disagree no more than
                      predicted": the count of disagreements is a sum of
                      independent Bernoulli trials (Poisson-binomial); the test
                      is ``scipy.stats.binomtest`` at their mean predicted rate,
                      which is conservative (a binomial has the larger variance)
``q_value``           Benjamini-Hochberg adjusted ``p_value`` across the audited pairs
``gold_doubtful``     True when ``q_value`` < :data:`AUDIT_FDR`, at least
                      :data:`AUDIT_MIN_STRONG` strong judgments, most strong
                      raters disagree with gold, and ``discrimination`` is not
                      positive (NaN counts: when every rater contradicts the
                      gold, being right cannot correlate with anything):
                      "gold may be wrong", for the lead
====================  ==============================================================
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy import special
from scipy.special import expit, logit

from calibration.firth import firth_logistic
from calibration.intervals import wilson_interval

__all__ = [
    "AUDIT_FDR",
    "AUDIT_MIN_STRONG",
    "ITEM_COLUMNS",
    "STRONG_MIN_JUDGMENTS",
    "agreement_model",
    "item_table",
]

STRONG_MIN_JUDGMENTS = 20
AUDIT_MIN_STRONG = 5
AUDIT_FDR = 0.10
ITEM_COLUMNS = [
    "pair_id",
    "gold",
    "n",
    "votes_a",
    "votes_b",
    "accuracy",
    "ci_low",
    "ci_high",
    "discrimination",
    "strong_n",
    "strong_against",
    "expected_against",
    "p_value",
    "q_value",
    "gold_doubtful",
]


def item_table(prepared: pd.DataFrame) -> pd.DataFrame:
    """Per-pair statistics and the "gold may be wrong" flag.

    Parameters
    ----------
    prepared : DataFrame
        Output of :func:`calibration.data.prepare` for a cohort.

    Returns
    -------
    DataFrame with :data:`ITEM_COLUMNS`, one row per pair, doubtful gold first,
    then by accuracy (hardest first).

    Notes
    -----
    A rater's *rest-accuracy* for a pair is their accuracy on every other
    decided pair they answered, so a wrong gold cannot lower the accuracy of the
    raters who contradict it and hide itself. Strong raters are those whose
    rest-accuracy is at or above the cohort median. If gold is right, each
    strong rater disagrees with it with probability about one minus their
    rest-accuracy; the test asks whether they disagree more often than that.
    A trap (a much longer or more polished wrong answer) draws many
    disagreements too, and in a cohort that shares a length bias it fools the
    strong raters as well. So the expected disagreement of each judgment comes
    from :func:`agreement_model`, which knows how much rater strength and the
    pair's length, polish and side pull predict agreement across the whole
    cohort: a pair is doubtful only when strong raters contradict its gold
    beyond what those explain. Validated on simulated cohorts with planted
    wrong golds (``tests/test_items.py``).
    """
    if prepared.empty:
        return pd.DataFrame(columns=ITEM_COLUMNS)
    d = prepared[["rater", "pair_id", "choice", "gold", "tie", "correct"]].copy()
    decided = ~d["tie"].to_numpy(dtype=bool)
    correct = d["correct"].fillna(0).to_numpy() * decided
    d["_dec"] = decided.astype(float)
    d["_cor"] = correct
    per_rater = d.groupby("rater")[["_dec", "_cor"]].transform("sum")
    rest_n = per_rater["_dec"] - d["_dec"]
    rest_correct = per_rater["_cor"] - d["_cor"]
    with np.errstate(invalid="ignore", divide="ignore"):
        d["rest_acc"] = np.where(rest_n > 0, rest_correct / rest_n, np.nan)
    d["rest_n"] = rest_n

    rater_acc = d[decided].groupby("rater")["correct"].mean()
    qualified = d["rest_n"] >= STRONG_MIN_JUDGMENTS
    threshold = rater_acc.median() if len(rater_acc) else np.nan
    d["strong"] = qualified & (d["rest_acc"] >= threshold) & decided

    d["_a"] = (d["choice"] == "A").astype(int)
    d["_b"] = (d["choice"] == "B").astype(int)  # a tie answer is a vote for neither side
    g = d.groupby("pair_id", sort=False)
    out = pd.DataFrame({"gold": g["gold"].first(), "n": g.size(), "votes_a": g["_a"].sum()})
    out["votes_b"] = g["_b"].sum()
    dec = d[decided]
    gd = dec.groupby("pair_id", sort=False)
    k = gd["correct"].sum().reindex(out.index)
    m = gd.size().reindex(out.index)
    out["accuracy"] = k / m
    low, high = wilson_interval(k.fillna(0).to_numpy(), m.fillna(0).to_numpy())
    out["ci_low"], out["ci_high"] = low, high
    out["discrimination"] = _discrimination(dec).reindex(out.index)

    d["p_agree"] = np.nan
    d.loc[decided, "p_agree"] = agreement_model(prepared[decided], d.loc[decided, "rest_acc"].to_numpy())
    strong = d[d["strong"] & d["p_agree"].notna()]
    strong = strong.assign(_against=1.0 - strong["p_agree"])
    gs = strong.groupby("pair_id", sort=False)
    out["strong_n"] = gs.size().reindex(out.index).fillna(0).astype(int)
    out["strong_against"] = (gs.size() - gs["correct"].sum()).reindex(out.index).fillna(0).astype(int)
    out["expected_against"] = gs["_against"].sum().reindex(out.index).fillna(0.0).astype(float)

    # one-sided binomial test "more against than expected": P(X >= against), as
    # scipy.stats.binomtest(..., alternative="greater"), for every pair at once
    n_s = out["strong_n"].to_numpy()
    tested = n_s >= AUDIT_MIN_STRONG
    with np.errstate(invalid="ignore", divide="ignore"):
        rate = np.clip(out["expected_against"].to_numpy() / n_s, 1e-6, 1 - 1e-6)
    p = special.bdtrc(out["strong_against"].to_numpy() - 1, n_s, rate)  # what binom.sf computes
    out["p_value"] = np.where(tested, p, np.nan)
    out["q_value"] = _benjamini_hochberg(p)
    out["gold_doubtful"] = (
        (out["q_value"] < AUDIT_FDR)
        & (out["strong_n"] >= AUDIT_MIN_STRONG)
        & (out["strong_against"] > out["strong_n"] / 2)
        & ~(out["discrimination"] >= 0)  # negative, or undefined: every rater against gold
    ).to_numpy(dtype=bool)
    out = out.reset_index(names="pair_id")
    out = out.sort_values(["gold_doubtful", "accuracy"], ascending=[False, True], kind="stable")
    return out[ITEM_COLUMNS].reset_index(drop=True)


def agreement_model(decided: pd.DataFrame, rest_accuracy: np.ndarray) -> np.ndarray:
    """Each judgment's predicted probability of agreeing with gold, from one cohort-wide model.

    A Firth logistic regression (:func:`calibration.firth.firth_logistic`) of
    "agreed with gold" on: an intercept, the rater's strength (logit of their
    rest-accuracy, clipped to [2%, 98%]), and the pull of the gold answer,
    oriented toward it: its length advantage in doublings, its polish advantage
    (normalized difference) and its side (+1 left, -1 right, 0 unknown).
    Judgments without a rest-accuracy get NaN.

    Parameters
    ----------
    decided : DataFrame
        Prepared judgments on decided pairs.
    rest_accuracy : ndarray of shape (n,)
        Each judgment's rater's accuracy on their other pairs.

    Returns
    -------
    ndarray of shape (n,)
        Each judgment's predicted probability of agreeing with gold (NaN where
        it cannot be predicted, or everywhere with fewer than 10 usable rows).
    """
    gold_a = (decided["gold"] == "A").to_numpy()
    sign = np.where(gold_a, 1.0, -1.0)
    left = decided["left"].to_numpy(dtype=object)
    side = np.where(left == decided["gold"].to_numpy(dtype=object), 1.0, -1.0)
    side[pd.isna(left)] = 0.0
    strength = logit(np.clip(rest_accuracy, 0.02, 0.98))
    X = np.column_stack(
        [
            np.ones(len(decided)),
            strength,
            sign * decided["length_doublings"].to_numpy(dtype=float),
            sign * decided["polish_diff"].to_numpy(dtype=float),
            side,
        ]
    )
    y = decided["correct"].to_numpy(dtype=float)
    ok = np.isfinite(X).all(axis=1) & np.isfinite(y)
    p = np.full(len(decided), np.nan)
    if ok.sum() < 10:
        return p
    fit = firth_logistic(X[ok][None], y[ok][None])
    coef = np.nan_to_num(fit.coef[0])
    p[ok] = expit(X[ok] @ coef)
    return p


def _discrimination(decided: pd.DataFrame, *, min_raters: int = 5) -> pd.Series:
    """Corrected item-total (point-biserial) correlation per pair."""
    x = decided["correct"].to_numpy(dtype=float)
    y = decided["rest_acc"].to_numpy(dtype=float)
    ok = ~np.isnan(y)
    frame = pd.DataFrame({"pair_id": decided["pair_id"].to_numpy()[ok], "x": x[ok], "y": y[ok]})
    frame["xy"], frame["xx"], frame["yy"] = frame.x * frame.y, frame.x**2, frame.y**2
    s = frame.groupby("pair_id", sort=False).agg(
        n=("x", "size"), x=("x", "sum"), y=("y", "sum"), xy=("xy", "sum"), xx=("xx", "sum"), yy=("yy", "sum")
    )
    cov = s.xy - s.x * s.y / s.n
    vx = s.xx - s.x**2 / s.n
    vy = s.yy - s.y**2 / s.n
    with np.errstate(invalid="ignore", divide="ignore"):
        r = cov / np.sqrt(vx * vy)
    r[(s.n < min_raters) | (vx <= 1e-12) | (vy <= 1e-12)] = np.nan
    return r


def _benjamini_hochberg(p: np.ndarray) -> np.ndarray:
    """Benjamini-Hochberg adjusted p-values; NaN entries stay NaN and are not counted."""
    q = np.full(p.shape, np.nan)
    ok = ~np.isnan(p)
    if not ok.any():
        return q
    m = int(ok.sum())
    order = np.argsort(p[ok])
    scaled = p[ok][order] * m / np.arange(1, m + 1)  # p_(i) m / i
    adjusted = np.minimum.accumulate(scaled[::-1])[::-1]  # the smallest over i and the ranks after it
    q[np.flatnonzero(ok)[order]] = np.clip(adjusted, 0.0, 1.0)
    return q
