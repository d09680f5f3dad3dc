"""What a ``GradientMonitor`` recorded, drawn: one line per layer, per epoch, on a log axis.

The picture that shows vanishing gradients: in a deep sigmoid network the first layers' lines lie
orders of magnitude below the last layer's. matplotlib is imported inside the function; it never
calls ``plt.show()``.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from tinygrad_es.i18n import tr

__all__ = ["plot_gradient_norms"]


def plot_gradient_norms(monitor: Any, ax: Any = None, lang: str | None = None,
                        quantity: str = "grad_norm", title: str | None = None) -> Any:
    """Gradient norm (or update/weight ratio) per layer and epoch, log y axis.

    Args:
        monitor: a :class:`tinygrad_es.callbacks.GradientMonitor` after ``fit``.
        ax: where to draw; a new figure if None.
        lang: ``"en"`` or ``"es"`` for the labels; default the current language.
        quantity: ``"grad_norm"`` (‖∂L/∂w‖) or ``"update_ratio"`` (‖Δw‖/‖w‖).
        title: the axes' title; default the quantity's name.

    Returns:
        The Axes; the line of layer ``name`` has gid ``"layer:<name>"``.

    Example:
        >>> from tinygrad_es import Sequential, layers, callbacks
        >>> model = Sequential([layers.Input((2,)), layers.Dense(3), layers.Dense(1)])
        >>> model.compile(optimizer="sgd", loss="mse")
        >>> monitor = callbacks.GradientMonitor()
        >>> _ = model.fit(np.ones((4, 2)), np.zeros((4, 1)), epochs=2, callbacks=[monitor],
        ...               verbose=0)
        >>> ax = plot_gradient_norms(monitor); [line.get_gid() for line in ax.get_lines()]
        ['layer:dense', 'layer:dense_1']
    """
    if quantity not in ("grad_norm", "update_ratio"):
        raise ValueError(tr("quantity must be 'grad_norm' or 'update_ratio', received "
                            "{quantity!r}", quantity=quantity))
    series = monitor.grad_norms if quantity == "grad_norm" else monitor.update_ratios
    if not monitor.epochs:
        raise ValueError(tr("the GradientMonitor recorded no epoch: pass it to fit(callbacks=[...])"
                            " first"))
    if ax is None:
        import matplotlib.pyplot as plt

        ax = plt.figure(figsize=(6.4, 4.2), layout="constrained").add_subplot()
    epochs = np.asarray(monitor.epochs) + 1
    colors = _layer_colors(len(monitor.layers))
    for name, color in zip(monitor.layers, colors):
        values = np.asarray(series[name], dtype=np.float64)
        values = np.where(values > 0, values, np.nan)  # a log axis cannot show 0
        ax.plot(epochs, values, "-o" if len(epochs) < 30 else "-", markersize=3, color=color,
                label=name, gid=f"layer:{name}")
    ax.set_yscale("log")
    from matplotlib.ticker import MaxNLocator

    ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    ax.set_xlabel(tr("epoch", lang=lang))
    label = (tr("gradient norm ‖∂L/∂w‖", lang=lang) if quantity == "grad_norm"
             else tr("update/weight ratio ‖Δw‖/‖w‖", lang=lang))
    ax.set_ylabel(label)
    ax.set_title(label if title is None else title, fontsize=10)
    ax.grid(True, which="major", alpha=0.3)
    ax.legend(fontsize=8, title=tr("layer", lang=lang), title_fontsize=8)
    return ax


def _layer_colors(n: int) -> list:
    """From dark (first layer, input side) to bright (last layer): depth reads as colour."""
    from matplotlib import colormaps

    cmap = colormaps["viridis"]
    return [cmap(v) for v in np.linspace(0.0, 0.9, max(n, 1))][:n]
