"""BackupAndRestore and SwapEMAWeights against real Keras.

BackupAndRestore: the same interrupted-and-resumed runs in both libraries (Keras's own docstring
scenario, a mid-epoch backup, a damaged backup with ``double_checkpoint``), compared by epochs,
History and weights; and, within tinygrad_es, a resumed run equals an uninterrupted one bit for
bit (same arithmetic in the same order), also when the model is rebuilt from scratch.
SwapEMAWeights: the swap itself bit for bit (TF's three sums), then whole fits and evaluations.
"""

from __future__ import annotations

import os

import numpy as np
import pytest
from conftest import keras_and_ours, keras_floatx

from tinygrad_es import callbacks as C
from tinygrad_es import models, optimizers
from tinygrad_es.utils import set_random_seed

RNG = np.random.default_rng(7)
X = RNG.standard_normal((20, 3)).astype(np.float32)
Y = (X @ np.array([[1.0], [-2.0], [0.5]], np.float32) + 0.3).astype(np.float32)
SPEC = [(4, "tanh"), (1, None)]
# Weights and losses after many steps through matmuls, whose last bits BLAS and TensorFlow decide
# in their own order (measured at most 2.4e-7 for History values, 1.2e-7 for weights).
FIT_TOL = 1e-6


class Interrupt(Exception):
    pass


def _interrupter(base, epoch=None, batch=None):
    """A callback of library ``base`` that raises at the begin of (epoch) or of (epoch, batch)."""

    class Interrupting(base):
        def on_epoch_begin(self, e, logs=None):
            self.epoch = e
            if batch is None and e == epoch:
                raise Interrupt(f"epoch {e}")

        def on_train_batch_begin(self, b, logs=None):
            if batch is not None and (self.epoch, b) == (epoch, batch):
                raise Interrupt(f"epoch {self.epoch} batch {b}")

    return Interrupting()


def _interrupted_then_resumed(model, backup, interrupter, **fit):
    """fit until ``interrupter`` raises, then fit again with the same backup callback."""
    with pytest.raises(Interrupt):
        model.fit(X, Y, callbacks=[backup, interrupter], verbose=0, **fit)
    return model.fit(X, Y, callbacks=[backup], verbose=0, **fit)


def _compare(kh, oh, km, om):
    assert oh.epoch == kh.epoch
    assert sorted(oh.history) == sorted(kh.history)
    for key in kh.history:
        assert np.abs(np.subtract(oh.history[key], kh.history[key])).max() <= FIT_TOL, key
    for a, b in zip(om.get_weights(), km.get_weights()):
        assert np.abs(a - b).max() <= FIT_TOL


# ----- BackupAndRestore -----

@pytest.mark.parametrize("save_freq, at", [("epoch", {"epoch": 4}),
                                           (3, {"epoch": 2, "batch": 2}),
                                           (5, {"epoch": 3, "batch": 1})])
def test_backup_and_restore_resumes_as_keras(keras, tmp_path, save_freq, at):
    km, om = keras_and_ours(keras, SPEC, n_in=3)
    km.compile(keras.optimizers.Adam(0.01), "mse")
    om.compile(optimizers.Adam(0.01), "mse")
    fit = dict(epochs=7, batch_size=5, shuffle=False)
    kb = keras.callbacks.BackupAndRestore(str(tmp_path / "k"), save_freq=save_freq)
    ob = C.BackupAndRestore(tmp_path / "o", save_freq=save_freq)
    kh = _interrupted_then_resumed(km, kb, _interrupter(keras.callbacks.Callback, **at), **fit)
    oh = _interrupted_then_resumed(om, ob, _interrupter(C.Callback, **at), **fit)
    assert kh.epoch[0] > 0    # the resumed run started later: at the backup's epoch
    _compare(kh, oh, km, om)
    assert int(om.optimizer.iterations) == int(km.optimizer.iterations)
    assert not os.path.exists(tmp_path / "o") and not os.path.exists(tmp_path / "k")


