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
from .gaussian import GaussianMixtureEM
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
}


def check_fitted(name, fitted, state):
    """Raise a ValueError if ``fitted`` cannot be the attributes of a fitted
    ``name``."""
    ESTIMATORS[name].check(fitted, state)
