"""Optimizers on 2-D surfaces: the path any tinygrad_es optimizer takes, contour and 3-D pictures
of the surface with paths drawn on it, and an animated GIF of several optimizers racing.

matplotlib is imported inside the functions; none calls ``plt.show()``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Callable, Mapping, Sequence

import numpy as np

from tinygrad_es import config
from tinygrad_es.autograd import no_grad
from tinygrad_es.i18n import tr
from tinygrad_es.tensor import Tensor

__all__ = ["optimizer_path", "surface_grid", "plot_loss_surface", "animate_paths", "path_end",
           "path_legend", "legend_below"]

Fn = Callable[[Tensor], Tensor]


def optimizer_path(f: Fn, optimizer: Any, start: Sequence[float], steps: int,
                   tol: float | None = None, dtype: Any = None) -> np.ndarray:
    """Run an optimizer on ``f`` from ``start`` and return every point it visits.

    Each step is what ``fit`` does: forward ``f(w)``, ``backward()``, then
    ``optimizer.apply([w.grad], [w])``.

    Args:
        f: a Tensor function of one point ``w`` (shape (2,)) returning a scalar
            (``surfaces.course_surface``, ``surfaces.rosenbrock``, ...).
        optimizer: an optimizer instance, or anything ``optimizers.get`` accepts (``"adam"``,
            ``{"class_name": "SGD", "config": {...}}``). An instance keeps its state: pass a fresh
            one per path.
        start: the starting point.
        steps: number of updates.
        tol: stop early once an update moves w by less than ``tol`` (Euclidean norm).
        dtype: of w; default ``config.floatx()``.

    Returns:
        Array of shape (steps + 1, 2): the start and the point after each update (fewer rows when
        ``tol`` stopped it; rows after a non-finite value are NaN).

    Example:
        >>> from tinygrad_es.optimizers import SGD
        >>> from tinygrad_es.viz import surfaces
        >>> path = optimizer_path(surfaces.cubic, SGD(0.05, momentum=0.9), (0.5, 0.5), 100)
        >>> path.shape
        (101, 2)
    """
    if not isinstance(steps, (int, np.integer)) or steps < 0:
        raise ValueError(tr("optimizer_path expects steps >= 0 (an int), received {steps!r}",
                            steps=steps))
    if not hasattr(optimizer, "apply"):
        from tinygrad_es import optimizers

        optimizer = optimizers.get(optimizer)
    w = Tensor(np.asarray(start, dtype=np.float64), requires_grad=True,
               dtype=dtype or config.floatx(), name="w")
    if w.ndim != 1:
        raise ValueError(tr("optimizer_path expects a start point like (w0, w1), received "
                            "shape {shape}", shape=w.shape))
    path = np.full((steps + 1, w.size), np.nan)
    path[0] = w.data
    # a diverging path overflows to inf (then NaN): that is its answer, not a warning
    with np.errstate(over="ignore", invalid="ignore"):
        for k in range(steps):
            w.grad = None
            loss = f(w)
            if loss.size != 1:
                raise ValueError(tr("f must return a scalar for one point, returned shape "
                                    "{shape}", shape=loss.shape))
            loss.backward()
            before = w.data.copy()
            optimizer.apply([w.grad], [w])
            path[k + 1] = w.data
            if not np.all(np.isfinite(w.data)):
                break
            if tol is not None and np.linalg.norm(w.data - before) < tol:
                return path[:k + 2]
    return path


def surface_grid(f: Fn, xlim: Sequence[float], ylim: Sequence[float],
                 num: int = 121) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``X, Y, Z`` (each (num, num)) with Z = f at every grid point, in float64.

    One vectorised call when ``f`` works on a (num, num, 2) grid (the functions of ``surfaces``
    do), else one call per point.

    Example:
        >>> from tinygrad_es.viz import surfaces
        >>> X, Y, Z = surface_grid(surfaces.squares, (-1, 1), (-1, 1), num=3); float(Z[1, 1])
        0.0
    """
    xs = np.linspace(float(xlim[0]), float(xlim[1]), num)
    ys = np.linspace(float(ylim[0]), float(ylim[1]), num)
    X, Y = np.meshgrid(xs, ys)
    with no_grad():
        try:
            Z = np.asarray(f(Tensor(np.stack([X, Y], axis=-1), dtype=np.float64)).data)
        except (ValueError, IndexError, TypeError):
            Z = None
        if Z is None or Z.shape != X.shape:
            Z = np.array([[float(f(Tensor([x, y], dtype=np.float64)).data) for x in xs]
                          for y in ys])
    return X, Y, Z.astype(np.float64)


