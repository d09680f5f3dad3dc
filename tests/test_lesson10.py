"""Watching gradients during training (issue 11 §5): GradientMonitor, WeightPath, their pictures,
and lesson 10 in quick mode. Every expected number is recomputed from the engine (or TF)."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pytest
from conftest import PARITY_TOL, keras_floatx

pytest.importorskip("matplotlib")

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"
sys.path.insert(0, str(EXAMPLES))

import lesson10_vanishing_gradients as lesson10  # noqa: E402

import tinygrad_es as tg  # noqa: E402
from tinygrad_es import course  # noqa: E402
from tinygrad_es.callbacks import GradientMonitor, WeightPath  # noqa: E402
from tinygrad_es.datasets import load_digits  # noqa: E402
from tinygrad_es.viz.finite_differences import model_loss_fn  # noqa: E402
from tinygrad_es.viz.gradient_plots import plot_gradient_norms  # noqa: E402
from tinygrad_es.viz.weight_surface import (COURSE_WEIGHTS, plot_weight_surface,  # noqa: E402
                                            weight_surface)

PNG = b"\x89PNG\r\n\x1a\n"


def digits(n: int = 96) -> tuple[np.ndarray, np.ndarray]:
    data = load_digits()
    return data.data[:n] / 16.0, data.target[:n]


def small_net(activation: str = "sigmoid", seed: int = 0) -> tg.Sequential:
    tg.random.seed(seed)
    model = tg.Sequential([tg.Input((64,)), tg.layers.Dense(16, activation=activation),
                           tg.layers.Dense(8, activation=activation),
                           tg.layers.Dense(10, activation="softmax")])
    model.compile(optimizer=tg.optimizers.SGD(0.1, momentum=0.9),
                  loss="sparse_categorical_crossentropy")
    return model


def layer_norms(model: tg.Sequential, arrays: list[np.ndarray]) -> list[float]:
    """‖concat of each layer's arrays‖ (arrays in get_weights() order, kernel then bias)."""
    out, k = [], 0
    for layer in model.layers:
        n = len(layer.trainable_weights)
        if n:
            out.append(float(np.sqrt(sum(np.sum(np.square(a.astype(np.float64)))
                                         for a in arrays[k:k + n]))))
            k += n
    return out


def test_training_is_bit_identical_with_and_without_the_callbacks():
    x, y = digits()
    runs = []
    for callbacks in ([], [GradientMonitor(), GradientMonitor("last"),
                           WeightPath([(0, (3, 5)), (4, (1, 2))])]):
        model = small_net()
        tg.random.seed(1)   # the shuffles
        history = model.fit(x, y, epochs=3, batch_size=20, callbacks=callbacks, verbose=0)
        runs.append((model.get_weights(), history.history["loss"], callbacks))
    (plain, plain_loss, _), (watched, watched_loss, callbacks) = runs
    assert all(np.array_equal(a, b) for a, b in zip(plain, watched))
    assert plain_loss == watched_loss
    assert len(callbacks[0].epochs) == 3 and callbacks[2].path.shape == (1 + 3 * 5, 2)


def test_one_full_batch_epoch_gives_the_engines_gradient_and_update():
    x, y = digits()
    model = small_net()
    start = model.get_weights()
    monitor = GradientMonitor()
    model.fit(x, y, epochs=1, batch_size=len(x), shuffle=False, callbacks=[monitor], verbose=0)
    end = model.get_weights()
    # the gradient, by a separate forward/backward at the starting weights
    fresh = small_net()
    fresh.set_weights(start)
    loss_fn, weights = model_loss_fn(fresh, x, y, "sparse_categorical_crossentropy")
    loss_fn().backward()
    grads = layer_norms(fresh, [w.grad for w in weights])
    steps = layer_norms(model, [b - a for a, b in zip(start, end)])
    sizes = layer_norms(model, start)
    assert monitor.layers == [layer.name for layer in model.layers]
    for name, grad, step, size in zip(monitor.layers, grads, steps, sizes):
        # same ops in the same order as fit's step: equal up to float64 summation order
        assert monitor.grad_norms[name] == pytest.approx([grad], rel=1e-12)
        assert monitor.update_ratios[name] == pytest.approx([step / size], rel=1e-12)
    # SGD's first momentum step is lr·g: the ratio says ‖Δw‖ = 0.1‖g‖ (float32 weights)
    for name, grad, size in zip(monitor.layers, grads, sizes):
        assert monitor.update_ratios[name][0] * size == pytest.approx(0.1 * grad, rel=1e-5)


