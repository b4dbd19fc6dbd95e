r"""Length, polish and position bias of each rater, and the plain rates behind them.

The bias model (:func:`bias_by_rater`, :func:`pooled_bias`) is a logistic
regression per rater of ``y`` = "picked the answer shown on the left" on

=================  ============================================================
covariate          meaning (oriented left minus right)
=================  ============================================================
``position``       1 (the intercept): the log odds of picking the left answer
                   when everything else is equal, i.e. position bias
``a_side``         1 on rows whose left side is unknown (oriented A minus B):
                   a pull toward response A, not reported
``length``         ``length_doublings`` (log2 word ratio): +1 = left twice as long
``polish``         ``polish_diff / 0.5``: +1 = the left answer has clearly more
                   formatting, e.g. 4 list items against 1, or 2 headers against none
``gold:<stratum>`` +1 when gold is the left answer, -1 when it is the right one,
                   on the pairs of one item stratum (0 elsewhere): the rater's
                   skill on that kind of pair, not reported
=================  ============================================================

so ``exp(coefficient)`` is the odds ratio in the unit a rater reads in the
verdict.

Item difficulty. The model is an explanatory item response model (De Boeck &
Wilson 2004): a Rasch-type skill term (Rasch 1960) per *item stratum*, the
pair's ``source`` and whether it carries one of :data:`DIFFICULTY_TAGS`
(``adversarial``), with the person covariates length, polish and position. A
single skill term for all pairs reads "this pair is hard" as bias whenever
difficulty goes with length: on LLMBar the adversarial pairs are both much
harder and mostly short-gold, and an unbiased rater who is simply worse on them
was told "you favour longer answers" in 18% of simulated cases at 200
judgments; with a skill term per stratum, 0.3% (``tests/test_bias_targets.py``,
raters of :mod:`calibration.people`). Strata with fewer than
:data:`MIN_STRATUM` (10) of the rater's judgments share one term, and that one joins
the rater's largest stratum if still too small, so the fit stays stable. The
threshold is low because a shared term brings the confound back: with 20, the
two strata of an LLMBar-like bank (40% and 60% of the pairs) shared one term
for most raters at 30 judgments, and 10.1% of unbiased raters were told "you
favour longer answers"; with 10, 5.4% (1,000 raters, ``bench/validity.py``'s
scenario). The length odds ratio of 2 was then found at 30 judgments in 46% of
such raters rather than 61%: the difference was the hard short-gold pairs'
own pull, added to the planted one.
The style tags (``length``, ``polish``) and the content tags are not strata:
the first say whether gold is the shorter answer, and banks give the second
mostly to pairs without a style trap, so a term per tag would absorb the bias
being measured. A per-*pair* easiness is not estimated from the rater's own
judgments: for one pair the length covariate is the gold side times that
pair's gold-minus-other length, so a free easiness per pair is exactly
collinear with length (any length bias can be rewritten as easiness). Inside a
cohort it can be measured on the *other* raters' judgments, with a normal prior
tying easiness to its stratum's mean and the cohort's own length pull fitted
beside it (:func:`cohort_easiness`, :mod:`calibration.easiness`), and given
to :func:`bias_by_rater` as the column ``easiness``, a known term. It keeps
its stratum's mean, so a rater whose strata share one skill term still gets
each stratum's difficulty from the cohort (LLMBar-like cohorts, 50 judgments
a rater, strata hidden from the rater's model: 4.75% of unbiased raters told
"you favour longer answers", 12% with the easiness centred on its stratum,
12.75% without it; ``tests/test_easiness.py``). On cohorts of 40
people-like raters sharing 400 pairs whose easiness is spread by 0.8 log odds
(length odds ratio 2, 200 judgments each), the rater's mean log odds ratio
fell short of the planted one by 0.063 alone and by 0.040 with the cohort's
easiness, and the interval covered it for 92.5% and 93.3%
(``tests/test_easiness.py``). The cohort measures each pair's easiness only
up to a posterior variance :math:`v` (20 raters a pair leave about half of a
0.6 spread unmeasured), and what is left still pulls the estimates toward 0:
a logistic model that leaves out a normal term of variance :math:`v` estimates
:math:`\beta / \sqrt{1 + c^2 v}`, with :math:`c = 16\sqrt{3} / (15\pi)` (Zeger,
Liang & Albert 1988). So when ``prepared`` also carries ``easiness_var``,
:func:`bias_by_rater` multiplies each rater's log odds ratios and their
interval ends by :math:`\sqrt{1 + c^2 \bar v}`, :math:`\bar v` the mean over
the rater's judgments, which turns them back into odds ratios per pair; the
p-values, and so every verdict, are unchanged (on the cohorts above the
shortfall fell from 0.040 to 0.015, and the intervals that miss below 2 from
6.0% to 4.75%). The cohort report, a rater's report built
from a cohort's judgments, and the app's My report and lead console add both
columns (:func:`with_cohort_easiness`); a rater modelled alone (a file of one
rater, or the first rater of a cohort) keeps the strata alone. The limit: difficulty that goes with length
*within* a stratum is read as length bias, and nothing in the judgments can tell
them apart. With easiness rising 0.2 log-odds per doubling of gold's length
advantage inside each stratum (``calibration.people.llmbar_like_bank(...,
confound=0.2)``), 8.7% of unbiased raters were told "you favour longer
answers"; with 0.4, 57%. A bank whose strata do not capture its difficulty
needs finer strata (a ``source`` per set of pairs built alike).

Inference. Every per-rater effect gets a penalized likelihood-ratio test and a
profile penalized likelihood interval (Heinze & Schemper 2002;
:func:`calibration.firth.penalized_inference`), which hold their level at
drill sizes where Wald's lose power. A rater's three dimensions are one family:
``significant`` is the weighted Holm correction over the estimable ones (Holm
1979; Benjamini & Hochberg 1997), with ``p_adjusted`` and ``correction``
beside it. The family is held at a 7% family-wise error rate
(:data:`FAMILY_ALPHA`): a rater with no bias gets any of the three lines about
one time in fourteen, under the ceiling of one in ten the verdicts are built
to, with room for what the model does not capture (at 10%, unbiased raters who
behave like people got a line in up to 11.2% of cases at 200 judgments). The
level is not split evenly: length, the primary and best documented bias, gets
four fifths of it at first (5.6%), position 15% (1.05%) and polish 5%
(0.35%) (:data:`HOLM_WEIGHTS`), and the share of a dimension found carries
forward to the others. Polish gets the least because it is also measured by
design: a polish probe restyles one answer of a decided pair and nothing else
(:mod:`calibration.probes`), and finds a pull with about half the answers the
regression needs. Nor is a dimension's share split evenly between its two
directions: the traps PairCal drills pull one way (toward the longer, the more
polished, the left answer), so 90% of the length and polish shares and 80% of
position's go to that side and the rest to the other (:data:`TOWARD_SHARES`,
:func:`directed`: a weighted Bonferroni test over the two directions, whose
level stays the share). "You favour shorter answers" still exists, on stronger
evidence: a planted odds ratio of 1/2 per doubling is found at 100 judgments in
73% of raters against 94% with the level split evenly
(``tests/test_bias_targets.py``). Measured on the scenarios of
``bench/validity.py`` (1,000 raters a cell, the same raters for both rules; two
sets, seeds 12 and 99: the levels and shares were chosen on the first and
checked on the second), against the former rule (10%, each share split
evenly): unbiased raters with any line at 200 judgments over eight scenarios
6.2-9.4% and 6.4-7.4% (8.4-11.2% and 8.8-10.8%); a length odds ratio of 2 per
doubling found at 30 judgments in 54.8-59.0% and 55.3-61.5% of raters alone
(49.7-54.3%, 49.6-57.8%) and 51.4-62.4% and 54.6-60.8% in a cohort
(46.4-58.3%, 50.1-56.7%); position odds ratio 2.7 at 100 judgments in
86.4-92.7% and 86.1-93.1% (85.8-92.4%, 85.7-92.2%); "you favour longer
answers" for unbiased raters on the LLMBar-like bank, where the hard pairs
are short-gold, in 3.8-7.7% and 4.1-7.1% (2.8-6.0%, 3.2-6.0%), the price of
spending most of the level on the side that confound pushes. At a 5% family
level no two-sided split finds a length odds ratio of 2 in half the raters at
30 judgments (skill 1, 1,500 raters: uncorrected 53%, Holm's equal thirds
33%, 60% of 5% on length 44%). The fallback procedure (Wiens 2003) finds the
same as these weights when one bias is planted. The penalized likelihood-ratio
test itself holds its level at 30 judgments (mean statistic for length 0.97
under no bias, 3.3% rejected at 5%), so the power lost is the price of the
family, not of the test. A view listing raters flagged across a cohort uses
:func:`across_raters` (Benjamini-Hochberg, on the same directed p-values).
A rater who never disagreed with gold (or always did) gets "not enough
evidence": their choices hold no information on a pull, and an odds ratio
would come from Firth's penalty alone.

Which judgments count. Judgments on gold ties are left out
(:func:`calibration.data.split_ties`), and so are tie answers ("About equally
good"), which chose neither side (:func:`calibration.data.sided`), repeats of
a pair the rater answered before (:func:`calibration.data.first_answer_mask`:
its gold was shown, so the answer measures memory), and probes
(:func:`calibration.data.ordinary_mask`): a probe repeats its base pair's
content with one response restyled, so fitting it would count the base twice;
the probe measure (:func:`calibration.probes.probe_rates`) is the test designed
for it. The same holds for :func:`plain_rates` (which keeps repeats: the
caller passes first answers). Where the side shown on the left is unknown, the
row is oriented A minus B with ``y`` = "picked A" and the ``a_side``
intercept; a rater's position bias is reported only when at least ``min_n``
decided judgments have ``left`` recorded.

All three effects share one output layout (one row per rater and effect):

================  ================================================================
column            meaning
================  ================================================================
``rater``         rater id, or ``"cohort"`` for :func:`pooled_bias`
``effect``        ``"length"``, ``"polish"`` or ``"position"``
``n``             decided first answers behind the estimate (for ``position``:
                  those with the left side recorded)
``odds_ratio``    ``exp(coefficient)`` in the unit of ``unit``; NaN when not estimable
``ci_low``        lower end of the 95% interval of ``odds_ratio`` (profile
                  penalized likelihood per rater; cluster-robust Wald with
                  Student t over raters for the cohort)
``ci_high``       upper end
``p_value``       two-sided p-value for "odds ratio = 1", uncorrected (penalized
                  likelihood ratio per rater; cluster-robust Wald t for the cohort)
``significant``   ``p_adjusted < 0.07`` (:data:`FAMILY_ALPHA`; False when not estimable)
``estimable``     False when there is too little data, no variation or no
                  evidence; the reason is then in ``summary`` and the numbers are NaN
``unit``          what one unit of the odds ratio means
``summary``       the verdict sentence, or why there is none
``p_adjusted``    ``p_value`` made one-directional (:func:`directed`, by
                  :data:`TOWARD_SHARES`), then corrected as ``correction`` says
``correction``    what was corrected, e.g. "Holm over your 3 bias dimensions tested,
                  weighted (length 80%, position 15%, polish 5% of the 7% family-wise
                  level at first); each dimension's share goes mostly to the usual
                  direction (toward longer 90%, ...) and the rest to the other"
================  ================================================================

References
----------
Rasch, G. (1960). Probabilistic models for some intelligence and attainment
tests. Danish Institute for Educational Research.

De Boeck, P. and Wilson, M. (eds.) (2004). Explanatory item response models.
Springer.

Holm, S. (1979). A simple sequentially rejective multiple test procedure.
Scandinavian Journal of Statistics 6(2), 65-70.

Benjamini, Y. and Hochberg, Y. (1997). Multiple hypotheses testing with
weights. Scandinavian Journal of Statistics 24(3), 407-418.

Wiens, B. L. (2003). A fixed sequence Bonferroni procedure for testing
multiple endpoints. Pharmaceutical Statistics 2(3), 211-215.

Zeger, S. L., Liang, K.-Y. and Albert, P. S. (1988). Models for longitudinal
data: a generalized estimating equation approach. Biometrics 44(4), 1049-1060.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pandas as pd
from scipy import special  # scipy.stats, slow to import, only where a test needs it

from calibration.data import first_answer_mask, ordinary_mask, sided_mask, split_ties
from calibration.easiness import pair_easiness
from calibration.firth import firth_logistic, penalized_inference
from calibration.intervals import wilson_interval
from pairs.export import count_of

__all__ = [
    "BIAS_COLUMNS",
    "EFFECTS",
    "cohort_easiness",
    "with_cohort_easiness",
    "FAMILY_ALPHA",
    "HOLM_WEIGHTS",
    "MIN_JUDGMENTS",
    "TOWARD_SHARES",
    "across_raters",
    "benjamini_hochberg",
    "directed",
    "bias_by_rater",
    "holm",
    "item_strata",
    "plain_rates",
    "pooled_bias",
    "tag_accuracy",
]

#: Decided (non-tie) first answers a rater needs before any bias is estimated. With
#: fewer, four parameters rest on too few judgments: estimates are dominated by
#: Firth's shrinkage and intervals span most of the plausible range.
MIN_JUDGMENTS = 30

#: Effects reported, in output order.
EFFECTS = ("length", "polish", "position")

#: Shares of the family level (:data:`FAMILY_ALPHA` for a rater) that the weighted Holm
#: correction over a rater's dimensions gives each one at first (:func:`holm`); the share
#: of a dimension found carries forward to the others. Length, the primary and best
#: documented bias of human and model judges, gets the largest; position keeps what
#: finds an odds ratio of 2.7 in 85% of raters at 100 judgments. Measured in the module
#: docstring.
HOLM_WEIGHTS = {"length": 0.8, "polish": 0.05, "position": 0.15}

#: Polish difference (:func:`pairs.features.pair_features`: half the sum over the kinds of
#: markup of ln((1 + count A) / (1 + count B))) that counts as one unit: about 4 items of
#: one kind against 1 (0.46) or 2 against none (0.55).
POLISH_UNIT = 0.5

#: Word ratio (of ``words + 1``) from which :func:`plain_rates` calls one answer longer.
LENGTH_RATIO = 1.5

#: Significance level of every test in this module.
ALPHA = 0.05

#: Family-wise error rate of a rater's three bias lines: the chance that a rater with no
#: bias gets any line. Split by :data:`HOLM_WEIGHTS`, so each line alone is held at most
#: 5.6% (length), 1.05% (position) and 0.35% (polish) at first, and each of those by
#: :data:`TOWARD_SHARES` between its two directions.
FAMILY_ALPHA = 0.07

#: Share of each line's level spent on the direction answers are known to pull raters (an
#: odds ratio above 1: toward the longer, the more polished, the left answer); the rest keeps
#: watch on the other side (:func:`directed`). Length: 5.04% toward longer, 0.56% toward
#: shorter at first. Measured in the module docstring.
TOWARD_SHARES = {"length": 0.9, "polish": 0.9, "position": 0.8}

#: The constant of the logistic-normal approximation (Zeger, Liang & Albert 1988):
#: :math:`E_u[\operatorname{expit}(\eta + u)] \approx \operatorname{expit}(\eta / \sqrt{1 + c^2 v})`
#: for :math:`u \sim N(0, v)`.
LOGIT_NORMAL_C = 16.0 * np.sqrt(3.0) / (15.0 * np.pi)

#: :func:`tag_accuracy` flags a tag when accuracy on it is at least this much
#: below accuracy on the rater's other judgments (and the difference is significant).
WEAK_SPOT_GAP = 0.10

BIAS_COLUMNS = [
    "rater",
    "effect",
    "n",
    "odds_ratio",
    "ci_low",
    "ci_high",
    "p_value",
    "significant",
    "estimable",
    "unit",
    "summary",
    "p_adjusted",
    "correction",
]

UNITS = {
    "length": "per doubling: one answer twice as long as the other",
    "polish": "per 0.5 of polish difference: e.g. 4 list items against 1, or 2 headers against none",
    "position": "left answer against right answer, all else equal",
}

#: Fewest decided judgments of one item stratum that get their own skill term;
#: smaller strata share one term (and join the largest one if that is still too small).
MIN_STRATUM = 10

#: Tags that mark a stratum of item difficulty (with ``source``). The style tags
#: ``length`` and ``polish`` say whether gold is the shorter or plainer answer,
#: and content tags are given in many banks only to pairs without a style trap,
#: so a skill term per such tag would absorb the very bias being measured.
DIFFICULTY_TAGS = ("adversarial",)

#: Columns of the design matrix before the skill terms (one ``gold`` column per stratum follows).
_DESIGN = ("position", "a_side", "length", "polish")
_COLUMN = {effect: _DESIGN.index(effect) for effect in EFFECTS}
_Z = special.ndtri(1 - ALPHA / 2)
_NEEDED = ("rater", "choice", "gold", "tie", "left", "length_doublings", "polish_diff")

#: Raters per batched fit; with the padding to the largest group in a batch this
#: bounds memory to a few arrays of this many rows times the judgments per rater.
_BATCH_CELLS = 1_000_000


def bias_by_rater(prepared: pd.DataFrame, *, min_n: int = MIN_JUDGMENTS) -> pd.DataFrame:
    r"""Length, polish and position bias of each rater, from one batched Firth fit.

    For rater :math:`r` and decided first answer :math:`i` to a pair of stratum :math:`k(i)`,

    .. math::

        \operatorname{logit} P(\text{picked left}) = \beta_{pos}
            + \theta_{k(i)} g_i + \beta_{len} \ell_i + \beta_{pol} \pi_i / 0.5,

    with :math:`g_i = \pm 1` the side of gold, :math:`\theta_k` the rater's
    skill on stratum :math:`k` (see the module docstring), :math:`\ell_i` the
    log2 word ratio and :math:`\pi_i` the polish difference, all
    left minus right (A minus B, with an "A" intercept in place of
    :math:`\beta_{pos}`, where ``left`` is unknown). It is fitted by Firth's
    penalized likelihood (:func:`calibration.firth.firth_logistic`), which
    stays finite for raters who always agree with gold on a stratum (complete
    separation) and removes the small-sample bias of maximum likelihood.

    Odds ratios are :math:`e^{\beta}`. The p-value is the penalized
    likelihood-ratio test of :math:`\beta = 0` and the 95% interval the
    profile penalized likelihood interval (Heinze & Schemper 2002), all raters
    at once (:func:`calibration.firth.penalized_inference`); the two agree, so
    an uncorrected p below 0.05 goes with an interval that leaves out 1.
    ``significant`` is ``p_adjusted <`` :data:`FAMILY_ALPHA` (0.07), the weighted
    Holm correction over the rater's estimable dimensions (:data:`HOLM_WEIGHTS`)
    of p-values that spend most of each level on one direction
    (:data:`TOWARD_SHARES`, :func:`directed`): length is first tested at 5.04%
    toward longer and 0.56% toward shorter, position at 0.84% toward the left and
    0.21% toward the right, polish at 0.315% toward more polished and 0.035% toward
    less.

    Validation. Synthetic bank (``tests/test_bias.py``; 1,000 raters of skill
    0.5-2.5, 200 judgments each): with no planted bias the uncorrected tests
    rejected for 4.5% (length), 3.8% (polish) and 5.8% (position), and 4.3% of
    raters got at least one bias line after the weighted Holm correction (3.4%
    with equal shares); with 30 judgments 3.4%, 3.9%, 3.2% and 2.7%. With
    planted odds ratios (2 per doubling, 1.65, 1.35) length bias was flagged
    for 99.3% of raters, polish for 57.2% and position for 32.0% (99.1%, 62.9%
    and 30.9% with equal shares: polish's smaller share costs it power), and
    the intervals covered the planted odds ratios for 94.7%, 95.0% and 93.7%.
    Raters who behave like people (``tests/test_bias_targets.py``,
    :mod:`calibration.people`: hard short-gold pairs, item easiness spread,
    fatigue, 10% repeats; 300 raters): an unbiased rater was told "you favour
    longer answers" in 0% of cases at 200 judgments (with one skill term for all
    pairs, 16% for the uncorrected test), 4.0% got any bias line (6.0% with
    Holm's equal shares); position odds ratio 2.7 was found in 85.3% at 100
    judgments (85.6% of 900 raters); coverage 94.0%, 94.7% and 95.0%. A length
    odds ratio of 2 (skill 1, synthetic bank) was found in 98% at 100 judgments
    and 46.5% at 30 (400 raters; 42.3% of 1,500; 58% and 53% before the
    correction, 36.5% and 33% with equal shares). Estimates agree with
    statsmodels ``Logit`` to within a tenth of a standard error on 2,500
    judgments. Speed (``bench/bench_stats.py``'s
    cohort, 2 cores): 1,000 raters x 200 judgments take about 0.8 s when the
    cores are idle and 1.5-2 s when other work shares them, against 0.5 s for
    the single Wald fit this replaced: the tests and
    intervals need a null fit per effect and one or two held fits per interval
    end, all batched and warm-started.

    Inside a cohort, a column ``easiness`` in ``prepared`` (each judgment's
    pair easiness measured on the rest of the cohort, log odds toward gold:
    :func:`cohort_easiness`) enters the model as a known term :math:`e_i g_i`,
    so a pair that was hard for everyone does not read as a pull. NaN counts
    as 0; without the column the rater is modelled alone (the skill terms per
    item stratum only). A column ``easiness_var`` (the posterior variance of
    each value, :func:`cohort_easiness` with ``return_variance=True``) turns
    the odds ratios and their intervals into ones per pair: each rater's log
    odds ratios and interval ends are multiplied by :math:`\sqrt{1 + c^2 \bar
    v}` (:data:`LOGIT_NORMAL_C`, :math:`\bar v` the mean over the rater's
    modelled judgments, NaN counting as 0), the share of easiness the cohort
    left unmeasured (module docstring). The p-values are those of the fit.

    Parameters
    ----------
    prepared : DataFrame
        Output of :func:`calibration.data.prepare` (one row per judgment),
        optionally with ``easiness`` and ``easiness_var``.
    min_n : int, default :data:`MIN_JUDGMENTS`
        Decided judgments a rater needs; below it the numbers are NaN and the
        verdict says "not enough data yet".

    Returns
    -------
    DataFrame
        Columns :data:`BIAS_COLUMNS` (see the module docstring), three rows per
        rater (``length``, ``polish``, ``position``), raters in order of first
        appearance. Raters whose judgments are all on ties are included with
        ``n = 0``.

    References
    ----------
    Firth, D. (1993). Bias reduction of maximum likelihood estimates.
    Biometrika 80(1), 27-38.

    Heinze, G. and Schemper, M. (2002). A solution to the problem of separation
    in logistic regression. Statistics in Medicine 21(16), 2409-2419.

    Examples
    --------
    >>> from calibration.data import prepare
    >>> from calibration.simulate import RaterSpec, simulate_judgments, synthetic_bank
    >>> bank = synthetic_bank(400, seed=1)
    >>> spec = RaterSpec("sim-long", skill=1.5, length_bias=float(np.log(2)))
    >>> judgments = simulate_judgments(bank, [spec], n_per_rater=400, seed=2)
    >>> out = bias_by_rater(prepare(bank, judgments))
    >>> out[["effect", "n", "significant"]].to_dict("list")
    {'effect': ['length', 'polish', 'position'], 'n': [400, 400, 400], 'significant': [True, False, False]}
    """
    min_n = _check_min_n(min_n)
    design = _design(prepared)
    offset = _offset(design, prepared)
    raters = design["raters"]
    n_raters = len(raters)
    n, n_left = design["n"], design["n_left"]
    fit_ok = n >= min_n
    with_position = fit_ok & (n_left >= min_n)
    design["X"][:, 0] *= with_position[design["code"]]
    design["X"] = np.column_stack([design["X"], _gold_block(design, design["code"], n_raters)])

    cols = [_COLUMN[e] for e in EFFECTS]
    est = {key: np.full((n_raters, len(cols)), np.nan) for key in ("beta", "low", "high", "p")}
    converged = np.zeros(n_raters, dtype=bool)
    nan_coef = np.zeros(n_raters, dtype=bool)
    for batch in _batches(np.flatnonzero(fit_ok), n, copies=2 * len(cols)):
        X, y, w = _stack(design, batch)
        off = None if offset is None else _stack_values(design, batch, offset)
        out = penalized_inference(X, y, w, cols, offset=off)
        for key in est:
            est[key][batch] = out[key]
        converged[batch] = out["converged"]
        nan_coef[batch] = out["collinear"]

    reasons = _reasons_by_rater(design, fit_ok, with_position, converged, nan_coef, min_n)
    for j, effect in enumerate(EFFECTS):
        open_ended = ~np.isfinite(est["low"][:, j]) | ~np.isfinite(est["high"][:, j])
        needs = open_ended & fit_ok & np.array([r is None for r in reasons[effect]], dtype=bool)
        reasons[effect][needs] = (
            "Not enough evidence: your choices do not pin this effect down yet (its interval does not close)."
        )
    _per_pair(est, design, prepared)
    estimates = {
        effect: tuple(est[key][:, j] for key in ("beta", "low", "high", "p"))
        for j, effect in enumerate(EFFECTS)
    }
    counts = {"length": n, "polish": n, "position": n_left}
    return _assemble(raters, estimates, counts, reasons, subject="you", family_alpha=FAMILY_ALPHA)


def cohort_easiness(
    prepared: pd.DataFrame, *, return_variance: bool = False
) -> np.ndarray | tuple[np.ndarray, np.ndarray]:
    """Each judgment's pair easiness, measured on the rest of the cohort (log odds toward gold).

    The crossed rater and pair model of :mod:`calibration.easiness` on the
    cohort's decided first answers (those :func:`bias_by_rater` models), with
    the pairs' item strata (:func:`item_strata`) and the cohort's length,
    polish and left-side pulls. Each value leaves out the judgment it belongs
    to, so as the column ``easiness`` of ``prepared`` it tells
    :func:`bias_by_rater` how hard the pair was for everyone else.

    Parameters
    ----------
    prepared : DataFrame
        Output of :func:`calibration.data.prepare`, with ``pair_id``.
    return_variance : bool, default False
        Also return each value's posterior variance (the part of the pair's
        easiness the rest of the cohort left unmeasured; the spread between
        pairs of a stratum, squared, where no one else judged the pair), which
        :func:`bias_by_rater` reads as ``easiness_var``.

    Returns
    -------
    easiness : ndarray of shape (len(prepared),)
        About the pairs' mean easiness (0), the stratum's mean included; a
        pair no one else judged gets its stratum's mean. NaN on judgments the
        bias model leaves out (ties, probes, repeats), and everywhere when no
        pair was judged by two raters (nothing to measure it on).
    variance : ndarray of shape (len(prepared),)
        Only when ``return_variance``; NaN where ``easiness`` is.
    """
    out = np.full(len(prepared), np.nan)
    variance = np.full(len(prepared), np.nan)
    nothing = (out, variance) if return_variance else out
    if "pair_id" not in prepared.columns:
        return nothing
    design = _design(prepared)
    if not len(design["y"]):
        return nothing
    g, X = design["g"], design["X"]
    agree = (design["y"] == (g > 0)).astype(float)
    toward_gold = g[:, None] * X[:, [_DESIGN.index(e) for e in ("length", "polish", "position")]]
    # fitted in an order set by the names (rater, pair, stratum), not by the rows' order, so the
    # same judgments give the same values to the last bit from a file or from the database
    if (np.bincount(design["pair"]) < 2).all():
        return nothing  # no pair judged twice: nothing to measure
    kept = np.flatnonzero(np.asarray(design["kept"]))
    rater = np.asarray(design["raters"], dtype=object)[design["code"]].astype(str)
    pair = prepared["pair_id"].to_numpy()[kept].astype(str)
    stratum = np.asarray(design["strata"], dtype=object)[design["stratum"]].astype(str)
    order = np.lexsort((pair, rater))
    r_code, p_code, s_code = (pd.factorize(values[order], sort=True)[0] for values in (rater, pair, stratum))
    fit = pair_easiness(agree[order], r_code, p_code, s_code, toward_gold[order])
    offset, var = np.empty(len(order)), np.empty(len(order))
    # the stratum's mean stays in: a rater whose small strata share one skill term would
    # otherwise lose the cohort's measure of how much harder one stratum is than another
    offset[order], var[order] = fit.offset + fit.stratum_mean, fit.offset_var
    out[kept], variance[kept] = offset, var
    return (out, variance) if return_variance else out


def with_cohort_easiness(prepared: pd.DataFrame) -> pd.DataFrame:
    """``prepared`` with the columns ``easiness`` and ``easiness_var`` (:func:`cohort_easiness`)
    when its raters share pairs.

    A cohort view of the bias model (the cohort report, a rater's report built
    from a cohort's judgments) calls this first, so each rater's model allows
    for how hard each pair was for the others; a frame of one rater, or one that has ``easiness`` already, or
    whose raters share no pair, is returned as it is (the rater alone: skill
    terms per item stratum).

    Parameters
    ----------
    prepared : DataFrame
        Output of :func:`calibration.data.prepare`.

    Returns
    -------
    DataFrame
    """
    if "easiness" in prepared.columns or "pair_id" not in prepared.columns or prepared["rater"].nunique() < 2:
        return prepared
    easiness, variance = cohort_easiness(prepared, return_variance=True)
    if np.isnan(easiness).all():
        return prepared
    return prepared.assign(easiness=easiness, easiness_var=variance)


def pooled_bias(
    prepared: pd.DataFrame,
    *,
    min_n: int = MIN_JUDGMENTS,
    min_raters: int = 2,
    by: np.ndarray | pd.Series | None = None,
) -> pd.DataFrame:
    r"""The cohort's bias: one model on every rater's decided judgments.

    The model is that of :func:`bias_by_rater`, fitted once (Firth) on all
    raters' judgments with a common coefficient for every term (the skill terms
    per item stratum of the cohort). Judgments of one rater are not independent
    (each rater has their own skill and biases), and neither are judgments of
    one pair (each pair has its own difficulty, shared by every rater who
    judges it), so the covariance is two-way cluster-robust, by rater and by
    pair (Cameron, Gelbach & Miller 2011):
    :math:`V = V_{rater} + V_{pair} - V_{rater \cap pair}`, each

    .. math::

        V_c = c\, I^{-1} \Big(\sum_g s_g s_g^\top\Big) I^{-1}, \qquad
        s_g = \sum_{i \in g} x_i (y_i - \hat\mu_i), \qquad
        c = \frac{G}{G - 1} \frac{N - 1}{N - K},

    with :math:`G` clusters, :math:`N` judgments and :math:`K` coefficients (the
    CR1 correction statsmodels and Stata use). The estimate is a
    population-averaged effect (a GEE with an independence working correlation,
    Liang & Zeger 1986). Intervals and p-values use Student's t with
    :math:`G - 1` degrees of freedom for the smaller of the two cluster counts,
    as advised for few clusters (Cameron & Miller 2015). Firth's penalty is
    O(1) against an O(N) likelihood here, so the sandwich uses the ordinary
    score. Clustering by rater alone, a cohort of 40 unbiased raters on a bank
    of 300 LLMBar-like pairs (each judged about 27 times) was called
    length-biased in 25% of simulated cohorts (uncorrected); pair difficulty
    shared across raters is the reason.

    Parameters
    ----------
    prepared : DataFrame
        Output of :func:`calibration.data.prepare`.
    min_n : int, default :data:`MIN_JUDGMENTS`
        Decided judgments the cohort needs in all (for position: with ``left``
        recorded).
    min_raters : int, default 2
        Raters needed for a cluster-robust interval (at least 2).
    by : array-like of str, optional
        A group of each judgment (one per row of ``prepared``, e.g. its
        track): the model is then fitted on each group's judgments apart, as
        if each group were the cohort, from one design matrix.

    Returns
    -------
    DataFrame
        Columns :data:`BIAS_COLUMNS`, three rows with ``rater = "cohort"``; with
        ``by``, three rows per group, ``rater`` naming the group, groups sorted.

    Raises
    ------
    ValueError
        If ``min_n`` or ``min_raters`` is not a valid count, or ``by`` does not
        have one value per judgment.

    References
    ----------
    Cameron, A. C., Gelbach, J. B. and Miller, D. L. (2011). Robust inference
    with multiway clustering. Journal of Business & Economic Statistics 29(2),
    238-249.

    Liang, K.-Y. and Zeger, S. L. (1986). Longitudinal data analysis using
    generalized linear models. Biometrika 73(1), 13-22.

    Cameron, A. C. and Miller, D. L. (2015). A practitioner's guide to
    cluster-robust inference. Journal of Human Resources 50(2), 317-372.
    """
    min_n = _check_min_n(min_n)
    if isinstance(min_raters, bool) or not isinstance(min_raters, (int, np.integer)) or min_raters < 2:
        raise ValueError(f"min_raters must be an integer >= 2; got {min_raters!r}.")
    if by is not None and len(by) != len(prepared):
        raise ValueError(f"by has {len(by)} values for {len(prepared)} judgments; it needs one per judgment.")
    design = _design(prepared)
    if by is None:
        return _pooled_fit(design, np.ones(len(design["y"]), dtype=bool), "cohort", min_n, min_raters)
    group, labels = pd.factorize(np.asarray(by, dtype=object), sort=True, use_na_sentinel=False)
    group = group[design["kept"]]
    fits = [_pooled_fit(design, group == g, label, min_n, min_raters) for g, label in enumerate(labels)]
    return pd.concat(fits, ignore_index=True)


def _pooled_fit(design: dict, rows: np.ndarray, label: str, min_n: int, min_raters: int) -> pd.DataFrame:
    """The pooled model of :func:`pooled_bias` on the design's ``rows``, its three rows named ``label``."""
    sub = {**design, "stratum": design["stratum"][rows], "g": design["g"][rows]}
    gold = _gold_block(sub, np.zeros(int(rows.sum()), dtype=int), 1)
    code, X, y = design["code"][rows], np.column_stack([design["X"][rows], gold]), design["y"][rows]
    total = len(y)
    known = X[:, 0] != 0  # the side shown on the left was recorded
    n_raters = len(design["raters"])
    raters_with = np.bincount(code, minlength=n_raters) > 0
    raters_left = np.bincount(code[known], minlength=n_raters) > 0
    n_left = int(known.sum())
    with_position = n_left >= min_n and raters_left.sum() >= min_raters
    X[:, 0] *= with_position

    reason = None
    if total < min_n:
        reason = f"Not enough data yet: {total} decided judgments in the cohort, at least {min_n} needed."
    elif raters_with.sum() < min_raters:
        reason = (
            f"Not estimable for the cohort: judgments from {int(raters_with.sum())} rater(s); "
            f"a cluster-robust interval needs at least {min_raters}."
        )
    coef = np.full(X.shape[1], np.nan)
    cov = np.full((X.shape[1], X.shape[1]), np.nan)
    groups = 0
    if reason is None:
        distinct, weights = _distinct_rows(X, y)
        fit = firth_logistic(X[distinct][None], y[distinct][None], weights[None].astype(float))
        if not fit.converged[0]:
            reason = "Not estimable for the cohort: the model did not converge."
        else:
            coef = fit.coef[0]
            cov, groups = _cluster_cov(X, y, code, design["pair"][rows], coef, fit.cov[0])

    estimates = {e: (coef[[_COLUMN[e]]], np.sqrt(np.diag(cov))[[_COLUMN[e]]]) for e in EFFECTS}
    reasons = {e: np.array([reason], dtype=object) for e in EFFECTS}
    if reason is None:
        if not with_position:
            reasons["position"][0] = (
                "Position bias not estimable for the cohort: the side each answer was shown on "
                f"was recorded for {count_of(n_left, 'decided judgment')} "
                f"from {count_of(raters_left.sum(), 'rater')} "
                f"(at least {min_n} judgments from {min_raters} raters needed)."
            )
        for effect in ("length", "polish"):
            if not np.any(X[:, _COLUMN[effect]] != 0):
                reasons[effect][0] = _NO_VARIATION[effect].format(who="the cohort judged")
    counts = {"length": np.array([total]), "polish": np.array([total]), "position": np.array([n_left])}

    tested = {}
    for effect, (beta, se) in estimates.items():
        _, low, high, p = _wald(beta, se, df=max(groups - 1, 1))
        tested[effect] = (beta, np.log(low), np.log(high), p)
    return _assemble(
        np.array([label], dtype=object), tested, counts, reasons, subject="cohort", family_alpha=ALPHA
    )


