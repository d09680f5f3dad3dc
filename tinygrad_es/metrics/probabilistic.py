"""Probabilistic metrics: binary / categorical / sparse crossentropy, KL divergence, Poisson.

The crossentropies follow Keras's rule (keras-semantics.md section 2.2 and pitfall 1): a prediction
that came out of ``sigmoid``/``softmax`` carries its logits, and the metric then computes from the
logits with no epsilon clipping, whatever ``from_logits`` says. A real ``model.fit`` logs e.g. a BCE
metric of 20.0 from logits where the clipped formula gives 4.03 (checked in tests/test_metrics.py).
Only plain arrays (``model.predict`` output) take the clipped-probability path.
"""

from __future__ import annotations

import warnings
from typing import Any

import numpy as np

from tinygrad_es import config
from tinygrad_es.activations import logits_of
from tinygrad_es.metrics.base import MeanMetricWrapper, align_ranks, as_array, compute_dtype
from tinygrad_es.tensor import Tensor


def _prediction(y_pred: Any, from_logits: bool, fn_name: str) -> tuple[np.ndarray, bool]:
    """The array to compute from and whether it holds logits (Keras's ``_get_logits``)."""
    if isinstance(y_pred, Tensor):
        logits = logits_of(y_pred)
        if logits is not None:
            if from_logits:
                warnings.warn(f"`{fn_name}` received `from_logits=True`, but the prediction was "
                              "produced by a sigmoid/softmax activation and thus does not "
                              "represent logits. Was this intended?", stacklevel=4)
            return logits.data, True
    y_pred = as_array(y_pred)
    return y_pred.astype(compute_dtype(y_pred), copy=False), from_logits


def _same_shape(fn_name: str, y_true: np.ndarray, y_pred: np.ndarray) -> None:
    if y_true.shape != y_pred.shape:
        raise ValueError(f"{fn_name} expects y_true and y_pred of the same shape, received "
                         f"y_true.shape={y_true.shape}, y_pred.shape={y_pred.shape}")


def binary_crossentropy(y_true: Any, y_pred: Any, from_logits: bool = False,
                        label_smoothing: float = 0.0) -> np.ndarray:
    """Mean over the last axis of the elementwise binary crossentropy.

    Probabilities are clipped to ``[eps, 1 - eps]``; logits use
    ``max(z, 0) - z*y + log(1 + exp(-|z|))``. Unlike the loss, there is no rank alignment: the
    shapes must match, as in Keras.

    Example:
        >>> round(float(binary_crossentropy(np.array([[1.0]]), np.array([[0.5]]))[0]), 6)
        0.693147
    """
    p, from_logits = _prediction(y_pred, from_logits, "binary_crossentropy")
    y = as_array(y_true, p.dtype)
    if label_smoothing:
        y = y * (1.0 - label_smoothing) + 0.5 * label_smoothing
    _same_shape("binary_crossentropy", y, p)
    if from_logits:
        values = np.maximum(p, 0) - p * y + np.log1p(np.exp(-np.abs(p)))
    else:
        eps = config.epsilon()
        p = np.clip(p, eps, 1.0 - eps)
        values = -(y * np.log(p) + (1 - y) * np.log(1 - p))
    return np.mean(values, axis=-1)


def categorical_crossentropy(y_true: Any, y_pred: Any, from_logits: bool = False,
                             label_smoothing: float = 0.0) -> np.ndarray:
    """``-sum_last y * log p`` for one-hot (or soft) labels.

    Probabilities are renormalised to sum to 1, then clipped; logits use ``logsumexp(z) - y.z``.

    Example:
        >>> values = categorical_crossentropy(np.array([[0.0, 1.0]]), np.array([[0.5, 0.5]]))
        >>> round(float(values[0]), 6)
        0.693147
    """
    p, from_logits = _prediction(y_pred, from_logits, "categorical_crossentropy")
    y = as_array(y_true, p.dtype)
    if label_smoothing:
        y = y * (1.0 - label_smoothing) + label_smoothing / p.dtype.type(y.shape[-1])
    _same_shape("categorical_crossentropy", y, p)
    if from_logits:
        shifted = p - np.max(p, axis=-1, keepdims=True)
        log_sum = np.log(np.sum(np.exp(shifted), axis=-1, keepdims=True))
        return np.sum(y * (log_sum - shifted), axis=-1)
    p = p / np.sum(p, axis=-1, keepdims=True)
    eps = config.epsilon()
    return -np.sum(y * np.log(np.clip(p, eps, 1.0 - eps)), axis=-1)


