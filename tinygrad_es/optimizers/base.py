"""The optimizer base class: the loop every Keras optimizer runs, with one ``update_step`` per rule.

One ``apply(grads, variables)`` call does, in Keras's order (keras-semantics §1.1):

1. drop the pairs whose gradient is ``None``;
2. divide by ``loss_scale_factor``;
3. with ``gradient_accumulation_steps=K``: add to the accumulators and stop, except every K-th call,
   which averages ``(g + acc) / K``, runs 4-6 and zeroes the accumulators;
4. clip (``clipnorm`` per tensor, ``global_clipnorm`` over all, or ``clipvalue``);
5. decoupled weight decay ``w <- w - w * wd * lr``;
6. ``update_step(grad, variable, learning_rate)`` for each variable, in order;
7. the moving average of the weights (``use_ema``), overwriting them every
   ``ema_overwrite_frequency`` steps;
8. ``iterations += 1``.

A custom optimizer is a subclass with ``build`` (create the state) and ``update_step`` (one
variable, in place on ``variable.data``). Classic momentum, v = γ·v + η·∇, θ = θ − v::

    class ClassicMomentum(Optimizer):
        def __init__(self, learning_rate=0.01, gamma=0.9, **kwargs):
            super().__init__(learning_rate, **kwargs)
            self.gamma = gamma

        def build(self, variables):
            if self.built:
                return
            super().build(variables)
            self.velocities = self.add_optimizer_variables(variables, "velocity")

        def update_step(self, grad, variable, learning_rate):
            v = self.velocities[self._get_variable_index(variable)]
            v *= self.gamma              # v = γ·v + η·∇, in place: v is the optimizer's state
            v += learning_rate * grad
            variable.data -= v           # θ = θ − v

        def get_config(self):
            return {**super().get_config(), "gamma": self.gamma}

``opt.slots(w)`` then shows ``{"velocity": ...}`` for a learner to print step by step.

Precision: state takes the variable's dtype; ``learning_rate`` reaches ``update_step`` as a numpy
scalar of that dtype. A float learning rate is kept in a ``floatx()`` :class:`Variable` made at
construction, as Keras's is (float32 mode: ``float(SGD(0.001).learning_rate)`` is
``float(np.float32(0.001))``); ``opt.iterations`` is an int64 Variable (``variable.py``). Where
Keras casts a Python float with ``ops.cast`` it goes through float32 even in float64 mode; the
optimizers do the same with :func:`tinygrad_es.tfcast.tf_constant` and say so in a ``# NOTE:``.

Flat buffers (``flat.py``, the :class:`FlatBuffers` base): the elementwise optimizers keep the
weights and their state in one buffer per dtype and run ``update_step`` on a few large segments of
it, bit for bit the same; ``Optimizer.flat_buffers = False`` turns that off, ``opt.update_path``
tells which path ran.

The argument checks are in ``_validation.py`` and gradient clipping in ``clipping.py``; saving,
restoring and printing an optimizer (``get_state``, ``get_config``, ``repr``) close this file.
"""

from __future__ import annotations

import inspect
import re
import warnings
from typing import Any, Iterable, Sequence

import numpy as np

from tinygrad_es import config
from tinygrad_es.optimizers import schedules as schedules_module
from tinygrad_es.optimizers._validation import (as_gradient, check_base_arguments,
                                                check_learning_rate, check_number)
from tinygrad_es.optimizers.clipping import clip_gradients
from tinygrad_es.optimizers.flat import FlatBuffers, FlatStorage
from tinygrad_es.optimizers.schedules import LearningRateSchedule
from tinygrad_es.optimizers.variable import BoundVariable, Variable
from tinygrad_es.tfcast import tf_constant
from tinygrad_es.utils import naming
from tinygrad_es.i18n import N_, tr

__all__ = ["Optimizer", "check_number"]  # check_number: for the subclasses' own hyperparameters

_ACCUMULATED_ITERATIONS = N_("With gradient_accumulation_steps, `iterations` is computed "
                              "(calls // steps) and cannot be assigned, as in Keras")