def plain_rates(prepared: pd.DataFrame) -> pd.DataFrame:
    """How often each rater picks the longer (more polished) answer, split by gold.

    Among decided judgments on pairs whose answers clearly differ (length: the
    word ratio of ``words + 1`` is at least :data:`LENGTH_RATIO`, i.e.
    ``|length_doublings| >= log2 1.5``; polish: the polish counts differ), the
    rate of picking the longer (more polished) answer when the expert preferred
    the other one, and when the expert preferred it, each with its Wilson 95%
    interval.

    An unbiased rater is as accurate in both situations: they pick the longer
    answer at rate :math:`1 - a` when it is wrong and :math:`a` when it is right.
    A length bias makes them more accurate when gold is the longer answer. So
    ``p_value`` is Fisher's exact test (two-sided, ``scipy.stats.fisher_exact``)
    of the 2x2 table ``[[right, wrong] when gold is the other answer, [right,
    wrong] when gold is the longer one]``: that accuracy is the same in both
    situations. (The two raw "picked longer" rates differ for any rater who
    follows gold at all, so a test of their difference would measure skill.)

    Parameters
    ----------
    prepared : DataFrame
        Output of :func:`calibration.data.prepare`, one rater or many.

    Returns
    -------
    DataFrame
        One row per rater and ``dimension`` (``"length"``, ``"polish"``):

        ==========================  ===========================================
        column                      meaning
        ==========================  ===========================================
        ``rater``                   rater id
        ``dimension``               ``"length"`` or ``"polish"``
        ``n_gold_less``             judgments where gold is the shorter (plainer)
                                    answer
        ``picked_more_gold_less``   of those, how many times the rater picked
                                    the longer (more polished) one
        ``rate_gold_less``          their ratio (NaN when ``n_gold_less == 0``)
        ``ci_low_gold_less``        Wilson 95% interval of ``rate_gold_less``
        ``ci_high_gold_less``
        ``n_gold_more``             judgments where gold is the longer (more
                                    polished) answer
        ``picked_more_gold_more``   of those, picks of the longer (more polished)
        ``rate_gold_more``          their ratio
        ``ci_low_gold_more``        Wilson 95% interval of ``rate_gold_more``
        ``ci_high_gold_more``
        ``p_value``                 Fisher's exact test of equal accuracy (see
                                    above); NaN when either situation has no pair
        ``summary``                 a sentence for the rater
        ==========================  ===========================================

    References
    ----------
    Fisher, R. A. (1922). On the interpretation of chi-square from contingency
    tables, and the calculation of P. JRSS 85(1), 87-94.

    Examples
    --------
    >>> prepared = pd.DataFrame({
    ...     "rater": "r1", "choice": ["A", "A", "B", "A"], "gold": ["A", "B", "B", "B"],
    ...     "tie": False, "length_doublings": [1.0, 1.0, 1.0, 0.0], "more_polished": "",
    ... })
    >>> row = plain_rates(prepared).iloc[0]
    >>> print(row["summary"])  # doctest: +NORMALIZE_WHITESPACE
    When the expert preferred the shorter answer, you picked the longer one 50% of the time (n = 2);
    when the expert preferred the longer answer, you picked it 100% of the time (n = 1).
    """
    _require(prepared, ("rater", "choice", "gold", "tie", "length_doublings", "more_polished"))
    decided = prepared[sided_mask(prepared) & ordinary_mask(prepared)]  # probes: calibration.probes
    raters, code = _rater_codes(prepared, decided)
    ld = decided["length_doublings"].to_numpy(dtype=float)
    bigger = {
        "length": np.where(np.abs(ld) < np.log2(LENGTH_RATIO), "", np.where(ld > 0, "A", "B")),
        "polish": decided["more_polished"].fillna("").to_numpy(dtype=object).astype(str),
    }
    choice = decided["choice"].to_numpy(dtype=object)
    gold = decided["gold"].to_numpy(dtype=object)
    frames = []
    for dimension, side in bigger.items():
        differ = side != ""
        gold_more = (gold == side) & differ
        picked_more = (choice == side) & differ
        counts = {}
        for label, where in (("less", differ & ~gold_more), ("more", gold_more)):
            n = np.bincount(code[where], minlength=len(raters))
            k = np.bincount(code[where & picked_more], minlength=len(raters))
            low, high = wilson_interval(k, n)
            with np.errstate(invalid="ignore", divide="ignore"):
                rate = np.where(n > 0, k / np.maximum(n, 1), np.nan)
            counts[label] = (n, k, rate, low, high)
        frame = pd.DataFrame({"rater": raters, "dimension": dimension})
        for label, (n, k, rate, low, high) in counts.items():
            frame[f"n_gold_{label}"] = n
            frame[f"picked_more_gold_{label}"] = k
            frame[f"rate_gold_{label}"] = rate
            frame[f"ci_low_gold_{label}"] = low
            frame[f"ci_high_gold_{label}"] = high
        (n1, k1, *_), (n2, k2, *_) = counts["less"], counts["more"]
        frame["p_value"] = _fisher_two_sided(n1 - k1, k1, k2, n2 - k2)
        frame["summary"] = [_plain_sentence(dimension, *row) for row in zip(n1, k1, n2, k2, strict=True)]
        frames.append(frame)
    out = pd.concat(frames, ignore_index=True)
    order = np.argsort(np.r_[np.arange(len(raters)), np.arange(len(raters))], kind="stable")
    return out.iloc[order].reset_index(drop=True)


