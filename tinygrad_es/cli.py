"""The ``tinygrad-es`` command (also ``python -m tinygrad_es``).

    tinygrad-es demo                 the course's network: train it, backprop vs finite differences
    tinygrad-es train --data iris    train a network on iris, digits or a CSV file; save it
    tinygrad-es compare              the same training in tinygrad_es and in Keras, epoch by epoch
    tinygrad-es graph                draw a computation graph (or a model's layers)
    tinygrad-es explain --lang es    the backward pass, step by step
    tinygrad-es paths                optimizers racing on a 2-D loss surface (pictures and a GIF)

Only numpy is required: without matplotlib the plots are skipped, without Graphviz's ``dot`` the
graphs are written as ``.dot`` files, and each time the output says so.
"""

from __future__ import annotations

import argparse
import os
import sys
import warnings
from pathlib import Path
from typing import Any, Callable

import numpy as np

from tinygrad_es import course

OUT = "tinygrad_es_output"
_EXIT_CODES = ("exit codes: 0 done, 1 a check failed (compare: a difference above the tolerance), "
               "2 bad arguments, 3 a required package is missing")


class _Parser(argparse.ArgumentParser):
    """argparse with a one-line error (and exit code 2) instead of the usage block."""

    def error(self, message: str) -> None:
        self.exit(2, f"{self.prog}: error: {message} (see {self.prog} --help)\n")


def _positive(kind: Callable[[str], Any]) -> Callable[[str], Any]:
    def parse(text: str) -> Any:
        try:
            value = kind(text)
        except ValueError:
            what = "an integer" if kind is int else "a number"
            raise argparse.ArgumentTypeError(f"expected {what}, received {text!r}") from None
        if not value > 0:
            raise argparse.ArgumentTypeError(f"expected a positive number, received {text!r}")
        return value

    parse.__name__ = f"positive {kind.__name__}"
    return parse


def _int_between(low: int, high: int) -> Callable[[str], int]:
    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            value = low - 1
        if not low <= value <= high:
            raise argparse.ArgumentTypeError(f"expected an integer from {low} to {high}, "
                                             f"received {text!r}")
        return value

    return parse


