"""The Gaussian families' compiled EM loops, seen from Python.

:class:`CompiledLoops` runs ``skmix._kernels.gaussian.em_loop``'s plain EM
and ``em_squarem``'s SQUAREM for a ``GaussianFamily`` (or a
``GaussianModelFamily``): the parameters into the arrays the kernels take
(the family's shapes, the tied covariance a stack of one; see ``em_loop``)
and back, the kernel
called in stretches of about ``COMPILED_STRETCH_WORK`` multiply-adds, so
that Ctrl-C (raised when control is back in Python) is not held up for
long, and the outcome as a ``CompiledRun``. The families answer
``compiled_iterations`` and ``compiled_squarem`` through it.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from .._config import CLAIM_ROWS, COMPILED_STRETCH_WORK, RESP_EPS
from .._kernels.gaussian import em_squarem
from .._kernels.gaussian.em_loop import (
    CONVERGED,
    DIAG,
    FULL,
    M_STEP_FAILED,
    NOT_FINITE,
    RUNNING,
    SPHERICAL,
    TIED,
    plain_iterations,
)
from .._kernels.gaussian.em_squarem import squarem_iterations
from ._base import CompiledRun, kernel_weights


class LoopSpec(NamedTuple):
    """What the loops of a family run: ``em_loop``'s ``kind`` and
    ``model`` (for the ten models, the model's code and whether
    ``eigen_m_step`` fits it; for 'full' and 'tied', (0, tied)), the ten
    models' ``m_step_options`` (else ``NO_OPTIONS``), and the inner
    iterations an M-step may run (which size the stretches)."""

    kind: int
    model: tuple
    m_step_options: tuple
    inner_iterations: int


#: ``em_loop``'s kind of each of scikit-learn's covariance types.
LOOP_KINDS = {"full": FULL, "tied": TIED, "diag": DIAG, "spherical": SPHERICAL}
#: The M-step options of a kind other than ``MODEL`` (unread, of the types
#: the kernels take).
NO_OPTIONS = (0.0, 0.0, 0, 0, 0)


def layout_shape(kind, k, d):
    """The shape of covariances and precision factors the kernels take:
    the family's, with the tied covariance as a stack of one."""
    if kind == TIED:
        return (1, d, d)
    if kind == DIAG:
        return (k, d)
    if kind == SPHERICAL:
        return (k,)
    return (k, d, d)


