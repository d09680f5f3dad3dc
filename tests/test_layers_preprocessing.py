"""Normalization, Rescaling, Embedding and Lambda against real Keras: ``adapt``'s statistics
(arrays and batched iterables, float32 and float64), forward and gradients, configs, errors, a
short ``fit`` of a Sequential with each, and save/load (a Lambda is refused on loading).

Run with ``-s`` to see the worst differences.
"""

from __future__ import annotations

import numpy as np
import pytest

from conftest import PARITY_TOL, keras_floatx, max_abs_diff
from tinygrad_es import layers
from tinygrad_es import optimizers as our_optimizers
from tinygrad_es.gradcheck import floatx_as, gradcheck
from tinygrad_es.models import Sequential, load_model
from tinygrad_es.tensor import Tensor

DTYPES = ["float32", "float64"]


def _data(dtype, shape=(24, 3), seed=0):
    """Features on different scales; the last one constant (variance 0: the epsilon branch)."""
    rng = np.random.default_rng(seed)
    x = rng.normal(size=shape) * np.resize([1.0, 30.0, 1e-3], shape[-1]) + 5.0
    x[..., -1] = 2.5
    return x.astype(dtype)


def _grad_parity(tf, ref, ours, x, dtype, label, extra_weights=()):
    """Forward, dx and (for weights) d weight of sum(out * up), Keras against ours."""
    rng = np.random.default_rng(5)
    xt = tf.constant(x)
    with tf.GradientTape() as tape:
        tape.watch(xt)
        ref_out = ref(xt)
        up = rng.uniform(0.5, 1.5, size=ref_out.shape).astype(dtype)
        ref_loss = tf.reduce_sum(ref_out * up)
    ref_grads = tape.gradient(ref_loss, [xt] + list(ref.trainable_weights))
    leaf = Tensor(x, requires_grad=True, dtype=dtype)
    out = ours(leaf)
    (out * up).sum().backward()
    pairs = [("out", out.data, ref_out.numpy()), ("dx", leaf.grad, ref_grads[0].numpy())]
    pairs += [(w.name, w.grad, tf.convert_to_tensor(g).numpy())
              for w, g in zip(ours.trainable_weights, ref_grads[1:])]
    return _check(pairs, dtype, label)


def _check(pairs, dtype, label):
    worst = []
    for name, got, want in pairs:
        assert np.shape(got) == np.shape(want), (label, name)
        scale = max(1.0, float(np.abs(want).max()))  # as tests/test_layers_conv.py
        diff = max_abs_diff(got, want)
        worst.append(f"{name} {diff:.1e}")
        assert diff <= PARITY_TOL[dtype] * scale, (label, name, diff, scale)
    print(f"\nPARITY {label} {dtype}: " + ", ".join(worst))


# ----- Normalization -----

NORMALIZATIONS = {
    "axis -1": (lambda L: L.Normalization(), (24, 3)),
    "axis None": (lambda L: L.Normalization(axis=None), (24, 3)),
    "axis (1, 2) invert": (lambda L: L.Normalization(axis=(1, 2), invert=True), (6, 2, 3)),
    "axis 1 of 3": (lambda L: L.Normalization(axis=1), (6, 4, 3)),
}


