"""Keras 3's ``model.weights.h5`` layout, both ways (inside a ``.keras`` zip, or alone as the
``.weights.h5`` of ``save_weights``). h5py is an optional extra, imported inside the functions.

The layout Keras writes (``keras/src/saving/saving_lib.py``), for a Sequential model::

    layers/<path>/vars/0, 1, ...      each layer's variables in ``layer.weights`` order
    optimizer/vars/0, 1, ...          ``optimizer.variables``: iterations, learning_rate, slots
    vars                              the model's own (empty) group, attribute ``name``

Each ``vars`` group carries the object's ``name`` as an attribute. ``<path>`` is NOT the layer's
name: it is the snake-cased class name made unique in order (``dense``, ``dense_1``, ``conv2d``),
so two models of the same architecture read each other's files whatever their layers are called.

A functional model's ``layers`` include its ``InputLayer`` s (each an empty ``vars`` group; its
tensor operations are not layers and have no group). A model used as a layer is a group of its
own, nested the same way: ``layers/functional/vars`` (empty, its ``name``) and
``layers/functional/layers/dense/vars/0``, ... — its weights live with its layers. A
subclassed model (or a custom layer holding layers) is laid out by its tracked attributes, in
sorted order, as Keras walks them: ``blocks/dense/vars``, ``head/vars``, then ``layers/...`` for
any layer not placed yet (see :func:`layer_groups`).

Reading trusts nothing: every dataset must be a plain (hard-linked, not virtual, not external)
numeric array whose shape and dtype are checked before its data is read, so a file can neither
make us read other files nor allocate more than the model's own weights.
"""

from __future__ import annotations

import copy
import io
import warnings
from typing import Any

import numpy as np

from tinygrad_es.i18n import tr
from tinygrad_es.layers.base import to_snake_case
from tinygrad_es.models._archive import ModelFileError

__all__ = ["require_h5py", "keras_class_name", "layer_groups", "weights_h5_bytes", "H5Weights",
           "optimizer_layout", "optimizer_state_from_variables", "read_h5_file",
           "load_h5_weights"]

# Our layers that Keras has only as Activation(name): written as such (predictions are equal).
AS_ACTIVATION = {"Sigmoid": "sigmoid", "Tanh": "tanh", "SELU": "selu"}


def require_h5py() -> Any:
    """The ``h5py`` module, or an ImportError saying how to install it."""
    try:
        import h5py
    except ImportError:
        raise ImportError(tr("Keras's file formats (.keras, .weights.h5) need the h5py package: "
                             "pip install \"tinygrad_es[keras]\" (or pip install h5py)")) from None
    return h5py


def keras_class_name(layer: Any) -> str:
    """The class name Keras knows the layer by (``Sigmoid`` is ``Activation`` there)."""
    name = type(layer).__name__
    return "Activation" if name in AS_ACTIVATION else name


def _is_model(layer: Any) -> bool:
    from tinygrad_es.models.model import Model

    return isinstance(layer, Model)


def _name_key(attr: str) -> str:
    return "~" + attr if attr.startswith("_") else attr   # Keras visits private ones last


def _children(layer: Any) -> list[tuple[str, Any]]:
    """The attributes Keras's saving walks into, in its order: a Sequential's or Functional's
    ``layers``; a subclassed model's tracked attributes and its ``layers``, by sorted name; a
    layer's tracked attributes (a custom layer's sublayers), by sorted name."""
    from tinygrad_es.models.functional import Functional
    from tinygrad_es.models.sequential import Sequential

    if isinstance(layer, (Sequential, Functional)):
        return [("layers", layer.layers)]
    tracked = dict(layer.__dict__.get("_tracked") or {})
    if _is_model(layer):
        tracked.setdefault("layers", layer.layers)
    return [(k, tracked[k]) for k in sorted(tracked, key=_name_key)]


