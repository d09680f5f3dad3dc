"""The CLI on bad files (issue 14): one line on stderr saying what is wrong, exit status 2, no
traceback, whether the data has a NaN or the model file is not a model."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from tinygrad_es.cli import main

ROOT = str(Path(__file__).resolve().parents[1])


def _one_line_error(capsys, argv, command):
    code = main(argv)
    out = capsys.readouterr()
    lines = out.err.strip().splitlines()
    assert code == 2 and len(lines) == 1, (code, out.err)
    assert lines[0].startswith(f"tinygrad-es {command}: error: ") and "Traceback" not in out.err
    return lines[0]


@pytest.mark.parametrize("rows, words", [
    ("a,b,label\n1,2,0\nnan,3,1\n4,5,0\n", "data row 2, column 1 is nan"),
    ("1,2,0\n3,inf,1\n4,5,0\n", "data row 2, column 2 is inf"),
    ("1,2,0.5\n3,4,nan\n4,5,0.25\n", "data row 2 has the label 'nan'"),
])
def test_train_on_data_with_a_nan_is_a_one_line_error(tmp_path, capsys, rows, words):
    data = tmp_path / "bad.csv"
    data.write_text(rows)
    line = _one_line_error(capsys, ["train", "--data", str(data), "--epochs", "1", "--out",
                                    str(tmp_path / "out")], "train")
    assert words in line and "finite number" in line
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize("name, content, words", [
    ("x.npy", None, "a single numpy array saved with np.save"),
    ("notes.txt", b"hello\n", "it is text"),
    ("empty.npz", b"", "it is empty"),
    ("cut.npz", "truncated", "damaged"),
])
def test_graph_of_a_file_that_is_not_a_model_is_a_one_line_error(tmp_path, capsys, name,
                                                                   content, words):
    path = tmp_path / name
    if content is None:
        np.save(path, np.arange(3))
    elif content == "truncated":
        from tinygrad_es import course

        course.build_model().save(path)
        path.write_bytes(path.read_bytes()[:-40])
    else:
        path.write_bytes(content)
    line = _one_line_error(capsys, ["graph", "model", "--file", str(path), "--out",
                                    str(tmp_path / "out")], "graph")
    assert f"cannot load {path}" in line and words in line


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="needs os.mkfifo")
def test_the_command_itself_exits_2_without_a_traceback(tmp_path):
    fifo = tmp_path / "pipe.npz"
    os.mkfifo(fifo)
    out = subprocess.run([sys.executable, "-m", "tinygrad_es", "graph", "model", "--file",
                          str(fifo), "--out", str(tmp_path)], capture_output=True, text=True,
                         timeout=60, env={**os.environ, "PYTHONPATH": ROOT})
    assert out.returncode == 2 and "Traceback" not in out.stderr
    assert out.stderr.count("\n") == 1 and "it is a FIFO" in out.stderr
