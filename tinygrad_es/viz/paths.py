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
from tinygrad_es.tensor import Tensor

__all__ = ["optimizer_path", "surface_grid", "plot_loss_surface", "animate_paths"]

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
        raise ValueError(f"optimizer_path expects steps >= 0 (an int), received {steps!r}")
    if not hasattr(optimizer, "apply"):
        from tinygrad_es import optimizers

        optimizer = optimizers.get(optimizer)
    w = Tensor(np.asarray(start, dtype=np.float64), requires_grad=True,
               dtype=dtype or config.floatx(), name="w")
    if w.ndim != 1:
        raise ValueError(f"optimizer_path expects a start point like (w0, w1), received shape "
                         f"{w.shape}")
    path = np.full((steps + 1, w.size), np.nan)
    path[0] = w.data
    for k in range(steps):
        w.grad = None
        loss = f(w)
        if loss.size != 1:
            raise ValueError(f"f must return a scalar for one point, returned shape {loss.shape}")
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
    with no_grad():
        return np.array([float(f(Tensor(p, dtype=np.float64)).data) for p in path])


def plot_loss_surface(f: Fn, xlim: Sequence[float] = (-3, 3), ylim: Sequence[float] = (-3, 3),
                      kind: str = "contour", paths: Mapping[str, Any] | None = None,
                      num: int = 121, levels: int = 30, log: bool = False,
                      minimum: Sequence[float] | None = None, colorbar: bool = True,
                      cmap: str = "viridis", title: str | None = None, ax: Any = None) -> Any:
    """A 2-D loss surface as filled contours (``kind="contour"``) or a 3-D surface (``"3d"``),
    with optimizer paths drawn on it.

    Args:
        f: a Tensor function of ``w[..., 0], w[..., 1]`` (see ``tinygrad_es.viz.surfaces``).
        xlim, ylim: the window.
        kind: ``"contour"`` or ``"3d"``.
        paths: ``{label: array of points (n, 2)}``, e.g. from :func:`optimizer_path`.
        num: grid points per axis.
        levels: number of contour levels.
        log: contour ``log(1 + f − min f)`` instead of f (for steep valleys like Rosenbrock).
        minimum: a point to mark with a star.
        colorbar: add a colour bar (contour only).
        cmap: matplotlib colour map.
        title: the axes' title.
        ax: where to draw; a new figure if None (for "3d", an Axes3D).

    Returns:
        The Axes. Each path is a line whose gid is ``"path:<label>"``.

    Example:
        >>> from tinygrad_es.viz import surfaces
        >>> s = surfaces.get("course")
        >>> paths = {"adam": optimizer_path(s, "adam", s.start, 100)}
        >>> ax = plot_loss_surface(s, s.xlim, s.ylim, paths=paths, minimum=s.minimum)
        >>> ax.figure.savefig("surface.png")
    """
    if kind not in ("contour", "3d"):
        raise ValueError(f"kind must be 'contour' or '3d', received {kind!r}")
    X, Y, Z = surface_grid(f, xlim, ylim, num)
    shown = np.log1p(Z - Z.min()) if log else Z
    paths = {str(k): np.asarray(v, dtype=np.float64) for k, v in (paths or {}).items()}
    for label, p in paths.items():
        if p.ndim != 2 or p.shape[1] != 2:
            raise ValueError(f"path {label!r} must have shape (n, 2), received {p.shape}")
    if kind == "3d":
        ax = ax if ax is not None else _new_axes(projection="3d")
        floor = float(shown.min())
        ax.plot_surface(X, Y, shown, cmap=cmap, alpha=0.75, rcount=min(num, 100),
                        ccount=min(num, 100), edgecolor="none", antialiased=True)
        ax.contour(X, Y, shown, levels=levels // 2, zdir="z", offset=floor, cmap=cmap,
                   linewidths=0.6)
        for label, p in paths.items():
            z = _values_on(f, p)
            z = np.log1p(z - Z.min()) if log else z
            # mplot3d does not clip to the axes: a point outside the window ends the line there
            outside = ((p[:, 0] < xlim[0]) | (p[:, 0] > xlim[1]) | (p[:, 1] < ylim[0])
                       | (p[:, 1] > ylim[1]))
            z = np.where(outside, np.nan, z)
            (line,) = ax.plot(p[:, 0], p[:, 1], z, "-", marker="o", markersize=2, linewidth=1.5,
                              label=label, zorder=10)
            line.set_gid(f"path:{label}")
        ax.set_xlim(*xlim)
        ax.set_ylim(*ylim)
        ax.set_zlim(floor, float(shown.max()))
        ax.set_zlabel("log(1 + f − min f)" if log else "f")
    else:
        ax = ax if ax is not None else _new_axes()
        filled = ax.contourf(X, Y, shown, levels=levels, cmap=cmap)
        ax.contour(X, Y, shown, levels=levels, colors="k", linewidths=0.3, alpha=0.4)
        if colorbar:
            bar = ax.figure.colorbar(filled, ax=ax)
            bar.set_label("log(1 + f − min f)" if log else "f")
        for label, p in paths.items():
            (line,) = ax.plot(p[:, 0], p[:, 1], "-", marker="o", markersize=2, linewidth=1.5,
                              label=label)
            line.set_gid(f"path:{label}")
            ax.plot(p[-1:, 0], p[-1:, 1], "o", color=line.get_color(), markersize=6,
                    markeredgecolor="white")
        if paths:
            start = next(iter(paths.values()))[0]
            ax.plot([start[0]], [start[1]], "s", color="white", markeredgecolor="black",
                    markersize=6, label="start")
        ax.set_xlim(*xlim)
        ax.set_ylim(*ylim)
    if minimum is not None:
        point = np.asarray(minimum, dtype=np.float64)
        if kind == "3d":
            zmin = _values_on(f, point[None])
            ax.plot([point[0]], [point[1]], np.log1p(zmin - Z.min()) if log else zmin, "*",
                    color="red", markersize=12, label="minimum")
        else:
            ax.plot([point[0]], [point[1]], "*", color="red", markersize=12,
                    markeredgecolor="white", label="minimum")
    ax.set_xlabel("w0")
    ax.set_ylabel("w1")
    if title:
        ax.set_title(title)
    if paths or minimum is not None:
        ax.legend(loc="best", fontsize=8, framealpha=0.8)
    return ax


