"""``tinygrad_es.random`` as ``keras.random``: the same functions, shapes and dtypes, the same
distributions (TensorFlow's numbers cannot be reproduced: means, stds and ranges are compared
within sampling error on large draws), and seeds that behave as Keras's: an integer repeats,
a ``SeedGenerator`` moves on and repeats as a sequence, None follows the global stream."""

from __future__ import annotations

import numpy as np
import pytest
from conftest import keras_floatx

from tinygrad_es import random as tg_random
from tinygrad_es.tensor import Tensor
from tinygrad_es.utils import set_random_seed

N = 200_000  # sampling error of a mean ~ std/450

# name -> (call with the library's random module and a seed, the statistic to compare)
DRAWS = {
    "normal": lambda r, s: r.normal((N,), mean=1.0, stddev=2.0, seed=s),
    "uniform": lambda r, s: r.uniform((N,), minval=-1.0, maxval=3.0, seed=s),
    "truncated_normal": lambda r, s: r.truncated_normal((N,), mean=0.5, stddev=2.0, seed=s),
    "randint": lambda r, s: r.randint((N,), minval=-3, maxval=7, seed=s),
    "gamma": lambda r, s: r.gamma((N,), alpha=2.5, seed=s),
    "beta": lambda r, s: r.beta((N,), alpha=2.0, beta=5.0, seed=s),
    "binomial": lambda r, s: r.binomial((N,), counts=10, probabilities=0.3, seed=s),
    "categorical": lambda r, s: r.categorical(np.log([[0.2, 0.5, 0.3]]), N, seed=s),
    "dropout": lambda r, s: r.dropout(np.ones((N,), np.float32), rate=0.3, seed=s),
}


def _stats(values: np.ndarray) -> dict:
    v = values.astype(np.float64).ravel()
    return {"mean": v.mean(), "std": v.std(), "min": v.min(), "max": v.max()}


@pytest.mark.parametrize("floatx", ["float32", "float64"])
@pytest.mark.parametrize("name", list(DRAWS))
def test_distribution_shape_and_dtype_as_keras(keras, name, floatx):
    with keras_floatx(keras, floatx):
        ref = np.asarray(DRAWS[name](keras.random, 1))
        out = DRAWS[name](tg_random, 1)
        assert isinstance(out, Tensor) and not out.requires_grad
        assert out.shape == ref.shape and out.dtype == ref.dtype, (out.dtype, ref.dtype)
        ours, theirs = _stats(out.data), _stats(ref)
        spread = max(theirs["std"], 1e-3)
        assert abs(ours["mean"] - theirs["mean"]) < 5 * spread / np.sqrt(N) * 2, (ours, theirs)
        assert abs(ours["std"] - theirs["std"]) < 0.02 * spread, (ours, theirs)
        # the support: discrete draws reach the same extremes; continuous ones stay inside them
        if name in ("randint", "categorical", "dropout"):
            assert (ours["min"], ours["max"]) == (theirs["min"], theirs["max"])
        elif name == "binomial":  # 10 of 10 has probability 6e-6: inside [0, 10], maybe not at 10
            assert 0 <= ours["min"] <= 1 and 8 <= ours["max"] <= 10
        elif name in ("uniform", "truncated_normal"):
            assert abs(ours["min"] - theirs["min"]) < 1e-3 * spread
            assert abs(ours["max"] - theirs["max"]) < 1e-3 * spread


def test_truncated_normal_stays_within_two_stddev(keras):
    out = tg_random.truncated_normal((N,), mean=0.5, stddev=2.0, seed=3).data
    assert np.all(np.abs(out - 0.5) <= 4.0)


