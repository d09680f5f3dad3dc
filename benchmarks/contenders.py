"""The numpy-based contenders and Keras: the hand-written numpy loop, tinygrad_es eager and
captured, and Keras ``fit``. Each is a class ``(network, x, y) -> trainer`` with ``train(epochs)``
and ``weights()``; a missing framework raises ImportError (reported "skipped"), a missing feature
raises :class:`~benchmarks.harness.Unavailable` (reported "not available").

The update rule is Keras's for everyone (written out in :class:`NumpyLoop`):

* SGD:           ``w <- w - lr g``
* SGD momentum:  ``m <- 0.9 m - lr g;  w <- w + m``
* Adam:          ``m <- m + (g - m)(1 - b1);  v <- v + (g² - v)(1 - b2);
  w <- w - lr sqrt(1 - b2^t) / (1 - b1^t) · m / (sqrt(v) + 1e-7)``
"""

from __future__ import annotations

import numpy as np

from benchmarks.harness import Unavailable, threads
from benchmarks.networks import SELU_ALPHA, SELU_SCALE, Network

BETA_1, BETA_2, EPSILON, MOMENTUM = 0.9, 0.999, 1e-7, 0.9


class NumpyLoop:
    """Forward, backward and update written by hand: the practical limit of a numpy framework.

    Updates run in place on preallocated buffers (``out=``), one numpy call per arithmetic step.
    """

    def __init__(self, net: Network, x: np.ndarray, y: np.ndarray):
        self.net, self.x, self.y = net, x, y
        self.ws = [w.copy() for w in net.init_weights()]
        self.m = [np.zeros_like(w) for w in self.ws]                   # momentum / Adam's m
        self.v = [np.zeros_like(w) for w in self.ws] if net.optimizer == "adam" else []
        self.tmp = [np.empty_like(w) for w in self.ws]
        self.t = 0

    def weights(self) -> list[np.ndarray]:
        return [w.copy() for w in self.ws]

    def train(self, epochs: int) -> None:
        x, y, batch = self.x, self.y, self.net.batch_size(len(self.x))
        for _ in range(epochs):
            for b in range(0, len(x), batch):
                self.update(self.gradients(x[b:b + batch], y[b:b + batch]))

    def gradients(self, xb: np.ndarray, yb: np.ndarray) -> list[np.ndarray]:
        ws, hidden, n_layers = self.ws, self.net.hidden, len(self.net.sizes) - 1
        acts = [xb]
        for i in range(n_layers):
            z = acts[-1] @ ws[2 * i]
            z += ws[2 * i + 1]
            if i < n_layers - 1:
                if hidden == "sigmoid":
                    z = 1 / (1 + np.exp(-z))
                elif hidden == "relu":
                    np.maximum(z, 0, out=z)
                else:
                    z = SELU_SCALE * np.where(z > 0, z, SELU_ALPHA * np.expm1(np.minimum(z, 0)))
            acts.append(z)
        z = acts.pop()
        if self.net.output == "sigmoid":                      # sigmoid + mean absolute error
            p = 1 / (1 + np.exp(-z))
            delta = np.sign(p - yb) * (p * (1 - p) / yb.size)
        else:                                                 # softmax + crossentropy
            e = np.exp(z - z.max(1, keepdims=True))
            delta = e / e.sum(1, keepdims=True)
            delta -= yb
            delta /= len(yb)
        grads = [None] * len(ws)
        for i in reversed(range(n_layers)):
            a = acts[i]
            grads[2 * i], grads[2 * i + 1] = a.T @ delta, delta.sum(0)
            if i:
                delta = delta @ ws[2 * i].T
                if hidden == "sigmoid":
                    delta *= a * (1 - a)
                elif hidden == "relu":
                    delta *= a > 0
                else:                                         # selu' = scale, or selu + scale*alpha
                    delta *= np.where(a > 0, SELU_SCALE, a + SELU_SCALE * SELU_ALPHA)
        return grads

    def update(self, grads: list[np.ndarray]) -> None:
        lr, opt = self.net.learning_rate, self.net.optimizer
        if opt == "sgd":
            for w, g, tmp in zip(self.ws, grads, self.tmp):
                w -= np.multiply(g, lr, out=tmp)
        elif opt == "momentum":
            for w, g, m, tmp in zip(self.ws, grads, self.m, self.tmp):
                m *= MOMENTUM
                m -= np.multiply(g, lr, out=tmp)
                w += m
        else:
            self.t += 1
            alpha = np.float32(lr * np.sqrt(1 - BETA_2 ** self.t) / (1 - BETA_1 ** self.t))
            for w, g, m, v, tmp in zip(self.ws, grads, self.m, self.v, self.tmp):
                np.subtract(g, m, out=tmp)
                tmp *= 1 - BETA_1
                m += tmp                                      # m += (g - m)(1 - b1)
                np.multiply(g, g, out=tmp)
                tmp -= v
                tmp *= 1 - BETA_2
                v += tmp                                      # v += (g² - v)(1 - b2)
                np.sqrt(v, out=tmp)
                tmp += EPSILON
                np.divide(m, tmp, out=tmp)
                tmp *= alpha
                w -= tmp                                      # w -= alpha m / (sqrt(v) + eps)


