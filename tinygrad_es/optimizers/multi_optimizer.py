"""Different optimizers for different variables: ``OptimizerMap`` (variable path -> optimizer)
and ``MultiOptimizer`` (the optimizer ``compile`` sees, which hands each variable to its own)."""

from __future__ import annotations

import re
from collections.abc import MutableMapping
from typing import Callable, Sequence

import numpy as np

from tinygrad_es import config
from tinygrad_es.optimizers.base import Optimizer
from tinygrad_es.optimizers.loss_scale_optimizer import LossScaleOptimizer
from tinygrad_es.optimizers.muon import variable_path
from tinygrad_es.i18n import tr


def _check_inner(optimizer, where: str) -> None:
    if not isinstance(optimizer, Optimizer):
        raise ValueError(tr("{where}: expected an Optimizer instance, received {optimizer!r}",
                            where=where, optimizer=optimizer))
    if isinstance(optimizer, (LossScaleOptimizer, MultiOptimizer)):
        raise ValueError(tr("{where}: a {cls} cannot be used inside a MultiOptimizer (wrap the "
                            "MultiOptimizer instead)", where=where, cls=type(optimizer).__name__))


class OptimizerMap(MutableMapping):
    """Variable paths (exact, or regular expressions matched in full) to optimizers.

    A key is looked up exactly first, then as a pattern with ``re.fullmatch``: ``"encoder/.*"``
    matches every weight under ``encoder``, ``"encoder"`` only that exact path. Two matching
    patterns are an error; no match gives ``default_optimizer``. Calling the map with a variable
    looks up its path (:func:`~tinygrad_es.optimizers.muon.variable_path`; ours is
    ``"layer/weight"``, without Keras's ``"sequential/"`` model prefix).

    Args:
        default_optimizer: The optimizer of every variable no key matches.
        optimizer_map: An initial ``{key: optimizer}`` dict.

    Example:
        >>> from tinygrad_es.optimizers import SGD, Adam
        >>> m = OptimizerMap(SGD(name="slow"), {"out/.*": Adam(name="fast")})
        >>> m["out/kernel"].name, m["hidden/kernel"].name
        ('fast', 'slow')
    """

    def __init__(self, default_optimizer: Optimizer, optimizer_map: dict | None = None):
        if not isinstance(default_optimizer, Optimizer):
            raise TypeError(tr("OptimizerMap: default_optimizer must be an Optimizer instance, "
                               "received {default_optimizer!r}",
                               default_optimizer=default_optimizer))
        if optimizer_map is not None and not isinstance(optimizer_map, dict):
            raise TypeError(tr("OptimizerMap: optimizer_map must be a dict, received "
                               "{optimizer_map!r}", optimizer_map=optimizer_map))
        self._default_optimizer = default_optimizer
        self._optimizer_map: dict[str, Optimizer] = {}
        for key, optimizer in (optimizer_map or {}).items():
            self[key] = optimizer

    @property
    def default_optimizer(self) -> Optimizer:
        return self._default_optimizer

    def __getitem__(self, key: str) -> Optimizer:
        if key in self._optimizer_map:
            return self._optimizer_map[key]
        matches = [p for p in self._optimizer_map if re.fullmatch(p, key)]
        if len(matches) > 1:
            raise ValueError(tr("Multiple optimizers assigned to variable {key!r}: patterns "
                                "{matches} all match", key=key, matches=matches))
        return self._optimizer_map[matches[0]] if matches else self._default_optimizer

    def __setitem__(self, key: str, optimizer: Optimizer) -> None:
        if not isinstance(key, str):
            raise ValueError(tr("OptimizerMap: a key must be a string, received {key!r}", key=key))
        if key in self._optimizer_map:
            raise ValueError(tr("{key!r} already exists in the OptimizerMap with value "
                                "{optimizer_map}; keys must not repeat", key=key,
                                optimizer_map=self._optimizer_map[key]))
        _check_inner(optimizer, f"OptimizerMap[{key!r}]")
        self._optimizer_map[key] = optimizer

    def __delitem__(self, key: str) -> None:
        del self._optimizer_map[key]

    def __len__(self) -> int:
        return len(self._optimizer_map)

    def __iter__(self):
        return iter(self._optimizer_map)

    def __call__(self, variable) -> Optimizer:
        return self[variable_path(variable)]

    def get_config(self) -> dict:
        from tinygrad_es.optimizers import serialize

        return {"default_optimizer": serialize(self._default_optimizer),
                "optimizer_map": {k: serialize(v) for k, v in self._optimizer_map.items()}}

    @classmethod
    def from_config(cls, config: dict, custom_objects: dict | None = None) -> OptimizerMap:
        from tinygrad_es.optimizers import deserialize

        default = deserialize(config["default_optimizer"], custom_objects)
        return cls(default, {k: deserialize(v, custom_objects)
                             for k, v in (config.get("optimizer_map") or {}).items()})


