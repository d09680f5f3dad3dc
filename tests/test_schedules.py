"""Learning-rate schedules against Keras's for steps 0..1000.

Two comparisons per schedule: all 1001 steps against Keras evaluated on a range tensor (Keras then
uses vectorised float32 cos/log/pow, a last-bit apart from the scalar ones), and a sample of steps
evaluated one at a time, as the optimizer calls a schedule.

Single steps: schedules made of + - * / floor only are our arithmetic in Keras's order and must
match bit for bit on any machine. Those with cos, log or pow are decided by the C library's
functions, which TensorFlow calls for a single number and so do we (``schedules.math_path``), so
they match bit for bit where both sides reach the same function; but numpy and TensorFlow are free
to take their own (vectorised, SIMD) code for these, whose last bit differs by CPU: one ulp is
allowed there (seen: float64 pow, numpy's AVX-512 loop vs libm, on an AMD EPYC).
"""

from __future__ import annotations

import numpy as np
import pytest
from conftest import keras_floatx, ulp_distance

from tinygrad_es import optimizers as ours
from tinygrad_es.optimizers import schedules as our_schedules
from tinygrad_es.tensor import Tensor

STEPS = np.arange(1001)
SAMPLE = sorted(set(range(0, 1001, 29)) | {1, 99, 100, 101, 299, 300, 301, 500, 501, 999, 1000})

SCHEDULES = [
    ("ExponentialDecay", dict(initial_learning_rate=0.1, decay_steps=100, decay_rate=0.9)),
    ("ExponentialDecay", dict(initial_learning_rate=0.1, decay_steps=30, decay_rate=0.5,
                              staircase=True)),
    ("ExponentialDecay", dict(initial_learning_rate=np.float64(0.1), decay_steps=70,
                              decay_rate=0.93)),
    ("InverseTimeDecay", dict(initial_learning_rate=0.05, decay_steps=10, decay_rate=0.3)),
    ("InverseTimeDecay", dict(initial_learning_rate=0.05, decay_steps=40, decay_rate=1.7,
                              staircase=True)),
    ("PiecewiseConstantDecay", dict(boundaries=[100, 300, 500], values=[0.1, 0.05, 0.01, 0.001])),
    ("PolynomialDecay", dict(initial_learning_rate=0.1, decay_steps=300)),
    ("PolynomialDecay", dict(initial_learning_rate=0.1, decay_steps=300, end_learning_rate=0.01,
                             power=0.5, cycle=True)),
    ("CosineDecay", dict(initial_learning_rate=0.1, decay_steps=700, alpha=0.05)),
    ("CosineDecay", dict(initial_learning_rate=0.0, decay_steps=600, warmup_target=0.1,
                         warmup_steps=100)),
    ("CosineDecayRestarts", dict(initial_learning_rate=0.1, first_decay_steps=100)),
    ("CosineDecayRestarts", dict(initial_learning_rate=0.1, first_decay_steps=70, t_mul=1.0,
                                 m_mul=0.7, alpha=0.1)),
]


# The schedules whose formula calls cos, log or pow (the C library decides the last bit).
TRANSCENDENTAL = {"ExponentialDecay", "PolynomialDecay", "CosineDecay", "CosineDecayRestarts"}
LIBM_ULPS = 1


def _ids():
    return [f"{name}-{i}" for i, (name, _) in enumerate(SCHEDULES)]


@pytest.mark.parametrize("name, kwargs", SCHEDULES, ids=_ids())
def test_schedule_matches_keras(keras, tf, name, kwargs):
    k_sched = getattr(keras.optimizers.schedules, name)(**kwargs)
    o_sched = getattr(our_schedules, name)(**kwargs)
    steps = tf.constant(STEPS, dtype=tf.int64)
    if kwargs.get("warmup_target") is None:
        k_all = k_sched(steps).numpy()
    else:  # Keras branches with ops.cond, which needs one step at a time
        k_all = tf.vectorized_map(k_sched, steps).numpy()
    o_all = o_sched(STEPS)
    assert o_all.dtype == k_all.dtype and o_all.shape == k_all.shape
    assert np.max(np.abs(o_all.astype(np.float64) - k_all)) <= 1e-6 * float(np.max(k_all))

    k_one = np.array([k_sched(tf.constant(s, dtype=tf.int64)).numpy() for s in SAMPLE])
    o_one = np.array([o_sched(s) for s in SAMPLE])
    assert o_one.dtype == k_one.dtype
    budget = LIBM_ULPS if name in TRANSCENDENTAL else 0
    assert ulp_distance(o_one, k_one) <= budget, (o_one, k_one)
    assert ulp_distance(o_all[SAMPLE], o_one) <= budget  # vectorised vs one at a time, ours


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_single_steps_take_the_c_library_path(dtype):
    """A single step's cos/log/pow goes to the C library, as TensorFlow's scalar kernels do."""
    assert our_schedules.math_path(dtype(0.5), dtype(3.0)) == f"libm-{np.dtype(dtype).name}"
    assert our_schedules.math_path(np.arange(3.0)) == "numpy"  # float64 arrays: numpy


