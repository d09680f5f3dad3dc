"""Subclassed models against real Keras: the same ``class M(K.Model)`` written once for both
libraries (``K`` is ``keras`` or ``tinygrad_es``), Keras's weights copied into ours, then the
tracked layers and weights (Keras's order), fit (losses per epoch, final weights), ``add_loss``
and its reset at the next call, freezing, save_weights, and a subclassed model inside Sequential.
"""

from __future__ import annotations

import numpy as np
import pytest

from conftest import PARITY_TOL, keras_floatx, max_abs_diff
import tinygrad_es
from tinygrad_es.models import Model, Sequential

RNG = np.random.default_rng(1)
X = RNG.normal(size=(20, 4))
Y = RNG.integers(0, 3, size=20)
DTYPES = ["float32", "float64"]


def make_classes(K):
    """An MLP with its blocks in a list, and a layer that adds an activity penalty."""

    class Penalty(K.layers.Layer):
        def call(self, x):
            self.add_loss(0.01 * K.ops.sum(K.ops.square(x)))
            return x

    class MLP(K.Model):
        def __init__(self, penalty=False, **kwargs):
            super().__init__(**kwargs)
            self.blocks = [K.layers.Dense(6, activation="relu", name="b0"),
                           K.layers.Dense(5, activation="tanh", name="b1")]
            self.penalty = Penalty(name="pen") if penalty else None
            self.head = K.layers.Dense(3, activation="softmax", name="head")

        def call(self, inputs, training=False):
            x = inputs
            for block in self.blocks:
                x = block(x)
            if self.penalty is not None:
                x = self.penalty(x)
            return self.head(x)

    return MLP


def _both(keras, **kwargs):
    ref = make_classes(keras)(**kwargs)
    ours = make_classes(tinygrad_es)(**kwargs)
    ref(X[:2])
    ours(X[:2])
    ours.set_weights(ref.get_weights())
    return ours, ref


def _fit_and_compare(ours, ref, dtype):
    # NOTE: SGD with momentum, not Adam: TensorFlow's multi-threaded reductions (the add_loss
    # sum) vary by an ulp from run to run, and Adam turns an ulp of a near-zero gradient into a
    # full step (m / sqrt(v)); SGD keeps such differences at their own size.
    for model, lib in ((ref, None), (ours, tinygrad_es)):
        opt = (lib.optimizers if lib else _keras_module(ref).optimizers).SGD(0.1, momentum=0.9)
        model.compile(optimizer=opt, loss="sparse_categorical_crossentropy")
    kh = ref.fit(X, Y, epochs=3, batch_size=8, shuffle=False, verbose=0)
    oh = ours.fit(X, Y, epochs=3, batch_size=8, shuffle=False, verbose=0)
    loss_diff = max_abs_diff(oh.history["loss"], kh.history["loss"])
    weight_diff = max(max_abs_diff(a, b) for a, b in zip(ours.get_weights(), ref.get_weights()))
    print(f"\nPARITY subclassed {dtype}: loss {loss_diff:.1e}, weights {weight_diff:.1e}")
    assert loss_diff <= PARITY_TOL[dtype] and weight_diff <= PARITY_TOL[dtype]


def _keras_module(model):
    import keras

    return keras


def _paths(weights):
    """Keras's weight paths without the model's own prefix ("mlp/b0/kernel" -> "b0/kernel")."""
    return [w.path.split("/", 1)[1] for w in weights]


@pytest.mark.parametrize("dtype", DTYPES)
def test_tracked_layers_and_weights_in_keras_order(keras, dtype):
    with keras_floatx(keras, dtype):
        ours, ref = _both(keras)
        assert [la.name for la in ours.layers] == [la.name for la in ref.layers]
        assert [w.name for w in ours.weights] == _paths(ref.weights)
        ours.blocks[0].trainable = False
        ref.blocks[0].trainable = False
        assert [w.name for w in ours.trainable_variables] == _paths(ref.trainable_variables)
        assert ([w.name for w in ours.non_trainable_variables]
                == _paths(ref.non_trainable_variables))
        assert ours.count_params() == ref.count_params()
        assert max_abs_diff(ours.predict(X, verbose=0), ref.predict(X, verbose=0)) <= \
            PARITY_TOL[dtype]