def test_mean_and_last_are_over_the_epochs_batches():
    x, y = digits(80)
    both, halves = small_net(), small_net()       # plain SGD: no state carried between fits
    for net in (both, halves):
        net.compile(optimizer=tg.optimizers.SGD(0.1), loss="sparse_categorical_crossentropy")
    mean, last = GradientMonitor(), GradientMonitor("last")
    both.fit(x, y, epochs=1, batch_size=40, shuffle=False, callbacks=[mean, last], verbose=0)
    # the same two batches as two one-batch fits
    firsts, seconds = GradientMonitor(), GradientMonitor()
    halves.fit(x[:40], y[:40], epochs=1, batch_size=40, shuffle=False, callbacks=[firsts],
               verbose=0)
    halves.fit(x[40:], y[40:], epochs=1, batch_size=40, shuffle=False, callbacks=[seconds],
               verbose=0)
    assert all(np.array_equal(a, b) for a, b in zip(both.get_weights(), halves.get_weights()))
    for k, name in enumerate(mean.layers):
        other = firsts.layers[k]
        for series in ("grad_norms", "update_ratios"):
            one = getattr(firsts, series)[other][0]
            two = getattr(seconds, series)[other][0]
            assert getattr(mean, series)[name] == pytest.approx([(one + two) / 2], rel=1e-12)
            assert getattr(last, series)[name] == [two]
            assert one != two
    with pytest.raises(ValueError, match="reduce"):
        GradientMonitor("max")


def test_grad_norms_match_tensorflow_gradients(tf, keras):
    """Per-layer ‖∂L/∂w‖ of one full-batch step against tf.GradientTape on the same weights."""
    x, y = digits()
    for dtype in ("float32", "float64"):
        with keras_floatx(keras, dtype):
            model = small_net()
            start = model.get_weights()
            monitor = GradientMonitor()
            model.fit(x, y, epochs=1, batch_size=len(x), shuffle=False, callbacks=[monitor],
                      verbose=0)
            theirs = keras.Sequential([keras.Input((64,)),
                                       keras.layers.Dense(16, activation="sigmoid"),
                                       keras.layers.Dense(8, activation="sigmoid"),
                                       keras.layers.Dense(10, activation="softmax")])
            theirs.set_weights(start)
            loss = keras.losses.SparseCategoricalCrossentropy()
            with tf.GradientTape() as tape:
                value = loss(y, theirs(tf.constant(x, dtype=dtype)))
            grads = [g.numpy() for g in tape.gradient(value, theirs.trainable_weights)]
            expected = layer_norms(model, grads)
            got = [monitor.grad_norms[name][0] for name in monitor.layers]
            rel = max(abs(a - b) / b for a, b in zip(got, expected))
            # relative, on a norm of many entries: measured 7e-8 (float32), 1.4e-16 (float64)
            assert rel <= PARITY_TOL[dtype], (dtype, rel)


def test_plot_gradient_norms_draws_one_log_line_per_layer():
    x, y = digits()
    model = small_net()
    monitor = GradientMonitor()
    model.fit(x, y, epochs=3, batch_size=32, callbacks=[monitor], verbose=0)
    for quantity, series in (("grad_norm", monitor.grad_norms),
                             ("update_ratio", monitor.update_ratios)):
        ax = plot_gradient_norms(monitor, quantity=quantity, lang="es")
        assert ax.get_yscale() == "log"
        lines = {line.get_gid(): line for line in ax.get_lines()}
        assert sorted(lines) == sorted(f"layer:{n}" for n in monitor.layers)
        for name in monitor.layers:
            np.testing.assert_array_equal(lines[f"layer:{name}"].get_ydata(), series[name])
            np.testing.assert_array_equal(lines[f"layer:{name}"].get_xdata(), [1, 2, 3])
    assert plot_gradient_norms(monitor, ax=ax) is ax
    with pytest.raises(ValueError, match="no epoch"):
        plot_gradient_norms(GradientMonitor())


