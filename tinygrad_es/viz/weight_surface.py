"""The loss surface over two real weights of a network, the others fixed, with the path the
optimizer took: the course's 2-D surface pictures, but of the network itself.

``weight_surface`` turns a model (or a loss closure) and two of its weight entries into a
function of a point (w_a, w_b), which ``paths.plot_loss_surface`` draws with the course's marks
(red star: start, blue star: end, yellow points between). Record the path during ``fit`` with
``callbacks.WeightPath``.

The other weights stay where they are when the surface is computed: if they move during training
too, the path is drawn over a slice of the loss taken at that moment (say which in the title).
"""

from __future__ import annotations

from typing import Any, Callable, Sequence

import numpy as np

from tinygrad_es.autograd import no_grad
from tinygrad_es.i18n import tr
from tinygrad_es.tensor import Tensor
from tinygrad_es.viz.finite_differences import model_loss_fn
from tinygrad_es.viz.paths import plot_loss_surface

__all__ = ["COURSE_WEIGHTS", "weight_surface", "plot_weight_surface"]

# The course's names for the entries of the 1-3-1 Keras network's ``model.weights``:
# name -> (k, index), as in ``course.params_from_weights``.
COURSE_WEIGHTS: dict[str, tuple[int, tuple[int, ...]]] = {
    "w_2": (0, (0, 0)), "w_3": (0, (0, 1)), "w_4": (0, (0, 2)),
    "b_2": (1, (0,)), "b_3": (1, (1,)), "b_4": (1, (2,)),
    "w_52": (2, (0, 0)), "w_53": (2, (1, 0)), "w_54": (2, (2, 0)), "b_5": (3, (0,)),
}


def weight_surface(model: Any, entries: Sequence[Any], data: tuple[Any, Any] | None = None,
                   loss: Any = None, names: Sequence[str] | None = None) -> Callable:
    """The loss as a function of two weight entries, every other weight as it is now.

    Args:
        model: a model (with ``data=(x, y)`` and, unless compiled, ``loss``), or a function of
            no arguments returning the scalar loss (a closure over the weights).
        entries: two weights: each a course name (``"w_52"``, see :data:`COURSE_WEIGHTS`), or
            ``(k, index)`` (entry ``index`` of ``model.weights[k]``), or ``(tensor, index)``.
        data, loss: with a model, the data and the loss (default the compiled one).
        names: the axis labels; default the course names or ``"<weight name>[index]"``.

    Returns:
        ``f(w)`` for ``w`` a Tensor of shape (..., 2): the loss at each point (a float64 Tensor
        of shape ``w.shape[:-1]``), with ``f.variables`` the two names. The weights are put back
        exactly as they were after each call.

    Example:
        >>> from tinygrad_es import course
        >>> model = course.build_model(dtype="float64"); model.compile(loss="mae")
        >>> f = weight_surface(model, ["w_52", "w_53"], data=course.iris_data())
        >>> round(float(f(Tensor([0.49408045, -1.1185157])).data), 4), f.variables
        (0.4918, ('w_52', 'w_53'))
    """
    if len(entries) != 2:
        raise ValueError(tr("weight_surface expects two weight entries, received {n}",
                            n=len(entries)))
    if hasattr(model, "layers"):
        if data is None:
            raise ValueError(tr("with a model, pass data=(x, y) (and loss=, unless it is "
                                "compiled)"))
        loss_fn, _ = model_loss_fn(model, data[0], data[1], loss)
        weights = list(model.weights)
    elif callable(model):
        loss_fn, weights = model, []
    else:
        raise TypeError(tr("weight_surface expects a model or a loss function of no arguments, "
                           "received {type}", type=type(model).__name__))
    targets = [_resolve(entry, weights) for entry in entries]
    labels = tuple(names) if names is not None else tuple(label for _, _, label in targets)

    def f(w: Tensor) -> Tensor:
        points = np.asarray(w.data if isinstance(w, Tensor) else w, dtype=np.float64)
        flat = points.reshape(-1, 2)
        originals = [tensor.data[index].copy() for tensor, index, _ in targets]
        out = np.empty(len(flat))
        try:
            with no_grad():
                for i, point in enumerate(flat):
                    for (tensor, index, _), value in zip(targets, point):
                        tensor.data[index] = value
                    out[i] = float(loss_fn().data)
        finally:
            for (tensor, index, _), original in zip(targets, originals):
                tensor.data[index] = original
        return Tensor(out.reshape(points.shape[:-1]), dtype=np.float64)

    f.variables = labels
    return f