def _values_on(f: Fn, path: np.ndarray) -> np.ndarray:
    with no_grad(), np.errstate(over="ignore", invalid="ignore"):
        return np.array([float(f(Tensor(p, dtype=np.float64)).data) for p in path])


def plot_loss_surface(f: Fn, xlim: Sequence[float] = (-3, 3), ylim: Sequence[float] = (-3, 3),
                      kind: str = "contour", paths: Mapping[str, Any] | None = None,
                      num: int = 121, levels: int = 30, log: bool = False,
                      minimum: Sequence[float] | None = None, colorbar: bool = True,
                      cmap: str = "viridis", title: str | None = None, ax: Any = None,
                      legend: bool = True, equal: bool | None = None, lang: str | None = None,
                      zlabel: str | None = None) -> Any:
    """A 2-D loss surface as filled contours (``kind="contour"``) or a 3-D surface (``"3d"``),
    with optimizer paths drawn on it in the course's convention: a red star where the descent
    starts, a blue star where it ends (its last finite point if it diverged), yellow points for
    the steps between, and a line in the path's own colour joining them.

    Args:
        f: a Tensor function of ``w[..., 0], w[..., 1]`` (see ``tinygrad_es.viz.surfaces``).
        xlim, ylim: the window.
        kind: ``"contour"`` or ``"3d"``.
        paths: ``{label: array of points (n, 2)}``, e.g. from :func:`optimizer_path`.
        num: grid points per axis.
        levels: number of contour levels.
        log: contour ``log(1 + f − min f)`` instead of f (for steep valleys like Rosenbrock).
        minimum: a point to mark (a white ring).
        colorbar: add a colour bar (contour only).
        zlabel: the colour bar's label; default ``f`` (or its log form).
        cmap: matplotlib colour map.
        title: the axes' title; default the surface's formula (``f.formula``), if it has one.
        ax: where to draw; a new figure if None (for "3d", an Axes3D).
        legend: a legend outside the axes (below them), never over the data or the ticks.
        equal: equal scales on both axes; default ``f.equal`` (True for the round x² + y²).
        lang: ``"en"`` or ``"es"`` for the legend's words; default the current language.

    Returns:
        The Axes. Each path is a line whose gid is ``"path:<label>"``; its start, end and steps
        are markers with gids ``"start:<label>"``, ``"end:<label>"`` and ``"steps:<label>"``.

    Example:
        >>> from tinygrad_es.viz import surfaces
        >>> s = surfaces.get("course")
        >>> paths = {"adam": optimizer_path(s, "adam", s.start, 100)}
        >>> ax = plot_loss_surface(s, s.xlim, s.ylim, paths=paths, minimum=s.minimum)
        >>> ax.figure.savefig("surface.png")
    """
    if kind not in ("contour", "3d"):
        raise ValueError(tr("kind must be 'contour' or '3d', received {kind!r}", kind=kind))
    X, Y, Z = surface_grid(f, xlim, ylim, num)
    shown = np.log1p(Z - Z.min()) if log else Z
    paths = {str(k): np.asarray(v, dtype=np.float64) for k, v in (paths or {}).items()}
    for label, p in paths.items():
        if p.ndim != 2 or p.shape[1] != 2:
            raise ValueError(tr("path {label!r} must have shape (n, 2), received {shape}",
                                label=label, shape=p.shape))
    flat = kind != "3d"
    if ax is None:
        ax = _new_axes(projection=None if flat else "3d")
    if flat:
        filled = ax.contourf(X, Y, shown, levels=levels, cmap=cmap)
        ax.contour(X, Y, shown, levels=levels, colors="k", linewidths=0.3, alpha=0.4)
        if colorbar:
            ax.figure.colorbar(filled, ax=ax).set_label(zlabel or _zlabel(log))
    else:
        floor = float(shown.min())
        ax.plot_surface(X, Y, shown, cmap=cmap, alpha=0.7, rcount=min(num, 100),
                        ccount=min(num, 100), edgecolor="none", antialiased=True)
        ax.contour(X, Y, shown, levels=levels // 2, zdir="z", offset=floor, cmap=cmap,
                   linewidths=0.6)
        ax.set_zlim(floor, float(shown.max()))
        ax.set_zlabel(_zlabel(log))
    for label, p in paths.items():
        p = p[np.all(np.isfinite(p), axis=1)]
        if not flat:
            # mplot3d does not clip to the axes: a point outside the window ends the path there
            inside = ((p[:, 0] >= xlim[0]) & (p[:, 0] <= xlim[1]) & (p[:, 1] >= ylim[0])
                      & (p[:, 1] <= ylim[1]))
            p = p[:np.argmin(inside)] if not inside.all() else p
        coords = (p[:, 0], p[:, 1]) if flat else (p[:, 0], p[:, 1], _heights(f, p, Z, log))
        (line,) = ax.plot(*coords, "-", linewidth=1.4, label=label, zorder=4)
        line.set_gid(f"path:{label}")
        if len(p):
            _mark_path(ax, list(coords), label, line.get_color())
    if minimum is not None:
        point = np.asarray(minimum, dtype=np.float64)[None]
        coords = (point[:, 0], point[:, 1]) if flat else (
            point[:, 0], point[:, 1], _heights(f, point, Z, log))
        from matplotlib.patheffects import withStroke

        # a ring (white, outlined in black), so that a path's blue star shows inside it
        ax.plot(*coords, "o", markerfacecolor="none", markeredgecolor="white", markersize=15,
                markeredgewidth=1.6, zorder=7, gid="minimum", label=tr("minimum", lang=lang),
                path_effects=[withStroke(linewidth=3, foreground="black")])
    ax.set_xlim(*xlim)
    ax.set_ylim(*ylim)
    names = getattr(f, "variables", ("w0", "w1"))
    ax.set_xlabel(names[0])
    ax.set_ylabel(names[1])
    if flat and (getattr(f, "equal", False) if equal is None else equal):
        ax.set_aspect("equal")
    title = getattr(f, "formula", None) if title is None else title
    if title:
        ax.set_title(title, fontsize=9 if len(title) > 60 else 10)
    if legend and (paths or minimum is not None):
        legend_below(ax, *path_legend(ax, lang))
    return ax


