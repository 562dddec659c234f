"""GaussianMixtureEM: a faster drop-in for scikit-learn's GaussianMixture."""

from __future__ import annotations

from numbers import Integral, Real

import numpy as np
from sklearn.utils._param_validation import Interval, StrOptions
from sklearn.utils.validation import check_array

from ._base import BaseMixture, StartRecipe
from ._docstrings import fill_docstring
from ._validation import as_numpy, check_magnitude, check_shape, check_weights_init
from .families.gaussian import GaussianFamily, GaussianParams

_PRECISION_SHAPES = {
    "full": lambda k, d: (k, d, d),
    "tied": lambda k, d: (d, d),
    "diag": lambda k, d: (k, d),
    "spherical": lambda k, d: (k,),
}


def _check_precisions_init(precisions, covariance_type, n_components, n_features):
    precisions = check_array(
        as_numpy(precisions, "precisions_init"),
        dtype=np.float64,
        ensure_2d=False,
        allow_nd=covariance_type == "full",
    )
    shape = _PRECISION_SHAPES[covariance_type](n_components, n_features)
    check_shape(precisions, shape, f"{covariance_type} precision")
    if covariance_type in ("diag", "spherical"):
        if np.any(precisions <= 0):
            raise ValueError(f"'{covariance_type} precision' should be positive")
        return precisions
    stack = precisions if covariance_type == "full" else precisions[None]
    for matrix in stack:
        if not (
            np.allclose(matrix, matrix.T) and np.all(np.linalg.eigvalsh(matrix) > 0)
        ):
            raise ValueError(
                f"'{covariance_type} precision' should be symmetric, positive-definite"
            )
    return precisions


def _precision_cholesky_from_precisions(precisions, covariance_type):
    """Upper factor U with precision = U U^T (scikit-learn's convention)."""
    if covariance_type in ("diag", "spherical"):
        return np.sqrt(precisions)
    stack = precisions if covariance_type == "full" else precisions[None]
    # U = flip(chol(flip(P))): the upper factor with P = U U^T.
    factors = np.array([np.linalg.cholesky(p[::-1, ::-1])[::-1, ::-1] for p in stack])
    return factors if covariance_type == "full" else factors[0]


def _covariances_from_precision_cholesky(prec_chol, covariance_type):
    if covariance_type in ("diag", "spherical"):
        return 1.0 / prec_chol**2
    stack = prec_chol if covariance_type == "full" else prec_chol[None]
    covs = np.array([np.linalg.inv(u @ u.T) for u in stack])
    return covs if covariance_type == "full" else covs[0]


def _precisions_from_cholesky(prec_chol, covariance_type):
    if covariance_type == "full":
        return np.einsum("kij,klj->kil", prec_chol, prec_chol)
    if covariance_type == "tied":
        return prec_chol @ prec_chol.T
    return prec_chol**2


