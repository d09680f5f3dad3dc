"""Keras-compatible stateful metrics on numpy, and ``get`` for the strings ``compile`` accepts.

A metric accumulates over batches (``update_state``), reports with ``result()`` (a Python float)
and starts over with ``reset_state()``. ``fit`` logs each metric under its ``name``.

Example:
    >>> from tinygrad_es import metrics
    >>> m = metrics.get("acc", y_true=np.zeros((4, 1)), y_pred=np.zeros((4, 1)))
    >>> type(m).__name__, m.name
    ('BinaryAccuracy', 'acc')
"""

from __future__ import annotations

import inspect
from typing import Any

import numpy as np

from tinygrad_es.metrics.accuracy import (Accuracy, BinaryAccuracy, CategoricalAccuracy,
                                          SparseCategoricalAccuracy, SparseTopKCategoricalAccuracy,
                                          TopKCategoricalAccuracy, accuracy, binary_accuracy,
                                          categorical_accuracy, sparse_categorical_accuracy,
                                          sparse_top_k_categorical_accuracy,
                                          top_k_categorical_accuracy)
from tinygrad_es.losses import binary_focal_crossentropy, categorical_focal_crossentropy, huber
from tinygrad_es.metrics.at_threshold import (PrecisionAtRecall, RecallAtPrecision,
                                              SensitivityAtSpecificity, SpecificityAtSensitivity)
from tinygrad_es.metrics.auc import AUC
from tinygrad_es.metrics.base import Mean, MeanMetricWrapper, Metric, Sum, to_snake_case
from tinygrad_es.metrics.confusion import (FalseNegatives, FalsePositives, Precision, Recall,
                                           TrueNegatives, TruePositives)
from tinygrad_es.metrics.correlation import (ConcordanceCorrelation, PearsonCorrelation, R2Score,
                                             concordance_correlation, pearson_correlation)
from tinygrad_es.metrics.f_score import F1Score, FBetaScore
from tinygrad_es.metrics.hinge import (CategoricalHinge, Hinge, SquaredHinge, categorical_hinge,
                                       hinge, squared_hinge)
from tinygrad_es.metrics.iou import BinaryIoU, IoU, MeanIoU, OneHotIoU, OneHotMeanIoU
from tinygrad_es.metrics.probabilistic import (BinaryCrossentropy, CategoricalCrossentropy,
                                               KLDivergence, Poisson,
                                               SparseCategoricalCrossentropy, binary_crossentropy,
                                               categorical_crossentropy, kl_divergence, poisson,
                                               sparse_categorical_crossentropy)
from tinygrad_es.metrics.regression import (CosineSimilarity, LogCoshError, MeanAbsoluteError,
                                            MeanAbsolutePercentageError, MeanSquaredError,
                                            MeanSquaredLogarithmicError, RootMeanSquaredError,
                                            cosine_similarity, log_cosh, mean_absolute_error,
                                            mean_absolute_percentage_error, mean_squared_error,
                                            mean_squared_logarithmic_error)
from tinygrad_es.utils.registry import unknown

_CLASSES: list[type[Metric]] = [
    Mean, Sum, MeanSquaredError, RootMeanSquaredError, MeanAbsoluteError,
    MeanAbsolutePercentageError, MeanSquaredLogarithmicError, CosineSimilarity, LogCoshError,
    AUC, FalseNegatives, FalsePositives, Precision, Recall, TrueNegatives, TruePositives,
    Hinge, SquaredHinge, CategoricalHinge, KLDivergence, Poisson, BinaryCrossentropy,
    CategoricalCrossentropy, SparseCategoricalCrossentropy, Accuracy, BinaryAccuracy,
    CategoricalAccuracy, SparseCategoricalAccuracy, TopKCategoricalAccuracy,
    SparseTopKCategoricalAccuracy, F1Score, FBetaScore, R2Score, PearsonCorrelation,
    ConcordanceCorrelation, IoU, BinaryIoU, MeanIoU, OneHotIoU, OneHotMeanIoU,
    SensitivityAtSpecificity, SpecificityAtSensitivity, PrecisionAtRecall, RecallAtPrecision,
]

# The string -> class table of ``keras.metrics.get``: class names, their snake_case, the aliases.
_REGISTRY: dict[str, type[Metric]] = {c.__name__: c for c in _CLASSES}
_REGISTRY.update({to_snake_case(c.__name__): c for c in _CLASSES})
_REGISTRY.update({
    "bce": BinaryCrossentropy, "BCE": BinaryCrossentropy, "mse": MeanSquaredError,
    "MSE": MeanSquaredError, "mae": MeanAbsoluteError, "MAE": MeanAbsoluteError,
    "mape": MeanAbsolutePercentageError, "MAPE": MeanAbsolutePercentageError,
    "msle": MeanSquaredLogarithmicError, "MSLE": MeanSquaredLogarithmicError,
})

# Per-sample functions a MeanMetricWrapper config may name. Like Keras's, huber and the focal
# crossentropies are the loss functions themselves; no string names them in metrics.get.
_FUNCTIONS = {f.__name__: f for f in (
    accuracy, binary_accuracy, categorical_accuracy, sparse_categorical_accuracy,
    top_k_categorical_accuracy, sparse_top_k_categorical_accuracy, mean_absolute_error,
    mean_squared_error, mean_absolute_percentage_error, mean_squared_logarithmic_error, log_cosh,
    cosine_similarity, binary_crossentropy, categorical_crossentropy,
    sparse_categorical_crossentropy, kl_divergence, poisson, hinge, squared_hinge,
    categorical_hinge, pearson_correlation, concordance_correlation, huber,
    binary_focal_crossentropy, categorical_focal_crossentropy)}

