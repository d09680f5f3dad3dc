"""``Layer``: the Keras contract — ``__init__`` stores config, ``build`` makes weights, ``call`` is
the forward.

A layer is built once, on its first call (or by ``build(input_shape)``): ``build`` creates the
weights with ``add_weight`` as Tensors that require a gradient, named ``"<layer>/<weight>"``. After
that, ``layer(x)`` converts x to a Tensor of the layer's dtype if needed and runs ``call`` — nothing
else, because this is the hot path of every training step.

Automatic names (``dense``, ``dense_1``, ...) come from ``utils/naming.py``.
"""

from __future__ import annotations

import functools
import inspect
from typing import Any, Callable, Sequence

import numpy as np

from tinygrad_es import config
from tinygrad_es.tensor import Tensor
from tinygrad_es.utils import naming
from tinygrad_es.i18n import tr

__all__ = ["Layer", "reset_names"]

# How many times a layer's set of trainable weights may have changed anywhere (a weight created,
# a ``trainable`` flag set, a layer attribute assigned or deleted, a Sequential's stack edited):
# fit's captured step compares model.trainable_weights with its own only when this has moved
# (walking the layers costs ~2 us a batch on a 3-layer model). Read it as ``base.generation``.
generation = 0


def weights_may_have_changed() -> None:
    global generation
    generation += 1


# Set once any layer calls add_loss: only then does a call clear the losses of the last call
# (so that models that never use add_loss pay nothing for it). As in Keras, the outermost call
# (a layer or model not called inside another's call) clears its own and its layers' losses;
# CALL_DEPTH counts how deep the calls in progress are.
CALL_LOSSES_USED = [False]
CALL_DEPTH = [0]
# Set once any weight with a regularizer is made: only then does a step look for penalties
# (a model built by its first call, inside fit, has them from that first step on).
PENALTIES_USED = [False]


def losses_possible() -> bool:
    """Whether any layer may have a loss to add (add_loss, a regularizer): compute_loss asks."""
    return CALL_LOSSES_USED[0] or PENALTIES_USED[0]

Shape = tuple[int | None, ...]

# The automatic names live in utils/naming.py (one rule for every family); re-exported here for
# the model classes.
reset_names = naming.reset
to_snake_case = naming.to_snake_case
unique_name = naming.unique_name


def standardize_dtype(dtype: Any) -> str:
    """``None`` → floatx(); a Keras DTypePolicy dict → its name; else numpy's name for it."""
    if dtype is None:
        return config.floatx()
    if isinstance(dtype, dict):  # Keras: {"class_name": "DTypePolicy", "config": {"name": ...}}
        dtype = (dtype.get("config") or {}).get("name", config.floatx())
    try:
        name = np.dtype(dtype).name
    except TypeError:
        raise ValueError(tr("invalid dtype {dtype!r}; expected e.g. 'float32' or 'float64'",
                            dtype=dtype)) from None
    if name not in ("float16", "float32", "float64"):
        raise ValueError(tr("a layer's dtype must be a float type, received {dtype!r}",
                            dtype=dtype))
    return name


def standardize_shape(shape: Any, what: str, allow_none: bool = False) -> tuple[int, ...]:
    """A tuple of positive ints (an int n means (n,)), or a ValueError naming ``what``.

    With ``allow_none`` a dimension may be None (unknown until the data comes, as an ``Input``
    of variable-length sequences, ``shape=(None,)``)."""
    if isinstance(shape, (int, np.integer)) and not isinstance(shape, bool):
        shape = (shape,)
    try:
        dims = tuple(shape)
    except TypeError:
        raise ValueError(tr("{what} must be a tuple of positive integers, received {shape!r}",
                            what=what, shape=shape)) from None
    for d in dims:
        if d is None and allow_none:
            continue
        if isinstance(d, bool) or not isinstance(d, (int, np.integer)) or d <= 0:
            raise ValueError(tr("{what} must be a tuple of positive integers, received "
                                "{shape!r}", what=what, shape=shape))
    return tuple(None if d is None else int(d) for d in dims)


