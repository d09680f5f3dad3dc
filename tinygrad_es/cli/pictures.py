"""``tinygrad-es graph``, ``explain`` and ``paths``: pictures and step-by-step text of backprop
and of the optimizers."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any, Callable

import numpy as np

from tinygrad_es import course
from tinygrad_es.cli._common import EXIT_CODES, OUT, figure_class, positive, render
from tinygrad_es.i18n import N_, tr
from tinygrad_es.viz import surfaces


def add_parsers(sub: Any) -> None:
    """The ``graph``, ``explain`` and ``paths`` subcommands and their arguments."""
    graph = sub.add_parser("graph", help=tr("draw a computation graph or a model's layers"),
                           description=tr(_GRAPH), epilog=EXIT_CODES)
    graph.add_argument("what", nargs="?", choices=("course", "neuron", "model"), default="course",
                       help=tr("course: the course's loss (default); neuron: micrograd's "
                               "tanh(x1·w1 + x2·w2 + b); model: the layers of a model"))
    graph.add_argument("--file", help=tr("with model: a model saved by tinygrad-es train or "
                                         "model.save (default: the course's network)"))
    graph.add_argument("--format", choices=("png", "svg", "pdf"), default="png",
                       help=tr("picture format (png)"))
    graph.add_argument("--rankdir", choices=("LR", "TB", "RL", "BT"),
                       help=tr("direction (neuron LR, course and model TB)"))
    graph.add_argument("--seed", type=int, default=None,
                       help=tr("draw other starting weights with this seed (default: the "
                               "course's weights)"))
    graph.add_argument("--out", default=OUT, help=tr("folder for the picture (./{out})", out=OUT))
    graph.set_defaults(func=cmd_graph)

    explain = sub.add_parser("explain", help=tr("the backward pass step by step (--lang es|en)"),
                             description=tr(_EXPLAIN), epilog=EXIT_CODES)
    explain.add_argument("what", nargs="?", choices=("course", "neuron"), default="course",
                         help=tr("course: the course's loss (default); neuron: micrograd's "
                                 "neuron"))
    explain.add_argument("--lang", choices=("en", "es"), default=None,
                         help=tr("English or Spanish (as tinygrad-es --lang)"))
    explain.add_argument("--rows", type=_int_between(1, 99), default=1, metavar="N",
                         help=tr("course: use the first N of the 99 rows (1, the default: every "
                                 "number is a scalar; 99: the course's whole loss)"))
    explain.add_argument("--seed", type=int, default=None,
                         help=tr("draw other starting weights with this seed (default: the "
                                 "course's weights)"))
    explain.add_argument("--animate", action="store_true",
                         help=tr("also write the backward and forward passes as animations "
                                 "(GIF and HTML player) into --out"))
    explain.add_argument("--out", default=OUT,
                         help=tr("folder for the animations (./{out})", out=OUT))
    explain.set_defaults(func=cmd_explain)

    paths = sub.add_parser("paths", help=tr("optimizers racing on a 2-D loss surface "
                                            "(pictures and a GIF)"),
                           description=tr(_PATHS), epilog=EXIT_CODES)
    paths.add_argument("--surface", choices=sorted(surfaces.PATHS), default="course",
                       help=tr("course (the course's, default), cubic, rosenbrock or squares"))
    paths.add_argument("--optimizers", type=_choices_list(list(course.OPTIMIZERS)),
                       default=list(course.OPTIMIZERS),
                       help=tr("comma separated, from {names} (all)",
                               names=",".join(course.OPTIMIZERS)))
    paths.add_argument("--steps", type=positive(int),
                       help=tr("updates (150; rosenbrock 1000)"))
    paths.add_argument("--lr", type=positive(float),
                       help=tr("one learning rate for all (default: a rate per optimizer)"))
    paths.add_argument("--no-gif", dest="gif", action="store_false", help=tr("skip the GIF"))
    paths.add_argument("--no-zoom", dest="zoom", action="store_false",
                       help=tr("draw the whole surface (default: the box around the paths)"))
    paths.add_argument("--frames", type=positive(int), default=60, help=tr("GIF frames (60)"))
    paths.add_argument("--out", default=OUT, help=tr("folder for the pictures (./{out})", out=OUT))
    paths.set_defaults(func=cmd_paths)


_GRAPH = N_("Draw the graph of micrograd's neuron or of the course's loss (after backward, with "
            "data and gradients), or the layers of a model.")
_EXPLAIN = N_("Print the backward pass step by step: each op, its local derivative, the gradient "
              "that reaches each input (the chain rule), and the final .grad of every parameter.")
_PATHS = N_("Run optimizers on a 2-D surface from the same start; draw their paths on the contour "
            "plot and in 3-D, and an animated GIF of the race.")


# ----- argument types -----

def _int_between(low: int, high: int) -> Callable[[str], int]:
    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            value = low - 1
        if not low <= value <= high:
            raise argparse.ArgumentTypeError(tr("expected an integer from {low} to {high}, "
                                                "received {text!r}", low=low, high=high,
                                                text=text))
        return value

    return parse


def _choices_list(valid: list[str]) -> Callable[[str], list[str]]:
    def parse(text: str) -> list[str]:
        names = [n.strip() for n in text.split(",") if n.strip()]
        bad = [n for n in names if n not in valid]
        if bad or not names:
            raise argparse.ArgumentTypeError(tr("unknown {bad!r}; choose from {valid}",
                                                bad=bad or text, valid=valid))
        return names

    return parse


# ----- graph and explain -----

def _expression(what: str, rows: int | None = None, seed: int | None = None) -> Any:
    """The output Tensor of micrograd's neuron or of the course's loss (first ``rows`` rows)."""
    from tinygrad_es.tensor import Tensor

    if what == "neuron":
        x1, x2 = Tensor(2.0, name="x1"), Tensor(0.0, name="x2")
        w1 = Tensor(-3.0, requires_grad=True, name="w1")
        w2 = Tensor(1.0, requires_grad=True, name="w2")
        b = Tensor(6.8813735870195432, requires_grad=True, name="b")
        n = x1 * w1 + x2 * w2 + b
        n.name = "n"
        out = n.tanh()
        out.name = "o"
        return out
    x, y = course.iris_data()
    rows = rows or len(x)
    out = course.loss(course.init_params(seed), Tensor(x[:rows], dtype="float64", name="x"),
                      Tensor(y[:rows], dtype="float64", name="y"))
    out.name = "L"
    return out


def cmd_graph(args: argparse.Namespace) -> int:
    """Draw the graph of micrograd's neuron or of the course's loss (after backward, with data
    and gradients), or the layers of a model."""
    from tinygrad_es.viz.graph import draw_graph, draw_model

    out = Path(args.out)
    if args.what == "model":
        if args.file:
            from tinygrad_es.models import load_model

            try:
                model = load_model(args.file)
            except (OSError, ValueError) as err:
                print(tr("tinygrad-es graph: error: cannot load {file}: {err}",
                         file=args.file, err=err), file=sys.stderr)
                return 2
        else:
            model = course.build_model(seed=args.seed)
        picture = draw_model(model, rankdir=args.rankdir or "TB")
    else:
        tensor = _expression(args.what, seed=args.seed)
        tensor.backward()
        picture = draw_graph(tensor,
                             rankdir=args.rankdir or ("TB" if args.what == "course" else "LR"))
    # a picture object: drawn by Graphviz where it is installed, else by matplotlib
    path = render(picture, out / f"{args.what}_graph", args.format)
    print(tr("wrote {path}", path=path))
    return 0


def cmd_explain(args: argparse.Namespace) -> int:
    """Print the backward pass step by step: each op, its local derivative, the gradient that
    reaches each input (the chain rule), and the final .grad of every parameter."""
    from tinygrad_es.viz.trace import trace_backward

    tensor = _expression(args.what, rows=args.rows, seed=args.seed)
    if args.what == "course":
        note = (tr("The course's loss on iris row 0 only (--rows 99 for the whole loss):")
                if args.rows == 1 else
                tr("The course's loss on the first {rows} of iris rows 0-98 (--rows 99 for the "
                   "whole loss):", rows=args.rows))
        print(note + "\n")
    print(trace_backward(tensor))
    if getattr(args, "animate", False):
        return _write_animations(args)
    return 0


def _write_animations(args: argparse.Namespace) -> int:
    """``explain --animate``: the backward and forward passes as GIF + HTML in ``--out``."""
    try:
        import matplotlib  # noqa: F401
        import PIL  # noqa: F401
    except ImportError as err:
        print(tr("the animations need matplotlib and Pillow ({err}; pip install "
                 "'tinygrad_es[viz]')", err=err))
        return 3
    from tinygrad_es.viz.animate import animate_backward, animate_forward

    out = Path(args.out)
    written = []
    for kind, animate in (("backward", animate_backward), ("forward", animate_forward)):
        movie = animate(_expression(args.what, rows=args.rows, seed=args.seed))
        for ext in ("gif", "html"):
            written.append(movie.save(out / f"{args.what}_{kind}.{ext}"))
    print(tr("Animations written to {out}:", out=out.resolve()))
    for path in written:
        print(f"  {path}")
    return 0


# ----- paths -----

def cmd_paths(args: argparse.Namespace) -> int:
    """Run optimizers on a 2-D surface from the same start; draw their paths on the contour
    plot and in 3-D, and an animated GIF of the race."""
    from tinygrad_es import Tensor, no_grad
    from tinygrad_es.viz.plots import animate_paths, optimizer_path, plot_loss_surface

    Figure = figure_class(N_("the pictures"))
    if Figure is None:
        return 3
    surface = surfaces.get(args.surface)
    steps, rates = surfaces.PATHS[args.surface]
    steps = args.steps or steps
    rates = {n: args.lr or rates[n] for n in args.optimizers}
    with np.errstate(over="ignore", invalid="ignore"):
        paths = {n: optimizer_path(surface, course.optimizer(n, rates[n]), surface.start, steps,
                                   dtype="float64") for n in args.optimizers}
    print(tr("{name}: {steps} steps from {start}; minimum at {minimum}", name=surface.name,
             steps=steps, start=surface.start, minimum=surface.minimum))
    with no_grad(), np.errstate(over="ignore", invalid="ignore"):
        for name, p in paths.items():
            last = p[np.all(np.isfinite(p), axis=1)][-1]
            value = float(surface(Tensor(last, dtype="float64")).data)
            note = "" if np.all(np.isfinite(p[-1])) else "  " + tr("(diverged)")
            print(f"  {name:>9} lr={rates[name]:<7g} " + tr("ends at ({x: .4f}, {y: .4f}), "
                  "f = {value:.5g}", x=last[0], y=last[1], value=value) + note)
    labelled = {f"{n} lr={rates[n]:g}": p for n, p in paths.items()}
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    written = [out / f"{surface.name}_paths.png", out / f"{surface.name}_3d.png"]
    xlim, ylim = surfaces.paths_window(surface, paths) if args.zoom else (surface.xlim,
                                                                         surface.ylim)
    fig = Figure(figsize=(7.5, 6), layout="constrained")
    plot_loss_surface(surface, xlim, ylim, paths=labelled, log=surface.log,
                      minimum=surface.minimum, ax=fig.subplots(), title=surface.name)
    fig.savefig(written[0], dpi=90)
    fig = Figure(figsize=(7.5, 6), layout="constrained")
    plot_loss_surface(surface, surface.xlim, surface.ylim, kind="3d", paths=labelled,
                      log=surface.log, minimum=surface.minimum,
                      ax=fig.add_subplot(projection="3d"), title=surface.name)
    fig.savefig(written[1], dpi=90)
    if args.gif:
        try:
            import PIL  # noqa: F401
        except ImportError:
            print(tr("Pillow is not installed: skipping the GIF (pip install pillow)"))
        else:
            written.append(animate_paths(surface, labelled, out / f"{surface.name}_race.gif",
                                         xlim, ylim, log=surface.log,
                                         minimum=surface.minimum, title=surface.name,
                                         max_frames=args.frames))
    print(tr("Pictures written to {out}:", out=out.resolve()))
    for path in written:
        print(f"  {path}")
    return 0
