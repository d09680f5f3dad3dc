"""Keras 3's own files both ways, checked against real Keras in the same run: our ``.keras`` opens
in ``keras.saving.load_model`` with Keras's own configs and bit-equal weights and optimizer
variables, a Keras-written ``.keras`` / ``.weights.h5`` opens here, training resumes, unsafe files
are refused before anything is built, and ``to_keras`` / ``from_keras`` round-trip live models.

Bit-exact asserts are on what the file carries (weights, optimizer variables, configs, and the
predictions of two Keras models holding them); our predictions against Keras's are within
``PARITY_TOL`` (BLAS and the convolution kernels decide the last bits, not the file).
"""

from __future__ import annotations

import json
import os
import zipfile

import numpy as np
import pytest

from conftest import PARITY_TOL, keras_floatx
from tinygrad_es import layers, optimizers
from tinygrad_es.models import ModelFileError, Sequential, from_keras, load_model

pytest.importorskip("h5py")

RNG = np.random.default_rng(0)


def _model(lib):
    """Every layer class we share with Keras, in one small stack."""
    L = lib.layers
    return lib.Sequential([
        lib.Input((6, 6, 2)), L.ZeroPadding2D(), L.Conv2D(3, 3), L.MaxPooling2D(),
        L.Conv2DTranspose(2, 2, strides=2), L.AveragePooling2D(2), L.UpSampling2D(),
        L.GlobalMaxPooling2D(), L.Reshape((2, 1)), L.Conv1D(2, 1), L.MaxPooling1D(1),
        L.AveragePooling1D(1), L.GlobalAveragePooling1D(), L.Flatten(),
        L.Dense(6, kernel_regularizer="l2", name="h"), L.LeakyReLU(0.2),
        L.Dense(6, activation="tanh"), L.PReLU(), L.ELU(), L.Dense(5), L.ReLU(), L.Dropout(0.0),
        L.Activation("sigmoid"), L.Dense(3), L.Softmax()])


def _eager(model):
    """A Keras model that runs eagerly: no graph tracing for a few tiny batches."""
    model.run_eagerly = True
    return model


def _out(model, x):
    return np.asarray(model(x))


def _data(model, n=12):
    x = RNG.normal(size=(n,) + tuple(model.input_shape[1:]))
    y = np.eye(3)[np.arange(n) % 3]
    return x.astype(model.dtype), y.astype(model.dtype)


def _compiled(model, optimizer=None):
    model.compile(optimizer=optimizer or optimizers.Adam(0.01), loss="categorical_crossentropy",
                  metrics=["accuracy"])
    return model


def _fit(model, x, y, epochs=1):
    return model.fit(x, y, epochs=epochs, batch_size=4, shuffle=False, verbose=0)


def _h5_arrays(path):
    import h5py

    with zipfile.ZipFile(path) as zf, h5py.File(zf.open("model.weights.h5"), "r") as f:
        out = {}
        f.visititems(lambda name, obj: out.__setitem__(name, obj[()])
                     if isinstance(obj, h5py.Dataset) else None)
        return out


def _variables(opt):
    return [np.asarray(v) for v in opt.variables]


# ----- ours -> Keras -----

