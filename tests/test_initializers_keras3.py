"""Keras 3's initializer names: the STFT kernel against Keras's own values, the snake_case and
``*Initializer`` names (the classes themselves, as in Keras), and the constant initializers under
those names checked to the value."""

from __future__ import annotations

import numpy as np
import pytest
from conftest import PARITY_TOL, keras_floatx

from tinygrad_es import initializers
from tinygrad_es.initializers.stft import get_window

WINDOWS = ["hann", "hamming", "blackman", "boxcar", "triang", "bartlett", "cosine", None]


def _close_to_keras(ours, ref, dtype):
    """Within PARITY_TOL and 4 ulp of the kernel's scale (its largest entry).

    cos/sin are libm's here and Eigen's in TensorFlow, and √Σw² / Σ|w| are reductions in
    TensorFlow's order: the last bits differ (measured, in ulp of the largest entry: at most 3
    with a window and 0.5 without in float32, 2 in float64; worst absolute 6.0e-8 / 5.6e-17).
    """
    ref = np.asarray(ref)
    assert ours.dtype == ref.dtype == np.dtype(dtype) and ours.shape == ref.shape
    diff = np.abs(ours - ref).max()
    assert diff <= PARITY_TOL[dtype]
    assert diff <= 4 * np.spacing(np.abs(ref).max().astype(dtype))


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("side", ["real", "imag"])
@pytest.mark.parametrize("window", WINDOWS)
def test_stft_matches_keras(keras, dtype, side, window):
    with keras_floatx(keras, dtype):
        for scaling in ("density", "spectrum", None):
            for periodic in (False, True):
                for shape in ((64, 1, 33), (25, 1, 7), (1, 1, 2)):
                    args = (side, window, scaling, periodic)
                    ours = initializers.STFT(*args)(shape)
                    ref = keras.initializers.STFT(*args)(shape)
                    _close_to_keras(ours, ref, dtype)


def test_stft_with_window_values_and_dtype_argument(keras):
    values = np.random.default_rng(0).uniform(0.1, 1.0, 16)
    for dtype in ("float32", "float64"):
        ours = initializers.STFT("imag", values, "spectrum")((16, 1, 9), dtype=dtype)
        ref = keras.initializers.STFT("imag", values, "spectrum")((16, 1, 9), dtype=dtype)
        _close_to_keras(ours, ref, dtype)


def test_stft_repeats_along_the_channel_axis(keras):
    # Keras returns (T, 1, F) whatever the middle dimension; ours has the requested shape.
    ours = initializers.STFT()((32, 3, 17))
    ref = np.asarray(keras.initializers.STFT()((32, 3, 17)))
    assert ours.shape == (32, 3, 17) and ref.shape == (32, 1, 17)
    for channel in range(3):
        _close_to_keras(ours[:, channel:channel + 1], ref, "float32")


@pytest.mark.parametrize("name", ["hann", "hamming", "blackman", "boxcar", "triang", "bartlett",
                                  "cosine", "han", "rect", "ones", "tri", "halfcosine"])
def test_windows_equal_scipy_bit_for_bit(name):
    import scipy.signal

    # Same numpy functions (linspace, cos, sin) in the same order as scipy: the same bits.
    for length in (1, 2, 3, 4, 7, 64, 255):
        for periodic in (False, True):
            assert np.array_equal(get_window(name, length, periodic),
                                  scipy.signal.get_window(name, length, periodic))


def test_other_scipy_windows_go_through_scipy(keras):
    ours = initializers.STFT(window="flattop")((20, 1, 11))
    _close_to_keras(ours, keras.initializers.STFT(window="flattop")((20, 1, 11)), "float32")


def test_stft_config_names_and_errors(keras):
    for kwargs in ({}, {"side": "imag", "window": "hamming", "scaling": "spectrum",
                        "periodic": True}, {"window": None, "scaling": None}):
        ours, ref = initializers.STFT(**kwargs), keras.initializers.STFT(**kwargs)
        assert ours.get_config() == ref.get_config()
        again = initializers.deserialize(initializers.serialize(ours))
        assert type(again) is initializers.STFT and again.get_config() == ours.get_config()
        from_keras = initializers.deserialize(keras.initializers.serialize(ref))
        assert from_keras.get_config() == ref.get_config()
    for name in ("STFT", "stft", "STFTInitializer"):
        assert type(initializers.get(name)).__name__ == type(keras.initializers.get(name)).__name__
        assert initializers.get(name).get_config() == keras.initializers.get(name).get_config()
    with pytest.raises(ValueError, match="side should be 'real' or 'imag', not 'both'"):
        initializers.STFT(side="both")
    with pytest.raises(ValueError, match="scaling='power'"):
        initializers.STFT(scaling="power")
    with pytest.raises(ValueError, match="hannn"):
        initializers.STFT(window="hannn")
    with pytest.raises(ValueError, match=r"shape \(8,\).*received window shape \(5,\)"):
        initializers.STFT(window=np.ones(5))((8, 1, 5))
    with pytest.raises(ValueError, match=r"received shape \(8, 5\)"):
        initializers.STFT()((8, 5))


# ----- the second names -----

ALIASES = {"constant": "Constant", "zeros": "Zeros", "ones": "Ones", "identity": "Identity",
           "random_normal": "RandomNormal", "random_uniform": "RandomUniform",
           "truncated_normal": "TruncatedNormal", "variance_scaling": "VarianceScaling",
           "glorot_uniform": "GlorotUniform", "glorot_normal": "GlorotNormal",
           "he_uniform": "HeUniform", "he_normal": "HeNormal", "lecun_uniform": "LecunUniform",
           "lecun_normal": "LecunNormal", "orthogonal": "Orthogonal", "stft": "STFT",
           "IdentityInitializer": "Identity", "OrthogonalInitializer": "Orthogonal",
           "STFTInitializer": "STFT"}


@pytest.mark.parametrize("alias, name", sorted(ALIASES.items()))
def test_second_names_are_the_classes_as_in_keras(keras, alias, name):
    assert getattr(keras.initializers, alias) is getattr(keras.initializers, name)
    assert getattr(initializers, alias) is getattr(initializers, name)
    ours = getattr(initializers, alias)
    if issubclass(ours, initializers.RandomInitializer):
        # TF's random numbers cannot be reproduced (tests/test_initializers.py compares the
        # distributions); the alias draws exactly what the class draws, seed for seed.
        assert np.array_equal(ours(seed=5)((7, 4)), getattr(initializers, name)(seed=5)((7, 4)))


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_constant_initializers_by_their_keras_3_names_to_the_value(keras, dtype):
    cases = [("constant", {"value": -1.5}, (3, 4)), ("zeros", {}, (2, 5)), ("ones", {}, (4,)),
             ("identity", {"gain": 3.0}, (3, 5)), ("IdentityInitializer", {}, (4, 4))]
    with keras_floatx(keras, dtype):
        for alias, kwargs, shape in cases:
            ours = getattr(initializers, alias)(**kwargs)(shape)
            ref = np.asarray(getattr(keras.initializers, alias)(**kwargs)(shape))
            assert ours.dtype == ref.dtype == np.dtype(dtype)
            assert np.array_equal(ours, ref), alias   # exact: constants, no arithmetic