def layer_groups(model: Any) -> list[tuple[str, Any]]:
    """[(path, layer)] for the model (path ``""``) and every layer in it, each once, at the
    path Keras's h5 gives it (``layers/sequential``, then ``layers/sequential/layers/dense``).

    A list (tuple, dict) attribute is a group whose layers are named by their snake-cased
    class made unique in order, the names counted for every item, even one already placed
    (``layers/dense`` is skipped for a layer seen before, ``layers/dense_1`` follows).

    Example:
        >>> from tinygrad_es import layers, models
        >>> inner = models.Sequential([layers.Input((2,)), layers.Dense(2)])
        >>> x = layers.Input((2,)); outer = models.Model(x, inner(x))
        >>> [path for path, _ in layer_groups(outer)]
        ['', 'layers/input_layer', 'layers/sequential', 'layers/sequential/layers/dense']
    """
    from tinygrad_es.layers.base import Layer

    out: list[tuple[str, Any]] = []
    seen: set[int] = set()

    def visit(layer: Any, path: str, depth: int) -> None:
        if id(layer) in seen:
            return
        if depth > 32:
            raise ValueError(f"'{model.name}' nests layers deeper than 32 levels")
        seen.add(id(layer))
        out.append((path, layer))
        for attr, child in _children(layer):
            where = f"{path}/{attr}" if path else attr
            if isinstance(child, Layer):
                visit(child, where, depth + 1)
            elif isinstance(child, (list, tuple, dict)):
                container(child, where, depth + 1)

    def container(items: Any, path: str, depth: int) -> None:
        used: dict[str, int] = {}
        for item in (items.values() if isinstance(items, dict) else items):
            if isinstance(item, Layer):
                # NOTE: Keras uses the class, not layer.name: names are auto-generated.
                base = to_snake_case(keras_class_name(item))
            elif isinstance(item, (list, tuple, dict)):
                base = "container"
            else:
                continue
            used[base] = used[base] + 1 if base in used else 0
            where = f"{path}/{base}_{used[base]}" if used[base] else f"{path}/{base}"
            if isinstance(item, Layer):
                visit(item, where, depth + 1)
            else:
                container(item, where, depth + 1)

    visit(model, "", 0)
    return out


def _vars(path: str) -> str:
    return f"{path}/vars" if path else "vars"


# ----- writing -----

def weights_h5_bytes(model: Any) -> bytes:
    """The weights (and the optimizer's variables, if compiled) as Keras's h5 file, in memory."""
    h5py = require_h5py()
    buffer = io.BytesIO()
    with h5py.File(buffer, "w") as f:
        for path, layer in layer_groups(model):
            group = f.require_group(_vars(path))
            group.attrs["name"] = layer.name
            for i, weight in enumerate(layer._weights):  # its own: sublayers' have their groups
                group[str(i)] = weight.data
            if not path:
                _write_optimizer(f, model)
    return buffer.getvalue()


def _write_optimizer(f: Any, model: Any) -> None:
    opt = getattr(model, "optimizer", None)
    if getattr(model, "compiled", False) and opt is not None:
        group = f.create_group("optimizer").create_group("vars")
        group.attrs["name"] = str(opt.name)
        for i, value in enumerate(opt.variables):
            group[str(i)] = np.asarray(value)


# ----- reading -----

