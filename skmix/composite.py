"""Composite mixtures: mixed-type tables with missing values.

:class:`CompositeMixture` models each column of a table with its own
distribution inside each component (columns independent given the
component); :class:`~skmix.heterogeneous.HeterogeneousMixture` mixes
components of different families over the same numeric columns. Both encode
the input once into a float64 table (:mod:`skmix._table`) and hand a
:class:`~skmix.families.composite.CompositeFamily` to the EM engine;
:class:`EncodedTableMixture` holds what they share.
"""

from __future__ import annotations

from numbers import Real

import numpy as np
from sklearn.base import ClassNamePrefixFeaturesOutMixin, TransformerMixin
from sklearn.exceptions import NotFittedError
from sklearn.utils._param_validation import Interval, StrOptions
from sklearn.utils.validation import check_is_fitted, validate_data

from ._auto_families import infer_family as infer_family  # noqa: F401 (was here)
from ._base import BaseMixture, StartRecipe, responsibilities_of
from ._parameters import estimator_init
from ._table import (
    TableEncoder,
    as_table_array,
    check_frame_shape,
    check_unique_names,
    is_dataframe,
)
from .families import chunk_bounds
from .families.columns import get_column_family
from .families.composite import (
    CompositeFamily,
    CompositeParams,
    EncodedTable,
    transpose_chunk,
)

#: The parameters both estimators share, as numpydoc entries.
SHARED_PARAMETERS = """\
    tol : float, default=1e-3
        Convergence threshold on the change of the mean log-likelihood.
    reg_covar : float, default=1e-6
        Non-negative variance floor of gaussian and lognormal columns,
        relative to each column's variance (of ``log x`` for a lognormal
        one), so that the fit does not depend on the columns' units:
        ``reg_covar * s_j^2`` is added to every component's variance in
        column j, where ``s_j^2`` is the column's variance over the rows
        passed to ``fit`` (weighted by ``sample_weight``; its observed
        entries). A constant column (``s_j^2 = 0``) gets ``reg_covar``
        itself; a gaussian column whose values differ but whose variance is
        below 1e-150 is refused (rescale it). A warm start keeps the
        ``s_j^2`` of the fit it continues; a fit on Dask input takes them
        from the rows drawn to the client.
    max_iter : int, default=100
        Number of EM iterations per start.
    n_init : int, default=1
        Number of starts.
    init_params : {'kmeans', 'k-means++', 'random', 'random_from_data'}, \
            default='kmeans'
        How starts are seeded from a standardised numeric encoding of the
        rows (categorical columns one-hot, missing at the column mean):
        weighted k-means on the distinct rows, k-means++ seeds, random
        distinct rows, or random responsibilities on a random subsample.
        Seeds are distinct rows, so no two components start identical.
    random_state : int, RandomState instance or None, default=None
        Seeds every start.
    warm_start : bool, default=False
        Continue from the previous fit (same encoding) in later calls to fit.
    verbose : int, default=0
        1 prints what the fit is about to do, a line as each start ends (its
        iterations, lower bound and validation score), the start EM
        continues from, and the fit's outcome, each with the seconds since
        the fit began, and a progress line whenever an EM run printed
        nothing for 5 seconds; 2 also prints every ``verbose_interval``-th
        iteration, each line opening with its start ("Start 2: ", "All
        rows: ").
    verbose_interval : int, default=10
        Iterations between progress messages at ``verbose >= 2``.
    n_jobs : int, default=None
        Threads: parallel starts for ``n_init > 1``, else parallel row chunks
        where that is faster (the fit times its first E-steps on one thread and
        on all of them). Inference on 131,072 rows or more (``score_samples``,
        ``predict_proba``, ``predict``) runs on as many threads. Results do not
        depend on ``n_jobs``.
    validation_fraction : float, default=0.1
        With ``n_init > 1``, the share of rows held out to choose the start,
        after which EM continues on all rows (sharing ``max_iter``). No row is
        held out (the starts are then compared on training log-likelihood) when
        that would leave no validation row, or fewer training rows with
        positive weight than components.
    accelerate : {None, 'squarem'}, default=None
        None runs plain EM. 'squarem' accelerates it by squared extrapolation
        (SQUAREM, step length S3) on an unconstrained parametrisation of
        every column family, falling back to the plain EM step whenever an
        extrapolated point would lower the log-likelihood: the same optimum
        in fewer E-steps. Iterations count E-steps (see
        :doc:`/user_guide/acceleration`).
"""