def _sparse_labels(y_true: Any, pred_ndim: int) -> np.ndarray:
    labels = as_array(y_true)
    return labels[..., 0] if labels.ndim == pred_ndim and labels.shape[-1] == 1 else labels


def sparse_categorical_crossentropy(y_true: Any, y_pred: Any, from_logits: bool = False,
                                    ignore_class: int | None = None) -> np.ndarray:
    """``-log p[label]`` for integer labels of shape ``(N,)`` or ``(N, 1)``.

    Probabilities are clipped and their logs fed to a softmax crossentropy, which renormalises the
    clipped values; logits use ``logsumexp(z) - z[label]``. ``ignore_class`` labels give 0.

    Example:
        >>> values = sparse_categorical_crossentropy(np.array([1]), np.array([[0.5, 0.5]]))
        >>> round(float(values[0]), 6)
        0.693147
    """
    p, from_logits = _prediction(y_pred, from_logits, "sparse_categorical_crossentropy")
    labels = _sparse_labels(y_true, p.ndim)
    if labels.shape != p.shape[:-1]:
        raise ValueError("sparse_categorical_crossentropy expects integer labels of shape "
                         f"{p.shape[:-1]} (or with a trailing 1) for y_pred.shape={p.shape}, "
                         f"received y_true.shape={as_array(y_true).shape}")
    valid = None if ignore_class is None else labels != ignore_class
    labels = (labels if valid is None else np.where(valid, labels, 0)).astype(np.int64)
    n_classes = p.shape[-1]
    if labels.size and (labels.min() < 0 or labels.max() >= n_classes):
        bad = labels[(labels < 0) | (labels >= n_classes)][0]
        raise ValueError(f"sparse_categorical_crossentropy received a label value of {bad}, "
                         f"outside the valid range [0, {n_classes}) for y_pred.shape={p.shape}")
    if not from_logits:
        eps = config.epsilon()
        p = np.log(np.clip(p, eps, 1 - eps))
    shifted = p - np.max(p, axis=-1, keepdims=True)
    log_sum = np.log(np.sum(np.exp(shifted), axis=-1))
    values = log_sum - np.take_along_axis(shifted, labels[..., None], axis=-1)[..., 0]
    return values if valid is None else np.where(valid, values, 0).astype(values.dtype)


def kl_divergence(y_true: Any, y_pred: Any) -> np.ndarray:
    """``sum_last y * log(y / p)`` with both clipped to ``[eps, 1]``.

    Example:
        >>> kl_divergence(np.array([[0.5, 0.5]]), np.array([[0.5, 0.5]]))
        array([0.])
    """
    p = as_array(y_pred)
    p = p.astype(compute_dtype(p), copy=False)
    eps = config.epsilon()
    y = np.clip(as_array(y_true, p.dtype), eps, 1)
    return np.sum(y * np.log(y / np.clip(p, eps, 1)), axis=-1)


def poisson(y_true: Any, y_pred: Any) -> np.ndarray:
    """``mean_last p - y * log(p + eps)``.

    Example:
        >>> poisson(np.array([[0.0]]), np.array([[2.0]]))
        array([2.])
    """
    p = as_array(y_pred)
    p = p.astype(compute_dtype(p), copy=False)
    y = as_array(y_true, p.dtype)
    return np.mean(p - y * np.log(p + p.dtype.type(config.epsilon())), axis=-1)


# ----- metric classes -----

class BinaryCrossentropy(MeanMetricWrapper):
    """Mean binary crossentropy; from the logits when the prediction came out of a sigmoid.

    Example:
        >>> m = BinaryCrossentropy(); m.update_state([[1.0]], [[0.5]]); round(m.result(), 6)
        0.693147
    """

    _direction = "down"

    def __init__(self, name: str = "binary_crossentropy", dtype: Any = None,
                 from_logits: bool = False, label_smoothing: float = 0.0):
        super().__init__(binary_crossentropy, name=name, dtype=dtype, from_logits=from_logits,
                         label_smoothing=label_smoothing)
        self.from_logits, self.label_smoothing = from_logits, label_smoothing

    def get_config(self) -> dict:
        return {"name": self.name, "dtype": self.dtype, "from_logits": self.from_logits,
                "label_smoothing": self.label_smoothing}


