"""Lesson 10: watching the gradients during training: vanishing gradients, and the path two real
weights take over their loss surface.

1. The digits network of lesson 6 (64-128-64-32-16-10, softmax output, sparse categorical
   crossentropy, SGD(0.1), batch 32), trained twice from the same seed: with sigmoid hidden
   layers and with selu. A ``GradientMonitor`` records, per layer and per epoch, the gradient norm
   ‖∂L/∂w‖ and the update/weight ratio ‖Δw‖/‖w‖ (each the mean over the epoch's batches). The
   derivative of the sigmoid is at most 1/4, and backprop multiplies one such factor per layer:
   the sigmoid network's first layers get gradients orders of magnitude smaller than its last
   layer, and barely move. With selu they stay of the same order.
2. The course network (iris, 1-3-1 sigmoid, MAE, from the course's START weights), trained by
   SGD with a ``WeightPath`` recording w_52 and w_53 after every step; the path is drawn over the
   loss surface of those two weights, the other eight fixed: at their starting values (left) and
   at their trained values (right). Red star: start; blue star: end; yellow: the steps between.

Run:  python examples/lesson10_vanishing_gradients.py --out pictures/ [--quick] [--lang es]
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np

import tinygrad_es as keras
from tinygrad_es import course
from tinygrad_es.callbacks import GradientMonitor, WeightPath
from tinygrad_es.datasets import load_digits
from tinygrad_es.i18n import argparse_speaks, tr
from tinygrad_es.viz.gradient_plots import plot_gradient_norms
from tinygrad_es.viz.weight_surface import COURSE_WEIGHTS, plot_weight_surface

UNITS = (128, 64, 32, 16)
ACTIVATIONS = ("sigmoid", "selu")
LEARNING_RATE, BATCH_SIZE, EPOCHS, SEED = 0.1, 32, 20, 0
COURSE_LR, COURSE_EPOCHS, PAIR = 1.0, 100, ("w_52", "w_53")
QUICK = {"images": 320, "epochs": 3, "course_epochs": 20, "num": 21}


def build_digits(activation: str) -> keras.Sequential:
    """64 inputs → 128 → 64 → 32 → 16 (``activation``) → 10 (softmax); layers named dense1..5."""
    hidden = [keras.layers.Dense(units, activation=activation, name=f"dense{k}")
              for k, units in enumerate(UNITS, start=1)]
    return keras.Sequential([keras.Input((64,)), *hidden,
                             keras.layers.Dense(10, activation="softmax", name="dense5")])


def watch(activation: str, x: np.ndarray, y: np.ndarray, epochs: int) -> GradientMonitor:
    """Train the digits network with ``activation`` from seed ``SEED``; return its monitor."""
    keras.random.seed(SEED)
    model = build_digits(activation)
    model.compile(optimizer=keras.optimizers.SGD(LEARNING_RATE),
                  loss="sparse_categorical_crossentropy")
    monitor = GradientMonitor()
    model.fit(x, y, epochs=epochs, batch_size=BATCH_SIZE, callbacks=[monitor], verbose=0)
    return monitor


def course_path(epochs: int) -> tuple[np.ndarray, keras.Sequential]:
    """Full-batch SGD on the course network, recording w_52 and w_53 after every step."""
    x, y = course.iris_data("float32")
    model = course.build_model(dtype="float32")
    model.compile(optimizer=keras.optimizers.SGD(COURSE_LR), loss="mae")
    recorder = WeightPath([COURSE_WEIGHTS[name] for name in PAIR])
    model.fit(x, y, epochs=epochs, batch_size=len(x), shuffle=False, callbacks=[recorder],
              verbose=0)
    return recorder.path, model


def first_to_last(monitor: GradientMonitor) -> float:
    """First layer's gradient norm over the last layer's, at the last epoch."""
    return monitor.grad_norms[monitor.layers[0]][-1] / monitor.grad_norms[monitor.layers[-1]][-1]


def main(out_dir: str | Path = "lesson10_output", quick: bool = False,
         lang: str | None = None) -> dict:
    """Write ``lesson10_vanishing_gradients.png`` and ``lesson10_weight_surface.png``.

    Returns:
        ``{"monitors": {activation: GradientMonitor}, "ratios": {activation: first/last},
        "path": array (steps + 1, 2), "model": the trained course network, "pictures": [...]}``.
    """
    import matplotlib.pyplot as plt

    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    digits = load_digits()
    x, y = digits.data / 16.0, digits.target
    if quick:
        x, y = x[:QUICK["images"]], y[:QUICK["images"]]
    epochs = QUICK["epochs"] if quick else EPOCHS
    monitors = {act: watch(act, x, y, epochs) for act in ACTIVATIONS}
    ratios = {act: first_to_last(m) for act, m in monitors.items()}

    fig, axes = plt.subplots(2, 2, figsize=(11, 8), layout="constrained", sharey="row")
    words = {"grad_norm": tr("gradient norm ‖∂L/∂w‖", lang=lang),
             "update_ratio": tr("update/weight ratio ‖Δw‖/‖w‖", lang=lang)}
    for col, act in enumerate(ACTIVATIONS):
        for row, quantity in enumerate(words):
            plot_gradient_norms(monitors[act], ax=axes[row, col], lang=lang, quantity=quantity,
                                title=f"{act} — {words[quantity]}")
    fig.suptitle(tr("digits 64-128-64-32-16-10, SGD({lr}), batch {batch}: mean over each "
                    "epoch's batches", lang=lang, lr=LEARNING_RATE, batch=BATCH_SIZE))
    pictures = [out_dir / "lesson10_vanishing_gradients.png"]
    fig.savefig(pictures[-1], dpi=80)
    plt.close(fig)
    for act in ACTIVATIONS:
        print(tr("{activation}: first layer's gradient norm / last layer's = {ratio:.3g}",
                 lang=lang, activation=act, ratio=ratios[act]))

    path, trained = course_path(QUICK["course_epochs"] if quick else COURSE_EPOCHS)
    xc, yc = course.iris_data("float32")
    start = course.build_model(dtype="float32")
    start.compile(loss="mae")
    fig, axes = plt.subplots(1, 2, figsize=(12, 5.6), layout="constrained")
    num = QUICK["num"] if quick else 61
    low, high = path.min(axis=0) - 0.6, path.max(axis=0) + 0.6
    for ax, model, which in ((axes[0], start, tr("the other weights at their start", lang=lang)),
                             (axes[1], trained, tr("the other weights trained", lang=lang))):
        plot_weight_surface(model, list(PAIR), path, xlim=(low[0], high[0]),
                            ylim=(low[1], high[1]), data=(xc, yc), label="SGD", num=num,
                            title=f"{PAIR[0]}, {PAIR[1]}: {which}", ax=ax, lang=lang)
    fig.suptitle(tr("the course network: the loss over two of its weights, and the path SGD({lr}) "
                    "took ({steps} steps)", lang=lang, lr=COURSE_LR, steps=len(path) - 1))
    pictures.append(out_dir / "lesson10_weight_surface.png")
    fig.savefig(pictures[-1], dpi=80)
    plt.close(fig)
    for picture in pictures:
        print(tr("wrote {path}", lang=lang, path=picture))
    return {"monitors": monitors, "ratios": ratios, "path": path, "model": trained,
            "pictures": pictures}


if __name__ == "__main__":
    with argparse_speaks():  # argparse's own words in the current language too
        import matplotlib

        matplotlib.use("Agg")
        parser = argparse.ArgumentParser(
            description=tr("Lesson 10: watching the "
                           "gradients during training"))
        parser.add_argument("--out", default="lesson10_output", help=tr("folder for the pictures"))
        parser.add_argument("--quick", action="store_true", help=tr("320 images, 3 epochs (tests)"))
        parser.add_argument("--lang", choices=("en", "es"), help=tr("language of the pictures"))
        args = parser.parse_args()
    main(args.out, quick=args.quick, lang=args.lang)
