"""Adam (Kingma & Ba, 2015), AMSGrad (Reddi et al., 2018) and AdamW (Loshchilov & Hutter, 2019)."""

from __future__ import annotations

import numpy as np

from tinygrad_es.optimizers.base import Optimizer, check_number
from tinygrad_es.tfcast import tf_constant
from tinygrad_es.i18n import tr


class Adam(Optimizer):
    r"""Adam: momentum on the gradient, scaled by a running RMS of the gradient.

    .. code-block:: text

        input: lr, beta_1, beta_2, epsilon, amsgrad;   m, v (, v_hat) start at 0
        t      = iterations + 1
        alpha  = lr * sqrt(1 - beta_2^t) / (1 - beta_1^t)
        m     <- m + (g - m) * (1 - beta_1)          = beta_1 m + (1 - beta_1) g
        v     <- v + (g^2 - v) * (1 - beta_2)        = beta_2 v + (1 - beta_2) g^2
        amsgrad: v_hat <- max(v_hat, v), and v_hat replaces v below
        w     <- w - m * alpha / (sqrt(v) + epsilon)

    Where Keras departs from the paper and PyTorch: epsilon is added to the square root of the
    **uncorrected** v (the paper's "epsilon hat" form, Algorithm 1's last remark), not to
    ``sqrt(v_hat)``; epsilon is 1e-7, not 1e-8. With a small v the two forms differ a lot.
    AMSGrad keeps the maximum of the uncorrected v (PyTorch does the same).

    Args:
        learning_rate: 0.001 by default.
        beta_1: Decay of the first moment, in [0, 1).
        beta_2: Decay of the second moment, in [0, 1).
        epsilon: Added to ``sqrt(v)``.
        amsgrad: Use the running maximum of v.
        **kwargs: The options of :class:`Optimizer`.

    Example:
        >>> Adam(amsgrad=True)
        Adam(learning_rate=0.001, beta_1=0.9, beta_2=0.999, epsilon=1e-07, amsgrad=True)
    """

    _elementwise_update = True   # flat.py: update_step may run on segments of flat buffers

    def __init__(self, learning_rate=0.001, beta_1=0.9, beta_2=0.999, epsilon=1e-7,
                 amsgrad=False, **kwargs):
        super().__init__(learning_rate, **kwargs)  # the base options: see Optimizer
        self.beta_1 = check_number("beta_1", beta_1, 0.0, 1.0, high_open=True)
        self.beta_2 = check_number("beta_2", beta_2, 0.0, 1.0, high_open=True)
        self.epsilon = check_number("epsilon", epsilon, 0.0)
        self.amsgrad = bool(amsgrad)

    def build(self, variables):
        if self.built:
            return
        super().build(variables)
        self.momentums, self.velocities = self.add_optimizer_variables(
            variables, ["momentum", "velocity"])
        if self.amsgrad:
            self.velocity_hats = self.add_optimizer_variables(variables, "velocity_hat")

    def update_step(self, grad, variable, learning_rate):
        w = variable.data
        i = self._get_variable_index(variable)
        m, v = self.momentums[i], self.velocities[i]
        t = w.dtype.type(self.iterations + 1)
        # NOTE: the betas inside beta^t go through float32 (ops.cast), the (1 - beta) do not.
        beta_1_power = tf_constant(self.beta_1, w.dtype) ** t
        beta_2_power = tf_constant(self.beta_2, w.dtype) ** t
        alpha = learning_rate * np.sqrt(1 - beta_2_power) / (1 - beta_1_power)
        m += (grad - m) * (1 - self.beta_1)
        v += (np.square(grad) - v) * (1 - self.beta_2)
        if self.amsgrad:
            v_hat = self.velocity_hats[i]
            np.maximum(v_hat, v, out=v_hat)
            v = v_hat
        w -= (m * alpha) / (np.sqrt(v) + self.epsilon)

    def get_config(self):
        return {**super().get_config(), "beta_1": self.beta_1, "beta_2": self.beta_2,
                "epsilon": self.epsilon, "amsgrad": self.amsgrad}


class AdamW(Adam):
    r"""Adam with decoupled weight decay: the base class's decay step, then Adam.

    .. code-block:: text

        w <- w - w * weight_decay * lr        (every variable, biases too, unless excluded)
        then the Adam step

    Where Keras departs from PyTorch: the decay is ``w * wd * lr`` before the Adam step (PyTorch:
    ``w * (1 - lr * wd)`` first as well, same value up to rounding), the default weight decay is
    0.004 (PyTorch: 0.01), and it applies to biases unless ``exclude_from_weight_decay`` says so.
    Any optimizer does the same with ``weight_decay=...``; AdamW only changes the default.

    Example:
        >>> print(AdamW(learning_rate=0.01))
        AdamW(learning_rate=0.01)
    """

    def __init__(self, learning_rate=0.001, weight_decay=0.004, beta_1=0.9, beta_2=0.999,
                 epsilon=1e-7, amsgrad=False, **kwargs):
        if weight_decay is None:
            raise ValueError(tr("Argument `weight_decay` must be a float. Received: "
                                "weight_decay=None"))
        super().__init__(learning_rate, beta_1=beta_1, beta_2=beta_2, epsilon=epsilon,
                         amsgrad=amsgrad, weight_decay=weight_decay, **kwargs)
