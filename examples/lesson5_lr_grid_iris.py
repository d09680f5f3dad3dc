"""Lesson 5: optimizers × learning rates on iris, the course's exercises 5A and 5B.

A 4-8-3 network (selu hidden layer, softmax output), sparse categorical crossentropy, batch 32,
trained with SGD, Adagrad, RMSprop, Adam, Adamax and Nadam at learning rates 0.1, 0.01, 0.001 and
0.0001: 24 runs from the same starting weights and the same batch order, for 400 epochs (5A) and
for 20 epochs (5B). Each picture is a grid of loss curves, optimizers in rows and learning rates
in columns (``tinygrad_es.viz.plots.plot_lr_grid``).

What to look for is printed after each exercise, worked out from that run's own numbers
(``findings``): the best run, each optimizer's best learning rate, and the runs that learned
(loss below half the starting loss), did not learn (above 90 % of it) or diverged. Compare 5A with
5B: with 20 epochs only the large rates get anywhere, and the adaptive optimizers need less.

Run:  python examples/lesson5_lr_grid_iris.py --out pictures/ [--exercise 5B] [--epochs N]
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
from tinygrad_es.i18n import argparse_speaks, tr

OPTIMIZERS = ("sgd", "adagrad", "rmsprop", "adam", "adamax", "nadam")
LEARNING_RATES = (0.1, 0.01, 0.001, 0.0001)
EXERCISES = {"5A": 400, "5B": 20}  # exercise -> epochs
QUICK = {"optimizers": ("sgd", "adam"), "learning_rates": (0.1, 0.01),
         "epochs": {"5A": 20, "5B": 5}}
SEED = 0
LEARNED, STUCK = 0.5, 0.9  # final / starting loss: below LEARNED it learned, above STUCK it did not


def run_grid(build: callable, x: np.ndarray, y: np.ndarray, optimizers: Sequence[str],
             learning_rates: Sequence[float], epochs: int, batch_size: int = 32,
             validation_split: float = 0.0) -> dict:
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
            with np.errstate(all="ignore"):              # a diverging run ends in nan
                history = model.fit(x, y, epochs=epochs, batch_size=batch_size, verbose=0,
                                    validation_split=validation_split)
            results[(name, lr)] = history.history
            print(tr("{name:>9} lr={lr:<7g} loss {loss:.4f}  accuracy {accuracy:.3f}",
                     name=name, lr=lr, loss=history.history['loss'][-1],
                     accuracy=history.history['accuracy'][-1]))
    return results


def findings(results: dict) -> list[str]:
    """What to look for in a grid, from its numbers: the best run, each optimizer's best rate,
    and which runs learned, did not learn or diverged (relative to the starting loss)."""
    start = results["initial_loss"]
    runs = {key: np.asarray(logs["loss"], dtype=float) for key, logs in results.items()
            if key != "initial_loss"}
    final = {key: (loss[-1] if np.isfinite(loss[-1]) else np.inf) for key, loss in runs.items()}
    best = min(final, key=final.get)
    lines = [tr("best run: {name} at lr {lr:g}, loss {start:.4f} -> {end:.4f}, accuracy "
                "{accuracy:.3f}", name=best[0], lr=best[1], start=start, end=final[best],
                accuracy=results[best]['accuracy'][-1])]
    for name in dict.fromkeys(o for o, _ in runs):
        mine = {lr: v for (o, lr), v in final.items() if o == name}
        lr = min(mine, key=mine.get)
        lines.append(tr("{name}: best at lr {lr:g} (loss {mine:.4f})", name=name, lr=lr,
                        mine=mine[lr]))
    groups = {tr("learned (loss < half the start)"): [
                  k for k, v in final.items() if v < LEARNED * start],
              tr("did not learn (loss above 90 % of the start)"): [
                  k for k, v in final.items() if STUCK * start < v < np.inf],
              tr("diverged"): [k for k, v in final.items() if v == np.inf]}
    for title, keys in groups.items():
        names = ", ".join(f"{o} {lr:g}" for o, lr in keys) or tr("none")
        lines.append(f"{title}: {names}")
    return lines


def draw(results: dict, title: str, path: Path, dpi: int, key: str = "loss") -> None:
    """The grid of curves (optimizers × learning rates); for the loss one shared y axis from 0 to
    1.5× the starting loss (a run that blows up leaves the top of its panel)."""
    from matplotlib.figure import Figure

    runs = {k: v for k, v in results.items() if k != "initial_loss"}
    rows = len(dict.fromkeys(name for name, _ in runs))
    cols = len(dict.fromkeys(lr for _, lr in runs))
    fig = Figure(figsize=(2.8 * cols + 0.5, 1.9 * rows + 0.8), layout="constrained")
    axes = fig.subplots(rows, cols, squeeze=False, sharex=True, sharey=True)
    plot_lr_grid(runs, axes=axes, key=key)
    axes[0, 0].set_ylim(0, 1.5 * results["initial_loss"] if key == "loss" else 1.02)
    fig.suptitle(title)
    fig.savefig(path, dpi=dpi)


def build_iris() -> keras.Sequential:
    """4 inputs → Dense(8, selu) → Dense(3, softmax)."""
    return keras.Sequential([keras.Input((4,)), keras.layers.Dense(8, activation="selu"),
                             keras.layers.Dense(3, activation="softmax")])


def main(out_dir: str | Path = "lesson5_output", quick: bool = False,
         exercises: Sequence[str] = tuple(EXERCISES), epochs: int | None = None,
         optimizers: Sequence[str] | None = None,
         learning_rates: Sequence[float] | None = None) -> dict:
    """Run the exercises and write ``lesson5_lr_grid_iris.png`` (5A) and
    ``lesson5_lr_grid_iris_5B.png``.

    Args:
        out_dir: folder for the pictures.
        quick: ``QUICK``'s sizes (2 optimizers × 2 rates, 20 and 5 epochs), for the tests.
        exercises: which of ``EXERCISES``.
        epochs: the same number of epochs for every exercise, instead of the course's.
        optimizers, learning_rates: the grid's rows and columns (default the course's).

    Returns:
        ``{"results": {exercise: {(optimizer, lr): history dict, "initial_loss": float}},
        "findings": {exercise: [lines]}, "pictures": [...]}``.
    """
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    iris = load_iris()
    optimizers = optimizers or (QUICK["optimizers"] if quick else OPTIMIZERS)
    rates = learning_rates or (QUICK["learning_rates"] if quick else LEARNING_RATES)
    out: dict = {"results": {}, "findings": {}, "pictures": []}
    for exercise in exercises:
        n = epochs or (QUICK["epochs"] if quick else EXERCISES)[exercise]
        print(tr("----- exercise {exercise}: iris 4-8-3 selu, {n} epochs -----", exercise=exercise,
                 n=n))
        results = run_grid(build_iris, iris.data, iris.target, optimizers, rates, n)
        out["results"][exercise] = results
        out["findings"][exercise] = findings(results)
        print(tr("what to look for:") + "\n  " + "\n  ".join(out["findings"][exercise]))
        suffix = "" if exercise == "5A" else f"_{exercise}"
        picture = out_dir / f"lesson5_lr_grid_iris{suffix}.png"
        draw(results, tr("{exercise}: iris 4-8-3 selu, {n} epochs, batch 32: loss per epoch",
                         exercise=exercise, n=n), picture, 60 if quick else 80)
        print(tr("wrote {picture}", picture=picture))
        out["pictures"].append(picture)
    return out


if __name__ == "__main__":
    with argparse_speaks():  # argparse's own words in the current language too
        parser = argparse.ArgumentParser(
            description=tr("Lesson 5: optimizers × learning rates "
                           "on iris (exercises 5A and 5B)"))
        parser.add_argument("--out", default="lesson5_output", help=tr("folder for the pictures"))
        parser.add_argument("--quick", action="store_true",
                            help=tr("2 optimizers × 2 rates, few epochs"))
        parser.add_argument("--exercise", action="append", choices=sorted(EXERCISES),
                            help=tr("an exercise to run (repeatable; default all)"))
        parser.add_argument("--epochs", type=int, help=tr("epochs per run (default the course's)"))
        args = parser.parse_args()
    main(args.out, quick=args.quick, exercises=args.exercise or tuple(EXERCISES),
         epochs=args.epochs)
