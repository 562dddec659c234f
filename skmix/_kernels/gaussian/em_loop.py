"""EM of the Gaussian families in one kernel call: plain EM here, SQUAREM in
``em_squarem``.

:func:`em_step` is one iteration of the engine's loop for a
``GaussianFamily`` (scikit-learn's four covariance types) or a
``GaussianModelFamily`` (mclust's ten others) on rows that make one block
(``CLAIM_ROWS`` at most): the log normalisers, the fused E-step, the M-step
kernel and the mixing log-weights, the same kernels on the same values in
the same order as the family's ``prepare``, ``accumulate``, ``m_step`` and
the engine's ``log_weights_from_stats``. :func:`plain_iterations` repeats it
with the engine's stopping rule. What the loops save is the Python between
the kernels, which on a few hundred rows costs more than the kernels.

One layout for every covariance type, so that one compiled loop serves them
all (each kernel gets a reshaped view of the shape it takes): a parameter
set is means (k, d), covariances and precision factors (m, a, b) and
log-weights (k,), with (m, a, b) = (k, d, d) for 'full' and the ten models,
(1, d, d) for 'tied', (k, 1, d) for 'diag' and (k, 1, 1) for 'spherical';
the statistics are resp_sum (1, k), sum_z (1, k, d), sum_zz (1, m, a, b)
and the log-likelihood (1,), the one-block statistics of the E-step
kernels (zeroed before each E-step).
"""

import math

import numpy as np
from numba import njit

from ..._config import IEEE_JIT_OPTIONS
from ..mixing import mixing_log_weights
from .estep_diag import diag_accumulate, spherical_accumulate
from .estep_full import full_accumulate, tied_accumulate
from .linalg import diagonal_log_norm, triangular_log_norm
from .models import direct_m_step, eigen_m_step
from .mstep import diagonal_m_step, full_m_step

#: The covariance types of :func:`em_step` (``kind``): scikit-learn's four,
#: and mclust's other ten (``MODEL``, the model given by its code).
FULL, TIED, DIAG, SPHERICAL, MODEL = range(5)
#: The loops' status: the stopping rule was met, the iteration budget ran
#: out, an M-step failed (the engine's loop then redoes that iteration, and
#: raises or regularises as it does), the E-step's log-likelihood was not
#: finite.
CONVERGED, RUNNING, M_STEP_FAILED, NOT_FINITE = 0, 1, 2, 3


