"""Firth-penalized logistic regression, batched over many small data sets.

PairCal fits one small logistic model per rater (a few hundred judgments, four
parameters). Raters who agree with gold every time separate the data
completely and ordinary maximum likelihood diverges; Firth's penalty keeps
every estimate finite and removes the O(1/n) bias of maximum likelihood.

:func:`firth_logistic` fits R models at once: ``X`` has shape ``(R, n, p)``,
``y`` and ``weights`` shape ``(R, n)``. Groups of different sizes are padded to
a common ``n`` with weight 0. All arithmetic is numpy ``einsum``/``matmul`` over
the rater axis; raters are processed in chunks to bound memory, and the
chunks in threads, one per core (numpy releases the GIL in the batched
products, and each rater's fit is the same in any chunk).
"""

from __future__ import annotations

import os
from concurrent.futures import ThreadPoolExecutor
from typing import NamedTuple

import numpy as np
from scipy.special import chdtrc, expit, ndtri

__all__ = ["FirthResult", "firth_logistic", "penalized_inference"]

#: Relative size of the smallest eigenvalue of ``X' diag(w) X`` below which a
#: design is treated as rank deficient (collinear columns): its fit is NaN.
RANK_TOLERANCE = 1e-10

#: Fewest raters per thread: below this a second thread costs more than it saves.
MIN_PER_THREAD = 128


