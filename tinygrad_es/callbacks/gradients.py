"""Watching training from inside: the gradients each layer receives, how far each update moves its
weights, and the path two chosen weights take.

``GradientMonitor`` records, per layer and per epoch, the gradient norm ‖∂L/∂w‖ and the
update/weight ratio ‖Δw‖/‖w‖, each the MEAN over the epoch's batches (or the value at the last
batch, ``reduce="last"``). ``WeightPath`` records two (or more) single weights after every batch.
Neither changes training: ``fit`` leaves each weight's ``.grad`` in place after the update, so the
callbacks only read it, and they copy the weights only while they are in the callback list.
"""

from __future__ import annotations

from typing import Any, Sequence

import numpy as np

from tinygrad_es.callbacks.callback import Callback
from tinygrad_es.i18n import tr

__all__ = ["GradientMonitor", "WeightPath"]


class GradientMonitor(Callback):
    """Per layer and per epoch: the gradient norm and the update/weight ratio.

    For a layer with weights w (kernel and bias together, as one vector) and a batch:

        grad_norm    = ‖∂L/∂w‖                    (the gradient ``fit`` computed, ``w.grad``)
        update_ratio = ‖w_after − w_before‖ / ‖w_before‖

    The epoch's value is the mean over its batches (``reduce="mean"``) or the last batch's
    (``reduce="last"``). A deep sigmoid network shows its first layers' grad_norm orders of
    magnitude below the last layer's: vanishing gradients (``viz.plot_gradient_norms``).

    Attributes:
        layers: the names of the layers with trainable weights, input to output.
        grad_norms: ``{layer name: [one value per epoch]}``.
        update_ratios: ``{layer name: [one value per epoch]}``.
        epochs: the epoch numbers recorded.

    Example:
        >>> monitor = GradientMonitor()
        >>> model.fit(x, y, epochs=5, callbacks=[monitor], verbose=0)    # doctest: +SKIP
        >>> monitor.grad_norms["dense"]                                    # doctest: +SKIP
    """

    def __init__(self, reduce: str = "mean"):
        super().__init__()
        if reduce not in ("mean", "last"):
            raise ValueError(tr("GradientMonitor expects reduce='mean' or 'last', received "
                                "{reduce!r}", reduce=reduce))
        self.reduce = reduce
        self.layers: list[str] = []
        self.grad_norms: dict[str, list[float]] = {}
        self.update_ratios: dict[str, list[float]] = {}
        self.epochs: list[int] = []
        self._groups: list[list[Any]] = []      # each layer's trainable weight Tensors
        self._before: list[list[np.ndarray]] = []
        self._sums: np.ndarray = np.zeros((0, 2))
        self._batches = 0

    def on_train_begin(self, logs=None):
        owners = [layer for layer in self.model.layers if layer.trainable_weights]
        self.layers = [layer.name for layer in owners]
        self._groups = [list(layer.trainable_weights) for layer in owners]
        for name in self.layers:
            self.grad_norms.setdefault(name, [])
            self.update_ratios.setdefault(name, [])

    def on_epoch_begin(self, epoch, logs=None):
        self._sums = np.zeros((len(self._groups), 2))
        self._batches = 0

    def on_train_batch_begin(self, batch, logs=None):
        self._before = [[w.data.copy() for w in group] for group in self._groups]

    def on_train_batch_end(self, batch, logs=None):
        values = np.array([_layer_values(group, before)
                           for group, before in zip(self._groups, self._before)]).reshape(-1, 2)
        if self.reduce == "last":
            self._sums, self._batches = values, 1
        else:
            self._sums, self._batches = self._sums + values, self._batches + 1

    def on_epoch_end(self, epoch, logs=None):
        if not self._batches:
            return
        means = self._sums / self._batches
        for name, (grad_norm, ratio) in zip(self.layers, means):
            self.grad_norms[name].append(float(grad_norm))
            self.update_ratios[name].append(float(ratio))
        self.epochs.append(int(epoch))


def _layer_values(weights: Sequence[Any], before: Sequence[np.ndarray]) -> tuple[float, float]:
    """(‖grad‖, ‖Δw‖/‖w_before‖) over all of one layer's weights, in float64."""
    grad2 = step2 = size2 = 0.0
    for w, old in zip(weights, before):
        old = old.astype(np.float64)
        if w.grad is not None:
            grad2 += float(np.sum(np.square(np.asarray(w.grad, dtype=np.float64))))
        step2 += float(np.sum(np.square(w.data.astype(np.float64) - old)))
        size2 += float(np.sum(np.square(old)))
    ratio = np.sqrt(step2) / np.sqrt(size2) if size2 > 0 else float("nan")
    return float(np.sqrt(grad2)), float(ratio)


class WeightPath(Callback):
    """The values of a few single weights at the start and after every batch of ``fit``.

    Args:
        entries: one ``(k, index)`` per weight followed: entry ``index`` of ``model.weights[k]``
            (Keras's ``get_weights()`` order). For the course network w_52 is ``(2, (0, 0))`` and
            w_53 is ``(2, (1, 0))`` (``viz.weight_surface.COURSE_WEIGHTS``).

    Attributes:
        path: an array (1 + number of batches, len(entries)) once ``fit`` has run (float64).

    Example:
        >>> recorder = WeightPath([(2, (0, 0)), (2, (1, 0))])
        >>> model.fit(x, y, epochs=50, callbacks=[recorder], verbose=0)   # doctest: +SKIP
        >>> recorder.path.shape                                            # doctest: +SKIP
        (51, 2)
    """

    def __init__(self, entries: Sequence[tuple[int, Any]]):
        super().__init__()
        self.entries = [(int(k), tuple(index) if isinstance(index, (tuple, list)) else
                         (int(index),)) for k, index in entries]
        if not self.entries:
            raise ValueError(tr("WeightPath needs at least one (k, index) entry, received "
                                "{entries!r}", entries=entries))
        self._points: list[list[float]] = []

    def _read(self) -> list[float]:
        weights = self.model.weights
        out = []
        for k, index in self.entries:
            if not 0 <= k < len(weights):
                raise ValueError(tr("WeightPath: the model has {n} weights, received k={k}",
                                    n=len(weights), k=k))
            out.append(float(weights[k].data[index]))
        return out

    def on_train_begin(self, logs=None):
        self._points = [self._read()]

    def on_train_batch_end(self, batch, logs=None):
        self._points.append(self._read())

    @property
    def path(self) -> np.ndarray:
        return np.array(self._points, dtype=np.float64).reshape(-1, len(self.entries))
