"""Lesson 12: the digits network, convolutional — the course says it "should really be".

The 8×8 digits (1797 images, pixels scaled from 0-16 to 0-1), the last fifth held out (as
Keras's ``validation_split`` holds it out), two networks of about the same size trained the same
way (Adam(0.001), sparse categorical crossentropy, batch 32, the same epochs, the same seed):

* the course's dense network of lesson 6: 64 → 128 → 64 → 32 → 16 (selu) → 10 (softmax),
  19,354 parameters; it sees the image as 64 numbers in a row, so a stroke shifted by one pixel
  is, to it, a different input;
* a small convnet: Conv2D(32, 3, relu) → MaxPooling2D → Flatten → Dense(64, relu) →
  Dense(10, softmax), 19,466 parameters. Each of its 32 filters is a 3×3 stencil slid over the
  whole image: the same nine weights look at every position (weight sharing), so what a filter
  learns in one corner it knows everywhere; max pooling keeps the strongest response of each 2×2
  block, so a shift by one pixel barely changes it.

Printed: each network's parameter count, its accuracy and loss on the held-out images and its time
per epoch (the median over the epochs: an epoch the machine spent on other work does not count).

Pictures: both learning curves (``lesson12_learning_curves.png``), the 32 learned 3×3 filters
(``lesson12_filters.png``), what they make of one held-out digit — the first the convnet gets
wrong — (the feature maps after the relu and after the pooling, ``lesson12_feature_maps.png``),
and the convnet's computation graph on that digit with its values and gradients
(``lesson12_convnet_graph.png``), with its backward trace step by step in English and Spanish
(``lesson12_convnet_trace_{en,es}.txt``): the MaxPool step sends each window's gradient whole to
its largest pixel, the Conv step gathers into each weight what reaches it from every position.

Run:  python examples/lesson12_convnet_digits.py --out pictures/ [--quick] [--lang es]
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))  # lessons 6 and 9 sit next to this file

import tinygrad_es as keras  # noqa: E402
from tinygrad_es import Tensor, no_grad  # noqa: E402
from tinygrad_es.datasets import load_digits  # noqa: E402
from tinygrad_es.i18n import N_, argparse_speaks, language, set_language, tr  # noqa: E402
from tinygrad_es.viz import trace_backward  # noqa: E402
from lesson6_lr_grid_digits import build_digits as build_dense  # noqa: E402
from lesson9_graph_and_trace import draw as render_graph  # noqa: E402

FILTERS, KERNEL, HIDDEN = 32, 3, 64
LEARNING_RATE, BATCH_SIZE, EPOCHS, HELD_OUT, SEED = 0.001, 32, 30, 0.2, 0
QUICK = {"images": 320, "epochs": 2}


def build_convnet() -> keras.Sequential:
    """8×8×1 → Conv2D(32, 3, relu) → MaxPooling2D(2) → Flatten → Dense(64, relu) → Dense(10)."""
    layers = keras.layers
    return keras.Sequential([
        keras.Input((8, 8, 1)),
        layers.Conv2D(FILTERS, KERNEL, activation="relu", name="conv"),
        layers.MaxPooling2D(2, name="pool"),
        layers.Flatten(name="flatten"),
        layers.Dense(HIDDEN, activation="relu", name="hidden"),
        layers.Dense(10, activation="softmax", name="output"),
    ])


MODELS = {"dense": (build_dense, (64,)), "convnet": (build_convnet, (8, 8, 1))}
LABELS = {"dense": N_("dense network"), "convnet": N_("convnet")}  # how they are printed


def digits_split(quick: bool = False) -> tuple[np.ndarray, ...]:
    """``(x_train, y_train, x_test, y_test)``: pixels in [0, 1] as (n, 64), the last fifth held
    out (the first ``QUICK["images"]`` images only, when ``quick``)."""
    digits = load_digits()
    x, y = (digits.data / 16.0).astype("float32"), digits.target
    if quick:
        x, y = x[:QUICK["images"]], y[:QUICK["images"]]
    cut = int(len(x) * (1 - HELD_OUT))
    return x[:cut], y[:cut], x[cut:], y[cut:]


class EpochTimer(keras.callbacks.Callback):
    """The wall-clock seconds of each epoch (its training and its held-out evaluation)."""

    def on_train_begin(self, logs=None):
        self.seconds: list[float] = []

    def on_epoch_begin(self, epoch, logs=None):
        self._start = time.perf_counter()

    def on_epoch_end(self, epoch, logs=None):
        self.seconds.append(time.perf_counter() - self._start)


def compiled(name: str, seed: int = SEED) -> keras.Sequential:
    """``MODELS[name]`` built from ``seed`` and compiled as both networks are."""
    keras.random.seed(seed)
    model = MODELS[name][0]()
    model.compile(optimizer=keras.optimizers.Adam(LEARNING_RATE),
                  loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    return model


def train(name: str, data: tuple[np.ndarray, ...], epochs: int) -> dict:
    """Train ``name`` on ``data`` (``digits_split``): its history, held-out score, and the median
    of its epochs' wall-clock seconds."""
    x_train, y_train, x_test, y_test = data
    shape = (-1,) + MODELS[name][1]
    model = compiled(name)
    timer = EpochTimer()
    history = model.fit(x_train.reshape(shape), y_train, epochs=epochs, batch_size=BATCH_SIZE,
                        validation_data=(x_test.reshape(shape), y_test), callbacks=[timer],
                        verbose=0)
    loss, accuracy = model.evaluate(x_test.reshape(shape), y_test, verbose=0)
    return {"model": model, "history": history.history, "params": model.count_params(),
            "accuracy": float(accuracy), "loss": float(loss),
            "seconds_per_epoch": float(np.median(timer.seconds))}


