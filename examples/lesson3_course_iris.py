"""Lesson 3: the course's comparison on iris — finite differences, backprop, and Keras.

The 1-3-1 sigmoid network on iris rows 0-98 (x = petal length, y = setosa 0 / versicolor 1), mean
absolute error, full-batch SGD with learning rate 0.001, 50 epochs, trained four ways from the
course's starting weights (``course.START``, the ones the course page prints; ``--seed`` draws
others, the same ones every command and lesson draws):

1. finite differences as the course did them: each step nudges each of the 10 weights by
   h = 3e-6 and re-runs the network (11 forward passes per step), in float64;
2. backprop with raw Tensors: one forward and one backward pass per step, in float64;
3. ``tinygrad_es``'s ``Sequential`` with ``fit`` (float32, as Keras);
4. real Keras (TensorFlow), when it is installed.

The weights are printed side by side under the course's names (w_2, b_2, ..., w_52, b_5) and drawn
as the change each method made. With lr = 0.001 the weights move by about 1e-3 in 50 epochs.
Finite differences and backprop (both float64) agree to about 1e-9; Sequential and Keras (both
float32) agree with each other to float32 rounding and with float64 to about 1e-6, the rounding
of 50 tiny updates into float32 weights. The last picture is the course's "loss along one
weight" for each of the 10 weights.

Run:  python examples/lesson3_course_iris.py --out pictures/            (add --no-keras to skip TF)
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import numpy as np

import tinygrad_es as ours
from tinygrad_es import Tensor, course
from tinygrad_es.viz.plots import plot_loss_along_weights
from tinygrad_es.i18n import argparse_speaks, tr



def keras_available() -> bool:
    try:
        import tensorflow  # noqa: F401
    except ImportError:
        return False
    return True


def train_keras(start: list[np.ndarray], x: np.ndarray, y: np.ndarray,
                epochs: int) -> tuple[list[float], list[np.ndarray]]:
    """The course's Keras script from the same starting weights: (losses, final weights)."""
    import keras

    model = keras.Sequential([keras.Input((1,)), keras.layers.Dense(3, activation="sigmoid"),
                              keras.layers.Dense(1, activation="sigmoid")])
    model.set_weights(start)
    model.compile(optimizer=keras.optimizers.SGD(learning_rate=course.LEARNING_RATE),
                  loss="mean_absolute_error")
    history = model.fit(x, y, epochs=epochs, batch_size=len(x), shuffle=False, verbose=0)
    return history.history["loss"], model.get_weights()


