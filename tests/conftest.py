"""Shared fixtures: real TensorFlow for parity tests, and a clean floatx for every test.

Parity tests take the ``tf`` or ``keras`` fixture. Without TensorFlow they skip with a reason,
unless ``TINYGRAD_ES_REQUIRE_TF=1`` (set by ``.ci/run``), which turns the skip into a failure.
"""

from __future__ import annotations

import contextlib
import os
import shutil

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
os.environ.setdefault("MPLBACKEND", "Agg")

import numpy as np
import pytest

from tinygrad_es import config

REQUIRE_TF = os.environ.get("TINYGRAD_ES_REQUIRE_TF", "") not in ("", "0")


def _import_tf():
    try:
        import tensorflow as tf  # noqa: F401
    except ImportError as err:
        if REQUIRE_TF:
            pytest.fail(f"TINYGRAD_ES_REQUIRE_TF=1 but TensorFlow cannot be imported: {err}")
        pytest.skip(f"TensorFlow is not installed ({err}); pip install -e '.[test]' to run parity")
    return tf


@pytest.fixture(scope="session")
def tf():
    """The real ``tensorflow`` module (skips, or fails under TINYGRAD_ES_REQUIRE_TF=1)."""
    return _import_tf()


@pytest.fixture(scope="session")
def keras(tf):
    """The real ``keras`` (Keras 3 on the TensorFlow backend)."""
    import keras as _keras

    return _keras


@contextlib.contextmanager
def keras_floatx(keras_module, dtype: str):
    """Run Keras *and* tinygrad_es in ``dtype`` inside the block, restoring both afterwards.

    Keras caches its dtype policy, so float64 needs ``set_dtype_policy`` as well as ``set_floatx``
    (keras-semantics.md section 8.1).
    """
    old_k, old_ours = keras_module.config.floatx(), config.floatx()
    old_policy = keras_module.config.dtype_policy()
    keras_module.config.set_floatx(dtype)
    keras_module.config.set_dtype_policy(dtype)
    config.set_floatx(dtype)
    try:
        yield
    finally:
        keras_module.config.set_floatx(old_k)
        keras_module.config.set_dtype_policy(old_policy)
        config.set_floatx(old_ours)


def path_without_dot() -> str:
    """``$PATH`` without the folders that hold Graphviz's ``dot``: a machine without Graphviz."""
    folders = os.environ.get("PATH", "").split(os.pathsep)
    return os.pathsep.join(d for d in folders if d and not os.path.exists(os.path.join(d, "dot")))


def require_dot() -> None:
    """Skip where Graphviz's ``dot`` is missing, except on CI (``CI`` set), which installs it."""
    if shutil.which("dot") is None:
        if os.environ.get("CI"):
            pytest.fail("Graphviz's dot is not installed on CI (.ci/run installs it)")
        pytest.skip("Graphviz's dot is not installed (apt-get install graphviz)")


@pytest.fixture(params=["with-dot", "without-dot"])
def graphviz_dot(request, monkeypatch) -> bool:
    """Run the test twice: with Graphviz's ``dot`` on PATH, and with it hidden (a new laptop).

    Returns whether ``dot`` is there. The "with" run skips where Graphviz is missing, except on CI
    (``CI`` set, as ``.ci/run`` runs), which installs it, so CI exercises both paths.
    """
    if request.param == "with-dot":
        require_dot()
        return True
    monkeypatch.setenv("PATH", path_without_dot())
    assert shutil.which("dot") is None
    return False


# Tolerances the issues set for agreement with TensorFlow.
PARITY_TOL = {"float32": 1e-6, "float64": 1e-12}


@pytest.fixture(autouse=True)
def _restore_global_state():
    """Every test starts and ends in float32 and English with gradient recording on, whatever it
    changed."""
    from tinygrad_es import autograd, i18n

    config.set_floatx("float32")
    i18n.set_language("en")
    yield
    config.set_floatx("float32")
    i18n.set_language("en")
    autograd._grad_enabled = True


def max_abs_diff(a, b) -> float:
    a, b = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)
    assert a.shape == b.shape, f"shape {a.shape} != {b.shape}"
    return float(np.max(np.abs(a - b))) if a.size else 0.0


