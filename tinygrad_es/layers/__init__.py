"""Layers, named as in ``keras.layers``: ``Dense``, activation layers, ``Dropout``, ``Flatten``,
``Input``/``InputLayer``; ``serialize``/``deserialize`` by class name (only the classes listed here,
so loading a model never runs code from the file).
"""

from __future__ import annotations

from typing import Any

from tinygrad_es.initializers import lookup
from tinygrad_es.layers.activation import (ELU, SELU, Activation, LeakyReLU, PReLU, ReLU, Sigmoid,
                                           Softmax, Tanh)
from tinygrad_es.layers.base import Layer
from tinygrad_es.layers.input_layer import Input, InputLayer
from tinygrad_es.layers.core import Dense
from tinygrad_es.layers.regularization import Dropout
from tinygrad_es.layers.reshaping import Flatten

__all__ = ["Layer", "Input", "InputLayer", "Dense", "Activation", "ReLU", "LeakyReLU", "ELU",
           "Softmax", "PReLU", "Sigmoid", "Tanh", "SELU", "Dropout", "Flatten", "serialize",
           "deserialize", "LAYERS"]

LAYERS: dict[str, type[Layer]] = {cls.__name__: cls for cls in (
    InputLayer, Dense, Activation, ReLU, LeakyReLU, ELU, Softmax, PReLU, Sigmoid, Tanh, SELU,
    Dropout, Flatten)}


def serialize(layer: Layer) -> dict[str, Any]:
    """The layer as a JSON-able dict in Keras's layout (plus ``build_config`` once built).

    Example:
        >>> serialize(Dense(2, name="d"))["class_name"]
        'Dense'
    """
    out: dict[str, Any] = {"module": "tinygrad_es.layers", "class_name": type(layer).__name__,
                           "config": layer.get_config(), "registered_name": None}
    if layer.built and not isinstance(layer, InputLayer) and layer.input_shape is not None:
        out["build_config"] = {"input_shape": list(layer.input_shape)}
    return out


def deserialize(config: dict[str, Any]) -> Layer:
    """A new layer from ``serialize``'s dict (or a Keras layer config), built if it was.

    Only the classes in ``LAYERS`` can be named; anything else is a ValueError.

    Example:
        >>> deserialize(serialize(Dense(2, name="d2"))).units
        2
    """
    if not isinstance(config, dict) or "class_name" not in config:
        raise ValueError(f"cannot deserialize a layer from {config!r}: expected a dict with "
                         "'class_name' and 'config'")
    cls = lookup(LAYERS, config["class_name"], "layer class")
    layer = cls.from_config(dict(config.get("config") or {}))
    build = config.get("build_config") or {}
    if build.get("input_shape") is not None and not layer.built:
        layer._build_for(tuple(build["input_shape"]))
    return layer
