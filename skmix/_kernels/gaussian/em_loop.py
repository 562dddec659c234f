"""Plain EM of mclust's covariance models in one kernel call.

:func:`model_iterations` runs what the engine's plain loop runs for a
``GaussianModelFamily`` on rows that make one block (``CLAIM_ROWS`` at
most), one iteration after another: the log normalisers
(``triangular_log_norm``), the fused E-step (``full_accumulate``), the
model's M-step kernel (``skmix._kernels.gaussian.models``), the mixing
log-weights and the stopping rule, the same kernels on the same values in
the same order. What it saves is the Python between the kernels, which on
a few hundred rows costs more than the kernels themselves.
"""

import math

import numpy as np
from numba import njit

from ..._config import IEEE_JIT_OPTIONS
from ..mixing import mixing_log_weights
from .estep_full import full_accumulate
from .linalg import triangular_log_norm
from .models import direct_m_step, eigen_m_step

#: ``model_iterations``' status: the stopping rule was met, the iteration
#: budget ran out, the M-step failed (a covariance not positive definite),
#: or the E-step's log-likelihood was not finite.
CONVERGED, RUNNING, M_STEP_FAILED, NOT_FINITE = 0, 1, 2, 3


@njit(**IEEE_JIT_OPTIONS)
def model_iterations(
    X,
    sample_weight,
    weighted,
    code,
    eigen,
    means,
    covariances,
    prec_chol,
    log_weights,
    fit_weights,
    m_step_options,
    constant,
    eps,
    weight,
    lower_bound,
    tol,
    max_iter,
    new,
    stats,
    bounds,
):
    """Up to ``max_iter`` plain EM iterations of one covariance model.

    X (n, d) C-contiguous float64, one block of rows; sample_weight (n,),
    read if ``weighted``; ``code`` the model's index in ``MODEL_CODES``,
    ``eigen`` whether ``eigen_m_step`` fits it (else ``direct_m_step``).
    means (k, d), covariances and prec_chol (k, d, d), log_weights (k,): the
    point the first E-step reads; ``new`` = (means, covariances, prec_chol,
    log_weights), arrays of the same shapes the M-steps write into (the two
    sets swap at each iteration, so that the last E-step's point survives).
    ``m_step_options`` = (reg, inner tolerance, inner iterations, sweeps,
    screen sweeps) as ``compiled_m_step`` passes them; ``constant`` is
    -d/2 log(2 pi), ``eps`` what is added to each responsibility sum;
    ``weight`` the rows' total weight. ``stats`` = (resp sums (1, k), sums
    of z (1, k, d), second moments (1, k, d, d), log-likelihood (1,)), the
    last E-step's (zeroed before each); ``bounds`` (max_iter,) receives the
    mean log-likelihood of each E-step.

    A step is the engine's: E-step at the point, M-step from its statistics
    (the previous covariances its warm start), the log-weights
    (``mixing_log_weights``) if ``fit_weights``; the lower bound is the
    E-step's mean log-likelihood, and the run has converged when it changed
    by less than ``tol``.

    Returns ``(n_iter, status, last)``: the iterations run (the last one's
    bound written unless the status is ``M_STEP_FAILED`` or
    ``NOT_FINITE``), the status, and which set holds the parameters of the
    last M-step (0: the arrays passed first, 1: ``new``); the other set
    then holds the point of the last E-step.
    """
    n, d = X.shape
    k = means.shape[0]
    reg, inner_tol, inner_max, sweeps, screen = m_step_options
    new_means, new_covariances, new_prec_chol, new_log_weights = new
    resp_sum, sum_z, sum_zz, log_likelihood = stats
    log_norm = np.empty(k)
    counter = np.zeros(1, dtype=np.int64)
    last = 0
    for it in range(1, max_iter + 1):
        triangular_log_norm(prec_chol, log_weights, constant, log_norm)
        centre = means[np.argmax(log_weights)].copy()
        counter[0] = 0
        resp_sum[:] = 0.0
        sum_z[:] = 0.0
        sum_zz[:] = 0.0
        log_likelihood[0] = 0.0
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
            stats,
        )
        m_step_args = (
            code,
            resp_sum[0],
            sum_z[0],
            sum_zz[0],
            means,
            covariances,
            reg,
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
            return it, M_STEP_FAILED, last
        if fit_weights:
            mixing_log_weights(resp_sum[0], eps, new_log_weights)
        else:
            new_log_weights[:] = log_weights
        # The two sets swap: the point just fitted is read next.
        means, new_means = new_means, means
        covariances, new_covariances = new_covariances, covariances
        prec_chol, new_prec_chol = new_prec_chol, prec_chol
        log_weights, new_log_weights = new_log_weights, log_weights
        last = 1 - last
        value = log_likelihood[0] / weight
        if not math.isfinite(value):
            return it, NOT_FINITE, last
        bounds[it - 1] = value
        change = value - lower_bound
        lower_bound = value
        if abs(change) < tol:
            return it, CONVERGED, last
    return max_iter, RUNNING, last
