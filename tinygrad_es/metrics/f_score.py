"""F-scores: the (weighted) harmonic mean of precision and recall, per class or averaged.

``F_beta = (1 + beta^2) P R / (beta^2 P + R)``: beta = 1 is F1; beta > 1 weighs recall more.
Predictions become 0/1 first: ``y_pred > threshold``, or, without a threshold, the largest score
of each row (ties all count; an all-zero row predicts nothing). The counts accumulate per class
(``average`` None, ``"macro"``, ``"weighted"``) or over everything (``"micro"``), as Keras's
``keras.metrics.FBetaScore`` does, each division with ``+ epsilon`` in the denominator.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from tinygrad_es import config
from tinygrad_es.metrics.base import Metric, as_array

_AVERAGES = (None, "micro", "macro", "weighted")
_COUNTS = ("true_positives", "false_positives", "false_negatives", "intermediate_weights")


class FBetaScore(Metric):
    """F-beta score of multi-class or multi-label predictions of shape ``(batch, classes)``.

    Args:
        average: None (one score per class, a list), ``"micro"`` (global counts),
            ``"macro"`` (mean over classes) or ``"weighted"`` (mean weighted by support).
        beta: a Python float > 0.
        threshold: a Python float in (0, 1]; None takes each row's argmax.
        name: the logged name (default ``"fbeta_score"``).
        dtype: the accumulator dtype.

    Example:
        >>> m = FBetaScore(beta=2.0, threshold=0.5, average="micro")
        >>> m.update_state(np.array([[1, 0], [1, 1]]), np.array([[0.9, 0.6], [0.2, 0.7]]))
        >>> round(m.result(), 4)
        0.6667
    """

    _direction = "up"

    def __init__(self, average: str | None = None, beta: float = 1.0,
                 threshold: float | None = None, name: str = "fbeta_score", dtype: Any = None):
        super().__init__(name=name, dtype=dtype)
        if average not in _AVERAGES:
            raise ValueError("Invalid `average` argument value. Expected one of: {None, 'micro', "
                             f"'macro', 'weighted'}}. Received: average={average}")
        if not isinstance(beta, float):
            raise ValueError("Invalid `beta` argument value. It should be a Python float. "
                             f"Received: beta={beta} of type '{type(beta)}'")
        if beta <= 0.0:
            raise ValueError(f"Invalid `beta` argument value. It should be > 0. Received: "
                             f"beta={beta}")
        if threshold is not None:
            if not isinstance(threshold, float):
                raise ValueError("Invalid `threshold` argument value. It should be a Python float."
                                 f" Received: threshold={threshold} of type '{type(threshold)}'")
            if threshold > 1.0 or threshold <= 0.0:
                raise ValueError("Invalid `threshold` argument value. It should verify 0 < "
                                 f"threshold <= 1. Received: threshold={threshold}")
        self.average, self.beta, self.threshold = average, beta, threshold
        self.axis = None if average == "micro" else 0
        self._built = False

    def _build(self, y_true_shape: tuple, y_pred_shape: tuple) -> None:
        if len(y_pred_shape) != 2 or len(y_true_shape) != 2:
            raise ValueError(f"{type(self).__name__} expects 2D inputs with shape (batch_size, "
                             f"output_dim). Received input shapes: y_pred.shape={y_pred_shape} "
                             f"and y_true.shape={y_true_shape}.")
        shape = () if self.average == "micro" else (y_pred_shape[-1],)
        for count in _COUNTS:
            setattr(self, count, self.add_variable(shape, "zeros", name=count))
        self._built = True

    def update_state(self, y_true: Any, y_pred: Any, sample_weight: Any = None) -> None:
        y_true, y_pred = as_array(y_true, self._dtype), as_array(y_pred, self._dtype)
        if not self._built:
            self._build(y_true.shape, y_pred.shape)
        if self.threshold is None:
            top = np.max(y_pred, axis=-1, keepdims=True)
            # NOTE: Keras compares |p| > 1e-9 in the metric dtype, so an all-zero row predicts none.
            predicted = (y_pred >= top) & (np.abs(y_pred) > self._dtype.type(1e-9))
        else:
            predicted = y_pred > self._dtype.type(self.threshold)
        predicted = predicted.astype(self._dtype)
        weight = None if sample_weight is None else as_array(sample_weight, self._dtype)[:, None]

        def weighted_sum(values: np.ndarray) -> np.ndarray:
            values = values if weight is None else values * weight
            return np.sum(values, axis=self.axis, dtype=self._dtype)

        self.true_positives.assign(self.true_positives + weighted_sum(predicted * y_true))
        self.false_positives.assign(self.false_positives + weighted_sum(predicted * (1 - y_true)))
        self.false_negatives.assign(self.false_negatives + weighted_sum((1 - predicted) * y_true))
        self.intermediate_weights.assign(self.intermediate_weights + weighted_sum(y_true))

    def result(self) -> float | list[float]:
        if not self._built:
            return 0.0 if self.average is not None else []
        eps = self._dtype.type(config.epsilon())
        tp, fp, fn = (getattr(self, c).numpy() for c in _COUNTS[:3])
        precision = tp / (tp + fp + eps)
        recall = tp / (tp + fn + eps)
        beta2, scale = self._dtype.type(self.beta ** 2), self._dtype.type(1 + self.beta ** 2)
        score = precision * recall / (beta2 * precision + recall + eps) * scale
        if self.average == "weighted":
            support = self.intermediate_weights.numpy()
            return float(np.sum(score * (support / (np.sum(support) + eps))))
        if self.average is not None:
            return float(np.mean(score))
        return [float(v) for v in score]

    def get_config(self) -> dict:
        return {"name": self.name, "dtype": self.dtype, "average": self.average,
                "beta": self.beta, "threshold": self.threshold}


class F1Score(FBetaScore):
    """F1 score: :class:`FBetaScore` with ``beta=1``, the harmonic mean of precision and recall.

    Example:
        >>> m = F1Score(threshold=0.5)
        >>> m.update_state(np.array([[1, 1, 1], [1, 0, 0], [1, 1, 0]]),
        ...                np.array([[0.2, 0.6, 0.7], [0.2, 0.6, 0.6], [0.6, 0.8, 0.0]]))
        >>> [round(v, 4) for v in m.result()]
        [0.5, 0.8, 0.6667]
    """

    def __init__(self, average: str | None = None, threshold: float | None = None,
                 name: str = "f1_score", dtype: Any = None):
        super().__init__(average=average, beta=1.0, threshold=threshold, name=name, dtype=dtype)

    def get_config(self) -> dict:
        config = super().get_config()
        del config["beta"]
        return config