def usable_cores() -> int:
    """The cores this process may run on (its CPU affinity where the system reports one)."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


class FirthResult(NamedTuple):
    """Result of :func:`firth_logistic`; the leading axis is the rater axis ``R``.

    Attributes
    ----------
    coef : ndarray of shape (R, p)
        Penalized maximum-likelihood estimates. Held (``fixed``) coefficients
        keep their ``start`` value (default 0); coefficients of all-zero columns are 0; NaN for rank-deficient
        designs.
    cov : ndarray of shape (R, p, p)
        Inverse Fisher information ``(X' W X)^{-1}`` of the free coefficients at
        the solution (the covariance logistf reports). Rows and columns of held
        coefficients and all-zero columns are NaN.
    converged : ndarray of bool, shape (R,)
        Whether the Newton iterations met both tolerances within ``max_iter``.
    loglik : ndarray of shape (R,)
        Penalized log-likelihood ``l(beta) + 0.5 log det I(beta)`` at the solution.
    n_iter : ndarray of int, shape (R,)
        Newton iterations used.
    """

    coef: np.ndarray
    cov: np.ndarray
    converged: np.ndarray
    loglik: np.ndarray
    n_iter: np.ndarray


def firth_logistic(
    X,
    y,
    weights=None,
    *,
    fixed=None,
    start=None,
    offset=None,
    max_iter: int = 50,
    max_step: float = 5.0,
    max_halvings: int = 15,
    tol: float = 1e-8,
    chunk_size: int = 2048,
    n_jobs: int = -1,
) -> FirthResult:
    r"""Fit R Firth-penalized logistic regressions at once.

    Maximizes, separately for each ``r``, the penalized log-likelihood

    .. math::

        l^*(\beta) = \sum_i w_i \{y_i \eta_i - \log(1 + e^{\eta_i})\}
                     + \tfrac12 \log\det I(\beta), \qquad
        I(\beta) = X^\top \operatorname{diag}\{w_i \mu_i (1 - \mu_i)\} X,

    with :math:`\eta = X\beta + o` (``o`` the offset, 0 by default) and
    :math:`\mu = \operatorname{expit}(\eta)`, by
    Newton-Raphson on the modified score

    .. math::

        U^*_j(\beta) = \sum_i \{w_i (y_i - \mu_i) + h_i (\tfrac12 - \mu_i)\} x_{ij},

    where :math:`h_i = w_i \mu_i (1 - \mu_i)\, x_i^\top I^{-1} x_i` are the
    diagonal elements of the weighted hat matrix. Each step
    :math:`\delta = I^{-1} U^*` is shrunk so no coefficient moves by more than
    ``max_step`` and then halved while it lowers :math:`l^*` (at most
    ``max_halvings`` times), as in the R package logistf. Iteration stops when
    the next step would be small, :math:`\max_j |\delta_j| <` ``tol``, and
    :math:`\max_j |U^*_j| <` ``sqrt(tol)`` (the step is then not taken). The
    penalty keeps estimates finite under complete and quasi-complete
    separation. Using :math:`I` as the curvature (Fisher
    scoring, as logistf does) converges only linearly when the penalty
    dominates, as under separation; groups still iterating after 8 steps switch
    to the exact Hessian of :math:`l^*` (where it is negative definite), which
    restores quadratic convergence.

    Parameters
    ----------
    X : array_like of shape (R, n, p)
        Design matrices (include a column of ones for an intercept).
    y : array_like of shape (R, n)
        Outcomes in [0, 1].
    weights : array_like of shape (R, n), optional
        Non-negative frequency weights; 0 marks padding rows, so groups of
        different sizes can share one array. Default: all 1.
    fixed : array_like of bool, shape (p,) or (R, p), optional
        Coefficients held at 0 while the others are fitted; the penalty still
        uses the full information matrix (the profile penalized likelihood of
        Heinze & Schemper, used for penalized likelihood-ratio tests).
    start : array_like of shape (p,) or (R, p), optional
        Starting values (default 0). Held coefficients stay at their starting
        value, so ``fixed`` with ``start`` fits the model with some
        coefficients held at any value (the points of a profile likelihood).
        A warm start from a nearby fit saves Newton steps.
    offset : array_like of shape (R, n), optional
        A known term added to each row's log odds (coefficient 1, not
        estimated), e.g. a pair's easiness estimated elsewhere. Default: 0.
    max_iter : int, default 50
    max_step : float, default 5.0
        Largest change of any coefficient in one Newton step.
    max_halvings : int, default 15
    tol : float, default 1e-8
    chunk_size : int, default 2048
        Raters fitted together; bounds memory to a few arrays of
        ``chunk_size * n * p`` floats (per thread).
    n_jobs : int, default -1
        Threads that fit chunks of raters at the same time; -1: one per usable core.
        Each thread gets at least :data:`MIN_PER_THREAD` raters. The results do not
        depend on it: every rater's fit is computed alone.

    Returns
    -------
    FirthResult
        ``coef`` (R, p), ``cov`` (R, p, p), ``converged`` (R,), ``loglik`` (R,),
        ``n_iter`` (R,).

    Notes
    -----
    A column that is 0 on every weighted row of a group carries no information;
    it is left out of that group's fit (coefficient 0, covariance NaN) instead
    of making the information matrix singular. A group whose remaining columns
    are collinear (smallest eigenvalue of ``X' diag(w) X`` below
    :data:`RANK_TOLERANCE` times the largest) gets NaN and ``converged=False``.

    Validated in ``tests/test_firth.py`` against closed forms (2x2 table: the
    log odds ratio with 0.5 added to each cell; intercept only:
    ``(k + 0.5) / (n + 1)``) and against statsmodels ``Logit`` on large samples.

    References
    ----------
    Firth, D. (1993). Bias reduction of maximum likelihood estimates.
    Biometrika 80(1), 27-38.

    Heinze, G. and Schemper, M. (2002). A solution to the problem of separation
    in logistic regression. Statistics in Medicine 21(16), 2409-2419.

    Examples
    --------
    A 2x2 table with an empty cell (separation): 10/10 successes when x = 1,
    5/10 when x = 0. Firth's log odds ratio is that of the table with 0.5 added
    to each cell, ``log(10.5 * 5.5 / (0.5 * 5.5)) = log 21``:

    >>> x = np.repeat([0.0, 1.0], 10)
    >>> X = np.stack([np.ones(20), x], axis=1)[None]
    >>> y = np.r_[np.ones(5), np.zeros(5), np.ones(10)][None]
    >>> fit = firth_logistic(X, y)
    >>> bool(fit.converged[0]), round(float(fit.coef[0, 1]), 6), round(float(np.log(21)), 6)
    (True, 3.044522, 3.044522)
    """
    X = np.asarray(X, dtype=float)
    if X.ndim != 3:
        raise ValueError(f"X must have shape (R, n, p); got {X.ndim} dimension(s).")
    R, n, p = X.shape
    y = np.asarray(y, dtype=float)
    if y.shape != (R, n):
        raise ValueError(f"y must have shape {(R, n)} to match X; got {y.shape}.")
    if weights is None:
        w = np.ones((R, n))
    else:
        w = np.asarray(weights, dtype=float)
        if w.shape != (R, n):
            raise ValueError(f"weights must have shape {(R, n)} to match X; got {w.shape}.")
    if fixed is None:
        fix = np.zeros((R, p), dtype=bool)
    else:
        fix = np.asarray(fixed, dtype=bool)
        if fix.shape not in ((p,), (R, p)):
            raise ValueError(f"fixed must have shape {(p,)} or {(R, p)}; got {fix.shape}.")
        fix = np.broadcast_to(fix, (R, p))
    if start is None:
        beta0 = np.zeros((R, p))
    else:
        beta0 = np.asarray(start, dtype=float)
        if beta0.shape not in ((p,), (R, p)) or not np.all(np.isfinite(beta0)):
            raise ValueError(f"start must be finite with shape {(p,)} or {(R, p)}; got {beta0.shape}.")
        beta0 = np.broadcast_to(beta0, (R, p))
    off = None  # no (R, n) array of zeros: memory stays bounded by the chunks
    if offset is not None:
        off = np.asarray(offset, dtype=float)
        if off.shape != (R, n) or not np.all(np.isfinite(off)):
            raise ValueError(f"offset must be finite with shape {(R, n)}; got {off.shape}.")
    if not np.all(np.isfinite(X)):
        raise ValueError("X has missing or infinite values.")
    if not np.all(np.isfinite(w)) or np.any(w < 0):
        raise ValueError("weights must be finite and non-negative.")
    if not np.all((y >= 0) & (y <= 1)):
        raise ValueError("y has values outside [0, 1].")
    if max_iter < 1 or max_step <= 0 or max_halvings < 0 or tol <= 0 or chunk_size < 1:
        raise ValueError("max_iter, max_step, tol and chunk_size must be positive, max_halvings >= 0.")
    if n_jobs == 0 or n_jobs < -1:
        raise ValueError(f"n_jobs must be -1 or a positive number of threads; got {n_jobs}.")

    out = FirthResult(
        coef=np.full((R, p), np.nan),
        cov=np.full((R, p, p), np.nan),
        converged=np.zeros(R, dtype=bool),
        loglik=np.full(R, np.nan),
        n_iter=np.zeros(R, dtype=int),
    )
    threads = min(usable_cores() if n_jobs == -1 else n_jobs, max(1, R // MIN_PER_THREAD))
    size = min(chunk_size, -(-R // threads))  # at least one chunk per thread
    chunks = [slice(start, min(start + size, R)) for start in range(0, R, size)]

    def fit(sl: slice) -> None:  # each chunk writes its own rows of ``out``
        _fit_chunk(
            X[sl],
            y[sl],
            w[sl],
            None if off is None else off[sl],
            fix[sl],
            beta0[sl],
            out,
            sl,
            max_iter,
            max_step,
            max_halvings,
            tol,
        )

    if threads == 1:
        for sl in chunks:
            fit(sl)
    else:
        with ThreadPoolExecutor(threads) as pool:
            list(pool.map(fit, chunks))  # list(): re-raises a chunk's error here
    return out


class _State(NamedTuple):
    """Quantities at the current coefficients of the active groups."""

    loglik: np.ndarray  # (r,) penalized log-likelihood
    score: np.ndarray  # (r, p) modified score, held components zeroed
    step_inv: np.ndarray  # (r, p, p) inverse of the free block of the curvature used for the step


#: Newton iterations with the Fisher information as curvature before groups that
#: have not converged switch to the exact Hessian of the penalized
#: log-likelihood. Fisher scoring converges only linearly when the penalty
#: dominates (separation); the exact Hessian restores quadratic convergence.
_FISHER_ITERATIONS = 8


def _fit_chunk(X, y, w, off, fix, beta0, out, sl, max_iter, max_step, max_halvings, tol) -> None:
    r, _, p = X.shape
    colsq = np.einsum("rnp,rn->rp", X * X, w)
    dropped = colsq == 0  # columns with no information in this group
    gram = _weighted_gram(X, w) + _diag(dropped)
    eig = np.linalg.eigvalsh(gram)
    full_rank = eig[:, 0] > RANK_TOLERANCE * np.maximum(eig[:, -1], 1e-300)
    free = ~(dropped | fix)
    pad = _diag(dropped)  # identity on dropped columns keeps I invertible
    # (r, p, n) copy: batched matmuls over the long n axis are several times faster
    # than einsum or (n, p) @ (p, p) products (profiled on 1,000 raters x 200).
    Xt = np.ascontiguousarray(X.transpose(0, 2, 1))

    def evaluate(idx, beta, exact=False) -> _State:
        Xi, Xti, wi, yi, fr = X[idx], Xt[idx], w[idx], y[idx], free[idx]
        eta = (beta[:, None, :] @ Xti)[:, 0]
        if off is not None:
            eta = eta + off[idx]
        mu = expit(eta)
        m = mu * (1.0 - mu)
        info = (Xti * (wi * m)[:, None, :]) @ Xi + pad[idx]
        logdet, info_inv, root_inv = _factor(info)
        q = np.square(root_inv @ Xti).sum(axis=1)  # x_i' I^-1 x_i = |L^-1 x_i|^2
        h = wi * m * q
        loglik = np.einsum("rn,rn->r", wi, yi * eta - _log1pexp(eta)) + 0.5 * logdet
        score = ((wi * (yi - mu) + h * (0.5 - mu))[:, None, :] @ Xi)[:, 0] * fr
        curvature = info
        if exact:
            curvature = info - _penalty_hessian(Xi, wi, mu, m, q, info_inv)
            pd = np.linalg.eigvalsh(_free_block(curvature, fr))[:, 0] > 0
            curvature = np.where(pd[:, None, None], curvature, info)
        if exact or not fr.all():
            step_inv = np.linalg.inv(_free_block(curvature, fr))
        else:
            step_inv = info_inv
        return _State(loglik, np.nan_to_num(score), np.nan_to_num(step_inv))

    active = np.flatnonzero(full_rank)
    beta = np.where(dropped, 0.0, beta0)  # a column without information keeps coefficient 0
    n_iter = np.zeros(r, dtype=int)
    converged = np.zeros(r, dtype=bool)
    kept = np.zeros(r, dtype=bool)  # groups whose state at the solution is in last_*
    last_loglik, last_inv = np.full(r, np.nan), np.full((r, p, p), np.nan)
    state = evaluate(active, beta[active])
    for it in range(max_iter):
        if active.size == 0:
            break
        exact = it >= _FISHER_ITERATIONS
        if it == _FISHER_ITERATIONS:
            state = evaluate(active, beta[active], exact)
        delta = np.einsum("rpq,rq->rp", state.step_inv, state.score)
        biggest = np.abs(delta).max(axis=1)
        delta *= np.minimum(1.0, max_step / np.maximum(biggest, 1e-300))[:, None]
        trial = beta[active] + delta
        new = evaluate(active, trial, exact)
        floor = state.loglik - 1e-10 * (1.0 + np.abs(state.loglik))  # rounding noise is no decrease
        worse = np.flatnonzero(new.loglik < floor)
        for _ in range(max_halvings):
            if worse.size == 0:
                break
            delta[worse] *= 0.5
            trial[worse] = beta[active[worse]] + delta[worse]
            redo = evaluate(active[worse], trial[worse], exact)
            for field, value in zip(_State._fields, redo, strict=True):
                getattr(new, field)[worse] = value
            worse = worse[redo.loglik < floor[worse]]
        # still worse after every halving: accept (as logistf does) unless the trial is not finite
        stuck = worse[~np.isfinite(new.loglik[worse])]
        trial[stuck], delta[stuck] = beta[active[stuck]], 0.0
        for field, value in zip(_State._fields, state, strict=True):
            getattr(new, field)[stuck] = value[stuck]
        beta[active] = trial
        n_iter[active] += 1
        # converged when the next step would be below tol: the coefficients are then within
        # about tol of the solution, and the step need not be taken (nor the state recomputed)
        ahead = np.abs(np.einsum("rpq,rq->rp", new.step_inv, new.score)).max(axis=1)
        done = (ahead < tol) & (np.abs(new.score).max(axis=1) < np.sqrt(tol))
        converged[active[done]] = True
        if not exact:  # the state at the solution: Fisher information, as reported
            kept[active[done]] = True
            last_loglik[active[done]] = new.loglik[done]
            last_inv[active[done]] = new.step_inv[done]
        active = active[~done]
        state = _State(*(a[~done] for a in new))

    final = np.flatnonzero(full_rank)
    recompute = final[~kept[final]]
    if len(recompute):
        at_end = evaluate(recompute, beta[recompute])
        last_loglik[recompute], last_inv[recompute] = at_end.loglik, at_end.step_inv
    cov = last_inv[final].copy()
    nonfree = ~free[final]
    cov[nonfree[:, :, None] | nonfree[:, None, :]] = np.nan
    out.coef[sl][final] = beta[final]
    out.cov[sl][final] = cov
    out.loglik[sl][final] = last_loglik[final]
    out.converged[sl] = converged
    out.n_iter[sl] = n_iter


def _log1pexp(eta: np.ndarray) -> np.ndarray:
    """``log(1 + exp(eta))`` without overflow; several times faster than ``np.logaddexp(0, eta)``."""
    return np.maximum(eta, 0.0) + np.log1p(np.exp(-np.abs(eta)))


def _weighted_gram(X: np.ndarray, v: np.ndarray) -> np.ndarray:
    """``X' diag(v) X`` for each group: (r, n, p), (r, n) -> (r, p, p)."""
    return (X * v[:, :, None]).transpose(0, 2, 1) @ X