#: The fitted attributes both estimators share, as numpydoc entries.
SHARED_ATTRIBUTES = """\
    converged_ : bool
        Whether the selected start converged.
    n_iter_ : int
        EM iterations (E-steps) of the selected start (with a validation split: on
        the training rows, the last of them completed on the validation
        rows, plus the continuation on all rows; at most ``max_iter``).
    lower_bound_ : float
        Mean log-likelihood at the last iteration.
    lower_bounds_ : list of float
        Mean log-likelihood at every iteration, ``n_iter_`` values (with a
        validation split, the selected start's on its training rows up to
        its last iteration, which is on all rows as the continuation's are).
    start_traces_ : list of dict
        Per start, ``dict(train=..., validation=...)``: its mean
        log-likelihood at every iteration on its training rows, and on the
        validation rows (None without a split).
    n_samples_fit_ : int
        Number of rows of X in the last call to ``fit``.
    n_features_in_ : int
        Number of columns seen during fit.
    feature_names_in_ : ndarray of shape (`n_features_in_`,)
        Column names seen during fit (string names only).
"""

#: What ``%(name)s`` stands for in both estimators' docstrings.
SHARED_DOCS = {
    # A placeholder stands indented in the docstring: its first line is not.
    "shared_parameters": SHARED_PARAMETERS.lstrip(" "),
    "shared_attributes": SHARED_ATTRIBUTES.lstrip(" "),
}


class EncodedTableMixture(
    ClassNamePrefixFeaturesOutMixin, TransformerMixin, BaseMixture
):
    """Base of the mixtures over an encoded table (a composite family).

    Holds the parameters both estimators share, how their starts are seeded
    (from the table's numeric embedding, see
    :func:`~skmix.families.composite.seeded_responsibilities`), ``transform``
    and the posterior imputation of encoded rows. Subclasses encode the input
    in ``_validate_X`` and build the family in ``_make_family``.
    """

    _parameter_constraints: dict = {
        **{
            key: value
            for key, value in BaseMixture._parameter_constraints.items()
            if key != "n_components"
        },
        "reg_covar": [Interval(Real, 0.0, None, closed="left")],
    }

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.allow_nan = True
        return tags

    @property
    def _n_features_out(self):
        return len(self.weights_)

    def _get_fitted_params(self):
        return self._params

    # ----------------------------------------------------------- starts
    def _start_recipe(self, family, X):
        """Starts seeded among the distinct rows of the family's embedding
        of the table (see ``init_params``; with components of different
        families the seeded clusters are handed to the components by the
        family's ``match_clusters``)."""
        return StartRecipe(seeding="seeds")

    # ----------------------------------------------------------- outputs
    def transform(self, X):
        """Posterior probabilities of the components (features on the simplex).

        Parameters
        ----------
        X : array-like or DataFrame of shape (n_samples, n_features)
            Rows to map.

        Returns
        -------
        resp : ndarray of shape (n_samples, n_components)
            The same as :meth:`predict_proba`.
        """
        return self.predict_proba(X)

    def _infer(self, X, mode):
        try:
            return super()._infer(X, mode)
        except NotFittedError:
            raise
        except ValueError as error:
            self._raise_if_outside_support(self._validate_X(X, reset=False), error)
            raise

    def _column_name(self, position):
        """The input column of encoded column ``position``."""
        return position

    def _kept_column_variances(self):
        """The column variances that ``reg_covar`` is relative to in the fit
        a warm start continues (it keeps them, as it keeps the encoding:
        the same penalised likelihood), else None (the fit takes its rows')."""
        if self.warm_start and hasattr(self, "converged_"):
            return getattr(self._family, "column_variances", None)
        return None

    @staticmethod
    def _check_warm_columns(n_columns, n_fitted):
        """warm_start keeps the encoding of the previous fit: X must have
        its columns."""
        if n_columns != n_fitted:
            raise ValueError(
                f"warm_start=True continues the previous fit, which had "
                f"{n_fitted} columns (now {n_columns}). Set warm_start=False to "
                "start afresh."
            )

    def _raise_if_outside_support(self, codes, error):
        """Raise a ValueError naming the row, column and value if a row of
        the encoded ``codes`` lies outside the support of every component
        (``error``, the generic density-0 error, is its cause)."""
        XT = transpose_chunk(codes)
        k = len(self.weights_)
        excluded = np.zeros((k, XT.shape[1]), dtype=bool)
        first = []
        for group, outside in zip(
            self._family.groups, self._family.outside_support(XT), strict=True
        ):
            if outside is None:
                continue
            components = slice(None) if group.components is None else group.components
            excluded[components] |= outside.any(axis=0)
            first.append((group, outside))
        lost = np.flatnonzero(excluded.all(axis=0))
        if not lost.size:
            return
        row = int(lost[0])
        families_at = {}  # encoded column -> families whose support excludes it
        for group, outside in first:
            hits = np.flatnonzero(outside[:, row])
            if hits.size:
                position = group.start + int(hits[0])
                families_at.setdefault(position, []).append(group.family.name)
        reasons = [
            f"column {self._column_name(position)!r} = {float(XT[position, row])!r} "
            f"is outside the support of {' and '.join(names)}"
            for position, names in families_at.items()
        ]
        raise ValueError(
            f"Row {row} of X has density 0 under every component: "
            + "; ".join(reasons)
            + " (score_samples gives -inf there), so its component "
            "probabilities are undefined. Check the value, mark it missing "
            "(NaN), or leave the row out of predict, predict_proba, transform "
            "and impute."
        ) from error

    def _impute_codes(self, codes):
        """Encoded rows (n, d) with every NaN filled from the row's posterior,
        by chunks of the engine's ``CHUNK_SIZE`` rows."""
        try:
            return self._posterior_fill(codes)
        except ValueError as error:
            self._raise_if_outside_support(codes, error)
            raise

    def _posterior_fill(self, codes):
        params = self._params
        with np.errstate(divide="ignore"):
            log_weights = np.log(self.weights_)
        filled = []
        for start, stop in chunk_bounds(codes.shape[0]):
            chunk = codes[start:stop]
            weighted = self._family.log_prob(chunk, params) + log_weights
            resp = responsibilities_of(weighted, first_row=start)
            XT = transpose_chunk(chunk)
            with np.errstate(over="ignore", invalid="ignore"):
                guess = self._family.impute_codes(XT, params, resp)
            fill = np.isnan(XT)
            overflow = fill & ~np.isfinite(guess)
            if overflow.any():
                position, row = (int(i) for i in np.argwhere(overflow)[0])
                raise ValueError(
                    f"The imputed value of column {self._column_name(position)!r} "
                    f"in row {start + row} (its posterior mean) is beyond the "
                    "largest double: a component's fitted mean there overflows "
                    "(a lognormal's exp(meanlog + varlog / 2)). Lower reg_covar "
                    "or rescale the column."
                )
            filled.append(np.where(fill, guess, XT).T)
        return np.concatenate(filled, axis=0)


