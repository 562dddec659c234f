"""AnomalyScoreDisplay: the distribution of score_samples with a threshold."""

from __future__ import annotations

import numpy as np

from ._shared import check_estimator_has, single_axes

#: Colour of the rows flagged as anomalies.
FLAGGED_COLOR = "tab:red"


class AnomalyScoreDisplay:
    """Histogram of the log densities ``score_samples(X)`` and a threshold.

    A mixture is a density estimate: rows with a low ``score_samples`` are
    unlikely under it, and those below the threshold are flagged (marked
    along the bottom). The threshold is given, or a quantile of the scores
    (by default the lowest 1% of rows are flagged).

    Parameters
    ----------
    scores : ndarray of shape (n_samples,)
        Log density of each row (``-inf`` allowed: outside every component's
        support; such rows are flagged and counted, not drawn).
    threshold : float
        Rows with a score below it are flagged.

    Attributes
    ----------
    flagged : ndarray of bool
        Rows below the threshold.
    ax_ : matplotlib Axes
    figure_ : matplotlib Figure
    hist_ : list of Patch
        Histogram bars.
    threshold_line_ : Line2D
        The threshold.
    rug_ : Line2D or None
        The flagged rows' scores, as ticks along the bottom.
    """

    def __init__(self, scores, threshold):
        self.scores = np.asarray(scores, dtype=np.float64)
        self.threshold = float(threshold)
        self.flagged = self.scores < self.threshold

    @classmethod
    def from_scores(cls, scores, *, threshold=None, quantile=0.01, ax=None, **kw):
        """Draw given scores, with a threshold given or at a quantile.

        Parameters
        ----------
        scores : array-like of shape (n_samples,)
            Log densities.
        threshold : float, default=None
            The threshold; by default the ``quantile`` of the finite scores.
        quantile : float, default=0.01
            Share of rows expected below the threshold when it is not given.
        ax : Axes, default=None
            Where to draw.
        **kw
            Passed to :meth:`plot`.

        Returns
        -------
        display : AnomalyScoreDisplay
        """
        scores = np.asarray(scores, dtype=np.float64).ravel()
        if np.isnan(scores).any():
            raise ValueError("scores contain NaN; score_samples never returns NaN.")
        if threshold is None:
            if not 0.0 < quantile < 1.0:
                raise ValueError(f"quantile={quantile!r} must be in (0, 1).")
            finite = scores[np.isfinite(scores)]
            if finite.size == 0:
                raise ValueError("No finite score to place a threshold among.")
            threshold = np.quantile(finite, quantile)
        return cls(scores, threshold).plot(ax=ax, **kw)

    @classmethod
    def from_estimator(
        cls, estimator, X, *, threshold=None, quantile=0.01, ax=None, **plot_kwargs
    ):
        """Score X with a fitted mixture (or a Pipeline ending in one) and draw.

        Parameters
        ----------
        estimator : fitted estimator with ``score_samples``
            A skmix mixture, or a ``Pipeline`` whose last step is one.
        X : array-like of shape (n_samples, n_features)
            Rows to score.
        threshold : float, default=None
            Rows below it are flagged; by default the ``quantile`` of the
            scores of X.
        quantile : float, default=0.01
            Share of rows flagged when ``threshold`` is not given.
        ax : Axes, default=None
            Where to draw.
        **plot_kwargs
            Passed to :meth:`plot`.

        Returns
        -------
        display : AnomalyScoreDisplay
        """
        check_estimator_has(estimator, "score_samples", cls.__name__)
        return cls.from_scores(
            estimator.score_samples(X),
            threshold=threshold,
            quantile=quantile,
            ax=ax,
            **plot_kwargs,
        )

    def plot(self, ax=None, *, bins=50):
        """Draw the histogram, the threshold and the flagged rows.

        Parameters
        ----------
        ax : Axes, default=None
            Where to draw (a new figure by default).
        bins : int or str, default=50
            Histogram bins.

        Returns
        -------
        display : AnomalyScoreDisplay
        """
        figure, ax = single_axes(ax)
        finite = self.scores[np.isfinite(self.scores)]
        _, _, patches = ax.hist(finite, bins=bins, color="0.75", edgecolor="0.55")
        self.hist_ = list(patches)
        self.threshold_line_ = ax.axvline(
            self.threshold,
            color=FLAGGED_COLOR,
            linestyle="--",
            label=f"threshold {self.threshold:.3g}",
        )
        shown = self.scores[self.flagged & np.isfinite(self.scores)]
        self.rug_ = None
        if shown.size:
            (self.rug_,) = ax.plot(
                shown,
                np.zeros_like(shown),
                "|",
                color=FLAGGED_COLOR,
                markersize=14,
                label="flagged rows",
            )
        n_flagged = int(self.flagged.sum())
        outside = int(np.isneginf(self.scores).sum())
        note = f" ({outside} with density 0)" if outside else ""
        ax.set_title(
            f"{n_flagged} of {self.scores.size} rows below the threshold{note}",
            fontsize="medium",
        )
        ax.set_xlabel("score_samples (log density)")
        ax.set_ylabel("rows")
        ax.legend(fontsize="small", loc="upper left")
        self.ax_, self.figure_ = ax, figure
        return self
