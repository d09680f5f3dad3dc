"""Sequential against real Keras: how it gets built, layers/weights in Keras's order and shapes
(weights copied both ways), forward and gradients of the whole stack, penalties, summary text,
configs, and the errors for bad input."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

from conftest import PARITY_TOL, keras_floatx, max_abs_diff
from tinygrad_es import layers
from tinygrad_es.models import Sequential
from tinygrad_es.tensor import Tensor
from tinygrad_es.utils import set_random_seed

X = np.random.default_rng(0).normal(size=(9, 4))


def _pair(keras, build, **kwargs):
    """The same architecture in Keras and here: ``build(module)`` returns its layer list."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # Keras warns about input_dim/input_shape
        ref = keras.Sequential(build(keras.layers, keras.Input), **kwargs)
    ours = Sequential(build(layers, layers.Input), **kwargs)
    return ours, ref


def _mlp(L, Input):
    return [Input((4,)), L.Dense(8, activation="relu", kernel_regularizer="l2", name="hidden"),
            L.Dropout(0.2, name="drop"), L.Dense(3, activation="softmax", bias_regularizer="l1",
                                                 name="out")]


def test_build_forms_match_keras(keras):
    forms = {
        "input": lambda L, I: [I((4,)), L.Dense(3, name="d1"), L.Dense(1, name="d2")],
        "input_dim": lambda L, I: [L.Dense(3, input_dim=4, name="d1"), L.Dense(1, name="d2")],
        "input_shape": lambda L, I: [L.Dense(3, input_shape=(4,), name="d1"),
                                     L.Dense(1, name="d2")],
        "lazy": lambda L, I: [L.Dense(3, name="d1"), L.Dense(1, name="d2")],
    }
    for form, build in forms.items():
        ours, ref = _pair(keras, build)
        assert ours.built == ref.built, form
        assert [layer.name for layer in ours.layers] == [layer.name for layer in ref.layers]
        assert len(ours.weights) == len(ref.weights)
        if form == "lazy":
            assert ours.weights == [] and ours.input_shape is None and ours.output_shape is None
            ours(X)            # built by data; the batch axis stays None (Keras keeps 9 here)
            ref.build((None, 4))
        assert ours.input_shape == ref.input_shape == (None, 4), form
        assert ours.output_shape == ref.output_shape == (None, 1), form
        assert [w.shape for w in ours.get_weights()] == [w.shape for w in ref.get_weights()]
        assert [w.name for w in ours.weights] == ["d1/kernel", "d1/bias", "d2/kernel", "d2/bias"]
        assert ours.count_params() == ref.count_params()
    model = Sequential([layers.Dense(2, name="a")])
    model.build((None, 5))
    assert model.count_params() == 12 and model.output_shape == (None, 2)


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_weights_copy_both_ways_and_forward_and_gradients_match(tf, keras, dtype):
    with keras_floatx(keras, dtype):
        ours, ref = _pair(keras, _mlp)
        ours.set_weights(ref.get_weights())                      # Keras -> ours, unchanged
        back = [np.asarray(w) * 1.5 for w in ours.get_weights()]
        ours.set_weights(back)
        ref.set_weights(ours.get_weights())                      # ours -> Keras
        assert all(np.array_equal(a, b) for a, b in zip(ref.get_weights(), back))
        x = X.astype(dtype)
        up = np.random.default_rng(3).normal(size=(9, 3)).astype(dtype)
        with tf.GradientTape() as tape:
            ref_out = ref(x, training=False)
            ref_loss = tf.reduce_sum(ref_out * up) + tf.add_n(ref.losses)
        ref_grads = tape.gradient(ref_loss, ref.trainable_weights)
        out = ours(x)
        assert isinstance(out, Tensor) and out.requires_grad and out.dtype == np.dtype(dtype)
        losses = ours.losses
        assert len(losses) == len(ref.losses) == 2
        loss = (out * up).sum() + losses[0] + losses[1]
        loss.backward()
    tol = PARITY_TOL[dtype]
    assert max_abs_diff(out.data, ref_out.numpy()) <= tol
    assert max_abs_diff(loss.data, ref_loss.numpy()) <= tol * max(1.0, abs(float(loss)))
    for w, g in zip(ours.trainable_weights, ref_grads):
        assert max_abs_diff(w.grad, g.numpy()) <= tol * max(1.0, np.abs(g.numpy()).max())