@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_our_keras_file_is_keras_own(tmp_path, keras, dtype):
    import tinygrad_es

    with keras_floatx(keras, dtype):
        ours = _compiled(_model(tinygrad_es))
        x, y = _data(ours)
        _fit(ours, x, y)
        ours.save(tmp_path / "m.keras")
        theirs = _eager(keras.saving.load_model(tmp_path / "m.keras"))
        # Keras writes back exactly what we wrote: configs, weights, optimizer variables.
        theirs.save(tmp_path / "k.keras")
        with zipfile.ZipFile(tmp_path / "m.keras") as a, zipfile.ZipFile(tmp_path / "k.keras") as b:
            assert json.loads(a.read("config.json")) == json.loads(b.read("config.json"))
        mine, keras_own = _h5_arrays(tmp_path / "m.keras"), _h5_arrays(tmp_path / "k.keras")
        assert sorted(mine) == sorted(keras_own)
        assert all(np.array_equal(mine[k], keras_own[k]) and mine[k].dtype == keras_own[k].dtype
                   for k in mine)
        assert all(np.array_equal(a, b) for a, b in zip(theirs.get_weights(), ours.get_weights()))
        assert all(np.array_equal(a, b) for a, b in zip(_variables(theirs.optimizer),
                                                        _variables(ours.optimizer)))
        # Predictions: two Keras models holding these weights agree bit for bit; ours within tol.
        live = ours.to_keras()
        assert np.array_equal(_out(theirs, x), _out(live, x))
        np.testing.assert_allclose(_out(theirs, x), ours.predict(x, verbose=0),
                                   rtol=PARITY_TOL[dtype], atol=PARITY_TOL[dtype])
        # Keras resumes where we stopped (as from its own file: the contents are equal), as we do.
        _fit(theirs, x, y), _fit(ours, x, y)
        tol = 1e-5 if dtype == "float32" else 1e-11   # two epochs of updates on BLAS's last bits
        for a, b in zip(theirs.get_weights(), ours.get_weights()):
            np.testing.assert_allclose(a, b, rtol=tol, atol=tol)
        assert int(theirs.optimizer.iterations) == ours.optimizer.iterations == 6


# ----- Keras -> ours -----

@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_keras_written_file_loads_and_resumes(tmp_path, keras, dtype):
    with keras_floatx(keras, dtype):
        ref = _model(keras)
        ref.compile(optimizer=keras.optimizers.Adam(0.01), loss="categorical_crossentropy",
                    metrics=["accuracy"], run_eagerly=True)
        x, y = _data(ref)
        _fit(ref, x, y)
        ref.save(tmp_path / "k.keras")
        ours = load_model(tmp_path / "k.keras")
        assert ours.compiled and type(ours.optimizer).__name__ == "Adam"
        assert all(np.array_equal(a, b) for a, b in zip(ours.get_weights(), ref.get_weights()))
        assert all(np.array_equal(a, b) and a.dtype == b.dtype
                   for a, b in zip(_variables(ours.optimizer), _variables(ref.optimizer)))
        np.testing.assert_allclose(ours.predict(x, verbose=0), _out(ref, x),
                                   rtol=PARITY_TOL[dtype], atol=PARITY_TOL[dtype])
        _fit(ours, x, y), _fit(ref, x, y)
        tol = 1e-5 if dtype == "float32" else 1e-11
        for a, b in zip(ours.get_weights(), ref.get_weights()):
            np.testing.assert_allclose(a, b, rtol=tol, atol=tol)
        assert ours.optimizer.iterations == int(ref.optimizer.iterations) == 6


# Keras warns so for its own file too: an optimizer saved before its first step has no slots.
@pytest.mark.filterwarnings("ignore:Skipping variable loading for optimizer")
def test_compile_config_survives_both_ways(tmp_path, keras):
    import tinygrad_es

    ref = _model(keras)
    ref.compile(optimizer=keras.optimizers.SGD(learning_rate=keras.optimizers.schedules
                                               .ExponentialDecay(0.1, 10, 0.9), momentum=0.9),
                loss=keras.losses.CategoricalCrossentropy(label_smoothing=0.1),
                metrics=["accuracy", keras.metrics.CategoricalAccuracy(name="acc")],
                run_eagerly=True)
    ref.save(tmp_path / "k.keras")
    ours = load_model(tmp_path / "k.keras")
    assert ours.optimizer.get_config() == ref.optimizer.get_config() | {
        "learning_rate": ours.optimizer.get_config()["learning_rate"]}
    assert ours.optimizer.get_config()["learning_rate"]["config"] == \
        ref.optimizer.get_config()["learning_rate"]["config"]
    assert ours.loss.get_config() == ref.loss.get_config()
    ours.save(tmp_path / "m.keras")
    back = keras.saving.load_model(tmp_path / "m.keras")
    assert back.get_compile_config() == {**ref.get_compile_config(), "run_eagerly": False}
    x, y = _data(ours)
    assert ours.evaluate(x, y, verbose=0) == pytest.approx(ref.evaluate(x, y, verbose=0),
                                                           rel=1e-6)
    del tinygrad_es


