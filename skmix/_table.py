"""Table encoding of the composite mixtures: mixed-type input <-> float64 codes.

The composite family works on a float64 table whose columns are grouped by
column family (:class:`~skmix.families.composite.ColumnGroup`): label columns
hold integer codes, and a missing entry (NaN, None, ``pd.NA``) is NaN.
:class:`TableEncoder` learns at fit, from a DataFrame or an array, the family
of each column (given, or inferred for ``families='auto'``) and the family's
per-column state (categories, number of trials); it then encodes tables with
the same columns, and decodes codes back into values (``impute``,
``sample``). :class:`ComponentTableEncoder` is its counterpart for
:class:`~skmix.heterogeneous.HeterogeneousMixture`, whose numeric columns are
modelled by every component's family.
"""

from __future__ import annotations

import numpy as np
from sklearn.utils.validation import check_array

from ._auto_families import (
    check_observed,
    infer_family_why,
    is_number_type,
    real_values,
)
from .families.columns import get_column_family
from .families.composite import ColumnGroup, EncodedTable


# ---------------------------------------------------------------- input
def is_dataframe(X):
    """Whether X is a pandas DataFrame (or looks like one)."""
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
            if np.dtype(getattr(dtype, "numpy_dtype", dtype)).kind == "c":
                raise TypeError(
                    f"Column {X.columns[j]!r} is complex ({dtype}); skmix models "
                    "real numbers. Split it into real and imaginary columns."
                )
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


def as_table_array(X, ensure_min_samples):
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
    types = set(map(type, observed))
    if all(is_number_type(t) for t in types):
        out[~column.missing] = real_values(observed.tolist(), name)
        return out
    value = next(v for v in observed if not is_number_type(type(v)))
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


def _hashable(value):
    try:
        hash(value)
    except TypeError:
        return False
    return True


def check_unique_names(X):
    """A DataFrame's column names must be unique (each names a column)."""
    names = list(X.columns)
    if len(set(map(repr, names))) != len(names):
        repeated = sorted({repr(n) for n in names if names.count(n) > 1})
        raise ValueError(
            f"X has repeated column names ({', '.join(repeated)}); give each "
            "column its own name."
        )


def check_frame_shape(X, min_samples):
    """A DataFrame's shape checked as ``check_array`` checks an array's."""
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


# ---------------------------------------------------------------- encoding
class ColumnSpec:
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
        check_observed(observed, name)
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


def _assemble(columns, names, as_frame, dtypes=None):
    if as_frame:
        import pandas as pd

        frame = pd.DataFrame(dict(enumerate(columns)))
        frame.columns = pd.Index(list(names), dtype=object, tupleize_cols=False)
        if dtypes is not None:
            for j, dtype in enumerate(dtypes):
                frame[frame.columns[j]] = _as_dtype(frame.iloc[:, j], dtype)
        return frame
    if all(np.asarray(c).dtype.kind in "biuf" for c in columns):
        return np.column_stack([np.asarray(c, dtype=np.float64) for c in columns])
    out = np.empty((len(columns[0]), len(columns)), dtype=object)
    for j, c in enumerate(columns):
        out[:, j] = c
    return out


def _as_dtype(series, dtype):
    """A decoded column in the input's dtype where it holds (integer dtypes
    get rounded values: imputed counts are posterior means), else as it is."""
    from pandas.api.types import is_integer_dtype

    if is_integer_dtype(dtype) and series.dtype.kind == "f":
        series = series.round()
    try:
        return series.astype(dtype)
    except (TypeError, ValueError):
        return series


def _read_columns(X):
    """The columns of a DataFrame or of a checked array (``as_table_array``)."""
    return _dataframe_columns(X) if is_dataframe(X) else _array_columns(X)


