"""Lesson 2: mini-batch gradient descent with shuffling on a line, y = 4 + 3x + noise.

20 points, batches of 10, learning rate 0.1, 10 epochs (20 updates), mean squared error. Twice:

* with raw Tensors: each epoch shuffles the rows, and each batch does forward, ``backward()`` and
  w ← w − lr·∂L/∂w by hand;
* the Keras way: ``Sequential([Dense(1)])``, ``compile(SGD(0.1), "mse")``,
  ``fit(x, y, batch_size=10, epochs=10)`` (``fit`` shuffles every epoch by default).

Both start from the same weights. 20 small steps do not reach the least-squares line exactly (the
intercept and the slope trade off along a shallow valley), but they get close: the picture draws
the line after every epoch.

Run:  python examples/lesson2_minibatch_line.py --out pictures/
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np

import tinygrad_es as keras
from tinygrad_es import Tensor
from tinygrad_es.i18n import argparse_speaks, tr

N, BATCH_SIZE, LEARNING_RATE, EPOCHS, SEED = 20, 10, 0.1, 10, 42


def make_data(seed: int = SEED) -> tuple[np.ndarray, np.ndarray]:
    """x uniform in [0, 2), y = 4 + 3x + standard normal noise; both shaped (20, 1)."""
    rng = np.random.default_rng(seed)
    x = 2 * rng.random((N, 1))
    return x, 4 + 3 * x + rng.standard_normal((N, 1))


def minibatch_gd(x: np.ndarray, y: np.ndarray, w0: float, b0: float,
                 seed: int = SEED) -> tuple[list[tuple[float, float]], list[float]]:
    """Mini-batch GD with raw Tensors. Returns (w, b) after each epoch and every batch loss."""
    rng = np.random.default_rng(seed)
    w = Tensor([[w0]], requires_grad=True, name="w")
    b = Tensor([b0], requires_grad=True, name="b")
    lines, losses = [(w0, b0)], []
    for _ in range(EPOCHS):
        order = rng.permutation(len(x))                     # shuffle every epoch
        for start in range(0, len(x), BATCH_SIZE):
            rows = order[start:start + BATCH_SIZE]
            xb, yb = Tensor(x[rows]), Tensor(y[rows])
            w.grad = b.grad = None
            loss = ((xb @ w + b - yb) ** 2).mean()          # mean squared error
            loss.backward()
            w.data -= LEARNING_RATE * w.grad
            b.data -= LEARNING_RATE * b.grad
            losses.append(float(loss.data))
        lines.append((float(w.data[0, 0]), float(b.data[0])))
    return lines, losses


def main(out_dir: str | Path = "lesson2_output", quick: bool = False) -> dict:
    """Run the lesson and write ``lesson2_minibatch_line.png`` into ``out_dir``.

    ``quick`` changes only the picture's resolution (20 updates take milliseconds).

    Returns:
        ``{"raw": (slope, intercept), "keras": (slope, intercept), "least_squares": (...),
        "x", "y", "history", "pictures"}``.

    Example:
        >>> result = main("out"); result["raw"][0]      # close to 3
    """
    from matplotlib.figure import Figure

    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    x, y = make_data()
    keras.utils.set_random_seed(SEED)
    model = keras.Sequential([keras.Input((1,)), keras.layers.Dense(1)])
    kernel, bias = model.get_weights()                      # glorot_uniform kernel, zero bias
    lines, batch_losses = minibatch_gd(x, y, float(kernel[0, 0]), float(bias[0]))

    model.compile(optimizer=keras.optimizers.SGD(learning_rate=LEARNING_RATE), loss="mse")
    history = model.fit(x, y, batch_size=BATCH_SIZE, epochs=EPOCHS, verbose=0)
    kernel, bias = model.get_weights()
    slope_lsq, intercept_lsq = np.polyfit(x[:, 0], y[:, 0], 1)
    results = {"raw": lines[-1], "keras": (float(kernel[0, 0]), float(bias[0])),
               "least_squares": (float(slope_lsq), float(intercept_lsq))}
    for label, (slope, intercept) in results.items():
        print(f"{label:>14}: y = {intercept:.3f} + {slope:.3f}·x")

    fig = Figure(figsize=(10, 4), layout="constrained")
    ax_line, ax_loss = fig.subplots(1, 2)
    grid = np.linspace(0, 2, 2)
    ax_line.scatter(x, y, s=18, color="black", label=tr("data, y = 4 + 3x + noise"), zorder=3)
    for k, (slope, intercept) in enumerate(lines[:-1]):
        ax_line.plot(grid, intercept + slope * grid, color="tab:blue", alpha=0.12 + 0.05 * k,
                     linewidth=1, label="raw Tensors, after each epoch" if k == 1 else None)
    styles = {"raw": ("tab:blue", "-"), "keras": ("tab:orange", "--"),
              "least_squares": ("black", ":")}
    names = {"raw": "raw Tensors", "keras": "Sequential([Dense(1)])",
             "least_squares": "least squares"}
    for label, (slope, intercept) in results.items():
        color, style = styles[label]
        ax_line.plot(grid, intercept + slope * grid, style, color=color, linewidth=2,
                     label=f"{names[label]}: {intercept:.2f} + {slope:.2f}x")
    ax_line.set(title=tr("{EPOCHS} epochs, batch {BATCH_SIZE}, lr {LEARNING_RATE}", EPOCHS=EPOCHS,
                         BATCH_SIZE=BATCH_SIZE, LEARNING_RATE=LEARNING_RATE), xlabel="x",
                ylabel="y")
    ax_line.legend(fontsize=8)
    steps = np.arange(1, len(batch_losses) + 1)
    ax_loss.semilogy(steps, batch_losses, ".-", label=tr("raw Tensors: each batch"))
    per_epoch = len(x) // BATCH_SIZE
    ax_loss.semilogy(np.arange(1, EPOCHS + 1) * per_epoch, history.history["loss"], "o--",
                     label=tr("Sequential: history.history['loss'] (epoch mean)"))
    ax_loss.set(title=tr("mean squared error"), xlabel=tr("update"), ylabel=tr("loss (log scale)"))
    ax_loss.legend(fontsize=8)
    for ax in (ax_line, ax_loss):
        ax.grid(alpha=0.3)
    picture = out_dir / "lesson2_minibatch_line.png"
    fig.savefig(picture, dpi=60 if quick else 100)
    print(tr("wrote {picture}", picture=picture))
    return {**results, "x": x, "y": y, "history": history.history, "batch_losses": batch_losses,
            "pictures": [picture]}


if __name__ == "__main__":
    with argparse_speaks():  # argparse's own words in the current language too
        parser = argparse.ArgumentParser(
            description=tr("Lesson 2: mini-batch gradient "
                           "descent on a line"))
        parser.add_argument("--out", default="lesson2_output", help=tr("folder for the pictures"))
        parser.add_argument("--quick", action="store_true", help=tr("smaller pictures"))
        args = parser.parse_args()
    main(args.out, quick=args.quick)
