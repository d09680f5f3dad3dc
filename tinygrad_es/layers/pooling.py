"""Pooling layers, channels_last as Keras: max and average over windows, and over everything.

``MaxPooling2D`` / ``AveragePooling2D`` (and their 1-D forms) run one primitive each
(``functions_conv.MaxPool`` / ``AvgPool``); the global poolings are the Tensor reductions
``max`` and ``mean`` over the spatial axes, as Keras's ``ops.max`` / ``ops.mean``. Keras's short
names (``MaxPool2D``, ``AvgPool2D``, ``GlobalAvgPool2D``, ...) are the same classes.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from tinygrad_es.functions_conv import average_pool, conv_output_size, max_pool
from tinygrad_es.layers.base import Layer, Shape
from tinygrad_es.layers.convolutional import (standardize_data_format, standardize_padding,
                                              standardize_tuple)
from tinygrad_es.tensor import Tensor
from tinygrad_es.i18n import tr

__all__ = ["MaxPooling1D", "MaxPooling2D", "AveragePooling1D", "AveragePooling2D",
           "GlobalMaxPooling1D", "GlobalMaxPooling2D", "GlobalAveragePooling1D",
           "GlobalAveragePooling2D"]


def _check_rank(layer: Layer, shape: Shape, rank: int) -> None:
    if len(shape) != rank + 2:
        raise ValueError(tr("{cls} layer '{name}' expects inputs shaped (batch, {join}, "
                            "channels), received shape {shape}", cls=type(layer).__name__,
                            name=layer.name, join=', '.join(['size'] * rank), shape=tuple(shape)))


class _Pooling(Layer):
    """A window slid over the spatial axes: ``pool_size``, ``strides`` (default: pool_size),
    ``padding`` "valid" or "same" (TensorFlow's; an average does not count the padding)."""

    rank = 2
    mode = "max"

    def __init__(self, pool_size: Any = 2, strides: Any = None, padding: str = "valid",
                 data_format: str | None = None, **kwargs: Any):
        owner = type(self).__name__
        self.pool_size = standardize_tuple(pool_size, self.rank, "pool_size", owner)
        self.strides = standardize_tuple(self.pool_size if strides is None else strides,
                                         self.rank, "strides", owner)
        self.padding = standardize_padding(padding, owner)
        self.data_format = standardize_data_format(data_format, owner)
        super().__init__(**kwargs)

    def call(self, x: Tensor) -> Tensor:
        _check_rank(self, x.data.shape, self.rank)
        pool = max_pool if self.mode == "max" else average_pool
        return pool(x, self.pool_size, self.strides, self.padding)

    def compute_output_shape(self, input_shape: Shape) -> Shape:
        _check_rank(self, input_shape, self.rank)
        sizes = tuple(conv_output_size(n, k, s, 1, self.padding) for n, k, s in
                      zip(input_shape[1:-1], self.pool_size, self.strides))
        if any(n is not None and n <= 0 for n in sizes):
            raise ValueError(tr("{cls} layer '{name}': input shape {input_shape} is smaller "
                                "than pool_size {pool_size} with padding='valid'",
                                cls=type(self).__name__, name=self.name,
                                input_shape=tuple(input_shape), pool_size=self.pool_size))
        return (input_shape[0],) + sizes + (input_shape[-1],)

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), "pool_size": self.pool_size, "padding": self.padding,
                "strides": self.strides, "data_format": self.data_format}


class MaxPooling2D(_Pooling):
    """The largest value of each window; the gradient goes to it (to the first, on ties).

    Example:
        >>> MaxPooling2D()(np.arange(16.0).reshape(1, 4, 4, 1)).data[0, :, :, 0]
        array([[ 5.,  7.],
               [13., 15.]], dtype=float32)
    """


class _AveragePooling(_Pooling):
    """As Keras, an average pooling has no default ``pool_size``."""

    mode = "average"

    def __init__(self, pool_size: Any, strides: Any = None, padding: str = "valid",
                 data_format: str | None = None, **kwargs: Any):
        super().__init__(pool_size, strides, padding, data_format, **kwargs)


class AveragePooling2D(_AveragePooling):
    """The mean of each window (with padding="same", over the real pixels only).

    Example:
        >>> AveragePooling2D(2)(np.arange(16.0).reshape(1, 4, 4, 1)).data[0, :, :, 0]
        array([[ 2.5,  4.5],
               [10.5, 12.5]], dtype=float32)
    """


