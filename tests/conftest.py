"""Shared fixtures: real TensorFlow for parity tests, and a clean floatx for every test.

Parity tests take the ``tf`` or ``keras`` fixture. Without TensorFlow they skip with a reason,
unless ``TINYGRAD_ES_REQUIRE_TF=1`` (set by ``.ci/run``), which turns the skip into a failure.
"""

from __future__ import annotations

import contextlib
import os

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


# Tolerances the issues set for agreement with TensorFlow.
PARITY_TOL = {"float32": 1e-6, "float64": 1e-12}


@pytest.fixture(autouse=True)
def _restore_global_state():
    """Every test starts and ends in float32 with gradient recording on, whatever it changed."""
    from tinygrad_es import autograd

    config.set_floatx("float32")
    yield
    config.set_floatx("float32")
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