_ACCURACY_STRINGS = ("accuracy", "acc")


def _shape(x: Any) -> tuple[int, ...]:
    if isinstance(x, tuple) and all(isinstance(d, (int, np.integer)) for d in x):
        return tuple(x)
    return tuple(x.shape) if hasattr(x, "shape") else np.shape(x)


def resolve_accuracy(y_true: Any, y_pred: Any) -> type[Metric]:
    """The accuracy class ``compile(metrics=["accuracy"])`` picks from the shapes, as Keras does.

    Binary if ``y_pred.shape[-1] == 1``; sparse if ``y_true`` has a lower rank or a last dimension
    of 1; otherwise categorical. ``y_true``/``y_pred`` are arrays, Tensors or shape tuples.

    Example:
        >>> resolve_accuracy((8,), (8, 3)).__name__
        'SparseCategoricalAccuracy'
    """
    t, p = _shape(y_true), _shape(y_pred)
    if p[-1] == 1:
        return BinaryAccuracy
    if len(t) < len(p) or (t[-1] == 1 and p[-1] > 1):
        return SparseCategoricalAccuracy
    return CategoricalAccuracy


def _unknown(identifier: str) -> ValueError:
    return unknown("metric", identifier, set(_REGISTRY) | set(_ACCURACY_STRINGS))


def get(identifier: Any, y_true: Any = None, y_pred: Any = None) -> Metric | None:
    """A metric from what ``compile(metrics=[...])`` accepts, named as Keras logs it.

    - A string logs under that string: ``"mae"`` -> ``MeanAbsoluteError`` named ``"mae"``.
      ``"accuracy"``/``"acc"`` (any case) resolve by the shapes of ``y_true`` and ``y_pred``
      (see :func:`resolve_accuracy`); without shapes ``"accuracy"`` is exact-match ``Accuracy``.
    - A ``Metric`` instance is returned as is; a class is instantiated; a dict
      ``{"class_name", "config"}`` is deserialized.
    - Any other callable ``fn(y_true, y_pred)`` (e.g. a loss) is wrapped in a
      ``MeanMetricWrapper`` named after it (``snake_case`` of the function name, or its ``name``).

    Unlike losses, Keras does not accept ``"crossentropy"``, ``"ce"``, ``"rmse"`` or ``"huber"``
    as metrics; neither does this function.

    Example:
        >>> get("mae").name, get(MeanAbsoluteError()).name
        ('mae', 'mean_absolute_error')
    """
    if identifier is None:
        return None
    if isinstance(identifier, str):
        if identifier.lower() in _ACCURACY_STRINGS and y_true is not None and y_pred is not None:
            metric = resolve_accuracy(y_true, y_pred)()
        elif identifier in _REGISTRY:
            metric = _REGISTRY[identifier]()
        elif identifier.lower() in _ACCURACY_STRINGS:
            raise ValueError(f"Metric {identifier!r} is resolved from the shapes of y_true and "
                             "y_pred: pass them, e.g. metrics.get('acc', y_true, y_pred)")
        else:
            raise _unknown(identifier)
        metric.name = identifier
        return metric
    if isinstance(identifier, dict):
        return deserialize(identifier)
    if isinstance(identifier, Metric):
        return identifier
    if inspect.isclass(identifier):
        identifier = identifier()
        if isinstance(identifier, Metric):
            return identifier
    if callable(identifier):
        name = getattr(identifier, "name", None) or to_snake_case(
            getattr(identifier, "__name__", type(identifier).__name__))
        return MeanMetricWrapper(identifier, name=name)
    raise ValueError(f"Could not interpret metric identifier: {identifier!r} (expected a string, "
                     "a Metric, a Metric class, a config dict or a function)")


def serialize(metric: Metric) -> dict:
    """``{"class_name": ..., "config": ...}`` for :func:`deserialize` (JSON-able).

    Example:
        >>> serialize(BinaryAccuracy(threshold=0.7))["config"]["threshold"]
        0.7
    """
    if isinstance(metric, MeanMetricWrapper) and type(metric) is MeanMetricWrapper:
        if getattr(metric._fn, "__name__", None) not in _FUNCTIONS:
            raise ValueError(f"Cannot serialize metric {metric.name!r}: it wraps the custom "
                             f"function {metric._fn!r}; only tinygrad_es.metrics functions can")
    return {"class_name": type(metric).__name__, "config": metric.get_config()}


def deserialize(config: dict) -> Metric:
    """Rebuild a metric from :func:`serialize` output; only library classes are looked up.

    Example:
        >>> deserialize({"class_name": "Precision", "config": {"thresholds": 0.7}}).thresholds
        [0.7]
    """
    name = config.get("class_name") if isinstance(config, dict) else None
    cfg = dict(config.get("config") or {}) if isinstance(config, dict) else {}
    if name == "MeanMetricWrapper":
        fn = _FUNCTIONS.get(cfg.pop("fn", None))
        if fn is None:
            raise ValueError(f"Cannot deserialize MeanMetricWrapper with config {config!r}: "
                             f"'fn' must be one of {sorted(_FUNCTIONS)}")
        return MeanMetricWrapper(fn, **cfg)
    if name not in _REGISTRY:
        raise _unknown(str(name))
    return _REGISTRY[name].from_config(cfg)


__all__ = [c.__name__ for c in _CLASSES] + sorted(_FUNCTIONS) + [
    "Metric", "MeanMetricWrapper", "get", "serialize", "deserialize", "resolve_accuracy"]
