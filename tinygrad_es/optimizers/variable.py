"""``Variable``: a scalar that reads and writes like a Keras Variable.

``opt.learning_rate`` and ``opt.iterations`` are Keras Variables, and Keras code uses them as such:
``float(opt.learning_rate)``, ``opt.learning_rate.numpy()``, ``.assign(0.01)``,
``np.asarray(opt.learning_rate)``, ``int(opt.iterations)``, ``opt.learning_rate * 0.5 > 1e-4``.
This class gives that API for one number. Its value is a numpy scalar of a fixed dtype, rounded on
every write as Keras's variable is: in float32 mode ``0.001`` reads back as 0.0010000000474974513.

Arithmetic and comparisons give numpy scalars (Keras gives 0-d tensors). Like a Keras Variable it
has no truth value and no hash. Two differences: ``format(v, ".4f")`` works, and a Python float is
compared exactly (Keras rounds it to float32 first: in float64 mode its ``lr == 0.001`` is False).
"""

from __future__ import annotations

import numbers
from typing import Any, Callable

import numpy as np

from tinygrad_es.i18n import tr

__all__ = ["Variable", "BoundVariable"]


def _operand(other: Any) -> Any:
    if other.__class__ is int or other.__class__ is float:   # the common case, checked first
        return other
    if isinstance(other, Variable):
        return other._read()
    if isinstance(other, (numbers.Number, np.generic, np.ndarray)):
        return other
    return NotImplemented


class Variable:
    """One number with Keras's Variable API (the learning rate, the step count).

    Args:
        value: The initial value (a number, a numpy scalar or another Variable).
        dtype: Its dtype, e.g. ``"float32"`` or ``"int64"``; writes are rounded to it.
        name: Keras's short name, e.g. ``"learning_rate"``.
        path: Keras's path, e.g. ``"adam/learning_rate"``.
        read_only: If set, ``assign`` raises an AttributeError with this message (a text
            marked with ``N_``, or ``(template, fields)``; translated when raised): Keras returns
            a tensor, which has no ``assign``, for a scheduled learning rate.

    Example:
        >>> lr = Variable(0.001, "float32", name="learning_rate")
        >>> float(lr), lr.numpy().dtype.name, bool(lr * 10 > 0.005)
        (0.0010000000474974513, 'float32', True)
        >>> _ = lr.assign(0.5); float(lr)
        0.5
    """

    __slots__ = ("name", "path", "_dtype", "_value", "_read_only")
    shape: tuple = ()
    ndim = 0
    trainable = False

    def __init__(self, value: Any, dtype: Any, name: str = "variable", path: str | None = None,
                 read_only: str | tuple[str, dict] | None = None):
        self.name = name
        self.path = path or name
        self._dtype = np.dtype(dtype)
        self._read_only = read_only
        self._value = None
        self._write(value)

    # ----- reading and writing -----

    def _read(self) -> np.generic:
        return self._value

    def _write(self, value: Any) -> None:
        if isinstance(value, Variable):
            value = value._read()
        self._value = self._dtype.type(np.asarray(value))

    def numpy(self) -> np.generic:
        """The value as a numpy scalar of ``dtype`` (as Keras's ``Variable.numpy()``)."""
        return self._dtype.type(self._read())

    @property
    def value(self) -> np.generic:
        """The value (Keras gives the backend variable; here the numpy scalar)."""
        return self.numpy()

    @property
    def dtype(self) -> str:
        """The dtype's name, e.g. ``"float32"``, as Keras reports it."""
        return self._dtype.name

    def assign(self, value: Any) -> np.generic:
        """Write ``value`` (rounded to ``dtype``) and return the new value."""
        if self._read_only is not None:
            # the message: a text marked with N_, or (template, fields), translated only here
            message, fields = (self._read_only if isinstance(self._read_only, tuple)
                               else (self._read_only, {}))
            raise AttributeError(tr(message, **fields))
        self._write(value)
        return self.numpy()

    def assign_add(self, delta: Any) -> np.generic:
        """``assign(value + delta)``."""
        return self.assign(self._read() + _operand(delta))

    def assign_sub(self, delta: Any) -> np.generic:
        """``assign(value - delta)``."""
        return self.assign(self._read() - _operand(delta))

    # ----- conversions -----

    def __float__(self) -> float:
        return float(self._read())

    def __int__(self) -> int:
        return int(self._read())

    def __array__(self, dtype: Any = None, copy: bool | None = None) -> np.ndarray:
        return np.asarray(self._read(), dtype=self._dtype if dtype is None else dtype)

    def __bool__(self) -> bool:
        raise TypeError(tr("A Keras Variable cannot be used as a boolean (as in Keras): "
                           "compare it, e.g. `float(opt.learning_rate) > 0`"))

    def __format__(self, spec: str) -> str:
        return format(self.numpy().item(), spec)

    def __repr__(self) -> str:
        return (f"<Variable path={self.path}, shape=(), dtype={self.dtype}, "
                f"value={self.numpy().item()!r}>")

    __hash__ = None  # type: ignore[assignment]  # mutable, as Keras's (unhashable)

    # ----- arithmetic and comparisons: numpy scalars -----

    def __add__(self, other): return self._read() + _operand(other)
    def __radd__(self, other): return _operand(other) + self._read()
    def __sub__(self, other): return self._read() - _operand(other)
    def __rsub__(self, other): return _operand(other) - self._read()
    def __mul__(self, other): return self._read() * _operand(other)
    def __rmul__(self, other): return _operand(other) * self._read()
    def __truediv__(self, other): return self._read() / _operand(other)
    def __rtruediv__(self, other): return _operand(other) / self._read()
    def __floordiv__(self, other): return self._read() // _operand(other)
    def __rfloordiv__(self, other): return _operand(other) // self._read()
    def __mod__(self, other): return self._read() % _operand(other)
    def __rmod__(self, other): return _operand(other) % self._read()
    def __pow__(self, other): return self._read() ** _operand(other)
    def __rpow__(self, other): return _operand(other) ** self._read()
    def __neg__(self): return -self._read()
    def __pos__(self): return +self._read()
    def __abs__(self): return abs(self._read())

    def __eq__(self, other): return _compare(self, other, np.equal)  # type: ignore[override]
    def __ne__(self, other): return _compare(self, other, np.not_equal)  # type: ignore[override]
    def __lt__(self, other): return _compare(self, other, np.less)
    def __le__(self, other): return _compare(self, other, np.less_equal)
    def __gt__(self, other): return _compare(self, other, np.greater)
    def __ge__(self, other): return _compare(self, other, np.greater_equal)