def tag_accuracy(prepared: pd.DataFrame) -> pd.DataFrame:
    """Accuracy of each rater on each trap tag, with the tags they clearly miss.

    For each rater and tag, accuracy on decided judgments of pairs with that tag
    (a pair with several tags counts for each), its Wilson 95% interval, and
    the rater's accuracy on their other decided judgments. A tag is a
    ``weak_spot`` when accuracy on it is at least :data:`WEAK_SPOT_GAP` (10
    percentage points) below accuracy on the rater's other judgments *and*
    Fisher's exact test (one-sided, alternative "less") rejects equality at
    :data:`ALPHA`: a gap large enough to matter and too large to be chance.
    The comparison is with the *other* judgments, not the overall accuracy,
    which contains the tag's own judgments and would hide the gap. The
    one-sided p-value is the hypergeometric tail ``P(X <= correct)``, which is
    exactly what ``scipy.stats.fisher_exact(..., alternative="less")`` returns,
    computed for all rows at once. No correction for testing several tags is
    made; the flag points to where to practise, it is not a finding.

    Parameters
    ----------
    prepared : DataFrame
        Output of :func:`calibration.data.prepare`.

    Returns
    -------
    DataFrame
        One row per rater and tag seen in their decided judgments, sorted by
        rater (first appearance) and tag:

        ====================  ===================================================
        column                meaning
        ====================  ===================================================
        ``rater``             rater id
        ``tag``               trap kind
        ``n``                 decided judgments on pairs with this tag
        ``correct``           of those, how many agree with gold
        ``accuracy``          ``correct / n``
        ``ci_low``            Wilson 95% interval of ``accuracy``
        ``ci_high``
        ``n_other``           the rater's decided judgments without this tag
        ``accuracy_other``    accuracy on those (NaN when ``n_other == 0``)
        ``overall_accuracy``  accuracy on all the rater's decided judgments
        ``p_value``           one-sided Fisher exact test that ``accuracy`` is
                              below ``accuracy_other`` (NaN when ``n_other == 0``)
        ``weak_spot``         the flag described above
        ====================  ===================================================

    Examples
    --------
    >>> prepared = pd.DataFrame({
    ...     "rater": "r1", "tie": False, "correct": [1.0, 0.0, 1.0, 1.0],
    ...     "tags": [("length",), ("length", "polish"), ("control",), ()],
    ... })
    >>> out = tag_accuracy(prepared)
    >>> out[["tag", "n", "accuracy", "n_other", "accuracy_other"]].round(2).to_dict("list")
    ... # doctest: +NORMALIZE_WHITESPACE
    {'tag': ['control', 'length', 'polish'], 'n': [1, 2, 1], 'accuracy': [1.0, 0.5, 0.0],
     'n_other': [3, 2, 3], 'accuracy_other': [0.67, 1.0, 1.0]}
    """
    _require(prepared, ("rater", "tie", "correct", "tags"))
    decided, _ = split_ties(prepared)
    raters, code = _rater_codes(prepared, decided)
    correct = decided["correct"].to_numpy(dtype=float)
    n_all = np.bincount(code, minlength=len(raters))
    k_all = np.bincount(code, weights=correct, minlength=len(raters))
    rater_code, tag_code, names, n, k = _tag_cells(decided["tags"].to_numpy(dtype=object), code, correct)
    n_other = n_all[rater_code] - n
    k_other = np.rint(k_all[rater_code]).astype(int) - k
    low, high = wilson_interval(k, n)
    with np.errstate(invalid="ignore", divide="ignore"):
        accuracy = k / n
        accuracy_other = np.where(n_other > 0, k_other / np.maximum(n_other, 1), np.nan)
        overall = k_all[rater_code] / n_all[rater_code]
    # Fisher "less" on [[k, n - k], [k_other, n_other - k_other]]: P(X <= k), X hypergeometric
    p_value = np.where(n_other > 0, _hypergeom_cdf(k, n + n_other, k + k_other, n), np.nan)
    weak = (accuracy_other - accuracy >= WEAK_SPOT_GAP) & (p_value < ALPHA)
    return pd.DataFrame(
        {
            "rater": raters[rater_code],
            "tag": names[tag_code],
            "n": n,
            "correct": k,
            "accuracy": accuracy,
            "ci_low": low,
            "ci_high": high,
            "n_other": n_other,
            "accuracy_other": accuracy_other,
            "overall_accuracy": overall,
            "p_value": p_value,
            "weak_spot": weak,
        }
    )


