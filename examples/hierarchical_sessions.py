"""
Kinds of users from their sessions: a hierarchical mixture
==========================================================

Each user of a web site leaves a few sessions, each described by its length
(log minutes) and the pages it viewed (log pages). Sessions come in a few
kinds ("topics": a quick look, reading, a long browse) that every user
shares, and users differ in how often they have each kind: casual users
mostly look quickly, readers mostly read, and so on.

:class:`~skmix.HierarchicalMixture` models exactly that: K kinds of session
(Gaussian components shared by everyone), M kinds of user (each a mixture
over the session kinds), and every user drawn from one kind of user. A
user's sessions are one group: ``fit(X, groups=user_id)``. Then

- ``predict(X, groups)`` gives each user's kind, from all of their sessions
  together (far surer than from any session alone);
- ``predict_topics(X, groups)`` gives each session's kind, knowing its user;
- ``mixture_weights_`` says what each kind of user does.
"""

# %%
# Simulated sessions
# ------------------
import matplotlib.pyplot as plt
import numpy as np

from skmix import GaussianMixtureEM, HierarchicalMixture

rng = np.random.default_rng(0)
kinds = ["quick look", "reading", "long browse"]
centres = np.array([[0.5, 0.7], [2.5, 1.2], [3.5, 3.0]])  # log minutes, log pages
spreads = np.array([0.3, 0.4, 0.5])
user_kinds = {
    "casual": [0.8, 0.15, 0.05],
    "reader": [0.2, 0.7, 0.1],
    "explorer": [0.1, 0.3, 0.6],
}
share = np.array([0.5, 0.3, 0.2])

n_users = 600
true_user = rng.choice(len(user_kinds), size=n_users, p=share)
n_sessions = rng.poisson(6, size=n_users) + 1
users = np.repeat(np.arange(n_users), n_sessions)
taus = np.array(list(user_kinds.values()))
true_kind = np.array([rng.choice(3, p=taus[true_user[u]]) for u in users])
X = centres[true_kind] + spreads[true_kind, None] * rng.normal(size=(len(users), 2))
print(f"{n_users} users, {len(X)} sessions")

# %%
# Fit
# ---
# Three kinds of session with spherical covariances, three kinds of user,
# and a Poisson model of the number of sessions per user.
model = HierarchicalMixture(
    n_components=3,
    n_mixtures=3,
    family=GaussianMixtureEM(covariance_type="spherical"),
    length_model="poisson",
    n_init=3,
    random_state=0,
).fit(X, groups=users)

order = np.argsort(model.topics_.means_[:, 0])  # session kinds by length
for name, k in zip(kinds, order):
    print(f"{name:12s} centre {model.topics_.means_[k].round(2)}")
print(f"mean sessions per user: {model.length_:.2f}")
for m in np.argsort(-model.weights_):
    mix = ", ".join(
        f"{kinds[i]} {model.mixture_weights_[m, k]:.2f}" for i, k in enumerate(order)
    )
    print(f"user kind {m} (weight {model.weights_[m]:.2f}): {mix}")

# %%
# Users' kinds, from all their sessions
# -------------------------------------
# Per-user outputs come in sorted order of the user ids (here 0..599).
# Match each fitted kind of user to the true kind it mostly holds.
labels = model.predict(X, users)
match = {
    m: np.bincount(true_user[labels == m], minlength=3).argmax()
    for m in np.unique(labels)
}
accuracy = np.mean([match[m] == t for m, t in zip(labels, true_user)])
print(f"users whose kind is recovered: {accuracy:.1%}")

session_kind = model.predict_topics(X, users)
session_match = {k: i for i, k in enumerate(order)}
print(
    "sessions whose kind is recovered: "
    f"{np.mean([session_match[k] == t for k, t in zip(session_kind, true_kind)]):.1%}"
)

# %%
# Sessions, coloured by the kind of their user
# --------------------------------------------
fig, ax = plt.subplots(figsize=(6, 4.5))
for m in range(model.n_mixtures):
    rows = labels[users] == m
    ax.scatter(X[rows, 0], X[rows, 1], s=4, alpha=0.5, label=f"user kind {m}")
ax.scatter(*model.topics_.means_.T, c="k", marker="x", s=80, label="session kinds")
ax.set_xlabel("log minutes")
ax.set_ylabel("log pages")
ax.legend(loc="upper left", fontsize="small")
ax.set_title("Sessions by the fitted kind of their user")
plt.tight_layout()
plt.show()
