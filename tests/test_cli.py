"""The ``tinygrad-es`` command: subcommands through a subprocess (exit codes and key output lines),
the rest in-process through ``cli.main`` to keep the suite fast."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from tinygrad_es import cli, course
from tinygrad_es.models import load_model

ROOT = Path(__file__).resolve().parent.parent
COMMANDS = ["demo", "train", "compare", "graph", "explain", "paths"]
# Run the CLI as on a machine with only numpy: these imports fail.
ONLY_NUMPY = ("import sys\n"
              "for name in ('matplotlib', 'graphviz', 'PIL', 'tensorflow', 'keras'):\n"
              "    sys.modules[name] = None\n"
              "from tinygrad_es.cli import main\n"
              "sys.exit(main(sys.argv[1:]))\n")


def run(*args: str, code: str | None = None, path: str | None = None, timeout: float = 180):
    """``python -m tinygrad_es ARGS`` (or ``python -c CODE ARGS``) from the repository root."""
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(
        [str(ROOT)] + ([os.environ["PYTHONPATH"]] if os.environ.get("PYTHONPATH") else [])))
    if path is not None:
        env["PATH"] = path
    command = [sys.executable] + (["-c", code] if code else ["-m", "tinygrad_es"]) + list(args)
    return subprocess.run(command, capture_output=True, text=True, cwd=ROOT, env=env,
                          timeout=timeout)


def gradient_rows(text: str) -> dict[str, tuple[float, float]]:
    """``{param: (backprop, forward difference)}`` from the comparison table."""
    rows = {}
    for name in course.PARAM_NAMES:
        match = re.search(rf"^{name}\s+(\S+)\s+(\S+)\s", text, re.MULTILINE)
        assert match, f"no row for {name} in:\n{text}"
        rows[name] = (float(match.group(1)), float(match.group(2)))
    return rows


# ----- help and bad arguments -----

def test_help_lists_every_command():
    done = run("--help")
    assert done.returncode == 0 and done.stderr == ""
    for command in COMMANDS:
        assert re.search(rf"^\s+{command}\s+\S", done.stdout, re.MULTILINE), command
    assert "exit codes" in done.stdout


@pytest.mark.parametrize("command", COMMANDS)
def test_each_command_has_help(command, capsys):
    with pytest.raises(SystemExit) as exit_info:
        cli.main([command, "--help"])
    assert exit_info.value.code == 0
    out = capsys.readouterr().out
    assert out.startswith(f"usage: tinygrad-es {command}") and "--" in out


@pytest.mark.parametrize("argv, expected", [
    ([], "choose a COMMAND"),
    (["frobnicate"], "invalid choice: 'frobnicate'"),
    (["demo", "--epochs", "0"], "argument --epochs: expected a positive number, received '0'"),
    (["demo", "--lr", "fast"], "argument --lr: expected a number, received 'fast'"),
    (["demo", "--lang", "fr"], "argument --lang: invalid choice: 'fr'"),
    (["train", "--layers", "16,x"], "argument --layers: expected hidden layer sizes"),
    (["train", "--data", "no/such.csv"], "expected iris, digits or an existing CSV file"),
    (["train", "--validation-split", "1"], "expected a fraction in [0, 1), received '1'"),
    (["train", "--optimizer", "adamm"], "Did you mean 'adam'?"),
    (["train", "--activation", "rellu"], "Did you mean 'relu'?"),
    (["compare", "--dtype", "float16"], "argument --dtype: invalid choice"),
    (["explain", "--rows", "100"], "expected an integer from 1 to 99, received '100'"),
    (["paths", "--optimizers", "sgd,foo"], "unknown ['foo']"),
    (["paths", "--surface", "moon"], "argument --surface: invalid choice: 'moon'"),
])
def test_bad_arguments_give_one_line_and_exit_2(argv, expected, capsys):
    with pytest.raises(SystemExit) as exit_info:
        cli.main(argv)
    assert exit_info.value.code == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith("tinygrad-es") and "error:" in err, err
    assert expected in err


def test_bad_arguments_through_the_command():
    done = run("demo", "--epochs", "many")
    assert done.returncode == 2 and done.stdout == ""
    assert done.stderr == ("tinygrad-es demo: error: argument --epochs: expected an integer, "
                           "received 'many' (see tinygrad-es demo --help)\n")


# ----- demo -----

def test_demo_trains_compares_and_draws(tmp_path, graphviz_dot):
    done = run("demo", "--out", str(tmp_path))
    assert done.returncode == 0, done.stderr
    out = done.stdout
    assert "(the course's settings)" in out
    assert "Epoch 1/50" not in out                  # the progress bar only with --verbose 1
    # the course's published table beside ours: our fit against "tras entrenamiento usando
    # Keras", our backprop and finite differences against "manualmente" (8 printed decimals)
    table = {m[0]: m[1:] for m in re.findall(r"^ +(\w+)" + r" +(\S+)" * 8 + "$", out, re.M)
             if m[0] in course.PARAM_NAMES}
    assert sorted(table) == sorted(course.PARAM_NAMES)
    for name, cells in table.items():
        assert float(cells[0]) == course.PUBLISHED_KERAS[name]
        assert abs(float(cells[1]) - course.PUBLISHED_KERAS[name]) <= 5e-8, name
        if name in course.PUBLISHED_MANUAL:
            for ours in (cells[4], cells[6]):
                assert abs(float(ours) - course.PUBLISHED_MANUAL[name]) <= 5e-8, name
    assert "finite differences evaluated in float64" in out
    rows = gradient_rows(out)
    for name, (backprop, forward) in rows.items():
        assert abs(backprop - forward) < 1e-6 and backprop != 0, name
    assert re.search(r"^backprop\s+1 \(\+1 backward\)", out, re.MULTILINE)
    assert re.search(r"^forward differences\s+11\s", out, re.MULTILINE)
    assert f"Pictures written to {tmp_path.resolve()}" in out
    for name in ["loss.png", "course_graph.png", "model.png"]:  # matplotlib draws without dot
        assert f"{tmp_path / name}" in out, name
        assert (tmp_path / name).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n", name
    assert "Graphviz's dot program is not installed" not in out
    dot = (tmp_path / "course_graph.dot").read_text()
    assert all(f'"{{ {{{n} |' in dot for n in ("w_2", "w_52", "b_5", "y_hat"))
    assert "Dense (sigmoid)" in (tmp_path / "model.dot").read_text()


def test_demo_table_is_the_gradient_at_the_trained_weights(tmp_path, capsys):
    from tinygrad_es import Tensor

    assert cli.main(["demo", "--epochs", "2", "--lr", "0.5", "--verbose", "0", "--lang", "es",
                     "--out", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    from tinygrad_es.i18n import tr

    title = tr("Backprop vs finite differences (h = {h}), loss = {loss}", lang="es", h=3e-06,
               loss="")
    assert title in out and tr("(the course's settings)", lang="es") not in out
    trained = {n: float(v) for n, v in re.findall(r"^\s+(\w+)\s+\S+\s+(\S+)\s+\S+$", out,
                                                   re.MULTILINE) if n in course.PARAM_NAMES}
    assert sorted(trained) == sorted(course.PARAM_NAMES)
    params = {n: Tensor(v, requires_grad=True, dtype="float64", name=n) for n, v in trained.items()}
    expected = course.compare_gradients(params)          # at the printed (6-decimal) weights
    rows = gradient_rows(out)
    for name, value in zip(expected.names, expected.backprop):
        assert rows[name][0] == pytest.approx(float(value), abs=1e-6), name


def test_demo_on_a_machine_with_only_numpy(tmp_path):
    python_dir = str(Path(sys.executable).parent)            # a PATH without Graphviz's dot
    done = run("demo", "--verbose", "0", "--out", str(tmp_path), code=ONLY_NUMPY, path=python_dir)
    assert done.returncode == 0, done.stderr
    assert "matplotlib is not installed: skipping the loss plot" in done.stdout
    assert "Graphviz's dot program is not installed" in done.stdout
    assert sorted(p.name for p in tmp_path.iterdir()) == ["course_graph.dot", "model.dot"]
    assert gradient_rows(done.stdout)["w_52"][0] != 0


# ----- train -----

def test_train_iris_saves_a_model_that_loads(tmp_path):
    done = run("train", "--data", "iris", "--layers", "8", "--epochs", "30", "--lr", "0.02",
               "--out", str(tmp_path))
    assert done.returncode == 0, done.stderr
    assert "data: iris, 150 rows, 4 features, 3 classes (0, 1, 2)" in done.stdout
    assert "Epoch 30/30" in done.stdout and "val_accuracy" in done.stdout
    final = dict(re.findall(r"(\w+) ([\d.]+)", done.stdout.split("final: ")[1].splitlines()[0]))
    assert float(final["accuracy"]) > 0.8 and float(final["loss"]) < 1.0
    model = load_model(str(tmp_path / "model.npz"))
    assert [w.shape for w in model.get_weights()] == [(4, 8), (8,), (8, 3), (3,)]
    csv_rows = (tmp_path / "history.csv").read_text().splitlines()
    assert csv_rows[0].startswith("epoch,") and len(csv_rows) == 31
    assert (tmp_path / "history.png").stat().st_size > 1000


def test_train_a_csv_file_with_named_labels_and_regression(tmp_path, capsys):
    rng = np.random.default_rng(0)
    x = rng.normal(size=(60, 2))
    names = np.where(x[:, 0] + x[:, 1] > 0, "up", "down")
    (tmp_path / "named.csv").write_text("a,b,label\n" + "".join(
        f"{a},{b},{n}\n" for (a, b), n in zip(x, names)))
    assert cli.main(["train", "--data", str(tmp_path / "named.csv"), "--epochs", "40",
                     "--lr", "0.05", "--verbose", "0", "--out", str(tmp_path / "a")]) == 0
    out = capsys.readouterr().out
    assert "60 rows, 2 features, 2 classes (down, up)" in out and "binary_crossentropy" in out
    assert load_model(str(tmp_path / "a" / "model.npz")).layers[-1].get_config()[
        "activation"] == "sigmoid"
    np.savetxt(tmp_path / "line.csv", np.c_[x, 1 + 2 * x[:, 0] + 0.1 * x[:, 1]], delimiter=",")
    assert cli.main(["train", "--data", str(tmp_path / "line.csv"), "--epochs", "2",
                     "--verbose", "0", "--out", str(tmp_path / "b")]) == 0
    assert "regression" in capsys.readouterr().out
    (tmp_path / "bad.csv").write_text("1,2,a\nx,3,b\n")
    assert cli.main(["train", "--data", str(tmp_path / "bad.csv"), "--out",
                     str(tmp_path / "c")]) == 2
    assert "feature columns must be numbers" in capsys.readouterr().err


# ----- compare -----

def test_compare_without_tensorflow_says_so():
    done = run("compare", code=ONLY_NUMPY)
    assert done.returncode == 3
    assert "needs TensorFlow" in done.stderr and "pip install" in done.stderr


def test_compare_through_the_command(tf):
    done = run("compare", "--epochs", "2")
    assert done.returncode == 0, done.stderr
    rows = re.findall(r"^\s+(\d)\s+(\S+)\s+(\S+)\s+(\S+)\s+(\S+)$", done.stdout, re.MULTILINE)
    assert [r[0] for r in rows] == ["1", "2"]
    assert all(abs(float(a) - float(b)) <= 1e-6 for _, a, b, _, _ in rows)
    assert "tinygrad_es and Keras agree (tolerance 1e-06)" in done.stdout


@pytest.mark.parametrize("argv", [["--model", "iris", "--optimizer", "nadam"],
                                  ["--dtype", "float64"]])
def test_compare_exit_code_follows_the_tolerance(tf, argv, capsys):
    assert cli.main(["compare", "--epochs", "2", *argv]) == 0
    out = capsys.readouterr().out
    worst = float(re.search(r"largest difference (\S+):", out).group(1))
    assert worst <= (1e-12 if "float64" in argv else 1e-6)
    tiny = "1e-300"
    code = cli.main(["compare", "--epochs", "2", *argv, "--tol", tiny])
    again = float(re.search(r"largest difference (\S+):", capsys.readouterr().out).group(1))
    assert again == worst and code == (1 if worst > 1e-300 else 0)


# ----- graph, explain, paths -----

def test_graph_and_explain_through_the_command(tmp_path, graphviz_dot):
    done = run("graph", "neuron", "--out", str(tmp_path))
    assert done.returncode == 0, done.stderr
    dot = (tmp_path / "neuron_graph.dot").read_text()
    assert dot.count("->") == 14 and "grad 1" in dot                     # 5 ops, after backward
    # a PNG either way: Graphviz's where dot is installed, matplotlib's without it
    assert f"wrote {tmp_path / 'neuron_graph.png'}" in done.stdout
    assert (tmp_path / "neuron_graph.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    done = run("explain", "--lang", "es")
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("La pérdida del curso solo con la fila 0 de iris")
    assert "Retropropagación" in done.stdout
    for name in course.PARAM_NAMES:
        assert re.search(rf"^    {name}\.grad\s+= \S", done.stdout, re.MULTILINE), name


def test_explain_neuron_and_graph_of_a_saved_model(tmp_path, capsys):
    assert cli.main(["explain", "neuron"]) == 0
    out = capsys.readouterr().out
    assert "w1.grad = 1" in out and "b.grad  = 0.5" in out
    model = course.build_model()
    model.save(str(tmp_path / "m.npz"))
    assert cli.main(["graph", "model", "--file", str(tmp_path / "m.npz"), "--out",
                     str(tmp_path)]) == 0
    dot = (tmp_path / "model_graph.dot").read_text()
    assert "Dense (sigmoid)" in dot and "10 parameters" in dot
    assert cli.main(["graph", "model", "--file", str(tmp_path / "none.npz")]) == 2


def test_paths_draws_the_race(tmp_path, capsys):
    from PIL import Image

    assert cli.main(["paths", "--surface", "cubic", "--optimizers", "sgd,adam", "--steps", "20",
                     "--frames", "5", "--out", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    assert re.search(r"sgd lr=0.01\s+ends at \(", out) and "adam lr=0.01" in out
    for name in ("cubic_paths.png", "cubic_3d.png", "cubic_race.gif"):
        assert (tmp_path / name).stat().st_size > 2000, name
    with Image.open(tmp_path / "cubic_race.gif") as gif:
        assert gif.n_frames == 5
