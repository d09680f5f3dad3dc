"""Lesson 1: momentum on f(x) = x² (learning rate 0.1, momentum 0.9, 200 iterations).

The course's momentum rule, written by hand:

    v ← γ·v + η·f'(x)        (v starts at 0; γ = 0.9, η = 0.1)
    x ← x − v

and the same thing with tinygrad_es: ``backward()`` computes f'(x) = 2x and Keras's
``SGD(learning_rate=0.1, momentum=0.9)`` applies the update. Keras keeps the opposite sign
(m ← γ·m − η·f'(x), x ← x + m, so m = −v) and stores γ and η as float32, so the two agree to the
last bit once the by-hand rule uses the same float32 constants.

On x² plain gradient descent shrinks x by 1 − 2η = 0.8 every step; momentum overshoots and
oscillates around 0, shrinking only by √γ ≈ 0.95 per step: slower on this round bowl, faster in
the long flat valleys where plain gradient descent crawls.

Run:  python examples/lesson1_momentum_x2.py --out pictures/
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np

from tinygrad_es import Tensor
from tinygrad_es.optimizers import SGD
from tinygrad_es.i18n import argparse_speaks, tr

X0 = 1.0
LEARNING_RATE = 0.1
MOMENTUM = 0.9
STEPS = 200


def momentum_by_hand(x0: float, lr: float, momentum: float, steps: int) -> np.ndarray:
    """The course's loop: v = γ·v + η·f'(x); x = x − v, with f'(x) = 2x. Returns x per step."""
    xs = [x0]
    x, v = x0, 0.0
    for _ in range(steps):
        v = momentum * v + lr * (2 * x)
        x = x - v
        xs.append(x)
    return np.array(xs)


def with_optimizer(x0: float, optimizer: SGD, steps: int) -> np.ndarray:
    """Forward f(x) = x², backward, optimizer step: what ``fit`` does. Returns x per step."""
    x = Tensor([x0], requires_grad=True, dtype="float64", name="x")
    xs = [x0]
    for _ in range(steps):
        x.grad = None
        loss = (x ** 2).sum()
        loss.backward()                      # x.grad = 2x
        optimizer.apply([x.grad], [x])       # Keras: m = γ·m − η·g; x = x + m
        xs.append(float(x.data[0]))
    return np.array(xs)


def main(out_dir: str | Path = "lesson1_output", quick: bool = False) -> dict:
    """Run the lesson and write ``lesson1_momentum.png`` into ``out_dir``.

    ``quick`` changes nothing but the picture's resolution (200 steps take milliseconds).

    Returns:
        ``{"x_momentum", "x_sgd", "x_by_hand", "pictures"}``: x at every step, and the files.

    Example:
        >>> result = main("out"); abs(result["x_momentum"][-1]) < 1e-3
        True
    """
    from matplotlib.figure import Figure

    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    x_momentum = with_optimizer(X0, SGD(learning_rate=LEARNING_RATE, momentum=MOMENTUM), STEPS)
    x_sgd = with_optimizer(X0, SGD(learning_rate=LEARNING_RATE), STEPS)
    # Keras stores η and γ as float32; use the same constants and the rules agree bit for bit.
    x_by_hand = momentum_by_hand(X0, float(np.float32(LEARNING_RATE)),
                                 float(np.float32(MOMENTUM)), STEPS)
    print(tr("f(x) = x² from x = {X0}, lr {LEARNING_RATE}, momentum {MOMENTUM}, {STEPS} steps",
             X0=X0, LEARNING_RATE=LEARNING_RATE, MOMENTUM=MOMENTUM, STEPS=STEPS))
    print(tr("  momentum:          x = {x_momentum: .3e}, f(x) = {f:.3e}",
             x_momentum=x_momentum[-1], f=x_momentum[-1] ** 2))
    print(tr("  plain SGD:         x = {x_sgd: .3e}, f(x) = {f:.3e}", x_sgd=x_sgd[-1],
             f=x_sgd[-1] ** 2))
    print(tr("  by hand vs SGD(momentum): largest difference {max:.1e}",
             max=np.max(np.abs(x_by_hand - x_momentum))))

    fig = Figure(figsize=(10, 3.8), layout="constrained")
    ax_loss, ax_x = fig.subplots(1, 2)
    steps = np.arange(STEPS + 1)
    for xs, label in ((x_momentum, f"momentum {MOMENTUM}"), (x_sgd, "plain SGD")):
        ax_loss.semilogy(steps, xs ** 2 + 1e-300, label=label)
        ax_x.plot(steps, xs, label=label)
    ax_loss.set(title=f"f(x) = x², lr = {LEARNING_RATE}", xlabel=tr("iteration"),
                ylabel=tr("f(x) (log scale)"), ylim=(1e-30, 10))
    ax_x.axhline(0, color="gray", linewidth=0.6)
    ax_x.set(title=tr("x: momentum overshoots and oscillates around 0"), xlabel=tr("iteration"),
             ylabel="x")
    for ax in (ax_loss, ax_x):
        ax.grid(alpha=0.3)
        ax.legend()
    picture = out_dir / "lesson1_momentum.png"
    fig.savefig(picture, dpi=60 if quick else 100)
    print(tr("wrote {picture}", picture=picture))
    return {"x_momentum": x_momentum, "x_sgd": x_sgd, "x_by_hand": x_by_hand,
            "pictures": [picture]}


if __name__ == "__main__":
    with argparse_speaks():  # argparse's own words in the current language too
        parser = argparse.ArgumentParser(description=tr("Lesson 1: momentum on f(x) = x²"))
        parser.add_argument("--out", default="lesson1_output", help=tr("folder for the pictures"))
        parser.add_argument("--quick", action="store_true", help=tr("smaller pictures"))
        args = parser.parse_args()
    main(args.out, quick=args.quick)
