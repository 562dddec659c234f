"""The Gaussian family under mclust's covariance models beyond scikit-learn's.

EII, EEI, VEI, EVI, VEE, EVE, VVE, EEV, VEV and EVV (VII, VVI, EEE and
VVV are scikit-learn's 'spherical', 'diag', 'tied' and 'full', which
:class:`~skmix.families.gaussian.GaussianFamily` fits itself) share the
full-covariance E-step: parameters, statistics and kernels are those of
``GaussianFamily('full')``, with precision factors (k, d, d). Only the
M-step differs: the means as for 'full', the covariances as
:func:`~skmix.families.covariance_models.covariance_m_step` chooses them
from the per-component scatter matrices, warm-started from the previous
iteration's covariances, all in one numba call
(:func:`~skmix.families.covariance_models.compiled_m_step`).
"""

from __future__ import annotations

import functools

import numpy as np

from .._config import CLAIM_ROWS, COMPILED_STRETCH_WORK, RESP_EPS
from .._kernels.gaussian.em_loop import (
    CONVERGED,
    M_STEP_FAILED,
    NOT_FINITE,
    RUNNING,
    model_iterations,
)
from .._kernels.gaussian.models import EIGEN_MODELS, MODEL_CODES
from ._base import CompiledRun, kernel_weights
from .covariance_models import (
    MODELS,
    SKLEARN_MODELS,
    compiled_m_step,
    ill_defined_covariance,
    m_step_options,
    n_covariance_parameters,
)
from .gaussian import GaussianFamily, GaussianParams

#: The models this family fits (mclust's, less scikit-learn's four).
EXTRA_MODELS = tuple(m for m in MODELS if m not in SKLEARN_MODELS.values())


class GaussianModelFamily(GaussianFamily):
    """Multivariate normal components under one of :data:`EXTRA_MODELS`.

    Parameters
    ----------
    model : str
        One of :data:`EXTRA_MODELS`.
    reg_covar : float
        Non-negative regularisation of the scatter matrices (see
        :mod:`skmix.families.covariance_models`).
    inner_max_iter : int, default=None
        Inner iterations at most per M-step of an iterative model
        (``covariance_m_step``'s ``max_inner``; None: to convergence).
    """

    def __init__(self, model="VVE", reg_covar=1e-6, inner_max_iter=None):
        super().__init__("full", reg_covar)
        self.model = model
        self.inner_max_iter = inner_max_iter

    def initial_m_step(self, stats, reference):
        """The model's M-step about the reference means, with no previous
        covariances (the orientation iterations start from the data)."""
        return self._model_m_step(stats, reference.means, None)

    def m_step(self, stats, params):
        """Means as for full covariances; the model's covariances from the
        scatter about them (``stats`` are centred on ``params.means``),
        warm-started from ``params.covariances``."""
        return self._model_m_step(stats, params.means, params.covariances)

    def _model_m_step(self, stats, centres, previous):
        means, step = compiled_m_step(
            self.model,
            stats.resp_sum,
            stats.sum_z,
            stats.sum_zz,
            centres,
            self.reg_covar,
            RESP_EPS,
            previous,
            self.inner_max_iter,
        )
        return GaussianParams(means, step.covariances, step.precisions_cholesky)

    def compiled_iterations(self, X, sample_weight, params):
        """Plain EM in one kernel call (``model_iterations``) on rows that
        make one block (``CLAIM_ROWS`` at most, as one E-step kernel call
        takes them; the rows as float64 C-contiguous, which is what the
        engine's E-step converts them to), else None."""
        k, d = params.means.shape
        if (
            not isinstance(X, np.ndarray)
            or X.ndim != 2
            or not 0 < X.shape[0] <= CLAIM_ROWS
            or np.shape(params.covariances) != (k, d, d)
        ):
            return None
        X = np.ascontiguousarray(X, dtype=np.float64)
        weights, weighted = kernel_weights(sample_weight)
        return functools.partial(self._compiled_run, X, weights, weighted)

    def _compiled_run(
        self,
        X,
        weights,
        weighted,
        params,
        log_weights,
        max_iter,
        fit_weights,
        lower_bound,
        tol,
        weight,
    ):
        """One run of ``compiled_iterations``; the parameters given are
        copied, never written. The kernel is called for stretches of about
        ``COMPILED_STRETCH_WORK`` each (the E-step's n k d^2 and the
        M-step's inner iterations of k d^3), so that Ctrl-C, raised when
        control is back in Python, is not held up for long."""
        k, d = params.means.shape
        arrays = (params.means, params.covariances, params.precisions_cholesky)
        point = tuple(
            np.array(a, dtype=np.float64, order="C") for a in (*arrays, log_weights)
        )
        other = tuple(np.empty_like(a) for a in point)
        stats = self._empty_stats(k, d, 1)
        parts = (stats.resp_sum, stats.sum_z, stats.sum_zz, stats.log_likelihood)
        options = m_step_options(self.reg_covar, self.inner_max_iter)
        work = X.shape[0] * k * d * d + k * d**3 * max(options[2], options[3])
        stretch = max(1, COMPILED_STRETCH_WORK // work)
        max_iter = max(max_iter, 0)
        bounds = np.empty(max_iter)
        n_iter, status, bound = 0, RUNNING, float(lower_bound)
        while n_iter < max_iter and status == RUNNING:
            ran, status, last = model_iterations(
                X,
                weights,
                weighted,
                MODEL_CODES.index(self.model),
                self.model in EIGEN_MODELS,
                *point,
                bool(fit_weights),
                options,
                self._log_norm_constant(d),
                RESP_EPS,
                float(weight),
                bound,
                float(tol),
                min(stretch, max_iter - n_iter),
                other,
                parts,
                bounds[n_iter:],
            )
            n_iter += ran
            if last:  # the parameters of the last M-step are in ``other``
                point, other = other, point
            if status == M_STEP_FAILED:
                raise ValueError(ill_defined_covariance(self.model))
            bound = bounds[n_iter - 1] if status != NOT_FINITE else bound
        return self._compiled_result(point, other, n_iter, status, bounds, stats)

    def _compiled_result(self, point, read, n_iter, status, bounds, stats):
        """The ``CompiledRun`` of ``_compiled_run``: ``point`` holds the
        parameters of the last M-step, ``read`` those of the last E-step."""
        ran = n_iter > 0
        finite = status != NOT_FINITE
        return CompiledRun(
            GaussianParams(*point[:3]),
            point[3],
            n_iter,
            status == CONVERGED,
            bounds[: n_iter if finite else n_iter - 1],
            finite,
            stats._replace(
                resp_sum=stats.resp_sum[0],
                log_likelihood=stats.log_likelihood.reshape(()),
                sum_z=stats.sum_z[0],
                sum_zz=stats.sum_zz[0],
            )
            if ran
            else None,
            self.prepare(GaussianParams(*read[:3]), read[3]) if ran else None,
        )

    def mclust_model(self):
        return self.model

    def n_parameters(self, params):
        k, d = params.means.shape
        return int(k * d + n_covariance_parameters(self.model, k, d))
