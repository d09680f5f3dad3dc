"""Merge layers: one output from a list of inputs (``Add``, ``Subtract``, ``Multiply``,
``Average``, ``Maximum``, ``Minimum``, ``Concatenate``), and Keras's function forms
(``layers.add([a, b])``, ``layers.concatenate([a, b], axis=-1)``, ...).

The elementwise ones broadcast as numpy does (Keras checks the shapes the same way at build);
inputs of different ranks get axes of size 1 inserted after the batch axis first, as in Keras.
They have no weights, so each is only its check of the shapes and one line of Tensor ops.
"""

from __future__ import annotations

from typing import Any

from tinygrad_es.i18n import tr
from tinygrad_es.layers.base import Layer, Shape
from tinygrad_es.tensor import Tensor, concatenate as concat_tensors, maximum as max_tensors
from tinygrad_es.tensor import minimum as min_tensors

__all__ = ["Add", "Subtract", "Multiply", "Average", "Maximum", "Minimum", "Concatenate", "add",
           "subtract", "multiply", "average", "maximum", "minimum", "concatenate"]


def _is_shape_list(input_shape: Any) -> bool:
    return isinstance(input_shape, (list, tuple)) and bool(input_shape) and isinstance(
        input_shape[0], (list, tuple))


class Merge(Layer):
    """Base of the elementwise merge layers: checks the shapes, lines up the ranks, folds
    ``_merge`` over the inputs."""

    def build(self, input_shape: Any) -> None:
        if not _is_shape_list(input_shape):
            raise ValueError(tr("A merge layer should be called on a list of inputs. Received: "
                                "input_shape={input_shape} (not a list of shapes)",
                                input_shape=input_shape))
        batch_sizes = {s[0] for s in input_shape if s} - {None}
        if len(batch_sizes) > 1:
            raise ValueError(tr("Cannot merge tensors with different batch sizes. Received "
                                "tensors with shapes {input_shape}", input_shape=input_shape))
        self._output_dims(input_shape)
        self._reshape_required = len({len(s) for s in input_shape}) != 1

    def _output_dims(self, input_shape: Any) -> Shape:
        out: Shape = tuple(input_shape[0][1:])
        for shape in input_shape[1:]:
            out = _broadcast(out, tuple(shape[1:]))
        return out

    def compute_output_shape(self, input_shape: Any) -> Shape:
        if not _is_shape_list(input_shape):
            return tuple(input_shape)
        batch = next((s[0] for s in input_shape if s and s[0] is not None), None)
        return (batch,) + self._output_dims(input_shape)

    def call(self, inputs: Any) -> Tensor:
        if not isinstance(inputs, (list, tuple)):
            raise ValueError(tr("A merge layer should be called on a list of inputs. Received: "
                                "inputs={inputs} (not a list of tensors)", inputs=inputs))
        inputs = list(inputs)
        if getattr(self, "_reshape_required", False):
            rank = max(x.ndim for x in inputs)
            for i, x in enumerate(inputs):
                for _ in range(rank - x.ndim):
                    x = x.expand_dims(1)
                inputs[i] = x
        return self._merge(inputs)

    def _merge(self, inputs: list[Tensor]) -> Tensor:
        raise NotImplementedError


def _broadcast(shape1: Shape, shape2: Shape) -> Shape:
    """Keras's elementwise output shape (numpy broadcasting, None for unknown), or its error."""
    if len(shape1) < len(shape2):
        shape1, shape2 = shape2, shape1
    if not shape2:
        return shape1
    out = list(shape1[:len(shape1) - len(shape2)])
    for i, j in zip(shape1[len(shape1) - len(shape2):], shape2):
        if i is None or j is None:
            out.append(None)
        elif i == 1 or j == 1:
            out.append(j if i == 1 else i)
        elif i != j:
            raise ValueError(tr("Inputs have incompatible shapes. Received shapes {shape1} and "
                                "{shape2}", shape1=shape1, shape2=shape2))
        else:
            out.append(i)
    return tuple(out)


class Add(Merge):
    """The sum of the inputs: ``Add()([a, b, c])`` = a + b + c.

    Example:
        >>> Add()([Tensor([[1.0, 2.0]]), Tensor([[10.0, 20.0]])])
        Tensor([[11., 22.]], dtype=float32)
    """

    def _merge(self, inputs: list[Tensor]) -> Tensor:
        out = inputs[0]
        for x in inputs[1:]:
            out = out + x
        return out


class Subtract(Merge):
    """The difference of exactly two inputs: ``Subtract()([a, b])`` = a - b.

    Example:
        >>> Subtract()([Tensor([[3.0]]), Tensor([[1.0]])])
        Tensor([[2.]], dtype=float32)
    """

    def build(self, input_shape: Any) -> None:
        super().build(input_shape)
        if len(input_shape) != 2:
            raise ValueError(tr("A `Subtract` layer should be called on exactly 2 inputs. "
                                "Received: input_shape={input_shape}", input_shape=input_shape))

    def _merge(self, inputs: list[Tensor]) -> Tensor:
        if len(inputs) != 2:
            raise ValueError(tr("A `Subtract` layer should be called on exactly 2 inputs. "
                                "Received: inputs={inputs}", inputs=inputs))
        return inputs[0] - inputs[1]


