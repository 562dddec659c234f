"""CompositeProfileDisplay: what each component of a mixed table looks like."""

from __future__ import annotations

import numpy as np

from ._shared import axes_grid, component_colors, require_matplotlib

#: Families whose entries are labels: drawn as stacked level probabilities.
LABEL_FAMILIES = {"categorical", "bernoulli"}


def level_palette(n_levels):
    """Colours of a label column's levels (unlike the components')."""
    plt = require_matplotlib()
    cmap = plt.get_cmap("Set2" if n_levels <= 8 else "tab20b")
    return [cmap(i % cmap.N) for i in range(n_levels)]


def _mean_and_sd(family, p, n_trials=None):
    """Mean and standard deviation of each component's column, in the
    column's units, from the family's parameters ``p`` (name -> array of
    n_components values, as in ``params_frame()``)."""
    if family == "gaussian":
        return p["mean"], np.sqrt(p["var"])
    if family == "lognormal":
        m, v = p["meanlog"], p["varlog"]
        return np.exp(m + v / 2), np.sqrt(np.expm1(v) * np.exp(2 * m + v))
    if family == "poisson":
        return p["rate"], np.sqrt(p["rate"])
    if family == "exponential":
        return 1 / p["rate"], 1 / p["rate"]
    if family == "gamma":
        return p["shape"] / p["rate"], np.sqrt(p["shape"]) / p["rate"]
    if family == "geometric":
        return 1 / p["p"], np.sqrt(1 - p["p"]) / p["p"]
    if family == "binomial":
        return n_trials * p["p"], np.sqrt(n_trials * p["p"] * (1 - p["p"]))
    # A family this display does not know: its first parameter, no spread.
    first = next(iter(p.values()))
    return first, np.zeros_like(first)


