"""Callbacks against real Keras: hook order, and the monitors driven by scripted loss sequences.

Scripted runs call the hooks directly (as fit would) on a real model of each library with the same
sequence of logged values, so every decision (stop, restore, LR change) is compared, not just the
last one. Real-training parity of EarlyStopping/ReduceLROnPlateau is test 6 in test_fit_parity.py.
"""

from __future__ import annotations

import math
import warnings

import numpy as np
import pytest
from conftest import keras_and_ours

from tinygrad_es import callbacks as C
from tinygrad_es.optimizers import SGD

SEQ = [1.0, 0.9, 0.95, 0.92, 0.91, 0.89, 0.9, 0.9, 0.88, 0.95, 0.97, 0.99]


@pytest.fixture(scope="module")
def pair(keras):
    """A Keras and a tinygrad_es model with the same weights, both compiled with SGD(0.01)."""
    km, om = keras_and_ours(keras, [(2, "sigmoid"), (1, None)], n_in=1)
    km.compile(keras.optimizers.SGD(0.01), "mse")
    om.compile(SGD(0.01), "mse")
    return km, om


def _script(cb, model, values, monitor="loss", extra=None):
    """Run cb through the epochs of ``values``: weights := epoch index, then on_epoch_end.

    Returns per-epoch (stop flag, logs) and the weights at the end (they reveal a restore).
    """
    shapes = [w.shape for w in model.get_weights()]
    cb.set_model(model)
    model.stop_training = False
    cb.on_train_begin({})
    trace = []
    for epoch, v in enumerate(values):
        model.set_weights([np.full(s, float(epoch), dtype="float32") for s in shapes])
        cb.on_epoch_begin(epoch, {})
        logs = {monitor: v, **(extra or {})}
        cb.on_epoch_end(epoch, logs)
        trace.append((model.stop_training, dict(logs)))
        if model.stop_training:
            break
    cb.on_train_end({})
    return trace, float(model.get_weights()[0].flat[0])


ES_CASES = [
    {"patience": 0}, {"patience": 2}, {"patience": 3, "restore_best_weights": True},
    {"patience": 20, "restore_best_weights": True}, {"baseline": 0.85, "patience": 1},
    {"start_from_epoch": 3}, {"min_delta": 0.02, "patience": 1},
    {"min_delta": -0.02, "patience": 2, "mode": "min"}, {"mode": "max", "patience": 1},
    {"baseline": 0.95, "patience": 2, "restore_best_weights": True},
]


@pytest.mark.parametrize("kwargs", ES_CASES)
def test_early_stopping_scripted_matches_keras(keras, pair, capsys, kwargs):
    km, om = pair
    kwargs = {"monitor": "loss", "verbose": 1, **kwargs}
    theirs = _script(keras.callbacks.EarlyStopping(**kwargs), km, SEQ)
    k_out = capsys.readouterr().out
    ours_cb = C.EarlyStopping(**kwargs)
    ours = _script(ours_cb, om, SEQ)
    assert ours == theirs
    assert capsys.readouterr().out == k_out  # "Epoch k: early stopping", "Restoring ..."


def test_early_stopping_auto_mode_uses_the_metric_direction(keras, pair):
    km, om = pair
    # "accuracy" goes up: with mode auto a falling accuracy stops training
    km2, om2 = keras_and_ours(keras, [(1, "sigmoid")], n_in=1)
    km2.compile("sgd", "mse", metrics=["accuracy"])
    om2.compile("sgd", "mse", metrics=["accuracy"])
    x, y = np.array([[0.0], [1.0]], "float32"), np.array([0.0, 1.0], "float32")
    km2.fit(x, y, verbose=0)
    om2.fit(x, y, verbose=0)
    seq = [0.5, 0.6, 0.4, 0.3, 0.7]
    kcb = keras.callbacks.EarlyStopping(monitor="accuracy", patience=1)
    ocb = C.EarlyStopping(monitor="accuracy", patience=1)
    assert _script(ocb, om2, seq, "accuracy") == _script(kcb, km2, seq, "accuracy")
    with pytest.raises(ValueError, match="mode='max'"):
        _script(C.EarlyStopping(monitor="unknown_metric"), om, SEQ, "unknown_metric")


