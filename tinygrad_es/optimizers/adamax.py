"""Adamax (Kingma & Ba, 2015, section 7.1): Adam with the infinity norm."""

from __future__ import annotations

import numpy as np

from tinygrad_es.optimizers.base import Optimizer, check_number
from tinygrad_es.tfcast import tf_constant


class Adamax(Optimizer):
    r"""Adamax: Adam whose second moment is a decaying maximum of |g|.

    .. code-block:: text

        input: lr, beta_1, beta_2, epsilon;   m, u start at 0
        t  = iterations + 1
        m <- m + (g - m) * (1 - beta_1)
        u <- max(beta_2 * u, |g|)
        w <- w - lr * m / ((1 - beta_1^t) * (u + epsilon))

    Where Keras departs from the paper: epsilon is added to u (the paper has none; PyTorch adds
    it inside the max, ``max(beta_2 u, |g| + eps)``).

    Args:
        learning_rate: 0.001 by default.
        beta_1: Decay of the first moment, in [0, 1).
        beta_2: Decay of the infinity norm, in [0, 1).
        epsilon: Added to u.
        **kwargs: The options of :class:`Optimizer`.

    Example:
        >>> print(Adamax(beta_1=0.8))
        Adamax(learning_rate=0.001, beta_1=0.8)
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
        self.momentums, self.norms = self.add_optimizer_variables(variables, ["momentum", "norm"])

    def update_step(self, grad, variable, learning_rate):
        w = variable.data
        i = self._get_variable_index(variable)
        m, u = self.momentums[i], self.norms[i]
        # NOTE: beta_1 inside beta_1^t goes through float32 (ops.cast); beta_2 * u does not.
        beta_1_power = tf_constant(self.beta_1, w.dtype) ** w.dtype.type(self.iterations + 1)
        m += (grad - m) * (1 - self.beta_1)
        np.maximum(self.beta_2 * u, np.abs(grad), out=u)
        w -= (learning_rate * m) / ((1 - beta_1_power) * (u + self.epsilon))

    def get_config(self):
        return {**super().get_config(), "beta_1": self.beta_1, "beta_2": self.beta_2,
                "epsilon": self.epsilon}