@pytest.mark.parametrize("shuffle", [False, True])
def test_resumed_fit_equals_uninterrupted_fit_bit_for_bit(keras, tmp_path, shuffle):
    _, start = keras_and_ours(keras, SPEC, n_in=3)
    initial = start.get_weights()

    def fresh():
        model = models.Sequential.from_config(start.get_config())
        model.build((None, 3))
        model.set_weights(initial)
        model.compile(optimizers.Adam(0.01), "mse")
        return model

    fit = dict(epochs=6, batch_size=4, shuffle=shuffle, verbose=0)
    set_random_seed(11)
    whole = fresh()
    whole_history = whole.fit(X, Y, **fit)

    second = fresh()   # made first, so that both runs draw the same numbers from the stream
    set_random_seed(11)
    first = fresh()
    with pytest.raises(Interrupt):
        first.fit(X, Y, callbacks=[C.BackupAndRestore(tmp_path), _interrupter(C.Callback, 3)],
                  **fit)
    # Another model object, as after a crash: weights and Adam's slots come from the backup.
    # (Shuffled data: the global stream has drawn the same 3 permutations in both runs.)
    resumed = second.fit(X, Y, callbacks=[C.BackupAndRestore(tmp_path)], **fit)
    assert resumed.epoch == [3, 4, 5]
    assert resumed.history["loss"] == whole_history.history["loss"][3:]
    for a, b in zip(second.get_weights(), whole.get_weights()):
        assert np.array_equal(a, b)
    assert second.optimizer.get_state().keys() == whole.optimizer.get_state().keys()
    for key, value in whole.optimizer.get_state().items():
        assert np.array_equal(second.optimizer.get_state()[key], value), key
    # NOTE: Keras leaves model._initial_epoch set after the resumed fit, so a later fit() of the
    # same model starts at epoch 3 again; here it applies to the fit that restored it only.
    assert second.fit(X, Y, epochs=2, verbose=0).epoch == [0, 1]


def test_double_checkpoint_falls_back_to_the_previous_backup_as_keras(keras, tmp_path):
    km, om = keras_and_ours(keras, SPEC, n_in=3)
    km.compile(keras.optimizers.SGD(0.05), "mse")
    om.compile(optimizers.SGD(0.05), "mse")
    fit = dict(epochs=6, batch_size=10, shuffle=False, verbose=0)
    kb = keras.callbacks.BackupAndRestore(str(tmp_path / "k"), double_checkpoint=True)
    ob = C.BackupAndRestore(tmp_path / "o", double_checkpoint=True)
    for model, cb, base in ((km, kb, keras.callbacks.Callback), (om, ob, C.Callback)):
        with pytest.raises(Interrupt):
            model.fit(X, Y, callbacks=[cb, _interrupter(base, 4)], **fit)
    # Damage the newest backup of each: Keras's latest.weights.h5, our newest file.
    with open(tmp_path / "k" / "latest.weights.h5", "wb") as f:
        f.write(b"not an HDF5 file")
    newest = sorted(os.listdir(tmp_path / "o"))
    assert len(newest) == 2   # this backup and the previous one
    with open(tmp_path / "o" / newest[-1], "wb") as f:
        f.write(b"not an npz file")
    kh = km.fit(X, Y, callbacks=[kb], **fit)
    oh = om.fit(X, Y, callbacks=[ob], **fit)
    assert kh.epoch == [3, 4, 5]   # the previous backup: 3 epochs done
    _compare(kh, oh, km, om)


def test_a_damaged_backup_without_double_checkpoint_is_an_error(keras, tmp_path):
    _, om = keras_and_ours(keras, SPEC, n_in=3)
    om.compile(optimizers.SGD(0.05), "mse")
    cb = C.BackupAndRestore(tmp_path)
    with pytest.raises(Interrupt):
        om.fit(X, Y, epochs=3, callbacks=[cb, _interrupter(C.Callback, 2)], verbose=0)
    (name,) = os.listdir(tmp_path)
    with open(tmp_path / name, "wb") as f:
        f.write(b"\x00" * 10)
    with pytest.raises(ValueError, match=name):
        om.fit(X, Y, epochs=3, callbacks=[cb], verbose=0)


