"""NIGMixture: mixtures of multivariate normal-inverse-Gaussian distributions."""

from __future__ import annotations

from numbers import Integral, Real

from sklearn.utils._param_validation import Interval, StrOptions

from ._base import BaseMixture
from .families.nig import NIGFamily, NIGParams, nig_moments


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
    n_components : int, default=1
        Number of mixture components.
    covariance_type : {'full', 'tied', 'diag', 'spherical'}, default='full'
        Structure of the dispersion matrices ``Sigma_k``: each its own general
        matrix, one shared general matrix, diagonal, or a multiple of the
        identity. The component covariances are full in every case as soon
        as a component is skewed.
    tol : float, default=1e-3
        Convergence threshold on the change of the mean log-likelihood.
    reg_covar : float, default=1e-6
        Non-negative regularisation added to the diagonal of the dispersions.
    max_iter : int, default=100
        Number of EM iterations per start.
    n_init : int, default=1
        Number of starts.
    init_params : {'kmeans', 'k-means++', 'random', 'random_from_data'}, \
            default='kmeans'
        How each start's clusters are chosen. Each cluster then gives a
        moment-matched start: its mean as location, zero skewness, its
        covariance (plus ``reg_covar``) as dispersion and tail shape 1.
    random_state : int, RandomState instance or None, default=None
        Seeds every start (all seeds are drawn before the first start runs).
    warm_start : bool, default=False
        Continue from the previous fit in later calls to ``fit``.
    verbose : int, default=0
        1 prints a line as each start ends (its iterations, lower bound and
        validation score), the start EM continues from, and the fit's
        outcome; 2 also prints every ``verbose_interval``-th iteration, each
        line opening with its start ("Start 2: ", "All rows: ").
    verbose_interval : int, default=10
        Iterations between progress messages at ``verbose >= 2``.
    n_jobs : int, default=None
        Threads: for ``n_init > 1`` starts run in parallel; for one start the
        rows of X are processed in parallel where that is faster (the fit times
        its first E-steps on one thread and on all of them; X of fewer than
        8,192 rows stays on one thread). ``None`` is 1, ``-1`` all cores.
        Inference on 131,072 rows or more (``score_samples``,
        ``predict_proba``, ``predict``) runs on as many threads. Results do not
        depend on ``n_jobs``.
    validation_fraction : float, default=0.1
        With ``n_init > 1``, the share of rows held out to choose the best
        start, after which EM continues on all rows (the starts and the
        continuation share ``max_iter``). 0 selects by training log-likelihood.
        No row is held out (the starts are then compared on training log-
        likelihood) when that would leave no validation row, or fewer training
        rows with positive weight than components.

    Attributes
    ----------
    weights_ : ndarray of shape (n_components,)
        Mixing weights.
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
    converged_ : bool
        Whether the selected start converged.
    n_iter_ : int
        EM iterations of the selected start (with a validation split: on
        the training rows, the last of them completed on the validation
        rows, plus the continuation on all rows; at most ``max_iter``).
    lower_bound_ : float
        Mean log-likelihood at the last iteration.
    lower_bounds_ : list of float
        Mean log-likelihood at every iteration (on all rows).
    start_lower_bounds_ : ndarray of shape (n_init,)
        Final training mean log-likelihood of every start.
    start_validation_scores_ : ndarray of shape (n_init,)
        Validation mean log-likelihood of every start (NaN without a split).
    best_start_ : int
        Index of the selected start.
    n_samples_fit_ : int
        Number of rows of X in the last call to ``fit``.
    n_features_in_ : int
        Number of features seen during fit.
    feature_names_in_ : ndarray of shape (`n_features_in_`,)
        Names of features seen during fit (string column names only).

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
        random_state=None,
        warm_start=False,
        verbose=0,
        verbose_interval=10,
        n_jobs=None,
        validation_fraction=0.1,
    ):
        self.n_components = n_components
        self.covariance_type = covariance_type
        self.tol = tol
        self.reg_covar = reg_covar
        self.max_iter = max_iter
        self.n_init = n_init
        self.init_params = init_params
        self.random_state = random_state
        self.warm_start = warm_start
        self.verbose = verbose
        self.verbose_interval = verbose_interval
        self.n_jobs = n_jobs
        self.validation_fraction = validation_fraction

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
