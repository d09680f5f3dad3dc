"""``Functional``: the model ``keras.Model(inputs, outputs)`` returns — a graph of layer calls.

At construction the history of the outputs is walked back to the inputs (Keras's ``map_graph``):
the nodes come out in an order where every node follows the nodes it reads, and the operations
(layers and tensor ops) are ordered by depth as Keras orders ``model.layers``. Calling the model
replays the nodes in that order on engine Tensors, so the result has its graph and ``backward``
works through it. One layer called twice (a shared layer) has two nodes; a model used as a
layer is one node; ``x + y`` is a node of an ``Operation``.

``get_config()`` is Keras 3's functional layout: every operation with its ``inbound_nodes`` (each
``{"args": [...], "kwargs": {}}``, symbolic tensors written as ``__keras_tensor__`` with their
``keras_history``), then ``input_layers`` and ``output_layers``.

Example:
    >>> from tinygrad_es import layers
    >>> x = layers.Input((4,), name="x"); h = layers.Dense(3, name="h")(x)
    >>> model = Functional(x, layers.Dense(1, name="y")(h + h))
    >>> [op.name for op in model.operations][::3], model(np.ones((2, 4))).shape
    (['x', 'y'], (2, 1))
"""

from __future__ import annotations

from typing import Any

import numpy as np

from tinygrad_es.i18n import tr
from tinygrad_es.layers.base import Layer
from tinygrad_es.layers.input_layer import InputLayer
from tinygrad_es.models.model import Model
from tinygrad_es.models.symbolic import (KerasTensor, Node, Operation, adjust_input_rank,
                                         flatten, map_structure)
from tinygrad_es.tensor import Tensor

__all__ = ["Functional"]


