"""The functional API against real Keras: each model is built the same way with ``keras`` and with
``tinygrad_es`` (``build(K)`` takes either module), Keras's weights are copied into ours, and
predict, a few epochs of fit (losses per epoch and final weights), ``layers``, ``summary()`` and
``get_config()`` are compared. Float32 within PARITY_TOL, float64 within 1e-12.
"""

from __future__ import annotations

import json

import numpy as np
import pytest

from conftest import PARITY_TOL, keras_floatx, max_abs_diff
import tinygrad_es
from tinygrad_es import layers
from tinygrad_es.models import Functional, Model, Sequential, load_model
from tinygrad_es.models.symbolic import KerasTensor
from tinygrad_es.tensor import Tensor

RNG = np.random.default_rng(0)
X4, X3 = RNG.normal(size=(24, 4)), RNG.normal(size=(24, 3))
Y_CLASS = RNG.integers(0, 3, size=24)
DTYPES = ["float32", "float64"]


def _both(keras, build):
    """The same model in Keras and here (names counted from zero in both), our weights
    copied from Keras's."""
    keras.backend.clear_session()
    tinygrad_es.backend.clear_session()
    ref = build(keras)
    ours = build(tinygrad_es)
    assert [w.shape for w in ours.weights] == [tuple(w.shape) for w in ref.weights]
    ours.set_weights(ref.get_weights())
    return ours, ref


def _assert_close(got, want, dtype):
    got, want = (got if isinstance(got, list) else [got]), (want if isinstance(want, list)
                                                           else [want])
    assert len(got) == len(want)
    worst = max(max_abs_diff(g, w) for g, w in zip(got, want))
    assert worst <= PARITY_TOL[dtype], worst
    return worst


def _fit_both(ours, ref, x, y, dtype, compile_kw, epochs=2):
    ref.compile(**compile_kw(keras_optimizers=True))
    ours.compile(**compile_kw(keras_optimizers=False))
    kh = ref.fit(x, y, epochs=epochs, batch_size=8, shuffle=False, verbose=0)
    oh = ours.fit(x, y, epochs=epochs, batch_size=8, shuffle=False, verbose=0)
    loss_diff = max_abs_diff(oh.history["loss"], kh.history["loss"])
    weight_diff = max(max_abs_diff(a, b) for a, b in zip(ours.get_weights(), ref.get_weights()))
    print(f"\nPARITY functional {dtype}: loss {loss_diff:.1e}, weights {weight_diff:.1e}")
    assert loss_diff <= PARITY_TOL[dtype] and weight_diff <= PARITY_TOL[dtype]


def _adam(keras):
    def kw(keras_optimizers):
        opt = (keras.optimizers if keras_optimizers else tinygrad_es.optimizers).Adam(0.01)
        return {"optimizer": opt, "loss": "sparse_categorical_crossentropy"}
    return kw


# ----- the models -----

def mlp(K):
    inputs = K.Input(shape=(4,), name="digits")
    x = K.layers.Dense(8, activation="relu", name="dense_1")(inputs)
    x = K.layers.Dense(8, activation="relu", name="dense_2")(x)
    outputs = K.layers.Dense(3, activation="softmax", name="predictions")(x)
    return K.Model(inputs=inputs, outputs=outputs, name="mlp")


def two_in_two_out(K):
    a, b = K.Input((4,), name="a"), K.Input((3,), name="b")
    x = K.layers.Dense(5, activation="tanh", name="da")(a)
    y = K.layers.Dense(5, activation="tanh", name="db")(b)
    c = K.layers.Concatenate(name="cat")([x, y, b])
    return K.Model([a, b], [K.layers.Dense(2, name="o1")(c), K.layers.Dense(1, name="o2")(c)],
                   name="two")


def residual(K):
    inputs = K.Input((4,), name="x")
    h = K.layers.Dense(4, activation="relu", name="h1")(inputs)
    y = K.layers.Dense(4, name="h2")(h)
    r = inputs + y                                   # a tensor op node
    r = K.layers.Add(name="skip")([r, h])
    r = r * 0.5 - r[:, :1]
    return K.Model(inputs, K.layers.Dense(3, activation="softmax", name="out")(r), name="res")