class CompositeMixture(EncodedTableMixture):
    """Mixture over mixed-type tables: one distribution per column per component.

    Inside each component the columns are independent, each with its own
    family: real values (``'gaussian'``, ``'lognormal'``, ``'exponential'``,
    ``'gamma'``), counts (``'poisson'``, ``'geometric'``, ``'binomial'``),
    yes/no values (``'bernoulli'``) and labels (``'categorical'``). Missing
    entries (NaN, None, ``pd.NA``) are integrated out, so a row with holes
    still gets a posterior, and :meth:`impute` fills the holes from it.

    Parameters
    ----------
    n_components : int, default=2
        Number of mixture components.
    families : 'auto', list or dict, default='auto'
        The family of each column: ``'auto'`` infers it (bool or two distinct
        values -> bernoulli; non-negative integers -> poisson if
        ``n_components`` Poissons can account for their spread, i.e. their
        variance within ``n_components`` groups (1-D k-means) is at most
        twice the groups' mean, else gaussian; other numbers -> gaussian;
        strings / categories / other labels -> categorical), refusing
        numbers mixed with stray text and labels that are nearly all
        distinct (identifiers); ``verbose`` prints each inferred family and
        why. As counts depend on ``n_components``, compare fits across
        ``n_components`` with fixed families (one fit's ``families_``). A
        list gives one name or family object (e.g.
        ``skmix.families.columns.Binomial(n_trials=10)``) per column; a dict
        maps column names (or indices) to families, other columns ``'auto'``.
    missing : {'ignore', 'model'}, default='ignore'
        ``'ignore'`` integrates missing entries out; ``'model'`` also fits,
        per component and column, the probability that the entry is missing
        (missingness as information).
    handle_unknown : {'error', 'ignore'}, default='error'
        An unseen label at predict time raises a ``ValueError`` naming the
        column and the value, or (``'ignore'``) is treated as missing.
    %(shared_parameters)s
    Attributes
    ----------
    weights_ : ndarray of shape (n_components,)
        Mixing weights.
    families_ : list of str
        The family of each column (after ``'auto'`` inference).
    params_ : dict
        Per column (keyed by name, or index for arrays): ``'family'``, the
        family's parameters as arrays with one row per component (e.g.
        ``'mean'`` and ``'var'``), ``'categories'`` for label columns and
        ``'missing'`` (probability of a missing entry) with
        ``missing='model'``. :meth:`params_frame` gives a tidy table.
    %(shared_attributes)s
    See Also
    --------
    HeterogeneousMixture : components of different families.
    skmix.GaussianMixtureEM : Gaussian mixtures with full covariances.

    Examples
    --------
    >>> import numpy as np
    >>> from skmix.composite import CompositeMixture
    >>> rng = np.random.RandomState(0)
    >>> x = np.r_[rng.normal(-3, 1, 100), rng.normal(3, 1, 100)]
    >>> counts = np.r_[rng.poisson(1, 100), rng.poisson(8, 100)]
    >>> X = np.column_stack([x, counts])
    >>> X[::10, 0] = np.nan
    >>> cm = CompositeMixture(2, random_state=0).fit(X)
    >>> cm.families_
    ['gaussian', 'poisson']
    >>> np.round(np.sort(cm.params_[1]["rate"]), 1)
    array([0.9, 8. ])
    >>> cm.impute(X[:1]).round(2)  # x was missing in row 0: filled in
    array([[-2.84,  1.  ]])
    """

    _parameter_constraints: dict = {
        **EncodedTableMixture._parameter_constraints,
        "n_components": BaseMixture._parameter_constraints["n_components"],
        "families": [StrOptions({"auto"}), list, tuple, dict],
        "missing": [StrOptions({"ignore", "model"})],
        "handle_unknown": [StrOptions({"error", "ignore"})],
    }

    __init__ = estimator_init(
        positional={
            "n_components": 2,
        },
        keyword={
            "families": "auto",
            "missing": "ignore",
            "handle_unknown": "error",
            "reg_covar": 1e-6,
        },
    )

    # ----------------------------------------------------------- encoding
    def _validate_X(self, X, reset):
        if not reset and isinstance(X, EncodedTable):
            return X  # rows this estimator encoded
        min_samples = 2 if reset else 1
        if is_dataframe(X):
            check_unique_names(X)
            validate_data(self, X, reset=reset, skip_check_array=True)
            check_frame_shape(X, min_samples)
        else:
            X = as_table_array(X, min_samples)
            validate_data(self, X, reset=reset, skip_check_array=True)
        if reset and not (self.warm_start and hasattr(self, "converged_")):
            encoder = TableEncoder(self.families, self.n_components)
            table = encoder.fit_transform(X)
            self._encoder = encoder
            if self.verbose:
                print(describe_families(encoder))
            return table
        if reset:
            self._check_warm_columns(X.shape[1], len(self._encoder.columns_))
        return self._encoder.transform(X, self.handle_unknown)

    # ----------------------------------------------------------- Dask input
    #: A Dask DataFrame is welcome (its partitions are encoded as they are
    #: read, on the workers).
    _accepts_dask_dataframe = True

    def _dask_block_summary(self, table):
        """Which encoded columns of one checked block have a missing entry."""
        return np.logical_or.reduce([np.isnan(b).any(axis=1) for b in table.blocks])

    def _dask_summaries(self, summaries):
        """The encoding learned from the rows drawn to the client, told which
        columns have a missing entry in any block (as a fit in memory
        learns from all rows)."""
        if not (self.warm_start and hasattr(self, "converged_")):
            self._encoder.missing_columns_ = np.logical_or.reduce(summaries)

    def _make_family(self, X):
        return CompositeFamily(
            self._encoder.groups_,
            self.n_components,
            missing=self.missing,
            reg_covar=self.reg_covar,
            missing_columns=self._encoder.missing_columns_,
            column_names=[self._column_name(p) for p in range(X.shape[1])],
            column_variances=self._kept_column_variances(),
        )

    def _column_name(self, position):
        return self._encoder.column_names_[self._encoder.order_[position]]

    # ----------------------------------------------------------- parameters
    def _set_fitted_params(self, params):
        self._params = params
        encoder = self._encoder
        self.families_ = encoder.families_
        described = {}
        position_of = {j: p for p, j in enumerate(encoder.order_)}
        for group, group_params in zip(encoder.groups_, params.groups, strict=True):
            for local in range(group.stop - group.start):
                j = encoder.order_[group.start + local]
                spec = encoder.columns_[j]
                entry = {"family": spec.family.name}
                entry.update(group.family.describe(group_params, group.conf, local))
                if "categories" in spec.state:
                    entry["categories"] = list(spec.state["categories"])
                if "n_trials" in spec.state:
                    entry["n_trials"] = spec.state["n_trials"]
                if params.missing is not None:
                    entry["missing"] = params.missing[:, position_of[j]]
                described[spec.name] = entry
        self.params_ = {spec.name: described[spec.name] for spec in encoder.columns_}

    def params_frame(self):
        """The fitted parameters as a tidy pandas DataFrame.

        Returns
        -------
        frame : pandas.DataFrame
            One row per (column, component, parameter[, level]) with columns
            ``column``, ``family``, ``component``, ``parameter``, ``level``
            and ``value``.
        """
        check_is_fitted(self)
        return _params_frame((name, entry) for name, entry in self.params_.items())

    # ----------------------------------------------------------- outputs
    def impute(self, X):
        """Fill missing entries from the posterior of each row.

        Real and count columns get the posterior-weighted mean of the
        components' means; categorical and bernoulli columns the most
        probable value under the posterior predictive. Observed entries are
        returned unchanged (an unseen label under ``handle_unknown='ignore'``
        counts as missing and is filled).

        Parameters
        ----------
        X : array-like or DataFrame of shape (n_samples, n_features)
            Rows with missing entries (NaN, None or ``pd.NA``).

        Returns
        -------
        X_filled : ndarray or DataFrame of shape (n_samples, n_features)
            A DataFrame when X is one, whose columns keep their dtypes (a
            column of integer dtype, such as ``Int64``, gets the imputed
            value rounded; a ``category`` column stays one); a float array
            when every column is numeric, else an object array.
        """
        check_is_fitted(self)
        as_frame = is_dataframe(X)
        codes = self._impute_codes(self._validate_X(X, reset=False))
        names = list(X.columns) if as_frame else None
        dtypes = list(X.dtypes) if as_frame else None
        return self._encoder.inverse_transform(codes, names, as_frame, dtypes)

    def sample(self, n_samples=1):
        """Draw random rows from the fitted mixture.

        Parameters
        ----------
        n_samples : int, default=1
            Number of rows to draw.

        Returns
        -------
        X : ndarray or DataFrame of shape (n_samples, n_features)
            The rows, grouped by component: a DataFrame when the model was
            fitted on one, otherwise an array (float when every column is
            numeric, else object). Rows are complete (no missing entries).
        y : ndarray of shape (n_samples,)
            The component of each row.
        """
        codes, y = super().sample(n_samples)
        return self._encoder.inverse_transform(codes), y

    # ----------------------------------------------------------- skmix.io
    def __skmix_getstate__(self):
        """What :mod:`skmix.io` saves beside the public attributes: the
        columns (name, family, learned state such as the categories), the
        fitted family's settings and the column parameters."""
        encoder = self._encoder
        return {
            "column_names": list(encoder.column_names_),
            "fitted_on_frame": bool(encoder.fitted_on_frame_),
            "columns": [
                {"name": spec.name, "family": spec.family, "state": spec.state}
                for spec in encoder.columns_
            ],
            "missing_columns": encoder.missing_columns_,
            "missing": self._family.missing,
            "reg_covar": self._family.reg_covar,
            "column_variances": self._family.column_variances,
            "params": self._params,
        }

    def __skmix_setstate__(self, state):
        """Rebuild the encoding, the family and the readable parameters
        after :func:`skmix.io.load` restored the public attributes."""
        columns = [
            (c["name"], get_column_family(c["family"]), dict(c["state"]))
            for c in state["columns"]
        ]
        if len(columns) != self.n_features_in_:
            raise ValueError("the number of columns differs from n_features_in_.")
        self._encoder = TableEncoder.restore(
            self.families,
            state["column_names"],
            state["fitted_on_frame"],
            columns,
            state["missing_columns"],
        )
        k = len(self.weights_)
        groups = self._encoder.groups_
        check_persisted_params(groups, state["params"], k, len(columns))
        self._family = CompositeFamily(
            groups,
            k,
            missing=state["missing"],
            reg_covar=state["reg_covar"],
            missing_columns=self._encoder.missing_columns_,
            column_variances=check_column_variances(
                groups, state.get("column_variances")
            ),
        )
        self._set_fitted_params(state["params"])


