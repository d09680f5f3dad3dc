"""Training pictures: loss curves, the loss along one weight, optimizers × learning rates.

Every function takes an optional ``ax`` (or ``axes``) and returns it; matplotlib is imported inside
the functions and ``plt.show()`` is never called. The 2-D surface pictures live in ``paths.py`` and
are re-exported here (``plot_loss_surface``, ``optimizer_path``, ``animate_paths``).
"""

from __future__ import annotations

import math
from typing import Any, Callable, Mapping, Sequence

import numpy as np

from tinygrad_es.autograd import no_grad
from tinygrad_es.i18n import tr
from tinygrad_es.tensor import Tensor
from tinygrad_es.viz._common import fmt
from tinygrad_es.viz.finite_differences import model_loss_fn
from tinygrad_es.viz.paths import animate_paths, optimizer_path, plot_loss_surface, surface_grid

__all__ = ["plot_history", "plot_loss_along_weight", "plot_loss_along_weights", "plot_lr_grid",
           "plot_loss_surface", "optimizer_path", "animate_paths", "surface_grid"]

_LR_KEYS = ("lr", "learning_rate")


def plot_history(history: Any, keys: Sequence[str] | None = None, ax: Any = None,
                 title: str | None = None, logy: bool = False, lang: str | None = None) -> Any:
    """Loss and metric curves per epoch, validation curves dashed in the same colour.

    Args:
        history: what ``fit`` returns (a ``History``) or its ``.history`` dict of lists.
        keys: which curves (``["loss", "accuracy"]``); default every key except the learning
            rate. A key's ``val_`` twin is drawn with it.
        ax: where to draw; a new figure if None.
        title: the axes' title.
        logy: logarithmic y axis.
        lang: ``"en"`` or ``"es"`` axis labels; default the current language.

    Returns:
        The Axes; each curve is a line whose gid is its key (``"loss"``, ``"val_loss"``).

    Example:
        >>> from tinygrad_es import Sequential, layers
        >>> model = Sequential([layers.Dense(1, activation="sigmoid")])
        >>> model.compile("sgd", "mae")
        >>> x, y = np.linspace(0, 1, 10)[:, None], np.arange(10) % 2
        >>> history = model.fit(x, y, epochs=5, validation_split=0.2, verbose=0)
        >>> ax = plot_history(history); ax.figure.savefig("history.png")
    """
    words = _words(lang)
    logs = getattr(history, "history", history)
    if not isinstance(logs, Mapping) or not logs:
        raise TypeError(tr("plot_history expects a History or a dict of lists, received {kind}",
                           kind=type(history).__name__))
    if keys is None:
        keys = [k for k in logs if not k.startswith("val_") and k not in _LR_KEYS]
        keys += [k for k in logs if k.startswith("val_") and k[4:] not in logs]
    unknown = [k for k in keys if k not in logs]
    if unknown:
        raise KeyError(tr("plot_history: no {keys} in the history; it has {logs}", keys=unknown,
                          logs=list(logs)))
    ax = ax if ax is not None else _new_axes()
    n = len(next(iter(logs.values())))
    epochs = np.asarray(getattr(history, "epoch", None) or range(n), dtype=float) + 1
    for key in keys:
        values = np.asarray(logs[key], dtype=float)
        x = epochs if len(epochs) == len(values) else np.arange(1, len(values) + 1)
        (line,) = ax.plot(x, values, "-", label=key, gid=key)
        twin = "val_" + key
        if twin in logs and twin not in keys:
            val = np.asarray(logs[twin], dtype=float)
            ax.plot(x[:len(val)], val, "--", color=line.get_color(), label=twin, gid=twin)
    ax.set_xlabel(words["epoch"])
    _integer_epochs(ax)
    ax.set_ylabel(words["loss"] if list(keys) == ["loss"] else words["value"])
    if logy:
        ax.set_yscale("log")
    if title:
        ax.set_title(title)
    ax.grid(alpha=0.3)
    ax.legend()
    return ax


