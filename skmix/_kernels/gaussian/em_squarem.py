"""SQUAREM of the Gaussian families in one kernel call.

:func:`squarem_iterations` runs what the engine's ``Squarem`` step
(``skmix._engine.acceleration``, whose docstring states the scheme) runs
with the engine's ``_iterations`` and monitor for a Gaussian family on rows
that make one block: the same E-steps and M-steps (``em_loop.em_step``),
the same coordinates (log-weights, means, precision factors' coordinates),
the same step length, extrapolation, acceptance and step-length bound, the
same records and stopping rule, one E-step after another. Its state lives
in arrays the caller keeps, so that a run can go on over several calls.

What it does not do is what the engine's cycle does with an exception:
when an M-step fails anywhere, it stops (``M_STEP_FAILED``) and the caller
runs the whole EM run again in the engine, which rejects the point or
raises or regularises as it does.

Parameter sets live in a pool (arrays with a leading axis of
``POOL_SETS``), in ``em_loop``'s arrays; ``KEPT`` holds a copy of the point
of the last accepted E-step, whose statistics are copied into ``kept``.
"""

import math

import numpy as np
from numba import njit

from ..._config import IEEE_JIT_OPTIONS
from ..squarem import diagonal_factors, log_entries, log_softmax, step_length
from .em_loop import (
    CONVERGED,
    M_STEP_FAILED,
    NOT_FINITE,
    RUNNING,
    diag_step,
    em_step,
    full_step,
    model_step,
    spherical_step,
    tied_step,
)
from .linalg import factor_coordinates, factors_from_coordinates

#: Parameter sets of a run's pool: four the cycle uses, and ``KEPT``.
POOL_SETS = 5
KEPT = 4
#: ``state``'s entries (int64): the next E-step's phase (0: a new cycle, at
#: theta_0; 1: at theta_1; 2: at the extrapolated point theta'; 3: at its EM
#: step F(theta')), whether theta_0's vector is known, whether the run
#: extrapolates, the set of the parameters to continue from, the set of
#: F(theta').
PHASE, KNOWN, EXTRAPOLATING, CURRENT, STABILISED = range(5)
#: ``values``' entries (float64): the step-length bound, the cycle's step
#: length, the log-likelihood of theta_1, the lower bound.
STEP_MAX, ALPHA, LOG_LIKELIHOOD_1, LOWER_BOUND = range(4)
#: ``vectors``' rows: theta_0, theta_1, theta_2, theta', r and v.
THETA0, THETA1, THETA2, POINT, R, V = range(6)


@njit(**IEEE_JIT_OPTIONS)
def _at(pool, i):
    return pool[0][i], pool[1][i], pool[2][i], pool[3][i]


@njit(**IEEE_JIT_OPTIONS)
def _free(a, b):
    """The first of the pool's four cycle sets that is neither a nor b."""
    for i in range(4):
        if i != a and i != b:
            return i
    return -1


@njit(inline="always", **IEEE_JIT_OPTIONS)
def _head_to_vector(point, fit_weights, out):
    """The log-weights (if fitted) and the means into ``out``; the offset
    of the factors' coordinates."""
    means, log_weights = point[0], point[3]
    k, d = means.shape
    o = 0
    if fit_weights:
        for c in range(k):
            out[c] = log_weights[c]
        o = k
    for c in range(k):
        for i in range(d):
            out[o + c * d + i] = means[c, i]
    return o + k * d


@njit(**IEEE_JIT_OPTIONS)
def matrix_to_vector(point, fit_weights, out):
    """The coordinates of a set with triangular factors ('full', 'tied',
    the ten models) into ``out``: the log-weights if fitted, the means, the
    factors' coordinates (as the engine's ``Parametrisation.vector``)."""
    o = _head_to_vector(point, fit_weights, out)
    factor_coordinates(point[2], out[o:])


