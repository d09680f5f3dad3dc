"""Activations against real Keras: value and gradient (tf.GradientTape), float32 and float64,
ordinary points, kinks and +-1e4; the name registry against keras.activations.get."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from conftest import PARITY_TOL
from tinygrad_es import activations
from tinygrad_es.tensor import Tensor, no_grad

# Ordinary points, the kinks of every activation here, and large magnitudes.
KINKS = [0.0, 1e-8, -1e-8, 0.5, -0.5, 1.0, -1.0, 3.0, -3.0, 6.0, 0.7, 5.0, 2.0]
LARGE = [20.0, -20.0, 40.0, -40.0, 88.0, -88.0, 1e4, -1e4]
POINTS = np.unique(np.concatenate([np.linspace(-7, 7, 29), KINKS, LARGE]))

# (name, kwargs): every registered name with its defaults, plus the keyword variants.
CASES = [(name, {}) for name in sorted(activations._ACTIVATIONS) if name != "threshold"] + [
    ("swish", {}), ("hard_swish", {}),
    ("relu", {"negative_slope": 0.3}), ("relu", {"max_value": 5.0}),
    ("relu", {"threshold": 0.5}), ("relu", {"max_value": 6}),
    ("relu", {"negative_slope": 0.3, "max_value": 0.7, "threshold": 0.1}),
    ("relu", {"negative_slope": 0.5, "threshold": -1.0}),
    ("leaky_relu", {"negative_slope": 0.1}), ("elu", {"alpha": 0.3}),
    ("gelu", {"approximate": True}), ("celu", {"alpha": 0.7}), ("squareplus", {"b": 2}),
    ("hard_shrink", {"threshold": 1.0}), ("soft_shrink", {"threshold": 1.0}),
    ("threshold", {"threshold": 0.5, "default_value": -2.0}),
    ("softmax", {"axis": 0}), ("log_softmax", {"axis": 0}), ("sparsemax", {"axis": 0}),
    ("glu", {"axis": 0}),
]
ROW_WISE = {"softmax", "log_softmax", "sparsemax", "glu"}

# TF's float32 tanh (Eigen's fast approximation) is 1-2 ulp off the correctly rounded numpy tanh
# and is exactly 1 from about 8.5 on. 1 - tanh^2 near saturation is then ~5% different, and
# mish' = tanh(sp) + x sech^2(sp) sigmoid(x) multiplies that by x: up to 2.1e-6 at x = 5..7.
# Only the compositions that scale tanh's gradient by x get this allowance (tanh itself passes).
TANH_SCALED = {("mish", ()), ("gelu", (("approximate", True),))}
TANH_SCALED_TOL_F32 = 3e-6


def _points(name: str, dtype: str) -> np.ndarray:
    x = POINTS
    if name == "exponential":  # e^x overflows past 88 (float32) in TF too
        x = x[np.abs(x) <= (80 if dtype == "float32" else 700)]
    x = x.astype(dtype)
    if name in ROW_WISE:  # vectors of 4 mixing small, kink and large entries
        x = np.resize(x, (len(x) + 3) // 4 * 4).reshape(-1, 4)
    return x


def _rel_err(ours: np.ndarray, ref: np.ndarray) -> float:
    """max |a - b| / max(1, |b|): absolute for |b| <= 1, relative above (float32 ulp at 1e4 is
    1e-3, so no implementation can be absolutely 1e-6 close there)."""
    ours, ref = np.asarray(ours, np.float64), np.asarray(ref, np.float64)
    assert ours.shape == ref.shape
    assert np.array_equal(np.isfinite(ours), np.isfinite(ref))
    fin = np.isfinite(ref)
    return float(np.max(np.abs(ours[fin] - ref[fin]) / np.maximum(1.0, np.abs(ref[fin]))))


def _keras_value_grad(tf, keras, name, kwargs, x, upstream):
    v = tf.Variable(x)
    with tf.GradientTape() as tape:
        y = keras.activations.get(name)(v, **kwargs)
        s = tf.reduce_sum(y * upstream)
    return y.numpy(), tape.gradient(s, v).numpy()


WORST: dict[str, float] = {"float32": 0.0, "float64": 0.0}


@pytest.fixture(scope="module", autouse=True)
def _report_worst():
    """After the module: the worst error seen against Keras (shown with pytest -s)."""
    yield
    print(f"\nactivations: worst difference vs Keras (outside TANH_SCALED): float32 "
          f"{WORST['float32']:.3g}, float64 {WORST['float64']:.3g}")


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("name,kwargs", CASES, ids=lambda c: str(c) if not isinstance(c, dict)
                         else ",".join(f"{k}={v}" for k, v in c.items()))
def test_value_and_gradient_match_keras(tf, keras, name, kwargs, dtype):
    x = _points(name, dtype)
    rng = np.random.default_rng(0)
    fn = activations.get(name)
    t = Tensor(x, requires_grad=True, dtype=dtype)
    with np.errstate(over="raise", invalid="raise", divide="raise"):  # no overflow/nan warnings
        y = fn(t, **kwargs)
        upstream = rng.uniform(0.5, 1.5, size=y.shape).astype(dtype)
        (y * upstream).sum().backward()
    y_ref, g_ref = _keras_value_grad(tf, keras, name, kwargs, x, upstream)
    assert y.dtype == np.dtype(dtype) and t.grad.dtype == np.dtype(dtype)
    assert np.all(np.isfinite(y.data)) or name == "exponential"
    err = max(_rel_err(y.data, y_ref), _rel_err(t.grad, g_ref))
    tol = PARITY_TOL[dtype]
    if dtype == "float32" and (name, tuple(kwargs.items())) in TANH_SCALED:
        tol = TANH_SCALED_TOL_F32
    else:
        WORST[dtype] = max(WORST[dtype], err)
    assert err <= tol, f"{name}{kwargs} {dtype}: {err:.3g}"


def test_kink_gradients_are_tensorflows():
    """Spot values of section 9, stated so a failure reads as a rule (Keras checks them above)."""
    def grad(fn, x):
        t = Tensor([x], requires_grad=True, dtype="float64")
        fn(t).sum().backward()
        return float(t.grad[0])

    assert grad(activations.relu, 0.0) == 0.0
    assert grad(activations.relu6, 6.0) == 0.0
    assert grad(activations.hard_sigmoid, 3.0) == grad(activations.hard_sigmoid, -3.0) == 0.0
    assert grad(activations.hard_sigmoid, 2.9) == pytest.approx(1 / 6)
    assert grad(activations.leaky_relu, 0.0) == pytest.approx(0.2, rel=1e-7)
    assert grad(lambda x: activations.relu(x, max_value=5.0), 5.0) == 1.0


def test_sigmoid_and_softmax_carry_their_logits_even_without_grad():
    z = Tensor([[40.0, -3.0]], requires_grad=True)
    s = activations.sigmoid(z)
    assert activations.logits_of(s) is z and s.op == "Sigmoid"
    s.sum().backward()  # the graph is intact through the re-made tensor
    np.testing.assert_allclose(z.grad, (s.data * (1 - s.data)))
    with no_grad():
        p = activations.softmax(z)
    assert activations.logits_of(p) is z and not p.requires_grad
    assert activations.logits_of(p * 1.0) is None  # ops on the output drop it, as in Keras
    assert activations.logits_of(activations.tanh(z)) is None


def test_names_equal_keras(keras):
    ours = set(activations._ACTIVATIONS) | set(activations._ALIASES)
    candidates = ours | set(dir(keras.activations)) | {"hardsigmoid", "Relu", "swish2"}
    for name in sorted(c for c in candidates if not c.startswith("_")):
        try:
            keras_ok = callable(keras.activations.get(name))
        except (ValueError, TypeError):
            keras_ok = False
        keras_ok = keras_ok and name not in ("get", "serialize", "deserialize")
        assert (name in ours) == keras_ok, name
        if keras_ok:
            assert activations.serialize(activations.get(name)) == keras.activations.serialize(
                keras.activations.get(name))


def test_get_and_serialize():
    assert activations.get(None) is activations.linear
    assert activations.get({"class_name": "function", "config": "relu"}) is activations.relu

    def custom(x):
        return x

    wrapped = activations.get(custom)  # checked on each call (activations/foreign.py)
    assert wrapped.__wrapped__ is custom and wrapped(Tensor([1.0, -2.0])).data.tolist() == [1, -2]
    with pytest.raises(ValueError, match=r"Unknown activation 'sigmod'\. Did you mean 'sigmoid'"):
        activations.get("sigmod")
    with pytest.raises(ValueError, match="Valid names: celu, elu"):
        activations.get("nope")
    with pytest.raises(ValueError, match="Cannot serialize activation"):
        activations.serialize(custom)
    with pytest.raises(ValueError, match="Could not interpret"):
        activations.get(3)
    with pytest.raises(ValueError, match=r"divisible by 2, received x.shape=\(1, 3\)"):
        activations.glu(Tensor([[1.0, 2.0, 3.0]]))


@settings(max_examples=25, deadline=None)
@given(shape=st.lists(st.integers(1, 4), min_size=1, max_size=3), seed=st.integers(0, 2**16))
def test_softmax_rows_sum_to_one_and_logits_kept(shape, seed):
    z = Tensor(np.random.default_rng(seed).normal(0, 5, size=shape), dtype="float64")
    p = activations.softmax(z)
    np.testing.assert_allclose(p.data.sum(-1), 1.0, rtol=1e-12)
    np.testing.assert_allclose(activations.log_softmax(z).data, np.log(p.data), atol=1e-12)
    assert activations.logits_of(p) is z
