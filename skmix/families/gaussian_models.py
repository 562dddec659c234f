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

from .._config import RESP_EPS
from .._kernels.gaussian.em_loop import MODEL
from .._kernels.gaussian.models import EIGEN_MODELS, MODEL_CODES
from .covariance_models import (
    MODELS,
    SKLEARN_MODELS,
    compiled_m_step,
    m_step_options,
    n_covariance_parameters,
)
from .gaussian import GaussianFamily, GaussianParams
from .gaussian_loops import LoopSpec

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

    def _loop(self):
        """The compiled loops' kind: the model's M-step kernel (its code and
        whether ``eigen_m_step`` fits it) with its options; an M-step's
        inner iterations (of k d^3 each) size the loops' stretches."""
        options = m_step_options(self.reg_covar, self.inner_max_iter)
        model = (MODEL_CODES.index(self.model), self.model in EIGEN_MODELS)
        return LoopSpec(MODEL, model, options, max(options[2], options[3]))

    def mclust_model(self):
        return self.model

    def n_parameters(self, params):
        k, d = params.means.shape
        return int(k * d + n_covariance_parameters(self.model, k, d))
