r"""The training effect: what changed between a rater's assessment forms, with intervals.

An assessment form is a set of held-out pairs answered without feedback at one
stage of training: ``pre`` (before the first drill), ``post`` (after training)
and, optionally, ``retention`` (some time later). The answers carry the stage
in the column ``form`` (:func:`calibration.data.prepare`; ``""`` is an ordinary
drill answer). Within a rater the forms hold *different* pairs, so a rater's
change is a two-sample comparison; across raters each rater has both stages,
so the cohort's change is a paired one.

Measures (each compared ``pre`` to ``post``, ``post`` to ``retention`` and
``pre`` to ``retention``):

==================  ===================================================================
measure             per stage; change; interval of the change (per rater)
==================  ===================================================================
``accuracy``        share of decided pairs answered as gold; ``post - pre``;
                    Newcombe's hybrid score interval (Newcombe 1998, method 10)
``score``           mean ranked probability skill
                    (:func:`calibration.scoring.ranked_probability_skill`);
                    difference of means; Welch's t interval
``brier_skill``     ``1 - mean((c - y)^2) / 0.25`` on sided answers with a
                    confidence; difference; Welch's t interval on the Brier
                    scores (the skill is linear in their mean)
``overconfidence``  mean confidence minus accuracy (as
                    :func:`calibration.scoring.overconfidence`, which holds the
                    stated confidences fixed); difference; the change of mean
                    confidence minus Newcombe's interval for the change of accuracy
``length``,         odds ratio of the bias model (:mod:`calibration.bias`) at each
``polish``,         stage; ``change`` is the ratio of odds ratios ``post / pre``,
``position``        from one Firth fit with a stage x covariate interaction (Wald
                    interval and p-value of the interaction coefficient)
``probe_*``         where the forms hold probes (:mod:`calibration.probes`): the
                    share of probes where the restyled answer was picked; Newcombe
==================  ===================================================================

p-values. Where the interval is Newcombe's, the p-value is the one that agrees
with it: the largest level ``1 - alpha`` at which the interval still excludes
the null (found by bisection on the normal quantile), so "significant at 5%"
and "the 95% interval excludes 0" never disagree. Elsewhere it is the Wald or
t test the interval comes from.

Effect sizes (``effect_size``). Per rater: Cohen's h,
``2 asin sqrt(p_post) - 2 asin sqrt(p_pre)``, for accuracy and probe rates; a
standardized mean difference (change over the pooled within-stage standard
deviation of the per-answer values) for ``score``, ``brier_skill`` and
``overconfidence``; the change in log odds ratio for the bias measures.
For the cohort: Cohen's :math:`d_z`, the mean change over the standard
deviation of the raters' changes (Lakens 2013); for the bias measures the
change in log odds ratio.

Cohort. For ``accuracy``, ``score``, ``brier_skill`` and ``overconfidence``
each rater with both stages gives a change :math:`d_r`. Forms differ in
difficulty, and their order is counterbalanced across raters (a rater takes
form X first, another form Y first), so the model is

.. math:: d_r = \mu + \delta_{v_r^{after}} - \delta_{v_r^{before}} + e_r,

with :math:`\delta_v` the difficulty of form version :math:`v`; least squares
gives :math:`\hat\mu` and its t interval with :math:`G - V` degrees of freedom
(:math:`G` raters, :math:`V` versions). With two versions and both orders this
is the average of the two order groups' mean changes, so form difficulty
cancels whatever the balance. When every rater took the forms in the same
order (or versions cannot be told apart) it is the plain paired t interval
(``scipy.stats.ttest_rel``) and ``order_balance`` says form difficulty is not
separated from learning. ``p_wilcoxon`` is the Wilcoxon signed-rank test of the
raw changes (normal approximation, tie correction), as a check that does not
assume normal changes. The bias measures come from one pooled Firth fit of
every such rater's answers with the stage interaction and the cluster-robust
(CR1) covariance over raters of :func:`calibration.bias.pooled_bias`, t with
:math:`G - 1` degrees of freedom; the odds ratios are conditional on each
pair's length and polish, so forms with different mixes of long answers do not
shift them. The pooled odds ratio is a population average, which can move when
skill changes even if no rater's own pull does (logistic regression is not
collapsible: Neuhaus & Jewell 1993); as a check, each cohort bias entry has
``raters_mean``, the mean over raters of each rater's own log ratio of odds
ratios with a t interval over the raters who have one (at least
:data:`MIN_FORM_BIAS` decided answers in each form).

A rater's two forms differ in difficulty too, and one rater cannot tell that
from learning. For ``accuracy``, ``score``, ``brier_skill`` and
``overconfidence`` the rater's ``change`` is therefore their raw change
(``post - pre``) less the difference in difficulty between their two form
versions as the cohort model estimates it (``form_adjustment``, 0 when the
model cannot estimate it: fewer than 3 raters, one order only), and its
interval combines the two-sample interval with that estimate's uncertainty by
the method of variance estimates recovery (MOVER, Zou & Donner 2008); ``pre``
and ``post`` stay the observed values, so ``change = post - pre -
form_adjustment``. Without it a cohort that learned nothing, on forms 5
points apart, would see a "significant change" in more than 5% of its raters.

Form versions are not stored with the answers: they are read from the answers
themselves. Two pairs answered by one rater in one stage belong to the same
version; the connected groups of pairs are the versions, named ``X``, ``Y``,
``Z``... in the order of their smallest pair id.

References
----------
Newcombe, R. G. (1998). Interval estimation for the difference between
independent proportions: comparison of eleven methods. Statistics in
Medicine 17(8), 873-890.

Neuhaus, J. M. and Jewell, N. P. (1993). A geometric approach to assess bias
due to omitted covariates in generalized linear models. Biometrika 80(4), 807-815.

Zou, G. Y. and Donner, A. (2008). Construction of confidence limits about
effect measures: a general approach. Statistics in Medicine 27(10), 1693-1702.

Welch, B. L. (1947). The generalization of "Student's" problem when several
different population variances are involved. Biometrika 34(1-2), 28-35.

Cohen, J. (1988). Statistical Power Analysis for the Behavioral Sciences
(2nd ed.). Lawrence Erlbaum.

Lakens, D. (2013). Calculating and reporting effect sizes to facilitate
cumulative science. Frontiers in Psychology 4, 863.

Wilcoxon, F. (1945). Individual comparisons by ranking methods. Biometrics
Bulletin 1(6), 80-83.

Jeffreys, H. (1946). An invariant form for the prior probability in
estimation problems. Proc. R. Soc. Lond. A 186, 453-461.
"""

from __future__ import annotations

import math
from typing import Any, NamedTuple

import numpy as np
import pandas as pd
from scipy import special

from calibration import bias as _bias
from calibration.data import sided_mask
from calibration.firth import firth_logistic
from calibration.scoring import ranked_probability_skill

__all__ = [
    "COMPARISONS",
    "EFFECT_COLUMNS",
    "MEASURES",
    "MIN_FORM_BIAS",
    "STAGES",
    "effect_table",
    "form_versions",
    "qualification",
    "readiness",
    "training_effect",
]

#: Assessment stages, in the order they are taken.
STAGES = ("pre", "post", "retention")

#: Comparisons reported: key in the output -> (stage before, stage after, label in tables).
COMPARISONS = {
    "effect": ("pre", "post", "post vs pre"),
    "retention": ("post", "retention", "retention vs post"),
    "retention_vs_pre": ("pre", "retention", "retention vs pre"),
}

#: Measures always reported, in output order (probe rates ``probe_<kind>`` follow where there are probes).
MEASURES = ("accuracy", "score", "brier_skill", "overconfidence", "length", "polish", "position")

#: Decided answers a rater needs in each of two forms before the change of a bias odds ratio is
#: estimated: the interaction model has eight coefficients.
MIN_FORM_BIAS = 15