def test_a_failed_backup_leaves_the_previous_one_whole(keras, tmp_path):
    _, om = keras_and_ours(keras, SPEC, n_in=3)
    om.compile(optimizers.SGD(0.05), "mse")

    class DiskFullAtEpoch2(C.Callback):
        def on_epoch_begin(self, epoch, logs=None):
            if epoch == 2:
                def disk_full(path):
                    with open(path, "wb") as f:   # a torn file under the new backup's name
                        f.write(b"PK\x03\x04 half")
                    raise OSError("No space left on device")
                om.save_weights = disk_full

    with pytest.raises(OSError, match="No space"):
        om.fit(X, Y, epochs=4, callbacks=[C.BackupAndRestore(tmp_path), DiskFullAtEpoch2()],
               verbose=0)
    del om.save_weights   # the class's method again
    (name,) = os.listdir(tmp_path)   # the backup of epoch 2 only: the torn file is gone
    assert "-epoch-2-batch-0." in name
    resumed = om.fit(X, Y, epochs=4, callbacks=[C.BackupAndRestore(tmp_path)], verbose=0)
    assert resumed.epoch == [2, 3]


def test_delete_checkpoint_false_keeps_the_backup_and_a_finished_run_resumes_empty(keras,
                                                                                  tmp_path):
    km, om = keras_and_ours(keras, SPEC, n_in=3)
    km.compile(keras.optimizers.SGD(0.05), "mse")
    om.compile(optimizers.SGD(0.05), "mse")
    fit = dict(epochs=3, batch_size=10, shuffle=False, verbose=0)
    kb = keras.callbacks.BackupAndRestore(str(tmp_path / "k"), delete_checkpoint=False)
    ob = C.BackupAndRestore(tmp_path / "o", delete_checkpoint=False)
    km.fit(X, Y, callbacks=[kb], **fit)
    om.fit(X, Y, callbacks=[ob], **fit)
    assert os.listdir(tmp_path / "o") and os.listdir(tmp_path / "k")
    kh, oh = km.fit(X, Y, callbacks=[kb], **fit), om.fit(X, Y, callbacks=[ob], **fit)
    assert oh.epoch == kh.epoch == [] and oh.history == kh.history == {}


def test_backup_and_restore_arguments(keras):
    for bad in ("batch", 0, 1.5, True):
        with pytest.raises(ValueError, match="save_freq"):
            C.BackupAndRestore("/tmp/x", save_freq=bad)
    with pytest.raises(ValueError, match="Empty|backup_dir"):
        keras.callbacks.BackupAndRestore("")
    with pytest.raises(ValueError, match="backup_dir"):
        C.BackupAndRestore("")


# ----- SwapEMAWeights -----

def _ema_pair(keras, momentum=0.9):
    km, om = keras_and_ours(keras, SPEC, n_in=3)
    km.compile(keras.optimizers.SGD(0.05, use_ema=True, ema_momentum=momentum), "mse")
    om.compile(optimizers.SGD(0.05, use_ema=True, ema_momentum=momentum), "mse")
    return km, om


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_the_swap_is_tensorflows_three_sums_bit_for_bit(keras, dtype):
    with keras_floatx(keras, dtype):
        _swap_both(keras, dtype)


def _swap_both(keras, dtype):
    km, om = _ema_pair(keras)
    km.optimizer.build(km.trainable_variables)
    om.optimizer.build(om.trainable_weights)
    rng = np.random.default_rng(0)
    weights = [rng.standard_normal(w.shape).astype(dtype) for w in om.get_weights()]
    averages = [rng.standard_normal(w.shape).astype(dtype) * 1e3 for w in weights]
    km.set_weights(weights)
    om.set_weights(weights)
    k_avg = [v for v in km.optimizer.variables if v.path.endswith("_average")]
    for variable, value in zip(k_avg, averages):
        variable.assign(value)
    for w, value in zip(om.trainable_weights, averages):
        om.optimizer.slots(w)["average"][...] = value
    kcb, ocb = keras.callbacks.SwapEMAWeights(), C.SwapEMAWeights()
    kcb.set_model(km)
    ocb.set_model(om)
    for hook in ("on_test_begin", "on_test_end"):
        getattr(kcb, hook)()
        getattr(ocb, hook)()
        for a, b in zip(om.get_weights(), km.get_weights()):
            assert np.array_equal(a, b), hook
        for w, b in zip(om.trainable_weights, k_avg):
            assert np.array_equal(om.optimizer.slots(w)["average"], b.numpy()), hook
    # The exchange rounds: not every weight comes back exactly (it does in both libraries).
    assert any(not np.array_equal(a, b) for a, b in zip(om.get_weights(), weights))


