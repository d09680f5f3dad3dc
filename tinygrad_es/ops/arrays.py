"""Array ops, as ``keras.ops`` names them: creating tensors, changing their shape, joining and
splitting (indexing and sorting are in ``indexing.py``).

Creation follows Keras's dtypes: ``floatx()`` unless told (``arange`` of ints is int32). The rest
are
the engine's movement ops (reshape, transpose, indexing, concatenate, stack), so every gradient is a
reshape, a permutation or a slice of the upstream gradient.
"""

from __future__ import annotations

import builtins
from typing import Any, Sequence

import numpy as np

from tinygrad_es import config
from tinygrad_es import tensor as _engine
from tinygrad_es.ops.core import as_dtype, result_type, tensor
from tinygrad_es.ops.indexing import take
from tinygrad_es.tensor import Tensor
from tinygrad_es.i18n import tr

__all__ = ["array", "copy", "empty", "empty_like", "tri", "hstack", "vstack", "append", "fliplr",
           "flipud", "ones", "zeros", "full", "ones_like", "zeros_like", "full_like", "arange",
           "linspace", "eye", "identity", "tril", "triu", "reshape", "transpose", "expand_dims",
           "squeeze", "ravel", "broadcast_to", "moveaxis", "swapaxes", "flip", "concatenate",
           "stack", "split", "unstack", "repeat", "tile"]

Shape = int | Sequence[int]


def _shape(shape: Shape, op: str) -> tuple[int, ...]:
    dims = (shape,) if isinstance(shape, (int, np.integer)) else tuple(shape)
    if not builtins.all(isinstance(d, (int, np.integer)) and d >= 0 for d in dims):
        raise ValueError(tr("{op} expects a shape of non-negative integers, received {shape!r}",
                            op=op, shape=shape))
    return tuple(int(d) for d in dims)


def _float(dtype: Any) -> np.dtype:
    return np.dtype(config.floatx() if dtype is None else dtype)


# ----- creation -----

def ones(shape: Shape, dtype: Any = None) -> Tensor:
    """A tensor of ones, floatx unless ``dtype``.

    Example:
        >>> ones((2,))
        Tensor([1., 1.], dtype=float32)
    """
    return Tensor(np.ones(_shape(shape, "ones"), _float(dtype)), dtype=_float(dtype))


def zeros(shape: Shape, dtype: Any = None) -> Tensor:
    """A tensor of zeros, floatx unless ``dtype``."""
    return Tensor(np.zeros(_shape(shape, "zeros"), _float(dtype)), dtype=_float(dtype))


def full(shape: Shape, fill_value: Any, dtype: Any = None) -> Tensor:
    """A tensor filled with ``fill_value``, floatx unless ``dtype``."""
    return Tensor(np.full(_shape(shape, "full"), np.asarray(tensor(fill_value).data)),
                  dtype=_float(dtype))


def array(x: Any, dtype: Any = None) -> Tensor:
    """A new Tensor holding a copy of ``x`` (Keras's dtypes, as :func:`convert_to_tensor`)."""
    return Tensor(tensor(x, dtype).data, dtype=tensor(x, dtype).dtype)


def copy(x: Any) -> Tensor:
    """A copy of ``x`` that is part of the graph (the gradient passes through)."""
    return tensor(x) * 1 if tensor(x).dtype.kind != "b" else array(x)


def empty(shape: Shape, dtype: Any = None) -> Tensor:
    """A tensor of ``shape`` (zeros here: numpy's uninitialised memory is not worth the risk)."""
    return zeros(shape, dtype)


def empty_like(x: Any, dtype: Any = None) -> Tensor:
    """A tensor of ``x``'s shape and dtype (zeros here, as :func:`empty`)."""
    return zeros_like(x, dtype)


def tri(N: int, M: int | None = None, k: int = 0, dtype: Any = None) -> Tensor:  # noqa: N803
    """Ones at and below diagonal ``k`` of an N×M matrix (floatx)."""
    return Tensor(np.tri(N, M, k), dtype=_float(dtype))