def plot_weight_surface(model: Any, entries: Sequence[Any], path: Any = None,
                        xlim: Sequence[float] | None = None, ylim: Sequence[float] | None = None,
                        data: tuple[Any, Any] | None = None, loss: Any = None,
                        label: str | None = None, num: int = 61, margin: float = 0.5,
                        levels: int = 30, title: str | None = None, ax: Any = None,
                        lang: str | None = None) -> Any:
    """Contours of the loss over two weights of ``model`` (the others fixed at their current
    values), with the optimizer's path drawn in the course's convention.

    Args:
        model, entries, data, loss: as in :func:`weight_surface`.
        path: the two weights' values during training, shape (n, 2) (``WeightPath.path``).
        xlim, ylim: the window; default the path's extent (or the current point) ± ``margin``.
        label: the path's name in the legend; default "path".
        num: grid points per axis (num² loss evaluations).
        margin: how far beyond the path the default window reaches.
        levels: contour levels.
        title: default "loss over w_a, w_b (the other weights fixed)".
        ax: where to draw; a new figure if None.
        lang: ``"en"`` or ``"es"``; default the current language.

    Returns:
        The Axes (gids as in ``paths.plot_loss_surface``: ``"path:<label>"``, ``"start:..."``,
        ``"end:..."``, ``"steps:..."``).

    Example:
        >>> from tinygrad_es import course
        >>> model = course.build_model(dtype="float64"); model.compile(loss="mae")
        >>> ax = plot_weight_surface(model, ["w_52", "w_53"], data=course.iris_data(), num=9)
        >>> ax.get_xlabel(), ax.get_ylabel()
        ('w_52', 'w_53')
    """
    f = weight_surface(model, entries, data=data, loss=loss)
    paths = {}
    if path is not None:
        p = np.asarray(path, dtype=np.float64)
        if p.ndim != 2 or p.shape[1] != 2:
            raise ValueError(tr("path must have shape (n, 2), received {shape}", shape=p.shape))
        paths[label or tr("path", lang=lang)] = p
        centre = p[np.all(np.isfinite(p), axis=1)]
    else:
        centre = np.array([[float(t.data[i]) for t, i, _ in
                            (_resolve(e, list(getattr(model, "weights", []))) for e in entries)]])
    low, high = centre.min(axis=0) - margin, centre.max(axis=0) + margin
    xlim = tuple(xlim) if xlim is not None else (low[0], high[0])
    ylim = tuple(ylim) if ylim is not None else (low[1], high[1])
    if title is None:
        title = tr("loss over {a}, {b} (the other weights fixed)", lang=lang,
                   a=f.variables[0], b=f.variables[1])
    return plot_loss_surface(f, xlim, ylim, paths=paths, num=num, levels=levels, title=title,
                             ax=ax, lang=lang, zlabel=tr("loss", lang=lang))


def _resolve(entry: Any, weights: list) -> tuple[Tensor, tuple[int, ...], str]:
    """(tensor, index, label) of one weight entry."""
    if isinstance(entry, str):
        if entry not in COURSE_WEIGHTS:
            raise ValueError(tr("unknown weight name {name!r}: the course's names are {names}",
                                name=entry, names=list(COURSE_WEIGHTS)))
        k, index = COURSE_WEIGHTS[entry]
        label = entry
    else:
        k, index = entry
        label = None
    index = tuple(index) if isinstance(index, (tuple, list)) else (int(index),)
    if isinstance(k, Tensor):
        tensor = k
    else:
        if not 0 <= int(k) < len(weights):
            raise ValueError(tr("weight number {k} does not exist: the model has {n} weights",
                                k=k, n=len(weights)))
        tensor = weights[int(k)]
    try:
        tensor.data[index]
    except IndexError:
        raise IndexError(tr("index {index} is outside the weight of shape {shape}", index=index,
                            shape=tensor.shape)) from None
    name = label or f"{tensor.name or 'w'}[{', '.join(map(str, index))}]"
    return tensor, index, name