def main(out_dir: str | Path = "lesson3_output", quick: bool = False,
         use_keras: bool | None = None, seed: int | None = None) -> dict:
    """Train the four ways, print the weights side by side and write three pictures.

    Args:
        out_dir: folder for ``lesson3_losses.png``, ``lesson3_weights.png`` and
            ``lesson3_loss_along_weights.png``.
        quick: 5 epochs instead of 50, smaller pictures.
        use_keras: run real Keras too; default when TensorFlow is installed.
        seed: None for the course's starting weights, else ``course.init_params(seed)``.

    Returns:
        ``{"weights": {method: {name: value}}, "losses": {method: list}, "start": {name: value},
        "passes": {method: forward passes}, "pictures": [...]}``; methods are ``"finite"``,
        ``"backprop"``, ``"sequential"`` and, with Keras, ``"keras"``.
    """
    from matplotlib.figure import Figure

    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    epochs = 5 if quick else course.EPOCHS
    use_keras = keras_available() if use_keras is None else use_keras
    x, y = course.iris_data()
    xt, yt = Tensor(x, dtype="float64", name="x"), Tensor(y, dtype="float64", name="y")

    model = course.build_model(seed=seed)        # the course's starting weights by default
    start = model.get_weights()
    start_named = {n: float(t.data) for n, t in course.params_from_weights(start).items()}

    losses, weights, seconds = {}, {}, {}
    for method in ("finite", "backprop"):
        params = course.params_from_weights(start)
        t0 = time.perf_counter()
        losses[method] = course.train(params, xt, yt, epochs, course.LEARNING_RATE, method)
        seconds[method] = time.perf_counter() - t0
        weights[method] = {n: float(p.data) for n, p in params.items()}

    model.compile(optimizer=ours.optimizers.SGD(learning_rate=course.LEARNING_RATE), loss="mae")
    t0 = time.perf_counter()
    history = model.fit(x, y, epochs=epochs, batch_size=len(x), shuffle=False, verbose=0)
    seconds["sequential"] = time.perf_counter() - t0
    losses["sequential"] = history.history["loss"]
    weights["sequential"] = {n: float(p.data) for n, p in
                             course.params_from_weights(model.get_weights()).items()}
    if use_keras:
        t0 = time.perf_counter()
        keras_losses, keras_weights = train_keras(start, x.astype("float32"),
                                                  y.astype("float32"), epochs)
        seconds["keras"] = time.perf_counter() - t0
        losses["keras"] = keras_losses
        weights["keras"] = {n: float(p.data) for n, p in
                            course.params_from_weights(keras_weights).items()}
    passes = {"finite": epochs * (1 + len(course.PARAM_NAMES)), "backprop": epochs}

    methods = list(weights)
    titles = {"finite": tr("finite diff"), "backprop": "backprop", "sequential": "Sequential",
              "keras": "Keras (TF)"}
    print(tr("{epochs} epochs of full-batch SGD, lr {lr}, MAE, from {start}", epochs=epochs,
             lr=course.LEARNING_RATE, start=tr("the course's starting weights") if seed is None
             else tr("weights drawn with seed {seed}", seed=seed)))
    print(f"{tr('param'):>6} {tr('start'):>12} " + " ".join(f"{titles[m]:>12}" for m in methods))
    for name in course.PARAM_NAMES:
        print(f"{name:>6} {start_named[name]:>12.7f} "
              + " ".join(f"{weights[m][name]:>12.7f}" for m in methods))
    print(f"{tr('loss'):>6} {losses['finite'][0]:>12.7f} "
          + " ".join(f"{losses[m][-1]:>12.7f}" for m in methods)
          + "   " + tr("(before the last update)"))
    pairs = [("backprop", "finite", tr("both float64")),
             ("sequential", "backprop", tr("float32 against float64: each update of ~1e-5 is "
              "rounded into a float32 weight, whose spacing near 1 is 1.2e-7")),
             ("keras", "sequential", tr("both float32"))]
    for a, b, why in pairs:
        if a in weights:
            diff = max(abs(weights[a][n] - weights[b][n]) for n in course.PARAM_NAMES)
            print(tr("largest |{a} - {b}| = {diff:.1e}  ({why})", a=titles[a],
                     b=titles[b], diff=diff, why=why))
    print(tr("forward passes: finite differences {finite}, backprop {backprop} (+ {epochs} "
             "backward); time {times}", finite=passes['finite'], backprop=passes['backprop'],
             epochs=epochs, times=", ".join(f"{titles[m]} {seconds[m] * 1e3:.0f} ms"
                                            for m in methods)))

    dpi = 60 if quick else 100
    pictures = []
    fig = Figure(figsize=(6.4, 4), layout="constrained")
    ax = fig.subplots()
    for k, m in enumerate(methods):
        ax.plot(np.arange(1, epochs + 1), losses[m], ["-", "--", ":", "-."][k], linewidth=2,
                label=titles[m])
    ax.set(title=tr("MAE per epoch: the four methods overlap"), xlabel=tr("epoch"),
           ylabel=tr("loss"))
    ax.ticklabel_format(useOffset=False)
    ax.grid(alpha=0.3)
    ax.legend()
    pictures.append(out_dir / "lesson3_losses.png")
    fig.savefig(pictures[-1], dpi=dpi)

    fig = Figure(figsize=(8, 4), layout="constrained")
    ax = fig.subplots()
    width = 0.8 / len(methods)
    positions = np.arange(len(course.PARAM_NAMES))
    for k, m in enumerate(methods):
        change = [weights[m][n] - start_named[n] for n in course.PARAM_NAMES]
        ax.bar(positions + (k - (len(methods) - 1) / 2) * width, change, width, label=titles[m])
    ax.set_xticks(positions, course.PARAM_NAMES)
    ax.axhline(0, color="gray", linewidth=0.6)
    ax.set(title=tr("How far each weight moved in {epochs} epochs (final − start)", epochs=epochs),
           ylabel=tr("change"))
    ax.grid(alpha=0.3, axis="y")
    ax.legend(fontsize=8)
    pictures.append(out_dir / "lesson3_weights.png")
    fig.savefig(pictures[-1], dpi=dpi)

    params = course.params_from_weights(model.get_weights())
    fig = Figure(figsize=(13, 5.4), layout="constrained")
    axes = fig.subplots(2, 5)
    plot_loss_along_weights(lambda: course.loss(params, xt, yt),
                            [params[n] for n in course.PARAM_NAMES], span=4.0,
                            num=41 if quick else 81, axes=axes)
    fig.suptitle(tr("The loss along each weight, the others fixed (after training)"))
    pictures.append(out_dir / "lesson3_loss_along_weights.png")
    fig.savefig(pictures[-1], dpi=dpi)
    for picture in pictures:
        print(tr("wrote {picture}", picture=picture))
    return {"weights": weights, "losses": losses, "start": start_named, "passes": passes,
            "pictures": pictures}


if __name__ == "__main__":
    with argparse_speaks():  # argparse's own words in the current language too
        parser = argparse.ArgumentParser(
            description=tr("Lesson 3: the course's network on iris "
                           "— finite differences, backprop and Keras"))
        parser.add_argument("--out", default="lesson3_output", help=tr("folder for the pictures"))
        parser.add_argument("--quick", action="store_true", help=tr("5 epochs, smaller pictures"))
        parser.add_argument("--no-keras", action="store_true", help=tr("skip TensorFlow"))
        parser.add_argument("--seed", type=int, default=None,
                            help=tr("draw other starting weights (default: the course's)"))
        args = parser.parse_args()
    main(args.out, quick=args.quick, use_keras=False if args.no_keras else None, seed=args.seed)
