"""``Flatten``: (batch, d1, d2, ...) → (batch, d1·d2·...)."""

from __future__ import annotations

import math
from typing import Any

from tinygrad_es.layers.base import Layer, Shape
from tinygrad_es.tensor import Tensor

__all__ = ["Flatten"]


class Flatten(Layer):
    """Merge all axes but the batch axis into one (a rank-1 input becomes (batch, 1)).

    Example:
        >>> Flatten()([[[1.0, 2.0], [3.0, 4.0]]]).shape
        (1, 4)
    """

    def __init__(self, data_format: str | None = None, **kwargs: Any):
        super().__init__(**kwargs)
        if data_format not in (None, "channels_last"):
            raise ValueError("Flatten: only data_format='channels_last' is supported, received "
                             f"data_format={data_format!r}")
        self.data_format = "channels_last"

    def call(self, x: Tensor, training: bool = False) -> Tensor:
        if x.data.ndim == 0:
            raise ValueError(f"Flatten layer '{self.name}' needs a batch axis, received a scalar")
        shape = x.data.shape
        return x.reshape((shape[0], math.prod(shape[1:])))

    def compute_output_shape(self, input_shape: Shape) -> Shape:
        rest = input_shape[1:]
        if any(d is None for d in rest):
            return (input_shape[0], None)
        return (input_shape[0], int(math.prod(rest)))

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), "data_format": self.data_format}