@pytest.mark.parametrize("source", ["array", "batches", "generator"])
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("case", list(NORMALIZATIONS))
def test_normalization_adapt_and_call_match_keras(tf, keras, case, dtype, source):
    build, shape = NORMALIZATIONS[case]
    x = _data(dtype, shape)
    with keras_floatx(keras, dtype):
        ref, ours = build(keras.layers), build(layers)
        if source == "array":
            ref.adapt(x)
            ours.adapt(x)
        else:  # batches of 10, 10, 4 (or 4, 2): Keras merges them with its running formula
            batches = [x[i:i + 10] for i in range(0, len(x), 10)]
            ref.adapt(batches if source == "batches" else iter(batches))
            ours.adapt(batches if source == "batches" else iter(batches))
        want = ref.get_weights()
        got = ours.get_weights()
        assert [g.dtype for g in got[:2]] == [w.dtype for w in want[:2]]  # count: see the class
        assert [w.name.split("/")[-1] for w in ours.weights] == [w.name for w in ref.weights]
        _check([("mean", got[0], want[0]), ("variance", got[1], want[1]),
                ("count", got[2], want[2])], dtype, f"normalization adapt {case} {source}")
        # the tutorials print normalizer.mean: the broadcast statistics, as Keras's attributes
        _check([("layer.mean", ours.mean.numpy(), np.asarray(ref.mean)),
                ("layer.variance", ours.variance.numpy(), np.asarray(ref.variance))], dtype,
               f"normalization attributes {case} {source}")
        _grad_parity(tf, ref, ours, _data(dtype, shape, seed=1), dtype,
                     f"normalization {case} {source}")
        assert ours.compute_output_shape((None,) + shape[1:]) == tuple(
            ref.compute_output_shape((None,) + shape[1:]))


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("given", ["python floats", "lists", "float64 arrays"])
def test_normalization_with_given_mean_and_variance_matches_keras(tf, keras, dtype, given):
    """Given statistics go through ops.cast (Python floats via float32) in Keras, here too."""
    values = {"python floats": (0.1, 2.3), "lists": ([0.1, -0.7, 3.3], [2.3, 0.4, 1e-15]),
              "float64 arrays": (np.array([0.1, -0.7, 3.3]), np.array([2.3, 0.4, 0.0]))}[given]
    with keras_floatx(keras, dtype):
        ref = keras.layers.Normalization(mean=values[0], variance=values[1])
        ours = layers.Normalization(mean=values[0], variance=values[1])
        _grad_parity(tf, ref, ours, _data(dtype), dtype, f"normalization given {given}")
    assert ours.weights == [] and ours.get_config()["mean"] == ref.get_config()["mean"]


@pytest.mark.parametrize("dtype", DTYPES)
def test_fit_with_normalization_and_rescaling_matches_keras(keras, dtype):
    """Rescaling, Normalization (adapted), Dense, Dense: 40 rows, batch 10, 3 epochs, SGD with
    momentum, shuffle=False: losses and weights (count included); then predict."""
    x = _data(dtype, (40, 3), seed=2)
    y = (x[:, :1] > 5.0).astype(dtype)

    def net(L, Input):
        norm = L.Normalization()
        norm.adapt(x * 0.5)
        return [Input((3,)), L.Rescaling(0.5), norm, L.Dense(4, activation="tanh"),
                L.Dense(1, activation="sigmoid")]

    with keras_floatx(keras, dtype):
        km = keras.Sequential(net(keras.layers, keras.Input))
        om = Sequential(net(layers, layers.Input))
        om.set_weights(km.get_weights())
        km.compile(optimizer=keras.optimizers.SGD(0.1, momentum=0.9), loss="mse")
        om.compile(optimizer=our_optimizers.SGD(0.1, momentum=0.9), loss="mse")
        kh = km.fit(x, y, epochs=3, batch_size=10, shuffle=False, verbose=0)
        oh = om.fit(x, y, epochs=3, batch_size=10, shuffle=False, verbose=0)
        predictions = om.predict(x, verbose=0), km.predict(x, verbose=0)
    _check([("loss", oh.history["loss"], kh.history["loss"]), ("predict", *predictions)]
           + [(f"w{i}", a, b) for i, (a, b) in enumerate(zip(om.get_weights(),
                                                            km.get_weights()))],
           dtype, "fit normalization + rescaling")


