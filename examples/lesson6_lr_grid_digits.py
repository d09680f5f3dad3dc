"""Lesson 6: optimizers × learning rates on digits, a deeper network.

The 8×8 digits (1797 images, pixels scaled from 0-16 to 0-1), a 64-128-64-32-16-10 network with selu
hidden layers and a softmax output, sparse categorical crossentropy, batch 32, 5 epochs by default,
for the six optimizers of lesson 5 at learning rates 0.1, 0.01, 0.001 and 0.0001 — the same grid
(``run_grid`` and ``draw`` come from lesson 5).

With five hidden layers and 5 epochs the picture changes: the small rates hardly move SGD, while
Adam and RMSprop at 0.001 pass 97 % accuracy; at 0.1 every optimizer with momentum or an adaptive
step (momentum, Nesterov, RMSprop, Adam) blows up, and only plain SGD and Adagrad survive it.

Run:  python examples/lesson6_lr_grid_digits.py --out pictures/ [--epochs 20]
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))  # lesson 5 sits next to this file

import tinygrad_es as keras  # noqa: E402
from tinygrad_es.datasets import load_digits  # noqa: E402
from lesson5_lr_grid_iris import LEARNING_RATES, OPTIMIZERS, draw, run_grid  # noqa: E402


def build_digits() -> keras.Sequential:
    """64 inputs → 128 → 64 → 32 → 16 (selu) → 10 (softmax)."""
    hidden = [keras.layers.Dense(units, activation="selu") for units in (128, 64, 32, 16)]
    return keras.Sequential([keras.Input((64,)), *hidden,
                             keras.layers.Dense(10, activation="softmax")])


def main(out_dir: str | Path = "lesson6_output", quick: bool = False, epochs: int = 5) -> dict:
    """Run the grid and write ``lesson6_lr_grid_digits.png``.

    ``quick``: the first 320 images, SGD and Adam at 0.1 and 0.001, 2 epochs.

    Returns:
        ``{"results": {(optimizer, lr): history dict, "initial_loss": float}, "pictures": [...]}``.
    """
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    digits = load_digits()
    x, y = digits.data / 16.0, digits.target
    if quick:
        x, y, epochs = x[:320], y[:320], 2
        optimizers, rates = ("sgd", "adam"), (0.1, 0.001)
    else:
        optimizers, rates = OPTIMIZERS, LEARNING_RATES
    results = run_grid(build_digits, x, y, optimizers, rates, epochs)
    picture = out_dir / "lesson6_lr_grid_digits.png"
    draw(results, f"digits 64-128-64-32-16-10 selu, {epochs} epochs, batch 32: loss per epoch",
         picture, 60 if quick else 80)
    print(f"wrote {picture}")
    return {"results": results, "pictures": [picture]}


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default="lesson6_output", help="folder for the pictures")
    parser.add_argument("--quick", action="store_true", help="320 images, 2 × 2 runs, 2 epochs")
    parser.add_argument("--epochs", type=int, default=5, help="epochs per run (5)")
    args = parser.parse_args()
    main(args.out, quick=args.quick, epochs=args.epochs)
