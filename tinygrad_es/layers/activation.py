"""Activation layers: an activation function as a layer of its own (no weights, except PReLU).

``Activation``, ``ReLU``, ``LeakyReLU``, ``ELU``, ``Softmax`` and ``PReLU`` are Keras's layers (same
arguments, defaults and names). ``Sigmoid``, ``Tanh`` and ``SELU`` are not in Keras; they are
shorthands for ``Activation("sigmoid")`` etc. (a Keras script cannot load them).
"""

from __future__ import annotations

import numbers
from typing import Any

from tinygrad_es import activations, initializers, regularizers
from tinygrad_es.layers.base import Layer, Shape
from tinygrad_es.tensor import Tensor
from tinygrad_es.i18n import tr

__all__ = ["Activation", "ReLU", "LeakyReLU", "ELU", "Softmax", "PReLU", "Sigmoid", "Tanh", "SELU"]


def _non_negative(value: Any, what: str, layer: str, allow_none: bool = False) -> Any:
    if value is None and allow_none:
        return None
    if value is None or isinstance(value, bool) or not isinstance(value, numbers.Real) or value < 0:
        raise ValueError(tr("{what} of a {layer} layer cannot be None or a negative value. "
                            "Received: {what}={value!r}", what=what, layer=layer, value=value))
    return value


class Activation(Layer):
    """Applies an activation function: ``Activation("relu")``.

    Example:
        >>> Activation("relu")([[-1.0, 2.0]])
        Tensor([[0., 2.]], dtype=float32)
    """

    def __init__(self, activation: Any, **kwargs: Any):
        super().__init__(**kwargs)
        self.activation = activations.get(activation)

    def call(self, x: Tensor, training: bool = False) -> Tensor:
        return self.activation(x)

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), "activation": activations.serialize(self.activation)}


class _Fixed(Activation):
    _NAME = "linear"

    def __init__(self, **kwargs: Any):
        super().__init__(self._NAME, **kwargs)

    def get_config(self) -> dict[str, Any]:
        return Layer.get_config(self)


class Sigmoid(_Fixed):
    """``Activation("sigmoid")``; the output keeps its logits for the crossentropy losses.

    Example:
        >>> Sigmoid()([[0.0]])
        Tensor([[0.5]], dtype=float32)
    """
    _NAME = "sigmoid"


class Tanh(_Fixed):
    """``Activation("tanh")``.

    Example:
        >>> Tanh()([[0.0]])
        Tensor([[0.]], dtype=float32)
    """
    _NAME = "tanh"


class SELU(_Fixed):
    """``Activation("selu")`` (Keras's constants: alpha 1.6732632..., scale 1.0507009...).

    Example:
        >>> SELU()([[0.0]])
        Tensor([[0.]], dtype=float32)
    """
    _NAME = "selu"


class ReLU(Layer):
    """Keras's ReLU layer: x above ``threshold`` (else 0), capped at ``max_value``, and
    ``negative_slope`` · (x - threshold) below the threshold.

    Example:
        >>> ReLU(max_value=1.0)([[-1.0, 0.5, 3.0]])
        Tensor([[0. , 0.5, 1. ]], dtype=float32)
    """

    def __init__(self, max_value: float | None = None, negative_slope: float = 0.0,
                 threshold: float = 0.0, **kwargs: Any):
        super().__init__(**kwargs)
        self.max_value = _non_negative(max_value, "max_value", "ReLU", allow_none=True)
        self.negative_slope = _non_negative(negative_slope, "negative_slope", "ReLU")
        self.threshold = _non_negative(threshold, "threshold", "ReLU")

    def call(self, x: Tensor, training: bool = False) -> Tensor:
        return activations.relu(x, negative_slope=self.negative_slope, max_value=self.max_value,
                                threshold=self.threshold)

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), "max_value": self.max_value,
                "negative_slope": self.negative_slope, "threshold": self.threshold}


