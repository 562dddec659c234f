"""
Skewed, heavy-tailed clusters: NIGMixture against a Gaussian mixture
====================================================================

Two clusters drawn from normal-inverse-Gaussian laws
(``W ~ IG(1, lambda)``, ``X | W ~ N(mu + W gamma, W Sigma)``). A Gaussian
mixture needs extra components to follow a skewed cluster's tail, and
splits it; :class:`~skmix.NIGMixture` fits each cluster with one component
and wins on BIC.
"""

# %%
# The data
# --------
import matplotlib.pyplot as plt
import numpy as np
from sklearn.metrics import adjusted_rand_score

from skmix import GaussianMixtureEM, NIGMixture
from skmix.plotting import ClassificationDisplay


def sample_cluster(n, location, skewness, dispersion, tail, rng):
    w = rng.wald(1.0, tail, size=n)
    noise = rng.standard_normal((n, len(location))) @ np.linalg.cholesky(dispersion).T
    return location + w[:, None] * skewness + np.sqrt(w)[:, None] * noise


rng = np.random.default_rng(0)
X = np.vstack(
    [
        sample_cluster(1200, [0.0, 0.0], [2.0, 1.0], np.eye(2) * 0.5, 0.8, rng),
        sample_cluster(
            800, [8.0, -4.0], [-1.0, 2.0], [[1.0, 0.3], [0.3, 0.6]], 2.0, rng
        ),
    ]
)
truth = np.repeat([0, 1], [1200, 800])

# %%
# Two NIG components, and Gaussian mixtures of 2 to 5 components
# --------------------------------------------------------------
nig = NIGMixture(n_components=2, tol=1e-6, max_iter=500, random_state=0).fit(X)
print(
    f"NIG, 2 components: BIC {nig.bic(X):.1f}, "
    f"ARI {adjusted_rand_score(truth, nig.predict(X)):.3f}"
)
for k in range(2):
    print(
        f"  component {k}: weight {nig.weights_[k]:.3f}, "
        f"skewness {np.round(nig.skewness_[k], 2)}, "
        f"tail shape {nig.tail_shapes_[k]:.2f}"
    )
gaussians = {}
for n_components in (2, 3, 4, 5):
    gm = GaussianMixtureEM(n_components, n_init=3, random_state=0).fit(X)
    gaussians[n_components] = gm
    ari = adjusted_rand_score(truth, gm.predict(X))
    print(f"Gaussian, {n_components} components: BIC {gm.bic(X):.1f}, ARI {ari:.3f}")
best_gaussian = min(gaussians.values(), key=lambda gm: gm.bic(X))

# %%
# The two fits side by side: the NIG ellipses are those of each component's
# covariance (``covariances_``); the Gaussian mixture with the best BIC cuts
# the skewed cluster into pieces.
fig, axes = plt.subplots(1, 2, figsize=(10, 4.5), sharex=True, sharey=True)
ClassificationDisplay.from_estimator(
    nig, X, ax=axes[0], point_size=4, max_point_size=40
)
ClassificationDisplay.from_estimator(
    best_gaussian, X, ax=axes[1], point_size=4, max_point_size=40
)
axes[0].set_title(f"NIGMixture, 2 components (BIC {nig.bic(X):.0f})")
axes[1].set_title(
    f"GaussianMixtureEM, {best_gaussian.n_components} components "
    f"(BIC {best_gaussian.bic(X):.0f})"
)
fig.tight_layout()
