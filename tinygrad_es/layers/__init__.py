"""Layers, named as in ``keras.layers``: ``Dense``, activation layers, ``Dropout``, ``Flatten``,
``Input``/``InputLayer``; ``serialize``/``deserialize`` by class name (only the classes listed here,
so loading a model never runs code from the file: a ``Lambda`` is refused).
"""

from __future__ import annotations

from typing import Any

from tinygrad_es.layers.activation import (ELU, SELU, Activation, LeakyReLU, PReLU, ReLU, Sigmoid,
                                           Softmax, Tanh)
from tinygrad_es.layers.base import Layer
from tinygrad_es.layers.input_layer import Input, InputLayer
from tinygrad_es.layers.core import Dense
from tinygrad_es.layers.regularization import Dropout
from tinygrad_es.layers.merging import (Add, Average, Concatenate, Maximum, Minimum, Multiply,
                                        Subtract, add, average, concatenate, maximum, minimum,
                                        multiply, subtract)
from tinygrad_es.layers.reshaping import Flatten, Reshape, UpSampling2D, ZeroPadding2D
from tinygrad_es.layers.convolutional import Conv1D, Conv2D, Conv2DTranspose
from tinygrad_es.layers.pooling import (AveragePooling1D, AveragePooling2D, AvgPool1D, AvgPool2D,
                                        GlobalAveragePooling1D, GlobalAveragePooling2D,
                                        GlobalAvgPool1D, GlobalAvgPool2D, GlobalMaxPool1D,
                                        GlobalMaxPool2D, GlobalMaxPooling1D, GlobalMaxPooling2D,
                                        MaxPool1D, MaxPool2D, MaxPooling1D, MaxPooling2D)
from tinygrad_es.layers.normalization import BatchNormalization, LayerNormalization
from tinygrad_es.layers.preprocessing import Normalization, Rescaling
from tinygrad_es.layers.embedding import Embedding
from tinygrad_es.layers.lambda_layer import Lambda
from tinygrad_es.utils.registry import deserialize_object, serialize_object

__all__ = ["Layer", "Input", "InputLayer", "Dense", "Activation", "ReLU", "LeakyReLU", "ELU",
           "Softmax", "PReLU", "Sigmoid", "Tanh", "SELU", "Dropout", "Flatten", "serialize",
           "deserialize", "LAYERS"]
__all__ += ["Conv1D", "Conv2D", "Conv2DTranspose", "MaxPooling1D", "MaxPooling2D",
            "AveragePooling1D", "AveragePooling2D", "GlobalMaxPooling1D", "GlobalMaxPooling2D",
            "GlobalAveragePooling1D", "GlobalAveragePooling2D", "MaxPool1D", "MaxPool2D",
            "AvgPool1D", "AvgPool2D", "GlobalMaxPool1D", "GlobalMaxPool2D", "GlobalAvgPool1D",
            "GlobalAvgPool2D", "Reshape", "ZeroPadding2D", "UpSampling2D"]
__all__ += ["BatchNormalization", "LayerNormalization", "Normalization", "Rescaling", "Embedding",
            "Lambda"]
__all__ += ["Add", "Subtract", "Multiply", "Average", "Maximum", "Minimum", "Concatenate",
            "add", "subtract", "multiply", "average", "maximum", "minimum", "concatenate"]

LAYERS: dict[str, type[Layer]] = {cls.__name__: cls for cls in (
    InputLayer, Dense, Activation, ReLU, LeakyReLU, ELU, Softmax, PReLU, Sigmoid, Tanh, SELU,
    Dropout, Flatten)}
LAYERS.update({cls.__name__: cls for cls in (  # convolution, pooling and reshaping (issue 12)
    Conv1D, Conv2D, Conv2DTranspose, MaxPooling1D, MaxPooling2D, AveragePooling1D,
    AveragePooling2D, GlobalMaxPooling1D, GlobalMaxPooling2D, GlobalAveragePooling1D,
    GlobalAveragePooling2D, Reshape, ZeroPadding2D, UpSampling2D)})
LAYERS.update({cls.__name__: cls for cls in (  # normalization, preprocessing, Embedding, Lambda
    BatchNormalization, LayerNormalization, Normalization, Rescaling, Embedding, Lambda)})
LAYERS.update({cls.__name__: cls for cls in (  # merging (issue 12)
    Add, Subtract, Multiply, Average, Maximum, Minimum, Concatenate)})


def serialize(layer: Layer) -> dict[str, Any]:
    """The layer as a JSON-able dict in Keras's layout (plus ``build_config`` once built).

    Example:
        >>> serialize(Dense(2, name="d"))["class_name"]
        'Dense'
    """
    out = serialize_object(layer, "tinygrad_es.layers")
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
    layer = deserialize_object(config, LAYERS, "layer class")
    build = config.get("build_config") or {}
    if build.get("input_shape") is not None and not layer.built:
        layer._build_for(tuple(build["input_shape"]))
    return layer