def _tag_cells(tags: np.ndarray, code: np.ndarray, correct: np.ndarray):
    """Judgments and right answers per (rater, tag), a pair with several tags counting for each.

    The distinct tag sets are few (a bank's pairs share them), so each is split
    into tags once and the judgments are spread over them by index arithmetic.

    Returns
    -------
    rater_code, tag_code, names, n, k : ndarray
        One entry per (rater, tag) cell that has judgments, sorted by rater
        and tag name; ``names[tag_code]`` is the tag.
    """
    try:
        combo, sets = pd.factorize(tags, use_na_sentinel=False)
    except TypeError:  # unhashable cells (lists, arrays): as tuples
        as_tuples = [tuple(t) if isinstance(t, (tuple, list, np.ndarray)) else () for t in tags]
        combo, sets = pd.factorize(pd.Series(as_tuples, dtype=object), use_na_sentinel=False)
    split = [sorted(set(t)) if isinstance(t, (tuple, list, np.ndarray)) else [] for t in sets]
    names = np.array(sorted({tag for tags_of in split for tag in tags_of}), dtype=object)
    index = {tag: i for i, tag in enumerate(names)}
    sizes = np.array([len(t) for t in split], dtype=int)
    flat = np.array([index[tag] for tags_of in split for tag in tags_of], dtype=int)
    starts = np.cumsum(sizes) - sizes
    per_row = sizes[combo]
    row = np.repeat(np.arange(len(combo)), per_row)
    within = np.arange(len(row)) - np.repeat(np.cumsum(per_row) - per_row, per_row)
    tag = flat[starts[combo[row]] + within] if len(row) else np.zeros(0, dtype=int)
    cell = code[row] * max(len(names), 1) + tag
    size = (int(code.max()) + 1 if len(code) else 0) * max(len(names), 1)
    n = np.bincount(cell, minlength=size)
    k = np.rint(np.bincount(cell, weights=correct[row], minlength=size)).astype(int)
    used = np.flatnonzero(n)
    return used // max(len(names), 1), used % max(len(names), 1), names, n[used], k[used]


