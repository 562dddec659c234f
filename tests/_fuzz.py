"""The fuzz corpus of issue 23: cases, an oracle that classifies outcomes.

A *case* is an estimator, a kind of input (NaN, empty, 1e300, a float32
array, a bad hyper-parameter, ...) and the calls to make: ``fit``, then
``predict``, ``predict_proba``, ``score_samples``, ``bic``, ``sample`` (and
``impute`` / ``transform`` for the table mixtures). :func:`run_case` runs one
and classifies each call:

``ok``
    a result that passes the invariants: finite fitted attributes, weights
    and probabilities on the simplex, labels in range, no NaN output, no
    +inf score, complete imputed rows; plus the case's own expectation
    (e.g. a scaled copy of the data gives the same clusters).
``clear_error``
    a ``ValueError`` / ``TypeError`` raised by skmix or by scikit-learn's
    input and parameter validation, whose message is not a library's
    generic one and does not misdescribe the input (``"contains NaN"`` for
    data without NaN).
``unclear_error``
    a ``ValueError`` / ``TypeError`` raised inside NumPy, SciPy, numba,
    pandas or the standard library, or with a generic or wrong message.
``crash``
    any other exception (ZeroDivisionError, OverflowError, IndexError,
    SystemError, ...).
``wrong``
    a result that breaks an invariant (NaN output, a probability row not
    summing to 1, a corrupted fit).
``state_changed``
    a failed fit changed a previously fitted estimator.
``noisy``
    a correct result or clear error that also leaked NumPy's
    RuntimeWarnings (overflow, invalid value).

The same corpus serves ``tests/test_fuzz.py`` (hypothesis draws cases in
bounded time) and ``tools/fuzz_campaign.py`` (a long local campaign that
tallies the classes per estimator and case kind).
"""

from __future__ import annotations

import copy
import os
import tempfile
import warnings
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
import scipy.sparse as sp

from skmix import (
    CoinMixture,
    CompositeMixture,
    GaussianMixtureEM,
    HeterogeneousMixture,
    NIGMixture,
)
from skmix.families.columns import Binomial

N_COMPONENTS = 2

ESTIMATORS = {
    "gaussian": lambda **kw: GaussianMixtureEM(N_COMPONENTS, random_state=0, **kw),
    "nig": lambda **kw: NIGMixture(N_COMPONENTS, random_state=0, max_iter=20, **kw),
    "coin": lambda **kw: CoinMixture(N_COMPONENTS, random_state=0, **kw),
    "composite": lambda **kw: CompositeMixture(N_COMPONENTS, random_state=0, **kw),
    "heterogeneous": lambda **kw: HeterogeneousMixture(
        ("exponential", "lognormal"), random_state=0, **kw
    ),
    "heterogeneous_counts": lambda **kw: HeterogeneousMixture(
        ("poisson", "geometric"), random_state=0, **kw
    ),
    "composite_all": lambda **kw: CompositeMixture(
        N_COMPONENTS, families=ALL_FAMILIES, random_state=0, **kw
    ),
}

#: Every column family, in the order of ``base_data("composite_all")``.
ALL_FAMILIES = [
    "gaussian",
    "poisson",
    "lognormal",
    "exponential",
    "gamma",
    "geometric",
    Binomial(n_trials=10),
    "bernoulli",
    "categorical",
]


OUTCOMES = (
    "ok",
    "clear_error",
    "unclear_error",
    "crash",
    "wrong",
    "state_changed",
    "noisy",
)
#: The outcomes the corpus accepts.
ACCEPTED = {"ok", "clear_error"}


