"""fit / evaluate / predict on data as Keras takes it: generators, PyDataset, tf.data, against
real Keras with the same weights (and Keras's own words for what it refuses)."""

from __future__ import annotations

import re
import warnings

import numpy as np
import pytest
from conftest import PARITY_TOL, keras_and_ours, max_abs_diff

from tinygrad_es import callbacks as C
from tinygrad_es.optimizers import SGD
from tinygrad_es.utils import PyDataset

TOL = 4 * PARITY_TOL["float32"]
RNG = np.random.default_rng(5)
X = RNG.normal(size=(10, 3)).astype("float32")
Y = RNG.normal(size=(10, 1)).astype("float32")
SW = np.linspace(0.5, 2.0, 10).astype("float32")


def _pair(keras, metrics=("mae",)):
    km, om = keras_and_ours(keras, [(4, "tanh"), (1, None)], 3)
    km.compile(optimizer=keras.optimizers.SGD(0.1), loss="mse", metrics=list(metrics))
    om.compile(optimizer=SGD(0.1), loss="mse", metrics=list(metrics))
    return km, om


def batches(with_weights=False, endless=False):
    """The rows of X, Y in batches of 4, 4, 2 (once, or over and over)."""
    while True:
        for a in range(0, 10, 4):
            yield (X[a:a + 4], Y[a:a + 4]) + ((SW[a:a + 4],) if with_weights else ())
        if not endless:
            return


class Counter:
    """A callback (in either library) counting the batches of each epoch."""

    def __new__(cls, lib):
        class Count(lib.Callback):
            def on_train_begin(self, logs=None):
                self.per_epoch = []

            def on_epoch_begin(self, epoch, logs=None):
                self.per_epoch.append(0)

            def on_train_batch_end(self, batch, logs=None):
                self.per_epoch[-1] += 1
        return Count()


def _fit_both(km, om, make, **kw):
    kc, oc = Counter(__import__("keras").callbacks), Counter(C)
    with warnings.catch_warnings(record=True) as k_warn:
        warnings.simplefilter("always")
        kh = km.fit(make("keras"), verbose=0, callbacks=[kc], **kw)
    with warnings.catch_warnings(record=True) as o_warn:
        warnings.simplefilter("always")
        oh = om.fit(make("ours"), verbose=0, callbacks=[oc], **kw)
    assert oc.per_epoch == kc.per_epoch
    assert list(oh.history) == list(kh.history)
    for key in kh.history:
        assert max_abs_diff(oh.history[key], kh.history[key]) <= TOL, key

    def words(caught):
        return sorted(str(w.message) for w in caught if "retracing" not in str(w.message))
    assert words(o_warn) == words(k_warn)
    return kc.per_epoch


@pytest.mark.parametrize("kw, expected", [
    ({"epochs": 3}, [3, 2, 2]),                          # Keras replays its 2 peeked batches
    ({"epochs": 2, "steps_per_epoch": 2}, [2, 1]),       # the second epoch runs out
])
def test_finite_generator_runs_as_keras(keras, kw, expected):
    km, om = _pair(keras)
    assert _fit_both(km, om, lambda lib: batches(), **kw) == expected


def test_endless_generator_with_steps_and_sample_weights(keras):
    km, om = _pair(keras)
    _fit_both(km, om, lambda lib: batches(with_weights=True, endless=True), epochs=2,
              steps_per_epoch=4, shuffle=False)


def _py_dataset(base):
    class Rows(base):
        def __init__(self, **kwargs):
            super().__init__(**kwargs)
            self.epochs_ended = 0

        def __len__(self):
            return 3

        def __getitem__(self, i):
            return X[i * 4:(i + 1) * 4], Y[i * 4:(i + 1) * 4]

        def on_epoch_end(self):
            self.epochs_ended += 1
    return Rows


@pytest.mark.parametrize("kw", [{"epochs": 2}, {"epochs": 3, "steps_per_epoch": 2}])
def test_py_dataset_trains_and_validates_as_keras(keras, kw):
    km, om = _pair(keras)
    libs = {"keras": _py_dataset(keras.utils.PyDataset), "ours": _py_dataset(PyDataset)}
    val = {name: cls(workers=2) for name, cls in libs.items()}
    _fit_both(km, om, lambda lib: libs[lib](), shuffle=False, validation_data=None, **kw)
    kh = km.fit(libs["keras"](), epochs=2, verbose=0, shuffle=False, validation_data=val["keras"])
    oh = om.fit(libs["ours"](), epochs=2, verbose=0, shuffle=False, validation_data=val["ours"])
    assert max_abs_diff(oh.history["val_loss"], kh.history["val_loss"]) <= TOL
    assert val["ours"].epochs_ended >= 2 and val["ours"].workers == 2


def test_tf_dataset_fit_evaluate_predict_as_keras(keras, tf):
    km, om = _pair(keras)
    make = lambda lib: tf.data.Dataset.from_tensor_slices((X, Y, SW)).batch(4)  # noqa: E731
    _fit_both(km, om, make, epochs=2, validation_data=make(""))
    _fit_both(km, om, make, epochs=3, steps_per_epoch=2)   # not restarted: 2, 1, 2
    _fit_both(km, om, lambda lib: make(lib).repeat(), epochs=2, steps_per_epoch=3)
    ds = make("")
    assert max_abs_diff(om.evaluate(ds, verbose=0), km.evaluate(ds, verbose=0)) <= TOL
    assert max_abs_diff(om.evaluate(ds, steps=2, verbose=0),
                        km.evaluate(ds, steps=2, verbose=0)) <= TOL
    xs = tf.data.Dataset.from_tensor_slices(X).batch(3)
    assert max_abs_diff(om.predict(xs, verbose=0), km.predict(xs, verbose=0)) <= TOL


