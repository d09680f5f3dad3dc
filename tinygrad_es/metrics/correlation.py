"""How well predictions follow the targets: R² (coefficient of determination) and correlations.

* ``R2Score`` accumulates per-output sums over every batch, then
  ``R² = 1 - sum (y - p)² / sum (y - mean y)²`` (optionally adjusted for the regressors).
* ``pearson_correlation`` / ``concordance_correlation`` compute one coefficient per sample over
  its last axis; ``PearsonCorrelation`` / ``ConcordanceCorrelation`` average them over batches.
"""

from __future__ import annotations

import warnings
from typing import Any

import numpy as np

from tinygrad_es import config
from tinygrad_es.losses.loss import squeeze_or_expand_to_same_rank
from tinygrad_es.metrics.base import Metric, MeanMetricWrapper, as_array, compute_dtype
from tinygrad_es.tfcast import tf_constant

_AGGREGATIONS = (None, "uniform_average", "variance_weighted_average")


# ----- correlation coefficients -----

def _pair(y_true: Any, y_pred: Any) -> tuple[np.ndarray, np.ndarray]:
    y_pred = as_array(y_pred)
    y_pred = y_pred.astype(compute_dtype(y_pred), copy=False)
    return squeeze_or_expand_to_same_rank(as_array(y_true, y_pred.dtype), y_pred)


def pearson_correlation(y_true: Any, y_pred: Any, axis: int = -1) -> np.ndarray:
    """Pearson's r over ``axis``: the mean product of the standardised values.

    Example:
        >>> pearson_correlation(np.array([[1.0, 2.0, 3.0]]), np.array([[2.0, 4.0, 7.0]])).round(4)
        array([0.9934])
    """
    y_true, y_pred = _pair(y_true, y_pred)
    t = y_true - np.mean(y_true, axis=axis, keepdims=True)
    p = y_pred - np.mean(y_pred, axis=axis, keepdims=True)
    t = t / np.std(t, axis=axis, keepdims=True)
    p = p / np.std(p, axis=axis, keepdims=True)
    return np.mean(t * p, axis=axis)


def concordance_correlation(y_true: Any, y_pred: Any, axis: int = -1) -> np.ndarray:
    """Lin's concordance coefficient over ``axis``, as Keras computes it.

    Example:
        >>> y = np.array([[1.0, 2.0, 3.0]])
        >>> concordance_correlation(y, y).round(4)
        array([1.])
    """
    y_true, y_pred = _pair(y_true, y_pred)
    t_mean = np.mean(y_true, axis=axis, keepdims=True)
    p_mean = np.mean(y_pred, axis=axis, keepdims=True)
    t_var = np.var(y_true - t_mean, axis=axis, keepdims=True)
    p_var = np.var(y_pred - p_mean, axis=axis, keepdims=True)
    # NOTE: Keras centres y_true on the *prediction* mean in the covariance; kept for parity.
    covariance = (y_true - p_mean) * (y_pred - p_mean)
    norm = t_var + p_var + np.square(t_mean - p_mean)
    eps = y_pred.dtype.type(config.epsilon())
    return np.mean(2 * covariance / (norm + eps), axis=axis)


class PearsonCorrelation(MeanMetricWrapper):
    """Mean over samples of :func:`pearson_correlation`.

    Example:
        >>> m = PearsonCorrelation()
        >>> m.update_state(np.array([[1.0, 2.0, 3.0]]), np.array([[2.0, 4.0, 7.0]]))
        >>> round(m.result(), 4)
        0.9934
    """

    _direction = "up"

    def __init__(self, name: str = "pearson_correlation", dtype: Any = None, axis: int = -1):
        super().__init__(pearson_correlation, name=name, dtype=dtype, axis=axis)
        self.axis = axis

    def get_config(self) -> dict:
        return {"name": self.name, "dtype": self.dtype, "axis": self.axis}


class ConcordanceCorrelation(PearsonCorrelation):
    """Mean over samples of :func:`concordance_correlation`.

    Example:
        >>> m = ConcordanceCorrelation()
        >>> m.update_state(np.array([[1.0, 2.0, 3.0]]), np.array([[1.0, 2.0, 3.0]]))
        >>> round(m.result(), 4)
        1.0
    """

    def __init__(self, name: str = "concordance_correlation", dtype: Any = None, axis: int = -1):
        MeanMetricWrapper.__init__(self, concordance_correlation, name=name, dtype=dtype,
                                   axis=axis)
        self.axis = axis


# ----- R² -----