class TableEncoder:
    """Encoding of a mixed-type table for :class:`~skmix.CompositeMixture`.

    Parameters
    ----------
    families : 'auto', list or dict, default='auto'
        The family of each column, as ``CompositeMixture``'s ``families``.
    n_components : int, default=1
        The mixture's number of components: whether that many Poissons can
        model a count column (``families='auto'``).

    Attributes
    ----------
    column_names_ : list
        The columns seen at fit: a DataFrame's names, else their indices.
    fitted_on_frame_ : bool
        Whether the encoder was fitted on a DataFrame.
    columns_ : list of ColumnSpec
        Each column's name, family and learned state, in input order.
    reasons_ : list of str
        Why each column has its family: ``'declared'``, what
        ``families='auto'`` saw, or ``'restored'`` (:meth:`restore`).
    order_ : ndarray of int64
        The input column of each encoded column (columns grouped by family).
    groups_ : list of ColumnGroup
        The composite family's column blocks, one per family.
    missing_columns_ : ndarray of bool
        Encoded columns that had a missing entry at fit.
    """

    def __init__(self, families="auto", n_components=1):
        self.families = families
        self.n_components = n_components

    @property
    def families_(self):
        """The family name of each column, in input order."""
        return [spec.family.name for spec in self.columns_]

    def fit_transform(self, X):
        """Learn the columns' families and states from X and encode it.

        Parameters
        ----------
        X : DataFrame or ndarray of shape (n_samples, n_features)
            A DataFrame, or an array checked by :func:`as_table_array`.

        Returns
        -------
        table : EncodedTable
            The encoded rows (the columns in ``order_``).
        """
        columns = _read_columns(X)
        self.fitted_on_frame_ = is_dataframe(X)
        self.column_names_ = (
            list(X.columns) if self.fitted_on_frame_ else list(range(X.shape[1]))
        )
        self._check_family_keys()
        chosen = [
            self._column_family(j, name, column)
            for j, (name, column) in enumerate(
                zip(self.column_names_, columns, strict=True)
            )
        ]
        self.columns_ = [
            ColumnSpec(name, family, None)
            for name, (family, _) in zip(self.column_names_, chosen, strict=True)
        ]
        self.reasons_ = [reason for _, reason in chosen]
        encoded = [
            _encode_column(column, spec, "error", True)
            for column, spec in zip(columns, self.columns_, strict=True)
        ]
        self.order_, self.groups_ = _layout(self.columns_)
        codes = self._arrange(encoded, columns[0].values.shape[0])
        self.missing_columns_ = np.isnan(codes).any(axis=1)
        return EncodedTable(codes)

    def transform(self, X, handle_unknown="error"):
        """Encode X with the columns learned at fit.

        Parameters
        ----------
        X : DataFrame or ndarray of shape (n_samples, n_features)
            As for :meth:`fit_transform`, with the same columns.
        handle_unknown : {'error', 'ignore'}, default='error'
            An unseen label raises a ``ValueError``, or is missing.

        Returns
        -------
        table : EncodedTable
            The encoded rows.
        """
        if self.fitted_on_frame_ and is_dataframe(X):
            self._check_names(list(X.columns))
        columns = _read_columns(X)
        encoded = [
            _encode_column(column, spec, handle_unknown, False)
            for column, spec in zip(columns, self.columns_, strict=True)
        ]
        return EncodedTable(self._arrange(encoded, columns[0].values.shape[0]))

    def inverse_transform(self, codes, names=None, as_frame=None, dtypes=None):
        """Values from encoded rows.

        Parameters
        ----------
        codes : ndarray of shape (n_samples, n_encoded_columns)
            Complete encoded rows (columns in ``order_``).
        names : list, default=None
            Column names of the result; None: ``column_names_``.
        as_frame : bool, default=None
            Return a DataFrame; None: ``fitted_on_frame_``.
        dtypes : list of dtypes, default=None
            The DataFrame's column dtypes, where they can hold the values
            (integer ones after rounding); None: the decoded values' own.

        Returns
        -------
        X : DataFrame or ndarray of shape (n_samples, n_features)
            A DataFrame, a float array when every column is numeric, else an
            object array.
        """
        columns = _decode_columns(codes, self.columns_, self.order_)
        names = self.column_names_ if names is None else names
        as_frame = self.fitted_on_frame_ if as_frame is None else as_frame
        return _assemble(columns, names, as_frame, dtypes)

    @classmethod
    def restore(cls, families, column_names, fitted_on_frame, columns, missing):
        """A fitted encoder rebuilt from what :mod:`skmix.io` saved.

        ``columns`` holds ``(name, family, state)`` of each input column (a
        column family object and its learned state); ``missing`` the encoded
        columns that had a missing entry at fit.
        """
        encoder = cls(families)
        encoder.column_names_ = list(column_names)
        encoder.fitted_on_frame_ = bool(fitted_on_frame)
        encoder.columns_ = [
            ColumnSpec(name, family, state) for name, family, state in columns
        ]
        encoder.reasons_ = ["restored"] * len(encoder.columns_)
        encoder.order_, encoder.groups_ = _layout(encoder.columns_)
        encoder.missing_columns_ = np.asarray(missing, dtype=bool)
        if encoder.missing_columns_.shape != (len(encoder.columns_),):
            raise ValueError("missing_columns must have one entry per column.")
        return encoder

    def _arrange(self, encoded, n_rows):
        """The encoded columns, in ``order_``, as one (n_columns, n_rows) array."""
        codes = np.empty((len(encoded), n_rows))
        for position, j in enumerate(self.order_):
            codes[position] = encoded[j]
        return codes

    def _column_family(self, j, name, column):
        """The family of column j and why: ``(family, reason)``."""
        spec = self.families
        if isinstance(spec, str):  # 'auto'
            choice = "auto"
        elif isinstance(spec, dict):
            choice = spec.get(name, spec.get(j, "auto"))
        else:
            if len(spec) != len(self.column_names_):
                raise ValueError(
                    f"families has {len(spec)} entries but X has "
                    f"{len(self.column_names_)} columns; give one family per "
                    "column, or a dict by column name."
                )
            choice = spec[j]
        reason = "declared"
        if isinstance(choice, str) and choice == "auto":
            choice, reason = infer_family_why(column, name, self.n_components)
        return get_column_family(choice, name), reason

    def _check_names(self, names):
        """A frame's columns must be those seen at fit, in their order
        (scikit-learn checks string names only)."""
        if names != self.column_names_:
            raise ValueError(
                f"X's columns {names!r} differ from the columns seen at fit "
                f"{self.column_names_!r}; give the same columns in the same order."
            )

    def _check_family_keys(self):
        if not isinstance(self.families, dict):
            return
        known = set(self.column_names_) | set(range(len(self.column_names_)))
        unknown = [key for key in self.families if key not in known]
        if unknown:
            raise ValueError(
                f"families names columns {unknown!r} that X does not have; "
                f"its columns are {self.column_names_!r}."
            )


