"""``tinygrad-es compare``: the same training in tinygrad_es and in Keras, epoch by epoch."""

from __future__ import annotations

import argparse
import contextlib
import os
import sys
from typing import Any, Iterator

import numpy as np

from tinygrad_es import course
from tinygrad_es.cli._common import EXIT_CODES, positive
from tinygrad_es.i18n import tr

_COMPARE_MODELS = {
    # name: (data, hidden layers, output, loss, optimizer, learning rate, batch size)
    "course": ("course", [(3, "sigmoid")], (1, "sigmoid"), "mae", "sgd", 0.001, 99),
    "iris": ("iris", [(8, "selu")], (3, "softmax"), "sparse_categorical_crossentropy", "adam",
             0.001, 16),
    "digits": ("digits", [(32, "selu"), (16, "selu")], (10, "softmax"),
               "sparse_categorical_crossentropy", "adam", 0.001, 32),
}


def add_parser(sub: Any) -> None:
    """The ``compare`` subcommand and its arguments."""
    compare = sub.add_parser("compare", help=tr("the same training in tinygrad_es and in Keras "
                                                "(needs TensorFlow)"),
                             description=tr("Train the same model from the same weights in "
                                            "tinygrad_es and in Keras (TensorFlow), epoch by "
                                            "epoch, and compare the losses and the weights."),
                             epilog=EXIT_CODES)
    compare.add_argument("--model", choices=sorted(_COMPARE_MODELS), default="course",
                         help=tr("course: 1-3-1 sigmoid, MAE, SGD 0.001, batch 99 (default); "
                                 "iris: 4-8-3 selu, Adam, batch 16; digits: 64-32-16-10 selu on "
                                 "256 images, Adam, batch 32"))
    compare.add_argument("--epochs", type=positive(int), default=5, help=tr("epochs (5)"))
    compare.add_argument("--optimizer", choices=list(course.OPTIMIZERS),
                         help=tr("override the model's optimizer"))
    compare.add_argument("--lr", type=positive(float), help=tr("override the learning rate"))
    compare.add_argument("--dtype", choices=("float32", "float64"), default="float32",
                         help=tr("floatx of both libraries (float32)"))
    compare.add_argument("--tol", type=positive(float),
                         help=tr("largest allowed difference (1e-6 in float32, 1e-12 in "
                                 "float64)"))
    compare.add_argument("--seed", type=int, default=0,
                         help=tr("seed of Keras's initial weights"))
    compare.set_defaults(func=cmd_compare)


def _compare_data(name: str) -> tuple[np.ndarray, np.ndarray]:
    from tinygrad_es.datasets import load_digits, load_iris

    if name == "course":
        x, y = course.iris_data()
        return x, y
    if name == "iris":
        return load_iris().data, load_iris().target
    digits = load_digits()
    return digits.data[:256] / 16.0, digits.target[:256]


@contextlib.contextmanager
def _quiet_stderr() -> Iterator[None]:
    """File descriptor 2 to /dev/null: the C++ logging TensorFlow does while it loads writes there
    directly (absl's "I0000 ..." lines, the oneDNN notice), below Python's sys.stderr."""
    sys.stderr.flush()
    saved = os.dup(2)
    try:
        with open(os.devnull, "w") as null:
            os.dup2(null.fileno(), 2)
            yield
    finally:
        sys.stderr.flush()
        os.dup2(saved, 2)
        os.close(saved)


def cmd_compare(args: argparse.Namespace) -> int:
    """Train the same model from the same weights in tinygrad_es and in Keras (TensorFlow),
    epoch by epoch, and compare the losses and the weights."""
    import tinygrad_es as ours

    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    try:
        with _quiet_stderr():   # TensorFlow's C++ log lines (absl, oneDNN) at import
            import keras
            import tensorflow  # noqa: F401
    except ImportError as err:
        print(tr("tinygrad-es compare needs TensorFlow and Keras, which are not installed "
                 "({err}).\nInstall them with: pip install tensorflow-cpu   (or pip install -e "
                 "'.[test]')", err=err), file=sys.stderr)
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
    sizes = f"{x.shape[1]}-" + "-".join(str(u) for u, _ in hidden) + f"-{units}"
    print(tr("model {model}: {sizes}, loss {loss}, {opt} lr={lr:g}, batch {batch}, {epochs} "
             "epochs, {dtype}, shuffle=False; both start from Keras's initial weights",
             model=args.model, sizes=sizes, loss=loss, opt=opt, lr=lr, batch=batch,
             epochs=args.epochs, dtype=args.dtype))
    weights: dict[str, list] = {"ours": [], "keras": []}
    histories = {}
    for key, model, lib in (("ours", mine, ours), ("keras", theirs, keras)):
        model.compile(optimizer=course.optimizer(opt, lr, module=lib.optimizers), loss=loss)
        record = lib.callbacks.LambdaCallback(
            on_epoch_end=lambda epoch, logs, m=model, k=key: weights[k].append(m.get_weights()))
        histories[key] = model.fit(x, y, epochs=args.epochs, batch_size=batch, shuffle=False,
                                   verbose=0, callbacks=[record]).history["loss"]
    print(f"{tr('epoch'):>5} {tr('loss tinygrad_es'):>18} {tr('loss Keras'):>18} "
          f"{tr('|loss diff|'):>12} {tr('max |weight diff|'):>18}")
    worst = 0.0
    for epoch in range(args.epochs):
        a, b = histories["ours"][epoch], histories["keras"][epoch]
        w_diff = max(float(np.max(np.abs(np.asarray(p, np.float64) - np.asarray(q, np.float64))))
                     for p, q in zip(weights["ours"][epoch], weights["keras"][epoch]))
        worst = max(worst, abs(a - b), w_diff)
        print(f"{epoch + 1:>5} {a:>18.10g} {b:>18.10g} {abs(a - b):>12.2e} {w_diff:>18.2e}")
    print(tr("largest difference {worst:.2e}: tinygrad_es and Keras agree (tolerance {tol:g})",
             worst=worst, tol=tol) if worst <= tol else
          tr("largest difference {worst:.2e}: tinygrad_es and Keras DIFFER (tolerance {tol:g})",
             worst=worst, tol=tol))
    return 0 if worst <= tol else 1