class H5Weights:
    """An h5 weights file held in memory, read on request and checked as it is read.

    Use as a context manager; every problem with the data is a :class:`ModelFileError`.
    """

    def __init__(self, data: bytes, filepath: str, what: str = "model.weights.h5"):
        self.filepath, self.what = filepath, what
        h5py = require_h5py()
        self._h5py = h5py
        try:
            self._file = h5py.File(io.BytesIO(data), "r")
        except Exception as err:  # noqa: BLE001 - h5py raises OSError for any unreadable data
            raise self.error(f"its {what} is not a readable HDF5 file ({err})",
                             "is damaged") from None

    def __enter__(self) -> H5Weights:
        return self

    def __exit__(self, *exc_info: Any) -> None:
        self._file.close()

    def error(self, reason: str, prefix: str | None = None) -> ModelFileError:
        return ModelFileError(self.filepath, reason, prefix)

    def is_legacy(self) -> bool:
        """A Keras 2 ``.h5`` (``model_config`` / ``layer_names`` attributes, ``model_weights``)."""
        attrs = self._file.attrs
        return "model_config" in attrs or "layer_names" in attrs or "model_weights" in self._file

    def _group(self, path: str) -> Any | None:
        node = self._file
        for part in path.split("/"):
            link = node.get(part, getlink=True)
            if link is None:
                return None
            if not isinstance(link, self._h5py.HardLink):
                raise self.error(f"its {self.what} links {path!r} to another place "
                                 f"({type(link).__name__}); links are never followed")
            node = node[part]
            if not isinstance(node, self._h5py.Group):
                raise self.error(f"its {self.what} has a {type(node).__name__} at {path!r}, "
                                 "expected a group")
        return node

    def count(self, path: str) -> int:
        """How many variables ``<path>/vars`` holds (0 if the group is absent)."""
        group = self._group(_vars(path))
        return 0 if group is None else len(group)

    def layer_counts(self, path: str = "", depth: int = 0) -> int:
        """Arrays in every ``vars`` group below ``path``, the optimizer's left out."""
        group = self._group(path) if path else self._file
        if group is None:
            return 0
        if depth > 64:
            raise self.error(f"its {self.what} nests groups deeper than 64 levels")
        total = 0
        for name in group:
            where = f"{path}/{name}" if path else name
            if where == "optimizer":
                continue
            if name == "vars":
                total += self.count(path)
            elif isinstance(group.get(name, getlink=True), self._h5py.HardLink) and \
                    isinstance(group[name], self._h5py.Group):
                total += self.layer_counts(where, depth + 1)
        return total

    def read_vars(self, path: str, shapes: list[tuple], kinds: list[str]) -> list[np.ndarray]:
        """``<path>/vars/0..n-1``: exactly ``len(shapes)`` arrays of these shapes and kinds."""
        group = self._group(_vars(path))
        names = sorted(group, key=lambda k: (len(k), k)) if group is not None else []
        if names != [str(i) for i in range(len(shapes))]:
            raise self.error(f"its {self.what} holds {len(names)} variable(s) at {path!r} "
                             f"({names[:6]}), expected {len(shapes)}")
        out = []
        for name, shape, kind in zip(names, shapes, kinds):
            where = f"{_vars(path)}/{name}"
            if not isinstance(group.get(name, getlink=True), self._h5py.HardLink):
                raise self.error(f"its {self.what} links {where!r} elsewhere; links are never "
                                 "followed")
            dataset = group[name]
            if not isinstance(dataset, self._h5py.Dataset):
                raise self.error(f"its {self.what} has a group at {where!r}, expected an array")
            if dataset.is_virtual or dataset.external:
                raise self.error(f"its {self.what} stores {where!r} outside the file; only "
                                 "data inside the file is read")
            if dataset.dtype.kind not in kind or dataset.dtype.fields is not None:
                raise self.error(f"{where!r} holds dtype {dataset.dtype}, expected "
                                 f"{'floating-point' if kind == 'f' else 'integer' if kind == 'i' else 'numeric'} data")
            if tuple(dataset.shape) != tuple(shape):
                raise self.error(f"{where!r} has shape {tuple(dataset.shape)}, but the model "
                                 f"expects {tuple(shape)}", "does not fit the model")
            try:
                out.append(np.asarray(dataset[()]))
            except Exception as err:  # noqa: BLE001 - truncated or corrupt chunks
                raise self.error(f"{where!r} cannot be read ({type(err).__name__}: {err})",
                                 "is damaged") from None
        return out

    def read_model_weights(self, model: Any) -> list[np.ndarray]:
        """Every layer's weights, checked against ``model`` (Keras's order, as set_weights)."""
        targets = model.weights
        held = self.layer_counts()
        if held != len(targets):
            raise self.error(f"it holds {held} weights, but the model was expecting "
                             f"{len(targets)} weights, of shapes {[t.shape for t in targets]}",
                             f"does not fit model '{model.name}'")
        by_id: dict[int, np.ndarray] = {}
        for path, layer in layer_groups(model):
            own = list(layer._weights)
            if not own and not self.count(path):   # Keras writes no group for some layers
                continue
            shapes = [w.shape for w in own]
            # integers too: Keras keeps some counters (Normalization's count) as int64
            arrays = self.read_vars(path, shapes, ["fi"] * len(shapes))
            by_id.update((id(w), a) for w, a in zip(own, arrays))
        return [by_id[id(w)] for w in targets]   # set_weights order

    def read_optimizer(self, layout: list[tuple[str, tuple, str]]) -> list[np.ndarray] | None:
        """``optimizer/vars`` for ``layout`` [(name, shape, kind)]; None if absent or unbuilt."""
        held = self.count("optimizer")
        if held == 0 or (held <= 2 and held < len(layout)):  # saved before the first step
            return None
        return self.read_vars("optimizer", [s for _, s, _ in layout], [k for _, _, k in layout])


