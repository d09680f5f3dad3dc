"""Gradient clipping as the optimizers run it: ``clipnorm``, ``global_clipnorm`` or ``clipvalue``.

Step 4 of ``Optimizer.apply`` (keras-semantics §1.1), op for op as TensorFlow's ``clip_by_norm``
and ``clip_by_global_norm``. At most one of the three is set (``Optimizer.__init__`` checks it).
"""

from __future__ import annotations

import numpy as np

__all__ = ["clip_gradients"]


def clip_gradients(grads: list, clipnorm: float | None = None,
                   global_clipnorm: float | None = None,
                   clipvalue: float | None = None) -> list[np.ndarray]:
    """The gradients clipped as the one option set asks; unchanged if none is set (or <= 0).

    Args:
        grads: ndarrays, one per variable (not modified).
        clipnorm: each gradient scaled down to this L2 norm.
        global_clipnorm: all gradients scaled down together to this global L2 norm.
        clipvalue: each entry clamped to ``[-clipvalue, clipvalue]``.

    Example:
        >>> [g.tolist() for g in clip_gradients([np.array([3.0, 4.0])], clipnorm=1.0)]
        [[0.6, 0.8]]
    """
    if clipnorm and clipnorm > 0:
        clipped = []
        for g in grads:
            l2sum = np.sum(g * g)
            # NOTE: tf.clip_by_norm: g * c / max(||g||, c), the product first.
            norm = np.sqrt(l2sum) if l2sum > 0 else l2sum
            clipped.append(g * clipnorm / np.maximum(norm, clipnorm))
        return clipped
    if global_clipnorm and global_clipnorm > 0:
        c = global_clipnorm
        use_norm = np.sqrt(np.sum(np.stack([np.sum(g * g) for g in grads])))
        with np.errstate(divide="ignore", invalid="ignore"):
            scale = c * np.minimum(1.0 / use_norm, 1.0 / c) + (use_norm - use_norm)
        return [g * scale.astype(g.dtype) for g in grads]
    if clipvalue and clipvalue > 0:
        return [np.clip(g, -clipvalue, clipvalue) for g in grads]
    return grads
