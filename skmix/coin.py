"""CoinMixture: binomial and multinomial mixtures over count data."""

from __future__ import annotations

from numbers import Real

import numpy as np
from sklearn.utils._param_validation import Interval
from sklearn.utils.validation import check_array, check_is_fitted

from ._base import BaseMixture, _check_n_samples
from ._engine import initial_responsibilities, initialize
from ._engine.initialization import KMEANS_MAX_ROWS
from ._validation import check_weights_init
from .families.multinomial import MultinomialFamily, MultinomialParams

#: Share of a uniform distribution blended into every data-driven start, so
#: that no category starts with probability 0 in a component (a start from a
#: single row such as (10 heads, 0 tails) would otherwise make every row
#: with a tail nearly impossible under it).
INIT_SMOOTHING = 1e-3


def _row_proportions(X):
    """Each row divided by its total; a row of total 0 becomes uniform."""
    X = np.asarray(X, dtype=np.float64)
    totals = X.sum(axis=1)
    proportions = np.full(X.shape, 1.0 / X.shape[1])
    seen = totals > 0
    proportions[seen] = X[seen] / totals[seen, None]
    return proportions


class _LazyRowProportions:
    """Row proportions of X computed when rows are taken (k-means on a long X
    only needs a subsample and then one chunk at a time)."""

    def __init__(self, X):
        self._X = X
        self.shape = X.shape

    def __getitem__(self, index):
        return _row_proportions(self._X[index])


def _distinct_rows(X, sample_weight):
    """Distinct rows of positive weight, in lexicographic order.

    Returns ``(rows, weights, index)``: each distinct row, its summed weight
    (its count when ``sample_weight`` is None), and for every row of X the
    index of its distinct row (-1 for rows of weight 0). The result depends
    only on the multiset of weighted rows, not on their order, nor on whether
    a row is repeated or weighted.
    """
    weights = np.ones(X.shape[0]) if sample_weight is None else sample_weight
    positive = np.flatnonzero(weights > 0)
    X_pos = np.asarray(X[positive])
    order = np.lexsort(X_pos.T[::-1])
    sorted_rows = X_pos[order]
    starts = np.ones(sorted_rows.shape[0], dtype=bool)
    np.any(sorted_rows[1:] != sorted_rows[:-1], axis=1, out=starts[1:])
    group = np.cumsum(starts) - 1
    index = np.full(X.shape[0], -1, dtype=np.int64)
    index[positive[order]] = group
    summed = np.bincount(group, weights=weights[positive[order]])
    return sorted_rows[starts], summed, index


def _count_responsibilities(init_params, X, n_components, rng, sample_weight):
    """Initial responsibilities of count rows, from their row proportions.

    Up to ``KMEANS_MAX_ROWS`` rows, the initialisation runs on the distinct
    rows of X weighted by their multiplicity, so that a start does not depend
    on the row order and weighting a row by 2 equals repeating it (and the
    few distinct rows of coin data make k-means cheap). Equal rows get equal
    responsibilities; rows of weight 0 get uniform ones (they do not count).
    """
    if X.shape[0] > KMEANS_MAX_ROWS:
        proportions = _LazyRowProportions(X)
        return initial_responsibilities(
            init_params, proportions, n_components, rng, sample_weight
        )
    rows, weights, index = _distinct_rows(X, sample_weight)
    if rows.shape[0] < n_components:
        # Too few distinct rows for one per component: use every row.
        return initial_responsibilities(
            init_params, _row_proportions(X), n_components, rng, sample_weight
        )
    resp = initial_responsibilities(
        init_params, _row_proportions(rows), n_components, rng, weights
    )(0, rows.shape[0])
    # Index -1 (weight 0) reads this last, uniform row.
    resp = np.vstack([resp, np.full((1, n_components), 1.0 / n_components)])
    return lambda start, stop: resp[index[start:stop]]


def _check_probabilities_init(probabilities, n_components, n_categories):
    probabilities = check_array(probabilities, dtype=np.float64)
    if probabilities.shape != (n_components, n_categories):
        raise ValueError(
            "The parameter 'probabilities_init' should have the shape "
            f"(n_components, n_categories) = {(n_components, n_categories)}, "
            f"but got {probabilities.shape}."
        )
    if np.any(probabilities < 0):
        raise ValueError(
            "The parameter 'probabilities_init' should be non-negative, but got "
            f"min value {probabilities.min():.5f}."
        )
    sums = probabilities.sum(axis=1)
    if not np.allclose(sums, 1.0, rtol=0, atol=1e-8):
        raise ValueError(
            "Each row of 'probabilities_init' should sum to 1 (one component's "
            f"category probabilities), but the row sums are {sums}."
        )
    return probabilities / sums[:, None]