# ------------------------------------------------------------------ data
def base_data(estimator, rng, n=40, d=2):
    """Valid training data of two clusters for ``estimator``."""
    half = n // 2
    if estimator in ("gaussian", "nig"):
        centres = np.r_[np.zeros((half, d)), np.full((n - half, d), 6.0)]
        return centres + rng.normal(size=(n, d))
    if estimator == "coin":
        p = np.r_[np.tile([0.8, 0.2], (half, 1)), np.tile([0.2, 0.8], (n - half, 1))]
        counts = np.array([rng.multinomial(20, row) for row in p], dtype=np.float64)
        return counts if d == 2 else np.c_[counts, rng.poisson(3, (n, d - 2))]
    if estimator == "heterogeneous":
        return np.r_[
            rng.exponential(0.3, (half, d)), rng.lognormal(2.0, 0.3, (n - half, d))
        ]
    if estimator == "heterogeneous_counts":
        return np.r_[
            rng.poisson(1.0, (half, d)) + 1.0, rng.geometric(0.1, (n - half, d))
        ].astype(np.float64)
    z = np.r_[np.zeros(half, int), np.ones(n - half, int)]
    frame = pd.DataFrame(
        {
            "x": rng.normal(np.array([0.0, 5.0])[z]),
            "n": rng.poisson(np.array([1.0, 8.0])[z]),
            "b": rng.uniform(size=n) < np.array([0.2, 0.8])[z],
            "c": np.where(rng.uniform(size=n) < np.array([0.8, 0.2])[z], "u", "v"),
        }
    )
    if estimator == "composite_all":
        frame = frame[["x", "n"]].assign(
            l=rng.lognormal(np.array([0.0, 2.0])[z], 0.4),
            e=rng.exponential(np.array([1.0, 5.0])[z]),
            g=rng.gamma(np.array([2.0, 9.0])[z]),
            t=rng.geometric(np.array([0.7, 0.2])[z]),
            k=rng.binomial(10, np.array([0.2, 0.8])[z]),
            b=frame["b"],
            c=frame["c"],
        )
    return frame


def as_array(X):
    return X.to_numpy() if isinstance(X, pd.DataFrame) else np.asarray(X)


def numeric_view(X):
    """The numeric part of X as float (a table's 'x' and 'n')."""
    if isinstance(X, pd.DataFrame):
        return X[["x", "n"]].to_numpy(dtype=np.float64)
    return np.asarray(X, dtype=np.float64)


def with_numeric(X, values):
    """X with its numeric part replaced by ``values`` (same shape)."""
    if isinstance(X, pd.DataFrame):
        X = X.copy()
        X["x"] = values[:, 0]
        X["n"] = values[:, 1]
        return X
    return values


def is_table(estimator):
    return estimator.startswith("composite")


# ------------------------------------------------------------------ cases
@dataclass
class Case:
    """One fuzz case: what to build, what to fit, what to call after."""

    estimator: str
    kind: str
    params: dict = field(default_factory=dict)
    X: object = None
    fit_kwargs: dict = field(default_factory=dict)
    X_predict: object = None
    #: Fit the base data first (a failed fit must leave it untouched).
    prefit: object = None
    #: Facts about the input, checked against error messages.
    facts: dict = field(default_factory=dict)
    #: ``expect(estimator) -> None or why the fitted model is wrong``.
    expect: object = None
    #: Extra calls ``(method, args)`` after the standard ones.
    calls: list = field(default_factory=list)

    def describe(self):
        return f"{self.estimator}/{self.kind} params={self.params!r}"


def facts_of(X):
    values = as_array(X)
    facts = {}
    if values.dtype.kind in "biuf" and values.size:
        finite = np.isfinite(values.astype(np.float64))
        facts["has_nan"] = bool(np.isnan(values.astype(np.float64)).any())
        facts["has_inf"] = bool((~finite & ~np.isnan(values.astype(float))).any())
        if values.ndim == 2:
            facts["distinct_rows"] = int(np.unique(values, axis=0).shape[0])
    return facts


def _scale_expectation(reference_labels):
    """The fit on a rescaled copy finds the clusters of the original."""

    def expect(model, X):
        labels = model.predict(X)
        if not (
            np.array_equal(labels, reference_labels)
            or np.array_equal(labels, 1 - reference_labels)
        ):
            return "rescaled data gave other clusters"
        return None

    return expect


def _bulk_expectation(bulk):
    """One far value must not corrupt the fit of the bulk of the rows: their
    mean log-likelihood stays near a one-component fit of the bulk alone."""

    def expect(model, X):
        single = copy.deepcopy(model).set_params(warm_start=False)
        if hasattr(single, "n_components"):
            single.set_params(n_components=1)
        elif hasattr(single, "components"):
            single.set_params(components=single.components[:1])
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            reference = single.fit(bulk).score(bulk)
        got = model.score(bulk)
        if not got >= reference - 1.0:
            return f"bulk log-likelihood {got:.4g} against {reference:.4g} alone"
        return None

    return expect


