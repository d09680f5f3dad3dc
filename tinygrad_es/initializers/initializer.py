"""The base class of the initializers and the two checks every one of them makes: the shape
(a tuple of non-negative ints) and the dtype (``floatx()`` when not given)."""

from __future__ import annotations

from typing import Any

import numpy as np

from tinygrad_es import config


class Initializer:
    """Base class: ``__call__(shape, dtype=None) -> ndarray``, ``get_config``, ``from_config``."""

    def __call__(self, shape: tuple[int, ...], dtype: Any = None) -> np.ndarray:
        raise NotImplementedError

    def get_config(self) -> dict[str, Any]:
        return {}

    @classmethod
    def from_config(cls, config: dict[str, Any]) -> Initializer:
        return cls(**config)

    def __repr__(self) -> str:
        args = ", ".join(f"{k}={v!r}" for k, v in self.get_config().items())
        return f"{type(self).__name__}({args})"


def as_dtype(dtype: Any) -> np.dtype:
    """The dtype asked for, or ``floatx()``."""
    return np.dtype(dtype if dtype is not None else config.floatx())


def as_shape(shape: Any) -> tuple[int, ...]:
    """The shape as a tuple of non-negative ints, or a ValueError that shows it."""
    try:
        shape = tuple(int(d) for d in shape)
    except TypeError:
        raise ValueError(f"an initializer needs a shape (tuple of ints), received "
                         f"{shape!r}") from None
    if any(d < 0 for d in shape):
        raise ValueError(f"an initializer needs non-negative dimensions, received shape {shape}")
    return shape
