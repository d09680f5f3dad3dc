"""The exercises that check themselves: every reference solution passes, typical wrong answers
fail with the right report (where, expected vs got, the hint), and the CLI writes and grades.

The reference solutions live here, not in the package: the templates hold only the stubs.
"""

from __future__ import annotations

import numpy as np
import pytest

from tinygrad_es import cli, course, exercises, no_grad
from tinygrad_es.autograd import Function
from tinygrad_es.exercises import check, check_file, new, template

# ----- reference solutions -----


class Mul(Function):
    def forward(self, x, y):
        self.save_for_backward(x, y)
        return x * y

    def backward(self, grad_output):
        x, y = self.saved_tensors
        return grad_output * y, grad_output * x


class Sigmoid(Function):
    def forward(self, x):
        s = 1 / (1 + np.exp(-x))
        self.save_for_backward(s)
        return s

    def backward(self, grad_output):
        (s,) = self.saved_tensors
        return grad_output * s * (1 - s)


class MeanAbsoluteError(Function):
    def forward(self, y_true, y_pred):
        self.save_for_backward(y_true, y_pred)
        return np.mean(np.abs(y_pred - y_true))

    def backward(self, grad_output):
        y_true, y_pred = self.saved_tensors
        g = grad_output * np.sign(y_pred - y_true) / y_pred.size
        return -g, g


class Dense(Function):
    def forward(self, x, W, b):
        self.save_for_backward(x, W)
        return x @ W + b

    def backward(self, grad_output):
        x, W = self.saved_tensors
        return grad_output @ W.T, x.T @ grad_output, grad_output.sum(axis=0)


def sgd_momentum_step(w, g, m, learning_rate, momentum):
    m = momentum * m - learning_rate * g
    return w + m, m


def adam_step(w, g, m, v, t, learning_rate, beta_1, beta_2, epsilon):
    m = beta_1 * m + (1 - beta_1) * g
    v = beta_2 * v + (1 - beta_2) * g ** 2
    alpha = learning_rate * np.sqrt(1 - beta_2 ** t) / (1 - beta_1 ** t)
    return w - alpha * m / (np.sqrt(v) + epsilon), m, v


def train(params, x, y, epochs, learning_rate):
    losses = []
    for _ in range(epochs):
        for w in params.values():
            w.grad = None
        loss = course.loss(params, x, y)
        loss.backward()
        with no_grad():
            for w in params.values():
                w.data -= learning_rate * w.grad
        losses.append(float(loss.data))
    return losses


SOLUTIONS = {"mul": Mul, "sigmoid": Sigmoid, "mae": MeanAbsoluteError, "dense": Dense,
             "sgd_momentum": sgd_momentum_step, "adam": adam_step, "train": train}


def test_every_exercise_has_a_reference_solution():
    assert set(SOLUTIONS) == set(exercises.EXERCISES)


@pytest.mark.parametrize("name", list(SOLUTIONS))
def test_the_reference_solution_passes(name):
    result = check(name, SOLUTIONS[name])
    assert result.passed, result.to_text()
    assert result.to_text().startswith("PASSED")


# ----- wrong answers: they fail, and the report says where and why -----

def _backward_variant(base, backward):
    return type(base.__name__, (base,), {"backward": backward})


def _no_upstream_mul(self, grad_output):
    x, y = self.saved_tensors
    return y, x


def _swapped_mul(self, grad_output):
    x, y = self.saved_tensors
    return grad_output * x, grad_output * y


def _sign_sigmoid(self, grad_output):
    (s,) = self.saved_tensors
    return -grad_output * s * (1 - s)


def _mean_forgotten(self, grad_output):
    y_true, y_pred = self.saved_tensors
    g = grad_output * np.sign(y_pred - y_true)
    return -g, g


def _dense_two_grads(self, grad_output):
    x, W = self.saved_tensors
    return grad_output @ W.T, x.T @ grad_output


def _dense_bad_shape(self, grad_output):
    x, W = self.saved_tensors
    return grad_output @ W.T, grad_output.T @ x, grad_output.sum(axis=0)


def _dense_bias_ones(self, grad_output):
    x, W = self.saved_tensors
    return grad_output @ W.T, x.T @ grad_output, np.ones(grad_output.shape[1])


@pytest.mark.parametrize("name, base, backward, where, hint", [
    ("mul", Mul, _no_upstream_mul, "input 0 (x)", "multiply by grad_output"),
    ("mul", Mul, _swapped_mul, "input 0 (x)", "the OTHER input"),
    ("sigmoid", Sigmoid, _sign_sigmoid, "input 0 (x)", "a sign error"),
    ("mae", MeanAbsoluteError, _mean_forgotten, "input 0 (y_true)", "divide by the number"),
    ("dense", Dense, _dense_two_grads, "returned 2 gradients, expected 3", "order"),
    ("dense", Dense, _dense_bad_shape, "input 1 (W) has shape (3, 4), expected (4, 3)",
     "the shape of its input"),
    ("dense", Dense, _dense_bias_ones, "input 2 (b)", "summed over the batch"),
])
def test_a_wrong_backward_fails_with_where_and_a_hint(name, base, backward, where, hint):
    result = check(name, _backward_variant(base, backward))
    text = result.to_text()
    assert not result.passed and text.startswith("NOT YET")
    assert where in text and hint in text, text


def test_the_report_gives_the_worst_entry_expected_and_got():
    result = check("sigmoid", _backward_variant(Sigmoid, _sign_sigmoid))
    p = result.problem
    assert p.expected == pytest.approx(-p.got, rel=1e-5) and p.expected != 0
    assert f"at index {p.index}" in result.to_text()


