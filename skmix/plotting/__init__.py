"""Plots of fitted mixtures, following scikit-learn's Display convention.

Each display is built by a class method (``from_estimator``, or
``from_selection`` for a model search) that computes what to draw, then
draws it; the returned object keeps the data, and its ``plot(ax=...)``
draws again (on other axes, with other options). After drawing it holds the
figure (``figure_``), the axes (``ax_``) and the artists.

matplotlib is an optional dependency (``python -m pip install 'skmix[plot]'``):
it is imported when something is drawn, never by ``import skmix`` or
``import skmix.plotting``.

- :class:`BICDisplay`: BIC / ICL against the number of components, one line
  per covariance model (mclust's ``plot(fit, "BIC")``);
- :class:`ClassificationDisplay`: the data coloured by component, covariance
  ellipses, uncertainty as point size;
- :class:`DensityDisplay`: 1-D histogram with the mixture and its
  components; 2-D log-density contours;
- :class:`ConvergenceDisplay`: lower bound per EM iteration, every start;
- :class:`CompositeProfileDisplay`: per column of a CompositeMixture, each
  component's mean or level probabilities;
- :class:`AnomalyScoreDisplay`: distribution of ``score_samples`` with a
  threshold.
"""

from ._anomaly import AnomalyScoreDisplay
from ._bic import BICDisplay
from ._classification import ClassificationDisplay
from ._convergence import ConvergenceDisplay
from ._density import DensityDisplay
from ._profile import CompositeProfileDisplay

__all__ = [
    "AnomalyScoreDisplay",
    "BICDisplay",
    "ClassificationDisplay",
    "CompositeProfileDisplay",
    "ConvergenceDisplay",
    "DensityDisplay",
]