def _keras_like_model(api, net: Network):
    """A Sequential of Dense layers through ``api`` (tinygrad_es or keras), compiled below."""
    layers = [api.layers.Dense(n, activation=net.hidden if i < len(net.sizes) - 2 else net.output)
              for i, n in enumerate(net.sizes[1:])]
    model = api.Sequential([api.Input((net.sizes[0],))] + layers)
    model.set_weights(net.init_weights())
    return model


def _keras_like_optimizer(api, net: Network):
    opt = api.optimizers
    if net.optimizer == "adam":
        return opt.Adam(learning_rate=net.learning_rate, beta_1=BETA_1, beta_2=BETA_2,
                        epsilon=EPSILON)
    momentum = MOMENTUM if net.optimizer == "momentum" else 0.0
    return opt.SGD(learning_rate=net.learning_rate, momentum=momentum)


class _FitTrainer:
    """A Keras-API model trained by ``fit(..., shuffle=False, verbose=0)``."""

    def __init__(self, model, net: Network, x: np.ndarray, y: np.ndarray):
        self.model, self.x, self.y, self.batch = model, x, y, net.batch_size(len(x))

    def train(self, epochs: int) -> None:
        self.model.fit(self.x, self.y, batch_size=self.batch, epochs=epochs, shuffle=False,
                       verbose=0)

    def weights(self) -> list[np.ndarray]:
        return [np.asarray(w) for w in self.model.get_weights()]


def captured_available() -> bool:
    """Whether this tinygrad_es has a captured training step (``tinygrad_es.jit``), i.e. whether
    ``compile(jit_compile=True)`` changes anything."""
    import tinygrad_es

    return hasattr(tinygrad_es, "jit")


class TinygradES(_FitTrainer):
    """tinygrad_es ``fit``: eager (``jit_compile=False``) or with the captured step (``True``)."""

    def __init__(self, net: Network, x: np.ndarray, y: np.ndarray, captured: bool = False):
        import tinygrad_es as tg

        if captured and not captured_available():
            raise Unavailable("no tinygrad_es.jit in this build: jit_compile is ignored")
        model = _keras_like_model(tg, net)
        model.compile(optimizer=_keras_like_optimizer(tg, net), loss=net.loss_name,
                      jit_compile=captured)
        super().__init__(model, net, x, y)


class TinygradESCaptured(TinygradES):
    def __init__(self, net: Network, x: np.ndarray, y: np.ndarray):
        super().__init__(net, x, y, captured=True)


def import_keras():
    """Keras 3 on TensorFlow, with TensorFlow's thread pools pinned (before its first op)."""
    import tensorflow as tf

    try:
        tf.config.threading.set_intra_op_parallelism_threads(threads())
        tf.config.threading.set_inter_op_parallelism_threads(threads())
    except RuntimeError:     # already initialised in this process: the environment setting holds
        pass
    import keras

    return keras


class Keras(_FitTrainer):
    """Keras 3 ``fit`` on TensorFlow (its default ``jit_compile="auto"``: XLA where it can)."""

    def __init__(self, net: Network, x: np.ndarray, y: np.ndarray):
        keras = import_keras()
        model = _keras_like_model(keras, net)
        model.compile(optimizer=_keras_like_optimizer(keras, net), loss=net.loss_name)
        super().__init__(model, net, x, y)