def plot_loss_along_weight(loss_fn: Any, param: Tensor | str, index: Any = None,
                           span: float = 1.0, num: int = 101, ax: Any = None,
                           name: str | None = None, data: tuple[Any, Any] | None = None,
                           loss: Any = None, legend: bool = True, lang: str | None = None) -> Any:
    """The loss as one weight moves and all the others stay fixed (the course's "loss vs w_2"),
    with the current value and the curve's minimum (or, without one, its lowest edge) marked.

    Args:
        loss_fn: a function of no arguments returning the scalar loss (a closure over the
            weights), or a model together with ``data=(x, y)`` and ``loss``.
        param: the weight Tensor (or, with a model, its name such as ``"dense/kernel"``).
        index: which entry of ``param`` (an int or a tuple); None for a one-entry weight.
        span: the curve covers current value ± span.
        num: points on the curve (odd, so the current value is one of them).
        ax: where to draw; a new figure if None.
        name: the x label; default ``param.name`` with the index (``"dense/kernel[0, 1]"``).
        data, loss: with a model, ``(x, y)`` and anything ``losses.get`` accepts.
        legend: a legend with the two points' values; without it, a short title
            ``"w_2: 0.27 → 0.63"`` (current → lowest).
        lang: ``"en"`` or ``"es"`` labels; default the current language.

    Returns:
        The Axes, with lines whose gids are ``"curve"``, ``"current"`` and ``"minimum"`` (where
        the curve turns up on both sides) or ``"edge"`` (the lowest point is the window's edge:
        the loss keeps falling beyond it). The weight is put back exactly as it was.

    Example:
        >>> from tinygrad_es import course
        >>> p, (x, y) = course.init_params(), course.iris_data()
        >>> ax = plot_loss_along_weight(lambda: course.loss(p, x, y), p["w_2"], span=3)
        >>> sorted(str(line.get_gid()) for line in ax.lines)
        ['None', 'current', 'curve', 'minimum']
    """
    words = _words(lang)
    loss_fn, params = _as_loss_fn(loss_fn, data, loss)
    param = _find_param(param, params)
    idx = _entry(param, index)
    label = name or _entry_name(param, idx)
    offsets, losses = _scan(loss_fn, param, idx, span, num)
    current = float(param.data[idx])
    xs = current + offsets
    at_current = losses[np.argmin(np.abs(offsets))]
    best = int(np.nanargmin(losses))
    # a minimum only where the curve turns up on both sides; the lowest point at the window's
    # edge is an edge (the loss keeps falling beyond it), not a minimum
    inside = 0 < best < len(xs) - 1 and losses[best - 1] > losses[best] < losses[best + 1]

    ax = ax if ax is not None else _new_axes()
    ax.plot(xs, losses, "-", color="tab:blue", gid="curve")
    ax.plot([current], [at_current], "o", color="tab:orange", gid="current", zorder=5,
            label=f"{words['current']}: {label} = {fmt(current, 4)}, {words['loss']} "
                  f"{fmt(at_current, 4)}")
    if inside:
        ax.plot([xs[best]], [losses[best]], "*", color="tab:red", markersize=12, gid="minimum",
                zorder=6, label=f"{words['minimum']}: {label} = {fmt(xs[best], 4)}, "
                                f"{words['loss']} {fmt(losses[best], 4)}")
    else:
        ax.plot([xs[best]], [losses[best]], ">" if best else "<", color="tab:purple",
                markersize=9, gid="edge", zorder=6, clip_on=False,
                label=f"{words['edge']}: {label} = {fmt(xs[best], 4)}, {words['loss']} "
                      f"{fmt(losses[best], 4)}")
    ax.axvline(current, color="tab:orange", linewidth=0.8, linestyle=":")
    ax.set_xlabel(label)
    ax.set_ylabel(words["loss"])
    if legend:
        ax.legend(fontsize=8)
    else:
        to = fmt(xs[best], 3) if inside else f"{fmt(xs[best], 3)} ({words['edge_short']})"
        ax.set_title(f"{label}: {fmt(current, 3)} → {to}", fontsize=9)
    ax.grid(alpha=0.3)
    return ax


