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
    weights = check_array(
        as_numpy(weights, name), dtype=[np.float64, np.float32], ensure_2d=False
    )
    check_shape(weights, (n_components,), name)
    if np.any(weights < 0) or np.any(weights > 1):
        raise ValueError(
            f"The parameter '{name}' should be in the range [0, 1], but got max "
            f"value {weights.max():.5f}, min value {weights.min():.5f}."
        )
    # scikit-learn's tolerance: float32 weights that sum to 1 in float32
    # (np.full(3, 1 / 3, dtype=np.float32)) are normalised.
    atol = 1e-6 if weights.dtype == np.float32 else 1e-8
    total = weights.sum(dtype=np.float64)
    if not np.isclose(total, 1.0, rtol=0, atol=atol):
        raise ValueError(
            f"The parameter '{name}' should be normalized, but got "
            f"sum({name}) = {total:.5f}."
        )
    weights = weights.astype(np.float64)
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


def as_numpy(X, name="X"):
    """``X`` itself, or an array-API array (``__array_namespace__``: PyTorch,
    CuPy, array-api-strict...) converted to NumPy: skmix computes with numba
    kernels on NumPy arrays, whether or not scikit-learn's
    ``array_api_dispatch`` is on, and returns NumPy arrays. An array that
    NumPy cannot read (one in GPU memory) is a TypeError that says how to
    convert it."""
    if isinstance(X, np.ndarray) or not hasattr(X, "__array_namespace__"):
        return X
    try:
        return np.asarray(X)
    except (TypeError, ValueError, RuntimeError, AttributeError) as error:
        raise TypeError(
            f"{name} is a {type(X).__module__}.{type(X).__name__} array that "
            "NumPy cannot read; skmix computes on NumPy arrays (array-API "
            "input is converted, results are NumPy arrays). Move it to CPU "
            f"memory first, e.g. {name}.cpu().numpy() for PyTorch or "
            f"{name}.get() for CuPy. ({error})"
        ) from None


def checked_fit_data(estimator, X, sample_weight):
    """``(X, sample_weight)`` of an in-memory fit of ``estimator``,
    validated as its ``fit`` takes them (its ``_validate_X``,
    ``_check_fit_X`` and weights checks); raises what that fit raises.
    ``select_model`` asks it before any candidate runs."""
    X = estimator._validate_X(X, reset=True)
    estimator._check_fit_X(X)
    return X, estimator._checked_sample_weight(X, sample_weight)


def fitted_arrays_to_float32(estimator):
    """Round the estimator's float64 fitted arrays (public names ending in
    ``_``; not the per-start traces) to float32, as scikit-learn keeps them
    for float32 X. skmix computes in float64: see ``fields_to_float64``."""
    for name, value in list(vars(estimator).items()):
        if (
            name.endswith("_")
            and not name.startswith(("_", "start_"))
            and isinstance(value, np.ndarray)
            and value.dtype == np.float64
        ):
            setattr(estimator, name, value.astype(np.float32))


def fields_to_float64(params):
    """A named tuple of parameters with its float32 arrays in float64 (the
    kernels' dtype); anything else unchanged."""
    if not (isinstance(params, tuple) and hasattr(params, "_fields")):
        return params
    return type(params)(
        *(
            value.astype(np.float64)
            if isinstance(value, np.ndarray) and value.dtype == np.float32
            else value
            for value in params
        )
    )


def is_plain_float_matrix(X, min_samples):
    """Whether ``validate_data(X, dtype=[float64, float32])`` would return X
    itself with nothing to report: a NumPy float64 / float32 matrix (not a
    subclass) of finite values, with ``min_samples`` rows and a column.

    Finiteness is scikit-learn's first test, a finite sum; anything else
    (the element-wise test a non-finite sum calls for, or none under
    ``assume_finite``) is left to ``validate_data``.
    """
    if not (
        type(X) is np.ndarray
        and X.ndim == 2
        and X.dtype in PLAIN_DTYPES
        and X.shape[0] >= min_samples
        and X.shape[1] >= 1
    ):
        return False
    with np.errstate(over="ignore"):
        return bool(np.isfinite(X.sum()))


PLAIN_DTYPES = (np.dtype(np.float64), np.dtype(np.float32))


def weight_exponent(largest: float) -> int:
    """The power of two whose inverse brings a largest weight ``largest``
    into [1, 2): weights scaled by it (``np.ldexp(w, -exponent)``) keep
    their ratios exactly."""
    return int(np.frexp(largest)[1] - 1)


def scaled_sample_weight(sample_weight, family, n_components):
    """``sample_weight`` times the power of two that brings its largest
    value into [1, 2) (exact), when only the ratios of the weights count
    (``family.relative_weights``); refused where its range leaves fewer rows
    of positive weight than ``n_components``.

    The engine (and the Gaussian M-step) adds 10 eps to every component's
    responsibility sum, as scikit-learn does, so that an empty component
    keeps a finite log weight. Against weights of ~1e-100 that term was no
    longer negligible: the means shrank towards 0 and the lower bound moved
    by ~1e6 (the same weights times 1e100 fit as expected). Weights near
    1e308 overflowed their sums. Where the scale counts, weights whose sum
    overflows are refused instead. Below the largest weight by more than
    double precision's range, a weight becomes 0.
    """
    if family.relative_weights:
        scaled = np.ldexp(sample_weight, -weight_exponent(sample_weight.max()))
    else:
        with np.errstate(over="ignore"):
            total = sample_weight.sum()
        if not np.isfinite(total):
            raise ValueError(
                "sample_weight sums to more than the largest double (its largest "
                f"value is {sample_weight.max():g}). Divide the weights by a "
                "common factor."
            )
        scaled = sample_weight
    kept = np.count_nonzero(scaled)
    if kept < n_components:
        lost = np.count_nonzero(sample_weight) - kept
        raise ValueError(
            f"sample_weight spans more than double precision's range: "
            f"relative to the largest weight, {lost} positive weights are 0, "
            f"which leaves {kept} rows with a positive weight, fewer than "
            f"n_components={n_components}. Raise the smallest weights "
            "or use fewer components."
        )
    return scaled
