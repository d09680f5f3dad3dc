"""``Lambda``: a Python function of Tensors as a layer (``Lambda(lambda x: x ** 2)``).

The function receives the layer's input as a Tensor and must return a Tensor built from Tensor
operations, so the gradient flows through it. ``get_config`` records the function by its name
only: a model with a Lambda can be saved, but ``load_model`` / ``deserialize`` refuse to rebuild
it, because rebuilding would mean running code read from a file (Keras's safe mode; tinygrad_es
has no unsafe mode). Rebuild such a model in Python and ``load_weights`` into it.
"""

from __future__ import annotations

import inspect
from typing import Any, Callable

from tinygrad_es.i18n import tr
from tinygrad_es.layers.base import Layer, Shape
from tinygrad_es.tensor import Tensor

__all__ = ["Lambda"]


class Lambda(Layer):
    """Run ``function(inputs, **arguments)`` (plus ``training=`` if the function takes it).

    Args:
        function: a callable from a Tensor to a Tensor.
        output_shape: the output shape without the batch axis (a tuple), or a function of the
            input shape (with the batch axis); default: found by running the function once on
            zeros.
        arguments: keyword arguments passed to the function on every call.

    Example:
        >>> square = Lambda(lambda x: x * x)
        >>> square([[2.0, 3.0]]).data
        array([[4., 9.]], dtype=float32)
    """

    def __init__(self, function: Callable[..., Tensor], output_shape: Any = None,
                 mask: Any = None, arguments: dict[str, Any] | None = None, **kwargs: Any):
        if not callable(function):
            raise TypeError(tr("Lambda: `function` must be callable, received {function!r}",
                               function=function))
        if mask is not None:
            raise ValueError(tr("Lambda: tinygrad_es does not propagate masks; pass mask=None"))
        super().__init__(**kwargs)
        self.function = function
        self.arguments = dict(arguments or {})
        self._given_output_shape = output_shape
        try:
            params = inspect.signature(function).parameters
        except (TypeError, ValueError):
            params = {}
        self._takes_training = "training" in params

    def call(self, x: Tensor, training: bool = False) -> Tensor:
        kwargs = dict(self.arguments)
        if self._takes_training:
            kwargs["training"] = training
        out = self.function(x, **kwargs)
        if not isinstance(out, Tensor):
            raise TypeError(tr("Lambda layer '{name}': the function {function} must return a "
                               "Tensor made with Tensor operations (so that the gradient flows "
                               "through it), received {type}", name=self.name,
                               function=_function_name(self.function), type=type(out).__name__))
        return out

    def compute_output_shape(self, input_shape: Shape) -> Shape:
        given = self._given_output_shape
        if given is None:
            return super().compute_output_shape(input_shape)
        if callable(given):
            return tuple(given(tuple(input_shape)))
        return (tuple(input_shape)[0],) + tuple(given)

    def get_config(self) -> dict[str, Any]:
        config = {**super().get_config(),
                  "function": {"module": getattr(self.function, "__module__", None),
                               "class_name": "function",
                               "config": _function_name(self.function),
                               "registered_name": "function"}}
        if self._given_output_shape is not None and not callable(self._given_output_shape):
            config["output_shape"] = tuple(self._given_output_shape)
        config["arguments"] = self.arguments
        return config

    @classmethod
    def from_config(cls, config: dict[str, Any]) -> Lambda:
        """Always refused: the function of a saved Lambda would be code read from a file."""
        function = config.get("function")
        name = function.get("config") if isinstance(function, dict) else function
        if isinstance(function, dict) and function.get("class_name") == "__lambda__":
            name = "<lambda>"
        raise ValueError(tr("Requested the deserialization of a `Lambda` layer (function "
                            "{function!r}). This carries a potential risk of arbitrary code "
                            "execution, so tinygrad_es never does it: it loads in safe mode "
                            "only and never runs code from a file. Rebuild the model in Python "
                            "with the Lambda's function, then call load_weights().",
                            function=name))


def _function_name(function: Callable) -> str:
    return (getattr(function, "__name__", None) or type(function).__name__)