def test_per_layer_weights_and_course_script(keras):
    ours, ref = _pair(keras, lambda L, I: [L.Dense(3, input_dim=1, activation="sigmoid"),
                                           L.Dense(1, activation="sigmoid")])
    for ours_layer, ref_layer in zip(ours.layers, ref.layers):
        ours_layer.set_weights(ref_layer.get_weights())
        assert ([w.shape for w in ours_layer.get_weights()] == [(1, 3), (3,)] or
                [w.shape for w in ours_layer.get_weights()] == [(3, 1), (1,)])
    x = np.linspace(-2, 2, 11)[:, None]
    assert max_abs_diff(ours(x).data, ref(x).numpy()) <= PARITY_TOL["float32"]


SUMMARY_MODELS = {
    "course": lambda L, I: [L.Dense(3, input_dim=1, activation="sigmoid", name="dense"),
                            L.Dense(1, activation="sigmoid", name="dense_1")],
    "mixed": lambda L, I: [I((8,)), L.Dense(1000, name="a_very_long_layer_name_that_goes_on"),
                           L.Dropout(0.2, name="dropout"),
                           L.Activation("relu", name="activation"), L.Dense(1, name="d")],
    "lazy": lambda L, I: [L.Dense(2, name="a"), L.Dense(1, name="b")],
    "empty": lambda L, I: [],
    "frozen": lambda L, I: [I((4,)), L.Dense(3, name="frozen_dense", trainable=False),
                            L.Flatten(name="flat"), L.Dense(2, name="top")],
    "convnet": lambda L, I: [I((28, 28, 1)), L.Conv2D(32, 3, activation="relu", name="conv"),
                             L.MaxPooling2D(name="pool"),
                             L.Conv2D(64, (3, 3), padding="same", use_bias=False, name="conv_1"),
                             L.AveragePooling2D(2, name="avg"), L.GlobalMaxPooling2D(name="gmp"),
                             L.Dense(10, activation="softmax", name="out")],
    "conv_reshaping": lambda L, I: [I((12,)), L.Reshape((4, 3), name="rs"),
                                    L.Conv1D(6, 2, padding="causal", name="c1"),
                                    L.GlobalAveragePooling1D(name="gap"),
                                    L.Reshape((1, 2, 3), name="image"),
                                    L.ZeroPadding2D(1, name="zp"),
                                    L.UpSampling2D(2, name="up"),
                                    L.Conv2DTranspose(4, 3, strides=2, name="ct"),
                                    L.GlobalAveragePooling2D(keepdims=True, name="gap2"),
                                    L.Flatten(name="fl")],
}


@pytest.mark.parametrize("columns, line_length", [(80, None), (120, None), (80, 50)])
@pytest.mark.parametrize("which", sorted(SUMMARY_MODELS))
def test_summary_text_equals_keras(keras, monkeypatch, which, columns, line_length):
    monkeypatch.setenv("COLUMNS", str(columns))
    ours, ref = _pair(keras, SUMMARY_MODELS[which], name=f"model_{which}")
    got, want = [], []
    ours.summary(line_length=line_length, print_fn=got.append)
    ref.summary(line_length=line_length, print_fn=want.append)
    assert len(got) == 1 and got == want


def test_summary_in_float64_and_after_training(keras):
    with keras_floatx(keras, "float64"):
        ours, ref = _pair(keras, lambda L, I: [I((4,)), L.Dense(3, name="d")], name="m64")
        for model in (ours, ref):
            model.compile(optimizer="adam", loss="mse")
            model.fit(X, np.zeros((9, 3)), epochs=1, verbose=0)
        got, want = [], []
        ours.summary(print_fn=got.append)
        ref.summary(print_fn=want.append)
    assert got == want and "Optimizer params" in got[0]