# ----- weights only -----

@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_weights_h5_both_ways(tmp_path, keras, dtype):
    import tinygrad_es

    with keras_floatx(keras, dtype):
        ours, ref = _compiled(_model(tinygrad_es)), _model(keras)
        x, y = _data(ours)
        _fit(ours, x, y)
        ours.save_weights(tmp_path / "m.weights.h5")
        ref.load_weights(tmp_path / "m.weights.h5")
        assert all(np.array_equal(a, b) for a, b in zip(ref.get_weights(), ours.get_weights()))
        ref.set_weights([w * 0.5 for w in ref.get_weights()])
        ref.save_weights(tmp_path / "k.weights.h5")
        fresh = _compiled(_model(tinygrad_es))
        fresh.load_weights(tmp_path / "k.weights.h5")
        assert all(np.array_equal(a, b) for a, b in zip(fresh.get_weights(), ref.get_weights()))
        fresh.load_weights(tmp_path / "m.weights.h5")   # and ours back, optimizer included
        assert fresh.optimizer.iterations == ours.optimizer.iterations == 3
        assert all(np.array_equal(a, b) for a, b in zip(_variables(fresh.optimizer),
                                                        _variables(ours.optimizer)))


# ----- live models -----

@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_to_keras_and_from_keras_round_trip(keras, dtype):
    import tinygrad_es

    with keras_floatx(keras, dtype):
        ours = _compiled(_model(tinygrad_es))
        x, y = _data(ours)
        _fit(ours, x, y)
        live = _eager(ours.to_keras())
        assert isinstance(live, keras.Model) and live.compiled
        assert all(np.array_equal(a, b) for a, b in zip(live.get_weights(), ours.get_weights()))
        np.testing.assert_allclose(_out(live, x), ours.predict(x, verbose=0),
                                   rtol=PARITY_TOL[dtype], atol=PARITY_TOL[dtype])
        _fit(live, x, y)   # Keras trains it from here (fresh optimizer state)
        back = from_keras(live)
        assert back.get_config()["layers"][1:] and back.compiled
        assert all(np.array_equal(a, b) for a, b in zip(back.get_weights(), live.get_weights()))
        assert back.optimizer.iterations == int(live.optimizer.iterations) == 3
        np.testing.assert_allclose(back.predict(x, verbose=0), _out(live, x),
                                   rtol=PARITY_TOL[dtype], atol=PARITY_TOL[dtype])


def test_layers_keras_lacks_become_activation(tmp_path, keras):
    ours = Sequential([layers.Input((3,)), layers.Dense(2), layers.Sigmoid(), layers.Tanh(),
                       layers.SELU()])
    ours.save(tmp_path / "m.keras")
    theirs = keras.saving.load_model(tmp_path / "m.keras")
    assert [type(l).__name__ for l in theirs.layers] == ["Dense"] + ["Activation"] * 3
    x = RNG.normal(size=(4, 3)).astype("float32")
    np.testing.assert_allclose(_out(theirs, x), ours.predict(x, verbose=0), rtol=1e-6,
                               atol=1e-6)


# ----- safety and damage -----

def _rewrite_config(src, dst, edit):
    with zipfile.ZipFile(src) as zin, zipfile.ZipFile(dst, "w") as zout:
        for name in zin.namelist():
            data = zin.read(name)
            if name == "config.json":
                document = json.loads(data)
                edit(document)
                data = json.dumps(document)
            zout.writestr(name, data)