def test_early_stopping_missing_monitor_only_warns(pair):
    _, om = pair
    with pytest.warns(UserWarning, match="not available"):
        trace, _ = _script(C.EarlyStopping(monitor="val_loss"), om, SEQ[:3])
    assert [stop for stop, _ in trace] == [False, False, False]


RLR_CASES = [
    {"factor": 0.5, "patience": 1}, {"factor": 0.5, "patience": 2, "cooldown": 2},
    {"factor": 0.1, "patience": 0, "min_lr": 0.0005}, {"factor": 0.5, "patience": 1,
                                                        "min_delta": 0.05},
    {"factor": 0.2, "patience": 1, "mode": "max"},
]


@pytest.mark.parametrize("kwargs", RLR_CASES)
def test_reduce_lr_on_plateau_scripted_matches_keras(keras, pair, capsys, kwargs):
    km, om = pair
    kwargs = {"monitor": "loss", "verbose": 1, **kwargs}
    km.optimizer.learning_rate = 0.01
    om.optimizer.learning_rate = 0.01
    theirs = _script(keras.callbacks.ReduceLROnPlateau(**kwargs), km, SEQ)
    k_out = capsys.readouterr().out
    ours = _script(C.ReduceLROnPlateau(**kwargs), om, SEQ)
    assert ours == theirs  # logged learning_rate values bit-equal (float32-rounded)
    assert capsys.readouterr().out == k_out  # "Epoch k: ReduceLROnPlateau reducing ... to x."
    assert float(om.optimizer.learning_rate) == float(km.optimizer.learning_rate)


def test_reduce_lr_rejects_factor_one(keras):
    with pytest.raises(ValueError, match="factor >= 1.0"):
        C.ReduceLROnPlateau(factor=1.0)


@pytest.mark.parametrize("schedule", [
    lambda epoch, lr: lr * 0.5 if epoch >= 1 else lr,
    lambda epoch: 0.1 / (epoch + 1),
    lambda epoch, lr: float(np.float32(lr) * np.float32(0.9)),
])
def test_learning_rate_scheduler_matches_keras(keras, pair, capsys, schedule):
    km, om = pair
    km.optimizer.learning_rate = 0.01
    om.optimizer.learning_rate = 0.01
    theirs = _script(keras.callbacks.LearningRateScheduler(schedule, verbose=1), km, SEQ[:4])
    k_out = capsys.readouterr().out
    ours = _script(C.LearningRateScheduler(schedule, verbose=1), om, SEQ[:4])
    assert ours == theirs and capsys.readouterr().out == k_out


def test_learning_rate_scheduler_rejects_int(pair):
    _, om = pair
    with pytest.raises(ValueError, match="should be a float"):
        _script(C.LearningRateScheduler(lambda epoch: 1), om, SEQ[:2])


@pytest.mark.parametrize("loss", [float("nan"), float("inf"), 1.0])
def test_terminate_on_nan_matches_keras(keras, pair, capsys, loss):
    km, om = pair
    results = []
    for lib, model in ((keras.callbacks, km), (C, om)):
        cb = lib.TerminateOnNaN()
        cb.set_model(model)
        model.stop_training = False
        cb.on_train_batch_end(3, {"loss": loss})
        results.append((model.stop_training, capsys.readouterr().out))
    assert results[0] == results[1]
    cb = C.TerminateOnNaN(raise_error=True)
    cb.set_model(om)
    if math.isfinite(loss):
        cb.on_train_batch_end(0, {"loss": loss})
    else:
        with pytest.raises(RuntimeError, match="batch 0"):
            cb.on_train_batch_end(0, {"loss": loss})


def _recorder(base):
    """A callback class (subclass of ``base``) that records (hook, index, sorted log keys)."""
    hooks = ["on_train_begin", "on_train_end", "on_epoch_begin", "on_epoch_end",
             "on_train_batch_begin", "on_train_batch_end", "on_test_begin", "on_test_end",
             "on_test_batch_begin", "on_test_batch_end", "on_predict_begin", "on_predict_end",
             "on_predict_batch_begin", "on_predict_batch_end"]

    def make(hook):
        def record(self, *args, logs=None):
            if args and not isinstance(args[0], int):
                args, logs = (), args[0]
            elif len(args) == 2:
                args, logs = args[:1], args[1]
            keys = tuple(sorted(logs)) if isinstance(logs, dict) else logs
            self.calls.append((hook, *args, keys))
        return record

    cls = type("Recorder", (base,), {h: make(h) for h in hooks})
    cls.calls = None
    return cls


