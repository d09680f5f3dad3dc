"""Hinge metrics: hinge, squared hinge and categorical hinge (Keras's loss formulas, averaged)."""

from __future__ import annotations

from typing import Any

import numpy as np

from tinygrad_es.metrics.base import MeanMetricWrapper, as_array, compute_dtype


def _pair(y_true: Any, y_pred: Any) -> tuple[np.ndarray, np.ndarray]:
    p = as_array(y_pred)
    p = p.astype(compute_dtype(p), copy=False)
    return as_array(y_true, p.dtype), p


def _signed_labels(y: np.ndarray) -> np.ndarray:
    """Keras maps labels to -1/+1 only when *every* label in the batch is 0 or 1."""
    return 2 * y - 1 if np.all((y == 0) | (y == 1)) else y


def hinge(y_true: Any, y_pred: Any) -> np.ndarray:
    """``mean_last max(1 - y p, 0)`` with 0/1 labels turned into -1/+1.

    Example:
        >>> hinge(np.array([[1.0]]), np.array([[0.25]]))
        array([0.75])
    """
    y, p = _pair(y_true, y_pred)
    return np.mean(np.maximum(1 - _signed_labels(y) * p, 0), axis=-1)


def squared_hinge(y_true: Any, y_pred: Any) -> np.ndarray:
    """``mean_last max(1 - y p, 0)^2`` with 0/1 labels turned into -1/+1.

    Example:
        >>> squared_hinge(np.array([[1.0]]), np.array([[0.5]]))
        array([0.25])
    """
    y, p = _pair(y_true, y_pred)
    return np.mean(np.square(np.maximum(1 - _signed_labels(y) * p, 0)), axis=-1)


def categorical_hinge(y_true: Any, y_pred: Any) -> np.ndarray:
    """``max(max_last((1 - y) p) - sum_last(y p) + 1, 0)`` for one-hot labels.

    Example:
        >>> categorical_hinge(np.array([[0.0, 1.0]]), np.array([[0.25, 0.5]]))
        array([0.75])
    """
    y, p = _pair(y_true, y_pred)
    pos = np.sum(y * p, axis=-1)
    neg = np.max((1 - y) * p, axis=-1)
    return np.maximum(neg - pos + 1, 0)


class Hinge(MeanMetricWrapper):
    """Mean hinge loss.

    Example:
        >>> m = Hinge(); m.update_state([[1.0]], [[0.25]]); m.result()
        0.75
    """

    _direction = "down"

    def __init__(self, name: str = "hinge", dtype: Any = None):
        super().__init__(hinge, name=name, dtype=dtype)

    def get_config(self) -> dict:
        return {"name": self.name, "dtype": self.dtype}


class SquaredHinge(Hinge):
    """Mean squared hinge loss.

    Example:
        >>> m = SquaredHinge(); m.update_state([[1.0]], [[0.5]]); m.result()
        0.25
    """

    def __init__(self, name: str = "squared_hinge", dtype: Any = None):
        MeanMetricWrapper.__init__(self, squared_hinge, name=name, dtype=dtype)


class CategoricalHinge(Hinge):
    """Mean categorical hinge loss.

    Example:
        >>> m = CategoricalHinge(); m.update_state([[0.0, 1.0]], [[0.25, 0.5]]); m.result()
        0.75
    """

    def __init__(self, name: str = "categorical_hinge", dtype: Any = None):
        MeanMetricWrapper.__init__(self, categorical_hinge, name=name, dtype=dtype)
