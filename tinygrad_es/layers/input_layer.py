"""``Input(shape)`` / ``InputLayer``: the input of a model.

``Input`` returns the symbolic tensor (a ``KerasTensor``) that a functional model starts from;
``InputLayer`` is the layer that made it, which a Sequential model also accepts as its first
layer (Keras 3 takes both).
"""

from __future__ import annotations

import warnings
from typing import Any, Sequence

from tinygrad_es.layers.base import Layer, Shape, standardize_shape
from tinygrad_es.i18n import tr

__all__ = ["InputLayer", "Input"]


class InputLayer(Layer):
    """Declares the input of a model (listed in a functional model's ``layers``, not in a
    Sequential's, as Keras does).

    Args:
        shape: shape of one sample, e.g. ``(4,)``.
        batch_size: optional fixed batch size.
        dtype: input dtype (default floatx).
        batch_shape: the full shape including the batch axis, instead of ``shape``.
        name: default ``"input_layer"`` with Keras's counter.

    Example:
        >>> InputLayer(shape=(4,)).batch_shape
        (None, 4)
    """

    def __init__(self, shape: Sequence[int] | None = None, batch_size: int | None = None,
                 dtype: Any = None, batch_shape: Sequence[int | None] | None = None,
                 name: str | None = None, **kwargs: Any):
        for key in ("sparse", "ragged", "optional"):  # Keras config keys; only False is meaningful
            if kwargs.pop(key, False):
                raise ValueError(tr("InputLayer: {key}=True is not supported by tinygrad_es",
                                    key=key))
        kwargs.pop("input_tensor", None)
        if "input_shape" in kwargs:  # Keras 2's name: Keras 3 still takes it, with this warning
            warnings.warn(tr("Argument `input_shape` is deprecated. Use `shape` instead."),
                          stacklevel=2)
            shape = kwargs.pop("input_shape")
        super().__init__(name=name, dtype=dtype, **kwargs)
        if shape is not None and batch_shape is not None:
            raise ValueError(tr("InputLayer accepts `shape` or `batch_shape`, not both. "
                                "Received: shape={shape}, batch_shape={batch_shape}", shape=shape,
                                batch_shape=batch_shape))
        if batch_shape is not None:
            batch_shape = tuple(batch_shape)
            if not batch_shape:
                raise ValueError(tr("InputLayer batch_shape needs at least the batch axis"))
            dims = standardize_shape(batch_shape[1:], "InputLayer batch_shape[1:]",
                                     allow_none=True)
            self.batch_shape: Shape = (batch_shape[0],) + dims
        elif shape is not None:
            self.batch_shape = (batch_size,) + standardize_shape(shape, "Input shape",
                                                                 allow_none=True)
        else:
            raise ValueError(tr("You must pass a `shape` argument to Input/InputLayer, e.g. "
                                "Input(shape=(4,))."))
        self.built = True
        self._build_shape = self._output_shape = self.batch_shape
        from tinygrad_es.models.symbolic import KerasTensor, Node

        # Keras's design: the layer's one node has no inputs and outputs the symbolic tensor.
        Node(self, (), {}, KerasTensor(self.batch_shape, self.dtype, name=self.name))

    @property
    def shape(self) -> Shape:
        """Same as ``batch_shape`` (what ``keras.Input(...).shape`` shows)."""
        return self.batch_shape

    def get_config(self) -> dict[str, Any]:
        return {"batch_shape": list(self.batch_shape), "dtype": self.dtype, "name": self.name}

    @classmethod
    def from_config(cls, config: dict[str, Any]) -> InputLayer:
        config = dict(config)
        config.pop("trainable", None)
        return cls(**config)


def Input(shape: Sequence[int] | None = None, batch_size: int | None = None, dtype: Any = None,
          name: str | None = None, batch_shape: Sequence[int | None] | None = None) -> Any:
    """The symbolic input of a model: ``x = Input((4,)); model = Model(x, Dense(3)(x))``, or the
    first entry of ``Sequential([Input((4,)), Dense(3)])``.

    Returns the ``KerasTensor`` of a new ``InputLayer`` (shape with a None batch axis, dtype,
    name), as Keras does.

    Example:
        >>> Input((4,)).shape
        (None, 4)
    """
    layer = InputLayer(shape=shape, batch_size=batch_size, dtype=dtype, batch_shape=batch_shape,
                       name=name)
    return layer.output

