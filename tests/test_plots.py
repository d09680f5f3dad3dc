"""Plots under Agg, checked for the data they draw; the 2-D surfaces and optimizer paths."""

from __future__ import annotations

import numpy as np
import pytest

matplotlib = pytest.importorskip("matplotlib")
matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

from tinygrad_es import optimizers  # noqa: E402
from tinygrad_es.tensor import Tensor  # noqa: E402
from tinygrad_es.viz import surfaces  # noqa: E402
from tinygrad_es.viz.plots import (  # noqa: E402
    animate_paths,
    optimizer_path,
    plot_history,
    plot_loss_along_weight,
    plot_loss_along_weights,
    plot_loss_surface,
    plot_lr_grid,
)


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    plt.close("all")


def _line(ax, gid):
    matches = [line for line in ax.lines if line.get_gid() == gid]
    assert len(matches) == 1, f"expected one line with gid {gid!r}"
    return matches[0]


# ----- history -----

def test_plot_history_draws_the_history():
    logs = {"loss": [0.9, 0.5, 0.3], "accuracy": [0.5, 0.7, 0.8], "val_loss": [1.0, 0.6, 0.5],
            "val_accuracy": [0.4, 0.6, 0.7], "learning_rate": [1e-3] * 3}
    fig, ax = plt.subplots()
    assert plot_history(logs, ax=ax) is ax
    for key in ("loss", "accuracy", "val_loss", "val_accuracy"):
        x, y = _line(ax, key).get_data()
        np.testing.assert_array_equal(y, logs[key])
        np.testing.assert_array_equal(x, [1, 2, 3])
    assert _line(ax, "val_loss").get_linestyle() == "--"
    assert _line(ax, "val_loss").get_color() == _line(ax, "loss").get_color()
    assert all(line.get_gid() != "learning_rate" for line in ax.lines)
    ax2 = plot_history(logs, keys=["loss"], lang="es")
    assert [line.get_gid() for line in ax2.lines] == ["loss", "val_loss"]
    assert ax2.get_xlabel() == "época" and ax2.get_ylabel() == "pérdida"
    with pytest.raises(KeyError, match="mae"):
        plot_history(logs, keys=["mae"])


def test_plot_history_of_a_real_fit():
    from tinygrad_es.layers import Dense
    from tinygrad_es.models.sequential import Sequential

    rng = np.random.default_rng(0)
    x = rng.normal(size=(40, 2))
    y = (x[:, :1] > 0).astype("float32")
    model = Sequential([Dense(4, activation="relu"), Dense(1, activation="sigmoid")])
    model.compile(optimizer="adam", loss="binary_crossentropy", metrics=["accuracy"])
    history = model.fit(x, y, epochs=3, batch_size=16, validation_split=0.25, verbose=0)
    ax = plot_history(history)
    for key, values in history.history.items():
        np.testing.assert_allclose(_line(ax, key).get_ydata(), values)


# ----- loss along a weight -----

def _tiny_problem(dtype="float64"):
    x = Tensor(np.linspace(-1, 1, 9)[:, None], dtype=dtype)
    y = Tensor(np.linspace(0, 1, 9)[:, None], dtype=dtype)
    w = Tensor([[0.3, -0.8]], requires_grad=True, dtype=dtype, name="w")
    v = Tensor(0.5, requires_grad=True, dtype=dtype, name="w_52")
    return (lambda: ((((x @ w).sigmoid() * v).sum(axis=1, keepdims=True) - y) ** 2).mean()), w, v


def test_loss_along_weight_curve_current_and_minimum():
    loss_fn, w, v = _tiny_problem()
    before = w.data.copy()
    ax = plot_loss_along_weight(loss_fn, w, index=(0, 1), span=2.0, num=41)
    np.testing.assert_array_equal(w.data, before)  # put back exactly
    xs, losses = _line(ax, "curve").get_data()
    assert len(xs) == 41 and xs[20] == before[0, 1]
    for xv, lv in zip(xs[::8], losses[::8]):  # the curve is the loss with only w[0, 1] moved
        w.data[0, 1] = xv
        assert lv == float(loss_fn().data)
    w.data[...] = before
    best = int(np.argmin(losses))
    lowest = "minimum" if 0 < best < len(xs) - 1 else "edge"        # an edge is not a minimum
    np.testing.assert_array_equal(_line(ax, lowest).get_xydata(), [[xs[best], losses[best]]])
    np.testing.assert_array_equal(_line(ax, "current").get_xydata(),
                                  [[before[0, 1], float(loss_fn().data)]])
    assert ax.get_xlabel() == "w[0, 1]"
    ax = plot_loss_along_weight(loss_fn, v, span=1.0, num=21, lang="es")  # one-entry weight
    assert ax.get_xlabel() == "w_52" and ax.get_ylabel() == "pérdida"
    with pytest.raises(ValueError, match="index="):
        plot_loss_along_weight(loss_fn, w)