def test_lambda_and_unknown_classes_are_refused_before_anything_runs(tmp_path, keras):
    ran = tmp_path / "ran"
    fn = f"lambda x: (open({str(ran)!r}, 'w'), x)[1]"
    model = keras.Sequential([keras.Input((3,)), keras.layers.Lambda(eval(fn))])
    model.save(tmp_path / "lambda.keras")
    ran.unlink()   # Keras ran the lambda when it built the model; loading must not
    with pytest.raises(ModelFileError, match="Lambda layer .* never loaded") as info:
        load_model(tmp_path / "lambda.keras")
    assert not ran.exists() and info.value.filepath == str(tmp_path / "lambda.keras")
    keras.Sequential([keras.Input((3, 2)), keras.layers.LSTM(2)]).save(tmp_path / "lstm.keras")
    with pytest.raises(ModelFileError, match="is a LSTM, which tinygrad_es does not support"):
        load_model(tmp_path / "lstm.keras")
    base = tmp_path / "dense.keras"
    keras.Sequential([keras.Input((3,)), keras.layers.Dense(2)]).save(base)
    cases = {"os.system": lambda d: d["config"]["layers"][1].update(module="os",
                                                                     class_name="system"),
             "custom class": lambda d: d["config"]["layers"][1].update(
                 registered_name="mypkg>MyDense"),
             # a Sequential's config relabelled: a Functional config must list its graph
             "Functional config has no 'input_layers'": lambda d: d.update(
                 class_name="Functional")}
    for words, edit in cases.items():
        _rewrite_config(base, tmp_path / "bad.keras", edit)
        with pytest.raises(ModelFileError) as info:
            load_model(tmp_path / "bad.keras")
        assert words.split(".")[0] in str(info.value), words


