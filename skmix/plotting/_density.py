"""DensityDisplay: the fitted mixture density over the data."""

from __future__ import annotations

import numpy as np
from scipy.stats import multivariate_normal

from ..gaussian import GaussianMixtureEM
from ._shared import (
    as_estimator_input,
    check_estimator_has,
    check_features,
    component_colors,
    feature_names,
    full_covariances,
    numeric_matrix,
    single_axes,
)

#: Share of the data's range added on each side of the plotted grid.
GRID_MARGIN = 0.1


def _grid(values, n_points):
    """Evaluation points over the data's range plus a margin, kept inside
    the data's sign (non-negative data: from 0 on; positive data: above 0)
    so that families with a bounded support are evaluated where they live."""
    low, high = np.min(values), np.max(values)
    span = high - low if high > low else max(abs(low), 1.0)
    start, stop = low - GRID_MARGIN * span, high + GRID_MARGIN * span
    if low > 0:
        start = max(start, low * GRID_MARGIN)
    elif low == 0:
        start = max(start, 0.0)
    return np.linspace(start, stop, n_points)


def _integer_grid(values, n_points=None):
    """Every integer over the data's range plus a margin (count data)."""
    low, high = np.min(values), np.max(values)
    margin = max(1, int(np.ceil(GRID_MARGIN * (high - low))))
    start = max(low - margin, 0) if low >= 0 else low - margin
    return np.arange(start, high + margin + 1, dtype=np.float64)


def _is_counts(values):
    return bool(np.all(values == np.round(values)))


def _is_gaussian(estimator):
    """Whether the estimator's components are Gaussians given by ``means_``
    and ``covariances_`` (so that a marginal over some features is one)."""
    return isinstance(estimator, GaussianMixtureEM)


def _component_densities(estimator, points, features, n_features):
    """``w_k p_k(x)`` at ``points`` (m, len(features)), shape (m, k).

    On all the estimator's features: ``exp(score_samples) * predict_proba``
    (any estimator). On a subset: the Gaussian marginals.
    """
    if len(features) == n_features:
        points = as_estimator_input(estimator, points)
        density = np.exp(estimator.score_samples(points))
        with np.errstate(invalid="ignore"):
            probabilities = estimator.predict_proba(points)
        return density[:, None] * np.nan_to_num(probabilities)
    covariances = full_covariances(estimator)[:, features][:, :, features]
    means = np.asarray(estimator.means_)[:, features]
    return np.column_stack(
        [
            w * multivariate_normal(m, c, allow_singular=True).pdf(points)
            for w, m, c in zip(estimator.weights_, means, covariances, strict=True)
        ]
    ).reshape(points.shape[0], -1)


