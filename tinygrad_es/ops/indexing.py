"""Indexing and sorting, as ``keras.ops`` names them: take, take_along_axis, get_item, sort,
argsort, top_k, nonzero.

All are the engine's indexing op (GetItem), whose gradient scatters the upstream gradient back to
the entries picked (a repeated index accumulates); ``sort`` and ``top_k`` index by the sorting
permutation, so each value's gradient goes back where it came from.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from tinygrad_es.ops.core import tensor
from tinygrad_es.tensor import Tensor
from tinygrad_es.i18n import tr

__all__ = ["get_item", "take", "take_along_axis", "sort", "argsort", "top_k", "nonzero"]


def get_item(x: Any, key: Any) -> Tensor:
    """``x[key]``."""
    return tensor(x)[key]


def nonzero(x: Any) -> tuple[Tensor, ...]:
    """The indices of the nonzero entries, one int32 Tensor per axis."""
    return tuple(Tensor(i.astype(np.int32), dtype="int32") for i in np.nonzero(tensor(x).data))


def _indices(indices: Any, op: str) -> np.ndarray:
    idx = np.asarray(indices.data if isinstance(indices, Tensor) else indices)
    if idx.dtype.kind not in "iu":
        raise ValueError(tr("{op} expects integer indices, received dtype {dtype}", op=op,
                            dtype=idx.dtype))
    return idx


def take(x: Any, indices: Any, axis: int | None = None) -> Tensor:
    """The entries at ``indices`` along ``axis`` (of the flattened tensor by default); the gradient
    of a repeated index accumulates.

    Example:
        >>> take(Tensor([[1.0, 2.0], [3.0, 4.0]]), [1, 1], axis=1)
        Tensor([[2., 2.],
                [4., 4.]], dtype=float32)
    """
    x, idx = tensor(x), _indices(indices, "take")
    if axis is None:
        x, axis = x.reshape(-1), 0
    axis = axis % x.ndim
    if idx.size and (idx.max() >= x.shape[axis] or idx.min() < -x.shape[axis]):
        raise IndexError(tr("take received an index out of range for axis {axis} of size "
                            "{shape}: indices span [{min}, {max}]", axis=axis, shape=x.shape[axis],
                            min=idx.min(), max=idx.max()))
    return x[(slice(None),) * axis + (idx,)]


def take_along_axis(x: Any, indices: Any, axis: int | None = None) -> Tensor:
    """``x`` indexed by ``indices`` along ``axis``, entry by entry (numpy's take_along_axis)."""
    x, idx = tensor(x), _indices(indices, "take_along_axis")
    if axis is None:
        x, axis = x.reshape(-1), 0
    axis = axis % x.ndim
    if idx.ndim != x.ndim:
        raise ValueError(tr("take_along_axis expects indices with as many axes as x ({ndim}), "
                            "received shape {shape}", ndim=x.ndim, shape=idx.shape))
    shape = np.broadcast_shapes(tuple(1 if a == axis else n for a, n in enumerate(x.shape)),
                                tuple(1 if a == axis else n for a, n in enumerate(idx.shape)))
    idx = np.broadcast_to(idx, shape[:axis] + (idx.shape[axis],) + shape[axis + 1:])
    if shape != tuple(1 if a == axis else n for a, n in enumerate(x.shape)):
        x = x.broadcast_to(shape[:axis] + (x.shape[axis],) + shape[axis + 1:])
    grid = list(np.ogrid[tuple(slice(n) for n in idx.shape)])
    grid[axis] = idx
    return x[tuple(grid)]


def argsort(x: Any, axis: int = -1) -> Tensor:
    """The indices that sort ``x`` along ``axis`` (int32; equal entries keep their order)."""
    x = tensor(x)
    return Tensor(np.argsort(x.data, axis=axis, kind="stable").astype(np.int32), dtype="int32")


def sort(x: Any, axis: int = -1) -> Tensor:
    """``x`` sorted ascending along ``axis``; each entry's gradient goes back where it came from.

    Example:
        >>> sort(Tensor([3.0, 1.0, 2.0]))
        Tensor([1., 2., 3.], dtype=float32)
    """
    x = tensor(x)
    if x.ndim == 0:
        return x
    return take_along_axis(x, np.argsort(x.data, axis=axis, kind="stable"), axis=axis)


def top_k(x: Any, k: int, sorted: bool = True) -> tuple[Tensor, Tensor]:  # noqa: A002
    """The ``k`` largest entries of the last axis and their indices (int32), largest first; at a
    tie the lower index first (as TF).

    Example:
        >>> values, indices = top_k(Tensor([1.0, 3.0, 2.0]), 2)
        >>> values, indices
        (Tensor([3., 2.], dtype=float32), Tensor([1, 2], dtype=int32))
    """
    x = tensor(x)
    if x.ndim == 0 or not 0 <= k <= x.shape[-1]:
        raise ValueError(tr("top_k expects 0 <= k <= {value} (the last axis of shape {shape}), "
                            "received k={k}", value=x.shape[-1] if x.ndim else 0, shape=x.shape,
                            k=k))
    # a stable sort of -x: the largest first, ties in index order; -x of a bool/uint is not a sort
    keys = -x.data.astype(np.float64) if x.dtype.kind in "bu" else -x.data
    order = np.argsort(keys, axis=-1, kind="stable")[..., :k]
    return take_along_axis(x, order, axis=-1), Tensor(order.astype(np.int32), dtype="int32")