class Layer:
    """Base class of all layers.

    Args:
        name: unique name; default Keras's automatic ``snake_case(ClassName)`` with a counter.
        trainable: whether ``fit`` updates the weights (``False`` freezes them).
        dtype: float type of the weights and outputs; default ``config.floatx()`` at creation.
        input_shape: shape of one sample (no batch axis), to build a Sequential model at once.
        input_dim: ``input_shape=(input_dim,)``.

    Subclasses override ``build(input_shape)`` (create weights with ``add_weight``),
    ``call(inputs)`` (or ``call(inputs, training=None)`` to see the mode; as in Keras, the argument
    is passed only when ``call`` takes it), ``compute_output_shape`` and ``get_config``. As in
    Keras, a subclass's ``build`` is wrapped so that it runs once and leaves ``built`` True and
    the shapes recorded, whether ``__call__``, a model or the user calls it.

    Example:
        >>> class Double(Layer):
        ...     def call(self, inputs):
        ...         return inputs * 2.0
        >>> Double()([[1.0, 1.0]])
        Tensor([[2., 2.]], dtype=float32)
    """

    def __init__(self, name: str | None = None, trainable: bool = True, dtype: Any = None,
                 input_shape: Sequence[int] | None = None, input_dim: int | None = None,
                 batch_size: int | None = None, activity_regularizer: Any = None,
                 **kwargs: Any):
        from tinygrad_es import regularizers

        batch_input_shape = kwargs.pop("batch_input_shape", None)
        if input_dim is not None and input_shape is None:
            input_shape = (input_dim,)
        if kwargs:
            raise ValueError(tr("Unrecognized keyword arguments passed to {cls}: {kwargs}",
                                cls=type(self).__name__, kwargs=kwargs))
        if name is None:
            name = naming.auto_name(type(self).__name__)
        elif not isinstance(name, str) or "/" in name or not name:
            raise ValueError(tr("Argument `name` must be a non-empty string and cannot contain "
                                "character `/`. Received: name={name!r} (of type {type})",
                                name=name, type=type(name)))
        self.name = name
        self.dtype = standardize_dtype(dtype)
        self._np_dtype = np.dtype(self.dtype)
        self._trainable = bool(trainable)
        self._weights: list[Tensor] = []
        self._trainable_flags: list[bool] = []
        self._penalized: list[tuple[Tensor, Callable[[Tensor], Tensor], bool]] = []
        self._call_losses: list[Tensor] = []    # add_loss() during the last call
        # Keras's penalty on the layer's output, added (per sample) at each call
        self.activity_regularizer = regularizers.get(activity_regularizer)
        self._inbound_nodes: list[Any] = []     # symbolic calls (models/symbolic.py Node)
        self.built = False
        self._build_shape: Shape | None = None
        self._output_shape: Shape | None = None
        self._batch_input_shape: Shape | None = None
        if batch_input_shape is not None:
            self._batch_input_shape = (None,) + standardize_shape(
                tuple(batch_input_shape)[1:], f"{type(self).__name__} batch_input_shape")
        elif input_shape is not None:
            self._batch_input_shape = (None,) + standardize_shape(
                input_shape, f"{type(self).__name__} input_shape")

    def __init_subclass__(cls, **kwargs: Any):
        # As Keras's build wrapper: a subclass's build(), however it is called, ends with the layer
        # marked built and its input/output shapes recorded.
        super().__init_subclass__(**kwargs)
        if "build" in cls.__dict__ and not cls.__dict__.get("_own_build", False):
            cls.build = _recording_build(cls.__dict__["build"])
        if "call" in cls.__dict__:
            cls._call_takes_training, cls._call_takes_mask = _call_arguments(cls.__dict__["call"])

    # What ``call`` accepts besides the input, read once per class from its signature (as Keras
    # does): ``training`` and ``mask`` are passed only to a ``call`` that takes them.
    _call_takes_training = True
    _call_takes_mask = False

    # ----- the contract subclasses fill in -----

    def build(self, input_shape: Shape) -> None:
        """Create the weights for inputs of ``input_shape`` (batch axis first, may be None)."""

    def call(self, x: Tensor, training: bool = False) -> Tensor:
        """The forward computation on a Tensor; only public Tensor methods."""
        return x

    def compute_output_shape(self, input_shape: Shape) -> Shape:
        """Output shape for ``input_shape`` (batch axis first).

        Default, as Keras infers it for a layer that only defines ``call``: run the built layer
        once on a one-sample batch of zeros and read the shape (unchanged when ``call`` is not
        overridden or a feature axis is unknown).
        """
        input_shape = tuple(input_shape)
        if type(self).call is Layer.call or None in input_shape[1:] or not self.built:
            return input_shape
        from tinygrad_es.autograd import no_grad

        with no_grad():
            out = self(np.zeros((1,) + input_shape[1:], dtype=self._np_dtype), training=False)
        return input_shape[:1] + tuple(out.shape[1:])

    def get_config(self) -> dict[str, Any]:
        """The constructor arguments, JSON-able, so that ``from_config`` rebuilds the layer."""
        config = {"name": self.name, "trainable": self.trainable, "dtype": self.dtype}
        if self.activity_regularizer is not None:   # (Keras's base config has it only when set)
            from tinygrad_es import regularizers

            config["activity_regularizer"] = regularizers.serialize(self.activity_regularizer)
        return config

    @classmethod
    def from_config(cls, config: dict[str, Any]) -> Layer:
        """A new layer from ``get_config()``'s dict (also accepts Keras's layer configs)."""
        return cls(**config)

    # ----- calling -----

    def __call__(self, x: Any, training: bool = False, mask: Any = None) -> Tensor:
        """Convert x to a Tensor of the layer's dtype, build on the first call, run ``call``.

        ``training`` (and ``mask``, when given) reach ``call`` only if its signature takes them,
        so ``def call(self, inputs)`` works as in Keras. A list/tuple/dict of inputs (merge
        layers) is converted item by item and ``build`` gets the list of shapes; symbolic inputs
        (``keras.Input``) record a node of a functional graph instead (models/symbolic.py).
        """
        if CALL_LOSSES_USED[0] and not CALL_DEPTH[0]:
            return self._outermost_call(x, training, mask)
        if not isinstance(x, Tensor):
            if isinstance(x, (list, tuple, dict)) or _is_keras_tensor(x):
                return self._call_structure(x, training, mask)
            x = self._convert_input(x)
        elif x.data.dtype is not self._np_dtype:
            x = self._convert_input(x)
        if not self.built:
            self._build((None,) + x.data.shape[1:])
        if mask is not None and self._call_takes_mask:
            out = (self.call(x, training=training, mask=mask) if self._call_takes_training
                   else self.call(x, mask=mask))
        else:
            out = self.call(x, training=training) if self._call_takes_training else self.call(x)
        if self.activity_regularizer is not None:
            self._add_activity_losses(out)
        return out

    def _outermost_call(self, x: Any, training: Any, mask: Any) -> Any:
        """A call not inside another's: the losses of the last call go first (Keras's rule)."""
        self._clear_call_losses()
        CALL_DEPTH[0] += 1
        try:
            return self(x, training, mask)
        finally:
            CALL_DEPTH[0] -= 1

    def _add_activity_losses(self, outputs: Any) -> None:
        """Keras's activity penalty: ``regularizer(output) / batch size`` for each output."""
        from tinygrad_es.models import symbolic

        for out in symbolic.flatten(outputs):
            if isinstance(out, Tensor):
                loss = self.activity_regularizer(out)
                if out.data.ndim:   # per sample, as Keras (divide_no_nan: an empty batch adds 0)
                    n = out.data.shape[0]
                    loss = loss / n if n else loss * 0
                self.add_loss(loss)

    def _call_structure(self, x: Any, training: Any, mask: Any) -> Any:
        """The non-Tensor branch of ``__call__``: symbolic inputs, or several inputs at once."""
        from tinygrad_es.models import symbolic

        if symbolic.is_symbolic(x):
            return symbolic.call_symbolic(self, x)
        if not (isinstance(x, dict) or any(isinstance(v, (Tensor, np.ndarray)) for v in x)):
            return self(self._convert_input(x), training, mask)  # nested lists of numbers
        x = symbolic.map_structure(self._convert_input, x)
        if not self.built:
            self._build(symbolic.map_structure(lambda t: (None,) + t.data.shape[1:], x))
        out = self.call(x, training=training) if self._call_takes_training else self.call(x)
        if self.activity_regularizer is not None:
            self._add_activity_losses(out)
        return out

    def _convert_input(self, x: Any) -> Tensor:
        if isinstance(x, Tensor):
            # A Tensor with a graph is kept as is (no differentiable cast; numpy promotes dtypes).
            if x.requires_grad or x.data.dtype == self._np_dtype:
                return x
            return Tensor.from_numpy(x.data.astype(self._np_dtype))
        try:
            data = np.asarray(x, dtype=self._np_dtype)
        except (TypeError, ValueError) as err:
            raise ValueError(tr("Layer '{name}' expects numeric input, received {cls}: {err}",
                                name=self.name, cls=type(x).__name__, err=err)) from None
        return Tensor.from_numpy(data)

    def _build_for(self, input_shape: Shape) -> Shape:
        """Build (once) for ``input_shape`` and return the output shape (for ``input_shape``, as
        Keras computes it, also when the layer was built for another, e.g. by ``adapt``)."""
        shape = _as_shape(input_shape)
        if self.built and isinstance(shape, tuple) and isinstance(self._build_shape, tuple) and (
                shape != self._build_shape):
            self._output_shape = tuple(self.compute_output_shape(shape))
            return self._output_shape
        self._build(input_shape)
        return self.output_shape  # type: ignore[return-value]

    def _build(self, input_shape: Shape) -> None:
        if not self.built:
            input_shape = _as_shape(input_shape)
            self.build(input_shape)
            if not self.built:  # Layer itself (no build override)
                _mark_built(self, input_shape)

    # ----- weights -----

    def add_weight(self, *args: Any, shape: Sequence[int] | None = None,
                   initializer: Any = None, dtype: Any = None, trainable: bool = True,
                   regularizer: Any = None, constraint: Any = None,
                   name: str | None = None) -> Tensor:
        """Create, initialise and track a weight Tensor named ``"<layer>/<name>"``.

        Keras's keywords: ``add_weight(shape=..., initializer=..., name=...)``; positionally
        ``(shape, initializer, dtype)`` as Keras, or this library's ``(name, shape, initializer,
        regularizer, trainable)``. As in Keras, ``shape`` defaults to ``()``, ``initializer`` to
        ``"glorot_uniform"``, and an unnamed weight is called ``variable``, ``variable_1``, ...
        (the automatic names of ``utils/naming.py``).

        Example:
            >>> layer = Layer(name="demo"); layer.add_weight(shape=(2,), initializer="ones",
            ...                                               name="w")
            Tensor([1., 1.], dtype=float32, requires_grad=True, name='demo/w')
        """
        if args and isinstance(args[0], str):   # this library's order: (name, shape, init, ...)
            keys = ("name", "shape", "initializer", "regularizer", "trainable")
        else:                                   # Keras's order: (shape, initializer, dtype)
            keys = ("shape", "initializer", "dtype")
        if len(args) > len(keys):
            raise TypeError(tr("add_weight() takes at most {n_keys} positional arguments in "
                               "this order {keys}, received {n_args}", n_keys=len(keys), keys=keys,
                               n_args=len(args)))
        given = {"name": name, "shape": shape, "initializer": initializer, "dtype": dtype,
                 "regularizer": regularizer, "trainable": trainable}
        for key, value in zip(keys, args):
            if key != "trainable" and given[key] is not None:
                raise TypeError(tr("add_weight() received `{key}` both positionally and as a "
                                   "keyword argument", key=key))
            given[key] = value
        if given["name"] is None:
            given["name"] = naming.auto_name("Variable")
        if constraint is not None:
            raise ValueError(tr("add_weight() on layer '{name}': weight constraints are not "
                                "supported, received constraint={constraint!r}", name=self.name,
                                constraint=constraint))
        return self._create_weight(**given)

    def _create_weight(self, name: str, shape: Sequence[int] | None, initializer: Any,
                       dtype: Any, regularizer: Any, trainable: bool) -> Tensor:
        from tinygrad_es import initializers, regularizers

        shape = standardize_shape(() if shape is None else shape,
                                  f"the shape of weight '{self.name}/{name}'")
        np_dtype = self._np_dtype if dtype is None else np.dtype(standardize_dtype(dtype))
        init = initializers.get("glorot_uniform" if initializer is None else initializer)
        value = np.asarray(init(tuple(shape), dtype=np_dtype), dtype=np_dtype)
        if value.shape != tuple(shape):
            raise ValueError(tr("the initializer of weight '{name}/{name2}' returned shape "
                                "{shape}, expected {shape2}", name=self.name, name2=name,
                                shape=value.shape, shape2=tuple(shape)))
        weight = Tensor(value, requires_grad=trainable and self._trainable, dtype=np_dtype,
                        name=f"{self.name}/{name}")
        self._weights.append(weight)
        self._trainable_flags.append(bool(trainable))
        weights_may_have_changed()
        reg = regularizers.get(regularizer)
        if reg is not None:
            self._penalized.append((weight, reg, bool(trainable)))
            PENALTIES_USED[0] = True
        return weight

    # ----- layers inside layers (Keras's tracking) -----

    def __setattr__(self, name: str, value: Any) -> None:
        # Attributes that hold layers (alone, or in lists, tuples, dicts), in first-assignment
        # order: their weights and losses are this layer's too, as in Keras.
        if (isinstance(value, (Layer, list, tuple, dict)) and value is not self
                and name not in _UNTRACKED):
            tracked = self.__dict__.get("_tracked")
            if tracked is None:
                object.__setattr__(self, "_tracked", tracked := {})
            tracked[name] = value
            weights_may_have_changed()
        object.__setattr__(self, name, value)

    def __delattr__(self, name: str) -> None:
        if self.__dict__.get("_tracked", {}).pop(name, None) is not None:
            weights_may_have_changed()
        object.__delattr__(self, name)

    def _sublayers(self) -> list[Layer]:
        """The layers this one holds directly, in assignment order, each once."""
        tracked = self.__dict__.get("_tracked")
        if not tracked:
            return []
        found: list[Layer] = []
        for value in tracked.values():
            for leaf in _layer_leaves(value):
                if leaf is not self and all(leaf is not f for f in found):
                    found.append(leaf)
        return found

    def _flatten_layers(self) -> list[Layer]:
        """Every layer inside, nested ones too, each once (depth first)."""
        out: list[Layer] = []
        for layer in self._sublayers():
            for sub in [layer] + layer._flatten_layers():
                if all(sub is not o for o in out):
                    out.append(sub)
        return out

    # ----- weights -----

    @property
    def trainable(self) -> bool:
        return self._trainable

    @trainable.setter
    def trainable(self, value: bool) -> None:
        self._trainable = bool(value)
        weights_may_have_changed()
        for weight, flag in zip(self._weights, self._trainable_flags):
            weight.requires_grad = flag and self._trainable
        for layer in self._sublayers():
            layer.trainable = value

    def _collect(self, own: list[Tensor], pick: Callable[[Layer], list[Tensor]]) -> list[Tensor]:
        """``own``, then ``pick(layer)`` of each sublayer, each weight once (Keras's order)."""
        sublayers = self._sublayers()
        if not sublayers:
            return own
        seen = {id(w) for w in own}
        for layer in sublayers:
            for w in pick(layer):
                if id(w) not in seen:
                    seen.add(id(w))
                    own.append(w)
        return own

    @property
    def weights(self) -> list[Tensor]:
        """All weights: this layer's own in creation order (Keras's order: kernel, bias), then
        those of the layers it holds."""
        return self._collect(list(self._weights), lambda layer: layer.weights)

    @property
    def trainable_weights(self) -> list[Tensor]:
        if not self._trainable:
            return []
        own = [w for w, flag in zip(self._weights, self._trainable_flags) if flag]
        return self._collect(own, lambda layer: layer.trainable_weights)

    @property
    def non_trainable_weights(self) -> list[Tensor]:
        if not self._trainable:
            return self.weights
        own = [w for w, flag in zip(self._weights, self._trainable_flags) if not flag]
        return self._collect(own, lambda layer: layer.non_trainable_weights)

    @property
    def trainable_variables(self) -> list[Tensor]:
        """Keras's other name for ``trainable_weights``."""
        return self.trainable_weights

    @property
    def non_trainable_variables(self) -> list[Tensor]:
        """Keras's other name for ``non_trainable_weights``."""
        return self.non_trainable_weights

    @property
    def variables(self) -> list[Tensor]:
        """Keras's other name for ``weights``."""
        return self.weights

    @property
    def losses(self) -> list[Tensor]:
        """Keras's order: the losses ``add_loss`` gave during the last call (this layer's, then
        those of the layers inside), then the penalties of the trainable weights: scalar
        Tensors with their graph.

        As in Keras, a frozen weight (``trainable=False``) contributes no penalty.
        """
        inner = self._flatten_layers()
        out = list(self._call_losses)
        for layer in inner:
            out += layer._call_losses
        if not self._trainable:
            return out
        out += self._own_penalties()
        for layer in inner:
            if layer._trainable:
                out += layer._own_penalties()
        return out

    def _own_penalties(self) -> list[Tensor]:
        if not self._trainable:
            return []
        return [reg(w) for w, reg, trainable in self._penalized if trainable]

    def add_loss(self, loss: Any) -> None:
        """Add a loss term (a scalar Tensor with its graph, or a number) that ``fit`` adds to the
        compiled loss. As in Keras 3, the losses added during a call are dropped at the next
        outermost call (of this layer, or of the model that holds it: a call not inside
        another layer's call).

        Example:
            >>> layer = Layer(name="demo4"); layer.add_loss(Tensor(0.5)); layer.losses
            [Tensor(0.5, dtype=float32)]
        """
        if not isinstance(loss, Tensor):
            loss = Tensor(np.asarray(loss, dtype=self._np_dtype))
        self._call_losses.append(loss)
        CALL_LOSSES_USED[0] = True

    def _clear_call_losses(self) -> None:
        self._call_losses.clear()
        for layer in self._flatten_layers():
            layer._call_losses.clear()

    # ----- the functional graph: nodes this layer was called at -----

    @property
    def input(self) -> Any:
        """The symbolic input of the layer's first call on KerasTensors (Keras's ``layer.input``)."""
        return self._node_attribute("input_tensors", "input")

    @property
    def output(self) -> Any:
        """The symbolic output of the layer's first call on KerasTensors, for feature extraction:
        ``keras.Model(model.inputs, model.layers[1].output)``."""
        return self._node_attribute("output_tensors", "output")

    def _node_attribute(self, attr: str, what: str) -> Any:
        if not self._inbound_nodes:
            raise AttributeError(tr("The layer {name} has never been called and thus has no "
                                    "defined {what}.", name=self.name, what=what))
        values = getattr(self._inbound_nodes[0], attr)
        return values[0] if len(values) == 1 else values

    def get_weights(self) -> list[np.ndarray]:
        """Copies of the weights as ndarrays, in ``weights`` order.

        Example:
            >>> layer = Layer(name="demo2"); _ = layer.add_weight("w", (2,), "ones")
            >>> layer.get_weights()
            [array([1., 1.], dtype=float32)]
        """
        return [w.data.copy() for w in self.weights]

    def set_weights(self, weights: Sequence[Any]) -> None:
        """Overwrite the weights in place from arrays of the same count and shapes.

        Example:
            >>> layer = Layer(name="demo3"); _ = layer.add_weight("w", (2,))
            >>> layer.set_weights([np.array([3.0, 4.0])]); layer.get_weights()
            [array([3., 4.], dtype=float32)]
        """
        targets = self.weights
        if len(targets) == len(self._weights):
            assign_weights(targets, weights, f"layer '{self.name}'", self)
            return
        owners: dict[int, Layer] = {}
        for layer in [self] + self._flatten_layers():
            for w in layer._weights:
                owners.setdefault(id(w), layer)
        kind = "layer" if not hasattr(self, "compiled") else "model"
        assign_weights(targets, weights, f"{kind} '{self.name}'",
                       lambda i: owners.get(id(targets[i]), self))

    def count_params(self) -> int:
        """Number of scalars in all weights (the layer must be built)."""
        if not self.built:
            raise ValueError(tr("You tried to call `count_params` on layer '{name}', but the "
                                "layer isn't built. You can build it manually via: "
                                "`layer.build(input_shape)`.", name=self.name))
        return int(sum(w.data.size for w in self.weights))

    @property
    def input_shape(self) -> Shape | None:
        """The batch input shape the layer was built for, e.g. (None, 4); None if unbuilt."""
        return self._build_shape if self.built else self._batch_input_shape

    @property
    def output_shape(self) -> Shape | None:
        """The output shape once built, e.g. (None, 3); None if unbuilt."""
        if self._output_shape is None and self.built and self._build_shape is not None:
            # Inferred on first use (a model building its next layer), not at every build: a
            # layer called eagerly on data runs its call only once, as in Keras.
            self._output_shape = tuple(self.compute_output_shape(self._build_shape))
        return self._output_shape

    def __repr__(self) -> str:
        return f"<{type(self).__name__} name={self.name}, built={self.built}>"