def path_end(path: Any) -> tuple[np.ndarray, bool]:
    """``(point, diverged)``: where a path ends, or its last finite point if it diverged
    (an overflow to inf or NaN), so that no one has to print a 180-digit number.

    Example:
        >>> point, diverged = path_end(np.array([[1.0, 2.0], [1e200, -3.0], [np.inf, np.nan]]))
        >>> point.tolist(), diverged
        ([1e+200, -3.0], True)
    """
    p = np.asarray(path, dtype=np.float64)
    finite = p[np.all(np.isfinite(p), axis=1)]
    diverged = len(finite) < len(p)
    return (finite[-1] if len(finite) else p[0]), diverged


def path_legend(ax: Any, lang: str | None = None) -> tuple[list, list[str]]:
    """The handles and labels of a paths picture: every path, then one red star (start), one
    blue star (end), one yellow point (steps) and the minimum."""
    from matplotlib.lines import Line2D

    handles = [line for line in ax.get_lines() if str(line.get_gid()).startswith("path:")]
    labels = [line.get_label() for line in handles]
    if handles:
        for key, text in (("start", tr("start", lang=lang)), ("end", tr("end", lang=lang)),
                          ("steps", tr("steps between", lang=lang))):
            handles.append(Line2D([], [], linestyle="none", **_MARKS[key]))
            labels.append(text)
    handles += [line for line in ax.get_lines() if line.get_gid() == "minimum"][:1]
    labels += [h.get_label() for h in handles[len(labels):]]
    return handles, labels


