"""The course's network, written with raw Tensors and named as the course names its weights.

One input x (petal length), three sigmoid hidden units (nodes 2, 3, 4), one sigmoid output (node 5):

    y_hat = s(w_52·s(w_2·x + b_2) + w_53·s(w_3·x + b_3) + w_54·s(w_4·x + b_4) + b_5)
    loss  = mean |y - y_hat|

on iris rows 0-98 (setosa = 0, versicolor = 1). The course trained it by finite differences: nudge
each of the 10 weights by h = 3e-6 and re-run the network, 11 forward passes per step. In Keras
the same network is ``Sequential([Dense(3, activation="sigmoid"), Dense(1, activation="sigmoid")])``
with ``loss="mae"`` and ``SGD(learning_rate=0.001)``; :func:`params_from_weights` and
:func:`weights_from_params` translate between the two namings.

The module also keeps the course's optimizers by the names the course used (``OPTIMIZERS``,
``optimizer(name, lr)``, for tinygrad_es or Keras), for the examples and the ``tinygrad-es
paths`` and ``compare`` commands; the steps and learning rates of the 2-D path pictures live
beside the surfaces (``viz.surfaces.PATHS``).
"""

from __future__ import annotations

from typing import Any, Sequence

import numpy as np

from tinygrad_es.datasets import load_iris
from tinygrad_es.tensor import Tensor

__all__ = ["PARAM_NAMES", "LEARNING_RATE", "EPOCHS", "H", "iris_data", "init_params",
           "params_from_weights", "weights_from_params", "forward", "loss", "build_model",
           "compare_gradients", "finite_difference_grads", "train", "OPTIMIZERS", "optimizer"]

PARAM_NAMES = ("w_2", "b_2", "w_3", "b_3", "w_4", "b_4", "w_52", "w_53", "w_54", "b_5")
LEARNING_RATE = 0.001  # the course's SGD(learning_rate=0.001)
EPOCHS = 50            # the course's fit(..., epochs=50, batch_size=len(x), shuffle=False)
H = 3e-6               # the course's finite-difference nudge


def iris_data(dtype: str = "float64") -> tuple[np.ndarray, np.ndarray]:
    """x = petal length of iris rows 0-98, shape (99, 1); y = their species (0/1), shape (99, 1).

    Example:
        >>> x, y = iris_data(); x.shape, y[:2, 0]
        ((99, 1), array([0., 0.]))
    """
    iris = load_iris()
    return (iris.data[0:99, 2:3].astype(dtype), iris.target[0:99, None].astype(dtype))


def init_params(seed: int = 0, dtype: str = "float64") -> dict[str, Tensor]:
    """The 10 weights, drawn uniformly from [-1, 1] with a fixed seed, as named Tensors.

    Example:
        >>> sorted(init_params())[:2]
        ['b_2', 'b_3']
    """
    values = np.random.default_rng(seed).uniform(-1, 1, size=len(PARAM_NAMES))
    return {n: Tensor(v, requires_grad=True, dtype=dtype, name=n)
            for n, v in zip(PARAM_NAMES, values)}


def params_from_weights(weights: Sequence[Any], dtype: str = "float64") -> dict[str, Tensor]:
    """The course's named weights from Keras's ``model.get_weights()`` of the 1-3-1 network.

    Keras keeps ``[kernel (1, 3), bias (3,), kernel (3, 1), bias (1,)]``: the first kernel holds
    w_2, w_3, w_4, the first bias b_2, b_3, b_4, the second kernel w_52, w_53, w_54, the last
    bias b_5.

    Example:
        >>> model = build_model(); p = params_from_weights(model.get_weights())
        >>> float(p["w_52"].data) == float(model.get_weights()[2][0, 0])
        True
    """
    shapes = [(1, 3), (3,), (3, 1), (1,)]
    if len(weights) != 4 or any(np.shape(w) != s for w, s in zip(weights, shapes)):
        raise ValueError(f"params_from_weights expects the 1-3-1 network's weights with shapes "
                         f"{shapes}, received {[np.shape(w) for w in weights]}")
    k1, b1, k2, b2 = (np.asarray(w, dtype=np.float64) for w in weights)
    values = {"w_2": k1[0, 0], "w_3": k1[0, 1], "w_4": k1[0, 2],
              "b_2": b1[0], "b_3": b1[1], "b_4": b1[2],
              "w_52": k2[0, 0], "w_53": k2[1, 0], "w_54": k2[2, 0], "b_5": b2[0]}
    return {n: Tensor(values[n], requires_grad=True, dtype=dtype, name=n) for n in PARAM_NAMES}