def optimizer_layout(opt: Any, variables: list) -> list[tuple[str, tuple, str]] | None:
    """[(state name, shape, kind)] in ``optimizer.variables`` order; None if they differ.

    ``get_state()`` and ``variables`` share Keras's order for every optimizer but the wrappers
    (LossScaleOptimizer, multi-optimizers), whose Keras layout is not mapped (yet).
    """
    probe = opt
    if not opt.built:
        probe = copy.deepcopy(opt)
        probe.build(variables)
    state, values = probe.get_state(), probe.variables
    if len(state) != len(values) or any(np.shape(a) != np.shape(b)
                                        for a, b in zip(state.values(), values)):
        return None
    return [(name, np.shape(v), "iu" if np.asarray(v).dtype.kind in "iu" else "f")
            for name, v in state.items()]


def optimizer_state_from_variables(filepath: str, layout: list[tuple[str, tuple, str]],
                                   arrays: list[np.ndarray]) -> dict[str, np.ndarray]:
    """The arrays of Keras's ``optimizer.variables`` as a ``set_state`` dict, values checked."""
    if len(arrays) != len(layout):
        raise ModelFileError(filepath, f"its optimizer holds {len(arrays)} variables, but this "
                             f"optimizer has {len(layout)}")
    state = {}
    for (name, _, _), value in zip(layout, arrays):
        if name == "iterations" and int(value) < 0:
            raise ModelFileError(filepath, f"its optimizer's iterations = {int(value)}: "
                                 "expected an integer >= 0")
        if name == "learning_rate" and not (np.isfinite(value) and value >= 0):
            raise ModelFileError(filepath, f"its optimizer's learning_rate = {float(value)!r}: "
                                 "`learning_rate` must be a finite number >= 0")
        state[name] = value
    return state


# ----- load_weights on an h5 file -----

def read_h5_file(filepath: str) -> H5Weights:
    """An HDF5 file opened as Keras's weights; Keras 2's legacy .h5 models are refused."""
    from tinygrad_es.models._archive import describe_foreign, open_regular_file
    from tinygrad_es.models.saving import _from_file

    with open_regular_file(filepath) as f:
        data = f.read()
    h5 = H5Weights(data, filepath, "HDF5 data")
    try:
        legacy = _from_file(h5, "HDF5 structure", h5.is_legacy)
    except BaseException:
        h5.__exit__(None, None, None)
        raise
    if legacy:
        h5.__exit__(None, None, None)
        raise ModelFileError(filepath, describe_foreign(data[:256]),
                             "is not a tinygrad_es file (a model or weights file written by "
                             "model.save / save_weights)")
    return h5


def _h5_optimizer_state(h5: H5Weights, model: Any) -> dict[str, np.ndarray] | None:
    opt = getattr(model, "optimizer", None)
    if not getattr(model, "compiled", False) or opt is None or not h5.count("optimizer"):
        return None
    layout = optimizer_layout(opt, model.trainable_weights)
    held = h5.count("optimizer")
    if layout is None or (held != len(layout) and held > 2):
        warnings.warn(f"{h5.filepath!r} holds {held} optimizer variables, which do not fit "
                      f"{type(opt).__name__}; the optimizer state was not loaded", stacklevel=4)
        return None
    arrays = h5.read_optimizer(layout)
    return None if arrays is None else optimizer_state_from_variables(h5.filepath, layout, arrays)


def load_h5_weights(h5: H5Weights, model: Any) -> None:
    """Weights, and the optimizer's variables if they fit its layout (else a warning); all
    checked before anything is assigned (``load_weights`` on a Keras h5 file)."""
    from tinygrad_es.models.saving import _assign, _from_file

    with h5:
        if not model.built:
            raise ValueError(f"Model '{model.name}' is not built, so the weights in "
                             f"{h5.filepath!r} cannot be loaded into it: build it first "
                             "(model.build((None, n))).")
        weights = _from_file(h5, "weights", h5.read_model_weights, model)
        state = _from_file(h5, "optimizer variables", _h5_optimizer_state, h5, model)
    _assign(model, weights, state)
