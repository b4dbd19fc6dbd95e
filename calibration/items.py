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
                      (the strong-rater test is kept as evidence to read; it
                      no longer decides the flag)
``gold_doubtful``     True when ``fdr_q`` <= :data:`AUDIT_FDR`: "gold may be
                      wrong", for the lead
``raters``            distinct raters whose first decided judgment of the pair
                      the latent-class model uses
``p_gold_wrong``      posterior probability that the better answer is *not* the
                      gold, from :func:`calibration.latent.fit_latent_truth`
                      (rater skills and pulls estimated on every pair, the
                      pair's difficulty integrated out)
``clarity``           posterior mean of the pair's clarity for a rater of typical
                      skill: 1 = the clearest pairs of the bank, 0 = such a
                      rater guesses (a hard pair), below 0 = a trap that such a
                      rater falls for while stronger ones do not
``fdr_q``             Bayesian q-value (:func:`calibration.latent.bayesian_fdr`):
                      the expected share of correct golds among the pairs
                      flagged if flagging stops at this one; NaN below
                      :data:`AUDIT_MIN_RATERS` raters
====================  ==============================================================

The flag controls the false discovery rate: the flagged pairs are the largest
set whose mean posterior probability of a right gold is at most
:data:`AUDIT_FDR` (10%), so the lead can expect at most one in ten of them to
be a correct gold (:func:`audit_summary` states the figures).

Checked on simulated raters who behave like people, not like the model
(threshold choices with normal noise of varied size, one rater in ten a
spammer clicking at random or always left, a shared pull toward the longer
answer, log-normal difficulty with one pair in seven near a coin and pairs
whose better answer is shorter harder, 5% of golds wrong), 20 raters, 200
pairs, 20 cohorts a cell (seeds 1000-1019); "clarity only" is the model
before its trap depths (:data:`calibration.latent.TRAP_DEPTHS`):

==============  ========  ===============================  ========================
raters a pair   accuracy  false discoveries (flags)        share of wrong golds found
==============  ========  ===============================  ========================
3               70%       no flags; clarity only 0% (1)    0%; clarity only 0.6%
5               67%       0% (9); clarity only 0% (16)     5%; clarity only 9%
10              69%       9% (55); clarity only 9% (56)    27%; clarity only 28%
20 (30 raters)  69%       8% (120); clarity only 6% (117)  59%; clarity only 59%
3               74%       0% (2); clarity only 0% (6)      1%; clarity only 3%
5               72%       3% (36); clarity only 3% (38)    19%; clarity only 20%
10              74%       8% (113); clarity only 6% (108)  57%; clarity only 55%
20 (30 raters)  74%       7% (154); clarity only 6% (151)  76%; clarity only 76%
==============  ========  ===============================  ========================

(accuracy: the raters' agreement with the gold shown, in one cohort of the
cell; over all 8 cells, 35 of 489 flags were correct golds, 7.2%.) Here both
forms hold the target; where difficulty adds to skill, as for the raters of
:mod:`calibration.people`, the clarity-only model did not (13% of its flags
were correct golds, against 8% now: ``tests/test_items_latent.py`` and
VALIDITY.md's gold audit table). The audit
is conservative: it finds the wrong golds that reliable raters contradict and
leaves those the raters are themselves fooled by (a wrong gold that is also
the much longer answer). With 3 raters
a pair few golds can be called wrong at 10%: three votes rarely outweigh
"a hard pair". ``tests/test_items_latent.py`` holds the false discoveries
at 3, 5 and 10 raters a pair.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy import special
from scipy.special import expit, logit

from calibration.bias import item_strata
from calibration.firth import firth_logistic
from calibration.intervals import wilson_interval
from calibration.latent import bayesian_fdr, fit_latent_truth

__all__ = [
    "AUDIT_FDR",
    "AUDIT_MIN_RATERS",
    "AUDIT_MIN_STRONG",
    "ITEM_COLUMNS",
    "STRONG_MIN_JUDGMENTS",
    "agreement_model",
    "audit_summary",
    "item_table",
]

STRONG_MIN_JUDGMENTS = 20
AUDIT_MIN_STRONG = 5
AUDIT_MIN_RATERS = 3
"""A pair is flagged only when at least this many raters decided it."""
AUDIT_FDR = 0.10
LENGTH_STRATUM = float(np.log2(1.5))
"""Audit strata: the better answer shorter or longer by more doublings than this, or by less."""
"""Bayesian false discovery rate of the flags: expected share of correct golds among them, at most this."""
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
    "raters",
    "p_gold_wrong",
    "clarity",
    "fdr_q",
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
    The flag (``gold_doubtful``) comes from the latent-class model of
    :mod:`calibration.latent`: see the module docstring. The strong-rater
    columns below are kept as readable evidence.

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
    latent = _latent_audit(prepared[decided], out.index)
    for column in ("raters", "p_gold_wrong", "clarity", "fdr_q"):
        out[column] = latent[column]
    out["gold_doubtful"] = (out["fdr_q"] <= AUDIT_FDR).to_numpy(dtype=bool)
    out = out.reset_index(names="pair_id")
    out = out.sort_values(["gold_doubtful", "accuracy"], ascending=[False, True], kind="stable")
    return out[ITEM_COLUMNS].reset_index(drop=True)


def audit_summary(items: pd.DataFrame) -> dict[str, float | int | str]:
    """What the gold audit did, for a report: method, target, and how many false flags to expect.

    Parameters
    ----------
    items : DataFrame
        Output of :func:`item_table`.

    Returns
    -------
    dict
        ``method`` (one sentence), ``fdr`` (the target, :data:`AUDIT_FDR`),
        ``n_audited`` (pairs with at least :data:`AUDIT_MIN_RATERS` raters),
        ``n_flagged``, ``expected_false_flags`` (the sum over the flagged pairs
        of their posterior probability of a right gold) and
        ``min_raters`` (:data:`AUDIT_MIN_RATERS`).

    Examples
    --------
    >>> items = pd.DataFrame({"gold_doubtful": [True, True, False], "p_gold_wrong": [0.95, 0.9, 0.2],
    ...                       "fdr_q": [0.05, 0.075, 0.32]})
    >>> s = audit_summary(items)
    >>> s["n_audited"], s["n_flagged"], round(s["expected_false_flags"], 2), s["fdr"]
    (3, 2, 0.15, 0.1)
    """
    flagged = items["gold_doubtful"].to_numpy(dtype=bool)
    return {
        "method": (
            "latent-class model of raters and pairs (Dawid-Skene truth, GLAD-style skill x clarity and "
            "Rasch-style trap depth, "
            "each rater's length, polish and side pull); pairs flagged at a Bayesian false discovery "
            f"rate of {AUDIT_FDR:.0%}"
        ),
        "fdr": AUDIT_FDR,
        "min_raters": AUDIT_MIN_RATERS,
        "n_audited": int(items["fdr_q"].notna().sum()),
        "n_flagged": int(flagged.sum()),
        "expected_false_flags": float((1.0 - items.loc[flagged, "p_gold_wrong"]).sum()),
    }


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


def _latent_audit(decided: pd.DataFrame, pairs: pd.Index) -> pd.DataFrame:
    """Raters, posterior of a wrong gold, clarity and Bayesian q-value per pair (indexed by ``pairs``).

    Fits :func:`calibration.latent.fit_latent_truth` to each rater's first
    decided judgment of each pair (a repeat, made after the gold was shown,
    would count memory as a second vote), with the gold answer's pull: its
    length advantage in doublings, its polish advantage and its side (+1
    left, -1 right, 0 unknown). A pair's difficulty prior is that of its
    stratum: the better answer's length (clearly or a little shorter, a little
    or clearly longer) crossed with the pair's source and trap tag
    (:func:`calibration.bias.item_strata`). Pairs decided by fewer than
    :data:`AUDIT_MIN_RATERS` raters get no q-value and are never flagged.
    """
    out = pd.DataFrame(
        index=pairs, data={"raters": 0, "p_gold_wrong": np.nan, "clarity": np.nan, "fdr_q": np.nan}
    )
    first = decided[~decided[["rater", "pair_id"]].duplicated()]
    first = first[first["pair_id"].isin(pairs) & first["gold"].isin(("A", "B"))]
    if first.empty:
        return out
    item, items = pd.factorize(first["pair_id"])
    rater, _ = pd.factorize(first["rater"])
    sign = np.where((first["gold"] == "A").to_numpy(), 1.0, -1.0)
    left = first["left"].to_numpy(dtype=object)
    side = np.where(left == first["gold"].to_numpy(dtype=object), 1.0, -1.0)
    side[pd.isna(left)] = 0.0
    pull = np.column_stack(
        [
            sign * first["length_doublings"].to_numpy(dtype=float),
            sign * first["polish_diff"].to_numpy(dtype=float),
            side,
        ]
    )
    pull = np.nan_to_num(pull)
    gold_longer = pd.Series(pull[:, 0]).groupby(item).mean().reindex(range(len(items))).to_numpy()
    # the better answer clearly or a little shorter, a little or clearly longer: the gold if it is
    # right, the other answer if not
    bins = [-LENGTH_STRATUM, 0.0, LENGTH_STRATUM]
    stratum = np.column_stack([np.digitize(gold_longer, bins), np.digitize(-gold_longer, bins)])
    # and by the pair's source and trap tag, as the bias model's skill terms: an adversarial set
    # has more traps than a natural one
    built, _ = item_strata(first)
    built = pd.Series(built).groupby(item).first().reindex(range(len(items))).to_numpy()
    stratum = stratum + (len(bins) + 1) * built[:, None]
    fit = fit_latent_truth(first["correct"].to_numpy(dtype=float), item, rater, pull, stratum=stratum)
    n_raters = np.bincount(item, minlength=len(items))
    p_wrong = np.where(n_raters >= AUDIT_MIN_RATERS, fit.p_wrong, np.nan)
    found = pd.DataFrame(
        {
            "raters": n_raters,
            "p_gold_wrong": fit.p_wrong,
            "clarity": fit.clarity,
            "fdr_q": bayesian_fdr(p_wrong),
        },
        index=items,
    )
    out.loc[found.index, found.columns] = found
    out["raters"] = out["raters"].astype(int)
    return out


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
