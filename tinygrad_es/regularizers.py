"""Weight regularizers: a penalty on a weight, added to the training loss (Keras's formulas).

``L1``: l1·Σ|w|; ``L2``: l2·Σw² (not ½, and no division by the batch size); ``L1L2``: both;
``OrthogonalRegularizer``: how far the rows (or columns) of a matrix are from orthogonal. A
layer built with ``kernel_regularizer=...`` lists the penalty in ``layer.losses`` (a scalar Tensor
with its graph, recomputed from the current weights), and the training loss adds the sum of
``model.losses``.

NOTE: Keras turns the factor into a float32 constant before casting it to the weight's dtype, so
in float64 mode the penalty uses f32(0.01) = 0.009999999776482582, not 0.01 (checked against TF in
tests/test_layers.py). The same rounding is done here.
"""

from __future__ import annotations

import math
from typing import Any, Callable

import numpy as np

from tinygrad_es.config import epsilon
from tinygrad_es.tensor import Tensor
from tinygrad_es.tfcast import tf_constant
from tinygrad_es.utils.registry import deserialize_object, lookup, serialize_object

__all__ = ["Regularizer", "L1", "L2", "L1L2", "OrthogonalRegularizer", "l1", "l2", "l1_l2",
           "orthogonal_regularizer", "get", "serialize", "deserialize"]


def _factor(value: Any, name: str) -> float:
    """A non-negative finite float, or Keras's ValueError."""
    if (isinstance(value, bool) or not isinstance(value, (float, int, np.floating, np.integer))
            or not math.isfinite(value) or value < 0):
        raise ValueError(f"Invalid value for argument {name}: expected a non-negative float. "
                         f"Received: {name}={value!r}")
    return float(value)


class Regularizer:
    """Base class: ``__call__(weight) -> scalar Tensor``, ``get_config``, ``from_config``."""

    def __call__(self, x: Tensor) -> Tensor:
        raise NotImplementedError

    def get_config(self) -> dict[str, Any]:
        return {}

    @classmethod
    def from_config(cls, config: dict[str, Any]) -> Regularizer:
        return cls(**config)

    def __repr__(self) -> str:
        args = ", ".join(f"{k}={v!r}" for k, v in self.get_config().items())
        return f"{type(self).__name__}({args})"


class L1(Regularizer):
    """l1 · Σ|w| (default l1=0.01).

    Example:
        >>> float(L1(0.5)(Tensor([1.0, -2.0])))
        1.5
    """

    def __init__(self, l1: float | None = 0.01):
        self.l1 = _factor(0.01 if l1 is None else l1, "l1")

    def __call__(self, x: Tensor) -> Tensor:
        return x.abs().sum() * tf_constant(self.l1, x.dtype)

    def get_config(self):
        # NOTE: Keras stores l1 as a float32 tensor, so its config reports f32(l1).
        return {"l1": float(tf_constant(self.l1, np.float32))}


class L2(Regularizer):
    """l2 · Σw² (default l2=0.01).

    Example:
        >>> float(L2(0.5)(Tensor([1.0, -2.0])))
        2.5
    """

    def __init__(self, l2: float | None = 0.01):
        self.l2 = _factor(0.01 if l2 is None else l2, "l2")

    def __call__(self, x: Tensor) -> Tensor:
        return x.square().sum() * tf_constant(self.l2, x.dtype)

    def get_config(self):
        return {"l2": self.l2}


class L1L2(Regularizer):
    """l1 · Σ|w| + l2 · Σw² (defaults 0.0, 0.0 as Keras; the string "l1_l2" gives 0.01, 0.01).

    Example:
        >>> float(L1L2(l1=0.5, l2=0.5)(Tensor([1.0, -2.0])))
        4.0
    """

    def __init__(self, l1: float | None = 0.0, l2: float | None = 0.0):
        self.l1 = _factor(0.0 if l1 is None else l1, "l1")
        self.l2 = _factor(0.0 if l2 is None else l2, "l2")

    def __call__(self, x: Tensor) -> Tensor:
        penalty = Tensor(np.zeros((), dtype=x.dtype), dtype=x.dtype)
        if self.l1 != 0.0:
            penalty = penalty + x.abs().sum() * tf_constant(self.l1, x.dtype)
        if self.l2 != 0.0:
            penalty = penalty + x.square().sum() * tf_constant(self.l2, x.dtype)
        return penalty

    def get_config(self):
        return {"l1": self.l1, "l2": self.l2}


