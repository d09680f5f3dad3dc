"""Adagrad (Duchi, Hazan & Singer, 2011): per-coordinate rates from summed squared gradients."""

from __future__ import annotations

import numpy as np

from tinygrad_es.optimizers.base import Optimizer, check_number


class Adagrad(Optimizer):
    r"""Adagrad: every coordinate's step shrinks with its accumulated squared gradient.

    .. code-block:: text

        input: lr, initial_accumulator_value (A_0), epsilon
        A <- A + g^2
        w <- w - lr * g / sqrt(A + epsilon)

    Where Keras departs from the paper and PyTorch: epsilon is **inside** the square root
    (PyTorch: ``sqrt(A) + eps``, eps 1e-10), and A starts at 0.1 (PyTorch: 0).

    Args:
        learning_rate: 0.001 by default.
        initial_accumulator_value: The starting value of A, >= 0.
        epsilon: Added to A under the square root.
        **kwargs: The options of :class:`Optimizer`.

    Example:
        >>> print(Adagrad(learning_rate=0.01))
        Adagrad(learning_rate=0.01)
    """

    _elementwise_update = True   # flat.py: update_step may run on segments of flat buffers

    def __init__(self, learning_rate=0.001, initial_accumulator_value=0.1, epsilon=1e-7,
                 **kwargs):
        super().__init__(learning_rate, **kwargs)  # the base options: see Optimizer
        self.initial_accumulator_value = check_number(
            "initial_accumulator_value", initial_accumulator_value, 0.0)
        self.epsilon = check_number("epsilon", epsilon, 0.0)

    def build(self, variables):
        if self.built:
            return
        super().build(variables)
        # NOTE: Keras's Constant initializer rounds the value to float32, even in float64 mode.
        self.accumulators = self.add_optimizer_variables(
            variables, "accumulator", initializer=self.initial_accumulator_value)

    def update_step(self, grad, variable, learning_rate):
        accumulator = self.accumulators[self._get_variable_index(variable)]
        accumulator += np.square(grad)
        variable.data -= (learning_rate * grad) / np.sqrt(accumulator + self.epsilon)

    def get_config(self):
        return {**super().get_config(),
                "initial_accumulator_value": self.initial_accumulator_value,
                "epsilon": self.epsilon}
