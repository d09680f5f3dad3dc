"""save / load_model / save_weights / load_weights: the npz format round-trips the architecture,
the weights, the compile config and the optimizer state bit for bit, so training resumes exactly;
writes are atomic; loading never unpickles and only instantiates known classes."""

from __future__ import annotations

import json
import os
import zipfile

import numpy as np
import pytest

from tinygrad_es import layers, optimizers
from tinygrad_es.models import Sequential, load_model, saving

RNG = np.random.default_rng(0)
X = RNG.normal(size=(32, 4))
Y = (X[:, :1] - X[:, 1:2] > 0).astype(float)


def _model(name="net", compiled=True, optimizer="adam"):
    model = Sequential([layers.Input((4,)),
                        layers.Dense(8, activation="relu", kernel_regularizer="l2", name="h"),
                        layers.Dropout(0.1, seed=3, name="drop"),
                        layers.Dense(1, activation="sigmoid", name="o")], name=name)
    if compiled:
        model.compile(optimizer=optimizer, loss="binary_crossentropy", metrics=["accuracy"])
    return model


def _fit(model, epochs):
    return model.fit(X, Y, epochs=epochs, batch_size=8, shuffle=False, verbose=0)


def _equal(a, b):
    return len(a) == len(b) and all(np.array_equal(u, v) and u.dtype == v.dtype
                                    for u, v in zip(a, b))


@pytest.mark.parametrize("name", ["model.npz", "model.keras"])  # ours, and Keras's own zip
@pytest.mark.parametrize("optimizer", ["adam", "sgd_momentum"])
def test_save_load_round_trip_resumes_training_exactly(tmp_path, optimizer, name):
    if name.endswith(".keras"):
        pytest.importorskip("h5py")
    path = tmp_path / name
    if optimizer == "sgd_momentum":  # a new instance per model: an optimizer serves one model
        optimizer = optimizers.SGD(learning_rate=0.05, momentum=0.9)
    model = _model(optimizer=optimizer)
    _fit(model, 2)
    model.save(path)
    loaded = load_model(path)
    assert loaded.get_config() == model.get_config()
    assert _equal(loaded.get_weights(), model.get_weights())
    assert loaded.compiled and type(loaded.optimizer) is type(model.optimizer)
    assert loaded.optimizer.get_config() == model.optimizer.get_config()
    state, loaded_state = model.optimizer.get_state(), loaded.optimizer.get_state()
    assert sorted(state) == sorted(loaded_state)
    assert all(np.array_equal(state[k], loaded_state[k]) for k in state)
    assert np.array_equal(loaded.predict(X, verbose=0), model.predict(X, verbose=0))
    # Both continue from the same point: same Dropout stream, same optimizer state.
    for m in (model, loaded):
        m.layers[1]._rng = np.random.default_rng(9)
    h1, h2 = _fit(model, 2), _fit(loaded, 2)
    assert h1.history == h2.history
    assert _equal(loaded.get_weights(), model.get_weights())


def test_uncompiled_and_weights_only(tmp_path):
    model = _model(compiled=False)
    model.save(tmp_path / "plain.npz")
    loaded = load_model(tmp_path / "plain.npz")
    assert not loaded.compiled and _equal(loaded.get_weights(), model.get_weights())

    trained = _model()
    _fit(trained, 1)
    trained.save_weights(tmp_path / "w.weights.h5")
    fresh = _model()
    assert not _equal(fresh.get_weights(), trained.get_weights())
    fresh.load_weights(tmp_path / "w.weights.h5")
    assert _equal(fresh.get_weights(), trained.get_weights())
    assert fresh.optimizer.iterations == trained.optimizer.iterations == 4   # state came along
    with pytest.raises(ValueError, match="holds only weights"):
        load_model(tmp_path / "w.weights.h5")
    other = Sequential([layers.Dense(2, input_dim=4)])
    with pytest.raises(ValueError, match="expecting 2 weights"):
        other.load_weights(tmp_path / "w.weights.h5")


