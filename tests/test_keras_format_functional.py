"""Functional models in Keras 3's own files, both ways, checked against real Keras in the same
run: several inputs and outputs, dict outputs, shared layers, a Sequential and a Functional used
as layers, merge layers and tensor operations (``+ - * / @``, unary minus, ``x[...]``).

The same model is built in Keras and here (``K`` is either library, layer names counted from zero
in both) and ours takes Keras's weights, so the files of the two can be compared entry by entry:
the h5 layout (nested models' paths too) and the weights bit for bit, the layers' classes and
modules in ``config.json``; our predictions against Keras's are within ``PARITY_TOL`` (BLAS
decides the last bits, not the file). A subclassed model's ``.weights.h5`` follows its attributes,
as Keras's does; its ``.keras`` save is a clear error (its code cannot be written).
"""

from __future__ import annotations

import json
import zipfile

import numpy as np
import pytest

from conftest import PARITY_TOL, keras_floatx
import tinygrad_es
from tinygrad_es.models import Functional, ModelFileError, from_keras, load_model

h5py = pytest.importorskip("h5py")

RNG = np.random.default_rng(3)
XA, XB = RNG.normal(size=(10, 4)), RNG.normal(size=(10, 3))
Y = RNG.integers(0, 2, size=10)


# ----- the models, written once for both libraries -----

def graph(K):
    """Two inputs, a shared layer, a merge layer, a nested Sequential and Functional, every
    tensor operation we have (constants on both sides), and dict outputs."""
    L = K.layers
    a, b = K.Input((4,), name="a"), K.Input((3,), name="b")
    shared = L.Dense(3, activation="tanh", name="shared")
    h = L.Dense(3, name="h")(a)
    s = L.Add(name="merge")([shared(h), shared(b)])
    r = (h + b) * 0.5 - s / (2.0 + s * s) + 1.0 - (-s)[:, :1] * 3.0
    outer = L.Reshape((3, 1))(r) @ L.Reshape((1, 3))(s)          # (None, 3, 3)
    seq = K.Sequential([L.Flatten(), L.Dense(4, activation="relu", name="s1")], name="seq")
    i = K.Input((4,), name="fin_in")
    inner = K.Model(i, L.Dense(2, name="fin_d")(i), name="fin")
    y = inner(seq(outer))
    return K.Model([a, b], {"score": L.Dense(1, name="score")(r), "cls": L.Softmax(name="sm")(y)},
                   name="graph")


def chain(K):
    """One input, one output (a classifier to compile and fit) with an op node."""
    x = K.Input((4,), name="x")
    h = K.layers.Dense(5, activation="relu", name="h")(x)
    return K.Model(x, K.layers.Dense(2, activation="softmax", name="out")(h * 2.0 + h),
                   name="chain")


def models_in_sequential(K):
    """A Functional and a Sequential as layers of a Sequential."""
    i = K.Input((4,), name="fi")
    inner = K.Model(i, K.layers.Dense(3, activation="relu", name="fd")(i), name="f")
    seq = K.Sequential([K.Input((3,)), K.layers.Dense(2, name="sd")], name="s_in")
    return K.Sequential([K.Input((4,)), inner, seq, K.layers.Dense(1, name="o")], name="outer")


def _both(keras, build):
    keras.backend.clear_session()
    tinygrad_es.backend.clear_session()
    keras.utils.set_random_seed(0)   # the same initial weights every run
    ref, ours = build(keras), build(tinygrad_es)
    ours.set_weights(ref.get_weights())
    return ours, ref


def _x(model, dtype):
    return ([XA.astype(dtype), XB.astype(dtype)] if isinstance(model.input_shape, list)
            else XA.astype(dtype))


def _flat(out):
    """Predictions as a list (dict outputs by sorted name, as Keras's tree flattens them)."""
    if isinstance(out, dict):
        return [np.asarray(out[k]) for k in sorted(out)]
    return [np.asarray(o) for o in out] if isinstance(out, (list, tuple)) else [np.asarray(out)]


def _worst(got, want, dtype):
    """The largest abs difference, printed with the rel one; each value within PARITY_TOL
    (abs and rel, as ``assert_allclose``: BLAS's sums round the last bits)."""
    got, want = _flat(got), _flat(want)
    assert len(got) == len(want)
    for g, w in zip(got, want):
        np.testing.assert_allclose(g, w, rtol=PARITY_TOL[dtype], atol=PARITY_TOL[dtype])
    abs_ = max(float(np.max(np.abs(g - w))) for g, w in zip(got, want))
    rel = max(float(np.max(np.abs(g - w) / np.maximum(np.abs(w), 1e-30)))
              for g, w in zip(got, want))
    print(f"\nPARITY functional .keras {dtype}: abs {abs_:.1e}, rel {rel:.1e}")
    return abs_


