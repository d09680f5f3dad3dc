"""Lesson 4: ten optimizers racing on 2-D loss surfaces — a 3×3 figure and an animated GIF.

SGD, momentum, Nesterov, Adagrad, RMSprop, Adadelta, Adam, AMSGrad, Adamax and Nadam, each run
with ``tinygrad_es.viz.plots.optimizer_path`` (forward f(w), ``backward()``, ``optimizer.apply``:
the loop ``fit`` runs) on the surfaces of ``tinygrad_es.viz.surfaces``:

* ``course``: 3(1−w0)²e^(−w0²−(w1+1)²) − 10(w0/5 − w0³ − w1⁵)e^(−w0²−w1²) − ⅓e^(−(w0+1)²−w1²)
  from (−0.35, −0.67), as in the course's video;
* ``cubic``: x³ − y³ + 3x² + 3y² − 9x (minimum −5 at (1, 0)); ``rosenbrock``; ``squares`` (x² + y²).

Each panel of the 3×3 figure shows one optimizer against plain SGD (gray). The learning rates are
``tinygrad_es.viz.surfaces.PATHS`` (printed in the legends). The GIF races all ten on the course's
surface.

Run:  python examples/lesson4_optimizer_paths.py --out pictures/
"""

from __future__ import annotations

import argparse
from pathlib import Path

from tinygrad_es import Tensor, course, no_grad
from tinygrad_es.viz import surfaces
from tinygrad_es.viz.plots import animate_paths, optimizer_path, plot_loss_surface


def run_paths(surface: surfaces.Surface, steps: int, rates: dict[str, float]) -> dict:
    """``{name: array (steps + 1, 2)}``: every optimizer's path from the surface's start."""
    return {name: optimizer_path(surface, course.optimizer(name, rates[name]), surface.start,
                                 steps, dtype="float64") for name in course.OPTIMIZERS}


def draw_grid(surface: surfaces.Surface, paths: dict, rates: dict[str, float], path: Path,
              num: int, dpi: int) -> None:
    """The 3×3 figure: one panel per optimizer (SGD in gray in each)."""
    from matplotlib.figure import Figure

    fig = Figure(figsize=(12, 11), layout="constrained")
    others = [name for name in paths if name != "sgd"]
    xlim, ylim = surfaces.paths_window(surface, paths)
    for ax, name in zip(fig.subplots(3, 3).flat, others):
        plot_loss_surface(surface, xlim, ylim, log=surface.log, num=num,
                          paths={f"{name} lr={rates[name]:g}": paths[name]}, colorbar=False,
                          minimum=surface.minimum, ax=ax)
        sgd = paths["sgd"]
        ax.plot(sgd[:, 0], sgd[:, 1], "-", color="0.55", linewidth=1.2,
                label=f"sgd lr={rates['sgd']:g}")
        ax.legend(fontsize=7, loc="upper right", framealpha=0.8)
        ax.set_title(name)
    fig.suptitle(f"{surface.name}: {len(paths['sgd']) - 1} steps from {surface.start}")
    fig.savefig(path, dpi=dpi)


def draw_3d(surface: surfaces.Surface, paths: dict, path: Path, num: int, dpi: int) -> None:
    """The surface in 3-D with a few of the paths on it."""
    from matplotlib.figure import Figure

    fig = Figure(figsize=(7, 5.5), layout="constrained")
    ax = fig.add_subplot(projection="3d")
    shown = {name: paths[name] for name in ("sgd", "momentum", "adagrad", "adam")}
    plot_loss_surface(surface, surface.xlim, surface.ylim, kind="3d", paths=shown,
                      minimum=surface.minimum, num=num, log=surface.log, ax=ax,
                      title=f"{surface.name} surface")
    ax.view_init(elev=35, azim=-60)
    fig.savefig(path, dpi=dpi)


def main(out_dir: str | Path = "lesson4_output", quick: bool = False,
         surface_names: list[str] | None = None) -> dict:
    """Write ``lesson4_<surface>_paths.png`` (3×3) for each surface, ``lesson4_course_3d.png`` and
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
        print(f"{name}: {steps} steps from {surface.start}, minimum at {surface.minimum}")
        with no_grad():
            for opt, p in paths.items():
                value = float(surface(Tensor(p[-1], dtype="float64")).data)
                print(f"  {opt:>9} lr={rates[opt]:<6g} ends at ({p[-1, 0]: .4f}, {p[-1, 1]: .4f})"
                      f"  f = {value:.4f}")
        pictures.append(out_dir / f"lesson4_{name}_paths.png")
        draw_grid(surface, paths, rates, pictures[-1], num, dpi)
        if name == "course":
            pictures.append(out_dir / "lesson4_course_3d.png")
            draw_3d(surface, paths, pictures[-1], num, dpi)
            pictures.append(out_dir / "lesson4_course_race.gif")
            xlim, ylim = surfaces.paths_window(surface, paths)
            animate_paths(surface, paths, pictures[-1], xlim, ylim,
                          minimum=surface.minimum, title="course surface",
                          max_frames=8 if quick else 60, fps=10, dpi=40 if quick else 80,
                          figsize=(6, 5))
    for picture in pictures:
        print(f"wrote {picture}")
    return {"paths": all_paths, "pictures": pictures}


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default="lesson4_output", help="folder for the pictures")
    parser.add_argument("--quick", action="store_true", help="course surface, 30 steps")
    parser.add_argument("--surface", action="append", choices=sorted(surfaces.PATHS),
                        help="a surface to draw (repeatable; default all)")
    args = parser.parse_args()
    main(args.out, quick=args.quick, surface_names=args.surface)