def test_file_is_plain_npz_with_documented_header(tmp_path):
    model = _model()
    _fit(model, 1)
    model.save(tmp_path / "m.npz")
    assert sorted(os.listdir(tmp_path)) == ["m.npz"]           # no suffix added, no temp left
    with np.load(tmp_path / "m.npz", allow_pickle=False) as npz:
        header = json.loads(str(npz["tinygrad_es"]))
        assert header["format"] == "tinygrad_es" and header["format_version"] == 1
        assert header["kind"] == "model" and header["model"]["class_name"] == "Sequential"
        assert [e["name"] for e in header["weights"]] == ["h/kernel", "h/bias", "o/kernel",
                                                          "o/bias"]
        for entry, weight in zip(header["weights"], model.weights):
            assert np.array_equal(npz[entry["key"]], weight.data)
        assert header["compile_config"]["loss"] == "binary_crossentropy"
        assert header["optimizer"]["class_name"] == "Adam"
        names = [e["name"] for e in header["optimizer"]["state"]]
        assert names[:2] == ["iterations", "learning_rate"]


def test_a_failed_save_leaves_the_old_file_intact(tmp_path, monkeypatch):
    path = tmp_path / "model.npz"
    model = _model()
    model.save(path)
    before = path.read_bytes()
    _fit(model, 1)

    def crash(*args, **kwargs):
        raise OSError("disk full (simulated)")
    monkeypatch.setattr(saving.np, "savez", crash)
    with pytest.raises(OSError, match="simulated"):
        model.save(path)
    assert path.read_bytes() == before and os.listdir(tmp_path) == ["model.npz"]
    monkeypatch.undo()
    assert not _equal(load_model(path).get_weights(), model.get_weights())
    model.save(path)
    assert _equal(load_model(path).get_weights(), model.get_weights())


def _rewrite(path, edit):
    """Rewrite a saved file with its JSON header changed by ``edit(header)``."""
    with np.load(path, allow_pickle=False) as npz:
        arrays = {k: npz[k] for k in npz.files}
    header = json.loads(str(arrays["tinygrad_es"]))
    edit(header)
    arrays["tinygrad_es"] = np.array(json.dumps(header))
    with open(path, "wb") as f:
        np.savez(f, **arrays)


def test_loading_only_instantiates_known_classes(tmp_path):
    path = tmp_path / "m.npz"
    _model(compiled=False).save(path)
    _rewrite(path, lambda h: h["model"]["config"]["layers"][1].update(class_name="os.system"))
    with pytest.raises(ValueError, match="Unknown layer class 'os.system'.*Valid names: .*Dense"):
        load_model(path)
    _model(compiled=False).save(path)
    _rewrite(path, lambda h: h["model"].update(class_name="MyModel"))
    with pytest.raises(ValueError, match="unknown model class 'MyModel'"):
        load_model(path)
    _model(compiled=False).save(path)
    _rewrite(path, lambda h: h["model"]["config"]["layers"][1]["config"].update(
        kernel_initializer={"class_name": "eval", "config": {}}))
    with pytest.raises(ValueError, match="Unknown initializer 'eval'"):
        load_model(path)


def test_pickles_and_foreign_files_are_refused(tmp_path, keras):
    pickled = tmp_path / "pickled.npz"
    np.savez(pickled, tinygrad_es=np.array([{"evil": 1}], dtype=object))
    with pytest.raises(ValueError, match="not a tinygrad_es file"):
        load_model(pickled)
    ref = keras.Sequential([keras.Input((4,)), keras.layers.Dense(1)])
    ref.save(tmp_path / "k.keras")
    assert zipfile.is_zipfile(tmp_path / "k.keras")   # Keras's zip: read as such, by content
    assert _equal(load_model(tmp_path / "k.keras").get_weights(), ref.get_weights())
    ref.save(tmp_path / "k.h5")   # Keras 2's legacy HDF5 model: refused by name
    with pytest.raises(ValueError, match="legacy format, which cannot be loaded"):
        load_model(tmp_path / "k.h5")
    (tmp_path / "junk.npz").write_bytes(b"not a zip")
    with pytest.raises(ValueError, match="not a tinygrad_es file"):
        load_model(tmp_path / "junk.npz")
    with pytest.raises(FileNotFoundError):
        load_model(tmp_path / "missing.npz")
    with pytest.raises(ValueError, match="not built"):
        Sequential([layers.Dense(1)]).save(tmp_path / "unbuilt.npz")