@njit(**IEEE_JIT_OPTIONS)
def diagonal_to_vector(point, fit_weights, out):
    """``matrix_to_vector`` of diagonal factors ('diag', 'spherical')."""
    o = _head_to_vector(point, fit_weights, out)
    log_entries(point[2], out[o:])


@njit(inline="always", **IEEE_JIT_OPTIONS)
def _head_from_vector(vector, fit_weights, fixed_log_weights, out):
    """The log-weights (``log_softmax``, or ``fixed_log_weights`` when they
    are not fitted) and the means of ``vector`` into the set ``out``; the
    offset of the factors' coordinates."""
    means, log_weights = out[0], out[3]
    k, d = means.shape
    o = 0
    if fit_weights:
        log_softmax(vector[:k], log_weights)
        o = k
    else:
        log_weights[:] = fixed_log_weights
    for c in range(k):
        for i in range(d):
            means[c, i] = vector[o + c * d + i]
    return o + k * d


@njit(inline="always", **IEEE_JIT_OPTIONS)
def _all_finite(out):
    """Whether every number of the set ``out`` is finite."""
    for a in (out[1], out[2]):
        for i in range(a.size):
            if not math.isfinite(a.flat[i]):
                return False
    for i in range(out[0].size):
        if not math.isfinite(out[0].flat[i]):
            return False
    for i in range(out[3].size):
        if not math.isfinite(out[3][i]):
            return False
    return True


@njit(**IEEE_JIT_OPTIONS)
def matrix_from_vector(vector, fit_weights, fixed_log_weights, out):
    """The parameters of ``vector`` into the set ``out`` (as the engine's
    ``Parametrisation.point``), triangular factors; whether every number of
    ``out`` is finite."""
    o = _head_from_vector(vector, fit_weights, fixed_log_weights, out)
    factors_from_coordinates(vector[o:], out[2], out[1])
    return _all_finite(out)


@njit(**IEEE_JIT_OPTIONS)
def diagonal_from_vector(vector, fit_weights, fixed_log_weights, out):
    """``matrix_from_vector`` of diagonal factors."""
    o = _head_from_vector(vector, fit_weights, fixed_log_weights, out)
    diagonal_factors(vector[o:], out[2], out[1])
    return _all_finite(out)


@njit(**IEEE_JIT_OPTIONS)
def _keep(pool, source, stats, kept):
    """Copy the set ``source`` into ``KEPT`` and ``stats`` into ``kept``."""
    pool[0][KEPT] = pool[0][source]
    pool[1][KEPT] = pool[1][source]
    pool[2][KEPT] = pool[2][source]
    pool[3][KEPT] = pool[3][source]
    kept[0][:] = stats[0]
    kept[1][:] = stats[1]
    kept[2][:] = stats[2]
    kept[3][:] = stats[3]


@njit(inline="always", **IEEE_JIT_OPTIONS)
def _em_between(step, model, X, rows, options, pool, source, target, stats, scratch):
    """``em_step`` from the set ``source`` into the set ``target``."""
    log_norm, counter = scratch
    return em_step(
        step,
        model,
        X,
        rows,
        _at(pool, source),
        _at(pool, target),
        options,
        stats,
        log_norm,
        counter,
    )


@njit(**IEEE_JIT_OPTIONS)
def _grow(values, alpha, factor):
    if alpha == values[STEP_MAX]:
        values[STEP_MAX] *= factor


@njit(**IEEE_JIT_OPTIONS)
def _shrink(values, alpha, factor, step_min):
    values[STEP_MAX] = max(step_min, alpha / factor)


