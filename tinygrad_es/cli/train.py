"""``tinygrad-es train``: a Dense network on iris, digits or a CSV file, saved with its plots."""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path
from typing import Any, Callable

import numpy as np

from tinygrad_es.cli._common import EXIT_CODES, OUT, figure_class, positive, render
from tinygrad_es.i18n import N_, tr


def add_parser(sub: Any) -> None:
    """The ``train`` subcommand and its arguments."""
    train = sub.add_parser("train", help=tr("train a network on iris, digits or a CSV file"),
                           description=tr("Train a Dense network on a built-in data set or a CSV "
                                          "file, save it and its plots. A CSV file has one row "
                                          "per sample, the label in the last column (names, or "
                                          "integers with at most 20 distinct values, are classes; "
                                          "other numbers a regression target; an optional header "
                                          "row)."),
                           epilog=EXIT_CODES)
    train.add_argument("--data", type=_data_source, default="iris",
                       help=tr("iris, digits or a CSV file (iris)"))
    train.add_argument("--layers", type=_units, default=[16],
                       help=tr("hidden layer sizes, comma separated (16)"))
    train.add_argument("--activation", type=_registry_name("activations"), default="relu",
                       help=tr("of the hidden layers (relu)"))
    train.add_argument("--optimizer", type=_registry_name("optimizers"), default="adam",
                       help=tr("any Keras optimizer name (adam)"))
    train.add_argument("--lr", type=positive(float),
                       help=tr("learning rate (the optimizer's)"))
    train.add_argument("--epochs", type=positive(int), default=100, help=tr("epochs (100)"))
    train.add_argument("--batch-size", type=positive(int), default=32,
                       help=tr("batch size (32)"))
    train.add_argument("--validation-split", type=_fraction, default=0.2,
                       help=tr("fraction held out for validation, after shuffling (0.2)"))
    train.add_argument("--no-standardize", dest="standardize", action="store_false",
                       help=tr("keep the features as they are (default: zero mean, unit "
                               "variance)"))
    train.add_argument("--seed", type=int, default=0, help=tr("seed (0)"))
    train.add_argument("--verbose", type=int, choices=(0, 1, 2), default=2,
                       help=tr("fit's verbose (2: a line per epoch)"))
    train.add_argument("--out", default=OUT,
                       help=tr("folder for the model and plots (./{out})", out=OUT))
    train.set_defaults(func=cmd_train)


# ----- argument types -----

def _fraction(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        value = -1.0
    if not 0 <= value < 1:
        raise argparse.ArgumentTypeError(tr("expected a fraction in [0, 1), received {text!r}",
                                            text=text))
    return value


def _data_source(text: str) -> str:
    if text not in ("iris", "digits") and not os.path.isfile(text):
        raise argparse.ArgumentTypeError(tr("expected iris, digits or an existing CSV file, "
                                            "received {text!r}", text=text))
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
        raise argparse.ArgumentTypeError(tr("expected hidden layer sizes like 16,8, received "
                                            "{text!r}", text=text))
    return units


# ----- the data and the training -----

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
        raise ValueError(tr("{name}: expected rows of at least 2 columns (features, then the "
                            "label)", name=name))
    widths = {len(r) for r in rows}
    if len(widths) != 1:
        raise ValueError(tr("{name}: rows have different numbers of columns {widths}",
                            name=name, widths=sorted(widths)))
    try:
        x = np.array([[float(c) for c in r[:-1]] for r in rows])
    except ValueError as err:
        raise ValueError(tr("{name}: the feature columns must be numbers ({err})", name=name,
                            err=err)) from None
    bad = np.argwhere(~np.isfinite(x))
    if bad.size:
        r, c = bad[0]
        raise ValueError(tr("{name}: data row {row}, column {column} is {value}: every feature "
                            "must be a finite number ({count} value(s) are not)", name=name,
                            row=r + 1, column=c + 1, value=x[r, c], count=len(bad)))
    labels = [r[-1].strip() for r in rows]
    try:
        values = np.array([float(v) for v in labels])
    except ValueError:
        classes, y = np.unique(labels, return_inverse=True)
        return x, y.astype("int64"), [str(c) for c in classes]
    if not np.all(np.isfinite(values)):
        r = int(np.argwhere(~np.isfinite(values))[0, 0])
        raise ValueError(tr("{name}: data row {row} has the label {label!r}: a numeric label "
                            "must be a finite number", name=name, row=r + 1, label=labels[r]))
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
        print(tr("tinygrad-es train: error: {err}", err=err), file=sys.stderr)
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
    kind = (tr("regression") if classes is None else tr(
        "{n} classes ({names})", n=len(classes),
        names=", ".join(classes[:10]) + (", ..." if len(classes) > 10 else "")))
    print(tr("data: {data}, {rows} rows, {features} features, {kind}", data=args.data,
             rows=len(x), features=x.shape[1], kind=kind)
          + (tr(", features standardized") if args.standardize else ""))
    model.summary()
    print(tr("optimizer {optimizer}, loss {loss}", optimizer=optimizer, loss=loss))
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    history = model.fit(x, y, epochs=args.epochs, batch_size=args.batch_size,
                        validation_split=args.validation_split, verbose=args.verbose,
                        callbacks=[keras.callbacks.CSVLogger(str(out / "history.csv"))])
    print(tr("final: ") + ", ".join(f"{k} {v[-1]:.4f}" for k, v in history.history.items()))
    model.save(str(out / "model.npz"))
    written = [out / "model.npz", out / "history.csv"]
    Figure = figure_class(N_("the history plot"))
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

    written.append(render(model_to_dot(model), out / "model"))
    print(tr("written to {out}: {files}", out=out.resolve(),
             files=", ".join(p.name for p in written)))
    print(tr("load it back with: {code}",
             code=f"tinygrad_es.models.load_model({str(out / 'model.npz')!r})"))
    return 0
