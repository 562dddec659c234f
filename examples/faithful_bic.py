"""
Choosing a Gaussian mixture for Old Faithful by BIC
===================================================

R's ``Mclust`` fits Gaussian mixtures with 1 to 9 components under each of
its 14 covariance models and keeps the one with the best BIC. Here is the same
search on the Old Faithful geyser data (272 eruptions: their duration and
the waiting time to the next one), its BIC plot, the chosen model's
classification, uncertainty and density, and its summary.

BIC is in scikit-learn's sign, ``-2 log L + p log n``: lower is better
(mclust plots its negative). For Old Faithful, mclust and skmix both choose
the ``tied`` model (mclust's EEE) with 3 components.
"""

# %%
# The search
# ----------
# :func:`skmix.select_model` fits every (number of components, covariance
# model) pair, each from mclust's start (its hierarchical clustering, one
# tree for the whole search) and from a few k-means starts, and keeps each
# candidate's best fit. A candidate whose fit is degenerate (a component
# collapsed onto rows with no spread in some direction: its likelihood grows
# without bound as ``reg_covar`` shrinks) or failed gets no BIC, as mclust's
# NA, and is never chosen.
from skmix import GaussianMixtureEM, select_model
from skmix.datasets import load_faithful

X = load_faithful(as_frame=True).data  # a DataFrame: its column names label plots
search = select_model(
    GaussianMixtureEM(tol=1e-6, max_iter=1000, random_state=0),
    X,
    n_components=range(1, 8),
)
best = search.best_estimator_
print(
    f"chosen: {best.n_components} components, covariance_type={best.covariance_type!r}"
)

# %%
# The table has one row per candidate: its log-likelihood, number of free
# parameters, BIC, AIC and ICL, and whether it converged, failed or is
# degenerate. The five best by BIC:
print(
    search.table.sort_values("bic").head()[["covariance_type", "n_components", "bic"]]
)

# %%
# The BIC plot
# ------------
# :class:`~skmix.plotting.BICDisplay` draws the table, one curve per
# covariance model, and marks the chosen candidate.
from skmix.plotting import BICDisplay

display = BICDisplay.from_selection(search)
_ = display.ax_.set_title("Old Faithful: BIC of each model")

# %%
# The chosen model
# ----------------
# Each eruption in the colour of its most probable component, its size
# growing with its uncertainty (``1 - max_k p(k | x)``: rows between two
# components), and each component's 1- and 2-sigma ellipses.
from skmix.plotting import ClassificationDisplay, DensityDisplay

_ = ClassificationDisplay.from_estimator(best, X)

# %%
# The fitted density: contours of ``score_samples`` over the data, and the
# marginal density of the waiting time with its three weighted components.
_ = DensityDisplay.from_estimator(best, X)
_ = DensityDisplay.from_estimator(best, X, features=[1])

# %%
# Its summary, as mclust's ``summary(fit)``:
print(best.summary(X))
