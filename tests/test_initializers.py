"""Initializers against real Keras: the same names, classes and configs; the same distributions
(TF's random numbers cannot be reproduced, so limits, means and stds are compared within sampling
error on a 300x200 draw); seeds that repeat; orthogonality; regularizer names and configs."""

from __future__ import annotations

import numpy as np
import pytest

from tinygrad_es import initializers, regularizers
from tinygrad_es import random as tg_random
from tinygrad_es.utils import set_random_seed

SHAPE = (300, 200)

# Every string keras.initializers.get accepts (class names, snake_case names and aliases),
# except "Constant"/"constant": Keras accepts the name but then fails (from_config needs "value");
# here they give Constant(0.0).
NAMES = ["Zeros", "Ones", "Identity", "RandomNormal", "RandomUniform",
         "TruncatedNormal", "VarianceScaling", "GlorotUniform", "GlorotNormal", "HeUniform",
         "HeNormal", "LecunUniform", "LecunNormal", "Orthogonal", "zeros", "ones", "identity",
         "random_normal", "random_uniform", "truncated_normal", "variance_scaling",
         "glorot_uniform", "glorot_normal", "he_uniform", "he_normal", "lecun_uniform",
         "lecun_normal", "orthogonal", "normal", "uniform", "one", "zero", "IdentityInitializer",
         "OrthogonalInitializer"]


@pytest.mark.parametrize("name", NAMES)
def test_names_resolve_to_keras_class_and_config(keras, name):
    ours, ref = initializers.get(name), keras.initializers.get(name)
    assert type(ours).__name__ == type(ref).__name__
    expected = ref.get_config()
    if type(ref).__name__ == "Identity":  # Keras drops `gain` from the config (a Keras bug)
        expected = {"gain": 1.0, **expected}
    assert ours.get_config() == expected


def test_configs_with_arguments_match_keras(keras):
    cases = [("VarianceScaling", dict(scale=2.0, mode="fan_out", distribution="uniform", seed=3)),
             ("VarianceScaling", dict(distribution="normal")),
             ("RandomNormal", dict(mean=1.0, stddev=2.0, seed=1)),
             ("RandomUniform", dict(minval=-1.0, maxval=2.0)),
             ("TruncatedNormal", dict(stddev=0.3, seed=5)), ("Orthogonal", dict(gain=2.0, seed=1)),
             ("Constant", dict(value=0.5)), ("GlorotUniform", dict(seed=7))]
    for cls_name, kwargs in cases:
        ours = getattr(initializers, cls_name)(**kwargs)
        ref = getattr(keras.initializers, cls_name)(**kwargs)
        assert ours.get_config() == ref.get_config(), cls_name
        again = initializers.deserialize(initializers.serialize(ours))
        assert type(again) is type(ours) and again.get_config() == ours.get_config()


RANDOM = ["glorot_uniform", "glorot_normal", "he_uniform", "he_normal", "lecun_uniform",
          "lecun_normal", "random_normal", "random_uniform", "truncated_normal",
          "variance_scaling"]
QUANTILES = [0.01, 0.1, 0.25, 0.5, 0.75, 0.9, 0.99]


@pytest.mark.parametrize("name", RANDOM)
def test_distribution_matches_keras(keras, name):
    cls_name = type(keras.initializers.get(name)).__name__
    ours = getattr(initializers, cls_name)(seed=1234)(SHAPE)
    ref = np.asarray(getattr(keras.initializers, cls_name)(seed=1234)(SHAPE), np.float64)
    assert ours.dtype == np.float32 and ours.shape == SHAPE
    n, std = ours.size, ref.std()
    assert abs(ours.mean() - ref.mean()) < 5 * std * np.sqrt(2 / n)    # within sampling error
    assert abs(ours.std() - std) < 5 * std * np.sqrt(1 / n)
    # Same shape of distribution: quantiles within ~5 sampling errors (at most 0.08 std at 1%).
    assert np.abs(np.quantile(ours, QUANTILES) - np.quantile(ref, QUANTILES)).max() < 0.08 * std
    if "uniform" in name:  # both reach the same limit to ~0.1%
        assert abs(np.abs(ours).max() - np.abs(ref).max()) < 2e-3 * std * np.sqrt(3)
    elif name != "random_normal":  # truncated at 2 std of the normal before truncation
        assert np.abs(ours).max() <= np.abs(ref).max() * 1.01


def test_truncated_normal_is_cut_at_two_std():
    w = initializers.TruncatedNormal(stddev=1.0, seed=0)((100_000,))
    assert np.abs(w).max() <= 2.0 and np.abs(w).max() > 1.99


def test_compute_fans_match_keras(keras):
    from keras.src.initializers.random_initializers import compute_fans

    for shape in [(), (5,), (3, 4), (2, 3, 4, 5)]:
        assert initializers.compute_fans(shape) == compute_fans(shape)


@pytest.mark.parametrize("shape", [(5, 3), (3, 5), (4, 4), (2, 3, 6)])
def test_orthogonal(shape):
    q = initializers.Orthogonal(gain=2.0, seed=1)(shape, dtype="float64").reshape(-1, shape[-1])
    gram = q.T @ q if q.shape[0] >= q.shape[1] else q @ q.T
    np.testing.assert_allclose(gram, 4.0 * np.eye(min(q.shape)), atol=1e-12)