def ones_like(x: Any, dtype: Any = None) -> Tensor:
    """Ones of ``x``'s shape and dtype (or ``dtype``)."""
    x = tensor(x)
    return Tensor(np.ones(x.shape), dtype=x.dtype if dtype is None else dtype)


def zeros_like(x: Any, dtype: Any = None) -> Tensor:
    """Zeros of ``x``'s shape and dtype (or ``dtype``)."""
    x = tensor(x)
    return Tensor(np.zeros(x.shape), dtype=x.dtype if dtype is None else dtype)


def full_like(x: Any, fill_value: Any, dtype: Any = None) -> Tensor:
    """``fill_value`` in ``x``'s shape and dtype (or ``dtype``)."""
    x = tensor(x)
    return Tensor(np.full(x.shape, np.asarray(tensor(fill_value).data)),
                  dtype=x.dtype if dtype is None else dtype)


def arange(start: Any, stop: Any = None, step: Any = 1, dtype: Any = None) -> Tensor:
    """Evenly spaced values in [start, stop): int32 for integer arguments, else floatx.

    Example:
        >>> arange(3), arange(0, 1, 0.5)
        (Tensor([0, 1, 2], dtype=int32), Tensor([0. , 0.5], dtype=float32))
    """
    if stop is None:
        start, stop = 0, start
    if dtype is None:
        dtype = result_type(start, stop, step)
    if step == 0:
        raise ValueError(tr("arange received step=0 (start={start}, stop={stop})", start=start,
                            stop=stop))
    return Tensor(np.arange(start, stop, step, dtype=np.float64), dtype=dtype)


def linspace(start: Any, stop: Any, num: int = 50, endpoint: bool = True, retstep: bool = False,
             dtype: Any = None, axis: int = 0) -> Tensor | tuple[Tensor, Tensor]:
    """``num`` evenly spaced values from ``start`` to ``stop`` (floatx), numpy's formula.

    Example:
        >>> linspace(0, 1, 3)
        Tensor([0. , 0.5, 1. ], dtype=float32)
    """
    if isinstance(num, bool) or not isinstance(num, (int, np.integer)) or num < 0:
        raise ValueError(tr("linspace expects a non-negative integer num, received num={num!r}",
                            num=num))
    values, step = np.linspace(np.asarray(tensor(start).data, np.float64),
                               np.asarray(tensor(stop).data, np.float64), num,
                               endpoint=endpoint, retstep=True, axis=axis)
    out = Tensor(values, dtype=_float(dtype))
    return (out, Tensor(step, dtype=_float(dtype))) if retstep else out


def eye(N: int, M: int | None = None, k: int = 0, dtype: Any = None) -> Tensor:  # noqa: N803
    """An N×M matrix with ones on diagonal ``k`` (floatx), as numpy's ``eye``.

    NOTE: Keras 3.15's TensorFlow backend returns an (N+k)×(M+k) matrix for k > 0; this follows
    the documented (numpy's) shape instead.
    """
    return Tensor(np.eye(N, M, k), dtype=_float(dtype))


def identity(n: int, dtype: Any = None) -> Tensor:
    """The n×n identity matrix (floatx)."""
    return eye(n, dtype=dtype)


def tril(x: Any, k: int = 0) -> Tensor:
    """``x`` with the entries above diagonal ``k`` of its last two axes set to 0."""
    x = tensor(x)
    keep = np.tril(np.ones(x.shape[-2:], bool), k)
    return _engine.where(keep, x, np.zeros((), x.dtype))


def triu(x: Any, k: int = 0) -> Tensor:
    """``x`` with the entries below diagonal ``k`` of its last two axes set to 0."""
    x = tensor(x)
    keep = np.triu(np.ones(x.shape[-2:], bool), k)
    return _engine.where(keep, x, np.zeros((), x.dtype))


# ----- shape -----

