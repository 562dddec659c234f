"""
Which coin was it? EM on coin flips
===================================

Two coins, A and B, of unknown biases; each row of the data is ten flips of
one of them, and which coin was flipped is hidden. :class:`~skmix.CoinMixture`
(a mixture of binomials) estimates both biases and, for every row, the
probability that coin A produced it.

1. The textbook example of Do and Batzoglou (2008, "What is the expectation
   maximization algorithm?"): five rows of ten flips, EM started at
   P(heads) = 0.6 and 0.5 with the mixing weights held at 1/2.
2. 200 rows of ten flips, compared with R mixtools' ``multmixEM`` and with
   the coin that really produced each row.
"""

# %%
# The textbook example
# --------------------
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
from scipy.stats import binom

from skmix import CoinMixture

flips = np.array([[5, 5], [9, 1], [8, 2], [4, 6], [7, 3]])  # heads, tails
coins = CoinMixture(
    fit_weights=False,
    probabilities_init=[[0.6, 0.4], [0.5, 0.5]],
    tol=1e-12,
    max_iter=1000,
).fit(flips)
print(f"P(heads): {coins.probabilities_[:, 0].round(4)}  (the book: 0.80, 0.52)")
resp = coins.predict_proba(flips)
for row, p in zip(flips, resp, strict=True):
    print(f"{row[0]} heads, {row[1]} tails: P(coin A) = {p[0]:.2f}")

# %%
# 200 rows
# --------
# The data (``tests/data/coins.csv`` in the source tree) hold heads, tails
# and the true coin.
here = Path(__file__).resolve().parent if "__file__" in globals() else Path.cwd()
table = np.genfromtxt(
    here.parent / "tests" / "data" / "coins.csv",
    delimiter=",",
    skip_header=1,
    dtype=str,
)
X = table[:, :2].astype(float)
true_coin = np.char.strip(table[:, 2], '"')
coins = CoinMixture(n_components=2, n_init=10, tol=1e-10, random_state=0)
labels = coins.fit_predict(X)
heads = coins.probabilities_[:, 0]
print(f"weights {coins.weights_.round(6)}, P(heads) {heads.round(6)}")
print("mixtools multmixEM: weights (0.535097, 0.464903), P(heads) 0.806501, 0.336509")
print(f"log-likelihood {coins.score(X) * len(X):.6f} (mixtools -454.325197)")
coin_a = int(np.argmax(heads))  # coin A is the biased one in this data
agree = np.mean((labels == coin_a) == (true_coin == "A"))
print(f"rows assigned to their true coin: {agree:.1%}")

# %%
# The fitted mixture against the data: the number of heads in ten flips,
# and each coin's binomial weighted by its share of the rows.
counts = np.bincount(X[:, 0].astype(int), minlength=11) / len(X)
k = np.arange(11)
fig, ax = plt.subplots()
ax.bar(k, counts, color="0.8", label="rows")
for c, name in ((coin_a, "coin A"), (1 - coin_a, "coin B")):
    pmf = coins.weights_[c] * binom.pmf(k, 10, heads[c])
    ax.plot(k, pmf, "o--", label=f"{name}: P(heads) = {heads[c]:.2f}")
ax.plot(
    k,
    sum(coins.weights_[c] * binom.pmf(k, 10, heads[c]) for c in (0, 1)),
    "k-",
    label="mixture",
)
ax.set_xlabel("heads in 10 flips")
ax.set_ylabel("share of rows")
ax.legend()

# %%
# New rows of 10, 100 and 1000 flips drawn from the fitted mixture:
sampled, which = coins.sample(3, n_trials=[10, 100, 1000])
print(sampled, which)
