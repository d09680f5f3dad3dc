"""Lesson 8: a binary classifier the Keras way, with a validation split and the history plot.

Iris versicolor (0) against virginica (1): the 100 flowers of those two species, 4 measurements
each — the pair that overlaps, so 100 % is out of reach. The script is plain Keras; only the import
line says tinygrad_es:

    model = keras.Sequential([keras.Input((4,)),
                              keras.layers.Dense(16, activation="relu"),
                              keras.layers.Dense(1, activation="sigmoid")])
    model.compile(optimizer="adam", loss="binary_crossentropy", metrics=["accuracy"])
    history = model.fit(x, y, batch_size=32, epochs=150, validation_split=0.2)

``validation_split`` takes the LAST 20 % of the rows, and iris is sorted by species, so the rows
are shuffled once first (otherwise every validation flower would be virginica).

Run:  python examples/lesson8_binary_classifier.py --out pictures/
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np

import tinygrad_es as keras
from tinygrad_es.datasets import load_iris
from tinygrad_es.viz.plots import plot_history
from tinygrad_es.i18n import argparse_speaks, tr

SEED, EPOCHS = 0, 150


def main(out_dir: str | Path = "lesson8_output", quick: bool = False) -> dict:
    """Train and write ``lesson8_history.png`` (loss and accuracy, training and validation).

    ``quick``: 15 epochs, smaller picture.

    Returns:
        ``{"history": history.history, "val_predictions", "y_val", "pictures": [...]}``.
    """
    from matplotlib.figure import Figure

    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    iris = load_iris()
    x, y = iris.data[50:150], (iris.target[50:150] == 2).astype("float32")
    order = np.random.default_rng(SEED).permutation(len(x))   # iris is sorted by species
    x, y = x[order], y[order]

    keras.utils.set_random_seed(SEED)
    model = keras.Sequential([keras.Input((4,)),
                              keras.layers.Dense(16, activation="relu"),
                              keras.layers.Dense(1, activation="sigmoid")])
    model.compile(optimizer="adam", loss="binary_crossentropy", metrics=["accuracy"])
    model.summary()
    epochs = 15 if quick else EPOCHS
    history = model.fit(x, y, batch_size=32, epochs=epochs, validation_split=0.2, verbose=0)
    logs = history.history
    print(tr("after {epochs} epochs: ", epochs=epochs)
          + ", ".join(f"{k} {v[-1]:.4f}" for k, v in logs.items()))
    split = int(len(x) * 0.8)
    val_predictions = model.predict(x[split:], verbose=0)[:, 0]

    fig = Figure(figsize=(10, 3.8), layout="constrained")
    ax_loss, ax_acc = fig.subplots(1, 2)
    plot_history(history, keys=["loss"], ax=ax_loss, title=tr("binary crossentropy"))
    plot_history(history, keys=["accuracy"], ax=ax_acc, title=tr("accuracy"))
    fig.suptitle(tr("versicolor vs virginica: Dense(16, relu) → Dense(1, sigmoid), Adam, batch 32"))
    picture = out_dir / "lesson8_history.png"
    fig.savefig(picture, dpi=60 if quick else 100)
    print(tr("wrote {picture}", picture=picture))
    return {"history": logs, "val_predictions": val_predictions, "y_val": y[split:],
            "pictures": [picture]}


if __name__ == "__main__":
    with argparse_speaks():  # argparse's own words in the current language too
        parser = argparse.ArgumentParser(
            description=tr("Lesson 8: a binary classifier the "
                           "Keras way, with a validation split"))
        parser.add_argument("--out", default="lesson8_output", help=tr("folder for the pictures"))
        parser.add_argument("--quick", action="store_true", help=tr("15 epochs"))
        args = parser.parse_args()
    main(args.out, quick=args.quick)