class CompositeProfileDisplay:
    """Per column of a :class:`~skmix.CompositeMixture`, each component's profile.

    Real and count columns: each component's mean with a bar of one
    standard deviation on either side, in the column's units (from the
    family's parameters: e.g. ``exp(meanlog + varlog / 2)`` for a lognormal
    column, ``rate`` for a Poisson one). Label columns (categorical,
    bernoulli): each component's level probabilities as a stacked bar.
    With ``missing='model'`` each component's probability of a missing
    entry is written beside its name.

    Parameters
    ----------
    columns : list of dict
        Per column: ``name``, ``family``, and either ``mean`` and ``sd``
        (arrays of n_components values) or ``levels`` and ``probabilities``
        (n_components x n_levels), and ``missing`` (array or None).
    n_components : int
        Number of components.

    Attributes
    ----------
    axes_ : ndarray of Axes
        One panel per column (spare panels hidden).
    ax_ : matplotlib Axes
        The first panel.
    figure_ : matplotlib Figure
    errorbars_ : list of ErrorbarContainer
        One per real / count column and component.
    bars_ : list of BarContainer
        One per label column and level (each holds one bar per component).
    """

    def __init__(self, columns, n_components):
        self.columns = columns
        self.n_components = n_components

    @classmethod
    def from_estimator(cls, estimator, *, ax=None, **plot_kwargs):
        """Read a fitted CompositeMixture's parameters and draw its profiles.

        Parameters
        ----------
        estimator : CompositeMixture
            Fitted; its ``params_frame()`` is read.
        ax : array of Axes, default=None
            One Axes per column, or None (a new figure).
        **plot_kwargs
            Passed to :meth:`plot`.

        Returns
        -------
        display : CompositeProfileDisplay
        """
        if not hasattr(estimator, "params_frame") or not isinstance(
            getattr(estimator, "params_", None), dict
        ):
            raise ValueError(
                "CompositeProfileDisplay needs a fitted CompositeMixture (its "
                f"params_frame()); got {type(estimator).__name__}."
            )
        frame = estimator.params_frame()
        k = len(estimator.weights_)
        columns = []
        for name in frame["column"].unique():
            rows = frame[frame["column"] == name]
            columns.append(cls._column_profile(name, rows, estimator.params_[name], k))
        return cls(columns, k).plot(ax=ax, **plot_kwargs)

    @staticmethod
    def _column_profile(name, rows, entry, k):
        family = rows["family"].iloc[0]
        by_parameter = {}
        for parameter, group in rows.groupby("parameter", sort=False):
            by_parameter[parameter] = group
        missing = by_parameter.pop("missing", None)
        profile = {
            "name": name,
            "family": family,
            "missing": None if missing is None else missing["value"].to_numpy(),
        }
        if family in LABEL_FAMILIES:
            levels = list(entry["categories"])
            if family == "bernoulli":
                p = by_parameter["p"].sort_values("component")["value"].to_numpy()
                probabilities = np.column_stack([1 - p, p])
            else:
                group = by_parameter["probabilities"]
                probabilities = np.zeros((k, len(levels)))
                for _, row in group.iterrows():
                    probabilities[row["component"], levels.index(row["level"])] = row[
                        "value"
                    ]
            profile.update(levels=levels, probabilities=probabilities)
            return profile
        values = {
            parameter: group.sort_values("component")["value"].to_numpy()
            for parameter, group in by_parameter.items()
        }
        mean, sd = _mean_and_sd(family, values, entry.get("n_trials"))
        profile.update(mean=np.asarray(mean, float), sd=np.asarray(sd, float))
        return profile

    def plot(self, ax=None, *, n_cols=3):
        """Draw one panel per column.

        Parameters
        ----------
        ax : array of Axes, default=None
            As many Axes as columns (a new figure by default).
        n_cols : int, default=3
            Panels per row of a new figure.

        Returns
        -------
        display : CompositeProfileDisplay
        """
        n = len(self.columns)
        n_cols = max(1, min(n_cols, n))
        n_rows = -(-n // n_cols)
        if ax is not None and np.asarray(ax, dtype=object).size == n:
            figure, axes = axes_grid(ax, 1, n)
        else:
            figure, axes = axes_grid(ax, n_rows, n_cols, panel_size=3.0)
        flat = axes.ravel()
        for panel in flat[n:]:
            panel.set_visible(False)
        self.errorbars_, self.bars_ = [], []
        colors = component_colors(self.n_components)
        for panel, column in zip(flat, self.columns, strict=False):
            if "levels" in column:
                self._label_panel(panel, column)
            else:
                self._numeric_panel(panel, column, colors)
            ticks = [f"component {c}" for c in range(self.n_components)]
            if column["missing"] is not None:
                ticks = [
                    f"{t}\n({m:.0%} missing)"
                    for t, m in zip(ticks, column["missing"], strict=True)
                ]
            panel.set_yticks(range(self.n_components), ticks, fontsize="small")
            panel.set_ylim(-0.6, self.n_components - 0.4)
            panel.invert_yaxis()
            panel.set_title(f"{column['name']} ({column['family']})", fontsize="medium")
        figure.tight_layout()
        self.axes_, self.ax_, self.figure_ = axes, flat[0], figure
        return self

    def _numeric_panel(self, panel, column, colors):
        for c, color in enumerate(colors):
            self.errorbars_.append(
                panel.errorbar(
                    column["mean"][c],
                    c,
                    xerr=column["sd"][c],
                    fmt="o",
                    color=color,
                    capsize=4,
                )
            )
        panel.set_xlabel("mean ± 1 sd", fontsize="small")

    def _label_panel(self, panel, column):
        probabilities = column["probabilities"]
        left = np.zeros(self.n_components)
        level_colors = level_palette(len(column["levels"]))
        for index, level in enumerate(column["levels"]):
            bars = panel.barh(
                range(self.n_components),
                probabilities[:, index],
                left=left,
                color=level_colors[index],
                edgecolor="white",
                label=str(level),
            )
            self.bars_.append(bars)
            left += probabilities[:, index]
        panel.set_xlim(0, 1)
        panel.legend(
            fontsize="x-small",
            loc="upper center",
            bbox_to_anchor=(0.5, -0.12),
            ncol=min(len(column["levels"]), 4),
            frameon=False,
        )
