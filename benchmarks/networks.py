"""The four dense networks of the training benchmark (issue 13's table), with their data.

Every contender gets the same float32 data, the same initial weights (:meth:`Network.init_weights`,
Glorot-uniform from a fixed seed, Keras's layout: kernel ``(fan_in, fan_out)`` then bias), the same
batches in the same order (no shuffle) and the same update rule in Keras's form (see
``contenders.NumpyLoop``). :meth:`Network.loss` is the reference loss, in float64 numpy, that the
agreement check evaluates on every contender's weights.

The tolerance of that check (``rtol``) is set per network: well above the spread that float32
rounding alone produces between implementations of the same rule (measured with this benchmark:
1e-9 on the course net and the MLP, 3e-7 on iris, 1e-4 on digits), and below what a 1 % change
of the learning rate produces (2e-4 on iris, 8e-3 on digits, 5e-5 on the MLP). Adam on the
digits network is the loose one: where a gradient is a sum that nearly cancels, float32 keeps few
of its digits and Adam divides by its size, so BLAS libraries that sum in other orders end an
epoch ~1e-4 apart in the loss (PyTorch's against numpy's; in float64 the two agree to 3e-9 in the
weights, so the rule is the same).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import numpy as np

SELU_SCALE = 1.0507009873554804934193349852946   # Keras's / TF's constants, to full precision
SELU_ALPHA = 1.6732632423543772848170429916717


@dataclass(frozen=True)
class Network:
    key: str                       # the name --only takes
    title: str                     # the table's row label
    data: Callable[[bool], tuple[np.ndarray, np.ndarray]]   # data(quick) -> (x, y one-hot/0-1)
    sizes: tuple[int, ...]
    hidden: str                    # hidden activation: sigmoid, selu, relu
    output: str                    # output activation: sigmoid (with MAE) or softmax (with CCE)
    optimizer: str                 # sgd, adam, momentum (SGD with momentum 0.9)
    learning_rate: float
    batch: int | None              # None: full batch
    check_epochs: int = 1          # epochs run before comparing the contenders' losses
    rtol: float = 1e-5             # loss difference to the numpy loop that flags a contender

    @property
    def loss_name(self) -> str:
        return "mae" if self.output == "sigmoid" else "categorical_crossentropy"

    def batch_size(self, n: int) -> int:
        return n if self.batch is None else self.batch

    def init_weights(self) -> list[np.ndarray]:
        rng = np.random.default_rng(1)
        out = []
        for fan_in, fan_out in zip(self.sizes[:-1], self.sizes[1:]):
            limit = np.sqrt(6 / (fan_in + fan_out))
            out += [rng.uniform(-limit, limit, (fan_in, fan_out)).astype(np.float32),
                    np.zeros(fan_out, np.float32)]
        return out

    def loss(self, weights: list[np.ndarray], x: np.ndarray, y: np.ndarray) -> float:
        """The training loss of ``weights`` on all of ``x``, in float64 (the agreement check)."""
        a = x.astype(np.float64)
        n_layers = len(self.sizes) - 1
        for i in range(n_layers):
            z = a @ weights[2 * i].astype(np.float64) + weights[2 * i + 1]
            a = activate(self.hidden, z) if i < n_layers - 1 else z
        if self.output == "sigmoid":
            return float(np.mean(np.abs(1 / (1 + np.exp(-a)) - y)))
        logp = a - a.max(1, keepdims=True)
        logp -= np.log(np.exp(logp).sum(1, keepdims=True))
        return float(-np.mean(np.sum(y * logp, axis=1)))


def activate(name: str, z: np.ndarray) -> np.ndarray:
    if name == "sigmoid":
        return 1 / (1 + np.exp(-z))
    if name == "relu":
        return np.maximum(z, 0)
    return SELU_SCALE * np.where(z > 0, z, SELU_ALPHA * np.expm1(np.minimum(z, 0)))


# ----- the data -----

def course_data(quick: bool = False) -> tuple[np.ndarray, np.ndarray]:
    """The course's 1-3-1 problem: iris petal length -> setosa or not, 99 rows (full batch)."""
    from tinygrad_es.datasets import load_iris

    iris = load_iris()
    return (iris.data[:99, 2:3].astype(np.float32), iris.target[:99, None].astype(np.float32))


def iris_data(quick: bool = False) -> tuple[np.ndarray, np.ndarray]:
    from tinygrad_es.datasets import load_iris

    iris = load_iris()
    return iris.data.astype(np.float32), np.eye(3, dtype=np.float32)[iris.target]


def digits_data(quick: bool = False) -> tuple[np.ndarray, np.ndarray]:
    """1,797 8×8 digits (tinygrad_es.datasets, sklearn's), gray levels scaled to [0, 1]."""
    from tinygrad_es.datasets import load_digits

    digits = load_digits()
    n = 512 if quick else len(digits.target)
    return ((digits.data[:n] / 16).astype(np.float32),
            np.eye(10, dtype=np.float32)[digits.target[:n]])


def mlp_data(quick: bool = False) -> tuple[np.ndarray, np.ndarray]:
    """Random MNIST-sized rows: 4,096 (1,024 with --quick) × 784 features, 10 classes."""
    rng = np.random.default_rng(0)
    n = 1024 if quick else 4096
    x = rng.standard_normal((n, 784)).astype(np.float32)
    return x, np.eye(10, dtype=np.float32)[rng.integers(0, 10, n)]


NETWORKS = {
    "course": Network("course", "course 1-3-1, full batch, SGD", course_data, (1, 3, 1), "sigmoid",
                      "sigmoid", "sgd", 0.1, None, check_epochs=20, rtol=1e-6),
    "iris": Network("iris", "iris 4-8-3 selu/softmax, batch 16, Adam", iris_data, (4, 8, 3), "selu",
                    "softmax", "adam", 0.001, 16, rtol=1e-5),
    "digits": Network("digits", "digits 64-128-64-32-16-10 selu, batch 32, Adam", digits_data,
                      (64, 128, 64, 32, 16, 10), "selu", "softmax", "adam", 0.001, 32,
                      rtol=1e-3),
    "mlp": Network("mlp", "784-1024-1024-10 relu, batch 256, SGD momentum", mlp_data,
                   (784, 1024, 1024, 10), "relu", "softmax", "momentum", 0.01, 256,
                   rtol=1e-6),
}
