"""skmix: finite mixture models fitted by EM, scikit-learn compatible."""

from .gaussian import GaussianMixtureEM

__version__ = "0.1.0"

__all__ = ["GaussianMixtureEM", "__version__"]
