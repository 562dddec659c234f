"""Choose a Gaussian mixture for Old Faithful by BIC, as R's Mclust does.

Run: python examples/faithful_bic.py
"""

from skmix import GaussianMixtureEM
from skmix._selection import MCLUST_NAMES
from skmix.datasets import load_faithful

X = load_faithful(return_X_y=True)
best = None
for covariance_type in ["full", "tied", "diag", "spherical"]:
    for k in range(1, 6):
        model = GaussianMixtureEM(
            k,
            covariance_type=covariance_type,
            n_init=10,
            tol=1e-6,
            max_iter=1000,
            random_state=0,
            n_jobs=2,
        ).fit(X)
        bic = model.bic(X)
        print(
            f"{covariance_type:>9} ({MCLUST_NAMES[covariance_type]}) G={k}: "
            f"BIC {bic:9.3f}"
        )
        if best is None or bic < best[0]:
            best = (bic, model)

bic, model = best
print(
    f"\nbest: {model.n_components} components, {model.covariance_type}, BIC {bic:.3f}"
)
print("weights", model.weights_.round(4))
print("means\n", model.means_.round(4))