def _same_weights(a, b):
    return len(a) == len(b) and all(np.array_equal(x, y) and x.dtype == y.dtype
                                    for x, y in zip(a, b))


def _h5_tree(path):
    """{h5 path: (shape, dtype, bytes)} for arrays, {path: name attribute} for groups."""
    with zipfile.ZipFile(path) as zf, h5py.File(zf.open("model.weights.h5"), "r") as f:
        out = {}

        def visit(name, obj):
            if isinstance(obj, h5py.Dataset):
                out[name] = (obj.shape, str(obj.dtype), obj[()].tobytes())
            else:
                out[name] = obj.attrs.get("name")
        f.visititems(visit)
        return out


def _layer_kinds(path):
    """(module, class_name, name) of every entry in config.json, nested models' entries too.

    NOTE: Keras's Sequential, built by a call, writes the InputLayer it made for itself; ours
    makes none (sequential.py), so a nested Sequential's InputLayer is left out of the compare
    (Keras reads the file either way: the Sequential is built when the graph calls it).
    """
    with zipfile.ZipFile(path) as zf:
        document = json.loads(zf.read("config.json"))
    out = []

    def walk(entry, in_sequential=False):
        if not (in_sequential and entry["class_name"] == "InputLayer"):
            out.append((entry["module"], entry["class_name"], entry.get("name")))
        for inner in entry["config"].get("layers", []):
            walk(inner, entry["class_name"] == "Sequential")
    walk(document)
    return out, [document["config"].get(k) for k in ("input_layers", "output_layers")]


# ----- ours -> Keras -----

CASES = pytest.mark.parametrize("build, dtype", [(graph, "float32"), (graph, "float64"),
                                                 (models_in_sequential, "float32")],
                                 ids=["graph-float32", "graph-float64", "in_sequential-float32"])


@CASES
def test_our_functional_keras_file_opens_in_keras(tmp_path, keras, build, dtype):
    with keras_floatx(keras, dtype):
        ours, ref = _both(keras, build)
        ours.save(tmp_path / "ours.keras")
        ref.save(tmp_path / "ref.keras")
        # the same h5 layout as Keras's own file (nested models' paths), weights bit for bit
        assert _h5_tree(tmp_path / "ours.keras") == _h5_tree(tmp_path / "ref.keras")
        assert any("/layers/" in path for path in _h5_tree(tmp_path / "ours.keras"))
        # the same entries: modules (ops in keras.src.ops.numpy), classes, names, inputs, outputs
        assert _layer_kinds(tmp_path / "ours.keras") == _layer_kinds(tmp_path / "ref.keras")
        theirs = keras.saving.load_model(tmp_path / "ours.keras")
        assert _same_weights(theirs.get_weights(), ours.get_weights())
        x = _x(ours, dtype)
        assert np.array_equal(_flat(theirs(x))[0], _flat(ref(x))[0])   # Keras holds Keras's
        _worst(ours.predict(x, verbose=0), theirs(x), dtype)


def test_compiled_functional_resumes_in_keras(tmp_path, keras):
    ours, _ = _both(keras, chain)
    ours.compile(optimizer=tinygrad_es.optimizers.Adam(0.01),
                 loss="sparse_categorical_crossentropy")
    ours.fit(XA.astype("float32"), Y, epochs=1, batch_size=5, verbose=0)
    ours.save(tmp_path / "c.keras")
    theirs = keras.saving.load_model(tmp_path / "c.keras")
    assert theirs.compiled and int(theirs.optimizer.iterations) == ours.optimizer.iterations == 2
    assert _same_weights([np.asarray(v) for v in theirs.optimizer.variables],
                         [np.asarray(v) for v in ours.optimizer.variables])


# ----- Keras -> ours -----

@CASES
def test_keras_functional_file_loads_here(tmp_path, keras, build, dtype):
    with keras_floatx(keras, dtype):
        _, ref = _both(keras, build)
        ref.save(tmp_path / "k.keras")
        ours = load_model(tmp_path / "k.keras")
        assert type(ours).__name__ == type(ref).__name__
        assert [type(l).__name__ for l in ours.layers] == [type(l).__name__ for l in ref.layers]
        assert _same_weights(ours.get_weights(), ref.get_weights())
        x = _x(ours, dtype)
        if build is graph:
            assert sorted(ours.predict(x, verbose=0)) == ["cls", "score"]
        _worst(ours.predict(x, verbose=0), ref(x), dtype)
        ours.save(tmp_path / "back.keras")   # and back again: Keras's own h5 layout
        assert _h5_tree(tmp_path / "back.keras") == _h5_tree(tmp_path / "k.keras")