@pytest.mark.parametrize("swap_on_epoch", [False, True])
def test_swap_ema_weights_in_fit_matches_keras(keras, swap_on_epoch):
    km, om = _ema_pair(keras)
    fit = dict(epochs=4, batch_size=5, shuffle=False, verbose=0, validation_data=(X[:8], Y[:8]))
    kh = km.fit(X[8:], Y[8:], callbacks=[keras.callbacks.SwapEMAWeights(swap_on_epoch)], **fit)
    oh = om.fit(X[8:], Y[8:], callbacks=[C.SwapEMAWeights(swap_on_epoch)], **fit)
    _compare(kh, oh, km, om)
    # Without the callback the val_loss is the raw weights', and it differs.
    km2, om2 = _ema_pair(keras)
    plain = om2.fit(X[8:], Y[8:], **fit)
    assert np.abs(np.subtract(plain.history["val_loss"], oh.history["val_loss"])).max() > 1e-3
    assert np.abs(np.subtract(plain.history["val_loss"],
                              km2.fit(X[8:], Y[8:], **fit).history["val_loss"])).max() <= FIT_TOL


def test_evaluate_and_predict_use_the_averages_and_swap_back(keras):
    km, om = _ema_pair(keras, momentum=0.5)
    for model in (km, om):
        model.fit(X, Y, epochs=2, batch_size=5, shuffle=False, verbose=0)
    # fit ended by copying the averages into the weights; train one step more so they differ.
    for model in (km, om):
        model.train_on_batch(X[:5], Y[:5])
    raw = om.get_weights()
    average = [om.optimizer.slots(w)["average"].copy() for w in om.trainable_weights]
    k_eval = km.evaluate(X, Y, verbose=0, callbacks=[keras.callbacks.SwapEMAWeights()])
    o_eval = om.evaluate(X, Y, verbose=0, callbacks=[C.SwapEMAWeights()])
    assert abs(o_eval - k_eval) <= FIT_TOL
    twin = models.Sequential.from_config(om.get_config())
    twin.build((None, 3))
    twin.set_weights(average)
    twin.compile(optimizers.SGD(), "mse")
    # The model held the averages as TF's swap leaves them (rounded by the sums).
    assert abs(o_eval - twin.evaluate(X, Y, verbose=0)) <= 1e-6
    assert max(np.abs(a - b).max() for a, b in zip(om.get_weights(), raw)) <= 1e-6  # swapped back
    o_pred = om.predict(X, verbose=0, callbacks=[C.SwapEMAWeights()])
    k_pred = km.predict(X, verbose=0, callbacks=[keras.callbacks.SwapEMAWeights()])
    assert np.abs(o_pred - k_pred).max() <= FIT_TOL
    assert np.abs(o_pred - twin.predict(X, verbose=0)).max() <= 1e-6
    # NOTE: Keras 3.15 keeps the averages in the model after predict (its on_predict_end tests
    # the wrong flag); here predict swaps back, as evaluate does.
    assert max(np.abs(a - b).max() for a, b in zip(om.get_weights(), raw)) <= 1e-6


def test_swap_ema_weights_needs_an_ema_optimizer(keras):
    km, om = keras_and_ours(keras, SPEC, n_in=3)
    km.compile("sgd", "mse")
    om.compile("sgd", "mse")
    with pytest.raises(ValueError, match="use_ema=True") as k_err:
        km.evaluate(X, Y, verbose=0, callbacks=[keras.callbacks.SwapEMAWeights()])
    with pytest.raises(ValueError, match="use_ema=True") as o_err:
        om.evaluate(X, Y, verbose=0, callbacks=[C.SwapEMAWeights()])
    assert "Received: use_ema=False" in str(k_err.value) and "use_ema=False" in str(o_err.value)
    _, om = _ema_pair(keras)
    with pytest.raises(ValueError, match="no moving averages yet"):
        om.evaluate(X, Y, verbose=0, callbacks=[C.SwapEMAWeights()])