def shared(K):
    a, b = K.Input((4,), name="left"), K.Input((4,), name="right")
    dense = K.layers.Dense(3, activation="tanh", name="shared")
    merged = K.layers.Subtract(name="diff")([dense(a), dense(b)])
    return K.Model([a, b], K.layers.Dense(1, name="score")(merged), name="siamese")


def nested(K):
    i = K.Input((4,), name="inner_in")
    inner = K.Model(i, K.layers.Dense(5, activation="relu", name="inner_d")(i), name="inner")
    o = K.Input((4,), name="outer_in")
    x = inner(o)
    return K.Model(o, K.layers.Dense(3, activation="softmax", name="head")(x), name="outer")


def seq_inside(K):
    seq = K.Sequential([K.layers.Dense(4, activation="relu", name="s1"),
                        K.layers.Dense(3, name="s2")], name="seq")
    i = K.Input((4,), name="i")
    return K.Model(i, K.layers.Softmax(name="sm")(seq(i)), name="wrap")


# ----- parity -----

@pytest.mark.parametrize("build, dtype", [(mlp, "float32"), (mlp, "float64"),
                                          (residual, "float32"), (nested, "float64"),
                                          (seq_inside, "float32")],
                         ids=["mlp-float32", "mlp-float64", "residual-float32", "nested-float64",
                              "seq_inside-float32"])
def test_predict_and_fit_match_keras(keras, dtype, build):
    with keras_floatx(keras, dtype):
        ours, ref = _both(keras, build)
        _assert_close(ours.predict(X4, verbose=0), ref.predict(X4, verbose=0), dtype)
        _fit_both(ours, ref, X4, Y_CLASS, dtype, _adam(keras))
        _assert_close(ours.predict(X4, verbose=0), ref.predict(X4, verbose=0), dtype)


@pytest.mark.parametrize("dtype", DTYPES)
def test_two_inputs_concatenate_two_outputs_predict(keras, dtype):
    with keras_floatx(keras, dtype):
        ours, ref = _both(keras, two_in_two_out)
        got, want = ours.predict([X4, X3], verbose=0), ref.predict([X4, X3], verbose=0)
        assert isinstance(got, list) and len(got) == 2
        _assert_close(got, want, dtype)
        by_name = ours.predict({"a": X4, "b": X3}, batch_size=5, verbose=0)  # several batches
        _assert_close(by_name, want, dtype)
        out = ours([Tensor(X4[:2]), Tensor(X3[:2])])
        assert [o.shape for o in out] == [(2, 2), (2, 1)]


def test_a_trailing_axis_of_one_is_added_or_dropped_as_keras_does(keras):
    """1-D data for Input((1,)) gets its feature axis (a pandas column into a one-feature model);
    (n, 3, 1) data for Input((3,)) loses it. Functional and Sequential, predict and fit."""
    rng = np.random.default_rng(8)
    column, cube = rng.normal(size=12).astype("float32"), rng.normal(size=(12, 3, 1))
    y = rng.normal(size=(12, 1)).astype("float32")
    for data, shape in [(column, (1,)), (cube.astype("float32"), (3,))]:
        for kind in ("functional", "sequential"):
            models = []
            for lib in (keras, tinygrad_es):
                inputs = lib.Input(shape)
                dense = lib.layers.Dense(2)
                model = (lib.Model(inputs, dense(inputs)) if kind == "functional"
                         else lib.Sequential([inputs, dense]))
                model.compile(optimizer=lib.optimizers.SGD(0.1), loss="mse")
                models.append(model)
            km, om = models
            om.set_weights(km.get_weights())
            got, want = om.predict(data, verbose=0), km.predict(data, verbose=0)
            assert got.shape == want.shape == (12, 2)
            kh = km.fit(data, y, epochs=2, batch_size=4, shuffle=False, verbose=0)
            oh = om.fit(data, y, epochs=2, batch_size=4, shuffle=False, verbose=0)
            diff = max(max_abs_diff(got, want), max_abs_diff(oh.history["loss"],
                                                             kh.history["loss"]))
            print(f"PARITY rank {shape} {kind}: {diff:.1e}")
            assert diff <= PARITY_TOL["float32"]