def _check_n_trials(n_trials, n_samples, default):
    if n_trials is None:
        return np.full(n_samples, default, dtype=np.int64)
    values = np.asarray(n_trials)
    if values.ndim == 0:
        values = np.full(n_samples, values)
    if (
        values.shape != (n_samples,)
        or not np.issubdtype(values.dtype, np.number)
        or np.any(values < 0)
        or np.any(values != np.round(values))
    ):
        raise ValueError(
            f"Invalid value for 'n_trials': {n_trials!r}. It must be a "
            "non-negative integer or an array of n_samples = "
            f"{n_samples} non-negative integers (the total count of each row)."
        )
    return values.astype(np.int64)


class CoinMixture(BaseMixture):
    """Mixture of multinomial ("coin") distributions over count vectors.

    Each row of ``X`` records how often each of ``n_categories`` outcomes
    was seen in a number of trials (heads and tails of one coin; word counts
    of a document); which component produced the row is hidden. Component
    ``c`` is a multinomial with category probabilities
    ``probabilities_[c]``; EM estimates them, and the mixing weights, from
    the counts. Two categories give a binomial mixture. This is the model of
    R mixtools' ``multmixEM``.

    Row totals may differ between rows. Counts may be fractional (term
    weights, expected counts), as in :class:`sklearn.naive_bayes.MultinomialNB`;
    log-factorials are computed through the log-gamma function. A row of total
    0 is allowed and carries no information about the probabilities.

    Parameters
    ----------
    n_components : int, default=2
        Number of mixture components (coins).
    tol : float, default=1e-3
        Convergence threshold on the change of the mean log-likelihood.
    max_iter : int, default=100
        Number of EM iterations per start.
    n_init : int, default=1
        Number of starts.
    init_params : {'kmeans', 'k-means++', 'random', 'random_from_data'}, \
            default='kmeans'
        How each start's responsibilities are initialised. 'kmeans' and
        'k-means++' work on the row proportions ``X / row total`` (a row of
        total 0 counts as uniform); k-means runs on a random subsample of
        50,000 rows when X is longer. A small share (0.1%) of a uniform
        distribution is blended into every data-driven start so that no
        category starts impossible.
    weights_init : array-like of shape (n_components,), default=None
        Initial mixing weights (uniform when ``fit_weights=False`` and not
        given).
    probabilities_init : array-like of shape (n_components, n_categories), \
            default=None
        Initial category probabilities of each component (rows sum to 1). When
        given, every start begins exactly there.
    fit_weights : bool, default=True
        Estimate the mixing weights. With False they stay at ``weights_init``
        (uniform by default), as in the textbook two-coin example, and are
        not counted as free parameters by :meth:`bic` and :meth:`aic`.
    alpha : float, default=0.0
        Pseudo-count added to every category of every component in the
        M-step (a symmetric Dirichlet prior), so that a category never seen in
        a component does not get probability 0. With 0 the fit is exact
        maximum likelihood; a probability of exactly 0 then enters the
        likelihood as the smallest positive double, so that no row is ever
        impossible (its score is finite, its responsibilities are not NaN).
    random_state : int, RandomState instance or None, default=None
        Seeds every start (all seeds are drawn before the first start runs)
        and :meth:`sample`.
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
        continuation share ``max_iter``). 0 selects by training log-likelihood
        (scikit-learn's rule). No row is held out (the starts are then compared
        on training log-likelihood) when that would leave no validation row, or
        fewer training rows with positive weight than components.

    Attributes
    ----------
    weights_ : ndarray of shape (n_components,)
        Mixing weights.
    probabilities_ : ndarray of shape (n_components, n_categories)
        Category probabilities of each component; each row sums to 1. For a
        coin (two columns heads, tails), ``probabilities_[:, 0]`` is
        P(heads).
    converged_ : bool
        Whether the selected start converged.
    n_iter_ : int
        EM iterations of the selected start (with a validation split: on
        the training rows, the last of them completed on the validation
        rows, plus the continuation on all rows; at most ``max_iter``).
    lower_bound_ : float
        Mean log-likelihood (multinomial coefficient included) at the last
        iteration.
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
        Number of categories seen during fit.
    feature_names_in_ : ndarray of shape (`n_features_in_`,)
        Names of the categories seen during fit (string column names only).

    See Also
    --------
    GaussianMixtureEM : Gaussian mixture for continuous data.
    sklearn.naive_bayes.MultinomialNB : the supervised counterpart.

    Notes
    -----
    :meth:`score_samples` returns the log probability mass of each row,
    ``log n! - sum_j log x_j! + log sum_c w_c prod_j p_cj ** x_j``: with the
    multinomial coefficient, so it is comparable across models and with R.

    Examples
    --------
    The two-coin example of Do and Batzoglou (2008): five rows of ten flips,
    coins picked with equal odds.

    >>> import numpy as np
    >>> from skmix.coin import CoinMixture
    >>> X = np.array([[5, 5], [9, 1], [8, 2], [4, 6], [7, 3]])
    >>> coins = CoinMixture(
    ...     fit_weights=False, probabilities_init=[[0.6, 0.4], [0.5, 0.5]],
    ...     tol=1e-10, max_iter=1000,
    ... ).fit(X)
    >>> coins.probabilities_[:, 0].round(2)
    array([0.8 , 0.52])
    >>> coins.predict([[10, 0], [2, 8]]).tolist()
    [0, 1]
    """

    _parameter_constraints: dict = {
        **BaseMixture._parameter_constraints,
        "weights_init": ["array-like", None],
        "probabilities_init": ["array-like", None],
        "fit_weights": ["boolean"],
        "alpha": [Interval(Real, 0.0, None, closed="left")],
    }

    def __init__(
        self,
        n_components=2,
        *,
        tol=1e-3,
        max_iter=100,
        n_init=1,
        init_params="kmeans",
        weights_init=None,
        probabilities_init=None,
        fit_weights=True,
        alpha=0.0,
        random_state=None,
        warm_start=False,
        verbose=0,
        verbose_interval=10,
        n_jobs=None,
        validation_fraction=0.1,
    ):
        self.n_components = n_components
        self.tol = tol
        self.max_iter = max_iter
        self.n_init = n_init
        self.init_params = init_params
        self.weights_init = weights_init
        self.probabilities_init = probabilities_init
        self.fit_weights = fit_weights
        self.alpha = alpha
        self.random_state = random_state
        self.warm_start = warm_start
        self.verbose = verbose
        self.verbose_interval = verbose_interval
        self.n_jobs = n_jobs
        self.validation_fraction = validation_fraction

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.positive_only = True
        return tags

    @property
    def _fit_weights(self):
        return bool(self.fit_weights)

    # ----------------------------------------------------------- hooks
    def _validate_X(self, X, reset):
        X = super()._validate_X(X, reset)
        if X.size and X.min() < 0:
            raise ValueError(
                f"Negative values in data passed to CoinMixture (smallest: "
                f"{X.min():g}). X must hold non-negative counts: each entry is "
                "how often a category was observed in that row."
            )
        return X

    def _make_family(self, X):
        # Rounded mean row total: the default number of trials of `sample`.
        mean_total = float(np.mean(X.sum(axis=1, dtype=np.float64)))
        return MultinomialFamily(self.alpha, default_n_trials=round(mean_total))

    def _init_fn(self, family, X):
        k, n_categories = self.n_components, X.shape[1]
        log_weights_init = probabilities_init = None
        if self.weights_init is not None:
            weights = check_weights_init(self.weights_init, k, "weights_init")
            with np.errstate(divide="ignore"):
                log_weights_init = np.log(weights)
        elif not self.fit_weights:
            log_weights_init = np.full(k, -np.log(k))
        if self.probabilities_init is not None:
            probabilities_init = _check_probabilities_init(
                self.probabilities_init, k, n_categories
            )

        def init(X_part, sample_weight, rng):
            if probabilities_init is not None:
                params = MultinomialParams(probabilities_init)
                log_weights = (
                    np.full(k, -np.log(k))
                    if log_weights_init is None
                    else log_weights_init
                )
                return params, log_weights
            resp = _count_responsibilities(
                self.init_params, X_part, k, rng, sample_weight
            )
            params, log_weights = initialize(family, X_part, sample_weight, resp, k)
            smoothed = (1.0 - INIT_SMOOTHING) * params.probabilities + (
                INIT_SMOOTHING / n_categories
            )
            if log_weights_init is not None:
                log_weights = log_weights_init
            return MultinomialParams(smoothed), log_weights

        return init

    def _set_fitted_params(self, params):
        self.probabilities_ = params.probabilities

    def _get_fitted_params(self):
        return MultinomialParams(self.probabilities_)

    # ----------------------------------------------------------- skmix.io
    def __skmix_getstate__(self):
        """What :mod:`skmix.io` saves beside the public attributes: the
        fitted family's settings (the default number of trials of
        :meth:`sample` is the training data's rounded mean row total)."""
        return {
            "alpha": self._family.alpha,
            "default_n_trials": self._family.default_n_trials,
        }

    def __skmix_setstate__(self, state):
        """Rebuild the fitted family after :func:`skmix.io.load` restored
        the public attributes."""
        self._family = MultinomialFamily(state["alpha"], state["default_n_trials"])

    # ----------------------------------------------------------- sampling
    def sample(self, n_samples=1, n_trials=None):
        """Draw random count rows from the fitted mixture.

        Parameters
        ----------
        n_samples : int, default=1
            Number of rows to draw.
        n_trials : int or array-like of shape (n_samples,), default=None
            Total count of each drawn row: one int for every row, or one per
            row (in the order of the returned rows). ``None`` uses the mean
            row total of the training data, rounded to an integer.

        Returns
        -------
        X : ndarray of shape (n_samples, n_categories)
            The count rows (float), grouped by component.
        y : ndarray of shape (n_samples,)
            The component of each row.
        """
        check_is_fitted(self)
        _check_n_samples(n_samples)
        trials = _check_n_trials(n_trials, n_samples, self._family.default_n_trials)
        return self._draw(n_samples, n_trials=trials)