def weights_from_params(params: dict[str, Tensor], dtype: str = "float32") -> list[np.ndarray]:
    """The inverse of :func:`params_from_weights`: a list ``model.set_weights`` accepts.

    Example:
        >>> build_model().set_weights(weights_from_params(init_params()))
    """
    v = {n: float(params[n].data) for n in PARAM_NAMES}
    return [np.array([[v["w_2"], v["w_3"], v["w_4"]]], dtype=dtype),
            np.array([v["b_2"], v["b_3"], v["b_4"]], dtype=dtype),
            np.array([[v["w_52"]], [v["w_53"]], [v["w_54"]]], dtype=dtype),
            np.array([v["b_5"]], dtype=dtype)]


def forward(p: dict[str, Tensor], x: Tensor) -> Tensor:
    """y_hat for every row of x, built node by node as the course draws it.

    The intermediate tensors are named for pictures and traces: node k's weighted sum ``z_k`` and
    its output ``a_k`` (k = 2, 3, 4), then ``z_5`` and ``y_hat``.
    """
    def node(k: str, z: Tensor) -> Tensor:
        z.name = f"z_{k}"
        a = z.sigmoid()
        a.name = f"a_{k}" if k != "5" else "y_hat"
        return a

    a2 = node("2", p["w_2"] * x + p["b_2"])
    a3 = node("3", p["w_3"] * x + p["b_3"])
    a4 = node("4", p["w_4"] * x + p["b_4"])
    return node("5", p["w_52"] * a2 + p["w_53"] * a3 + p["w_54"] * a4 + p["b_5"])


def loss(p: dict[str, Tensor], x: Tensor, y: Tensor) -> Tensor:
    """Mean absolute error, the course's loss: mean |e| with e = y - y_hat."""
    error = y - forward(p, x)
    error.name = "e"
    size = error.abs()
    size.name = "|e|"
    return size.mean()


def build_model(weights: Sequence[Any] | None = None, dtype: str | None = None) -> Any:
    """The same network the Keras way: ``Sequential([Dense(3, sigmoid), Dense(1, sigmoid)])``.

    Args:
        weights: optional starting weights (``get_weights()`` order, or see
            :func:`weights_from_params`); default Keras's initializers.
        dtype: of the layers; default ``config.floatx()``.

    Example:
        >>> model = build_model(); model.count_params()
        10
    """
    from tinygrad_es.layers import Dense, Input
    from tinygrad_es.models import Sequential

    model = Sequential([Input((1,), dtype=dtype) if dtype else Input((1,)),
                        Dense(3, activation="sigmoid", dtype=dtype),
                        Dense(1, activation="sigmoid", dtype=dtype)])
    if weights is not None:
        model.set_weights(list(weights))
    return model


def compare_gradients(params: dict[str, Tensor] | None = None, seed: int = 0, h: float = H) -> Any:
    """The 10 gradients by one backward pass and by the course's finite differences, in float64.

    A thin wrapper over :func:`tinygrad_es.viz.compare_gradients` on the course's data and loss.

    Args:
        params: the named weights (float64 Tensors); default :func:`init_params` with ``seed``.
        seed: used when ``params`` is None.
        h: the nudge (the course's 3e-6).

    Returns:
        A :class:`tinygrad_es.viz.GradientComparison` (print it, or ``.to_text("es")``).

    Example:
        >>> cmp = compare_gradients(); cmp.max_forward_error < 1e-5
        True
    """
    from tinygrad_es.viz.finite_differences import compare_gradients as compare

    x, y = iris_data()
    xt, yt = Tensor(x, dtype="float64", name="x"), Tensor(y, dtype="float64", name="y")
    params = params if params is not None else init_params(seed)
    # One untimed pass on a copy first, so that the timings do not include first-call costs.
    loss({n: Tensor(p.data, requires_grad=True) for n, p in params.items()}, xt, yt).backward()
    return compare(lambda: loss(params, xt, yt), [params[n] for n in PARAM_NAMES], h=h)


