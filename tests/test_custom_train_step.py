"""Keras 3's custom ``train_step`` / ``test_step``: the keras.io guide "Customizing what happens
in fit()" run here with our backward, against Keras running the guide's TensorFlow version
(``tf.GradientTape``) from the same weights.

Our models subclass ``Sequential`` (a ``Trainer``); at integration they can subclass the
functional ``keras.Model`` as the guide does.
"""

from __future__ import annotations

import numpy as np
import pytest
from conftest import PARITY_TOL, max_abs_diff

from tinygrad_es import losses, metrics, optimizers
from tinygrad_es.layers import Dense, Input
from tinygrad_es.models.sequential import Sequential

TOL = 4 * PARITY_TOL["float32"]
RNG = np.random.default_rng(11)
X = RNG.normal(size=(12, 3)).astype("float32")
Y = RNG.normal(size=(12, 1)).astype("float32")
WEIGHTS = [RNG.uniform(-0.8, 0.8, (3, 4)).astype("float32"), np.zeros(4, "float32"),
           RNG.uniform(-0.8, 0.8, (4, 1)).astype("float32"), np.zeros(1, "float32")]


def _step_with_compiled_loss(model, data, training):
    """The guide's first train_step, in our words: compute_loss, loss.backward(), apply."""
    x, y = data
    y_pred = model(x, training=training)
    loss = model.compute_loss(y=y, y_pred=y_pred)
    if training:
        for w in model.trainable_weights:
            w.grad = None
        loss.backward()
        grads = [w.grad for w in model.trainable_weights]
        model.optimizer.apply(grads, model.trainable_weights)
    for metric in model.metrics:
        if metric.name == "loss":
            metric.update_state(loss)
        else:
            metric.update_state(y, y_pred)
    return {m.name: m.result() for m in model.metrics}


class OursCompiled(Sequential):
    def train_step(self, data):
        return _step_with_compiled_loss(self, data, training=True)

    def test_step(self, data):
        return _step_with_compiled_loss(self, data, training=False)