# ----- the pictures -----

def draw_curves(runs: dict, path: Path, lang: str | None) -> None:
    """Loss and accuracy per epoch of both networks: training solid, held-out dashed."""
    from matplotlib.figure import Figure

    fig = Figure(figsize=(11, 4.2), layout="constrained")
    for ax, key in zip(fig.subplots(1, 2), ("loss", "accuracy")):
        for (name, run), color in zip(runs.items(), ("tab:blue", "tab:orange")):
            epochs = np.arange(1, len(run["history"][key]) + 1)
            label = f"{tr(LABELS[name], lang=lang)} ({run['params']:,})"
            ax.plot(epochs, run["history"][key], color=color,
                    label=tr("{model}: training", lang=lang, model=label))
            ax.plot(epochs, run["history"]["val_" + key], color=color, linestyle="--",
                    label=tr("{model}: held out", lang=lang, model=label))
        ax.set(xlabel=tr("epoch", lang=lang), ylabel=tr(key, lang=lang))
        ax.grid(alpha=0.3)
        ax.legend(fontsize=8)
    fig.suptitle(tr("digits 8×8, Adam({lr}), batch {batch}: the course's dense network and a "
                    "convnet of the same size (parameters in brackets)", lang=lang,
                    lr=LEARNING_RATE, batch=BATCH_SIZE))
    fig.savefig(path, dpi=80)