def test_loss_along_weights_grid():
    loss_fn, w, v = _tiny_problem()
    axes = plot_loss_along_weights(loss_fn, [w, v], span=1.0, num=11, ncols=2)
    assert axes.shape == (2, 2)
    titles = [ax.get_xlabel() for ax in axes.reshape(-1)[:3]]
    assert titles == ["w[0, 0]", "w[0, 1]", "w_52"]
    assert not axes[1, 1].axison
    xs, losses = _line(axes[1, 0], "curve").get_data()
    assert xs[5] == v.data and losses[5] == float(loss_fn().data)
    with pytest.raises(ValueError, match="max_plots"):
        plot_loss_along_weights(loss_fn, [w, v], max_plots=2)


def test_loss_along_weight_of_a_model():
    from tinygrad_es.layers import Dense
    from tinygrad_es.models.sequential import Sequential

    rng = np.random.default_rng(3)
    x, y = rng.normal(size=(10, 1)), rng.uniform(size=(10, 1))
    model = Sequential([Dense(2, activation="sigmoid"), Dense(1)])
    model.build((None, 1))
    kernel = model.layers[1].weights[0]
    ax = plot_loss_along_weight(model, kernel.name, index=1, data=(x, y), loss="mae", num=11)
    xs, losses = _line(ax, "curve").get_data()
    from tinygrad_es.losses import MeanAbsoluteError

    assert losses[5] == pytest.approx(float(MeanAbsoluteError()(y, model(x)).data), rel=1e-6)
    axes = plot_loss_along_weights(model, data=(x, y), loss="mae", num=5)
    assert sum(ax.axison for ax in axes.reshape(-1)) == model.count_params()


# ----- surfaces and optimizer paths -----

def test_surfaces_are_the_course_formulas():
    rng = np.random.default_rng(4)
    pts = rng.uniform(-2, 2, size=(5, 7, 2))
    w0, w1 = pts[..., 0], pts[..., 1]
    expected = {
        "course": 3 * (1 - w0) ** 2 * np.exp(-w0 ** 2 - (w1 + 1) ** 2)
        - 10 * (w0 / 5 - w0 ** 3 - w1 ** 5) * np.exp(-w0 ** 2 - w1 ** 2)
        - np.exp(-(w0 + 1) ** 2 - w1 ** 2) / 3,
        "cubic": w0 ** 3 - w1 ** 3 + 3 * w0 ** 2 + 3 * w1 ** 2 - 9 * w0,
        "rosenbrock": (1 - w0) ** 2 + 100 * (w1 - w0 ** 2) ** 2,
        "squares": w0 ** 2 + w1 ** 2,
    }
    for name, values in expected.items():
        s = surfaces.get(name)
        got = s(Tensor(pts, dtype="float64")).data
        np.testing.assert_allclose(got, values, rtol=1e-12, atol=1e-12)
        # the recorded minimum is a stationary point
        m = Tensor(s.minimum, requires_grad=True, dtype="float64")
        s(m).backward()
        assert np.max(np.abs(m.grad)) < 1e-6, name
    assert float(surfaces.cubic(Tensor([1.0, 0.0], dtype="float64"))) == -5.0
    with pytest.raises(ValueError, match="unknown surface"):
        surfaces.get("peaks")