def reshape(x: Any, newshape: Shape) -> Tensor:
    """The same entries in shape ``newshape`` (one ``-1`` is inferred)."""
    newshape = (newshape,) if isinstance(newshape, (int, np.integer)) else tuple(newshape)
    return tensor(x).reshape(newshape)


def transpose(x: Any, axes: Sequence[int] | None = None) -> Tensor:
    """Permute the axes (reverse them by default)."""
    return tensor(x).transpose(tuple(axes) if axes is not None else ())


def expand_dims(x: Any, axis: int | Sequence[int]) -> Tensor:
    """Insert size-1 axes at ``axis`` (an int or a tuple)."""
    x = tensor(x)
    if isinstance(axis, (tuple, list)):
        return x.reshape(np.expand_dims(np.empty(x.shape, bool), tuple(axis)).shape)
    return x.expand_dims(axis)


def squeeze(x: Any, axis: int | Sequence[int] | None = None) -> Tensor:
    """Drop size-1 axes (all of them, or those at ``axis``)."""
    return tensor(x).squeeze(tuple(axis) if isinstance(axis, list) else axis)


def ravel(x: Any) -> Tensor:
    """The entries as one axis, in row-major order."""
    return tensor(x).reshape(-1)


def broadcast_to(x: Any, shape: Shape) -> Tensor:
    """``x`` repeated along new or size-1 axes to ``shape``."""
    return tensor(x).broadcast_to(_shape(shape, "broadcast_to"))


def moveaxis(x: Any, source: int | Sequence[int], destination: int | Sequence[int]) -> Tensor:
    """Move axes to new positions, keeping the order of the others."""
    x = tensor(x)
    src = [source] if isinstance(source, (int, np.integer)) else list(source)
    dst = [destination] if isinstance(destination, (int, np.integer)) else list(destination)
    if len(src) != len(dst) or not builtins.all(-x.ndim <= a < x.ndim for a in src + dst):
        raise ValueError(tr("moveaxis received source={source!r}, destination={destination!r} "
                            "for a tensor of shape {shape}: expected as many axes in each, all "
                            "in [-{ndim}, {ndim})", source=source, destination=destination,
                            shape=x.shape, ndim=x.ndim))
    src, dst = [a % x.ndim for a in src], [a % x.ndim for a in dst]
    order = [a for a in range(x.ndim) if a not in src]  # the other axes keep their order
    for d, s in sorted(zip(dst, src)):
        order.insert(d, s)
    return x.transpose(tuple(order)) if x.ndim > 1 else x


def swapaxes(x: Any, axis1: int, axis2: int) -> Tensor:
    """Exchange two axes."""
    x = tensor(x)
    order = list(range(x.ndim))
    order[axis1], order[axis2] = order[axis2], order[axis1]
    return x.transpose(tuple(order))


def flip(x: Any, axis: int | Sequence[int] | None = None) -> Tensor:
    """Reverse the order of the entries along ``axis`` (every axis by default)."""
    x = tensor(x)
    axes = range(x.ndim) if axis is None else (axis,) if isinstance(axis, int) else axis
    index = [slice(None)] * x.ndim
    for a in axes:
        index[a] = slice(None, None, -1)
    return x[tuple(index)]


def fliplr(x: Any) -> Tensor:
    """Reverse axis 1."""
    return flip(x, axis=1)


def flipud(x: Any) -> Tensor:
    """Reverse axis 0."""
    return flip(x, axis=0)


# ----- joining and splitting -----

def _common(xs: Sequence[Any], op: str) -> list[Tensor]:
    xs = list(xs)
    if not xs:
        raise ValueError(tr("{op} needs at least one tensor, received none", op=op))
    common = result_type(*xs)
    return [as_dtype(tensor(x), common) for x in xs]


