"""
Model selection with GridSearchCV
=================================

skmix's estimators are scikit-learn estimators, so scikit-learn's model
selection tools work on them. ``GridSearchCV`` scores each candidate by
``score`` (the mean log-likelihood of held-out rows) unless told otherwise;
a BIC scorer makes it choose as mclust does. Both are run here over the
number of components and the covariance type of a Gaussian mixture on the
Old Faithful data.
"""

# %%
# Cross-validated log-likelihood
# ------------------------------
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from sklearn.model_selection import GridSearchCV, KFold

from skmix import GaussianMixtureEM
from skmix.datasets import load_faithful

X = load_faithful(return_X_y=True)
grid = {
    "n_components": range(1, 7),
    "covariance_type": ["full", "tied", "diag", "spherical"],
}
estimator = GaussianMixtureEM(n_init=3, validation_fraction=0, random_state=0)
cv = KFold(5, shuffle=True, random_state=0)
search = GridSearchCV(estimator, grid, cv=cv).fit(X)
print("held-out log-likelihood picks", search.best_params_)

# %%
# BIC as the score
# ----------------
# BIC is a criterion on the rows a model was fitted on, not on held-out
# rows: one "split" whose training and test rows are all rows makes
# ``GridSearchCV`` do mclust's search. A scorer's larger is better, so it
# returns minus BIC.


def negative_bic(estimator, X, y=None):
    return -estimator.bic(X)


all_rows = np.arange(len(X))
bic_search = GridSearchCV(
    estimator, grid, cv=[(all_rows, all_rows)], scoring=negative_bic
).fit(X)
print("BIC picks", bic_search.best_params_)

# %%
# The held-out log-likelihood of every candidate: it rises steeply from one
# to two components and then flattens, while its spread across folds stays
# about as wide as the differences between the candidates. Held-out
# likelihood guards against overfitting only as far as the held-out rows can
# tell; BIC's penalty per parameter decides between the close candidates.
results = pd.DataFrame(search.cv_results_)
fig, ax = plt.subplots()
for covariance_type, rows in results.groupby("param_covariance_type"):
    ax.errorbar(
        rows["param_n_components"].astype(int),
        rows["mean_test_score"],
        yerr=rows["std_test_score"],
        marker="o",
        capsize=3,
        label=covariance_type,
    )
ax.set_xlabel("number of components")
ax.set_ylabel("held-out mean log-likelihood per row")
ax.legend(title="covariance_type")
best = search.best_estimator_
print(
    f"refitted on all rows: {best.n_components} components, "
    f"{best.covariance_type!r}, BIC {best.bic(X):.1f}"
)
print(np.round(best.means_, 2))
