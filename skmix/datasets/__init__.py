"""Embedded data sets."""

from importlib import resources

import numpy as np

__all__ = ["load_faithful"]


def load_faithful(return_X_y=False, as_frame=False):
    """Load the Old Faithful geyser data (R ``datasets::faithful``), 272 x 2.

    Parameters
    ----------
    return_X_y : bool, default=False
        Return only the data array instead of a Bunch.
    as_frame : bool, default=False
        Return a pandas DataFrame as ``data`` (requires pandas).

    Returns
    -------
    data : sklearn.utils.Bunch or ndarray of shape (272, 2)
        Columns ``eruptions`` (minutes) and ``waiting`` (minutes to the next
        eruption). A Bunch has ``data``, ``feature_names`` and ``DESCR``.

    Examples
    --------
    >>> from skmix.datasets import load_faithful
    >>> load_faithful(return_X_y=True).shape
    (272, 2)
    """
    from sklearn.utils import Bunch

    path = resources.files(__package__).joinpath("faithful.csv")
    with path.open("r") as handle:
        names = [name.strip('"') for name in handle.readline().strip().split(",")]
        data = np.loadtxt(handle, delimiter=",")
    if return_X_y:
        return data
    if as_frame:
        import pandas as pd

        data = pd.DataFrame(data, columns=names)
    return Bunch(
        data=data,
        feature_names=names,
        DESCR="Old Faithful geyser eruptions (R datasets::faithful), 272 x 2.",
    )
