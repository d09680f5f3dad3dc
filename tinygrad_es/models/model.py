"""``Model``: a layer that trains. What every model shares lives here, in one place.

As in Keras, ``Model`` is a ``Layer`` (so a model can be called inside another model, or be an
entry of ``Sequential``) and a ``Trainer`` (compile / fit / evaluate / predict). Three kinds:

- ``keras.Model(inputs, outputs)`` returns a ``Functional`` model (models/functional.py);
- ``class MyModel(keras.Model)`` with layers made in ``__init__`` and a ``call(inputs)`` is a
  subclassed model: the layers assigned to its attributes (alone, or in lists, tuples, dicts) are
  tracked, in assignment order (``Layer.__setattr__``, as for any layer), and it is built on its
  first call;
- ``Sequential`` (models/sequential.py).

Weights come in Keras's order: the model's own (``add_weight``), then each layer's, layer by
layer, each weight once.
"""

from __future__ import annotations

from typing import Any, Callable, Sequence

import numpy as np

from tinygrad_es.autograd import no_grad
from tinygrad_es.i18n import tr
from tinygrad_es.layers import base
from tinygrad_es.layers.base import Layer
from tinygrad_es.models import saving
from tinygrad_es.models.symbolic import call_symbolic, flatten, is_symbolic, map_structure
from tinygrad_es.models.training import Trainer
from tinygrad_es.tensor import Tensor

__all__ = ["Model"]

Shape = tuple[int | None, ...]


def _functional_arguments(args: tuple, kwargs: dict) -> bool:
    """Keras's rule: ``Model(inputs, outputs)`` in any mix of positional and keyword."""
    return (len(args) == 2 or (len(args) == 1 and "outputs" in kwargs)
            or ("inputs" in kwargs and "outputs" in kwargs))


