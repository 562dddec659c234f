"""
DMLearn's tutorial: hierarchical and joint mixtures
===================================================

The mixture tutorial of DMLearn (LLNL's dmx-learn) fits two models that
take data in groups, on data it samples itself. skmix fits both on the very
data DMLearn sampled (``tests/data`` in the source tree, with DMLearn's
results in ``../shared/reference/README.md``).

1. A hierarchical mixture: 1,000 groups of 5 values; 3 Gaussian topics at
   -5, 0 and 5; 4 outer mixtures over them. DMLearn's best of 20 starts
   reaches a log-likelihood of -11909.416979.
2. A joint mixture: 10,000 samples, each a categorical and a real value
   (view X) and a sequence of real values of Poisson length (view Y); the
   views' hidden states are linked by a transition matrix. DMLearn's plain
   maximum likelihood reaches -80982.623 on the training samples. After
   the fit, Y's component is predicted from X alone, and from both.
"""

# %%
# The hierarchical mixture
# ------------------------
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

from skmix import CompositeMixture, GaussianMixtureEM, HierarchicalMixture, JointMixture

here = Path(__file__).resolve().parent if "__file__" in globals() else Path.cwd()
data = here.parent / "tests" / "data"
table = pd.read_csv(data / "hierarchical_seq.csv")
X, groups = table[["x"]].to_numpy(), table["group"].to_numpy()

model = HierarchicalMixture(
    n_components=3,
    n_mixtures=4,
    family=GaussianMixtureEM(reg_covar=0.0),
    n_init=4,
    tol=1e-10,
    max_iter=2000,
    random_state=0,
).fit(X, groups=groups)
total = model.score_samples(X, groups).sum()
print(f"log-likelihood {total:.6f} (DMLearn's best of 20 starts: -11909.416979)")
order = np.argsort(model.topics_.means_[:, 0])
print("topics (mean, variance):")
means, variances = model.topics_.means_[:, 0], model.topics_.covariances_[:, 0, 0]
for k in order:
    print(f"  N({means[k]:.5f}, {variances[k]:.5f})")
print("outer weights and their topic weights:")
for m in np.argsort(-model.weights_):
    print(f"  {model.weights_[m]:.3f}: {model.mixture_weights_[m, order].round(3)}")

# %%
# The joint mixture
# -----------------
# View X: a category (a, b, c) and a real value, modelled by a composite
# family; view Y: each sample's sequence of reals (``y_groups`` says which
# sample each value belongs to; 460 samples have none), Gaussian values
# with a Poisson length per component. Fitted on the tutorial's training
# samples, by plain maximum likelihood.
samples = pd.read_csv(data / "joint.csv")
sequences = pd.read_csv(data / "joint_seq.csv")
train = samples[samples["split"] == "train"].reset_index(drop=True)
position = pd.Series(np.arange(len(train)), index=train["id"])
rows = sequences[sequences["id"].isin(train["id"])]
X_view = train[["x_cat", "x_real"]].to_numpy(dtype=object)
Y_view = rows[["y"]].to_numpy()
y_groups = position[rows["id"]].to_numpy()

joint = JointMixture(
    3,
    3,
    family_x=CompositeMixture(families=["categorical", "gaussian"], reg_covar=0.0),
    family_y=GaussianMixtureEM(reg_covar=0.0),
    init_params="random",
    n_init=8,
    validation_fraction=0.0,
    tol=1e-11,
    max_iter=5000,
    random_state=0,
).fit(X_view, Y_view, y_groups=y_groups)
total = joint.score_samples(X_view, Y_view, y_groups=y_groups).sum()
print(f"training log-likelihood {total:.6f} (DMLearn: -80982.623004)")
print("transition P(H = m | Z = k):")
print(joint.transition_.round(3))
print(
    f"Y components' means {joint.components_y_.means_[:, 0].round(3)}, "
    f"mean lengths {joint.lengths_y_.round(3)}"
)

# %%
# Y's component from X alone, and from both views
# -----------------------------------------------
from_x = joint.predict_proba_y(X_view)
from_both = joint.predict_proba_y(X_view, Y_view, y_groups=y_groups)
print(
    "first sample: P(H | x) =",
    from_x[0].round(3),
    " P(H | x, y) =",
    from_both[0].round(4),
)

fig, ax = plt.subplots(figsize=(6, 3.5))
ax.hist(from_x.max(axis=1), bins=40, alpha=0.6, label="from X alone")
ax.hist(from_both.max(axis=1), bins=40, alpha=0.6, label="from X and Y")
ax.set_xlabel("probability of the most probable Y component")
ax.set_ylabel("samples")
ax.legend()
plt.tight_layout()
plt.show()