class ComponentTableEncoder:
    """Numeric columns modelled by each component's family
    (:class:`~skmix.heterogeneous.HeterogeneousMixture`).

    Every column is modelled by every family, so each distinct family learns
    a state of every column (and checks its support); the encoded table is X
    itself.

    Parameters
    ----------
    component_families : list of ColumnFamily
        The family of each component (numeric families).

    Attributes
    ----------
    states_ : dict
        Per distinct family, the learned state of each column.
    groups_ : list of ColumnGroup
        One block per distinct family over every column, for the components
        of that family.
    """

    def __init__(self, component_families):
        self.component_families = component_families

    def fit_transform(self, X):
        """Learn every family's column states from X (float64, NaN missing)."""
        families = self.component_families
        distinct = list(dict.fromkeys(families))
        self.states_ = {}
        for family in distinct:
            states = []
            for j in range(X.shape[1]):
                observed = X[:, j][~np.isnan(X[:, j])]
                check_observed(observed, j)
                states.append(family.learn(observed, j))
            self.states_[family] = states
        self.groups_ = [
            ColumnGroup(
                family,
                0,
                X.shape[1],
                np.array(
                    [c for c, f in enumerate(families) if f == family],
                    dtype=np.int64,
                ),
                family.group_conf(self.states_[family]),
            )
            for family in distinct
        ]
        return X

    @classmethod
    def restore(cls, component_families, n_columns, groups):
        """A fitted encoder rebuilt from what :mod:`skmix.io` saved:
        ``groups`` holds ``(family, components, states)`` per distinct
        family (its components and the learned state of each column)."""
        encoder = cls(component_families)
        encoder.states_, encoder.groups_ = {}, []
        covered = []
        for family, components, states in groups:
            states = [dict(state) for state in states]
            if len(states) != n_columns:
                raise ValueError("each family needs one state per column.")
            components = np.asarray(components, dtype=np.int64)
            encoder.states_[family] = states
            conf = family.group_conf(states)
            encoder.groups_.append(ColumnGroup(family, 0, n_columns, components, conf))
            covered.extend(components.tolist())
        if sorted(covered) != list(range(len(component_families))):
            raise ValueError("the groups must cover every component once.")
        return encoder

    def transform(self, X):
        """Check X against every family's support; X itself."""
        for group in self.groups_:
            for j in range(X.shape[1]):
                observed = X[:, j][~np.isnan(X[:, j])]
                group.family.encode(observed, j, self.states_[group.family][j])
        return X