CompositeMixture.__doc__ %= SHARED_DOCS


def describe_families(encoder):
    """One line: each column's family and, where inferred, why."""
    parts = []
    for spec, reason in zip(encoder.columns_, encoder.reasons_, strict=True):
        why = "" if reason == "declared" else f" ({reason})"
        parts.append(f"{spec.name!r}: {spec.family.name}{why}")
    return "Column families: " + "; ".join(parts)


def check_column_variances(groups, variances):
    """Loaded column variances (see ``CompositeFamily.column_variances``),
    or a ValueError unless they fit the rebuilt groups: None, or per group
    None or its columns' finite non-negative variances. A file without them
    (written before they were saved) gives None: a warm start then takes
    its rows' variances."""
    if variances is None:
        return None
    if not isinstance(variances, tuple) or len(variances) != len(groups):
        raise ValueError("the column variances do not match the columns' groups.")
    for group, value in zip(groups, variances, strict=True):
        if value is None:
            continue
        value = np.asarray(value)
        if not (
            value.dtype == np.float64
            and value.shape == (group.stop - group.start,)
            and np.all(np.isfinite(value))
            and np.all(value >= 0)
        ):
            raise ValueError(
                "the column variances must be finite, non-negative and one per "
                "column of their group."
            )
    return variances