def test_hook_order_and_logs_match_keras(keras):
    x = np.linspace(0, 1, 10, dtype="float32")[:, None]
    y = (x[:, 0] > 0.5).astype("float32")
    km, om = keras_and_ours(keras, [(2, "sigmoid"), (1, "sigmoid")], n_in=1)
    calls = []
    for model, lib in ((km, keras.callbacks), (om, C)):
        model.compile("sgd", "mse", metrics=["accuracy"])
        rec = _recorder(lib.Callback)()
        rec.calls = []
        model.fit(x, y, epochs=2, batch_size=3, validation_split=0.2, shuffle=False, verbose=0,
                  callbacks=[rec])
        model.evaluate(x, y, batch_size=4, verbose=0, callbacks=[rec])
        model.predict(x, batch_size=8, verbose=0, callbacks=[rec])
        calls.append(rec.calls)
    assert calls[1] == calls[0]


def test_legacy_batch_hooks_and_lambda_callback(keras):
    x = np.linspace(0, 1, 10, dtype="float32")[:, None]
    y = (x[:, 0] > 0.5).astype("float32")
    seen = []
    for lib, model in zip((keras.callbacks, C), keras_and_ours(keras, [(1, "sigmoid")], 1)):
        model.compile("sgd", "mse")
        events = []

        class Legacy(lib.Callback):
            def on_batch_end(self, batch, logs=None):
                events.append(("legacy", batch, sorted(logs)))

        lam = lib.LambdaCallback(on_epoch_end=lambda e, logs: events.append(("epoch", e)),
                                 on_train_batch_begin=lambda b, logs: events.append(("b", b)),
                                 on_test_end=lambda logs: events.append(("test_end",)))
        model.fit(x, y, epochs=2, batch_size=5, shuffle=False, verbose=0,
                  validation_split=0.2, callbacks=[Legacy(), lam])
        seen.append(events)
    assert seen[1] == seen[0]


def test_history_keys_include_callback_added_learning_rate(keras):
    x = np.linspace(0, 1, 12, dtype="float32")[:, None]
    y = (x[:, 0] > 0.5).astype("float32")
    hists = []
    for lib, model in zip((keras.callbacks, C), keras_and_ours(keras, [(1, "sigmoid")], 1)):
        model.compile("sgd", "mse", metrics=["mae"])
        h = model.fit(x, y, epochs=3, shuffle=False, verbose=0, validation_split=0.25,
                      callbacks=[lib.ReduceLROnPlateau(monitor="loss", patience=0, factor=0.5,
                                                       min_delta=10.0)])
        hists.append(h)
    assert list(hists[1].history) == list(hists[0].history)
    assert hists[1].history["learning_rate"] == hists[0].history["learning_rate"]
    assert hists[1].params == hists[0].params and hists[1].epoch == hists[0].epoch


def test_stop_training_from_a_batch_hook_ends_the_epoch(keras):
    x = np.linspace(0, 1, 20, dtype="float32")[:, None]
    y = (x[:, 0] > 0.5).astype("float32")
    results = []
    for lib, model in zip((keras.callbacks, C), keras_and_ours(keras, [(1, "sigmoid")], 1)):
        model.compile("sgd", "mse")
        stopper = lib.LambdaCallback(
            on_train_batch_end=lambda b, logs, m=model: setattr(m, "stop_training", b == 1))
        h = model.fit(x, y, epochs=5, batch_size=4, shuffle=False, verbose=0,
                      callbacks=[stopper])
        results.append((h.epoch, int(model.optimizer.iterations)))
    assert results[1] == results[0] == ([0], 2)