def concatenate(xs: Sequence[Any], axis: int = 0) -> Tensor:
    """Join tensors along an existing axis (their common dtype).

    Example:
        >>> concatenate([Tensor([1.0]), Tensor([2.0, 3.0])])
        Tensor([1., 2., 3.], dtype=float32)
    """
    return _engine.concatenate(_common(xs, "concatenate"), axis=axis)


def stack(x: Sequence[Any], axis: int = 0) -> Tensor:
    """Join same-shaped tensors along a new axis."""
    return _engine.stack(_common(x, "stack"), axis=axis)


def hstack(xs: Sequence[Any]) -> Tensor:
    """Join along axis 1 (axis 0 for 1-D tensors)."""
    xs = _common(xs, "hstack")
    return _engine.concatenate(xs, axis=0 if xs[0].ndim == 1 else 1)


def vstack(xs: Sequence[Any]) -> Tensor:
    """Join along axis 0, 1-D tensors as rows (numpy's rule; Keras 3.15's TF backend joins 1-D
    tensors end to end instead)."""
    xs = _common(xs, "vstack")
    return _engine.concatenate([x.reshape(1, -1) if x.ndim < 2 else x for x in xs], axis=0)


def append(x1: Any, x2: Any, axis: int | None = None) -> Tensor:
    """x2 joined after x1 along ``axis`` (both flattened by default)."""
    a, b = _common([x1, x2], "append")
    if axis is None:
        return _engine.concatenate([a.reshape(-1), b.reshape(-1)], axis=0)
    return _engine.concatenate([a, b], axis=axis)


def split(x: Any, indices_or_sections: int | Sequence[int], axis: int = 0) -> list[Tensor]:
    """Cut into equal sections, or at the given indices, along ``axis``."""
    x = tensor(x)
    n = x.shape[axis]
    if isinstance(indices_or_sections, (int, np.integer)):
        if indices_or_sections <= 0 or n % indices_or_sections:
            raise ValueError(tr("split cannot cut an axis of size {n} into "
                                "{indices_or_sections} equal sections", n=n,
                                indices_or_sections=indices_or_sections))
        cuts = list(range(0, n, n // int(indices_or_sections)))[1:]
    else:
        cuts = [int(i) for i in indices_or_sections]
    bounds = [0, *cuts, n]
    index = [slice(None)] * x.ndim
    pieces = []
    for lo, hi in zip(bounds[:-1], bounds[1:]):
        index[axis] = slice(lo, hi)
        pieces.append(x[tuple(index)])
    return pieces


def unstack(x: Any, num: int | None = None, axis: int = 0) -> list[Tensor]:
    """The slices along ``axis``, each without that axis."""
    x = tensor(x)
    if num is not None and num != x.shape[axis]:
        raise ValueError(tr("unstack received num={num} for axis {axis} of size {shape}", num=num,
                            axis=axis, shape=x.shape[axis]))
    index = [slice(None)] * x.ndim
    out = []
    for i in range(x.shape[axis]):
        index[axis] = i
        out.append(x[tuple(index)])
    return out


def repeat(x: Any, repeats: int | Sequence[int], axis: int | None = None) -> Tensor:
    """Repeat each entry ``repeats`` times along ``axis`` (of the flattened tensor by default)."""
    x = tensor(x)
    if axis is None:
        x, axis = x.reshape(-1), 0
    picks = np.repeat(np.arange(x.shape[axis]), repeats)
    return take(x, picks, axis=axis)


def tile(x: Any, repeats: int | Sequence[int]) -> Tensor:
    """Repeat the whole tensor ``repeats[i]`` times along axis i."""
    x = tensor(x)
    reps = (repeats,) if isinstance(repeats, (int, np.integer)) else tuple(repeats)
    if len(reps) > x.ndim:
        x = x.reshape((1,) * (len(reps) - x.ndim) + x.shape)
    reps = (1,) * (x.ndim - len(reps)) + reps
    for axis, r in enumerate(reps):
        if r != 1:
            x = take(x, np.tile(np.arange(x.shape[axis]), r), axis=axis)
    return x
