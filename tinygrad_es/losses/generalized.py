"""Generalized cross entropy (Zhang & Sabuncu, 2018): a crossentropy robust to noisy labels.

``loss = (1 - p^q) / q`` with p the predicted probability of the true class and q in (0, 1):
as q -> 0 it tends to the crossentropy ``-log p``; at q = 1 it is the MAE ``1 - p``.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from tinygrad_es.losses.loss import LossFunctionWrapper, prepare
from tinygrad_es.tensor import Tensor


def categorical_generalized_cross_entropy(y_true: Any, y_pred: Any, q: float) -> Tensor:
    """Per-sample ``(1 - p[label]^q) / q`` for integer labels and class probabilities.

    Args:
        y_true: integer class labels, shape ``(batch,)`` (or ``(batch, 1)``).
        y_pred: probabilities, shape ``(batch, classes)``.
        q: the noise parameter in (0, 1).

    Returns:
        A Tensor of shape ``(batch,)``.

    Example:
        >>> p = Tensor([[0.75, 0.25], [0.36, 0.64]])
        >>> loss = categorical_generalized_cross_entropy(np.array([0, 1]), p, q=0.5)
        >>> [round(v, 4) for v in loss.data.tolist()]
        [0.2679, 0.4]
    """
    y, p = prepare(y_true, y_pred, align=False)
    if y.ndim == p.ndim and y.shape[-1:] == (1,):
        # NOTE: Keras one-hots (N, 1) labels to (N, 1, C) and broadcasts to an (N, N) loss;
        # we read them as the (N,) labels they are, as sparse_categorical_crossentropy does.
        y = y[..., 0]
    if y.shape != p.shape[:-1]:
        raise ValueError("categorical_generalized_cross_entropy expects integer labels of shape "
                         f"{p.shape[:-1]} for y_pred of shape {p.shape}, received y_true.shape="
                         f"{y.shape}")
    one_hot = np.eye(p.shape[-1], dtype=p.dtype)[y.astype(np.int64)]
    p_true = (p * one_hot).sum(axis=-1)
    return (1.0 - p_true ** q) / q


class CategoricalGeneralizedCrossEntropy(LossFunctionWrapper):
    """Generalized cross entropy: see :func:`categorical_generalized_cross_entropy`.

    Args:
        q: the noise parameter, strictly between 0 and 1 (default 0.5).
        reduction: as every loss.
        name: default ``"categorical_generalized_cross_entropy"``.
        dtype: computation dtype (default floatx).

    Example:
        >>> loss = CategoricalGeneralizedCrossEntropy(q=0.5)
        >>> round(float(loss(np.array([0, 1]), Tensor([[0.75, 0.25], [0.36, 0.64]]))), 4)
        0.334
    """

    def __init__(self, q: float = 0.5, reduction: str | None = "sum_over_batch_size",
                 name: str = "categorical_generalized_cross_entropy", dtype: Any = None):
        if not 0 < q < 1:
            raise ValueError(f"CategoricalGeneralizedCrossEntropy expects q in the interval (0, 1),"
                             f" received q={q}")
        super().__init__(categorical_generalized_cross_entropy, reduction=reduction, name=name,
                         dtype=dtype, q=q)
        self.q = q

    def call(self, y_true: np.ndarray, y_pred: Tensor) -> Tensor:
        return categorical_generalized_cross_entropy(y_true, y_pred, q=self.q)
