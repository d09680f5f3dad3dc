"""``tinygrad-es demo``: the course's experiment and its published table, then backprop against
finite differences at the trained weights, then the pictures."""

from __future__ import annotations

import argparse
import textwrap
from pathlib import Path
from typing import Any

from tinygrad_es import course
from tinygrad_es.cli._common import EXIT_CODES, OUT, figure_class, positive, render
from tinygrad_es.i18n import tr


def add_parser(sub: Any) -> None:
    """The ``demo`` subcommand and its arguments."""
    demo = sub.add_parser("demo", help=tr("the main job: the course's network and its published "
                                          "table, backprop against finite differences, pictures"),
                          description=tr("The course's experiment (50 epochs of SGD, lr 0.001, "
                                         "from the course's weights) by our Keras-API fit, by "
                                         "backprop and by finite differences, beside the "
                                         "course's published table; then backprop against "
                                         "finite differences at the trained weights, and the "
                                         "pictures."), epilog=EXIT_CODES)
    demo.add_argument("--epochs", type=positive(int), default=course.EPOCHS,
                      help=tr("epochs (the course's {epochs})", epochs=course.EPOCHS))
    demo.add_argument("--lr", type=positive(float), default=course.LEARNING_RATE,
                      help=tr("SGD learning rate (the course's {lr}; try --lr 1 --epochs 200 to "
                              "watch it learn)", lr=course.LEARNING_RATE))
    demo.add_argument("--h", type=positive(float), default=course.H,
                      help=tr("finite-difference nudge (the course's {h})", h=f"{course.H:g}"))
    demo.add_argument("--seed", type=int, default=None,
                      help=tr("draw other starting weights with this seed (default: the "
                              "course's weights)"))
    demo.add_argument("--lang", choices=("en", "es"), default=None,
                      help=tr("language of the output (default: the current language)"))
    demo.add_argument("--verbose", type=int, choices=(0, 1, 2), default=0,
                      help=tr("fit's progress: 0 none (default), 1 the Keras progress bar, 2 a "
                              "line per epoch"))
    demo.add_argument("--out", default=OUT,
                      help=tr("folder for the pictures (./{out})", out=OUT))
    demo.set_defaults(func=cmd_demo)


def _names_table(before: dict, after: dict, lang: str | None) -> str:
    lines = [f"{tr('weight', lang=lang):>6} {tr('start', lang=lang):>11} "
             f"{tr('trained', lang=lang):>11} {tr('change', lang=lang):>11}"]
    lines += [f"{n:>6} {before[n]:>11.6f} {after[n]:>11.6f} {after[n] - before[n]:>+11.2e}"
              for n in course.PARAM_NAMES]
    return "\n".join(lines)


def _course_table(weights: dict, lang: str | None) -> str:
    """Side by side: the course's published columns, ours, and the differences."""
    heads = [tr("weight", lang=lang), tr("course Keras", lang=lang), tr("our fit", lang=lang),
             "Δ", tr("course manual", lang=lang), tr("our backprop", lang=lang), "Δ",
             tr("our finite diff", lang=lang), "Δ"]
    widths = [6, 12, 12, 8, 13, 12, 8, 15, 8]
    lines = [" ".join(h.rjust(w) for h, w in zip(heads, widths))]
    for n in course.PARAM_NAMES:
        keras, manual = course.PUBLISHED_KERAS[n], course.PUBLISHED_MANUAL.get(n)
        cells = [n, f"{keras:.8f}", f"{weights['fit'][n]:.8f}",
                 f"{weights['fit'][n] - keras:+.1e}",
                 "—" if manual is None else f"{manual:.8f}"]
        for method in ("backprop", "finite"):
            value = weights[method][n]
            cells += [f"{value:.8f}", "—" if manual is None else f"{value - manual:+.1e}"]
        lines.append(" ".join(c.rjust(w) for c, w in zip(cells, widths)))
    return "\n".join(lines)


def _say(text: str) -> None:
    """Print prose wrapped at 100 columns (a trailing blank line is kept)."""
    print(textwrap.fill(text.rstrip("\n"), 100) + "\n" * (len(text) - len(text.rstrip("\n"))))


def _largest(weights: dict, method: str, published: dict) -> float:
    return max(abs(weights[method][n] - published[n]) for n in published)