#: Columns of :func:`effect_table`.
EFFECT_COLUMNS = [
    "rater",
    "comparison",
    "measure",
    "pre",
    "post",
    "change",
    "ci_low",
    "ci_high",
    "p_value",
    "significant",
    "effect_size",
    "n",
]

_PROPORTIONS = ("accuracy", "overconfidence")  # written in points


def _signed_points(x: float) -> str:
    """``100 x`` rounded to a signed whole number, never "-0" (``_signed_points(-0.003) == "+0"``)."""
    v = int(round(100 * float(x)))
    return f"{v:+d}"


_RATIOS = ("length", "polish", "position")
_NAMES = {
    "accuracy": "Accuracy",
    "score": "Score",
    "brier_skill": "Brier skill",
    "overconfidence": "Overconfidence",
    "length": "Length odds ratio",
    "polish": "Polish odds ratio",
    "position": "Position odds ratio",
}


# --- two-sample intervals -----------------------------------------------------------------


def _wilson_z(k, n, z):
    """Wilson interval ends at normal quantile ``z`` (arrays broadcast); NaN where n == 0."""
    k, n, z = np.asarray(k, float), np.asarray(n, float), np.asarray(z, float)
    with np.errstate(invalid="ignore", divide="ignore"):
        p = k / n
        denom = 1 + z**2 / n
        centre = (p + z**2 / (2 * n)) / denom
        half = z * np.sqrt(p * (1 - p) / n + z**2 / (4 * n**2)) / denom
        return np.clip(centre - half, 0, 1), np.clip(centre + half, 0, 1)


def _newcombe(k1, n1, k2, n2, z):
    """Newcombe's hybrid score interval for ``p2 - p1`` (method 10): difference, low, high."""
    with np.errstate(invalid="ignore", divide="ignore"):
        p1, p2 = np.asarray(k1, float) / n1, np.asarray(k2, float) / n2
    l1, u1 = _wilson_z(k1, n1, z)
    l2, u2 = _wilson_z(k2, n2, z)
    d = p2 - p1
    return d, d - np.sqrt((p2 - l2) ** 2 + (u1 - p1) ** 2), d + np.sqrt((u2 - p2) ** 2 + (p1 - l1) ** 2)


def _newcombe_p(k1, n1, k2, n2, null=0.0):
    """Two-sided p-value that agrees with :func:`_newcombe`: ``2 (1 - Phi(z*))`` for the
    quantile ``z*`` at which the interval's nearer end reaches ``null``."""
    d = _newcombe(k1, n1, k2, n2, 0.0)[0]
    return _inverted_p(lambda z: _newcombe(k1, n1, k2, n2, z)[1:], d, null)


def _inverted_p(bounds, estimate, null=0.0, iterations: int = 60):
    """The p-value of a family of intervals ``bounds(z) -> (low, high)`` indexed by the normal
    quantile ``z``: ``2 (1 - Phi(z*))``, ``z*`` where the end nearer ``null`` reaches it (bisection)."""
    estimate = np.asarray(estimate, float)
    null = np.broadcast_to(np.asarray(null, float), estimate.shape)
    lo, hi = np.zeros(estimate.shape), np.full(estimate.shape, 40.0)
    above = estimate > null  # the lower end must come down to null; else the upper end up to it
    for _ in range(iterations):
        mid = (lo + hi) / 2
        low, high = bounds(mid)
        excludes = np.where(above, low > null, high < null)
        lo, hi = np.where(excludes, mid, lo), np.where(excludes, hi, mid)
    p = 2 * special.ndtr(-(lo + hi) / 2)
    return np.where(np.isfinite(estimate), np.where(estimate == null, 1.0, p), np.nan)


def _pooled_sd(v1, n1, v2, n2):
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.sqrt(((n1 - 1) * v1 + (n2 - 1) * v2) / (n1 + n2 - 2))


def _cohen_h(p1, p2):
    with np.errstate(invalid="ignore"):
        return 2 * np.arcsin(np.sqrt(p2)) - 2 * np.arcsin(np.sqrt(p1))


# --- per-stage sums ------------------------------------------------------------------------


def _check(prepared: pd.DataFrame) -> None:
    if "form" not in prepared.columns:
        raise ValueError(
            "the judgments have no form column: the training effect needs answers marked "
            "form = pre and form = post (and optionally retention)."
        )
    forms = set(prepared["form"].astype(str))
    unknown = forms - {"", *STAGES}
    if unknown:
        raise ValueError(f"form must be pre, post, retention or empty; got {sorted(unknown)}.")
    missing = [s for s in ("pre", "post") if s not in forms]
    if missing:
        raise ValueError(
            f"no answers in the {' or '.join(missing)} form: the training effect compares "
            "answers given in both the pre and the post form."
        )


def _sums(prepared: pd.DataFrame, raters: np.ndarray) -> dict[str, np.ndarray]:
    """Per (rater, stage) sums, arrays of shape (R, 3) in :data:`STAGES` order."""
    R = len(raters)
    stage = pd.Categorical(prepared["form"].astype(str), categories=list(STAGES)).codes
    rater = pd.Index(raters).get_indexer(prepared["rater"].astype(str))
    code = rater * len(STAGES) + stage
    ok = stage >= 0
    size = R * len(STAGES)

    def total(mask, values=None):
        m = ok & mask
        w = None if values is None else np.asarray(values, float)[m]
        return np.bincount(code[m], weights=w, minlength=size).reshape(R, len(STAGES))

    correct = prepared["correct"].to_numpy(dtype=float)
    decided = ~np.isnan(correct)
    conf = prepared["confidence"].to_numpy(dtype=float)
    cal = sided_mask(prepared) & ~np.isnan(conf)
    y = np.nan_to_num(correct)
    brier = (conf - y) ** 2
    gap = conf - y
    has_conf = ~np.isnan(conf)
    rps = np.full(len(prepared), np.nan)
    if has_conf.any():
        rows = prepared[has_conf]
        rps[has_conf] = ranked_probability_skill(
            rows["choice"].to_numpy(dtype=object),
            rows["confidence"].to_numpy(dtype=float),
            rows["gold"].to_numpy(dtype=object),
            rows["gold_share"].to_numpy(dtype=float) if "gold_share" in rows.columns else None,
        )
    return {
        "acc_n": total(decided),
        "acc_k": total(decided, y),
        "cal_n": total(cal),
        "cal_y": total(cal, y),
        "cal_c": total(cal, conf),
        "b1": total(cal, brier),
        "b2": total(cal, brier**2),
        "g1": total(cal, gap),
        "g2": total(cal, gap**2),
        "s_n": total(has_conf),
        "s1": total(has_conf, rps),
        "s2": total(has_conf, rps**2),
    }


def _mean_var(s1, s2, n):
    """Mean and sample variance from sums of values and of squares."""
    with np.errstate(invalid="ignore", divide="ignore"):
        mean = s1 / n
        var = np.maximum(s2 - n * mean**2, 0) / (n - 1)
    return mean, var


# --- entries ---------------------------------------------------------------------------------


def _fmt(measure: str, x: float, *, signed: bool = False) -> str:
    if measure in _PROPORTIONS:
        if signed:
            return f"{_signed_points(x)} points"
        return f"{100 * x:.0f}%" if measure == "accuracy" else f"{_signed_points(x)} points"
    if measure in _RATIOS:
        return f"x{x:.2f}"
    if measure.startswith("probe_"):
        return f"{_signed_points(x)} points" if signed else f"{100 * x:.0f}%"
    return f"{x:+.2f}" if signed else f"{x:.2f}"


