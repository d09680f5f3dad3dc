"""Regression metrics: MAE, MSE, RMSE, MAPE, MSLE, log-cosh and cosine similarity.

As in Keras, each metric calls the loss function of the same name (``tinygrad_es.losses``, under
``no_grad``): ranks are aligned, then the error is averaged over the last axis. Two 1-D arrays
therefore give a single value per batch (which then counts once), exactly as in Keras. Only cosine
similarity differs from its loss: the metric is +1, not -1, for the same direction.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from tinygrad_es import losses
from tinygrad_es.autograd import no_grad
from tinygrad_es.losses.loss import squeeze_or_expand_to_same_rank
from tinygrad_es.losses.regression import (log_cosh, mean_absolute_error,
                                           mean_absolute_percentage_error, mean_squared_error,
                                           mean_squared_logarithmic_error)
from tinygrad_es.metrics.base import Mean, MeanMetricWrapper, as_array

__all__ = ["CosineSimilarity", "LogCoshError", "MeanAbsoluteError", "MeanAbsolutePercentageError",
           "MeanSquaredError", "MeanSquaredLogarithmicError", "RootMeanSquaredError",
           "cosine_similarity", "log_cosh", "mean_absolute_error",
           "mean_absolute_percentage_error", "mean_squared_error",
           "mean_squared_logarithmic_error"]


def cosine_similarity(y_true: Any, y_pred: Any, axis: int = -1) -> np.ndarray:
    """``sum_last(ŷ * p̂)`` of the L2-normalised vectors: +1 for the same direction.

    The negated :func:`tinygrad_es.losses.cosine_similarity` (Keras's metric is the loss's sign
    flipped; the negation is exact).

    Example:
        >>> cosine_similarity(np.array([[1.0, 0.0]]), np.array([[2.0, 0.0]]))
        array([1.])
    """
    with no_grad():
        return -losses.cosine_similarity(y_true, y_pred, axis=axis).data


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
        y_true, y_pred = squeeze_or_expand_to_same_rank(as_array(y_true, self._dtype),
                                                        as_array(y_pred, self._dtype))
        super().update_state(np.square(y_pred - y_true), sample_weight=sample_weight)

    def result(self) -> float:
        return float(np.sqrt(self._dtype.type(super().result())))

    def get_config(self) -> dict:
        return {"name": self.name, "dtype": self.dtype}