class Functional(Model):
    """A model defined by its symbolic inputs and outputs (single, lists, or dicts by name).

    Args:
        inputs: the ``Input`` tensor(s): one, a list, or a dict ``{name: Input}``.
        outputs: the KerasTensor(s) computed from them: one, a list or a dict.
        name: default ``functional``, ``functional_1``, ...
        trainable: False freezes every layer.
    """

    def __init__(self, inputs: Any, outputs: Any, name: str | None = None,
                 trainable: bool = True, **kwargs: Any):
        Model.__init__(self, name=name, trainable=trainable, **kwargs)
        for what, structure in (("inputs", inputs), ("outputs", outputs)):
            for t in flatten(structure):
                if not isinstance(t, KerasTensor):
                    raise ValueError(tr("All `{what}` values must be KerasTensors (from "
                                        "keras.Input or a layer called on one). Received: "
                                        "{what}={value!r} including invalid value {bad!r} of "
                                        "type {type}", what=what, value=structure, bad=t,
                                        type=type(t).__name__))
        self._inputs_struct, self._outputs_struct = inputs, outputs
        self._inputs, self._outputs = flatten(inputs), flatten(outputs)
        self._nodes, self._operations, self._nodes_by_depth = _map_graph(self._inputs,
                                                                         self._outputs)
        self._node_ids = {id(n) for n in self._nodes}
        shapes = [t.shape for t in self._inputs]
        self._mark_model_built(shapes[0] if len(shapes) == 1 else shapes,
                               map_structure(lambda t: t, outputs))
        if not trainable:
            self.trainable = False

    # ----- structure -----

    @property
    def inputs(self) -> list[KerasTensor]:
        """The input KerasTensors, as a list (Keras's ``model.inputs``)."""
        return list(self._inputs)

    @property
    def outputs(self) -> list[KerasTensor]:
        """The output KerasTensors, as a list (Keras's ``model.outputs``)."""
        return list(self._outputs)

    @property
    def operations(self) -> list[Any]:
        """Layers and tensor operations, in Keras's order (inputs first, by depth)."""
        return list(self._operations)

    def _sublayers(self) -> list[Layer]:
        return [op for op in self._operations if isinstance(op, Layer)]

    @property
    def input_shape(self) -> Any:
        return self._build_shape

    @property
    def output_shape(self) -> Any:
        shapes = [t.shape for t in self._outputs]
        return shapes[0] if len(shapes) == 1 else shapes

    @property
    def output_names(self) -> list[str]:
        """The name of the layer that makes each output, in the outputs' order (Keras's
        ``output_names``: what a dict of losses or targets is keyed by)."""
        return [t._keras_history.operation.name for t in self._outputs]

    # ----- running the graph -----

    def call(self, inputs: Any, training: bool = False) -> Any:
        """Run every node in order on engine Tensors; the outputs in the structure given."""
        values: dict[int, Any] = {}
        for kt, value in zip(self._inputs, self._flat_inputs(inputs)):
            values[id(kt)] = value

        def fill(a: Any) -> Any:
            return values[id(a)] if isinstance(a, KerasTensor) else a

        for node in self._nodes:
            op = node.operation
            if node.is_input:
                continue
            if isinstance(op, Layer):
                out = op(map_structure(fill, node.args[0]), training=training)
            else:
                out = op.compute(*map_structure(fill, node.args))
            for kt, value in zip(node.output_tensors, flatten(out)):
                values[id(kt)] = value
        return map_structure(lambda kt: values[id(kt)], self._outputs_struct)

    def _flat_inputs(self, inputs: Any) -> list[Tensor]:
        n = len(self._inputs)
        if isinstance(inputs, dict):
            names = ([k for k in self._inputs_struct] if isinstance(self._inputs_struct, dict)
                     else [t.name for t in self._inputs])
            missing = [k for k in names if k not in inputs]
            if missing:
                raise ValueError(tr("Model '{name}' expects inputs named {names}; missing "
                                    "{missing} in the dict received (keys {keys})",
                                    name=self.name, names=names, missing=missing,
                                    keys=sorted(inputs)))
            if isinstance(self._inputs_struct, dict):
                return flatten({k: inputs[k] for k in names})
            return [inputs[k] for k in names]
        flat = [inputs] if isinstance(inputs, Tensor) else flatten(inputs)
        if len(flat) != n:
            raise ValueError(tr("Model '{name}' expects {n} input(s), received {m}",
                                name=self.name, n=n, m=len(flat)))
        flat = [adjust_input_rank(value, kt.shape) for kt, value in zip(self._inputs, flat)]
        for kt, value in zip(self._inputs, flat):
            if tuple(value.shape[1:]) != tuple(kt.shape[1:]) and None not in kt.shape[1:]:
                raise ValueError(tr("Input {input!r} of model '{name}' expects shape {expected}, "
                                    "received shape {shape}", input=kt.name, name=self.name,
                                    expected=kt.shape, shape=tuple(value.shape)))
        return flat

    def predict(self, x: Any, batch_size: int | None = None, verbose: Any = "auto",
                steps: int | None = None, callbacks: list | None = None) -> Any:
        """As ``Trainer.predict``; several inputs (a list or dict of arrays) or several outputs
        are batched here and the outputs come back in the model's output structure."""
        several = (isinstance(x, dict) or (isinstance(x, (list, tuple)) and len(self._inputs) > 1)
                   or not isinstance(self._outputs_struct, KerasTensor))
        if not several:
            return super().predict(x, batch_size=batch_size, verbose=verbose, steps=steps,
                                   callbacks=callbacks)
        from tinygrad_es.autograd import no_grad

        arrays = map_structure(lambda v: np.asarray(v.data if isinstance(v, Tensor) else v), x)
        n = len(flatten(arrays)[0])
        size = batch_size or 32
        chunks = []
        with no_grad():
            for start in range(0, n, size):
                batch = map_structure(lambda a: a[start:start + size], arrays)
                chunks.append(map_structure(lambda t: t.data, self(batch, training=False)))
        if len(chunks) == 1:
            return chunks[0]
        return _concatenate(chunks)

    # ----- config -----

    def get_config(self) -> dict[str, Any]:
        """Keras 3's functional config: the operations with their inbound nodes, the input and
        output layers."""
        from tinygrad_es import layers as layers_module

        reindex: dict[int, int] = {}
        for op in self._operations:
            kept = 0
            for node in op._inbound_nodes:
                if id(node) in self._node_ids:
                    reindex[id(node)] = kept
                    kept += 1

        def history(t: KerasTensor) -> list:
            op, node_index, tensor_index = t._keras_history
            return [op.name, reindex.get(id(op._inbound_nodes[node_index]), node_index),
                    tensor_index]

        def arg(a: Any) -> Any:
            if isinstance(a, KerasTensor):
                return {"class_name": "__keras_tensor__",
                        "config": {"shape": list(a.shape), "dtype": a.dtype,
                                   "keras_history": history(a)}}
            if isinstance(a, slice):
                return {"class_name": "__slice__",
                        "config": {"start": a.start, "stop": a.stop, "step": a.step}}
            if isinstance(a, (list, tuple)):
                return [arg(v) for v in a]
            if isinstance(a, dict):
                return {k: arg(v) for k, v in a.items()}
            return a

        entries = []
        for op in self._operations:
            if isinstance(op, Operation):
                entry = {"module": "keras.src.ops.numpy", "class_name": op.class_name,
                         "config": op.get_config(), "registered_name": op.class_name}
            elif isinstance(op, Model):
                entry = {"module": "tinygrad_es.models", "class_name": type(op).__name__,
                         "config": op.get_config(), "registered_name": None}
            else:
                entry = layers_module.serialize(op)
            entry["name"] = op.name
            entry["inbound_nodes"] = [{"args": arg(list(node.args)), "kwargs": dict(node.kwargs)}
                                      for node in op._inbound_nodes
                                      if id(node) in self._node_ids and not node.is_input]
            entries.append(entry)

        def ends(structure: Any) -> Any:
            if isinstance(structure, dict):
                return {k: history(v) for k, v in structure.items()}
            if isinstance(structure, (list, tuple)):
                return [history(v) for v in structure]
            return history(structure)

        return {"name": self.name, "trainable": self.trainable, "layers": entries,
                "input_layers": ends(self._inputs_struct),
                "output_layers": ends(self._outputs_struct)}

    @classmethod
    def from_config(cls, config: dict[str, Any]) -> Functional:
        """A new model from ``get_config()`` (or a Keras functional config with our layers).

        Only known classes are made: the layers of ``layers.LAYERS``, Keras's tensor operations
        (``Add``, ``GetItem``, ...) and our model classes; nothing from the config is executed.
        """
        from tinygrad_es import layers as layers_module
        from tinygrad_es.models import MODEL_CLASSES

        made: dict[str, Any] = {}
        pending: list[tuple[Any, dict]] = []
        for entry in config["layers"]:
            name = entry.get("name") or entry["config"].get("name")
            if entry.get("module", "").startswith("keras.src.ops"):
                op = Operation(entry["class_name"], name=name)
            elif entry["class_name"] in MODEL_CLASSES and entry["class_name"] != "Model":
                op = MODEL_CLASSES[entry["class_name"]].from_config(entry["config"])
            else:
                op = layers_module.deserialize(entry)
            made[name] = op
            pending += [(op, node) for node in entry.get("inbound_nodes", [])]

        def tensor(history: list) -> KerasTensor:
            op = made[history[0]]
            return flatten(op._inbound_nodes[history[1]].outputs)[history[2]]

        def ready(a: Any) -> bool:
            if isinstance(a, dict) and a.get("class_name") == "__keras_tensor__":
                name, node_index, _ = a["config"]["keras_history"]
                return name in made and node_index < len(made[name]._inbound_nodes)
            if isinstance(a, (list, tuple)):
                return all(ready(v) for v in a)
            if isinstance(a, dict):
                return all(ready(v) for v in a.values())
            return True

        def value(a: Any) -> Any:
            if isinstance(a, dict) and a.get("class_name") == "__keras_tensor__":
                return tensor(a["config"]["keras_history"])
            if isinstance(a, dict) and a.get("class_name") == "__slice__":
                return slice(a["config"]["start"], a["config"]["stop"], a["config"]["step"])
            if isinstance(a, list):
                return [value(v) for v in a]
            if isinstance(a, dict):
                return {k: value(v) for k, v in a.items()}
            return a

        while pending:  # shared layers: a later node may wait for a layer further down the list
            for i, (op, node) in enumerate(pending):
                if ready(node["args"]) and ready(node.get("kwargs", {})):
                    args = value(node["args"])
                    if isinstance(op, Operation):
                        op(*[tuple(a) if isinstance(a, list) and op.class_name == "GetItem"
                             and j == 1 else a for j, a in enumerate(args)])
                    else:
                        op(args[0], **value(node.get("kwargs", {})))
                    del pending[i]
                    break
            else:
                raise ValueError(tr("The functional config cannot be wired: a node reads a layer "
                                    "that never produces it ({node})", node=pending[0][1]))

        def ends(structure: Any) -> Any:
            if isinstance(structure, dict):
                return {k: tensor(v) for k, v in structure.items()}
            if structure and isinstance(structure[0], str):
                return tensor(structure)
            return [tensor(v) for v in structure]

        model = cls(ends(config["input_layers"]), ends(config["output_layers"]),
                    name=config.get("name"))
        if config.get("trainable") is False:
            model.trainable = False
        return model