def test_keras_compiled_functional_file_resumes_here(tmp_path, keras):
    _, ref = _both(keras, chain)
    ref.compile(optimizer=keras.optimizers.Adam(0.01), loss="sparse_categorical_crossentropy",
                run_eagerly=True)
    ref.fit(XA.astype("float32"), Y, epochs=1, batch_size=5, verbose=0)
    ref.save(tmp_path / "k.keras")
    ours = load_model(tmp_path / "k.keras")
    assert ours.compiled and ours.optimizer.iterations == int(ref.optimizer.iterations) == 2
    assert _same_weights([np.asarray(v) for v in ours.optimizer.variables],
                         [np.asarray(v) for v in ref.optimizer.variables])


# ----- live models across -----

@CASES
def test_to_keras_and_from_keras_functional(keras, build, dtype):
    with keras_floatx(keras, dtype):
        ours, _ = _both(keras, build)
        live = ours.to_keras()
        assert isinstance(live, keras.Model) and _same_weights(live.get_weights(),
                                                               ours.get_weights())
        x = _x(ours, dtype)
        _worst(ours.predict(x, verbose=0), live(x), dtype)
        back = from_keras(live)
        assert type(back) is type(ours) and _same_weights(back.get_weights(),
                                                          live.get_weights())
        assert [l.name for l in back.layers] == [l.name for l in ours.layers]
        if isinstance(ours, Functional):
            assert [op.name for op in back.operations] == [op.name for op in ours.operations]
        _worst(back.predict(x, verbose=0), live(x), dtype)


# ----- what is refused, and said so -----

def test_keras_ops_we_lack_are_refused_before_anything_runs(tmp_path, keras):
    x = keras.Input((3,), name="x")
    keras.Model(x, keras.layers.Dense(2)(keras.ops.abs(x))).save(tmp_path / "abs.keras")
    with pytest.raises(ModelFileError, match="is a Absolute .*keras.src.ops.numpy.*not support"
                                             ".*supported operations: Add"):
        load_model(tmp_path / "abs.keras")


def _subclassed(K):
    """Tracked attributes of every kind: a list, a layer, a custom layer holding a layer."""

    class Block(K.layers.Layer):
        def __init__(self, **kwargs):
            super().__init__(**kwargs)
            self.inner = K.layers.Dense(3, activation="tanh", name="blk_d")

        def call(self, x):
            return self.inner(x)

    class Net(K.Model):
        def __init__(self, **kwargs):
            super().__init__(**kwargs)
            self.blocks = [K.layers.Dense(4, name="b0"), K.layers.Dense(3, name="b1")]
            self.extra = Block(name="blk")
            self.head = K.layers.Dense(2, name="head")

        def call(self, x, training=False):
            for block in self.blocks:
                x = block(x)
            return self.head(self.extra(x))

    model = Net(name="net")
    model(XA[:2].astype("float32"))
    return model


def _h5_file_tree(path):
    with h5py.File(path, "r") as f:
        out = {}
        f.visititems(lambda name, obj: out.__setitem__(
            name, obj[()].tobytes() if isinstance(obj, h5py.Dataset) else obj.attrs.get("name")))
        return out


def test_subclassed_model_weights_h5_both_ways_and_no_keras_file(tmp_path, keras):
    keras.backend.clear_session()
    tinygrad_es.backend.clear_session()
    keras.utils.set_random_seed(0)
    ref, ours = _subclassed(keras), _subclassed(tinygrad_es)
    ours.set_weights(ref.get_weights())
    ours.save_weights(tmp_path / "ours.weights.h5")
    ref.save_weights(tmp_path / "ref.weights.h5")
    # Keras's layout follows the attributes: blocks/dense, extra/inner, head, layers/...
    assert _h5_file_tree(tmp_path / "ours.weights.h5") == _h5_file_tree(tmp_path / "ref.weights.h5")
    fresh_keras, fresh_ours = _subclassed(keras), _subclassed(tinygrad_es)
    fresh_keras.load_weights(tmp_path / "ours.weights.h5")
    fresh_ours.load_weights(tmp_path / "ref.weights.h5")
    assert _same_weights(fresh_keras.get_weights(), ref.get_weights())
    assert _same_weights(fresh_ours.get_weights(), ref.get_weights())
    with pytest.raises(ValueError, match="subclassed model, whose Python code"):
        ours.save(tmp_path / "net.keras")     # its Python code cannot be written
    assert not (tmp_path / "net.keras").exists()