class OrthogonalRegularizer(Regularizer):
    """Push the rows (``mode="rows"``) or the columns of a 2-D weight towards orthogonal.

    With u_i the rows (or columns) scaled to unit length and n of them::

        penalty = factor · ½ · Σ_{i≠j} |u_i · u_j| / (n (n - 1) / 2)

    i.e. ``factor`` times the mean |cosine| between two different rows: 0 when they are
    orthogonal. A row of zeros stays zero (its scale 1/‖w‖ is capped at 1/epsilon, as Keras's
    ``normalize``). It is built from Tensor ops, so the penalty has a gradient.

    Example:
        >>> float(OrthogonalRegularizer(1.0)(Tensor([[1.0, 0.0], [1.0, 1.0]])))
        0.7071067690849304
    """

    def __init__(self, factor: float = 0.01, mode: str = "rows"):
        self.factor = _factor(factor, "factor")
        if mode not in ("rows", "columns"):
            raise ValueError("Invalid value for argument `mode` of OrthogonalRegularizer. Expected "
                             f"one of {{'rows', 'columns'}}. Received: mode={mode!r}")
        self.mode = mode

    def __call__(self, x: Tensor) -> Tensor:
        if x.ndim != 2:
            raise ValueError("Inputs to OrthogonalRegularizer must have rank 2. Received: "
                             f"inputs.shape={x.shape}")
        rows = self.mode == "rows"
        n = x.shape[0] if rows else x.shape[1]
        if n < 2:
            # NOTE: Keras divides by n (n - 1) / 2 = 0 here and returns NaN; a clear error instead.
            raise ValueError(f"OrthogonalRegularizer(mode={self.mode!r}) needs at least 2 "
                             f"{self.mode} to compare, received a weight of shape {x.shape}")
        # Keras's normalize: x · min(1/√Σx², 1/epsilon) along the rows (or columns).
        # NOTE: Σx² is first raised to the smallest normal number, which changes no value (the
        # min takes 1/epsilon there anyway) but keeps 1/√0 = inf out of the graph: a zero row then
        # gets a finite gradient, as TensorFlow's (its rsqrt gradient is 0 when the upstream is 0).
        squares = x.square().sum(axis=1 if rows else 0, keepdims=True)
        inv_norm = 1.0 / squares.maximum(np.finfo(x.dtype).tiny).sqrt()
        unit = x * inv_norm.minimum(1.0 / epsilon())
        product = unit @ unit.T if rows else unit.T @ unit
        off_diagonal = product * (1.0 - np.eye(n, dtype=x.dtype))
        # NOTE: as in Keras, factor is a float32 constant and ½·factor is taken before the sum.
        half_factor = tf_constant(tf_constant(self.factor, np.float32) * 0.5, x.dtype)
        return off_diagonal.abs().sum() * half_factor / (n * (n - 1.0) / 2.0)

    def get_config(self):
        # NOTE: Keras stores factor as a float32 tensor, so its config reports f32(factor).
        return {"factor": float(tf_constant(self.factor, np.float32)), "mode": self.mode}


def _l1_l2_by_name() -> L1L2:
    """The string ``"l1_l2"``: both factors 0.01 (Keras 2's ``l1_l2()`` defaults)."""
    return L1L2(l1=0.01, l2=0.01)


# Keras 3's lower-case names are the classes themselves (so ``l1_l2()`` has 0.0 and 0.0).
l1, l2, l1_l2, orthogonal_regularizer = L1, L2, L1L2, OrthogonalRegularizer

REGULARIZERS: dict[str, Callable[..., Regularizer]] = {
    "L1": L1, "L2": L2, "L1L2": L1L2, "l1": L1, "l2": L2, "l1l2": L1L2, "l1_l2": _l1_l2_by_name,
    "OrthogonalRegularizer": OrthogonalRegularizer,
    "orthogonal_regularizer": OrthogonalRegularizer,
}


def serialize(regularizer: Regularizer | None) -> dict[str, Any] | None:
    """The regularizer as a JSON-able dict in Keras's layout, or None.

    Example:
        >>> serialize(L2())["config"]
        {'l2': 0.01}
    """
    if regularizer is None:
        return None
    if not isinstance(regularizer, Regularizer):
        raise ValueError(f"cannot serialize regularizer {regularizer!r}: only Regularizer objects "
                         "are saved (plain functions are not)")
    return serialize_object(regularizer, "tinygrad_es.regularizers")


def deserialize(config: dict[str, Any] | str) -> Regularizer:
    """Rebuild a regularizer from ``serialize``'s dict (or a Keras one) or a name.

    Example:
        >>> deserialize({"class_name": "L2", "config": {"l2": 0.1}}).l2
        0.1
    """
    if isinstance(config, str):
        return lookup(REGULARIZERS, config, "regularizer")()
    classes = {"L1": L1, "L2": L2, "L1L2": L1L2, "OrthogonalRegularizer": OrthogonalRegularizer}
    return deserialize_object(config, classes, "regularizer")


def get(identifier: Any) -> Regularizer | Callable | None:
    """Resolve None, a name ("l1", "l2", "l1_l2"), a dict, a class, an instance or a function.

    Example:
        >>> get("l2")
        L2(l2=0.01)
    """
    if identifier is None:
        return None
    if isinstance(identifier, (str, dict)):
        return deserialize(identifier)
    if isinstance(identifier, type) and issubclass(identifier, Regularizer):
        return identifier()
    if callable(identifier):
        return identifier
    raise ValueError(f"Could not interpret regularizer identifier: {identifier!r}; expected "
                     "'l1', 'l2', 'l1_l2', a Regularizer or a function of the weight")
