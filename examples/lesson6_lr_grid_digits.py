"""Lesson 6: optimizers × learning rates on digits, a deeper network: the course's exercises 6A,
6B and 6C.

The 8×8 digits (1797 images, pixels scaled from 0-16 to 0-1), a 64-128-64-32-16-10 network with
selu hidden layers and a softmax output, sparse categorical crossentropy, batch 32, for the six
optimizers of lesson 5 (SGD, Adagrad, RMSprop, Adam, Adamax, Nadam) at learning rates 0.1, 0.01,
0.001 and 0.0005, optimizers in rows and learning rates in columns (``run_grid``, ``draw`` and
``findings`` come from lesson 5):

* 6A: 5 epochs, the loss per epoch;
* 6B: 300 epochs, the loss per epoch (a fifth of the images held out for validation, dashed);
* 6C: the same 300-epoch runs, their accuracy on the training and the held-out images.

What to look for is printed after each exercise, worked out from its own numbers (the best run,
each optimizer's best rate, the runs that learned, did not learn or diverged).

Run:  python examples/lesson6_lr_grid_digits.py --out pictures/ [--exercise 6A] [--epochs N]
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Sequence

sys.path.insert(0, str(Path(__file__).resolve().parent))  # lesson 5 sits next to this file

import tinygrad_es as keras  # noqa: E402
from tinygrad_es.datasets import load_digits  # noqa: E402
from tinygrad_es.i18n import argparse_speaks, tr  # noqa: E402
from lesson5_lr_grid_iris import OPTIMIZERS, draw, findings, run_grid  # noqa: E402

LEARNING_RATES = (0.1, 0.01, 0.001, 0.0005)
# exercise -> (epochs, validation split); 6C is 6B's runs seen through their accuracy
EXERCISES = {"6A": (5, 0.0), "6B": (300, 0.2), "6C": (300, 0.2)}
QUICK = {"images": 320, "optimizers": ("sgd", "adam"), "learning_rates": (0.1, 0.001),
         "epochs": {"6A": 2, "6B": 3, "6C": 3}}


def build_digits() -> keras.Sequential:
    """64 inputs → 128 → 64 → 32 → 16 (selu) → 10 (softmax)."""
    hidden = [keras.layers.Dense(units, activation="selu") for units in (128, 64, 32, 16)]
    return keras.Sequential([keras.Input((64,)), *hidden,
                             keras.layers.Dense(10, activation="softmax")])


def main(out_dir: str | Path = "lesson6_output", quick: bool = False,
         exercises: Sequence[str] = tuple(EXERCISES), epochs: int | None = None,
         optimizers: Sequence[str] | None = None,
         learning_rates: Sequence[float] | None = None) -> dict:
    """Run the exercises and write ``lesson6_lr_grid_digits.png`` (6A),
    ``lesson6_lr_grid_digits_6B.png`` and ``lesson6_lr_grid_digits_6C.png``.

    Args:
        out_dir: folder for the pictures.
        quick: ``QUICK``'s sizes (320 images, 2 optimizers × 2 rates, 2-3 epochs), for the tests.
        exercises: which of ``EXERCISES`` (6B and 6C share one set of runs).
        epochs: the same number of epochs for every exercise, instead of the course's.
        optimizers, learning_rates: the grid's rows and columns (default the course's).

    Returns:
        ``{"results": {exercise: {(optimizer, lr): history dict, "initial_loss": float}},
        "findings": {exercise: [lines]}, "pictures": [...]}``.
    """
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    digits = load_digits()
    x, y = digits.data / 16.0, digits.target
    if quick:
        x, y = x[:QUICK["images"]], y[:QUICK["images"]]
    optimizers = optimizers or (QUICK["optimizers"] if quick else OPTIMIZERS)
    rates = learning_rates or (QUICK["learning_rates"] if quick else LEARNING_RATES)
    out: dict = {"results": {}, "findings": {}, "pictures": []}
    done: dict = {}
    for exercise in exercises:
        n = epochs or (QUICK["epochs"][exercise] if quick else EXERCISES[exercise][0])
        split = EXERCISES[exercise][1]
        print(tr("----- exercise {exercise}: digits 64-128-64-32-16-10 selu, {n} epochs -----",
                 exercise=exercise, n=n))
        if (n, split) not in done:
            done[(n, split)] = run_grid(build_digits, x, y, optimizers, rates, n,
                                        validation_split=split)
        results = out["results"][exercise] = done[(n, split)]
        out["findings"][exercise] = findings(results)
        print(tr("what to look for:") + "\n  " + "\n  ".join(out["findings"][exercise]))
        key = "accuracy" if exercise == "6C" else "loss"
        suffix = "" if exercise == "6A" else f"_{exercise}"
        picture = out_dir / f"lesson6_lr_grid_digits{suffix}.png"
        held = tr(", validation dashed") if split else ""
        draw(results, tr("{exercise}: digits 64-128-64-32-16-10 selu, {n} epochs, batch 32: "
                         "{key} per epoch{held}", exercise=exercise, n=n, key=tr(key), held=held),
             picture, 60 if quick else 80, key=key)
        print(tr("wrote {picture}", picture=picture))
        out["pictures"].append(picture)
    return out


if __name__ == "__main__":
    with argparse_speaks():  # argparse's own words in the current language too
        parser = argparse.ArgumentParser(
            description=tr("Lesson 6: optimizers × learning rates "
                           "on digits (exercises 6A, 6B and 6C)"))
        parser.add_argument("--out", default="lesson6_output", help=tr("folder for the pictures"))
        parser.add_argument("--quick", action="store_true",
                            help=tr("320 images, 2 × 2 runs, few epochs"))
        parser.add_argument("--exercise", action="append", choices=sorted(EXERCISES),
                            help=tr("an exercise to run (repeatable; default all)"))
        parser.add_argument("--epochs", type=int, help=tr("epochs per run (default the course's)"))
        args = parser.parse_args()
    main(args.out, quick=args.quick, exercises=args.exercise or tuple(EXERCISES),
         epochs=args.epochs)
