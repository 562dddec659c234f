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

One loop per covariance type (``PLAIN_LOOPS``; the step, ``full_step``...,
is inlined into it), so that each compiles its own type's kernels only.
The arrays are those the kernels take: a parameter set is means (k, d),
covariances and precision factors of the family's shapes ((k, d, d) for
'full' and the ten models, (1, d, d) for 'tied', (k, d) for 'diag', (k,)
for 'spherical') and log-weights (k,); the statistics are the E-step
kernels' one-block statistics: resp_sum (1, k), sum_z (1, k, d), sum_zz
(1, k, d, d), (1, d, d), (1, k, d) or (1, k), and the log-likelihood (1,)
(zeroed before each E-step). ``model`` is, for the ten models, the model's
code (``MODEL_CODES``) and whether ``eigen_m_step`` fits it; for 'full'
and 'tied', (0, tied).
"""

import math

import numpy as np
from numba import njit

from ..._config import IEEE_JIT_OPTIONS
from ..mixing import mixing_log_weights
from .estep_diag import diag_accumulate, spherical_accumulate
from .estep_full import full_accumulate, tied_accumulate
from .linalg import diagonal_log_norm, spherical_log_norm, triangular_log_norm
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


@njit(inline="always", **IEEE_JIT_OPTIONS)
def em_step(step, model, X, rows, point, new, options, stats, log_norm, counter):
    """One EM iteration from ``point`` into ``new``; False if the M-step
    failed (``new`` then holds no parameters).

    step : the covariance type's step (``full_step``...), a compile-time
        constant of the loop that inlines this function (numba inlines it
        into each loop, so that a loop compiles its own type's kernels only:
        a kind passed as a number would compile every type's E-step and
        M-step into each loop, about five times the compile time of a first
        fit with an empty cache).
    model : for ``MODEL``, the model's code (``MODEL_CODES``) and whether
        ``eigen_m_step`` fits it.
    X : (n, d) float64, C-contiguous, one block of rows.
    rows : (sample_weight (n,), weighted), the weights read if ``weighted``.
    point, new : (means, covariances, precision factors, log-weights) in
        the module's arrays; ``new`` is written.
    options : (fit_weights, reg, constant, eps, M-step options): whether the
        log-weights are fitted (else copied), the regularisation, the
        log-normalisers' -d/2 log(2 pi), what is added to each
        responsibility sum, and the ten models' ``m_step_options``.
    stats : the statistics as the module keeps them, written.
    log_norm : (k,) float64 and counter : (1,) int64, scratch.

    Each step is the family's ``prepare`` (log normalisers, centre), its
    one-block E-step, ``m_step`` about the point's means and the engine's
    log-weights.
    """
    _zero(stats, counter)
    if not step(model, X, rows, point, new, options, stats, log_norm, counter):
        return False
    _log_weights(options, stats, point, new)
    return True


@njit(inline="always", **IEEE_JIT_OPTIONS)
def _zero(stats, counter):
    counter[0] = 0
    stats[0][:] = 0.0
    stats[1][:] = 0.0
    stats[2][:] = 0.0
    stats[3][0] = 0.0


@njit(inline="always", **IEEE_JIT_OPTIONS)
def _log_weights(options, stats, point, new):
    """The new log-weights (``mixing_log_weights``), or the point's when
    they are not fitted."""
    fit_weights, eps = options[0], options[3]
    if fit_weights:
        mixing_log_weights(stats[0][0], eps, new[3])
    else:
        new[3][:] = point[3]


@njit(inline="always", **IEEE_JIT_OPTIONS)
def full_step(model, X, rows, point, new, options, stats, log_norm, counter):
    """'full': the E-step about the mean of the heaviest component, then
    ``full_m_step`` (``model[1]``, False, its ``tied``: a value, not a
    constant, so that numba compiles the M-step kernel once for the engine
    and the loops)."""
    means, covariances, prec_chol, log_weights = point
    triangular_log_norm(prec_chol, log_weights, options[2], log_norm)
    centre = means[np.argmax(log_weights)].copy()
    full_accumulate(
        X, rows[0], rows[1], means, prec_chol, log_norm, centre, X.shape[0],
        counter, stats,
    )  # fmt: skip
    failed = full_m_step(
        stats[0][0], stats[1][0], stats[2][0], means, options[1], options[3],
        model[1], new[0], new[1], new[2],
    )  # fmt: skip
    return failed < 0


@njit(inline="always", **IEEE_JIT_OPTIONS)
def tied_step(model, X, rows, point, new, options, stats, log_norm, counter):
    """'tied': the E-step about the mean of the means (as
    ``np.add.reduce(means, axis=0) / k``), then ``full_m_step``
    (``model[1]``, True, its ``tied``)."""
    means, covariances, prec_chol, log_weights = point
    k, d = means.shape
    triangular_log_norm(prec_chol, log_weights, options[2], log_norm)
    centre = means[0].copy()
    for c in range(1, k):
        for i in range(d):
            centre[i] += means[c, i]
    for i in range(d):
        centre[i] /= k
    tied_accumulate(
        X, rows[0], rows[1], means, prec_chol[0], log_norm, centre, X.shape[0],
        counter, stats,
    )  # fmt: skip
    failed = full_m_step(
        stats[0][0], stats[1][0], stats[2], means, options[1], options[3],
        model[1], new[0], new[1], new[2],
    )  # fmt: skip
    return failed < 0


@njit(inline="always", **IEEE_JIT_OPTIONS)
def diag_step(model, X, rows, point, new, options, stats, log_norm, counter):
    means, covariances, prec, log_weights = point
    d = means.shape[1]
    diagonal_log_norm(prec, d, log_weights, options[2], log_norm)
    diag_accumulate(
        X, rows[0], rows[1], means, prec, log_norm, X.shape[0], counter, stats
    )
    return diagonal_m_step(
        stats[0][0], stats[1][0], stats[2][0], means, options[1], options[3],
        new[0], new[1], new[2],
    )  # fmt: skip


@njit(inline="always", **IEEE_JIT_OPTIONS)
def spherical_step(model, X, rows, point, new, options, stats, log_norm, counter):
    means, covariances, prec, log_weights = point
    d = means.shape[1]
    spherical_log_norm(prec, d, log_weights, options[2], log_norm)
    spherical_accumulate(
        X, rows[0], rows[1], means, prec, log_norm, X.shape[0], counter, stats
    )
    return diagonal_m_step(
        stats[0][0], stats[1][0], stats[2][0], means, options[1], options[3],
        new[0], new[1], new[2],
    )  # fmt: skip


@njit(inline="always", **IEEE_JIT_OPTIONS)
def model_step(model, X, rows, point, new, options, stats, log_norm, counter):
    """mclust's ten other models: 'full''s E-step, the model's M-step
    warm-started from the point's covariances."""
    means, covariances, prec_chol, log_weights = point
    triangular_log_norm(prec_chol, log_weights, options[2], log_norm)
    centre = means[np.argmax(log_weights)].copy()
    full_accumulate(
        X, rows[0], rows[1], means, prec_chol, log_norm, centre, X.shape[0], counter,
        stats,
    )  # fmt: skip
    code, eigen = model
    reg, inner_tol, inner_max, sweeps, screen = options[4]
    m_step_args = (
        code, stats[0][0], stats[1][0], stats[2][0], means, covariances, reg,
        options[3], inner_tol, inner_max, sweeps, screen, new[0], new[1], new[2],
    )  # fmt: skip
    if eigen:
        return not eigen_m_step(*m_step_args)[0]
    return not direct_m_step(*m_step_args)[0]