class CompiledLoops:
    """The compiled loops of one family on one block of rows.

    Parameters
    ----------
    family : GaussianFamily
        The family (its ``prepare`` gives the runs' ``prepared``, its
        ``_empty_stats`` the statistics' shapes, its ``to_unconstrained``
        the number of SQUAREM's coordinates, its ``reg_covar`` the
        regularisation the M-steps add).
    X : ndarray of shape (n, d)
        float64 C-contiguous rows, ``CLAIM_ROWS`` at most.
    sample_weight : ndarray of shape (n,) or None
    loop : LoopSpec
        What the loops run.
    """

    def __init__(self, family, X, sample_weight, loop):
        self.family, self.X = family, X
        self.rows = kernel_weights(sample_weight)
        self.kind, self.model = loop.kind, loop.model
        self.m_step_options = loop.m_step_options
        self.reg = float(family.reg_covar)
        n, d = X.shape
        self.work = n * d * d + d**3 * max(loop.inner_iterations, 1)

    @staticmethod
    def claims(X, params, covariance_shape):
        """Whether the loops take these rows and parameters: a 2-D ndarray
        of 1 to ``CLAIM_ROWS`` rows (one E-step kernel call), parameters of
        the family's shapes."""
        return (
            isinstance(X, np.ndarray)
            and X.ndim == 2
            and 0 < X.shape[0] <= CLAIM_ROWS
            and np.shape(params.precisions_cholesky) == covariance_shape
            and np.shape(params.covariances) == covariance_shape
        )

    # ------------------------------------------------------------ layout
    def _options(self, fit_weights):
        d = self.X.shape[1]
        constant = self.family._log_norm_constant(d)
        return (bool(fit_weights), self.reg, constant, RESP_EPS, self.m_step_options)

    def _layout(self, params, log_weights, out=None):
        """The parameters as the kernels' layout: copies, or written into
        the set ``out``."""
        k, d = params.means.shape
        shape = layout_shape(self.kind, k, d)
        arrays = (
            params.means,
            np.reshape(params.covariances, shape),
            np.reshape(params.precisions_cholesky, shape),
            log_weights,
        )
        if out is None:
            return tuple(np.array(a, dtype=np.float64, order="C") for a in arrays)
        for target, a in zip(out, arrays):
            target[...] = a
        return out

    def _params(self, point, params_type):
        """``params_type`` parameters (copies, in the family's shapes) and
        the log-weights of a set."""
        means, covariances, factors = (np.array(a) for a in point[:3])
        k, d = means.shape
        shape = (d, d) if self.kind == TIED else covariances.shape
        params = params_type(means, covariances.reshape(shape), factors.reshape(shape))
        return params, np.array(point[3])

    def _stats(self, k, d):
        """Zero one-block statistics of the E-step kernel."""
        second = (
            (d, d) if self.kind == TIED else self.family._empty_stats(k, d)[3].shape
        )
        return (
            np.zeros((1, k)),
            np.zeros((1, k, d)),
            np.zeros((1, *second)),
            np.zeros(1),
        )

    def _engine_stats(self, parts):
        """The statistics in the family's shapes (``GaussianStats``)."""
        k, d = parts[1].shape[1:]
        like = self.family._empty_stats(k, d)
        return like._replace(
            resp_sum=parts[0][0].copy(),
            log_likelihood=parts[3].reshape(()).copy(),
            sum_z=parts[1][0].copy(),
            sum_zz=parts[2][0].reshape(like.sum_zz.shape).copy(),
        )

    def _stretch(self, k):
        return max(1, COMPILED_STRETCH_WORK // (self.work * k))

    # ------------------------------------------------------------- plain
    def plain(
        self, params, log_weights, max_iter, fit_weights, lower_bound, tol, weight
    ):
        """Plain EM (``MixtureFamily.compiled_iterations``' run); the
        parameters given are copied, never written."""
        k, d = params.means.shape
        point = self._layout(params, log_weights)
        other = tuple(np.empty_like(a) for a in point)
        stats = self._stats(k, d)
        options = self._options(fit_weights)
        max_iter = max(max_iter, 0)
        bounds = np.empty(max_iter)
        n_iter, status, bound = 0, RUNNING, float(lower_bound)
        stretch = self._stretch(k)
        while n_iter < max_iter and status == RUNNING:
            ran, status, last = plain_iterations(
                self.kind,
                (self.model, self.X, self.rows, options),
                point,
                other,
                (float(weight), bound, float(tol), min(stretch, max_iter - n_iter)),
                stats,
                bounds[n_iter:],
            )
            n_iter += ran
            if last:  # the parameters of the last M-step are in ``other``
                point, other = other, point
            if ran and status != NOT_FINITE:
                bound = bounds[n_iter - 1]
        failed = status == M_STEP_FAILED
        read = other if n_iter > 0 and not failed else None
        return self._result(type(params), point, n_iter, status, bounds, stats, read)

    # ----------------------------------------------------------- SQUAREM
    def squarem(
        self,
        params,
        log_weights,
        max_iter,
        fit_weights,
        lower_bound,
        tol,
        weight,
        coordinate_weights,
        scheme,
    ):
        """SQUAREM (``MixtureFamily.compiled_squarem``' run), or None when
        an M-step failed (the engine then runs the whole run itself).

        ``coordinate_weights`` are the step length's weights (or None),
        ``scheme`` = (initial step-length bound, step factor, smallest step,
        plain step, extrapolation's smallest step), the engine's constants.
        """
        k, d = params.means.shape
        sets, shape = em_squarem.POOL_SETS, layout_shape(self.kind, k, d)
        pool = (
            np.empty((sets, k, d)),
            np.empty((sets, *shape)),
            np.empty((sets, *shape)),
            np.empty((sets, k)),
        )
        self._layout(params, log_weights, tuple(a[0] for a in pool))
        own = self.family.to_unconstrained(params).size
        vectors = np.zeros((6, (k if fit_weights else 0) + own))
        weighted = coordinate_weights is not None
        weights = (
            np.ascontiguousarray(coordinate_weights, dtype=np.float64)
            if weighted
            else np.empty(0)
        )
        state = np.zeros(5, dtype=np.int64)
        values = np.array([float(scheme[0]), 0.0, 0.0, float(lower_bound)])
        stats, kept = self._stats(k, d), self._stats(k, d)
        options = self._options(fit_weights)
        max_iter = max(max_iter, 0)
        bounds = np.empty(max_iter)
        n_iter, status = 0, RUNNING
        stretch = self._stretch(k)
        scheme_floats = tuple(float(s) for s in scheme[1:])
        while n_iter < max_iter and status == RUNNING:
            ran, status = squarem_iterations(
                self.kind,
                (self.model, self.X, self.rows, options),
                (pool, vectors, (weights, weighted), scheme_floats, state, values),
                (
                    (float(weight), float(tol), min(stretch, max_iter - n_iter)),
                    stats,
                    kept,
                    bounds[n_iter:],
                ),
            )
            n_iter += ran
        if status == M_STEP_FAILED:
            return None
        current = tuple(a[state[em_squarem.CURRENT]] for a in pool)
        # A run's first E-step is always accepted (plain EM from its start).
        read = tuple(a[em_squarem.KEPT] for a in pool) if n_iter > 0 else None
        return self._result(type(params), current, n_iter, status, bounds, kept, read)

    def _result(self, params_type, point, n_iter, status, bounds, stats, read):
        """The ``CompiledRun`` of a run that ended with ``point`` (the set
        of its last parameters), ``stats`` those of its last counted or
        accepted E-step at the set ``read`` (None: none, or handed back)."""
        finite = status != NOT_FINITE
        params, log_weights = self._params(point, params_type)
        return CompiledRun(
            params,
            log_weights,
            n_iter,
            status == CONVERGED,
            bounds[: n_iter if finite else n_iter - 1],
            finite,
            None if read is None else self._engine_stats(stats),
            None
            if read is None
            else self.family.prepare(*self._params(read, params_type)),
            status == M_STEP_FAILED,
        )