def test_a_stub_and_a_non_function_are_reported():
    stub = _backward_variant(Sigmoid, lambda self, g: Function.backward(self, g))
    assert "not written yet" in check("sigmoid", stub).to_text()
    assert "expected a subclass of Function" in check("mul", lambda x: x).to_text()


def _sgd_pytorch(w, g, m, learning_rate, momentum):
    m = momentum * m + g
    return w - learning_rate * m, m


def _sgd_sign(w, g, m, learning_rate, momentum):
    m = momentum * m + learning_rate * g
    return w + m, m


def _sgd_w_from_old_m(w, g, m, learning_rate, momentum):
    return w + m, momentum * m - learning_rate * g


def _adam_eps_inside(w, g, m, v, t, learning_rate, beta_1, beta_2, epsilon):
    m = beta_1 * m + (1 - beta_1) * g
    v = beta_2 * v + (1 - beta_2) * g ** 2
    m_hat, v_hat = m / (1 - beta_1 ** t), v / (1 - beta_2 ** t)
    return w - learning_rate * m_hat / (np.sqrt(v_hat) + epsilon), m, v


def _adam_no_correction(w, g, m, v, t, learning_rate, beta_1, beta_2, epsilon):
    m = beta_1 * m + (1 - beta_1) * g
    v = beta_2 * v + (1 - beta_2) * g ** 2
    return w - learning_rate * m / (np.sqrt(v) + epsilon), m, v


@pytest.mark.parametrize("name, wrong, where, hint", [
    ("sgd_momentum", _sgd_pytorch, "after step 1, m differs", "PyTorch's form"),
    ("sgd_momentum", _sgd_sign, "after step 1, w differs", "a sign error"),
    ("sgd_momentum", _sgd_w_from_old_m, "after step 1, w differs", "the NEW m"),
    ("adam", _adam_eps_inside, "after step 1, w differs", "the paper's form"),
    ("adam", _adam_no_correction, "after step 1, w differs", "bias correction is missing"),
])
def test_a_wrong_optimizer_step_fails_with_where_and_a_hint(name, wrong, where, hint):
    text = check(name, wrong).to_text()
    assert text.startswith("NOT YET") and where in text and hint in text, text


def _train_variant(reset=True, sign=-1.0, after=False):
    def wrong(params, x, y, epochs, learning_rate):
        losses = []
        for _ in range(epochs):
            if reset:
                for w in params.values():
                    w.grad = None
            loss = course.loss(params, x, y)
            loss.backward()
            with no_grad():
                for w in params.values():
                    w.data += sign * learning_rate * w.grad
            losses.append(float((course.loss(params, x, y) if after else loss).data))
        return losses
    return wrong


@pytest.mark.parametrize("kwargs, where, hint", [
    ({"reset": False}, "the loss of epoch 3 differs", "w.grad = None"),
    ({"sign": 1.0}, "the loss of epoch 2 differs", "up the gradient"),
    ({"after": True}, "the loss of epoch 1 differs", "before the update"),
])
def test_a_wrong_training_loop_fails_with_where_and_a_hint(kwargs, where, hint):
    text = check("train", _train_variant(**kwargs)).to_text()
    assert text.startswith("NOT YET") and where in text and hint in text, text


# ----- templates, files and the command -----

@pytest.mark.parametrize("name", list(SOLUTIONS))
def test_each_template_runs_and_its_stub_is_reported_not_written(name, tmp_path):
    path = new(name, tmp_path)
    assert path.read_text(encoding="utf-8") == template(name)
    result = check_file(name, path)
    assert not result.passed and "not written yet" in result.to_text(), result.to_text()


def test_new_keeps_an_existing_file(tmp_path):
    path = new("mul", tmp_path)
    path.write_text("# my work\n", encoding="utf-8")
    with pytest.raises(FileExistsError, match="already exists"):
        new("mul", tmp_path)
    assert path.read_text(encoding="utf-8") == "# my work\n"


def test_check_file_reports_a_missing_name_and_a_broken_file(tmp_path):
    (tmp_path / "a.py").write_text("def other():\n    pass\n", encoding="utf-8")
    assert "does not define Sigmoid (it defines: other)" in check_file(
        "sigmoid", tmp_path / "a.py").to_text()
    (tmp_path / "b.py").write_text("1 / 0\n", encoding="utf-8")
    assert "did not run: ZeroDivisionError" in check_file("sigmoid", tmp_path / "b.py").to_text()


def test_the_cli_writes_a_template_and_grades_it(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    assert cli.main(["check", "--new", "sigmoid"]) == 0
    assert cli.main(["check", "sigmoid"]) == 1
    assert "not written yet" in capsys.readouterr().out
    text = (tmp_path / "sigmoid.py").read_text(encoding="utf-8")
    (tmp_path / "sigmoid.py").write_text(text.replace(
        "        raise NotImplementedError", "        return grad_output * s * (1 - s)"),
        encoding="utf-8")
    assert cli.main(["check", "sigmoid"]) == 0
    assert capsys.readouterr().out.startswith("PASSED")
    assert cli.main(["check", "--new", "sigmoid"]) == 2       # kept, not overwritten
    assert cli.main(["check", "mul", "missing.py"]) == 2
    assert cli.main(["check"]) == 0
    listing = capsys.readouterr().out
    assert all(f"  {name} " in listing for name in SOLUTIONS), listing


def test_unknown_exercise():
    with pytest.raises(ValueError, match="unknown exercise 'relu'; the exercises are mul"):
        check("relu", None)
