"""Composite mixtures: mixed-type tables with missing values.

:class:`CompositeMixture` models each column of a table with its own
distribution inside each component (columns independent given the
component); :class:`HeterogeneousMixture` mixes components of different
families over the same numeric columns. Both encode the input once into a
float64 array (categorical labels -> integer codes, missing -> NaN) and hand
a :class:`~skmix.families.composite.CompositeFamily` to the EM engine.
"""

from __future__ import annotations

import numbers
from numbers import Real

import numpy as np
from scipy.optimize import linear_sum_assignment
from sklearn.base import ClassNamePrefixFeaturesOutMixin, TransformerMixin
from sklearn.utils._param_validation import Interval, StrOptions
from sklearn.utils.validation import check_array, check_is_fitted, validate_data

from ._base import BaseMixture, responsibilities_of
from ._engine import chunk_bounds, initialize, map_chunks
from .families.columns import get_column_family
from .families.composite import (
    ColumnGroup,
    CompositeFamily,
    CompositeParams,
    EncodedTable,
    one_hot_responsibilities,
    seeded_responsibilities,
    seeding_rows,
    transpose_chunk,
)


# ---------------------------------------------------------------- input
def _is_dataframe(X):
    return hasattr(X, "iloc") and hasattr(X, "dtypes") and hasattr(X, "columns")


def _isna_object(values):
    """Missing mask of an object array: None, NaN, pd.NA, NaT."""
    try:
        import pandas as pd
    except ImportError:  # pragma: no cover - pandas is optional
        return np.fromiter(
            (v is None or (isinstance(v, float) and v != v) for v in values),
            dtype=bool,
            count=len(values),
        )
    return np.asarray(pd.isna(values), dtype=bool)


class _Column:
    """One input column: raw values, their kind and missing mask."""

    def __init__(self, values, kind):
        self.values = values
        self.kind = kind  # 'bool', 'numeric' or 'object'
        if kind == "numeric":
            self.missing = np.isnan(values)
        elif kind == "object":
            self.missing = _isna_object(values)
        else:
            self.missing = np.zeros(values.shape[0], dtype=bool)

    def observed(self):
        if not self.missing.any():
            return self.values
        return self.values[~self.missing]


def _dataframe_columns(X):
    from pandas.api.types import is_bool_dtype, is_numeric_dtype

    columns = []
    for j in range(X.shape[1]):
        series = X.iloc[:, j]
        dtype = series.dtype
        if is_bool_dtype(dtype) and dtype == np.bool_:
            columns.append(_Column(series.to_numpy(), "bool"))
        elif is_numeric_dtype(dtype) and not is_bool_dtype(dtype):
            values = series.to_numpy()
            if values.dtype.kind not in "iu" or series.isna().any():
                values = series.to_numpy(dtype=np.float64, na_value=np.nan)
            columns.append(_Column(values, "numeric"))
        else:
            columns.append(_Column(series.to_numpy(dtype=object), "object"))
    return columns


def _array_columns(X):
    kind = {"b": "bool", "i": "numeric", "u": "numeric", "f": "numeric"}.get(
        X.dtype.kind, "object"
    )
    if kind == "numeric" and X.dtype.kind == "f":
        # One transposed copy; its rows are the columns (contiguous views).
        XT = np.ascontiguousarray(X.T, dtype=np.float64)
    else:
        XT = np.ascontiguousarray(X.T, dtype=object if kind == "object" else None)
    return [_Column(XT[j], kind) for j in range(XT.shape[0])]


def _as_array(X, ensure_min_samples):
    """check_array that keeps mixed lists as objects (not strings)."""
    if not hasattr(X, "dtype") and not hasattr(X, "__array__"):
        try:
            probe = np.asarray(X)
        except (ValueError, TypeError):
            probe = None
        if probe is not None and probe.dtype.kind in "USO":
            X = np.asarray(X, dtype=object)
    X = check_array(
        X,
        dtype=None,
        ensure_all_finite=False,
        ensure_min_samples=ensure_min_samples,
        accept_sparse=False,
    )
    if X.dtype.kind in "US":
        X = X.astype(object)
    return X


