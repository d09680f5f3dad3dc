"""Stochastic gradient descent, with optional (Nesterov) momentum."""

from __future__ import annotations

from tinygrad_es.optimizers.base import Optimizer, check_number
from tinygrad_es.tfcast import tf_constant


class SGD(Optimizer):
    r"""Gradient descent with momentum, in Keras's form (the learning rate inside the buffer).

    .. code-block:: text

        input: lr (learning rate), mu (momentum), nesterov
        mu = 0:      w <- w - lr * g
        otherwise:   m <- mu * m - lr * g                 (m starts at 0)
                     w <- w + m                           plain momentum
                     w <- w + (mu * m - lr * g)           Nesterov, with the new m

    Where Keras departs from PyTorch: PyTorch keeps ``b <- mu * b + g`` and steps
    ``w <- w - lr * b``; the two agree while the learning rate is constant, and differ when it
    changes (Keras's buffer remembers the old rates). PyTorch's ``dampening`` does not exist here.

    Args:
        learning_rate: 0.01 by default.
        momentum: In [0, 1]; 0 (the default) is plain gradient descent and keeps no state.
        nesterov: Use Nesterov's look-ahead momentum.
        **kwargs: The options of :class:`Optimizer` (weight_decay, clipnorm, use_ema, ...).

    Example:
        >>> opt = SGD(learning_rate=0.1, momentum=0.9, nesterov=True)
        >>> print(opt)
        SGD(learning_rate=0.1, momentum=0.9, nesterov=True)
    """

    _elementwise_update = True   # flat.py: update_step may run on segments of flat buffers

    def __init__(self, learning_rate=0.01, momentum=0.0, nesterov=False, **kwargs):
        super().__init__(learning_rate, **kwargs)  # the base options: see Optimizer
        self.momentum = check_number("momentum", momentum, 0.0, 1.0)
        self.nesterov = bool(nesterov)

    def build(self, variables):
        if self.built:
            return
        super().build(variables)
        self.momentums = []
        if self.momentum != 0:
            self.momentums = self.add_optimizer_variables(variables, "momentum")

    def update_step(self, grad, variable, learning_rate):
        w = variable.data
        if self.momentum == 0:
            w -= grad * learning_rate
            return
        m = self.momentums[self._get_variable_index(variable)]
        mu = tf_constant(self.momentum, w.dtype)  # NOTE: through float32, as Keras's ops.cast
        m *= mu
        m -= grad * learning_rate
        if self.nesterov:
            w += m * mu - grad * learning_rate
        else:
            w += m

    def get_config(self):
        return {**super().get_config(), "momentum": self.momentum, "nesterov": self.nesterov}