def test_one_feature_regression_of_the_tf_tutorial_matches_keras(keras):
    """TF's "Basic regression" tutorial, horsepower model: Normalization(input_shape=[1,],
    axis=None) adapted on a 1-D column (built for (None,) by adapt), then Sequential with Dense(1)
    fit, evaluated and predicting on 1-D data (Keras adds the trailing axis of 1)."""
    import warnings

    rng = np.random.default_rng(4)
    horsepower = rng.normal(100.0, 40.0, size=60).astype("float32")
    mpg = (40.0 - 0.1 * horsepower + rng.normal(size=60)).astype("float32")

    def net(L):
        norm = L.Normalization(input_shape=[1], axis=None)
        norm.adapt(horsepower)
        return [norm, L.Dense(units=1)]

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # Keras: "Do not pass an `input_shape`"
        km = keras.Sequential(net(keras.layers))
    om = Sequential(net(layers))
    assert om.layers[0].output_shape == (None, 1) and om.output_shape == km.output_shape
    om.set_weights(km.get_weights())
    km.compile(optimizer=keras.optimizers.Adam(learning_rate=0.1), loss="mean_absolute_error")
    om.compile(optimizer=our_optimizers.Adam(learning_rate=0.1), loss="mean_absolute_error")
    kw = {"epochs": 3, "validation_split": 0.2, "batch_size": 16, "shuffle": False, "verbose": 0}
    kh, oh = km.fit(horsepower, mpg, **kw), om.fit(horsepower, mpg, **kw)
    line = np.linspace(0.0, 250.0, 5, dtype="float32")
    _check([(k, oh.history[k], kh.history[k]) for k in ("loss", "val_loss")]
           + [("evaluate", om.evaluate(horsepower, mpg, verbose=0),
               km.evaluate(horsepower, mpg, verbose=0)),
              ("predict", om.predict(line, verbose=0), km.predict(line, verbose=0))],
           "float32", "horsepower regression")


def test_normalization_errors_name_what_was_received():
    with pytest.raises(ValueError, match=r"both `mean` and `variance` must be set"):
        layers.Normalization(mean=1.0)
    with pytest.raises(ValueError, match=r"must have the same shape"):
        layers.Normalization(mean=[1.0, 2.0], variance=[1.0])
    with pytest.raises(ValueError, match=r"The rank of `mean` must be less than or equal to the "
                                         r"number of axes \(1\)"):
        layers.Normalization(mean=np.ones((2, 2)), variance=np.ones((2, 2)))
    with pytest.raises(ValueError, match=r"All `axis` values must be in the range"):
        layers.Normalization(axis=3).adapt(np.zeros((4, 2)))
    with pytest.raises(ValueError, match=r"adapt\(\) received an empty iterable"):
        layers.Normalization().adapt([])
    with pytest.raises(TypeError, match=r"expects an iterable that yields arrays .* Got an "
                                        r"element of type float"):
        layers.Normalization().adapt([1.0, 2.0])
    norm = layers.Normalization(name="norm")
    norm.adapt(np.zeros((4, 2)))
    with pytest.raises(ValueError, match=r"built with input_shape=\(None, 2\), but adapt\(\) is "
                                         r"being called with data with an incompatible shape"):
        norm.adapt(np.zeros((4, 3)))
    with pytest.raises(ValueError, match=r"Normalization layer 'norm' was built for inputs "
                                         r"shaped \(None, 2\), received input of shape \(1, 3\)"):
        norm(np.zeros((1, 3)))


# ----- Rescaling -----

@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("args", [(1 / 255.0, 0.0), (1 / 127.5, -1.0), ([0.5, 2.0, 1 / 3], 0.1),
                                  (2, 1)], ids=["1/255", "[-1, 1]", "per channel", "ints"])