def legend_below(ax: Any, handles: list, labels: list[str], ncols: int | None = None,
                 fontsize: float = 8) -> Any:
    """A legend centred below ``ax``, under its tick labels and x label (outside the data and the
    ticks); a constrained-layout figure makes room for it."""
    from matplotlib.transforms import ScaledTranslation

    size = ax.xaxis.label.get_fontsize() + max(t.get_fontsize() for t in ax.get_xticklabels()
                                               or [ax.xaxis.label])
    drop = 0.0 if hasattr(ax, "get_zlim") else (size + 16) / 72
    return ax.legend(handles, labels, loc="upper center", bbox_to_anchor=(0.5, 0),
                     bbox_transform=ax.transAxes + ScaledTranslation(0, -drop,
                                                                     ax.figure.dpi_scale_trans),
                     ncols=ncols or min(4, len(labels)), fontsize=fontsize, framealpha=0.9)


_MARKS = {
    "start": dict(marker="*", color="red", markeredgecolor="black", markeredgewidth=0.5,
                  markersize=13),
    "end": dict(marker="*", color="blue", markeredgecolor="white", markeredgewidth=0.6,
                markersize=13),
    "steps": dict(marker="o", color="yellow", markeredgecolor="0.25", markeredgewidth=0.3,
                  markersize=3.5),
}


def _mark_path(ax: Any, coords: list[np.ndarray], label: str, color: Any) -> None:
    """The course's marks on one path: yellow steps (rimmed in the path's colour, to tell paths
    apart), a red start, a blue end."""
    between = [c[1:-1] for c in coords]
    ax.plot(*between, linestyle="none", gid=f"steps:{label}", zorder=5,
            **{**_MARKS["steps"], "markeredgecolor": color, "markeredgewidth": 0.9})
    ax.plot(*[c[:1] for c in coords], linestyle="none", gid=f"start:{label}", zorder=6,
            **_MARKS["start"])
    ax.plot(*[c[-1:] for c in coords], linestyle="none", gid=f"end:{label}", zorder=6,
            **_MARKS["end"])


def _heights(f: Fn, points: np.ndarray, Z: np.ndarray, log: bool) -> np.ndarray:
    z = _values_on(f, points)
    return np.log1p(z - Z.min()) if log else z


def _zlabel(log: bool) -> str:
    return "log(1 + f − min f)" if log else "f"


