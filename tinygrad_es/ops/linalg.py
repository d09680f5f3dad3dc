"""``keras.ops.linalg``: norms (decompositions and solvers are not done yet: see
tests/test_keras_names.py's ``OPS_NOT_YET``)."""

from __future__ import annotations

from typing import Any, Sequence

import numpy as np

from tinygrad_es import config
from tinygrad_es.ops.core import as_dtype, result_type, tensor
from tinygrad_es.tensor import Tensor
from tinygrad_es.i18n import tr

__all__ = ["norm"]


def norm(x: Any, ord: Any = None, axis: int | Sequence[int] | None = None,  # noqa: A002
         keepdims: bool = False) -> Tensor:
    """The vector norm over one axis, the matrix norm over two (all axes by default).

    Vector ``ord``: None/2 (√Σx²), 1, inf, -inf, 0 (count of nonzeros) or any p (Σ|x|^p)^(1/p).
    Matrix ``ord``: None/"fro", 1, -1, inf, -inf. The 2-norm's gradient at 0 is NaN, as TF's.

    Example:
        >>> norm(Tensor([3.0, 4.0]))
        Tensor(5., dtype=float32)
    """
    x = tensor(x)
    target = config.floatx() if x.dtype == np.int64 else result_type(x, 1.0)
    x = as_dtype(x, target)
    axes = tuple(range(x.ndim)) if axis is None else (
        (axis,) if isinstance(axis, (int, np.integer)) else tuple(axis))
    for a in axes:
        if not -x.ndim <= a < x.ndim:
            raise ValueError(tr("norm received axis={axis!r} for a tensor of shape {shape}",
                                axis=axis, shape=x.shape))
    axes = tuple(a % x.ndim for a in axes)
    inf = float("inf")
    if ord is None or (ord == 2 and len(axes) == 1) or (ord == "fro" and len(axes) == 2):
        return x.square().sum(axis=axes, keepdims=keepdims).sqrt()
    if len(axes) == 1:
        if isinstance(ord, str):
            raise ValueError(tr("norm received ord={ord!r}, which is no vector norm", ord=ord))
        if ord == inf:
            return x.abs().max(axis=axes, keepdims=keepdims)
        if ord == -inf:
            return x.abs().min(axis=axes, keepdims=keepdims)
        if ord == 0:
            return Tensor((x.data != 0).sum(axis=axes, keepdims=keepdims), dtype=x.dtype)
        p = np.asarray(ord, x.dtype)
        return x.abs().pow(Tensor(p, dtype=x.dtype)).sum(axis=axes, keepdims=keepdims).pow(
            Tensor(1.0 / p, dtype=x.dtype))
    if len(axes) == 2 and ord in (1, -1, inf, -inf):
        row, col = axes
        summed, kept = (row, col) if ord in (1, -1) else (col, row)
        sums = x.abs().sum(axis=summed, keepdims=True)
        out = (sums.max(axis=kept, keepdims=True) if ord in (1, inf) else
               sums.min(axis=kept, keepdims=True))
        return out if keepdims else out.squeeze(axes)
    raise ValueError(tr("norm received ord={ord!r} over axes {axes}: supported are vector "
                        "norms (one axis) and the matrix norms None, 'fro', 1, -1, inf, -inf "
                        "(two axes)", ord=ord, axes=axes))
