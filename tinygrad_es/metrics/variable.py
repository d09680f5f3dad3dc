"""``MetricVariable``: a metric's state as Keras code reads and writes it.

``Metric.add_variable(shape, initializer, dtype, aggregation, name)`` returns one. It holds a
numpy array of a fixed shape and dtype; arithmetic on it gives plain arrays
(``self.total + np.sum(v)``), and ``assign``/``assign_add``/``assign_sub`` write a new value, cast
to the variable's dtype, as Keras's ``Variable.assign`` does. ``np.asarray(v)``, ``v.numpy()``,
``v.value``, ``float(v)`` and ``int(v)`` read it.
"""

from __future__ import annotations

from typing import Any

import numpy as np

AGGREGATIONS = ("none", "mean", "sum", "only_first_replica")


class MetricVariable:
    """A named state array of a metric, with Keras's ``assign`` API.

    Args:
        value: the initial value (its shape is the variable's shape).
        dtype: the variable's dtype.
        name: the variable's name.
        aggregation: how replicas would combine it (kept for Keras compatibility).

    Example:
        >>> v = MetricVariable(np.zeros(()), "float32", name="total")
        >>> _ = v.assign(v + 2.5); _ = v.assign_add(1.0); float(v), v.dtype
        (3.5, 'float32')
    """

    __array_priority__ = 100  # ndarray + variable defers to our __radd__ (a plain array back)

    def __init__(self, value: Any, dtype: Any, name: str = "variable", aggregation: str = "sum"):
        if aggregation not in AGGREGATIONS:
            raise ValueError(f"Invalid value for argument `aggregation` of variable {name!r}: "
                             f"expected one of {AGGREGATIONS}, received {aggregation!r}")
        self._value = np.array(value, dtype=dtype)
        self.name, self.aggregation = name, aggregation

    # ----- reading -----

    @property
    def value(self) -> np.ndarray:
        """The current value (a copy: writing goes through ``assign``)."""
        return self._value.copy()

    @property
    def shape(self) -> tuple[int, ...]:
        return self._value.shape

    @property
    def dtype(self) -> str:
        """The dtype name, as Keras reports it (``"float32"``)."""
        return self._value.dtype.name

    @property
    def ndim(self) -> int:
        return self._value.ndim

    def numpy(self) -> np.ndarray:
        """The value as an ndarray (a copy)."""
        return self._value.copy()

    def __array__(self, dtype: Any = None, copy: Any = None) -> np.ndarray:
        return self._value.copy() if dtype is None else self._value.astype(dtype)

    def __float__(self) -> float:
        return float(self._value)

    def __int__(self) -> int:
        return int(self._value)

    def __len__(self) -> int:
        return len(self._value)

    def __getitem__(self, idx: Any) -> np.ndarray:
        return self._value[idx]

    def __repr__(self) -> str:
        return (f"<MetricVariable name={self.name} shape={self.shape} dtype={self.dtype} "
                f"value={self._value}>")

    # ----- writing -----

    def assign(self, value: Any) -> MetricVariable:
        """Replace the value (cast to the dtype); the shape must stay the same."""
        new = np.asarray(value.numpy() if isinstance(value, MetricVariable) else value)
        if new.shape != self.shape:
            raise ValueError(f"The shape of the target variable {self.name!r} {self.shape} and the "
                             f"shape of the value {new.shape} in `variable.assign(value)` must "
                             "match")
        self._value = new.astype(self._value.dtype)
        return self

    def assign_add(self, value: Any) -> MetricVariable:
        """``assign(self + value)``."""
        return self.assign(self._value + np.asarray(value))

    def assign_sub(self, value: Any) -> MetricVariable:
        """``assign(self - value)``."""
        return self.assign(self._value - np.asarray(value))

    # ----- arithmetic and comparisons give plain ndarrays -----

    def __add__(self, other: Any) -> np.ndarray:
        return self._value + np.asarray(other)

    def __radd__(self, other: Any) -> np.ndarray:
        return np.asarray(other) + self._value

    def __sub__(self, other: Any) -> np.ndarray:
        return self._value - np.asarray(other)

    def __rsub__(self, other: Any) -> np.ndarray:
        return np.asarray(other) - self._value

    def __mul__(self, other: Any) -> np.ndarray:
        return self._value * np.asarray(other)

    def __rmul__(self, other: Any) -> np.ndarray:
        return np.asarray(other) * self._value

    def __truediv__(self, other: Any) -> np.ndarray:
        return self._value / np.asarray(other)

    def __rtruediv__(self, other: Any) -> np.ndarray:
        return np.asarray(other) / self._value

    def __pow__(self, other: Any) -> np.ndarray:
        return self._value ** np.asarray(other)

    def __neg__(self) -> np.ndarray:
        return -self._value

    def __lt__(self, other: Any) -> np.ndarray:
        return self._value < np.asarray(other)

    def __le__(self, other: Any) -> np.ndarray:
        return self._value <= np.asarray(other)

    def __gt__(self, other: Any) -> np.ndarray:
        return self._value > np.asarray(other)

    def __ge__(self, other: Any) -> np.ndarray:
        return self._value >= np.asarray(other)


def pythonify(value: Any) -> Any:
    """A metric result as ``fit`` logs it: a variable or 0-d array becomes a float.

    Example:
        >>> pythonify(MetricVariable(2.0, "float32")), pythonify(np.float32(0.5))
        (2.0, 0.5)
    """
    if isinstance(value, MetricVariable):
        value = value.numpy()
    if isinstance(value, np.generic) or (isinstance(value, np.ndarray) and value.ndim == 0):
        return value.item()
    return value
