"""LossScaleOptimizer: dynamic loss scaling (Micikevicius et al., 2018, "Mixed Precision
Training") around any optimizer, as Keras 3 does it on its TensorFlow backend."""

from __future__ import annotations

import numbers
from typing import Sequence

import numpy as np

from tinygrad_es import config
from tinygrad_es.optimizers.base import Optimizer, check_number
from tinygrad_es.i18n import tr

_BASE_DEFAULTS = {"weight_decay": None, "clipnorm": None, "global_clipnorm": None,
                  "clipvalue": None, "use_ema": False, "ema_momentum": 0.99,
                  "ema_overwrite_frequency": None, "loss_scale_factor": None,
                  "gradient_accumulation_steps": None}


def all_finite(grads: Sequence) -> bool:
    """True when no gradient (``None`` skipped) holds an inf or a NaN."""
    return all(np.isfinite(getattr(g, "data", g)).all() for g in grads if g is not None)


class LossScaleOptimizer(Optimizer):
    r"""Multiply the loss by a scale S before backward, divide the gradients by S, adapt S.

    .. code-block:: text

        input: inner optimizer, initial_scale S0, dynamic_growth_steps N;   S = S0, k = 0
        fit:   the gradients are those of S * loss (``scale_loss``)
        apply(g):
            if every g is finite:   inner.apply(g / S)
                                    if k = N - 1:  S <- 2 S, k <- 0   else  k <- k + 1
            else (an inf or NaN):   skip the step (inner state and iterations unchanged)
                                    S <- S / 2, k <- 0

    As Keras 3: S is a float32 scalar (so it overflows to inf past 2^127), ``k`` an int64; the
    inner optimizer's ``loss_scale_factor`` is set to None so the gradients are not unscaled twice;
    ``iterations`` and ``learning_rate`` are the inner optimizer's. With S a power of two the
    scaling is exact: the steps that are not skipped are bit for bit those of the inner optimizer.

    Args:
        inner_optimizer: The :class:`Optimizer` to wrap.
        initial_scale: S0 (default 2^15).
        dynamic_growth_steps: N, the finite steps after which S doubles (default 2000).
        name: The optimizer's name.

    Example:
        >>> from tinygrad_es.optimizers import SGD
        >>> from tinygrad_es.tensor import Tensor
        >>> opt = LossScaleOptimizer(SGD(0.5), initial_scale=8.0)
        >>> w = Tensor([1.0])
        >>> opt.apply([np.array([np.inf])], [w]); opt.apply([np.array([4.0])], [w])
        >>> float(opt.dynamic_scale), w.data          # skipped, halved; then 1 - 0.5 * 4 / 4
        (4.0, array([0.5], dtype=float32))
    """

    def __init__(self, inner_optimizer: Optimizer, initial_scale: float = 2.0 ** 15,
                 dynamic_growth_steps: int = 2000, name: str | None = None, **kwargs):
        if not kwargs.pop("dynamic", True):
            raise ValueError(tr("LossScaleOptimizer no longer supports `dynamic=False`. "
                                "Instead, set `loss_scale_factor` directly on the "
                                "`inner_optimizer`."))
        for key, default in _BASE_DEFAULTS.items():  # Keras's old configs list the defaults
            if key in kwargs and kwargs.pop(key) != default:
                raise ValueError(tr("LossScaleOptimizer does not support `{key}`. Instead, set "
                                    "`{key}` on the `inner_optimizer`.", key=key))
        if kwargs:
            raise ValueError(tr("LossScaleOptimizer does not support arguments: {kwargs}",
                                kwargs=sorted(kwargs)))
        if not isinstance(inner_optimizer, Optimizer):
            raise TypeError(tr("LossScaleOptimizer: `inner_optimizer` must be an Optimizer, "
                               "received {inner_optimizer!r}", inner_optimizer=inner_optimizer))
        check_number("initial_scale", initial_scale, 0.0, low_open=True)
        if isinstance(dynamic_growth_steps, bool) or not isinstance(
                dynamic_growth_steps, numbers.Integral) or dynamic_growth_steps < 1:
            raise ValueError(tr("LossScaleOptimizer: `dynamic_growth_steps` must be an integer "
                                ">= 1, received dynamic_growth_steps={dynamic_growth_steps!r}",
                                dynamic_growth_steps=dynamic_growth_steps))
        super().__init__(0.0, name=name)
        self.inner_optimizer = inner_optimizer
        self.initial_scale = initial_scale
        self.dynamic_growth_steps = int(dynamic_growth_steps)
        self._placeholder_dtype = np.dtype(config.floatx())
        inner_optimizer.loss_scale_factor = None

    # ----- what the inner optimizer owns -----

    @property
    def learning_rate(self):
        """The inner optimizer's (settable)."""
        return self.inner_optimizer.learning_rate

    @learning_rate.setter
    def learning_rate(self, value) -> None:
        inner = self.__dict__.get("inner_optimizer")
        if inner is not None:  # None: Optimizer.__init__ storing its placeholder rate
            inner.learning_rate = value

    @property
    def iterations(self):
        """The inner optimizer's: a skipped step does not count."""
        return self.inner_optimizer.iterations

    def slots(self, variable) -> dict:
        return self.inner_optimizer.slots(variable)

    def finalize_variable_values(self, variables: Sequence) -> None:
        self.inner_optimizer.finalize_variable_values(variables)

    # ----- the scale -----

    def build(self, variables: Sequence) -> None:
        if self.built:
            return
        self.inner_optimizer.build(variables)
        self._variables = list(variables)
        self.step_counter = np.array(0, dtype=np.int64)
        self.dynamic_scale = np.array(self.initial_scale, dtype=np.float32)
        self.built = True

    def scale_loss(self, loss):
        """``loss * S`` (``fit`` differentiates this; the logged loss stays unscaled)."""
        scale = self.dynamic_scale[()] if self.built else self.initial_scale
        return loss * scale

    def apply(self, grads: Sequence, variables: Sequence | None = None) -> None:
        """Unscale and apply ``grads`` if all are finite, else skip; then adapt the scale."""
        if len(grads) == 0:
            return
        variables = self._variables_for(grads, variables)
        if not all_finite(grads):
            self.step_counter[...] = 0
            self.dynamic_scale *= np.float32(0.5)
            return
        scale = self.dynamic_scale[()]
        self.inner_optimizer.apply(
            [None if g is None else getattr(g, "data", g) / scale for g in grads], variables)
        if self.step_counter == self.dynamic_growth_steps - 1:
            self.step_counter[...] = 0
            self.dynamic_scale *= np.float32(2.0)
        else:
            self.step_counter += 1

    # ----- state, config, printing -----

    @property
    def variables(self) -> list[np.ndarray]:
        """Keras's order: its own (unused) iteration count and rate, the counter, the scale, then
        the inner optimizer's variables."""
        own = [np.array(0, dtype=np.int64), np.array(0.0, dtype=self._placeholder_dtype)]
        if self.built:
            own += [self.step_counter, self.dynamic_scale]
        return own + list(self.inner_optimizer.variables)

    def get_state(self) -> dict[str, np.ndarray]:
        """The inner optimizer's ``iterations`` and ``learning_rate`` as the top-level keys, its
        slots under ``inner/``, then ``step_counter`` and ``dynamic_scale``.
        """
        state = {}
        for key, value in self.inner_optimizer.get_state().items():
            state[key if key in ("iterations", "learning_rate") else f"inner/{key}"] = value
        if self.built:
            state["step_counter"] = self.step_counter.copy()
            state["dynamic_scale"] = self.dynamic_scale.copy()
        return state

    def set_state(self, state, variables: Sequence | None = None) -> None:
        self._built_for_state(variables)
        missing = sorted({"step_counter", "dynamic_scale"} - set(state))
        if missing:
            raise ValueError(tr("{name}: the saved state has no {missing}", name=self.name,
                                missing=missing))
        inner = {k[len("inner/"):]: v for k, v in state.items() if k.startswith("inner/")}
        inner.update({k: state[k] for k in ("iterations", "learning_rate") if k in state})
        self.inner_optimizer.set_state(inner, variables)
        self.step_counter[...] = np.asarray(state["step_counter"])
        self.dynamic_scale[...] = np.asarray(state["dynamic_scale"])

    def get_config(self) -> dict:
        from tinygrad_es.optimizers import serialize

        return {"name": self.name, "inner_optimizer": serialize(self.inner_optimizer),
                "initial_scale": self.initial_scale,
                "dynamic_growth_steps": self.dynamic_growth_steps}

    @classmethod
    def from_config(cls, config: dict, custom_objects: dict | None = None):
        from tinygrad_es.optimizers import deserialize

        config = dict(config)
        inner = deserialize(config.pop("inner_optimizer"), custom_objects)
        return cls(inner, **config)

    def __repr__(self) -> str:
        return (f"LossScaleOptimizer({self.inner_optimizer!r}, initial_scale="
                f"{self.initial_scale!r}, dynamic_growth_steps={self.dynamic_growth_steps})")

    def __str__(self) -> str:
        return f"LossScaleOptimizer({self.inner_optimizer})"
