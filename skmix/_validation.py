"""Input checks shared by the estimators."""

from __future__ import annotations

from numbers import Integral

import numpy as np
from sklearn.utils.validation import check_array

from ._config import MAX_SQUARED_MAGNITUDE


def check_shape(value, shape, name):
    """Raise a ValueError unless ``value.shape == shape``."""
    if value.shape != shape:
        raise ValueError(
            f"The parameter '{name}' should have the shape of {shape}, but got "
            f"{value.shape}."
        )


def check_weights_init(weights, n_components, name="weights"):
    """Mixing weights given by the user: shape, range [0, 1], sum 1."""
    weights = check_array(weights, dtype=np.float64, ensure_2d=False)
    check_shape(weights, (n_components,), name)
    if np.any(weights < 0) or np.any(weights > 1):
        raise ValueError(
            f"The parameter '{name}' should be in the range [0, 1], but got max "
            f"value {weights.max():.5f}, min value {weights.min():.5f}."
        )
    if not np.isclose(weights.sum(), 1.0, rtol=0, atol=1e-8):
        raise ValueError(
            f"The parameter '{name}' should be normalized, but got "
            f"sum({name}) = {weights.sum():.5f}."
        )
    return weights / weights.sum()


def check_n_samples(n_samples):
    """``n_samples`` of ``sample``: a positive integer."""
    if not (isinstance(n_samples, Integral) and n_samples >= 1):
        raise ValueError(
            f"Invalid value for 'n_samples': {n_samples!r}. The sampling "
            "requires at least one sample."
        )


def check_magnitude(X):
    """Raise a ValueError naming the largest value if X holds values beyond
    ``MAX_SQUARED_MAGNITUDE`` (their squares, the covariances, overflow)."""
    if not X.size:
        return
    with np.errstate(over="ignore"):
        largest = max(float(np.max(X)), -float(np.min(X)))
    if largest > MAX_SQUARED_MAGNITUDE:
        power = int(np.floor(np.log10(largest))) - 1
        raise ValueError(
            f"X holds values of magnitude up to {largest:.3g}, whose squares (the "
            "covariances) overflow double precision (the limit is "
            f"{MAX_SQUARED_MAGNITUDE:g}). Rescale X, e.g. divide it by 1e{power}."
        )
