"""Symbolic tensors: what ``keras.Input`` returns and what a layer called on one returns.

A ``KerasTensor`` has a shape (batch axis None), a dtype and a name, but no values. Calling a layer
on one records a :class:`Node` — the layer, the symbolic inputs it received, the symbolic outputs
it gave — and returns new KerasTensors whose ``_keras_history`` says where they came from:
``(operation, node_index, tensor_index)``, as in Keras. ``Functional`` walks that history back
from the outputs to the inputs and replays it on engine Tensors.

The engine never sees a KerasTensor: a layer's symbolic call only builds the layer and infers the
output shape (from ``compute_output_shape``, or by running the built layer once on zeros with
the batch axis as 1). Arithmetic on KerasTensors (``x + y``, ``x * 2``, ``-x``, ``x[:, :2]``) is
recorded as an :class:`Operation` node and computed with Tensor methods when the model runs.

Example:
    >>> from tinygrad_es.layers import Dense, Input
    >>> x = Input((4,), name="x"); y = Dense(3, name="d")(x)
    >>> y.shape, y._keras_history.operation.name
    ((None, 3), 'd')
"""

from __future__ import annotations

from typing import Any, Callable, NamedTuple

import numpy as np

from tinygrad_es.i18n import tr
from tinygrad_es.tensor import Tensor
from tinygrad_es.utils import naming

__all__ = ["KerasTensor", "KerasHistory", "Node", "Operation", "flatten", "map_structure",
           "is_symbolic", "call_symbolic"]


class KerasHistory(NamedTuple):
    """Where a KerasTensor came from: ``operation._inbound_nodes[node_index]``'s output
    number ``tensor_index``."""
    operation: Any
    node_index: int
    tensor_index: int


class KerasTensor:
    """A placeholder for the values a model will receive: shape, dtype, name, history.

    Example:
        >>> KerasTensor((None, 4), "float32", name="x")
        <KerasTensor shape=(None, 4), dtype=float32, name=x>
    """

    def __init__(self, shape: Any, dtype: str = "float32", name: str | None = None):
        self.shape = tuple(None if d is None else int(d) for d in shape)
        self.dtype = str(dtype)
        self.name = name or naming.auto_name("KerasTensor")
        self._keras_history: KerasHistory | None = None

    @property
    def ndim(self) -> int:
        return len(self.shape)

    def __repr__(self) -> str:
        return f"<KerasTensor shape={self.shape}, dtype={self.dtype}, name={self.name}>"

    def __array__(self, *args: Any, **kwargs: Any):
        raise TypeError(tr("A KerasTensor is symbolic: it holds no values until the model runs. "
                           "You are likely passing it to numpy or to a function that needs "
                           "data ({name})", name=self.name))

    def __bool__(self) -> bool:
        raise TypeError(tr("A KerasTensor is symbolic and has no truth value ({name})",
                           name=self.name))

    __hash__ = object.__hash__

    # ----- arithmetic: each one an Operation node -----
    def __add__(self, other): return Operation("Add")(self, other)
    def __radd__(self, other): return Operation("Add")(other, self)
    def __sub__(self, other): return Operation("Subtract")(self, other)
    def __rsub__(self, other): return Operation("Subtract")(other, self)
    def __mul__(self, other): return Operation("Multiply")(self, other)
    def __rmul__(self, other): return Operation("Multiply")(other, self)
    def __truediv__(self, other): return Operation("TrueDivide")(self, other)
    def __rtruediv__(self, other): return Operation("TrueDivide")(other, self)
    def __matmul__(self, other): return Operation("Matmul")(self, other)
    def __rmatmul__(self, other): return Operation("Matmul")(other, self)
    def __neg__(self): return Operation("Negative")(self)
    def __getitem__(self, key): return Operation("GetItem")(self, key)