@njit(inline="always", **IEEE_JIT_OPTIONS)
def _squarem_loop(step, to_vector, from_vector, data, cycle, record):
    """Up to ``max_iter`` E-steps of SQUAREM, from where ``state`` says.

    step : as ``em_step``'s; to_vector, from_vector : the coordinate maps
        of the covariance type (``matrix_to_vector``...).
    data : (model, X, rows, options), as ``em_step`` takes them.
    cycle : (pool, vectors, coordinate_weights, scheme, state, values):
    pool : (means, covariances, factors, log-weights), each with a leading
        axis of ``POOL_SETS`` sets; the set ``state[CURRENT]`` is the point
        to continue from (at the start, the run's first point).
    vectors : (6, p) float64, the coordinates' rows (``THETA0``...).
    coordinate_weights : ((p,) float64, weighted), the step length's
        weights (``Parametrisation.weights``).
    scheme : (step factor, step min, plain step, extrapolation min step).
    state, values : the run's state (``PHASE``..., ``STEP_MAX``...), read
        and written; at the start of a run: phase 0, nothing known, not
        extrapolating, ``values[STEP_MAX]`` the initial bound and
        ``values[LOWER_BOUND]`` the lower bound before the run.
    record : (run, stats, kept, bounds):
    run : (weight, tol, max_iter): the rows' total weight, the stopping
        tolerance and the E-steps of this call.
    stats, kept : statistics as ``em_loop`` keeps them (scratch, and the last
        accepted E-step's). bounds : (max_iter,), each E-step's lower bound.

    Returns ``(n_iter, status)``: the E-steps run (with ``M_STEP_FAILED``
    the state is spent: the caller starts the run again in the engine).
    """
    model, X, rows, options = data
    pool, vectors, coordinate_weights, scheme, state, values = cycle
    run, stats, kept, bounds = record
    weight, tol, max_iter = run
    factor, step_min, plain_step, min_step = scheme
    fit_weights = options[0]
    weights, weighted = coordinate_weights
    th0, th1, th2 = vectors[THETA0], vectors[THETA1], vectors[THETA2]
    pt, r, v = vectors[POINT], vectors[R], vectors[V]
    scratch = (np.empty(pool[0].shape[1]), np.zeros(1, dtype=np.int64))
    ll = stats[3]
    for it in range(1, max_iter + 1):
        phase = state[PHASE]
        cur = state[CURRENT]
        # 0: the E-step's point rejected; 1: accepted, plain EM's progress;
        # 2: accepted after an extrapolation. ``source``: its point's set.
        record, source = 0, -1
        if phase == 2:  # at theta' (``Squarem._extrapolated``)
            e = _free(cur, -1)
            e1 = _free(cur, e)
            alpha = values[ALPHA]
            if not from_vector(pt, fit_weights, pool[3][cur], _at(pool, e)):
                # Rejected before its E-step: plain EM from theta_2.
                _shrink(values, alpha, factor, step_min)
                th0[:] = th2
                state[KNOWN] = 1
                phase = 0
            else:
                if not _em_between(
                    step, model, X, rows, options, pool, e, e1, stats, scratch
                ):
                    return it, M_STEP_FAILED
                if ll[0] >= values[LOG_LIKELIHOOD_1]:
                    _grow(values, alpha, factor)
                    record, source = 2, e
                    state[CURRENT], state[PHASE], state[KNOWN] = e1, 0, 0
                else:  # its EM step F(theta') is judged next
                    state[PHASE], state[STABILISED] = 3, e1
        elif phase == 3:  # at F(theta') (``Squarem._stabilised``)
            e1 = state[STABILISED]
            e2 = _free(cur, e1)
            alpha = values[ALPHA]
            to_vector(_at(pool, e1), fit_weights, th1)
            if not _em_between(
                step, model, X, rows, options, pool, e1, e2, stats, scratch
            ):
                return it, M_STEP_FAILED
            if ll[0] >= values[LOG_LIKELIHOOD_1]:
                _grow(values, alpha, factor)
                record, source = 2, e1
                th0[:] = th1
                state[CURRENT], state[PHASE] = e2, 1
            else:  # rejected: EM goes on from theta_2
                _shrink(values, alpha, factor, step_min)
                th0[:] = th2
                state[PHASE], state[KNOWN] = 0, 1
        if phase == 0:  # at theta_0, a new cycle (``Squarem._first``)
            if not state[KNOWN]:
                to_vector(_at(pool, cur), fit_weights, th0)
            state[KNOWN] = 0
            nxt = _free(cur, -1)
            if not _em_between(
                step, model, X, rows, options, pool, cur, nxt, stats, scratch
            ):
                return it, M_STEP_FAILED
            record, source = 1, cur
            state[CURRENT], state[PHASE] = nxt, 1
        elif phase == 1:  # at theta_1, then the extrapolation (``_second``)
            p2 = _free(cur, -1)
            if not _em_between(
                step, model, X, rows, options, pool, cur, p2, stats, scratch
            ):
                return it, M_STEP_FAILED
            record, source = 1, cur
            to_vector(_at(pool, cur), fit_weights, th1)
            to_vector(_at(pool, p2), fit_weights, th2)
            for i in range(th0.shape[0]):
                r[i] = th1[i] - th0[i]
                v[i] = th2[i] - th1[i] - r[i]
            alpha = step_length(r, v, weights, weighted, step_min, values[STEP_MAX])
            extrapolated = False
            if abs(alpha - 1.0) > plain_step and (
                state[EXTRAPOLATING] or alpha >= min_step
            ):
                state[EXTRAPOLATING] = 1
                two_alpha, alpha2 = 2.0 * alpha, alpha * alpha
                extrapolated = True
                for i in range(th0.shape[0]):
                    pt[i] = th0[i] + two_alpha * r[i] + alpha2 * v[i]
                    extrapolated = extrapolated and math.isfinite(pt[i])
            state[CURRENT] = p2
            if extrapolated:
                state[PHASE] = 2
                values[ALPHA], values[LOG_LIKELIHOOD_1] = alpha, ll[0]
            else:  # theta' is theta_2: a new cycle from there
                _grow(values, step_min, factor)
                th0[:] = th2
                state[PHASE], state[KNOWN] = 0, 1
        if record == 0:
            bounds[it - 1] = values[LOWER_BOUND]
            continue
        _keep(pool, source, stats, kept)
        value = ll[0] / weight
        if not math.isfinite(value):
            return it, NOT_FINITE
        change = value - values[LOWER_BOUND]
        values[LOWER_BOUND] = value
        bounds[it - 1] = value
        if record == 1 and abs(change) < tol:
            return it, CONVERGED
    return max_iter, RUNNING