BAD_PARAMS = [
    ("n_components", 0),
    ("n_components", -1),
    ("n_components", 2.5),
    ("n_components", "2"),
    ("tol", -1.0),
    ("tol", np.nan),
    ("max_iter", -1),
    ("max_iter", 1.5),
    ("n_init", 0),
    ("init_params", "bogus"),
    ("random_state", "x"),
    ("validation_fraction", 1.0),
    ("validation_fraction", np.nan),
    ("verbose_interval", 0),
    ("reg_covar", -1.0),
    ("reg_covar", np.nan),
    ("reg_covar", np.inf),
    ("covariance_type", "bogus"),
    ("alpha", -1.0),
    ("alpha", np.nan),
    ("families", ["gaussian"]),
    ("families", {"zz": "gaussian"}),
    ("families", "bogus"),
    ("missing", "bogus"),
    ("components", ()),
    ("components", ("categorical", "gaussian")),
]

EDGE_PARAMS = [
    {"max_iter": 0},
    {"max_iter": 1},
    {"max_iter": 2},
    {"max_iter": 5, "reg_covar": 0.0},
    {"reg_covar": 0.0},
    {"tol": 0.0, "max_iter": 50},
    {"tol": np.inf},
    {"n_init": 3},
    {"n_init": 3, "validation_fraction": 0.9},
    {"n_init": 2, "validation_fraction": 0.0},
    {"init_params": "random"},
    {"init_params": "random_from_data"},
    {"init_params": "k-means++"},
    {"covariance_type": "tied"},
    {"covariance_type": "diag"},
    {"covariance_type": "spherical"},
    {"warm_start": True},
    {"n_jobs": 2, "n_init": 2},
    {"reg_covar": 1e300},
    {"alpha": 1e300},
    {"fit_weights": False},
    {"missing": "model"},
    {"handle_unknown": "ignore"},
]


def _valid_for(estimator, params):
    """Whether every parameter in ``params`` is one of the estimator's."""
    names = ESTIMATORS[estimator]().get_params()
    return all(name in names for name in params)


def make_case(estimator, kind, rng, choice=0):
    """The case of ``kind`` for ``estimator``; ``choice`` picks among a
    kind's variants (a parameter, a dtype); None if the kind does not apply.
    Array estimators get 1 to 3 features (coins 2 or 3 categories)."""
    d = 2 if is_table(estimator) else int(rng.choice([1, 2, 3]))
    if estimator == "coin":
        d = max(d, 2)
    X = base_data(estimator, rng, d=d)
    case = Case(estimator, kind, X=X, facts=facts_of(X))
    case = CASE_KINDS[kind](case, rng, choice)
    if case is not None and kind in PREFIT_KINDS and choice % 2:
        case.prefit = True  # a failed fit must leave the fitted model as it was
    return case