def _entry(measure, stages, pre, post, change, low, high, p, size, n, confidence, reason=None) -> dict:
    values = [pre, post, change, low, high, p, size]
    if reason is None and not all(np.isfinite(v) for v in (pre, post, change, low, high, p)):
        reason = "not estimable from these answers"
    if reason is not None:
        pre, post, change, low, high, p, size = (
            v if np.isfinite(v) and k < 2 else math.nan for k, v in enumerate(values)
        )
        summary = f"{_NAMES.get(measure, measure)} change ({stages}): {reason}."
        significant = False
    else:
        significant = bool(p < 1 - confidence)
        verb = "changed"
        if significant:
            verb = "rose" if (change > 1 if measure in _RATIOS else change > 0) else "fell"
        change_text = f"ratio x{change:.2f}" if measure in _RATIOS else _fmt(measure, change, signed=True)
        low_text = f"x{low:.2f}" if measure in _RATIOS else _fmt(measure, low, signed=True)
        high_text = f"x{high:.2f}" if measure in _RATIOS else _fmt(measure, high, signed=True)
        summary = (
            f"{_NAMES.get(measure, measure)} {verb} from {_fmt(measure, pre)} to {_fmt(measure, post)} "
            f"({stages}): {change_text}, {100 * confidence:.0f}% CI {low_text} to {high_text}, "
            f"p = {p:.3g}" + ("" if significant else " (no significant change)") + "."
        )
    return {
        "pre": float(pre),
        "post": float(post),
        "change": float(change),
        "ci_low": float(low),
        "ci_high": float(high),
        "p_value": float(p),
        "significant": significant,
        "effect_size": float(size),
        "n": int(n),
        "summary": summary,
    }


# --- per rater -------------------------------------------------------------------------------


def _welch_family(m1, v1, n1, m2, v2, n2):
    """Welch's interval for ``m2 - m1`` as a function of the normal quantile of its level."""
    with np.errstate(invalid="ignore", divide="ignore"):
        a, b = v1 / n1, v2 / n2
        se = np.sqrt(a + b)
        df = (a + b) ** 2 / (a**2 / (n1 - 1) + b**2 / (n2 - 1))
        df = np.where(np.isfinite(df), df, np.minimum(n1, n2) - 1.0)
    d = m2 - m1
    ok = (n1 >= 2) & (n2 >= 2)

    def bounds(z):
        crit = special.stdtrit(df, special.ndtr(z))
        return np.where(ok, d - crit * se, np.nan), np.where(ok, d + crit * se, np.nan)

    return bounds


def _rater_measures(S, a: int, b: int) -> dict[str, dict[str, Any]]:
    """Per plain measure: arrays (R,) of pre, post, change, size, n, n1, n2, and ``bounds(z)``, the
    change's interval at normal quantile ``z`` (see :func:`_finish`)."""
    out: dict[str, dict[str, Any]] = {}
    k1, n1, k2, n2 = S["acc_k"][:, a], S["acc_n"][:, a], S["acc_k"][:, b], S["acc_n"][:, b]
    with np.errstate(invalid="ignore", divide="ignore"):
        p1, p2 = k1 / n1, k2 / n2
    out["accuracy"] = dict(
        pre=p1,
        post=p2,
        change=p2 - p1,
        bounds=lambda z: _newcombe(k1, n1, k2, n2, z)[1:],
        size=_cohen_h(p1, p2),
        n=n1 + n2,
        n1=n1,
        n2=n2,
    )
    s_m1, s_v1 = _mean_var(S["s1"][:, a], S["s2"][:, a], S["s_n"][:, a])
    s_m2, s_v2 = _mean_var(S["s1"][:, b], S["s2"][:, b], S["s_n"][:, b])
    sn1, sn2 = S["s_n"][:, a], S["s_n"][:, b]
    with np.errstate(invalid="ignore", divide="ignore"):
        size = (s_m2 - s_m1) / _pooled_sd(s_v1, sn1, s_v2, sn2)
    out["score"] = dict(
        pre=s_m1,
        post=s_m2,
        change=s_m2 - s_m1,
        bounds=_welch_family(s_m1, s_v1, sn1, s_m2, s_v2, sn2),
        size=size,
        n=sn1 + sn2,
        n1=sn1,
        n2=sn2,
    )
    cn1, cn2 = S["cal_n"][:, a], S["cal_n"][:, b]
    b_m1, b_v1 = _mean_var(S["b1"][:, a], S["b2"][:, a], cn1)
    b_m2, b_v2 = _mean_var(S["b1"][:, b], S["b2"][:, b], cn2)
    brier = _welch_family(b_m1, b_v1, cn1, b_m2, b_v2, cn2)
    with np.errstate(invalid="ignore", divide="ignore"):
        size = -(b_m2 - b_m1) / _pooled_sd(b_v1, cn1, b_v2, cn2)

    def skill_bounds(z):
        low, high = brier(z)  # of the change in Brier score; the skill is 1 - 4 Brier
        return -4 * high, -4 * low

    out["brier_skill"] = dict(
        pre=1 - 4 * b_m1,
        post=1 - 4 * b_m2,
        change=-4 * (b_m2 - b_m1),
        bounds=skill_bounds,
        size=size,
        n=cn1 + cn2,
        n1=cn1,
        n2=cn2,
    )
    ky1, ky2 = S["cal_y"][:, a], S["cal_y"][:, b]
    with np.errstate(invalid="ignore", divide="ignore"):
        c1, c2 = S["cal_c"][:, a] / cn1, S["cal_c"][:, b] / cn2
        y1, y2 = ky1 / cn1, ky2 / cn2
    dc = c2 - c1
    g_m1, g_v1 = _mean_var(S["g1"][:, a], S["g2"][:, a], cn1)
    g_m2, g_v2 = _mean_var(S["g1"][:, b], S["g2"][:, b], cn2)
    with np.errstate(invalid="ignore", divide="ignore"):
        size = (g_m2 - g_m1) / _pooled_sd(g_v1, cn1, g_v2, cn2)

    def over_bounds(z):
        _, low, high = _newcombe(ky1, cn1, ky2, cn2, z)  # of the change in accuracy
        return dc - high, dc - low

    out["overconfidence"] = dict(
        pre=c1 - y1,
        post=c2 - y2,
        change=(c2 - y2) - (c1 - y1),
        bounds=over_bounds,
        size=size,
        n=cn1 + cn2,
        n1=cn1,
        n2=cn2,
    )
    return out


def _finish(x: dict[str, Any], shift: np.ndarray, shift_se: np.ndarray, confidence: float) -> None:
    """Set ``low``, ``high`` and ``p`` of a measure's change less ``shift``, the difference in
    difficulty between the rater's two forms estimated from the cohort (standard error ``shift_se``).

    The interval combines the change's own interval with the normal one of the shift by Zou and
    Donner's (2008) method of recovering variance estimates (MOVER); with no shift it is the change's
    own interval. The p-value is the one that agrees with it (:func:`_inverted_p`).
    """
    change = x["change"]
    estimate = change - shift

    def bounds(z):
        low, high = x["bounds"](z)
        with np.errstate(invalid="ignore"):
            return (
                estimate - np.sqrt((change - low) ** 2 + (z * shift_se) ** 2),
                estimate + np.sqrt((high - change) ** 2 + (z * shift_se) ** 2),
            )

    x["raw_change"] = change
    x["change"] = estimate
    x["form_adjustment"] = shift
    x["low"], x["high"] = bounds(special.ndtri(0.5 + confidence / 2))
    x["p"] = _inverted_p(bounds, estimate)


def _plain_reason(measure: str, n1: float, n2: float, before: str, after: str) -> str | None:
    what = {
        "accuracy": "decided answers",
        "overconfidence": "answers with a confidence",
        "brier_skill": "answers with a confidence",
        "score": "answers with a confidence",
    }[measure]
    if n1 == 0 or n2 == 0:
        return f"no {what} in the {before if n1 == 0 else after} form"
    if measure in ("score", "brier_skill") and (n1 < 2 or n2 < 2):
        return f"fewer than 2 {what} in a form"
    return None


