"""The ops every other op stands on: turning values into Tensors, dtypes and their promotion, casts.

Keras's ops take anything array-like and return backend tensors; here they return ``Tensor``, so an
op on a Tensor that requires a gradient is recorded like any Tensor method. The dtype rules are
Keras 3's (``keras.backend.result_type``), which are not numpy's:

* a numpy array keeps its dtype; ``convert_to_tensor`` makes Python numbers and lists int32 or
  float32 (TensorFlow's defaults), whatever floatx;
* inside an op with a tensor, a Python int is int32 (int64 when floatx is float64) and a Python
  float is ``floatx()``;
* Python numbers are *weak*: ``x + 1.5`` keeps a float tensor's dtype, and makes an int one floatx;
* int and float meet at the float (int64 + float32 is float32, where numpy says float64);
* two ints or two floats meet at the wider one (int32 + int64 is int64), bool below everything.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from tinygrad_es import config
from tinygrad_es.autograd import Function
from tinygrad_es.tensor import Tensor
from tinygrad_es.i18n import tr

__all__ = ["convert_to_tensor", "convert_to_numpy", "cast", "result_type", "shape", "dtype",
           "ndim", "size", "is_tensor", "stop_gradient"]


# ----- dtypes -----

def _dtype_of(x: Any) -> tuple[np.dtype, bool]:
    """``(dtype, weak)``: the dtype Keras gives ``x``, and whether it is a weak Python number."""
    if isinstance(x, Tensor):
        return x.dtype, False
    if isinstance(x, (np.ndarray, np.generic)):  # before float: np.float64 is a float subclass
        return x.dtype, False
    if isinstance(x, bool):
        return np.dtype(bool), True
    if isinstance(x, int):
        return _int_type(), True
    if isinstance(x, float):
        return np.dtype(config.floatx()), True
    return _default_dtype(x), False


def _default_dtype(x: Any) -> np.dtype:
    """TensorFlow's dtype for a Python number or list: int32, float32 or bool, whatever floatx."""
    arr = np.asarray(x.data if isinstance(x, Tensor) else x)
    if isinstance(x, (np.ndarray, np.generic, Tensor)):
        return arr.dtype
    return {"f": np.dtype("float32"), "i": np.dtype("int32"), "u": np.dtype("int32")}.get(
        arr.dtype.kind, arr.dtype)


def _int_type() -> np.dtype:
    """Keras's type for a Python int: int32, or int64 when floatx is float64."""
    return np.dtype("int64" if config.floatx() == "float64" else "int32")


def _promote(a: np.dtype, b: np.dtype) -> np.dtype:
    """Keras's lattice for two strong dtypes: bool < ints < floats, and the wider of a kind."""
    if a == b:
        return a
    if a.kind == "b" or b.kind == "b":
        return b if a.kind == "b" else a
    if a.kind == "f" and b.kind == "f":
        return a if a.itemsize >= b.itemsize else b
    if a.kind == "f" or b.kind == "f":
        return a if a.kind == "f" else b
    return np.promote_types(a, b)  # two integer types: numpy's rule is Keras's here


def result_type(*values: Any) -> np.dtype:
    """The dtype an elementwise op on ``values`` returns, by Keras's rules (module docstring).

    Example:
        >>> result_type(np.zeros(2, "int64"), np.zeros(2, "float32")).name, result_type(1, 2.5).name
        ('float32', 'float32')
    """
    strong = [d for d, weak in map(_dtype_of, values) if not weak]
    weak = [d for d, w in map(_dtype_of, values) if w]
    out = None
    for d in strong:
        out = d if out is None else _promote(out, d)
    if out is None:  # only Python numbers: the widest kind among them
        for d in weak:
            out = d if out is None else _promote(out, d)
        return out if out is not None else np.dtype(config.floatx())
    for d in weak:  # a weak number lifts the kind, never the width
        if d.kind == "f" and out.kind != "f":
            out = np.dtype(config.floatx())
        elif d.kind == "i" and out.kind == "b":
            out = _int_type()
    return out


def float_type(x: Any) -> np.dtype:
    """The dtype a float op (exp, sqrt, mean ...) returns: floats keep theirs, the rest floatx."""
    d = _dtype_of(x)[0]
    return d if d.kind == "f" else np.dtype(config.floatx())


# ----- conversion -----

