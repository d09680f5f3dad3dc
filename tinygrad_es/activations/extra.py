"""The less common activations ``keras.activations.get`` also accepts (Keras 3.15)."""

from __future__ import annotations

from typing import Any

import numpy as np

from tinygrad_es.activations.common import _t
from tinygrad_es.tensor import Tensor, where


def celu(x: Any, alpha: float = 1.0) -> Tensor:
    """f(x) = max(x, 0) + alpha (e^(min(x, 0)/alpha) - 1).  (TF's tie rules: gradient 2 at 0.)

    Example:
        >>> celu(Tensor([-1.0, 2.0]), alpha=1.0).data
        array([-0.6321206,  2.       ], dtype=float32)
    """
    x = _t(x)
    # NOTE: expm1 is exp - 1 here (no expm1 op); off by <= 1 ulp of 1, i.e. ~1e-7 in float32.
    return x.maximum(0.0) + ((x.minimum(0.0) / alpha).exp() - 1.0) * alpha


def glu(x: Any, axis: int = -1) -> Tensor:
    """Gated linear unit: split x in halves a, b along ``axis``; f(x) = a * sigmoid(b).

    Example:
        >>> glu(Tensor([2.0, 0.0])).data
        array([1.], dtype=float32)
    """
    x = _t(x)
    n = x.shape[axis]
    if n % 2:
        raise ValueError(f"glu: axis size must be divisible by 2, received x.shape={x.shape} "
                         f"with axis={axis}")
    first = [slice(None)] * x.ndim
    second = list(first)
    first[axis], second[axis] = slice(0, n // 2), slice(n // 2, n)
    return x[tuple(first)] * x[tuple(second)].sigmoid()


def hard_tanh(x: Any) -> Tensor:
    """f(x) = clip(x, -1, 1).

    Example:
        >>> hard_tanh(Tensor([-2.0, 0.5])).data
        array([-1. ,  0.5], dtype=float32)
    """
    return _t(x).clip(-1.0, 1.0)


def hard_shrink(x: Any, threshold: float = 0.5) -> Tensor:
    """f(x) = x if |x| > threshold else 0.

    Example:
        >>> hard_shrink(Tensor([0.3, 0.7])).data
        array([0. , 0.7], dtype=float32)
    """
    x = _t(x)
    return where(np.abs(x.data) > threshold, x, 0.0)


def soft_shrink(x: Any, threshold: float = 0.5) -> Tensor:
    """f(x) = x - threshold if x > threshold, x + threshold if x < -threshold, else 0.

    Example:
        >>> soft_shrink(Tensor([0.3, 1.5, -2.5])).data
        array([ 0.,  1., -2.], dtype=float32)
    """
    x = _t(x)
    return where(x.data > threshold, x - threshold, where(x.data < -threshold, x + threshold, 0.0))


def tanh_shrink(x: Any) -> Tensor:
    """f(x) = x - tanh(x).

    Example:
        >>> tanh_shrink(Tensor([0.0])).data
        array([0.], dtype=float32)
    """
    x = _t(x)
    return x - x.tanh()


def log_sigmoid(x: Any) -> Tensor:
    """f(x) = log sigmoid(x) = -softplus(-x).

    Example:
        >>> log_sigmoid(Tensor([0.0])).data
        array([-0.6931472], dtype=float32)
    """
    return -((-_t(x)).softplus())


def sparse_plus(x: Any) -> Tensor:
    """f(x) = 0 for x <= -1, (x + 1)^2 / 4 for -1 < x < 1, x for x >= 1.

    Example:
        >>> sparse_plus(Tensor([0.0])).data
        array([0.25], dtype=float32)
    """
    x = _t(x)
    # NOTE: the square branch sees x clipped to [-1, 1], which changes nothing where it is
    # chosen; unclipped, (x + 1)^2 overflows past |x| = 1.8e19 (float32) and, past 1.7e38, its
    # unused gradient 0 * 2(x + 1) is 0 * inf = NaN. Keras's tf.pow gradient stays 0 there.
    return where(x.data <= -1, 0.0,
                 where(x.data < 1, (x.clip(-1.0, 1.0) + 1.0).square() * 0.25, x))


def sparse_sigmoid(x: Any) -> Tensor:
    """f(x) = 0 for x <= -1, (x + 1) / 2 for -1 < x < 1, 1 for x >= 1.

    Example:
        >>> sparse_sigmoid(Tensor([0.0])).data
        array([0.5], dtype=float32)
    """
    x = _t(x)
    return where(x.data <= -1, 0.0, where(x.data >= 1, 1.0, (x + 1.0) * 0.5))


def squareplus(x: Any, b: float = 4) -> Tensor:
    """f(x) = (x + sqrt(x^2 + b)) / 2.

    Example:
        >>> squareplus(Tensor([0.0])).data
        array([1.], dtype=float32)
    """
    x = _t(x)
    return (x + (x.square() + b).sqrt()) / 2.0


def threshold(x: Any, threshold: float, default_value: float) -> Tensor:
    """f(x) = x if x > threshold else default_value.

    Example:
        >>> threshold(Tensor([0.5, 2.0]), 1.0, -1.0).data
        array([-1.,  2.], dtype=float32)
    """
    x = _t(x)
    return where(x.data > threshold, x, default_value)


def sparsemax(x: Any, axis: int = -1) -> Tensor:
    """Keras's sparsemax: f(x) = max(x - tau, 0) with z = x sorted descending, S = cumsum z,
    support k = #{j : z_j - (S_j - 1)/j > 0} and tau = (sum_{j in support} S_j - 1) / k.

    NOTE: this is Keras 3.15's formula as written, which sums the cumulative sums over the support
    (the paper uses S_k alone); the outputs then need not sum to 1. Reproduced for parity.

    Example:
        >>> sparsemax(Tensor([1.0, 0.0])).data
        array([1., 0.], dtype=float32)
    """
    x = _t(x)
    moved = x if axis in (-1, x.ndim - 1) else x.transpose(_swap_last(x.ndim, axis))
    n = moved.shape[-1]
    order = np.argsort(-moved.data, axis=-1, kind="stable")
    index = tuple(np.indices(order.shape, sparse=True)[:-1]) + (order,)
    ranked = moved[index]
    cumsum = ranked @ np.triu(np.ones((n, n), dtype=x.dtype))
    rank = np.arange(1, n + 1, dtype=x.dtype)
    support = ranked.data - (cumsum.data - 1) / rank > 0
    k = support.sum(axis=-1, keepdims=True).astype(x.dtype)
    tau = (where(support, cumsum, 0.0).sum(axis=-1, keepdims=True) - 1.0) / k
    out = (moved - tau).maximum(0.0)
    return out if moved is x else out.transpose(_swap_last(x.ndim, axis))


def _swap_last(ndim: int, axis: int) -> tuple[int, ...]:
    perm = list(range(ndim))
    perm[axis], perm[-1] = perm[-1], perm[axis]
    return tuple(perm)
