"""What skmix.io persists of each estimator, and the checks a loaded model
passes before it is built.

Each estimator is listed with the public fitted attributes that are not
saved because its ``__skmix_setstate__`` rebuilds them (``derived``) and a
check of its parameter attributes: their shapes from the number of
components ``k`` (``len(weights_)``) and of features ``d``
(``n_features_in_``), finite values, and the constraints inference relies
on (weights and probabilities on the simplex, positive scales). Other public
attributes (convergence diagnostics, per-start values) are saved and
restored as they are.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import NamedTuple

import numpy as np

from .coin import CoinMixture
from .composite import CompositeMixture, HeterogeneousMixture
from .families.grouped import LENGTH_MODELS
from .gaussian import GaussianMixtureEM
from .hierarchical import HierarchicalMixture
from .joint import JointMixture
from .nig import NIGMixture

#: Tolerance of the sums that must be 1 (weights, probability rows).
SIMPLEX_ATOL = 1e-6


class PersistError(ValueError):
    """A loaded model whose attributes are inconsistent."""


class Persisted(NamedTuple):
    """How one estimator class is saved and checked."""

    cls: type
    check: Callable
    derived: tuple = ()


def expect_array(fitted, name, shape, *, positive=False, dims=None):
    """The float array ``fitted[name]`` of ``shape``, finite (and > 0)."""
    if name not in fitted:
        raise PersistError(f"the fitted attribute {name} is missing.")
    value = fitted[name]
    if not isinstance(value, np.ndarray) or value.dtype.kind != "f":
        raise PersistError(f"{name} must be a float array.")
    if shape is not None and value.shape != tuple(shape):
        raise PersistError(
            f"{name} has shape {value.shape}, expected {tuple(shape)} for the "
            f"model's {dims or 'size'}."
        )
    if not np.all(np.isfinite(value)):
        raise PersistError(f"{name} holds NaN or infinite values.")
    if positive and not np.all(value > 0):
        raise PersistError(f"{name} must be positive.")
    return value


def expect_simplex(value, name, axis=-1):
    if np.any(value < 0) or np.any(np.abs(value.sum(axis=axis) - 1.0) > SIMPLEX_ATOL):
        raise PersistError(f"{name} must be non-negative and sum to 1.")


def sizes(fitted):
    """``(k, d)`` from ``weights_`` and ``n_features_in_``, checked."""
    weights = expect_array(fitted, "weights_", None)
    d = fitted.get("n_features_in_")
    if weights.ndim != 1 or weights.size < 1:
        raise PersistError("weights_ must be a 1-D array of at least 1 value.")
    expect_simplex(weights, "weights_")
    if not isinstance(d, int) or isinstance(d, bool) or d < 1:
        raise PersistError(f"n_features_in_ must be a positive int, got {d!r}.")
    return weights.size, d


def covariance_shape(covariance_type, k, d):
    """Shape of a covariance-like attribute (scikit-learn's four types;
    (k, d, d) for any other model)."""
    return {
        "tied": (d, d),
        "diag": (k, d),
        "spherical": (k,),
    }.get(covariance_type, (k, d, d))


def check_scales(fitted, names, covariance_type, k, d):
    """Covariance-like attributes of the right shape, with positive variances
    (diag, spherical) or positive matrix diagonals (the others)."""
    shape = covariance_shape(covariance_type, k, d)
    dims = f"covariance_type={covariance_type!r}, {k} components, {d} features"
    for name in names:
        value = expect_array(fitted, name, shape, dims=dims)
        if covariance_type not in ("diag", "spherical"):
            value = np.diagonal(value, axis1=-2, axis2=-1)
        if not np.all(value > 0):
            raise PersistError(f"{name} must have positive variances (diagonal).")


def covariance_type_of(state):
    covariance_type = state.get("covariance_type")
    if not isinstance(covariance_type, str):
        raise PersistError("the state does not name the covariance type.")
    return covariance_type


def check_gaussian(fitted, state):
    k, d = sizes(fitted)
    expect_array(fitted, "means_", (k, d))
    names = ("covariances_", "precisions_", "precisions_cholesky_")
    check_scales(fitted, names, covariance_type_of(state), k, d)


def check_nig(fitted, state):
    k, d = sizes(fitted)
    for name in ("locations_", "skewness_", "means_"):
        expect_array(fitted, name, (k, d))
    expect_array(fitted, "tail_shapes_", (k,), positive=True)
    expect_array(fitted, "covariances_", (k, d, d))
    names = ("dispersions_", "precisions_cholesky_")
    check_scales(fitted, names, covariance_type_of(state), k, d)


def check_coin(fitted, state):
    k, d = sizes(fitted)
    probabilities = expect_array(fitted, "probabilities_", (k, d))
    expect_simplex(probabilities, "probabilities_")


def check_encoded(fitted, state):
    """Composite and heterogeneous mixtures: their ``__skmix_setstate__``
    checks the column parameters against the rebuilt encoding."""
    sizes(fitted)


#: The estimators a grouped estimator's components may be.
COMPONENT_ESTIMATORS = (GaussianMixtureEM, CoinMixture, NIGMixture, CompositeMixture)


def expect_int(state, name, low):
    """The int ``state[name]``, at least ``low``."""
    value = state.get(name)
    if not isinstance(value, int) or isinstance(value, bool) or value < low:
        raise PersistError(f"{name} must be an int of at least {low}, got {value!r}.")
    return value


def expect_close(value, expected, name, what):
    """``value`` equal to ``expected`` (what the fit computes it as)."""
    if np.shape(value) != np.shape(expected) or not np.allclose(
        value, expected, rtol=0.0, atol=SIMPLEX_ATOL
    ):
        raise PersistError(f"{name} must equal {what}.")


def expect_component(fitted, name, k, d):
    """The fitted component estimator ``fitted[name]``: a flat skmix
    estimator with ``k`` components (and ``d`` features unless None)."""
    value = fitted.get(name)
    if type(value) not in COMPONENT_ESTIMATORS or "weights_" not in vars(value):
        names = ", ".join(cls.__name__ for cls in COMPONENT_ESTIMATORS)
        raise PersistError(f"{name} must be a fitted {names}; got {value!r:.80}.")
    if len(value.weights_) != k:
        raise PersistError(
            f"{name} has {len(value.weights_)} components, expected {k}."
        )
    if d is not None and value.n_features_in_ != d:
        raise PersistError(f"{name} has {value.n_features_in_} features, expected {d}.")
    if "feature_names_in_" in fitted and not np.array_equal(
        getattr(value, "feature_names_in_", None), fitted["feature_names_in_"]
    ):
        raise PersistError(f"{name} has other feature names than the model.")
    return value


def expect_reference(reference, component, k, name):
    """``reference`` (what a fit's statistics are centred on) with the
    structure the component's family gives a reference for ``k``
    components: the same named tuples, lists and None, float arrays of the
    same shapes, finite."""
    family = component._family
    width = max(
        (group.stop for group in getattr(family, "groups", ())),
        default=component.n_features_in_,
    )
    with np.errstate(all="ignore"):
        skeleton = family.reference(np.ones((1, width)), k)
    expect_like(reference, skeleton, name)


def expect_like(value, skeleton, name):
    if isinstance(skeleton, np.ndarray):
        if not (
            isinstance(value, np.ndarray)
            and value.dtype == skeleton.dtype
            and value.shape == skeleton.shape
        ):
            raise PersistError(
                f"{name} must be a {skeleton.dtype} array of shape {skeleton.shape}."
            )
        if not np.all(np.isfinite(value)):
            raise PersistError(f"{name} holds NaN or infinite values.")
    elif isinstance(skeleton, (tuple, list)):
        if type(value) is not type(skeleton) or len(value) != len(skeleton):
            raise PersistError(
                f"{name} must be a {type(skeleton).__name__} of {len(skeleton)}."
            )
        for i, (part, expected) in enumerate(zip(value, skeleton, strict=True)):
            expect_like(part, expected, f"{name}[{i}]")
    elif skeleton is None:
        if value is not None:
            raise PersistError(f"{name} must be None.")
    else:
        raise PersistError(f"{name}: a reference of type {type(skeleton)}.")


def check_length(fitted, state):
    """The hierarchical length model and its parameter ``length_``."""
    model = state.get("length_model")
    if model not in LENGTH_MODELS:
        raise PersistError(f"unknown length model {model!r}.")
    max_length = expect_int(state, "max_length", 0)
    if "length_" not in fitted:
        raise PersistError("the fitted attribute length_ is missing.")
    length = fitted["length_"]
    if model is None and length is not None:
        raise PersistError("length_ must be None without a length model.")
    if model == "poisson" and not (
        isinstance(length, float) and np.isfinite(length) and length > 0
    ):
        raise PersistError("length_ must be a positive Poisson mean.")
    if model == "categorical":
        shape = (max_length + 1,)
        expect_simplex(expect_array(fitted, "length_", shape), "length_")


def check_hierarchical(fitted, state):
    m, d = sizes(fitted)
    k = expect_int(state, "n_topics", 1)
    dims = f"{m} outer mixtures, {k} topics"
    taus = expect_array(fitted, "mixture_weights_", (m, k), dims=dims)
    expect_simplex(taus, "mixture_weights_")
    topics = expect_component(fitted, "topics_", k, d)
    expect_close(
        topics.weights_,
        fitted["weights_"] @ taus,
        "topics_.weights_",
        "weights_ @ mixture_weights_",
    )
    check_length(fitted, state)
    expect_reference(state.get("reference"), topics, k, "the topics' reference")


def check_joint(fitted, state):
    k, d = sizes(fitted)
    m = expect_int(state, "n_components_y", 1)
    dims = f"{k} components of X, {m} of Y"
    transition = expect_array(fitted, "transition_", (k, m), dims=dims)
    expect_simplex(transition, "transition_")
    weights_y = fitted["weights_"] @ transition
    for name, expected, what in (
        ("weights_x_", fitted["weights_"], "weights_"),
        ("weights_y_", weights_y, "weights_ @ transition_"),
    ):
        expect_close(expect_array(fitted, name, None), expected, name, what)
    x = expect_component(fitted, "components_x_", k, d)
    y = expect_component(fitted, "components_y_", m, None)
    expect_close(x.weights_, fitted["weights_"], "components_x_.weights_", "weights_")
    expect_close(y.weights_, weights_y, "components_y_.weights_", "weights_y_")
    references = state.get("references")
    if not (isinstance(references, tuple) and len(references) == 2):
        raise PersistError("the state needs the references of both views.")
    expect_reference(references[0], x, k, "the X reference")
    expect_reference(references[1], y, m, "the Y reference")
    check_sequences(fitted, state, y, m)


def check_sequences(fitted, state, y, m):
    """Y's length model and reference (sequences of Y) or their absence."""
    sequences = state.get("sequences")
    model = state.get("length_model_y")
    if not isinstance(sequences, bool) or model not in (None, "poisson"):
        raise PersistError("the state does not say how Y's sequences are modelled.")
    if "lengths_y_" not in fitted:
        raise PersistError("the fitted attribute lengths_y_ is missing.")
    if sequences and model == "poisson":
        lengths = expect_array(fitted, "lengths_y_", (m,))
        if np.any(lengths < 0):
            raise PersistError("lengths_y_ must be non-negative.")
    elif fitted["lengths_y_"] is not None or (model is not None and not sequences):
        raise PersistError("lengths_y_ must be None without Y's length model.")
    if sequences:
        reference = state.get("y_rows_reference")
        expect_reference(reference, y, m, "the reference of Y's rows")


ESTIMATORS = {
    "GaussianMixtureEM": Persisted(GaussianMixtureEM, check_gaussian),
    "CoinMixture": Persisted(CoinMixture, check_coin),
    "NIGMixture": Persisted(NIGMixture, check_nig),
    "CompositeMixture": Persisted(
        CompositeMixture, check_encoded, ("params_", "families_")
    ),
    "HeterogeneousMixture": Persisted(
        HeterogeneousMixture, check_encoded, ("params_",)
    ),
    "HierarchicalMixture": Persisted(HierarchicalMixture, check_hierarchical),
    "JointMixture": Persisted(JointMixture, check_joint),
}


def check_fitted(name, fitted, state):
    """Raise a ValueError if ``fitted`` cannot be the attributes of a fitted
    ``name``."""
    ESTIMATORS[name].check(fitted, state)