def test_csv_logger_writes_keras_format(keras, tmp_path):
    x = np.linspace(0, 1, 12, dtype="float32")[:, None]
    y = (x[:, 0] > 0.5).astype("float32")
    texts = []
    for tag, (lib, model) in zip("ko", zip((keras.callbacks, C),
                                          keras_and_ours(keras, [(1, "sigmoid")], 1))):
        model.compile("sgd", "mse", metrics=["mae"])
        path = tmp_path / f"{tag}.csv"
        model.fit(x, y, epochs=2, shuffle=False, verbose=0, callbacks=[lib.CSVLogger(path)])
        model.fit(x, y, epochs=1, shuffle=False, verbose=0,
                  callbacks=[lib.CSVLogger(path, append=True, separator=",")])
        texts.append(path.read_text().splitlines())
    k_rows, o_rows = texts
    assert o_rows[0] == k_rows[0] == "epoch,loss,mae,val_loss,val_mae"  # NA columns added
    assert len(o_rows) == len(k_rows) == 4  # header once, appended rows
    for ko, oo in zip(k_rows[1:], o_rows[1:]):
        kf, of = ko.split(","), oo.split(",")
        assert of[0] == kf[0] and of[3:] == kf[3:] == ["NA", "NA"]
        assert np.allclose([float(v) for v in of[1:3]], [float(v) for v in kf[1:3]], atol=1e-6)


def test_model_checkpoint_best_only_writes_the_same_files(keras, pair, tmp_path, capsys):
    km, om = pair
    written = []
    for tag, (lib, model) in (("k", (keras.callbacks, km)), ("o", (C, om))):
        d = tmp_path / tag
        cb = lib.ModelCheckpoint(str(d / "m_{epoch:02d}_{loss:.3f}.keras"), monitor="loss",
                                 save_best_only=True, verbose=1)
        _script(cb, model, SEQ[:6])
        written.append((sorted(p.name for p in d.iterdir()),
                        capsys.readouterr().out.replace(str(d), "DIR")))
    assert written[1] == written[0]


def test_model_checkpoint_weights_only_and_path_checks(pair, tmp_path):
    _, om = pair
    cb = C.ModelCheckpoint(str(tmp_path / "w{epoch}.weights.h5"), monitor="loss",
                           save_weights_only=True)
    _script(cb, om, SEQ[:2])
    assert sorted(p.name for p in tmp_path.iterdir()) == ["w1.weights.h5", "w2.weights.h5"]
    with pytest.raises(ValueError, match="filepath"):
        C.ModelCheckpoint(str(tmp_path / "w.h5"), save_weights_only=True)
    with pytest.raises(ValueError, match="filepath"):
        C.ModelCheckpoint(str(tmp_path / "model.txt"))
    with pytest.raises(ValueError, match="save_freq"):
        C.ModelCheckpoint(str(tmp_path / "m.keras"), save_freq="batch")


def test_callback_list_skips_hooks_nobody_overrides():
    cbs = C.CallbackList([C.EarlyStopping(monitor="loss")], add_history=True, add_progbar=True,
                         verbose=1, epochs=1, steps=1)
    assert [type(c).__name__ for c in cbs.callbacks] == ["EarlyStopping", "History",
                                                           "ProgbarLogger"]
    assert not cbs.wants("on_train_batch_begin") and cbs.wants("on_train_batch_end")
    assert not C.CallbackList([C.History()]).wants("on_train_batch_end")
    with pytest.raises(TypeError, match="Callback instances"):
        C.CallbackList(["not a callback"])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        C.CallbackList([C.TerminateOnNaN()]).on_train_batch_end(0, {"loss": 1.0})


@pytest.mark.filterwarnings("ignore::RuntimeWarning")  # numpy's overflow on the way to inf
def test_terminate_on_nan_in_a_real_run_matches_keras(keras, capsys):
    """A diverging SGD: both stop at the same batch; the epoch still ends (NaN in History)."""
    x = np.linspace(1, 3, 40, dtype="float32")[:, None]
    y = x[:, 0] * 1e3
    results = []
    for lib, model in zip((keras.callbacks, C), keras_and_ours(keras, [(4, None), (1, None)], 1)):
        model.compile(lib is C and SGD(10.0) or keras.optimizers.SGD(10.0), "mse")
        h = model.fit(x, y, epochs=3, batch_size=4, shuffle=False, verbose=0,
                      callbacks=[lib.TerminateOnNaN()])
        results.append((h.epoch, int(model.optimizer.iterations), capsys.readouterr().out,
                        [math.isfinite(v) for v in h.history["loss"]]))
    assert results[1] == results[0]
    assert results[0][3] == [False] and results[0][1] < 10
