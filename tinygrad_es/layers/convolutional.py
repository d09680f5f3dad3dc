"""Convolution layers: ``Conv1D``, ``Conv2D`` and ``Conv2DTranspose``, channels_last as Keras.

y = activation(conv(x, kernel) + bias), the kernel shaped (*kernel_size, in_channels, filters)
(Conv2DTranspose: (*kernel_size, filters, in_channels)), so weights copy to and from Keras as they
are. The convolution itself is one primitive (``functions_conv.Conv``: im2col and one matmul).
The argument rules shared with pooling and reshaping layers (``standardize_tuple`` and friends)
live here.
"""

from __future__ import annotations

from typing import Any

from tinygrad_es import activations, initializers, regularizers
from tinygrad_es.functions_conv import conv, conv_output_size, conv_transpose
from tinygrad_es.layers.base import Layer, Shape
from tinygrad_es.layers.core import _is_linear
from tinygrad_es.tensor import Tensor
from tinygrad_es.i18n import tr

__all__ = ["Conv1D", "Conv2D", "Conv2DTranspose"]


# ----- argument rules (shared by the convolution, pooling and reshaping layers) -----

def standardize_tuple(value: Any, n: int, name: str, owner: str,
                      allow_zero: bool = False) -> tuple[int, ...]:
    """An int n-tuple from an int or an iterable of n ints (positive, or >= 0 if allowed)."""
    values = (value,) * n if isinstance(value, int) and not isinstance(value, bool) else value
    try:
        values = tuple(int(v) for v in values)
    except (TypeError, ValueError):
        values = ()
    low = 0 if allow_zero else 1
    if len(values) != n or any(v < low for v in values):
        kind = "non-negative" if allow_zero else "positive"
        raise ValueError(tr("{owner}: `{name}` must be a {kind} integer or a tuple of {n} "
                            "{kind} integers, received {name}={value!r}", owner=owner, name=name,
                            kind=kind, n=n, value=value))
    return values


def standardize_padding(padding: Any, owner: str, allow_causal: bool = False) -> str:
    """"valid" or "same" (or "causal" where allowed), in any case."""
    allowed = ("valid", "same", "causal") if allow_causal else ("valid", "same")
    value = padding.lower() if isinstance(padding, str) else padding
    if value not in allowed:
        raise ValueError(tr("{owner}: `padding` must be one of {allowed}, received "
                            "padding={padding!r}", owner=owner, allowed=allowed, padding=padding))
    return value


def standardize_data_format(data_format: Any, owner: str) -> str:
    """Only Keras's default "channels_last" is supported (None means it)."""
    if data_format not in (None, "channels_last"):
        raise ValueError(tr("{owner}: only data_format='channels_last' (Keras's default) is "
                            "supported, received data_format={data_format!r}", owner=owner,
                            data_format=data_format))
    return "channels_last"


def pop_unsupported(kwargs: dict[str, Any], owner: str, keys: tuple[str, ...]) -> None:
    """Accept Keras's config keys this library lacks only when they are None (their default)."""
    for key in keys:
        if kwargs.pop(key, None) is not None:
            raise ValueError(tr("{owner}: `{key}` is not supported by tinygrad_es; pass None",
                                owner=owner, key=key))


# ----- the convolution layers -----

