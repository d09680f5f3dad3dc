"""Neural-network ops, as ``keras.ops`` (and ``keras.ops.nn``) names them: activations, softmax,
one-hot encodings, moments and normalisation.

The activations are :mod:`tinygrad_es.activations`' own functions (one formula, one home), with the
signatures ``keras.ops`` gives them: ``ops.gelu`` defaults to the tanh approximation where the
activation defaults to the exact form, and ``ops.relu`` takes no slope or threshold.
``sigmoid``/``softmax`` outputs carry their logits, as Keras's ``_keras_logits``.
"""

from __future__ import annotations

from typing import Any, Sequence

import numpy as np

from tinygrad_es import activations as _act
from tinygrad_es import config
from tinygrad_es.activations import (  # noqa: F401  (re-exported: the same functions as Keras's)
    celu, elu, glu, hard_shrink, hard_sigmoid, hard_silu, hard_swish, hard_tanh, leaky_relu,
    log_sigmoid, relu6, selu, silu, soft_shrink, softplus, softsign, sparse_plus, sparse_sigmoid,
    sparsemax, squareplus, swish, tanh_shrink, threshold)
from tinygrad_es.ops.arrays import moveaxis
from tinygrad_es.ops.core import as_dtype, float_type, tensor
from tinygrad_es.tensor import Tensor
from tinygrad_es.i18n import tr

__all__ = ["relu", "relu6", "sigmoid", "softplus", "softsign", "silu", "swish", "gelu", "elu",
           "selu", "leaky_relu", "celu", "glu", "hard_sigmoid", "hard_silu", "hard_swish",
           "hard_tanh", "hard_shrink", "soft_shrink", "tanh_shrink", "log_sigmoid", "sparse_plus",
           "sparse_sigmoid", "sparsemax", "squareplus", "threshold", "softmax", "log_softmax",
           "one_hot", "multi_hot", "moments", "normalize"]


def _floats(x: Any) -> Tensor:
    x = tensor(x)
    return as_dtype(x, float_type(x))


def relu(x: Any) -> Tensor:
    """max(x, 0); the gradient at 0 is 0 (as TF).

    Example:
        >>> relu(Tensor([-1.0, 2.0]))
        Tensor([0., 2.], dtype=float32)
    """
    return _floats(x).relu()


def sigmoid(x: Any) -> Tensor:
    """1/(1+e^-x); the output carries x (its logits) for the crossentropy losses."""
    return _act.sigmoid(_floats(x))


def gelu(x: Any, approximate: bool = True) -> Tensor:
    """GELU; ``keras.ops.gelu`` defaults to the tanh approximation (the activation does not).

    Example:
        >>> round(float(gelu(Tensor(1.0)).item()), 4), round(float(gelu(1.0, False).item()), 4)
        (0.8412, 0.8413)
    """
    return _act.gelu(_floats(x), approximate=approximate)


def _over_axes(fn: Any, x: Tensor, axis: int | Sequence[int] | None) -> Tensor:
    """``fn`` (a last-axis op) over ``axis``: one axis, several (moved last and merged), or all."""
    if isinstance(axis, (int, np.integer)):
        return fn(x, int(axis))
    axes = tuple(range(x.ndim)) if axis is None else tuple(a % x.ndim for a in axis)
    rest = tuple(a for a in range(x.ndim) if a not in axes)
    moved = moveaxis(x, axes, tuple(range(len(rest), x.ndim))) if rest else x
    merged = moved.reshape(moved.shape[:len(rest)] + (-1,))
    out = fn(merged, -1).reshape(moved.shape)
    return moveaxis(out, tuple(range(len(rest), x.ndim)), axes) if rest else out


def softmax(x: Any, axis: int | Sequence[int] | None = -1) -> Tensor:
    """e^(x-max) / Σ e^(x-max) over ``axis`` (several axes, or all with None, act as one); the
    output carries x (its logits).

    Example:
        >>> softmax(Tensor([0.0, 0.0]))
        Tensor([0.5, 0.5], dtype=float32)
    """
    x = _floats(x)
    return _over_axes(lambda t, a: t.softmax(axis=a), x, axis).with_logits(x)


