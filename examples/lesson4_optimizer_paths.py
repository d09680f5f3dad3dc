"""Lesson 4: the course's eight optimizers racing on 2-D loss surfaces — a 2×4 figure, a 3-D
picture and an animated GIF.

SGD, Adagrad, RMSprop, Adadelta (at learning rate 1), Adam, AMSGrad, Adamax and Nadam
(``tinygrad_es.viz.surfaces.RACE``), each run with ``tinygrad_es.viz.plots.optimizer_path``
(forward f(w), ``backward()``, ``optimizer.apply``: the loop ``fit`` runs) on the surfaces of
``tinygrad_es.viz.surfaces``:

* ``course``: 3(1−w0)²e^(−w0²−(w1+1)²) − 10(w0/5 − w0³ − w1⁵)e^(−w0²−w1²) − ⅓e^(−(w0+1)²−w1²)
  from (−0.35, −0.67), as in the course's video;
* ``cubic``: x³ − y³ + 3x² + 3y² − 9x (minimum −5 at (1, 0)); ``rosenbrock``; ``squares`` (x² + y²,
  drawn with equal axis scales).

The pictures follow the course's convention: a red star where the descent starts, a blue star
where it ends, yellow points for the steps between. Each panel of the 2×4 figure shows one
optimizer against plain SGD (gray); the learning rates are ``tinygrad_es.viz.surfaces.PATHS``
(in the panels' titles). The GIF races all eight on the course's surface. A path that diverges
is reported as such, with its last finite point.

Run:  python examples/lesson4_optimizer_paths.py --out pictures/
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np

from tinygrad_es import Tensor, course, no_grad
from tinygrad_es.i18n import argparse_speaks, tr
from tinygrad_es.viz import surfaces
from tinygrad_es.viz.paths import legend_below, path_end, path_legend
from tinygrad_es.viz.plots import animate_paths, optimizer_path, plot_loss_surface


def run_paths(surface: surfaces.Surface, steps: int, rates: dict[str, float],
              names: tuple[str, ...] = surfaces.RACE) -> dict:
    """``{name: array (steps + 1, 2)}``: every optimizer's path from the surface's start."""
    return {name: optimizer_path(surface, course.optimizer(name, rates[name]), surface.start,
                                 steps, dtype="float64") for name in names}


def describe_end(surface: surfaces.Surface, path: np.ndarray) -> str:
    """Where a path ends and f there; a diverged path says so and shows its last finite point."""
    point, diverged = path_end(path)
    with no_grad(), np.errstate(over="ignore", invalid="ignore"):
        value = float(surface(Tensor(point, dtype="float64")).data)
    if diverged or not np.isfinite(value) or abs(value) > 1e12:
        return (f"{tr('diverged')}; " + tr("last finite point ({x:.4g}, {y:.4g})", x=point[0],
                                            y=point[1]))
    return f"ends at ({point[0]: .4f}, {point[1]: .4f})  f = {value:.4f}"


def draw_grid(surface: surfaces.Surface, paths: dict, rates: dict[str, float], path: Path,
              num: int, dpi: int) -> None:
    """The 2×4 figure: one panel per optimizer (SGD in gray in each), one legend below."""
    from matplotlib.figure import Figure

    equal = surface.equal
    fig = Figure(figsize=(15, 8.6 if not equal else 8.2), layout="constrained")
    xlim, ylim = surfaces.paths_window(surface, paths)
    sgd = paths["sgd"]
    for ax, name in zip(fig.subplots(2, 4).flat, paths):
        plot_loss_surface(surface, xlim, ylim, log=surface.log, num=num, paths={name: paths[name]},
                          colorbar=False, minimum=surface.minimum, ax=ax, legend=False,
                          title=f"{name}, lr = {rates[name]:g}")
        if name != "sgd":
            ax.plot(sgd[:, 0], sgd[:, 1], "-", color="0.55", linewidth=1.2, zorder=3,
                    label=tr("sgd lr={rates:g}", rates=rates['sgd']), gid="path:sgd (gray)")
    handles, labels = path_legend(ax)
    fig.legend(handles[1:], ["sgd (gray)"] + labels[2:], loc="outside lower center", ncols=5,
               fontsize=10)
    fig.suptitle(tr("{formula}:  {n_sgd} steps from {start}", formula=surface.formula,
                    n_sgd=len(sgd) - 1, start=surface.start))
    fig.savefig(path, dpi=dpi)


def draw_3d(surface: surfaces.Surface, paths: dict, path: Path, num: int, dpi: int) -> None:
    """The surface in 3-D with a few of the paths on it."""
    from matplotlib.figure import Figure

    fig = Figure(figsize=(8, 6.4), layout="constrained")
    ax = fig.add_subplot(projection="3d")
    shown = {name: paths[name] for name in ("sgd", "adagrad", "adadelta", "adam")}
    plot_loss_surface(surface, surface.xlim, surface.ylim, kind="3d", paths=shown,
                      minimum=surface.minimum, num=num, log=surface.log, ax=ax, legend=False)
    fig.legend(*path_legend(ax), loc="outside lower center", ncols=5, fontsize=9)
    ax.view_init(elev=35, azim=-60)
    fig.savefig(path, dpi=dpi)


def main(out_dir: str | Path = "lesson4_output", quick: bool = False,
         surface_names: list[str] | None = None) -> dict:
    """Write ``lesson4_<surface>_paths.png`` (2×4) for each surface, ``lesson4_course_3d.png`` and
    ``lesson4_course_race.gif``.

    Args:
        out_dir: folder for the pictures.
        quick: the course's surface only, 30 steps, coarse grids, a short GIF.
        surface_names: which surfaces (default all four; quick: ``["course"]``).

    Returns:
        ``{"paths": {surface: {optimizer: array}}, "pictures": [...]}``.
    """
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    names = surface_names or (["course"] if quick else list(surfaces.PATHS))
    num, dpi = (41, 50) if quick else (121, 80)
    all_paths, pictures = {}, []
    for name in names:
        surface = surfaces.get(name)
        steps, rates = surfaces.PATHS[name]
        steps = 30 if quick else steps
        paths = run_paths(surface, steps, rates)
        all_paths[name] = paths
        print(tr("{name}: {steps} steps from {start}, minimum at {minimum}", name=name,
                 steps=steps, start=surface.start, minimum=surface.minimum))
        for opt, p in paths.items():
            print(f"  {opt:>9} lr={rates[opt]:<6g} {describe_end(surface, p)}")
        pictures.append(out_dir / f"lesson4_{name}_paths.png")
        draw_grid(surface, paths, rates, pictures[-1], num, dpi)
        if name == "course":
            pictures.append(out_dir / "lesson4_course_3d.png")
            draw_3d(surface, paths, pictures[-1], num, dpi)
            pictures.append(out_dir / "lesson4_course_race.gif")
            xlim, ylim = surfaces.paths_window(surface, paths)
            animate_paths(surface, paths, pictures[-1], xlim, ylim, minimum=surface.minimum,
                          max_frames=8 if quick else 60, fps=10, dpi=40 if quick else 80,
                          figsize=(7, 6.4))
    for picture in pictures:
        print(tr("wrote {picture}", picture=picture))
    return {"paths": all_paths, "pictures": pictures}


if __name__ == "__main__":
    with argparse_speaks():  # argparse's own words in the current language too
        parser = argparse.ArgumentParser(
            description=tr("Lesson 4: the course's eight optimizers "
                           "racing on 2-D loss surfaces"))
        parser.add_argument("--out", default="lesson4_output", help=tr("folder for the pictures"))
        parser.add_argument("--quick", action="store_true", help=tr("course surface, 30 steps"))
        parser.add_argument("--surface", action="append", choices=sorted(surfaces.PATHS),
                            help=tr("a surface to draw (repeatable; default all)"))
        args = parser.parse_args()
    main(args.out, quick=args.quick, surface_names=args.surface)
