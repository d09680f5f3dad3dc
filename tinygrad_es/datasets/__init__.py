"""The built-in data sets: iris and digits, shipped inside the package (no download).

The files are scikit-learn's own copies (BSD-3-Clause, the UCI ML repository data), read into the
same arrays as ``sklearn.datasets.load_iris()`` and ``load_digits()``.
"""

from __future__ import annotations

import gzip
from importlib import resources

import numpy as np

__all__ = ["Dataset", "load_iris", "load_digits"]


class Dataset(dict):
    """A dict whose keys are also attributes (``ds.data``, ``ds.target``), like sklearn's Bunch."""

    def __getattr__(self, key: str):
        try:
            return self[key]
        except KeyError:
            raise AttributeError(key) from None


def _read(name: str) -> str:
    raw = resources.files(__package__).joinpath("data", name).read_bytes()
    return (gzip.decompress(raw) if name.endswith(".gz") else raw).decode("ascii")


def load_iris(return_X_y: bool = False) -> Dataset | tuple[np.ndarray, np.ndarray]:
    """The 150 iris flowers: 4 measurements (cm) and the species 0, 1, 2.

    Example:
        >>> iris = load_iris()
        >>> iris.data.shape, iris.target[:3], iris.feature_names[2]
        ((150, 4), array([0, 0, 0]), 'petal length (cm)')
    """
    lines = _read("iris.csv").strip().splitlines()
    header = lines[0].split(",")
    table = np.array([line.split(",") for line in lines[1:]])
    data = table[:, :-1].astype(np.float64)
    target = table[:, -1].astype(np.int64)
    if return_X_y:
        return data, target
    return Dataset(
        data=data, target=target, target_names=np.array(header[2:]),
        feature_names=["sepal length (cm)", "sepal width (cm)", "petal length (cm)",
                       "petal width (cm)"])


def load_digits(n_class: int = 10, return_X_y: bool = False) -> Dataset | tuple[np.ndarray, np.ndarray]:
    """1,797 handwritten digits as 8×8 images of gray levels 0..16, flattened to 64 features.

    Example:
        >>> digits = load_digits()
        >>> digits.data.shape, digits.images.shape, digits.target[:5]
        ((1797, 64), (1797, 8, 8), array([0, 1, 2, 3, 4]))
    """
    table = np.loadtxt(_read("digits.csv.gz").splitlines(), delimiter=",")
    data, target = table[:, :-1], table[:, -1].astype(np.int64)
    if n_class < 10:
        keep = target < n_class
        data, target = data[keep], target[keep]
    if return_X_y:
        return data, target
    return Dataset(
        data=data, target=target, images=data.reshape(-1, 8, 8), target_names=np.arange(10),
        feature_names=[f"pixel_{r}_{c}" for r in range(8) for c in range(8)])