@pytest.mark.parametrize("name, kwargs", SCHEDULES, ids=_ids())
def test_schedule_config_matches_keras_and_round_trips(keras, name, kwargs):
    k_cfg = getattr(keras.optimizers.schedules, name)(**kwargs).get_config()
    o_sched = getattr(our_schedules, name)(**kwargs)
    assert o_sched.get_config() == k_cfg and list(o_sched.get_config()) == list(k_cfg)
    back = our_schedules.deserialize(our_schedules.serialize(o_sched))
    assert type(back) is type(o_sched) and back.get_config() == o_sched.get_config()
    assert np.array_equal(back(STEPS[:50]), o_sched(STEPS[:50]))


def test_schedule_is_float32_even_in_float64_mode(keras, tf):
    with keras_floatx(keras, "float64"):
        k_value = keras.optimizers.schedules.CosineDecay(0.1, 100)(tf.constant(30, tf.int64))
        o_value = our_schedules.CosineDecay(0.1, 100)(30)
    assert k_value.dtype.name == "float32" and o_value.dtype == np.float32
    assert ulp_distance(o_value, k_value.numpy()) <= LIBM_ULPS  # cosf: the C library decides


def test_optimizer_feeds_the_raw_step_count_like_keras(keras, tf):
    seen_k, seen_o = [], []

    class KerasRecorder(keras.optimizers.schedules.LearningRateSchedule):
        def __call__(self, step):
            seen_k.append(int(step))
            return 0.1

    class OurRecorder(our_schedules.LearningRateSchedule):
        def __call__(self, step):
            seen_o.append(int(step))
            return 0.1

    k_opt = keras.optimizers.SGD(KerasRecorder(), gradient_accumulation_steps=3)
    o_opt = ours.SGD(OurRecorder(), gradient_accumulation_steps=3)
    k_w, o_w = keras.Variable(np.zeros(2, "float32")), Tensor(np.zeros(2))
    for _ in range(9):
        k_opt.apply([tf.ones(2)], [k_w])
        o_opt.apply([np.ones(2, "float32")], [o_w])
    # Keras also reads the schedule for weight decay and from the `learning_rate` property; the
    # distinct values it was called with are the ones that matter.
    assert sorted(set(seen_o)) == sorted(set(seen_k))
    assert np.array_equal(k_w.numpy(), o_w.data)


def test_bad_schedule_arguments_say_what_was_received():
    with pytest.raises(ValueError, match="decay_steps=0"):
        our_schedules.ExponentialDecay(0.1, 0, 0.9)
    with pytest.raises(ValueError, match="first_decay_steps=-5"):
        our_schedules.CosineDecayRestarts(0.1, -5)
    with pytest.raises(ValueError, match="length 2"):
        our_schedules.PiecewiseConstantDecay([10, 20], [0.1, 0.01])
    with pytest.raises(ValueError, match="'Nope'"):
        our_schedules.deserialize({"class_name": "Nope", "config": {}})


def test_custom_schedule_subclass_in_an_optimizer():
    class Halving(our_schedules.LearningRateSchedule):
        def __call__(self, step):
            return np.float32(0.5) ** (np.asarray(step) // 2)

        def get_config(self):
            return {}

    w = Tensor([0.0])
    opt = ours.SGD(Halving())
    lrs = []
    for _ in range(5):
        lrs.append(opt.learning_rate)
        opt.apply([np.array([1.0], dtype="float32")], [w])
    assert lrs == [float(np.float32(0.5) ** (k // 2)) for k in range(5)]
    assert w.data[0] == -np.float32(sum(np.float32(x) for x in lrs))
    assert repr(Halving()) == "Halving()"
