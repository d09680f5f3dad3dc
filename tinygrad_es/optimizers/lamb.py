"""LAMB (You et al., 2020, "Large Batch Optimization for Deep Learning"): layer-wise trust ratio."""

from __future__ import annotations

import numpy as np

from tinygrad_es.optimizers.base import Optimizer, check_number
from tinygrad_es.tfcast import tf_constant


class Lamb(Optimizer):
    r"""LAMB: the bias-corrected Adam direction, rescaled per variable by ||w|| / ||direction||.

    .. code-block:: text

        input: lr, beta_1, beta_2, epsilon;   m, v start at 0
        t  = iterations + 1
        m <- m + (g - m) * (1 - beta_1)
        v <- v + (g^2 - v) * (1 - beta_2)
        r  = (m / (1 - beta_1^t)) / (sqrt(v / (1 - beta_2^t)) + epsilon)
        ratio = ||w|| / ||r||   if both norms > 0, else 1
        w <- w - ratio * lr * r

    Where Keras departs from the paper: the paper's weight decay term ``+ lambda w`` inside r is
    not there (use the base class's decoupled ``weight_decay``), and the paper's scaling function
    phi is the identity. Keras exports ``keras.optimizers.Lamb`` but its string registry does not
    know "lamb"; ours does.

    Args:
        learning_rate: 0.001 by default.
        beta_1: Decay of the first moment, in [0, 1).
        beta_2: Decay of the second moment, in [0, 1).
        epsilon: Added to the corrected sqrt(v).
        **kwargs: The options of :class:`Optimizer`.

    Example:
        >>> print(Lamb(learning_rate=0.01))
        Lamb(learning_rate=0.01)
    """

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

    def update_step(self, grad, variable, learning_rate):
        w = variable.data
        i = self._get_variable_index(variable)
        m, v = self.momentums[i], self.velocities[i]
        t = w.dtype.type(self.iterations + 1)
        # NOTE: the betas inside beta^t go through float32 (ops.cast), the (1 - beta) do not.
        beta_1_power = tf_constant(self.beta_1, w.dtype) ** t
        beta_2_power = tf_constant(self.beta_2, w.dtype) ** t
        m += (grad - m) * (1 - self.beta_1)
        v += (np.square(grad) - v) * (1 - self.beta_2)
        update = (m / (1.0 - beta_1_power)) / (np.sqrt(v / (1.0 - beta_2_power)) + self.epsilon)
        w_norm = np.sqrt(np.sum(np.square(w)))
        g_norm = np.sqrt(np.sum(np.square(update)))
        ratio = w_norm / g_norm if w_norm > 0 and g_norm > 0 else w.dtype.type(1.0)
        w -= ratio * learning_rate * update

    def get_config(self):
        return {**super().get_config(), "beta_1": self.beta_1, "beta_2": self.beta_2,
                "epsilon": self.epsilon}
