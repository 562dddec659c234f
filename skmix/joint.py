"""JointMixture: two views of each sample linked by a transition matrix."""

from __future__ import annotations

from numbers import Integral

import numpy as np
from sklearn.utils import check_random_state
from sklearn.utils._param_validation import HasMethods, Interval, StrOptions
from sklearn.utils.validation import check_is_fitted

from ._base import BaseMixture
from ._config import PROBABILITIES, SCORES
from ._docstrings import fill_docstring
from ._grouped import (
    component_posteriors,
    component_template,
    fitted_template,
    rows_by_group,
    weights_of,
)
from ._parameters import estimator_init
from ._validation import check_n_samples
from .families import one_hot
from .families.grouped import GroupedRows, SequenceFamily, SequenceParams
from .families.joint import JointFamily, JointParams, PairedRows


@fill_docstring
class JointMixture(BaseMixture):
    """Joint mixture of two views of each sample, linked by a transition matrix.

    Each sample has two views: X, modelled by K components F_k with weights
    w, and Y, modelled by M components G_m. Their hidden states are linked
    by ``transition_[k, m] = P(H = m | Z = k)``:

        p(x, y) = sum_k w_k F_k(x) sum_m tau[k, m] G_m(y).

    Y is either one row per sample (aligned with X), or a sequence of rows
    per sample (``y_groups``), whose component m is a product of i.i.d.
    rows from G_m times a Poisson length model (DMLearn's joint mixture of
    a view and a sequence). After fitting, Y's component can be predicted
    from X alone, ``P(H = m | x) = sum_k P(Z = k | x) tau[k, m]``, or from
    both views.

    Parameters
    ----------
    n_components_x : int, default=1
        K, the number of X's components.
    n_components_y : int, default=1
        M, the number of Y's components.
    family_x, family_y : skmix mixture estimator, default=None
        How a component models a row of each view, given as an unfitted
        skmix estimator (``GaussianMixtureEM`` by default,
        ``CompositeMixture(families=[...])`` for mixed columns,
        ``CoinMixture()`` for counts); ``components_x_`` and
        ``components_y_`` are their fitted clones.
    length_model_y : {'poisson'} or None, default='poisson'
        For sequences of Y: a Poisson length per Y component, counted in
        the likelihood, or None.
    {{tol}}
    {{max_iter}}
    {{n_init}}
    init_params : {'kmeans', 'k-means++', 'random_from_data', 'random'}, \
            default='kmeans'
        How a start begins. The first three start each view as its family
        starts a flat mixture (by that method) and the transition from the
        two starts' posteriors; 'random' is DMLearn's start, every sample to
        a random pair of components.
    {{start_parameters}}
    {{validation_fraction}}
    {{accelerate}}

    Attributes
    ----------
    weights_x_ : ndarray of shape (n_components_x,)
        Weights w of X's components (also ``weights_``).
    weights_y_ : ndarray of shape (n_components_y,)
        Marginal weights of Y's components, ``weights_x_ @ transition_``.
    transition_ : ndarray of shape (n_components_x, n_components_y)
        P(H = m | Z = k); rows sum to 1.
    components_x_, components_y_ : skmix mixture estimator
        ``family_x`` and ``family_y`` fitted with each view's components
        (for sequences, the rows' components) and weights.
    lengths_y_ : ndarray of shape (n_components_y,) or None
        Poisson mean length of each Y component's sequences (sequences with
        ``length_model_y='poisson'`` only).
    {{converged_}}
    {{n_iter_}}
    {{lower_bound_}}
    {{start_attributes}}
    {{n_features_in_}}

    See Also
    --------
    HierarchicalMixture : mixtures of mixtures over groups of rows.

    Examples
    --------
    >>> import numpy as np
    >>> from skmix import JointMixture
    >>> rng = np.random.default_rng(0)
    >>> z = rng.integers(2, size=300)
    >>> X = (4.0 * z + rng.normal(size=300)).reshape(-1, 1)
    >>> Y = (-4.0 * z + rng.normal(size=300)).reshape(-1, 1)
    >>> model = JointMixture(2, 2, random_state=0).fit(X, Y)
    >>> bool(np.all(model.transition_.max(axis=1) > 0.9))
    True
    >>> model.predict_proba_y(X).shape
    (300, 2)
    """

    _parameter_constraints: dict = {
        **BaseMixture._parameter_constraints,
        "n_components_x": [Interval(Integral, 1, None, closed="left")],
        "n_components_y": [Interval(Integral, 1, None, closed="left")],
        "family_x": [HasMethods(["fit", "get_params"]), None],
        "family_y": [HasMethods(["fit", "get_params"]), None],
        "length_model_y": [StrOptions({"poisson"}), None],
    }
    _parameter_constraints.pop("n_components")

    __metadata_request__fit = {"y_groups": True}
    __metadata_request__score = {"y_groups": True}

    __init__ = estimator_init(
        positional={"n_components_x": 1, "n_components_y": 1},
        keyword={"family_x": None, "family_y": None, "length_model_y": "poisson"},
    )

    def _n_components(self):
        return self.n_components_x

    # -------------------------------------------------------- views in
    def _paired(self, X, Y, y_groups, reset):
        """Both views validated by their estimators, as PairedRows."""
        if Y is None:
            raise ValueError(
                "Y is required: the second view of each sample (rows aligned "
                "with X, or rows of sequences with y_groups)."
            )
        template_x = self._templates[0] if reset else self.components_x_
        template_y = self._templates[1] if reset else self.components_y_
        x_rows = template_x._validate_X(X, reset=reset)
        y_rows = template_y._validate_X(Y, reset=reset)
        n_samples = x_rows.shape[0]
        if y_groups is None:
            if y_rows.shape[0] != n_samples:
                raise ValueError(
                    f"Y has {y_rows.shape[0]} rows but X has {n_samples}: Y's rows "
                    "are aligned with X's (one per sample), or pass y_groups (the "
                    "sample of each row of Y) for sequences."
                )
            return PairedRows(x_rows, y_rows)
        owners = _check_y_groups(y_groups, y_rows.shape[0], n_samples)
        order = rows_by_group(owners, y_rows)
        sorted_rows = (
            np.take(y_rows, order, axis=0)
            if isinstance(y_rows, np.ndarray)
            else y_rows[order]
        )
        offsets = np.concatenate(
            [[0], np.cumsum(np.bincount(owners, minlength=n_samples))]
        )
        return PairedRows(x_rows, GroupedRows(sorted_rows, offsets))

    def _validate_X(self, X, reset):
        # BaseMixture's fit receives the paired views built by fit.
        return X

    def fit(self, X, Y=None, y_groups=None, sample_weight=None):
        """Estimate the model parameters with the EM algorithm.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features_x)
            View X, one row per sample.
        Y : array-like of shape (n_samples, n_features_y) or (n_rows_y, n_features_y)
            View Y: one row per sample, or with ``y_groups`` the rows of
            every sample's sequence (in any order).
        y_groups : array-like of shape (n_rows_y,), default=None
            The sample (row index of X, 0 .. n_samples - 1) of each row of
            Y; a sample may have no row (an empty sequence).
        sample_weight : array-like of shape (n_samples,), default=None
            Non-negative sample weights.

        Returns
        -------
        self : object
            The fitted mixture.
        """
        self._validate_params()
        saved_state = self.__dict__.copy()
        try:
            self._templates = (
                component_template(
                    self.family_x, self.n_components_x, self.init_params, "family_x"
                ),
                component_template(
                    self.family_y, self.n_components_y, self.init_params, "family_y"
                ),
            )
            paired = self._paired(X, Y, y_groups, reset=True)
            self.n_features_in_ = self._templates[0].n_features_in_
            self._fit(paired, sample_weight)
        except BaseException:
            self.__dict__.clear()
            self.__dict__.update(saved_state)
            raise
        finally:
            self.__dict__.pop("_templates", None)
        return self

    def _make_family(self, X):
        self._templates[0]._check_fit_X(X.x)
        family_x = self._templates[0]._make_family(X.x)
        if isinstance(X.y, GroupedRows):
            self._templates[1]._check_fit_X(X.y.rows)
            row_family = self._templates[1]._make_family(X.y.rows)
            family_y = SequenceFamily(row_family, self.length_model_y)
        else:
            self._templates[1]._check_fit_X(X.y)
            family_y = self._templates[1]._make_family(X.y)
        return JointFamily(family_x, family_y, self.n_components_y)

    def _warm_start_mismatch(self, family):
        before = type(self._family.family_y).__name__
        now = type(family.family_y).__name__
        if before != now or self._family.n_components_y != family.n_components_y:
            return "a different view Y (rows or sequences, or n_components_y)"
        return None

    # --------------------------------------------------------- starts
    def _init_fn(self, family, X, warm):
        if warm:
            return super()._init_fn(family, X, warm)
        n_x, n_y = self.n_components_x, self.n_components_y
        sequences = isinstance(X.y, GroupedRows)
        family_y_rows = family.family_y.row_family if sequences else family.family_y
        init_x = self._templates[0]._init_fn(family.family_x, X.x, False)
        init_y = self._templates[1]._init_fn(
            family_y_rows, X.y.rows if sequences else X.y, False
        )
        random_start = self.init_params == "random"

        def y_posteriors(y, weights, rng):
            if not sequences:
                params, log_weights = init_y(y, weights, rng)
                return component_posteriors(family.family_y, y, params, log_weights)
            row_weight = None if weights is None else np.repeat(weights, y.sizes)
            params, log_weights = init_y(y.rows, row_weight, rng)
            lengths = None
            if family.family_y.length_model == "poisson":
                lengths = np.full(n_y, max(y.sizes.mean(), 1e-3))
            sequence_params = SequenceParams(params, lengths, None)
            return component_posteriors(
                family.family_y, y, sequence_params, log_weights
            )

        def init(pairs, weights, rng):
            reference = family.reference(pairs, n_x)
            if random_start:
                pair = rng.randint(n_x * n_y, size=len(pairs))
                resp_x, resp_y = one_hot(pair // n_y, n_x), one_hot(pair % n_y, n_y)
            else:
                params_x, log_weights_x = init_x(pairs.x, weights, rng)
                resp_x = component_posteriors(
                    family.family_x, pairs.x, params_x, log_weights_x
                )
                resp_y = y_posteriors(pairs.y, weights, rng)
            stats = family.initial_statistics(pairs, resp_x, resp_y, weights, reference)
            return family.initial_m_step(stats, reference), weights_of(stats.resp_sum)

        return init

    # ------------------------------------------------- fitted params
    def _set_fitted_params(self, params):
        self.transition_ = params.transition
        self._references = (params.x_reference, params.y_reference)
        templates = getattr(self, "_templates", None) or (
            self.components_x_,
            self.components_y_,
        )
        family_y = self._family.family_y
        y_params = params.y
        self.lengths_y_ = None
        if isinstance(family_y, SequenceFamily):
            self.lengths_y_ = y_params.lengths
            self._y_rows_reference = y_params.reference
            family_y, y_params = family_y.row_family, y_params.rows
        uniform_x = np.full(self.n_components_x, 1.0 / self.n_components_x)
        uniform_y = np.full(self.n_components_y, 1.0 / self.n_components_y)
        self.components_x_ = fitted_template(
            templates[0], self._family.family_x, params.x, uniform_x
        )
        self.components_y_ = fitted_template(
            templates[1], family_y, y_params, uniform_y
        )

    def _store_fit(self, family, result, n_samples, started):
        super()._store_fit(family, result, n_samples, started)
        self.weights_x_ = self.weights_
        self.weights_y_ = self.weights_ @ self.transition_
        self.components_x_.weights_ = self.weights_x_
        self.components_y_.weights_ = self.weights_y_

    def _get_fitted_params(self):
        y_params = self.components_y_._get_fitted_params()
        if isinstance(self._family.family_y, SequenceFamily):
            y_params = SequenceParams(y_params, self.lengths_y_, self._y_rows_reference)
        return JointParams(
            self.transition_,
            self.components_x_._get_fitted_params(),
            y_params,
            *self._references,
        )

    # ----------------------------------------------------------- skmix.io
    def __skmix_getstate__(self):
        """What :mod:`skmix.io` saves beside the public attributes (the
        fitted ``components_x_`` and ``components_y_`` among them): whether
        Y is a view of sequences, its length model, and the references the
        views' statistics are centred on."""
        family_y = self._family.family_y
        sequences = isinstance(family_y, SequenceFamily)
        return {
            "n_components_y": self._family.n_components_y,
            "sequences": sequences,
            "length_model_y": family_y.length_model if sequences else None,
            "references": self._references,
            "y_rows_reference": self._y_rows_reference if sequences else None,
        }

    def __skmix_setstate__(self, state):
        """Rebuild the joint family around the loaded components' families
        after :func:`skmix.io.load` checked and restored the public
        attributes."""
        family_y = self.components_y_._family
        if state["sequences"]:
            family_y = SequenceFamily(family_y, state["length_model_y"])
            self._y_rows_reference = state["y_rows_reference"]
        self._family = JointFamily(
            self.components_x_._family, family_y, state["n_components_y"]
        )
        self._references = tuple(state["references"])

    # ------------------------------------------------------ inference
    def _prepared(self):
        with np.errstate(divide="ignore"):
            log_weights = np.log(self.weights_)
        return self._family.prepare(self._get_fitted_params(), log_weights)

    def score_samples(self, X, Y=None, y_groups=None):
        """Log-likelihood ``log p(x, y)`` of each sample.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features_x)
            View X.
        Y : array-like
            View Y, as in :meth:`fit`.
        y_groups : array-like of shape (n_rows_y,), default=None
            The sample of each row of Y, for sequences.

        Returns
        -------
        log_prob : ndarray of shape (n_samples,)
        """
        check_is_fitted(self)
        return self._infer_rows(self._paired(X, Y, y_groups, reset=False), SCORES)[2]

    def score(self, X, Y=None, y_groups=None):
        """Mean log-likelihood per sample (see :meth:`score_samples`)."""
        return float(self.score_samples(X, Y, y_groups).mean())

    def predict_proba(self, X, Y=None, y_groups=None):
        """P(Z = k | x, y): posterior of X's component from both views.

        Returns
        -------
        resp : ndarray of shape (n_samples, n_components_x)
        """
        check_is_fitted(self)
        paired = self._paired(X, Y, y_groups, reset=False)
        return self._infer_rows(paired, PROBABILITIES)[0]

    def predict(self, X, Y=None, y_groups=None):
        """Most probable X component of each sample, from both views."""
        return self.predict_proba(X, Y, y_groups).argmax(axis=1)

    def predict_proba_y(self, X, Y=None, y_groups=None):
        """Posterior of Y's component: from X alone, or from both views.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features_x)
            View X.
        Y : array-like, default=None
            View Y as in :meth:`fit`; None predicts from X alone,
            ``P(H = m | x) = sum_k P(Z = k | x) transition_[k, m]``.
        y_groups : array-like of shape (n_rows_y,), default=None
            The sample of each row of Y, for sequences.

        Returns
        -------
        resp : ndarray of shape (n_samples, n_components_y)
            P(H = m | x) or P(H = m | x, y); rows sum to 1.
        """
        check_is_fitted(self)
        if Y is None:
            return self.components_x_.predict_proba(X) @ self.transition_
        paired = self._paired(X, Y, y_groups, reset=False)
        resp, lost = self._family.y_posteriors(paired, self._prepared())
        if lost:
            raise ValueError(
                f"{lost} sample(s) have density 0 to double precision under every "
                "pair of components, so their probabilities are undefined; check "
                "their values."
            )
        return resp

    def predict_y(self, X, Y=None, y_groups=None):
        """Most probable Y component of each sample (see :meth:`predict_proba_y`)."""
        return self.predict_proba_y(X, Y, y_groups).argmax(axis=1)

    # ----------------------------------------------- sampling, criteria
    def sample(self, n_samples=1):
        """Draw samples from the fitted model.

        Returns
        -------
        X : ndarray of shape (n_samples, n_features_x)
            View X, samples grouped by X's component.
        Y : ndarray
            View Y: one row per sample, or the rows of every sample's
            sequence.
        y_groups : ndarray or None
            For sequences, the sample of each row of Y; else None.
        h : ndarray of shape (n_samples,)
            Y's component of each sample.
        """
        check_is_fitted(self)
        check_n_samples(n_samples)
        sequences = isinstance(self._family.family_y, SequenceFamily)
        if sequences and self.lengths_y_ is None:
            raise ValueError(
                "This JointMixture was fitted with length_model_y=None: it has "
                "no model of the lengths of Y's sequences, so it cannot draw "
                "them. Refit with length_model_y='poisson' to sample."
            )
        rng = check_random_state(self.random_state)
        counts = rng.multinomial(n_samples, self.weights_)
        pairs, h = self._family.sample(self._get_fitted_params(), counts, rng)
        if isinstance(pairs.y, GroupedRows):
            return pairs.x, pairs.y.rows, pairs.y.owners(), h
        return pairs.x, pairs.y, None, h

    def bic(self, X, Y=None, y_groups=None):
        """Bayesian information criterion (lower is better):
        ``-2 log L + n_parameters log(n_samples)``."""
        scores = self.score_samples(X, Y, y_groups)
        return -2 * scores.sum() + self._n_parameters() * np.log(len(scores))

    def aic(self, X, Y=None, y_groups=None):
        """Akaike information criterion (lower is better):
        ``-2 log L + 2 n_parameters``."""
        return -2 * self.score_samples(X, Y, y_groups).sum() + 2 * self._n_parameters()


def _check_y_groups(y_groups, n_rows_y, n_samples):
    """The sample of each row of Y, as int64 in [0, n_samples)."""
    y_groups = np.asarray(y_groups)
    if y_groups.ndim != 1 or y_groups.shape[0] != n_rows_y:
        raise ValueError(
            f"y_groups must hold one sample index per row of Y ({n_rows_y} rows); "
            f"got shape {y_groups.shape}."
        )
    if y_groups.dtype.kind == "f":
        if np.isnan(y_groups).any() or np.any(y_groups != np.round(y_groups)):
            raise ValueError(
                "y_groups must hold integer sample indices (row numbers of X); "
                "it has NaN or fractional values."
            )
    elif y_groups.dtype.kind not in "iu":
        raise ValueError(
            "y_groups must hold integer sample indices (row numbers of X), not "
            f"values of dtype {y_groups.dtype}."
        )
    owners = y_groups.astype(np.int64)
    if n_rows_y and (owners.min() < 0 or owners.max() >= n_samples):
        raise ValueError(
            f"y_groups must index the rows of X (0 .. {n_samples - 1}); got values "
            f"from {owners.min()} to {owners.max()}."
        )
    return owners
