"""``SwapEMAWeights``: evaluate and predict with the moving average of the weights (``use_ema``).

An optimizer built with ``use_ema=True`` keeps, next to every weight w, its exponential moving
average a (``opt.slots(w)["average"]``). This callback exchanges w and a in place before
validation / ``evaluate`` / ``predict`` and exchanges them back afterwards, so training goes on
from the raw weights while every reported ``val_*`` number is the EMA model's.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from tinygrad_es.callbacks.callback import Callback
from tinygrad_es.i18n import tr


class SwapEMAWeights(Callback):
    """Use the optimizer's moving-average weights for validation, ``evaluate`` and ``predict``.

    With ``swap_on_epoch=True`` the model also holds the averages from each epoch end to the next
    epoch begin, so callbacks after this one in the list (e.g. ``ModelCheckpoint``) see and save
    the EMA weights; after the last epoch ``fit`` leaves the averages in the model (as it does
    without this callback).

    Args:
        swap_on_epoch: Also swap at each epoch end, and back at the next epoch begin.

    Example:
        >>> from tinygrad_es.optimizers import SGD
        >>> opt = SGD(use_ema=True)
        >>> model.compile(optimizer=opt, loss="mse")                     # doctest: +SKIP
        >>> model.fit(x, y, validation_split=0.2,
        ...           callbacks=[SwapEMAWeights(swap_on_epoch=True)])   # doctest: +SKIP
    """

    def __init__(self, swap_on_epoch: bool = False):
        super().__init__()
        self.swap_on_epoch = swap_on_epoch
        self._ema_weights_in_model = False

    # ----- the exchange -----

    def _pairs(self) -> list[tuple[np.ndarray, np.ndarray]]:
        """(weight array, its average) for every trainable weight of an EMA optimizer."""
        optimizer = self.model.optimizer
        optimizer = getattr(optimizer, "inner_optimizer", optimizer)   # LossScaleOptimizer
        optimizers = list(getattr(optimizer, "optimizers", None) or [optimizer])  # MultiOptimizer
        ema = [opt for opt in optimizers if getattr(opt, "use_ema", False)]
        if not ema:
            raise ValueError(tr("SwapEMAWeights must be used when `use_ema=True` is set on the "
                                "optimizer. Received: use_ema={use_ema} ({cls})",
                                use_ema=getattr(optimizer, 'use_ema', None),
                                cls=type(optimizer).__name__))
        pairs = []
        for opt in ema:
            if not opt.built:
                raise ValueError(tr("SwapEMAWeights: the optimizer {name!r} has no moving "
                                    "averages yet (they are created at its first training "
                                    "step): fit the model before evaluating with this callback",
                                    name=opt.name))
            for weight in self.model.trainable_weights:
                average = _average(opt, weight)
                if average is not None:
                    pairs.append((weight.data, average))
        return pairs

    def _swap_variables(self) -> None:
        for w, a in self._pairs():
            # NOTE: Keras on TensorFlow swaps with three in-place sums, w = w + a; a = w - a;
            # w = w - a, so the exchange rounds (a weight may come back an ulp away). The same
            # three operations here give TensorFlow's numbers bit for bit.
            w += a
            np.subtract(w, a, out=a)
            w -= a

    def _finalize_ema_values(self) -> None:
        """averages <- weights (the model holds the averages now, so ``fit``'s final copy of the
        averages into the weights keeps them)."""
        for w, a in self._pairs():
            a[...] = w

    # ----- when -----

    def on_epoch_begin(self, epoch, logs=None):
        if self.swap_on_epoch and self._ema_weights_in_model:
            self._swap_variables()
            self._ema_weights_in_model = False

    def on_epoch_end(self, epoch, logs=None):
        if self.swap_on_epoch and not self._ema_weights_in_model:
            self._swap_variables()
            self._ema_weights_in_model = True
            if epoch == self.params["epochs"] - 1:
                self._finalize_ema_values()

    def on_test_begin(self, logs=None):
        if not self._ema_weights_in_model:
            self._swap_variables()
            self._ema_weights_in_model = True

    def on_test_end(self, logs=None):
        if self._ema_weights_in_model:
            self._swap_variables()
            self._ema_weights_in_model = False

    def on_predict_begin(self, logs=None):
        self.on_test_begin(logs)

    def on_predict_end(self, logs=None):
        # NOTE: Keras 3.15 tests `not self._ema_weights_in_model` here, so after predict() the
        # model keeps the EMA weights; here predict swaps back, as evaluate does.
        self.on_test_end(logs)


def _average(optimizer: Any, weight: Any) -> np.ndarray | None:
    """The moving average ``optimizer`` keeps for ``weight``, or None if it does not train it."""
    try:
        return optimizer.slots(weight)["average"]
    except (ValueError, KeyError):
        return None