def test_course_weight_names_are_params_from_weights():
    model = course.build_model(seed=3, dtype="float64")
    named = course.params_from_weights(model.get_weights())
    for name, (k, index) in COURSE_WEIGHTS.items():
        assert model.weights[k].data[index] == named[name].data


def test_weight_path_and_surface_on_the_course_network():
    x, y = course.iris_data("float64")
    model = course.build_model(dtype="float64")
    start = course.params_from_weights(model.get_weights())
    model.compile(optimizer=tg.optimizers.SGD(1.0), loss="mae")
    recorder = WeightPath([COURSE_WEIGHTS["w_52"], COURSE_WEIGHTS["w_53"]])
    model.fit(x, y, epochs=7, batch_size=len(x), shuffle=False, callbacks=[recorder], verbose=0)
    path = recorder.path
    assert path.shape == (8, 2)
    assert path[0].tolist() == [float(start["w_52"].data), float(start["w_53"].data)]
    end = course.params_from_weights(model.get_weights())
    assert path[-1].tolist() == [float(end["w_52"].data), float(end["w_53"].data)]
    # the surface at a point is the model's loss with those two weights set there
    before = model.get_weights()
    f = weight_surface(model, ["w_52", "w_53"], data=(x, y))
    point = np.array([0.3, -2.0])
    value = float(f(tg.Tensor(point, dtype="float64")).data)
    assert all(np.array_equal(a, b) for a, b in zip(before, model.get_weights()))  # restored
    moved = [w.copy() for w in before]
    moved[2][0, 0], moved[2][1, 0] = point
    model.set_weights(moved)
    assert value == model.evaluate(x, y, verbose=0, batch_size=len(x))
    model.set_weights(before)
    grid = f(tg.Tensor(np.stack([path, path[::-1]]), dtype="float64")).data
    assert grid.shape == (2, 8) and grid[0, -1] == grid[1, 0]
    # the picture: the course's marks at the path's ends
    ax = plot_weight_surface(model, ["w_52", "w_53"], path, data=(x, y), num=9, label="sgd")
    marks = {line.get_gid(): line for line in ax.get_lines()}
    assert marks["start:sgd"].get_xydata().tolist() == [path[0].tolist()]
    assert marks["end:sgd"].get_xydata().tolist() == [path[-1].tolist()]
    assert marks["steps:sgd"].get_xydata().tolist() == path[1:-1].tolist()
    assert (ax.get_xlabel(), ax.get_ylabel()) == ("w_52", "w_53")
    with pytest.raises(ValueError, match="two weight"):
        weight_surface(model, ["w_52"], data=(x, y))


def test_lesson10_quick_shows_vanishing_gradients_with_sigmoid(tmp_path):
    result = lesson10.main(tmp_path, quick=True)
    assert sorted(p.name for p in result["pictures"]) == ["lesson10_vanishing_gradients.png",
                                                          "lesson10_weight_surface.png"]
    for picture in result["pictures"]:
        assert picture.read_bytes()[:8] == PNG and picture.stat().st_size > 20000
    sig, selu = result["monitors"]["sigmoid"], result["monitors"]["selu"]
    assert sig.layers == ["dense1", "dense2", "dense3", "dense4", "dense5"]
    first, last = sig.grad_norms["dense1"], sig.grad_norms["dense5"]
    # the sigmoid network's first layer gets a gradient well under a tenth of its last layer's,
    # every epoch; selu's first layer gets one of the same order as its last
    assert all(a < b / 10 for a, b in zip(first, last))
    assert result["ratios"]["sigmoid"] < 0.1 < 0.3 < result["ratios"]["selu"]
    norms = [sig.grad_norms[n][-1] for n in sig.layers]
    assert norms == sorted(norms)           # shrinking layer by layer towards the input
    steps = lesson10.QUICK["course_epochs"]
    assert result["path"].shape == (steps + 1, 2)
    assert result["path"][0].tolist() == [float(np.float32(course.START[n]))
                                          for n in lesson10.PAIR]