def _factor(info: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """log det, inverse and inverse Cholesky factor ``L^-1`` of each (p, p) matrix.

    Matrices that are not positive definite get ``log det = -inf`` (so a trial
    step there is rejected) and the identity in place of the inverse.
    """
    p = info.shape[-1]
    try:
        chol = np.linalg.cholesky(info)
        ok = np.ones(len(info), dtype=bool)
    except np.linalg.LinAlgError:
        lam = np.linalg.eigvalsh(info)
        ok = lam[:, 0] > RANK_TOLERANCE * np.maximum(np.abs(lam[:, -1]), 1e-300)
        chol = np.linalg.cholesky(np.where(ok[:, None, None], info, np.eye(p)))
    root_inv = np.linalg.inv(chol)
    logdet = np.where(ok, 2.0 * np.log(np.diagonal(chol, axis1=1, axis2=2)).sum(axis=1), -np.inf)
    return logdet, root_inv.transpose(0, 2, 1) @ root_inv, root_inv


def _penalty_hessian(X, w, mu, m, q, info_inv) -> np.ndarray:
    r"""Hessian of :math:`\tfrac12 \log\det I(\beta)`, (r, p, p).

    With :math:`m = \mu(1-\mu)`, :math:`m' = m(1-2\mu)`,
    :math:`m'' = m(1-6\mu+6\mu^2)`, :math:`q_i = x_i^\top I^{-1} x_i` and
    :math:`A_j = \sum_i w_i m'_i x_{ij} x_i x_i^\top`:
    :math:`\tfrac12 \sum_i w_i m''_i q_i x_i x_i^\top
    - \tfrac12 \operatorname{tr}(I^{-1} A_j I^{-1} A_k)`.
    """
    m1 = m * (1.0 - 2.0 * mu)
    m2 = m * (1.0 - 6.0 * mu + 6.0 * mu * mu)
    A = np.einsum("rn,rnj,rna,rnb->rjab", w * m1, X, X, X, optimize=True)
    B = info_inv[:, None] @ A  # (r, p, p, p): I^-1 A_j
    trace = np.einsum("rjab,rkba->rjk", B, B)
    return 0.5 * _weighted_gram(X, w * m2 * q) - 0.5 * trace


def _free_block(matrix: np.ndarray, free: np.ndarray) -> np.ndarray:
    """Keep the free rows and columns; identity on the held ones."""
    keep = free[:, :, None] & free[:, None, :]
    return np.where(keep, matrix, 0.0) + _diag(~free)


def _diag(mask: np.ndarray) -> np.ndarray:
    """(r, p) boolean mask -> (r, p, p) diagonal matrices of 0/1."""
    return mask[:, :, None] * np.eye(mask.shape[1])


def penalized_inference(
    X, y, weights, columns, *, level: float = 0.95, offset=None, n_jobs: int = -1
) -> dict[str, np.ndarray]:
    r"""Firth fits with penalized likelihood-ratio tests and profile intervals, batched over groups.

    For each group and each coefficient :math:`\beta_j` in ``columns``:

    * the **penalized likelihood-ratio test** of :math:`\beta_j = 0`,
      :math:`2\{l^*(\hat\beta) - l^*(\hat\beta_{(j=0)})\}` against
      :math:`\chi^2_1`, where the null fit keeps Firth's penalty on the full
      information matrix (Heinze & Schemper 2002, as logistf);
    * the **profile penalized likelihood interval**: the values :math:`b` where
      the signed root :math:`r(b) = \operatorname{sign}(b - \hat\beta_j)
      \sqrt{2\{l^*(\hat\beta) - l^*(\hat\beta_{(j=b)})\}}` equals
      :math:`\pm z_{1 - (1 - \text{level})/2}`, found by the secant method for
      all groups at once (:math:`r` is nearly linear in :math:`b`), starting
      from the line through :math:`r(\hat\beta_j) = 0` and :math:`r(0)` (the
      test's null fit), each point a fit with :math:`\beta_j` held at
      :math:`b`, warm-started where the joint normal approximation puts the
      other coefficients. Once :math:`r` is within 0.02 of its target, a last
      secant step gives the end without another fit.

    Test and interval agree: the interval leaves out 0 exactly when the test
    rejects at ``1 - level``. Unlike Wald's, neither relies on the curvature
    at the estimate, which misleads at small n and near separation. An end
    the profile does not reach within 12 log-odds units is infinite. Ends are
    exact to about 5e-4 standard errors (``tests/test_firth.py`` compares
    them with a profile computed by scipy's optimizers; on 1,000 raters x 200
    judgments they were within 5e-4 log odds of ends searched to 1e-5, where
    stopping at the first point within 0.005 of the target, as before, left
    them up to 1.6e-3 away).

    Parameters
    ----------
    X : array_like of shape (R, n, p)
    y : array_like of shape (R, n)
    weights : array_like of shape (R, n)
        As in :func:`firth_logistic` (0 marks padding).
    columns : sequence of int
        The coefficients tested.
    level : float, default 0.95
    offset : array_like of shape (R, n), optional
    n_jobs : int, default -1
        As in :func:`firth_logistic`.

    Returns
    -------
    dict of ndarray
        ``beta``, ``low``, ``high``, ``p`` of shape (R, len(columns)) (NaN
        where the fit failed); ``stat`` the likelihood-ratio statistics;
        ``converged`` (R,) and ``collinear`` (R,) bool; ``coef`` (R, p) and
        ``cov`` (R, p, p) of the full fit.

    References
    ----------
    Heinze, G. and Schemper, M. (2002). A solution to the problem of separation
    in logistic regression. Statistics in Medicine 21(16), 2409-2419.

    Venzon, D. J. and Moolgavkar, S. H. (1988). A method for computing
    profile-likelihood-based confidence intervals. Applied Statistics 37(1), 87-94.

    Examples
    --------
    The 2x2 table of :func:`firth_logistic` (10/10 against 5/10): Wald's
    interval rests on a curvature that separation distorts; the profile one
    does not.

    >>> x = np.repeat([0.0, 1.0], 10)
    >>> X = np.stack([np.ones(20), x], axis=1)[None]
    >>> y = np.r_[np.ones(5), np.zeros(5), np.ones(10)][None]
    >>> out = penalized_inference(X, y, np.ones((1, 20)), [1])
    >>> round(float(out["beta"][0, 0]), 3), round(float(out["p"][0, 0]), 4)
    (3.045, 0.011)
    >>> round(float(out["low"][0, 0]), 1), round(float(out["high"][0, 0]), 1)
    (0.6, 8.0)
    """
    X = np.asarray(X, dtype=float)
    y = np.asarray(y, dtype=float)
    w = np.ones(y.shape) if weights is None else np.asarray(weights, dtype=float)
    R, n, p = X.shape
    cols = [int(c) for c in columns]
    k = len(cols)
    z = float(ndtri(0.5 + level / 2))
    off = None if offset is None else np.asarray(offset, dtype=float)
    full = firth_logistic(X, y, w, offset=off, n_jobs=n_jobs)
    collinear = np.isnan(full.coef).all(axis=1)
    coef = np.nan_to_num(full.coef)
    beta = coef[:, cols]
    se = np.sqrt(np.abs(np.nan_to_num(np.diagonal(full.cov, axis1=1, axis2=2)[:, cols], nan=1.0)))
    se = np.where(se > 0, se, 1.0)

    def held(rater: np.ndarray, column: np.ndarray, value: np.ndarray, starts: np.ndarray) -> FirthResult:
        """Fits of the groups ``rater`` with coefficient ``column`` held at ``value`` (flat arrays)."""
        fixed = np.zeros((len(rater), p), dtype=bool)
        fixed[np.arange(len(rater)), column] = True
        st = starts.copy()
        st[np.arange(len(rater)), column] = value
        return firth_logistic(
            X[rater],
            y[rater],
            w[rater],
            fixed=fixed,
            start=st,
            offset=None if off is None else off[rater],
            tol=_HELD_TOL,
            n_jobs=n_jobs,
        )

    # copies (column, group) for the tests, (side, column, group) for the interval ends
    t_rater = np.tile(np.arange(R), k)
    t_col = np.repeat(cols, R)
    # warm starts: the others move with the held one as their joint normal approximation says
    cov = np.nan_to_num(full.cov)
    with np.errstate(divide="ignore", invalid="ignore"):
        pull = cov[:, :, cols] / np.diagonal(cov, axis1=1, axis2=2)[:, None, cols]  # (R, p, k)
    pull = np.where(np.isfinite(pull), pull, 0.0)

    def guess(rater: np.ndarray, column: np.ndarray, value: np.ndarray) -> np.ndarray:
        which = np.searchsorted(cols_sorted, column)
        slot = order_cols[which]
        return coef[rater] + pull[rater, :, slot] * (value - coef[rater, column])[:, None]

    cols_sorted = np.sort(cols)
    order_cols = np.argsort(cols)
    null = held(t_rater, t_col, np.zeros(k * R), guess(t_rater, t_col, np.zeros(k * R)))
    stat = np.maximum(2.0 * (full.loglik[t_rater] - null.loglik), 0.0).reshape(k, R)

    e_rater = np.tile(t_rater, 2)
    e_col = np.tile(t_col, 2)
    side = np.repeat([-1.0, 1.0], k * R)
    center = np.tile(beta.T.ravel(), 2)
    b_prev, r_prev = center.copy(), np.zeros_like(center)
    # first guess: r(b) ~ (b - beta) / se + kappa (b - beta)^2, the curvature kappa from
    # the null fit's r(0) (where 0 is far enough from the estimate); linear without it
    r0 = -np.sign(beta) * np.sqrt(stat.T)  # (R, k): r(0)
    d0 = -beta
    with np.errstate(divide="ignore", invalid="ignore"):
        kappa = np.where(np.abs(r0) > 0.5, (r0 - d0 / se) / (d0 * d0), 0.0)
    kappa = np.clip(np.nan_to_num(kappa), -0.2 / (z * se * se), 0.2 / (z * se * se))  # r stays monotone
    s0, k0 = np.tile((1.0 / se).T.ravel(), 2), np.tile(kappa.T.ravel(), 2)
    disc = s0 * s0 + 4.0 * k0 * side * z
    b = center + 2.0 * side * z / (s0 + np.sqrt(np.maximum(disc, 0.0)))  # the root near side * z * se
    starts = guess(e_rater, e_col, b)
    r = np.full_like(b, np.nan)
    todo = np.flatnonzero(~(collinear | ~full.converged)[e_rater])
    for _ in range(10):
        if todo.size == 0:
            break
        fit = held(e_rater[todo], e_col[todo], b[todo], starts[todo])
        drop = np.maximum(full.loglik[e_rater[todo]] - fit.loglik, 0.0)
        r[todo] = side[todo] * np.sqrt(2.0 * drop)
        starts[todo] = np.nan_to_num(fit.coef)
        with np.errstate(divide="ignore", invalid="ignore"):
            slope = (r[todo] - r_prev[todo]) / (b[todo] - b_prev[todo])
        flat = ~(slope > 1e-6) | ~np.isfinite(slope)  # r rises with b on both sides
        sd, c = side[todo], center[todo]
        step = np.where(
            flat, sd * np.maximum(np.abs(b[todo] - c), 1.0), (sd * z - r[todo]) / np.where(flat, 1, slope)
        )
        b_new = np.clip(b[todo] + step, c - _PROFILE_REACH, c + _PROFILE_REACH)
        b_new = np.where(sd > 0, np.maximum(b_new, c + 1e-6), np.minimum(b_new, c - 1e-6))
        # near the end, the last secant step lands on it without another fit: r is nearly
        # linear in b, so the step's error is second order (about 0.001 standard errors)
        done = np.abs(r[todo] - sd * z) < _END_TOL
        b_prev[todo], r_prev[todo] = b[todo], r[todo]
        b[todo] = np.where(done & flat, b[todo], b_new)
        todo = todo[~done]
    close = np.abs(r - side * z) < _END_TOL
    ends = np.where(close, b, np.where(side > 0, np.inf, -np.inf)).reshape(2 * k, R)
    failed = collinear | ~full.converged
    nan = failed[:, None]
    return {
        "beta": np.where(nan, np.nan, beta),
        "low": np.where(nan, np.nan, ends[:k].T),
        "high": np.where(nan, np.nan, ends[k:].T),
        "p": np.where(nan, np.nan, chdtrc(1, stat.T)),
        "stat": np.where(nan, np.nan, stat.T),
        "converged": full.converged,
        "collinear": collinear,
        "coef": full.coef,
        "cov": full.cov,
    }


#: Largest distance (log odds) from the estimate that :func:`penalized_inference` searches for an end.
_PROFILE_REACH = 12.0

#: Distance of the signed root from its target (in standard-normal units) within which
#: :func:`penalized_inference` ends an interval end's search with a secant step, not a fit.
_END_TOL = 0.02

#: Tolerance of the held fits (steps below it, score below its root): the likelihood-ratio
#: statistics are then exact to about 1e-5, far below what moves a verdict.
_HELD_TOL = 1e-5