def _kind_nan(case, rng, choice):
    values = numeric_view(case.X).copy()
    i, j = rng.randint(values.shape[0]), rng.randint(values.shape[1])
    values[i, j] = np.nan if choice % 2 == 0 else np.inf * (-1) ** (choice // 2)
    case.X = with_numeric(case.X, values)
    case.facts = facts_of(case.X)
    case.kind = "nan" if choice % 2 == 0 else "inf"
    return case


def _kind_rows(case, rng, choice):
    rows = [0, 1, 1][choice % 3]
    case.kind = ["empty", "one_row", "fewer_rows_than_components"][choice % 3]
    if choice % 3 == 2:
        case.params = (
            {"n_components": 3}
            if _valid_for(case.estimator, {"n_components": 3})
            else {"components": ("exponential",) * 3}
        )
        rows = 2
    case.X = (
        case.X[:rows] if not isinstance(case.X, pd.DataFrame) else (case.X.iloc[:rows])
    )
    case.X_predict = case.X
    return case


def _kind_degenerate(case, rng, choice):
    values = numeric_view(case.X).copy()
    variant = choice % 3
    if variant == 0:
        values[:, 0] = values[0, 0]
        case.kind = "constant_column"
    elif variant == 1:
        case.kind = "identical_rows"
        values[:] = values[0]
    else:
        case.kind = "duplicated_columns"
        if not isinstance(case.X, pd.DataFrame):
            case.X = np.c_[values, values]
            case.facts = facts_of(case.X)
            return case
        values[:, 1] = np.round(np.abs(values[:, 0]))
    case.X = with_numeric(case.X, values)
    case.facts = facts_of(case.X)
    return case


SCALES = [1e300, 1e-300, 1e155, 1e-155, 1e200]


def _kind_scale(case, rng, choice):
    scale = SCALES[choice % len(SCALES)]
    values = numeric_view(case.X)
    case.kind = f"scaled_{scale:g}"
    if case.estimator in ("coin", "heterogeneous_counts") or is_table(case.estimator):
        scaled = np.round(values * scale) if scale > 1 else values * scale
    else:
        scaled = values * scale
    case.X = with_numeric(case.X, scaled)
    case.facts = {**facts_of(case.X), "well_posed": True}
    if scale > 1 and case.estimator in ("gaussian", "nig"):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            reference = ESTIMATORS[case.estimator]().fit(values).predict(values)
        case.expect = _scale_expectation(reference)
    return case


def _kind_outlier(case, rng, choice):
    value = [1e300, 1e155, 1e100, 1e20][choice % 4]
    case.kind = f"one_value_{value:g}"
    bulk = numeric_view(case.X)
    if case.estimator in ("gaussian", "nig", "heterogeneous"):
        bulk = bulk[: bulk.shape[0] // 2]
    values = bulk.copy()
    values[rng.randint(values.shape[0]), rng.randint(values.shape[1])] = value
    if isinstance(case.X, pd.DataFrame):
        case.X = pd.DataFrame({"x": values[:, 1], "n": values[:, 1]})
        case.params = {"families": ["poisson", "exponential"]}
        bulk = pd.DataFrame({"x": bulk[:, 1], "n": bulk[:, 1]})
        keep = case.X["n"] < value
        bulk = case.X[keep]
    else:
        case.X = values
        keep = np.all(values < value, axis=1)
        bulk = values[keep]
    # The far row alone in a component is a singleton: "singleton or
    # collapsed samples" can be a true diagnosis here.
    case.facts = facts_of(case.X)
    case.expect = _bulk_expectation(bulk)
    return case


def _kind_mixed_scales(case, rng, choice):
    values = numeric_view(case.X).copy()
    values[:, 0] *= [1e200, 1e-200, 1e100][choice % 3]
    if case.estimator in ("coin", "heterogeneous_counts") or is_table(case.estimator):
        values[:, 0] = np.round(values[:, 0])
    case.X = with_numeric(case.X, values)
    case.facts = {**facts_of(case.X), "well_posed": True}
    return case


DTYPES = ["int", "bool", "float32", "object", "category", "string", "uint8"]


def _kind_dtype(case, rng, choice):
    dtype = DTYPES[choice % len(DTYPES)]
    case.kind = f"dtype_{dtype}"
    values = numeric_view(case.X)
    if dtype == "int" or dtype == "uint8":
        converted = np.round(np.abs(values)).astype(
            dtype.replace("int", "int64") if dtype == "int" else dtype
        )
    elif dtype == "bool":
        converted = values > np.median(values)
    elif dtype == "float32":
        converted = values.astype(np.float32)
    else:
        columns = [f"f{j}" for j in range(values.shape[1])]
        frame = pd.DataFrame(np.round(values, 1), columns=columns)
        if dtype == "object":
            converted = frame.astype(object).to_numpy()
        elif dtype == "category":
            converted = frame.astype("category")
        else:
            converted = frame.astype(str).astype("string")
    if isinstance(case.X, pd.DataFrame) and not isinstance(converted, pd.DataFrame):
        converted = pd.DataFrame(converted, columns=["x", "n"])
    case.X = converted
    case.facts = facts_of(case.X) if not isinstance(converted, pd.DataFrame) else {}
    return case


def _kind_sparse(case, rng, choice):
    values = numeric_view(case.X)
    case.X = [sp.csr_matrix, sp.csc_matrix, sp.coo_array][choice % 3](values)
    return case


def _kind_wrong_width(case, rng, choice):
    values = numeric_view(case.X)
    if choice % 2 == 0 or values.shape[1] == 1:
        case.X_predict = np.c_[values, values[:, :1]]
    else:
        case.X_predict = values[:, :1]
    case.kind = "wrong_width_predict"
    return case


def _kind_weights(case, rng, choice):
    n = numeric_view(case.X).shape[0]
    variant = choice % 7
    names = [
        "zero",
        "negative",
        "nan",
        "huge_range",
        "wrong_length",
        "one_positive",
        "tiny",
    ]
    case.kind = f"weights_{names[variant]}"
    weights = rng.uniform(0.5, 2.0, n)
    if variant == 0:
        weights[:] = 0
    elif variant == 1:
        weights[0] = -1
    elif variant == 2:
        weights[0] = np.nan
        case.facts["has_nan"] = True
    elif variant == 3:
        weights = 10.0 ** rng.uniform(-300, 300, n)
        case.params = {
            "init_params": ["kmeans", "random_from_data", "k-means++"][choice % 3]
        }
        case.params = case.params if _valid_for(case.estimator, case.params) else {}
    elif variant == 4:
        weights = weights[:-1]
    elif variant == 5:
        weights[:] = 0
        weights[:3] = 1
    else:
        weights *= 1e-300
    case.fit_kwargs = {"sample_weight": weights}
    return case


def _kind_bad_param(case, rng, choice):
    applicable = [(k, v) for k, v in BAD_PARAMS if _valid_for(case.estimator, {k: v})]
    name, value = applicable[choice % len(applicable)]
    case.params = {name: value}
    case.kind = "bad_param"
    case.prefit = True
    return case


def _kind_edge_param(case, rng, choice):
    applicable = [p for p in EDGE_PARAMS if _valid_for(case.estimator, p)]
    case.params = dict(applicable[choice % len(applicable)])
    case.kind = "edge_param"
    if case.params.get("warm_start"):
        case.prefit = True
    return case


def _kind_shape(case, rng, choice):
    values = numeric_view(case.X)
    case.kind = ["3d", "1d", "list_of_lists", "scalar"][choice % 4]
    case.X = [values[:, :, None], values[:, 0], values.tolist(), 3.0][choice % 4]
    return case


def _kind_layout(case, rng, choice):
    """A non-contiguous, Fortran, read-only or memory-mapped copy must give
    the same model as the C-contiguous array."""
    values = np.ascontiguousarray(numeric_view(case.X))
    variant = choice % 4
    case.kind = ["fortran", "strided", "read_only", "memmap"][variant]
    if variant == 0:
        X = np.asfortranarray(values)
    elif variant == 1:
        wide = np.repeat(values, 2, axis=1)
        X = wide[:, ::2]
    elif variant == 2:
        X = values.copy()
        X.flags.writeable = False
    else:
        handle, path = tempfile.mkstemp(suffix=".dat")
        os.close(handle)
        X = np.memmap(path, dtype=np.float64, mode="w+", shape=values.shape)
        X[:] = values
        X.flush()
        X = np.memmap(path, dtype=np.float64, mode="r", shape=values.shape)
        os.unlink(path)
    case.X = with_numeric(case.X, X) if isinstance(case.X, pd.DataFrame) else X

    def expect(model, X_fit):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            reference = copy.deepcopy(model).fit(values)
        if not np.allclose(model.predict_proba(X_fit), reference.predict_proba(values)):
            return f"{case.kind} layout gave another model"
        return None

    if not isinstance(case.X, pd.DataFrame):
        case.expect = expect
    return case


def _kind_table(case, rng, choice):
    """Table-only cases: unseen labels, columns entirely missing, labels
    that compare equal, tuple labels."""
    if not is_table(case.estimator):
        return None
    X = case.X.copy()
    variant = choice % 5
    case.kind = [
        "unseen_category",
        "column_all_missing",
        "labels_equal_across_types",
        "tuple_labels",
        "missing_everywhere",
    ][variant]
    if variant == 0:
        new = X.iloc[:3].copy()
        new["c"] = "never seen"
        case.X_predict = new
    elif variant == 1:
        X["x"] = np.nan
    elif variant == 2:
        X["c"] = np.array([True, 1, 1.0, "a"] * (len(X) // 4), dtype=object)
    elif variant == 3:
        X["c"] = [("a", 1), ("b", 2)] * (len(X) // 2)
        holed = X.iloc[:4].copy().astype(object)
        holed.iloc[0, 3] = None
        case.calls = [("impute", (holed,))]
    else:
        X = X.astype(object)
        mask = rng.uniform(size=X.shape) < 0.5
        mask[:, 0] = False
        X = X.mask(mask)
        X["x"] = X["x"].astype(float)
    case.X = X
    return case


def _kind_predict_input(case, rng, choice):
    """Valid training data; odd rows at predict time."""
    values = numeric_view(case.X).copy()
    variant = choice % 6
    case.kind = [
        "predict_nan",
        "predict_inf",
        "predict_empty",
        "predict_text",
        "predict_renamed_frame",
        "predict_far",
    ][variant]
    if variant in (0, 1):
        values[0, 0] = np.nan if variant == 0 else np.inf
        case.X_predict = with_numeric(case.X, values)
    elif variant == 2:
        case.X_predict = (
            case.X[:0] if not isinstance(case.X, pd.DataFrame) else (case.X.iloc[:0])
        )
    elif variant == 3:
        text = values.astype(object)
        text[0, 0] = "oops"
        case.X_predict = text
    elif variant == 4:
        columns = [f"f{j}" for j in range(values.shape[1])]
        case.X = (
            pd.DataFrame(values, columns=columns)
            if not isinstance(case.X, pd.DataFrame)
            else case.X
        )
        case.X_predict = case.X.rename(columns=lambda name: f"{name}_renamed")
    else:
        case.X_predict = with_numeric(case.X, values * 1e6)
    return case


def _kind_sample_args(case, rng, choice):
    """Valid fit; odd arguments to ``sample``."""
    options = [(0,), (-1,), (2.5,), ("3",), (np.int64(3),)]
    if case.estimator == "coin":
        options += [(3, np.inf), (3, -1), (3, 2.5), (3, 1e30), (3, [1, 2])]
    case.calls = [("sample", options[choice % len(options)])]
    case.kind = "sample_args"
    return case


def _kind_collapse(case, rng, choice):
    """Repeated values with ``reg_covar=0`` and few iterations: a component
    can collapse on them at the last M-step."""
    values = numeric_view(case.X).copy()
    values[: values.shape[0] // 3] = values[0]
    case.X = with_numeric(case.X, values)
    case.facts = facts_of(case.X)
    case.params = {"max_iter": [1, 2, 5, 6, 100][choice % 5]}
    if _valid_for(case.estimator, {"reg_covar": 0.0}):
        case.params["reg_covar"] = 0.0
    case.kind = f"collapse_max_iter_{case.params['max_iter']}"
    return case


#: Kinds whose odd variants fit the base data first.
PREFIT_KINDS = {"nan_inf", "rows", "sparse", "shape", "weights", "dtype", "scale"}


def _kind_table_input(case, rng, choice):
    """Odd tables: column types, names and layouts at fit or predict."""
    if not is_table(case.estimator):
        return None
    X = case.X.copy()
    n = len(X)
    variants = [
        ("datetime_column", lambda: X.assign(c=pd.date_range("2020", periods=n))),
        ("timedelta_column", lambda: X.assign(c=pd.to_timedelta(np.arange(n), "s"))),
        ("interval_column", lambda: X.assign(c=pd.cut(X["x"], 3))),
        ("numeric_categories", lambda: X.assign(c=pd.Categorical(X["n"]))),
        ("bytes_labels", lambda: X.assign(c=X["c"].map(str.encode))),
        ("long_labels", lambda: X.assign(c=X["c"] * 100_000)),
        ("int_column_names", lambda: X.set_axis(range(X.shape[1]), axis=1)),
        ("duplicate_names", lambda: X.set_axis(["x"] * X.shape[1], axis=1)),
        (
            "tuple_names",
            lambda: X.set_axis([("a", j) for j in range(X.shape[1])], axis=1),
        ),
        ("all_none_row", lambda: _with_row(X, None)),
        ("pd_na_and_nat", lambda: _with_row(X.astype(object), pd.NA)),
        ("bool_object", lambda: X.assign(b=X["b"].astype(object))),
        ("nullable_ints", lambda: X.assign(n=X["n"].astype("Int64"))),
        ("float_labels", lambda: X.assign(c=np.where(X["c"] == "u", 0.5, 1.5))),
    ]
    name, build = variants[choice % len(variants)]
    case.kind = f"table_{name}"
    case.X = build()
    predict_variants = [
        lambda: case.X[case.X.columns[::-1]],
        lambda: case.X.iloc[:, :-1],
        lambda: case.X.assign(extra=1.0),
        lambda: case.X.iloc[:5],
    ]
    if choice // len(variants) % 5:
        try:
            case.X_predict = predict_variants[choice // len(variants) % 5 - 1]()
        except Exception:  # noqa: BLE001 - a frame pandas cannot build
            case.X_predict = None
    return case


def _with_row(X, value):
    X = X.astype(object)
    X.iloc[0] = value
    return X


CASE_KINDS = {
    "table_input": _kind_table_input,
    "collapse": _kind_collapse,
    "predict_input": _kind_predict_input,
    "sample_args": _kind_sample_args,
    "nan_inf": _kind_nan,
    "rows": _kind_rows,
    "degenerate": _kind_degenerate,
    "scale": _kind_scale,
    "outlier": _kind_outlier,
    "mixed_scales": _kind_mixed_scales,
    "dtype": _kind_dtype,
    "sparse": _kind_sparse,
    "wrong_width": _kind_wrong_width,
    "weights": _kind_weights,
    "bad_param": _kind_bad_param,
    "edge_param": _kind_edge_param,
    "shape": _kind_shape,
    "layout": _kind_layout,
    "table": _kind_table,
}