@fill_docstring
class GaussianMixtureEM(BaseMixture):
    """Gaussian mixture fitted by EM with fused numba kernels.

    A drop-in for :class:`sklearn.mixture.GaussianMixture`: the same
    parameters, fitted attributes and results from the same start, plus
    ``n_jobs`` (parallel starts, or threads over row chunks for one start),
    ``validation_fraction`` (choose among starts by held-out
    log-likelihood) and ``sample_weight`` in :meth:`fit`. As scikit-learn's,
    float32 X gives float32 fitted arrays and outputs (skmix computes in
    float64 and rounds them). Array-API arrays (``array_api_dispatch`` on
    or not) are converted to NumPy, and results are NumPy arrays.

    Parameters
    ----------
    {{n_components}}
    covariance_type : {'full', 'tied', 'diag', 'spherical'}, default='full'
        Structure of the covariance matrices (mclust's VVV, EEE, VVI, VII).
    {{tol}}
    {{reg_covar}}
    {{max_iter}}
    {{n_init}}
    init_params : {'kmeans', 'k-means++', 'random', 'random_from_data'}, \
            default='kmeans'
        How each start's responsibilities are initialised. With one start,
        'kmeans' is scikit-learn's ``KMeans`` on all rows (so a start equals
        ``GaussianMixture``'s for the same random state); with several, it
        is skmix's own k-means (the same algorithm and defaults: greedy
        k-means++ seeding, then Lloyd iterations; compiled, so parallel
        starts run it at once). On more than {{KMEANS_MAX_ROWS}} rows, k-means
        runs on a random subsample of {{KMEANS_MAX_ROWS}} rows and every row is
        labelled by its nearest centre, which keeps the memory of a fit on a
        long X far below the size of X.
    weights_init : array-like of shape (n_components,), default=None
        Initial mixing weights.
    means_init : array-like of shape (n_components, n_features), default=None
        Initial means.
    precisions_init : array-like, default=None
        Initial precisions (inverse covariances), shaped by covariance_type.
    {{random_state}}
    {{warm_start}}
    {{verbose}}
    {{verbose_interval}}
    {{n_jobs}}
    {{validation_fraction}}

    Attributes
    ----------
    {{weights_}}
    means_ : ndarray of shape (n_components, n_features)
        Component means.
    covariances_ : ndarray
        Component covariances, shaped by ``covariance_type``.
    precisions_ : ndarray
        Inverses of the covariances.
    precisions_cholesky_ : ndarray
        Upper Cholesky factors of the precisions.
    {{converged_}}
    {{n_iter_}}
    {{lower_bound_}}
    {{lower_bounds_}}
    {{start_lower_bounds_}}
    {{start_validation_scores_}}
    {{best_start_}}
    {{n_samples_fit_}}
    {{n_features_in_}}
    {{feature_names_in_}}

    See Also
    --------
    sklearn.mixture.GaussianMixture : the scikit-learn estimator it replaces.

    Examples
    --------
    >>> import numpy as np
    >>> from skmix import GaussianMixtureEM
    >>> X = np.array([[1, 2], [1, 4], [1, 0], [10, 2], [10, 4], [10, 0]])
    >>> gm = GaussianMixtureEM(n_components=2, random_state=0).fit(X)
    >>> np.sort(gm.means_[:, 0])
    array([ 1., 10.])
    >>> gm.predict([[0, 0], [12, 3]]).tolist() in ([0, 1], [1, 0])
    True
    """

    _keeps_float32 = True

    _parameter_constraints: dict = {
        **BaseMixture._parameter_constraints,
        "covariance_type": [StrOptions({"full", "tied", "diag", "spherical"})],
        "reg_covar": [Interval(Real, 0.0, None, closed="left")],
        "weights_init": ["array-like", None],
        "means_init": ["array-like", None],
        "precisions_init": ["array-like", None],
        "n_jobs": [Integral, None],
    }

    def __init__(
        self,
        n_components=1,
        *,
        covariance_type="full",
        tol=1e-3,
        reg_covar=1e-6,
        max_iter=100,
        n_init=1,
        init_params="kmeans",
        weights_init=None,
        means_init=None,
        precisions_init=None,
        random_state=None,
        warm_start=False,
        verbose=0,
        verbose_interval=10,
        n_jobs=None,
        validation_fraction=0.1,
    ):
        super().__init__(
            tol=tol,
            max_iter=max_iter,
            n_init=n_init,
            init_params=init_params,
            random_state=random_state,
            warm_start=warm_start,
            verbose=verbose,
            verbose_interval=verbose_interval,
            n_jobs=n_jobs,
            validation_fraction=validation_fraction,
        )
        self.n_components = n_components
        self.covariance_type = covariance_type
        self.reg_covar = reg_covar
        self.weights_init = weights_init
        self.means_init = means_init
        self.precisions_init = precisions_init

    def _make_family(self, X):
        check_magnitude(X)  # at fit only: squares of X must not overflow
        return GaussianFamily(self.covariance_type, self.reg_covar)

    def _start_recipe(self, family, X):
        """Starts from the data (scikit-learn's draws for a single start),
        with the initial weights, means and precisions the user gave in
        place of those drawn; every start at the given ones if all three
        are."""
        k, d = self.n_components, X.shape[1]
        log_weights_init = means_init = prec_chol_init = covariances_init = None
        if self.weights_init is not None:
            with np.errstate(divide="ignore"):
                log_weights_init = np.log(check_weights_init(self.weights_init, k))
        if self.means_init is not None:
            means_init = check_array(
                as_numpy(self.means_init, "means_init"), dtype=np.float64
            )
            check_shape(means_init, (k, d), "means")
        if self.precisions_init is not None:
            precisions = _check_precisions_init(
                self.precisions_init, self.covariance_type, k, d
            )
            prec_chol_init = _precision_cholesky_from_precisions(
                precisions, self.covariance_type
            )
            covariances_init = _covariances_from_precision_cholesky(
                prec_chol_init, self.covariance_type
            )
        given = (log_weights_init, means_init, prec_chol_init)
        if all(value is not None for value in given):
            params = GaussianParams(means_init, covariances_init, prec_chol_init)
            return StartRecipe(fixed=(params, log_weights_init))

        def adjust(params, log_weights):
            if log_weights_init is not None:
                log_weights = log_weights_init
            means = params.means if means_init is None else means_init
            if prec_chol_init is None:
                return params._replace(means=means), log_weights
            return GaussianParams(means, covariances_init, prec_chol_init), log_weights

        # With several starts the seeds are skmix's own, so no start equals
        # scikit-learn's anyway: skmix's k-means, which releases the GIL, and
        # random rows drawn without permuting all of them.
        return StartRecipe(reproduce_sklearn=self.n_init == 1, adjust=adjust)

    def _set_fitted_params(self, params):
        self.means_ = params.means
        self.covariances_ = params.covariances
        self.precisions_cholesky_ = params.precisions_cholesky
        self.precisions_ = _precisions_from_cholesky(
            params.precisions_cholesky, self.covariance_type
        )

    def _get_fitted_params(self):
        return GaussianParams(self.means_, self.covariances_, self.precisions_cholesky_)

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
        self._family = GaussianFamily(state["covariance_type"], state["reg_covar"])
