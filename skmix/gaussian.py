"""GaussianMixtureEM: a faster drop-in for scikit-learn's GaussianMixture."""

from __future__ import annotations

from numbers import Integral, Real

import numpy as np
from sklearn.utils._param_validation import Interval, StrOptions
from sklearn.utils.validation import check_array

from ._base import BaseMixture, StartRecipe
from ._docstrings import fill_docstring
from ._parameters import estimator_init
from ._validation import as_numpy, check_magnitude, check_shape, check_weights_init
from .families.covariance_models import SKLEARN_MODELS
from .families.gaussian import GaussianFamily, GaussianParams
from .families.gaussian_models import EXTRA_MODELS, GaussianModelFamily

#: mclust's names of scikit-learn's four covariance types.
_ALIASES = {model: name for name, model in SKLEARN_MODELS.items()}

_PRECISION_SHAPES = {
    "full": lambda k, d: (k, d, d),
    "tied": lambda k, d: (d, d),
    "diag": lambda k, d: (k, d),
    "spherical": lambda k, d: (k,),
}


def _layout(covariance_type):
    """How the parameters of ``covariance_type`` are shaped: VII, VVI, EEE
    and VVV as scikit-learn's 'spherical', 'diag', 'tied' and 'full'
    (they are those), mclust's other models as 'full'."""
    if covariance_type in EXTRA_MODELS:
        return "full"
    return _ALIASES.get(covariance_type, covariance_type)


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
    covariance_type : {'full', 'tied', 'diag', 'spherical', 'EII', 'VII', \
            'EEI', 'VEI', 'EVI', 'VVI', 'EEE', 'VEE', 'EVE', 'VVE', 'EEV', \
            'VEV', 'EVV', 'VVV'}, default='full'
        Structure of the covariance matrices: scikit-learn's four, or one of
        mclust's 14 models (Celeux & Govaert 1995: volume, shape and
        orientation each equal across components (E), varying (V) or the
        identity (I); see :mod:`skmix.families.covariance_models`). VII,
        VVI, EEE and VVV are 'spherical', 'diag', 'tied' and 'full', fitted
        as those with their attributes' shapes. The ten others have
        full-covariance attributes (``covariances_`` of shape
        (n_components, n_features, n_features)), and their ``reg_covar`` is
        added to each component's scatter matrix divided by its weight
        before the model's constraints are imposed.
    {{tol}}
    {{reg_covar}}
    {{max_iter}}
    {{n_init}}
    init_params : {'kmeans', 'k-means++', 'random', 'random_from_data', 'hc'}, \
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
        'hc' is R mclust's default start: its model-based hierarchical
        clustering (``hc(X, modelName = "VVV", use = "SVD")``: groups merged
        by the classification likelihood of Gaussians with varying
        covariances, on the SVD-scaled rows) cut into ``n_components``
        groups, whose hard assignments give the first M-step. It is
        deterministic, and the same for every start: with ``n_init > 1``
        every start begins from the same partition (so starts differ only
        if EM does), and the tree is computed once for all starts and for
        every later fit on the same rows (any number of components, any
        covariance model; :func:`skmix.select_model` relies on it). Its
        memory grows as the square of the rows, so beyond {{HC_MAX_ROWS}}
        rows (mclust's limit too) it clusters a subsample of {{HC_MAX_ROWS}}
        rows (drawn with a fixed seed) and labels the other rows by the
        subsample's groups; with ``sample_weight`` it clusters the rows of
        positive weight, unweighted.
    weights_init : array-like of shape (n_components,), default=None
        Initial mixing weights.
    means_init : array-like of shape (n_components, n_features), default=None
        Initial means.
    precisions_init : array-like, default=None
        Initial precisions (inverse covariances), shaped by covariance_type.
    {{start_parameters}}
    {{validation_fraction}}
    {{accelerate}}

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
    {{start_attributes}}
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
        "covariance_type": [
            StrOptions({"full", "tied", "diag", "spherical", *EXTRA_MODELS, *_ALIASES})
        ],
        "init_params": [
            StrOptions({"kmeans", "random", "random_from_data", "k-means++", "hc"})
        ],
        "reg_covar": [Interval(Real, 0.0, None, closed="left")],
        "weights_init": ["array-like", None],
        "means_init": ["array-like", None],
        "precisions_init": ["array-like", None],
        "n_jobs": [Integral, None],
    }

    __init__ = estimator_init(
        positional={"n_components": 1},
        keyword={
            "covariance_type": "full",
            "reg_covar": 1e-6,
            "weights_init": None,
            "means_init": None,
            "precisions_init": None,
        },
    )

    def _check_fit_X(self, X):
        check_magnitude(X)  # squares of X (the covariances) must not overflow

    # Inner iterations at most per M-step of the iterative covariance models
    # (None: to convergence): a model search caps them while it compares
    # starts.
    _inner_max_iter = None

    def _make_family(self, X):
        if self.covariance_type in EXTRA_MODELS:
            return GaussianModelFamily(
                self.covariance_type, self.reg_covar, self._inner_max_iter
            )
        return GaussianFamily(_layout(self.covariance_type), self.reg_covar)

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
                self.precisions_init, _layout(self.covariance_type), k, d
            )
            prec_chol_init = _precision_cholesky_from_precisions(
                precisions, _layout(self.covariance_type)
            )
            covariances_init = _covariances_from_precision_cholesky(
                prec_chol_init, _layout(self.covariance_type)
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
            params.precisions_cholesky, _layout(self.covariance_type)
        )

    def _get_fitted_params(self):
        return GaussianParams(self.means_, self.covariances_, self.precisions_cholesky_)

    # ----------------------------------------------------------- skmix.io
    def __skmix_getstate__(self):
        """What :mod:`skmix.io` saves beside the public attributes: the
        fitted family's settings (mclust's model name for the ten models
        beyond scikit-learn's four)."""
        return {
            "covariance_type": getattr(
                self._family, "model", self._family.covariance_type
            ),
            "reg_covar": self._family.reg_covar,
        }

    def __skmix_setstate__(self, state):
        """Rebuild the fitted family after :func:`skmix.io.load` restored
        the public attributes."""
        covariance_type = state["covariance_type"]
        if covariance_type in EXTRA_MODELS:
            self._family = GaussianModelFamily(covariance_type, state["reg_covar"])
        else:
            self._family = GaussianFamily(covariance_type, state["reg_covar"])