# --- the design ---------------------------------------------------------------------------


def _design(prepared: pd.DataFrame) -> dict:
    """Decided judgments as a design matrix oriented left minus right (A minus B if unknown).

    Returns a dict with ``raters`` (ids, first-appearance order), ``code`` (rater
    index per row), ``X`` (N, 4) in :data:`_DESIGN` order, ``y`` (N,), ``n`` and
    ``n_left`` (decided judgments, and those with ``left`` known, per rater), and
    ``kept`` (which rows of ``prepared`` are the N rows).
    """
    _require(prepared, _NEEDED)
    # a tie answer chose neither side: it says nothing about a pull; a probe repeats its base's
    # content (the probe measure of calibration.probes is designed for it)
    kept = sided_mask(prepared) & ordinary_mask(prepared)
    if "pair_id" in prepared.columns:  # a repeat is answered from memory of its gold: first answers only
        kept &= first_answer_mask(prepared)
    decided = prepared[kept]
    raters, code = _rater_codes(prepared, decided)
    # the side each row is oriented towards ("first"): the left one, or A when unknown;
    # whole-column comparisons, no per-row Python strings (slow at a million judgments)
    left_a, left_b = _equals(decided["left"], "A"), _equals(decided["left"], "B")
    known = left_a | left_b
    sign = np.where(left_b, -1.0, 1.0)  # first is "B" exactly when B was shown on the left

    def is_first(column: str) -> np.ndarray:
        return np.where(left_b, _equals(decided[column], "B"), _equals(decided[column], "A"))

    X = np.column_stack(
        [
            known.astype(float),
            (~known).astype(float),  # the "A" intercept: a pull toward A, kept out of length
            sign * decided["length_doublings"].to_numpy(dtype=float),
            sign * decided["polish_diff"].to_numpy(dtype=float) / POLISH_UNIT,
        ]
    )
    if not np.all(np.isfinite(X)):
        raise ValueError("prepared has missing length_doublings or polish_diff on decided judgments.")
    y = is_first("choice").astype(float)
    g = np.where(is_first("gold"), 1.0, -1.0)
    stratum, strata = item_strata(decided)
    n = np.bincount(code, minlength=len(raters))
    n_left = np.bincount(code[known], minlength=len(raters))
    errors = np.bincount(code, weights=(y != (g > 0)), minlength=len(raters))
    return {
        "raters": raters,
        "code": code,
        "X": X,
        "y": y,
        "g": g,
        "stratum": stratum,
        "strata": strata,
        "n": n,
        "n_left": n_left,
        "errors": errors,
        "kept": kept,
        "pair": pd.factorize(decided["pair_id"].astype(str))[0] if "pair_id" in decided.columns else code,
    }


