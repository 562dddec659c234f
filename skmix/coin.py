"""CoinMixture: binomial and multinomial mixtures over count data."""

from __future__ import annotations

from numbers import Real

import numpy as np
from sklearn.utils._param_validation import Interval
from sklearn.utils.validation import check_array, check_is_fitted

from ._base import BaseMixture, StartRecipe
from ._docstrings import fill_docstring
from ._parameters import estimator_init
from ._validation import check_n_samples, check_weights_init
from .families.multinomial import MultinomialFamily, MultinomialParams

#: Share of a uniform distribution blended into every data-driven start, so
#: that no category starts with probability 0 in a component (a start from a
#: single row such as (10 heads, 0 tails) would otherwise make every row
#: with a tail nearly impossible under it).
INIT_SMOOTHING = 1e-3


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


#: The largest number of trials ``sample`` draws: counts up to it are exact
#: doubles (and int64).
MAX_SAMPLED_TRIALS = 2**53


def _check_n_trials(n_trials, n_samples, default):
    if n_trials is None:
        if not default <= MAX_SAMPLED_TRIALS:
            raise ValueError(
                f"The default number of trials of sample, the training rows' "
                f"mean total ({default:g}), exceeds 2**53, the largest count "
                "drawn exactly. Pass n_trials."
            )
        return np.full(n_samples, default, dtype=np.int64)
    values = np.asarray(n_trials)
    if values.ndim == 0:
        values = np.full(n_samples, values)
    if (
        values.shape != (n_samples,)
        or not np.issubdtype(values.dtype, np.number)
        or np.issubdtype(values.dtype, np.complexfloating)
        or not np.all((values >= 0) & (values <= MAX_SAMPLED_TRIALS))
        or np.any(values != np.round(values))
    ):
        raise ValueError(
            f"Invalid value for 'n_trials': {n_trials!r}. It must be a "
            "non-negative integer up to 2**53, or an array of n_samples = "
            f"{n_samples} such integers (the total count of each row)."
        )
    return values.astype(np.int64)


@fill_docstring
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
    {{n_components}}
    {{tol}}
    {{max_iter}}
    {{n_init}}
    init_params : {'kmeans', 'k-means++', 'random', 'random_from_data'}, \
            default='kmeans'
        How each start's responsibilities are initialised: on the distinct
        rows of X, weighted by their multiplicity (so that a start does not
        depend on the row order, and a row of weight 2 counts as two rows),
        and seen as row proportions ``X / row total`` (a row of total 0
        counts as uniform); on all rows when X has more than
        {{KMEANS_MAX_ROWS}}, k-means then running on a random subsample of
        {{KMEANS_MAX_ROWS}} rows. A small share (0.1%) of a uniform
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
    {{start_parameters}}
    {{validation_fraction}}
    {{accelerate}}

    Attributes
    ----------
    {{weights_}}
    probabilities_ : ndarray of shape (n_components, n_categories)
        Category probabilities of each component; each row sums to 1. For a
        coin (two columns heads, tails), ``probabilities_[:, 0]`` is
        P(heads).
    {{converged_}}
    {{n_iter_}}
    lower_bound_ : float
        Mean log-likelihood (multinomial coefficient included) at the last
        iteration.
    {{start_attributes}}
    {{n_samples_fit_}}
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

    __init__ = estimator_init(
        positional={"n_components": 2},
        keyword={
            "weights_init": None,
            "probabilities_init": None,
            "fit_weights": True,
            "alpha": 0.0,
        },
    )

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
        if reset and X.size:
            with np.errstate(over="ignore"):
                totals = X.sum(axis=1, dtype=np.float64)
            if not np.all(np.isfinite(totals)):
                row = int(np.flatnonzero(~np.isfinite(totals))[0])
                raise ValueError(
                    f"Row {row} of X has counts that sum beyond the largest "
                    "double; divide the counts by a common factor."
                )
        return X

    def _make_family(self, X):
        # Rounded mean row total: the default number of trials of `sample`
        # (each total over the number of rows: their sum may overflow).
        mean_total = float(np.sum(X.sum(axis=1, dtype=np.float64) / X.shape[0]))
        default = round(mean_total) if mean_total <= MAX_SAMPLED_TRIALS else mean_total
        return MultinomialFamily(self.alpha, default_n_trials=default)

    def _start_recipe(self, family, X):
        """Starts from the distinct rows' proportions, smoothed
        (``INIT_SMOOTHING``), with the given weights if any; every start at
        ``probabilities_init`` if given."""
        k, n_categories = self.n_components, X.shape[1]
        log_weights_init = None
        if self.weights_init is not None:
            weights = check_weights_init(self.weights_init, k, "weights_init")
            with np.errstate(divide="ignore"):
                log_weights_init = np.log(weights)
        elif not self.fit_weights:
            log_weights_init = np.full(k, -np.log(k))
        if self.probabilities_init is not None:
            probabilities = _check_probabilities_init(
                self.probabilities_init, k, n_categories
            )
            if log_weights_init is None:
                log_weights_init = np.full(k, -np.log(k))
            fixed = (MultinomialParams(probabilities), log_weights_init)
            return StartRecipe(fixed=fixed)

        def adjust(params, log_weights):
            smoothed = (1.0 - INIT_SMOOTHING) * params.probabilities + (
                INIT_SMOOTHING / n_categories
            )
            if log_weights_init is not None:
                log_weights = log_weights_init
            return MultinomialParams(smoothed), log_weights

        return StartRecipe(seeding="distinct_rows", adjust=adjust)

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
        check_n_samples(n_samples)
        trials = _check_n_trials(n_trials, n_samples, self._family.default_n_trials)
        return self._draw(n_samples, n_trials=trials)
