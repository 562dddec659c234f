"""HierarchicalMixture: mixtures of mixtures over groups of rows."""

from __future__ import annotations

from numbers import Integral

import numpy as np
from sklearn.base import ClassNamePrefixFeaturesOutMixin, TransformerMixin
from sklearn.utils import check_random_state
from sklearn.utils._param_validation import HasMethods, Interval, StrOptions
from sklearn.utils.validation import check_is_fitted

from ._base import BaseMixture
from ._config import LABELS, PROBABILITIES, SCORES
from ._docstrings import fill_docstring
from ._grouped import (
    SortedGroups,
    cluster_profiles,
    component_posteriors,
    component_template,
    fitted_template,
    group_means,
    weights_of,
)
from ._parameters import estimator_init
from ._validation import check_n_samples
from .families import one_hot
from .families.grouped import GroupedRows, HierarchicalFamily, HierarchicalParams


@fill_docstring
class HierarchicalMixture(
    ClassNamePrefixFeaturesOutMixin, TransformerMixin, BaseMixture
):
    """Mixture of mixtures over groups of rows, with shared components.

    Data come in groups of rows (a user's sessions, a document's words, a
    patient's visits). K components ("topics") F_1..F_K are shared by M
    outer mixtures, each a weight vector tau_m over the topics. A group
    draws one outer mixture Z ~ Categorical(w); each of its rows then draws
    a topic H ~ Categorical(tau_Z) and the row x ~ F_H. A group's
    likelihood is

        L(n) sum_m w_m prod_j sum_k tau_mk F_k(x_j),

    with an optional length model L of the group size n. Fitted by exact EM
    for groups of any sizes (the model of DMLearn's hierarchical mixture;
    its estimator weights the outer weights' update by group length, which
    is exact only for equal sizes).

    Groups are the samples: outputs per group are ordered by sorted group
    id, ``sample_weight`` weights whole groups, and multi-start validation
    holds out whole groups.

    Parameters
    ----------
    n_components : int, default=1
        K, the number of shared components (topics).
    n_mixtures : int, default=1
        M, the number of outer mixtures.
    family : skmix mixture estimator, default=None
        How a topic models a row, given as an unfitted skmix estimator:
        ``GaussianMixtureEM(covariance_type=..., reg_covar=...)`` (the
        default, full covariances), ``CompositeMixture(families=[...])`` for
        mixed-type columns, ``CoinMixture()`` for counts. Its number of
        components and starts are this estimator's; ``topics_`` is its
        fitted clone.
    length_model : {'poisson', 'categorical'} or None, default=None
        A model of the group sizes, shared by the outer mixtures and
        counted in the likelihood (``score_samples``, ``bic``): Poisson, or
        categorical over the sizes seen in ``fit`` (an unseen size then has
        probability 0). It does not change the other parameters.
    {{tol}}
    {{max_iter}}
    {{n_init}}
    init_params : {'kmeans', 'k-means++', 'random_from_data', 'random'}, \
            default='kmeans'
        How a start begins. The first three start the topics as ``family``
        starts a flat mixture of all rows (by that method), then group the
        groups by their mean topic probabilities (k-means) into the outer
        mixtures. 'random' is DMLearn's start: every group to a random
        outer mixture, every row to a random topic.
    {{start_parameters}}
    validation_fraction : float, default=0.1
        With ``n_init > 1``, the share of groups held out (whole) to choose
        the best start, after which EM continues on all groups. 0 selects
        by training log-likelihood.
    {{accelerate}}

    Attributes
    ----------
    weights_ : ndarray of shape (n_mixtures,)
        Outer weights w.
    mixture_weights_ : ndarray of shape (n_mixtures, n_components)
        Topic weights tau_m of each outer mixture (rows sum to 1).
    topics_ : skmix mixture estimator
        ``family`` fitted with the topics as its components and their
        overall frequencies ``weights_ @ mixture_weights_`` as its weights
        (``topics_.means_``, ``topics_.covariances_`` for Gaussian topics).
    length_ : float, ndarray or None
        The length model: the Poisson mean, the probabilities of group
        sizes 0, 1, ..., or None.
    {{converged_}}
    {{n_iter_}}
    lower_bound_ : float
        Mean log-likelihood per group of the selected start's last E-step.
    {{start_attributes}}
    {{n_features_in_}}

    See Also
    --------
    JointMixture : two views of each sample linked by a transition matrix.

    Examples
    --------
    >>> import numpy as np
    >>> from skmix import HierarchicalMixture
    >>> rng = np.random.default_rng(0)
    >>> centres = rng.choice([-5.0, 5.0], size=40)  # one topic per group
    >>> X = (np.repeat(centres, 6) + rng.normal(size=240)).reshape(-1, 1)
    >>> groups = np.repeat(np.arange(40), 6)
    >>> model = HierarchicalMixture(2, 2, random_state=0).fit(X, groups=groups)
    >>> np.sort(model.topics_.means_[:, 0]).round()
    array([-5.,  5.])
    >>> model.predict(X, groups).shape
    (40,)
    """

    _parameter_constraints: dict = {
        **BaseMixture._parameter_constraints,
        "n_mixtures": [Interval(Integral, 1, None, closed="left")],
        "family": [HasMethods(["fit", "get_params"]), None],
        "length_model": [StrOptions({"poisson", "categorical"}), None],
    }

    __metadata_request__fit = {"groups": True}
    __metadata_request__score = {"groups": True}
    __metadata_request__predict = {"groups": True}
    __metadata_request__predict_proba = {"groups": True}
    __metadata_request__transform = {"groups": True}
    __metadata_request__score_samples = {"groups": True}

    __init__ = estimator_init(
        positional={"n_components": 1, "n_mixtures": 1},
        keyword={"family": None, "length_model": None},
    )

    # ------------------------------------------------------- groups in
    def _n_components(self):
        """The engine's components are the outer mixtures."""
        return self.n_mixtures

    def _grouped(self, X, groups, reset):
        """The rows of X validated by the topics' estimator and stored group
        after group, with the sorted groups."""
        template = self._template if reset else self.topics_
        rows = template._validate_X(X, reset=reset)
        sorted_groups = SortedGroups(groups, rows)
        grouped = GroupedRows(sorted_groups.rows_in_order(rows), sorted_groups.offsets)
        if reset:
            self.n_features_in_ = template.n_features_in_
            if hasattr(template, "feature_names_in_"):
                self.feature_names_in_ = template.feature_names_in_
        return grouped, sorted_groups, rows

    def _validate_X(self, X, reset):
        # BaseMixture's fit receives the grouped rows built by fit.
        return X

    def fit(self, X, y=None, groups=None, sample_weight=None):
        """Estimate the model parameters with the EM algorithm.

        Parameters
        ----------
        X : array-like of shape (n_rows, n_features)
            The rows of every group (in any order).
        y : Ignored
            Not used, present for API consistency by convention.
        groups : array-like of shape (n_rows,)
            The group id of each row (integers or strings; rows of a group
            need not be contiguous).
        sample_weight : array-like of shape (n_rows,), default=None
            Non-negative weights, equal within a group: a group of weight 2
            counts as two groups.

        Returns
        -------
        self : object
            The fitted mixture.
        """
        self._validate_params()
        saved_state = self.__dict__.copy()
        try:
            self._template = component_template(
                self.family, self.n_components, self.init_params, "family"
            )
            grouped, sorted_groups, rows = self._grouped(X, groups, reset=True)
            group_weight = sorted_groups.group_weights(sample_weight, rows)
            self._check_enough_groups(grouped, group_weight)
            self._fit(grouped, group_weight)
        except BaseException:
            # A failed fit leaves a previously fitted estimator untouched.
            self.__dict__.clear()
            self.__dict__.update(saved_state)
            raise
        finally:
            self.__dict__.pop("_template", None)
        return self

    def _check_enough_groups(self, grouped, group_weight):
        n_groups = (
            len(grouped) if group_weight is None else np.count_nonzero(group_weight)
        )
        if n_groups < self.n_mixtures:
            raise ValueError(
                f"Expected at least n_mixtures={self.n_mixtures} groups but got "
                f"{n_groups} (with positive weight). Use fewer outer mixtures or "
                "more groups."
            )

    def _make_family(self, X):
        self._template._check_fit_X(X.rows)
        topic_family = self._template._make_family(X.rows)
        max_length = int(X.sizes.max()) if len(X) else 0
        return HierarchicalFamily(
            topic_family, self.n_components, self.length_model, max_length
        )

    def _warm_start_mismatch(self, family):
        before = (self._family.n_topics, self._family.length_model)
        now = (family.n_topics, family.length_model)
        if before != now:
            return f"(n_components, length_model)={before} (now {now})"
        return None

    # --------------------------------------------------------- starts
    def _init_fn(self, family, X, warm):
        if warm:
            return super()._init_fn(family, X, warm)
        topic_init = self._template._init_fn(family.topic_family, X.rows, False)
        n_mixtures, n_topics = self.n_mixtures, self.n_components
        random_start = self.init_params == "random"

        def init(groups, group_weight, rng):
            reference = family.reference(groups, n_mixtures)
            if random_start:
                outer = rng.randint(n_mixtures, size=len(groups))
                row_topics = one_hot(
                    rng.randint(n_topics, size=groups.n_rows), n_topics
                )
            else:
                row_weight = (
                    None
                    if group_weight is None
                    else np.repeat(group_weight, groups.sizes)
                )
                topics, log_weights = topic_init(groups.rows, row_weight, rng)
                row_topics = component_posteriors(
                    family.topic_family, groups.rows, topics, log_weights
                )
                outer = cluster_profiles(
                    group_means(row_topics, groups), n_mixtures, group_weight, rng
                )
            stats = family.initial_statistics(
                groups, one_hot(outer, n_mixtures), row_topics, group_weight, reference
            )
            return family.initial_m_step(stats, reference), weights_of(stats.resp_sum)

        return init

    # ------------------------------------------------- fitted params
    def _set_fitted_params(self, params):
        self.mixture_weights_ = params.taus
        self.length_ = params.length
        self._reference = params.reference
        template = getattr(self, "_template", None) or self.topics_
        self.topics_ = fitted_template(
            template,
            self._family.topic_family,
            params.topics,
            np.full(self.n_components, 1.0 / self.n_components),
        )

    def _store_fit(self, family, result, n_samples, started):
        super()._store_fit(family, result, n_samples, started)
        self.topics_.weights_ = self.weights_ @ self.mixture_weights_

    def _get_fitted_params(self):
        return HierarchicalParams(
            self.mixture_weights_,
            self.topics_._get_fitted_params(),
            self.length_,
            self._reference,
        )

    # ----------------------------------------------------------- skmix.io
    def __skmix_getstate__(self):
        """What :mod:`skmix.io` saves beside the public attributes (the
        fitted ``topics_`` among them): the grouped family's settings and
        the reference the topics' statistics are centred on."""
        return {
            "n_topics": self._family.n_topics,
            "length_model": self._family.length_model,
            "max_length": self._family.max_length,
            "reference": self._reference,
        }

    def __skmix_setstate__(self, state):
        """Rebuild the grouped family around the loaded ``topics_``'s family
        after :func:`skmix.io.load` checked and restored the public
        attributes."""
        self._reference = state["reference"]
        self._family = HierarchicalFamily(
            self.topics_._family,
            state["n_topics"],
            state["length_model"],
            state["max_length"],
        )

    # ------------------------------------------------------ inference
    def _infer_groups(self, X, groups, mode):
        check_is_fitted(self)
        grouped, _, _ = self._grouped(X, groups, reset=False)
        return self._infer_rows(grouped, mode)

    def score_samples(self, X, groups=None):
        """Log-likelihood of each group (the length model included).

        Parameters
        ----------
        X : array-like of shape (n_rows, n_features)
            The rows of every group.
        groups : array-like of shape (n_rows,)
            The group id of each row.

        Returns
        -------
        log_prob : ndarray of shape (n_groups,)
            ``log p(group)``, groups in sorted order of their ids.
        """
        return self._infer_groups(X, groups, SCORES)[2]

    def score(self, X, y=None, groups=None):
        """Mean log-likelihood per group.

        Parameters
        ----------
        X : array-like of shape (n_rows, n_features)
            The rows of every group.
        y : Ignored
            Not used, present for API consistency by convention.
        groups : array-like of shape (n_rows,)
            The group id of each row.

        Returns
        -------
        log_likelihood : float
            Mean of ``score_samples(X, groups)``.
        """
        return float(self._infer_groups(X, groups, SCORES)[2].mean())

    def predict_proba(self, X, groups=None):
        """Posterior probability of each outer mixture for each group.

        Parameters
        ----------
        X : array-like of shape (n_rows, n_features)
            The rows of every group.
        groups : array-like of shape (n_rows,)
            The group id of each row (ids unseen in ``fit`` are fine).

        Returns
        -------
        resp : ndarray of shape (n_groups, n_mixtures)
            P(Z = m | group), groups in sorted order of their ids.
        """
        return self._infer_groups(X, groups, PROBABILITIES)[0]

    def transform(self, X, groups=None):
        """A group's posterior over the outer mixtures (:meth:`predict_proba`).

        Parameters
        ----------
        X : array-like of shape (n_rows, n_features)
            The rows of every group.
        groups : array-like of shape (n_rows,)
            The group id of each row.

        Returns
        -------
        resp : ndarray of shape (n_groups, n_mixtures)
            P(Z = m | group), groups in sorted order of their ids.
        """
        return self._infer_groups(X, groups, PROBABILITIES)[0]

    def predict(self, X, groups=None):
        """Most probable outer mixture of each group.

        Parameters
        ----------
        X : array-like of shape (n_rows, n_features)
            The rows of every group.
        groups : array-like of shape (n_rows,)
            The group id of each row.

        Returns
        -------
        labels : ndarray of shape (n_groups,)
            Outer mixture of each group, groups in sorted order of their ids.
        """
        return self._infer_groups(X, groups, LABELS)[1]

    @property
    def _n_features_out(self):
        return self.n_mixtures

    def fit_transform(self, X, y=None, groups=None, sample_weight=None):
        """Fit, then return each group's posterior over the outer mixtures."""
        return self.fit(X, groups=groups, sample_weight=sample_weight).transform(
            X, groups
        )

    def fit_predict(self, X, y=None, groups=None, sample_weight=None):
        """Fit, then return the most probable outer mixture of each group."""
        return self.fit(X, groups=groups, sample_weight=sample_weight).predict(
            X, groups
        )

    def predict_topic_proba(self, X, groups=None):
        """Posterior probability of each topic for each row, given its group.

        Parameters
        ----------
        X : array-like of shape (n_rows, n_features)
            The rows of every group.
        groups : array-like of shape (n_rows,)
            The group id of each row.

        Returns
        -------
        resp : ndarray of shape (n_rows, n_components)
            P(H_j = k | the row's group), rows in the order of X.
        """
        check_is_fitted(self)
        grouped, sorted_groups, _ = self._grouped(X, groups, reset=False)
        with np.errstate(divide="ignore"):
            log_weights = np.log(self.weights_)
        prepared = self._family.prepare(self._get_fitted_params(), log_weights)
        in_order = self._family.row_topic_posteriors(grouped, prepared)
        resp = np.empty_like(in_order)
        resp[sorted_groups.order] = in_order
        return resp

    def predict_topics(self, X, groups=None):
        """Most probable topic of each row, given its group.

        Parameters
        ----------
        X : array-like of shape (n_rows, n_features)
            The rows of every group.
        groups : array-like of shape (n_rows,)
            The group id of each row.

        Returns
        -------
        labels : ndarray of shape (n_rows,)
            Topic of each row, rows in the order of X.
        """
        return self.predict_topic_proba(X, groups).argmax(axis=1)

    # ----------------------------------------------- sampling, criteria
    def sample(self, n_samples=1, group_sizes=None):
        """Draw groups from the fitted model.

        Parameters
        ----------
        n_samples : int, default=1
            Number of groups.
        group_sizes : array-like of shape (n_samples,), default=None
            Rows of each group; drawn from the length model if None.

        Returns
        -------
        X : ndarray of shape (n_rows, n_features)
            The rows, group after group.
        groups : ndarray of shape (n_rows,)
            The group (0 .. n_samples - 1) of each row.
        mixtures : ndarray of shape (n_samples,)
            The outer mixture of each group.
        """
        check_is_fitted(self)
        check_n_samples(n_samples)
        if group_sizes is not None:
            group_sizes = np.asarray(group_sizes)
            if group_sizes.shape != (n_samples,) or np.any(group_sizes < 0):
                raise ValueError(
                    f"group_sizes must hold {n_samples} non-negative sizes, one "
                    "per group."
                )
        rng = check_random_state(self.random_state)
        counts = rng.multinomial(n_samples, self.weights_)
        mixtures = np.repeat(np.arange(self.n_mixtures), counts)
        if group_sizes is None:
            group_sizes = self._family.sample_sizes(
                self._get_fitted_params(), n_samples, rng
            )
        drawn, _ = self._family.sample(
            self._get_fitted_params(), counts, rng, sizes=group_sizes
        )
        return drawn.rows, drawn.owners(), mixtures

    def _n_groups(self, X, groups):
        rows = self.topics_._validate_X(X, reset=False)
        return SortedGroups(groups, rows).n_groups

    def bic(self, X, groups=None):
        """Bayesian information criterion on the groups of X (lower is better).

        Parameters
        ----------
        X : array-like of shape (n_rows, n_features)
            The rows of every group.
        groups : array-like of shape (n_rows,)
            The group id of each row.

        Returns
        -------
        bic : float
            ``-2 log L + n_parameters log(n_groups)``.
        """
        scores = self._infer_groups(X, groups, SCORES)[2]
        return -2 * scores.sum() + self._n_parameters() * np.log(len(scores))

    def aic(self, X, groups=None):
        """Akaike information criterion on the groups of X (lower is better).

        Parameters
        ----------
        X : array-like of shape (n_rows, n_features)
            The rows of every group.
        groups : array-like of shape (n_rows,)
            The group id of each row.

        Returns
        -------
        aic : float
            ``-2 log L + 2 n_parameters``.
        """
        scores = self._infer_groups(X, groups, SCORES)[2]
        return -2 * scores.sum() + 2 * self._n_parameters()
