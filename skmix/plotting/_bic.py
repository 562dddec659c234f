"""BICDisplay: information criteria against the number of components."""

from __future__ import annotations

import numpy as np

from ._shared import require_matplotlib, single_axes

#: mclust's names of scikit-learn's four covariance types.
MCLUST_NAMES = {"full": "VVV", "tied": "EEE", "diag": "VVI", "spherical": "VII"}

#: One marker per line, in the spirit of mclust's BIC plot symbols.
MARKERS = ("o", "s", "^", "D", "v", "P", "X", "<", ">", "*", "h", "p", "d", "8")

#: Columns a selection table must have (see ``BICDisplay.from_selection``).
TABLE_COLUMNS = (
    "estimator",
    "covariance_type",
    "n_components",
    "failed",
    "degenerate",
)

CRITERIA = ("bic", "aic", "icl")


def model_label(estimator, covariance_type, several_estimators):
    """Legend name of one model: covariance type with mclust's name."""
    if covariance_type is None or (
        isinstance(covariance_type, float) and np.isnan(covariance_type)
    ):
        return str(estimator)
    name = str(covariance_type)
    if name in MCLUST_NAMES:
        name = f"{name} ({MCLUST_NAMES[name]})"
    return f"{estimator} {name}" if several_estimators else name


def _check_table(table, criteria):
    missing = [c for c in (*TABLE_COLUMNS, *criteria) if c not in table.columns]
    if missing:
        raise ValueError(
            f"The selection table lacks the columns {missing}; it needs "
            f"{list(TABLE_COLUMNS)} and the criteria drawn {list(criteria)}."
        )
    if len(table) == 0:
        raise ValueError("The selection table is empty: no candidate to draw.")