@njit(inline="always", **IEEE_JIT_OPTIONS)
def _plain_loop(step, data, point, new, run, stats, bounds):
    """Up to ``max_iter`` plain EM iterations (``em_step``; ``data`` =
    (model, X, rows, options), as it takes them).

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
    model, X, rows, options = data
    weight, lower_bound, tol, max_iter = run
    log_norm = np.empty(point[0].shape[0])
    counter = np.zeros(1, dtype=np.int64)
    last = 0
    for it in range(1, max_iter + 1):
        if not em_step(
            step, model, X, rows, point, new, options, stats, log_norm, counter
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


@njit(**IEEE_JIT_OPTIONS)
def _plain_full(data, point, new, run, stats, bounds):
    return _plain_loop(full_step, data, point, new, run, stats, bounds)


@njit(**IEEE_JIT_OPTIONS)
def _plain_tied(data, point, new, run, stats, bounds):
    return _plain_loop(tied_step, data, point, new, run, stats, bounds)


@njit(**IEEE_JIT_OPTIONS)
def _plain_diag(data, point, new, run, stats, bounds):
    return _plain_loop(diag_step, data, point, new, run, stats, bounds)


@njit(**IEEE_JIT_OPTIONS)
def _plain_spherical(data, point, new, run, stats, bounds):
    return _plain_loop(spherical_step, data, point, new, run, stats, bounds)


@njit(**IEEE_JIT_OPTIONS)
def _plain_model(data, point, new, run, stats, bounds):
    return _plain_loop(model_step, data, point, new, run, stats, bounds)


#: ``plain_iterations`` of each kind: one kernel per covariance type (each
#: compiles its own type's E-step and M-step only), by kind.
PLAIN_LOOPS = (_plain_full, _plain_tied, _plain_diag, _plain_spherical, _plain_model)


def plain_iterations(kind, *args):
    """``PLAIN_LOOPS[kind](*args)``: plain EM of the covariance type
    ``kind`` (see ``_plain_loop``)."""
    return PLAIN_LOOPS[kind](*args)