@pytest.mark.parametrize("dtype", DTYPES)
def test_fit_matches_keras(keras, dtype):
    with keras_floatx(keras, dtype):
        ours, ref = _both(keras)
        _fit_and_compare(ours, ref, dtype)


@pytest.mark.parametrize("dtype", DTYPES)
def test_add_loss_is_part_of_the_fitted_loss(keras, dtype):
    with keras_floatx(keras, dtype):
        ours, ref = _both(keras, penalty=True)
        ours(X[:3]), ref(X[:3])
        ours(X[:5]), ref(X[:5])  # the losses of the last call only
        assert len(ours.losses) == len(ref.losses) == 1
        assert abs(float(ours.losses[0].data) - float(ref.losses[0])) <= PARITY_TOL[dtype] * 10
        assert len(ours.penalty.losses) == 1
        _fit_and_compare(ours, ref, dtype)


def test_a_model_built_by_fit_and_frozen_by_trainable(keras):
    model = make_classes(tinygrad_es)()
    assert not model.built and model.weights == []
    model.compile(optimizer="sgd", loss="sparse_categorical_crossentropy")
    model.fit(X, Y, epochs=1, verbose=0)
    assert model.built and model.input_shape == (None, 4) and model.output_shape == (None, 3)
    assert model.optimizer is not None and len(model.trainable_weights) == 6
    model.trainable = False
    assert model.trainable_weights == [] and len(model.non_trainable_weights) == 6
    assert all(not layer.trainable for layer in model.layers)


def test_save_weights_round_trip_and_summary(tmp_path):
    model = make_classes(tinygrad_es)()
    model.build((None, 4))
    model.save_weights(tmp_path / "w.npz")
    other = make_classes(tinygrad_es)()
    other(X[:1])
    other.load_weights(tmp_path / "w.npz")
    assert all(np.array_equal(a, b) for a, b in zip(model.get_weights(), other.get_weights()))
    text = []
    model.summary(print_fn=text.append)
    assert "b0 (Dense)" in text[0] and "Total params: 83" in text[0]


@pytest.mark.parametrize("dtype", DTYPES)
def test_a_subclassed_model_inside_sequential(keras, dtype):
    with keras_floatx(keras, dtype):
        ours, ref = _both(keras)
        k_seq = keras.Sequential([ref, keras.layers.Dense(2, name="after")])
        o_seq = Sequential([ours, tinygrad_es.layers.Dense(2, name="after")])
        k_seq(X[:1]), o_seq(X[:1])
        o_seq.set_weights(k_seq.get_weights())
        assert max_abs_diff(o_seq.predict(X, verbose=0), k_seq.predict(X, verbose=0)) <= \
            PARITY_TOL[dtype]


def test_model_without_call_and_bad_arguments():
    with pytest.raises(NotImplementedError, match="call"):
        Model()(X)
    with pytest.raises(TypeError, match="inputs and outputs"):
        Model(units=3)


def make_block(K):
    class Block(K.layers.Layer):
        """A residual block: its two Dense layers are tracked by the layer (Keras's design)."""

        def __init__(self, **kwargs):
            super().__init__(**kwargs)
            self.inner = K.layers.Dense(4, activation="relu", name="inner")
            self.proj = K.layers.Dense(4, name="proj")

        def call(self, x):
            return x + self.proj(self.inner(x))

    return Block


@pytest.mark.parametrize("dtype", DTYPES)
def test_layers_inside_a_custom_layer_are_tracked(keras, dtype):
    def build(K):
        i = K.Input((4,), name="i")
        block = make_block(K)(name="block")
        return K.Model(i, K.layers.Dense(3, activation="softmax", name="out")(block(i)))

    with keras_floatx(keras, dtype):
        ref, ours = build(keras), build(tinygrad_es)
        block = ours.get_layer("block")
        assert [la.name for la in block._sublayers()] == ["inner", "proj"]
        # Keras's paths carry the enclosing layer ("block/inner/kernel"); ours are per layer
        assert [w.name for w in ours.weights] == ["/".join(w.path.split("/")[-2:])
                                                  for w in ref.weights]
        ours.set_weights(ref.get_weights())
        assert ours.get_layer("block").count_params() == ref.get_layer("block").count_params()
        _fit_and_compare(ours, ref, dtype)
        block.trainable = False
        assert block.trainable_weights == [] and not block.inner.trainable