class Node:
    """One call of an operation on symbolic inputs: ``args``/``kwargs`` as given (KerasTensors
    inside), ``outputs`` the KerasTensors it returned (a structure)."""

    def __init__(self, operation: Any, args: tuple, kwargs: dict, outputs: Any):
        self.operation = operation
        self.args, self.kwargs = args, kwargs
        self.outputs = outputs
        self.input_tensors = [t for t in flatten((args, kwargs)) if isinstance(t, KerasTensor)]
        self.output_tensors = flatten(outputs)
        self.is_input = not self.input_tensors
        index = len(operation._inbound_nodes)
        operation._inbound_nodes.append(self)
        for i, t in enumerate(self.output_tensors):
            t._keras_history = KerasHistory(operation, index, i)

    @property
    def parent_nodes(self) -> list[Node]:
        return [t._keras_history.operation._inbound_nodes[t._keras_history.node_index]
                for t in self.input_tensors]


# ----- the tensor operations a KerasTensor's dunders record -----

def _get_item(x: Tensor, key: Any) -> Tensor:
    return x[key]


# Keras's class name -> (function on Tensors). The names are Keras's (keras.src.ops.numpy).
_OPS: dict[str, Callable[..., Tensor]] = {
    "Add": lambda a, b: a + b, "Subtract": lambda a, b: a - b, "Multiply": lambda a, b: a * b,
    "TrueDivide": lambda a, b: a / b, "Matmul": lambda a, b: a @ b, "Negative": lambda a: -a,
    "GetItem": _get_item,
}


class Operation:
    """An arithmetic step of a functional graph (not a Layer: it has no weights and is not in
    ``model.layers``, but it is a row of ``summary()`` and an entry of ``get_config()``, as in
    Keras).

    Example:
        >>> Operation("Add", name="plus").compute(Tensor([1.0]), Tensor([2.0]))
        Tensor([3.], dtype=float32)
    """

    def __init__(self, class_name: str, name: str | None = None):
        if class_name not in _OPS:
            raise ValueError(tr("Unknown operation {name!r}; known: {known}", name=class_name,
                                known=sorted(_OPS)))
        self.class_name = class_name
        self.name = name or naming.auto_name(class_name)
        self._inbound_nodes: list[Node] = []

    def compute(self, *args: Any) -> Tensor:
        return _OPS[self.class_name](*args)

    def __call__(self, *args: Any) -> Any:
        if not is_symbolic(args):
            return self.compute(*args)
        example = [_zeros(a) if isinstance(a, KerasTensor) else a for a in args]
        try:
            with np.errstate(all="ignore"):  # zeros stand in for values: only the shape counts
                out = self.compute(*[Tensor(e) if isinstance(e, np.ndarray) else e
                                     for e in example])
        except (ValueError, TypeError, IndexError) as err:
            raise ValueError(tr("Operation '{name}' ({cls}) cannot be applied to {args}: {err}",
                                name=self.name, cls=self.class_name,
                                args=[getattr(a, "shape", a) for a in args], err=err)) from None
        batch = _batch_of(args)
        shape = out.shape if not out.shape else (batch,) + tuple(out.shape[1:])
        dtype = next(a.dtype for a in args if isinstance(a, KerasTensor))
        result = KerasTensor(shape, dtype)
        Node(self, args, {}, result)
        return result

    def get_config(self) -> dict[str, Any]:
        return {"name": self.name}

    def count_params(self) -> int:
        return 0

    def __repr__(self) -> str:
        return f"<Operation {self.class_name} name={self.name}>"


OPERATIONS = tuple(_OPS)


# ----- structures (lists, tuples, dicts) of tensors -----

def flatten(structure: Any) -> list:
    """The leaves of nested lists/tuples/dicts (dicts by sorted key, as Keras's tree)."""
    if isinstance(structure, dict):
        return [leaf for k in sorted(structure) for leaf in flatten(structure[k])]
    if isinstance(structure, (list, tuple)):
        return [leaf for item in structure for leaf in flatten(item)]
    return [structure]


def map_structure(fn: Callable[[Any], Any], structure: Any) -> Any:
    """``structure`` with ``fn`` applied to every leaf (lists stay lists, tuples tuples)."""
    if isinstance(structure, dict):
        return {k: map_structure(fn, v) for k, v in structure.items()}
    if isinstance(structure, (list, tuple)):
        return type(structure)(map_structure(fn, v) for v in structure)
    return fn(structure)