def test_rescaling_matches_keras(tf, keras, dtype, args):
    with keras_floatx(keras, dtype):
        ref, ours = keras.layers.Rescaling(*args), layers.Rescaling(*args)
        _grad_parity(tf, ref, ours, _data(dtype, (2, 4, 3)) * 40, dtype, f"rescaling {args}")
    config = ours.get_config()
    assert {k: config[k] for k in ("scale", "offset")} == {
        k: ref.get_config()[k] for k in ("scale", "offset")}
    assert layers.Rescaling.from_config(config).get_config() == config
    with pytest.raises(ValueError, match=r"Rescaling: `scale` must be a finite number"):
        layers.Rescaling("1/255")


# ----- Embedding -----

def _indices(shape, input_dim, seed=0):
    """Indices with repeats (the gradient of a repeated row accumulates)."""
    return np.random.default_rng(seed).integers(0, input_dim, size=shape)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("shape", [(6,), (4, 5), (2, 3, 4)], ids=str)
def test_embedding_forward_and_gradient_match_keras(tf, keras, dtype, shape):
    idx = _indices(shape, 7)
    with keras_floatx(keras, dtype):
        ref, ours = keras.layers.Embedding(7, 3), layers.Embedding(7, 3, name="emb")
        ref.build(shape)
        ours.build((None,) + shape[1:])
        ours.set_weights(ref.get_weights())
        with tf.GradientTape() as tape:
            ref_out = ref(idx)
            up = np.random.default_rng(1).uniform(0.5, 1.5, ref_out.shape).astype(dtype)
            loss = tf.reduce_sum(ref_out * up)
        ref_grad = tf.convert_to_tensor(tape.gradient(loss, ref.embeddings))
        for given in (idx, idx.astype(dtype)):   # ints, or floats holding ints (as models pass)
            ours.embeddings.grad = None
            out = ours(given)
            (out * up).sum().backward()
            _check([("out", out.data, ref_out.numpy()),
                    ("d embeddings", ours.embeddings.grad, ref_grad.numpy())], dtype,
                   f"embedding {shape} {given.dtype}")
    assert out.dtype == np.dtype(dtype)
    assert ours.compute_output_shape((None,) + shape[1:]) == tuple(
        ref.compute_output_shape((None,) + shape[1:]))
    config = ours.get_config()
    assert layers.Embedding.from_config(config).get_config() == config
    keras_config = ref.get_config()
    mine = layers.Embedding.from_config(keras_config).get_config()
    assert {k: mine[k] for k in ("input_dim", "output_dim", "mask_zero")} == {
        k: keras_config[k] for k in ("input_dim", "output_dim", "mask_zero")}
    assert set(mine) <= set(keras_config)