def convert_to_tensor(x: Any, dtype: Any = None, sparse: bool | None = None,
                      ragged: bool | None = None) -> Tensor:
    """``x`` as a Tensor: the same object if it is one already (and of ``dtype``), else a copy.

    Args:
        x: a Tensor, a number, nested lists or an array.
        dtype: the dtype wanted; by default Keras's choice (module docstring).
        sparse, ragged: accepted for Keras's signature; only dense tensors exist here.

    Example:
        >>> convert_to_tensor([1, 2]).dtype, convert_to_tensor([1.0]).dtype
        (dtype('int32'), dtype('float32'))
    """
    if sparse or ragged:
        raise ValueError(tr("convert_to_tensor received sparse={sparse}, ragged={ragged}: "
                            "tinygrad_es has dense tensors only", sparse=sparse, ragged=ragged))
    if isinstance(x, Tensor):
        return x if dtype is None else cast(x, dtype)
    if dtype is None:
        dtype = _default_dtype(x)
    try:
        return Tensor(x, dtype=dtype)
    except TypeError as err:
        raise TypeError(tr("convert_to_tensor: {err}", err=err)) from None


def convert_to_numpy(x: Any) -> np.ndarray:
    """``x`` as a numpy array (a Tensor's data, copied so the Tensor cannot be changed through it).

    Example:
        >>> convert_to_numpy(Tensor([1.0, 2.0]))
        array([1., 2.], dtype=float32)
    """
    if isinstance(x, Tensor):
        return np.array(x.data)
    return np.array(x)


def tensor(x: Any, dtype: Any = None) -> Tensor:
    """What every op does to its inputs: Tensors pass through, the rest converts (Keras dtypes)."""
    return x if isinstance(x, Tensor) and dtype is None else convert_to_tensor(x, dtype)


def as_dtype(x: Tensor, dtype: Any) -> Tensor:
    """``x`` in ``dtype`` (differentiably), or ``x`` itself when it already is."""
    return x if x.dtype == np.dtype(dtype) else cast(x, dtype)


def pair(x: Any, y: Any) -> tuple[Tensor, Tensor]:
    """Two op inputs as Tensors of their common dtype (:func:`result_type`)."""
    common = result_type(x, y)
    return (as_dtype(tensor(x, common if not isinstance(x, Tensor) else None), common),
            as_dtype(tensor(y, common if not isinstance(y, Tensor) else None), common))


class Cast(Function):
    """Cast: z = x in another float dtype.  dz/dx = 1 (the gradient goes back in x's dtype)."""

    elementwise = True
    derivatives = ("1",)

    def forward(self, x, dtype):
        self.in_dtype = x.dtype
        return x.astype(dtype)

    def backward(self, grad_output):
        return grad_output.astype(self.in_dtype)


def cast(x: Any, dtype: Any) -> Tensor:
    """``x`` converted to ``dtype``; float to float keeps the gradient, to int or bool stops it
    (as TensorFlow: an integer has no gradient). Float to int truncates toward zero.

    Example:
        >>> cast(Tensor([1.7, -1.7]), "int32")
        Tensor([ 1, -1], dtype=int32)
    """
    try:
        target = np.dtype(dtype)
    except TypeError:
        raise TypeError(tr("cast received dtype={dtype!r}, which is not a dtype (expected e.g. "
                           "'float32' or 'int32')", dtype=dtype)) from None
    x = tensor(x)
    if x.dtype == target:
        return x
    if target.kind == "f" and x.dtype.kind == "f":
        return Cast.apply(x, dtype=target)
    return Tensor(x.data.astype(target), dtype=target)


# ----- facts about a tensor -----

def shape(x: Any) -> tuple[int, ...]:
    """The shape as a tuple of ints (Keras's ``ops.shape``).

    Example:
        >>> shape(np.zeros((2, 3)))
        (2, 3)
    """
    return tuple(x.shape) if isinstance(x, Tensor) else tuple(np.shape(x))


def dtype(x: Any) -> str:
    """The dtype's name, as Keras's ``ops.dtype`` gives it (``"float32"``).

    Example:
        >>> dtype(Tensor([1.0]))
        'float32'
    """
    return _dtype_of(x)[0].name


def ndim(x: Any) -> int:
    """The number of axes."""
    return len(shape(x))


def size(x: Any) -> int:
    """The number of entries."""
    return int(np.prod(shape(x), dtype=np.int64))


def is_tensor(x: Any) -> bool:
    """True for a Tensor (Keras: a backend tensor), False for arrays and numbers."""
    return isinstance(x, Tensor)


def stop_gradient(variable: Any) -> Tensor:
    """The same values, cut from the graph: no gradient flows back through it.

    Example:
        >>> w = Tensor([1.0], requires_grad=True); stop_gradient(w * 2).requires_grad
        False
    """
    return tensor(variable).detach()
