"""FTRL-Proximal (McMahan et al., 2013, "Ad Click Prediction: a View from the Trenches")."""

from __future__ import annotations

import numpy as np

from tinygrad_es.optimizers.base import Optimizer, check_number


class Ftrl(Optimizer):
    r"""Follow The Regularized Leader: a closed-form step with L1 (sparsity) and L2 terms.

    .. code-block:: text

        input: lr, p = learning_rate_power, l1, l2, l2s (shrinkage), beta;  n = n_0, z = 0
        l2'  = l2 + beta / (2 lr)
        g'   = g + 2 * l2s * w
        n'   = n + g^2
        z   <- z + g' - (n'^(-p) - n^(-p)) / lr * w
        q    = n'^(-p) / lr + 2 l2'
        w   <- (clip(z, -l1, l1) - z) / q          (0 where |z| <= l1: the sparsity)
        n   <- n'

    As in the paper (Algorithm 1, with p = -1/2, alpha = lr, lambda_1 = l1), written
    as TensorFlow's ApplyFtrlV2 kernel; l2s is TensorFlow's shrinkage extension, which adds
    an L2 penalty to the gradient only. The slots are ``accumulator`` (n) and ``linear`` (z).

    Args:
        learning_rate: 0.001 by default.
        learning_rate_power: <= 0; -0.5 gives the paper's 1/sqrt(n) rates, 0 a fixed rate.
        initial_accumulator_value: n_0 >= 0.
        l1_regularization_strength: l1 >= 0.
        l2_regularization_strength: l2 >= 0.
        l2_shrinkage_regularization_strength: l2s >= 0.
        beta: The paper's beta, >= 0 (added to the denominator of the per-coordinate rate).
        **kwargs: The options of :class:`Optimizer`.

    Example:
        >>> print(Ftrl(l1_regularization_strength=0.01))
        Ftrl(learning_rate=0.001, l1_regularization_strength=0.01)
    """

    _elementwise_update = True   # flat.py: update_step may run on segments of flat buffers

    def __init__(self, learning_rate=0.001, learning_rate_power=-0.5,
                 initial_accumulator_value=0.1, l1_regularization_strength=0.0,
                 l2_regularization_strength=0.0, l2_shrinkage_regularization_strength=0.0,
                 beta=0.0, **kwargs):
        super().__init__(learning_rate, **kwargs)  # the base options: see Optimizer
        self.learning_rate_power = check_number("learning_rate_power", learning_rate_power,
                                                high=0.0)
        self.initial_accumulator_value = check_number(
            "initial_accumulator_value", initial_accumulator_value, 0.0)
        self.l1_regularization_strength = check_number(
            "l1_regularization_strength", l1_regularization_strength, 0.0)
        self.l2_regularization_strength = check_number(
            "l2_regularization_strength", l2_regularization_strength, 0.0)
        self.l2_shrinkage_regularization_strength = check_number(
            "l2_shrinkage_regularization_strength", l2_shrinkage_regularization_strength, 0.0)
        self.beta = check_number("beta", beta, 0.0)

    def build(self, variables):
        if self.built:
            return
        super().build(variables)
        # NOTE: Keras's Constant initializer rounds n_0 to float32, even in float64 mode.
        self.accumulators, self.linears = self.add_optimizer_variables(
            variables, ["accumulator", "linear"],
            initializer=[self.initial_accumulator_value, 0.0])

    def update_step(self, grad, variable, learning_rate):
        w = variable.data
        i = self._get_variable_index(variable)
        accum, linear = self.accumulators[i], self.linears[i]
        lr, power, l1 = learning_rate, -self.learning_rate_power, self.l1_regularization_strength
        l2 = self.l2_regularization_strength + self.beta / (2.0 * lr)
        grad_to_use = grad + (2 * self.l2_shrinkage_regularization_strength) * w
        new_accum = accum + np.square(grad)
        new_accum_power = np.power(new_accum, power)
        linear += grad_to_use - ((new_accum_power - np.power(accum, power)) / lr) * w
        quadratic = new_accum_power / lr + 2 * l2
        w[...] = (np.clip(linear, -l1, l1) - linear) / quadratic
        accum[...] = new_accum

    def get_config(self):
        return {**super().get_config(),
                "learning_rate_power": self.learning_rate_power,
                "initial_accumulator_value": self.initial_accumulator_value,
                "l1_regularization_strength": self.l1_regularization_strength,
                "l2_regularization_strength": self.l2_regularization_strength,
                "l2_shrinkage_regularization_strength": self.l2_shrinkage_regularization_strength,
                "beta": self.beta}