def test_embedding_errors_name_the_layer():
    emb = layers.Embedding(5, 2, name="words")
    with pytest.raises(ValueError, match=r"Embedding layer 'words' received the index 5, outside "
                                         r"\[0, 5\)"):
        emb(np.array([[0, 5]]))
    with pytest.raises(ValueError, match=r"index -1, outside"):
        emb(np.array([[-1, 2]]))
    with pytest.raises(ValueError, match=r"Embedding layer 'words' expects integer indices, "
                                         r"received the value 1.5"):
        emb(np.array([[1.5, 2.0]]))
    with pytest.raises(ValueError, match=r"`input_dim` must be a positive integer. Received: "
                                         r"input_dim=0"):
        layers.Embedding(0, 2)
    with pytest.raises(ValueError, match=r"`output_dim` must be a positive integer"):
        layers.Embedding(3, 2.0)
    with pytest.warns(UserWarning, match="`input_length` is deprecated"):
        layers.Embedding(3, 2, input_length=4)
    start = np.arange(6.0).reshape(3, 2)
    assert np.array_equal(layers.Embedding(3, 2, weights=[start])(np.array([2])).data, [start[2]])


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("optimizer", ["sgd", "adam"])
def test_fit_embedding_model_matches_keras(keras, dtype, optimizer):
    """Embedding, GlobalAveragePooling1D, Dense on sequences of 6 indices (of 24): 32 in batches
    of 8 (SGD) or 16 in batches of 2 (Adam), 2 epochs, shuffle=False: losses and weights.

    NOTE: Keras's embedding gradient is a tf.IndexedSlices, one row per occurrence, and its Adam
    squares each occurrence's row before summing them (second moment Σg², not (Σg)²; measured
    with Keras 3.15). Ours is the dense gradient (the textbook Adam), so for Adam the batches
    here repeat no index: then both are the same. SGD is linear, repeats included.
    """
    rng = np.random.default_rng(3)
    if optimizer == "sgd":
        x, batch_size = rng.integers(0, 24, size=(32, 6)), 8
    else:  # each batch of 2 sequences: 12 distinct indices
        x, batch_size = np.concatenate([rng.permutation(24)[:12].reshape(2, 6)
                                        for _ in range(8)]), 2
    y = (x[:, :3].sum(axis=1) > 33).astype(float)

    def net(L, Input):
        return [Input((6,)), L.Embedding(24, 4), L.GlobalAveragePooling1D(),
                L.Dense(1, activation="sigmoid")]

    def make(opt):
        return opt.SGD(0.5) if optimizer == "sgd" else opt.Adam(0.02)

    with keras_floatx(keras, dtype):
        km = keras.Sequential(net(keras.layers, keras.Input))
        om = Sequential(net(layers, layers.Input))
        om.set_weights(km.get_weights())
        km.compile(optimizer=make(keras.optimizers), loss="binary_crossentropy")
        om.compile(optimizer=make(our_optimizers), loss="binary_crossentropy")
        kh = km.fit(x, y, epochs=2, batch_size=batch_size, shuffle=False, verbose=0)
        oh = om.fit(x, y, epochs=2, batch_size=batch_size, shuffle=False, verbose=0)
    _check([("loss", oh.history["loss"], kh.history["loss"])]
           + [(f"w{i}", a, b) for i, (a, b) in enumerate(zip(om.get_weights(),
                                                            km.get_weights()))],
           dtype, f"fit embedding {optimizer}")


def test_embedding_gradient_accumulates_repeated_indices_and_gradchecks():
    with floatx_as("float64"):
        emb = layers.Embedding(4, 3)
        emb.build((None, 5))
        idx = np.array([[0, 2, 2, 2, 3]])
        out = emb(idx)
        out.sum().backward()
        assert emb.embeddings.grad.tolist() == [[1.0] * 3, [0.0] * 3, [3.0] * 3, [1.0] * 3]
        assert gradcheck(lambda w: w[idx], np.random.default_rng(0).normal(size=(4, 3)))


# ----- Lambda -----

def _sine_like(x):
    """Written with operators only, so it runs on TF tensors and on ours alike."""
    return x * x * 0.5 - x


@pytest.mark.parametrize("dtype", DTYPES)
def test_lambda_matches_keras_and_carries_the_gradient(tf, keras, dtype):
    with keras_floatx(keras, dtype):
        ref = keras.layers.Lambda(_sine_like)
        ours = layers.Lambda(_sine_like, name="poly")
        _grad_parity(tf, ref, ours, _data(dtype, (3, 4)), dtype, "lambda")
        scaled = layers.Lambda(lambda x, factor: x * factor, arguments={"factor": 3.0})
        assert np.allclose(scaled(np.ones((1, 2))).data, 3.0)
        mode = layers.Lambda(lambda x, training=False: x * (2.0 if training else 1.0))
        assert mode(np.ones((1, 1)), training=True).data.item() == 2.0
    config = ours.get_config()
    assert config["function"] == ref.get_config()["function"] | {"module": __name__}
    assert ours.compute_output_shape((None, 4)) == (None, 4)
    assert layers.Lambda(lambda x: x[:, :2], output_shape=(2,)).compute_output_shape(
        (None, 5)) == (None, 2)
    with pytest.raises(TypeError, match=r"Lambda layer 'bad': the function <lambda> must return "
                                        r"a Tensor"):
        layers.Lambda(lambda x: x.data, name="bad")(np.ones((1, 2)))