def test_optimizer_path_is_the_optimizer_run():
    # plain gradient descent on x² + y²: w_k = (1 - 2·lr)^k w_0, with Keras's float32 lr
    lr = float(np.float32(0.1))
    path = optimizer_path(surfaces.squares, optimizers.SGD(learning_rate=0.1), (1.5, -1.0), 20,
                          dtype="float64")
    assert path.shape == (21, 2)
    expected = np.array([1.5, -1.0]) * (1 - 2 * lr) ** np.arange(21)[:, None]
    np.testing.assert_allclose(path, expected, rtol=1e-12)
    # a string or a config dict goes through optimizers.get (SGD's default lr is 0.01)
    by_name = optimizer_path(surfaces.squares, "sgd", (1.5, -1.0), 5, dtype="float64")
    step = 1 - 2 * float(np.float32(0.01))
    np.testing.assert_allclose(by_name[1], [1.5 * step, -1.0 * step], rtol=1e-12)
    # lesson 7: momentum on the cubic from (0.5, 0.5) stops at the minimum (1, 0) by tolerance
    path = optimizer_path(surfaces.cubic, {"class_name": "SGD", "config": {
        "learning_rate": 0.01, "momentum": 0.9}}, (0.5, 0.5), 2000, tol=1e-7, dtype="float64")
    assert len(path) < 2001
    np.testing.assert_allclose(path[-1], [1.0, 0.0], atol=1e-4)


def test_contour_and_3d_draw_the_paths():
    s = surfaces.get("course")
    paths = {"sgd": optimizer_path(s, optimizers.SGD(0.01), s.start, 30),
             "adam": optimizer_path(s, optimizers.Adam(0.05), s.start, 30)}
    fig, ax = plt.subplots()
    assert plot_loss_surface(s, s.xlim, s.ylim, paths=paths, minimum=s.minimum, num=41, ax=ax) is ax
    for label, path in paths.items():
        np.testing.assert_array_equal(_line(ax, f"path:{label}").get_xydata(), path)
    assert ax.get_xlim() == s.xlim
    ax3 = plot_loss_surface(s, s.xlim, s.ylim, kind="3d", paths=paths, num=31)
    x, y, z = _line(ax3, "path:adam").get_data_3d()
    np.testing.assert_array_equal(np.stack([x, y], axis=1), paths["adam"])
    np.testing.assert_allclose(z, [float(s(Tensor(p, dtype="float64"))) for p in paths["adam"]])
    with pytest.raises(ValueError, match="kind"):
        plot_loss_surface(s, kind="surface")
    with pytest.raises(ValueError, match=r"\(n, 2\)"):
        plot_loss_surface(s, paths={"bad": np.zeros((3, 3))}, num=11)


def test_animate_paths_writes_a_gif(tmp_path):
    Image = pytest.importorskip("PIL.Image")
    s = surfaces.get("squares")
    paths = {"sgd": optimizer_path(s, optimizers.SGD(0.1), s.start, 11),
             "momentum": optimizer_path(s, optimizers.SGD(0.1, momentum=0.9), s.start, 7)}
    out = animate_paths(s, paths, tmp_path / "race.gif", s.xlim, s.ylim, figsize=(3, 2.5), dpi=40)
    with Image.open(out) as gif:
        assert gif.format == "GIF" and gif.n_frames == 12  # one per step of the longest path
    out = animate_paths(s, paths, tmp_path / "short.gif", s.xlim, s.ylim, max_frames=5,
                        figsize=(3, 2.5), dpi=40)
    with Image.open(out) as gif:
        assert gif.n_frames == 5


# ----- optimizers × learning rates -----

def test_lr_grid_draws_every_run():
    results = {"SGD": {0.1: [1.0, 0.5, 0.2], 0.01: [1.0, 0.9, 0.8]},
               "Adam": {0.1: {"loss": [1.0, 0.1], "val_loss": [1.1, 0.3]},
                        0.01: [1.0, np.inf, np.nan]}}
    axes = plot_lr_grid(results)
    assert axes.shape == (2, 2)
    assert [ax.get_title() for ax in axes[0]] == ["lr = 0.1", "lr = 0.01"]
    np.testing.assert_array_equal(_line(axes[0, 0], "loss").get_ydata(), [1.0, 0.5, 0.2])
    np.testing.assert_array_equal(_line(axes[1, 0], "val_loss").get_ydata(), [1.1, 0.3])
    assert any(t.get_text() == "diverged" for t in axes[1, 1].texts)
    flat = plot_lr_grid({("SGD", 0.1): [1, 2], ("Adam", 0.001): [3, 4]}, lang="es")
    assert flat.shape == (2, 2)
    assert any(t.get_text() == "sin datos" for t in flat[0, 1].texts)
    with pytest.raises(ValueError, match="shape"):
        plot_lr_grid(results, axes=np.array([[flat[0, 0]]]))