@njit(**IEEE_JIT_OPTIONS)
def em_step(kind, model, X, rows, point, new, options, stats, log_norm, counter):
    """One EM iteration from ``point`` into ``new``; False if the M-step
    failed (``new`` then holds no parameters).

    kind, model : the covariance type and, for ``MODEL``, the model's code
        (``MODEL_CODES``) and whether ``eigen_m_step`` fits it.
    X : (n, d) float64, C-contiguous, one block of rows.
    rows : (sample_weight (n,), weighted), the weights read if ``weighted``.
    point, new : (means, covariances, precision factors, log-weights) in
        the module's layout; ``new`` is written.
    options : (fit_weights, reg, constant, eps, M-step options): whether the
        log-weights are fitted (else copied), the regularisation, the
        log-normalisers' -d/2 log(2 pi), what is added to each
        responsibility sum, and the ten models' ``m_step_options``.
    stats : the statistics in the module's layout, written.
    log_norm : (k,) float64 and counter : (1,) int64, scratch.
    """
    code, eigen = model
    sample_weight, weighted = rows
    fit_weights, reg, constant, eps, m_step_options = options
    means, covariances, prec_chol, log_weights = point
    new_means, new_covariances, new_prec_chol, new_log_weights = new
    resp_sum, sum_z, sum_zz, log_likelihood = stats
    n, d = X.shape
    k = means.shape[0]
    counter[0] = 0
    resp_sum[:] = 0.0
    sum_z[:] = 0.0
    sum_zz[:] = 0.0
    log_likelihood[0] = 0.0
    # The E-step, as ``GaussianFamily.prepare`` and ``_one_block``.
    if kind == DIAG or kind == SPHERICAL:
        diagonal_log_norm(
            prec_chol.reshape((k, prec_chol.shape[2])),
            d,
            log_weights,
            constant,
            log_norm,
        )
    else:
        triangular_log_norm(prec_chol, log_weights, constant, log_norm)
    if kind == DIAG:
        parts = (resp_sum, sum_z, sum_zz.reshape((1, k, d)), log_likelihood)
        prec = prec_chol.reshape((k, d))
        diag_accumulate(
            X, sample_weight, weighted, means, prec, log_norm, n, counter, parts
        )
    elif kind == SPHERICAL:
        parts1 = (resp_sum, sum_z, sum_zz.reshape((1, k)), log_likelihood)
        prec1 = prec_chol.reshape(k)
        spherical_accumulate(
            X, sample_weight, weighted, means, prec1, log_norm, n, counter, parts1
        )
    elif kind == TIED:
        # The mean of the means, as ``np.add.reduce(means, axis=0) / k``.
        centre = means[0].copy()
        for c in range(1, k):
            for i in range(d):
                centre[i] += means[c, i]
        for i in range(d):
            centre[i] /= k
        parts2 = (resp_sum, sum_z, sum_zz.reshape((1, d, d)), log_likelihood)
        tied_accumulate(
            X,
            sample_weight,
            weighted,
            means,
            prec_chol[0],
            log_norm,
            centre,
            n,
            counter,
            parts2,
        )
    else:
        centre = means[np.argmax(log_weights)].copy()
        parts3 = (resp_sum, sum_z, sum_zz.reshape((1, k, d, d)), log_likelihood)
        full_accumulate(
            X,
            sample_weight,
            weighted,
            means,
            prec_chol,
            log_norm,
            centre,
            n,
            counter,
            parts3,
        )
    # The M-step about the point's means, as the family's ``m_step``.
    if kind == DIAG or kind == SPHERICAL:
        m = prec_chol.shape[2]
        if kind == DIAG:
            ok = diagonal_m_step(
                resp_sum[0],
                sum_z[0],
                sum_zz[0].reshape((k, m)),
                means,
                reg,
                eps,
                new_means,
                new_covariances.reshape((k, m)),
                new_prec_chol.reshape((k, m)),
            )
        else:
            ok = diagonal_m_step(
                resp_sum[0],
                sum_z[0],
                sum_zz[0].reshape(k),
                means,
                reg,
                eps,
                new_means,
                new_covariances.reshape(k),
                new_prec_chol.reshape(k),
            )
        if not ok:
            return False
    elif kind == MODEL:
        reg_m, inner_tol, inner_max, sweeps, screen = m_step_options
        m_step_args = (
            code,
            resp_sum[0],
            sum_z[0],
            sum_zz[0],
            means,
            covariances,
            reg_m,
            eps,
            inner_tol,
            inner_max,
            sweeps,
            screen,
            new_means,
            new_covariances,
            new_prec_chol,
        )
        if eigen:
            failed = eigen_m_step(*m_step_args)[0]
        else:
            failed = direct_m_step(*m_step_args)[0]
        if failed:
            return False
    elif (
        full_m_step(
            resp_sum[0],
            sum_z[0],
            sum_zz[0],
            means,
            reg,
            eps,
            kind == TIED,
            new_means,
            new_covariances,
            new_prec_chol,
        )
        >= 0
    ):
        return False
    if fit_weights:
        mixing_log_weights(resp_sum[0], eps, new_log_weights)
    else:
        new_log_weights[:] = log_weights
    return True


@njit(**IEEE_JIT_OPTIONS)
def plain_iterations(kind, model, X, rows, point, new, options, run, stats, bounds):
    """Up to ``max_iter`` plain EM iterations (``em_step``).

    ``point`` is the point the first E-step reads, ``new`` a set of arrays
    of the same shapes; the two sets swap at each iteration, so that the
    last E-step's point survives. ``run`` = (weight, lower_bound, tol,
    max_iter): the rows' total weight, the lower bound before the run, the
    stopping tolerance and the iteration budget. ``bounds`` (max_iter,)
    receives the mean log-likelihood of each E-step. A step's lower bound
    is its E-step's mean log-likelihood, and the run has converged when it
    changed by less than ``tol``.

    Returns ``(n_iter, status, last)``: the iterations completed, the
    status (after ``M_STEP_FAILED`` the failed iteration is not counted:
    the point of its E-step is the last M-step's), and which set holds the
    parameters of the last M-step (0: ``point``, 1: ``new``); the other set
    then holds the point of the last counted E-step.
    """
    weight, lower_bound, tol, max_iter = run
    log_norm = np.empty(point[0].shape[0])
    counter = np.zeros(1, dtype=np.int64)
    last = 0
    for it in range(1, max_iter + 1):
        if not em_step(
            kind, model, X, rows, point, new, options, stats, log_norm, counter
        ):
            return it - 1, M_STEP_FAILED, last
        # The two sets swap: the point just fitted is read next.
        point, new = new, point
        last = 1 - last
        value = stats[3][0] / weight
        if not math.isfinite(value):
            return it, NOT_FINITE, last
        bounds[it - 1] = value
        change = value - lower_bound
        lower_bound = value
        if abs(change) < tol:
            return it, CONVERGED, last
    return max_iter, RUNNING, last
