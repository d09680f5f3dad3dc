"""Reductions, as ``keras.ops`` names them: sum, mean, max, min, var, std, argmax/argmin, all/any,
logsumexp and cumsum.

The differentiable ones are the engine's Tensor reductions (max/min share a tie's gradient among the
tied entries, as TF). ``cumsum`` is one primitive of its own (below), because a running sum built
from matmul would cost O(n²) and add in another order than TensorFlow's scan.
"""

from __future__ import annotations

import builtins
from typing import Any

import numpy as np

from tinygrad_es.autograd import Function
from tinygrad_es.ops.core import as_dtype, float_type, tensor
from tinygrad_es.tensor import Tensor
from tinygrad_es.i18n import tr

__all__ = ["sum", "mean", "max", "min", "amax", "amin", "var", "std", "argmax", "argmin", "all",
           "any", "logsumexp", "cumsum", "count_nonzero"]

Axis = int | tuple[int, ...] | list[int] | None


def _axis(axis: Axis, x: Tensor, op: str) -> int | tuple[int, ...] | None:
    """``axis`` as numpy takes it, checked against ``x``'s rank (an error names the op)."""
    if axis is None:
        return None
    axes = tuple(axis) if isinstance(axis, (tuple, list)) else (axis,)
    rank = builtins.max(x.ndim, 1)  # this module's max is the op
    for a in axes:
        if isinstance(a, bool) or not isinstance(a, (int, np.integer)) or not -rank <= a < rank:
            raise ValueError(tr("{op} received axis={axis!r} for a tensor of shape {shape}: "
                                "expected integers in [-{rank}, {rank})", op=op, axis=axis,
                                shape=x.shape, rank=rank))
    return tuple(int(a) for a in axes) if isinstance(axis, (tuple, list)) else int(axis)


def sum(x: Any, axis: Axis = None, keepdims: bool = False) -> Tensor:  # noqa: A001
    """Σ x over ``axis`` (all axes by default); bools and small ints add up as int32, small
    unsigned ints as uint32 (Keras's rule).

    Example:
        >>> sum(Tensor([[1.0, 2.0], [3.0, 4.0]]), axis=0)
        Tensor([4., 6.], dtype=float32)
    """
    x = tensor(x)
    if x.dtype.kind in "biu" and x.dtype.itemsize < 4:
        x = as_dtype(x, "uint32" if x.dtype.kind == "u" else "int32")
    out = x.sum(axis=_axis(axis, x, "sum"), keepdims=keepdims)
    return as_dtype(out, x.dtype)  # numpy sums small ints as int64; Keras keeps the type


def mean(x: Any, axis: Axis = None, keepdims: bool = False) -> Tensor:
    """The mean over ``axis``; integers and bools are averaged in float32 (as Keras).

    Example:
        >>> mean([1, 2])
        Tensor(1.5, dtype=float32)
    """
    x = tensor(x)
    if x.dtype.kind != "f":
        x = as_dtype(x, "float32")
    return x.mean(axis=_axis(axis, x, "mean"), keepdims=keepdims)


def max(x: Any, axis: Axis = None, keepdims: bool = False,  # noqa: A001
        initial: Any = None) -> Tensor:
    """The largest entry over ``axis``; tied entries share the gradient equally (as TF).
    ``initial`` is a floor on the result."""
    x = tensor(x)
    out = x.max(axis=_axis(axis, x, "max"), keepdims=keepdims)
    return out if initial is None else out.maximum(initial)


def min(x: Any, axis: Axis = None, keepdims: bool = False,  # noqa: A001
        initial: Any = None) -> Tensor:
    """The smallest entry over ``axis``; tied entries share the gradient equally (as TF).
    ``initial`` is a ceiling on the result."""
    x = tensor(x)
    out = x.min(axis=_axis(axis, x, "min"), keepdims=keepdims)
    return out if initial is None else out.minimum(initial)


amax, amin = max, min


def var(x: Any, axis: Axis = None, keepdims: bool = False) -> Tensor:
    """Population variance mean((x - mean x)²). As Keras: integers and float16 are computed in
    float32; the result is floatx for integers."""
    x = tensor(x)
    result = float_type(x)
    x = as_dtype(x, "float32" if x.dtype.kind != "f" or x.dtype.itemsize < 4 else x.dtype)
    out = x.var(axis=_axis(axis, x, "var"), keepdims=keepdims)
    return as_dtype(out, result)


