"""ConvergenceDisplay: the lower bound per EM iteration of every start."""

from __future__ import annotations

import numpy as np

from ._shared import single_axes

#: Colour of the selected start (the others are grey).
CHOSEN_COLOR = "tab:red"


def _traces_of(estimator):
    """Per-start ``(train, validation or None)`` traces, or None.

    Reads ``start_traces_`` (a list with, per start, a dict with ``train``,
    the mean log-likelihood per iteration, and ``validation``, the same on
    the held-out rows or None; None for a start that failed) where the
    estimator keeps it.
    """
    traces = getattr(estimator, "start_traces_", None)
    if traces is None:
        return None
    out = []
    for trace in traces:
        if trace is None:  # a start that failed: nothing to draw
            out.append((np.empty(0), None))
            continue
        train = np.asarray(trace["train"], dtype=np.float64)
        validation = trace.get("validation")
        if validation is not None:
            validation = np.asarray(validation, dtype=np.float64)
        out.append((train, validation))
    return out


class ConvergenceDisplay:
    """The EM lower bound (mean log-likelihood) per iteration.

    With per-start traces (``start_traces_``), one line per start on its
    training rows (solid) and, with a validation split, on its held-out rows
    (dashed); the selected start is drawn in colour, the others in grey.
    Without traces, the selected fit's ``lower_bounds_`` as a line, and each
    start's final training (``start_lower_bounds_``, bars) and validation
    (``start_validation_scores_``, crosses) values to its right, the selected
    start's starred: how rugged the likelihood surface was.

    Parameters
    ----------
    lower_bounds : ndarray
        ``lower_bounds_`` of the selected fit.
    best_start : int
        Index of the selected start.
    traces : list of (ndarray, ndarray or None) or None
        Per-start training and validation traces.
    start_lower_bounds : ndarray or None
        Final training value of every start.
    start_validation_scores : ndarray or None
        Final validation value of every start (NaN without a split).

    Attributes
    ----------
    ax_ : matplotlib Axes
    figure_ : matplotlib Figure
    fit_line_ : Line2D
        ``lower_bounds_``.
    train_lines_ : list of Line2D
        One per start (with traces).
    validation_lines_ : list of Line2D
        One per start with a validation trace.
    final_markers_ : list of PathCollection
        The starts' final values (without traces).
    chosen_marker_ : Line2D or PathCollection
        The selected start's mark.
    """

    def __init__(
        self,
        lower_bounds,
        best_start,
        traces=None,
        start_lower_bounds=None,
        start_validation_scores=None,
    ):
        self.lower_bounds = lower_bounds
        self.best_start = best_start
        self.traces = traces
        self.start_lower_bounds = start_lower_bounds
        self.start_validation_scores = start_validation_scores

    @classmethod
    def from_estimator(cls, estimator, *, ax=None, **plot_kwargs):
        """Read a fitted mixture's convergence history and draw it.

        Parameters
        ----------
        estimator : fitted mixture
            Any skmix estimator.
        ax : Axes, default=None
            Where to draw.
        **plot_kwargs
            Passed to :meth:`plot`.

        Returns
        -------
        display : ConvergenceDisplay
        """
        if not hasattr(estimator, "lower_bounds_"):
            raise ValueError(
                f"This {type(estimator).__name__} is not fitted yet (it has no "
                "lower_bounds_); call fit first."
            )

        def array_or_none(name):
            value = getattr(estimator, name, None)
            return None if value is None else np.asarray(value, dtype=np.float64)

        display = cls(
            np.asarray(estimator.lower_bounds_, dtype=np.float64),
            int(getattr(estimator, "best_start_", 0)),
            traces=_traces_of(estimator),
            start_lower_bounds=array_or_none("start_lower_bounds_"),
            start_validation_scores=array_or_none("start_validation_scores_"),
        )
        return display.plot(ax=ax, **plot_kwargs)

    def plot(self, ax=None):
        """Draw the traces.

        Parameters
        ----------
        ax : Axes, default=None
            Where to draw (a new figure by default).

        Returns
        -------
        display : ConvergenceDisplay
        """
        figure, ax = single_axes(ax)
        self.train_lines_, self.validation_lines_, self.final_markers_ = [], [], []
        if self.traces is not None:
            self._plot_traces(ax)
        else:
            self._plot_finals(ax)
        iterations = np.arange(1, len(self.lower_bounds) + 1)
        (self.fit_line_,) = ax.plot(
            iterations,
            self.lower_bounds,
            color="black",
            lw=1.5,
            label="selected fit (lower_bounds_)",
            zorder=3,
        )
        ax.set_xlabel("EM iteration")
        ax.set_ylabel("mean log-likelihood per row")
        ax.legend(fontsize="small", loc="lower right")
        figure.tight_layout()
        self.ax_, self.figure_ = ax, figure
        return self

    def _plot_traces(self, ax):
        other_label = "other starts (train)"
        for s, (train, validation) in enumerate(self.traces):
            chosen = s == self.best_start
            color = CHOSEN_COLOR if chosen else "0.6"
            label = "selected start (train)" if chosen else other_label
            if not chosen:
                other_label = None
            (line,) = ax.plot(
                np.arange(1, len(train) + 1),
                train,
                color=color,
                lw=2 if chosen else 0.8,
                zorder=2 if chosen else 1,
                label=label,
            )
            self.train_lines_.append(line)
            if validation is not None and len(validation):
                (line,) = ax.plot(
                    np.arange(1, len(validation) + 1),
                    validation,
                    "--",
                    color=color,
                    lw=1.5 if chosen else 0.8,
                    label="selected start (validation)" if chosen else None,
                )
                self.validation_lines_.append(line)
            if chosen:
                (self.chosen_marker_,) = ax.plot(
                    [len(train)], [train[-1]], "*", color=color, ms=14, zorder=4
                )

    def _plot_finals(self, ax):
        """Each start's final values in two columns right of the fit's line."""
        right = len(self.lower_bounds) + 1
        finals = self.start_lower_bounds
        if finals is None or finals.size == 0:
            finals = self.lower_bounds[-1:]
        best = min(self.best_start, finals.size - 1)
        columns = [(right, finals, "_", "train")]
        scores = self.start_validation_scores
        if scores is not None and np.isfinite(scores).any():
            columns.append((right + 1, scores, "x", "validation"))
        for x, values, marker, name in columns:
            self.final_markers_.append(
                ax.scatter(
                    np.full(values.shape, x),
                    values,
                    marker=marker,
                    s=300 if marker == "_" else 40,
                    color="0.4",
                    label=f"each start's final value ({name})",
                )
            )
        xs = [x for x, *_ in columns]
        ys = [values[best] for _, values, *_ in columns]
        self.chosen_marker_ = ax.scatter(
            xs,
            ys,
            marker="*",
            s=200,
            color=CHOSEN_COLOR,
            zorder=4,
            label="selected start",
        )
        from matplotlib.ticker import MaxNLocator

        ticks = [
            int(t)
            for t in MaxNLocator(nbins=6, integer=True).tick_values(1, right - 1)
            if 1 <= t < right
        ]
        ax.set_xticks(
            ticks + xs,
            [str(t) for t in ticks] + [f"starts\n({n[:5]})" for *_, n in columns],
        )
        ax.axvline(right - 0.5, color="0.8", lw=0.8)
        ax.set_title(
            "per-start traces not kept: each start's final value",
            fontsize="medium",
        )
