"""Sample weights count only through their ratios, at any scale."""

import numpy as np
import pytest
from numpy.testing import assert_allclose

from skmix import CoinMixture, CompositeMixture, NIGMixture

RNG = np.random.RandomState(0)
REAL = np.vstack([RNG.randn(150, 2), RNG.randn(150, 2) * 0.5 + 3.0])
COUNTS = RNG.binomial(10, [0.2, 0.5, 0.3], size=(150, 3))
WEIGHT = RNG.rand(300)

CASES = {
    "nig": (lambda: NIGMixture(2, random_state=0), REAL, WEIGHT),
    "coin": (lambda: CoinMixture(2, random_state=0), COUNTS, WEIGHT[:150]),
    "composite": (lambda: CompositeMixture(2, random_state=0), REAL, WEIGHT),
}


@pytest.mark.parametrize("scale", [1e-100, 1e-300, 1e250])
@pytest.mark.parametrize("name", list(CASES))
def test_weights_times_a_constant_give_the_same_fit(name, scale):
    make, X, weight = CASES[name]
    reference = make().fit(X, sample_weight=weight)
    scaled = make().fit(X, sample_weight=weight * scale)
    assert_allclose(scaled.lower_bound_, reference.lower_bound_, rtol=1e-12)
    assert_allclose(scaled.weights_, reference.weights_, rtol=1e-9)
    assert_allclose(scaled.score_samples(X), reference.score_samples(X), rtol=1e-9)


def test_coin_pseudo_counts_keep_the_scale_of_the_weights():
    # With alpha > 0 the weights count as rows next to the pseudo-counts:
    # a constant factor changes the fit, and a sum past the largest double
    # is refused with a clear message.
    X, weight = COUNTS, WEIGHT[:150]
    light = CoinMixture(2, alpha=1.0, random_state=0).fit(X, sample_weight=weight)
    heavy = CoinMixture(2, alpha=1.0, random_state=0).fit(X, sample_weight=weight * 1e6)
    # Proportions move away from the pseudo-count pull towards the data.
    assert not np.allclose(light.lower_bound_, heavy.lower_bound_, rtol=1e-6)
    with pytest.raises(ValueError, match="sums to more than the largest double"):
        CoinMixture(2, alpha=1.0).fit(X, sample_weight=np.full(len(X), 1e307))
    # Without pseudo-counts the same weights are fine (only ratios count).
    CoinMixture(2, random_state=0).fit(X, sample_weight=np.full(len(X), 1e307))
