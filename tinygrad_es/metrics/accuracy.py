"""Accuracy metrics: exact match, binary (threshold), categorical, sparse and top-k.

Each metric is a ``MeanMetricWrapper`` around a per-sample numpy function named as in
``keras.metrics`` (``binary_accuracy`` ...), which returns 1.0 for a hit and 0.0 for a miss in the
shape Keras returns (that shape decides how sample weights broadcast).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from tinygrad_es import config
from tinygrad_es.losses.loss import squeeze_or_expand_to_same_rank
from tinygrad_es.metrics.base import MeanMetricWrapper, as_array, compute_dtype
from tinygrad_es.tfcast import tf_constant


def _hits(matches: np.ndarray) -> np.ndarray:
    return matches.astype(config.floatx())


def accuracy(y_true: Any, y_pred: Any) -> np.ndarray:
    """1.0 where ``y_true == y_pred`` exactly (after Keras's rank alignment), else 0.0.

    Example:
        >>> accuracy(np.array([1, 2]), np.array([1.0, 3.0]))
        array([1., 0.], dtype=float32)
    """
    y_pred = as_array(y_pred)
    y_true = as_array(y_true, compute_dtype(y_pred) if y_pred.dtype.kind == "f" else None)
    y_true, y_pred = squeeze_or_expand_to_same_rank(y_true, y_pred)
    return _hits(y_true == y_pred)


def binary_accuracy(y_true: Any, y_pred: Any, threshold: float = 0.5) -> np.ndarray:
    """1.0 where ``(y_pred > threshold) == y_true``: strictly greater, labels must be exactly 0/1.

    Example:
        >>> binary_accuracy(np.array([[1.0], [0.0]]), np.array([[0.5], [0.2]]))
        array([[0.],
               [1.]], dtype=float32)
    """
    y_true, y_pred = squeeze_or_expand_to_same_rank(as_array(y_true), as_array(y_pred))
    # NOTE: Keras makes the threshold a float32 tensor, so in float64 it compares against f32(t).
    return _hits((y_pred > tf_constant(threshold, np.float32)) == y_true)


def categorical_accuracy(y_true: Any, y_pred: Any) -> np.ndarray:
    """1.0 where ``argmax(y_pred) == argmax(y_true)`` over the last axis (first index on ties).

    Example:
        >>> categorical_accuracy(np.eye(2), np.array([[0.9, 0.1], [0.8, 0.2]]))
        array([1., 0.], dtype=float32)
    """
    y_true, y_pred = np.argmax(as_array(y_true), axis=-1), as_array(y_pred)
    if y_true.ndim == y_pred.ndim:
        y_true = y_true[..., 0]
    return _hits(y_true == np.argmax(y_pred, axis=-1))


def sparse_categorical_accuracy(y_true: Any, y_pred: Any) -> np.ndarray:
    """1.0 where ``argmax(y_pred) == y_true`` for integer labels of shape ``(N,)`` or ``(N, 1)``.

    Example:
        >>> sparse_categorical_accuracy(np.array([0, 1]), np.array([[0.9, 0.1], [0.8, 0.2]]))
        array([1., 0.], dtype=float32)
    """
    y_true, y_pred = as_array(y_true), as_array(y_pred)
    if y_true.ndim == y_pred.ndim and y_true.shape[-1] == 1:
        y_true = y_true[..., 0]
    matches = _hits(y_true == np.argmax(y_pred, axis=-1))
    return matches[..., 0] if matches.ndim > 1 and matches.shape[-1] == 1 else matches


def _in_top_k(targets: np.ndarray, predictions: np.ndarray, k: int) -> np.ndarray:
    """TF's ``in_top_k``: fewer than k classes score strictly higher; ties count as in."""
    n_classes = predictions.shape[-1]
    valid = (targets >= 0) & (targets < n_classes)
    safe = np.where(valid, targets, 0).astype(np.intp)
    target_score = np.take_along_axis(predictions, safe[:, None], axis=-1)
    better = np.count_nonzero(predictions > target_score, axis=-1)
    finite = np.all(np.isfinite(predictions), axis=-1)
    return valid & finite & (better < k)


def top_k_categorical_accuracy(y_true: Any, y_pred: Any, k: int = 5) -> np.ndarray:
    """1.0 where the one-hot label's class is among the k highest predictions.

    Example:
        >>> top_k_categorical_accuracy(np.eye(3)[[2]], np.array([[0.5, 0.3, 0.2]]), k=2)
        array([0.], dtype=float32)
    """
    y_pred = as_array(y_pred)
    y_true = np.argmax(as_array(y_true), axis=-1)
    shape = y_true.shape
    hits = _in_top_k(y_true.reshape(-1), y_pred.reshape(-1, y_pred.shape[-1]), k)
    return _hits(hits).reshape(shape)


def sparse_top_k_categorical_accuracy(y_true: Any, y_pred: Any, k: int = 5) -> np.ndarray:
    """1.0 where the integer label is among the k highest predictions.

    Example:
        >>> sparse_top_k_categorical_accuracy(np.array([1]), np.array([[0.5, 0.3, 0.2]]), k=2)
        array([1.], dtype=float32)
    """
    y_pred = as_array(y_pred)
    y_true = as_array(y_true).astype(np.int64)
    shape = y_true.shape
    hits = _in_top_k(y_true.reshape(-1), y_pred.reshape(-1, y_pred.shape[-1]), k)
    return _hits(hits).reshape(shape)


# ----- metric classes -----

class Accuracy(MeanMetricWrapper):
    """How often predictions equal labels exactly.

    Example:
        >>> m = Accuracy(); m.update_state([[1], [2]], [[1], [3]]); m.result()
        0.5
    """

    _direction = "up"

    def __init__(self, name: str = "accuracy", dtype: Any = None):
        super().__init__(accuracy, name=name, dtype=dtype)

    def get_config(self) -> dict:
        return {"name": self.name, "dtype": self.dtype}


class BinaryAccuracy(MeanMetricWrapper):
    """How often ``y_pred > threshold`` matches 0/1 labels (what ``"accuracy"`` is for 1 unit).

    Example:
        >>> m = BinaryAccuracy(); m.update_state([[1], [0]], [[0.9], [0.6]]); m.result()
        0.5
    """

    _direction = "up"

    def __init__(self, name: str = "binary_accuracy", dtype: Any = None, threshold: float = 0.5):
        super().__init__(binary_accuracy, name=name, dtype=dtype, threshold=threshold)
        self.threshold = threshold

    def get_config(self) -> dict:
        return {"name": self.name, "dtype": self.dtype, "threshold": self.threshold}


class CategoricalAccuracy(MeanMetricWrapper):
    """How often the argmax of the prediction matches the argmax of a one-hot label.

    Example:
        >>> m = CategoricalAccuracy(); m.update_state([[0, 1]], [[0.3, 0.7]]); m.result()
        1.0
    """

    _direction = "up"

    def __init__(self, name: str = "categorical_accuracy", dtype: Any = None):
        super().__init__(categorical_accuracy, name=name, dtype=dtype)

    def get_config(self) -> dict:
        return {"name": self.name, "dtype": self.dtype}


class SparseCategoricalAccuracy(MeanMetricWrapper):
    """How often the argmax of the prediction equals an integer label.

    Example:
        >>> m = SparseCategoricalAccuracy(); m.update_state([1], [[0.3, 0.7]]); m.result()
        1.0
    """

    _direction = "up"

    def __init__(self, name: str = "sparse_categorical_accuracy", dtype: Any = None):
        super().__init__(sparse_categorical_accuracy, name=name, dtype=dtype)

    def get_config(self) -> dict:
        return {"name": self.name, "dtype": self.dtype}


class TopKCategoricalAccuracy(MeanMetricWrapper):
    """How often a one-hot label's class is among the ``k`` highest predictions.

    Example:
        >>> m = TopKCategoricalAccuracy(k=1); m.update_state([[0, 1]], [[0.3, 0.7]]); m.result()
        1.0
    """

    _direction = "up"

    def __init__(self, k: int = 5, name: str = "top_k_categorical_accuracy", dtype: Any = None):
        super().__init__(top_k_categorical_accuracy, name=name, dtype=dtype, k=k)
        self.k = k

    def get_config(self) -> dict:
        return {"name": self.name, "dtype": self.dtype, "k": self.k}


class SparseTopKCategoricalAccuracy(MeanMetricWrapper):
    """How often an integer label is among the ``k`` highest predictions.

    Example:
        >>> m = SparseTopKCategoricalAccuracy(k=1); m.update_state([0], [[0.3, 0.7]]); m.result()
        0.0
    """

    _direction = "up"

    def __init__(self, k: int = 5, name: str = "sparse_top_k_categorical_accuracy",
                 dtype: Any = None):
        super().__init__(sparse_top_k_categorical_accuracy, name=name, dtype=dtype, k=k)
        self.k = k

    def get_config(self) -> dict:
        return {"name": self.name, "dtype": self.dtype, "k": self.k}