def test_generator_as_validation_data_and_evaluate_predict(keras):
    km, om = _pair(keras)
    kh = km.fit(X, Y, epochs=2, batch_size=5, shuffle=False, verbose=0,
                validation_data=batches())
    oh = om.fit(X, Y, epochs=2, batch_size=5, shuffle=False, verbose=0,
                validation_data=batches())
    for key in kh.history:
        assert max_abs_diff(oh.history[key], kh.history[key]) <= TOL, key
    assert max_abs_diff(om.evaluate(batches(), verbose=0),
                        km.evaluate(batches(), verbose=0)) <= TOL
    k_pred = km.predict(((xb,) for xb, _ in batches()), verbose=0)
    assert max_abs_diff(om.predict(((xb,) for xb, _ in batches()), verbose=0), k_pred) <= TOL
    assert max_abs_diff(om.predict(batches(), verbose=0), k_pred) <= TOL


def test_evaluate_steps_on_arrays_sizes_batches_as_keras(keras):
    """With ``steps`` and no batch_size, a batch is ceil(N / steps) rows (5 here, not 32)."""
    km, om = _pair(keras)
    assert max_abs_diff(om.evaluate(X, Y, steps=1, verbose=0),
                        km.evaluate(X, Y, steps=1, verbose=0)) <= TOL
    kc, oc = [], []
    for lib, out in ((keras.callbacks, kc), (C, oc)):
        class Count(lib.Callback):
            def on_test_batch_end(self, batch, logs=None):
                out.append(batch)
        (km if lib is keras.callbacks else om).evaluate(X, Y, steps=2, verbose=0,
                                                          callbacks=[Count()])
    assert oc == kc == [0, 1]


@pytest.mark.parametrize("call", [
    lambda m, tf: m.fit(batches(), Y, verbose=0),
    lambda m, tf: m.fit(batches(), sample_weight=SW, verbose=0),
    lambda m, tf: m.fit(batches(), class_weight={0: 1.0}, verbose=0),
    lambda m, tf: m.fit(batches(), validation_split=0.2, verbose=0),
    lambda m, tf: m.fit(tf.data.Dataset.from_tensor_slices((X, Y)).batch(4), Y, verbose=0),
    lambda m, tf: m.fit(iter(()), verbose=0) if False else m.fit((b for b in ()), verbose=0),
    lambda m, tf: m.fit((xb for xb, _ in batches()), verbose=0),
], ids=["y", "sample_weight", "class_weight", "validation_split", "tf-y", "empty", "not-tuple"])
def test_what_keras_refuses_is_refused_in_keras_words(keras, tf, call):
    km, om = _pair(keras)
    with pytest.raises(ValueError) as k_err:
        call(km, tf)
    before = om.get_weights()
    with pytest.raises(ValueError) as o_err:
        call(om, tf)
    assert str(o_err.value).split(". Received")[0].split("Found incompatible")[0].split(
        "Received:")[0] in str(k_err.value)
    assert all((a == b).all() for a, b in zip(om.get_weights(), before))


def test_a_bad_batch_later_in_a_generator_names_its_index():
    from tinygrad_es.layers import Dense, Input
    from tinygrad_es.models.sequential import Sequential

    model = Sequential([Input((3,)), Dense(1)])
    model.compile(optimizer="sgd", loss="mse")

    def bad():
        yield X[:4], Y[:4]
        yield X[4:8], Y[4:8]
        yield X[8:], np.full((2, 1), "a")
    with pytest.raises(TypeError, match=r"fit\(\): in batch 2 of the data: .*numeric"):
        model.fit(bad(), verbose=0)
    with pytest.raises(ValueError, match="in batch 1 of the data: .*as many rows in y"):
        model.fit((b for b in [(X[:4], Y[:4]), (X[:4], Y[:3])]), verbose=0)


def _strip(text: str) -> list[str]:
    """The progress lines with numbers and timings blanked out."""
    text = re.sub(r"\x1b\[[0-9;]*m", "", text).replace("\b", "")
    lines = [line.strip() for line in re.split(r"[\r\n]", text) if line.strip()]
    return [re.sub(r"\d+(\.\d+)?(e[-+]\d+)?(ms|us|s)?", "#", line) for line in lines]


def test_progress_bar_with_unknown_steps_shows_what_keras_shows(keras, capsys, monkeypatch):
    """``1/Unknown`` while the length is unknown, then the learnt count, as Keras (our bar
    redraws in place only on a live terminal: this test makes stdout one)."""
    from tinygrad_es.utils import progbar

    monkeypatch.setattr(progbar, "_stdout_is_live", lambda: True)
    km, om = _pair(keras, metrics=())
    km.fit(batches(), epochs=2, verbose=2)
    k_out = _strip(capsys.readouterr().out)
    om.fit(batches(), epochs=2, verbose=2)
    assert _strip(capsys.readouterr().out) == k_out
    km.fit(batches(), epochs=1, verbose=1)
    k_out = _strip(capsys.readouterr().out)
    om.fit(batches(), epochs=1, verbose=1)
    o_out = _strip(capsys.readouterr().out)
    assert o_out[0] == k_out[0] and "#/Unknown" in o_out[0] and o_out[-1] == k_out[-1]