@pytest.mark.parametrize("dtype", DTYPES)
def test_shared_layer_is_one_layer_with_two_nodes(keras, dtype):
    with keras_floatx(keras, dtype):
        ours, ref = _both(keras, shared)
        assert [la.name for la in ours.layers] == [la.name for la in ref.layers]
        assert len(ours.get_layer("shared")._inbound_nodes) == 2
        assert len(ours.weights) == len(ref.weights) == 4
        _assert_close(ours.predict([X4, X3[:, :1] + X4], verbose=0),
                      ref.predict([X4, X3[:, :1] + X4], verbose=0), dtype)


def test_backward_goes_through_the_graph(keras, tf):
    ours, ref = _both(keras, residual)
    x = X4[:5].astype("float32")
    out = ours(Tensor(x))
    out.sum().backward()
    with tf.GradientTape() as tape:
        total = tf.reduce_sum(ref(x))
    grads = tape.gradient(total, ref.trainable_weights)
    for w, g in zip(ours.trainable_weights, grads):
        assert max_abs_diff(w.grad, g.numpy()) <= 1e-5


def test_feature_extraction_functional_and_sequential(keras):
    ours, ref = _both(keras, mlp)
    f_ours = Model(inputs=ours.inputs, outputs=[la.output for la in ours.layers[1:3]])
    f_ref = keras.Model(inputs=ref.inputs, outputs=[la.output for la in ref.layers[1:3]])
    _assert_close(f_ours.predict(X4, verbose=0), f_ref.predict(X4, verbose=0), "float32")
    assert [la.name for la in f_ours.layers] == [la.name for la in f_ref.layers]

    def seq(K):
        return K.Sequential([K.Input((4,)), K.layers.Dense(6, activation="relu", name="s1"),
                             K.layers.Dense(2, name="s2")], name="seq")
    s_ours, s_ref = _both(keras, seq)
    e_ours = Model(s_ours.inputs, s_ours.get_layer("s1").output)
    e_ref = keras.Model(s_ref.inputs, s_ref.get_layer("s1").output)
    _assert_close(e_ours.predict(X4, verbose=0), e_ref.predict(X4, verbose=0), "float32")


@pytest.mark.parametrize("dtype", DTYPES)
def test_model_as_a_layer_in_sequential(keras, dtype):
    def build(K):
        inner = mlp(K)
        return K.Sequential([inner, K.layers.Dense(2, name="after")], name="wrapped")

    with keras_floatx(keras, dtype):
        keras.backend.clear_session()
        ref = build(keras)
        ref.build((None, 4))
        ours = build(tinygrad_es)
        ours.build((None, 4))
        ours.set_weights(ref.get_weights())
        assert isinstance(ours.layers[0], Functional) and ours.layers[0].name == "mlp"
        _assert_close(ours.predict(X4, verbose=0), ref.predict(X4, verbose=0), dtype)
        again = Sequential.from_config(ours.get_config())
        again.set_weights(ours.get_weights())
        assert max_abs_diff(again.predict(X4, verbose=0), ours.predict(X4, verbose=0)) == 0


# ----- summary and config -----

@pytest.mark.parametrize("build", [mlp, two_in_two_out, residual, shared, nested, seq_inside],
                         ids=["mlp", "two", "residual", "shared", "nested", "seq_inside"])
@pytest.mark.parametrize("line_length", [None, 76])
def test_summary_text_equals_keras(keras, monkeypatch, build, line_length):
    monkeypatch.setenv("COLUMNS", "80")
    ours, ref = _both(keras, build)
    got, want = [], []
    ours.summary(line_length=line_length, print_fn=got.append)
    ref.summary(line_length=line_length, print_fn=want.append)
    assert got == want, "\n" + got[0] + "\n" + want[0]


def _structure(config):
    """What the two configs must share: the wiring, the classes, the build shapes (as JSON)."""
    config = json.loads(json.dumps(config))
    return {"name": config["name"], "input_layers": config["input_layers"],
            "output_layers": config["output_layers"],
            "layers": [(entry["class_name"], entry["name"], entry.get("build_config"),
                        entry["inbound_nodes"]) for entry in config["layers"]]}


@pytest.mark.parametrize("build", [mlp, two_in_two_out, residual, shared],
                         ids=["mlp", "two", "residual", "shared"])