def animate_paths(f: Fn, paths: Mapping[str, Any], filename: str | Path,
                  xlim: Sequence[float] = (-3, 3), ylim: Sequence[float] = (-3, 3),
                  fps: int = 12, max_frames: int = 120, levels: int = 30, log: bool = False,
                  minimum: Sequence[float] | None = None, title: str = "",
                  figsize: tuple[float, float] = (6, 5.4), dpi: int = 80,
                  hold_last: float = 1.5, lang: str | None = None) -> Path:
    """An animated GIF of several optimizers moving on a contour plot of ``f``: one frame per step
    (long paths are sampled down to ``max_frames``).

    The marks are :func:`plot_loss_surface`'s (red star: start; yellow: the steps so far; blue
    star: where each optimizer is now) and the legend sits below the axes in every frame.
    The contour plot is drawn once and each frame only redraws the paths (blitting), and all
    frames share the last frame's palette: about ten times faster than re-rendering every frame
    through ``matplotlib.animation.PillowWriter``, for the same GIF.

    Args:
        f: the surface (a Tensor function, as in :func:`plot_loss_surface`).
        paths: ``{label: array (n, 2)}``; shorter paths stay at their last point.
        filename: the ``.gif`` to write (folders are created).
        xlim, ylim, levels, log, minimum: as in :func:`plot_loss_surface`.
        fps: frames per second.
        max_frames: at most this many frames.
        title: text before the step counter in each frame's title; default ``f.formula``.
        figsize, dpi: size of the frames.
        hold_last: seconds the last frame stays before the GIF loops.
        lang: ``"en"`` or ``"es"`` for the legend and the step counter.

    Returns:
        The GIF's path. Needs Pillow (``pip install pillow``).

    Example:
        >>> from tinygrad_es.viz import surfaces
        >>> s = surfaces.get("course")
        >>> race = {name: optimizer_path(s, name, s.start, 60) for name in ("sgd", "adam")}
        >>> animate_paths(s, race, "race.gif", s.xlim, s.ylim, minimum=s.minimum)
        PosixPath('race.gif')
    """
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure
    from PIL import Image

    if not paths:
        raise ValueError(tr("animate_paths needs at least one path"))
    arrays = {str(k): np.asarray(v, dtype=np.float64) for k, v in paths.items()}
    arrays = {k: p[np.all(np.isfinite(p), axis=1)] for k, p in arrays.items()}
    length = max(len(p) for p in arrays.values())
    frames = np.unique(np.linspace(0, length - 1, min(length, max_frames)).round().astype(int))
    fig = Figure(figsize=figsize, dpi=dpi, layout="constrained")
    canvas = FigureCanvasAgg(fig)
    ax = fig.add_subplot()
    plot_loss_surface(f, xlim, ylim, levels=levels, log=log, minimum=minimum, colorbar=False,
                      ax=ax, num=81, title="", legend=False)
    moving = []
    for label, p in arrays.items():
        (line,) = ax.plot([], [], "-", linewidth=1.6, label=label, animated=True,
                          gid=f"path:{label}")
        (steps,) = ax.plot([], [], linestyle="none", animated=True,
                           **{**_MARKS["steps"], "markeredgecolor": line.get_color(),
                              "markeredgewidth": 0.9})
        (head,) = ax.plot([], [], linestyle="none", animated=True, **_MARKS["end"])
        ax.plot(p[:1, 0], p[:1, 1], linestyle="none", zorder=6, **_MARKS["start"])
        moving.append((line, steps, head))
    legend_below(ax, *path_legend(ax, lang), ncols=3)
    heading = ax.set_title(" ", animated=True, fontsize=9)
    formula = title or getattr(f, "formula", "")
    canvas.draw()
    background = canvas.copy_from_bbox(fig.bbox)

    images = []
    for k in frames:
        canvas.restore_region(background)
        for (line, steps, head), p in zip(moving, arrays.values()):
            upto = p[:min(k, len(p) - 1) + 1]
            line.set_data(upto[:, 0], upto[:, 1])
            steps.set_data(upto[1:-1, 0], upto[1:-1, 1])
            head.set_data(upto[-1:, 0], upto[-1:, 1])
            for artist in (line, steps, head):
                ax.draw_artist(artist)
        heading.set_text(f"{formula}   {tr('step {k}', lang=lang, k=k)}".strip())
        ax.draw_artist(heading)
        canvas.blit(fig.bbox)
        images.append(Image.fromarray(np.asarray(canvas.buffer_rgba())).convert("RGB"))
    # One palette for every frame: the last frame (every path in full) plus a swatch of each
    # path's colour, so that thin lines keep their exact colours.
    swatches = [line.get_color() for line, _, _ in moving] + ["red", "blue", "yellow"]
    palette = _palette_image(images[-1], swatches).quantize(colors=255,
                                                              method=Image.Quantize.MEDIANCUT)
    images = [im.quantize(palette=palette, dither=Image.Dither.NONE) for im in images]
    durations = [round(1000 / fps)] * len(images)
    durations[-1] += round(1000 * hold_last)
    filename = Path(filename)
    filename.parent.mkdir(parents=True, exist_ok=True)
    images[0].save(filename, format="GIF", save_all=True, append_images=images[1:],
                   duration=durations, loop=0)
    return filename


def _palette_image(frame: Any, colors: list) -> Any:
    """``frame`` with a block of each colour below it (the source of a shared GIF palette)."""
    from matplotlib.colors import to_rgb
    from PIL import Image

    rgb = np.asarray(frame)
    block = max(8, rgb.shape[0] // 8)
    strip = np.concatenate([np.tile(np.round(np.array(to_rgb(c)) * 255).astype(np.uint8),
                                    (block, max(1, rgb.shape[1] // len(colors)), 1))
                            for c in colors], axis=1)
    strip = np.pad(strip, ((0, 0), (0, rgb.shape[1] - strip.shape[1]), (0, 0)), mode="edge")
    return Image.fromarray(np.concatenate([rgb, strip], axis=0))


def _new_axes(projection: str | None = None) -> Any:
    import matplotlib.pyplot as plt

    fig = plt.figure(figsize=(6.4, 5.6) if projection is None else (7, 6), layout="constrained")
    return fig.add_subplot(projection=projection)