def plot_loss_along_weights(loss_fn: Any, params: Sequence[Tensor] | None = None,
                            span: float = 1.0, num: int = 61, axes: Any = None,
                            ncols: int | None = None, names: Sequence[str] | None = None,
                            data: tuple[Any, Any] | None = None, loss: Any = None,
                            max_plots: int = 48, lang: str | None = None) -> Any:
    """:func:`plot_loss_along_weight` for every entry of every weight of a small model, in a grid.

    Args:
        loss_fn: a function of no arguments returning the loss, or a model (with ``data`` and
            ``loss``).
        params: the weights; default the model's trainable weights.
        span, num: as in :func:`plot_loss_along_weight`.
        axes: an array of at least as many Axes as entries; a new figure if None.
        ncols: columns of the new grid (default about √entries).
        names: one label per entry, in order (``["w_2", "b_2", ...]``).
        data, loss: with a model, ``(x, y)`` and the loss.
        max_plots: refuse more entries than this (pick ``params`` instead).
        lang: ``"en"`` or ``"es"`` labels; default the current language.

    Returns:
        The array of Axes (unused ones switched off).

    Example:
        >>> from tinygrad_es import Sequential, layers
        >>> model = Sequential([layers.Dense(2, activation="sigmoid"), layers.Dense(1)])
        >>> x, y = np.array([[0.5], [1.5]]), np.array([0.0, 1.0])
        >>> axes = plot_loss_along_weights(model, data=(x, y), loss="mae", span=2)
        >>> axes.size >= 7                                  # 7 weights: 2 + 2 + 2 + 1
        True
    """
    loss_fn, model_params = _as_loss_fn(loss_fn, data, loss)
    params = list(params) if params is not None else model_params
    if not params:
        raise ValueError("plot_loss_along_weights needs params= (the weights to scan)")
    entries = [(p, idx) for p in params for idx in np.ndindex(p.shape)]
    if len(entries) > max_plots:
        raise ValueError(f"plot_loss_along_weights: {len(entries)} weight entries is more than "
                         f"max_plots={max_plots}; pass a few params= or a larger max_plots")
    if names is not None and len(names) != len(entries):
        raise ValueError(f"plot_loss_along_weights received {len(names)} names for "
                         f"{len(entries)} weight entries")
    if axes is None:
        import matplotlib.pyplot as plt

        ncols = ncols or math.ceil(math.sqrt(len(entries)))
        nrows = math.ceil(len(entries) / ncols)
        _, axes = plt.subplots(nrows, ncols, figsize=(3.2 * ncols, 2.6 * nrows), squeeze=False,
                               layout="constrained")
    flat = np.asarray(axes, dtype=object).reshape(-1)
    if flat.size < len(entries):
        raise ValueError(f"plot_loss_along_weights needs {len(entries)} axes, received {flat.size}")
    for k, (p, idx) in enumerate(entries):
        plot_loss_along_weight(loss_fn, p, idx, span=span, num=num, ax=flat[k],
                               name=names[k] if names is not None else None, legend=False,
                               lang=lang)
    for ax in flat[len(entries):]:
        ax.set_axis_off()
    words = _words(lang)
    marks = {}
    for ax in flat[:len(entries)]:
        for line in ax.lines:
            marks.setdefault(line.get_gid(), line)
    gids = [g for g in ("current", "minimum", "edge") if g in marks]
    flat[0].figure.legend([marks[g] for g in gids], [words[g] for g in gids],
                          loc="outside lower center"
                          if flat[0].figure.get_layout_engine() is not None else "lower center",
                          ncols=len(gids), fontsize=9)
    return axes


