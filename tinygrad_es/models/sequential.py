"""``Sequential``: a stack of layers, each feeding the next; a ``Model`` (models/model.py holds
weights, saving and summary; ``Trainer`` the training).

# NOTE: Keras builds a functional graph inside Sequential; here the stack runs directly (one
# loop over the layers, the cheapest forward on the hot path). When the input is known (an
# ``Input`` first), the same layers are also called once on the KerasTensor, so that
# ``model.inputs``/``outputs`` and each ``layer.output`` exist for feature extraction, as in Keras.

The model is built when its input shape is known: from ``Input((4,))`` as first layer, from
``input_dim``/``input_shape`` on the first layer, from ``build((None, 4))``, or from the first data
it sees. ``model(x)`` returns a Tensor with its graph; ``weights``/``get_weights()`` are in Keras's
order [W1, b1, W2, b2, ...] with Keras's shapes, so a list from a Keras model loads unchanged.
"""

from __future__ import annotations

from typing import Any, Callable, Sequence

import numpy as np

from tinygrad_es import layers as layers_module
from tinygrad_es.layers.base import (Layer, assign_weights, standardize_dtype, to_snake_case,
                                     unique_name)
from tinygrad_es.i18n import tr
from tinygrad_es.layers import base
from tinygrad_es.layers.input_layer import InputLayer
from tinygrad_es.models.model import Model
from tinygrad_es.models.symbolic import (KerasTensor, adjust_input_rank, call_symbolic,
                                         is_symbolic)
from tinygrad_es.tensor import Tensor

__all__ = ["Sequential"]

Shape = tuple[int | None, ...]