def test_get_config_has_keras_layout_and_round_trips(keras, build):
    ours, ref = _both(keras, build)
    ours_cfg, ref_cfg = ours.get_config(), ref.get_config()
    assert _structure(ours_cfg) == _structure(ref_cfg)
    for mine, theirs in zip(ours_cfg["layers"], ref_cfg["layers"]):  # module aside, same keys
        assert set(mine) == set(theirs)
    tinygrad_es.backend.clear_session()
    again = Model.from_config(ours_cfg)
    assert isinstance(again, Functional) and _structure(again.get_config()) == _structure(ours_cfg)
    again.set_weights(ours.get_weights())
    x = [X4, X3] if len(ours.inputs) == 2 else X4
    if build is shared:
        x = [X4, X4 * 2]
    _assert_close(again.predict(x, verbose=0), ours.predict(x, verbose=0), "float32")


@pytest.mark.parametrize("filename", ["res.keras", "res.npz"])   # Keras's zip, and our npz
def test_save_and_load_model_round_trip(tmp_path, keras, filename):
    ours, _ = _both(keras, residual)
    ours.compile(optimizer="adam", loss="sparse_categorical_crossentropy")
    ours.fit(X4, Y_CLASS, epochs=1, verbose=0)
    ours.save(tmp_path / filename)
    loaded = load_model(tmp_path / filename)
    assert isinstance(loaded, Functional)
    assert int(loaded.optimizer.iterations) == int(ours.optimizer.iterations) == 1
    assert max_abs_diff(loaded.predict(X4, verbose=0), ours.predict(X4, verbose=0)) == 0
    h1 = ours.fit(X4, Y_CLASS, epochs=1, verbose=0, shuffle=False).history["loss"]
    h2 = loaded.fit(X4, Y_CLASS, epochs=1, verbose=0, shuffle=False).history["loss"]
    assert h1 == h2


# ----- what Input and Model return, and the errors -----

def test_input_is_a_symbolic_tensor_not_an_engine_tensor(keras):
    x = tinygrad_es.Input(shape=(784,), name="img", batch_size=None, dtype="float32")
    k = keras.Input(shape=(784,), name="img")
    assert isinstance(x, KerasTensor) and not isinstance(x, Tensor)
    assert x.shape == tuple(k.shape) and x.dtype == k.dtype
    assert x._keras_history.operation.name == "img"
    assert tinygrad_es.Model is Model and isinstance(Model(x, layers.Dense(2)(x)), Functional)
    assert Model(x, layers.Dense(2)(x), name="named").name == "named"
    assert isinstance(Model(inputs=x, outputs=layers.Dense(2)(x)), Functional)
    with pytest.raises(TypeError, match="symbolic"):
        np.asarray(x)
    seq = Sequential([tinygrad_es.Input((4,)), layers.Dense(3)])      # Keras 3 accepts both
    seq2 = Sequential([layers.InputLayer(shape=(4,)), layers.Dense(3)])
    assert seq.built and seq2.built and seq.output_shape == seq2.output_shape == (None, 3)


def test_graph_errors_name_what_is_wrong():
    a, b = tinygrad_es.Input((2,), name="ea"), tinygrad_es.Input((2,), name="eb")
    out = layers.Add()([a, b])
    with pytest.raises(ValueError, match="Graph disconnected"):
        Model(a, out)
    with pytest.raises(ValueError, match="must be KerasTensors"):
        Model(a, np.ones((1, 2)))
    model = Model([a, b], out)
    with pytest.raises(ValueError, match="expects 2 input"):
        model(np.ones((1, 2)))
    with pytest.raises(ValueError, match="missing"):
        model.predict({"ea": np.ones((1, 2))}, verbose=0)
    with pytest.raises(ValueError, match="Inputs have incompatible shapes"):
        layers.Add()([a, tinygrad_es.Input((3,))])


def test_tensor_operators_match_keras(keras):
    def build(K):
        a, b = K.Input((2, 3), name="a"), K.Input((3, 2), name="b")
        y = -(a / 2.0) + 1.0 - a * a          # every dunder, constants on both sides
        z = (2.0 - y) @ b                      # batched matmul
        return K.Model([a, b], z[:, 0, :] / (1.0 + z[:, 1, :] * z[:, 1, :]), name="ops")

    ours, ref = _both(keras, build)
    xa, xb = RNG.normal(size=(6, 2, 3)), RNG.normal(size=(6, 3, 2))
    _assert_close(ours.predict([xa, xb], verbose=0), ref.predict([xa, xb], verbose=0), "float32")
    assert [op.name for op in ours.operations] == [op.name for op in ref.operations]
