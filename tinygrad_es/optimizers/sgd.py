"""Stochastic gradient descent, with optional (Nesterov) momentum."""

from __future__ import annotations

from tinygrad_es.optimizers.base import Optimizer, check_number


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

    def __init__(self, learning_rate=0.01, momentum=0.0, nesterov=False, weight_decay=None,
                 clipnorm=None, clipvalue=None, global_clipnorm=None, use_ema=False,
                 ema_momentum=0.99, ema_overwrite_frequency=None, loss_scale_factor=None,
                 gradient_accumulation_steps=None, name=None, **kwargs):
        super().__init__(learning_rate, weight_decay=weight_decay, clipnorm=clipnorm,
                         clipvalue=clipvalue, global_clipnorm=global_clipnorm, use_ema=use_ema,
                         ema_momentum=ema_momentum,
                         ema_overwrite_frequency=ema_overwrite_frequency,
                         loss_scale_factor=loss_scale_factor,
                         gradient_accumulation_steps=gradient_accumulation_steps, name=name,
                         **kwargs)
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
        mu = self._cast(self.momentum, w.dtype)  # NOTE: through float32, as Keras's ops.cast
        m *= mu
        m -= grad * learning_rate
        if self.nesterov:
            w += m * mu - grad * learning_rate
        else:
            w += m

    def get_config(self):
        return {**super().get_config(), "momentum": self.momentum, "nesterov": self.nesterov}