def micrograd_expression():
    """micrograd's README expression L = (a*b + c) * f, every node named: (L, {name: tensor})."""
    from tinygrad_es.tensor import Tensor

    a = Tensor(2.0, requires_grad=True, name="a")
    b = Tensor(-3.0, requires_grad=True, name="b")
    c = Tensor(10.0, requires_grad=True, name="c")
    f = Tensor(-2.0, requires_grad=True, name="f")
    e = a * b
    e.name = "e"
    d = e + c
    d.name = "d"
    L = d * f
    L.name = "L"
    return L, dict(a=a, b=b, c=c, d=d, e=e, f=f, L=L)


def ulp_distance(a, b) -> int:
    """The largest number of representable floats between a and b, elementwise (same dtype)."""
    a, b = np.asarray(a), np.asarray(b)
    assert a.dtype == b.dtype and a.dtype.kind == "f", (a.dtype, b.dtype)
    if a.size == 0:
        return 0
    bits = {4: np.int32, 8: np.int64}[a.dtype.itemsize]
    ai, bi = a.view(bits).astype(object), b.view(bits).astype(object)
    top = 1 << (8 * a.dtype.itemsize - 1)
    ai = np.where(ai < 0, -(ai + top), ai)
    bi = np.where(bi < 0, -(bi + top), bi)
    return int(np.max(np.abs(ai - bi)))


# ----- shared by several parity test files -----

class Reg:
    """A regularizer to build in each library: ``Reg("L1L2", l1=0.01, l2=0.02)``."""

    def __init__(self, class_name, **config):
        self.class_name, self.config = class_name, config

    def build(self, regularizers_module):
        return getattr(regularizers_module, self.class_name)(**self.config)


def keras_and_ours(keras, spec, n_in, seed=0):
    """Two Sequential models from ``spec`` with Keras's initial weights copied into ours.

    ``spec`` entries: ``(units, activation)``, ``(units, activation, dense_kwargs)`` or
    ``("dropout", rate)``; a ``Reg`` in dense_kwargs is built in each library. Both start from
    the same Glorot-uniform kernels (zero biases, as Keras), drawn by numpy from ``seed`` in
    float32, so a test is the same run every time and in both dtypes.
    """
    from tinygrad_es import layers as L
    from tinygrad_es import regularizers as our_regularizers
    from tinygrad_es.models.sequential import Sequential

    def per_lib(kwargs, module):
        return {k: v.build(module) if isinstance(v, Reg) else v for k, v in kwargs.items()}

    k_layers, o_layers = [keras.Input((n_in,))], [L.Input((n_in,))]
    for entry in spec:
        if entry[0] == "dropout":
            k_layers.append(keras.layers.Dropout(entry[1]))
            o_layers.append(L.Dropout(entry[1]))
            continue
        units, activation, kwargs = (*entry, {})[:3]
        k_layers.append(keras.layers.Dense(units, activation=activation,
                                           **per_lib(kwargs, keras.regularizers)))
        o_layers.append(L.Dense(units, activation=activation,
                                **per_lib(kwargs, our_regularizers)))
    km, om = keras.Sequential(k_layers), Sequential(o_layers)
    rng = np.random.default_rng(seed)
    initial = [rng.uniform(-1, 1, w.shape) * np.sqrt(6 / sum(w.shape)) if w.ndim == 2
               else np.zeros(w.shape) for w in km.get_weights()]
    initial = [w.astype("float32").astype(km.get_weights()[0].dtype) for w in initial]
    km.set_weights(initial)
    om.set_weights(initial)
    return km, om


def gradient_sequence(shapes: dict, n_steps: int = 30, seed: int = 0) -> list[list]:
    """Random signs, magnitudes log-uniform in [1e-8, 1e3], about 15% exact zeros."""
    rng = np.random.default_rng(seed)
    out = []
    for _ in range(n_steps):
        step = []
        for shape in shapes.values():
            g = rng.choice([-1.0, 1.0], size=shape) * 10.0 ** rng.uniform(-8, 3, size=shape)
            g[rng.random(shape) < 0.15] = 0.0
            step.append(g)
        out.append(step)
    return out