def _mosaic(maps: np.ndarray, per_row: int = 8) -> np.ndarray:
    """``maps`` (h, w, n) side by side, ``per_row`` to a row, one blank (NaN) pixel between them
    and above each (for its number)."""
    h, w, n = maps.shape
    rows = -(-n // per_row)
    out = np.full((rows * (h + 1), per_row * (w + 1) - 1), np.nan)
    for k in range(n):
        r, c = divmod(k, per_row)
        out[r * (h + 1) + 1:(r + 1) * (h + 1), c * (w + 1):c * (w + 1) + w] = maps[..., k]
    return out


def _grid(fig, ax, maps: np.ndarray, cmap: str, symmetric: bool, title: str) -> None:
    """``maps`` (h, w, n) as one mosaic image, numbered, one colour scale for all (one image is
    far quicker to lay out and draw than n small axes)."""
    import matplotlib

    h, w, n = maps.shape
    top = float(np.abs(maps).max()) or 1.0
    colours = matplotlib.colormaps[cmap].with_extremes(bad="white")
    image = ax.imshow(_mosaic(maps), cmap=colours, vmin=-top if symmetric else 0, vmax=top)
    for k in range(n):
        r, c = divmod(k, 8)
        ax.text(c * (w + 1) + (w - 1) / 2, r * (h + 1), str(k), fontsize=7, ha="center",
                va="center")
    ax.set_axis_off()
    ax.set_title(title)
    fig.colorbar(image, ax=ax, shrink=0.8)


def draw_filters(kernel: np.ndarray, path: Path, lang: str | None) -> None:
    """The learned 3×3 filters (the kernel's (3, 3, 1, 32) weights), red positive, blue negative."""
    from matplotlib.figure import Figure

    fig = Figure(figsize=(9, 4.6), layout="constrained")
    _grid(fig, fig.subplots(), kernel[:, :, 0, :], "RdBu_r", True,
          tr("the {n} learned {k}×{k} filters of the convnet (red: positive weights, blue: "
             "negative)", lang=lang, n=kernel.shape[-1], k=kernel.shape[0]))
    fig.savefig(path, dpi=80)


def draw_feature_maps(digit: np.ndarray, title: str, relu: np.ndarray, pooled: np.ndarray,
                      path: Path, lang: str | None) -> None:
    """One digit, what each filter makes of it (6×6 after the relu) and the pooled 3×3 maps."""
    from matplotlib.figure import Figure

    fig = Figure(figsize=(15, 4.4), layout="constrained")
    left, middle, right = fig.subplots(1, 3, width_ratios=(1, 2.6, 2.6))
    left.imshow(digit.reshape(8, 8), cmap="gray_r")
    left.set_axis_off()
    left.set_title(title)
    _grid(fig, middle, relu, "viridis", False, tr("after Conv2D + relu: {shape}", lang=lang,
                                                   shape="×".join(map(str, relu.shape))))
    _grid(fig, right, pooled, "viridis", False, tr("after MaxPooling2D: {shape}", lang=lang,
                                                    shape="×".join(map(str, pooled.shape))))
    fig.savefig(path, dpi=80)


def pick_digit(model: keras.Sequential, x_test: np.ndarray, y_test: np.ndarray) -> int:
    """The held-out image the feature maps, the graph and the trace show: the first one the
    convnet gets wrong (its gradients say how to fix a mistake), else the one it is least sure of.
    """
    p = model.predict(x_test.reshape(-1, 8, 8, 1), verbose=0)
    wrong = np.flatnonzero(p.argmax(axis=1) != y_test)
    return int(wrong[0]) if wrong.size else int(np.argmin(p[np.arange(len(y_test)), y_test]))


def traced_loss(model: keras.Sequential, digit: np.ndarray, label: int) -> Tensor:
    """The convnet's loss on one digit, as a graph of the engine's ops (the input named x)."""
    x = Tensor(digit.reshape(1, 8, 8, 1), name="x")
    loss = keras.losses.SparseCategoricalCrossentropy()(np.array([label]), model(x))
    loss.name = "L"
    return loss


# ----- the lesson -----

def main(out_dir: str | Path = "lesson12_output", quick: bool = False,
         lang: str | None = None) -> dict:
    """Train both networks, print their numbers and write the pictures and traces.

    Args:
        out_dir: folder for the pictures.
        quick: ``QUICK``'s sizes (320 images, 2 epochs), for the tests.
        lang: language of what is printed and drawn (default: the current one).

    Returns:
        ``{"runs": {"dense"|"convnet": {"model", "history", "params", "accuracy", "loss",
        "seconds_per_epoch"}}, "digit": index in the held-out images, "feature_maps": (relu,
        pooled), "traces": {lang: text},
        "grads": {name: array}, "pictures": [...], "texts": [...]}``.
    """
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    data = digits_split(quick)
    epochs = QUICK["epochs"] if quick else EPOCHS
    print(tr("digits 8×8: {train} images to train on, {test} held out; Adam({lr}), batch "
             "{batch}, {epochs} epochs", lang=lang, train=len(data[0]), test=len(data[2]),
             lr=LEARNING_RATE, batch=BATCH_SIZE, epochs=epochs))
    runs = {name: train(name, data, epochs) for name in MODELS}
    for name, run in runs.items():
        print(tr("{model}: {params:,} parameters, held-out accuracy {accuracy:.4f}, loss "
                 "{loss:.4f}, {seconds:.3f} s per epoch", lang=lang,
                 model=tr(LABELS[name], lang=lang), params=run["params"],
                 accuracy=run["accuracy"], loss=run["loss"], seconds=run["seconds_per_epoch"]))

    convnet = runs["convnet"]["model"]
    index = pick_digit(convnet, data[2], data[3])
    digit, label = data[2][index], int(data[3][index])
    with no_grad():
        relu = convnet.get_layer("conv")(Tensor(digit.reshape(1, 8, 8, 1)))
        pooled = convnet.get_layer("pool")(relu)
        predicted = int(convnet(Tensor(digit.reshape(1, 8, 8, 1))).data.argmax())
    maps = (relu.data[0], pooled.data[0])
    title = tr("held-out image {index}: a {label},\nthe convnet says {predicted}", lang=lang,
               index=index, label=label, predicted=predicted)
    print(title.replace("\n", " "))
    pictures = [out_dir / f"lesson12_{name}.png" for name in
                ("learning_curves", "filters", "feature_maps")]
    draw_curves(runs, pictures[0], lang)
    draw_filters(convnet.get_layer("conv").kernel.data, pictures[1], lang)
    draw_feature_maps(digit, title, *maps, pictures[2], lang)

    loss = traced_loss(convnet, digit, label)
    traces, texts = {}, []
    for trace_lang in ("en", "es"):
        traces[trace_lang] = trace_backward(loss, lang=trace_lang)
        texts.append(out_dir / f"lesson12_convnet_trace_{trace_lang}.txt")
        texts[-1].write_text(traces[trace_lang], encoding="utf-8")
    for w in convnet.trainable_weights:
        w.zero_grad()  # fit's last step left its gradients there; backward() adds to .grad
    loss.backward()  # the graph picture shows the gradients the trace printed
    grads = {w.name: w.grad.copy() for w in convnet.trainable_weights}
    previous = language()  # the picture's words (data, grad, mean, norm) speak the current one
    set_language(lang or previous)
    try:
        pictures.append(render_graph(loss, out_dir / "lesson12_convnet_graph", "TB"))
    finally:
        set_language(previous)
    for path in pictures + texts:
        print(tr("wrote {path}", lang=lang, path=path))
    return {"runs": runs, "digit": index, "feature_maps": maps, "traces": traces, "grads": grads,
            "pictures": pictures, "texts": texts}


if __name__ == "__main__":
    with argparse_speaks():  # argparse's own words in the current language too
        parser = argparse.ArgumentParser(
            description=tr("Lesson 12: the digits network, convolutional"))
        parser.add_argument("--out", default="lesson12_output", help=tr("folder for the pictures"))
        parser.add_argument("--quick", action="store_true", help=tr("320 images, 2 epochs (tests)"))
        parser.add_argument("--lang", choices=("en", "es"), help=tr("language of the pictures"))
        args = parser.parse_args()
    main(args.out, quick=args.quick, lang=args.lang)