def finite_difference_grads(params: dict[str, Tensor], x: Tensor, y: Tensor,
                            h: float = H) -> dict[str, float]:
    """The course's gradients: (L(w + h) - L(w)) / h for each weight, 1 + 10 forward passes.

    Example:
        >>> x, y = (Tensor(a, dtype="float64") for a in iris_data()); p = init_params()
        >>> grads = finite_difference_grads(p, x, y)       # {"w_2": ..., "b_5": ...}
        >>> len(grads)
        10
    """
    base = float(loss(params, x, y).data)
    grads = {}
    for name in PARAM_NAMES:
        w = params[name]
        original = w.data.copy()
        w.data[...] = original + h
        grads[name] = (float(loss(params, x, y).data) - base) / h
        w.data[...] = original
    return grads


def train(params: dict[str, Tensor], x: Tensor, y: Tensor, epochs: int = EPOCHS,
          learning_rate: float = LEARNING_RATE, method: str = "backprop",
          h: float = H) -> list[float]:
    """Full-batch gradient descent w ← w − lr·∂L/∂w, in place, as the course trained.

    Args:
        params: the named weights, updated in place.
        x, y: the data.
        epochs, learning_rate: the course's 50 and 0.001.
        method: ``"backprop"`` (one forward + one backward pass per step) or ``"finite"``
            (the course's forward differences, 11 forward passes per step).
        h: the nudge for ``"finite"``.

    Returns:
        The loss before each update (what Keras's History reports for full-batch SGD).

    Example:
        >>> p = init_params(); x, y = (Tensor(a, dtype="float64") for a in iris_data())
        >>> losses = train(p, x, y, epochs=5, method="finite")
    """
    if method not in ("backprop", "finite"):
        raise ValueError(f"method must be 'backprop' or 'finite', received {method!r}")
    losses = []
    for _ in range(epochs):
        if method == "finite":
            losses.append(float(loss(params, x, y).data))
            grads = finite_difference_grads(params, x, y, h)
        else:
            for w in params.values():
                w.grad = None
            value = loss(params, x, y)
            value.backward()
            losses.append(float(value.data))
            grads = {n: params[n].grad for n in PARAM_NAMES}
        for name in PARAM_NAMES:
            params[name].data -= learning_rate * np.asarray(grads[name], dtype=params[name].dtype)
    return losses


# ----- the course's optimizers -----

# By the names the course used: (Keras class name, its options besides the learning rate).
OPTIMIZERS: dict[str, tuple[str, dict[str, Any]]] = {
    "sgd": ("SGD", {}),
    "momentum": ("SGD", {"momentum": 0.9}),
    "nesterov": ("SGD", {"momentum": 0.9, "nesterov": True}),
    "adagrad": ("Adagrad", {}),
    "rmsprop": ("RMSprop", {}),
    "adadelta": ("Adadelta", {}),
    "adam": ("Adam", {}),
    "amsgrad": ("Adam", {"amsgrad": True}),
    "adamax": ("Adamax", {}),
    "nadam": ("Nadam", {}),
}

def optimizer(name: str, learning_rate: float | None = None, module: Any = None) -> Any:
    """A fresh optimizer by the course's name (``"momentum"`` is SGD with momentum 0.9, ...).

    Args:
        name: one of ``OPTIMIZERS``.
        learning_rate: default the rate the pictures of the course's surface use
            (``viz.surfaces.PATHS``).
        module: where the classes come from: ``tinygrad_es.optimizers`` (default) or
            ``keras.optimizers``, for the same optimizer in Keras.

    Example:
        >>> optimizer("nesterov", 0.1)
        SGD(learning_rate=0.1, momentum=0.9, nesterov=True)
    """
    if name not in OPTIMIZERS:
        raise ValueError(f"unknown optimizer {name!r}; the course's are {list(OPTIMIZERS)}")
    if module is None:
        from tinygrad_es import optimizers as module
    class_name, options = OPTIMIZERS[name]
    from tinygrad_es.viz.surfaces import PATHS

    rate = PATHS["course"][1][name] if learning_rate is None else learning_rate
    return getattr(module, class_name)(learning_rate=rate, **options)
