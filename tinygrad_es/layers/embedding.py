"""``Embedding``: integer indices in, rows of a trainable matrix out.

``Embedding(input_dim, output_dim)`` holds ``embeddings``, shaped (input_dim, output_dim); an
input of indices shaped (batch, ...) gives (batch, ..., output_dim), row i for index i. It is
indexing (the engine's ``GetItem``): the gradient of a row is the sum of the gradients of every
place its index appears (``np.add.at``), as TensorFlow's ``gather`` gradient.
"""

from __future__ import annotations

import warnings
from typing import Any

import numpy as np

from tinygrad_es import initializers, regularizers
from tinygrad_es.i18n import tr
from tinygrad_es.layers.base import Layer, Shape
from tinygrad_es.layers.convolutional import pop_unsupported
from tinygrad_es.tensor import Tensor

__all__ = ["Embedding"]


class Embedding(Layer):
    """Turn indices 0 … input_dim-1 into dense vectors of size ``output_dim``.

    Args:
        input_dim: the vocabulary size (indices go from 0 to input_dim - 1).
        output_dim: the size of each vector.
        embeddings_initializer: default ``"uniform"`` (uniform in [-0.05, 0.05], as Keras).
        embeddings_regularizer: a penalty on the matrix.
        mask_zero: accepted and saved as in Keras, but tinygrad_es does not propagate masks:
            index 0 is embedded like any other and the next layers see every position.
        weights: an initial matrix (Keras's ``weights=[matrix]``).

    The input holds integers, as an int array or as floats with integer values (models convert
    their input to floats); anything else, or an index outside [0, input_dim), is a ValueError
    naming the layer (TensorFlow's gather refuses those too).

    Example:
        >>> emb = Embedding(3, 2, embeddings_initializer="ones")
        >>> emb([[0, 2, 2]]).shape
        (1, 3, 2)
    """

    def __init__(self, input_dim: int, output_dim: int, embeddings_initializer: Any = "uniform",
                 embeddings_regularizer: Any = None, mask_zero: bool = False,
                 weights: Any = None, **kwargs: Any):
        pop_unsupported(kwargs, "Embedding", ("embeddings_constraint", "lora_rank",
                                              "quantization_config"))
        kwargs.pop("lora_alpha", None)
        for name, value in (("input_dim", input_dim), ("output_dim", output_dim)):
            if not isinstance(value, int) or isinstance(value, bool) or value <= 0:
                raise ValueError(tr("`{name}` must be a positive integer. Received: "
                                    "{name}={value} (of type {type}).", name=name, value=value,
                                    type=type(value).__name__))
        if kwargs.pop("input_length", None) is not None:
            warnings.warn(tr("Argument `input_length` is deprecated. Just remove it."),
                          stacklevel=2)
        super().__init__(**kwargs)
        self.input_dim, self.output_dim = input_dim, output_dim
        self.embeddings_initializer = initializers.get(embeddings_initializer)
        self.embeddings_regularizer = regularizers.get(embeddings_regularizer)
        self.mask_zero = bool(mask_zero)
        self.embeddings: Tensor | None = None
        # Keras's weights=[matrix] (or the matrix alone), set when the layer is built.
        self._initial = None if weights is None else (
            weights if isinstance(weights, list) and len(weights) == 1 else [weights])

    def build(self, input_shape: Shape) -> None:
        self.embeddings = self.add_weight("embeddings", (self.input_dim, self.output_dim),
                                          self.embeddings_initializer,
                                          self.embeddings_regularizer)
        if self._initial is not None:
            self.set_weights(self._initial)
            self._initial = None

    def call(self, x: Tensor) -> Tensor:
        return self.embeddings[self._indices(x.data)]  # GetItem: rows, gradient by np.add.at

    def _indices(self, values: np.ndarray) -> np.ndarray:
        if values.dtype.kind not in "iu":
            bad = ~np.isfinite(values) | (values != np.floor(values))
            if bad.any():
                raise ValueError(tr("Embedding layer '{name}' expects integer indices, received "
                                    "the value {value!r}", name=self.name,
                                    value=values[bad].flat[0].item()))
        outside = (values < 0) | (values >= self.input_dim)
        if outside.any():
            raise ValueError(tr("Embedding layer '{name}' received the index {index}, outside "
                                "[0, {input_dim}): indices must be smaller than input_dim",
                                name=self.name, index=int(values[outside].flat[0]),
                                input_dim=self.input_dim))
        return values.astype(np.intp)

    def compute_output_shape(self, input_shape: Shape) -> Shape:
        return tuple(input_shape) + (self.output_dim,)

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), "input_dim": self.input_dim,
                "output_dim": self.output_dim,
                "embeddings_initializer": initializers.serialize(self.embeddings_initializer),
                "embeddings_regularizer": regularizers.serialize(self.embeddings_regularizer),
                "activity_regularizer": regularizers.serialize(self.activity_regularizer),
                "mask_zero": self.mask_zero}
