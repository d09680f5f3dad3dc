"""RMSprop (Hinton, 2012, lecture 6e), with momentum and the centered variant (Graves, 2013)."""

from __future__ import annotations

import numpy as np

from tinygrad_es.optimizers.base import Optimizer, check_number


class RMSprop(Optimizer):
    r"""RMSprop: divide the gradient by a running RMS of recent gradients.

    .. code-block:: text

        input: lr, rho, momentum, epsilon, centered;   v, a, b start at 0
        v <- rho * v + (1 - rho) * g^2
        centered:  a <- rho * a + (1 - rho) * g;   d = v - a^2 + epsilon
        otherwise:                                 d = v + epsilon
        inc = lr * g / sqrt(d)
        momentum > 0:  b <- momentum * b + inc;  w <- w - b
        otherwise:                               w <- w - inc

    Where Keras departs from PyTorch: epsilon is **inside** the square root (PyTorch:
    ``sqrt(v) + eps``, eps 1e-8), rho is 0.9 (PyTorch's alpha: 0.99), and the learning rate is
    inside the momentum buffer (PyTorch: ``b <- momentum b + g / (sqrt(v) + eps); w -= lr b``).

    Args:
        learning_rate: 0.001 by default.
        rho: Decay of the running averages, in [0, 1).
        momentum: In [0, 1); 0 keeps no momentum buffer.
        epsilon: Added under the square root.
        centered: Subtract the square of the running mean gradient (an estimate of the variance).
        **kwargs: The options of :class:`Optimizer`.

    Example:
        >>> print(RMSprop(momentum=0.9, centered=True))
        RMSprop(learning_rate=0.001, momentum=0.9, centered=True)
    """

    _elementwise_update = True   # flat.py: update_step may run on segments of flat buffers

    def __init__(self, learning_rate=0.001, rho=0.9, momentum=0.0, epsilon=1e-7, centered=False,
                 **kwargs):
        super().__init__(learning_rate, **kwargs)  # the base options: see Optimizer
        self.rho = check_number("rho", rho, 0.0, 1.0, high_open=True)
        self.momentum = check_number("momentum", momentum, 0.0, 1.0, high_open=True)
        self.epsilon = check_number("epsilon", epsilon, 0.0)
        self.centered = bool(centered)

    def build(self, variables):
        if self.built:
            return
        super().build(variables)
        self.velocities = self.add_optimizer_variables(variables, "velocity")
        self.momentums = []
        if self.momentum > 0:
            self.momentums = self.add_optimizer_variables(variables, "momentum")
        self.average_gradients = []
        if self.centered:
            self.average_gradients = self.add_optimizer_variables(variables, "average_gradient")

    def update_step(self, grad, variable, learning_rate):
        i = self._get_variable_index(variable)
        rho = self.rho
        velocity = self.velocities[i]
        velocity[...] = rho * velocity + (1 - rho) * np.square(grad)
        if self.centered:
            average_grad = self.average_gradients[i]
            average_grad[...] = rho * average_grad + (1 - rho) * grad
            denominator = velocity - np.square(average_grad) + self.epsilon
        else:
            denominator = velocity + self.epsilon
        increment = (learning_rate * grad) / np.sqrt(denominator)
        if self.momentum > 0:
            momentum = self.momentums[i]
            momentum[...] = self.momentum * momentum + increment
            variable.data -= momentum
        else:
            variable.data -= increment

    def get_config(self):
        return {**super().get_config(), "rho": self.rho, "momentum": self.momentum,
                "epsilon": self.epsilon, "centered": self.centered}