def plot_lr_grid(results: Mapping[Any, Any], axes: Any = None, key: str = "loss",
                 logy: bool = False, sharey: bool | str = False, lang: str | None = None) -> Any:
    """Loss curves in a grid: optimizers by rows, learning rates by columns.

    Args:
        results: ``{optimizer: {learning_rate: history}}`` or ``{(optimizer, learning_rate):
            history}``; a history is a ``History``, a dict of lists or a list of losses.
        axes: a (rows, columns) array of Axes; a new figure if None.
        key: the curve to draw (``"loss"``, ``"accuracy"``); its ``val_`` twin is drawn dashed.
        logy: logarithmic y axes.
        sharey: passed to ``plt.subplots`` for a new figure (``True``, ``"row"``).
        lang: ``"en"`` or ``"es"`` labels; default the current language.

    Returns:
        The 2-D array of Axes; each curve's gid is ``key`` (or ``"val_" + key``).

    Example:
        >>> results = {"sgd": {0.1: [1.0, 0.5, 0.3], 0.01: [1.0, 0.9, 0.8]},
        ...            "adam": {0.1: [1.0, 0.2, 0.1], 0.01: [1.0, 0.7, 0.5]}}
        >>> plot_lr_grid(results).shape
        (2, 2)
    """
    words = _words(lang)
    table = _lr_table(results)
    optimizers = list(dict.fromkeys(o for o, _ in table))
    rates = list(dict.fromkeys(lr for _, lr in table))
    if axes is None:
        import matplotlib.pyplot as plt

        _, axes = plt.subplots(len(optimizers), len(rates), squeeze=False, sharex=True,
                               sharey=sharey,
                               figsize=(2.8 * len(rates), 2.1 * len(optimizers)),
                               layout="constrained")
    axes = np.asarray(axes, dtype=object)
    if axes.shape != (len(optimizers), len(rates)):
        raise ValueError(f"plot_lr_grid needs axes of shape {(len(optimizers), len(rates))} "
                         f"(optimizers × learning rates), received {axes.shape}")
    for i, opt in enumerate(optimizers):
        for j, lr in enumerate(rates):
            ax = axes[i, j]
            if i == 0:
                ax.set_title(tr("lr = {lr}", lang=lang, lr=f"{lr:g}" if isinstance(lr, (int, float))
                                else lr))
            if j == 0:
                ax.set_ylabel(f"{opt}\n{words['loss'] if key == 'loss' else key}")
            if (opt, lr) not in table:
                ax.text(0.5, 0.5, words["no_run"], ha="center", va="center",
                        transform=ax.transAxes, color="gray")
                continue
            logs = table[(opt, lr)]
            if key not in logs:
                raise KeyError(f"plot_lr_grid: the run ({opt!r}, {lr!r}) has no {key!r}; it has "
                               f"{list(logs)}")
            values = np.asarray(logs[key], dtype=float)
            epochs = np.arange(1, len(values) + 1)
            ax.plot(epochs, values, "-", gid=key)
            if "val_" + key in logs:
                ax.plot(epochs, np.asarray(logs["val_" + key], dtype=float), "--", gid="val_" + key)
            if len(values) and not np.isfinite(values[-1]):
                ax.text(0.5, 0.5, words["diverged"], ha="center", va="center",
                        transform=ax.transAxes, color="tab:red")
            elif len(values):
                ax.text(0.97, 0.93, tr("final {value}", lang=lang, value=fmt(values[-1], 3)),
                        ha="right", va="top", transform=ax.transAxes, fontsize=8, color="0.3")
            if logy:
                ax.set_yscale("log")
            ax.grid(alpha=0.3)
            if i == len(optimizers) - 1:
                ax.set_xlabel(words["epoch"])
                _integer_epochs(ax)
    return axes


# ----- helpers -----

def _words(lang: str | None) -> dict[str, str]:
    return {"epoch": tr("epoch", lang=lang), "loss": tr("loss", lang=lang),
            "value": tr("value", lang=lang), "current": tr("current", lang=lang),
            "minimum": tr("minimum", lang=lang), "edge": tr("lowest at the window edge", lang=lang),
            "edge_short": tr("window edge", lang=lang), "diverged": tr("diverged", lang=lang),
            "no_run": tr("no run", lang=lang)}