def _fraction(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        value = -1.0
    if not 0 <= value < 1:
        raise argparse.ArgumentTypeError(f"expected a fraction in [0, 1), received {text!r}")
    return value


def _data_source(text: str) -> str:
    if text not in ("iris", "digits") and not os.path.isfile(text):
        raise argparse.ArgumentTypeError(f"expected iris, digits or an existing CSV file, "
                                         f"received {text!r}")
    return text


def _registry_name(module: str) -> Callable[[str], str]:
    """A name that ``tinygrad_es.<module>.get`` accepts (its error lists the valid ones)."""
    def parse(text: str) -> str:
        import importlib

        try:
            importlib.import_module(f"tinygrad_es.{module}").get(text)
        except (ValueError, TypeError) as err:
            raise argparse.ArgumentTypeError(str(err).splitlines()[0]) from None
        return text

    return parse


def _units(text: str) -> list[int]:
    try:
        units = [int(u) for u in text.split(",") if u.strip()]
    except ValueError:
        units = [0]
    if not units or min(units) <= 0:
        raise argparse.ArgumentTypeError(f"expected hidden layer sizes like 16,8, received "
                                         f"{text!r}")
    return units


def _choices_list(valid: list[str]) -> Callable[[str], list[str]]:
    def parse(text: str) -> list[str]:
        names = [n.strip() for n in text.split(",") if n.strip()]
        bad = [n for n in names if n not in valid]
        if bad or not names:
            raise argparse.ArgumentTypeError(f"unknown {bad or text!r}; choose from {valid}")
        return names

    return parse


# ----- optional packages -----

def _figure(what: str) -> Any:
    """matplotlib's ``Figure`` class (no GUI backend needed), or None with a message."""
    try:
        from matplotlib.figure import Figure
    except ImportError:
        print(f"matplotlib is not installed: skipping {what} (pip install matplotlib)")
        return None
    return Figure


def _render(source: str, path: Path, fmt: str = "png") -> Path:
    """Render Graphviz source; without ``dot``, keep the .dot file and say how to get Graphviz."""
    from tinygrad_es.viz.graph import GraphvizMissing, render

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", GraphvizMissing)
        out = render(source, path, format=fmt)
    if any(issubclass(w.category, GraphvizMissing) for w in caught):
        print(f"Graphviz's dot program is not installed: wrote {out} only (apt-get install "
              f"graphviz, brew install graphviz or conda install graphviz; then dot -T{fmt} "
              f"{out} -o {path}.{fmt})")
    return out


def _names_table(before: dict, after: dict) -> str:
    lines = [f"{'weight':>6} {'start':>11} {'trained':>11} {'change':>11}"]
    lines += [f"{n:>6} {before[n]:>11.6f} {after[n]:>11.6f} {after[n] - before[n]:>+11.2e}"
              for n in course.PARAM_NAMES]
    return "\n".join(lines)


def _floats(params: dict) -> dict[str, float]:
    return {n: float(t.data) for n, t in params.items()}


# ----- demo -----

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
    Figure = _figure("the loss plot")
    if Figure is not None:
        from tinygrad_es.viz.plots import plot_history

        fig = Figure(figsize=(6.4, 4), layout="constrained")
        ax = plot_history(history, ax=fig.subplots(), title="the course's network: MAE per epoch",
                          lang=args.lang)
        ax.ticklabel_format(axis="y", useOffset=False)
        written.append(out / "loss.png")
        fig.savefig(written[-1], dpi=100)
    from tinygrad_es.tensor import Tensor
    from tinygrad_es.viz.graph import model_to_dot, to_dot

    loss = course.loss(params, Tensor(x, dtype="float64", name="x"),
                       Tensor(y, dtype="float64", name="y"))
    loss.name = "L"
    loss.backward()
    written.append(_render(to_dot(loss, rankdir="TB"), out / "course_graph"))
    written.append(_render(model_to_dot(model), out / "model"))
    print(f"Pictures written to {out.resolve()}:")
    for path in written:
        print(f"  {path}")
    return 0


# ----- train -----

def _load_data(name: str) -> tuple[np.ndarray, np.ndarray, list[str] | None]:
    """(x, y, class names or None for regression) from iris, digits or a CSV file."""
    from tinygrad_es.datasets import load_digits, load_iris

    if name in ("iris", "digits"):
        data = load_iris() if name == "iris" else load_digits()
        return (data.data.astype("float64"), data.target.astype("int64"),
                [str(c) for c in np.unique(data.target)])
    import csv

    with open(name, newline="", encoding="utf-8") as f:
        rows = [r for r in csv.reader(f) if r and any(c.strip() for c in r)]
    try:
        float(rows[0][0])
    except (ValueError, IndexError):
        rows = rows[1:]  # a header
    if not rows or len(rows[0]) < 2:
        raise ValueError(f"{name}: expected rows of at least 2 columns (features, then the label)")
    widths = {len(r) for r in rows}
    if len(widths) != 1:
        raise ValueError(f"{name}: rows have different numbers of columns {sorted(widths)}")
    try:
        x = np.array([[float(c) for c in r[:-1]] for r in rows])
    except ValueError as err:
        raise ValueError(f"{name}: the feature columns must be numbers ({err})") from None
    labels = [r[-1].strip() for r in rows]
    try:
        values = np.array([float(v) for v in labels])
    except ValueError:
        classes, y = np.unique(labels, return_inverse=True)
        return x, y.astype("int64"), [str(c) for c in classes]
    if np.all(values == np.round(values)) and len(np.unique(values)) <= 20:
        classes, y = np.unique(values, return_inverse=True)
        return x, y.astype("int64"), [f"{c:g}" for c in classes]
    return x, values, None


def cmd_train(args: argparse.Namespace) -> int:
    """Train a Dense network on a built-in data set or a CSV file, save it and its plots."""
    import tinygrad_es as keras

    try:
        x, y, classes = _load_data(args.data)
    except (OSError, ValueError) as err:
        print(f"tinygrad-es train: error: {err}", file=sys.stderr)
        return 2
    order = np.random.default_rng(args.seed).permutation(len(x))  # the split takes the last rows
    x, y = x[order], y[order]
    if args.standardize:
        cut = len(x) - int(len(x) * args.validation_split)
        mean, std = x[:cut].mean(axis=0), x[:cut].std(axis=0)
        x = (x - mean) / np.where(std > 0, std, 1.0)
    if classes is None:
        units, activation, loss, metrics = 1, None, "mse", ["mae"]
    elif len(classes) == 2:
        units, activation, loss, metrics = 1, "sigmoid", "binary_crossentropy", ["accuracy"]
    else:
        units, activation = len(classes), "softmax"
        loss, metrics = "sparse_categorical_crossentropy", ["accuracy"]
    keras.utils.set_random_seed(args.seed)
    model = keras.Sequential(
        [keras.Input((x.shape[1],))]
        + [keras.layers.Dense(u, activation=args.activation) for u in args.layers]
        + [keras.layers.Dense(units, activation=activation)])
    optimizer = keras.optimizers.get(args.optimizer)
    if args.lr is not None:
        optimizer.learning_rate = args.lr
    model.compile(optimizer=optimizer, loss=loss, metrics=metrics)
    kind = ("regression" if classes is None else f"{len(classes)} classes ("
            + ", ".join(classes[:10]) + (", ..." if len(classes) > 10 else "") + ")")
    print(f"data: {args.data}, {len(x)} rows, {x.shape[1]} features, {kind}"
          + (", features standardized" if args.standardize else ""))
    model.summary()
    print(f"optimizer {optimizer}, loss {loss}")
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    history = model.fit(x, y, epochs=args.epochs, batch_size=args.batch_size,
                        validation_split=args.validation_split, verbose=args.verbose,
                        callbacks=[keras.callbacks.CSVLogger(str(out / "history.csv"))])
    print("final: " + ", ".join(f"{k} {v[-1]:.4f}" for k, v in history.history.items()))
    model.save(str(out / "model.npz"))
    written = [out / "model.npz", out / "history.csv"]
    Figure = _figure("the history plot")
    if Figure is not None:
        from tinygrad_es.viz.plots import plot_history

        fig = Figure(figsize=(10, 3.8), layout="constrained")
        keys = sorted((k for k in history.history if not k.startswith("val_")),
                      key=lambda k: k != "loss")
        for ax, key in zip(fig.subplots(1, len(keys), squeeze=False)[0], keys):
            plot_history(history, keys=[key], ax=ax, title=key)
        written.append(out / "history.png")
        fig.savefig(written[-1], dpi=100)
    from tinygrad_es.viz.graph import model_to_dot

    written.append(_render(model_to_dot(model), out / "model"))
    print(f"written to {out.resolve()}: " + ", ".join(p.name for p in written))
    print(f"load it back with: tinygrad_es.models.load_model({str(out / 'model.npz')!r})")
    return 0


# ----- compare -----

_COMPARE_MODELS = {
    # name: (data, hidden layers, output, loss, optimizer, learning rate, batch size)
    "course": ("course", [(3, "sigmoid")], (1, "sigmoid"), "mae", "sgd", 0.001, 99),
    "iris": ("iris", [(8, "selu")], (3, "softmax"), "sparse_categorical_crossentropy", "adam",
             0.001, 16),
    "digits": ("digits", [(32, "selu"), (16, "selu")], (10, "softmax"),
               "sparse_categorical_crossentropy", "adam", 0.001, 32),
}


def _compare_data(name: str) -> tuple[np.ndarray, np.ndarray]:
    from tinygrad_es.datasets import load_digits, load_iris

    if name == "course":
        x, y = course.iris_data()
        return x, y
    if name == "iris":
        return load_iris().data, load_iris().target
    digits = load_digits()
    return digits.data[:256] / 16.0, digits.target[:256]


def cmd_compare(args: argparse.Namespace) -> int:
    """Train the same model from the same weights in tinygrad_es and in Keras (TensorFlow),
    epoch by epoch, and compare the losses and the weights."""
    import tinygrad_es as ours

    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    try:
        import keras
        import tensorflow  # noqa: F401
    except ImportError as err:
        print(f"tinygrad-es compare needs TensorFlow and Keras, which are not installed ({err}).\n"
              "Install them with: pip install tensorflow-cpu   (or pip install -e '.[test]')",
              file=sys.stderr)
        return 3
    x, y = _compare_data(_COMPARE_MODELS[args.model][0])
    tol = args.tol if args.tol is not None else {"float32": 1e-6, "float64": 1e-12}[args.dtype]
    saved = keras.config.floatx(), keras.config.dtype_policy(), ours.config.floatx()
    keras.config.set_floatx(args.dtype)
    keras.config.set_dtype_policy(args.dtype)  # Keras caches its policy: set both
    ours.config.set_floatx(args.dtype)
    try:
        return _compare(args, ours, keras, x, y, tol)
    finally:
        keras.config.set_floatx(saved[0])
        keras.config.set_dtype_policy(saved[1])
        ours.config.set_floatx(saved[2])


def _compare(args: argparse.Namespace, ours: Any, keras: Any, x: np.ndarray, y: np.ndarray,
             tol: float) -> int:
    _, hidden, (units, activation), loss, opt, lr, batch = _COMPARE_MODELS[args.model]
    opt, lr = args.optimizer or opt, args.lr or lr
    keras.utils.set_random_seed(args.seed)
    models = []
    for lib in (ours, keras):
        layers = [lib.Input((x.shape[1],))]
        layers += [lib.layers.Dense(u, activation=a) for u, a in hidden]
        models.append(lib.Sequential(layers + [lib.layers.Dense(units, activation=activation)]))
    mine, theirs = models
    mine.set_weights(theirs.get_weights())
    print(f"model {args.model}: {x.shape[1]}-" + "-".join(str(u) for u, _ in hidden)
          + f"-{units}, loss {loss}, {opt} lr={lr:g}, batch {batch}, {args.epochs} epochs, "
          f"{args.dtype}, shuffle=False; both start from Keras's initial weights")
    weights: dict[str, list] = {"ours": [], "keras": []}
    histories = {}
    for key, model, lib in (("ours", mine, ours), ("keras", theirs, keras)):
        model.compile(optimizer=course.optimizer(opt, lr, module=lib.optimizers), loss=loss)
        record = lib.callbacks.LambdaCallback(
            on_epoch_end=lambda epoch, logs, m=model, k=key: weights[k].append(m.get_weights()))
        histories[key] = model.fit(x, y, epochs=args.epochs, batch_size=batch, shuffle=False,
                                   verbose=0, callbacks=[record]).history["loss"]
    print(f"{'epoch':>5} {'loss tinygrad_es':>18} {'loss Keras':>18} {'|loss diff|':>12} "
          f"{'max |weight diff|':>18}")
    worst = 0.0
    for epoch in range(args.epochs):
        a, b = histories["ours"][epoch], histories["keras"][epoch]
        w_diff = max(float(np.max(np.abs(np.asarray(p, np.float64) - np.asarray(q, np.float64))))
                     for p, q in zip(weights["ours"][epoch], weights["keras"][epoch]))
        worst = max(worst, abs(a - b), w_diff)
        print(f"{epoch + 1:>5} {a:>18.10g} {b:>18.10g} {abs(a - b):>12.2e} {w_diff:>18.2e}")
    verdict = "agree" if worst <= tol else "DIFFER"
    print(f"largest difference {worst:.2e}: tinygrad_es and Keras {verdict} "
          f"(tolerance {tol:g})")
    return 0 if worst <= tol else 1


# ----- graph and explain -----

def _expression(what: str, rows: int | None = None, seed: int = 0) -> Any:
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
    from tinygrad_es.viz.graph import model_to_dot, to_dot

    out = Path(args.out)
    if args.what == "model":
        if args.file:
            from tinygrad_es.models import load_model

            try:
                model = load_model(args.file)
            except (OSError, ValueError) as err:
                print(f"tinygrad-es graph: error: cannot load {args.file}: {err}",
                      file=sys.stderr)
                return 2
        else:
            model = course.build_model()
        source = model_to_dot(model, rankdir=args.rankdir or "TB")
    else:
        tensor = _expression(args.what, seed=args.seed)
        tensor.backward()
        source = to_dot(tensor, rankdir=args.rankdir or ("TB" if args.what == "course" else "LR"))
    path = _render(source, out / f"{args.what}_graph", args.format)
    print(f"wrote {path}")
    return 0


def cmd_explain(args: argparse.Namespace) -> int:
    """Print the backward pass step by step: each op, its local derivative, the gradient that
    reaches each input (the chain rule), and the final .grad of every parameter."""
    from tinygrad_es.viz.trace import trace_backward

    tensor = _expression(args.what, rows=args.rows, seed=args.seed)
    if args.what == "course":
        rows = args.rows
        note = {"en": ("The course's loss on iris row 0 only" if rows == 1 else
                       f"The course's loss on the first {rows} of iris rows 0-98")
                + " (--rows 99 for the whole loss):",
                "es": ("La pérdida del curso solo con la fila 0 de iris" if rows == 1 else
                       f"La pérdida del curso con las primeras {rows} filas de iris 0-98")
                + " (--rows 99 para la pérdida completa):"}[args.lang]
        print(note + "\n")
    print(trace_backward(tensor, lang=args.lang))
    return 0


# ----- paths -----

def cmd_paths(args: argparse.Namespace) -> int:
    """Run optimizers on a 2-D surface from the same start; draw their paths on the contour
    plot and in 3-D, and an animated GIF of the race."""
    from tinygrad_es import Tensor, no_grad
    from tinygrad_es.viz import surfaces
    from tinygrad_es.viz.plots import animate_paths, optimizer_path, plot_loss_surface

    Figure = _figure("the pictures")
    if Figure is None:
        return 3
    surface = surfaces.get(args.surface)
    steps, rates = course.PATHS[args.surface]
    steps = args.steps or steps
    rates = {n: args.lr or rates[n] for n in args.optimizers}
    with np.errstate(over="ignore", invalid="ignore"):
        paths = {n: optimizer_path(surface, course.optimizer(n, rates[n]), surface.start, steps,
                                   dtype="float64") for n in args.optimizers}
    print(f"{surface.name}: {steps} steps from {surface.start}; minimum at {surface.minimum}")
    with no_grad(), np.errstate(over="ignore", invalid="ignore"):
        for name, p in paths.items():
            last = p[np.all(np.isfinite(p), axis=1)][-1]
            value = float(surface(Tensor(last, dtype="float64")).data)
            note = "" if np.all(np.isfinite(p[-1])) else "  (diverged)"
            print(f"  {name:>9} lr={rates[name]:<7g} ends at ({last[0]: .4f}, {last[1]: .4f}), "
                  f"f = {value:.5g}{note}")
    labelled = {f"{n} lr={rates[n]:g}": p for n, p in paths.items()}
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    written = [out / f"{surface.name}_paths.png", out / f"{surface.name}_3d.png"]
    xlim, ylim = course.paths_window(surface, paths) if args.zoom else (surface.xlim,
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
            print("Pillow is not installed: skipping the GIF (pip install pillow)")
        else:
            written.append(animate_paths(surface, labelled, out / f"{surface.name}_race.gif",
                                         xlim, ylim, log=surface.log,
                                         minimum=surface.minimum, title=surface.name,
                                         max_frames=args.frames))
    print(f"Pictures written to {out.resolve()}:")
    for path in written:
        print(f"  {path}")
    return 0


def _add_more_parsers(sub: Any) -> None:
    compare = sub.add_parser("compare", help="the same training in tinygrad_es and in Keras "
                                             "(needs TensorFlow)",
                             description=cmd_compare.__doc__, epilog=_EXIT_CODES)
    compare.add_argument("--model", choices=sorted(_COMPARE_MODELS), default="course",
                         help="course: 1-3-1 sigmoid, MAE, SGD 0.001, batch 99 (default); iris: "
                              "4-8-3 selu, Adam, batch 16; digits: 64-32-16-10 selu on 256 "
                              "images, Adam, batch 32")
    compare.add_argument("--epochs", type=_positive(int), default=5, help="epochs (5)")
    compare.add_argument("--optimizer", choices=list(course.OPTIMIZERS),
                         help="override the model's optimizer")
    compare.add_argument("--lr", type=_positive(float), help="override the learning rate")
    compare.add_argument("--dtype", choices=("float32", "float64"), default="float32",
                         help="floatx of both libraries (float32)")
    compare.add_argument("--tol", type=_positive(float),
                         help="largest allowed difference (1e-6 in float32, 1e-12 in float64)")
    compare.add_argument("--seed", type=int, default=0, help="seed of Keras's initial weights")
    compare.set_defaults(func=cmd_compare)

    graph = sub.add_parser("graph", help="draw a computation graph or a model's layers",
                           description=cmd_graph.__doc__, epilog=_EXIT_CODES)
    graph.add_argument("what", nargs="?", choices=("course", "neuron", "model"), default="course",
                       help="course: the course's loss (default); neuron: micrograd's "
                            "tanh(x1·w1 + x2·w2 + b); model: the layers of a model")
    graph.add_argument("--file", help="with model: a model saved by tinygrad-es train or "
                                      "model.save (default: the course's network)")
    graph.add_argument("--format", choices=("png", "svg", "pdf"), default="png",
                       help="picture format (png)")
    graph.add_argument("--rankdir", choices=("LR", "TB", "RL", "BT"),
                       help="direction (neuron LR, course and model TB)")
    graph.add_argument("--seed", type=int, default=0, help="seed of the course's weights (0)")
    graph.add_argument("--out", default=OUT, help=f"folder for the picture (./{OUT})")
    graph.set_defaults(func=cmd_graph)

    explain = sub.add_parser("explain", help="the backward pass step by step (--lang es|en)",
                             description=cmd_explain.__doc__, epilog=_EXIT_CODES)
    explain.add_argument("what", nargs="?", choices=("course", "neuron"), default="course",
                         help="course: the course's loss (default); neuron: micrograd's neuron")
    explain.add_argument("--lang", choices=("en", "es"), default="en",
                         help="English or Spanish (en)")
    explain.add_argument("--rows", type=_int_between(1, 99), default=1, metavar="N",
                         help="course: use the first N of the 99 rows (1, the default: every "
                              "number is a scalar; 99: the course's whole loss)")
    explain.add_argument("--seed", type=int, default=0, help="seed of the course's weights (0)")
    explain.set_defaults(func=cmd_explain)

    paths = sub.add_parser("paths", help="optimizers racing on a 2-D loss surface "
                                         "(pictures and a GIF)",
                           description=cmd_paths.__doc__, epilog=_EXIT_CODES)
    paths.add_argument("--surface", choices=sorted(course.PATHS), default="course",
                       help="course (the course's, default), cubic, rosenbrock or squares")
    paths.add_argument("--optimizers", type=_choices_list(list(course.OPTIMIZERS)),
                       default=list(course.OPTIMIZERS),
                       help="comma separated, from " + ",".join(course.OPTIMIZERS) + " (all)")
    paths.add_argument("--steps", type=_positive(int), help="updates (150; rosenbrock 1000)")
    paths.add_argument("--lr", type=_positive(float),
                       help="one learning rate for all (default: a rate per optimizer)")
    paths.add_argument("--no-gif", dest="gif", action="store_false", help="skip the GIF")
    paths.add_argument("--no-zoom", dest="zoom", action="store_false",
                       help="draw the whole surface (default: the box around the paths)")
    paths.add_argument("--frames", type=_positive(int), default=60, help="GIF frames (60)")
    paths.add_argument("--out", default=OUT, help=f"folder for the pictures (./{OUT})")
    paths.set_defaults(func=cmd_paths)


def build_parser() -> argparse.ArgumentParser:
    """The ``tinygrad-es`` argument parser (subcommands demo, train, compare, graph, explain,
    paths).

    Example:
        >>> build_parser().parse_args(["demo", "--epochs", "5"]).epochs
        5
    """
    parser = _Parser(prog="tinygrad-es", epilog=_EXIT_CODES,
                     description="See and check backpropagation; train small networks with "
                                 "Keras's API on numpy.")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    demo = sub.add_parser("demo", help="the main job: train the course's network, compare "
                                       "backprop with finite differences, draw it",
                          description=cmd_demo.__doc__, epilog=_EXIT_CODES)
    demo.add_argument("--epochs", type=_positive(int), default=course.EPOCHS,
                      help=f"epochs (the course's {course.EPOCHS})")
    demo.add_argument("--lr", type=_positive(float), default=course.LEARNING_RATE,
                      help=f"SGD learning rate (the course's {course.LEARNING_RATE}; "
                           "try --lr 1 --epochs 200 to watch it learn)")
    demo.add_argument("--h", type=_positive(float), default=course.H,
                      help=f"finite-difference nudge (the course's {course.H:g})")
    demo.add_argument("--seed", type=int, default=0, help="seed of the initial weights (0)")
    demo.add_argument("--lang", choices=("en", "es"), default="en", help="language of the table")
    demo.add_argument("--verbose", type=int, choices=(0, 1, 2), default=1,
                      help="fit's progress: 1 the Keras progress bar (default), 2 a line per "
                           "epoch, 0 silent")
    demo.add_argument("--out", default=OUT, help=f"folder for the pictures (./{OUT})")
    demo.set_defaults(func=cmd_demo)

    train = sub.add_parser("train", help="train a network on iris, digits or a CSV file",
                           description=cmd_train.__doc__ + " A CSV file has one row per sample, "
                           "the label in the last column (names, or integers with at most 20 "
                           "distinct values, are classes; other numbers a regression target; an "
                           "optional header row).",
                           epilog=_EXIT_CODES)
    train.add_argument("--data", type=_data_source, default="iris",
                       help="iris, digits or a CSV file (iris)")
    train.add_argument("--layers", type=_units, default=[16],
                       help="hidden layer sizes, comma separated (16)")
    train.add_argument("--activation", type=_registry_name("activations"), default="relu",
                       help="of the hidden layers (relu)")
    train.add_argument("--optimizer", type=_registry_name("optimizers"), default="adam",
                       help="any Keras optimizer name (adam)")
    train.add_argument("--lr", type=_positive(float), help="learning rate (the optimizer's)")
    train.add_argument("--epochs", type=_positive(int), default=100, help="epochs (100)")
    train.add_argument("--batch-size", type=_positive(int), default=32, help="batch size (32)")
    train.add_argument("--validation-split", type=_fraction, default=0.2,
                       help="fraction held out for validation, after shuffling (0.2)")
    train.add_argument("--no-standardize", dest="standardize", action="store_false",
                       help="keep the features as they are (default: zero mean, unit variance)")
    train.add_argument("--seed", type=int, default=0, help="seed (0)")
    train.add_argument("--verbose", type=int, choices=(0, 1, 2), default=2,
                       help="fit's verbose (2: a line per epoch)")
    train.add_argument("--out", default=OUT, help=f"folder for the model and plots (./{OUT})")
    train.set_defaults(func=cmd_train)
    _add_more_parsers(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    """Run ``tinygrad-es`` with ``argv`` (default ``sys.argv[1:]``); returns the exit code.

    Example:
        >>> main(["demo", "--epochs", "3", "--verbose", "0"])
        0
    """
    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "func", None):
        parser.error("choose a COMMAND: demo, train, compare, graph, explain or paths")
    try:
        return args.func(args)
    except BrokenPipeError:  # e.g. `tinygrad-es explain | head`: stop quietly
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 1


if __name__ == "__main__":
    sys.exit(main())