class CategoricalCrossentropy(MeanMetricWrapper):
    """Mean categorical crossentropy; from the logits when the prediction came out of a softmax.

    Example:
        >>> m = CategoricalCrossentropy(); m.update_state([[0, 1]], [[0.5, 0.5]])
        >>> round(m.result(), 6)
        0.693147
    """

    _direction = "down"

    def __init__(self, name: str = "categorical_crossentropy", dtype: Any = None,
                 from_logits: bool = False, label_smoothing: float = 0.0, axis: int = -1):
        if axis != -1:
            raise ValueError(f"CategoricalCrossentropy supports axis=-1 only, received {axis}")
        super().__init__(categorical_crossentropy, name=name, dtype=dtype,
                         from_logits=from_logits, label_smoothing=label_smoothing)
        self.from_logits, self.label_smoothing, self.axis = from_logits, label_smoothing, axis

    def get_config(self) -> dict:
        return {"name": self.name, "dtype": self.dtype, "from_logits": self.from_logits,
                "label_smoothing": self.label_smoothing, "axis": self.axis}


class SparseCategoricalCrossentropy(MeanMetricWrapper):
    """Mean crossentropy for integer labels; from the logits after a softmax.

    Example:
        >>> m = SparseCategoricalCrossentropy(); m.update_state([1], [[0.5, 0.5]])
        >>> round(m.result(), 6)
        0.693147
    """

    _direction = "down"

    def __init__(self, name: str = "sparse_categorical_crossentropy", dtype: Any = None,
                 from_logits: bool = False, ignore_class: int | None = None, axis: int = -1):
        if axis != -1:
            raise ValueError("SparseCategoricalCrossentropy supports axis=-1 only, "
                             f"received {axis}")
        super().__init__(sparse_categorical_crossentropy, name=name, dtype=dtype,
                         from_logits=from_logits, ignore_class=ignore_class)
        self.from_logits, self.ignore_class, self.axis = from_logits, ignore_class, axis

    def update_state(self, y_true: Any, y_pred: Any, sample_weight: Any = None) -> None:
        if self.ignore_class is not None and sample_weight is not None:
            # NOTE: Keras masks ignored labels out of the *weights* only when weights are given;
            # unweighted, an ignored label counts as a sample with value 0.
            n_dim = as_array(y_pred).ndim
            mask = (_sparse_labels(y_true, n_dim) != self.ignore_class).astype(self._dtype)
            mask, sample_weight = align_ranks(mask, as_array(sample_weight, self._dtype))
            sample_weight = sample_weight * mask
        super().update_state(y_true, y_pred, sample_weight)

    def get_config(self) -> dict:
        return {"name": self.name, "dtype": self.dtype, "from_logits": self.from_logits,
                "ignore_class": self.ignore_class, "axis": self.axis}


class KLDivergence(MeanMetricWrapper):
    """Mean Kullback-Leibler divergence.

    Example:
        >>> m = KLDivergence(); m.update_state([[0.5, 0.5]], [[0.5, 0.5]]); m.result()
        0.0
    """

    _direction = "down"

    def __init__(self, name: str = "kl_divergence", dtype: Any = None):
        super().__init__(kl_divergence, name=name, dtype=dtype)

    def get_config(self) -> dict:
        return {"name": self.name, "dtype": self.dtype}


class Poisson(MeanMetricWrapper):
    """Mean Poisson deviance ``p - y log p``.

    Example:
        >>> m = Poisson(); m.update_state([[0.0]], [[2.0]]); m.result()
        2.0
    """

    _direction = "down"

    def __init__(self, name: str = "poisson", dtype: Any = None):
        super().__init__(poisson, name=name, dtype=dtype)

    def get_config(self) -> dict:
        return {"name": self.name, "dtype": self.dtype}