@njit(**IEEE_JIT_OPTIONS)
def _squarem_full(data, cycle, record):
    return _squarem_loop(
        full_step, matrix_to_vector, matrix_from_vector, data, cycle, record
    )


@njit(**IEEE_JIT_OPTIONS)
def _squarem_tied(data, cycle, record):
    return _squarem_loop(
        tied_step, matrix_to_vector, matrix_from_vector, data, cycle, record
    )


@njit(**IEEE_JIT_OPTIONS)
def _squarem_diag(data, cycle, record):
    return _squarem_loop(
        diag_step, diagonal_to_vector, diagonal_from_vector, data, cycle, record
    )


@njit(**IEEE_JIT_OPTIONS)
def _squarem_spherical(data, cycle, record):
    return _squarem_loop(
        spherical_step, diagonal_to_vector, diagonal_from_vector, data, cycle, record
    )


@njit(**IEEE_JIT_OPTIONS)
def _squarem_model(data, cycle, record):
    return _squarem_loop(
        model_step, matrix_to_vector, matrix_from_vector, data, cycle, record
    )


#: ``squarem_iterations`` of each kind: one kernel per covariance type
#: (each compiles its own type's E-step and M-step only), by kind.
SQUAREM_LOOPS = (
    _squarem_full,
    _squarem_tied,
    _squarem_diag,
    _squarem_spherical,
    _squarem_model,
)


def squarem_iterations(kind, *args):
    """``SQUAREM_LOOPS[kind](*args)``: SQUAREM for the covariance type
    ``kind`` (see ``_squarem_loop``)."""
    return SQUAREM_LOOPS[kind](*args)