def item_strata(decided: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
    """Each row's item stratum (``source`` and the :data:`DIFFICULTY_TAGS` it has) and the strata names.

    Pairs built alike (one source, the same trap tag) share a difficulty: the
    bias model gives each stratum its own skill term, the gold audit its own
    distribution of clarity and trap depth (:mod:`calibration.items`)."""
    source = (
        decided["source"].fillna("").astype(str).to_numpy(dtype=object)
        if "source" in decided.columns
        else np.full(len(decided), "", dtype=object)
    )
    if "tags" in decided.columns:
        marks = _difficulty_marks(decided["tags"].to_numpy(dtype=object))
    else:
        marks = np.full(len(decided), "", dtype=object)
    key = pd.Series(source, dtype=object).str.cat(pd.Series(marks, dtype=object), sep="|")
    code, names = pd.factorize(key, sort=True)
    return code.astype(int), np.asarray(names, dtype=object)


def _difficulty_marks(tags: np.ndarray) -> np.ndarray:
    """Each row's :data:`DIFFICULTY_TAGS` joined by "+" ("" for none), worked out once per tag set."""

    def mark(value) -> str:
        if not isinstance(value, (tuple, list, np.ndarray)):
            return ""
        return "+".join(t for t in DIFFICULTY_TAGS if t in value)

    try:  # banks hold a few distinct tag tuples over many rows
        codes, distinct = pd.factorize(pd.Series(tags, dtype=object), use_na_sentinel=True)
    except TypeError:  # unhashable tag lists: one row at a time
        return np.array([mark(value) for value in tags], dtype=object)
    marks = np.array([mark(value) for value in distinct] + [""], dtype=object)
    return marks[codes]  # a missing value's code, -1, takes the last entry: ""


def _gold_block(design: dict, group: np.ndarray, n_groups: int, min_count: int = MIN_STRATUM) -> np.ndarray:
    """The skill terms: ``g`` times an indicator of the row's stratum, strata merged per group.

    In each group (a rater, or the cohort) a stratum with fewer than
    ``min_count`` rows shares one column with the other small ones; if those
    together are still fewer than ``min_count``, they join the group's largest
    stratum. Columns used by no group are dropped.
    """
    stratum, g = design["stratum"], design["g"]
    k = len(design["strata"])
    if len(g) == 0:
        return np.zeros((0, 1))
    counts = np.zeros((n_groups, k))
    np.add.at(counts, (group, stratum), 1.0)
    small = counts < min_count
    column = np.where(small[group, stratum], k, stratum)
    merged = np.where(small, counts, 0.0).sum(axis=1)
    largest = np.argmax(counts, axis=1)
    to_largest = (column == k) & (merged[group] < min_count)
    column = np.where(to_largest, largest[group], column)
    block = np.zeros((len(g), k + 1))
    block[np.arange(len(g)), column] = g
    return block[:, np.any(block != 0, axis=0)]


def _rater_codes(prepared: pd.DataFrame, decided: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
    """Rater ids of ``prepared`` in first-appearance order, and each decided row's index."""
    _, raters = pd.factorize(prepared["rater"].astype(str), use_na_sentinel=False)
    local, seen = pd.factorize(decided["rater"].astype(str), use_na_sentinel=False)
    code = pd.Index(raters).get_indexer(seen)[local]  # hashing, not per-row lookups
    return np.asarray(raters, dtype=object), code


def _equals(column: pd.Series, value: str) -> np.ndarray:
    """``column == value`` as a bool array; missing values compare False."""
    return column.eq(value).to_numpy(dtype=bool, na_value=False)


def _batches(raters: np.ndarray, n: np.ndarray, copies: int = 1):
    """Split raters, sorted by judgment count, into batches of bounded padded size.

    ``copies``: how many copies of a batch are fitted at once (the held fits of
    :func:`calibration.firth.penalized_inference`), which share the bound.
    """
    order = raters[np.argsort(n[raters], kind="stable")]
    start = 0
    while start < len(order):
        stop = start + 1
        while stop < len(order) and copies * (stop + 1 - start) * n[order[stop]] <= _BATCH_CELLS:
            stop += 1
        yield order[start:stop]
        start = stop


def _stack(design: dict, batch: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Padded (r, n_max, 4), (r, n_max), (r, n_max) arrays for the raters in ``batch``."""
    rows, slot, pos, n_max = _layout(design, batch)
    X = np.zeros((len(batch), n_max, design["X"].shape[1]))
    y = np.zeros((len(batch), n_max))
    w = np.zeros((len(batch), n_max))
    X[slot, pos] = design["X"][rows]
    y[slot, pos] = design["y"][rows]
    w[slot, pos] = 1.0
    return X, y, w


def _stack_values(design: dict, batch: np.ndarray, values: np.ndarray) -> np.ndarray:
    """A per-row vector of the design (e.g. an offset) padded as :func:`_stack` pads ``y``."""
    rows, slot, pos, n_max = _layout(design, batch)
    out = np.zeros((len(batch), n_max))
    out[slot, pos] = values[rows]
    return out


def _layout(design: dict, batch: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray, int]:
    """The design rows of the raters in ``batch``, each row's rater slot and place in it, the longest."""
    code = design["code"]
    local = np.full(len(design["raters"]), -1)
    local[batch] = np.arange(len(batch))
    rows = np.flatnonzero(local[code] >= 0)
    slot = local[code[rows]]
    order = np.argsort(slot, kind="stable")
    rows, slot = rows[order], slot[order]
    counts = np.bincount(slot, minlength=len(batch))
    pos = np.arange(len(rows)) - np.repeat(np.cumsum(counts) - counts, counts)
    return rows, slot, pos, int(counts.max())


def _per_pair(est: dict, design: dict, prepared: pd.DataFrame) -> None:
    """Multiply each rater's rows of ``est["beta"]``, ``["low"]`` and ``["high"]`` (raters x effects) by
    :math:`\\sqrt{1 + c^2 \\bar v}`, :math:`\\bar v` the mean ``easiness_var`` of the rater's design
    rows (NaN counting as 0); nothing without the column."""
    values = _design_values(design, prepared, "easiness_var")
    if values is None:
        return
    if (values < 0).any():
        raise ValueError("prepared's easiness_var column must hold variances of 0 or more.")
    n_raters = est["beta"].shape[0]
    count = np.bincount(design["code"], minlength=n_raters)
    mean = np.bincount(design["code"], np.nan_to_num(values), minlength=n_raters) / np.maximum(count, 1)
    scale = np.sqrt(1.0 + LOGIT_NORMAL_C**2 * mean)[:, None]
    for key in ("beta", "low", "high"):
        est[key] *= scale


def _offset(design: dict, prepared: pd.DataFrame) -> np.ndarray | None:
    """The design rows' known term ``easiness * g`` (None without an ``easiness`` column)."""
    values = _design_values(design, prepared, "easiness")
    return None if values is None else np.nan_to_num(values) * design["g"]


def _design_values(design: dict, prepared: pd.DataFrame, column: str) -> np.ndarray | None:
    """Numeric column ``column`` of ``prepared`` on the design's rows (None without it).

    Not a number anywhere, or infinite anywhere (kept row or not), is an error."""
    if column not in prepared.columns:
        return None
    values = pd.to_numeric(prepared[column], errors="raise").to_numpy(dtype=float)
    if np.isinf(values).any():
        raise ValueError(f"prepared's {column} column has infinite values.")
    return values[np.asarray(design["kept"])]


def _distinct_rows(X: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """One index per distinct row of ``[X, y]`` and how many rows share it.

    A cohort's judgments repeat the same few thousand designs (a pair, its
    orientation, the choice), so the pooled model is fitted on the distinct
    rows with their counts as frequency weights: the same likelihood, Firth
    penalty and estimate, from a few thousand rows instead of every judgment.
    """
    columns = list(range(X.shape[1] + 1))
    group = pd.DataFrame(np.column_stack([X, y])).groupby(columns, sort=False, dropna=False).ngroup()
    codes = group.to_numpy()
    _, first = np.unique(codes, return_index=True)
    return first, np.bincount(codes)


def _cluster_cov(X, y, code, pair, coef, bread) -> tuple[np.ndarray, int]:
    """Two-way (rater, pair) cluster-robust covariance, restricted to the fitted coefficients.

    :math:`V = V_{rater} + V_{pair} - V_{rater \\cap pair}`, each a CR1 sandwich
    (Cameron, Gelbach & Miller 2011; statsmodels ``cov_cluster_2groups``);
    where that is not positive on the diagonal, the larger one-way variance.
    Returns the covariance and the clusters of the smaller dimension, whose
    count less one is the t test's degrees of freedom.
    """
    free = np.isfinite(np.diag(bread))
    Xf = X[:, free]
    mu = 1.0 / (1.0 + np.exp(-(Xf @ coef[free])))
    scores = Xf * (y - mu)[:, None]
    total, k = len(y), int(free.sum())
    B = bread[np.ix_(free, free)]

    def one_way(cluster: np.ndarray) -> tuple[np.ndarray, int]:
        _, cluster = np.unique(cluster, return_inverse=True)
        per = np.zeros((int(cluster.max()) + 1, k))
        np.add.at(per, cluster, scores)
        g = len(per)
        factor = g / max(g - 1, 1) * (total - 1) / max(total - k, 1)
        return factor * B @ (per.T @ per) @ B, g

    v_rater, groups = one_way(code)
    v_pair, n_pairs = one_way(pair)
    v_both, _ = one_way(code.astype(np.int64) * (int(pair.max()) + 1) + pair)
    two_way = v_rater + v_pair - v_both
    bad = np.diag(two_way) <= 0
    if bad.any():
        fallback = np.maximum(np.diag(v_rater), np.diag(v_pair))
        two_way[bad, bad] = fallback[bad]
    cov = np.full_like(bread, np.nan)
    cov[np.ix_(free, free)] = two_way
    return cov, min(groups, n_pairs)


# --- tests and reporting -----------------------------------------------------------------


def _wald(beta: np.ndarray, se: np.ndarray, df: float | None = None):
    """Odds ratio, CI and two-sided p-value from a coefficient and its standard error."""
    # the normal or t quantile and upper tail, as scipy.stats.norm / t compute them
    if df is None:
        crit, upper_tail = special.ndtri(1 - ALPHA / 2), lambda x: special.ndtr(-x)
    else:
        crit, upper_tail = special.stdtrit(df, 1 - ALPHA / 2), lambda x: special.stdtr(df, -x)
    with np.errstate(invalid="ignore", divide="ignore"):
        stat = beta / se
        p = 2 * upper_tail(np.abs(stat))
    return np.exp(beta), np.exp(beta - crit * se), np.exp(beta + crit * se), p


_SUBJECTS = {
    "you": {"favour": "You favour", "odds": "your odds"},
    "cohort": {"favour": "The cohort favours", "odds": "raters' odds"},
}


def _verdict_length(ratio, low, high, significant, s) -> str:
    return _trait_verdict(
        "length", "longer", "shorter", "when one answer is twice as long", ratio, low, high, significant, s
    )


def _verdict_polish(ratio, low, high, significant, s) -> str:
    return _trait_verdict(
        "polish",
        "more polished",
        "plainer",
        "when one answer has clearly more formatting (e.g. 4 list items against 1)",
        ratio,
        low,
        high,
        significant,
        s,
    )


def _trait_verdict(name, more, less, when, ratio, low, high, significant, s) -> str:
    if not significant:
        r, lo, hi = _numbers(ratio, low, high, significant)
        against = f"a pull toward {less} answers" if ratio < 1 else None
        return (
            f"No clear {name} bias: {when}, {s['odds']} of picking it are {r}x as high "
            f"(95% CI {lo}-{hi}), {_no_clear_reason(low, high, 'effect', against, f'{more} answers')}."
        )
    if ratio > 1:
        r, lo, hi = _numbers(ratio, low, high, significant)
        return (
            f"{s['favour']} {more} answers: {when}, {s['odds']} of picking it rise {r}x "
            f"(95% CI {lo}-{hi}) beyond what answer quality explains.{_moderate(low, f'{more} answers')}"
        )
    r, lo, hi = _numbers(1 / ratio, 1 / high, 1 / low, significant)
    return (
        f"{s['favour']} {less} answers: {when}, {s['odds']} of picking the {less} one rise "
        f"{r}x (95% CI {lo}-{hi}) beyond what answer quality explains."
    )


def _verdict_position(ratio, low, high, significant, s) -> str:
    if not significant:
        r, lo, hi = _numbers(ratio, low, high, significant)
        against = "a pull to the right" if ratio < 1 else None
        reason = _no_clear_reason(low, high, "preference", against, "the left")
        return (
            f"No clear position bias: {s['odds']} of picking the left answer over the right one are "
            f"{r}x (95% CI {lo}-{hi}), {reason}."
        )
    side, other = ("left", "right") if ratio > 1 else ("right", "left")
    moderate = _moderate(low, "the left answer") if ratio > 1 else ""
    if ratio < 1:
        ratio, low, high = 1 / ratio, 1 / high, 1 / low
    r, lo, hi = _numbers(ratio, low, high, significant)
    return (
        f"{s['favour']} the answer shown on the {side}: {s['odds']} of picking the {side} answer are "
        f"{r}x those of picking the {other} one (95% CI {lo}-{hi}), all else equal.{moderate}"
    )


def _no_clear_reason(low: float, high: float, what: str, against: str | None = None, usual: str = "") -> str:
    """Why an effect is not called: its interval covers 1, it runs against the direction the
    test looks at first (``against``: :data:`TOWARD_SHARES`), or it does not survive the correction."""
    if not (low > 1 or high < 1):
        return f"consistent with no {what}"
    if against is not None:
        return (
            f"not clear yet: {against} needs stronger evidence than one toward {usual}, "
            "the pull the drills' traps set"
        )
    return "not clear once the other bias dimensions tested are allowed for (Holm's correction)"


def _moderate(low: float, toward: str) -> str:
    """A called pull in the usual direction whose 95% interval still reaches 1: say so plainly."""
    if not np.isfinite(low) or low > 1:
        return ""
    return (
        " The evidence is moderate: the 95% interval still reaches 1, and a pull toward "
        f"{toward} is the one the test looks for first."
    )


_VERDICTS: dict[str, Callable[..., str]] = {
    "length": _verdict_length,
    "polish": _verdict_polish,
    "position": _verdict_position,
}


def _numbers(ratio: float, low: float, high: float, significant: bool) -> tuple[str, str, str]:
    """Odds ratio and CI for a sentence, with the fewest decimals (1 to 3) that keep them honest.

    More decimals are used while the two ends of the interval look the same, or
    while a significant interval would look as if it touched 1.
    """
    for digits in (1, 2, 3):
        shown = [f"{v:.{digits}f}" if v < 10 else f"{v:.0f}" for v in (ratio, low, high)]
        one = f"{1:.{digits}f}"
        if shown[1] != shown[2] and not (significant and one in shown[1:]):
            break
    return shown[0], shown[1], shown[2]


_NO_VARIATION = {
    "length": "Length bias not estimable: every pair {who} has answers of equal length.",
    "polish": "Polish bias not estimable: no pair {who} differs in formatting.",
}


def _reasons_by_rater(design, fit_ok, with_position, converged, collinear, min_n) -> dict[str, np.ndarray]:
    """Why each rater's effect is not estimable (None where it is)."""
    n, n_left, code, X = design["n"], design["n_left"], design["code"], design["X"]
    n_raters = len(n)
    reasons = {e: np.full(n_raters, None, dtype=object) for e in EFFECTS}
    for effect in ("length", "polish"):
        varies = np.bincount(code, weights=X[:, _COLUMN[effect]] != 0, minlength=n_raters) > 0
        reasons[effect][~varies] = _NO_VARIATION[effect].format(who="you judged")
    unknown = n_left == 0
    reasons["position"][unknown] = (
        "Position bias not estimable: the side each answer was shown on was not recorded."
    )
    partial = ~unknown & ~with_position
    reasons["position"][partial] = [
        f"Position bias not estimable: the side each answer was shown on was recorded for only "
        f"{a} of your {b} decided judgments (at least {min_n} needed)."
        for a, b in zip(n_left[partial], n[partial], strict=True)
    ]
    errors = np.rint(design["errors"]).astype(int)
    no_errors = fit_ok & (errors == 0)
    all_wrong = fit_ok & (errors == n)
    failed = fit_ok & ~converged & ~collinear
    for effect in EFFECTS:
        reasons[effect][failed] = "Not estimable: the model did not converge."
        reasons[effect][fit_ok & collinear] = "Not estimable: your judgments cannot tell these effects apart."
        reasons[effect][no_errors] = [
            f"Not enough evidence: you agreed with the expert on all {k} decided pairs, so your "
            "choices cannot show a pull yet (any odds ratio would come from the model's penalty alone)."
            for k in n[no_errors]
        ]
        reasons[effect][all_wrong] = [
            f"Not enough evidence: you disagreed with the expert on all {k} decided pairs, so your "
            "choices cannot show a pull yet."
            for k in n[all_wrong]
        ]
        reasons[effect][~fit_ok] = [
            f"Not enough data yet: {k} decided judgments, at least {min_n} needed." for k in n[~fit_ok]
        ]
    return reasons


def _assemble(raters, estimates, counts, reasons, *, subject: str, family_alpha: float) -> pd.DataFrame:
    """Long frame in :data:`BIAS_COLUMNS` order: raters outer, effects inner.

    ``estimates[effect]`` is ``(beta, low, high, p)`` (log odds, one per rater);
    Each rater's estimable effects are one family, corrected by the weighted Holm
    procedure with :data:`HOLM_WEIGHTS` at the family-wise level ``family_alpha``
    (:data:`FAMILY_ALPHA` for a rater; 5% for the pooled cohort, whose
    cluster-robust test with few clusters runs above its level, so the cohort's
    length line stays rare for unbiased cohorts).
    """
    ok = {e: np.array([r is None for r in reasons[e]], dtype=bool) for e in EFFECTS}
    p_raw = np.column_stack(
        [
            np.where(ok[e], directed(estimates[e][3], estimates[e][0], TOWARD_SHARES[e]), np.nan)
            for e in EFFECTS
        ]
    )
    p_adj = holm(p_raw, weights=[HOLM_WEIGHTS[e] for e in EFFECTS])
    tested = np.isfinite(p_raw)
    frames = []
    for j, effect in enumerate(EFFECTS):
        beta, low, high, p = (np.where(ok[effect], v, np.nan) for v in estimates[effect])
        ratio, lo, hi = np.exp(beta), np.exp(low), np.exp(high)
        significant = ok[effect] & (p_adj[:, j] < family_alpha)
        verdict = _VERDICTS[effect]
        summary = [
            verdict(*vals, _SUBJECTS[subject]) if good else reason
            for good, reason, *vals in zip(
                ok[effect], reasons[effect], ratio, lo, hi, significant, strict=True
            )
        ]
        label = [
            _holm_label(t, subject, family_alpha) if good else ""
            for good, t in zip(ok[effect], tested, strict=True)
        ]
        frames.append(
            pd.DataFrame(
                {
                    "rater": raters,
                    "effect": effect,
                    "n": counts[effect].astype(int),
                    "odds_ratio": ratio,
                    "ci_low": lo,
                    "ci_high": hi,
                    "p_value": p,
                    "significant": significant,
                    "estimable": ok[effect],
                    "unit": UNITS[effect],
                    "summary": pd.Series(summary, dtype=object),
                    "p_adjusted": p_adj[:, j],
                    "correction": pd.Series(label, dtype=object),
                }
            )
        )
    out = pd.concat(frames, ignore_index=True)
    order = np.argsort(np.tile(np.arange(len(raters)), len(EFFECTS)), kind="stable")
    return out.iloc[order].reset_index(drop=True)[BIAS_COLUMNS]


def _holm_label(tested: np.ndarray, subject: str, family_alpha: float) -> str:
    """The ``correction`` string for a rater whose dimensions ``tested`` (bool, :data:`EFFECTS` order)."""
    names = [e for e, t in zip(EFFECTS, tested, strict=True) if t]
    sides = ", ".join(f"toward {_TOWARD[e]} {100 * TOWARD_SHARES[e]:.0f}%" for e in names)
    usual = f"mostly to the usual direction ({sides}) and the rest to the other"
    m = len(names)
    if m <= 1:
        return f"none: one bias dimension tested; its level goes {usual}"
    whose = "your" if subject == "you" else "the cohort's"
    total = sum(HOLM_WEIGHTS[e] for e in names)
    shares = ", ".join(
        f"{e} {100 * HOLM_WEIGHTS[e] / total:.0f}%" for e in sorted(names, key=lambda e: -HOLM_WEIGHTS[e])
    )
    level = f"{100 * family_alpha:g}%"
    return (
        f"Holm over {whose} {m} bias dimensions tested, weighted ({shares} of the {level} "
        f"family-wise level at first); each dimension's share goes {usual}"
    )


#: The direction each line spends most of its level on (:data:`TOWARD_SHARES`), for ``correction``.
_TOWARD = {"length": "longer", "polish": "more polished", "position": "the left"}


def directed(p: np.ndarray, log_odds: np.ndarray, toward: float) -> np.ndarray:
    """Two-sided p-values of a signed test, made those of a test that spends the share
    ``toward`` of its level on an odds ratio above 1 and the rest on one below.

    With :math:`p/2` the one-sided p-value in the direction of the estimate, the
    result is :math:`\\min\\{1, (p/2)/t\\}` when the log odds are positive and
    :math:`\\min\\{1, (p/2)/(1-t)\\}` otherwise. Rejecting where it is at most
    :math:`\\alpha` rejects upward when the upward one-sided p-value is at most
    :math:`t\\alpha` and downward when the downward one is at most
    :math:`(1-t)\\alpha`: a weighted Bonferroni test over the two directions, so
    the level stays :math:`\\alpha` and neither direction goes untested.
    ``toward = 0.5`` gives ``p`` back. NaN stays NaN.

    Examples
    --------
    A p of 0.08 counts as 0.044 toward the side given 90% of the level, and as
    0.4 toward the other side:

    >>> directed(np.array([0.08, 0.08]), np.array([0.7, -0.7]), 0.9).round(3).tolist()
    [0.044, 0.4]
    >>> directed(np.array([0.08, np.nan]), np.array([-0.7, 0.2]), 0.5).tolist()
    [0.08, nan]
    """
    if not 0.0 < toward < 1.0:
        raise ValueError(f"toward must lie strictly between 0 and 1; got {toward!r}.")
    p = np.asarray(p, dtype=float)
    share = np.where(np.asarray(log_odds, dtype=float) > 0, toward, 1.0 - toward)
    return np.minimum(1.0, p / 2.0 / share)


def holm(p: np.ndarray, weights=None) -> np.ndarray:
    """Holm's step-down adjusted p-values along the last axis, optionally weighted; NaN entries are not tests.

    For the :math:`m` finite p-values of a row sorted as :math:`p_{(1)} \\le \\dots`,
    :math:`\\tilde p_{(i)} = \\max_{j \\le i} \\min\\{1, (m - j + 1) p_{(j)}\\}`
    (Holm 1979): rejecting where :math:`\\tilde p < \\alpha` keeps the chance of any
    false alarm in the row at most :math:`\\alpha`. Equals statsmodels
    ``multipletests(method="holm")``.

    With ``weights`` :math:`w_i > 0` (one per column), the weighted Holm procedure
    (Holm 1979, section 5): the tests are ordered by :math:`p_i / w_i` and
    :math:`\\tilde p_{(i)} = \\max_{j \\le i} \\min\\{1, p_{(j)} W_j / w_{(j)}\\}`, where
    :math:`W_j` sums the weights of the tests not yet rejected at step :math:`j`
    (those of NaN entries do not count). Hypothesis :math:`i` first gets the
    share :math:`w_i / \\sum w` of :math:`\\alpha`, and the share of each rejected
    one carries forward to the rest, so the family-wise error rate stays at most
    :math:`\\alpha`; equal weights give Holm's procedure.

    Examples
    --------
    >>> holm(np.array([[0.01, 0.04, np.nan], [0.03, 0.02, 0.5]])).round(3).tolist()
    [[0.02, 0.04, nan], [0.06, 0.06, 0.5]]

    Length given 60% of the level, polish 10% and position 30%: a lone p of 0.02
    on length survives (0.02 < 0.6 x 0.05), one on polish does not.

    >>> holm(np.array([[0.02, 0.5, 0.6], [0.5, 0.02, 0.6]]), weights=[0.6, 0.1, 0.3]).round(3).tolist()
    [[0.033, 0.8, 0.8], [0.75, 0.2, 0.75]]
    """
    p = np.atleast_2d(np.asarray(p, dtype=float))
    finite = np.isfinite(p)
    w = np.ones(p.shape[1]) if weights is None else np.asarray(weights, dtype=float)
    if w.shape != (p.shape[1],) or not np.all(w > 0):
        raise ValueError(f"weights must be {p.shape[1]} positive numbers, one per column; got {weights!r}.")
    w = np.where(finite, w, 0.0)
    with np.errstate(divide="ignore", invalid="ignore"):
        order = np.argsort(np.where(finite, p / w, np.inf), axis=1, kind="stable")
    ranked = np.take_along_axis(p, order, axis=1)
    w_ranked = np.take_along_axis(w, order, axis=1)
    remaining = np.cumsum(w_ranked[:, ::-1], axis=1)[:, ::-1]  # weight of this test and the later ones
    with np.errstate(divide="ignore", invalid="ignore"):
        scaled = np.minimum(1.0, ranked * remaining / w_ranked)
    scaled = np.where(np.isfinite(scaled), scaled, -np.inf)
    adjusted = np.maximum.accumulate(scaled, axis=1)
    out = np.empty_like(p)
    np.put_along_axis(out, order, adjusted, axis=1)
    return np.where(finite, out, np.nan)


def benjamini_hochberg(p: np.ndarray) -> np.ndarray:
    """Benjamini-Hochberg adjusted p-values (q-values) of a 1-d array; NaN entries are not tests.

    :math:`\\tilde p_{(i)} = \\min_{j \\ge i} \\min\\{1, m p_{(j)} / j\\}`; flagging where
    :math:`\\tilde p < \\alpha` keeps the expected share of false flags among all
    flags at most :math:`\\alpha` (Benjamini & Hochberg 1995). Equals statsmodels
    ``multipletests(method="fdr_bh")``.

    Examples
    --------
    >>> benjamini_hochberg(np.array([0.01, 0.04, 0.03, np.nan])).round(3).tolist()
    [0.03, 0.04, 0.04, nan]
    """
    p = np.asarray(p, dtype=float)
    out = np.full(p.shape, np.nan)
    finite = np.flatnonzero(np.isfinite(p))
    if finite.size == 0:
        return out
    vals = p[finite]
    order = np.argsort(vals, kind="stable")
    m = len(vals)
    scaled = np.minimum(1.0, vals[order] * m / np.arange(1, m + 1))
    adjusted = np.minimum.accumulate(scaled[::-1])[::-1]
    res = np.empty(m)
    res[order] = adjusted
    out[finite] = res
    return out


def across_raters(bias: pd.DataFrame) -> pd.DataFrame:
    """A cohort view of :func:`bias_by_rater`: flags that control the false discovery rate.

    Listing every rater flagged for a bias makes many tests at once; among
    unbiased raters some would be flagged by chance. Each estimable test first
    looks in the traps' direction, as the rater's own verdict does: its
    ``p_value`` is made :func:`directed` with the dimension's share of
    :data:`TOWARD_SHARES`. ``p_adjusted`` is then the Benjamini-Hochberg
    adjustment of all of them (all raters and dimensions), ``significant`` is
    ``p_adjusted <`` 0.05 (so the expected share of false flags among the
    flags is at most 5%: each directed p-value is a valid one), and
    ``correction`` says so. The sentences in ``summary`` are the rater's own
    (Holm within the rater) and are kept.

    Parameters
    ----------
    bias : DataFrame
        Output of :func:`bias_by_rater`.

    Returns
    -------
    DataFrame
        A copy with ``p_adjusted``, ``significant`` and ``correction`` replaced.

    References
    ----------
    Benjamini, Y. and Hochberg, Y. (1995). Controlling the false discovery
    rate. JRSS B 57(1), 289-300.
    """
    out = bias.copy()
    p = np.where(out["estimable"].to_numpy(dtype=bool), out["p_value"].to_numpy(dtype=float), np.nan)
    with np.errstate(divide="ignore", invalid="ignore"):
        log_odds = np.log(out["odds_ratio"].to_numpy(dtype=float))
    effect = out["effect"].to_numpy()
    for name, toward in TOWARD_SHARES.items():
        rows = effect == name
        p[rows] = directed(p[rows], log_odds[rows], toward)
    q = benjamini_hochberg(p)
    m = int(np.isfinite(p).sum())
    raters = int(out.loc[np.isfinite(p), "rater"].nunique())
    out["p_adjusted"] = q
    out["significant"] = np.isfinite(q) & (q < ALPHA)
    out["correction"] = np.where(
        np.isfinite(q),
        f"Benjamini-Hochberg over {m} tests from {raters} raters, each looking first in the traps' direction",
        "",
    )
    return out


# --- plain rates -------------------------------------------------------------------------

_PLAIN_WORDS = {
    "length": ("shorter", "longer"),
    "polish": ("plainer", "more polished"),
}


def _plain_sentence(dimension: str, n1: int, k1: int, n2: int, k2: int) -> str:
    less, more = _PLAIN_WORDS[dimension]
    first = (
        f"When the expert preferred the {less} answer, you picked the {more} one "
        f"{_pct(k1, n1)} of the time (n = {n1})"
        if n1
        else f"No pairs yet where the expert preferred the {less} answer"
    )
    second = (
        f"when the expert preferred the {more} answer, you picked it {_pct(k2, n2)} of the time (n = {n2})"
        if n2
        else f"no pairs yet where the expert preferred the {more} one"
    )
    return f"{first}; {second}."


def _pct(k: int, n: int) -> str:
    return f"{100 * k / n:.0f}%"


def _fisher_two_sided(a, b, c, d) -> np.ndarray:
    """Two-sided Fisher exact p-value of each 2x2 table ``[[a, b], [c, d]]``; NaN for an empty row.

    With the margins fixed, ``a`` is hypergeometric; the p-value sums the
    probabilities of every ``a`` no more likely than the one observed (with a
    relative tolerance of 1e-7 for ties, as R's ``fisher.test``). It equals
    ``scipy.stats.fisher_exact(table).pvalue``, computed for all distinct
    tables at once on a grid of their supports rather than one call per table.
    """
    tables = np.column_stack([a, b, c, d]).astype(np.int64)
    p = np.full(len(tables), np.nan)
    full = (tables[:, 0] + tables[:, 1] > 0) & (tables[:, 2] + tables[:, 3] > 0)
    if not full.any():
        return p
    unique, inverse = np.unique(tables[full], axis=0, return_inverse=True)
    a, b, c, d = unique.T
    total, row1, col1 = a + b + c + d, a + b, a + c
    low = np.maximum(0, col1 - (c + d))
    high = np.minimum(row1, col1)
    x = low[:, None] + np.arange(int((high - low).max()) + 1)[None, :]
    on_support = x <= high[:, None]
    log_p = _hypergeom_logpmf(np.minimum(x, high[:, None]), total[:, None], col1[:, None], row1[:, None])
    observed = _hypergeom_logpmf(a, total, col1, row1)
    as_extreme = on_support & (log_p <= observed[:, None] + np.log1p(1e-7))
    tested = np.minimum(np.where(as_extreme, np.exp(log_p), 0.0).sum(axis=1), 1.0)
    tested[as_extreme.sum(axis=1) == on_support.sum(axis=1)] = 1.0  # every table counts: exactly 1
    p[full] = tested[inverse.ravel()]
    return p


def _log_choose(n, k):
    """``log C(n, k)`` elementwise (arrays of non-negative integers, ``k <= n``)."""
    return special.gammaln(n + 1.0) - special.gammaln(k + 1.0) - special.gammaln(n - k + 1.0)


def _hypergeom_logpmf(x, total, good, draws):
    """``log P(X = x)`` for ``X`` the good items among ``draws`` taken from ``total`` holding ``good``.

    The same distribution as ``scipy.stats.hypergeom.logpmf(x, total, good, draws)``
    (equal to about 1e-12 relative; ``tests/test_bias.py`` compares), from
    ``scipy.special`` alone: importing ``scipy.stats`` takes half a second.
    """
    x, total, good, draws = (np.asarray(v, dtype=float) for v in (x, total, good, draws))
    return _log_choose(good, x) + _log_choose(total - good, draws - x) - _log_choose(total, draws)


def _hypergeom_cdf(k, total, good, draws) -> np.ndarray:
    """``P(X <= k)`` for the hypergeometric ``X`` of :func:`_hypergeom_logpmf`, summed over its support.

    Elementwise over 1-d arrays of one length (each support at most ``draws + 1`` long).
    """
    k, total, good, draws = (np.asarray(v, dtype=np.int64) for v in (k, total, good, draws))
    low = np.maximum(0, draws - (total - good))
    top = np.minimum(k, np.minimum(draws, good))
    if not len(k):
        return np.zeros(0)
    x = low[:, None] + np.arange(int((top - low).max(initial=0)) + 1)
    keep = x <= top[:, None]
    log_p = _hypergeom_logpmf(np.where(keep, x, low[:, None]), total[:, None], good[:, None], draws[:, None])
    return np.minimum(np.where(keep, np.exp(log_p), 0.0).sum(axis=1), 1.0)


# --- validation --------------------------------------------------------------------------


def _require(prepared: pd.DataFrame, columns) -> None:
    if not isinstance(prepared, pd.DataFrame):
        raise ValueError(f"prepared must be a DataFrame from calibration.data.prepare; got {type(prepared)}.")
    missing = [c for c in columns if c not in prepared.columns]
    if missing:
        raise ValueError(f"prepared lacks the column(s) {missing}; build it with calibration.data.prepare.")


def _check_min_n(min_n) -> int:
    if isinstance(min_n, bool) or not isinstance(min_n, (int, np.integer)) or min_n < 1:
        raise ValueError(f"min_n must be a positive integer; got {min_n!r}.")
    return int(min_n)