# Layer's own list-valued state, never searched for layers.
_UNTRACKED = frozenset({"_weights", "_trainable_flags", "_penalized", "_call_losses",
                        "_inbound_nodes", "_tracked", "_build_shape", "_output_shape",
                        "_batch_input_shape"})


def _layer_leaves(value: Any) -> list[Layer]:
    if isinstance(value, Layer):
        return [value]
    if isinstance(value, dict):
        return [leaf for v in value.values() for leaf in _layer_leaves(v)]
    if isinstance(value, (list, tuple)):
        return [leaf for v in value if isinstance(v, (Layer, list, tuple, dict))
                for leaf in _layer_leaves(v)]
    return []


def _as_shape(shape: Any) -> Any:
    """A shape as a tuple; a list of shapes (merge layers) as a list of tuples, as Keras."""
    if isinstance(shape, dict):
        return shape
    if isinstance(shape, (list, tuple)) and shape and isinstance(shape[0], (list, tuple)):
        return [_as_shape(s) for s in shape]
    return tuple(shape)


def _is_keras_tensor(x: Any) -> bool:
    return type(x).__name__ == "KerasTensor"


def _mark_built(layer: Layer, input_shape: Shape) -> None:
    layer.built = True
    layer._build_shape = input_shape
    cls = type(layer)
    infers = cls.compute_output_shape is Layer.compute_output_shape and cls.call is not Layer.call
    layer._output_shape = None if infers else tuple(layer.compute_output_shape(input_shape))