def std(x: Any, axis: Axis = None, keepdims: bool = False) -> Tensor:
    """Population standard deviation √var; integers are computed in floatx."""
    x = tensor(x)
    x = as_dtype(x, float_type(x))
    return x.std(axis=_axis(axis, x, "std"), keepdims=keepdims)


def _arg(x: Any, axis: int | None, keepdims: bool, op: str, find: Any) -> Tensor:
    x = tensor(x)
    if axis is not None:
        _axis(axis, x, op)
    data = x.data.reshape(-1) if axis is None else x.data
    out = find(data, axis=0 if axis is None else axis)
    if keepdims:
        out = np.reshape(out, [1] * x.ndim) if axis is None else np.expand_dims(out, axis)
    return Tensor(np.asarray(out, np.int32), dtype="int32")


def argmax(x: Any, axis: int | None = None, keepdims: bool = False) -> Tensor:
    """The index of the largest entry along ``axis`` (the flattened tensor by default), int32; the
    first one at a tie.

    Example:
        >>> argmax(Tensor([[1.0, 3.0], [2.0, 0.0]]), axis=1)
        Tensor([1, 0], dtype=int32)
    """
    return _arg(x, axis, keepdims, "argmax", np.argmax)


def argmin(x: Any, axis: int | None = None, keepdims: bool = False) -> Tensor:
    """The index of the smallest entry along ``axis``, int32; the first one at a tie."""
    return _arg(x, axis, keepdims, "argmin", np.argmin)


def all(x: Any, axis: Axis = None, keepdims: bool = False) -> Tensor:  # noqa: A001
    """True where every entry over ``axis`` is nonzero."""
    x = tensor(x)
    return Tensor(np.all(x.data, axis=_axis(axis, x, "all"), keepdims=keepdims), dtype=bool)


def any(x: Any, axis: Axis = None, keepdims: bool = False) -> Tensor:  # noqa: A001
    """True where some entry over ``axis`` is nonzero."""
    x = tensor(x)
    return Tensor(np.any(x.data, axis=_axis(axis, x, "any"), keepdims=keepdims), dtype=bool)


def count_nonzero(x: Any, axis: Axis = None) -> Tensor:
    """How many entries over ``axis`` are nonzero (int32)."""
    x = tensor(x)
    counts = np.count_nonzero(x.data, axis=_axis(axis, x, "count_nonzero"))
    return Tensor(np.asarray(counts, np.int32), dtype="int32")


def logsumexp(x: Any, axis: Axis = None, keepdims: bool = False) -> Tensor:
    """log Σ eˣ over ``axis``, computed as m + log Σ e^(x-m) with m = max x (held constant, as TF's
    ``reduce_logsumexp``): no overflow. Its gradient is softmax(x).

    Example:
        >>> f"{logsumexp(Tensor([1000.0, 1000.0])).item():.2f}"
        '1000.69'
    """
    x = tensor(x)
    if x.dtype.kind != "f":
        x = as_dtype(x, "float32")
    ax = _axis(axis, x, "logsumexp")
    m = x.max(axis=ax, keepdims=True).detach()
    m = Tensor(np.where(np.isfinite(m.data), m.data, 0), dtype=x.dtype)  # all -inf: no shift
    out = (x - m).exp().sum(axis=ax, keepdims=True).log() + m
    return out if keepdims else out.squeeze(ax if ax is not None else None)


# ----- cumulative sum: a primitive -----

class CumSum(Function):
    """CumSum: zⱼ = Σ_{i≤j} xᵢ along an axis.  dL/dxᵢ = Σ_{j≥i} gⱼ (the reversed running sum)."""

    elementwise = False
    derivatives = ("the running sum of {g} taken from the end",)

    def forward(self, x, axis):
        self.axis = axis
        return np.cumsum(x, axis=axis, dtype=x.dtype)

    def backward(self, grad_output):
        flipped = np.flip(grad_output, self.axis)
        return np.flip(np.cumsum(flipped, axis=self.axis), self.axis)


def cumsum(x: Any, axis: int | None = None, dtype: Any = None) -> Tensor:
    """The running sum along ``axis`` (of the flattened tensor by default).

    Example:
        >>> cumsum(Tensor([1.0, 2.0, 3.0]))
        Tensor([1., 3., 6.], dtype=float32)
    """
    x = tensor(x)
    if dtype is not None:
        x = as_dtype(x, dtype)
    elif x.dtype.kind == "b":
        x = as_dtype(x, "int32")
    if axis is None:
        x, axis = x.reshape(-1), 0
    else:
        _axis(axis, x, "cumsum")
    return CumSum.apply(x, axis=int(axis))
