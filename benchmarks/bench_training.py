"""Training speed, side by side: tinygrad_es, Keras, PyTorch eager and a hand-written numpy loop.

Each contender trains the same network on the same data with the same update rule; the script prints
the time per epoch and the ratios the project's speed targets are stated in:

* small nets (the course's 1-3-1 network, iris 4-8-3): tinygrad_es about 2x faster than PyTorch eager;
* a big MLP: tinygrad_es at the numpy/BLAS limit (the hand-written numpy loop).

Run:  python benchmarks/bench_training.py [--quick]
Needs the bench extra (``pip install -e ".[bench]"``); a missing framework is reported and skipped.
"""

from __future__ import annotations

import argparse
import os
import time
from typing import Callable

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import numpy as np

import tinygrad_es as tg
from tinygrad_es.datasets import load_iris


def best_of(fn: Callable[[], float], repeats: int) -> float:
    """The fastest of ``repeats`` runs: the least disturbed by the rest of the machine."""
    return min(fn() for _ in range(repeats))


# ----- the workloads -----

def course_data() -> tuple[np.ndarray, np.ndarray]:
    iris = load_iris()
    return (iris.data[:99, 2:3].astype(np.float32), iris.target[:99, None].astype(np.float32))


def iris_data() -> tuple[np.ndarray, np.ndarray]:
    iris = load_iris()
    return iris.data.astype(np.float32), np.eye(3, dtype=np.float32)[iris.target]


def big_data(n: int = 4096, features: int = 784, classes: int = 10):
    rng = np.random.default_rng(0)
    x = rng.standard_normal((n, features)).astype(np.float32)
    return x, np.eye(classes, dtype=np.float32)[rng.integers(0, classes, n)]


WORKLOADS = {
    # name: (data, layer sizes, hidden activation, output activation, loss, lr, batch size)
    "course 1-3-1 (full batch, SGD, MAE)": (course_data, [1, 3, 1], "sigmoid", "sigmoid", "mae",
                                            0.001, 99),
    "iris 4-8-3 (batch 16, SGD, CCE)": (iris_data, [4, 8, 3], "selu", "softmax",
                                        "categorical_crossentropy", 0.01, 16),
    "MLP 784-1024-1024-10 (batch 256, SGD, CCE)": (big_data, [784, 1024, 1024, 10], "relu",
                                                   "softmax", "categorical_crossentropy", 0.01,
                                                   256),
}


def init_weights(sizes: list[int]) -> list[np.ndarray]:
    rng = np.random.default_rng(1)
    out = []
    for fan_in, fan_out in zip(sizes[:-1], sizes[1:]):
        limit = np.sqrt(6 / (fan_in + fan_out))
        out += [rng.uniform(-limit, limit, (fan_in, fan_out)).astype(np.float32),
                np.zeros(fan_out, np.float32)]
    return out


# ----- contenders: each returns seconds per epoch -----

def run_tinygrad_es(x, y, sizes, hidden, out_act, loss, lr, batch, epochs) -> float:
    model = tg.Sequential([tg.Input((sizes[0],))] + [
        tg.layers.Dense(n, activation=hidden if i < len(sizes) - 2 else out_act)
        for i, n in enumerate(sizes[1:])])
    model.set_weights(init_weights(sizes))
    model.compile(optimizer=tg.optimizers.SGD(learning_rate=lr), loss=loss)
    start = time.perf_counter()
    model.fit(x, y, batch_size=batch, epochs=epochs, shuffle=False, verbose=0)
    return (time.perf_counter() - start) / epochs


def run_keras(x, y, sizes, hidden, out_act, loss, lr, batch, epochs) -> float:
    import keras

    model = keras.Sequential([keras.Input((sizes[0],))] + [
        keras.layers.Dense(n, activation=hidden if i < len(sizes) - 2 else out_act)
        for i, n in enumerate(sizes[1:])])
    model.set_weights(init_weights(sizes))
    model.compile(optimizer=keras.optimizers.SGD(learning_rate=lr), loss=loss)
    model.fit(x, y, batch_size=batch, epochs=1, shuffle=False, verbose=0)  # trace once
    start = time.perf_counter()
    model.fit(x, y, batch_size=batch, epochs=epochs, shuffle=False, verbose=0)
    return (time.perf_counter() - start) / epochs


