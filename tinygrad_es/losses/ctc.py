"""CTC (Connectionist Temporal Classification): the loss of sequence labelling without alignment.

``y_pred`` holds logits of shape ``(batch, T, classes)``; ``y_true`` integer labels of shape
``(batch, max_length)`` where 0 is both the blank and the padding (Keras's ``mask_index=0``): a
row's label sequence is its first ``count_nonzero(row)`` entries. The loss is
``-log P(labels | logits)``, summed over every alignment (path) of length T that collapses to the
labels once repeats are merged and blanks removed (Graves et al., 2006).

The sum over paths is the forward (alpha) recursion in log space over the extended label
``l' = (blank, l1, blank, l2, ..., blank)`` of length ``S = 2L + 1``::

    alpha_0(s)  = log p_0(l'_s)                  for s in {0, 1}
    alpha_t(s)  = log p_t(l'_s) + logsumexp(alpha_{t-1}(s), alpha_{t-1}(s-1),
                                            alpha_{t-1}(s-2) if l'_s != blank and l'_s != l'_{s-2})
    loss        = -logsumexp(alpha_{T-1}(S-1), alpha_{T-1}(S-2))

It is written with Tensor ops only (log_softmax, indexing, where, concatenate, exp, log), so
backprop through the recursion gives the gradient; ``tests/test_losses_keras3.py`` checks it
against central differences and against ``tf.GradientTape``.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from tinygrad_es.losses.loss import LossFunctionWrapper, prepare
from tinygrad_es.tensor import Tensor, concatenate, where

BLANK = 0
# A finite "log 0": exp(NEG - m) is exactly 0 and never gives the nan that -inf - (-inf) would.
NEG = -1e30


def _logsumexp(*terms: Tensor) -> Tensor:
    """log(sum exp(terms)), elementwise, shifted by the (constant) largest term."""
    m = np.maximum.reduce([t.data for t in terms])
    shift = Tensor(m, dtype=m.dtype)  # a constant: the shift cancels in value and in gradient
    total = terms[0].sub(shift).exp()
    for t in terms[1:]:
        total = total + t.sub(shift).exp()
    return total.log() + shift


def _extended_labels(labels: np.ndarray, lengths: np.ndarray) -> np.ndarray:
    """(batch, 2*max_len + 1): blank, l1, blank, l2, ..., blank (blank-padded after 2L+1)."""
    n, max_len = labels.shape[0], int(lengths.max(initial=0))
    ext = np.full((n, 2 * max_len + 1), BLANK, dtype=np.int64)
    for i in range(max_len):  # only a row's first lengths[b] entries are its labels (as TF)
        ext[:, 2 * i + 1] = np.where(i < lengths, labels[:, i], BLANK)
    return ext


def ctc(y_true: Any, y_pred: Any) -> Tensor:
    """Per-sample CTC loss ``-log P(labels | logits)`` (Keras's ``keras.losses.ctc``).

    Args:
        y_true: integer labels, shape ``(batch, max_length)``; 0 is the blank and the padding.
        y_pred: logits (not softmaxed), shape ``(batch, T, classes)``; every sample uses all T
            steps.

    Returns:
        A Tensor of shape ``(batch,)``.

    Raises:
        ValueError: if y_true is not 2-D or y_pred is not 3-D.

    Example:
        >>> logits = Tensor(np.zeros((1, 2, 3)))           # uniform over {blank, 1, 2}
        >>> round(float(ctc(np.array([[1]]), logits)[0]), 4)  # paths "1 1", "- 1", "1 -"
        1.0986
    """
    y, z = prepare(y_true, y_pred, align=False)
    if y.ndim != 2:
        raise ValueError("ctc expects y_true (targets) of shape (batch_size, max_length) in "
                         f"integer format, received y_true.shape={y.shape}")
    if z.ndim != 3:
        raise ValueError("ctc expects y_pred (logits) of shape (batch_size, max_length, "
                         f"num_classes), received y_pred.shape={z.shape}")
    if y.shape[0] != z.shape[0]:
        raise ValueError(f"ctc received {y.shape[0]} label rows for {z.shape[0]} predictions "
                         f"(y_true.shape={y.shape}, y_pred.shape={z.shape})")
    labels = y.astype(np.int64)
    lengths = np.count_nonzero(labels != BLANK, axis=-1)
    ext = _extended_labels(labels, lengths)
    n, steps, _ = z.shape
    size = ext.shape[1]
    # emit[b, t, s] = log softmax(z[b, t])[l'_s]
    log_probs = z.log_softmax(axis=-1)
    emit = log_probs[np.arange(n)[:, None, None], np.arange(steps)[None, :, None], ext[:, None, :]]
    s = np.arange(size)
    can_skip = (s >= 2) & (ext != BLANK) & (ext != np.roll(ext, 2, axis=1))
    start = np.broadcast_to(s < 2, (n, size))
    neg1 = Tensor(np.full((n, 1), NEG), dtype=z.dtype)
    neg2 = Tensor(np.full((n, 2), NEG), dtype=z.dtype)
    alpha = where(start, emit[:, 0, :], NEG)
    for t in range(1, steps):
        from_prev = concatenate([neg1, alpha[:, :-1]], axis=1) if size > 1 else neg1
        from_skip = (where(can_skip, concatenate([neg2, alpha[:, :-2]], axis=1), NEG)
                     if size > 2 else Tensor(np.full((n, size), NEG), dtype=z.dtype))
        alpha = _logsumexp(alpha, from_prev, from_skip) + emit[:, t, :]
    rows = np.arange(n)
    last = alpha[rows, 2 * lengths]
    before_last = where(lengths > 0, alpha[rows, np.maximum(2 * lengths - 1, 0)], NEG)
    return -_logsumexp(last, before_last)


class CTC(LossFunctionWrapper):
    """CTC loss: see :func:`ctc`. y_true ``(batch, max_length)`` ints, y_pred logits.

    Example:
        >>> loss = CTC()
        >>> round(float(loss(np.array([[1, 0]]), Tensor(np.zeros((1, 2, 3))))), 4)
        1.0986
    """

    def __init__(self, reduction: str | None = "sum_over_batch_size", name: str = "ctc",
                 dtype: Any = None):
        super().__init__(ctc, reduction=reduction, name=name, dtype=dtype)
