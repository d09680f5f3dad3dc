"""Elementwise ops, as ``keras.ops`` names them: arithmetic with broadcasting, unary maths,
comparisons, ``where`` and ``clip``.

Each is one or two public Tensor methods after the dtype rule of ``core.py`` (Python numbers are
weak; int and float meet at the float), so gradients, kinks included, are the engine's, which are
TensorFlow's (keras-semantics.md section 9). Ops with no derivative (sign, floor, comparisons) give
a Tensor that requires no gradient, as TF's ``None`` gradient.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from tinygrad_es import tensor as _engine
from tinygrad_es.ops.core import as_dtype, float_type, pair, result_type, tensor
from tinygrad_es.tensor import Tensor
from tinygrad_es.i18n import tr

__all__ = ["add", "subtract", "multiply", "divide", "true_divide", "divide_no_nan", "power",
           "maximum", "minimum", "negative", "abs", "absolute", "sign", "square", "sqrt", "rsqrt",
           "reciprocal", "exp", "log", "log2", "log10", "tanh", "floor", "ceil", "round", "equal",
           "not_equal", "greater", "greater_equal", "less", "less_equal", "logical_and",
           "logical_or", "logical_not", "logical_xor", "isnan", "isinf", "isfinite", "where",
           "clip"]


def _floats(x: Any) -> Tensor:
    """``x`` as a float Tensor: ints and bools become floatx (Keras's rule for exp, sqrt, ...)."""
    x = tensor(x)
    return as_dtype(x, float_type(x))


def _constant(values: np.ndarray, dtype: Any = None) -> Tensor:
    """A Tensor without a gradient (for the ops whose derivative is zero or undefined)."""
    values = np.asarray(values)
    return Tensor(values, dtype=values.dtype if dtype is None else dtype)


# ----- arithmetic -----

def add(x1: Any, x2: Any) -> Tensor:
    """x1 + x2, broadcast.

    Example:
        >>> add(Tensor([1.0, 2.0]), 1)
        Tensor([2., 3.], dtype=float32)
    """
    a, b = pair(x1, x2)
    return a.add(b)


def subtract(x1: Any, x2: Any) -> Tensor:
    """x1 - x2, broadcast."""
    a, b = pair(x1, x2)
    return a.sub(b)


def multiply(x1: Any, x2: Any) -> Tensor:
    """x1 · x2, broadcast."""
    a, b = pair(x1, x2)
    return a.mul(b)


def divide(x1: Any, x2: Any) -> Tensor:
    """x1 / x2, broadcast; integers are divided as floats (floatx), as Keras does.

    Example:
        >>> divide(1, 4)
        Tensor(0.25, dtype=float32)
    """
    a, b = pair(x1, x2)
    common = float_type(a)
    return as_dtype(a, common).div(as_dtype(b, common))


true_divide = divide


def divide_no_nan(x1: Any, x2: Any) -> Tensor:
    """x1 / x2, and 0 where x2 is 0 (its gradient there too, as TF's ``div_no_nan``)."""
    a, b = pair(x1, x2)
    common = float_type(a)
    a, b = as_dtype(a, common), as_dtype(b, common)
    zero = b.data == 0
    safe = _engine.where(zero, np.ones((), common), b)
    return _engine.where(zero, np.zeros((), common), a.div(safe))


def power(x1: Any, x2: Any) -> Tensor:
    """x1 ** x2. A Python-number exponent gets no gradient; a tensor exponent does (z·ln x1).

    Example:
        >>> power(Tensor([2.0, 3.0]), 2)
        Tensor([4., 9.], dtype=float32)
    """
    if isinstance(x2, (int, float)) and not isinstance(x2, bool):
        base = tensor(x1)
        return as_dtype(base, result_type(base, x2)).pow(x2)
    a, b = pair(x1, x2)
    return a.pow(b)


def maximum(x1: Any, x2: Any) -> Tensor:
    """The larger of x1 and x2; at a tie the gradient goes to x1 (TensorFlow's rule)."""
    a, b = pair(x1, x2)
    return a.maximum(b)


def minimum(x1: Any, x2: Any) -> Tensor:
    """The smaller of x1 and x2; at a tie the gradient goes to x1 (TensorFlow's rule)."""
    a, b = pair(x1, x2)
    return a.minimum(b)


# ----- unary maths -----

def negative(x: Any) -> Tensor:
    """-x."""
    return tensor(x).neg()


def abs(x: Any) -> Tensor:  # noqa: A001  (Keras's name)
    """|x|; the gradient at 0 is 0 (sign(0), as TF).

    Example:
        >>> abs(Tensor([-2.0, 3.0]))
        Tensor([2., 3.], dtype=float32)
    """
    return tensor(x).abs()


absolute = abs


def sign(x: Any) -> Tensor:
    """-1, 0 or 1; no gradient (zero everywhere, as TF)."""
    return tensor(x).sign()


def square(x: Any) -> Tensor:
    """x²."""
    x = tensor(x)
    return as_dtype(x, "int32").square() if x.dtype.kind == "b" else x.square()


def sqrt(x: Any) -> Tensor:
    """√x (ints become floatx)."""
    return _floats(x).sqrt()


def rsqrt(x: Any) -> Tensor:
    """1/√x."""
    return 1 / _floats(x).sqrt()


def reciprocal(x: Any) -> Tensor:
    """1/x."""
    return 1 / _floats(x)


def exp(x: Any) -> Tensor:
    """eˣ (ints become floatx).

    Example:
        >>> exp(0)
        Tensor(1., dtype=float32)
    """
    return _floats(x).exp()


def log(x: Any) -> Tensor:
    """The natural logarithm (ints become floatx)."""
    return _floats(x).log()


def log2(x: Any) -> Tensor:
    """log₂ x, computed as ln x / ln 2 (TensorFlow's formula)."""
    x = _floats(x)
    return x.log().div(np.log(np.asarray(2.0, x.dtype)))


def log10(x: Any) -> Tensor:
    """log₁₀ x, computed as ln x / ln 10 (TensorFlow's formula)."""
    x = _floats(x)
    return x.log().div(np.log(np.asarray(10.0, x.dtype)))


def tanh(x: Any) -> Tensor:
    """The hyperbolic tangent."""
    return _floats(x).tanh()


def floor(x: Any) -> Tensor:
    """The largest integer ≤ x, as a float; no gradient."""
    x = _floats(x)
    return _constant(np.floor(x.data))


def ceil(x: Any) -> Tensor:
    """The smallest integer ≥ x, as a float; no gradient."""
    x = _floats(x)
    return _constant(np.ceil(x.data))


def round(x: Any, decimals: int = 0) -> Tensor:  # noqa: A001  (Keras's name)
    """Round to ``decimals`` digits, halves to even (as numpy and TF); no gradient."""
    x = tensor(x)
    return _constant(np.round(x.data, decimals))


# ----- comparisons and logic (bool results, no gradient) -----

def _compare(x1: Any, x2: Any, op: Any) -> Tensor:
    a, b = pair(x1, x2)
    try:
        return _constant(op(a.data, b.data))
    except ValueError:
        raise ValueError(tr("{name} cannot broadcast shapes {shape} and {shape2}",
                            name=op.__name__, shape=a.shape, shape2=b.shape)) from None


def equal(x1: Any, x2: Any) -> Tensor:
    """x1 == x2, elementwise."""
    return _compare(x1, x2, np.equal)


def not_equal(x1: Any, x2: Any) -> Tensor:
    """x1 != x2, elementwise."""
    return _compare(x1, x2, np.not_equal)


def greater(x1: Any, x2: Any) -> Tensor:
    """x1 > x2, elementwise."""
    return _compare(x1, x2, np.greater)


def greater_equal(x1: Any, x2: Any) -> Tensor:
    """x1 >= x2, elementwise."""
    return _compare(x1, x2, np.greater_equal)


def less(x1: Any, x2: Any) -> Tensor:
    """x1 < x2, elementwise."""
    return _compare(x1, x2, np.less)


def less_equal(x1: Any, x2: Any) -> Tensor:
    """x1 <= x2, elementwise."""
    return _compare(x1, x2, np.less_equal)


def logical_and(x1: Any, x2: Any) -> Tensor:
    """Both true (nonzero)."""
    return _compare(x1, x2, np.logical_and)


def logical_or(x1: Any, x2: Any) -> Tensor:
    """Either true (nonzero)."""
    return _compare(x1, x2, np.logical_or)


def logical_xor(x1: Any, x2: Any) -> Tensor:
    """Exactly one true (nonzero)."""
    return _compare(x1, x2, np.logical_xor)


def logical_not(x: Any) -> Tensor:
    """Not true (zero)."""
    return _constant(np.logical_not(tensor(x).data))


def isnan(x: Any) -> Tensor:
    """True where x is NaN."""
    return _constant(np.isnan(tensor(x).data))


def isinf(x: Any) -> Tensor:
    """True where x is ±inf."""
    return _constant(np.isinf(tensor(x).data))


def isfinite(x: Any) -> Tensor:
    """True where x is neither NaN nor ±inf."""
    return _constant(np.isfinite(tensor(x).data))


# ----- selection -----

def where(condition: Any, x1: Any = None, x2: Any = None) -> Tensor | tuple[Tensor, ...]:
    """``x1`` where ``condition`` holds, else ``x2``; the gradient follows the chosen branch.
    With only ``condition``: the indices of its nonzero entries, one int Tensor per axis.

    Example:
        >>> where(Tensor([1.0, -1.0]) > 0, Tensor([1.0, 2.0]), 0)
        Tensor([1., 0.], dtype=float32)
    """
    cond = np.asarray(tensor(condition).data).astype(bool)
    if x1 is None and x2 is None:
        return tuple(_constant(i, "int32") for i in np.nonzero(cond))
    if x1 is None or x2 is None:
        raise ValueError(tr("where expects both x1 and x2, or neither; received x1={value} and "
                            "x2={value2}", value='None' if x1 is None else 'a value',
                            value2='None' if x2 is None else 'a value'))
    a, b = pair(x1, x2)
    return _engine.where(cond, a, b)


def clip(x: Any, x_min: Any, x_max: Any) -> Tensor:
    """Clamp x to [x_min, x_max]; the gradient is 1 on the closed interval (as TF).

    Example:
        >>> clip(Tensor([-2.0, 0.5, 3.0]), 0, 1)
        Tensor([0. , 0.5, 1. ], dtype=float32)
    """
    x = tensor(x)
    if x.dtype.kind == "b":
        x = as_dtype(x, "int32")
    numbers = (int, float, np.number)
    if isinstance(x_min, numbers) and isinstance(x_max, numbers):
        if x_min > x_max:
            raise ValueError(tr("clip received x_min={x_min} > x_max={x_max}", x_min=x_min,
                                x_max=x_max))
        return x.clip(x_min, x_max)
    # tensor bounds: max then min, so a tie at either bound passes the gradient to x (TF's rule)
    return x.maximum(as_dtype(tensor(x_min), x.dtype)).minimum(as_dtype(tensor(x_max), x.dtype))