def adjust_input_rank(value: Any, shape: tuple) -> Any:
    """``value`` (array or Tensor) for an input of batch ``shape``, as Keras's functional models
    take it: a trailing axis of 1 added (1-D data for ``Input((1,))``) or dropped; else as is."""
    rank = len(value.shape)
    if rank == len(shape) - 1 and shape[-1] == 1:
        return value.reshape(tuple(value.shape) + (1,))
    if rank == len(shape) + 1 and value.shape[-1] == 1:
        return value.reshape(tuple(value.shape[:-1]))
    return value


def is_symbolic(structure: Any) -> bool:
    """Whether a KerasTensor is anywhere in ``structure``."""
    if isinstance(structure, KerasTensor):
        return True
    if isinstance(structure, dict):
        return any(is_symbolic(v) for v in structure.values())
    if isinstance(structure, (list, tuple)):
        return any(is_symbolic(v) for v in structure)
    return False


def _zeros(t: KerasTensor, unknown: int = 1) -> np.ndarray:
    return np.zeros(tuple(unknown if d is None else d for d in t.shape), dtype=t.dtype)


def _run_on_zeros(layer: Any, inputs: Any, unknown: int) -> Any:
    """The layer's output on zeros shaped as ``inputs``, each None dimension as ``unknown``."""
    from tinygrad_es.autograd import no_grad

    example = map_structure(lambda t: _zeros(t, unknown) if isinstance(t, KerasTensor) else t,
                            inputs)
    with no_grad(), np.errstate(all="ignore"):  # only the shape of the result counts
        return layer(example, training=False)


def _merge_unknown(shapes: Any, again: Any) -> Any:
    """``shapes`` with None wherever the run with unknown dimensions as 2 (``again``, no batch
    axis) gave another size."""
    if _is_shape(shapes):
        return shapes[:1] + tuple(None if a != b else a for a, b in zip(shapes[1:], again))
    if isinstance(shapes, dict):
        return {k: _merge_unknown(v, again[k]) for k, v in shapes.items()}
    return type(shapes)(_merge_unknown(s, a) for s, a in zip(shapes, again))


def _batch_of(structure: Any) -> int | None:
    for t in flatten(structure):
        if isinstance(t, KerasTensor) and t.shape:
            return t.shape[0]
    return None


# ----- a layer called on KerasTensors -----

def call_symbolic(layer: Any, inputs: Any) -> Any:
    """Build ``layer`` for the shapes of ``inputs``, infer its output, record the Node."""
    from tinygrad_es.autograd import no_grad
    from tinygrad_es.layers.base import Layer

    shapes = map_structure(lambda t: t.shape if isinstance(t, KerasTensor) else None, inputs)
    if not layer.built:
        layer._build(shapes)
    cls = type(layer)
    batch = _batch_of(inputs)
    if cls.compute_output_shape is not Layer.compute_output_shape:
        out_shapes = layer.compute_output_shape(shapes)
    else:  # run the built layer on zeros, the batch axis as 1 (Keras's compute_output_spec)
        out_shapes = map_structure(lambda o: (batch,) + tuple(o.shape[1:]),
                                   _run_on_zeros(layer, inputs, 1))
        if any(d is None for t in flatten(inputs) if isinstance(t, KerasTensor)
               for d in t.shape[1:]):
            # unknown dimensions ran as 1; run them as 2 too: an output dimension that follows
            # them is unknown as well (a sequence of any length in, any length out)
            again = map_structure(lambda o: tuple(o.shape[1:]), _run_on_zeros(layer, inputs, 2))
            out_shapes = _merge_unknown(out_shapes, again)
    outputs = _shape_structure_map(lambda s: KerasTensor(s, layer.dtype), out_shapes)
    Node(layer, (inputs,), {}, outputs)
    return outputs


def _is_shape(value: Any) -> bool:
    return isinstance(value, (tuple, list)) and all(d is None or isinstance(d, (int, np.integer))
                                                    for d in value)


def _shape_structure_map(fn: Callable[[tuple], Any], structure: Any) -> Any:
    """``fn`` on every shape of a shape, or of a list/tuple/dict of shapes."""
    if _is_shape(structure):
        return fn(tuple(structure))
    if isinstance(structure, dict):
        return {k: _shape_structure_map(fn, v) for k, v in structure.items()}
    return type(structure)(_shape_structure_map(fn, v) for v in structure)
