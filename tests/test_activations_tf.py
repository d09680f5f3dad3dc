"""TensorFlow's and Keras's own functions as activations (``Dense(8, activation=tf.nn.relu)``):
the same numbers and gradients as Keras running them, the same ``fit``, the same saved names;
recognised without importing TensorFlow; unknown ones refused by name.

Run with ``-s`` to see the worst differences.
"""

from __future__ import annotations

import os
import subprocess
import sys

import numpy as np
import pytest

from conftest import PARITY_TOL, keras_floatx, max_abs_diff
from tinygrad_es import activations, layers
from tinygrad_es import optimizers as our_optimizers
from tinygrad_es.models import Sequential, load_model
from tinygrad_es.tensor import Tensor

DTYPES = ["float32", "float64"]

# Paths into the real modules, resolved inside each test (the tf / keras fixtures import them).
FUNCTIONS = ["tf.nn.relu", "tf.nn.relu6", "tf.nn.elu", "tf.nn.selu", "tf.nn.gelu",
             "tf.nn.swish", "tf.nn.silu", "tf.nn.leaky_relu", "tf.nn.softplus",
             "tf.math.softplus", "tf.nn.softsign", "tf.nn.sigmoid", "tf.math.sigmoid",
             "tf.math.tanh", "tf.nn.tanh", "tf.nn.softmax", "tf.nn.log_softmax", "tf.math.exp",
             "tf.math.log_sigmoid", "tf.identity", "tf.keras.activations.relu",
             "tf.keras.activations.softmax", "keras.activations.relu",
             "keras.activations.sigmoid", "keras.activations.gelu", "keras.ops.gelu",
             "keras.ops.sigmoid", "keras.ops.softmax", "keras.ops.leaky_relu"]


def _resolve(tf, keras, path):
    obj = {"tf": tf, "keras": keras}[path.split(".")[0]]
    for part in path.split(".")[1:]:
        obj = getattr(obj, part)
    return obj


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("path", FUNCTIONS)
def test_dense_with_a_tf_function_matches_keras(tf, keras, dtype, path):
    fn = _resolve(tf, keras, path)
    rng = np.random.default_rng(0)
    with keras_floatx(keras, dtype):
        ref, ours = keras.layers.Dense(5, activation=fn), layers.Dense(5, activation=fn)
        ref.build((None, 4))
        ours.build((None, 4))
        weights = [rng.normal(size=w.shape).astype(dtype) for w in ref.get_weights()]
        ref.set_weights(weights)
        ours.set_weights(weights)
        x = rng.normal(size=(3, 4)).astype(dtype) * 2
        xt = tf.constant(x)
        with tf.GradientTape() as tape:
            tape.watch(xt)
            ref_out = ref(xt)
            up = rng.uniform(0.5, 1.5, size=ref_out.shape).astype(dtype)
            ref_loss = tf.reduce_sum(ref_out * up)
        ref_grads = tape.gradient(ref_loss, [xt, ref.kernel, ref.bias])
        leaf = Tensor(x, requires_grad=True, dtype=dtype)
        out = ours(leaf)
        (out * up).sum().backward()
    # Every sigmoid/softmax output carries its logits (Keras's fit finds them, activations/
    # tf_functions.py); nothing else does.
    assert (activations.logits_of(out) is not None) == (
        path.split(".")[-1] in ("sigmoid", "softmax"))
    worst = []
    for name, got, want in [("out", out.data, ref_out.numpy()), ("dx", leaf.grad, ref_grads[0]),
                            ("dkernel", ours.kernel.grad, ref_grads[1]),
                            ("dbias", ours.bias.grad, ref_grads[2])]:
        want = np.asarray(want)
        scale = max(1.0, float(np.abs(want).max()))  # sums in BLAS's order, as test_sequential
        diff = max_abs_diff(got, want)
        worst.append(f"{name} {diff:.1e}")
        assert diff <= PARITY_TOL[dtype] * scale, (path, name, diff)
    print(f"\nPARITY Dense(activation={path}) {dtype}: " + ", ".join(worst))
    assert ours.get_config()["activation"] == ref.get_config()["activation"]


