"""Adadelta (Zeiler, 2012): steps sized by the running RMS of past steps over that of gradients."""

from __future__ import annotations

import numpy as np

from tinygrad_es.optimizers.base import Optimizer, check_number


class Adadelta(Optimizer):
    r"""Adadelta: units-correct steps from two running averages.

    .. code-block:: text

        input: lr, rho, epsilon;   E[g^2], E[dx^2] start at 0
        E[g^2]  <- rho * E[g^2] + (1 - rho) * g^2
        dx       = -sqrt(E[dx^2] + epsilon) * g / sqrt(E[g^2] + epsilon)
        E[dx^2] <- rho * E[dx^2] + (1 - rho) * dx^2
        w       <- w + lr * dx

    Where Keras departs from the paper and PyTorch: the learning rate defaults to 0.001 (the paper
    has none, i.e. 1.0, as PyTorch's default), so Keras's Adadelta moves 1000x slower out of the
    box; epsilon is 1e-7 (PyTorch: 1e-6).

    Args:
        learning_rate: 0.001 by default; 1.0 gives the paper's method.
        rho: Decay of the running averages, in [0, 1).
        epsilon: Added under both square roots.
        **kwargs: The options of :class:`Optimizer`.

    Example:
        >>> print(Adadelta(learning_rate=1.0))
        Adadelta(learning_rate=1)
    """

    _elementwise_update = True   # flat.py: update_step may run on segments of flat buffers

    def __init__(self, learning_rate=0.001, rho=0.95, epsilon=1e-7,
                 **kwargs):
        super().__init__(learning_rate, **kwargs)  # the base options: see Optimizer
        self.rho = check_number("rho", rho, 0.0, 1.0, high_open=True)
        self.epsilon = check_number("epsilon", epsilon, 0.0)

    def build(self, variables):
        if self.built:
            return
        super().build(variables)
        self.accumulated_grads, self.accumulated_delta_vars = self.add_optimizer_variables(
            variables, ["accumulated_grad", "accumulated_delta_var"])

    def update_step(self, grad, variable, learning_rate):
        i = self._get_variable_index(variable)
        rho, eps = self.rho, self.epsilon
        accumulated_grad = self.accumulated_grads[i]
        accumulated_delta = self.accumulated_delta_vars[i]
        accumulated_grad[...] = rho * accumulated_grad + (1 - rho) * np.square(grad)
        delta = -((np.sqrt(accumulated_delta + eps) * grad) / np.sqrt(accumulated_grad + eps))
        accumulated_delta[...] = rho * accumulated_delta + (1 - rho) * np.square(delta)
        variable.data += learning_rate * delta

    def get_config(self):
        return {**super().get_config(), "rho": self.rho, "epsilon": self.epsilon}