def log_softmax(x: Any, axis: int | Sequence[int] | None = -1) -> Tensor:
    """x - max - log Σ e^(x-max) over ``axis`` (as :func:`softmax`)."""
    return _over_axes(lambda t, a: t.log_softmax(axis=a), _floats(x), axis)


def one_hot(x: Any, num_classes: int, axis: int = -1, dtype: Any = None,
            sparse: bool = False) -> Tensor:
    """Integer labels as one-hot rows along a new ``axis`` (floatx); a label outside
    [0, num_classes) gives a row of zeros, as TF.

    Example:
        >>> one_hot([0, 2], 3)
        Tensor([[1., 0., 0.],
                [0., 0., 1.]], dtype=float32)
    """
    if sparse:
        raise ValueError(tr("one_hot received sparse=True: tinygrad_es has dense tensors only"))
    if (isinstance(num_classes, bool) or not isinstance(num_classes, (int, np.integer))
            or num_classes < 1):
        raise ValueError(tr("one_hot expects a positive integer num_classes, received "
                            "{num_classes!r}", num_classes=num_classes))
    labels = np.asarray(tensor(x).data)
    if labels.dtype.kind not in "iu":
        if labels.dtype.kind == "f" and np.all(labels == np.round(labels)):
            labels = labels.astype(np.int64)
        else:
            raise ValueError(tr("one_hot expects integer labels, received dtype {dtype}",
                                dtype=labels.dtype))
    out = (labels[..., None] == np.arange(num_classes))
    if axis != -1:
        out = np.moveaxis(out, -1, axis)
    dtype = config.floatx() if dtype is None else dtype
    return Tensor(out, dtype=dtype)


def multi_hot(inputs: Any, num_classes: int, axis: int = -1, dtype: Any = None,
              sparse: bool = False) -> Tensor:
    """Several labels per row as one multi-hot row: the rows of :func:`one_hot` combined by max
    (over the labels of each sample: the last axis, or the only one)."""
    hot = one_hot(inputs, num_classes, axis=-1, dtype=dtype, sparse=sparse)
    reduce_axis = 1 if hot.ndim > 2 else 0
    data = hot.data.max(axis=reduce_axis)
    if axis != -1:
        data = np.moveaxis(data, -1, axis)
    return Tensor(data, dtype=hot.dtype)


def moments(x: Any, axes: int | Sequence[int], keepdims: bool = False,
            synchronized: bool = False) -> tuple[Tensor, Tensor]:
    """``(mean, variance)`` of x over ``axes`` (population variance, as TF's ``nn.moments``).

    Example:
        >>> m, v = moments(Tensor([1.0, 3.0]), axes=0); m, v
        (Tensor(2., dtype=float32), Tensor(1., dtype=float32))
    """
    x = _floats(x)
    axes = tuple(axes) if isinstance(axes, (list, tuple)) else axes
    mean = x.mean(axis=axes, keepdims=True)
    variance = (x - mean.detach()).square().mean(axis=axes, keepdims=keepdims)
    # NOTE: TF's nn.moments centres on a stopped-gradient mean; the mean's own gradient is direct
    return (mean if keepdims else mean.squeeze(axes)), variance


def normalize(x: Any, axis: int = -1, order: int = 2, epsilon: float | None = None) -> Tensor:
    """x divided by its ``order``-norm along ``axis``, at most x/ε (order 2: x · min(1/√Σx², 1/ε)).

    Example:
        >>> normalize(Tensor([3.0, 4.0]))
        Tensor([0.6, 0.8], dtype=float32)
    """
    from tinygrad_es.ops.linalg import norm

    x = _floats(x)
    eps = config.epsilon() if epsilon is None else epsilon
    if order == 2:
        inverse_norm = 1 / x.square().sum(axis=axis, keepdims=True).sqrt()
        return x * inverse_norm.minimum(1.0 / eps)
    return x / norm(x, ord=order, axis=axis, keepdims=True).maximum(eps)
