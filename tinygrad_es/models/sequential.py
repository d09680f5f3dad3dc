"""``Sequential``: a stack of layers, each feeding the next; training comes from ``Trainer``.

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
from tinygrad_es.layers.input_layer import InputLayer
from tinygrad_es.models import saving
from tinygrad_es.models.training import Trainer
from tinygrad_es.tensor import Tensor

__all__ = ["Sequential"]

Shape = tuple[int | None, ...]


class Sequential(Trainer):
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

    def __init__(self, layers: Sequence[Layer] | None = None, trainable: bool = True,
                 name: str | None = None, dtype: Any = None):
        super().__init__()
        if name is None:
            name = unique_name(to_snake_case(type(self).__name__))
        elif not isinstance(name, str) or not name or "/" in name:
            raise ValueError(f"Argument `name` must be a non-empty string without `/`. "
                             f"Received: name={name!r}")
        self.name = name
        self.dtype = standardize_dtype(dtype)
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

    def __call__(self, x: Any, training: bool = False) -> Tensor:
        """Run the layers on x (ndarray or Tensor) and return the output Tensor with its graph."""
        if not isinstance(x, Tensor) or x.data.dtype.kind != "f":
            x = self._convert_input(x)
        if not self.built:
            if not self._stack:
                raise ValueError(f"Sequential model '{self.name}' has no layers to call.")
            self._build_from((None,) + x.data.shape[1:])
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

    # ----- layers and weights -----

    @property
    def layers(self) -> list[Layer]:
        """The layers in order, without the InputLayer (as Keras)."""
        return list(self._stack)

    def get_layer(self, name: str | None = None, index: int | None = None) -> Layer:
        """A layer by name or by index in ``layers``.

        Example:
            >>> from tinygrad_es.layers import Dense
            >>> Sequential([Dense(1, name="out")]).get_layer("out").units
            1
        """
        if index is not None:
            return self._stack[index]
        for layer in self._stack:
            if layer.name == name:
                return layer
        raise ValueError(f"No such layer: {name!r}. Existing layers are: "
                         f"{[layer.name for layer in self._stack]}.")

    @property
    def trainable(self) -> bool:
        return self._trainable

    @trainable.setter
    def trainable(self, value: bool) -> None:
        self._trainable = bool(value)
        for layer in self._stack:
            layer.trainable = value

    @property
    def weights(self) -> list[Tensor]:
        """All weights in Keras's order: layer by layer, each layer's kernel then bias."""
        return [w for layer in self._stack for w in layer.weights]

    @property
    def trainable_weights(self) -> list[Tensor]:
        return [w for layer in self._stack for w in layer.trainable_weights]

    @property
    def non_trainable_weights(self) -> list[Tensor]:
        return [w for layer in self._stack for w in layer.non_trainable_weights]

    @property
    def losses(self) -> list[Tensor]:
        """Every layer's regularization penalties (scalar Tensors with graph)."""
        return [loss for layer in self._stack for loss in layer.losses]

    def get_weights(self) -> list[np.ndarray]:
        """Copies of all weights, Keras's order and shapes ([W1, b1, W2, b2, ...]).

        Example:
            >>> from tinygrad_es.layers import Dense
            >>> [w.shape for w in Sequential([Dense(3, input_dim=1), Dense(1)]).get_weights()]
            [(1, 3), (3,), (3, 1), (1,)]
        """
        return [w.data.copy() for w in self.weights]

    def set_weights(self, weights: Sequence[Any]) -> None:
        """Load a list like ``get_weights()`` (or a Keras model's); checks everything first.

        Example:
            >>> from tinygrad_es.layers import Dense
            >>> model = Sequential([Dense(1, input_dim=2)])
            >>> model.set_weights([np.ones((2, 1)), np.zeros(1)]); model(np.ones((1, 2)))
            Tensor([[2.]], dtype=float32, requires_grad=True, op=Linear)
        """
        if not self.built:
            raise ValueError(f"Sequential model '{self.name}' is not built yet, so it has no "
                             "weights to set: give it an Input, call it on data or call "
                             "model.build((None, n_features)) first.")
        owners = [layer for layer in self._stack for _ in layer.weights]
        assign_weights(self.weights, weights, f"model '{self.name}'", lambda i: owners[i])

    def count_params(self) -> int:
        """Number of scalars in all weights (the model must be built)."""
        if not self.built:
            raise ValueError(f"You tried to call `count_params` on model '{self.name}', but the "
                             "model isn't built. You can build it manually via: "
                             "`model.build(input_shape)`.")
        return int(sum(w.data.size for w in self.weights))

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
        model = cls(name=config.get("name"), dtype=config.get("dtype"))
        for layer_config in config.get("layers", []):
            model.add(layers_module.deserialize(layer_config))
        shape = config.get("build_input_shape")
        if shape is not None and not model.built and model._stack:
            model.build(tuple(shape))
        if config.get("trainable") is False:
            model.trainable = False
        return model

    def summary(self, line_length: int | None = None, positions: Sequence[float] | None = None,
                print_fn: Callable[[str], Any] | None = None) -> None:
        """Print the table Keras prints (76 columns on an 80-column terminal).

        ``print_fn(text)`` receives the whole text at once, as in Keras.
        """
        from tinygrad_es.models.summary import summary_text

        text = summary_text(self, line_length, positions)
        if print_fn is None:
            print(text, end="")
        else:
            print_fn(text)

    def save(self, filepath: str) -> None:
        """Save architecture, weights, compile config and optimizer state (see models.saving)."""
        saving.save_model(self, filepath)

    def save_weights(self, filepath: str) -> None:
        """Save the weights (and optimizer state) only (see models.saving)."""
        saving.save_weights(self, filepath)

    def load_weights(self, filepath: str) -> None:
        """Load weights saved by ``save_weights`` or ``save`` into this (same-shaped) model."""
        saving.load_weights(self, filepath)

    def to_keras(self) -> Any:
        """A live ``keras.Model`` with the same layers and weights (see models.keras_format)."""
        from tinygrad_es.models.keras_format import to_keras
        return to_keras(self)

    def __repr__(self) -> str:
        return f"<Sequential name={self.name}, built={self.built}>"
