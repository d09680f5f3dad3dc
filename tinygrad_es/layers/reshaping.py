"""Layers that move numbers without arithmetic: ``Flatten``, ``Reshape``, ``ZeroPadding2D`` and
``UpSampling2D`` (nearest neighbour).

``Flatten``: (batch, d1, d2, ...) → (batch, d1·d2·...); ``Reshape((a, b))``: (batch, ...) →
(batch, a, b); ``ZeroPadding2D``: zeros around the image (one ``functions_conv.Pad`` node);
``UpSampling2D``: each pixel repeated into a size[0] × size[1] block (reshape, broadcast, reshape).
"""

from __future__ import annotations

import math
from typing import Any

from tinygrad_es.functions_conv import pad
from tinygrad_es.layers.base import Layer, Shape
from tinygrad_es.layers.convolutional import standardize_data_format, standardize_tuple
from tinygrad_es.tensor import Tensor
from tinygrad_es.i18n import tr

__all__ = ["Flatten", "Reshape", "ZeroPadding2D", "UpSampling2D"]


class Flatten(Layer):
    """Merge all axes but the batch axis into one (a rank-1 input becomes (batch, 1)).

    Example:
        >>> Flatten()([[[1.0, 2.0], [3.0, 4.0]]]).shape
        (1, 4)
    """

    def __init__(self, data_format: str | None = None, **kwargs: Any):
        super().__init__(**kwargs)
        if data_format not in (None, "channels_last"):
            raise ValueError(tr("Flatten: only data_format='channels_last' is supported, "
                                "received data_format={data_format!r}", data_format=data_format))
        self.data_format = "channels_last"

    def call(self, x: Tensor, training: bool = False) -> Tensor:
        if x.data.ndim == 0:
            raise ValueError(tr("Flatten layer '{name}' needs a batch axis, received a scalar",
                                name=self.name))
        shape = x.data.shape
        return x.reshape((shape[0], math.prod(shape[1:])))

    def compute_output_shape(self, input_shape: Shape) -> Shape:
        rest = input_shape[1:]
        if any(d is None for d in rest):
            return (input_shape[0], None)
        return (input_shape[0], int(math.prod(rest)))

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), "data_format": self.data_format}


class Reshape(Layer):
    """Give each sample the shape ``target_shape`` (one entry may be -1: inferred).

    Example:
        >>> import numpy as np
        >>> Reshape((2, -1))(np.zeros((3, 8))).shape
        (3, 2, 4)
    """

    def __init__(self, target_shape: Any, **kwargs: Any):
        try:
            target = tuple(int(d) for d in target_shape)
        except (TypeError, ValueError):
            target = ()
        if (not target or target.count(-1) > 1 or any(d == 0 or d < -1 for d in target)):
            raise ValueError(tr("Reshape: `target_shape` must be a tuple of positive integers "
                                "with at most one -1, received target_shape={target_shape!r}",
                                target_shape=target_shape))
        super().__init__(**kwargs)
        self.target_shape = target

    def _resolve(self, input_shape: Shape) -> tuple[int | None, ...]:
        sample = input_shape[1:]
        if -1 not in self.target_shape:
            size = math.prod(self.target_shape)
            if None not in sample and math.prod(sample) != size:
                raise ValueError(tr("Reshape layer '{name}' cannot reshape input of shape "
                                    "{input_shape} to {target_shape}: each sample has {prod} "
                                    "values, the target {size}", name=self.name,
                                    input_shape=tuple(input_shape), target_shape=self.target_shape,
                                    prod=math.prod(sample), size=size))
            return self.target_shape
        if None in sample:
            return tuple(None if d == -1 else d for d in self.target_shape)
        known = math.prod(d for d in self.target_shape if d != -1)
        if math.prod(sample) % known:
            raise ValueError(tr("Reshape layer '{name}' cannot reshape input of shape "
                                "{input_shape} to {target_shape}: {prod} values per sample are "
                                "not a multiple of {known}", name=self.name,
                                input_shape=tuple(input_shape), target_shape=self.target_shape,
                                prod=math.prod(sample), known=known))
        return tuple(math.prod(sample) // known if d == -1 else d for d in self.target_shape)

    def call(self, x: Tensor) -> Tensor:
        shape = x.data.shape
        return x.reshape((shape[0],) + self._resolve((None,) + shape[1:]))

    def compute_output_shape(self, input_shape: Shape) -> Shape:
        return (input_shape[0],) + self._resolve(tuple(input_shape))

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), "target_shape": self.target_shape}


