"""Lion (Chen et al., 2023, "Symbolic Discovery of Optimization Algorithms"): signed momentum."""

from __future__ import annotations

import numpy as np

from tinygrad_es.optimizers.base import Optimizer, check_number
from tinygrad_es.tfcast import tf_constant


class Lion(Optimizer):
    r"""Lion: every coordinate moves by exactly lr, in the direction of an interpolated momentum.

    .. code-block:: text

        input: lr, beta_1, beta_2;   m starts at 0
        w <- w - lr * sign(beta_1 * m + (1 - beta_1) * g)      (sign(0) = 0)
        m <- beta_2 * m + (1 - beta_2) * g

    As in the paper and PyTorch ports; the paper's decoupled weight decay is the base class's
    ``weight_decay`` (applied before the step, as for every Keras optimizer). Use a learning rate
    3-10x smaller than AdamW's.

    Args:
        learning_rate: 0.001 by default.
        beta_1: Interpolation for the update direction, in (0, 1] (Keras's rule).
        beta_2: Decay of the momentum, in [0, 1).
        **kwargs: The options of :class:`Optimizer`.

    Example:
        >>> print(Lion(learning_rate=1e-4))
        Lion(learning_rate=0.0001)
    """

    _elementwise_update = True   # flat.py: update_step may run on segments of flat buffers

    def __init__(self, learning_rate=0.001, beta_1=0.9, beta_2=0.99,
                 **kwargs):
        super().__init__(learning_rate, **kwargs)  # the base options: see Optimizer
        self.beta_1 = check_number("beta_1", beta_1, 0.0, 1.0, low_open=True)
        self.beta_2 = check_number("beta_2", beta_2, 0.0, 1.0, high_open=True)

    def build(self, variables):
        if self.built:
            return
        super().build(variables)
        self.momentums = self.add_optimizer_variables(variables, "momentum")

    def update_step(self, grad, variable, learning_rate):
        w = variable.data
        m = self.momentums[self._get_variable_index(variable)]
        # NOTE: both betas go through float32 (ops.cast), also in (1 - beta).
        beta_1, beta_2 = tf_constant(self.beta_1, w.dtype), tf_constant(self.beta_2, w.dtype)
        w -= learning_rate * np.sign(m * beta_1 + grad * (1.0 - beta_1))
        m[...] = m * beta_2 + grad * (1.0 - beta_2)

    def get_config(self):
        return {**super().get_config(), "beta_1": self.beta_1, "beta_2": self.beta_2}