def test_summary_prints_to_stdout(capsys):
    Sequential([layers.Dense(1, input_dim=2, name="only")], name="printed").summary()
    out = capsys.readouterr().out
    assert out.startswith('Model: "printed"') and "only (Dense)" in out and out.endswith("B)\n")


def test_config_round_trip_and_keras_config(keras):
    ours, ref = _pair(keras, _mlp, name="cfg")
    again = Sequential.from_config(ours.get_config())
    assert again.get_config() == ours.get_config()
    from_keras = Sequential.from_config(ref.get_config())
    assert ([type(layer).__name__ for layer in from_keras.layers] ==
            [type(layer).__name__ for layer in ref.layers])
    from_keras.set_weights(ref.get_weights())
    assert max_abs_diff(from_keras(X).data, ref(X).numpy()) <= PARITY_TOL["float32"]


def test_add_pop_get_layer_and_trainable():
    model = Sequential(name="stack")
    model.add(layers.Input((3,)))
    model.add(layers.Dense(4, name="a"))
    assert model.built and model.output_shape == (None, 4)
    model.add(layers.Dense(2, name="b"))
    assert model.output_shape == (None, 2) and len(model.weights) == 4
    assert model.get_layer("b") is model.layers[1] and model.get_layer(index=0).name == "a"
    assert model.pop().name == "b" and model.output_shape == (None, 4)
    model.trainable = False
    assert model.trainable_weights == [] and len(model.non_trainable_weights) == 2
    model.trainable = True
    assert len(model.trainable_weights) == 2


def test_dropout_is_off_at_inference_and_on_in_training():
    set_random_seed(0)
    model = Sequential([layers.Input((50,)), layers.Dropout(0.5)])
    x = np.ones((20, 50))
    assert np.array_equal(model(x).data, x)
    assert (model(x, training=True).data == 0).mean() > 0.3


def test_set_random_seed_repeats_initial_weights():
    def weights(seed):
        set_random_seed(seed)
        return Sequential([layers.Dense(4, input_dim=3), layers.Dense(2)]).get_weights()
    a, b, c = weights(5), weights(5), weights(6)
    assert all(np.array_equal(u, v) for u, v in zip(a, b))
    assert not np.array_equal(a[0], c[0]) and not np.array_equal(a[2], c[2])


def test_errors_name_the_layer_and_what_was_expected():
    model = Sequential([layers.Dense(3, input_dim=4, name="first"), layers.Dense(1, name="second")],
                       name="net")
    with pytest.raises(ValueError, match=r"model 'net' with a weight list of length 2, but the "
                                         r"model was expecting 4 weights, of shapes \[\(4, 3\)"):
        model.set_weights([np.zeros((4, 3)), np.zeros(3)])
    with pytest.raises(ValueError, match=r"Layer 'second' weight 'second/bias' has shape \(1,\), "
                                         r"but set_weights received shape \(2,\).*\[\(3, 1\), "
                                         r"\(1,\)\]"):
        model.set_weights([np.zeros((4, 3)), np.zeros(3), np.zeros((3, 1)), np.zeros(2)])
    with pytest.raises(ValueError, match=r"Dense layer 'first' expects 4 input features, "
                                         r"received input of shape \(10, 3\)"):
        model(np.zeros((10, 3)))
    with pytest.raises(ValueError, match="unique names.*'first'"):
        model.add(layers.Dense(2, name="first"))
    with pytest.raises(ValueError, match="Only instances of"):
        model.add("dense")
    with pytest.raises(ValueError, match="Input layer can only be the first"):
        model.add(layers.Input((3,)))
    with pytest.raises(ValueError, match="not built yet"):
        Sequential([layers.Dense(1)]).set_weights([])
    with pytest.raises(ValueError, match="isn't built"):
        Sequential([layers.Dense(1)]).count_params()
    with pytest.raises(ValueError, match="no layers"):
        Sequential()(X)
