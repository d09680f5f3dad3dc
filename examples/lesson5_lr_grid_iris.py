"""Lesson 5: optimizers × learning rates on iris, the course's exercise.

A 4-8-3 network (selu hidden layer, softmax output), sparse categorical crossentropy, batch 32,
400 epochs, trained with SGD, momentum, Nesterov, Adagrad, RMSprop and Adam at learning rates 0.1,
0.01, 0.001 and 0.0001: 24 runs from the same starting weights and the same batch order. The
picture is a grid of loss curves, optimizers by rows and learning rates by columns
(``tinygrad_es.viz.plots.plot_lr_grid``).

What to look for: momentum 0.9 acts like plain SGD with a 10× larger rate (momentum at 0.0001
ends where SGD at 0.001 does), so at 0.1 momentum and Nesterov are too fast and stall near 0.5;
Adagrad's steps shrink as it accumulates squared gradients, so it wants the largest rate; Adam and
RMSprop do well over the widest range.

Run:  python examples/lesson5_lr_grid_iris.py --out pictures/
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Sequence

import numpy as np

import tinygrad_es as keras
from tinygrad_es import course
from tinygrad_es.datasets import load_iris
from tinygrad_es.viz.plots import plot_lr_grid

OPTIMIZERS = ("sgd", "momentum", "nesterov", "adagrad", "rmsprop", "adam")
LEARNING_RATES = (0.1, 0.01, 0.001, 0.0001)
SEED = 0


def run_grid(build: callable, x: np.ndarray, y: np.ndarray, optimizers: Sequence[str],
             learning_rates: Sequence[float], epochs: int, batch_size: int = 32) -> dict:
    """Train ``build()`` once per (optimizer, learning rate), all from the same weights.

    Returns:
        ``{(optimizer, learning_rate): history.history}`` and, under the key ``"initial_loss"``,
        the loss of the starting weights.
    """
    keras.utils.set_random_seed(SEED)
    model = build()
    start = model.get_weights()
    model.compile(loss="sparse_categorical_crossentropy")
    results: dict = {"initial_loss": float(model.evaluate(x, y, verbose=0))}
    for name in optimizers:
        for lr in learning_rates:
            model = build()
            model.set_weights(start)
            model.compile(optimizer=course.optimizer(name, lr),
                          loss="sparse_categorical_crossentropy", metrics=["accuracy"])
            keras.utils.set_random_seed(SEED)            # the same shuffling for every run
            with np.errstate(over="ignore", invalid="ignore"):  # a diverging run ends in nan
                history = model.fit(x, y, epochs=epochs, batch_size=batch_size, verbose=0)
            results[(name, lr)] = history.history
            print(f"{name:>9} lr={lr:<7g} loss {history.history['loss'][-1]:.4f}  "
                  f"accuracy {history.history['accuracy'][-1]:.3f}")
    return results


def draw(results: dict, title: str, path: Path, dpi: int) -> None:
    """The grid of loss curves (optimizers × learning rates), one shared y axis from 0 to 1.5×
    the starting loss (a run that blows up leaves the top of its panel)."""
    from matplotlib.figure import Figure

    runs = {key: value for key, value in results.items() if key != "initial_loss"}
    rows = len(dict.fromkeys(name for name, _ in runs))
    cols = len(dict.fromkeys(lr for _, lr in runs))
    fig = Figure(figsize=(2.8 * cols + 0.5, 1.9 * rows + 0.8), layout="constrained")
    axes = fig.subplots(rows, cols, squeeze=False, sharex=True, sharey=True)
    plot_lr_grid(runs, axes=axes)
    axes[0, 0].set_ylim(0, 1.5 * results["initial_loss"])
    fig.suptitle(title)
    fig.savefig(path, dpi=dpi)


def build_iris() -> keras.Sequential:
    """4 inputs → Dense(8, selu) → Dense(3, softmax)."""
    return keras.Sequential([keras.Input((4,)), keras.layers.Dense(8, activation="selu"),
                             keras.layers.Dense(3, activation="softmax")])


def main(out_dir: str | Path = "lesson5_output", quick: bool = False) -> dict:
    """Run the grid and write ``lesson5_lr_grid_iris.png``.

    ``quick``: SGD and Adam at 0.1 and 0.01 for 20 epochs.

    Returns:
        ``{"results": {(optimizer, lr): history dict, "initial_loss": float}, "pictures": [...]}``.
    """
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    iris = load_iris()
    optimizers, rates, epochs = ((("sgd", "adam"), (0.1, 0.01), 20) if quick
                                 else (OPTIMIZERS, LEARNING_RATES, 400))
    results = run_grid(build_iris, iris.data, iris.target, optimizers, rates, epochs)
    picture = out_dir / "lesson5_lr_grid_iris.png"
    draw(results, f"iris 4-8-3 selu, {epochs} epochs, batch 32: loss per epoch", picture,
         60 if quick else 80)
    print(f"wrote {picture}")
    return {"results": results, "pictures": [picture]}


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default="lesson5_output", help="folder for the pictures")
    parser.add_argument("--quick", action="store_true", help="2 optimizers × 2 rates, 20 epochs")
    args = parser.parse_args()
    main(args.out, quick=args.quick)
