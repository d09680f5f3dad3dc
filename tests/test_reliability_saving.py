"""Saving under faults (issue 14): a SIGKILL during ``model.save`` or ``ModelCheckpoint`` never
corrupts the file and leaves no temporary files to pile up; the directory is flushed after the
rename; saved files get the umask's mode, as any writer's.
"""

from __future__ import annotations

import json
import os
import stat
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from tinygrad_es import layers
from tinygrad_es.models import Sequential, load_model, saving

ROOT = str(Path(__file__).resolve().parents[1])  # the repository, for the child
pytestmark = pytest.mark.skipif(os.name == "nt", reason="SIGKILL, fork and umask need POSIX")

CHILD = r"""
import json, os, random, signal, sys, time
import numpy as np
from tinygrad_es import layers
from tinygrad_es.callbacks import ModelCheckpoint
from tinygrad_es.models import Sequential, load_model

directory, kills, seed = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
rng = random.Random(seed)
model = Sequential([layers.Input((64,)), layers.Dense(256), layers.Dense(256), layers.Dense(4)])
model.compile(optimizer="adam", loss="mse")
x, y = np.zeros((8, 64)), np.zeros((8, 4))
model.fit(x, y, verbose=0)
# npz: its save writes long enough for the kills to land mid-write (a .keras is built in
# memory and written in one short burst; its atomicity is tested in test_keras_format.py)
target = os.path.join(directory, "ckpt.npz")
model.save(target)
expected = model.get_weights()
stray, loads_ok = [], True
for i in range(kills):
    pid = os.fork()
    if pid == 0:  # the saver: model.save, or ModelCheckpoint after every batch, for ever
        try:
            if i % 2:
                checkpoint = ModelCheckpoint(target, save_freq=1)
                model.fit(x, y, batch_size=8, epochs=10**9, verbose=0, callbacks=[checkpoint])
            while True:
                model.save(target)
        finally:
            os._exit(0)
    time.sleep(rng.uniform(0.002, 0.06))
    os.kill(pid, signal.SIGKILL)
    os.waitpid(pid, 0)
    stray.append(len(os.listdir(directory)) - 1)
    loaded = load_model(target)  # never corrupt: the old file or a complete new one
    loads_ok &= len(loaded.get_weights()) == len(expected)
model.save(target)  # the next save removes what the killed savers left
print(json.dumps({"stray": stray, "after": sorted(os.listdir(directory)), "loads_ok": loads_ok}))
"""


def test_sigkill_during_save_leaves_no_temp_files_to_pile_up(tmp_path):
    env = {**os.environ, "PYTHONPATH": ROOT, "OPENBLAS_NUM_THREADS": "1",
           "OMP_NUM_THREADS": "1"}
    out = subprocess.run([sys.executable, "-c", CHILD, str(tmp_path), "30", "14"], env=env,
                         capture_output=True, text=True, timeout=180)
    assert out.returncode == 0, out.stderr
    result = json.loads(out.stdout.splitlines()[-1])
    assert result["loads_ok"]
    assert result["after"] == ["ckpt.npz"]
    assert max(result["stray"]) <= 1  # at most the temp file of the save just killed
    assert sum(result["stray"]) >= 3, result  # the kills did land mid-save


def _model():
    model = Sequential([layers.Input((3,)), layers.Dense(2)])
    model.compile(optimizer="sgd", loss="mse")
    return model


def test_the_next_save_removes_temp_files_of_dead_processes_only(tmp_path):
    target = tmp_path / "m.npz"
    dead = tmp_path / f".m.npz.{2**22 + 12345}.tinygrad_es-tmp"  # above Linux's pid_max default
    alive = tmp_path / f".m.npz.{os.getppid()}.tinygrad_es-tmp"
    other = tmp_path / f".other.npz.{2**22 + 12345}.tinygrad_es-tmp"
    unrelated = tmp_path / ".m.npz.notes"
    for path in (dead, alive, other, unrelated):
        path.write_bytes(b"x")
    _model().save(target)
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(
        [target.name, alive.name, other.name, unrelated.name])


def test_the_directory_is_flushed_after_the_rename(tmp_path, monkeypatch):
    target = tmp_path / "m.npz"
    calls = []
    real_fsync = os.fsync

    def fsync(fd):
        is_dir = stat.S_ISDIR(os.fstat(fd).st_mode)
        calls.append(("dir" if is_dir else "file", target.exists()))
        real_fsync(fd)

    monkeypatch.setattr(os, "fsync", fsync)
    _model().save(target)
    assert calls == [("file", False), ("dir", True)]


@pytest.mark.parametrize("umask", [0o022, 0o077, 0o002])
def test_saved_files_get_the_umask_mode(tmp_path, umask):
    old = os.umask(umask)
    try:
        _model().save(tmp_path / "m.npz")
        _model().save_weights(tmp_path / "w.weights.npz")
        np.savez(tmp_path / "plain.npz", a=np.zeros(1))
    finally:
        os.umask(old)
    modes = {p.name: stat.S_IMODE(p.stat().st_mode) for p in tmp_path.iterdir()}
    assert modes == {"m.npz": 0o666 & ~umask, "w.weights.npz": 0o666 & ~umask,
                     "plain.npz": 0o666 & ~umask}


def test_a_failed_save_removes_its_temp_file(tmp_path, monkeypatch):
    def crash(*args, **kwargs):
        raise KeyboardInterrupt
    monkeypatch.setattr(saving.np, "savez", crash)
    with pytest.raises(KeyboardInterrupt):
        _model().save(tmp_path / "m.npz")
    assert list(tmp_path.iterdir()) == []
    monkeypatch.undo()
    _model().save(tmp_path / "m.npz")
    assert [p.name for p in tmp_path.iterdir()] == ["m.npz"]
    assert load_model(tmp_path / "m.npz").count_params() == 8