class OursOwnTrackers(Sequential):
    """The guide's second example: its own loss tracker and metric, a `metrics` property."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.loss_tracker = metrics.Mean(name="loss")
        self.mae_metric = metrics.MeanAbsoluteError(name="mae")
        self.loss_fn = losses.MeanSquaredError()

    def train_step(self, data):
        x, y = data
        y_pred = self(x, training=True)
        loss = self.loss_fn(y, y_pred)
        for w in self.trainable_weights:
            w.grad = None
        loss.backward()
        self.optimizer.apply([w.grad for w in self.trainable_weights], self.trainable_weights)
        self.loss_tracker.update_state(loss)
        self.mae_metric.update_state(y, y_pred)
        return {"loss": self.loss_tracker.result(), "mae": self.mae_metric.result()}

    @property
    def metrics(self):
        return [self.loss_tracker, self.mae_metric]


def _keras_classes(keras, tf):
    def step(model, data, training):
        x, y = data
        with tf.GradientTape() as tape:
            y_pred = model(x, training=training)
            loss = model.compute_loss(y=y, y_pred=y_pred)
        if training:
            grads = tape.gradient(loss, model.trainable_variables)
            model.optimizer.apply(grads, model.trainable_variables)
        for metric in model.metrics:
            if metric.name == "loss":
                metric.update_state(loss)
            else:
                metric.update_state(y, y_pred)
        return {m.name: m.result() for m in model.metrics}

    class Compiled(keras.Sequential):
        def train_step(self, data):
            return step(self, data, True)

        def test_step(self, data):
            return step(self, data, False)

    class OwnTrackers(keras.Sequential):
        def __init__(self, *args, **kwargs):
            super().__init__(*args, **kwargs)
            self.loss_tracker = keras.metrics.Mean(name="loss")
            self.mae_metric = keras.metrics.MeanAbsoluteError(name="mae")
            self.loss_fn = keras.losses.MeanSquaredError()

        def train_step(self, data):
            x, y = data
            with tf.GradientTape() as tape:
                y_pred = self(x, training=True)
                loss = self.loss_fn(y, y_pred)
            grads = tape.gradient(loss, self.trainable_variables)
            self.optimizer.apply(grads, self.trainable_variables)
            self.loss_tracker.update_state(loss)
            self.mae_metric.update_state(y, y_pred)
            return {"loss": self.loss_tracker.result(), "mae": self.mae_metric.result()}

        @property
        def metrics(self):
            return [self.loss_tracker, self.mae_metric]

    return Compiled, OwnTrackers


def _models(keras, k_cls, o_cls):
    km = k_cls([keras.Input((3,)), keras.layers.Dense(4, activation="tanh"),
                keras.layers.Dense(1)])
    om = o_cls([Input((3,)), Dense(4, activation="tanh"), Dense(1)])
    km.set_weights(WEIGHTS)
    om.set_weights(WEIGHTS)
    return km, om


def _same(kh, oh):
    assert list(oh.history) == list(kh.history)
    for key in kh.history:
        assert max_abs_diff(oh.history[key], kh.history[key]) <= TOL, key


def test_guide_train_step_with_compute_loss_and_compiled_metrics(keras, tf):
    """``self.metrics`` is [loss tracker, compile_metrics]: the logs are loss and mae."""
    k_cls, _ = _keras_classes(keras, tf)
    km, om = _models(keras, k_cls, OursCompiled)
    km.compile(optimizer=keras.optimizers.Adam(0.05), loss="mse", metrics=["mae"])
    om.compile(optimizer=optimizers.Adam(0.05), loss="mse", metrics=["mae"])
    assert [m.name for m in om.metrics] == [m.name for m in km.metrics] == ["loss",
                                                                           "compile_metrics"]
    kw = {"epochs": 3, "batch_size": 5, "shuffle": False, "verbose": 0,
          "validation_data": (X[:6], Y[:6])}
    _same(km.fit(X, Y, **kw), om.fit(X, Y, **kw))
    assert max_abs_diff(om.evaluate(X, Y, verbose=0), km.evaluate(X, Y, verbose=0)) <= TOL


def test_guide_own_trackers_and_metrics_property(keras, tf):
    """compile(optimizer=...) only; the trackers reset at each epoch through `metrics`."""
    _, k_cls = _keras_classes(keras, tf)
    km, om = _models(keras, k_cls, OursOwnTrackers)
    km.compile(optimizer=keras.optimizers.Adam(0.05))
    om.compile(optimizer=optimizers.Adam(0.05))
    kw = {"epochs": 3, "batch_size": 5, "shuffle": False, "verbose": 0}
    _same(km.fit(X, Y, **kw), om.fit(X, Y, **kw))


def test_default_steps_return_what_keras_logs_and_compute_metrics_returns_the_logs(keras):
    km, om = _models(keras, keras.Sequential, Sequential)
    km.compile(optimizer="sgd", loss="mse", metrics=["mae"])
    om.compile(optimizer="sgd", loss="mse", metrics=["mae"])
    y_pred = om(X)
    loss = om.compute_loss(y=Y, y_pred=y_pred)
    k_loss = km.compute_loss(y=Y, y_pred=km(X))
    assert abs(float(loss.data) - float(k_loss)) <= TOL
    logs = om.compute_metrics(X, Y, y_pred)
    assert sorted(logs) == ["loss", "mae"]
    k_logs = km.compute_metrics(X, Y, km(X))
    assert abs(logs["mae"] - float(k_logs["mae"])) <= TOL


def test_compute_loss_without_a_compiled_loss_says_so():
    model = Sequential([Input((3,)), Dense(1)])
    model.compile(optimizer="sgd")
    with pytest.raises(ValueError, match="No loss to compute"):
        model.compute_loss(y=Y, y_pred=model(X))
    with pytest.raises(ValueError, match="needs a loss"):
        model.fit(X, Y, verbose=0)