class BICDisplay:
    """BIC (or ICL, AIC) against the number of components, one line per model.

    As mclust's ``plot(fit, what = "BIC")``: one line per covariance model
    (and estimator) over ``n_components``, a gap where a fit failed, a
    hollow marker where it was degenerate (kept in the table, never chosen),
    and the chosen model circled. Criteria are in scikit-learn's sign: lower
    is better (``sign='mclust'`` draws ``-BIC``, as R does).

    Parameters
    ----------
    curves : list of dict
        Per model and criterion: ``label``, ``criterion``, ``n_components``
        (ints), ``values`` (NaN where failed) and ``degenerate`` (bools).
    best : tuple or None
        ``(n_components, value, label)`` of the chosen candidate under the
        first criterion.
    sign : {'skmix', 'mclust'}
        Whether values are drawn as they are (lower is better) or negated.

    Attributes
    ----------
    ax_ : matplotlib Axes
    figure_ : matplotlib Figure
    lines_ : dict
        ``(label, criterion) -> Line2D``, one line per model and criterion.
    degenerate_markers_ : list of Line2D
        Hollow markers of degenerate fits.
    best_marker_ : Line2D or None
        The ring around the chosen model.
    """

    def __init__(self, curves, best, sign="skmix"):
        self.curves = curves
        self.best = best
        self.sign = sign

    @classmethod
    def from_selection(cls, result, *, criteria=None, ax=None, **plot_kwargs):
        """Draw the table of a model search.

        Parameters
        ----------
        result : model-selection result
            With ``table`` (a pandas DataFrame, one row per candidate, with
            columns ``estimator``, ``covariance_type``, ``n_components``,
            ``bic``, ``aic``, ``icl``, ``failed``, ``degenerate``, ...),
            ``best_index_`` (the chosen row) and ``criterion``.
        criteria : sequence of {'bic', 'aic', 'icl'}, default=None
            Criteria drawn (the first solid, the others dashed); by default
            the search's own.
        ax : Axes, default=None
            Where to draw.
        **plot_kwargs
            Passed to :meth:`plot`.

        Returns
        -------
        display : BICDisplay
        """
        if not hasattr(result, "table"):
            raise TypeError(
                "BICDisplay.from_selection needs what select_model returns (a "
                f"ModelSelection); got {type(result).__name__}. A table alone "
                "goes to BICDisplay.from_table."
            )
        return cls.from_table(
            result.table,
            best_index=getattr(result, "best_index_", None),
            criteria=criteria or (getattr(result, "criterion", "bic"),),
            ax=ax,
            **plot_kwargs,
        )

    @classmethod
    def from_table(
        cls, table, *, best_index=None, criteria=("bic",), ax=None, **plot_kwargs
    ):
        """Draw a selection table (see :meth:`from_selection`).

        Parameters
        ----------
        table : pandas.DataFrame
            One row per candidate.
        best_index : label or int, default=None
            The chosen row (by index label, else by position); None marks
            nothing.
        criteria : sequence of {'bic', 'aic', 'icl'}, default=('bic',)
            Criteria drawn.
        ax : Axes, default=None
            Where to draw.
        **plot_kwargs
            Passed to :meth:`plot`.

        Returns
        -------
        display : BICDisplay
        """
        criteria = tuple(criteria)
        unknown = [c for c in criteria if c not in CRITERIA]
        if unknown or not criteria:
            raise ValueError(f"criteria must be among {CRITERIA}, got {criteria!r}.")
        _check_table(table, criteria)
        several = table["estimator"].nunique() > 1
        labels = [
            model_label(e, c, several)
            for e, c in zip(table["estimator"], table["covariance_type"], strict=True)
        ]
        table = table.assign(_label=labels)
        curves = []
        for label in dict.fromkeys(labels):
            rows = table[table["_label"] == label].sort_values("n_components")
            failed = rows["failed"].to_numpy(bool)
            for criterion in criteria:
                values = rows[criterion].to_numpy(np.float64).copy()
                values[failed | ~np.isfinite(values)] = np.nan
                curves.append(
                    dict(
                        label=label,
                        criterion=criterion,
                        n_components=rows["n_components"].to_numpy(int),
                        values=values,
                        degenerate=rows["degenerate"].to_numpy(bool),
                    )
                )
        best = None
        if best_index is not None:
            row = (
                table.loc[best_index]
                if best_index in table.index
                else table.iloc[best_index]
            )
            best = (int(row["n_components"]), float(row[criteria[0]]), row["_label"])
        return cls(curves, best).plot(ax=ax, **plot_kwargs)

    def plot(self, ax=None, *, sign=None, legend=True):
        """Draw the lines.

        Parameters
        ----------
        ax : Axes, default=None
            Where to draw (a new figure by default).
        sign : {'skmix', 'mclust'}, default=None
            'skmix' draws the criteria as they are (lower is better),
            'mclust' negated (higher is better, as R's mclust); by default
            the display's.
        legend : bool, default=True
            Name the models in a legend.

        Returns
        -------
        display : BICDisplay
        """
        plt = require_matplotlib()
        sign = self.sign if sign is None else sign
        if sign not in ("skmix", "mclust"):
            raise ValueError(f"sign must be 'skmix' or 'mclust', got {sign!r}.")
        factor = -1.0 if sign == "mclust" else 1.0
        figure, ax = single_axes(ax, figsize=(8.0, 4.8))
        models = list(dict.fromkeys(curve["label"] for curve in self.curves))
        criteria = list(dict.fromkeys(curve["criterion"] for curve in self.curves))
        cmap = plt.get_cmap("tab10" if len(models) <= 10 else "tab20")
        style = {
            label: (cmap(i % cmap.N), MARKERS[i % len(MARKERS)])
            for i, label in enumerate(models)
        }
        self.lines_, self.degenerate_markers_ = {}, []
        for curve in self.curves:
            color, marker = style[curve["label"]]
            first = curve["criterion"] == criteria[0]
            values = factor * curve["values"]
            shown = np.where(curve["degenerate"], np.nan, values)
            name = (
                curve["label"]
                if len(criteria) == 1
                else (f"{curve['label']} {curve['criterion'].upper()}")
            )
            (line,) = ax.plot(
                curve["n_components"],
                shown,
                linestyle="-" if first else "--",
                marker=marker,
                color=color,
                markerfacecolor=color if first else "white",
                label=name,
            )
            self.lines_[(curve["label"], curve["criterion"])] = line
            if curve["degenerate"].any():
                (hollow,) = ax.plot(
                    curve["n_components"][curve["degenerate"]],
                    values[curve["degenerate"]],
                    linestyle="none",
                    marker=marker,
                    markerfacecolor="none",
                    markeredgecolor=color,
                    alpha=0.6,
                    label=None
                    if self.degenerate_markers_
                    else "degenerate fit (never chosen)",
                )
                self.degenerate_markers_.append(hollow)
        self.best_marker_ = None
        if self.best is not None:
            g, value, label = self.best
            (self.best_marker_,) = ax.plot(
                [g],
                [factor * value],
                "o",
                markersize=18,
                markerfacecolor="none",
                markeredgecolor="black",
                markeredgewidth=2,
                label=f"chosen: {label}, {g} components",
            )
        names = "/".join(c.upper() for c in criteria)
        direction = "higher" if sign == "mclust" else "lower"
        ax.set_xlabel("number of components")
        ax.set_ylabel(
            f"{'-' if sign == 'mclust' else ''}{names} ({direction} is better)"
        )
        ax.xaxis.get_major_locator().set_params(integer=True)
        if legend:
            ax.legend(
                fontsize="small",
                loc="upper left",
                bbox_to_anchor=(1.02, 1.0),
                borderaxespad=0.0,
            )
        figure.tight_layout()
        self.ax_, self.figure_ = ax, figure
        return self