class MultiOptimizer(Optimizer):
    r"""Each variable is updated by the optimizer an :class:`OptimizerMap` (or a function) picks.

    .. code-block:: text

        build:  for each variable v, in order: opt = optimizer_map(v); opt.build(its variables)
        apply:  group (g, v) by optimizer, keeping the order; opt.apply(its g, its v) for each
                optimizer, in the order first seen (the map's values, then its default, then
                any other a function returned); iterations <- iterations + 1

    As Keras 3: the inner optimizers keep their own learning rates, schedules, iteration counts and
    options, so a MultiOptimizer has no ``learning_rate`` (reading or setting it is an
    AttributeError; use :attr:`optimizers`). ``loss_scale_factor`` overrides the inner optimizers'
    (``fit`` multiplies the loss by it, each inner optimizer divides its gradients).

    Args:
        optimizer_map: An :class:`OptimizerMap`, or a function ``variable -> Optimizer``.
        loss_scale_factor: Given to every inner optimizer.
        name: The optimizer's name.

    Example:
        >>> from tinygrad_es.optimizers import SGD, Adam
        >>> opt = MultiOptimizer(OptimizerMap(SGD(0.1), {"out/.*": Adam()}))
        >>> [type(o).__name__ for o in opt.optimizers]
        ['Adam', 'SGD']
    """

    def __init__(self, optimizer_map: OptimizerMap | Callable, loss_scale_factor=None,
                 name: str | None = None):
        if not callable(optimizer_map):
            raise TypeError(tr("MultiOptimizer: optimizer_map must be an OptimizerMap or a "
                               "function variable -> Optimizer, received {optimizer_map!r}",
                               optimizer_map=optimizer_map))
        super().__init__(0.0, loss_scale_factor=loss_scale_factor, name=name)
        self._optimizer_map = optimizer_map
        self._placeholder_dtype = np.dtype(config.floatx())
        inner: list[Optimizer] = []
        for opt in list(getattr(optimizer_map, "values", lambda: [])()) + [
                getattr(optimizer_map, "default_optimizer", None)]:
            if opt is not None and not any(opt is o for o in inner):
                inner.append(opt)
        self._inner_optimizers = inner
        self.loss_scale_factor = loss_scale_factor  # now that the inner ones are known

    # ----- what the inner optimizers own -----

    @property
    def optimizers(self) -> list[Optimizer]:
        """The inner optimizers, in the order they update."""
        return self._inner_optimizers

    @property
    def learning_rate(self):
        raise AttributeError(tr("Learning rate cannot be accessed on a MultiOptimizer. Access "
                                "the learning rate on the individual sub-optimizers "
                                "(.optimizers)."))

    @learning_rate.setter
    def learning_rate(self, value) -> None:
        if "_inner_optimizers" in self.__dict__:  # else: Optimizer.__init__'s placeholder
            raise AttributeError(tr("Learning rate cannot be set on a MultiOptimizer. Set it "
                                    "on the individual sub-optimizers (.optimizers)."))

    @property
    def loss_scale_factor(self):
        return self.__dict__.get("_loss_scale_factor")

    @loss_scale_factor.setter
    def loss_scale_factor(self, value) -> None:
        self._loss_scale_factor = value
        for opt in self.__dict__.get("_inner_optimizers", ()):
            opt.loss_scale_factor = value

    def scale_loss(self, loss):
        """``loss * loss_scale_factor`` (or the loss itself), what ``fit`` differentiates."""
        return loss if self.loss_scale_factor is None else loss * self.loss_scale_factor

    def _owner(self, variable) -> Optimizer:
        return self._inner_optimizers[self._owner_index[id(variable)]]

    def slots(self, variable) -> dict:
        if not self.built or id(variable) not in self._owner_index:
            raise ValueError(tr("{name} has no state for this variable (built={built})",
                                name=self.name, built=self.built))
        return self._owner(variable).slots(variable)

    # ----- build and apply -----

    def build(self, variables: Sequence) -> None:
        if self.built:
            return
        self._variables = list(variables)
        self._owner_index: dict[int, int] = {}
        for variable in self._variables:
            opt = self._optimizer_map(variable)
            _check_inner(opt, f"MultiOptimizer, for variable {variable_path(variable)!r}")
            if not any(opt is o for o in self._inner_optimizers):
                opt.loss_scale_factor = self.loss_scale_factor
                self._inner_optimizers.append(opt)
            self._owner_index[id(variable)] = next(
                k for k, o in enumerate(self._inner_optimizers) if o is opt)
        for k, opt in enumerate(self._inner_optimizers):
            own = self._variables_of(k, self._variables)
            if own:
                opt.build(own)
        self.built = True

    def _variables_of(self, k: int, variables: Sequence) -> list:
        return [v for v in variables if self._owner_index[id(v)] == k]

    def apply(self, grads: Sequence, variables: Sequence | None = None) -> None:
        """Hand every (gradient, variable) pair to its optimizer; then count one step."""
        if len(grads) == 0:
            return
        variables = self._variables_for(grads, variables)
        groups: list[tuple[list, list]] = [([], []) for _ in self._inner_optimizers]
        for g, v in zip(grads, variables):
            if id(v) not in self._owner_index:
                raise ValueError(tr("{name} was built for other variables; unknown variable "
                                    "{value!r}", name=self.name, value=variable_path(v) or v))
            group = groups[self._owner_index[id(v)]]
            group[0].append(g)
            group[1].append(v)
        for opt, (sub_grads, sub_vars) in zip(self._inner_optimizers, groups):
            if sub_grads:
                opt.apply(sub_grads, sub_vars)
        self._iterations += 1

    def finalize_variable_values(self, variables: Sequence) -> None:
        for k, opt in enumerate(self._inner_optimizers):
            own = self._variables_of(k, variables)
            if own:
                opt.finalize_variable_values(own)

    # ----- state, config, printing -----

    @property
    def variables(self) -> list[np.ndarray]:
        """Keras's order: its own iteration count and (unused) rate, then each inner optimizer's."""
        out = [np.array(self._iterations, dtype=np.int64),
               np.array(0.0, dtype=self._placeholder_dtype)]
        for opt in self._inner_optimizers:
            out += list(opt.variables)
        return out

    def get_state(self) -> dict[str, np.ndarray]:
        """``iterations`` and each inner optimizer's state under ``optimizers/<k>/``."""
        state = {"iterations": np.array(self._iterations, dtype=np.int64)}
        for k, opt in enumerate(self._inner_optimizers):
            if opt.built:
                state.update({f"optimizers/{k}/{key}": v for key, v in opt.get_state().items()})
        return state

    def set_state(self, state, variables: Sequence | None = None) -> None:
        self._built_for_state(variables)
        for k, opt in enumerate(self._inner_optimizers):
            prefix = f"optimizers/{k}/"
            sub = {key[len(prefix):]: v for key, v in state.items() if key.startswith(prefix)}
            if opt.built:
                opt.set_state(sub)
            elif sub:
                raise ValueError(tr("{name}: the saved state has entries for optimizer {k} "
                                    "({cls}), which updates no variable here", name=self.name, k=k,
                                    cls=type(opt).__name__))
        self._iterations = int(state["iterations"])

    def get_config(self) -> dict:
        optimizer_map = self._optimizer_map
        if isinstance(optimizer_map, OptimizerMap):
            serialized = {"class_name": "OptimizerMap", "config": optimizer_map.get_config()}
        else:  # a function: saved by name, found again through custom_objects
            serialized = {"class_name": "function",
                          "config": getattr(optimizer_map, "__name__", repr(optimizer_map))}
        return {"optimizer_map": serialized, "loss_scale_factor": self.loss_scale_factor,
                "name": self.name}

    @classmethod
    def from_config(cls, config: dict, custom_objects: dict | None = None) -> MultiOptimizer:
        config = dict(config)
        spec = config.pop("optimizer_map")
        if isinstance(spec, dict) and spec.get("class_name") == "OptimizerMap":
            optimizer_map = OptimizerMap.from_config(spec["config"], custom_objects)
        elif isinstance(spec, dict) and spec.get("class_name") == "function":
            name = spec.get("config")
            optimizer_map = (custom_objects or {}).get(name)
            if optimizer_map is None:
                raise ValueError(tr("MultiOptimizer: the optimizer_map is the function "
                                    "{name!r}; pass it in custom_objects={{name: function}} to "
                                    "load it", name=name))
        else:
            optimizer_map = spec
        return cls(optimizer_map, **config)

    def __repr__(self) -> str:
        inner = ", ".join(repr(o) for o in self._inner_optimizers)
        lsf = f", loss_scale_factor={self.loss_scale_factor}" if self.loss_scale_factor else ""
        return f"MultiOptimizer([{inner}]{lsf})"

    def __str__(self) -> str:
        return f"MultiOptimizer([{', '.join(str(o) for o in self._inner_optimizers)}])"