def check_persisted_params(groups, params, n_components, n_columns):
    """Raise ValueError unless loaded parameters fit the rebuilt groups: one
    tuple of finite float arrays per group, shaped (components of the group,
    its columns or, for categorical columns, its levels); kernels index them
    without bounds checks."""
    if not isinstance(params, CompositeParams) or len(params.groups) != len(groups):
        raise ValueError("the column parameters do not match the columns' groups.")
    for group, group_params in zip(groups, params.groups, strict=True):
        rows = n_components if group.components is None else len(group.components)
        width = group.stop - group.start
        if group.family.name == "categorical":
            width = int(group.conf[-1])
        for value in group_params:
            if not (
                isinstance(value, np.ndarray)
                and value.dtype.kind == "f"
                and value.shape == (rows, width)
                and np.all(np.isfinite(value))
            ):
                raise ValueError(
                    f"the {group.family.name} parameters must be finite float "
                    f"arrays of shape {(rows, width)}."
                )
    missing = params.missing
    if missing is not None and not (
        isinstance(missing, np.ndarray)
        and missing.shape == (n_components, n_columns)
        and np.all((missing >= 0) & (missing <= 1))
    ):
        raise ValueError(
            f"the missingness probabilities must lie in [0, 1], shape "
            f"{(n_components, n_columns)}."
        )


def _params_frame(items):
    import pandas as pd

    rows = []
    for name, entry in items:
        family = entry["family"]
        categories = entry.get("categories")
        for key, values in entry.items():
            if key in ("family", "categories", "n_trials"):
                continue
            values = np.asarray(values)
            for c in range(values.shape[0]):
                if values.ndim == 2:
                    for level, value in zip(categories, values[c], strict=True):
                        rows.append((name, family, c, key, level, float(value)))
                else:
                    level = None
                    if key == "p" and categories is not None:
                        level = categories[-1]
                    rows.append((name, family, c, key, level, float(values[c])))
    return pd.DataFrame(
        rows, columns=["column", "family", "component", "parameter", "level", "value"]
    )


def __getattr__(name):
    # HeterogeneousMixture lives in skmix.heterogeneous, which imports this
    # module; it stays importable from here, where it was first defined.
    if name == "HeterogeneousMixture":
        from .heterogeneous import HeterogeneousMixture

        return HeterogeneousMixture
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


__all__ = ["CompositeMixture", "HeterogeneousMixture"]  # noqa: F822 (__getattr__)
