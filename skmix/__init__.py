"""skmix: finite mixture models fitted by EM, scikit-learn compatible."""

from .coin import CoinMixture
from .gaussian import GaussianMixtureEM

__version__ = "0.1.0"

__all__ = ["CoinMixture", "GaussianMixtureEM", "__version__"]
