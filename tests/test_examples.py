"""The course's lessons (examples/) in quick mode: each writes its pictures, and what it computed is
checked — the pictures' data, not only that files exist."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from conftest import PARITY_TOL

pytest.importorskip("matplotlib")

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"
sys.path.insert(0, str(EXAMPLES))

import lesson1_momentum_x2 as lesson1  # noqa: E402
import lesson2_minibatch_line as lesson2  # noqa: E402
import lesson3_course_iris as lesson3  # noqa: E402
import lesson4_optimizer_paths as lesson4  # noqa: E402
import lesson5_lr_grid_iris as lesson5  # noqa: E402
import lesson6_lr_grid_digits as lesson6  # noqa: E402
import lesson7_momentum_cubic as lesson7  # noqa: E402
import lesson8_binary_classifier as lesson8  # noqa: E402
import lesson9_graph_and_trace as lesson9  # noqa: E402

from tinygrad_es import Tensor, course, no_grad  # noqa: E402
from tinygrad_es.viz import surfaces  # noqa: E402

PNG = b"\x89PNG\r\n\x1a\n"


def assert_pictures(result: dict, out: Path, names: list[str]) -> None:
    """The pictures are the ones announced, in ``out``, and real PNG/GIF files."""
    assert sorted(p.name for p in result["pictures"]) == sorted(names)
    for path in result["pictures"]:
        assert path.parent == out and path.stat().st_size > 2000, path
        head = path.read_bytes()[:8]
        assert head == PNG if path.suffix == ".png" else head[:6] == b"GIF89a", path


def test_lesson1_momentum_converges_and_equals_the_course_rule(tmp_path):
    result = lesson1.main(tmp_path, quick=True)
    assert_pictures(result, tmp_path, ["lesson1_momentum.png"])
    xm, xs = result["x_momentum"], result["x_sgd"]
    assert len(xm) == lesson1.STEPS + 1 and xm[0] == lesson1.X0
    assert abs(xm[-1]) < 1e-4 * lesson1.X0                     # momentum converges ...
    assert np.sum(np.diff(np.sign(xm)) != 0) >= 10              # ... oscillating around 0
    # the course's rule v = γv + η·2x, x = x − v is Keras's momentum, bit for bit
    assert np.max(np.abs(result["x_by_hand"] - xm)) <= PARITY_TOL["float64"]
    # plain gradient descent on x² multiplies x by (1 − 2η) each step (η as float32)
    rate = 1 - 2 * float(np.float32(lesson1.LEARNING_RATE))
    np.testing.assert_allclose(xs, lesson1.X0 * rate ** np.arange(len(xs)), rtol=1e-9)


def test_lesson2_fitted_lines_have_slope_near_3(tmp_path):
    result = lesson2.main(tmp_path, quick=True)
    assert_pictures(result, tmp_path, ["lesson2_minibatch_line.png"])
    x, y = result["x"][:, 0], result["y"][:, 0]
    assert x.shape == (lesson2.N,)
    lsq_slope, lsq_intercept = result["least_squares"]
    lsq_mse = np.mean((lsq_intercept + lsq_slope * x - y) ** 2)
    for key in ("raw", "keras"):
        slope, intercept = result[key]
        assert abs(slope - 3) < 0.6 and abs(intercept - 4) < 0.8, (key, slope, intercept)
        assert np.mean((intercept + slope * x - y) ** 2) < 1.25 * lsq_mse   # near the best line
    assert abs(result["raw"][0] - result["keras"][0]) < 0.1      # same method, different shuffles
    losses = result["history"]["loss"]
    assert len(losses) == lesson2.EPOCHS and losses[-1] < losses[0] / 10
    assert len(result["batch_losses"]) == lesson2.EPOCHS * lesson2.N // lesson2.BATCH_SIZE


def test_lesson3_without_keras(tmp_path):
    result = lesson3.main(tmp_path, quick=True, use_keras=False)
    assert list(result["weights"]) == ["finite", "backprop", "sequential"]
    assert result["passes"] == {"finite": 5 * 11, "backprop": 5}


def test_lesson3_four_methods_agree(tmp_path, tf):
    result = lesson3.main(tmp_path, quick=True, use_keras=True)
    assert_pictures(result, tmp_path, ["lesson3_losses.png", "lesson3_weights.png",
                                       "lesson3_loss_along_weights.png"])
    w = result["weights"]
    assert set(w) == {"finite", "backprop", "sequential", "keras"}

    def diff(a, b):
        return max(abs(w[a][n] - w[b][n]) for n in course.PARAM_NAMES)

    moved = max(abs(w["backprop"][n] - result["start"][n]) for n in course.PARAM_NAMES)
    assert moved > 1e-5                                        # the weights did move
    assert diff("finite", "backprop") < 1e-8 < moved           # h = 3e-6 costs ~1e-10 per step
    assert diff("keras", "sequential") <= PARITY_TOL["float32"]
    assert diff("sequential", "backprop") < 1e-5               # float32 rounding of the updates
    for method, losses in result["losses"].items():
        assert len(losses) == 5 and all(np.diff(losses) < 0), method
    np.testing.assert_allclose(result["losses"]["keras"], result["losses"]["sequential"],
                               atol=PARITY_TOL["float32"])


def test_lesson4_paths_descend_and_the_gif_has_its_frames(tmp_path):
    from PIL import Image

    result = lesson4.main(tmp_path, quick=True)
    assert_pictures(result, tmp_path, ["lesson4_course_paths.png", "lesson4_course_3d.png",
                                       "lesson4_course_race.gif"])
    surface = surfaces.get("course")
    paths = result["paths"]["course"]
    # the course's eight, Adadelta at learning rate 1
    assert list(paths) == ["sgd", "adagrad", "rmsprop", "adadelta", "adam", "amsgrad", "adamax",
                           "nadam"]
    assert surfaces.PATHS["course"][1]["adadelta"] == 1.0
    with no_grad():
        f0 = float(surface(Tensor(surface.start, dtype="float64")).data)
        for name, path in paths.items():
            assert path.shape == (31, 2) and tuple(path[0]) == surface.start, name
            assert float(surface(Tensor(path[-1], dtype="float64")).data) < f0 - 0.3, name
    # SGD at 0.01 is at the minimum in 30 steps
    np.testing.assert_allclose(paths["sgd"][-1], surface.minimum, atol=0.01)
    with Image.open(tmp_path / "lesson4_course_race.gif") as gif:
        assert gif.n_frames == 8


def _check_findings(results: dict, lines: list[str]) -> None:
    """The printed "what to look for" says what the run's numbers say."""
    start = results["initial_loss"]
    final = {k: v["loss"][-1] for k, v in results.items() if k != "initial_loss"}
    best = min(final, key=final.get)
    assert lines[0].startswith(f"best run: {best[0]} at lr {best[1]:g},")
    assert f"-> {final[best]:.4f}" in lines[0]
    learned = next(line for line in lines if line.startswith("learned"))
    stuck = next(line for line in lines if line.startswith("did not learn"))
    for (name, lr), loss in final.items():
        assert (f"{name} {lr:g}" in learned.split(": ")[1].split(", ")) == (loss < 0.5 * start)
        assert (f"{name} {lr:g}" in stuck.split(": ")[1].split(", ")) == (loss > 0.9 * start)