class _Conv(Layer):
    """What Conv1D, Conv2D and Conv2DTranspose share: arguments, weights, bias and activation."""

    rank = 2
    transpose = False

    def __init__(self, filters: int, kernel_size: Any, strides: Any = 1, padding: str = "valid",
                 data_format: str | None = None, dilation_rate: Any = 1, activation: Any = None,
                 use_bias: bool = True, kernel_initializer: Any = "glorot_uniform",
                 bias_initializer: Any = "zeros", kernel_regularizer: Any = None,
                 bias_regularizer: Any = None, **kwargs: Any):
        owner = type(self).__name__
        pop_unsupported(kwargs, owner, ("kernel_constraint", "bias_constraint", "lora_rank",
                                        "lora_alpha"))
        if isinstance(filters, bool) or not isinstance(filters, int) or filters <= 0:
            raise ValueError(tr("{owner}: `filters` must be a positive integer, received "
                                "filters={filters!r}", owner=owner, filters=filters))
        self.filters = filters
        self.kernel_size = standardize_tuple(kernel_size, self.rank, "kernel_size", owner)
        self.strides = standardize_tuple(strides, self.rank, "strides", owner)
        self.dilation_rate = standardize_tuple(dilation_rate, self.rank, "dilation_rate", owner)
        causal = self.rank == 1 and not self.transpose
        self.padding = standardize_padding(padding, owner, allow_causal=causal)
        self.data_format = standardize_data_format(data_format, owner)
        if max(self.strides) > 1 and max(self.dilation_rate) > 1:  # as Keras refuses it
            raise ValueError(tr("{owner}: strides > 1 together with dilation_rate > 1 is not "
                                "supported, received strides={strides} and "
                                "dilation_rate={dilation_rate}", owner=owner, strides=self.strides,
                                dilation_rate=self.dilation_rate))
        super().__init__(**kwargs)
        self.activation = activations.get(activation)
        self._act = None if _is_linear(self.activation) else self.activation
        self.use_bias = bool(use_bias)
        self.kernel_initializer = initializers.get(kernel_initializer)
        self.bias_initializer = initializers.get(bias_initializer)
        self.kernel_regularizer = regularizers.get(kernel_regularizer)
        self.bias_regularizer = regularizers.get(bias_regularizer)
        self.kernel: Tensor | None = None
        self.bias: Tensor | None = None
        self._in_channels = -1

    def _check_rank(self, shape: Shape) -> None:
        if len(shape) != self.rank + 2 or shape[-1] is None:
            raise ValueError(tr("{cls} layer '{name}' expects inputs shaped (batch, {join}, "
                                "channels) with a known number of channels, received shape "
                                "{shape}", cls=type(self).__name__, name=self.name,
                                join=', '.join(['size'] * self.rank), shape=tuple(shape)))

    def build(self, input_shape: Shape) -> None:
        self._check_rank(input_shape)
        self._in_channels = int(input_shape[-1])
        self.compute_output_shape(input_shape)  # an input smaller than the kernel fails here
        pair = (self.filters, self._in_channels) if self.transpose else (self._in_channels,
                                                                           self.filters)
        self.kernel = self.add_weight("kernel", self.kernel_size + pair, self.kernel_initializer,
                                      self.kernel_regularizer)
        if self.use_bias:
            self.bias = self.add_weight("bias", (self.filters,), self.bias_initializer,
                                        self.bias_regularizer)

    def call(self, x: Tensor) -> Tensor:
        shape = x.data.shape
        if len(shape) != self.rank + 2 or shape[-1] != self._in_channels:
            raise ValueError(tr("{cls} layer '{name}' expects inputs with {value} axes and "
                                "{in_channels} channels, received input of shape {shape}",
                                cls=type(self).__name__, name=self.name, value=self.rank + 2,
                                in_channels=self._in_channels, shape=shape))
        y = self._convolve(x)
        if self.use_bias:
            y = y + self.bias  # the bias broadcasts over the last (channels) axis
        return y if self._act is None else self._act(y)

    def _convolve(self, x: Tensor) -> Tensor:
        return conv(x, self.kernel, self.strides, self.padding, self.dilation_rate)

    def compute_output_shape(self, input_shape: Shape) -> Shape:
        self._check_rank(input_shape)
        sizes = tuple(conv_output_size(n, k, s, d, self.padding) for n, k, s, d in zip(
            input_shape[1:-1], self.kernel_size, self.strides, self.dilation_rate))
        if any(n is not None and n <= 0 for n in sizes):
            raise ValueError(tr("{cls} layer '{name}': input shape {input_shape} is too small "
                                "for kernel_size {kernel_size} (dilation_rate {dilation_rate}) "
                                "with padding='valid': the output would have shape {sizes}",
                                cls=type(self).__name__, name=self.name,
                                input_shape=tuple(input_shape), kernel_size=self.kernel_size,
                                dilation_rate=self.dilation_rate, sizes=sizes))
        return (input_shape[0],) + sizes + (self.filters,)

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), "filters": self.filters,
                "kernel_size": self.kernel_size, "strides": self.strides,
                "padding": self.padding, "data_format": self.data_format,
                "dilation_rate": self.dilation_rate,
                "activation": activations.serialize(self.activation), "use_bias": self.use_bias,
                "kernel_initializer": initializers.serialize(self.kernel_initializer),
                "bias_initializer": initializers.serialize(self.bias_initializer),
                "kernel_regularizer": regularizers.serialize(self.kernel_regularizer),
                "bias_regularizer": regularizers.serialize(self.bias_regularizer),
                "activity_regularizer": regularizers.serialize(self.activity_regularizer)}