def _recording_build(build: Callable[[Layer, Shape], None]) -> Callable[[Layer, Shape], None]:
    @functools.wraps(build)
    def wrapper(self: Layer, input_shape: Shape) -> None:
        if self.built and self._build_shape is not None:
            return
        input_shape = _as_shape(input_shape)
        build(self, input_shape)
        _mark_built(self, input_shape)
    return wrapper


def _call_arguments(call: Callable) -> tuple[bool, bool]:
    """Whether ``call`` accepts ``training`` and ``mask`` (by name, or through ``**kwargs``)."""
    params = inspect.signature(call).parameters
    var_kw = any(p.kind is inspect.Parameter.VAR_KEYWORD for p in params.values())
    return "training" in params or var_kw, "mask" in params or var_kw


def _describe_shapes(weights: Sequence[Tensor]) -> str:
    return "[" + ", ".join(str(w.shape) for w in weights) + "]"


def assign_weights(targets: Sequence[Tensor], values: Sequence[Any], owner: str,
                   layer_of: Any) -> None:
    """Check count and every shape first, then copy in place (nothing is half-assigned).

    ``layer_of`` is a Layer, or a function from the weight index to the layer that owns it, so
    that a model's error names the layer whose weight does not fit.
    """
    values = list(values)
    if len(values) != len(targets):
        raise ValueError(tr("You called `set_weights(weights)` on {owner} with a weight list "
                            "of length {n_values}, but the {split} was expecting {n_targets} "
                            "weights, of shapes {describe_shapes}.", owner=owner,
                            n_values=len(values), split=owner.split()[0], n_targets=len(targets),
                            describe_shapes=_describe_shapes(targets)))
    arrays = []
    for i, (target, value) in enumerate(zip(targets, values)):
        array = np.asarray(value.data if isinstance(value, Tensor) else value)
        if array.shape != target.shape:
            layer = layer_of if isinstance(layer_of, Layer) else layer_of(i)
            raise ValueError(tr("Layer '{name}' weight '{name2}' has shape {shape}, but "
                                "set_weights received shape {shape2} for it (weight {i} of "
                                "{owner}); the layer expects shapes {describe_shapes}.",
                                name=layer.name, name2=target.name, shape=target.shape,
                                shape2=array.shape, i=i, owner=owner,
                                describe_shapes=_describe_shapes(layer.weights)))
        if array.dtype.kind not in "biuf":
            raise ValueError(tr("set_weights on {owner} received non-numeric weight {i} (dtype "
                                "{dtype})", owner=owner, i=i, dtype=array.dtype))
        arrays.append(array)
    for target, array in zip(targets, arrays):
        np.copyto(target.data, array, casting="unsafe")
