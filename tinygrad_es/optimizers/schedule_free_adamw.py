"""Schedule-Free AdamW (Defazio et al., 2024, "The Road Less Scheduled"): no decay schedule, an
interpolation between a fast iterate and its running average instead."""

from __future__ import annotations

import numbers

import numpy as np

from tinygrad_es.optimizers.base import Optimizer, check_number
from tinygrad_es.tfcast import tf_constant
from tinygrad_es.i18n import tr


class ScheduleFreeAdamW(Optimizer):
    r"""Schedule-Free AdamW: gradients move z; the model's weights are y, between z and x = avg(z).

    .. code-block:: text

        input: lr, beta_1, beta_2, epsilon, warmup_steps;   v = 0 and z = w (the "momentum" slot)
        t   = iterations + 1;   lr_t = lr * min(t / warmup_steps, 1)   (lr if warmup_steps = 0)
        v  <- v + (g^2 - v) * (1 - beta_2)
        z  <- z - (lr_t g) / (sqrt(v / (1 - beta_2^t)) + epsilon)
        x   = (y - (1 - beta_1) z) / beta_1          (x recovered from the weights y)
        x  <- (1 - 1/t) x + (1/t) z                 (x is the uniform average of the z's)
        y  <- (1 - beta_1) z + beta_1 x             (the weights: where the gradient is taken)

    Where Keras departs from the paper (Algorithm 1) and the reference code: the weight of the
    average is ``1/t`` (the paper's warmup-weighted ``c_t = lr_t^2 / sum lr_i^2`` is not used);
    and x is recovered from y with the **updated** z (Keras keeps a reference to the momentum
    variable, not a copy of its old value), so after the first step x drifts from the paper's
    average by ``(1 - beta_1) / beta_1`` times each step of z. This class computes exactly what
    Keras computes. Keras keeps y in the model for evaluation too (no swap to x), and so do we.
    Weight decay is the base class's ``w <- w - w * wd * lr`` on y, before the step.

    Args:
        learning_rate: 0.0025 by default.
        beta_1: The interpolation between z and x, in (0, 1].
        beta_2: Decay of the second moment, in [0, 1).
        epsilon: Added to the bias-corrected ``sqrt(v)``.
        warmup_steps: Steps of linear learning-rate warmup from 0 (an integer >= 0).
        **kwargs: The options of :class:`Optimizer`.

    Example:
        >>> print(ScheduleFreeAdamW(warmup_steps=100))
        ScheduleFreeAdamW(learning_rate=0.0025, warmup_steps=100)
    """

    def __init__(self, learning_rate=0.0025, beta_1=0.9, beta_2=0.999, epsilon=1e-8,
                 warmup_steps=0, **kwargs):
        super().__init__(learning_rate, **kwargs)  # the base options: see Optimizer
        self.beta_1 = check_number("beta_1", beta_1, 0.0, 1.0, low_open=True)
        self.beta_2 = check_number("beta_2", beta_2, 0.0, 1.0, high_open=True)
        self.epsilon = check_number("epsilon", epsilon, 0.0)
        if (isinstance(warmup_steps, bool) or not isinstance(warmup_steps, numbers.Integral)
                or warmup_steps < 0):
            raise ValueError(tr("ScheduleFreeAdamW: `warmup_steps` must be an integer >= 0, "
                                "received warmup_steps={warmup_steps!r}",
                                warmup_steps=warmup_steps))
        self.warmup_steps = int(warmup_steps)

    def build(self, variables):
        if self.built:
            return
        super().build(variables)
        self.momentums, self.velocities = self.add_optimizer_variables(
            variables, ["momentum", "velocity"])
        for z, variable in zip(self.momentums, variables):
            z[...] = variable.data  # z starts at the initial weights

    def update_step(self, grad, variable, learning_rate):
        y = variable.data
        i = self._get_variable_index(variable)
        z, v = self.momentums[i], self.velocities[i]
        dtype = y.dtype
        t = dtype.type(self.iterations + 1)
        # NOTE: beta_1, beta_2, epsilon go through float32 (ops.cast), also in (1 - beta).
        beta_1, beta_2 = tf_constant(self.beta_1, dtype), tf_constant(self.beta_2, dtype)
        epsilon = tf_constant(self.epsilon, dtype)
        lr = learning_rate
        if self.warmup_steps > 0:
            lr = lr * np.minimum(t / dtype.type(self.warmup_steps), 1.0)
        bias_correction_2 = 1 - beta_2 ** t
        v += (np.square(grad) - v) * (1 - beta_2)
        z -= (lr * grad) / (np.sqrt(v / bias_correction_2) + epsilon)
        weight = 1.0 / t
        x = (y - (1 - beta_1) * z) / beta_1   # NOTE: Keras's z here is the updated one
        x = (1 - weight) * x + weight * z
        y[...] = (1 - beta_1) * z + beta_1 * x

    def get_config(self):
        return {**super().get_config(), "beta_1": self.beta_1, "beta_2": self.beta_2,
                "epsilon": self.epsilon, "warmup_steps": self.warmup_steps}