class _GroupedConv(_Conv):
    """Conv1D/Conv2D take Keras's ``groups`` argument; only groups=1 is supported."""

    def __init__(self, filters: int, kernel_size: Any, strides: Any = 1, padding: str = "valid",
                 data_format: str | None = None, dilation_rate: Any = 1, groups: int = 1,
                 *args: Any, **kwargs: Any):
        if groups != 1:
            raise ValueError(tr("{cls}: only groups=1 is supported by tinygrad_es, received "
                                "groups={groups!r}", cls=type(self).__name__, groups=groups))
        super().__init__(filters, kernel_size, strides, padding, data_format, dilation_rate,
                         *args, **kwargs)
        self.groups = 1

    def get_config(self) -> dict[str, Any]:
        config = super().get_config()
        config["groups"] = self.groups
        return config


class Conv1D(_GroupedConv):
    """1-D convolution over (batch, steps, channels): kernel (kernel_size, channels, filters).

    Args:
        filters: number of output channels.
        kernel_size: the window length (an int or a 1-tuple).
        strides, dilation_rate: ints or 1-tuples (not both > 1, as Keras).
        padding: "valid" (no padding), "same" (output length ⌈steps/stride⌉, TF's padding) or
            "causal" (zeros before only, so output t sees inputs up to t).
        activation, use_bias, kernel_initializer, bias_initializer, kernel_regularizer,
        bias_regularizer: as in ``Dense``.

    Example:
        >>> import numpy as np
        >>> layer = Conv1D(2, 3, kernel_initializer="ones")
        >>> layer(np.ones((1, 5, 1))).shape
        (1, 3, 2)
    """

    rank = 1


class Conv2D(_GroupedConv):
    """2-D convolution over (batch, height, width, channels): kernel (kh, kw, channels, filters).

    Args:
        filters: number of output channels.
        kernel_size: an int or (height, width) of the window.
        strides, dilation_rate: ints or pairs (not both > 1, as Keras).
        padding: "valid" (no padding) or "same" (output ⌈size/stride⌉; TensorFlow's padding, the
            odd pixel at the bottom/right).
        activation, use_bias, kernel_initializer, bias_initializer, kernel_regularizer,
        bias_regularizer: as in ``Dense``.

    Example:
        >>> import numpy as np
        >>> layer = Conv2D(4, 3, padding="same", activation="relu")
        >>> layer(np.zeros((2, 8, 8, 1))).shape, layer.count_params()
        ((2, 8, 8, 4), 40)
    """

    rank = 2


class Conv2DTranspose(_Conv):
    """Transposed 2-D convolution (the adjoint of Conv2D): kernel (kh, kw, filters, channels).

    Output size per axis: (n-1)·s + max(k', s) for "valid" and n·s for "same" (k' = the dilated
    kernel), or with ``output_padding`` p: (n-1)·s + k' + p ("valid"), (n-1)·s + k' % 2 + p
    ("same"), as Keras computes it.

    Example:
        >>> import numpy as np
        >>> layer = Conv2DTranspose(3, 2, strides=2)
        >>> layer(np.zeros((1, 4, 4, 8))).shape
        (1, 8, 8, 3)
    """

    rank = 2
    transpose = True

    def __init__(self, filters: int, kernel_size: Any, strides: Any = 1, padding: str = "valid",
                 output_padding: Any = None, *args: Any, **kwargs: Any):
        super().__init__(filters, kernel_size, strides, padding, *args, **kwargs)
        if output_padding is not None:
            output_padding = standardize_tuple(output_padding, self.rank, "output_padding",
                                               type(self).__name__, allow_zero=True)
            if any(p >= s for p, s in zip(output_padding, self.strides)):
                raise ValueError(tr("{cls}: each `output_padding` must be smaller than the "
                                    "stride, received output_padding={output_padding} and "
                                    "strides={strides}", cls=type(self).__name__,
                                    output_padding=output_padding, strides=self.strides))
        self.output_padding = output_padding

    def _convolve(self, x: Tensor) -> Tensor:
        size = self.compute_output_shape(x.data.shape)[1:-1]
        return conv_transpose(x, self.kernel, size, self.strides, self.padding,
                              self.dilation_rate)

    def compute_output_shape(self, input_shape: Shape) -> Shape:
        self._check_rank(input_shape)
        sizes = []
        for i, (n, k, s, d) in enumerate(zip(input_shape[1:-1], self.kernel_size, self.strides,
                                             self.dilation_rate)):
            span = (k - 1) * d + 1
            extra = None if self.output_padding is None else self.output_padding[i]
            if n is None:
                sizes.append(None)
            elif self.padding == "valid":
                sizes.append((n - 1) * s + span + (max(span, s) - span if extra is None
                                                   else extra))
            else:
                sizes.append(n * s if extra is None else (n - 1) * s + span % 2 + extra)
        return (input_shape[0],) + tuple(sizes) + (self.filters,)

    def get_config(self) -> dict[str, Any]:
        config = super().get_config()
        config["output_padding"] = self.output_padding
        return config