def _concatenate(chunks: list) -> Any:
    first = chunks[0]
    if isinstance(first, dict):
        return {k: _concatenate([c[k] for c in chunks]) for k in first}
    if isinstance(first, (list, tuple)):
        return type(first)(_concatenate([c[i] for c in chunks]) for i in range(len(first)))
    return np.concatenate(chunks)


# ----- the graph: Keras's map_graph, in our words -----

def _map_graph(inputs: list[KerasTensor], outputs: list[KerasTensor]) -> tuple:
    """(nodes in an executable order, operations in Keras's order, nodes by depth)."""
    input_ids = {id(t) for t in inputs}
    order: list[Node] = []                  # post-order: every node after the nodes it reads
    first_seen: dict[int, int] = {}         # id(operation) -> DFS index (Keras's tie-break)
    done: set[int] = set()
    for out in outputs:
        stack: list[tuple[KerasTensor, bool]] = [(out, False)]
        while stack:  # iterative DFS (no recursion limit on deep models)
            t, expanded = stack.pop()
            op, node_index, _ = t._keras_history
            node = op._inbound_nodes[node_index]
            if id(node) in done:
                continue
            if expanded:
                done.add(id(node))
                order.append(node)
                continue
            if id(t) in input_ids and not node.is_input:  # an intermediate tensor as input
                done.add(id(node))
                continue
            first_seen.setdefault(id(op), len(first_seen))
            stack.append((t, True))
            stack.extend((p, False) for p in reversed(node.input_tensors))
    # depths: outputs at 0, each producer one deeper than its deepest consumer
    node_depth: dict[int, int] = {}
    op_depth: dict[int, int] = {}
    ops: dict[int, Any] = {}
    in_graph = {id(n) for n in order}
    for node in reversed(order):
        depth = max(node_depth.get(id(node), 0), op_depth.get(id(node.operation), 0))
        node_depth[id(node)] = op_depth[id(node.operation)] = depth
        ops[id(node.operation)] = node.operation
        for parent in node.parent_nodes:
            if id(parent) in in_graph:
                node_depth[id(parent)] = max(depth + 1, node_depth.get(id(parent), 0))
    for t in inputs:  # an input no output depends on still belongs to the model (Keras)
        op = t._keras_history.operation
        if id(op) not in ops and t._keras_history.operation._inbound_nodes[0].is_input:
            ops[id(op)], op_depth[id(op)], first_seen[id(op)] = op, 0, -1
            node = op._inbound_nodes[t._keras_history.node_index]
            order.insert(0, node)
            node_depth[id(node)] = 0
    nodes_by_depth: dict[int, list[Node]] = {}
    for node in order:
        nodes_by_depth.setdefault(node_depth[id(node)], []).append(node)
    operations = sorted(ops.values(), key=lambda o: (-op_depth[id(o)], first_seen[id(o)]))
    _check_graph(order, inputs, operations)
    return order, operations, nodes_by_depth


def _check_graph(order: list[Node], inputs: list[KerasTensor], operations: list[Any]) -> None:
    known = {id(t) for t in inputs}
    for node in order:
        for t in (node.output_tensors if node.is_input else node.input_tensors):
            if id(t) not in known:
                raise ValueError(tr("Graph disconnected: cannot find parent for tensor {tensor} "
                                    "at operation '{op}'. The model's inputs are {inputs}.",
                                    tensor=t, op=node.operation.name,
                                    inputs=[i.name for i in inputs]))
        known.update(id(t) for t in node.output_tensors)
    names = [op.name for op in operations]
    for name in names:
        if names.count(name) > 1:
            raise ValueError(tr('The name "{name}" is used {n} times in the model. All operation '
                                "names should be unique.", name=name, n=names.count(name)))
