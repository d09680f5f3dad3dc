"""``Dense``: y = activation(x @ W + b), the kernel W shaped (in_features, units) as in Keras."""

from __future__ import annotations

from typing import Any

from tinygrad_es import activations, initializers, regularizers
from tinygrad_es.i18n import tr
from tinygrad_es.layers.base import Layer, Shape
from tinygrad_es.tensor import Tensor

__all__ = ["Dense"]


def _is_linear(fn: Any) -> bool:
    try:
        return activations.serialize(fn) == "linear"
    except (ValueError, TypeError, AttributeError):
        return False


class Dense(Layer):
    """A fully connected layer: ``activation(x @ kernel + bias)``.

    Args:
        units: number of outputs (a positive integer).
        activation: a name ("relu", "sigmoid", ...) or a function; None means linear.
        use_bias: add the bias vector b (shape (units,)).
        kernel_initializer, bias_initializer: name or Initializer (see ``initializers``).
        kernel_regularizer, bias_regularizer: None, "l1", "l2", "l1_l2" or a Regularizer; the
            penalties appear in ``layer.losses`` and are added to the training loss.
        input_dim, input_shape: the input size, to build a Sequential model immediately.
        name: default ``dense``, ``dense_1``, ...

    Example:
        >>> layer = Dense(2, kernel_initializer="ones")
        >>> layer([[1.0, 2.0, 3.0]])
        Tensor([[6., 6.]], dtype=float32, requires_grad=True, op=Linear)
    """

    def __init__(self, units: int, activation: Any = None, use_bias: bool = True,
                 kernel_initializer: Any = "glorot_uniform", bias_initializer: Any = "zeros",
                 kernel_regularizer: Any = None, bias_regularizer: Any = None,
                 input_dim: int | None = None, input_shape: Any = None, name: str | None = None,
                 **kwargs: Any):
        for key in ("kernel_constraint", "bias_constraint",
                    "quantization_config", "lora_rank"):
            if kwargs.pop(key, None) is not None:
                raise ValueError(tr("Dense: `{key}` is not supported by tinygrad_es; pass None",
                                    key=key))
        kwargs.pop("lora_alpha", None)
        if isinstance(units, bool) or not hasattr(units, "__index__"):
            raise ValueError(tr("Received an invalid value for `units`, expected a positive "
                                "integer. Received: units={units!r}", units=units))
        if int(units) <= 0:
            raise ValueError(tr("Received an invalid value for `units`, expected a positive "
                                "integer. Received: units={units}", units=units))
        super().__init__(name=name, input_dim=input_dim, input_shape=input_shape, **kwargs)
        self.units = int(units)
        self.activation = activations.get(activation)
        self._act = None if _is_linear(self.activation) else self.activation
        self.use_bias = bool(use_bias)
        self.kernel_initializer = initializers.get(kernel_initializer)
        self.bias_initializer = initializers.get(bias_initializer)
        self.kernel_regularizer = regularizers.get(kernel_regularizer)
        self.bias_regularizer = regularizers.get(bias_regularizer)
        self.kernel: Tensor | None = None
        self.bias: Tensor | None = None
        self._in_features = -1

    def build(self, input_shape: Shape) -> None:
        if len(input_shape) < 2 or input_shape[-1] is None:
            raise ValueError(tr("Dense layer '{name}' needs inputs shaped (batch, features) "
                                "with a known number of features, received shape {input_shape}",
                                name=self.name, input_shape=input_shape))
        self._in_features = int(input_shape[-1])
        self.kernel = self.add_weight("kernel", (self._in_features, self.units),
                                      self.kernel_initializer, self.kernel_regularizer)
        if self.use_bias:
            self.bias = self.add_weight("bias", (self.units,), self.bias_initializer,
                                        self.bias_regularizer)

    def call(self, x: Tensor, training: bool = False) -> Tensor:
        shape = x.data.shape
        if len(shape) < 2 or shape[-1] != self._in_features:
            raise ValueError(tr("Dense layer '{name}' expects {in_features} input features, "
                                "received input of shape {shape}", name=self.name,
                                in_features=self._in_features, shape=shape))
        y = x.linear(self.kernel, self.bias)  # x @ kernel + bias, one node
        return y if self._act is None else self._act(y)

    def compute_output_shape(self, input_shape: Shape) -> Shape:
        return tuple(input_shape[:-1]) + (self.units,)

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), "units": self.units,
                "activation": activations.serialize(self.activation), "use_bias": self.use_bias,
                "kernel_initializer": initializers.serialize(self.kernel_initializer),
                "bias_initializer": initializers.serialize(self.bias_initializer),
                "kernel_regularizer": regularizers.serialize(self.kernel_regularizer),
                "bias_regularizer": regularizers.serialize(self.bias_regularizer)}