class Sequential(Model):
    """A linear stack of layers.

    Args:
        layers: the layers, in order (an ``Input``/``InputLayer`` first fixes the input shape).
        trainable: False freezes every layer.
        name: default ``sequential``, ``sequential_1``, ...

    Example:
        >>> from tinygrad_es.layers import Dense
        >>> model = Sequential([Dense(3, input_dim=1, activation="sigmoid"), Dense(1)])
        >>> model.output_shape, model.count_params()
        ((None, 1), 10)
    """

    _own_build = True  # build() records the shapes itself

    def __init__(self, layers: Sequence[Layer] | None = None, trainable: bool = True,
                 name: str | None = None, dtype: Any = None):
        if name is None:
            name = unique_name(to_snake_case(type(self).__name__))
        elif not isinstance(name, str) or not name or "/" in name:
            raise ValueError(f"Argument `name` must be a non-empty string without `/`. "
                             f"Received: name={name!r}")
        Model.__init__(self, name=name, dtype=dtype)
        self._layers: list[Layer] = []   # InputLayer included, if any
        self._stack: list[Layer] = []    # the layers that compute (InputLayer excluded)
        self.built = False
        self._input_shape: Shape | None = None
        self._output_shape: Shape | None = None
        self._trainable = bool(trainable)
        if layers is not None:
            if isinstance(layers, Layer) or not isinstance(layers, (list, tuple)):
                raise ValueError(f"Sequential expects a list of layers, received {layers!r}")
            for layer in layers:
                self.add(layer)
        if not trainable:
            self.trainable = False

    # ----- building the stack -----

    def add(self, layer: Layer) -> None:
        """Append a layer; if the input shape is known, the new layer is built at once.

        Example:
            >>> from tinygrad_es.layers import Dense
            >>> model = Sequential(); model.add(Dense(3, input_dim=1)); model.built
            True
        """
        if isinstance(layer, KerasTensor) and isinstance(layer._keras_history.operation,
                                                         InputLayer):
            layer = layer._keras_history.operation  # Sequential([keras.Input((4,)), ...])
        if not isinstance(layer, Layer):
            raise ValueError("Only instances of `tinygrad_es.layers.Layer` can be added to a "
                             f"Sequential model. Received: {layer!r} (of type {type(layer)})")
        if (not self._layers and not isinstance(layer, InputLayer)
                and layer._batch_input_shape is not None):
            self.add(InputLayer(batch_shape=layer._batch_input_shape, dtype=layer.dtype))
        if any(existing.name == layer.name for existing in self._layers):
            raise ValueError("All layers added to a Sequential model should have unique names. "
                             f"Name '{layer.name}' is already the name of a layer in this model. "
                             "Update the `name` argument to pass a unique name.")
        if isinstance(layer, InputLayer):
            if self._layers:
                where = ("has already been configured to use input shape "
                         f"{self._layers[0].batch_shape}" if isinstance(self._layers[0], InputLayer)
                         else "already has layers")
                raise ValueError(f"Sequential model '{self.name}' {where}. An Input layer can "
                                 "only be the first layer.")
            self._layers.append(layer)
            self._build_from(layer.batch_shape)
            return
        self._layers.append(layer)
        self._stack.append(layer)
        base.weights_may_have_changed()
        if not self._trainable:
            layer.trainable = False
        if self.built:
            self._output_shape = layer._build_for(self._output_shape)

    def pop(self) -> Layer:
        """Remove and return the last layer (not the InputLayer).

        Example:
            >>> from tinygrad_es.layers import Dense
            >>> Sequential([Dense(1, name="only")]).pop().name
            'only'
        """
        if not self._stack:
            raise TypeError(f"There are no layers in the model '{self.name}'.")
        layer = self._stack.pop()
        self._layers.remove(layer)
        base.weights_may_have_changed()
        if self.built:
            self._output_shape = self._stack[-1].output_shape if self._stack else self._input_shape
        return layer

    def build(self, input_shape: Sequence[int | None] | None = None) -> None:
        """Build every layer for inputs of ``input_shape`` (batch axis first: ``(None, 4)``).

        Example:
            >>> from tinygrad_es.layers import Dense
            >>> model = Sequential([Dense(2)]); model.build((None, 4)); model.count_params()
            10
        """
        if input_shape is None:
            if self._input_shape is None:
                raise ValueError(f"You must provide an `input_shape` argument to build model "
                                 f"'{self.name}', e.g. model.build((None, 4)).")
            input_shape = self._input_shape
        shape = tuple(input_shape)
        if len(shape) < 2 and not (shape and shape[0] is None):
            raise ValueError(f"Sequential.build expects the batch shape, e.g. (None, 4); "
                             f"received {input_shape!r}")
        self._build_from((None,) + shape[1:])

    def _build_from(self, input_shape: Shape) -> None:
        if self.built and tuple(input_shape) != self._input_shape:
            raise ValueError(f"Sequential model '{self.name}' is already built for input shape "
                             f"{self._input_shape}; received {tuple(input_shape)}")
        shape = tuple(input_shape)
        self._input_shape = shape
        for layer in self._stack:
            shape = layer._build_for(shape)
        self._output_shape = shape
        self.built = True

    # ----- forward -----

    def __call__(self, x: Any, training: bool = False, mask: Any = None) -> Tensor:
        """Run the layers on x (ndarray or Tensor) and return the output Tensor with its graph."""
        if not isinstance(x, Tensor) and is_symbolic(x):
            return call_symbolic(self, x)  # this model as one node of a functional model
        if base.CALL_LOSSES_USED[0] and not base.CALL_DEPTH[0]:
            return self._outermost_call(x, training, mask)
        if not isinstance(x, Tensor) or x.data.dtype.kind != "f":
            x = self._convert_input(x)
        if not self.built:
            if not self._stack:
                raise ValueError(f"Sequential model '{self.name}' has no layers to call.")
            self._build_from((None,) + x.data.shape[1:])
        elif x.data.ndim != len(self._input_shape):
            x = adjust_input_rank(x, self._input_shape)
        for layer in self._stack:
            x = layer(x, training)
        return x

    def call(self, x: Tensor, training: bool = False) -> Tensor:
        """Same as ``model(x, training)``."""
        return self(x, training)

    def _convert_input(self, x: Any) -> Tensor:
        dtype = self._stack[0].dtype if self._stack else self.dtype
        if isinstance(x, Tensor):
            return Tensor.from_numpy(x.data.astype(dtype))
        try:
            return Tensor.from_numpy(np.asarray(x, dtype=dtype))
        except (TypeError, ValueError) as err:
            raise ValueError(f"Sequential model '{self.name}' expects numeric input, received "
                             f"{type(x).__name__}: {err}") from None

    # ----- layers (weights, get_layer, saving, summary: models/model.py) -----

    def _sublayers(self) -> list[Layer]:
        """The layers in order, without the InputLayer (as Keras's ``layers``)."""
        return list(self._stack)

    @property
    def inputs(self) -> list[KerasTensor]:
        """The input KerasTensor, when the model starts with an ``Input`` (as Keras)."""
        return [self._wire()[0]]

    @property
    def outputs(self) -> list[KerasTensor]:
        """The symbolic output of the last layer, when the model starts with an ``Input``."""
        return [self._wire()[-1]]

    def _wire(self) -> list[KerasTensor]:
        """Call the stack once on the Input's KerasTensor (each layer's ``output`` then exists,
        for feature extraction); the symbolic tensors from the input to the last output."""
        if not self._layers or not isinstance(self._layers[0], InputLayer):
            raise AttributeError(tr("Sequential model '{name}' has no defined inputs: start it "
                                    "with keras.Input(shape)", name=self.name))
        tensors = [self._layers[0].output]
        for layer in self._stack:
            node = next((n for n in layer._inbound_nodes
                         if n.input_tensors and n.input_tensors[0] is tensors[-1]), None)
            tensors.append(node.output_tensors[0] if node else layer(tensors[-1]))
        return tensors

    @property
    def input_shape(self) -> Shape | None:
        """``(None, n_features)`` once the input shape is known, else None."""
        return self._input_shape

    @property
    def output_shape(self) -> Shape | None:
        """``(None, units of the last layer)`` once built, else None."""
        return self._output_shape if self.built else None

    # ----- config, summary, saving -----

    def get_config(self) -> dict[str, Any]:
        """Name, dtype, the serialized layers (InputLayer included) and the build input shape."""
        out: dict[str, Any] = {"name": self.name, "trainable": self.trainable, "dtype": self.dtype,
                               "layers": [layers_module.serialize(layer) for layer in self._layers]}
        if self.built:
            out["build_input_shape"] = list(self._input_shape)
        return out

    @classmethod
    def from_config(cls, config: dict[str, Any]) -> Sequential:
        """A new model from ``get_config()`` (or from a Keras Sequential's config)."""
        from tinygrad_es.models import MODEL_CLASSES

        model = cls(name=config.get("name"), dtype=config.get("dtype"))
        for layer_config in config.get("layers", []):
            inner = MODEL_CLASSES.get(layer_config.get("class_name"))  # a model used as a layer
            model.add(inner.from_config(layer_config["config"]) if inner is not None
                      else layers_module.deserialize(layer_config))
        shape = config.get("build_input_shape")
        if shape is not None and not model.built and model._stack:
            model.build(tuple(shape))
        if config.get("trainable") is False:
            model.trainable = False
        return model

    def __repr__(self) -> str:
        return f"<Sequential name={self.name}, built={self.built}>"

