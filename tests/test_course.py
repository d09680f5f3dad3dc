"""The course's network with the course's own numbers: its starting weights, and the table the
course page publishes after 50 epochs of SGD (lr 0.001, full batch, no shuffle).

``course.START``, ``course.PUBLISHED_KERAS``, ``course.PUBLISHED_MANUAL`` and
``course.PUBLISHED_LOSS`` are the course page's printed values, typed in as published. The
tolerance 5e-8 is that page's precision: 8 printed decimals of float32 numbers (w_52 = 0.4951144
in float32 prints as 0.49511436 or 0.4951144 depending on the printer).
"""

from __future__ import annotations

import numpy as np
import pytest

from tinygrad_es import course
from tinygrad_es.tensor import Tensor

PUBLISHED_TOL = 5e-8


def _max_diff(ours: dict, published: dict) -> float:
    return max(abs(ours[n] - published[n]) for n in published)


def test_the_default_weights_are_the_course_pages():
    params = course.init_params()
    assert {n: float(p.data) for n, p in params.items()} == course.START
    model = course.build_model()
    expected = course.weights_from_params(params)
    for got, want in zip(model.get_weights(), expected):
        np.testing.assert_array_equal(got, want)
    assert [w.dtype for w in model.get_weights()] == [np.float32] * 4


def test_a_seed_draws_the_same_other_weights_everywhere():
    drawn = course.init_params(seed=3)
    assert {n: float(p.data) for n, p in drawn.items()} != course.START
    assert all(float(drawn[n].data) == 0 for n in course.PARAM_NAMES if n.startswith("b_"))
    limit = np.sqrt(6 / 4)                                  # glorot_uniform of the 1-3-1 network
    assert all(0 < abs(float(drawn[n].data)) < limit for n in course.PARAM_NAMES
               if n.startswith("w_"))
    for got, want in zip(course.build_model(seed=3).get_weights(),
                         course.weights_from_params(drawn)):
        np.testing.assert_array_equal(got, want)
    assert course.reproduce(seed=3, epochs=1)["start"] == {
        n: float(p.data) for n, p in course.init_params(seed=3).items()}


def test_our_three_ways_give_the_course_published_table():
    run = course.reproduce()
    assert run["start"] == course.START
    # our Keras-API fit (float32, as Keras) against "tras entrenamiento usando Keras"
    assert _max_diff(run["weights"]["fit"], course.PUBLISHED_KERAS) <= PUBLISHED_TOL
    # our backprop and finite-difference loops (float64) against "manualmente"
    for method in ("backprop", "finite"):
        assert _max_diff(run["weights"][method], course.PUBLISHED_MANUAL) <= PUBLISHED_TOL, method
    for method, losses in run["losses"].items():
        assert len(losses) == course.EPOCHS
        assert (round(losses[0], 4), round(losses[-1], 4)) == course.PUBLISHED_LOSS, method
    # the two published columns differ by more than the tolerance (float32 against float64
    # updates): each of ours matches its own column, not merely both
    assert _max_diff(course.PUBLISHED_KERAS, course.PUBLISHED_MANUAL) > 4 * PUBLISHED_TOL
    assert _max_diff(run["weights"]["fit"], course.PUBLISHED_MANUAL) > 2 * PUBLISHED_TOL


def test_real_keras_gives_the_course_published_numbers(keras):
    """The parity check of the published table: the course's script, run in real Keras."""
    x, y = course.iris_data("float32")
    model = keras.Sequential([keras.Input((1,)), keras.layers.Dense(3, activation="sigmoid"),
                              keras.layers.Dense(1, activation="sigmoid")])
    model.set_weights(course.weights_from_params(course.init_params()))
    model.compile(optimizer=keras.optimizers.SGD(learning_rate=course.LEARNING_RATE),
                  loss="mean_absolute_error")
    history = model.fit(x, y, epochs=course.EPOCHS, batch_size=len(x), shuffle=False, verbose=0)
    theirs = {n: float(p.data) for n, p in course.params_from_weights(model.get_weights()).items()}
    assert _max_diff(theirs, course.PUBLISHED_KERAS) <= PUBLISHED_TOL
    losses = history.history["loss"]
    assert (round(losses[0], 4), round(losses[-1], 4)) == course.PUBLISHED_LOSS
    # and our fit against real Keras, at the float32 parity tolerance
    ours = course.reproduce()
    assert _max_diff(ours["weights"]["fit"], theirs) <= 1e-6
    np.testing.assert_allclose(ours["losses"]["fit"], losses, rtol=0, atol=1e-6)


def test_the_course_gradients_by_finite_differences_in_float32_and_float64():
    """compare_gradients on the course's network at its starting weights, default float32."""
    params32 = course.init_params(dtype="float32")
    result = course.compare_gradients(params32)
    assert result.dtype == "float32" and result.fd_dtype == "float64"
    assert [b.dtype for b in result.backprop] == [np.float32] * 10
    assert result.max_forward_error <= 1e-6 and result.max_central_error <= 1e-9
    # backprop in float32 is backprop in float64 rounded to float32 (to a few ulps)
    for b32, b64 in zip(result.backprop, result.backprop64):
        assert abs(float(b32) - float(b64)) <= 1e-6 * max(1.0, abs(float(b64)))
    x, y = (Tensor(a, dtype="float64") for a in course.iris_data())
    trained = course.init_params()
    course.train(trained, x, y, epochs=1)
    assert trained["w_2"].data != params32["w_2"].data   # compare_gradients did not train