# ----- the course's conventions (issue 10, section 5) -----

def _overlaps(a, b) -> bool:
    return a.x0 < b.x1 and b.x0 < a.x1 and a.y0 < b.y1 and b.y0 < a.y1


def test_paths_follow_the_course_convention_and_the_legend_stays_outside():
    from matplotlib.colors import to_rgba

    s = surfaces.get("course")
    path = optimizer_path(s, optimizers.SGD(0.01), s.start, 20, dtype="float64")
    ax = plot_loss_surface(s, s.xlim, s.ylim, paths={"sgd": path}, minimum=s.minimum, num=21)
    start, end, steps = (_line(ax, f"{k}:sgd") for k in ("start", "end", "steps"))
    assert start.get_marker() == end.get_marker() == "*"
    assert to_rgba(start.get_color()) == to_rgba("red") and to_rgba(end.get_color()) == to_rgba(
        "blue")
    assert to_rgba(steps.get_markerfacecolor()) == to_rgba("yellow")
    np.testing.assert_array_equal(start.get_xydata(), path[:1])
    np.testing.assert_array_equal(end.get_xydata(), path[-1:])
    np.testing.assert_array_equal(steps.get_xydata(), path[1:-1])
    assert ax.get_title() == s.formula
    fig = ax.figure
    fig.canvas.draw()
    renderer = fig.canvas.get_renderer()
    legend = ax.get_legend().get_window_extent(renderer)
    assert not _overlaps(legend, ax.get_window_extent(renderer))       # not over the data
    for label in ax.get_xticklabels() + [ax.xaxis.label]:              # nor over the ticks
        if label.get_text():
            assert not _overlaps(legend, label.get_window_extent(renderer)), label.get_text()
    assert fig.bbox.contains(legend.x0, legend.y0)                      # and not cut off


def test_round_bowl_has_equal_axes_and_a_diverged_path_ends_at_its_last_finite_point():
    from tinygrad_es.viz.paths import path_end

    q = surfaces.get("squares")
    ax = plot_loss_surface(q, q.xlim, q.ylim, num=11)
    assert ax.get_aspect() == 1.0 and ax.get_title() == "$f = x^2 + y^2$"
    with np.errstate(all="raise"):       # no overflow warning reaches the user
        path = optimizer_path(surfaces.cubic, optimizers.SGD(0.5), (-2.0, 0.5), 60,
                              dtype="float64")
    point, diverged = path_end(path)
    finite = path[np.all(np.isfinite(path), axis=1)]
    assert diverged and not np.all(np.isfinite(path[-1]))
    np.testing.assert_array_equal(point, finite[-1])
    ax = plot_loss_surface(surfaces.cubic, (-1, 2), (-1, 2), paths={"sgd": path}, num=11)
    np.testing.assert_array_equal(_line(ax, "end:sgd").get_xydata(), finite[-1:])


def test_loss_along_weight_says_minimum_only_where_there_is_one():
    w = Tensor([0.0], requires_grad=True, dtype="float64", name="w")
    bowl = plot_loss_along_weight(lambda: ((w - 0.58) ** 2).sum(), w, span=2.0, num=21)
    assert [g for g in ("minimum", "edge") if any(x.get_gid() == g for x in bowl.lines)] == [
        "minimum"]
    np.testing.assert_allclose(_line(bowl, "minimum").get_xdata(), [0.6])   # the grid's lowest
    slope = plot_loss_along_weight(lambda: (3 * w).sum(), w, span=1.0, num=11, lang="es")
    assert not any(x.get_gid() == "minimum" for x in slope.lines)
    assert _line(slope, "edge").get_xdata()[0] == -1.0
    assert "borde de la ventana" in slope.get_legend().get_texts()[1].get_text()


def test_epoch_axes_have_integer_ticks():
    ax = plot_history({"loss": [1.0, 0.5, 0.25]})
    ax.figure.canvas.draw()
    assert all(float(t).is_integer() for t in ax.get_xticks())
    axes = plot_lr_grid({"sgd": {0.1: [1.0, 0.5, 0.3]}})
    axes[0, 0].figure.canvas.draw()
    assert all(float(t).is_integer() for t in axes[0, 0].get_xticks())
