"""``tinygrad-es demo``: train the course's network, then backprop against finite differences."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from tinygrad_es import course
from tinygrad_es.cli._common import EXIT_CODES, OUT, figure_class, positive, render


def add_parser(sub: Any) -> None:
    """The ``demo`` subcommand and its arguments."""
    demo = sub.add_parser("demo", help="the main job: train the course's network, compare "
                                       "backprop with finite differences, draw it",
                          description=cmd_demo.__doc__, epilog=EXIT_CODES)
    demo.add_argument("--epochs", type=positive(int), default=course.EPOCHS,
                      help=f"epochs (the course's {course.EPOCHS})")
    demo.add_argument("--lr", type=positive(float), default=course.LEARNING_RATE,
                      help=f"SGD learning rate (the course's {course.LEARNING_RATE}; "
                           "try --lr 1 --epochs 200 to watch it learn)")
    demo.add_argument("--h", type=positive(float), default=course.H,
                      help=f"finite-difference nudge (the course's {course.H:g})")
    demo.add_argument("--seed", type=int, default=0, help="seed of the initial weights (0)")
    demo.add_argument("--lang", choices=("en", "es"), default="en", help="language of the table")
    demo.add_argument("--verbose", type=int, choices=(0, 1, 2), default=1,
                      help="fit's progress: 1 the Keras progress bar (default), 2 a line per "
                           "epoch, 0 silent")
    demo.add_argument("--out", default=OUT, help=f"folder for the pictures (./{OUT})")
    demo.set_defaults(func=cmd_demo)


def _names_table(before: dict, after: dict) -> str:
    lines = [f"{'weight':>6} {'start':>11} {'trained':>11} {'change':>11}"]
    lines += [f"{n:>6} {before[n]:>11.6f} {after[n]:>11.6f} {after[n] - before[n]:>+11.2e}"
              for n in course.PARAM_NAMES]
    return "\n".join(lines)


def _floats(params: dict) -> dict[str, float]:
    return {n: float(t.data) for n, t in params.items()}


def cmd_demo(args: argparse.Namespace) -> int:
    """Train the course network with Sequential, then backprop against finite differences."""
    from tinygrad_es import optimizers, utils

    out = Path(args.out)
    x, y = course.iris_data("float32")
    utils.set_random_seed(args.seed)
    model = course.build_model()
    model.compile(optimizer=optimizers.SGD(learning_rate=args.lr), loss="mae")
    is_course = (args.lr, args.epochs) == (course.LEARNING_RATE, course.EPOCHS)
    print("The course's network on iris rows 0-98 (x = petal length, y = setosa 0 / versicolor 1):")
    print("  y_hat = s(w_52·s(w_2·x+b_2) + w_53·s(w_3·x+b_3) + w_54·s(w_4·x+b_4) + b_5)")
    print("  loss  = mean |y - y_hat|")
    print(f"Keras's way: Sequential([Dense(3, sigmoid), Dense(1, sigmoid)]), SGD(learning_rate="
          f"{args.lr:g}), loss='mae', {args.epochs} epochs, batch_size=99, shuffle=False"
          + ("  (the course's settings)" if is_course else "") + "\n")
    start = _floats(course.params_from_weights(model.get_weights()))
    history = model.fit(x, y, epochs=args.epochs, batch_size=len(x), shuffle=False,
                        verbose=args.verbose)
    params = course.params_from_weights(model.get_weights())
    losses = history.history["loss"]
    print(f"\n{_names_table(start, _floats(params))}\n")
    print(f"loss: {losses[0]:.6f} at the first epoch, {losses[-1]:.6f} at the last")
    if is_course:
        print("(lr 0.001 moves the weights only ~1e-3 in 50 epochs; to watch the network learn: "
              "tinygrad-es demo --lr 1 --epochs 200)")

    print("\nThe gradients at the trained weights, by backprop and by the course's finite "
          "differences (float64):\n")
    print(course.compare_gradients(params, h=args.h).to_text(args.lang))

    out.mkdir(parents=True, exist_ok=True)
    written = []
    Figure = figure_class("the loss plot")
    if Figure is not None:
        from tinygrad_es.viz.plots import plot_history

        fig = Figure(figsize=(6.4, 4), layout="constrained")
        ax = plot_history(history, ax=fig.subplots(), title="the course's network: MAE per epoch",
                          lang=args.lang)
        ax.ticklabel_format(axis="y", useOffset=False)
        written.append(out / "loss.png")
        fig.savefig(written[-1], dpi=100)
    from tinygrad_es.tensor import Tensor
    from tinygrad_es.viz.graph import draw_graph, draw_model

    loss = course.loss(params, Tensor(x, dtype="float64", name="x"),
                       Tensor(y, dtype="float64", name="y"))
    loss.name = "L"
    loss.backward()
    # PNGs by Graphviz's dot, or by matplotlib where dot is missing (the .dot files too)
    written.append(render(draw_graph(loss, rankdir="TB"), out / "course_graph"))
    written.append(render(draw_model(model), out / "model"))
    print(f"Pictures written to {out.resolve()}:")
    for path in written:
        print(f"  {path}")
    return 0