def _float_values(column, name, family):
    """Column values as float64 with NaN for missing; strings are an error."""
    if column.kind == "numeric":
        return np.asarray(column.values, dtype=np.float64)
    if column.kind == "bool":
        return column.values.astype(np.float64)
    out = np.full(column.values.shape[0], np.nan)
    observed = column.observed()
    if not all(_is_number_type(t) for t in set(map(type, observed))):
        value = next(v for v in observed if not _is_number_type(type(v)))
        if not isinstance(value, (str, bytes)) and not _hashable(value):
            raise TypeError(
                f"Column {name!r}: argument must be a string or a number, "
                f"got {type(value).__name__}."
            )
        raise ValueError(
            f"Column {name!r} is declared {family.name!r} but contains the "
            f"non-numeric value {value!r}. Declare it 'categorical', or "
            "clean the column."
        )
    out[~column.missing] = np.asarray(observed.tolist(), dtype=np.float64)
    return out


def _is_number_type(kind):
    return issubclass(kind, (numbers.Number, np.bool_))


def _hashable(value):
    try:
        hash(value)
    except TypeError:
        return False
    return True


def infer_family(column, name):
    """Family name for ``families='auto'``.

    bool -> bernoulli; numeric with exactly two distinct values ->
    bernoulli; numeric with non-negative integer values -> poisson; other
    numeric -> gaussian; strings, categories and other labels -> categorical.
    """
    if column.kind == "bool":
        return "bernoulli"
    observed = column.observed()
    if observed.shape[0] == 0:
        raise ValueError(
            f"Column {name!r} has no observed value (entirely missing); drop it "
            "before fitting."
        )
    if column.kind == "object":
        values = observed.tolist()
        types = set(map(type, values))
        if all(issubclass(t, (bool, np.bool_)) for t in types):
            return "bernoulli"
        numeric = all(
            _is_number_type(t) and not issubclass(t, (bool, np.bool_)) for t in types
        )
        if not numeric:
            for t in types:
                if (
                    not issubclass(t, (str, bytes, numbers.Number))
                    and t.__hash__ is None
                ):
                    raise TypeError(
                        f"Column {name!r}: argument must be a string or a "
                        f"number, got {t.__name__}."
                    )
            return "categorical"
        observed = np.asarray(values, dtype=np.float64)
    observed = np.asarray(observed, dtype=np.float64)
    if not np.all(np.isfinite(observed)):
        raise ValueError(
            f"Column {name!r} contains infinite values; replace them by finite "
            "values or NaN (missing)."
        )
    n_distinct = np.unique(observed).shape[0]
    if n_distinct == 2:
        return "bernoulli"
    if np.all(observed == np.round(observed)) and observed.min() >= 0:
        return "poisson"
    return "gaussian"


class _ColumnSpec:
    """A fitted column: name, family and the family's learned state."""

    def __init__(self, name, family, state):
        self.name = name
        self.family = family
        self.state = state


def _encode_column(column, spec, handle_unknown, reset):
    """Float64 codes of a column (NaN for missing); learns state at fit."""
    family, name = spec.family, spec.name
    if family.label_input:
        observed = column.observed()
    else:
        column = _Column(_float_values(column, name, family), "numeric")
        observed = column.observed()
    if reset:
        if observed.shape[0] == 0:
            raise ValueError(
                f"Column {name!r} has no observed value (entirely missing); "
                "drop it before fitting."
            )
        spec.state = family.learn(observed, name)
    if observed.shape[0] == column.values.shape[0]:  # nothing missing
        return family.encode(observed, name, spec.state, handle_unknown)
    codes = np.full(column.values.shape[0], np.nan)
    if observed.shape[0]:
        codes[~column.missing] = family.encode(
            observed, name, spec.state, handle_unknown
        )
    return codes


def _layout(specs):
    """Group columns by family: encoded column order and the column groups."""
    keys = []
    members = {}
    for j, spec in enumerate(specs):
        key = spec.family
        if key not in members:
            keys.append(key)
            members[key] = []
        members[key].append(j)
    order, groups, start = [], [], 0
    for key in keys:
        columns = members[key]
        family = specs[columns[0]].family
        conf = family.group_conf([specs[j].state for j in columns])
        groups.append(ColumnGroup(family, start, start + len(columns), None, conf))
        order.extend(columns)
        start += len(columns)
    return np.array(order, dtype=np.int64), groups


