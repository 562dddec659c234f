"""What the displays share: matplotlib on demand, axes, covariances, ellipses.

Nothing here imports matplotlib at import time: ``require_matplotlib`` does,
inside the functions that draw, so that ``import skmix.plotting`` works
without the optional ``skmix[plot]`` extra.
"""

from __future__ import annotations

import numpy as np

#: Colour map of the components: a qualitative one for up to 10
#: components, a 20-colour one beyond.
COMPONENT_CMAPS = ((10, "tab10"), (20, "tab20"))


def require_matplotlib():
    """``matplotlib.pyplot``, or an ImportError that says how to install it."""
    try:
        import matplotlib.pyplot as plt
    except ImportError as error:  # pragma: no cover - depends on the install
        raise ImportError(
            "skmix.plotting draws with matplotlib, which is not installed. "
            "Install it with: python -m pip install 'skmix[plot]'"
        ) from error
    return plt


def single_axes(ax, figsize=None):
    """``(figure, ax)``: the given Axes and its figure, or a new pair."""
    plt = require_matplotlib()
    if ax is None:
        figure, ax = plt.subplots(figsize=figsize)
        return figure, ax
    return ax.figure, ax


def axes_grid(ax, n_rows, n_cols, panel_size=2.6):
    """``(figure, axes)`` with ``axes`` a 2-D array of shape (n_rows, n_cols).

    ``ax`` is None (a new figure), one Axes (allowed for a single panel) or
    an array-like of Axes with ``n_rows * n_cols`` entries.
    """
    plt = require_matplotlib()
    if ax is None:
        figure, axes = plt.subplots(
            n_rows,
            n_cols,
            figsize=(panel_size * n_cols + 0.8, panel_size * n_rows + 0.4),
            squeeze=False,
        )
        return figure, axes
    axes = np.asarray(ax, dtype=object)
    if axes.size != n_rows * n_cols:
        raise ValueError(
            f"ax holds {axes.size} Axes but this display draws {n_rows} x "
            f"{n_cols} panels; pass ax=None (a new figure) or that many Axes."
        )
    axes = axes.reshape(n_rows, n_cols)
    return axes[0, 0].figure, axes


def component_colors(n_components):
    """One RGBA colour per component."""
    plt = require_matplotlib()
    for limit, name in COMPONENT_CMAPS:
        if n_components <= limit:
            cmap = plt.get_cmap(name)
            return [cmap(k) for k in range(n_components)]
    cmap = plt.get_cmap("hsv")
    return [cmap(k / n_components) for k in range(n_components)]


def numeric_matrix(X, what="X"):
    """X as a float64 matrix (a DataFrame's values), with a clear error."""
    values = X.to_numpy() if hasattr(X, "to_numpy") else X
    try:
        values = np.asarray(values, dtype=np.float64)
    except (TypeError, ValueError) as error:
        raise ValueError(
            f"{what} must be numeric to be plotted (a number in every cell, "
            f"NaN for missing): {error}"
        ) from None
    if values.ndim == 1:
        values = values[:, None]
    if values.ndim != 2:
        raise ValueError(f"{what} must be a 2-D array, got shape {values.shape}.")
    if values.shape[0] == 0:
        raise ValueError(f"{what} has no rows: there is nothing to plot.")
    return values


def check_estimator_has(estimator, method, display):
    """Raise a TypeError unless ``estimator`` has ``method`` (what
    ``display`` computes from), rather than an AttributeError later."""
    if not callable(getattr(estimator, method, None)):
        raise TypeError(
            f"{display}.from_estimator needs a fitted estimator with {method} "
            f"(a skmix mixture, or a Pipeline ending in one); got "
            f"{type(estimator).__name__}."
        )


def feature_names(estimator, X, n_features):
    """Names of X's columns: a DataFrame's, the estimator's, or x0, x1, ..."""
    columns = getattr(X, "columns", None)
    if columns is not None and len(columns) == n_features:
        return [str(c) for c in columns]
    names = getattr(estimator, "feature_names_in_", None)
    if names is not None and len(names) == n_features:
        return [str(c) for c in names]
    return [f"x{j}" for j in range(n_features)]


def check_features(features, n_features, minimum=1):
    """Indices of the features to show (all when ``features`` is None)."""
    if features is None:
        return list(range(n_features))
    chosen = [int(j) for j in np.atleast_1d(features)]
    bad = [j for j in chosen if not 0 <= j < n_features]
    if bad or len(chosen) < minimum or len(set(chosen)) != len(chosen):
        raise ValueError(
            f"features={features!r} must list at least {minimum} distinct column "
            f"indices in [0, {n_features})."
        )
    return chosen


def full_covariances(estimator):
    """The estimator's component covariances as (n_components, d, d), or None.

    Reads the public ``covariances_`` with scikit-learn's four shapes
    (``covariance_type`` 'full' (k, d, d), 'tied' (d, d), 'diag' (k, d),
    'spherical' (k,)); any other model (mclust's names, NIG's moments)
    keeps (k, d, d). None when the estimator has no ``covariances_`` or no
    ``means_``.
    """
    covariances = getattr(estimator, "covariances_", None)
    means = getattr(estimator, "means_", None)
    if covariances is None or means is None:
        return None
    covariances = np.asarray(covariances, dtype=np.float64)
    k, d = np.shape(means)
    if covariances.ndim == 3:
        return covariances
    if covariances.ndim == 1:
        return covariances[:, None, None] * np.eye(d)
    if getattr(estimator, "covariance_type", None) == "tied" or (
        covariances.shape == (d, d) and covariances.shape != (k, d)
    ):
        return np.broadcast_to(covariances, (k, d, d)).copy()
    return covariances[:, :, None] * np.eye(d)


def ellipse_geometry(covariance_2d, n_std):
    """``(width, height, angle in degrees)`` of the ``n_std``-sigma ellipse of
    a 2 x 2 covariance: axes along its eigenvectors, half-lengths
    ``n_std * sqrt(eigenvalue)``."""
    values, vectors = np.linalg.eigh(covariance_2d)
    values = np.maximum(values, 0.0)
    angle = np.degrees(np.arctan2(vectors[1, 1], vectors[0, 1]))
    return 2 * n_std * np.sqrt(values[1]), 2 * n_std * np.sqrt(values[0]), angle


def as_estimator_input(estimator, points):
    """Points in the form the estimator was fitted on: a DataFrame with its
    column names when it was fitted on one (so that scikit-learn's check of
    feature names passes), else the array."""
    names = getattr(estimator, "feature_names_in_", None)
    if names is None or len(names) != points.shape[1]:
        return points
    import pandas as pd

    return pd.DataFrame(points, columns=list(names))


def uncertainty_of(probabilities):
    """mclust's uncertainty of each row: 1 - its largest posterior probability."""
    return 1.0 - np.max(probabilities, axis=1)
