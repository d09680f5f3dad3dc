"""The course's network, written with raw Tensors and named as the course names its weights.

One input x (petal length), three sigmoid hidden units (nodes 2, 3, 4), one sigmoid output (node 5):

    y_hat = s(w_52·s(w_2·x + b_2) + w_53·s(w_3·x + b_3) + w_54·s(w_4·x + b_4) + b_5)
    loss  = mean |y - y_hat|

on iris rows 0-98 (setosa = 0, versicolor = 1), from the starting weights the course page prints
(:data:`START`; every command, lesson and picture starts there, or all from the same
``init_params(seed)``). The course trained it by finite differences: nudge
each of the 10 weights by h = 3e-6 and re-run the network, 11 forward passes per step. In Keras
the same network is ``Sequential([Dense(3, activation="sigmoid"), Dense(1, activation="sigmoid")])``
with ``loss="mae"`` and ``SGD(learning_rate=0.001)``; :func:`params_from_weights` and
:func:`weights_from_params` translate between the two namings. :func:`reproduce` runs the
course's experiment (50 epochs) by our ``fit``, by backprop and by finite differences, to set
beside the course's published results (:data:`PUBLISHED_KERAS`, :data:`PUBLISHED_MANUAL`).

The module also keeps the course's optimizers by the names the course used (``OPTIMIZERS``,
``optimizer(name, lr)``, for tinygrad_es or Keras), for the examples and the ``tinygrad-es
paths`` and ``compare`` commands; the steps and learning rates of the 2-D path pictures live
beside the surfaces (``viz.surfaces.PATHS``).
"""

from __future__ import annotations

from typing import Any, Sequence

import numpy as np

from tinygrad_es.datasets import load_iris
from tinygrad_es.i18n import tr
from tinygrad_es.tensor import Tensor

__all__ = ["PARAM_NAMES", "LEARNING_RATE", "EPOCHS", "H", "START", "PUBLISHED_KERAS",
           "PUBLISHED_MANUAL", "PUBLISHED_LOSS", "iris_data", "init_params",
           "params_from_weights", "weights_from_params", "forward", "loss", "build_model",
           "compare_gradients", "finite_difference_grads", "train", "reproduce", "OPTIMIZERS",
           "optimizer"]

PARAM_NAMES = ("w_2", "b_2", "w_3", "b_3", "w_4", "b_4", "w_52", "w_53", "w_54", "b_5")
LEARNING_RATE = 0.001  # the course's SGD(learning_rate=0.001)
EPOCHS = 50            # the course's fit(..., epochs=50, batch_size=len(x), shuffle=False)
H = 3e-6               # the course's finite-difference nudge

# ----- the course page's published numbers -----

# The starting weights the course page prints (Keras's glorot_uniform draw; biases zero).
START = {"w_2": 0.30959857, "b_2": 0.0, "w_3": 0.07310068, "b_3": 0.0, "w_4": 0.63308823,
         "b_4": 0.0, "w_52": 0.49408045, "w_53": -1.1185157, "w_54": 0.14808941, "b_5": 0.0}
# After 50 epochs of SGD(0.001), full batch, no shuffle: "tras entrenamiento usando Keras" ...
PUBLISHED_KERAS = {"w_2": 0.31066534, "b_2": -0.00022871, "w_3": 0.06847349, "b_3": 6.122e-05,
                   "w_4": 0.6330435, "b_4": -0.00013335, "w_52": 0.49511436,
                   "w_53": -1.1182635, "w_54": 0.14937088, "b_5": -9.583e-05}
# ... and "manualmente", by the course's forward differences (it prints the five weights only).
PUBLISHED_MANUAL = {"w_2": 0.31066538, "w_3": 0.06847351, "w_4": 0.63304377,
                    "w_52": 0.49511434, "w_53": -1.11826369}
PUBLISHED_LOSS = (0.4918, 0.4913)  # Keras's loss at the first and at the last epoch


def iris_data(dtype: str = "float64") -> tuple[np.ndarray, np.ndarray]:
    """x = petal length of iris rows 0-98, shape (99, 1); y = their species (0/1), shape (99, 1).

    Example:
        >>> x, y = iris_data(); x.shape, y[:2, 0]
        ((99, 1), array([0., 0.]))
    """
    iris = load_iris()
    return (iris.data[0:99, 2:3].astype(dtype), iris.target[0:99, None].astype(dtype))


def init_params(seed: int | None = None, dtype: str = "float64") -> dict[str, Tensor]:
    """The 10 weights as named Tensors: the course's starting weights (:data:`START`), or others.

    Args:
        seed: None for the course's weights; an integer draws other ones as Keras's default
            initializers would (glorot_uniform: uniform in ±sqrt(6 / (fan_in + fan_out)) =
            ±sqrt(6/4) for both layers; biases zero). The same seed gives the same weights in
            every command, lesson and picture.
        dtype: of the Tensors.

    Example:
        >>> p = init_params(); float(p["w_53"].data), float(p["b_5"].data)
        (-1.1185157, 0.0)
        >>> round(float(init_params(seed=1)["w_2"].data), 6)
        0.028957
    """
    if seed is None:
        values = dict(START)
    else:
        limit = np.sqrt(6 / (1 + 3))  # fan_in + fan_out = 4 in both layers of the 1-3-1 network
        draws = iter(np.random.default_rng(seed).uniform(-limit, limit, size=6))
        values = {n: (0.0 if n.startswith("b_") else float(next(draws))) for n in PARAM_NAMES}
    return {n: Tensor(values[n], requires_grad=True, dtype=dtype, name=n) for n in PARAM_NAMES}


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
        raise ValueError(tr("params_from_weights expects the 1-3-1 network's weights with "
                            "shapes {shapes}, received {received}", shapes=shapes,
                            received=[np.shape(w) for w in weights]))
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