def _decode_columns(codes, specs, order):
    """Decoded columns (original order) from encoded codes (n, d)."""
    columns = [None] * len(specs)
    for position, j in enumerate(order):
        spec = specs[j]
        columns[j] = spec.family.decode(codes[:, position], spec.state)
    return columns


def _assemble(columns, names, as_frame):
    if as_frame:
        import pandas as pd

        return pd.DataFrame(dict(zip(names, columns, strict=True)), columns=list(names))
    if all(np.asarray(c).dtype.kind in "biuf" for c in columns):
        return np.column_stack([np.asarray(c, dtype=np.float64) for c in columns])
    out = np.empty((len(columns[0]), len(columns)), dtype=object)
    for j, c in enumerate(columns):
        out[:, j] = c
    return out


_SHARED_CONSTRAINTS = {
    key: value
    for key, value in BaseMixture._parameter_constraints.items()
    if key != "n_components"
}
_SHARED_CONSTRAINTS["reg"] = [Interval(Real, 0.0, None, closed="left")]


class _EncodedMixtureMixin(ClassNamePrefixFeaturesOutMixin, TransformerMixin):
    """transform / impute / sample decoding shared by both estimators."""

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.allow_nan = True
        return tags

    @property
    def _n_features_out(self):
        return len(self.weights_)

    def _init_fn(self, family, X):
        k = self._n_components()

        def init(X_part, sample_weight, rng):
            X_seed, w_seed = seeding_rows(X_part, sample_weight, rng)
            resp = seeded_responsibilities(
                self.init_params, family, X_seed, k, rng, w_seed
            )
            return initialize(family, X_seed, w_seed, resp, k)

        return init

    def _get_fitted_params(self):
        return self._params

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

    def _encoded_impute(self, codes):
        """Fill the NaN entries of encoded rows from their posterior."""
        params = self._params
        with np.errstate(divide="ignore"):
            log_weights = np.log(self.weights_)

        def one_chunk(start, stop):
            chunk = codes[start:stop]
            weighted = self._family.log_prob(chunk, params) + log_weights
            resp = responsibilities_of(weighted, first_row=start)
            XT = transpose_chunk(chunk)
            guess = self._family.impute_codes(XT, params, resp)
            return np.where(np.isnan(XT), guess, XT).T

        return np.concatenate(map_chunks(one_chunk, codes.shape[0]), axis=0)


def _check_persisted_params(groups, params, n_components, n_columns):
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