# --- bias with a stage interaction -----------------------------------------------------------


def _bias_design(prepared: pd.DataFrame, before: str, after: str, *, by_rater: bool):
    """The bias design of the answers in two stages, with the stage interaction appended."""
    rows = prepared[prepared["form"].isin([before, after]).to_numpy()]
    design = _bias._design(rows)
    later = rows["form"].to_numpy()[design["kept"]] == after
    X = design["X"]
    # the skill terms of the bias model (one per item stratum), per rater or for the cohort,
    # with their own change between stages, so learning to find gold is not read as a change
    # in a pull; they follow the 2 * _K covariate columns whose indices the ratios use
    group = design["code"] if by_rater else np.zeros(len(design["y"]), dtype=int)
    skill = _bias._gold_block(design, group, int(group.max()) + 1 if len(group) else 1)
    design["X8"] = np.hstack([X, X * later[:, None], skill, skill * later[:, None]])
    design["later"] = later
    return design


_K = len(_bias._DESIGN)


def _bias_rater(prepared, raters, before, after, confidence):
    """Per rater (R,) arrays for each bias measure, from one batched Firth fit with interaction."""
    R = len(raters)
    result = {
        e: {k: np.full(R, np.nan) for k in ("pre", "post", "change", "low", "high", "p", "size", "n")}
        for e in _RATIOS
    }
    reasons = {e: np.full(R, None, dtype=object) for e in _RATIOS}
    design = _bias_design(prepared, before, after, by_rater=True)
    index = pd.Index(raters).get_indexer(np.asarray(design["raters"], dtype=object))
    code = design["code"]
    later = design["later"]
    nb = np.bincount(code[~later], minlength=len(design["raters"]))
    na = np.bincount(code[later], minlength=len(design["raters"]))
    known = design["X"][:, 0] != 0
    lb = np.bincount(code[~later & known], minlength=len(design["raters"]))
    la = np.bincount(code[later & known], minlength=len(design["raters"]))
    fit_ok = (nb >= MIN_FORM_BIAS) & (na >= MIN_FORM_BIAS)
    with_pos = fit_ok & (lb >= MIN_FORM_BIAS) & (la >= MIN_FORM_BIAS)
    X8 = design["X8"].copy()
    X8[:, [0, _K]] *= with_pos[code][:, None]
    width = X8.shape[1]
    coef = np.full((len(design["raters"]), width), np.nan)
    cov = np.full((len(design["raters"]), width, width), np.nan)
    converged = np.zeros(len(design["raters"]), dtype=bool)
    stack = {"raters": design["raters"], "code": code, "X": X8, "y": design["y"]}
    for batch in _bias._batches(np.flatnonzero(fit_ok), nb + na):
        Xb, yb, wb = _bias._stack(stack, batch)
        fit = firth_logistic(Xb, yb, wb)
        coef[batch], cov[batch], converged[batch] = fit.coef, fit.cov, fit.converged
    z = special.ndtri(0.5 + confidence / 2)
    for effect in _RATIOS:
        j = _bias._COLUMN[effect]
        out = _ratio_arrays(coef, cov, j, z, None)
        for key, value in out.items():
            result[effect][key][index] = value
        result[effect]["n"][index] = (lb + la) if effect == "position" else (nb + na)
        why = np.full(len(design["raters"]), None, dtype=object)
        varies = np.bincount(code, weights=design["X"][:, j] != 0, minlength=len(design["raters"])) > 0
        why[~varies] = f"no {effect} differences among the pairs answered"
        if effect == "position":
            why[fit_ok & ~with_pos] = (
                f"the side shown was recorded for fewer than {MIN_FORM_BIAS} answers a form"
            )
        why[fit_ok & ~converged] = "the model did not converge"
        why[~fit_ok] = [
            f"{int(x)} and {int(y)} decided answers in the two forms, at least {MIN_FORM_BIAS} each needed"
            for x, y in zip(nb[~fit_ok], na[~fit_ok], strict=True)
        ]
        reasons[effect][index] = why
        missing = np.setdiff1d(np.arange(R), index)
        reasons[effect][missing] = "no decided answers in these forms"
    return result, reasons


def _ratio_arrays(coef, cov, j, z, df):
    """Odds ratios before and after, their ratio, its interval and p, from the interaction fit."""
    b0, b1 = coef[:, j], coef[:, j + _K]
    v1 = cov[:, j + _K, j + _K]
    with np.errstate(invalid="ignore"):
        se = np.sqrt(v1)
        crit = z if df is None else special.stdtrit(df, special.ndtr(z))
        stat = b1 / se
        p = 2 * (special.ndtr(-np.abs(stat)) if df is None else special.stdtr(df, -np.abs(stat)))
    return {
        "pre": np.exp(b0),
        "post": np.exp(b0 + b1),
        "change": np.exp(b1),
        "low": np.exp(b1 - crit * se),
        "high": np.exp(b1 + crit * se),
        "p": p,
        "size": b1,
    }


def _bias_cohort(prepared, paired: np.ndarray, before, after, confidence):
    """Pooled interaction fit over the raters in ``paired`` with rater-clustered covariance."""
    rows = prepared[prepared["rater"].astype(str).isin(paired).to_numpy()]
    design = _bias_design(rows, before, after, by_rater=False)
    X8, y, code = design["X8"], design["y"], design["code"]
    later = design["later"]
    known = design["X"][:, 0] != 0
    empty = {k: np.array([np.nan]) for k in ("pre", "post", "change", "low", "high", "p", "size")}
    out, reasons, ns = {}, {}, {}
    enough = (~later).sum() >= _bias.MIN_JUDGMENTS and later.sum() >= _bias.MIN_JUDGMENTS
    groups = len(np.unique(code)) if len(code) else 0
    with_pos = (known & ~later).sum() >= _bias.MIN_JUDGMENTS and (known & later).sum() >= _bias.MIN_JUDGMENTS
    X8 = X8.copy()
    X8[:, [0, _K]] *= with_pos
    coef = cov = None
    reason = None
    if not enough:
        reason = f"fewer than {_bias.MIN_JUDGMENTS} decided answers in a form across the cohort"
    elif groups < 2:
        reason = "a cluster-robust interval needs at least 2 raters with both forms"
    else:
        distinct, weights = _bias._distinct_rows(X8, y)
        fit = firth_logistic(X8[distinct][None], y[distinct][None], weights[None].astype(float))
        if not fit.converged[0]:
            reason = "the model did not converge"
        else:
            coef = fit.coef
            cov, groups = _bias._cluster_cov(X8, y, code, design["pair"], fit.coef[0], fit.cov[0])
            cov = cov[None]
    z = special.ndtri(0.5 + confidence / 2)
    for effect in _RATIOS:
        j = _bias._COLUMN[effect]
        out[effect] = empty if coef is None else _ratio_arrays(coef, cov, j, z, max(groups - 1, 1))
        ns[effect] = int(known.sum()) if effect == "position" else len(y)
        reasons[effect] = reason
        if reason is None and effect == "position" and not with_pos:
            reasons[effect] = "the side shown was not recorded for enough answers"
        if reason is None and not np.any(design["X"][:, j] != 0):
            reasons[effect] = f"no {effect} differences among the pairs answered"
    return out, reasons, ns


# --- form versions and the cohort's paired changes --------------------------------------------


