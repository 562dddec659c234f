"""Files the command line writes: figures (``--plot DIR``) and each row's
component and probabilities (``--output FILE.csv``)."""

from __future__ import annotations

import csv
import os

import numpy as np

#: Most features drawn in the classification scatter-plot matrix (the
#: first ones of the file); beyond, the panels would be too small to read.
MAX_PLOTTED_FEATURES = 6


def write_figures(result, X, names, directory):
    """Write ``bic.png`` and ``classification.png`` into ``directory``.

    Returns the paths written. Raises ImportError with an install hint when
    matplotlib (or pandas) is missing.
    """
    try:
        import matplotlib
        import pandas  # noqa: F401 - the BIC table
    except ImportError as error:
        raise ImportError(
            f"--plot draws with matplotlib and pandas ({error}); install them "
            "with: python -m pip install 'skmix[plot]'"
        ) from None
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from .plotting import BICDisplay, ClassificationDisplay

    os.makedirs(directory, exist_ok=True)
    paths = []
    bic = BICDisplay.from_selection(result)
    bic.ax_.set_title("BIC of each model (lower is better)", fontsize="medium")
    bic.figure_.tight_layout()
    paths.append(os.path.join(directory, "bic.png"))
    bic.figure_.savefig(paths[-1], dpi=100)
    plt.close(bic.figure_)
    best = result.best_estimator_
    if X.shape[1] >= 2:
        features = list(range(min(X.shape[1], MAX_PLOTTED_FEATURES)))
        display = ClassificationDisplay.from_estimator(
            best, X, features=features, feature_names=names
        )
        paths.append(os.path.join(directory, "classification.png"))
        display.figure_.savefig(paths[-1], dpi=100)
        plt.close(display.figure_)
    return paths


def write_labels(model, X, rows, path):
    """Write each row's number in the file (1 = first data row), most
    probable component and component probabilities as CSV."""
    probabilities = model.predict_proba(X)
    k = probabilities.shape[1]
    with open(path, "w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["row", "component"] + [f"probability_{c}" for c in range(k)])
        for row, p in zip(rows, probabilities, strict=True):
            writer.writerow(
                [int(row) + 1, int(np.argmax(p))] + [format(v, ".17g") for v in p]
            )
    return path