@pytest.mark.parametrize("name", list(DRAWS))
def test_seeds_behave_as_keras_s(keras, name):
    draw = DRAWS[name]
    for lib in (keras.random, tg_random):  # the same assertions hold for both libraries
        same = np.asarray(draw(lib, 7)), np.asarray(draw(lib, 7))
        assert np.array_equal(*same), f"{lib.__name__}: an integer seed repeats"
        assert not np.array_equal(same[0], np.asarray(draw(lib, 8))), "another seed differs"
        gen = lib.SeedGenerator(5)
        first, second = np.asarray(draw(lib, gen)), np.asarray(draw(lib, gen))
        assert not np.array_equal(first, second), f"{lib.__name__}: a SeedGenerator moves on"
        again = lib.SeedGenerator(5)
        assert np.array_equal(first, np.asarray(draw(lib, again)))
        assert np.array_equal(second, np.asarray(draw(lib, again)))


def test_unseeded_draws_follow_the_global_stream():
    set_random_seed(11)
    a = tg_random.normal((5,)).data, tg_random.SeedGenerator().next()
    set_random_seed(11)
    b = tg_random.normal((5,)).data, tg_random.SeedGenerator().next()
    assert np.array_equal(a[0], b[0]) and a[1] == b[1]
    assert not np.array_equal(a[0], tg_random.normal((5,)).data)


def test_dropout_keeps_the_mean_and_is_differentiable(keras):
    x = Tensor(np.linspace(1.0, 2.0, 10_000), requires_grad=True)
    out = tg_random.dropout(x, rate=0.25, seed=0)
    kept = out.data != 0
    assert abs(kept.mean() - 0.75) < 0.02
    np.testing.assert_allclose(out.data[kept], x.data[kept] / np.float32(0.75), rtol=1e-6)
    out.sum().backward()
    np.testing.assert_allclose(x.grad, np.where(kept, 1 / 0.75, 0.0), rtol=1e-6)
    # noise_shape shares one draw along its size-1 axes, as Keras's
    shared = tg_random.dropout(np.ones((4, 50), np.float32), 0.5, noise_shape=(1, 50), seed=2)
    ref = keras.random.dropout(np.ones((4, 50), np.float32), 0.5, noise_shape=(1, 50), seed=2)
    for values in (shared.data, np.asarray(ref)):
        assert np.all(values == values[:1])
    assert tg_random.dropout(np.ones(3), 0.0).data.tolist() == [1.0, 1.0, 1.0]


def test_shuffle_permutes_along_the_axis_as_keras(keras):
    x = np.arange(24.0).reshape(6, 4)
    for axis in (0, 1):
        ours = tg_random.shuffle(x, axis=axis, seed=3).data
        ref = np.asarray(keras.random.shuffle(x, axis=axis, seed=3))
        for values in (ours, ref):
            assert values.dtype == x.dtype
            np.testing.assert_array_equal(np.sort(values, axis=axis), x)
    t = Tensor(x, requires_grad=True)
    (tg_random.shuffle(t, seed=1) * Tensor(np.arange(6.0)[:, None])).sum().backward()
    assert sorted(t.grad[:, 0].tolist()) == list(range(6))


def test_seed_generator_config_and_errors_as_keras(keras):
    from tinygrad_es import backend

    keras.backend.clear_session()
    backend.clear_session()
    for seed in (3, None):
        ours, theirs = tg_random.SeedGenerator(seed), keras.random.SeedGenerator(seed)
        assert ours.get_config() == theirs.get_config()
    for lib in (keras.random, tg_random):
        with pytest.raises(ValueError, match="seed"):
            lib.normal((2,), seed="a")
    with pytest.raises(ValueError, match="SeedGenerator.*1.5"):
        tg_random.SeedGenerator(1.5)
    with pytest.raises(ValueError, match="dropout.*rate=1.5"):
        tg_random.dropout(np.ones(2), 1.5)
    with pytest.raises(ValueError, match="randint.*minval=3.*maxval=3"):
        tg_random.randint((2,), 3, 3)
    with pytest.raises(ValueError, match=r"normal.*\(2, -1\)"):
        tg_random.normal((2, -1))