class DensityDisplay:
    """The fitted mixture density over the data, as mclust's density plots.

    One feature: a histogram of the data (as a density), the mixture density
    and each weighted component ``w_k p_k(x)``. Two features: contours of
    the log density (``score_samples``) over a scatter of the data. On a
    Gaussian mixture with more features, ``features`` picks one or two and
    the marginal density is drawn; other estimators need X of one or two
    columns.

    Build it with :meth:`from_estimator`.

    Parameters
    ----------
    X : ndarray of shape (n_samples, 1 or 2)
        The data (the features shown).
    grid : tuple of ndarray
        The grid: ``(x,)`` in 1-D, ``(x, y)`` in 2-D.
    density : ndarray
        Mixture density on the grid (1-D), or log density (2-D, shape
        (len(y), len(x))).
    components : ndarray of shape (len(x), n_components) or None
        Weighted component densities on the 1-D grid.
    feature_names : list of str
        Names of the features shown.
    discrete : bool, default=False
        Whether the 1-D grid is the integers (count data): the density is
        then a probability mass, drawn with markers over unit-wide bins.

    Attributes
    ----------
    ax_ : matplotlib Axes
    figure_ : matplotlib Figure
    hist_ : list of Patch or None
        Histogram bars (1-D).
    density_line_ : Line2D or None
        The mixture density (1-D).
    component_lines_ : list of Line2D
        The weighted components (1-D).
    contour_ : ContourSet or None
        The log-density contours (2-D).
    scatter_ : PathCollection or None
        The data (2-D).
    """

    def __init__(self, X, grid, density, components, feature_names, discrete=False):
        self.X = X
        self.grid = grid
        self.density = density
        self.components = components
        self.feature_names = feature_names
        self.discrete = discrete

    @classmethod
    def from_estimator(
        cls, estimator, X, *, features=None, grid_points=200, ax=None, **plot_kwargs
    ):
        """Evaluate a fitted mixture's density around X and draw it.

        Parameters
        ----------
        estimator : fitted mixture
            Any skmix estimator with ``score_samples`` on numeric X.
        X : array-like of shape (n_samples, n_features)
            Numeric data.
        features : int or list of 1 or 2 int, default=None
            Features to show (all, when X has one or two); a subset of more
            features needs a Gaussian mixture (its marginals).
        grid_points : int, default=200
            Grid points per axis (1-D), or the square root of the grid size
            (2-D, at most 120 per axis).
        ax : Axes, default=None
            Where to draw.
        **plot_kwargs
            Passed to :meth:`plot`.

        Returns
        -------
        display : DensityDisplay
        """
        check_estimator_has(estimator, "score_samples", cls.__name__)
        values = numeric_matrix(X)
        d = values.shape[1]
        if features is None and d > 2:
            raise ValueError(
                f"X has {d} features; choose one or two with features=[i] or "
                "[i, j] (marginal densities need a GaussianMixtureEM)."
            )
        chosen = check_features(features, d)
        if len(chosen) > 2:
            raise ValueError("A density plot shows one or two features.")
        if len(chosen) < d and not _is_gaussian(estimator):
            raise ValueError(
                f"Marginal densities over features {chosen} need a "
                f"GaussianMixtureEM; {type(estimator).__name__} gives the "
                "density of all features only. Pass X with the one or two "
                "columns it was fitted on."
            )
        names = [feature_names(estimator, X, d)[j] for j in chosen]
        shown = values[:, chosen]
        if len(chosen) == 1:
            counts = _is_counts(shown[:, 0]) and not _is_gaussian(estimator)
            x = (_integer_grid if counts else _grid)(shown[:, 0], grid_points)
            components = _component_densities(estimator, x[:, None], chosen, d)
            display = cls(
                shown, (x,), components.sum(axis=1), components, names, counts
            )
        else:
            n = min(int(grid_points), 120)
            x, y = _grid(shown[:, 0], n), _grid(shown[:, 1], n)
            xx, yy = np.meshgrid(x, y)
            points = np.column_stack([xx.ravel(), yy.ravel()])
            if len(chosen) == d:
                log_density = estimator.score_samples(
                    as_estimator_input(estimator, points)
                )
            else:
                with np.errstate(divide="ignore"):
                    log_density = np.log(
                        _component_densities(estimator, points, chosen, d).sum(axis=1)
                    )
            display = cls(shown, (x, y), log_density.reshape(xx.shape), None, names)
        return display.plot(ax=ax, **plot_kwargs)

    def plot(self, ax=None, *, bins="auto", components=True, levels=12, scatter=True):
        """Draw the density.

        Parameters
        ----------
        ax : Axes, default=None
            Where to draw (a new figure by default).
        bins : int or str, default='auto'
            Histogram bins (1-D), as ``numpy.histogram``'s.
        components : bool, default=True
            Draw each weighted component (1-D).
        levels : int, default=12
            Contour levels of the log density (2-D), spread over its range
            from its maximum down to its 1st percentile on the grid.
        scatter : bool, default=True
            Draw the data under the contours (2-D).

        Returns
        -------
        display : DensityDisplay
        """
        figure, ax = single_axes(ax)
        self.hist_, self.density_line_, self.component_lines_ = None, None, []
        self.contour_, self.scatter_ = None, None
        if len(self.grid) == 1:
            self._plot_1d(ax, bins, components)
        else:
            self._plot_2d(ax, levels, scatter)
        self.ax_, self.figure_ = ax, figure
        return self

    def _plot_1d(self, ax, bins, components):
        (x,) = self.grid
        style = "o" if self.discrete else ""
        if self.discrete and isinstance(bins, str):
            bins = np.arange(x[0] - 0.5, x[-1] + 1.0)
        _, _, patches = ax.hist(
            self.X[:, 0], bins=bins, density=True, color="0.85", edgecolor="0.6"
        )
        self.hist_ = list(patches)
        if components and self.components.shape[1] > 1:
            colors = component_colors(self.components.shape[1])
            for c, color in enumerate(colors):
                (line,) = ax.plot(
                    x,
                    self.components[:, c],
                    style + "--",
                    color=color,
                    markersize=3,
                    label=f"component {c}",
                )
                self.component_lines_.append(line)
        (self.density_line_,) = ax.plot(
            x, self.density, style + "-", color="black", lw=2, label="mixture"
        )
        ax.set_xlabel(self.feature_names[0])
        ax.set_ylabel("probability" if self.discrete else "density")
        ax.legend(fontsize="small")

    def _plot_2d(self, ax, levels, scatter):
        x, y = self.grid
        finite = self.density[np.isfinite(self.density)]
        top = finite.max()
        bottom = max(np.percentile(finite, 1), top - 30.0)
        if scatter:
            self.scatter_ = ax.scatter(
                self.X[:, 0], self.X[:, 1], s=6, color="0.4", alpha=0.5, linewidths=0
            )
        self.contour_ = ax.contour(
            x,
            y,
            np.maximum(self.density, bottom),
            levels=np.linspace(bottom, top, levels + 1)[1:],
            cmap="viridis",
        )
        ax.set_xlabel(self.feature_names[0])
        ax.set_ylabel(self.feature_names[1])
        ax.set_title("log density", fontsize="medium")
