"""Adafactor (Shazeer & Stern, 2018): a second moment in sublinear memory, no first moment."""

from __future__ import annotations

import numpy as np

from tinygrad_es.optimizers.base import Optimizer, check_number
from tinygrad_es.tfcast import tf_constant


def _rms(x: np.ndarray):
    return np.sqrt(np.mean(np.square(x)))


class Adafactor(Optimizer):
    r"""Adafactor: a factored (row x column) second-moment estimate and a relative step size.

    .. code-block:: text

        input: lr, beta_2_decay (-0.8), epsilon_1, epsilon_2, clip_threshold, relative_step
        t       = iterations + 1
        lr      = min(lr, 1 / sqrt(t))                if relative_step and lr is a plain number
        rho_t   = min(lr, 1 / sqrt(t))
        alpha_t = max(epsilon_2, RMS(w)) * rho_t
        G       = g^2 + epsilon_1;    beta_2_t = 1 - t^beta_2_decay     (0 at t = 1)
        rank >= 2:  r <- beta_2_t r + (1 - beta_2_t) mean(G, axis=-1)      row factor
                    c <- beta_2_t c + (1 - beta_2_t) mean(G, axis=-2)      column factor
                    v  = (r / mean(r, axis=-1))[..., None] * c[..., None, :]
        otherwise:  v <- beta_2_t v + (1 - beta_2_t) G
        u       = g / sqrt(v);   u_hat = u / max(1, RMS(u) / clip_threshold)
        w      <- w - alpha_t * u_hat

    Where Keras departs from the paper: there is no first moment (the paper's optional beta_1),
    and the learning rate caps the relative step (the paper uses ``min(1e-2, 1/sqrt(t))``).
    With a schedule or callable learning rate the first min is skipped, as in Keras. A
    variable of rank < 2 keeps a full ``velocity``; a matrix keeps ``r`` and ``c`` and a
    ``velocity`` that is recomputed from them.

    Args:
        learning_rate: 0.001 by default.
        beta_2_decay: The exponent of the second-moment decay schedule.
        epsilon_1: Added to g^2.
        epsilon_2: The least scale of a step, relative to RMS(w).
        clip_threshold: Clip the RMS of the update to this.
        relative_step: Cap the learning rate at 1/sqrt(t).
        **kwargs: The options of :class:`Optimizer`.

    Example:
        >>> print(Adafactor(clip_threshold=2.0))
        Adafactor(learning_rate=0.001, clip_threshold=2.0)
    """

    def __init__(self, learning_rate=0.001, beta_2_decay=-0.8, epsilon_1=1e-30, epsilon_2=1e-3,
                 clip_threshold=1.0, relative_step=True, **kwargs):
        super().__init__(learning_rate, **kwargs)  # the base options: see Optimizer
        self.beta_2_decay = check_number("beta_2_decay", beta_2_decay, high=0.0)
        self.epsilon_1 = check_number("epsilon_1", epsilon_1, 0.0)
        self.epsilon_2 = check_number("epsilon_2", epsilon_2, 0.0)
        self.clip_threshold = check_number("clip_threshold", clip_threshold, 0.0, low_open=True)
        self.relative_step = bool(relative_step)

    def build(self, variables):
        if self.built:
            return
        super().build(variables)
        self.r, self.c, self.v = [], [], []
        for variable in variables:
            shape, dtype = variable.data.shape, variable.data.dtype
            factored = len(shape) >= 2
            self.r.append(self.add_variable(shape[:-1], "r", dtype, reference=variable)
                          if factored else None)
            self.c.append(self.add_variable(shape[:-2] + shape[-1:], "c", dtype,
                                            reference=variable) if factored else None)
            self.v.append(self.add_variable(shape, "velocity", dtype, reference=variable))

    def update_step(self, grad, variable, learning_rate):
        w = variable.data
        dt = w.dtype.type
        i = self._get_variable_index(variable)
        r, c, v = self.r[i], self.c[i], self.v[i]
        t = dt(self.iterations + 1)
        lr = learning_rate
        if self.relative_step and not callable(self._learning_rate):
            lr = np.minimum(lr, 1 / np.sqrt(t))
        rho_t = np.minimum(lr, 1 / np.sqrt(t))
        # NOTE: epsilon_2 goes through float32 (ops.cast), even in float64 mode.
        alpha_t = np.maximum(tf_constant(self.epsilon_2, w.dtype), _rms(w)) * rho_t
        regulated_grad_square = np.square(grad) + self.epsilon_1
        beta_2_t = 1 - np.power(t, self.beta_2_decay)
        if r is not None:
            r[...] = beta_2_t * r + (1 - beta_2_t) * np.mean(regulated_grad_square, axis=-1)
            c[...] = beta_2_t * c + (1 - beta_2_t) * np.mean(regulated_grad_square, axis=-2)
            v[...] = (r / np.mean(r, axis=-1, keepdims=True))[..., None] * c[..., None, :]
        else:
            v[...] = beta_2_t * v + (1 - beta_2_t) * regulated_grad_square
        u_t = grad / np.sqrt(v)
        u_t_hat = u_t / np.maximum(dt(1.0), _rms(u_t) / self.clip_threshold)
        w -= alpha_t * u_t_hat

    def get_config(self):
        return {**super().get_config(), "beta_2_decay": self.beta_2_decay,
                "epsilon_1": self.epsilon_1, "epsilon_2": self.epsilon_2,
                "clip_threshold": self.clip_threshold, "relative_step": self.relative_step}