def test_constant_identity_and_dtypes():
    assert np.array_equal(initializers.Constant(2.5)((2, 2), "float64"), np.full((2, 2), 2.5))
    assert np.array_equal(initializers.get("identity")((2, 3)), np.eye(2, 3, dtype=np.float32))
    assert np.array_equal(initializers.get("constant")((2,)), np.zeros(2, np.float32))
    assert initializers.get("he_normal")((3, 3), dtype="float64").dtype == np.float64
    assert initializers.get("ones")((2,)).dtype == np.float32
    with pytest.raises(ValueError, match="2D"):
        initializers.Identity()((2, 2, 2))
    with pytest.raises(ValueError, match="two-dimensional"):
        initializers.Orthogonal()((3,))


def test_seeds_repeat_as_keras(keras):
    # Keras: an initializer (seeded or not) returns the same values on every call.
    k = keras.initializers.GlorotUniform()
    assert np.array_equal(k((3, 3)), k((3, 3)))
    for init in (initializers.GlorotUniform(), initializers.GlorotUniform(seed=4)):
        assert np.array_equal(init((3, 3)), init((3, 3)))
    a, b = initializers.HeNormal(seed=4)((5, 5)), initializers.HeNormal(seed=4)((5, 5))
    assert np.array_equal(a, b)
    assert not np.array_equal(initializers.HeNormal()((5, 5)), initializers.HeNormal()((5, 5)))
    set_random_seed(11)
    first = initializers.RandomNormal()((4,))
    set_random_seed(11)
    assert np.array_equal(first, initializers.RandomNormal()((4,)))


def test_global_stream_is_one_object_reseeded_in_place():
    g = tg_random.generator()
    tg_random.seed(3)
    a = g.random(3)
    tg_random.seed(3)
    assert tg_random.generator() is g and np.array_equal(a, g.random(3))
    with pytest.raises(ValueError, match="integer"):
        tg_random.seed(1.5)
    with pytest.raises(ValueError, match="integer"):
        set_random_seed("1")


def test_bad_arguments_say_what_was_received():
    with pytest.raises(ValueError, match="Unknown initializer 'glorot_unifrom'.*glorot_uniform"):
        initializers.get("glorot_unifrom")
    with pytest.raises(ValueError, match="scale=-1"):
        initializers.VarianceScaling(scale=-1)
    with pytest.raises(ValueError, match="mode"):
        initializers.VarianceScaling(mode="fan_sideways")
    with pytest.raises(ValueError, match="distribution"):
        initializers.VarianceScaling(distribution="cauchy")
    with pytest.raises(ValueError, match="seed=1.5"):
        initializers.GlorotUniform(seed=1.5)
    with pytest.raises(ValueError, match="Could not interpret"):
        initializers.get(3)


# ----- regularizer registry (penalties are checked against TF in test_layers.py) -----

@pytest.mark.parametrize("name", ["l1", "l2", "L1", "L2", "L1L2", "l1l2"])
def test_regularizer_names_and_configs_match_keras(keras, name):
    ours, ref = regularizers.get(name), keras.regularizers.get(name)
    assert type(ours).__name__ == type(ref).__name__
    assert ours.get_config() == ref.get_config()
    again = regularizers.deserialize(regularizers.serialize(ours))
    assert again.get_config() == ours.get_config()


def test_regularizer_arguments_and_errors(keras):
    assert (regularizers.L1L2(l1=0.1, l2=0.2).get_config() ==
            keras.regularizers.L1L2(l1=0.1, l2=0.2).get_config())
    assert regularizers.get("l1_l2").get_config() == {"l1": 0.01, "l2": 0.01}  # Keras 2's default
    with pytest.raises(ValueError, match="l2=-1"):
        regularizers.L2(-1)
    with pytest.raises(ValueError, match="Unknown regularizer 'l3'"):
        regularizers.get("l3")


# ----- utils -----

@pytest.mark.parametrize("labels, num_classes", [([0, 2, 1, 2], None), ([[1], [0], [3]], 5),
                                                 (np.array([[0, 1], [1, 1]]), None),
                                                 (np.array([2.0, 0.0]), 3)])
def test_to_categorical_matches_keras(keras, labels, num_classes):
    from tinygrad_es.utils import to_categorical

    ours = to_categorical(labels, num_classes)
    ref = keras.utils.to_categorical(labels, num_classes)
    assert ours.dtype == ref.dtype and np.array_equal(ours, ref)


def test_to_categorical_errors():
    from tinygrad_es.utils import to_categorical

    with pytest.raises(ValueError, match="label 3, outside \\[0, 2\\]"):
        to_categorical([0, 3], num_classes=3)
    with pytest.raises(ValueError, match="label -1"):
        to_categorical([0, -1])
    with pytest.raises(ValueError, match="non-integer values such as \\[0.5\\]"):
        to_categorical([0.5, 1.0])