def build_model(weights: Sequence[Any] | None = None, dtype: str | None = None,
                seed: int | None = None) -> Any:
    """The same network the Keras way: ``Sequential([Dense(3, sigmoid), Dense(1, sigmoid)])``.

    Args:
        weights: starting weights in ``get_weights()`` order (see :func:`weights_from_params`);
            default :func:`init_params` ``(seed)``: the course's weights.
        dtype: of the layers; default ``config.floatx()``.
        seed: used when ``weights`` is None (see :func:`init_params`).

    Example:
        >>> model = build_model(); model.count_params(), float(model.get_weights()[2][1, 0])
        (10, -1.1185157299041748)
    """
    from tinygrad_es.layers import Dense, Input
    from tinygrad_es.models import Sequential

    model = Sequential([Input((1,), dtype=dtype) if dtype else Input((1,)),
                        Dense(3, activation="sigmoid", dtype=dtype),
                        Dense(1, activation="sigmoid", dtype=dtype)])
    if weights is None:
        weights = weights_from_params(init_params(seed), dtype=model.layers[0].dtype)
    model.set_weights(list(weights))
    return model


def compare_gradients(params: dict[str, Tensor] | None = None, seed: int | None = None,
                      h: float = H, dtype: str | None = "float64") -> Any:
    """The 10 gradients by one backward pass and by the course's finite differences.

    A thin wrapper over :func:`tinygrad_es.viz.compare_gradients` on the course's data and loss,
    the data in the parameters' dtype; the finite differences are evaluated in ``dtype``.

    Args:
        params: the named weights; default :func:`init_params` with ``seed`` (float64).
        seed: used when ``params`` is None (None: the course's starting weights).
        h: the nudge (the course's 3e-6).
        dtype: where the finite differences are evaluated: float64 by default;
            ``"float32"`` shows the float32 trap.

    Returns:
        A :class:`tinygrad_es.viz.GradientComparison` (print it, or ``.to_text("es")``).

    Example:
        >>> cmp = compare_gradients(); cmp.max_forward_error < 1e-6
        True
    """
    from tinygrad_es.viz.finite_differences import compare_gradients as compare

    params = params if params is not None else init_params(seed)
    data_dtype = str(params["w_2"].dtype)
    x, y = iris_data(data_dtype)
    xt, yt = Tensor(x, dtype=data_dtype, name="x"), Tensor(y, dtype=data_dtype, name="y")
    # One untimed pass on a copy first, so that the timings do not include first-call costs.
    loss({n: Tensor(p.data, requires_grad=True) for n, p in params.items()}, xt, yt).backward()
    return compare(lambda: loss(params, xt, yt), [params[n] for n in PARAM_NAMES], h=h,
                   dtype=dtype)


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
        raise ValueError(tr("method must be 'backprop' or 'finite', received {method!r}",
                            method=method))
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


def reproduce(seed: int | None = None, epochs: int = EPOCHS,
              learning_rate: float = LEARNING_RATE, h: float = H,
              verbose: int = 0) -> dict[str, Any]:
    """The course's experiment three ways, from the same starting weights.

    ``"fit"``: our Keras API (``build_model``, ``SGD``, ``fit`` full batch, no shuffle), float32
    as Keras; ``"backprop"`` and ``"finite"``: :func:`train` with raw Tensors in float64, by
    backprop and by the course's forward differences. With the defaults this is the course's
    published table (:data:`PUBLISHED_KERAS`, :data:`PUBLISHED_MANUAL`).

    ``verbose`` is ``fit``'s (0 silent, 1 the progress bar, 2 a line per epoch).

    Returns:
        ``{"start": {name: value}, "weights": {method: {name: value}}, "losses": {method: list},
        "model": the trained Sequential, "history": its History}``.

    Example:
        >>> run = reproduce(epochs=2); sorted(run["weights"])
        ['backprop', 'finite', 'fit']
    """
    from tinygrad_es.optimizers import SGD

    x, y = iris_data("float32")
    model = build_model(seed=seed, dtype="float32")
    model.compile(optimizer=SGD(learning_rate=learning_rate), loss="mae")
    history = model.fit(x, y, epochs=epochs, batch_size=len(x), shuffle=False, verbose=verbose)
    losses = {"fit": [float(v) for v in history.history["loss"]]}
    weights = {"fit": _floats(params_from_weights(model.get_weights()))}
    xt, yt = (Tensor(a, dtype="float64") for a in iris_data("float64"))
    for method in ("backprop", "finite"):
        params = init_params(seed)
        losses[method] = train(params, xt, yt, epochs, learning_rate, method, h)
        weights[method] = _floats(params)
    return {"start": _floats(init_params(seed)), "weights": weights, "losses": losses,
            "model": model, "history": history}


def _floats(params: dict[str, Tensor]) -> dict[str, float]:
    return {n: float(params[n].data) for n in PARAM_NAMES}


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
        raise ValueError(tr("unknown optimizer {name!r}; the course's are {names}", name=name,
                            names=list(OPTIMIZERS)))
    if module is None:
        from tinygrad_es import optimizers as module
    class_name, options = OPTIMIZERS[name]
    from tinygrad_es.viz.surfaces import PATHS

    rate = PATHS["course"][1][name] if learning_rate is None else learning_rate
    return getattr(module, class_name)(learning_rate=rate, **options)