def test_lesson5_lr_grid_on_iris(tmp_path):
    assert lesson5.OPTIMIZERS == ("sgd", "adagrad", "rmsprop", "adam", "adamax", "nadam")
    assert lesson5.LEARNING_RATES == (0.1, 0.01, 0.001, 0.0001)
    assert lesson5.EXERCISES == {"5A": 400, "5B": 20}
    result = lesson5.main(tmp_path, quick=True)
    assert_pictures(result, tmp_path, ["lesson5_lr_grid_iris.png", "lesson5_lr_grid_iris_5B.png"])
    for exercise, epochs in lesson5.QUICK["epochs"].items():
        results = result["results"][exercise]
        runs = {k: v for k, v in results.items() if k != "initial_loss"}
        assert sorted(runs) == sorted((o, lr) for o in ("sgd", "adam") for lr in (0.1, 0.01))
        for key, logs in runs.items():
            assert len(logs["loss"]) == epochs and logs["loss"][-1] < logs["loss"][0], key
        _check_findings(results, result["findings"][exercise])


def test_lesson6_lr_grid_on_digits(tmp_path):
    assert lesson6.LEARNING_RATES == (0.1, 0.01, 0.001, 0.0005)
    assert {k: v[0] for k, v in lesson6.EXERCISES.items()} == {"6A": 5, "6B": 300, "6C": 300}
    result = lesson6.main(tmp_path, quick=True, exercises=("6A", "6C"))
    assert_pictures(result, tmp_path, ["lesson6_lr_grid_digits.png",
                                       "lesson6_lr_grid_digits_6C.png"])
    adam = result["results"]["6A"][("adam", 0.001)]
    assert len(adam["loss"]) == 2 and adam["loss"][-1] < result["results"]["6A"]["initial_loss"]
    assert adam["accuracy"][-1] > adam["accuracy"][0]
    assert "val_accuracy" in result["results"]["6C"][("adam", 0.001)]   # 6C holds out a fifth
    for exercise in ("6A", "6C"):
        _check_findings(result["results"][exercise], result["findings"][exercise])