def form_versions(prepared: pd.DataFrame) -> pd.DataFrame:
    """Which version of the assessment (X, Y, ...) each rater took at each stage.

    Versions are read from the answers: pairs answered by one rater in one
    stage belong to one version, and the connected groups of pairs are the
    versions, named ``X``, ``Y``, ``Z``... by their smallest pair id (then
    ``V4``, ``V5``...).

    Parameters
    ----------
    prepared : DataFrame
        Columns ``rater``, ``pair_id`` and ``form``.

    Returns
    -------
    DataFrame
        Columns ``rater``, ``stage``, ``version``, ``n`` (answers), one row per
        rater and stage with answers.

    Examples
    --------
    >>> j = pd.DataFrame({"rater": ["a", "a", "a", "a", "b", "b", "b", "b"],
    ...                   "pair_id": ["p1", "p2", "q1", "q2", "q1", "q2", "p1", "p2"],
    ...                   "form": ["pre", "pre", "post", "post"] * 2})
    >>> form_versions(j).values.tolist()
    [['a', 'pre', 'X', 2], ['a', 'post', 'Y', 2], ['b', 'pre', 'Y', 2], ['b', 'post', 'X', 2]]
    """
    rows = prepared[prepared["form"].astype(str).isin(STAGES).to_numpy()]
    if rows.empty:
        return pd.DataFrame({"rater": [], "stage": [], "version": [], "n": []})
    pair_code, pairs = pd.factorize(rows["pair_id"].astype(str))
    parent = np.arange(len(pairs))

    def find(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    group = rows["rater"].astype(str) + "\x00" + rows["form"].astype(str)
    for codes in pd.Series(pair_code).groupby(group.to_numpy(), sort=False):
        members = np.unique(codes[1].to_numpy())
        root = find(int(members[0]))
        for m in members[1:]:
            other = find(int(m))
            if other != root:
                parent[other] = root
    roots = np.array([find(i) for i in range(len(pairs))])
    smallest = pd.Series(np.asarray(pairs, dtype=object)).groupby(roots).min().sort_values()
    names = ["X", "Y", "Z"] + [f"V{i}" for i in range(4, len(smallest) + 1)]
    label = dict(zip(smallest.index, names, strict=False))
    version = np.array([label[r] for r in roots], dtype=object)[pair_code]
    frame = pd.DataFrame(
        {
            "rater": rows["rater"].astype(str).to_numpy(),
            "stage": rows["form"].astype(str).to_numpy(),
            "version": version,
        }
    )
    counted = frame.groupby(["rater", "stage", "version"], sort=False).size().rename("n").reset_index()
    top = counted.sort_values("n", ascending=False, kind="stable").drop_duplicates(["rater", "stage"])
    order = {s: i for i, s in enumerate(STAGES)}
    first = {r: i for i, r in enumerate(pd.unique(frame["rater"]))}
    top = top.assign(_r=top["rater"].map(first), _s=top["stage"].map(order)).sort_values(["_r", "_s"])
    return top.drop(columns=["_r", "_s"]).reset_index(drop=True)


class _Paired(NamedTuple):
    """The cohort's mean change, adjusted for form versions when ``adjusted`` (see :func:`_paired`)."""

    mu: float
    low: float
    high: float
    p: float
    df: int
    adjusted: bool
    effects: dict[str, float]
    """Each version's effect against the first version (empty when not adjusted)."""
    versions: list
    cov: np.ndarray
    """Covariance of the version effects, in the order of ``versions[1:]``."""

    def shift(self, before: np.ndarray, after: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """The estimated difference in difficulty ``effect[after] - effect[before]`` for each rater, and its
        standard error (zeros when not adjusted, and for versions the model does not know)."""
        n = len(before)
        if not self.adjusted:
            return np.zeros(n), np.zeros(n)
        index = {v: i for i, v in enumerate(self.versions[1:])}
        c = np.zeros((n, len(index)))
        known = np.ones(n, dtype=bool)
        for r, (b, a) in enumerate(zip(before, after, strict=True)):
            known[r] = b in self.versions and a in self.versions
            if a in index:
                c[r, index[a]] += 1.0
            if b in index:
                c[r, index[b]] -= 1.0
        c[~known] = 0.0
        effects = np.array([self.effects[v] for v in self.versions[1:]])
        return c @ effects, np.sqrt(np.einsum("ri,ij,rj->r", c, self.cov, c))


def _paired(d: np.ndarray, v_before: np.ndarray, v_after: np.ndarray, confidence: float) -> _Paired:
    """Mean change adjusted for form versions (module docstring), by least squares."""
    G = len(d)
    versions = sorted(set(v_before) | set(v_after))
    Z = np.array(
        [
            [float(a == v) - float(b == v) for v in versions[1:]]
            for a, b in zip(v_after, v_before, strict=True)
        ]
    )
    Z = Z.reshape(G, len(versions) - 1)
    A = np.column_stack([np.ones(G), Z]) if Z.size else np.ones((G, 1))
    adjusted = A.shape[1] > 1 and np.linalg.matrix_rank(A) == A.shape[1] and G - A.shape[1] >= 1
    if not adjusted:
        A = np.ones((G, 1))
    coef, *_ = np.linalg.lstsq(A, d, rcond=None)
    df = G - A.shape[1]
    if df < 1:
        return _Paired(math.nan, math.nan, math.nan, math.nan, df, False, {}, versions, np.zeros((0, 0)))
    resid = d - A @ coef
    s2 = resid @ resid / df
    cov = s2 * np.linalg.inv(A.T @ A)
    se = math.sqrt(cov[0, 0])
    crit = float(special.stdtrit(df, 0.5 + confidence / 2))
    mu = float(coef[0])
    p = float(2 * special.stdtr(df, -abs(mu / se))) if se > 0 else (1.0 if mu == 0 else 0.0)
    effects = {v: float(c) for v, c in zip(versions[1:], coef[1:], strict=True)} if adjusted else {}
    return _Paired(mu, mu - crit * se, mu + crit * se, p, df, adjusted, effects, versions, cov[1:, 1:])


def _wilcoxon_p(d: np.ndarray) -> float:
    """Two-sided Wilcoxon signed-rank p-value, normal approximation with tie correction, zeros dropped.

    Equal to ``scipy.stats.wilcoxon(d, method="approx", correction=False).pvalue``.
    """
    d = d[d != 0]
    n = len(d)
    if n == 0:
        return math.nan
    ranks = pd.Series(np.abs(d)).rank().to_numpy()
    t_plus = ranks[d > 0].sum()
    _, counts = np.unique(np.abs(d), return_counts=True)
    var = n * (n + 1) * (2 * n + 1) / 24 - (counts**3 - counts).sum() / 48
    if var <= 0:
        return math.nan
    zstat = (t_plus - n * (n + 1) / 4) / math.sqrt(var)
    return float(2 * special.ndtr(-abs(zstat)))


# --- the public functions ----------------------------------------------------------------------


def training_effect(prepared: pd.DataFrame, *, confidence: float = 0.95) -> dict[str, Any]:
    """The change between assessment forms, per rater and for the cohort.

    Parameters
    ----------
    prepared : DataFrame
        Output of :func:`calibration.data.prepare` with a ``form`` column;
        drill answers (``form == ""``) are ignored. One answer per rater, pair
        and stage (a retention form may repeat the pairs of the pre form).
        Pass the whole cohort's form answers even to show one rater's effect:
        a rater's ``form_adjustment`` comes from the cohort (with one rater it
        is 0 and their change includes any difference between their forms).
    confidence : float, default 0.95
        Level of every interval; a change is ``significant`` when its p-value
        is below ``1 - confidence``.

    Returns
    -------
    dict
        ``{"raters": {rater: {"n": {stage: int}, "effect": {...},
        "retention": {...}, "retention_vs_pre": {...}}}, "cohort": {"n_raters",
        "effect", "retention", "retention_vs_pre", "order_balance", "summary"}}``.
        Each comparison maps a measure (:data:`MEASURES`, then ``probe_<kind>``
        where there are probes) to ``{pre, post, change, ci_low, ci_high,
        p_value, significant, effect_size, n, summary}``; ``pre`` and ``post``
        are the values in the comparison's earlier and later stage. For the bias
        measures ``pre`` and ``post`` are odds ratios and ``change`` their
        ratio. ``retention`` and ``retention_vs_pre`` are empty without
        retention answers. Where a change is not estimable the numbers are NaN
        and ``summary`` says why. Cohort entries of the plain measures also
        have ``p_wilcoxon``.

    Raises
    ------
    ValueError
        Without a ``form`` column, with a form other than pre, post,
        retention or empty, or without answers in both the pre and post forms.

    Examples
    --------
    >>> from calibration.simulate import synthetic_bank, simulate_forms
    >>> bank = synthetic_bank(240, seed=3)
    >>> sim = simulate_forms(bank, n_raters=12, form_size=40, seed=4, accuracy_gain=1.0)
    >>> from calibration.data import prepare
    >>> out = training_effect(prepare(bank, sim))
    >>> acc = out["cohort"]["effect"]["accuracy"]
    >>> bool(acc["significant"]), acc["change"] > 0, out["cohort"]["n_raters"]
    (True, True, 12)
    """
    if not 0 < confidence < 1:
        raise ValueError(f"confidence must be in (0, 1); got {confidence!r}.")
    _check(prepared)
    forms = prepared[prepared["form"].astype(str).isin(STAGES).to_numpy()]
    raters = np.asarray(pd.unique(forms["rater"].astype(str)), dtype=object)
    S = _sums(forms, raters)
    counts = S["acc_n"] * 0 + np.bincount(
        pd.Index(raters).get_indexer(forms["rater"].astype(str)) * 3
        + pd.Categorical(forms["form"].astype(str), categories=list(STAGES)).codes,
        minlength=3 * len(raters),
    ).reshape(len(raters), 3)
    versions = form_versions(forms)
    has = {s: counts[:, i] > 0 for i, s in enumerate(STAGES)}
    per_rater: dict[str, dict[str, Any]] = {
        r: {"n": {s: int(counts[i, k]) for k, s in enumerate(STAGES)}} for i, r in enumerate(raters)
    }
    cohort: dict[str, Any] = {"n_raters": 0}
    probe_kinds = _probe_kinds(forms)
    for key, (before, after, label) in COMPARISONS.items():
        a, b = STAGES.index(before), STAGES.index(after)
        for r in per_rater.values():
            r[key] = {}
        cohort[key] = {}
        if not (has[before].any() and has[after].any()):
            continue
        stages = label
        both = has[before] & has[after]
        paired = raters[both]
        plain = _rater_measures(S, a, b)
        v_before, v_after = _versions_of(versions, raters, before), _versions_of(versions, raters, after)
        for x in plain.values():
            shift = shift_se = np.zeros(len(raters))
            ok = both & np.isfinite(x["pre"]) & np.isfinite(x["post"])
            if ok.sum() >= 3:
                fit = _paired((x["post"] - x["pre"])[ok], v_before[ok], v_after[ok], confidence)
                shift, shift_se = fit.shift(v_before, v_after)
            _finish(x, shift, shift_se, confidence)
        ratios, ratio_reasons = _bias_rater(forms, raters, before, after, confidence)
        for i, r in enumerate(raters):
            for m in MEASURES:
                if m in _RATIOS:
                    x, reason = ratios[m], ratio_reasons[m][i]
                else:
                    x = plain[m]
                    reason = _plain_reason(m, x["n1"][i], x["n2"][i], before, after)
                per_rater[r][key][m] = _entry(
                    m,
                    stages,
                    x["pre"][i],
                    x["post"][i],
                    x["change"][i],
                    x["low"][i],
                    x["high"][i],
                    x["p"][i],
                    x["size"][i],
                    x["n"][i] if np.isfinite(x["n"][i]) else 0,
                    confidence,
                    reason,
                )
                if m not in _RATIOS:
                    _note_adjustment(per_rater[r][key][m], m, float(x["form_adjustment"][i]))
            for kind in probe_kinds:
                per_rater[r][key][f"probe_{kind}"] = _probe_entry(
                    forms, r, kind, before, after, stages, confidence
                )
        if key == "effect":
            cohort["n_raters"] = int(both.sum())
        cohort[key] = _cohort_measures(
            forms, paired, plain, ratios, both, versions, before, after, stages, confidence, probe_kinds
        )
        if key == "effect":
            cohort["order_balance"] = _order_balance(versions, paired, before, after, plain, both, confidence)
    cohort.setdefault("order_balance", {})
    cohort["summary"] = _cohort_summary(cohort)
    return {"raters": per_rater, "cohort": cohort}


def _note_adjustment(entry: dict[str, Any], measure: str, shift: float) -> None:
    """Record the form difficulty taken out of a rater's change, and say so in its summary."""
    entry["form_adjustment"] = shift if np.isfinite(entry["change"]) else math.nan
    if shift != 0 and np.isfinite(entry["change"]):
        entry["summary"] += (
            " The change allows for the difference in difficulty between the two forms as the cohort "
            f"shows it ({_fmt(measure, shift, signed=True)} on the later form whoever takes it)."
        )


def _mean_log_change(measure, x, both, stages, confidence) -> dict[str, Any]:
    """A check of the cohort's change of a bias odds ratio: the mean over raters of each rater's log
    ratio of odds ratios (:func:`_bias_rater`), with a t interval over raters (module docstring)."""
    b0, b1 = np.log(x["pre"][both]), x["size"][both]
    ok = np.isfinite(b0) & np.isfinite(b1)
    G = int(ok.sum())
    if G < 2:
        reason = f"{G} rater(s) with an estimate in both forms, at least 2 needed"
        nan = math.nan
        return _entry(measure, stages, nan, nan, nan, nan, nan, nan, nan, G, confidence, reason)
    d = b1[ok]
    mean, se, df = float(d.mean()), float(d.std(ddof=1)) / math.sqrt(G), G - 1
    crit = float(special.stdtrit(df, 0.5 + confidence / 2))
    p = float(2 * special.stdtr(df, -abs(mean / se))) if se > 0 else (1.0 if mean == 0 else 0.0)
    pre, post = math.exp(float(b0[ok].mean())), math.exp(float((b0[ok] + d).mean()))
    entry = _entry(
        measure,
        stages,
        pre,
        post,
        math.exp(mean),
        math.exp(mean - crit * se),
        math.exp(mean + crit * se),
        p,
        mean,
        G,
        confidence,
    )
    return entry


def _cohort_measures(forms, paired, plain, ratios, both, versions, before, after, stages, confidence, kinds):
    out: dict[str, dict] = {}
    vb, va = _versions_of(versions, paired, before), _versions_of(versions, paired, after)
    for m in MEASURES:
        if m in _RATIOS:
            continue
        x = plain[m]
        ok = both & (x["n1"] > 0) & (x["n2"] > 0) & np.isfinite(x["pre"]) & np.isfinite(x["post"])
        keep = ok[both]
        pre, post = x["pre"][ok], x["post"][ok]
        d = post - pre
        reason = None if ok.sum() >= 2 else f"{int(ok.sum())} rater(s) with both forms, at least 2 needed"
        mu = low = high = p = size = math.nan
        if reason is None:
            mu, low, high, p = _paired(d, vb[keep], va[keep], confidence)[:4]
            sd = float(np.std(d, ddof=1))
            size = mu / sd if sd > 0 else math.nan
        entry = _entry(
            m,
            stages,
            float(np.mean(pre)) if len(pre) else math.nan,
            float(np.mean(post)) if len(post) else math.nan,
            mu,
            low,
            high,
            p,
            size,
            int(ok.sum()),
            confidence,
            reason,
        )
        entry["p_wilcoxon"] = _wilcoxon_p(d) if reason is None else math.nan
        out[m] = entry
    pooled, reasons, ns = _bias_cohort(forms, paired, before, after, confidence)
    for m in _RATIOS:
        x = pooled[m]
        out[m] = _entry(
            m,
            stages,
            x["pre"][0],
            x["post"][0],
            x["change"][0],
            x["low"][0],
            x["high"][0],
            x["p"][0],
            x["size"][0],
            ns[m],
            confidence,
            reasons[m],
        )
        check = _mean_log_change(m, ratios[m], both, stages, confidence)
        out[m]["raters_mean"] = {k: check[k] for k in ("change", "ci_low", "ci_high", "p_value", "n")}
    ordered = {m: out[m] for m in MEASURES}
    for kind in kinds:
        ordered[f"probe_{kind}"] = _probe_entry(
            forms[forms["rater"].astype(str).isin(paired).to_numpy()],
            None,
            kind,
            before,
            after,
            stages,
            confidence,
        )
    return ordered


def _versions_of(versions: pd.DataFrame, raters: np.ndarray, stage: str) -> np.ndarray:
    at = versions[versions["stage"] == stage].set_index("rater")["version"]
    return at.reindex(pd.Index(raters)).fillna("?").to_numpy(dtype=object)


def _order_balance(versions, paired, before, after, plain, both, confidence) -> dict[str, Any]:
    vb, va = _versions_of(versions, paired, before), _versions_of(versions, paired, after)
    orders: dict[str, int] = {}
    for x, y in zip(vb, va, strict=True):
        orders[f"{x} then {y}"] = orders.get(f"{x} then {y}", 0) + 1
    names = sorted(set(vb) | set(va))
    d = (plain["accuracy"]["post"] - plain["accuracy"]["pre"])[both]
    ok = np.isfinite(d)
    adjusted, effects = False, {}
    if ok.sum() >= 2:
        fit = _paired(d[ok], vb[ok], va[ok], confidence)
        adjusted, effects = fit.adjusted, fit.effects
    balanced = len(orders) > 1 and max(orders.values()) - min(orders.values()) <= 1
    if len(names) < 2:
        summary = (
            "All raters answered one set of pairs (no parallel forms could be told apart): "
            "form difficulty is not separated from learning."
        )
    elif not adjusted:
        summary = (
            "Every rater took the forms in the same order: a difference in form difficulty "
            "cannot be told apart from learning."
        )
    else:
        where = ", ".join(f"{k}: {v}" for k, v in orders.items())
        diff = ", ".join(
            f"form {v} {_signed_points(e)} points of accuracy against form {names[0]}"
            for v, e in effects.items()
        )
        summary = (
            f"Form order {'balanced' if balanced else 'unbalanced'} ({where}); the cohort's changes are "
            f"adjusted for form difficulty ({diff})."
        )
    return {
        "versions": names,
        "orders": orders,
        "balanced": bool(balanced),
        "adjusted": bool(adjusted),
        "form_accuracy_effects": effects,
        "summary": summary,
    }


def _cohort_summary(cohort: dict[str, Any]) -> list[str]:
    lines = []
    n = cohort.get("n_raters", 0)
    if n:
        lines.append(f"Training effect over {n} rater(s) who took both the pre and the post form.")
    headline = {
        "effect": ("accuracy", "overconfidence", "brier_skill", "length"),
        "retention": ("accuracy",),  # what is kept
        "retention_vs_pre": ("accuracy",),
    }
    for key, measures in headline.items():
        for m in measures:
            entry = cohort.get(key, {}).get(m)
            if entry:
                lines.append(entry["summary"])
    if cohort.get("order_balance", {}).get("summary"):
        lines.append(cohort["order_balance"]["summary"])
    return lines


# --- probes ------------------------------------------------------------------------------------


def _probe_kinds(forms: pd.DataFrame) -> list[str]:
    if "probe" not in forms.columns:
        return []
    kinds = forms["probe"].fillna("").astype(str)
    return sorted(k for k in pd.unique(kinds) if k)


def _probe_entry(forms, rater, kind, before, after, stages, confidence) -> dict:
    rows = forms if rater is None else forms[forms["rater"].astype(str) == rater]
    rows = rows[(rows["probe"].astype(str) == kind).to_numpy() & sided_mask(rows)]
    styled = rows["styled"].astype(str).to_numpy()
    picked = (rows["choice"].astype(str).to_numpy() == styled).astype(float)
    stage = rows["form"].astype(str).to_numpy()
    k1, n1 = picked[stage == before].sum(), float((stage == before).sum())
    k2, n2 = picked[stage == after].sum(), float((stage == after).sum())
    z = special.ndtri(0.5 + confidence / 2)
    d, low, high = _newcombe(k1, n1, k2, n2, z)
    reason = None if n1 and n2 else f"no {kind} probes answered in both forms"
    with np.errstate(invalid="ignore", divide="ignore"):
        p1, p2 = k1 / n1, k2 / n2
    return _entry(
        f"probe_{kind}",
        stages,
        float(p1),
        float(p2),
        float(d),
        float(low),
        float(high),
        float(_newcombe_p(k1, n1, k2, n2)),
        float(_cohen_h(p1, p2)),
        int(n1 + n2),
        confidence,
        reason,
    )


# --- tables, gate and readiness -----------------------------------------------------------------


def effect_table(effect: dict[str, Any]) -> pd.DataFrame:
    """The training effect as a tidy table, one row per rater (then the cohort), comparison and measure.

    Parameters
    ----------
    effect : dict
        Output of :func:`training_effect`.

    Returns
    -------
    DataFrame
        Columns :data:`EFFECT_COLUMNS`; ``rater`` is ``"cohort"`` for the
        cohort's rows and ``comparison`` is ``"post vs pre"``, ``"retention vs
        post"`` or ``"retention vs pre"``.

    Examples
    --------
    >>> entry = dict(pre=0.6, post=0.8, change=0.2, ci_low=0.05, ci_high=0.35, p_value=0.01,
    ...              significant=True, effect_size=0.44, n=80, summary="")
    >>> table = effect_table({"raters": {"ann": {"effect": {"accuracy": entry}}},
    ...                       "cohort": {"effect": {"accuracy": entry}}})
    >>> table[["rater", "comparison", "measure", "change"]].values.tolist()
    [['ann', 'post vs pre', 'accuracy', 0.2], ['cohort', 'post vs pre', 'accuracy', 0.2]]
    """
    rows = []
    objects = [*effect.get("raters", {}).items(), ("cohort", effect.get("cohort", {}))]
    for who, obj in objects:
        for key, (_, _, label) in COMPARISONS.items():
            for measure, entry in (obj.get(key) or {}).items():
                rows.append(
                    {
                        "rater": who,
                        "comparison": label,
                        "measure": measure,
                        **{c: entry.get(c) for c in EFFECT_COLUMNS[3:]},
                    }
                )
    return pd.DataFrame(rows, columns=EFFECT_COLUMNS)


def _one_rater(prepared: pd.DataFrame, name: str) -> None:
    raters = pd.unique(prepared["rater"].astype(str)) if len(prepared) else []
    if len(raters) > 1:
        raise ValueError(f"{name} needs one rater's answers; got {len(raters)} raters.")


def qualification(
    prepared_one_rater: pd.DataFrame,
    *,
    min_accuracy: float = 0.8,
    max_overconfidence: float | None = 0.10,
    confidence: float = 0.95,
) -> dict[str, Any]:
    """Whether a rater clears the qualification bar, judged by confidence bounds, not point estimates.

    The rater passes when the one-sided lower ``confidence`` bound of their
    accuracy (Wilson) is at least ``min_accuracy`` and the one-sided upper bound
    of their overconfidence is at most ``max_overconfidence``. The overconfidence
    bound is mean confidence minus the Wilson lower bound of accuracy on the
    answers with a confidence, as in :func:`calibration.scoring.overconfidence`.
    A rater with 17 of 20 right (85%) does not pass an 80% bar: the bound is
    68%; with 170 of 200 (85% too) it is 80.4%, and they pass.

    Parameters
    ----------
    prepared_one_rater : DataFrame
        One rater's answers (e.g. their post form), from :func:`calibration.data.prepare`.
    min_accuracy : float, default 0.8
    max_overconfidence : float or None, default 0.10
        None leaves calibration out of the bar.
    confidence : float, default 0.95

    Returns
    -------
    dict
        ``{passed, accuracy, accuracy_low, overconfidence, overconfidence_high, n, summary}``.

    Raises
    ------
    ValueError
        If the frame holds more than one rater, or a bar is outside [0, 1].

    Examples
    --------
    >>> frame = pd.DataFrame({"rater": "ann", "correct": [1.0] * 17 + [0.0] * 3,
    ...                       "confidence": 0.85, "choice": "A", "tie": False})
    >>> q = qualification(frame)
    >>> q["passed"], round(q["accuracy"], 2), round(q["accuracy_low"], 3)
    (False, 0.85, 0.678)
    """
    _one_rater(prepared_one_rater, "qualification")
    if not 0 <= min_accuracy <= 1 or (max_overconfidence is not None and not -1 <= max_overconfidence <= 1):
        raise ValueError("min_accuracy must be in [0, 1] and max_overconfidence in [-1, 1].")
    z = float(special.ndtri(confidence))  # one-sided bound
    correct = prepared_one_rater["correct"].to_numpy(dtype=float)
    decided = ~np.isnan(correct)
    n, k = int(decided.sum()), float(correct[decided].sum())
    acc = k / n if n else math.nan
    acc_low = float(_wilson_z(k, n, z)[0]) if n else math.nan
    conf = prepared_one_rater["confidence"].to_numpy(dtype=float)
    cal = sided_mask(prepared_one_rater) & ~np.isnan(conf)
    nc = int(cal.sum())
    over = over_high = math.nan
    if nc:
        kc = float(correct[cal].sum())
        over = float(conf[cal].mean() - kc / nc)
        over_high = float(conf[cal].mean() - _wilson_z(kc, nc, z)[0])
    acc_ok = n > 0 and acc_low >= min_accuracy
    cal_ok = max_overconfidence is None or (nc > 0 and over_high <= max_overconfidence)
    passed = bool(acc_ok and cal_ok)
    level = f"{100 * confidence:.0f}%"
    if n == 0:
        summary = "No answers with a right answer yet: nothing to judge the bar on."
    else:
        parts = [
            f"Accuracy {100 * acc:.0f}% on {n} pairs; at {level} confidence it is at least "
            f"{100 * acc_low:.0f}% ({'clears' if acc_ok else 'does not clear'} "
            f"the {100 * min_accuracy:.0f}% bar)"
        ]
        if max_overconfidence is not None:
            if nc:
                parts.append(
                    f"overconfidence {_signed_points(over)} points, at most {_signed_points(over_high)} "
                    f"({'within' if cal_ok else 'outside'} the {100 * max_overconfidence:.0f}-point limit)"
                )
            else:
                parts.append("no confidences stated, so overconfidence cannot be checked")
        summary = "; ".join(parts) + (". Passed." if passed else ". Not passed yet.")
    return {
        "passed": passed,
        "accuracy": float(acc),
        "accuracy_low": float(acc_low),
        "overconfidence": float(over),
        "overconfidence_high": float(over_high),
        "n": n,
        "summary": summary,
    }


def _betabinom_sf(m: int, q: int, a: float, b: float) -> float:
    """P(X >= m) for X ~ BetaBinomial(q, a, b)."""
    x = np.arange(m, q + 1, dtype=float)
    logpmf = (
        special.gammaln(q + 1)
        - special.gammaln(x + 1)
        - special.gammaln(q - x + 1)
        + special.betaln(x + a, q - x + b)
        - special.betaln(a, b)
    )
    return float(np.exp(logpmf).sum()) if len(x) else 0.0


def readiness(
    prepared_one_rater: pd.DataFrame, *, quiz_size: int = 20, bar: float = 0.8, window: int = 60
) -> dict[str, Any]:
    """The chance of passing a ``quiz_size``-pair quiz at ``bar``, from the rater's recent answers.

    With ``k`` right of the last ``n`` decided answers (at most ``window``,
    latest by ``answered_at``), the rater's accuracy has the posterior
    ``Beta(k + 1/2, n - k + 1/2)`` under Jeffreys' prior, and the number
    right in a quiz of ``q`` new pairs is beta-binomial
    (``scipy.stats.betabinom(q, k + 1/2, n - k + 1/2)``). The probability is
    that of at least ``ceil(bar * q)`` right. It assumes the quiz's pairs are
    as hard as the ones answered, and that the rater does not change.

    Parameters
    ----------
    prepared_one_rater : DataFrame
        One rater's answers, from :func:`calibration.data.prepare`.
    quiz_size : int, default 20
    bar : float, default 0.8
        Share right needed to pass.
    window : int, default 60
        Most recent decided answers used.

    Returns
    -------
    dict
        ``{probability, quiz_size, bar, n, accuracy, summary}``; ``probability``
        is NaN without answers.

    Raises
    ------
    ValueError
        If the frame holds more than one rater, ``quiz_size`` or ``window``
        is not a positive integer, or ``bar`` is outside [0, 1].

    Examples
    --------
    >>> frame = pd.DataFrame({"rater": "ann", "correct": [1.0] * 48 + [0.0] * 12,
    ...                       "answered_at": pd.NaT})
    >>> r = readiness(frame)
    >>> round(r["probability"], 2), r["n"]
    (0.61, 60)
    >>> print(r["summary"][:67])
    About 61% chance of passing a 20-pair quiz at 80% (16 of 20 right),
    """
    _one_rater(prepared_one_rater, "readiness")
    for name, value in (("quiz_size", quiz_size), ("window", window)):
        if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1:
            raise ValueError(f"{name} must be a positive integer; got {value!r}.")
    if not 0 <= bar <= 1:
        raise ValueError(f"bar must be in [0, 1]; got {bar!r}.")
    rows = prepared_one_rater[prepared_one_rater["correct"].notna().to_numpy()]
    if "answered_at" in rows.columns:
        when = pd.to_datetime(rows["answered_at"], utc=True, errors="coerce")
        order = np.lexsort(
            (
                np.arange(len(rows)),
                when.to_numpy(dtype="datetime64[ns]").astype("int64"),
                ~when.isna().to_numpy(),
            )
        )
        rows = rows.iloc[order]  # NaT first, then by time: the last rows are the latest
    recent = rows["correct"].to_numpy(dtype=float)[-window:]
    n, k = len(recent), float(recent.sum())
    need = math.ceil(bar * quiz_size - 1e-9)
    pass_text = f"a {quiz_size}-pair quiz at {100 * bar:.0f}% ({need} of {quiz_size} right)"
    if n == 0:
        return {
            "probability": math.nan,
            "quiz_size": int(quiz_size),
            "bar": float(bar),
            "n": 0,
            "accuracy": math.nan,
            "summary": f"No answers yet to estimate your chance of passing {pass_text}.",
        }
    prob = _betabinom_sf(need, int(quiz_size), k + 0.5, n - k + 0.5)
    summary = (
        f"About {100 * prob:.0f}% chance of passing {pass_text}, from your last {n} answers "
        f"({100 * k / n:.0f}% right), if the quiz is as hard as they were."
    )
    return {
        "probability": prob,
        "quiz_size": int(quiz_size),
        "bar": float(bar),
        "n": n,
        "accuracy": k / n,
        "summary": summary,
    }