class Optimizer(FlatBuffers):
    """Base class of the optimizers: the Keras loop around one ``update_step`` per variable.

    Args:
        learning_rate: A non-negative number, a :class:`LearningRateSchedule` (called with the
            step count) or a callable with no arguments (called every step). Unlike Keras, an
            int or numpy float is accepted (``SGD(1)``); a non-number is a TypeError (Keras:
            ValueError), a negative or NaN rate a ValueError.
        weight_decay: If set, ``w <- w - w * weight_decay * lr`` before every update (decoupled,
            biases included unless :meth:`exclude_from_weight_decay` says otherwise).
        clipnorm: Clip each gradient to this L2 norm.
        clipvalue: Clip each gradient element to ``[-clipvalue, clipvalue]``.
        global_clipnorm: Clip all gradients together to this global L2 norm. At most one of the
            three clipping options may be set.
        use_ema: Keep an exponential moving average of the weights (see
            :meth:`finalize_variable_values`).
        ema_momentum: ``a <- m * a + (1 - m) * w`` after every update (``m = 0`` on the first).
        ema_overwrite_frequency: Copy the average into the weights every this many updates.
        loss_scale_factor: Gradients are divided by it (the loss was multiplied by it).
        gradient_accumulation_steps: Update only every this many calls, with the mean gradient.
        name: The optimizer's name (default: snake_case class name with a counter, as Keras).

    Example:
        >>> from tinygrad_es.optimizers import SGD
        >>> from tinygrad_es.tensor import Tensor
        >>> w = Tensor(np.array([1.0, 2.0]), requires_grad=True)
        >>> opt = SGD(learning_rate=0.1)
        >>> opt.apply([np.array([1.0, -1.0])], [w]); w.data
        array([0.9, 2.1], dtype=float32)
    """

    def __init__(self, learning_rate, weight_decay=None, clipnorm=None, clipvalue=None,
                 global_clipnorm=None, use_ema=False, ema_momentum=0.99,
                 ema_overwrite_frequency=None, loss_scale_factor=None,
                 gradient_accumulation_steps=None, name=None, **kwargs):
        if kwargs.pop("decay", None) is not None:
            warnings.warn(tr("Argument `decay` is no longer supported and will be ignored."))
        if kwargs:
            raise ValueError(tr("{cls}: argument(s) not recognized: {kwargs}",
                                cls=type(self).__name__, kwargs=kwargs))
        check_base_arguments(
            weight_decay=weight_decay, clipnorm=clipnorm, clipvalue=clipvalue,
            global_clipnorm=global_clipnorm, use_ema=use_ema, ema_momentum=ema_momentum,
            ema_overwrite_frequency=ema_overwrite_frequency, loss_scale_factor=loss_scale_factor,
            gradient_accumulation_steps=gradient_accumulation_steps)
        self.name = name if name is not None else naming.auto_name(type(self).__name__)
        self.weight_decay = weight_decay
        self.clipnorm = clipnorm
        self.global_clipnorm = global_clipnorm
        self.clipvalue = clipvalue
        self.use_ema = use_ema
        self.ema_momentum = ema_momentum
        self.ema_overwrite_frequency = ema_overwrite_frequency
        self.loss_scale_factor = loss_scale_factor
        self.gradient_accumulation_steps = gradient_accumulation_steps
        self.built = False
        self._iterations = 0
        self._iterations_variable = BoundVariable(self._iteration_count, self._assign_iterations,
                                                  "int64", "iteration", f"{self.name}/iteration")
        self._lr_dtype = np.dtype(config.floatx())
        self._learning_rate: Any = None
        self.learning_rate = learning_rate
        self._variables: list = []
        self._index: dict[int, int] = {}
        self._state: dict[str, np.ndarray] = {}
        self._slots: list[dict[str, np.ndarray]] = []
        self._exclude_ids: set[int] = set()
        self._exclude_pattern: re.Pattern | None = None
        self._decay_mask: list[bool] | None = None
        self._flat: FlatStorage | None = None
        self.update_path: str | None = None   # "flat" or "per_variable": the last update's

    # ----- learning rate and step count -----

    @property
    def iterations(self) -> Variable:
        """Updates done so far, as Keras's int64 Variable: ``int(opt.iterations)``, ``.numpy()``.

        It reads the live count (one object, like Keras's). With gradient accumulation it is
        calls // K and read-only, as Keras reports it.
        """
        steps = self.gradient_accumulation_steps
        if steps:
            return Variable(self._iterations // steps, "int64", "iteration",
                            f"{self.name}/iteration", read_only=_ACCUMULATED_ITERATIONS)
        return self._iterations_variable

    def _iteration_count(self) -> int:
        return self._iterations

    def _assign_iterations(self, value: Any) -> None:
        self._iterations = int(value)

    @property
    def learning_rate(self) -> Any:
        """The learning rate as Keras gives it.

        A float rate is a floatx :class:`Variable` (``float()``, ``.numpy()``, ``.assign()``);
        a schedule gives its read-only value at the current step; a callable, what it returns.
        """
        lr = self._learning_rate
        if isinstance(lr, Variable):
            return lr
        value = self._current_learning_rate()
        if isinstance(lr, LearningRateSchedule):
            return Variable(value, np.asarray(value).dtype, "learning_rate",
                            f"{self.name}/learning_rate",
                            read_only=(N_("{cls}'s learning rate comes from a "
                                          "LearningRateSchedule: its value at the current step "
                                          "has no assign (in Keras it is a tensor)"),
                                       {"cls": type(self).__name__}))
        return value

    @learning_rate.setter
    def learning_rate(self, value) -> None:
        if isinstance(value, LearningRateSchedule) or (callable(value)
                                                       and not isinstance(value, Variable)):
            self._learning_rate = value
            return
        if isinstance(self._learning_rate, LearningRateSchedule):
            raise TypeError(self._schedule_message(value))
        if isinstance(value, Variable):
            value = value.numpy()
        check_learning_rate(value)
        # NOTE: Keras keeps the rate in a floatx Variable: in float32 mode 0.001 is 0.0010000000475.
        if isinstance(self._learning_rate, Variable):
            self._learning_rate.assign(value)   # the same object: holders of it see the change
        else:
            self._learning_rate = Variable(value, self._lr_dtype, "learning_rate",
                                           f"{self.name}/learning_rate")

    def _schedule_message(self, value: Any) -> str:
        return tr("{cls} was created with a LearningRateSchedule ({schedule!r}), so its learning "
                  "rate cannot be set to {value!r}. Create the optimizer with a float "
                  "learning_rate to make it settable.", cls=type(self).__name__,
                  schedule=self._learning_rate, value=value)

    def _current_learning_rate(self):
        lr = self._learning_rate
        if lr.__class__ is Variable:
            return lr._value
        if isinstance(lr, LearningRateSchedule):
            return lr(self._iterations)
        if callable(lr):
            return lr()
        return lr

    # ----- state -----

    def build(self, variables: Sequence) -> None:
        """Create the state for ``variables`` (called by the first ``apply``).

        Subclasses call ``super().build(variables)`` first, then add their slots with
        :meth:`add_optimizer_variables`.
        """
        variables = list(variables)
        self._variables = variables
        self._index = {id(v): i for i, v in enumerate(variables)}
        self._slots = [{} for _ in variables]
        self._decay_mask = None
        self._build_flat(variables)   # flat.py: the weights become views of flat buffers
        if self.use_ema:
            self._averages = self.add_optimizer_variables(variables, "average")
        if self.gradient_accumulation_steps:
            self._accumulators = self.add_optimizer_variables(variables, "gradient_accumulator")
        self.built = True

    def add_variable(self, shape, name: str, dtype=None, initializer: float = 0.0,
                     reference=None) -> np.ndarray:
        """Create one state array; ``reference`` makes it a slot of that model variable.

        ``initializer`` is a constant; like Keras's ``Constant`` it goes through float32.
        """
        dtype = np.dtype(dtype if dtype is not None else config.floatx())
        array = np.full(shape, tf_constant(initializer, dtype), dtype=dtype)
        if reference is None:
            self._state[name] = array
        else:
            i = self._index[id(reference)]
            self._slots[i][name] = array
            self._state[f"{i}/{name}"] = array
        return array

    def add_optimizer_variables(self, variables: Sequence, names, initializer=0.0):
        """One zero-filled (or ``initializer``-filled) slot per variable and name, like Keras.

        Returns a list of arrays for a single name, a tuple of lists for a list of names. The
        slots of one variable are created together, which gives Keras's order of ``variables``.
        """
        single = isinstance(names, str)
        names = [names] if single else list(names)
        inits = (initializer if isinstance(initializer, (list, tuple))
                 else [initializer] * len(names))
        flat = self._flat
        if flat is not None and [id(v) for v in variables] == flat.ids:
            return self._add_flat_variables(names, inits, single)
        out = tuple([] for _ in names)
        for variable in variables:
            w = variable.data
            for k, (name, init) in enumerate(zip(names, inits)):
                out[k].append(self.add_variable(w.shape, name, w.dtype, init, reference=variable))
        return out[0] if single else out

    def _get_variable_index(self, variable) -> int:
        return self._index[id(variable)]

    def slots(self, variable) -> dict[str, np.ndarray]:
        """The live state of one variable by Keras's slot names, e.g. ``{"momentum": m, ...}``."""
        if not self.built or id(variable) not in self._index:
            raise ValueError(tr("{name} has no state for this variable (built={built}); apply "
                                "it to the variable first", name=self.name, built=self.built))
        return dict(self._slots[self._index[id(variable)]])

    # ----- weight decay -----

    def exclude_from_weight_decay(self, var_list: Iterable | None = None,
                                  var_names: Iterable[str] | None = None) -> None:
        """Exclude variables from weight decay: these objects, or any whose name contains one
        of ``var_names`` (e.g. ``var_names=["bias"]``).

        Keras requires this before the first update; here it also works afterwards.
        """
        self._exclude_ids = {id(v) for v in var_list or ()}
        names = list(var_names or ())
        self._exclude_pattern = re.compile("|".join(set(names))) if names else None
        self._decay_mask = None

    def _use_weight_decay(self, variable) -> bool:
        if id(variable) in self._exclude_ids:
            return False
        pattern = self._exclude_pattern
        return pattern is None or pattern.search(getattr(variable, "name", None) or "") is None

    def _apply_weight_decay(self, variables: list, learning_rate, flat: bool = False) -> None:
        if self._decay_mask is None:
            self._decay_mask = [self._use_weight_decay(v) for v in self._variables]
        mask, index, factors = self._decay_mask, self._index, {}
        if flat and all(mask):   # once per segment of the flat buffers
            arrays = [stand_in.data for stand_in in self._flat.stand_ins]
        else:
            arrays = [v.data for v in variables if mask[index[id(v)]]]
        for w in arrays:
            if w.dtype not in factors:
                # NOTE: wd goes through float32 (tf.cast), even in float64 mode.
                factors[w.dtype] = (tf_constant(self.weight_decay, w.dtype),
                                    tf_constant(learning_rate, w.dtype))
            wd, lr = factors[w.dtype]
            w -= w * wd * lr

    # ----- the loop -----

    def scale_loss(self, loss: Any) -> Any:
        """``loss * loss_scale_factor``, what ``fit`` differentiates (Keras's ``scale_loss``);
        ``apply`` divides the gradients by the same factor. The logged loss stays unscaled."""
        return loss if self.loss_scale_factor is None else loss * self.loss_scale_factor

    def _variables_for(self, grads: Sequence, variables: Sequence | None) -> Sequence:
        """The variables ``apply(grads, variables)`` updates, building the optimizer on first use:
        ``variables`` or, without them, the ones it was built for; one per gradient."""
        if variables is None:
            if not self.built:
                raise ValueError(tr("{name}: call apply(grads, variables) the first time, or "
                                    "build(variables) first", name=self.name))
            variables = self._variables
        elif not self.built:
            self.build(variables)
        if len(grads) != len(variables):
            raise ValueError(tr("{name} received {n_grads} gradients for {n_variables} "
                                "variables", name=self.name, n_grads=len(grads),
                                n_variables=len(variables)))
        return variables

    def apply(self, grads: Sequence, variables: Sequence | None = None) -> None:
        """Update ``variables`` in place from ``grads`` (ndarrays or Tensors; ``None`` skipped).

        Without ``variables`` the optimizer must be built and ``grads`` follow its variables.
        """
        if len(grads) == 0:
            return
        variables = self._variables_for(grads, variables)
        index = self._index
        pairs_g, pairs_v, missing = [], [], []
        for g, v in zip(grads, variables):
            if id(v) not in index:
                raise ValueError(tr("{name} was built for other variables; unknown variable "
                                    "{value!r}. Create a new optimizer for a new set of "
                                    "variables.", name=self.name,
                                    value=getattr(v, 'name', None) or v))
            if g is None:
                missing.append(getattr(v, "name", None) or f"variable {index[id(v)]}")
            else:
                pairs_g.append(as_gradient(g, v.data))
                pairs_v.append(v)
        if not pairs_g:
            raise ValueError(tr("{name}: no gradients provided for any variable (every "
                                "gradient is None)", name=self.name))
        if missing:
            warnings.warn(tr("Gradients do not exist for variables {missing}; they are not "
                             "updated this step", missing=missing), stacklevel=2)
        self._apply_checked(pairs_g, pairs_v)

    def _apply_checked(self, grads: list, variables: list) -> None:
        """``apply`` after the checks: ndarray gradients of the right dtype and shape."""
        index = self._index
        if self.loss_scale_factor is not None:
            scale = self.loss_scale_factor
            grads = [g / scale for g in grads]
        steps = self.gradient_accumulation_steps
        if steps:
            accumulators = [self._accumulators[index[id(v)]] for v in variables]
            if (self._iterations + 1) % steps == 0:
                self._update([(g + a) / steps for g, a in zip(grads, accumulators)], variables)
                for a in self._accumulators:
                    a.fill(0)
            else:
                for g, a in zip(grads, accumulators):
                    a += g
        else:
            self._update(grads, variables)
        if self.use_ema:
            self._update_moving_averages()
        self._iterations += 1

    def apply_gradients(self, grads_and_vars: Iterable) -> int:
        """``apply`` for a list of ``(grad, variable)`` pairs; returns the raw step count."""
        grads, variables = zip(*grads_and_vars)
        self.apply(list(grads), list(variables))
        return self._iterations

    def _update(self, grads: list, variables: list) -> None:
        grads = clip_gradients(grads, self.clipnorm, self.global_clipnorm, self.clipvalue)
        learning_rate = self._current_learning_rate()
        flat = self._flat
        if flat is not None and flat.covers(variables):
            # flat.py: the same update_step, once per segment of the flat buffers
            self.update_path = "flat"
            if self.weight_decay is not None:
                self._apply_weight_decay(variables, learning_rate, flat=True)
            self._update_variables(flat.segment_grads(grads), flat.stand_ins, learning_rate)
            return
        self.update_path = "per_variable"
        if self.weight_decay is not None:
            self._apply_weight_decay(variables, learning_rate)
        self._update_variables(grads, variables, learning_rate)

    def _update_variables(self, grads: list, variables: list, learning_rate) -> None:
        """One ``update_step`` per variable (Nadam overrides this to update shared state first)."""
        rates = {}
        for g, v in zip(grads, variables):
            lr = rates.get(g.dtype)
            if lr is None:
                lr = rates[g.dtype] = tf_constant(learning_rate, g.dtype)
            self.update_step(g, v, lr)

    def update_step(self, grad: np.ndarray, variable, learning_rate) -> None:
        """Update ``variable.data`` (and this variable's state) in place. ``grad`` must not be
        modified: it can be another tensor's ``.grad``."""
        raise NotImplementedError(tr("{cls} must implement update_step", cls=type(self).__name__))

    # ----- moving average of the weights -----

    def _update_moving_averages(self) -> None:
        steps = self.gradient_accumulation_steps
        count = self._iterations // steps if steps else self._iterations   # Keras's iterations
        first = count == 0
        flat = self._flat
        if flat is not None and flat.adopt():   # flat.py: once per segment
            pairs = [(seg.stand_in.data, self._averages.flat[seg.key]) for seg in flat.segments]
        else:
            pairs = [(v.data, a) for v, a in zip(self._variables, self._averages)]
        for w, average in pairs:
            # NOTE: Keras's momentum is cast(iterations != 0) * ema_momentum: 0 on the first step.
            momentum = w.dtype.type(not first) * self.ema_momentum
            average[...] = momentum * average + (1 - momentum) * w
        frequency = self.ema_overwrite_frequency
        if frequency and (count + 1) % frequency == 0:
            self.finalize_variable_values(self._variables)

    def finalize_variable_values(self, variables: Sequence) -> None:
        """Copy the moving averages into ``variables`` (``fit`` does this at the end)."""
        if not self.use_ema:
            return
        if len(variables) != len(self._averages):
            raise ValueError(tr("{name} holds {n_items} moving averages, received "
                                "{n_variables} variables", name=self.name,
                                n_items=len(self._averages), n_variables=len(variables)))
        for variable, average in zip(variables, self._averages):
            variable.data[...] = average

    # ----- saving and restoring: the state as plain arrays -----

    @property
    def variables(self) -> list[np.ndarray]:
        """Keras's order: iterations (int64), learning_rate (unless a schedule), then the state."""
        out = [np.array(self._iterations, dtype=np.int64)]
        if isinstance(self._learning_rate, Variable):
            out.append(np.array(self._learning_rate.numpy()))
        return out + list(self._state.values())

    def get_state(self) -> dict[str, np.ndarray]:
        """Every number needed to resume training, as plain arrays keyed by stable names.

        Keys: ``iterations`` (the raw call count), ``learning_rate`` (if a float) and
        ``"{variable index}/{slot}"`` or the slot name for optimizer-wide state. The dict
        round-trips through ``np.savez`` / ``np.load(allow_pickle=False)``.

        Example:
            >>> sorted(opt.get_state())  # doctest: +SKIP
            ['0/momentum', '0/velocity', 'iterations', 'learning_rate']
        """
        state = {"iterations": np.array(self._iterations, dtype=np.int64)}
        if isinstance(self._learning_rate, Variable):
            state["learning_rate"] = np.array(self._learning_rate.numpy())
        state.update({k: v.copy() for k, v in self._state.items()})
        return state

    def _built_for_state(self, variables: Sequence | None) -> None:
        """Build on ``variables`` before a ``set_state``, unless already built."""
        if not self.built:
            if variables is None:
                raise ValueError(tr("{name} is not built: pass the variables to set_state, or "
                                    "apply the optimizer once first", name=self.name))
            self.build(variables)

    def set_state(self, state, variables: Sequence | None = None) -> None:
        """Restore :meth:`get_state`; builds on ``variables`` first if not built yet."""
        self._built_for_state(variables)
        missing = sorted(set(self._state) - set(state))
        unknown = sorted(set(state) - set(self._state) - {"iterations", "learning_rate"})
        if missing or unknown:
            raise ValueError(tr("{name}: the saved state does not match this optimizer; "
                                "missing keys {missing}, unexpected keys {unknown}",
                                name=self.name, missing=missing, unknown=unknown))
        for key, array in self._state.items():
            value = np.asarray(state[key])
            if value.shape != array.shape:
                raise ValueError(tr("{name}: state {key!r} has shape {shape}, received {shape2}",
                                    name=self.name, key=key, shape=array.shape, shape2=value.shape))
            array[...] = value
        self._iterations = int(state["iterations"])
        if "learning_rate" in state and isinstance(self._learning_rate, Variable):
            self._learning_rate.assign(np.asarray(state["learning_rate"]))

    # ----- config and printing -----

    def get_config(self) -> dict:
        """Keras's keys in Keras's order; subclasses append their own hyperparameters."""
        lr = self._learning_rate
        if isinstance(lr, LearningRateSchedule):
            lr = schedules_module.serialize(lr)
        elif isinstance(lr, Variable):
            lr = float(lr)
        return {
            "name": self.name,
            "learning_rate": lr,
            "weight_decay": self.weight_decay,
            "clipnorm": self.clipnorm,
            "global_clipnorm": self.global_clipnorm,
            "clipvalue": self.clipvalue,
            "use_ema": self.use_ema,
            "ema_momentum": self.ema_momentum,
            "ema_overwrite_frequency": self.ema_overwrite_frequency,
            "loss_scale_factor": self.loss_scale_factor,
            "gradient_accumulation_steps": self.gradient_accumulation_steps,
        }

    @classmethod
    def from_config(cls, config: dict, custom_objects: dict | None = None) -> Optimizer:
        """The inverse of :meth:`get_config` (a serialized schedule is rebuilt)."""
        config = dict(config)
        if isinstance(config.get("learning_rate"), dict):
            config["learning_rate"] = schedules_module.deserialize(config["learning_rate"],
                                                                   custom_objects)
        return cls(**config)

    _BASE_DEFAULTS = {"weight_decay": None, "clipnorm": None, "global_clipnorm": None,
                      "clipvalue": None, "use_ema": False, "ema_momentum": 0.99,
                      "ema_overwrite_frequency": None, "loss_scale_factor": None,
                      "gradient_accumulation_steps": None}

    def _describe(self, full: bool) -> str:
        lr = self._learning_rate
        parts = [f"learning_rate={float(lr):.6g}" if isinstance(lr, Variable)
                 else f"learning_rate={lr!r}"]
        defaults = type(self)._defaults()
        own, options = [], []
        for key, value in self.get_config().items():
            if key in ("name", "learning_rate"):
                continue
            default = defaults.get(key, self._BASE_DEFAULTS.get(key))
            is_own = key not in self._BASE_DEFAULTS or default != self._BASE_DEFAULTS[key]
            if value != default or (full and is_own):
                (own if is_own else options).append(f"{key}={value!r}")
        return f"{type(self).__name__}({', '.join(parts + own + options)})"

    @classmethod
    def _defaults(cls) -> dict:
        params = inspect.signature(cls.__init__).parameters.values()
        return {p.name: p.default for p in params if p.default is not inspect.Parameter.empty}

    def __repr__(self) -> str:
        """The class with its learning rate, every own hyperparameter and the options set."""
        return self._describe(full=True)

    def __str__(self) -> str:
        """Short, for a plot legend: the learning rate and only what differs from the defaults."""
        return self._describe(full=False)