class CompositeMixture(_EncodedMixtureMixin, BaseMixture):
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
        values -> bernoulli, non-negative integers -> poisson, other numbers
        -> gaussian, strings / categories / other labels -> categorical); a
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
    tol : float, default=1e-3
        Convergence threshold on the change of the mean log-likelihood.
    reg : float, default=1e-6
        Non-negative value added to the variance of gaussian columns (and of
        ``log x`` for lognormal columns).
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
        1 prints a line as each start ends (its iterations, lower bound and
        validation score), the start EM continues from, and the fit's
        outcome; 2 also prints every ``verbose_interval``-th iteration, each
        line opening with its start ("Start 2: ", "All rows: ").
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
    converged_ : bool
        Whether the selected start converged.
    n_iter_ : int
        EM iterations of the selected start (with a validation split: on
        the training rows, the last of them completed on the validation
        rows, plus the continuation on all rows; at most ``max_iter``).
    lower_bound_ : float
        Mean log-likelihood at the last iteration.
    lower_bounds_ : list of float
        Mean log-likelihood at every iteration.
    n_samples_fit_ : int
        Number of rows of X in the last call to ``fit``.
    n_features_in_ : int
        Number of columns seen during fit.
    feature_names_in_ : ndarray of shape (`n_features_in_`,)
        Column names seen during fit (string names only).

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
        **BaseMixture._parameter_constraints,
        "families": [StrOptions({"auto"}), list, tuple, dict],
        "missing": [StrOptions({"ignore", "model"})],
        "handle_unknown": [StrOptions({"error", "ignore"})],
        "reg": [Interval(Real, 0.0, None, closed="left")],
    }

    def __init__(
        self,
        n_components=2,
        *,
        families="auto",
        missing="ignore",
        handle_unknown="error",
        tol=1e-3,
        reg=1e-6,
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
        self.families = families
        self.missing = missing
        self.handle_unknown = handle_unknown
        self.tol = tol
        self.reg = reg
        self.max_iter = max_iter
        self.n_init = n_init
        self.init_params = init_params
        self.random_state = random_state
        self.warm_start = warm_start
        self.verbose = verbose
        self.verbose_interval = verbose_interval
        self.n_jobs = n_jobs
        self.validation_fraction = validation_fraction

    # ----------------------------------------------------------- encoding
    def _column_family(self, j, name, column):
        spec = self.families
        if isinstance(spec, str):  # 'auto'
            choice = "auto"
        elif isinstance(spec, dict):
            choice = spec.get(name, spec.get(j, "auto"))
        else:
            if len(spec) != len(self._column_names):
                raise ValueError(
                    f"families has {len(spec)} entries but X has "
                    f"{len(self._column_names)} columns; give one family per "
                    "column, or a dict by column name."
                )
            choice = spec[j]
        if isinstance(choice, str) and choice == "auto":
            choice = infer_family(column, name)
        return get_column_family(choice, name)

    def _check_family_keys(self):
        if not isinstance(self.families, dict):
            return
        known = set(self._column_names) | set(range(len(self._column_names)))
        unknown = [key for key in self.families if key not in known]
        if unknown:
            raise ValueError(
                f"families names columns {unknown!r} that X does not have; "
                f"its columns are {self._column_names!r}."
            )

    def _validate_X(self, X, reset):
        warm = self.warm_start and hasattr(self, "converged_")
        learn = reset and not warm
        as_frame = _is_dataframe(X)
        if as_frame:
            validate_data(self, X, reset=reset, skip_check_array=True)
            _check_frame_shape(X, 2 if reset else 1)
            columns = _dataframe_columns(X)
        else:
            X = _as_array(X, 2 if reset else 1)
            validate_data(self, X, reset=reset, skip_check_array=True)
            columns = _array_columns(X)
        if learn:
            self._column_names = (
                list(X.columns) if as_frame else list(range(X.shape[1]))
            )
            self._check_family_keys()
            self._fitted_on_frame = as_frame
            self._columns = [
                _ColumnSpec(name, self._column_family(j, name, column), None)
                for j, (name, column) in enumerate(
                    zip(self._column_names, columns, strict=True)
                )
            ]
        handle_unknown = "error" if learn else self.handle_unknown
        encoded = [
            _encode_column(column, spec, handle_unknown, learn)
            for column, spec in zip(columns, self._columns, strict=True)
        ]
        if learn:
            self._order, self._groups = _layout(self._columns)
        codes = np.empty((len(columns), columns[0].values.shape[0]))
        for position, j in enumerate(self._order):
            codes[position] = encoded[j]
        if learn:
            self._missing_columns = np.isnan(codes).any(axis=1)
        return EncodedTable(codes)

    def _make_family(self, X):
        return CompositeFamily(
            self._groups,
            self.n_components,
            missing=self.missing,
            reg=self.reg,
            missing_columns=self._missing_columns,
        )

    # ----------------------------------------------------------- parameters
    def _set_fitted_params(self, params):
        self._params = params
        self.families_ = [spec.family.name for spec in self._columns]
        described = {}
        position_of = {j: p for p, j in enumerate(self._order)}
        for group, group_params in zip(self._groups, params.groups, strict=True):
            for local in range(group.stop - group.start):
                j = self._order[group.start + local]
                spec = self._columns[j]
                entry = {"family": spec.family.name}
                entry.update(group.family.describe(group_params, group.conf, local))
                if "categories" in spec.state:
                    entry["categories"] = list(spec.state["categories"])
                if "n_trials" in spec.state:
                    entry["n_trials"] = spec.state["n_trials"]
                if params.missing is not None:
                    entry["missing"] = params.missing[:, position_of[j]]
                described[spec.name] = entry
        self.params_ = {spec.name: described[spec.name] for spec in self._columns}

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
            A DataFrame when X is one; a float array when every column is
            numeric, else an object array.
        """
        check_is_fitted(self)
        as_frame = _is_dataframe(X)
        codes = self._encoded_impute(self._validate_X(X, reset=False))
        columns = _decode_columns(codes, self._columns, self._order)
        names = list(X.columns) if as_frame else self._column_names
        return _assemble(columns, names, as_frame)

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
        columns = _decode_columns(codes, self._columns, self._order)
        return _assemble(columns, self._column_names, self._fitted_on_frame), y

    # ----------------------------------------------------------- skmix.io
    def __skmix_getstate__(self):
        """What :mod:`skmix.io` saves beside the public attributes: the
        columns (name, family, learned state such as the categories), the
        fitted family's settings and the column parameters."""
        return {
            "column_names": list(self._column_names),
            "fitted_on_frame": bool(self._fitted_on_frame),
            "columns": [
                {"name": spec.name, "family": spec.family, "state": spec.state}
                for spec in self._columns
            ],
            "missing_columns": self._missing_columns,
            "missing": self._family.missing,
            "reg": self._family.reg,
            "params": self._params,
        }

    def __skmix_setstate__(self, state):
        """Rebuild the encoding, the family and the readable parameters
        after :func:`skmix.io.load` restored the public attributes."""
        self._column_names = list(state["column_names"])
        self._fitted_on_frame = bool(state["fitted_on_frame"])
        self._columns = [
            _ColumnSpec(c["name"], get_column_family(c["family"]), dict(c["state"]))
            for c in state["columns"]
        ]
        if len(self._columns) != self.n_features_in_:
            raise ValueError("the number of columns differs from n_features_in_.")
        self._order, self._groups = _layout(self._columns)
        self._missing_columns = np.asarray(state["missing_columns"], dtype=bool)
        if self._missing_columns.shape != (len(self._columns),):
            raise ValueError("missing_columns must have one entry per column.")
        k = len(self.weights_)
        _check_persisted_params(self._groups, state["params"], k, len(self._columns))
        self._family = CompositeFamily(
            self._groups,
            k,
            missing=state["missing"],
            reg=state["reg"],
            missing_columns=self._missing_columns,
        )
        self._set_fitted_params(state["params"])


class HeterogeneousMixture(_EncodedMixtureMixin, BaseMixture):
    """Mixture whose components come from different families.

    Component ``c`` models every column with family ``components[c]``
    (columns independent given the component), e.g. two exponentials and a
    log-normal for positive data. Families are those of
    :class:`CompositeMixture` for numeric data (``'gaussian'``,
    ``'lognormal'``, ``'exponential'``, ``'gamma'``, ``'poisson'``,
    ``'geometric'``, ``'binomial'``); every value must lie in the support of
    every component's family. Missing entries (NaN) are integrated out.

    Parameters
    ----------
    components : list of str or column family objects, \
            default=('gaussian', 'gaussian')
        The family of each component; its length is the number of
        components.
    tol : float, default=1e-3
        Convergence threshold on the change of the mean log-likelihood.
    reg : float, default=1e-6
        Added to the variances of gaussian (and of ``log x`` for lognormal)
        components.
    max_iter : int, default=100
        Number of EM iterations per start.
    n_init : int, default=1
        Number of starts.
    init_params : {'kmeans', 'k-means++', 'random', 'random_from_data'}, \
            default='kmeans'
        How starts are seeded (see :class:`CompositeMixture`).
    random_state : int, RandomState instance or None, default=None
        Seeds every start.
    warm_start : bool, default=False
        Continue from the previous fit in later calls to fit.
    verbose : int, default=0
        1 prints a line as each start ends (its iterations, lower bound and
        validation score), the start EM continues from, and the fit's
        outcome; 2 also prints every ``verbose_interval``-th iteration, each
        line opening with its start ("Start 2: ", "All rows: ").
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

    Attributes
    ----------
    weights_ : ndarray of shape (n_components,)
        Mixing weights.
    params_ : list of dict
        Per component: ``'family'`` and the family's parameters, one entry
        per column (arrays of shape (n_features,)).
    converged_, n_iter_, lower_bound_, lower_bounds_, n_samples_fit_, \
n_features_in_
        As :class:`CompositeMixture`.

    Examples
    --------
    >>> import numpy as np
    >>> from skmix.composite import HeterogeneousMixture
    >>> rng = np.random.RandomState(0)
    >>> X = np.r_[rng.exponential(0.2, 300), rng.lognormal(2, 0.3, 700)][:, None]
    >>> hm = HeterogeneousMixture(['exponential', 'lognormal'], random_state=0)
    >>> hm = hm.fit(X)
    >>> np.round(hm.weights_, 1)
    array([0.3, 0.7])
    """

    _parameter_constraints: dict = {
        **_SHARED_CONSTRAINTS,
        "components": [list, tuple],
    }

    def __init__(
        self,
        components=("gaussian", "gaussian"),
        *,
        tol=1e-3,
        reg=1e-6,
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
        self.components = components
        self.tol = tol
        self.reg = reg
        self.max_iter = max_iter
        self.n_init = n_init
        self.init_params = init_params
        self.random_state = random_state
        self.warm_start = warm_start
        self.verbose = verbose
        self.verbose_interval = verbose_interval
        self.n_jobs = n_jobs
        self.validation_fraction = validation_fraction

    def _n_components(self):
        return len(self.components)

    def _n_parameters(self):
        return self._family.n_parameters(self._params) + len(self.components) - 1

    def _component_families(self):
        if len(self.components) < 1:
            raise ValueError("components must name at least one family.")
        families = [get_column_family(spec) for spec in self.components]
        for family in families:
            if family.label_input:
                raise ValueError(
                    f"HeterogeneousMixture models numeric columns; the "
                    f"{family.name!r} family takes labels. Use CompositeMixture."
                )
        return families

    def _validate_X(self, X, reset):
        X = validate_data(
            self,
            X,
            reset=reset,
            dtype=np.float64,
            ensure_all_finite="allow-nan",
            ensure_min_samples=2 if reset else 1,
        )
        warm = self.warm_start and hasattr(self, "converged_")
        if reset and not warm:
            families = self._component_families()
            distinct = list(dict.fromkeys(families))
            self._states = {}
            for family in distinct:
                states = []
                for j in range(X.shape[1]):
                    observed = X[:, j][~np.isnan(X[:, j])]
                    if observed.shape[0] == 0:
                        raise ValueError(
                            f"Column {j} has no observed value (entirely "
                            "missing); drop it before fitting."
                        )
                    states.append(family.learn(observed, j))
                self._states[family] = states
            self._groups = [
                ColumnGroup(
                    family,
                    0,
                    X.shape[1],
                    np.array(
                        [c for c, f in enumerate(families) if f == family],
                        dtype=np.int64,
                    ),
                    family.group_conf(self._states[family]),
                )
                for family in distinct
            ]
        else:
            for group in self._groups:
                for j in range(X.shape[1]):
                    observed = X[:, j][~np.isnan(X[:, j])]
                    group.family.encode(observed, j, self._states[group.family][j])
        return X

    def _make_family(self, X):
        return CompositeFamily(self._groups, len(self.components), reg=self.reg)

    def _init_fn(self, family, X):
        k = len(self.components)

        def init(X_part, sample_weight, rng):
            X_seed, w_seed = seeding_rows(X_part, sample_weight, rng)
            resp = seeded_responsibilities(
                self.init_params, family, X_seed, k, rng, w_seed
            )
            if self.init_params != "random":
                resp = _match_clusters(family, X_seed, w_seed, resp)
            return initialize(family, X_seed, w_seed, resp, k)

        return init

    def _set_fitted_params(self, params):
        self._params = params
        described = [None] * len(self.components)
        for group, group_params in zip(self._groups, params.groups, strict=True):
            d = group.stop - group.start
            for local, c in enumerate(group.components):
                entry = {"family": group.family.name}
                for j in range(d):
                    for key, value in group.family.describe(
                        group_params, group.conf, j
                    ).items():
                        entry.setdefault(key, []).append(value[local])
                described[c] = {
                    key: (value if key == "family" else np.asarray(value))
                    for key, value in entry.items()
                }
        self.params_ = described

    def params_frame(self):
        """The fitted parameters as a tidy pandas DataFrame.

        Returns
        -------
        frame : pandas.DataFrame
            One row per (component, column, parameter) with columns
            ``column``, ``family``, ``component``, ``parameter``, ``level``
            and ``value``.
        """
        check_is_fitted(self)
        import pandas as pd

        rows = []
        for c, entry in enumerate(self.params_):
            for key, values in entry.items():
                if key == "family":
                    continue
                for j, value in enumerate(np.atleast_1d(values)):
                    rows.append((j, entry["family"], c, key, None, float(value)))
        return pd.DataFrame(
            rows,
            columns=["column", "family", "component", "parameter", "level", "value"],
        )

    def impute(self, X):
        """Fill missing entries (NaN) with their posterior-weighted means.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Rows with missing entries.

        Returns
        -------
        X_filled : ndarray of shape (n_samples, n_features)
            X with every NaN replaced.
        """
        check_is_fitted(self)
        return self._encoded_impute(self._validate_X(X, reset=False))

    # ----------------------------------------------------------- skmix.io
    def __skmix_getstate__(self):
        """What :mod:`skmix.io` saves beside the public attributes: each
        family's columns' learned states and components, the
        regularisation and the column parameters."""
        return {
            "groups": [
                {
                    "family": group.family,
                    "components": group.components,
                    "states": self._states[group.family],
                }
                for group in self._groups
            ],
            "reg": self._family.reg,
            "params": self._params,
        }

    def __skmix_setstate__(self, state):
        """Rebuild the family and the readable parameters after
        :func:`skmix.io.load` restored the public attributes."""
        d, k = self.n_features_in_, len(self.weights_)
        self._states, self._groups = {}, []
        covered = []
        for entry in state["groups"]:
            family = get_column_family(entry["family"])
            states = [dict(s) for s in entry["states"]]
            components = np.asarray(entry["components"], dtype=np.int64)
            if len(states) != d:
                raise ValueError("each family needs one state per column.")
            self._states[family] = states
            conf = family.group_conf(states)
            self._groups.append(ColumnGroup(family, 0, d, components, conf))
            covered.extend(components.tolist())
        if sorted(covered) != list(range(k)):
            raise ValueError("the groups must cover every component once.")
        _check_persisted_params(self._groups, state["params"], k, d)
        self._family = CompositeFamily(self._groups, k, reg=state["reg"])
        self._set_fitted_params(state["params"])


def _match_clusters(family, X, sample_weight, responsibilities):
    """Hand each seeded cluster to the component whose family fits it best.

    With components of different families, which cluster seeds which
    component matters: every family is fitted to every cluster and the
    clusters are assigned to components maximising the total log-likelihood
    (a linear assignment problem).
    """
    k = family.n_components
    bounds = chunk_bounds(X.shape[0])
    labels = np.concatenate(
        [responsibilities(start, stop).argmax(axis=1) for start, stop in bounds]
    )
    one_hot = one_hot_responsibilities(labels, k)
    score = np.zeros((k, k))  # cluster x component
    for group in family.groups:
        single = CompositeFamily([group._replace(components=None)], k, reg=family.reg)
        params, _ = initialize(single, X, sample_weight, one_hot, k)
        cluster_ll = np.zeros(k)
        for start, stop in bounds:
            log_prob = single.log_prob(X[start:stop], params)
            mine = log_prob[np.arange(stop - start), labels[start:stop]]
            if sample_weight is not None:
                mine = mine * sample_weight[start:stop]
            cluster_ll += np.bincount(labels[start:stop], weights=mine, minlength=k)
        score[:, group.components] = cluster_ll[:, None]
    clusters, components = linear_sum_assignment(score, maximize=True)
    mapping = np.empty(k, dtype=np.int64)
    mapping[clusters] = components
    return one_hot_responsibilities(mapping[labels], k)


def _check_frame_shape(X, min_samples):
    n_samples, n_features = X.shape
    if n_features < 1:
        raise ValueError(
            f"Found array with 0 feature(s) (shape={X.shape}) while a minimum "
            "of 1 is required."
        )
    if n_samples < min_samples:
        raise ValueError(
            f"Found array with {n_samples} sample(s) (shape={X.shape}) while a "
            f"minimum of {min_samples} is required."
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


__all__ = ["CompositeMixture", "HeterogeneousMixture"]
