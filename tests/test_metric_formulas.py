"""One home for two rules: TensorFlow's float32 constants (tfcast) and the loss formulas that the
metrics share with the losses, as in Keras."""

import numpy as np
import pytest

from tinygrad_es import losses, metrics
from tinygrad_es.tfcast import tf_constant

_SHARED = ["mean_absolute_error", "mean_squared_error", "mean_absolute_percentage_error",
           "mean_squared_logarithmic_error", "log_cosh", "cosine_similarity", "hinge",
           "squared_hinge", "categorical_hinge", "binary_crossentropy",
           "categorical_crossentropy", "sparse_categorical_crossentropy", "kl_divergence",
           "poisson"]


@pytest.mark.parametrize("name", _SHARED)
def test_metric_functions_are_the_loss_functions_as_in_keras(keras, name):
    # Keras's metrics call the loss functions themselves; cosine similarity alone is its own
    # function (keras.metrics has only the class; its +1 is the loss's -1).
    if name == "cosine_similarity":
        assert not hasattr(keras.metrics, name)
        assert metrics.cosine_similarity is not losses.cosine_similarity
        return
    assert getattr(keras.metrics, name) is getattr(keras.losses, name)
    assert getattr(metrics, name) is getattr(losses, name)


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_cosine_similarity_metric_is_keras_s(keras, dtype):
    from keras.src.metrics.regression_metrics import cosine_similarity

    rng = np.random.default_rng(0)
    y, p = rng.normal(size=(2, 6, 4)).astype(dtype)
    ours = metrics.cosine_similarity(y, p)
    theirs = np.asarray(cosine_similarity(y, p))
    assert ours.dtype == theirs.dtype
    np.testing.assert_allclose(ours, theirs, rtol=0, atol=1e-6 if dtype == "float32" else 1e-12)


@pytest.mark.parametrize("dtype", ["float16", "float32", "float64"])
@pytest.mark.parametrize("value", [0.9, 0.999, 1e-7, 0.044715, 0.7071067811865476, 3, 0.0])
def test_tf_constant_is_ops_cast(keras, tf, dtype, value):
    # Bit-exact: both sides are one or two IEEE roundings of the same number.
    ours = tf_constant(value, dtype)
    theirs = keras.ops.convert_to_numpy(keras.ops.cast(value, dtype))
    assert ours.dtype == np.dtype(dtype)
    assert ours.tobytes() == np.asarray(theirs, dtype=dtype).tobytes()


def test_tf_constant_keeps_numpy_precision(keras):
    ours = tf_constant(np.float64(0.9), "float64")
    theirs = keras.ops.convert_to_numpy(keras.ops.cast(np.float64(0.9), "float64"))
    assert float(ours) == float(theirs) == 0.9
