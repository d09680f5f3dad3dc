"""The common activations; sigmoid and softmax outputs carry their logits (``with_logits``).

Built from public ``Tensor`` ops only, so gradients (kinks included) are the engine's, which are
TensorFlow's (keras-semantics.md sections 3 and 9).
"""

from __future__ import annotations

from typing import Any

from tinygrad_es.tensor import Tensor, where
from tinygrad_es.tfcast import tf_constant


def _t(x: Any) -> Tensor:
    return x if isinstance(x, Tensor) else Tensor(x)


# ----- outputs that remember their logits (Tensor.with_logits) -----

def logits_of(t: Any) -> Tensor | None:
    """The logits a ``sigmoid``/``softmax`` output was computed from, else None.

    Example:
        >>> z = Tensor([40.0]); logits_of(sigmoid(z)) is z
        True
    """
    return t.logits if isinstance(t, Tensor) else None


# ----- the standard activations -----

def linear(x: Any) -> Tensor:
    """Identity: f(x) = x (also what ``get(None)`` returns).

    Example:
        >>> linear(Tensor([-1.0])).data
        array([-1.], dtype=float32)
    """
    return _t(x)


def sigmoid(x: Any) -> Tensor:
    """f(x) = 1/(1+e^-x); the output carries x for the crossentropy logits path.

    Example:
        >>> sigmoid(Tensor([0.0])).data
        array([0.5], dtype=float32)
    """
    x = _t(x)
    return x.sigmoid().with_logits(x)


def softmax(x: Any, axis: int | tuple[int, ...] | None = -1) -> Tensor:
    """f(x)_i = e^(x_i - max) / sum_j e^(x_j - max) along ``axis``; the output carries x.

    Example:
        >>> softmax(Tensor([[0.0, 0.0]])).data
        array([[0.5, 0.5]], dtype=float32)
    """
    x = _t(x)
    return x.softmax(axis=axis).with_logits(x)


def log_softmax(x: Any, axis: int | tuple[int, ...] | None = -1) -> Tensor:
    """f(x)_i = x_i - max - log sum_j e^(x_j - max) along ``axis``.

    Example:
        >>> log_softmax(Tensor([0.0, 0.0])).data
        array([-0.6931472, -0.6931472], dtype=float32)
    """
    return _t(x).log_softmax(axis=axis)


def tanh(x: Any) -> Tensor:
    """f(x) = (e^x - e^-x)/(e^x + e^-x).

    Example:
        >>> tanh(Tensor([0.0])).data
        array([0.], dtype=float32)
    """
    return _t(x).tanh()


def relu(x: Any, negative_slope: float = 0.0, max_value: float | None = None,
         threshold: float = 0.0) -> Tensor:
    """Keras's relu: x if x > threshold else 0, clipped to [0, max_value], minus
    negative_slope * relu(threshold - x).  Defaults give max(x, 0), gradient 0 at 0.

    Example:
        >>> relu(Tensor([-10.0, 0.0, 10.0]), negative_slope=0.5, max_value=5.0).data
        array([-5.,  0.,  5.], dtype=float32)
    """
    x = _t(x)
    if negative_slope != 0.0:
        if max_value is None and threshold == 0:
            return x.leaky_relu(negative_slope)
        negative_part = (threshold - x).relu() if threshold != 0 else (-x).relu()
    clip_max = max_value is not None
    if threshold != 0:
        # NOTE: ops.cast(threshold, x.dtype) goes through float32, as every Python float.
        out = where(x.data > tf_constant(float(threshold), x.dtype), x, 0.0)
    elif max_value == 6:
        out, clip_max = x.relu6(), False
    else:
        out = x.relu()
    if clip_max:
        out = out.clip(0.0, tf_constant(float(max_value), x.dtype))  # NOTE: via float32
    if negative_slope != 0.0:
        out = out - negative_part * negative_slope
    return out


def relu6(x: Any) -> Tensor:
    """f(x) = min(max(x, 0), 6); gradient 0 at both kinks.

    Example:
        >>> relu6(Tensor([-1.0, 7.0])).data
        array([0., 6.], dtype=float32)
    """
    return _t(x).relu6()


def leaky_relu(x: Any, negative_slope: float = 0.2) -> Tensor:
    """f(x) = x if x > 0 else negative_slope * x (Keras's function default 0.2; the layer's is 0.3).

    Example:
        >>> leaky_relu(Tensor([-1.0])).data
        array([-0.2], dtype=float32)
    """
    return _t(x).leaky_relu(negative_slope)


def elu(x: Any, alpha: float = 1.0) -> Tensor:
    """f(x) = x if x > 0 else alpha (e^x - 1).

    Example:
        >>> elu(Tensor([0.0])).data
        array([0.], dtype=float32)
    """
    return _t(x).elu(alpha)


def selu(x: Any) -> Tensor:
    """f(x) = scale x if x > 0 else scale alpha (e^x - 1), alpha = 1.67326324, scale = 1.05070099.

    Example:
        >>> selu(Tensor([1.0])).data
        array([1.050701], dtype=float32)
    """
    return _t(x).selu()


def softplus(x: Any) -> Tensor:
    """f(x) = log(1 + e^x), computed stably as max(x, 0) + log(1 + e^-|x|).

    Example:
        >>> softplus(Tensor([0.0])).data
        array([0.6931472], dtype=float32)
    """
    return _t(x).softplus()


def softsign(x: Any) -> Tensor:
    """f(x) = x / (1 + |x|).

    Example:
        >>> softsign(Tensor([1.0])).data
        array([0.5], dtype=float32)
    """
    return _t(x).softsign()


def silu(x: Any) -> Tensor:
    """Swish / SiLU: f(x) = x * sigmoid(x).

    Example:
        >>> silu(Tensor([0.0])).data
        array([0.], dtype=float32)
    """
    return _t(x).silu()


swish = silu


def gelu(x: Any, approximate: bool = False) -> Tensor:
    """Exact by default: f(x) = 0.5 x erfc(-x/sqrt 2); ``approximate=True`` is the tanh form.

    Example:
        >>> gelu(Tensor([0.0])).data
        array([0.], dtype=float32)
    """
    return _t(x).gelu(approximate=approximate)


def hard_sigmoid(x: Any) -> Tensor:
    """Keras 3 form: f(x) = relu6(x + 3) / 6, i.e. clip(x/6 + 0.5, 0, 1); gradient 0 at +-3.

    Example:
        >>> hard_sigmoid(Tensor([0.0, 3.0])).data
        array([0.5, 1. ], dtype=float32)
    """
    return (_t(x) + 3.0).relu6() / 6.0


def hard_silu(x: Any) -> Tensor:
    """Hard swish: f(x) = x * relu6(x + 3) / 6.

    Example:
        >>> hard_silu(Tensor([3.0])).data
        array([3.], dtype=float32)
    """
    x = _t(x)
    return x * hard_sigmoid(x)


hard_swish = hard_silu


def exponential(x: Any) -> Tensor:
    """f(x) = e^x.

    Example:
        >>> exponential(Tensor([0.0])).data
        array([1.], dtype=float32)
    """
    return _t(x).exp()


def mish(x: Any) -> Tensor:
    """f(x) = x * tanh(softplus(x)).

    Example:
        >>> mish(Tensor([0.0])).data
        array([0.], dtype=float32)
    """
    x = _t(x)
    return x * x.softplus().tanh()