CLASSIFIERS = {  # last activation, loss, number of classes
    "tf.nn.sigmoid + bce": ("tf.nn.sigmoid", "binary_crossentropy", 1),
    "keras.activations.sigmoid + bce": ("keras.activations.sigmoid", "binary_crossentropy", 1),
    "tf.nn.softmax + sparse cce": ("tf.nn.softmax", "sparse_categorical_crossentropy", 3),
}


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("case", list(CLASSIFIERS))
def test_fit_with_tf_activations_matches_keras(tf, keras, dtype, case):
    """Dense(8, tf.nn.relu) -> Dense(k, last): 40 rows, batch 10, 2 epochs, Adam, shuffle=False,
    the same seeded initial weights, large enough that outputs saturate: there the logits path
    and the clipped-probabilities path differ by whole units of loss. Keras's fit takes the
    logits of a tf.nn sigmoid/softmax from its graph op, and so do we."""
    last, loss, k = CLASSIFIERS[case]
    rng = np.random.default_rng(1)
    x = rng.normal(size=(40, 4)) * 3
    y = (x[:, 0] > 0).astype(float) if k == 1 else np.digitize(x[:, 0], [-1.0, 1.0])

    def net(L, Input):
        return [Input((4,)), L.Dense(8, activation=tf.nn.relu),
                L.Dense(1 if k == 1 else k, activation=_resolve(tf, keras, last))]

    with keras_floatx(keras, dtype):
        km, om = keras.Sequential(net(keras.layers, keras.Input)), Sequential(net(layers,
                                                                                  layers.Input))
        initial = [rng.uniform(-2.0, 2.0, size=w.shape).astype(dtype) for w in km.get_weights()]
        km.set_weights(initial)
        om.set_weights(initial)
        km.compile(optimizer=keras.optimizers.Adam(0.05), loss=loss)
        om.compile(optimizer=our_optimizers.Adam(0.05), loss=loss)
        kh = km.fit(x, y, epochs=2, batch_size=10, shuffle=False, verbose=0)
        oh = om.fit(x, y, epochs=2, batch_size=10, shuffle=False, verbose=0)
    history = max_abs_diff(oh.history["loss"], kh.history["loss"])
    weights = max(max_abs_diff(a, b) for a, b in zip(om.get_weights(), km.get_weights()))
    print(f"\nPARITY fit {case} {dtype}: loss {history:.1e}, weights {weights:.1e}")
    assert history <= PARITY_TOL[dtype] and weights <= PARITY_TOL[dtype]


def test_serialized_names_are_keras_and_load_back(tf, keras, tmp_path):
    softmax = activations.serialize(activations.get(tf.nn.softmax))
    assert softmax == keras.activations.serialize(tf.nn.softmax)
    assert activations.get(softmax)(Tensor([[0.0, 0.0]])).data.tolist() == [[0.5, 0.5]]
    assert activations.serialize(activations.get(softmax)) == softmax   # the same stand-in
    model = Sequential([layers.Input((3,)), layers.Dense(4, activation=tf.nn.relu),
                        layers.Dense(2, activation=tf.nn.softmax)])
    model.save(tmp_path / "m.npz")
    loaded = load_model(tmp_path / "m.npz")
    x = np.random.default_rng(2).normal(size=(5, 3))
    assert np.array_equal(loaded.predict(x, verbose=0), model.predict(x, verbose=0))


def test_unknown_tf_and_keras_functions_are_refused_by_name(tf, keras):
    with pytest.raises(ValueError, match=r"The activation tensorflow\.python\.ops\.nn_ops\."
                                         r"crelu_v2 is a TensorFlow function that tinygrad_es "
                                         r"does not know.*relu, relu6"):
        layers.Dense(2, activation=tf.nn.crelu)
    with pytest.raises(ValueError, match=r"gen_math_ops\.cos is a TensorFlow function"):
        activations.get(tf.math.cos)
    with pytest.raises(ValueError, match=r"keras\.src\.ops\.numpy\.cos is a Keras function"):
        activations.get(keras.ops.cos)


def test_python_functions_of_tensors_still_work():
    dense = layers.Dense(2, activation=lambda x: x * x.sigmoid(), kernel_initializer="ones")
    out = dense(np.array([[1.0, -1.0]]))
    np.testing.assert_allclose(out.data, [[0.0, 0.0]])
    out.sum().backward()
    assert dense.kernel.grad is not None


def test_tf_functions_are_recognised_without_importing_tensorflow():
    """A fresh interpreter: functions that only look like TensorFlow's and Keras's (module and
    name, which is all that is read) map to ours, and TensorFlow is never imported."""
    code = (
        "import sys\n"
        "from tinygrad_es import activations, layers\n"
        "def relu(x): raise AssertionError('a TF function must not run')\n"
        "relu.__module__ = 'tensorflow.python.ops.gen_nn_ops'\n"
        "def sigmoid(x): raise AssertionError\n"
        "sigmoid.__module__ = 'keras.src.activations.activations'\n"
        "assert activations.get(relu) is activations.relu\n"
        "assert activations.get(sigmoid) is activations.sigmoid\n"
        "print(layers.Dense(1, activation=relu, kernel_initializer='ones')([[-2.0]]).data.item())\n"
        "print('tensorflow' in sys.modules, 'keras' in sys.modules)\n")
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env,
                          timeout=120)
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == ["0.0", "False", "False"]