def animate_paths(f: Fn, paths: Mapping[str, Any], filename: str | Path,
                  xlim: Sequence[float] = (-3, 3), ylim: Sequence[float] = (-3, 3),
                  fps: int = 12, max_frames: int = 120, levels: int = 30, log: bool = False,
                  minimum: Sequence[float] | None = None, title: str = "",
                  figsize: tuple[float, float] = (6, 5), dpi: int = 80,
                  hold_last: float = 1.5) -> Path:
    """An animated GIF of several optimizers moving on a contour plot of ``f``: one frame per step
    (long paths are sampled down to ``max_frames``).

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
        title: text before the step counter in each frame's title.
        figsize, dpi: size of the frames.
        hold_last: seconds the last frame stays before the GIF loops.

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
        raise ValueError("animate_paths needs at least one path")
    arrays = {str(k): np.asarray(v, dtype=np.float64) for k, v in paths.items()}
    length = max(len(p) for p in arrays.values())
    frames = np.unique(np.linspace(0, length - 1, min(length, max_frames)).round().astype(int))
    fig = Figure(figsize=figsize, dpi=dpi)
    canvas = FigureCanvasAgg(fig)
    ax = fig.add_subplot()
    plot_loss_surface(f, xlim, ylim, levels=levels, log=log, minimum=minimum, colorbar=False,
                      ax=ax, num=81)
    moving = []
    for label in arrays:
        (line,) = ax.plot([], [], "-", linewidth=1.8, label=label, animated=True)
        (head,) = ax.plot([], [], "o", color=line.get_color(), markersize=7,
                          markeredgecolor="white", animated=True)
        moving.append((line, head))
    starts = np.array([p[0] for p in arrays.values()])
    ax.plot(starts[:, 0], starts[:, 1], "s", color="white", markeredgecolor="black",
            markersize=6, label="start")
    ax.legend(loc="upper right", fontsize=8, framealpha=0.8)
    heading = ax.set_title(" ", animated=True)
    canvas.draw()
    background = canvas.copy_from_bbox(fig.bbox)

    images = []
    for k in frames:
        canvas.restore_region(background)
        for (line, head), p in zip(moving, arrays.values()):
            upto = p[:min(k, len(p) - 1) + 1]
            line.set_data(upto[:, 0], upto[:, 1])
            head.set_data(upto[-1:, 0], upto[-1:, 1])
            ax.draw_artist(line)
            ax.draw_artist(head)
        heading.set_text(f"{title}  step {k}".strip())
        ax.draw_artist(heading)
        canvas.blit(fig.bbox)
        images.append(Image.fromarray(np.asarray(canvas.buffer_rgba())).convert("RGB"))
    # One palette for every frame: the last frame (every path in full) plus a swatch of each
    # path's colour, so that thin lines keep their exact colours.
    swatches = [line.get_color() for line, _ in moving]
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

    fig = plt.figure(figsize=(6.4, 5.0) if projection is None else (7, 5.5))
    return fig.add_subplot(projection=projection)