def test_a_saved_lambda_is_never_rebuilt_from_the_file(tmp_path):
    model = Sequential([layers.Input((3,)), layers.Lambda(_sine_like), layers.Dense(1)])
    model.save(tmp_path / "m.npz")
    with pytest.raises(ValueError, match=r"deserialization of a `Lambda` layer \(function "
                                         r"'_sine_like'\).*never runs code from a file"):
        load_model(tmp_path / "m.npz")
    with pytest.raises(ValueError, match=r"function '<lambda>'"):
        layers.deserialize({"class_name": "Lambda", "config": {"function": {
            "class_name": "__lambda__", "config": {"code": "4wEAAAAA", "defaults": None}}}})


# ----- save / load round trip of the new layers -----

def test_save_load_round_trips_every_new_layer(tmp_path):
    x = _data("float32", (16, 3), seed=4)
    norm = layers.Normalization()
    norm.adapt(x)
    model = Sequential([layers.Input((3,)), layers.Rescaling(0.5, offset=0.1), norm,
                        layers.Dense(4), layers.BatchNormalization(momentum=0.5),
                        layers.LayerNormalization(), layers.Dense(1)])
    model.compile(optimizer="adam", loss="mse")
    model.fit(x, x[:, :1], epochs=2, batch_size=8, verbose=0)
    words = Sequential([layers.Input((4,)), layers.Embedding(9, 2, mask_zero=True),
                        layers.GlobalAveragePooling1D()])
    for original, data in ((model, x), (words, _indices((5, 4), 9))):
        original.save(tmp_path / "m.npz")
        loaded = load_model(tmp_path / "m.npz")
        assert loaded.get_config() == original.get_config()
        assert all(np.array_equal(a, b) and a.dtype == b.dtype
                   for a, b in zip(loaded.get_weights(), original.get_weights()))
        assert np.array_equal(loaded.predict(data, verbose=0), original.predict(data, verbose=0))


# ----- InputLayer(input_shape=...), Keras 2's form that Keras 3 still takes -----

def test_input_layer_takes_input_shape_with_keras_warning(keras):
    with pytest.warns(UserWarning) as ours:
        layer = layers.InputLayer(input_shape=(4,))
    with pytest.warns(UserWarning) as ref:
        ref_layer = keras.layers.InputLayer(input_shape=(4,))
    assert [str(w.message) for w in ours] == [str(w.message) for w in ref]
    assert layer.batch_shape == tuple(ref_layer.batch_shape) == (None, 4)
    model = Sequential([layers.InputLayer(input_shape=(3,)), layers.Dense(2)])
    assert model.built and model.output_shape == (None, 2)


def test_summary_of_the_new_layers_is_keras(keras):
    """Layers, shapes, parameter counts and bytes (Normalization's count included) as Keras."""
    def build(L):
        norm = L.Normalization(name="norm")
        norm.adapt(np.arange(12.0).reshape(4, 3))
        return [L.Rescaling(0.5, name="r"), norm, L.Dense(4, name="d"),
                L.BatchNormalization(name="bn"), L.LayerNormalization(name="ln"),
                L.Lambda(_sine_like, name="lam"), L.Dense(1, name="o")]

    ours = Sequential([layers.Input((3,))] + build(layers), name="m")
    ref = keras.Sequential([keras.Input((3,))] + build(keras.layers), name="m")
    words = [Sequential([layers.Input((5,)), layers.Embedding(9, 2, name="e")], name="w"),
             keras.Sequential([keras.Input((5,)), keras.layers.Embedding(9, 2, name="e")],
                              name="w")]
    for mine, theirs in ((ours, ref), tuple(words)):
        got, want = [], []
        mine.summary(print_fn=got.append)
        theirs.summary(print_fn=want.append)
        assert got == want
