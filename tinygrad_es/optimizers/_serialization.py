"""An optimizer as plain values and back: its state arrays (``get_state`` / ``set_state``,
``variables``), its config dict (``get_config`` / ``from_config``) and how it prints."""

from __future__ import annotations

import inspect
from typing import TYPE_CHECKING, Sequence

import numpy as np

from tinygrad_es.optimizers import schedules as schedules_module
from tinygrad_es.optimizers.schedules import LearningRateSchedule
from tinygrad_es.optimizers.variable import Variable

if TYPE_CHECKING:
    from tinygrad_es.optimizers.base import Optimizer


class Serializable:
    """The part of :class:`Optimizer` that saves, restores and prints it (a mixin: it reads the
    attributes ``Optimizer.__init__`` and ``build`` create)."""

    # ----- state -----

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

    def set_state(self, state, variables: Sequence | None = None) -> None:
        """Restore :meth:`get_state`; builds on ``variables`` first if not built yet."""
        if not self.built:
            if variables is None:
                raise ValueError(f"{self.name} is not built: pass the variables to set_state, "
                                 "or apply the optimizer once first")
            self.build(variables)
        missing = sorted(set(self._state) - set(state))
        unknown = sorted(set(state) - set(self._state) - {"iterations", "learning_rate"})
        if missing or unknown:
            raise ValueError(f"{self.name}: the saved state does not match this optimizer; "
                             f"missing keys {missing}, unexpected keys {unknown}")
        for key, array in self._state.items():
            value = np.asarray(state[key])
            if value.shape != array.shape:
                raise ValueError(f"{self.name}: state {key!r} has shape {array.shape}, "
                                 f"received {value.shape}")
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

