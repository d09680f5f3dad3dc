"""Probabilistic metrics: binary / categorical / sparse crossentropy, KL divergence, Poisson.

As in Keras, each metric calls the loss function of the same name (``tinygrad_es.losses``, under
``no_grad``), so the crossentropies follow the loss's rule (keras-semantics.md section 2.2 and
pitfall 1): a prediction that came out of ``sigmoid``/``softmax`` carries its logits, and the
metric then computes from the logits with no epsilon clipping, whatever ``from_logits`` says. A
real ``model.fit`` logs e.g. a BCE metric of 20.0 from logits where the clipped formula gives 4.03
(checked in tests/test_metrics.py). Only plain arrays (``model.predict`` output) take the
clipped-probability path.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from tinygrad_es.losses.loss import squeeze_or_expand_to_same_rank
from tinygrad_es.losses.probabilistic import (binary_crossentropy, categorical_crossentropy,
                                              kl_divergence, poisson,
                                              sparse_categorical_crossentropy)
from tinygrad_es.metrics.base import MeanMetricWrapper, as_array

__all__ = ["BinaryCrossentropy", "CategoricalCrossentropy", "KLDivergence", "Poisson",
           "SparseCategoricalCrossentropy", "binary_crossentropy", "categorical_crossentropy",
           "kl_divergence", "poisson", "sparse_categorical_crossentropy"]


def _sparse_labels(y_true: Any, pred_ndim: int) -> np.ndarray:
    labels = as_array(y_true)
    return labels[..., 0] if labels.ndim == pred_ndim and labels.shape[-1] == 1 else labels


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
            weight = as_array(sample_weight, self._dtype)
            mask, sample_weight = squeeze_or_expand_to_same_rank(mask, weight)
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
