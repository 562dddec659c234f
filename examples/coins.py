"""Which coin was it? EM on coin flips with CoinMixture.

1. The textbook two-coin example (Do and Batzoglou, 2008): five rows of ten
   flips, each row from coin A or coin B picked with equal odds. EM starts at
   P(heads) = 0.6 and 0.5 and holds the mixing weights at 1/2.
2. 200 rows of ten flips (tests/data/coins.csv), compared with R mixtools'
   ``multmixEM`` and with the true coin of each row.

Run: ``python examples/coins.py``.
"""

from pathlib import Path

import numpy as np

from skmix.coin import CoinMixture

TEXTBOOK_ROWS = np.array([[5, 5], [9, 1], [8, 2], [4, 6], [7, 3]])  # heads, tails
COINS_CSV = Path(__file__).resolve().parents[1] / "tests" / "data" / "coins.csv"


def textbook():
    coins = CoinMixture(
        fit_weights=False,
        probabilities_init=[[0.6, 0.4], [0.5, 0.5]],
        tol=1e-12,
        max_iter=1000,
    ).fit(TEXTBOOK_ROWS)
    print("Textbook example (weights held at 1/2)")
    print(f"  P(heads): {coins.probabilities_[:, 0].round(6)}  (book: 0.80, 0.52)")
    print(f"  log-likelihood: {coins.score(TEXTBOOK_ROWS) * 5:.6f}")
    resp = coins.predict_proba(TEXTBOOK_ROWS)
    for row, p in zip(TEXTBOOK_ROWS, resp, strict=True):
        print(f"  {row[0]} heads, {row[1]} tails: P(coin A) = {p[0]:.2f}")


def two_hundred_rows():
    table = np.genfromtxt(COINS_CSV, delimiter=",", skip_header=1, dtype=str)
    X = table[:, :2].astype(float)
    true_coin = np.char.strip(table[:, 2], '"')
    coins = CoinMixture(n_components=2, n_init=10, tol=1e-10, random_state=0)
    labels = coins.fit_predict(X)
    heads = coins.probabilities_[:, 0]
    print("\ncoins.csv: 200 rows of 10 flips")
    print(f"  weights {coins.weights_.round(6)}, P(heads) {heads.round(6)}")
    print(
        "  mixtools multmixEM: weights (0.535097, 0.464903), P(heads) 0.806501 "
        "and 0.336509"
    )
    print(f"  log-likelihood {coins.score(X) * len(X):.6f} (mixtools -454.325197)")
    # Name each component after the true coin most of its rows came from.
    coin_a = int(np.argmax(heads))  # coin A is the biased one in this data
    agree = np.mean((labels == coin_a) == (true_coin == "A"))
    print(f"  rows assigned to their true coin: {agree:.1%}")
    sampled, _ = coins.sample(3, n_trials=[10, 100, 1000])
    print(f"  three sampled rows (10, 100, 1000 flips):\n{sampled}")


if __name__ == "__main__":
    textbook()
    two_hundred_rows()
