"""Lesson 7: momentum on f = x³ − y³ + 3x² + 3y² − 9x from (0.5, 0.5), with a stopping tolerance.

f has a local minimum −5 at (1, 0), saddle points at (1, 2) and (−3, 0) and a maximum at (−3, 2).
The course's loop, with ``backward()`` giving the gradient:

    v ← γ·v + η·∇f(w)          (γ = 0.9, η = 0.01)
    w ← w − v
    stop when ‖v‖ < tol        (tol = 1e-6, at most 5000 iterations)

and the same run with Keras's ``SGD(learning_rate=0.01, momentum=0.9)`` through
``tinygrad_es.viz.plots.optimizer_path(..., tol=1e-6)``. Plain gradient descent is drawn beside it.

Run:  python examples/lesson7_momentum_cubic.py --out pictures/
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np

from tinygrad_es import Tensor, no_grad
from tinygrad_es.optimizers import SGD
from tinygrad_es.viz import surfaces
from tinygrad_es.viz.paths import legend_below, path_legend
from tinygrad_es.viz.plots import optimizer_path, plot_loss_surface
from tinygrad_es.i18n import argparse_speaks, tr

START, LEARNING_RATE, MOMENTUM, TOL, MAX_ITER = (0.5, 0.5), 0.01, 0.9, 1e-6, 5000


def momentum_with_tolerance(start=START, lr=LEARNING_RATE, momentum=MOMENTUM, tol=TOL,
                            max_iter=MAX_ITER) -> np.ndarray:
    """The course's loop. Returns every point visited, shape (iterations + 1, 2)."""
    w = Tensor(np.array(start), requires_grad=True, dtype="float64", name="w")
    v = np.zeros(2)
    path = [w.data.copy()]
    for _ in range(max_iter):
        w.grad = None
        surfaces.cubic(w).backward()          # w.grad = (3x² + 6x − 9, −3y² + 6y)
        v = momentum * v + lr * w.grad
        w.data -= v
        path.append(w.data.copy())
        if np.linalg.norm(v) < tol:
            break
    return np.array(path)


def main(out_dir: str | Path = "lesson7_output", quick: bool = False) -> dict:
    """Run both versions and plain gradient descent; write ``lesson7_momentum_cubic.png``.

    ``quick`` changes only the contour resolution and the picture size.

    Returns:
        ``{"by_hand": path, "keras_sgd": path, "plain": path, "pictures": [...]}``.
    """
    from matplotlib.figure import Figure

    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    by_hand = momentum_with_tolerance()
    keras_sgd = optimizer_path(surfaces.cubic, SGD(LEARNING_RATE, momentum=MOMENTUM), START,
                               MAX_ITER, tol=TOL, dtype="float64")
    plain = optimizer_path(surfaces.cubic, SGD(LEARNING_RATE), START, MAX_ITER, tol=TOL,
                           dtype="float64")
    with no_grad():
        values = {name: np.array([float(surfaces.cubic(Tensor(p, dtype="float64")).data)
                                  for p in path])
                  for name, path in (("momentum", by_hand), ("plain", plain))}
    for name, path in (("momentum by hand", by_hand), ("SGD(momentum=0.9)", keras_sgd),
                       ("plain gradient descent", plain)):
        print(tr("{name:>23}: stopped after {n_path:4d} iterations at ({x:.6f}, {y:.6f})",
                 name=name, n_path=len(path) - 1, x=path[-1, 0], y=path[-1, 1]))
    print(tr("f at the end: {f:.8f} (the minimum is -5 at (1, 0))",
             f=values['momentum'][-1]))

    fig = Figure(figsize=(11, 5.4), layout="constrained")
    ax_map, ax_f = fig.subplots(1, 2, width_ratios=(1.15, 1))
    cubic = surfaces.get("cubic")
    plot_loss_surface(cubic, cubic.xlim, cubic.ylim, num=61 if quick else 161, levels=40,
                      paths={f"momentum {MOMENTUM}, lr {LEARNING_RATE}": by_hand,
                             f"plain GD, lr {LEARNING_RATE}": plain},
                      minimum=cubic.minimum, ax=ax_map, legend=False)
    (saddle,) = ax_map.plot([1], [2], "X", color="white", markeredgecolor="black", markersize=9,
                            label=tr("saddle (1, 2)"))
    handles, labels = path_legend(ax_map)
    legend_below(ax_map, handles + [saddle], labels + [saddle.get_label()], ncols=3)
    for name, label in (("momentum", f"momentum ({len(by_hand) - 1} iterations)"),
                        ("plain", f"plain GD ({len(plain) - 1} iterations)")):
        ax_f.semilogy(values[name] + 5 + 1e-16, label=label)
    ax_f.set(title=tr("f + 5; stop when a step < {TOL:g}", TOL=TOL),
             xlabel=tr("iteration"), ylabel=tr("f + 5 (log scale)"))
    ax_f.grid(alpha=0.3)
    ax_f.legend(loc="upper right")
    picture = out_dir / "lesson7_momentum_cubic.png"
    fig.savefig(picture, dpi=60 if quick else 100)
    print(tr("wrote {picture}", picture=picture))
    return {"by_hand": by_hand, "keras_sgd": keras_sgd, "plain": plain, "pictures": [picture]}


if __name__ == "__main__":
    with argparse_speaks():  # argparse's own words in the current language too
        parser = argparse.ArgumentParser(
            description=tr("Lesson 7: momentum on a cubic surface, "
                           "with a stopping tolerance"))
        parser.add_argument("--out", default="lesson7_output", help=tr("folder for the pictures"))
        parser.add_argument("--quick", action="store_true", help=tr("coarser, smaller picture"))
        args = parser.parse_args()
    main(args.out, quick=args.quick)