def _compare(var: Variable, other: Any, op: Callable) -> Any:
    # NOTE: Keras's comparisons (and %) first make a Python float a float32 tensor, so in float64
    # mode its ``lr == 0.001`` is False. Here the number is compared exactly, as arithmetic is.
    other = _operand(other)
    return other if other is NotImplemented else op(var._read(), other)


class BoundVariable(Variable):
    """A Variable whose value lives in its owner (``opt.iterations`` reads the optimizer's count).

    ``get()`` returns the current value; ``set(value)`` stores one (None: read-only, with the
    ``read_only`` message). Arithmetic uses what ``get()`` returns as is (``opt.iterations + 1``
    is a Python int, on the hot path of every update); ``numpy()`` gives the ``dtype`` scalar.

    Example:
        >>> state = {"steps": 3}
        >>> it = BoundVariable(lambda: state["steps"], None, "int64", name="iteration",
        ...                    read_only="read-only")
        >>> state["steps"] += 1; int(it), it.numpy().dtype.name
        (4, 'int64')
    """

    __slots__ = ("_get", "_set")

    def __init__(self, get: Callable[[], Any], set: Callable[[Any], None] | None, dtype: Any,
                 name: str = "variable", path: str | None = None,
                 read_only: str | tuple[str, dict] | None = None):
        self._get, self._set = get, set
        self.name, self.path = name, path or name
        self._dtype = np.dtype(dtype)
        self._read_only = read_only if set is None else None
        self._value = None

    def _read(self) -> Any:
        return self._get()

    def _write(self, value: Any) -> None:
        if isinstance(value, Variable):
            value = value._read()
        self._set(self._dtype.type(np.asarray(value)))