def _integer_epochs(ax: Any) -> None:
    from matplotlib.ticker import MaxNLocator

    ax.xaxis.set_major_locator(MaxNLocator(integer=True))


def _new_axes() -> Any:
    import matplotlib.pyplot as plt

    return plt.figure(figsize=(6.4, 4.2), layout="constrained").add_subplot()


def _as_loss_fn(loss_fn: Any, data: Any, loss: Any) -> tuple[Callable[[], Tensor], list[Tensor]]:
    """A closure and the model's weights, from a closure or from a model + data + loss."""
    if hasattr(loss_fn, "layers"):
        if data is None:
            raise ValueError("with a model, pass data=(x, y) (and loss=, unless it is compiled)")
        return model_loss_fn(loss_fn, data[0], data[1], loss)
    if not callable(loss_fn):
        raise TypeError(f"expected a loss function of no arguments or a model, received "
                        f"{type(loss_fn).__name__}")
    return loss_fn, []


def _find_param(param: Tensor | str, params: list[Tensor]) -> Tensor:
    if isinstance(param, Tensor):
        return param
    matches = [p for p in params if p.name == param]
    if not matches:
        raise ValueError(f"no weight named {param!r}; the weights are {[p.name for p in params]}")
    return matches[0]


def _entry(param: Tensor, index: Any) -> tuple[int, ...]:
    if index is None:
        if param.size != 1:
            raise ValueError(f"{param.name or 'the weight'} has shape {param.shape}: pass index= "
                             "to choose one entry")
        return (0,) * param.ndim
    idx = np.unravel_index(index, param.shape) if isinstance(index, (int, np.integer)) else index
    idx = tuple(int(i) for i in np.atleast_1d(idx)) if param.ndim else ()
    try:
        param.data[idx]
    except IndexError:
        raise IndexError(f"index {index} is outside {param.name or 'the weight'} of shape "
                         f"{param.shape}") from None
    return idx


def _entry_name(param: Tensor, idx: tuple[int, ...]) -> str:
    base = param.name or "w"
    return base if param.size == 1 else f"{base}[{', '.join(map(str, idx))}]"


def _scan(loss_fn: Callable[[], Tensor], param: Tensor, idx: tuple[int, ...], span: float,
          num: int) -> tuple[np.ndarray, np.ndarray]:
    """The loss at current + offset for ``num`` offsets in [-span, span]; restores the weight."""
    if not span > 0 or num < 3:
        raise ValueError(f"need span > 0 and num >= 3, received span={span}, num={num}")
    offsets = np.linspace(-span, span, num)
    if num % 2:
        offsets[num // 2] = 0.0
    data = param.data
    original = data[idx].copy()
    losses = np.empty(num)
    try:
        with no_grad():
            for k, offset in enumerate(offsets):
                data[idx] = original + offset
                losses[k] = float(loss_fn().data)
    finally:
        data[idx] = original
    return offsets, losses


def _lr_table(results: Mapping[Any, Any]) -> dict[tuple[Any, Any], dict[str, list]]:
    table = {}
    for outer, value in results.items():
        if isinstance(outer, tuple) and len(outer) == 2:
            table[outer] = _logs(value)
        elif isinstance(value, Mapping) and not _looks_like_logs(value):
            for lr, history in value.items():
                table[(outer, lr)] = _logs(history)
        else:
            raise TypeError("plot_lr_grid expects {optimizer: {lr: history}} or "
                            f"{{(optimizer, lr): history}}, received a {type(value).__name__} "
                            f"under {outer!r}")
    if not table:
        raise ValueError("plot_lr_grid received no results")
    return table


def _looks_like_logs(value: Mapping) -> bool:
    return all(isinstance(k, str) for k in value) and "loss" in value


def _logs(history: Any) -> dict[str, list]:
    logs = getattr(history, "history", history)
    if isinstance(logs, Mapping):
        return dict(logs)
    return {"loss": list(np.asarray(logs, dtype=float).reshape(-1))}