class Multiply(Merge):
    """The elementwise product of the inputs.

    Example:
        >>> Multiply()([Tensor([[2.0, 3.0]]), Tensor([[4.0, 5.0]])])
        Tensor([[ 8., 15.]], dtype=float32)
    """

    def _merge(self, inputs: list[Tensor]) -> Tensor:
        out = inputs[0]
        for x in inputs[1:]:
            out = out * x
        return out


class Average(Merge):
    """The elementwise mean of the inputs: (a + b + ...) / n, summed in order as Keras.

    Example:
        >>> Average()([Tensor([[1.0]]), Tensor([[2.0]])])
        Tensor([[1.5]], dtype=float32)
    """

    def _merge(self, inputs: list[Tensor]) -> Tensor:
        out = inputs[0]
        for x in inputs[1:]:
            out = out + x
        return out / float(len(inputs))


class Maximum(Merge):
    """The elementwise maximum of the inputs.

    Example:
        >>> Maximum()([Tensor([[1.0, 5.0]]), Tensor([[2.0, 3.0]])])
        Tensor([[2., 5.]], dtype=float32)
    """

    def _merge(self, inputs: list[Tensor]) -> Tensor:
        out = inputs[0]
        for x in inputs[1:]:
            out = max_tensors(out, x)
        return out


class Minimum(Merge):
    """The elementwise minimum of the inputs.

    Example:
        >>> Minimum()([Tensor([[1.0, 5.0]]), Tensor([[2.0, 3.0]])])
        Tensor([[1., 3.]], dtype=float32)
    """

    def _merge(self, inputs: list[Tensor]) -> Tensor:
        out = inputs[0]
        for x in inputs[1:]:
            out = min_tensors(out, x)
        return out


class Concatenate(Layer):
    """The inputs joined along ``axis`` (default the last); every other axis must match.

    Example:
        >>> Concatenate()([Tensor([[1.0]]), Tensor([[2.0, 3.0]])])
        Tensor([[1., 2., 3.]], dtype=float32)
    """

    def __init__(self, axis: int = -1, **kwargs: Any):
        super().__init__(**kwargs)
        if isinstance(axis, bool) or not isinstance(axis, int):
            raise TypeError(tr("Concatenate: `axis` must be an integer, received {axis!r}",
                               axis=axis))
        self.axis = axis

    def build(self, input_shape: Any) -> None:
        if not _is_shape_list(input_shape):
            raise ValueError(tr("A `Concatenate` layer should be called on a list of at least 1 "
                                "input. Received: input_shape={input_shape}",
                                input_shape=input_shape))
        ranks = {len(s) for s in input_shape}
        error = tr("A `Concatenate` layer requires inputs with matching shapes except for the "
                   "concatenation axis. Received: input_shape={input_shape}",
                   input_shape=input_shape)
        if len(ranks) != 1:
            raise ValueError(error)
        rank = ranks.pop()
        axis = self.axis % rank
        for i in range(rank):
            dims = {s[i] for s in input_shape if s[i] is not None}
            if i != axis and len(dims) > 1:
                raise ValueError(error)

    def compute_output_shape(self, input_shape: Any) -> Shape:
        if not _is_shape_list(input_shape):
            raise ValueError(tr("A `Concatenate` layer should be called on a list of inputs. "
                                "Received: input_shape={input_shape}", input_shape=input_shape))
        out = list(input_shape[0])
        for shape in input_shape[1:]:
            if out[self.axis] is None or shape[self.axis] is None:
                out[self.axis] = None
                break
            out[self.axis] += shape[self.axis]
        return tuple(out)

    def call(self, inputs: Any) -> Tensor:
        if not isinstance(inputs, (list, tuple)):
            raise ValueError(tr("`inputs` should be a list. Received: inputs={inputs}",
                                inputs=inputs))
        return concat_tensors(list(inputs), axis=self.axis)

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), "axis": self.axis}


# ----- Keras's function forms: the layer made and called at once -----

def add(inputs: list, **kwargs: Any) -> Any:
    """``Add(**kwargs)(inputs)``."""
    return Add(**kwargs)(inputs)


def subtract(inputs: list, **kwargs: Any) -> Any:
    """``Subtract(**kwargs)(inputs)``."""
    return Subtract(**kwargs)(inputs)


def multiply(inputs: list, **kwargs: Any) -> Any:
    """``Multiply(**kwargs)(inputs)``."""
    return Multiply(**kwargs)(inputs)


def average(inputs: list, **kwargs: Any) -> Any:
    """``Average(**kwargs)(inputs)``."""
    return Average(**kwargs)(inputs)


def maximum(inputs: list, **kwargs: Any) -> Any:
    """``Maximum(**kwargs)(inputs)``."""
    return Maximum(**kwargs)(inputs)


def minimum(inputs: list, **kwargs: Any) -> Any:
    """``Minimum(**kwargs)(inputs)``."""
    return Minimum(**kwargs)(inputs)


def concatenate(inputs: list, axis: int = -1, **kwargs: Any) -> Any:
    """``Concatenate(axis=axis, **kwargs)(inputs)``.

    Example:
        >>> concatenate([Tensor([[1.0]]), Tensor([[2.0]])])
        Tensor([[1., 2.]], dtype=float32)
    """
    return Concatenate(axis=axis, **kwargs)(inputs)
