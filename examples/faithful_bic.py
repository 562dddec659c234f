"""
Choosing a Gaussian mixture for Old Faithful by BIC
===================================================

R's ``Mclust`` fits Gaussian mixtures with 1 to 9 components under each
covariance model and keeps the one with the best BIC. Here is the same
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
# Every (number of components, covariance type) pair is fitted from 10
# starts, keeping the start with the best log-likelihood on all rows
# (``validation_fraction=0``): BIC compares maximum-likelihood fits. A fit
# with a component that has no spread in some direction (its likelihood grows
# without bound as ``reg_covar`` shrinks) is kept in the table but not chosen.
import numpy as np
import pandas as pd

from skmix._selection import select_by_bic
from skmix.datasets import load_faithful

X = load_faithful(as_frame=True).data  # a DataFrame: its column names label plots
search = select_by_bic(X, components=range(1, 8), n_init=10, tol=1e-6, max_iter=1000)
best = search.best
print(
    f"chosen: {best.n_components} components, covariance_type={best.covariance_type!r}"
)

# %%
# The BIC plot
# ------------
# :class:`~skmix.plotting.BICDisplay` draws a table with one row per fitted
# candidate, the one the model-selection search returns.
from skmix.plotting import BICDisplay

rows = []
for i, k in enumerate(search.components):
    for j, covariance_type in enumerate(search.covariance_types):
        bic = search.table[i, j]
        rows.append(
            dict(
                estimator="GaussianMixtureEM",
                covariance_type=covariance_type,
                n_components=k,
                bic=bic,
                failed=not np.isfinite(bic),
                degenerate=bool(search.singular[i, j]),
            )
        )
table = pd.DataFrame(rows)
chosen = table.index[
    (table.n_components == best.n_components)
    & (table.covariance_type == best.covariance_type)
][0]
display = BICDisplay.from_table(table, best_index=chosen)
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