class LeakyReLU(Layer):
    """x if x > 0 else negative_slope · x; the layer's default slope is 0.3 (the function's 0.2).

    Example:
        >>> LeakyReLU()([[-1.0, 2.0]])
        Tensor([[-0.3,  2. ]], dtype=float32)
    """

    def __init__(self, negative_slope: float = 0.3, **kwargs: Any):
        if "alpha" in kwargs:  # Keras 2's name for it
            negative_slope = kwargs.pop("alpha")
        super().__init__(**kwargs)
        if negative_slope is None or isinstance(negative_slope, bool) or negative_slope < 0:
            raise ValueError(tr("The negative_slope value of a Leaky ReLU layer cannot be None "
                                "or negative value. Expected a float. Received: "
                                "negative_slope={negative_slope!r}", negative_slope=negative_slope))
        self.negative_slope = negative_slope

    def call(self, x: Tensor, training: bool = False) -> Tensor:
        return activations.leaky_relu(x, negative_slope=self.negative_slope)

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), "negative_slope": self.negative_slope}


class ELU(Layer):
    """x if x > 0 else alpha · (eˣ - 1).

    Example:
        >>> ELU()([[0.0, 1.0]])
        Tensor([[0., 1.]], dtype=float32)
    """

    def __init__(self, alpha: float = 1.0, **kwargs: Any):
        super().__init__(**kwargs)
        self.alpha = alpha

    def call(self, x: Tensor, training: bool = False) -> Tensor:
        return activations.elu(x, alpha=self.alpha)

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), "alpha": self.alpha}


class Softmax(Layer):
    """Softmax along ``axis`` (an int or a tuple of ints); the output keeps its logits.

    Example:
        >>> Softmax()([[0.0, 0.0]])
        Tensor([[0.5, 0.5]], dtype=float32)
    """

    def __init__(self, axis: int | tuple[int, ...] = -1, **kwargs: Any):
        super().__init__(**kwargs)
        self.axis = axis
        self._axis = tuple(axis) if isinstance(axis, (list, tuple)) else axis

    def call(self, x: Tensor, training: bool = False) -> Tensor:
        return activations.softmax(x, axis=self._axis)

    def get_config(self) -> dict[str, Any]:
        axis = list(self.axis) if isinstance(self.axis, tuple) else self.axis
        return {**super().get_config(), "axis": axis}


class PReLU(Layer):
    """Parametric ReLU: relu(x) - alpha · relu(-x), with a learned ``alpha`` per input unit.

    Example:
        >>> PReLU(alpha_initializer=initializers.Constant(0.5))([[-2.0, 2.0]])
        Tensor([[-1.,  2.]], dtype=float32, requires_grad=True, op=Add)
    """

    def __init__(self, alpha_initializer: Any = "zeros", alpha_regularizer: Any = None,
                 alpha_constraint: Any = None, shared_axes: Any = None, **kwargs: Any):
        if alpha_constraint is not None:
            raise ValueError(tr("PReLU: `alpha_constraint` is not supported by tinygrad_es; "
                                "pass None"))
        super().__init__(**kwargs)
        self.alpha_initializer = initializers.get(alpha_initializer)
        self.alpha_regularizer = regularizers.get(alpha_regularizer)
        if shared_axes is None or isinstance(shared_axes, (list, tuple)):
            self.shared_axes = None if shared_axes is None else list(shared_axes)
        else:
            self.shared_axes = [shared_axes]
        self.alpha: Tensor | None = None

    def build(self, input_shape: Shape) -> None:
        param_shape = list(input_shape[1:])
        for axis in self.shared_axes or []:
            param_shape[axis - 1] = 1
        if any(d is None for d in param_shape):
            raise ValueError(tr("PReLU layer '{name}' needs known input dimensions, received "
                                "shape {input_shape}", name=self.name, input_shape=input_shape))
        self.alpha = self.add_weight("alpha", tuple(param_shape), self.alpha_initializer,
                                     self.alpha_regularizer)

    def call(self, x: Tensor, training: bool = False) -> Tensor:
        return x.relu() + (-self.alpha) * (-x).relu()

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(),
                "alpha_initializer": initializers.serialize(self.alpha_initializer),
                "alpha_regularizer": regularizers.serialize(self.alpha_regularizer),
                "alpha_constraint": None, "shared_axes": self.shared_axes}