class R2Score(Metric):
    """R², the coefficient of determination, over all samples seen (1 is a perfect fit).

    Args:
        class_aggregation: for several outputs, ``"uniform_average"`` (default),
            ``"variance_weighted_average"`` or None (one score per output, a list).
        num_regressors: > 0 gives the adjusted R² ``1 - (1 - R²)(n - 1)/(n - k - 1)``, where
            n counts every target value seen.
        name: the logged name (default ``"r2_score"``).
        dtype: the accumulator dtype.

    Example:
        >>> m = R2Score()
        >>> m.update_state(np.array([[1.0], [2.0], [3.0]]), np.array([[1.0], [2.0], [2.0]]))
        >>> m.result()
        0.5
    """

    _direction = "up"

    def __init__(self, class_aggregation: str | None = "uniform_average", num_regressors: int = 0,
                 name: str = "r2_score", dtype: Any = None):
        super().__init__(name=name, dtype=dtype)
        if class_aggregation not in _AGGREGATIONS:
            raise ValueError("Invalid value for argument `class_aggregation`. Expected one of "
                             f"{_AGGREGATIONS}. Received: class_aggregation={class_aggregation}")
        if num_regressors < 0:
            raise ValueError("Invalid value for argument `num_regressors`. Expected a value >= 0. "
                             f"Received: num_regressors={num_regressors}")
        self.class_aggregation, self.num_regressors = class_aggregation, num_regressors
        self.num_samples = self.add_variable((), "zeros", name="num_samples")
        self._built = False

    def _build(self, y_true_shape: tuple, y_pred_shape: tuple) -> None:
        if len(y_pred_shape) != 2 or len(y_true_shape) != 2:
            raise ValueError("R2Score expects 2D inputs with shape (batch_size, output_dim). "
                             f"Received input shapes: y_pred.shape={y_pred_shape} and "
                             f"y_true.shape={y_true_shape}.")
        outputs = (y_pred_shape[-1],)
        self.squared_sum = self.add_variable(outputs, "zeros", name="squared_sum")
        self.sum = self.add_variable(outputs, "zeros", name="sum")
        self.total_mse = self.add_variable(outputs, "zeros", name="residual")
        self.count = self.add_variable(outputs, "zeros", name="count")
        self._built = True

    def update_state(self, y_true: Any, y_pred: Any, sample_weight: Any = None) -> None:
        y_true, y_pred = squeeze_or_expand_to_same_rank(as_array(y_true, self._dtype),
                                                        as_array(y_pred, self._dtype))
        if not self._built:
            self._build(y_true.shape, y_pred.shape)
        weight = np.asarray(1 if sample_weight is None else as_array(sample_weight), self._dtype)
        if weight.ndim == 1:
            weight = weight[:, None]
        weight = np.broadcast_to(weight, y_true.shape)
        weighted = y_true * weight
        dt = self._dtype
        self.sum.assign(self.sum + np.sum(weighted, axis=0, dtype=dt))
        self.squared_sum.assign(self.squared_sum + np.sum(y_true * weighted, axis=0, dtype=dt))
        self.total_mse.assign(self.total_mse + np.sum((y_true - y_pred) ** 2 * weight, axis=0,
                                                      dtype=dt))
        self.count.assign(self.count + np.sum(weight, axis=0, dtype=dt))
        self.num_samples.assign(self.num_samples + y_true.size)

    def result(self) -> float | list[float]:
        if not self._built:
            return 0.0
        with np.errstate(divide="ignore", invalid="ignore"):
            mean = self.sum / self.count
            total = self.squared_sum - self.sum * mean
            raw = 1 - self.total_mse / total
        raw = np.where(np.isinf(raw), 0.0, raw).astype(self._dtype)
        if self.class_aggregation == "uniform_average":
            score = np.mean(raw)
        elif self.class_aggregation == "variance_weighted_average":
            score = np.sum(total * raw) / np.sum(total)
        else:
            return [float(v) for v in raw]
        n, k = float(self.num_samples), self.num_regressors
        if k and k > n - 1:
            warnings.warn("More independent predictors than datapoints in adjusted R2 score. "
                          "Falling back to standard R2 score.", stacklevel=2)
        elif k and k == n - 1:
            warnings.warn("Division by zero in Adjusted R2 score. Falling back to standard R2 "
                          "score.", stacklevel=2)
        elif k:
            # NOTE: Keras makes n and k float32 tensors (exact for any realistic count).
            one, n, k = (tf_constant(float(c), self._dtype) for c in (1, n, k))
            score = one - (one - score) * (n - one) / ((n - k) - one)
        return float(score)

    def get_config(self) -> dict:
        return {"name": self.name, "dtype": self.dtype, "class_aggregation":
                self.class_aggregation, "num_regressors": self.num_regressors}
