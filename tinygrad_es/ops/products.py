"""Products, as ``keras.ops`` names them: matmul, dot, outer, tensordot, trace.

``matmul`` is the engine's MatMul (numpy's rules: a 1-D operand is a row on the left, a column on
the right; batch axes broadcast). ``dot`` is numpy's dot, which for N-D operands contracts the last
axis of x1 with the second-to-last of x2 (not a batched product): written as one reshaped matmul.
"""

from __future__ import annotations

from typing import Any, Sequence

import numpy as np

from tinygrad_es.ops.core import as_dtype, pair, tensor
from tinygrad_es.tensor import Tensor
from tinygrad_es.i18n import tr

__all__ = ["matmul", "dot", "outer", "tensordot", "trace"]


def _numeric(a: Tensor, b: Tensor) -> tuple[Tensor, Tensor]:
    """Bools multiply as int32 (TF has no bool matmul)."""
    if a.dtype.kind == "b":
        a, b = as_dtype(a, "int32"), as_dtype(b, "int32")
    return a, b


def matmul(x1: Any, x2: Any) -> Tensor:
    """The matrix product with numpy's rules (1-D operands, broadcast batch axes).

    Example:
        >>> matmul(Tensor([[1.0, 2.0]]), Tensor([[3.0], [4.0]]))
        Tensor([[11.]], dtype=float32)
    """
    a, b = _numeric(*pair(x1, x2))
    return a.matmul(b)


def dot(x1: Any, x2: Any) -> Tensor:
    """numpy's dot: a product with a scalar, else Σ over the last axis of x1 and the
    second-to-last of x2 (the only axis of a 1-D x2).

    Example:
        >>> dot(Tensor([1.0, 2.0]), Tensor([3.0, 4.0]))
        Tensor(11., dtype=float32)
    """
    a, b = _numeric(*pair(x1, x2))
    if a.ndim == 0 or b.ndim == 0:
        return a * b
    if b.ndim <= 2 or a.ndim == 1:
        if a.ndim == 1 and b.ndim > 2:  # (n,) · (..., n, m): contract with axis -2 of b
            return (a.reshape(1, -1).matmul(_to_matrix(b))).reshape(b.shape[:-2] + b.shape[-1:])
        return a.matmul(b)
    out = a.reshape(-1, a.shape[-1]).matmul(_to_matrix(b))
    return out.reshape(a.shape[:-1] + b.shape[:-2] + b.shape[-1:])


def _to_matrix(b: Tensor) -> Tensor:
    """(..., n, m) as an (n, prod(...)·m) matrix: axis -2 first, the rest flattened in order."""
    order = (b.ndim - 2,) + tuple(range(b.ndim - 2)) + (b.ndim - 1,)
    return b.transpose(order).reshape(b.shape[-2], -1)


def outer(x1: Any, x2: Any) -> Tensor:
    """The outer product of the flattened x1 and x2: out[i, j] = x1[i]·x2[j]."""
    a, b = pair(x1, x2)
    return a.reshape(-1, 1) * b.reshape(1, -1)


def tensordot(x1: Any, x2: Any, axes: int | Sequence = 2) -> Tensor:
    """Σ over ``axes`` of x1 and x2: an int n pairs x1's last n axes with x2's first n; a pair of
    lists names them. One matmul after moving the summed axes together."""
    a, b = _numeric(*pair(x1, x2))
    if isinstance(axes, (int, np.integer)):
        axes_a, axes_b = list(range(a.ndim - axes, a.ndim)), list(range(axes))
    else:
        axes_a, axes_b = ([axes[0]] if isinstance(axes[0], int) else list(axes[0]),
                          [axes[1]] if isinstance(axes[1], int) else list(axes[1]))
    axes_a, axes_b = [i % a.ndim for i in axes_a], [i % max(b.ndim, 1) for i in axes_b]
    if [a.shape[i] for i in axes_a] != [b.shape[i] for i in axes_b]:
        raise ValueError(tr("tensordot cannot sum axes {axes_a} of shape {shape} with axes "
                            "{axes_b} of shape {shape2}: their sizes differ", axes_a=axes_a,
                            shape=a.shape, axes_b=axes_b, shape2=b.shape))
    free_a = [i for i in range(a.ndim) if i not in axes_a]
    free_b = [i for i in range(b.ndim) if i not in axes_b]
    k = int(np.prod([a.shape[i] for i in axes_a], dtype=np.int64))
    left = a.transpose(tuple(free_a + axes_a)).reshape(-1, k)
    right = b.transpose(tuple(axes_b + free_b)).reshape(k, -1)
    shape = tuple(a.shape[i] for i in free_a) + tuple(b.shape[i] for i in free_b)
    return left.matmul(right).reshape(shape)


def trace(x: Any, offset: int = 0, axis1: int = 0, axis2: int = 1) -> Tensor:
    """Σ of the diagonal ``offset`` of the matrix at axes (axis1, axis2)."""
    x = tensor(x)
    n, m = x.shape[axis1], x.shape[axis2]
    rows = np.arange(max(0, -offset), min(n, m - offset))
    index: list = [slice(None)] * x.ndim
    index[axis1], index[axis2] = rows, rows + offset
    picked = x[tuple(index)]  # the diagonal as the first advanced-index axis, or last
    a1, a2 = axis1 % x.ndim, axis2 % x.ndim
    first = min(a1, a2) if abs(a1 - a2) == 1 else 0
    return picked.sum(axis=first)