def run_torch(x, y, sizes, hidden, out_act, loss, lr, batch, epochs) -> float:
    import torch

    acts = {"sigmoid": torch.nn.Sigmoid, "selu": torch.nn.SELU, "relu": torch.nn.ReLU}
    layers: list = []
    weights = init_weights(sizes)
    for i in range(len(sizes) - 1):
        lin = torch.nn.Linear(sizes[i], sizes[i + 1])
        with torch.no_grad():
            lin.weight.copy_(torch.from_numpy(weights[2 * i].T.copy()))
            lin.bias.copy_(torch.from_numpy(weights[2 * i + 1]))
        layers.append(lin)
        if i < len(sizes) - 2:
            layers.append(acts[hidden]())
    if out_act == "sigmoid":
        layers.append(torch.nn.Sigmoid())
    model = torch.nn.Sequential(*layers)
    opt = torch.optim.SGD(model.parameters(), lr=lr)
    xt = torch.from_numpy(x)
    # MAE on the sigmoid output; otherwise softmax + CCE from the logits, as Keras computes it.
    yt = torch.from_numpy(y) if loss == "mae" else torch.from_numpy(y).argmax(1)
    loss_fn = torch.nn.L1Loss() if loss == "mae" else torch.nn.CrossEntropyLoss()
    start = time.perf_counter()
    for _ in range(epochs):
        for b in range(0, len(x), batch):
            opt.zero_grad()
            loss_fn(model(xt[b:b + batch]), yt[b:b + batch]).backward()
            opt.step()
    return (time.perf_counter() - start) / epochs


def run_numpy(x, y, sizes, hidden, out_act, loss, lr, batch, epochs) -> float:
    """A hand-written forward/backward loop: the floor for a numpy framework."""
    ws = init_weights(sizes)
    act = {"sigmoid": (lambda z: 1 / (1 + np.exp(-z)), lambda a, z: a * (1 - a)),
           "relu": (lambda z: np.maximum(z, 0), lambda a, z: (z > 0)),
           "selu": (lambda z: 1.0507 * np.where(z > 0, z, 1.6733 * np.expm1(np.minimum(z, 0))),
                    lambda a, z: np.where(z > 0, 1.0507, a + 1.0507 * 1.6733))}
    f, df = act[hidden]
    n_layers = len(sizes) - 1
    start = time.perf_counter()
    for _ in range(epochs):
        for b in range(0, len(x), batch):
            xb, yb = x[b:b + batch], y[b:b + batch]
            acts, zs = [xb], []
            for i in range(n_layers):
                z = acts[-1] @ ws[2 * i] + ws[2 * i + 1]
                zs.append(z)
                acts.append(f(z) if i < n_layers - 1 else z)
            z = zs[-1]
            if out_act == "sigmoid":
                p = 1 / (1 + np.exp(-z))
                grad = np.sign(p - yb) / yb.size * p * (1 - p)
            else:
                e = np.exp(z - z.max(1, keepdims=True))
                grad = (e / e.sum(1, keepdims=True) - yb) / len(yb)
            for i in reversed(range(n_layers)):
                gw, gb = acts[i].T @ grad, grad.sum(0)
                if i:
                    grad = (grad @ ws[2 * i].T) * df(acts[i], zs[i - 1])
                ws[2 * i] -= lr * gw
                ws[2 * i + 1] -= lr * gb
    return (time.perf_counter() - start) / epochs


CONTENDERS = {"tinygrad_es": run_tinygrad_es, "pytorch eager": run_torch,
              "numpy loop": run_numpy, "keras": run_keras}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer epochs and repeats")
    args = parser.parse_args()
    repeats = 2 if args.quick else 5
    print(f"{'workload':<46} {'contender':<14} {'ms/epoch':>10}")
    for name, (data, sizes, hidden, out_act, loss, lr, batch) in WORKLOADS.items():
        x, y = data()
        big = sizes[1] > 100
        epochs = (2 if big else 20) if args.quick else (5 if big else 200)
        times: dict[str, float] = {}
        for who, run in CONTENDERS.items():
            ep = max(1, epochs // 10) if who == "keras" and not big else epochs
            try:
                times[who] = best_of(lambda: run(x, y, sizes, hidden, out_act, loss, lr, batch, ep),
                                     repeats if who != "keras" else 1)
            except ImportError as err:
                print(f"{name:<46} {who:<14} {'skipped':>10} ({err})")
                continue
            print(f"{name:<46} {who:<14} {times[who] * 1e3:>10.3f}")
        ours = times["tinygrad_es"]
        ratios = [f"{who}/tinygrad_es = {t / ours:.2f}x" for who, t in times.items()
                  if who != "tinygrad_es"]
        print(f"{'':<46} " + ", ".join(ratios))
    print("(ratio > 1: tinygrad_es is that many times faster; < 1: slower)")


if __name__ == "__main__":
    main()
