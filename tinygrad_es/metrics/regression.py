"""Regression metrics: MAE, MSE, RMSE, MAPE, MSLE, log-cosh and cosine similarity.

The per-sample functions are Keras's loss formulas (keras-semantics.md section 2.2) on numpy:
ranks are aligned, then the error is averaged over the last axis. Two 1-D arrays therefore give a
single value per batch (which then counts once), exactly as in Keras.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from tinygrad_es import config
from tinygrad_es.metrics.base import Mean, MeanMetricWrapper, align_ranks, as_array, compute_dtype


def _pair(y_true: Any, y_pred: Any) -> tuple[np.ndarray, np.ndarray]:
    y_pred = as_array(y_pred)
    y_pred = y_pred.astype(compute_dtype(y_pred), copy=False)
    return align_ranks(as_array(y_true, y_pred.dtype), y_pred)


def mean_absolute_error(y_true: Any, y_pred: Any) -> np.ndarray:
    """``mean_last |y - p|``.

    Example:
        >>> mean_absolute_error(np.array([[1.0, 2.0]]), np.array([[2.0, 2.0]]))
        array([0.5])
    """
    y_true, y_pred = _pair(y_true, y_pred)
    return np.mean(np.abs(y_true - y_pred), axis=-1)


def mean_squared_error(y_true: Any, y_pred: Any) -> np.ndarray:
    """``mean_last (y - p)^2``.

    Example:
        >>> mean_squared_error(np.array([[1.0, 2.0]]), np.array([[3.0, 2.0]]))
        array([2.])
    """
    y_true, y_pred = _pair(y_true, y_pred)
    return np.mean(np.square(y_true - y_pred), axis=-1)


def mean_absolute_percentage_error(y_true: Any, y_pred: Any) -> np.ndarray:
    """``100 * mean_last |(y - p) / max(|y|, eps)|``.

    Example:
        >>> mean_absolute_percentage_error(np.array([[2.0]]), np.array([[1.0]]))
        array([50.])
    """
    y_true, y_pred = _pair(y_true, y_pred)
    eps = y_pred.dtype.type(config.epsilon())
    diff = np.abs((y_true - y_pred) / np.maximum(np.abs(y_true), eps))
    return y_pred.dtype.type(100.0) * np.mean(diff, axis=-1)


def mean_squared_logarithmic_error(y_true: Any, y_pred: Any) -> np.ndarray:
    """``mean_last (log(max(p, eps) + 1) - log(max(y, eps) + 1))^2``.

    Example:
        >>> values = mean_squared_logarithmic_error(np.array([[np.e - 1]]), np.array([[0.0]]))
        >>> round(float(values[0]), 6)
        1.0
    """
    y_true, y_pred = _pair(y_true, y_pred)
    # NOTE: Keras builds this eps as a float32 tensor, so in float64 it is f32(1e-7).
    eps = y_pred.dtype.type(np.float32(config.epsilon()))
    first = np.log(np.maximum(y_pred, eps) + 1)
    second = np.log(np.maximum(y_true, eps) + 1)
    return np.mean(np.square(first - second), axis=-1)


def log_cosh(y_true: Any, y_pred: Any) -> np.ndarray:
    """``mean_last log(cosh(p - y))`` as ``r + softplus(-2r) - log 2``.

    Example:
        >>> round(float(log_cosh(np.array([[0.0]]), np.array([[1.0]]))[0]), 6)
        0.433781
    """
    y_true, y_pred = _pair(y_true, y_pred)
    # NOTE: Keras computes log(2) in float32 even in float64 mode (keras-semantics.md 8.2).
    log2 = y_pred.dtype.type(np.log(np.float32(2.0)))
    r = y_pred - y_true
    return np.mean(r + np.logaddexp(0, -2 * r) - log2, axis=-1)


def _l2_normalize(x: np.ndarray) -> np.ndarray:
    square_sum = np.sum(np.square(x), axis=-1, keepdims=True)
    with np.errstate(divide="ignore"):
        inv_norm = 1 / np.sqrt(square_sum)
    return x * np.minimum(inv_norm, x.dtype.type(1 / config.epsilon()))


def cosine_similarity(y_true: Any, y_pred: Any) -> np.ndarray:
    """``sum_last(ŷ * p̂)`` of the L2-normalised vectors: +1 for the same direction.

    Example:
        >>> cosine_similarity(np.array([[1.0, 0.0]]), np.array([[2.0, 0.0]]))
        array([1.])
    """
    y_true, y_pred = _pair(y_true, y_pred)
    return np.sum(_l2_normalize(y_true) * _l2_normalize(y_pred), axis=-1)


# ----- metric classes -----

class MeanAbsoluteError(MeanMetricWrapper):
    """Mean absolute error over all samples seen (``"mae"``).

    Example:
        >>> m = MeanAbsoluteError(); m.update_state([[1.0], [2.0]], [[2.0], [2.0]]); m.result()
        0.5
    """

    _direction = "down"

    def __init__(self, name: str = "mean_absolute_error", dtype: Any = None):
        super().__init__(mean_absolute_error, name=name, dtype=dtype)

    def get_config(self) -> dict:
        return {"name": self.name, "dtype": self.dtype}


class MeanSquaredError(MeanAbsoluteError):
    """Mean squared error over all samples seen (``"mse"``).

    Example:
        >>> m = MeanSquaredError(); m.update_state([[1.0], [2.0]], [[3.0], [2.0]]); m.result()
        2.0
    """

    def __init__(self, name: str = "mean_squared_error", dtype: Any = None):
        MeanMetricWrapper.__init__(self, mean_squared_error, name=name, dtype=dtype)


class MeanAbsolutePercentageError(MeanAbsoluteError):
    """Mean absolute percentage error (``"mape"``); 100 means off by the label's size.

    Example:
        >>> m = MeanAbsolutePercentageError(); m.update_state([[2.0]], [[1.0]]); m.result()
        50.0
    """

    def __init__(self, name: str = "mean_absolute_percentage_error", dtype: Any = None):
        MeanMetricWrapper.__init__(self, mean_absolute_percentage_error, name=name, dtype=dtype)


class MeanSquaredLogarithmicError(MeanAbsoluteError):
    """Mean squared logarithmic error (``"msle"``).

    Example:
        >>> m = MeanSquaredLogarithmicError(); m.update_state([[0.0]], [[0.0]]); m.result()
        0.0
    """

    def __init__(self, name: str = "mean_squared_logarithmic_error", dtype: Any = None):
        MeanMetricWrapper.__init__(self, mean_squared_logarithmic_error, name=name, dtype=dtype)


class LogCoshError(MeanAbsoluteError):
    """Mean of ``log(cosh(p - y))`` (Keras's default name is ``"logcosh"``).

    Example:
        >>> m = LogCoshError(); m.update_state([[0.0]], [[1.0]]); round(m.result(), 6)
        0.433781
    """

    def __init__(self, name: str = "logcosh", dtype: Any = None):
        MeanMetricWrapper.__init__(self, log_cosh, name=name, dtype=dtype)


class CosineSimilarity(MeanMetricWrapper):
    """Mean cosine similarity between label and prediction vectors (higher is better).

    Example:
        >>> m = CosineSimilarity(); m.update_state([[1.0, 0.0]], [[0.0, 1.0]]); m.result()
        0.0
    """

    _direction = "up"

    def __init__(self, name: str = "cosine_similarity", dtype: Any = None, axis: int = -1):
        if axis != -1:
            raise ValueError(f"CosineSimilarity supports axis=-1 only, received axis={axis}")
        super().__init__(cosine_similarity, name=name, dtype=dtype)

    def get_config(self) -> dict:
        return {"name": self.name, "dtype": self.dtype}


class RootMeanSquaredError(Mean):
    """``sqrt`` of the (weighted) mean squared error over all samples seen.

    Example:
        >>> m = RootMeanSquaredError(); m.update_state([[1.0], [2.0]], [[3.0], [2.0]]); m.result()
        1.4142135381698608
    """

    _direction = "down"

    def __init__(self, name: str = "root_mean_squared_error", dtype: Any = None):
        super().__init__(name=name, dtype=dtype)

    def update_state(self, y_true: Any, y_pred: Any,  # type: ignore[override]
                     sample_weight: Any = None) -> None:
        y_true, y_pred = align_ranks(as_array(y_true, self._dtype), as_array(y_pred, self._dtype))
        super().update_state(np.square(y_pred - y_true), sample_weight=sample_weight)

    def result(self) -> float:
        return float(np.sqrt(self._dtype.type(super().result())))

    def get_config(self) -> dict:
        return {"name": self.name, "dtype": self.dtype}
