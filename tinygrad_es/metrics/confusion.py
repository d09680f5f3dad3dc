"""Confusion-matrix metrics: Precision, Recall, AUC and the four raw counts.

They accumulate (weighted) true/false positive/negative counts per threshold, as Keras's
``metrics_utils.update_confusion_matrix_variables`` does: a prediction is positive when
``y_pred > threshold`` (strictly) and a label is positive when it is non-zero. For evenly spaced
thresholds (AUC's default) Keras bins predictions into buckets ``ceil(p * (T - 1)) - 1`` and
sums the buckets from the top; the same arithmetic is used here so that predictions on a bucket
edge land where Keras puts them.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from tinygrad_es import config
from tinygrad_es.losses.loss import squeeze_or_expand_to_same_rank
from tinygrad_es.metrics.base import Metric, _divide_no_nan, as_array

NEG_INF = -1e10


def _parse_thresholds(thresholds: Any, default: float) -> list[float]:
    if thresholds is None:
        return [default]
    values = list(thresholds) if isinstance(thresholds, (list, tuple, np.ndarray)) else [thresholds]
    bad = [t for t in values if t is None or t < 0 or t > 1]
    if bad:
        raise ValueError(f"Threshold values must be in [0, 1]. Received: {bad}")
    return [float(t) for t in values]


def _evenly_distributed(thresholds: Any) -> bool:
    n = len(thresholds)
    if n < 3:
        return False
    even = np.arange(n, dtype=np.float32) / (n - 1)
    return bool(np.allclose(thresholds, even, atol=config.epsilon()))


def _filter_top_k(x: np.ndarray, k: int) -> np.ndarray:
    """Keep the k largest values of the last axis (lower index first on ties), rest NEG_INF."""
    top = np.argsort(-x, axis=-1, kind="stable")[..., :k]
    mask = np.zeros_like(x)
    np.put_along_axis(mask, top, 1, axis=-1)
    return x * mask + NEG_INF * (1 - mask)


def _bucket_counts(labels: np.ndarray, buckets: np.ndarray, n: int, dtype: np.dtype) -> np.ndarray:
    """Per-threshold sums ``counts[i] = sum(labels where bucket >= i)`` (columns = labels)."""
    if labels.ndim == 1:
        keep = buckets >= 0
        per_bucket = np.bincount(buckets[keep], weights=labels[keep], minlength=n)[:n]
    else:
        cols = np.broadcast_to(np.arange(labels.shape[1]), labels.shape)
        keep = buckets >= 0
        flat = buckets[keep] * labels.shape[1] + cols[keep]
        per_bucket = np.bincount(flat, weights=labels[keep], minlength=n * labels.shape[1])
        per_bucket = per_bucket[: n * labels.shape[1]].reshape(n, labels.shape[1])
    per_bucket = per_bucket.astype(dtype)
    return np.cumsum(per_bucket[::-1], axis=0, dtype=dtype)[::-1]


def confusion_counts(y_true: Any, y_pred: Any, thresholds: Any, dtype: np.dtype, *,
                     evenly: bool = False, top_k: int | None = None, class_id: int | None = None,
                     sample_weight: Any = None, multi_label: bool = False,
                     label_weights: Any = None) -> dict[str, np.ndarray]:
    """One batch's (weighted) ``tp``, ``fp``, ``tn``, ``fn`` per threshold, in ``dtype``.

    Shapes are ``(T,)``, or ``(T, labels)`` with ``multi_label``.

    Example:
        >>> c = confusion_counts([1, 0, 1], [0.9, 0.8, 0.2], [0.5], np.dtype("float64"))
        >>> c["tp"], c["fp"], c["fn"]
        (array([1.]), array([1.]), array([1.]))
    """
    y_true, y_pred = as_array(y_true, dtype), as_array(y_pred, dtype)
    thresholds = np.asarray(thresholds, dtype=dtype)
    n_thr = thresholds.shape[0]
    y_pred, y_true = squeeze_or_expand_to_same_rank(y_pred, y_true)
    if sample_weight is not None:
        sample_weight = as_array(sample_weight, dtype)[..., None]
        _, sample_weight = squeeze_or_expand_to_same_rank(y_true, sample_weight,
                                                          expand_rank_1=False)
    if top_k is not None:
        y_pred = _filter_top_k(y_pred, top_k)
    if class_id is not None:
        if y_pred.ndim == 1:
            raise ValueError("When class_id is provided, y_pred must be a 2D array with shape "
                             f"(num_samples, num_classes), found shape: {y_pred.shape}")
        y_true, y_pred = y_true[..., class_id, None], y_pred[..., class_id, None]
    shape = y_pred.shape if multi_label else (-1,)
    weights = np.ones((), dtype) if sample_weight is None else sample_weight
    weights = np.broadcast_to(weights, y_pred.shape)
    if label_weights is not None:
        weights = weights * np.broadcast_to(np.asarray(label_weights, dtype)[None], y_pred.shape)
    weights = weights.reshape(shape)
    is_pos = (y_true != 0).reshape(shape)
    y_pred = y_pred.reshape(shape)
    if evenly:
        with_eps = bool(thresholds[0] < 0 or thresholds[-1] > 1)
        buckets = np.ceil(np.clip(y_pred, 0, 1) * dtype.type(n_thr - 1)) - 1
        buckets = (np.maximum(buckets, 0) if with_eps else buckets).astype(np.int64)
        true_w = np.where(is_pos, weights, 0).astype(dtype)
        false_w = np.where(is_pos, 0, weights).astype(dtype)
        tp = _bucket_counts(true_w, buckets, n_thr, dtype)
        fp = _bucket_counts(false_w, buckets, n_thr, dtype)
    else:
        thr = thresholds.reshape((n_thr,) + (1,) * y_pred.ndim)
        pred_pos = y_pred[None] > thr
        true_w = np.where(is_pos, weights, 0).astype(dtype)
        false_w = np.where(is_pos, 0, weights).astype(dtype)
        tp = np.sum(np.where(pred_pos, true_w, 0), axis=1, dtype=dtype)
        fp = np.sum(np.where(pred_pos, false_w, 0), axis=1, dtype=dtype)
    total_true = np.sum(true_w, axis=0, dtype=dtype)
    total_false = np.sum(false_w, axis=0, dtype=dtype)
    return {"tp": tp, "fp": fp, "tn": total_false - fp, "fn": total_true - tp}


def _scalar_or_list(values: np.ndarray) -> float | list[float]:
    return float(values[0]) if values.shape[0] == 1 else [float(v) for v in values]


# ----- precision, recall and raw counts -----

class _ThresholdMetric(Metric):
    """Shared state of the threshold metrics: counts named in ``_counts`` per threshold."""

    _counts: tuple[str, ...] = ()

    def __init__(self, thresholds: Any = None, top_k: int | None = None,
                 class_id: int | None = None, name: str | None = None, dtype: Any = None):
        self.init_thresholds, self.top_k, self.class_id = thresholds, top_k, class_id
        self.thresholds = _parse_thresholds(thresholds, 0.5 if top_k is None else NEG_INF)
        self._evenly = _evenly_distributed(self.thresholds)
        super().__init__(name=name, dtype=dtype)
        self.reset_state()

    def reset_state(self) -> None:
        self._state = {c: np.zeros(len(self.thresholds), self._dtype) for c in self._counts}

    def update_state(self, y_true: Any, y_pred: Any, sample_weight: Any = None) -> None:
        counts = confusion_counts(y_true, y_pred, self.thresholds, self._dtype,
                                  evenly=self._evenly, top_k=self.top_k, class_id=self.class_id,
                                  sample_weight=sample_weight)
        for c in self._counts:
            self._state[c] += counts[c]

    def get_config(self) -> dict:
        return {"name": self.name, "dtype": self.dtype, "thresholds": self.init_thresholds,
                "top_k": self.top_k, "class_id": self.class_id}


class Precision(_ThresholdMetric):
    """``tp / (tp + fp)`` with ``y_pred > thresholds`` (default 0.5) counted as positive.

    ``result()`` is a float, or a list of floats when several thresholds are given.

    Example:
        >>> m = Precision(); m.update_state([0, 1, 1, 1], [1, 0, 1, 1]); m.result()
        0.6666666865348816
    """

    _direction = "up"
    _counts = ("tp", "fp")

    def result(self) -> float | list[float]:
        tp, fp = self._state["tp"], self._state["fp"]
        return _scalar_or_list(_divide_no_nan(tp, tp + fp))


class Recall(_ThresholdMetric):
    """``tp / (tp + fn)`` with ``y_pred > thresholds`` (default 0.5) counted as positive.

    Example:
        >>> m = Recall(); m.update_state([0, 1, 1, 1], [1, 0, 1, 1]); m.result()
        0.6666666865348816
    """

    _direction = "up"
    _counts = ("tp", "fn")

    def result(self) -> float | list[float]:
        tp, fn = self._state["tp"], self._state["fn"]
        return _scalar_or_list(_divide_no_nan(tp, tp + fn))


class _Count(Metric):
    """The (weighted) number of one confusion-matrix cell, per threshold."""

    _count = ""

    def __init__(self, thresholds: Any = None, name: str | None = None, dtype: Any = None):
        self.init_thresholds = thresholds
        self.thresholds = _parse_thresholds(thresholds, 0.5)
        self._evenly = _evenly_distributed(self.thresholds)
        super().__init__(name=name, dtype=dtype)
        self.reset_state()

    def reset_state(self) -> None:
        self.accumulator = np.zeros(len(self.thresholds), self._dtype)

    def update_state(self, y_true: Any, y_pred: Any, sample_weight: Any = None) -> None:
        self.accumulator += confusion_counts(y_true, y_pred, self.thresholds, self._dtype,
                                             evenly=self._evenly,
                                             sample_weight=sample_weight)[self._count]

    def result(self) -> float | list[float]:
        return _scalar_or_list(self.accumulator)

    def get_config(self) -> dict:
        return {"name": self.name, "dtype": self.dtype, "thresholds": self.init_thresholds}


class TruePositives(_Count):
    """Number of positive labels predicted positive (``y_pred > 0.5``)."""

    _count = "tp"


class FalsePositives(_Count):
    """Number of negative labels predicted positive (``y_pred > 0.5``)."""

    _count = "fp"


class TrueNegatives(_Count):
    """Number of negative labels predicted negative (``y_pred <= 0.5``)."""

    _count = "tn"


class FalseNegatives(_Count):
    """Number of positive labels predicted negative (``y_pred <= 0.5``)."""

    _count = "fn"
