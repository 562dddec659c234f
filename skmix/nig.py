"""NIGMixture: mixtures of multivariate normal-inverse-Gaussian distributions."""

from __future__ import annotations

from numbers import Integral, Real

from sklearn.utils._param_validation import Interval, StrOptions

from ._base import BaseMixture
from ._docstrings import fill_docstring
from ._parameters import estimator_init
from ._validation import check_magnitude
from .families.nig import NIGFamily, NIGParams, nig_moments


@fill_docstring
class NIGMixture(BaseMixture):
    """Mixture of multivariate normal-inverse-Gaussian (NIG) distributions.

    Each component is skewed and heavy-tailed: it is the normal variance-mean
    mixture ``W ~ InverseGaussian(mean 1, shape lambda_k)``,
    ``X | W ~ N(mu_k + W gamma_k, W Sigma_k)``, with a location ``mu_k``, a
    skewness vector ``gamma_k``, a dispersion matrix ``Sigma_k`` and a tail
    shape ``lambda_k`` (large lambda: nearly Gaussian; small: heavy tails).
    Fitted by EM with the mixing variable W filled in (its posterior is
    generalised inverse Gaussian); E- and M-steps run in numba kernels.

    The parametrisation has one redundant scale per component:
    ``(gamma / c, Sigma / c, c m, c lambda)`` gives the same law for any
    ``c > 0``. After each M-step the parameters are moved along that orbit to
    ``m_k = E[W_k] = 1``, which leaves the likelihood unchanged; the fitted
    attributes are in that gauge. With ``covariance_type='tied'`` the
    components share ``Sigma`` in this gauge (so that, in the Gaussian limit,
    'tied' means equal covariances); only one global scale is then free and
    the M-step optimises it jointly for all components. Tail shapes are capped
    at 1e8 (a Gaussian to double precision).

    Parameters
    ----------
    {{n_components}}
    covariance_type : {'full', 'tied', 'diag', 'spherical'}, default='full'
        Structure of the dispersion matrices ``Sigma_k``: each its own general
        matrix, one shared general matrix, diagonal, or a multiple of the
        identity. The component covariances are full in every case as soon
        as a component is skewed.
    {{tol}}
    reg_covar : float, default=1e-6
        Non-negative regularisation added to the diagonal of the dispersions.
    {{max_iter}}
    {{n_init}}
    init_params : {'kmeans', 'k-means++', 'random', 'random_from_data'}, \
            default='kmeans'
        How each start's clusters are chosen. Each cluster then gives a
        moment-matched start: its mean as location, zero skewness, its
        covariance (plus ``reg_covar``) as dispersion and tail shape 1.
    {{start_parameters}}
    {{validation_fraction}}
    {{accelerate}}

    Attributes
    ----------
    {{weights_}}
    locations_ : ndarray of shape (n_components, n_features)
        Locations ``mu_k``.
    skewness_ : ndarray of shape (n_components, n_features)
        Skewness vectors ``gamma_k``.
    dispersions_ : ndarray
        Dispersion matrices ``Sigma_k``, shaped by ``covariance_type``:
        (n_components, n_features, n_features) 'full',
        (n_features, n_features) 'tied', (n_components, n_features) 'diag',
        (n_components,) 'spherical'.
    tail_shapes_ : ndarray of shape (n_components,)
        Shapes ``lambda_k`` of the inverse-Gaussian mixing laws (mean 1).
    precisions_cholesky_ : ndarray
        Upper Cholesky factors of the inverse dispersions, shaped as
        ``dispersions_``.
    means_ : ndarray of shape (n_components, n_features)
        Component means ``mu_k + gamma_k``.
    covariances_ : ndarray of shape (n_components, n_features, n_features)
        Component covariances ``Sigma_k + gamma_k gamma_k^T / lambda_k``.
    {{converged_}}
    {{n_iter_}}
    {{lower_bound_}}
    {{start_attributes}}
    {{n_samples_fit_}}
    {{n_features_in_}}
    {{feature_names_in_}}

    See Also
    --------
    GaussianMixtureEM : Gaussian mixtures (the lambda -> infinity limit).

    References
    ----------
    Karlis, D. and Santourian, A. (2009). Model-based clustering with
    non-elliptically contoured distributions. Statistics and Computing 19.

    O'Hagan, A., Murphy, T. B., Gormley, I. C., McNicholas, P. D. and
    Karlis, D. (2016). Clustering with the multivariate normal inverse
    Gaussian distribution. Computational Statistics & Data Analysis 93.

    Examples
    --------
    >>> import numpy as np
    >>> from skmix import NIGMixture
    >>> rng = np.random.default_rng(0)
    >>> w = rng.wald(1.0, 2.0, size=(500, 1))
    >>> X = np.vstack([w * [1.0, 0.5] + np.sqrt(w) * rng.normal(size=(500, 2)),
    ...                10 + np.sqrt(w) * rng.normal(size=(500, 2))])
    >>> nig = NIGMixture(n_components=2, random_state=0).fit(X)
    >>> np.round(np.sort(nig.means_[:, 0]))
    array([ 1., 10.])
    >>> nig.predict([[0.0, 0.0], [10.0, 10.0]]).tolist() in ([0, 1], [1, 0])
    True
    """

    _parameter_constraints: dict = {
        **BaseMixture._parameter_constraints,
        "covariance_type": [StrOptions({"full", "tied", "diag", "spherical"})],
        "reg_covar": [Interval(Real, 0.0, None, closed="left")],
        "n_jobs": [Integral, None],
    }

    __init__ = estimator_init(
        positional={"n_components": 1},
        keyword={"covariance_type": "full", "reg_covar": 1e-6},
    )

    def _check_fit_X(self, X):
        check_magnitude(X)  # squares of X (the covariances) must not overflow

    def _make_family(self, X):
        return NIGFamily(self.covariance_type, self.reg_covar)

    def _set_fitted_params(self, params):
        self.locations_ = params.locations
        self.skewness_ = params.skewness
        self.dispersions_ = params.dispersions
        self.tail_shapes_ = params.tail_shapes
        self.precisions_cholesky_ = params.precisions_cholesky
        self.means_, self.covariances_ = nig_moments(params, self.covariance_type)

    def _get_fitted_params(self):
        return NIGParams(
            self.locations_,
            self.skewness_,
            self.dispersions_,
            self.tail_shapes_,
            self.precisions_cholesky_,
        )

    # ----------------------------------------------------------- skmix.io
    def __skmix_getstate__(self):
        """What :mod:`skmix.io` saves beside the public attributes: the
        fitted family's settings."""
        return {
            "covariance_type": self._family.covariance_type,
            "reg_covar": self._family.reg_covar,
        }

    def __skmix_setstate__(self, state):
        """Rebuild the fitted family after :func:`skmix.io.load` restored
        the public attributes."""
        self._family = NIGFamily(state["covariance_type"], state["reg_covar"])
