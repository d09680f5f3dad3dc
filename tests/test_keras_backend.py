"""``tinygrad_es.backend`` / ``tinygrad_es.config`` as ``keras.backend`` / ``keras.config``: the
settings tutorials read and write, checked against real Keras (defaults, round trips, errors),
and ``backend()``'s name."""

from __future__ import annotations

import numpy as np
import pytest

import tinygrad_es as tg
from tinygrad_es import backend, config


def test_defaults_are_keras_s(keras):
    for name in ("floatx", "epsilon", "image_data_format"):
        assert getattr(backend, name)() == getattr(keras.backend, name)(), name
        assert getattr(config, name)() == getattr(keras.config, name)(), name


@pytest.mark.parametrize("getter, setter, value", [
    ("floatx", "set_floatx", "float64"), ("epsilon", "set_epsilon", 1e-5),
    ("image_data_format", "set_image_data_format", "channels_first"),
])
def test_settings_round_trip_as_keras(keras, getter, setter, value):
    for lib in (keras.backend, backend):
        old = getattr(lib, getter)()
        try:
            getattr(lib, setter)(value)
            assert getattr(lib, getter)() == value
            if lib is backend:  # one home: the same setting seen through config
                assert getattr(config, getter)() == value
        finally:
            getattr(lib, setter)(old)


def test_bad_settings_are_refused_naming_the_value(keras):
    for lib in (keras.backend, backend):
        with pytest.raises(ValueError):
            lib.set_image_data_format("channels_middle")
        with pytest.raises(ValueError):
            lib.set_floatx("int32")
    with pytest.raises(ValueError, match="set_image_data_format.*channels_middle"):
        backend.set_image_data_format("channels_middle")


def test_backend_is_named_numpy_and_reachable_as_keras_names():
    # "numpy": every op is computed by numpy; a program that tests for "tensorflow" before
    # calling TensorFlow on a tensor must not take that branch here.
    assert backend.backend() == config.backend() == "numpy"
    assert tg.backend is backend and tg.ops.convert_to_numpy is not None


def test_clear_session_restarts_names_as_keras(keras):
    for lib, layers in ((keras.backend, keras.layers), (backend, tg.layers)):
        layers.Dense(1)
        lib.clear_session()
        assert layers.Dense(1).name == "dense"
        assert lib.get_uid("block") == 1 and lib.get_uid("block") == 2
        lib.clear_session()
        assert lib.get_uid("block") == 1


@pytest.mark.parametrize("floatx", ["float32", "float64"])
def test_result_type_and_dtype_helpers_as_keras(keras, floatx):
    from conftest import keras_floatx

    dtypes = ["bool", "uint8", "int8", "int32", "int64", "float16", "float32", "float64"]
    with keras_floatx(keras, floatx):
        for a in dtypes:
            assert backend.standardize_dtype(a) == keras.backend.standardize_dtype(a)
            assert backend.standardize_dtype(np.dtype(a)) == keras.backend.standardize_dtype(
                np.dtype(a))
            assert backend.is_float_dtype(a) == keras.backend.is_float_dtype(a)
            assert backend.is_int_dtype(a) == keras.backend.is_int_dtype(a)
            for b in dtypes:
                assert backend.result_type(a, b) == keras.backend.result_type(a, b), (a, b)
        assert backend.standardize_dtype(None) == keras.backend.standardize_dtype(None)


def test_is_keras_tensor_is_false_for_numbers(keras):
    x = tg.ops.ones((2,))
    assert backend.is_keras_tensor(x) is False
    assert keras.backend.is_keras_tensor(keras.ops.ones((2,))) is False