def test_lesson7_momentum_stops_at_the_minimum(tmp_path):
    result = lesson7.main(tmp_path, quick=True)
    assert_pictures(result, tmp_path, ["lesson7_momentum_cubic.png"])
    by_hand, keras_sgd = result["by_hand"], result["keras_sgd"]
    assert len(by_hand) < lesson7.MAX_ITER + 1                   # stopped by the tolerance
    assert np.linalg.norm(by_hand[-1] - by_hand[-2]) < lesson7.TOL
    np.testing.assert_allclose(by_hand[-1], [1.0, 0.0], atol=1e-4)
    with no_grad():
        assert abs(float(surfaces.cubic(Tensor(by_hand[-1], dtype="float64")).data) + 5) < 1e-8
    # Keras's SGD(momentum) is the same rule; only the float32 learning rate differs
    assert len(keras_sgd) == len(by_hand) and np.max(np.abs(keras_sgd - by_hand)) < 1e-6


def test_lesson8_val_accuracy_is_what_predict_says(tmp_path):
    result = lesson8.main(tmp_path, quick=True)
    assert_pictures(result, tmp_path, ["lesson8_history.png"])
    logs = result["history"]
    assert sorted(logs) == ["accuracy", "loss", "val_accuracy", "val_loss"]
    assert len(logs["loss"]) == 15 and logs["loss"][-1] < logs["loss"][0]
    p, y = result["val_predictions"], result["y_val"]
    assert len(y) == 20 and 0 < y.mean() < 1                     # both species in validation
    assert logs["val_accuracy"][-1] == pytest.approx(np.mean((p > 0.5) == y), abs=1e-7)


def test_lesson9_traces_match_backward(tmp_path, graphviz_dot):
    result = lesson9.main(tmp_path, quick=True)
    # PNGs with or without Graphviz (matplotlib draws them without dot)
    assert sorted(p.name for p in result["pictures"]) == ["lesson9_course_graph.png",
                                                          "lesson9_neuron_graph.png"]
    assert all(p.read_bytes()[:8] == PNG for p in result["pictures"])
    # o = tanh(n), n = 0.8814: do/dn = 1 - o² = 0.5, so w1.grad = x1 · 0.5 = 1
    assert result["grads"]["neuron"] == pytest.approx({"w1": 1.0, "w2": 0.0, "b": 0.5})
    assert "w1.grad = 1" in result["traces"][("neuron", "en")]
    spanish = result["traces"][("course", "es")]
    assert spanish.startswith("Retropropagación") and "w_52.grad" in spanish
    expected = course.compare_gradients()                 # the course's starting weights
    for name, value in zip(expected.names, expected.backprop):
        assert result["grads"]["course"][name] == pytest.approx(float(value), abs=1e-15)
    for path in result["texts"]:
        assert path.read_text(encoding="utf-8") == result["traces"][tuple(
            path.stem.split("_")[1:4:2])]


def test_a_lesson_runs_as_a_script(tmp_path):
    done = subprocess.run([sys.executable, str(EXAMPLES / "lesson1_momentum_x2.py"), "--quick",
                           "--out", str(tmp_path)], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert f"wrote {tmp_path / 'lesson1_momentum.png'}" in done.stdout
    assert (tmp_path / "lesson1_momentum.png").read_bytes()[:8] == PNG


def test_compare_keeps_tensorflow_log_lines_off_stderr(tf):
    # TensorFlow's C++ logging (absl "I0000 ...", the oneDNN notice) writes to fd 2 at import
    env = {k: v for k, v in os.environ.items() if k != "TF_CPP_MIN_LOG_LEVEL"}
    done = subprocess.run([sys.executable, "-m", "tinygrad_es.cli", "compare", "--epochs", "1"],
                          capture_output=True, text=True, timeout=300, env=env)
    assert done.returncode == 0, done.stderr
    assert "agree" in done.stdout and done.stderr == ""