class Model(Trainer, Layer):
    """A model: ``Model(inputs, outputs)`` (functional) or a subclass with ``call``.

    Args:
        inputs, outputs: the symbolic tensors of a functional model (see ``Functional``).
        name: default the snake_case class name with Keras's counter (``functional``,
            ``my_model``, ...).
        trainable: False freezes every layer.

    Example:
        >>> from tinygrad_es import layers
        >>> class TwoLayers(Model):
        ...     def __init__(self):
        ...         super().__init__()
        ...         self.hidden = layers.Dense(3, activation="relu")
        ...         self.out = layers.Dense(1)
        ...     def call(self, inputs):
        ...         return self.out(self.hidden(inputs))
        >>> model = TwoLayers(); _ = model(np.ones((2, 4))); model.count_params()
        19
    """

    _own_build = True  # Model.build records its shapes itself (Layer's build wrapper is not used)

    def __new__(cls, *args: Any, **kwargs: Any) -> Model:
        if cls is Model and _functional_arguments(args, kwargs):
            from tinygrad_es.models.functional import Functional

            return object.__new__(Functional)  # Python then runs Functional.__init__
        return object.__new__(cls)

    def __init__(self, *args: Any, name: str | None = None, trainable: bool = True,
                 dtype: Any = None, **kwargs: Any):
        if args or kwargs:
            raise TypeError(tr("Model.__init__ takes inputs and outputs (a functional model), or "
                               "only name/trainable/dtype (a subclassed model). Received "
                               "args={args}, kwargs={kwargs}", args=args, kwargs=kwargs))
        Trainer.__init__(self)
        Layer.__init__(self, name=name, trainable=trainable, dtype=dtype)

    # ----- calling -----

    def __call__(self, inputs: Any, training: bool = False, mask: Any = None) -> Any:
        """Run the model on arrays or Tensors (Tensors out, with their graph), or record it as one
        node of a bigger functional model when called on KerasTensors."""
        if not isinstance(inputs, Tensor) and is_symbolic(inputs):
            return call_symbolic(self, inputs)
        if base.CALL_LOSSES_USED[0] and not base.CALL_DEPTH[0]:
            return self._outermost_call(inputs, training, mask)
        inputs = self._convert_inputs(inputs)
        if not self.built and type(self).build is not Model.build:  # a subclass's own build
            self.build(map_structure(lambda t: (None,) + t.data.shape[1:], inputs))
        outputs = (self.call(inputs, training=training) if self._call_takes_training
                   else self.call(inputs))
        if self._output_shape is None:  # a subclassed model is built by its first call (Keras)
            self._mark_model_built(map_structure(lambda t: (None,) + t.data.shape[1:], inputs),
                                   outputs)
        return outputs

    def call(self, inputs: Any, training: bool = False) -> Any:
        """The forward pass; a subclass defines it with its layers."""
        raise NotImplementedError(tr("Model {name!r} has no call(): a subclass of Model must "
                                     "define call(self, inputs, training=False)", name=self.name))

    def build(self, input_shape: Any) -> None:
        """Build a subclassed model by calling it once on zeros of ``input_shape`` (the batch
        axis as 1), so that every layer makes its weights, as Keras does."""
        if self.built:
            return
        shapes = base._as_shape(input_shape)
        zeros = _zeros_for(shapes)
        with no_grad():
            outputs = self(zeros, training=False)
        self._mark_model_built(shapes, outputs)

    def _mark_model_built(self, input_shape: Any, outputs: Any) -> None:
        self.built = True
        self._build_shape = input_shape
        self._output_shape = map_structure(lambda t: (None,) + tuple(t.shape[1:]), outputs)

    def _convert_inputs(self, inputs: Any) -> Any:
        def convert(x: Any) -> Tensor:
            if isinstance(x, Tensor):
                if x.requires_grad or x.data.dtype.kind == "f":
                    return x
                x = x.data
            try:
                return Tensor.from_numpy(np.asarray(x, dtype=self._np_dtype))
            except (TypeError, ValueError) as err:
                raise ValueError(tr("Model '{name}' expects numeric input, received {cls}: {err}",
                                    name=self.name, cls=type(x).__name__, err=err)) from None

        if isinstance(inputs, dict) or (isinstance(inputs, (list, tuple)) and inputs and
                                        isinstance(inputs[0], (Tensor, np.ndarray))):
            return map_structure(convert, inputs)
        return convert(inputs)

    # ----- layers -----

    @property
    def layers(self) -> list[Layer]:
        """The layers of the model, in Keras's order."""
        return self._sublayers()

    def get_layer(self, name: str | None = None, index: int | None = None) -> Layer:
        """A layer by name or by index in ``layers`` (Keras's errors).

        Example:
            >>> from tinygrad_es.layers import Dense, Input
            >>> x = Input((2,)); model = Model(x, Dense(1, name="out")(x))
            >>> model.get_layer("out").units, model.get_layer(index=0).name == x.name
            (1, True)
        """
        layers = self.layers
        if index is not None and name is not None:
            raise ValueError(tr("Provide only a layer name or a layer index. Received: "
                                "index={index}, name={name}.", index=index, name=name))
        if index is not None:
            if not -len(layers) <= index < len(layers):
                raise ValueError(tr("Was asked to retrieve layer at index {index} but model only "
                                    "has {n} layers.", index=index, n=len(layers)))
            return layers[index]
        if name is None:
            raise ValueError(tr("Provide either a layer name or layer index at `get_layer`."))
        for layer in layers:
            if layer.name == name:
                return layer
        raise ValueError(tr("No such layer: {name}. Existing layers are: {names}.", name=name,
                            names=[layer.name for layer in layers]))

    # ----- weights (aggregated by Layer: the model's own, then layer by layer) -----

    def get_weights(self) -> list[np.ndarray]:
        """Copies of all weights, Keras's order and shapes ([W1, b1, W2, b2, ...])."""
        return [w.data.copy() for w in self.weights]

    def set_weights(self, weights: Sequence[Any]) -> None:
        """Load a list like ``get_weights()`` (or a Keras model's); checks everything first."""
        if not self.built:
            raise ValueError(tr("Model '{name}' is not built yet, so it has no weights to set: "
                                "call it on data or call model.build(input_shape) first.",
                                name=self.name))
        Layer.set_weights(self, weights)

    def count_params(self) -> int:
        """Number of scalars in all weights (the model must be built)."""
        if not self.built:
            raise ValueError(tr("You tried to call `count_params` on model '{name}', but the "
                                "model isn't built. You can build it manually via: "
                                "`model.build(input_shape)`.", name=self.name))
        return Layer.count_params(self)

    @property
    def input_shape(self) -> Any:
        return self._build_shape if self.built else None

    @property
    def output_shape(self) -> Any:
        return self._output_shape if self.built else None

    @classmethod
    def from_config(cls, config: dict[str, Any]) -> Model:
        """A functional config (``layers``, ``input_layers``, ...) gives a ``Functional``, as in
        Keras; a subclass's config goes to its constructor."""
        if cls is Model and "input_layers" in config:
            from tinygrad_es.models.functional import Functional

            return Functional.from_config(config)
        return cls(**config)

    # ----- summary, saving -----

    def summary(self, line_length: int | None = None, positions: Sequence[float] | None = None,
                print_fn: Callable[[str], Any] | None = None) -> None:
        """Print the table Keras prints; ``print_fn(text)`` receives the whole text at once."""
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
        """A live ``keras.Model`` with the same layers, weights and compile config (see
        models.keras_format); imports Keras."""
        from tinygrad_es.models.keras_format import to_keras

        return to_keras(self)

    def __repr__(self) -> str:
        return f"<{type(self).__name__} name={self.name}, built={self.built}>"


def _zeros_for(shapes: Any) -> Any:
    """Zeros for a shape (None as 1), or for each shape of a list/dict of shapes."""
    if isinstance(shapes, dict):
        return {k: _zeros_for(v) for k, v in shapes.items()}
    if isinstance(shapes, list):
        return [_zeros_for(s) for s in shapes]
    return np.zeros(tuple(1 if d is None else d for d in shapes))