def cmd_demo(args: argparse.Namespace) -> int:
    """The course's experiment (50 epochs of SGD, lr 0.001, from the course's weights) by our
    Keras-API fit, by backprop and by finite differences, beside the course's published table;
    then backprop against finite differences at the trained weights, and the pictures."""
    lang = args.lang
    out = Path(args.out)
    is_course = (args.lr, args.epochs, args.seed) == (course.LEARNING_RATE, course.EPOCHS, None)
    print(tr("The course's network on iris rows 0-98 (x = petal length, y = setosa 0 / "
             "versicolor 1):", lang=lang))
    print("  y_hat = s(w_52·s(w_2·x+b_2) + w_53·s(w_3·x+b_3) + w_54·s(w_4·x+b_4) + b_5)")
    print(tr("  loss  = mean |y - y_hat|", lang=lang))
    start = (tr("the course's starting weights", lang=lang) if args.seed is None else
             tr("starting weights drawn with seed {seed}", lang=lang, seed=args.seed))
    _say(tr("Keras's way: Sequential([Dense(3, sigmoid), Dense(1, sigmoid)]), "
             "SGD(learning_rate={lr}), loss='mae', {epochs} epochs, batch_size=99, "
             "shuffle=False, from {start}", lang=lang, lr=f"{args.lr:g}", epochs=args.epochs,
             start=start))
    print((tr("(the course's settings)", lang=lang) + "\n") if is_course else "")
    run = course.reproduce(seed=args.seed, epochs=args.epochs, learning_rate=args.lr, h=args.h,
                           verbose=args.verbose)
    weights, losses = run["weights"], run["losses"]
    if args.verbose:
        print()
    if is_course:
        _say(tr("After {epochs} epochs: the course's published weights and ours (float32 fit "
                 "as Keras; backprop and finite differences in float64, as the course's manual "
                 "loop):", lang=lang, epochs=args.epochs) + "\n")
        print(_course_table(weights, lang) + "\n")
        _say(tr("loss: the course {first} → {last}; ours: fit {fit0:.6f} → {fit1:.6f}, "
                "backprop {bp0:.6f} → {bp1:.6f}, finite differences {fd0:.6f} → {fd1:.6f}",
                lang=lang,
                 first=course.PUBLISHED_LOSS[0], last=course.PUBLISHED_LOSS[1],
                 fit0=losses["fit"][0], fit1=losses["fit"][-1], bp0=losses["backprop"][0],
                 bp1=losses["backprop"][-1], fd0=losses["finite"][0], fd1=losses["finite"][-1]))
        _say(tr("largest |Δ|: our fit against the course's Keras {fit:.1e}, our backprop "
                 "against the course's manual {bp:.1e}, our finite differences against it "
                 "{fd:.1e} (the course prints 8 decimals of float32 numbers)", lang=lang,
                 fit=_largest(weights, "fit", course.PUBLISHED_KERAS),
                 bp=_largest(weights, "backprop", course.PUBLISHED_MANUAL),
                 fd=_largest(weights, "finite", course.PUBLISHED_MANUAL)))
        _say(tr("(lr 0.001 moves the weights only ~1e-3 in 50 epochs; to watch the network "
                 "learn: tinygrad-es demo --lr 1 --epochs 200)", lang=lang))
    else:
        print(_names_table(run["start"], weights["fit"], lang) + "\n")
        print(tr("loss: {first:.6f} at the first epoch, {last:.6f} at the last", lang=lang,
                 first=losses["fit"][0], last=losses["fit"][-1]))

    model = run["model"]
    params = course.params_from_weights(model.get_weights(), dtype="float32")
    print("\n" + tr("The gradients at the trained weights, by backprop and by the course's "
                    "finite differences:", lang=lang) + "\n")
    print(course.compare_gradients(params, h=args.h).to_text(lang))
    return _pictures(out, run["history"], model, lang)


def _pictures(out: Path, history: Any, model: Any, lang: str | None) -> int:
    from tinygrad_es.tensor import Tensor
    from tinygrad_es.viz.graph import draw_graph, draw_model

    out.mkdir(parents=True, exist_ok=True)
    written = []
    Figure = figure_class(tr("the loss plot", lang=lang))
    if Figure is not None:
        from tinygrad_es.viz.plots import plot_history

        fig = Figure(figsize=(6.4, 4), layout="constrained")
        ax = plot_history(history, ax=fig.subplots(),
                          title=tr("the course's network: MAE per epoch", lang=lang), lang=lang)
        ax.ticklabel_format(axis="y", useOffset=False)
        written.append(out / "loss.png")
        fig.savefig(written[-1], dpi=100)
    params = course.params_from_weights(model.get_weights())
    x, y = course.iris_data()
    loss = course.loss(params, Tensor(x, dtype="float64", name="x"),
                       Tensor(y, dtype="float64", name="y"))
    loss.name = "L"
    loss.backward()
    # PNGs by Graphviz's dot, or by matplotlib where dot is missing (the .dot files too)
    written.append(render(draw_graph(loss, rankdir="TB"), out / "course_graph"))
    written.append(render(draw_model(model), out / "model"))
    print(tr("Pictures written to {folder}:", lang=lang, folder=out.resolve()))
    for path in written:
        print(f"  {path}")
    return 0
