"""ClassificationDisplay: the data coloured by component, with ellipses."""

from __future__ import annotations

import numpy as np

from ._shared import (
    axes_grid,
    check_estimator_has,
    check_features,
    component_colors,
    ellipse_geometry,
    full_covariances,
    numeric_matrix,
    uncertainty_of,
)
from ._shared import feature_names as default_feature_names


class ClassificationDisplay:
    """Scatter plots of the data coloured by most probable component.

    As mclust's ``plot(fit, what = "classification")`` and ``"uncertainty"``
    in one figure: every row is drawn in the colour of its most probable
    component, its size grows with its uncertainty ``1 - max_k p(k | x)``,
    and each component's covariance ellipses (1 and 2 standard deviations
    by default) are drawn around its mean. Two features give one panel;
    more give a scatter-plot matrix (both triangles, names on the diagonal)
    or the panels of the chosen ``pairs``.

    Build it with :meth:`from_estimator`; the constructor only stores data.

    Parameters
    ----------
    X : ndarray of shape (n_samples, n_features)
        The data to draw.
    labels : ndarray of shape (n_samples,)
        Most probable component of each row.
    uncertainty : ndarray of shape (n_samples,)
        ``1 - max_k p(k | x)`` of each row.
    means : ndarray of shape (n_components, n_features) or None
        Component means (None: no ellipses).
    covariances : ndarray of shape (n_components, n_features, n_features) or None
        Component covariances (None: no ellipses).
    feature_names : list of str
        Name of each feature.
    pairs : list of (int, int)
        The (x, y) feature index pairs to draw, one panel each.
    matrix : bool
        Whether the panels form a scatter-plot matrix of ``features``.
    features : list of int
        Features of the matrix (its rows and columns).

    Attributes
    ----------
    ax_ : matplotlib Axes
        The first panel.
    axes_ : ndarray of Axes
        Every panel, as laid out.
    figure_ : matplotlib Figure
        The figure.
    scatters_ : list of PathCollection
        One scatter per panel and component (the component's rows).
    ellipses_ : list of Ellipse
        Every ellipse drawn (panels x components x ``n_std``).
    centers_ : list of Line2D
        The component means, one marker line per panel.
    """

    def __init__(
        self,
        X,
        labels,
        uncertainty,
        means,
        covariances,
        feature_names,
        pairs,
        matrix=False,
        features=None,
    ):
        self.X = X
        self.labels = labels
        self.uncertainty = uncertainty
        self.means = means
        self.covariances = covariances
        self.feature_names = feature_names
        self.pairs = pairs
        self.matrix = matrix
        self.features = features

    @classmethod
    def from_estimator(
        cls,
        estimator,
        X,
        *,
        features=None,
        pairs=None,
        feature_names=None,
        ax=None,
        **plot_kwargs,
    ):
        """Compute the classification of X by a fitted mixture and draw it.

        Parameters
        ----------
        estimator : fitted mixture
            Any skmix estimator with ``predict_proba`` on numeric X; the
            ellipses need ``means_`` and ``covariances_``
            (:class:`~skmix.GaussianMixtureEM`, :class:`~skmix.NIGMixture`,
            whose ellipses are those of each component's covariance).
        X : array-like of shape (n_samples, n_features)
            Numeric data (as passed to ``predict_proba``).
        features : list of int, default=None
            Features of the scatter-plot matrix (all by default).
        pairs : list of (int, int), default=None
            Draw these (x feature, y feature) panels instead of a matrix.
        feature_names : list of str, default=None
            Names of X's columns; by default a DataFrame's column names, the
            estimator's ``feature_names_in_``, or ``x0, x1, ...``.
        ax : Axes or array of Axes, default=None
            Where to draw (a new figure by default).
        **plot_kwargs
            Passed to :meth:`plot`.

        Returns
        -------
        display : ClassificationDisplay
        """
        check_estimator_has(estimator, "predict_proba", cls.__name__)
        probabilities = estimator.predict_proba(X)
        values = numeric_matrix(X)
        d = values.shape[1]
        if feature_names is None:
            names = default_feature_names(estimator, X, d)
        elif len(feature_names) != d:
            raise ValueError(
                f"feature_names has {len(feature_names)} names for {d} features."
            )
        else:
            names = [str(name) for name in feature_names]
        if pairs is not None:
            pairs = [(int(i), int(j)) for i, j in pairs]
            check_features(sorted({j for pair in pairs for j in pair}), d)
            matrix, features = False, None
        else:
            features = check_features(features, d, minimum=min(d, 2))
            if len(features) == 1:
                raise ValueError(
                    "A classification plot needs two features; for one, use "
                    "DensityDisplay."
                )
            matrix = len(features) > 2
            pairs = [(features[0], features[1])] if not matrix else None
        covariances = full_covariances(estimator)
        means = None if covariances is None else np.asarray(estimator.means_, float)
        display = cls(
            values,
            np.argmax(probabilities, axis=1),
            uncertainty_of(probabilities),
            means,
            covariances,
            names,
            pairs,
            matrix=matrix,
            features=features,
        )
        return display.plot(ax=ax, **plot_kwargs)

    def _layout(self):
        """``[(row, col, (x feature, y feature) or None for a name cell)]``."""
        if self.matrix:
            n = len(self.features)
            return [
                (r, c, None if r == c else (self.features[c], self.features[r]))
                for r in range(n)
                for c in range(n)
            ], (n, n)
        n_cols = min(3, len(self.pairs))
        n_rows = -(-len(self.pairs) // n_cols)
        cells = [(p // n_cols, p % n_cols, pair) for p, pair in enumerate(self.pairs)]
        return cells, (n_rows, n_cols)

    def plot(
        self,
        ax=None,
        *,
        n_std=(1.0, 2.0),
        size_by_uncertainty=True,
        point_size=12.0,
        max_point_size=80.0,
        legend=True,
    ):
        """Draw the panels.

        Parameters
        ----------
        ax : Axes or array of Axes, default=None
            Where to draw: one Axes for one panel, else as many Axes as
            panels; a new figure by default.
        n_std : sequence of float, default=(1.0, 2.0)
            Ellipses drawn per component, in standard deviations.
        size_by_uncertainty : bool, default=True
            Grow each point with its uncertainty, from ``point_size`` (certain)
            to ``max_point_size`` (as uncertain as can be, ``1 - 1/k``).
        point_size, max_point_size : float, default=12.0, 80.0
            Marker areas in points squared.
        legend : bool, default=True
            Name the components in a legend.

        Returns
        -------
        display : ClassificationDisplay
            ``self``, with the artists stored.
        """
        cells, shape = self._layout()
        figure, axes = axes_grid(ax, *shape)
        k = int(self.labels.max()) + 1 if self.means is None else len(self.means)
        colors = component_colors(k)
        sizes = np.full(self.labels.shape, point_size)
        if size_by_uncertainty and k > 1:
            scale = np.clip(self.uncertainty / (1.0 - 1.0 / k), 0.0, 1.0)
            sizes = point_size + (max_point_size - point_size) * scale
        self.scatters_, self.ellipses_, self.centers_ = [], [], []
        used = set()
        for row, col, pair in cells:
            panel = axes[row, col]
            if pair is None:
                self._name_cell(panel, self.feature_names[self.features[row]])
                continue
            self._panel(panel, pair, colors, sizes, n_std)
            used.add((row, col))
        for row in range(shape[0]):
            for col in range(shape[1]):
                if (row, col) not in used and not self.matrix:
                    axes[row, col].set_visible(False)
        if legend:
            handles = self._legend_handles(colors)
            if len(used) == 1:
                self.scatters_[0].axes.legend(handles=handles, fontsize="small")
            else:
                figure.legend(handles=handles, loc="upper center", ncol=min(k, 6))
        top = 0.95 if legend and len(used) > 1 else 1
        figure.tight_layout(rect=(0, 0, 1, top))
        self.axes_, self.figure_ = axes, figure
        self.ax_ = axes[cells[0][0], cells[0][1]] if not self.matrix else axes[0, 1]
        return self

    @staticmethod
    def _legend_handles(colors):
        """One marker of one size per component (the points' sizes vary)."""
        from matplotlib.lines import Line2D

        return [
            Line2D(
                [], [], marker="o", linestyle="", color=color, label=f"component {c}"
            )
            for c, color in enumerate(colors)
        ]

    def _panel(self, panel, pair, colors, sizes, n_std):
        from matplotlib.patches import Ellipse

        i, j = pair
        for c, color in enumerate(colors):
            rows = self.labels == c
            self.scatters_.append(
                panel.scatter(
                    self.X[rows, i],
                    self.X[rows, j],
                    s=sizes[rows],
                    color=color,
                    alpha=0.6,
                    linewidths=0,
                    label=f"component {c}",
                )
            )
        if self.means is not None:
            for c, color in enumerate(colors):
                sub = self.covariances[c][np.ix_([i, j], [i, j])]
                for n in n_std:
                    width, height, angle = ellipse_geometry(sub, n)
                    ellipse = Ellipse(
                        (self.means[c, i], self.means[c, j]),
                        width,
                        height,
                        angle=angle,
                        fill=False,
                        edgecolor=color,
                        linewidth=1.5 if n == n_std[0] else 1.0,
                        linestyle="-" if n == n_std[0] else "--",
                    )
                    panel.add_patch(ellipse)
                    self.ellipses_.append(ellipse)
            (center,) = panel.plot(
                self.means[:, i], self.means[:, j], "k+", markersize=9, mew=1.5
            )
            self.centers_.append(center)
        if not self.matrix:
            panel.set_xlabel(self.feature_names[i])
            panel.set_ylabel(self.feature_names[j])
        panel.tick_params(labelsize="small")

    @staticmethod
    def _name_cell(panel, name):
        panel.text(0.5, 0.5, name, ha="center", va="center", transform=panel.transAxes)
        panel.set_xticks([])
        panel.set_yticks([])