def test_damaged_files_raise_model_file_error(tmp_path, keras):
    path = tmp_path / "k.keras"
    keras.Sequential([keras.Input((3,)), keras.layers.Dense(2)]).save(path)
    data = path.read_bytes()
    for cut in (10, len(data) // 2, len(data) - 30):
        (tmp_path / "cut.keras").write_bytes(data[:cut])
        with pytest.raises(ModelFileError):
            load_model(tmp_path / "cut.keras")
    with zipfile.ZipFile(path) as zin, zipfile.ZipFile(tmp_path / "h5.keras", "w") as zout:
        for name in zin.namelist():
            blob = zin.read(name)
            zout.writestr(name, blob[: len(blob) // 2] if name.endswith(".h5") else blob)
    with pytest.raises(ModelFileError, match="damaged"):
        load_model(tmp_path / "h5.keras")
    _rewrite_config(path, tmp_path / "shape.keras",
                    lambda d: d["config"]["layers"][1]["config"].update(units=4))
    with pytest.raises(ModelFileError, match="shape"):
        load_model(tmp_path / "shape.keras")
    (tmp_path / "w.weights.h5").write_bytes(b"\x89HDF\r\n\x1a\n" + b"\0" * 100)
    with pytest.raises(ModelFileError, match="damaged"):
        _model(__import__("tinygrad_es")).load_weights(tmp_path / "w.weights.h5")


def test_saving_over_an_existing_file_is_transactional(tmp_path, keras, monkeypatch):
    from tinygrad_es.models import keras_h5

    path = tmp_path / "m.keras"
    first = Sequential([layers.Input((3,)), layers.Dense(2)])
    first.save(path)
    before = path.read_bytes()

    def broken(model):
        raise RuntimeError("disk full")

    monkeypatch.setattr(keras_h5, "weights_h5_bytes", broken)
    with pytest.raises(RuntimeError, match="disk full"):
        Sequential([layers.Input((3,)), layers.Dense(5)]).save(path)
    assert path.read_bytes() == before and os.listdir(tmp_path) == ["m.keras"]
    monkeypatch.undo()
    unsupported = Sequential([layers.Input((3,)), layers.Dense(2, kernel_initializer="ones")])
    unsupported.save(path)   # replaced whole
    assert np.array_equal(keras.saving.load_model(path).get_weights()[0], np.ones((3, 2)))
    assert os.listdir(tmp_path) == ["m.keras"]


def test_h5py_missing_says_how_to_install(monkeypatch, tmp_path):
    import builtins

    real_import = builtins.__import__

    def no_h5py(name, *args, **kwargs):
        if name == "h5py":
            raise ImportError("No module named 'h5py'")
        return real_import(name, *args, **kwargs)

    model = Sequential([layers.Input((3,)), layers.Dense(2)])
    model.save(tmp_path / "k.keras")
    monkeypatch.setattr(builtins, "__import__", no_h5py)
    for action in (lambda: model.save(tmp_path / "m.keras"),
                   lambda: load_model(tmp_path / "k.keras"),
                   lambda: model.save_weights(tmp_path / "m.weights.h5")):
        with pytest.raises(ImportError, match=r"tinygrad_es\[keras\]"):
            action()
    model.save(tmp_path / "m.npz")   # our own format needs numpy only
    assert sorted(os.listdir(tmp_path)) == ["k.keras", "m.npz"]


def test_mutated_keras_files_load_or_raise_model_file_error(tmp_path, keras):
    """A seeded fuzz: flipped and dropped bytes anywhere in a .keras / .weights.h5 file."""
    import tinygrad_es

    model = _compiled(_model(tinygrad_es))
    _fit(model, *_data(model))
    model.save(tmp_path / "m.keras")
    model.save_weights(tmp_path / "m.weights.h5")
    rng = np.random.default_rng(7)
    for name in ("m.keras", "m.weights.h5"):
        data = bytearray((tmp_path / name).read_bytes())
        for i in range(40):
            mutant = bytearray(data)
            if i % 4 == 3:
                mutant = mutant[: rng.integers(1, len(mutant))]
            else:
                for pos in rng.integers(0, len(mutant), size=1 + i % 3):
                    mutant[pos] ^= 1 << int(rng.integers(8))
            path = tmp_path / f"x{i}{name[1:]}"
            path.write_bytes(bytes(mutant))
            try:
                if name.endswith(".keras"):
                    load_model(path)
                else:
                    _compiled(_model(tinygrad_es)).load_weights(path)
            except ModelFileError:
                pass


def test_to_keras_under_a_distribution_strategy(tf, keras):
    """The README's path out: prototype here, then train under tf.distribute (CPU is enough)."""
    import tinygrad_es

    model = _compiled(Sequential([layers.Input((4,)), layers.Dense(3, activation="softmax")]))
    x = RNG.normal(size=(16, 4)).astype("float32")
    y = np.eye(3, dtype="float32")[np.arange(16) % 3]
    _fit(model, x, y)
    strategy = tf.distribute.MirroredStrategy()
    with strategy.scope():   # Keras's rule: create (and compile) the model inside the scope
        live = model.to_keras()
    assert all(strategy.extended.variable_created_in_scope(v.value) for v in live.weights)
    np.testing.assert_allclose(_out(live, x), model.predict(x, verbose=0), rtol=1e-6, atol=1e-6)
    history = live.fit(x, y, epochs=2, batch_size=8, verbose=0)
    assert np.isfinite(history.history["loss"]).all()
    back = tinygrad_es.models.from_keras(live)
    assert all(np.array_equal(a, b) for a, b in zip(back.get_weights(), live.get_weights()))


def test_format_is_told_by_content_not_by_name(tmp_path, keras):
    model = _compiled(Sequential([layers.Input((3,)), layers.Dense(2)]))
    model.save(tmp_path / "ours.npz")
    os.replace(tmp_path / "ours.npz", tmp_path / "ours.keras")   # our npz under Keras's name
    model.save(tmp_path / "theirs.keras")
    os.replace(tmp_path / "theirs.keras", tmp_path / "theirs.bin")   # Keras's zip, any name
    for name in ("ours.keras", "theirs.bin"):
        loaded = load_model(tmp_path / name)
        assert all(np.array_equal(a, b) for a, b in zip(loaded.get_weights(),
                                                        model.get_weights())), name
    model.save_weights(tmp_path / "w.weights.h5")
    os.replace(tmp_path / "w.weights.h5", tmp_path / "w.bin")
    fresh = Sequential([layers.Input((3,)), layers.Dense(2)])
    fresh.load_weights(tmp_path / "w.bin")
    fresh.load_weights(tmp_path / "theirs.bin")   # a .keras gives its weights, as in Keras
    assert all(np.array_equal(a, b) for a, b in zip(fresh.get_weights(), model.get_weights()))


def test_functional_files_dispatch_on_class_name(tmp_path, keras):
    """A Functional file goes to ``MODEL_CLASSES["Functional"].from_config`` once that exists
    (here a stand-in that reads the layer list; the real class is another module's)."""
    from tinygrad_es.models import MODEL_CLASSES
    from tinygrad_es.models.keras_format import read_keras
    from tinygrad_es.models._archive import Archive

    inputs = keras.Input((3,))
    outputs = keras.layers.Dense(2)(keras.layers.Dense(4, activation="relu")(inputs))
    ref = keras.Model(inputs, outputs)
    ref.save(tmp_path / "f.keras")
    if "Functional" not in MODEL_CLASSES:
        with pytest.raises(ModelFileError, match="Functional keras.Model, which this version"):
            load_model(tmp_path / "f.keras")

    class StandIn:
        @classmethod
        def from_config(cls, config):
            entries = [{k: v for k, v in e.items() if k not in ("name", "inbound_nodes")}
                       for e in config["layers"]]
            return Sequential.from_config({"name": config["name"], "layers": entries})

    with Archive(str(tmp_path / "f.keras")) as archive:
        model = read_keras(archive, {"Functional": StandIn})
    assert all(np.array_equal(a, b) for a, b in zip(model.get_weights(), ref.get_weights()))


def test_wrapper_optimizer_state_is_not_restored_from_keras_format_and_says_so(tmp_path):
    model = _compiled(Sequential([layers.Input((3,)), layers.Dense(3, activation="softmax")]),
                      optimizers.LossScaleOptimizer(optimizers.Adam()))
    x = RNG.normal(size=(8, 3)).astype("float32")
    _fit(model, x, np.eye(3, dtype="float32")[np.arange(8) % 3])
    model.save(tmp_path / "m.keras")
    with pytest.warns(UserWarning, match="LossScaleOptimizer is not restored"):
        loaded = load_model(tmp_path / "m.keras")
    assert all(np.array_equal(a, b) for a, b in zip(loaded.get_weights(), model.get_weights()))
    assert type(loaded.optimizer) is optimizers.LossScaleOptimizer
    assert loaded.optimizer.iterations == 0


def test_load_model_takes_keras_arguments(tmp_path, keras):
    ref = keras.Sequential([keras.Input((3,)), keras.layers.Dense(2)])
    ref.compile(optimizer="adam", loss="mse")
    ref.save(tmp_path / "k.keras")
    _compiled(Sequential([layers.Input((3,)), layers.Dense(2)])).save(tmp_path / "m.npz")
    for name in ("k.keras", "m.npz"):
        assert load_model(tmp_path / name).compiled
        assert not load_model(tmp_path / name, compile=False).compiled
    with pytest.raises(ValueError, match="custom_objects are not supported"):
        load_model(tmp_path / "k.keras", custom_objects={"MyLayer": object})


def _normalizing_model(lib, x):
    L = lib.layers
    norm = L.Normalization()
    norm.adapt(x)
    return lib.Sequential([lib.Input((4,)), norm, L.Dense(5), L.BatchNormalization(),
                           L.LayerNormalization(), L.Rescaling(0.5, offset=0.1), L.Dense(3)])


@pytest.mark.parametrize("writer", ["keras", "ours"])
def test_normalization_layers_cross_over_both_ways(tmp_path, keras, writer):
    # Keras keeps Normalization's count as int64: our reader accepts integer layer variables.
    x = RNG.normal(size=(16, 4)).astype("float32")
    lib, reader = (keras, None) if writer == "keras" else (__import__("tinygrad_es"), keras)
    model = _normalizing_model(lib, x)
    model.compile(optimizer="sgd", loss="mse")
    model.fit(x, x[:, :3], epochs=1, batch_size=8, verbose=0)   # moving statistics move
    model.save(tmp_path / "n.keras")
    back = (load_model(tmp_path / "n.keras") if reader is None
            else keras.saving.load_model(tmp_path / "n.keras"))
    for a, b in zip(back.get_weights(), model.get_weights()):
        np.testing.assert_array_equal(np.asarray(a, np.float64), np.asarray(b, np.float64))
    np.testing.assert_allclose(back.predict(x, verbose=0), model.predict(x, verbose=0),
                               rtol=PARITY_TOL["float32"], atol=PARITY_TOL["float32"])