def _check_image(layer: Layer, shape: Shape) -> None:
    if len(shape) != 4:
        raise ValueError(tr("{cls} layer '{name}' expects inputs shaped (batch, height, width, "
                            "channels), received shape {shape}", cls=type(layer).__name__,
                            name=layer.name, shape=tuple(shape)))


class ZeroPadding2D(Layer):
    """Rows and columns of zeros around each image.

    Args:
        padding: an int (the same on all four sides), a pair (rows on top and bottom, columns
            left and right), or ((top, bottom), (left, right)).

    Example:
        >>> import numpy as np
        >>> ZeroPadding2D(((1, 0), (2, 1)))(np.ones((1, 2, 2, 1))).shape
        (1, 3, 5, 1)
    """

    def __init__(self, padding: Any = (1, 1), data_format: str | None = None, **kwargs: Any):
        owner = type(self).__name__
        if isinstance(padding, int) and not isinstance(padding, bool):
            padding = (padding, padding)
        if not hasattr(padding, "__len__") or len(padding) != 2:
            raise ValueError(tr("{owner}: `padding` must be an int, a pair of ints or a pair "
                                "of (before, after) pairs, received padding={padding!r}",
                                owner=owner, padding=padding))
        self.padding = tuple(standardize_tuple(p, 2, name, owner, allow_zero=True)
                             for p, name in zip(padding, ("padding[0]", "padding[1]")))
        self.data_format = standardize_data_format(data_format, owner)
        super().__init__(**kwargs)

    def call(self, x: Tensor) -> Tensor:
        _check_image(self, x.data.shape)
        return pad(x, self.padding)

    def compute_output_shape(self, input_shape: Shape) -> Shape:
        _check_image(self, input_shape)
        rows, cols = (None if n is None else n + lo + hi
                      for n, (lo, hi) in zip(input_shape[1:3], self.padding))
        return (input_shape[0], rows, cols, input_shape[3])

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), "padding": self.padding, "data_format": self.data_format}


class UpSampling2D(Layer):
    """Each pixel repeated into a ``size[0]`` × ``size[1]`` block (nearest neighbour).

    Example:
        >>> import numpy as np
        >>> UpSampling2D()(np.array([[[[1.0], [2.0]]]])).data[0, :, :, 0]
        array([[1., 1., 2., 2.],
               [1., 1., 2., 2.]], dtype=float32)
    """

    def __init__(self, size: Any = (2, 2), data_format: str | None = None,
                 interpolation: str = "nearest", **kwargs: Any):
        owner = type(self).__name__
        self.size = standardize_tuple(size, 2, "size", owner)
        self.data_format = standardize_data_format(data_format, owner)
        if not isinstance(interpolation, str) or interpolation.lower() != "nearest":
            raise ValueError(tr("{owner}: only interpolation='nearest' is supported by "
                                "tinygrad_es, received interpolation={interpolation!r}",
                                owner=owner, interpolation=interpolation))
        self.interpolation = "nearest"
        super().__init__(**kwargs)

    def call(self, x: Tensor) -> Tensor:
        _check_image(self, x.data.shape)
        n, h, w, c = x.data.shape
        (a, b) = self.size
        blocks = x.reshape((n, h, 1, w, 1, c)).broadcast_to((n, h, a, w, b, c))
        return blocks.reshape((n, h * a, w * b, c))

    def compute_output_shape(self, input_shape: Shape) -> Shape:
        _check_image(self, input_shape)
        rows, cols = (None if n is None else n * k for n, k in zip(input_shape[1:3], self.size))
        return (input_shape[0], rows, cols, input_shape[3])

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), "size": self.size, "data_format": self.data_format,
                "interpolation": self.interpolation}