class MaxPooling1D(_Pooling):
    """MaxPooling2D's 1-D form, over (batch, steps, channels).

    Example:
        >>> MaxPooling1D()(np.array([[[1.0], [3.0], [2.0], [0.0]]])).data[0, :, 0]
        array([3., 2.], dtype=float32)
    """

    rank = 1


class AveragePooling1D(_AveragePooling):
    """AveragePooling2D's 1-D form, over (batch, steps, channels).

    Example:
        >>> AveragePooling1D(2)(np.array([[[1.0], [3.0], [2.0], [0.0]]])).data[0, :, 0]
        array([2., 1.], dtype=float32)
    """

    rank = 1


class _GlobalPooling(Layer):
    """A reduction over all spatial axes; ``keepdims`` keeps them as size 1."""

    rank = 2

    def __init__(self, data_format: str | None = None, keepdims: bool = False, **kwargs: Any):
        self.data_format = standardize_data_format(data_format, type(self).__name__)
        self.keepdims = bool(keepdims)
        super().__init__(**kwargs)

    def _axes(self, x: Tensor) -> tuple[int, ...]:
        _check_rank(self, x.data.shape, self.rank)
        return tuple(range(1, self.rank + 1))

    def compute_output_shape(self, input_shape: Shape) -> Shape:
        _check_rank(self, input_shape, self.rank)
        middle = (1,) * self.rank if self.keepdims else ()
        return (input_shape[0],) + middle + (input_shape[-1],)

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), "data_format": self.data_format,
                "keepdims": self.keepdims}


class GlobalMaxPooling2D(_GlobalPooling):
    """The largest value of each channel over the whole image: (batch, channels).

    Ties share the gradient equally, as TensorFlow's ``reduce_max``.

    Example:
        >>> GlobalMaxPooling2D()(np.arange(8.0).reshape(1, 2, 2, 2)).data
        array([[6., 7.]], dtype=float32)
    """

    def call(self, x: Tensor) -> Tensor:
        return x.max(axis=self._axes(x), keepdims=self.keepdims)


class GlobalAveragePooling2D(_GlobalPooling):
    """The mean of each channel over the whole image: (batch, channels).

    Example:
        >>> GlobalAveragePooling2D()(np.arange(8.0).reshape(1, 2, 2, 2)).data
        array([[3., 4.]], dtype=float32)
    """

    def call(self, x: Tensor) -> Tensor:
        return x.mean(axis=self._axes(x), keepdims=self.keepdims)


class GlobalMaxPooling1D(_GlobalPooling):
    """The largest value of each channel over the steps: (batch, channels).

    Example:
        >>> GlobalMaxPooling1D()(np.array([[[1.0], [3.0], [2.0]]])).data
        array([[3.]], dtype=float32)
    """

    rank = 1

    def call(self, x: Tensor) -> Tensor:
        return x.max(axis=self._axes(x), keepdims=self.keepdims)


class GlobalAveragePooling1D(_GlobalPooling):
    """The mean of each channel over the steps: (batch, channels); a ``mask`` (batch, steps)
    leaves the masked steps out of the mean, as Keras.

    Example:
        >>> GlobalAveragePooling1D()(np.array([[[1.0], [3.0], [2.0]]])).data
        array([[2.]], dtype=float32)
    """

    rank = 1

    def call(self, x: Tensor, mask: Any = None) -> Tensor:
        axes = self._axes(x)
        if mask is None:
            return x.mean(axis=axes, keepdims=self.keepdims)
        keep = np.asarray(mask.data if isinstance(mask, Tensor) else mask, dtype=bool)
        if keep.shape != x.data.shape[:2]:
            raise ValueError(tr("GlobalAveragePooling1D layer '{name}' expects a mask of shape "
                                "{shape}, received {shape2}", name=self.name,
                                shape=x.data.shape[:2], shape2=keep.shape))
        weights = Tensor.from_numpy(keep[..., None].astype(x.data.dtype))
        return (x * weights).sum(axis=axes, keepdims=self.keepdims) / weights.sum(
            axis=axes, keepdims=self.keepdims)


# Keras's short names for the same layers
MaxPool1D, MaxPool2D = MaxPooling1D, MaxPooling2D
AvgPool1D, AvgPool2D = AveragePooling1D, AveragePooling2D
GlobalMaxPool1D, GlobalMaxPool2D = GlobalMaxPooling1D, GlobalMaxPooling2D
GlobalAvgPool1D, GlobalAvgPool2D = GlobalAveragePooling1D, GlobalAveragePooling2D
