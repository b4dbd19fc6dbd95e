r"""A latent-class model of raters and pairs: is a pair's gold wrong, or is the pair just hard?

Each decided pair :math:`i` has an unknown truth :math:`z_i`: :math:`+1` when
its gold is the better answer, :math:`-1` when the other one is. Rater
:math:`j` has a skill :math:`s_j` (log odds of picking the better answer on
the clearest pairs; 0 for a rater who clicks at random) and pulls
:math:`\beta_j`; pair :math:`i` has a clarity :math:`\tau_i \in [0, 1]`
(0: even the best raters guess) and a trap depth :math:`\delta_i \ge 0`;
each judgment has covariates :math:`x_{ij}` oriented toward the gold answer
(its length advantage in doublings, its polish advantage, its side). A
judgment agrees with gold with probability

.. math::

    P(y_{ij} = 1 \mid z_i, \tau_i, \delta_i)
        = \operatorname{expit}(z_i\, (s_j\, \tau_i - \delta_i) + \beta_j^\top x_{ij}),

so skill times clarity is the item-response term of GLAD (Whitehill et al.
2009), the trap depth is a Rasch-style difficulty (Rasch 1960) that puts
raters whose skill is below it under a coin, the latent truth is Dawid &
Skene's (1979) one-coin model with a prior :math:`P(z_i = -1) = \pi` (the
bank's share of wrong golds), and a rater who ignores the pair and clicks
one side or the longer answer is a rater with no skill and a strong pull, as
MACE's spammers (Hovy et al. 2013). A pull acts on choices whatever the
truth, as a length bias does, so a pair whose gold is the shorter answer is
expected to draw votes against it. A wrong gold is told apart from a hard
pair by *which* raters contradict it: on a pair that is merely unclear
everyone is near a coin (plus their pull), so the votes say little and the
posterior stays near :math:`\pi`; on a trap the weaker raters fall for it
and the stronger ones do not; on a wrong gold the raters who are reliable
everywhere else side against it.

Why both terms. With clarity alone (GLAD's form) no correct gold can draw
a majority against it from raters who are right elsewhere, so an ordinary
spread of difficulty (the same pair a little harder for everyone, which
puts the weakest raters below a coin on the hardest pairs) reads as wrong
gold: on simulated cohorts with easiness spread by a standard deviation of
0.6 log-odds, 8% wrong golds and 20 raters a pair, 16% of the flags were
correct golds. With a free additive difficulty alone, a wrong gold is a
correct one deep enough below a coin for everyone and the audit hardly
flags anything (power 19% instead of 54%). The three trap depths of
:data:`TRAP_DEPTHS` with clarity 1, beside the clarity grid at depth 0,
held the same cohorts to 7% false flags with 48% of the wrong golds found
(24 cohorts; ``bench/validity.py``).

Clarity and depth are integrated out over the points of :data:`ITEM_GRID`.
Their distribution is estimated per stratum of the *better* answer's length
(clearly shorter, a little shorter, a little longer, clearly longer: the
gold's stratum if it is right, the other answer's if not), since hard pairs
are often those where the better answer is the shorter one, crossed in the
gold audit with the pair's source and trap tag (an adversarial set has more
traps than a natural one; :func:`calibration.bias.item_strata`); each stratum's
distribution is shrunk toward the pooled one, which is smoothed over the
grid, so a pair judged by only three raters borrows its difficulty prior
from the whole bank. Priors: :math:`s_j \sim N(1.5, 1^2)` (skills rest on a
few dozen judgments each: a tight prior keeps a short record from being
over-trusted), :math:`\beta_j \sim N(\bar\beta, 0.5^2)` about the cohort's
mean pull, :math:`\pi \sim \text{Beta}(2, 61)` (prior mean about 3%, the
label error rate Northcutt et al. 2021 found in common test sets; the data
move it when a bank has more). All are fitted by EM (Dempster, Laird &
Rubin 1977): the E-step computes each pair's posterior over (truth,
clarity); the M-step updates :math:`\pi`, the clarity distributions, and
each rater's :math:`(s_j, \beta_j)` by a Newton step of the expected
weighted logistic log-likelihood.

Flags control the Bayesian false discovery rate (Newton et al. 2004; Müller,
Parmigiani & Rice 2006): pairs are ranked by their posterior probability
that gold is right (the local false discovery rate of flagging them), and
the largest set whose *mean* posterior probability of gold right is at most
the target is flagged (:func:`bayesian_fdr`). The expected share of correct
golds among the flagged is then at most the target, under the model;
``tests/test_items_latent.py`` checks it on simulated raters who do not
follow the model (a threshold model with normal noise, spammers, a shared
length bias, and difficulty that goes with length).

References
----------
Dawid, A. P. and Skene, A. M. (1979). Maximum likelihood estimation of
observer error-rates using the EM algorithm. *Applied Statistics* 28, 20-28.

Rasch, G. (1960). *Probabilistic models for some intelligence and
attainment tests*. Copenhagen: Danish Institute for Educational Research.

Whitehill, J., Ruvolo, P., Wu, T., Bergsma, J. and Movellan, J. (2009).
Whose vote should count more: optimal integration of labels from labelers
of unknown expertise. *NeurIPS* 22.

Hovy, D., Berg-Kirkpatrick, T., Vaswani, A. and Hovy, E. (2013). Learning
whom to trust with MACE. *NAACL-HLT*, 1120-1130.

Northcutt, C. G., Athalye, A. and Mueller, J. (2021). Pervasive label errors
in test sets destabilize machine learning benchmarks. *NeurIPS Datasets and
Benchmarks*.

Müller, P., Parmigiani, G. and Rice, K. (2006). FDR and Bayesian multiple
comparisons rules. *Bayesian Statistics 8*, 349-370.

Newton, M. A., Noueiry, A., Sarkar, D. and Ahlquist, P. (2004). Detecting
differential gene expression with a semiparametric hierarchical mixture
method. *Biostatistics* 5, 155-176.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np
from scipy.special import expit, log_expit, logsumexp

__all__ = [
    "CLARITY_GRID",
    "ITEM_GRID",
    "MAX_FIT",
    "TRAP_DEPTHS",
    "LatentFit",
    "bayesian_fdr",
    "fit_latent_truth",
]

#: Judgments above which :func:`fit_latent_truth` fits its parameters on a random sample of this many.
MAX_FIT = 20_000

#: Values of pair clarity :math:`\tau` the model mixes over (0: a coin for everyone).
CLARITY_GRID = np.linspace(0.0, 1.0, 6)

#: Trap depths :math:`\delta` the model mixes over, at clarity 1 (log odds taken off every
#: rater's skill): a rater of the prior's typical skill (1.5) is at 0.75, 0 and -0.75 on them.
TRAP_DEPTHS = np.array([0.75, 1.5, 2.25])

#: The (clarity, trap depth) points of a pair: the clarity grid without a trap, then the traps.
ITEM_GRID = np.vstack(
    [
        np.column_stack([CLARITY_GRID, np.zeros_like(CLARITY_GRID)]),
        np.column_stack([np.ones_like(TRAP_DEPTHS), TRAP_DEPTHS]),
    ]
)

#: Beta(2, 61) prior of the wrong-gold share: mean 3.2%, about the 3.3% of labels found wrong in
#: ten common machine-learning test sets (Northcutt, Athalye & Mueller 2021); its mode is above 0,
#: so the estimate cannot collapse to "no gold is ever wrong" when one wrong gold stands alone.
_WRONG_PRIOR = (2.0, 61.0)
#: Pseudo-items by which each stratum's clarity distribution is shrunk toward the pooled one.
_STRATUM_POOLING = 20.0
#: Pseudo-items spread evenly over the clarity grid in the pooled distribution. Without them the
#: fitted distribution collapses onto two points (a coin, or the clearest pairs), which makes a
#: split vote on a clear pair look more unusual than it is, and wrong golds more certain.
_CLARITY_SMOOTHING = 3.0
_SKILL_PRIOR_MEAN = 1.5
_SKILL_PRIOR_SD = 1.0
_PULL_PRIOR_SD = 0.5  # each rater's pulls about the cohort's mean


@dataclass(frozen=True)
class LatentFit:
    """Result of :func:`fit_latent_truth`.

    Attributes
    ----------
    p_wrong : ndarray of shape (n_items,)
        Posterior probability that the item's gold is not the better answer.
    clarity : ndarray of shape (n_items,)
        Posterior mean clarity for a rater of typical skill,
        :math:`\\tau_i - \\delta_i / 1.5` (1 = the clearest pairs, 0 = raters
        guess, below 0 = a trap such a rater falls for).
    skill : ndarray of shape (n_raters,)
        Each rater's skill :math:`s_j` (log odds on the clearest pairs).
    pull : ndarray of shape (n_raters, n_pull)
        Each rater's pull weights :math:`\\beta_j`.
    wrong_rate : float
        The estimated share of wrong golds :math:`\\pi`.
    clarity_weights : ndarray of shape (n_strata, len(ITEM_GRID))
        The estimated mixing distribution of (clarity, trap depth) in each stratum.
    iterations : int
        EM iterations run.
    log_likelihood : float
        Marginal log-likelihood at the end.
    """

    p_wrong: np.ndarray
    clarity: np.ndarray
    skill: np.ndarray
    pull: np.ndarray
    wrong_rate: float
    clarity_weights: np.ndarray
    iterations: int
    log_likelihood: float


def fit_latent_truth(
    agree: np.ndarray,
    item: np.ndarray,
    rater: np.ndarray,
    pull: np.ndarray | None = None,
    *,
    stratum: np.ndarray | None = None,
    n_items: int | None = None,
    n_raters: int | None = None,
    max_iter: int = 300,
    tol: float = 1e-6,
    max_fit: int | None = MAX_FIT,
) -> LatentFit:
    """Fit the model of the module docstring by EM.

    Parameters
    ----------
    agree : ndarray of shape (n,)
        1 when the judgment agreed with gold, 0 when it chose the other answer.
    item, rater : ndarray of int, shape (n,)
        Codes of each judgment's item (``0 .. n_items - 1``) and rater.
    pull : ndarray of shape (n, k), optional
        Each judgment's covariates oriented toward gold (no intercept); each
        rater gets their own weights on them.
    stratum : ndarray of int, shape (n_items,) or (n_items, 2), optional
        A stratum per item, each with its own clarity distribution, so
        difficulty may go with it (e.g. "the better answer is the shorter
        one"). With two columns, the first is the item's stratum if its gold
        is right, the second if it is wrong (the better answer is then the
        other one, so "better answer shorter" becomes "longer").
    n_items, n_raters : int, optional
        Number of items and raters (default: the largest code plus one).
    max_iter : int, default 300
    tol : float, default 1e-6
        Stop when the marginal log-likelihood gains less than this per judgment.
    max_fit : int or None, default :data:`MAX_FIT`
        With more judgments than this, the parameters are fitted on a random
        sample of this many (seeded, so the result is repeatable) and the
        posteriors computed from every judgment: a large cohort's skills and
        difficulty distribution are well determined by a sample, and the cost
        stays bounded.

    Returns
    -------
    LatentFit

    Examples
    --------
    Six raters who agree with gold 85% of the time on 150 pairs, whose first
    six golds are wrong:

    >>> rng = np.random.default_rng(0)
    >>> agree = (rng.random((150, 6)) < 0.85).astype(float)
    >>> agree[:6] = 1 - agree[:6]
    >>> item, rater = np.indices(agree.shape)
    >>> fit = fit_latent_truth(agree.ravel(), item.ravel(), rater.ravel())
    >>> agree[:8].sum(axis=1).tolist()  # raters agreeing with each gold
    [1.0, 1.0, 2.0, 0.0, 2.0, 0.0, 4.0, 5.0]
    >>> fit.p_wrong[:8].round(2).tolist()
    [0.46, 0.64, 0.27, 0.93, 0.26, 0.93, 0.0, 0.0]
    >>> int((bayesian_fdr(fit.p_wrong) <= 0.10).sum())  # flagged at a 10% false discovery rate
    2
    """
    y = np.asarray(agree, dtype=float)
    item = np.asarray(item, dtype=np.intp)
    rater = np.asarray(rater, dtype=np.intp)
    if not (len(y) == len(item) == len(rater)):
        raise ValueError("agree, item and rater must have the same length.")
    if len(y) and not np.isin(y, (0.0, 1.0)).all():
        raise ValueError("agree must hold only 0 and 1.")
    n_i = int(n_items if n_items is not None else (item.max() + 1 if len(item) else 0))
    n_r = int(n_raters if n_raters is not None else (rater.max() + 1 if len(rater) else 0))
    X = np.zeros((len(y), 0)) if pull is None else np.asarray(pull, dtype=float).reshape(len(y), -1)
    k = X.shape[1]
    if max_fit is not None and len(y) > max_fit:
        keep = np.sort(np.random.default_rng(0).choice(len(y), max_fit, replace=False))
        sample = fit_latent_truth(
            y[keep],
            item[keep],
            rater[keep],
            X[keep],
            stratum=stratum,
            n_items=n_i,
            n_raters=n_r,
            max_iter=max_iter,
            tol=tol,
            max_fit=None,
        )
        return _final_posterior(y, item, rater, X, sample, n_i, stratum)
    # judgments sorted by item, so that an item's sums are one np.add.reduceat
    order = np.argsort(item, kind="stable")
    y, item, rater, X = y[order], item[order], rater[order], X[order]
    per_item = np.bincount(item, minlength=n_i)
    starts = (np.cumsum(per_item) - per_item)[per_item > 0]
    judged = per_item > 0
    # combos c = (z, grid point): z = +1 for the first K, -1 for the last K
    zt, zd, point_clarity = _combos()
    K = len(point_clarity)
    strata = np.zeros((n_i, 2), dtype=np.intp) if stratum is None else np.asarray(stratum, dtype=np.intp)
    if strata.ndim == 1:
        strata = np.column_stack([strata, strata])
    if strata.shape != (n_i, 2):
        raise ValueError(f"stratum must have one row per item ({n_i}); got shape {strata.shape}.")
    n_st = int(strata.max() + 1) if n_i else 1
    weights = np.full((n_st, K), 1.0 / K)

    skill = np.full(n_r, _SKILL_PRIOR_MEAN)
    beta = np.zeros((n_r, k))  # each rater's pull weights
    gamma = np.zeros(k)  # their cohort mean
    wrong = 0.05
    s = 2 * y - 1  # +1 agree, -1 disagree: log P(y) = log_expit(s * eta)
    previous = -np.inf
    iterations = 0
    post = np.zeros((n_i, 2 * K))
    total = -np.inf
    while iterations < max_iter:
        iterations += 1
        offset = (X * beta[rater]).sum(axis=1)
        # E-step: log-likelihood of each item's votes under each combo, (n_items, 2K)
        eta = zt[None, :] * skill[rater][:, None] + zd[None, :] + offset[:, None]  # (n, 2K)
        ll_j = log_expit(s[:, None] * eta)
        ll = np.zeros((n_i, 2 * K))
        if len(y):
            ll[judged] = np.add.reduceat(ll_j, starts, axis=0)
        log_w = np.log(weights)
        joint = ll + np.concatenate(
            [np.log1p(-wrong) + log_w[strata[:, 0]], np.log(wrong) + log_w[strata[:, 1]]], axis=1
        )
        norm = logsumexp(joint, axis=1)
        post = np.exp(joint - norm[:, None])
        total = float(norm.sum()) + _log_prior(skill, beta, gamma)
        if total - previous < tol * max(len(y), 1):
            break
        previous = total
        # M-step: wrong-gold share (MAP under its Beta prior) and the clarity distributions
        a, b = _WRONG_PRIOR
        wrong = float(np.clip((post[:, K:].sum() + a - 1) / (n_i + a + b - 2), 1e-4, 0.5))
        counts = np.zeros((n_st, K))
        for c in range(K):
            counts[:, c] += np.bincount(strata[:, 0], post[:, c], minlength=n_st)
            counts[:, c] += np.bincount(strata[:, 1], post[:, K + c], minlength=n_st)
        # each stratum's distribution is shrunk toward the pooled one by _STRATUM_POOLING pseudo-items
        pooled = (counts.sum(axis=0) + _CLARITY_SMOOTHING) / (counts.sum() + _CLARITY_SMOOTHING * K)
        weights = counts + _STRATUM_POOLING * pooled
        weights = weights / weights.sum(axis=1, keepdims=True)
        # one Newton step per rater in (skill, pulls) on the expected complete log-likelihood
        skill, beta = _newton_step(y, rater, X, post[item], eta, zt, skill, beta, gamma, n_r)
        gamma = beta.mean(axis=0) if n_r else gamma
    p_wrong = post[:, K:].sum(axis=1)
    clarity = post[:, :K] @ point_clarity + post[:, K:] @ point_clarity
    p_wrong[~judged] = np.nan
    clarity[~judged] = np.nan
    return LatentFit(p_wrong, clarity, skill, beta, wrong, weights, iterations, total)


def _final_posterior(y, item, rater, X, fit: LatentFit, n_i: int, stratum) -> LatentFit:
    """The E-step of :func:`fit_latent_truth` on every judgment, with the parameters of ``fit``."""
    zt, zd, point_clarity = _combos()
    K = len(point_clarity)
    strata = np.zeros((n_i, 2), dtype=np.intp) if stratum is None else np.asarray(stratum, dtype=np.intp)
    if strata.ndim == 1:
        strata = np.column_stack([strata, strata])
    eta = zt[None, :] * fit.skill[rater][:, None] + zd[None, :] + (X * fit.pull[rater]).sum(axis=1)[:, None]
    ll_j = log_expit((2 * y - 1)[:, None] * eta)
    ll = np.stack([np.bincount(item, ll_j[:, c], minlength=n_i) for c in range(2 * K)], axis=1)
    log_w = np.log(fit.clarity_weights)
    joint = ll + np.concatenate(
        [np.log1p(-fit.wrong_rate) + log_w[strata[:, 0]], np.log(fit.wrong_rate) + log_w[strata[:, 1]]],
        axis=1,
    )
    norm = logsumexp(joint, axis=1)
    post = np.exp(joint - norm[:, None])
    p_wrong = post[:, K:].sum(axis=1)
    clarity = post[:, :K] @ point_clarity + post[:, K:] @ point_clarity
    judged = np.bincount(item, minlength=n_i) > 0
    p_wrong[~judged] = np.nan
    clarity[~judged] = np.nan
    return replace(fit, p_wrong=p_wrong, clarity=clarity, log_likelihood=float(norm.sum()))


def _combos() -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    r"""Per (truth, grid point): the factor of skill and the constant in the log odds of agreeing with gold.

    Also each grid point's clarity for a rater of typical skill
    (:math:`\tau - \delta / 1.5`): 1 for the clearest pairs, 0 for a coin,
    below 0 for a trap that rater falls for.
    """
    tau, depth = ITEM_GRID[:, 0], ITEM_GRID[:, 1]
    return np.concatenate([tau, -tau]), np.concatenate([-depth, depth]), tau - depth / _SKILL_PRIOR_MEAN


def _log_prior(skill: np.ndarray, beta: np.ndarray, gamma: np.ndarray) -> float:
    return float(
        -0.5 * (((skill - _SKILL_PRIOR_MEAN) / _SKILL_PRIOR_SD) ** 2).sum()
        - 0.5 * (((beta - gamma) / _PULL_PRIOR_SD) ** 2).sum()
    )


def _newton_step(y, rater, X, r, eta, zt, skill, beta, gamma, n_r):
    """One Newton step of each rater's (skill, pulls), all raters at once (their blocks are apart).

    ``r`` holds each judgment's posterior weight of each (truth, clarity)
    combination; the objective is the weighted log-likelihood plus the
    normal priors of the module docstring.
    """
    k = X.shape[1]
    p = expit(eta)
    resid = r * (y[:, None] - p)
    curv = r * (p * (1 - p))
    # per judgment: d eta / d theta = (z tau, x); sums over the combos as matrix products
    g_s, g_x = (resid @ np.column_stack([zt, np.ones_like(zt)])).T
    a, b, w = (curv @ np.column_stack([zt**2, zt, np.ones_like(zt)])).T
    g_row = np.column_stack([g_s, X * g_x[:, None]])  # (n, 1 + k)
    d = 1 + k
    grad = np.stack([np.bincount(rater, g_row[:, m], minlength=n_r) for m in range(d)], axis=1)
    grad[:, 0] -= (skill - _SKILL_PRIOR_MEAN) / _SKILL_PRIOR_SD**2
    grad[:, 1:] -= (beta - gamma) / _PULL_PRIOR_SD**2
    H = np.zeros((n_r, d, d))
    H[:, 0, 0] = np.bincount(rater, a, minlength=n_r) + 1 / _SKILL_PRIOR_SD**2
    for m in range(k):
        H[:, 0, 1 + m] = H[:, 1 + m, 0] = np.bincount(rater, b * X[:, m], minlength=n_r)
        for q in range(m, k):
            H[:, 1 + m, 1 + q] = H[:, 1 + q, 1 + m] = np.bincount(rater, w * X[:, m] * X[:, q], minlength=n_r)
        H[:, 1 + m, 1 + m] += 1 / _PULL_PRIOR_SD**2
    step = np.linalg.solve(H, grad[:, :, None])[:, :, 0]
    return skill + step[:, 0], beta + step[:, 1:]


def bayesian_fdr(p_wrong: np.ndarray) -> np.ndarray:
    """Each item's Bayesian q-value: the false discovery rate of flagging it and every item more doubtful.

    The items are ranked by their posterior probability that gold is right,
    ``1 - p_wrong`` (the local false discovery rate); an item's q-value is the
    mean of that probability over itself and every item ranked before it.
    Flagging the items whose q-value is at most ``alpha`` flags the largest
    set whose expected share of correct golds is at most ``alpha``
    (Newton et al. 2004).

    Parameters
    ----------
    p_wrong : ndarray of shape (n,)
        Posterior probabilities that each gold is wrong; NaN entries are not ranked.

    Returns
    -------
    ndarray of shape (n,)
        The q-values (NaN where ``p_wrong`` is NaN).

    Examples
    --------
    >>> bayesian_fdr(np.array([0.99, 0.1, 0.85, np.nan])).round(3).tolist()
    [0.01, 0.353, 0.08, nan]
    """
    p_wrong = np.asarray(p_wrong, dtype=float)
    q = np.full(p_wrong.shape, np.nan)
    ok = ~np.isnan(p_wrong)
    if not ok.any():
        return q
    right = 1.0 - p_wrong[ok]
    order = np.argsort(right, kind="stable")
    ranked = right[order]
    running = np.cumsum(ranked) / np.arange(1, len(order) + 1)
    # equal evidence shares the value of the larger set, so a flag never splits it
    running = running[np.searchsorted(ranked, ranked, side="right") - 1]
    q[np.flatnonzero(ok)[order]] = running
    return q
