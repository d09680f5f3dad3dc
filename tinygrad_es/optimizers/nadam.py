"""Nadam (Dozat, 2016): Adam with Nesterov momentum and a momentum-cache schedule."""

from __future__ import annotations

import numpy as np

from tinygrad_es.optimizers.base import Optimizer, check_number
from tinygrad_es.tfcast import tf_constant


class Nadam(Optimizer):
    r"""Nadam: Adam whose first moment looks one step ahead (Nesterov).

    .. code-block:: text

        input: lr, beta_1, beta_2, epsilon;   m, v start at 0, P (u_product) at 1
        t      = iterations + 1
        mu_t   = beta_1 * (1 - 0.5 * 0.96^t),   mu_t1 = beta_1 * (1 - 0.5 * 0.96^(t+1))
        P     <- P * mu_t                        once per step, before the variables
        m     <- m + (g - m) * (1 - beta_1)
        v     <- v + (g^2 - v) * (1 - beta_2)
        m_hat  = mu_t1 * m / (1 - P * mu_t1) + (1 - mu_t) * g / (1 - P)
        v_hat  = v / (1 - beta_2^t)
        w     <- w - m_hat * lr / (sqrt(v_hat) + epsilon)

    Where Keras departs from the paper and PyTorch: the momentum schedule decays with ``0.96^t``,
    where the paper and PyTorch (``momentum_decay=4e-3``) use ``0.96^(t/250)``; so Keras's mu_t
    is beta_1 within a few dozen steps. Unlike Keras's Adam, epsilon is added to ``sqrt(v_hat)``
    (the bias-corrected v), as in the paper and PyTorch (whose epsilon is 1e-8).

    Args:
        learning_rate: 0.001 by default.
        beta_1: Decay of the first moment, in [0, 1).
        beta_2: Decay of the second moment, in [0, 1).
        epsilon: Added to sqrt(v_hat).
        **kwargs: The options of :class:`Optimizer`.

    Example:
        >>> print(Nadam(learning_rate=0.002))
        Nadam(learning_rate=0.002)
    """

    _elementwise_update = True   # flat.py: update_step may run on segments of flat buffers

    def __init__(self, learning_rate=0.001, beta_1=0.9, beta_2=0.999, epsilon=1e-7,
                 **kwargs):
        super().__init__(learning_rate, **kwargs)  # the base options: see Optimizer
        self.beta_1 = check_number("beta_1", beta_1, 0.0, 1.0, high_open=True)
        self.beta_2 = check_number("beta_2", beta_2, 0.0, 1.0, high_open=True)
        self.epsilon = check_number("epsilon", epsilon, 0.0)

    def build(self, variables):
        if self.built:
            return
        super().build(variables)
        self.momentums, self.velocities = self.add_optimizer_variables(
            variables, ["momentum", "velocity"])
        dtype = variables[0].data.dtype if variables else None
        self.u_product = self.add_variable((), "u_product", dtype, initializer=1.0)

    def _update_variables(self, grads, variables, learning_rate):
        t = self.u_product.dtype.type(self.iterations + 1)
        # NOTE: here Keras uses beta_1 and 0.96 as they are; in update_step both go through float32.
        self.u_product[...] = self.u_product * self.beta_1 * (1.0 - 0.5 * np.power(0.96, t))
        super()._update_variables(grads, variables, learning_rate)

    def update_step(self, grad, variable, learning_rate):
        w = variable.data
        dt = w.dtype.type
        i = self._get_variable_index(variable)
        m, v = self.momentums[i], self.velocities[i]
        t = dt(self.iterations + 1)
        # NOTE: 0.96 and the betas go through float32 (ops.cast), even in float64 mode.
        decay, beta_1, beta_2 = (tf_constant(c, w.dtype) for c in (0.96, self.beta_1, self.beta_2))
        u_t = beta_1 * (1.0 - 0.5 * decay ** t)
        u_t_1 = beta_1 * (1.0 - 0.5 * decay ** (t + 1))
        u_product_t = dt(self.u_product)
        u_product_t_1 = u_product_t * u_t_1
        beta_2_power = beta_2 ** t
        m += (grad - m) * (1 - beta_1)
        v += (np.square(grad) - v) * (1 - beta_2)
        m_hat = (u_t_1 * m) / (1 - u_product_t_1) + ((1 - u_t) * grad) / (1 - u_product_t)
        v_hat = v / (1 - beta_2_power)
        w -= (m_hat * learning_rate) / (np.sqrt(v_hat) + self.epsilon)

    def get_config(self):
        return {**super().get_config(), "beta_1": self.beta_1, "beta_2": self.beta_2,
                "epsilon": self.epsilon}
