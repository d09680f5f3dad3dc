"""Circle loss (Sun et al., 2020): metric learning on L2-normalised embeddings.

For each embedding i of the batch, with cosine distances ``d_ij = max(1 - e_i . r_j, 0)`` to the
reference embeddings (the batch itself by default), positives P_i (same label, not i itself when
``remove_diagonal``) and negatives N_i (other label)::

    a_p = max(margin + d, 0)          a_n = max(1 + margin - d, 0)        (adaptive weights)
    s_p = -gamma a_p (margin - d)     s_n = gamma a_n (1 - margin - d)
    loss_i = softplus( logsumexp_{j in P_i} s_p  +  logsumexp_{j in N_i} s_n )

Samples whose loss is 0 (no positive or no negative pair) are masked out of the mean, as Keras
masks them (``set_keras_mask(loss, loss > 0)``).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from tinygrad_es.losses.loss import LossFunctionWrapper, prepare
from tinygrad_es.tensor import Tensor, where

# A finite "log 0" (Keras uses -inf): exp(NEG - m) is exactly 0 and backprop stays finite.
NEG = -1e30


def _masked_logsumexp(x: Tensor, mask: np.ndarray) -> Tensor:
    """logsumexp over axis 1 of the entries where ``mask`` holds (NEG-ish if none do)."""
    x = where(mask, x, NEG)
    m = x.data.max(axis=1, keepdims=True)
    shift = Tensor(m, dtype=m.dtype)  # a constant: cancels in value and in gradient
    return (x - shift).exp().sum(axis=1).log() + shift.squeeze(1)


def _pos_neg_masks(labels: np.ndarray, ref_labels: np.ndarray,
                   remove_diagonal: bool) -> tuple[np.ndarray, np.ndarray]:
    positive = labels.reshape(-1, 1) == ref_labels.reshape(1, -1)
    negative = ~positive
    if remove_diagonal:
        positive = positive & ~np.eye(*positive.shape, dtype=bool)
    return positive, negative


def circle(y_true: Any, y_pred: Any, ref_labels: Any = None, ref_embeddings: Any = None,
           remove_diagonal: bool = True, gamma: float = 80.0, margin: float = 0.4) -> Tensor:
    """Per-sample Circle loss of integer labels and (L2-normalised) embeddings.

    Args:
        y_true: integer labels, shape ``(batch,)`` or ``(batch, 1)``.
        y_pred: embeddings, shape ``(batch, dim)``.
        ref_labels: labels of the reference embeddings; default ``y_true``.
        ref_embeddings: reference embeddings ``(refs, dim)``; default ``y_pred``.
        remove_diagonal: drop each sample's pair with itself from its positives.
        gamma: the scale of the similarity scores.
        margin: the relaxation margin.

    Returns:
        A Tensor of shape ``(batch,)``.

    Example:
        >>> e = Tensor(np.array([[1.0, 0.0], [0.6, 0.8], [0.0, 1.0]]))
        >>> [round(v, 3) for v in circle(np.array([0, 0, 1]), e).data.tolist()]
        [0.0, 38.4, 0.0]
    """
    labels, y_pred = prepare(y_true, y_pred, align=False)
    if y_pred.ndim != 2:
        raise ValueError("circle expects y_pred (embeddings) of shape (batch_size, dim), "
                         f"received y_pred.shape={y_pred.shape}")
    labels = labels.astype(np.int64)
    refs = y_pred if ref_embeddings is None else (
        ref_embeddings if isinstance(ref_embeddings, Tensor) else Tensor(
            np.asarray(ref_embeddings, dtype=y_pred.dtype)))
    ref_labels = labels if ref_labels is None else np.asarray(
        ref_labels.data if isinstance(ref_labels, Tensor) else ref_labels).astype(np.int64)
    if labels.size != y_pred.shape[0] or ref_labels.size != refs.shape[0]:
        raise ValueError(f"circle expects one label per embedding, received y_true of shape "
                         f"{labels.shape} for y_pred of shape {y_pred.shape}")
    distances = (1.0 - y_pred.matmul(refs.transpose())).maximum(0.0)
    positive, negative = _pos_neg_masks(labels, ref_labels, remove_diagonal)
    pos_weights = ((distances + margin) * positive).maximum(0.0)
    neg_weights = ((1.0 + margin - distances) * negative).maximum(0.0)
    pos_scores = pos_weights * (-gamma) * (margin - distances)
    neg_scores = neg_weights * gamma * ((1.0 - margin) - distances)
    return (_masked_logsumexp(pos_scores, positive)
            + _masked_logsumexp(neg_scores, negative)).softplus()


class Circle(LossFunctionWrapper):
    """Circle loss: see :func:`circle`. Zero-loss samples are left out of the mean (masked).

    Example:
        >>> e = Tensor(np.array([[1.0, 0.0], [0.6, 0.8], [0.0, 1.0]]))
        >>> round(float(Circle()(np.array([0, 0, 1]), e)), 3)  # sample 2 (loss 0) left out
        19.2
    """

    def __init__(self, gamma: float = 80.0, margin: float = 0.4, remove_diagonal: bool = True,
                 reduction: str | None = "sum_over_batch_size", name: str = "circle",
                 dtype: Any = None):
        super().__init__(circle, reduction=reduction, name=name, dtype=dtype, gamma=gamma,
                         margin=margin, remove_diagonal=remove_diagonal)
        self.gamma, self.margin, self.remove_diagonal = gamma, margin, remove_diagonal

    def call(self, y_true: np.ndarray, y_pred: Tensor) -> Tensor:
        return circle(y_true, y_pred, **self._kwargs)  # labels (N,) against (N, dim): no align

    def _compute(self, y_true: np.ndarray, y_pred: Tensor) -> tuple[Tensor, np.ndarray]:
        values = self.call(y_true, y_pred)
        return values, values.data > 0
