"""Loading damaged and foreign files (issue 14): one error type, nothing half-loaded, no code run.

- a seeded fuzz over a few hundred mutants of saved files (bytes flipped, truncated, inserted;
  header values replaced or deleted; arrays retyped, reshaped, dropped): every load either
  succeeds or raises ``ModelFileError``, a failed ``load_weights`` leaves the model's weights and
  its optimizer (built or not) exactly as they were, and no load executes code (an audit hook
  watches for exec/eval, unpickling and process creation);
- a file that is not ours says what it looks like (Keras .keras / .h5, .npy, text, pickle);
- resources: a FIFO does not hang, members the header does not name are not read, sizes are
  checked before data is read, limits on layers and on JSON depth give a clear error;
- the optimizer state in a file is validated like the constructor's arguments, and dtypes and
  shapes must agree exactly.
"""

from __future__ import annotations

import io
import json
import os
import pickle
import sys
import threading
import time
import tracemalloc
import warnings
import zipfile

import numpy as np
import pytest

from tinygrad_es import layers
from tinygrad_es.models import ModelFileError, Sequential, load_model, saving

X = np.random.default_rng(0).normal(size=(16, 4))
Y = np.arange(16) % 3


def _model(optimizer="adam"):
    model = Sequential([layers.Input((4,)), layers.Dense(5, activation="relu", name="h"),
                        layers.Dense(3, activation="softmax", name="o")], name="net")
    model.compile(optimizer=optimizer, loss="sparse_categorical_crossentropy")
    return model


def _trained(steps=3, seed=0, optimizer="adam"):
    model = _model(optimizer)
    rng = np.random.default_rng(seed)
    model.set_weights([rng.normal(size=w.shape) for w in model.get_weights()])
    model.fit(X, Y, batch_size=16, epochs=steps, shuffle=False, verbose=0)
    return model


def _snapshot(model):
    opt = model.optimizer
    state = opt.get_state() if opt.built else None
    return [w.copy() for w in model.get_weights()], state, opt.built


def _same(model, snapshot):
    weights, state, built = snapshot
    now = _snapshot(model)
    if now[2] != built or not all(np.array_equal(a, b) and a.dtype == b.dtype
                                  for a, b in zip(now[0], weights)):
        return False
    return state is None or (sorted(state) == sorted(now[1])
                             and all(np.array_equal(state[k], now[1][k]) for k in state))


def _arrays(path):
    with np.load(path, allow_pickle=False) as npz:
        return {k: npz[k] for k in npz.files}


def _write(path, arrays, header=None):
    if header is not None:
        arrays = {**arrays, "tinygrad_es": np.array(json.dumps(header))}
    with open(path, "wb") as f:
        np.savez(f, **arrays)


# ----- no code runs while loading -----

_WATCHED = ("exec", "pickle.find_class", "os.system", "subprocess.Popen", "os.exec",
            "os.posix_spawn", "os.spawn", "os.fork", "ctypes.dlopen")
_EXECUTED: list[str] = []
_WATCHING = threading.local()


def _audit(event, args):
    if getattr(_WATCHING, "on", False) and event.startswith(_WATCHED):
        _EXECUTED.append(event)


sys.addaudithook(_audit)  # hooks cannot be removed; this one only records while watching


def _load(loader, *args):
    """(error type name or None); records any watched audit event during the load."""
    _WATCHING.on = True
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            loader(*args)
        return None
    except Exception as err:  # noqa: BLE001 - the type is what the test checks
        return type(err).__name__
    finally:
        _WATCHING.on = False


# ----- the fuzz -----

_POOL = [None, -5, 0, 1, 10**30, 1e308, float("nan"), "x", "os.system", "float64", "int64", [],
         {}, [1, 2, 3], [-1], True, {"class_name": "eval", "config": {}}, [[[]]], "weights/0"]


def _paths(node, path=()):
    yield path
    items = (node.items() if isinstance(node, dict) else enumerate(node)
             if isinstance(node, list) else ())
    for key, child in items:
        yield from _paths(child, path + (key,))


def _edit_header(rng, header):
    paths = [p for p in _paths(header) if p]
    path = paths[rng.integers(len(paths))]
    parent = header
    for key in path[:-1]:
        parent = parent[key]
    if isinstance(parent, dict) and rng.random() < 0.3:
        del parent[path[-1]]
        return f"delete {path}"
    value = _POOL[rng.integers(len(_POOL))]
    parent[path[-1]] = value
    return f"set {path} = {value!r}"


def _edit_arrays(rng, arrays):
    keys = sorted(k for k in arrays if k != "tinygrad_es")
    key = keys[rng.integers(len(keys))]
    kind = rng.integers(7)
    a = arrays[key]
    if kind == 0:
        del arrays[key]
    elif kind == 1:
        arrays[key] = a.astype([np.int64, np.float64, np.float16, np.complex64, bool, "<U3",
                                ">f4"][rng.integers(7)])
    elif kind == 2:
        arrays[key] = a.reshape((1,) + a.shape) if a.size else np.zeros((1, 1))
    elif kind == 3:
        arrays[key] = np.zeros((0,), a.dtype)
    elif kind == 4:
        arrays["stray/0"] = np.zeros(1000)
    elif kind == 5:
        arrays[key] = np.full(a.shape, np.nan, a.dtype) if a.dtype.kind == "f" else a - 7
    else:
        arrays[key] = a.T.copy() if a.ndim == 2 else np.asarray(a).reshape(-1)[:1]
    return f"array {key} edit {kind}"


def _edit_bytes(rng, data):
    kind, n = rng.integers(5), len(data)
    data = bytearray(data)
    if kind == 0:
        for i in rng.integers(0, n, size=rng.integers(1, 5)):
            data[i] ^= int(rng.integers(1, 256))
    elif kind == 1:
        del data[rng.integers(0, n):]
    elif kind == 2:
        i = rng.integers(0, n)
        data[i:i] = bytes(rng.integers(0, 256, size=rng.integers(1, 64)).astype(np.uint8))
    elif kind == 3:
        i = rng.integers(0, n)
        data[i:i + 64] = bytes(min(64, n - i))
    else:
        i, j = sorted(rng.integers(0, n, size=2))
        del data[i:j]
    return f"bytes edit {kind}", bytes(data)


def _mutants(tmp_path, count, seed):
    """Seeded mutants of a model file, a weights file, an untrained model's file and a
    compressed model file."""
    sources = []
    for name, model, save in (("m.npz", _trained(), "save"), ("w.npz", _trained(), "save_weights"),
                              ("u.npz", _model(), "save")):
        path = tmp_path / name
        getattr(model, save)(path)
        sources.append((path.read_bytes(), _arrays(path)))
    compressed = tmp_path / "c.npz"  # deflated members too (np.savez_compressed)
    np.savez_compressed(compressed, **sources[0][1])
    sources.append((compressed.read_bytes(), sources[0][1]))
    rng = np.random.default_rng(seed)
    for i in range(count):
        raw, arrays = sources[rng.integers(len(sources))]
        arrays = {k: v.copy() for k, v in arrays.items()}
        header = json.loads(str(arrays["tinygrad_es"]))
        choice = rng.integers(3)
        path = tmp_path / f"mutant_{i}.npz"
        if choice == 0:
            what, data = _edit_bytes(rng, raw)
            path.write_bytes(data)
        elif choice == 1:
            what = _edit_header(rng, header)
            _write(path, arrays, header)
        else:
            what = _edit_arrays(rng, arrays)
            _write(path, arrays)
        yield what, path


def test_fuzzed_files_raise_one_error_type_and_leave_the_model_untouched(tmp_path):
    fresh = (lambda: _trained(seed=1), _model)  # an optimizer with state, and one not built
    targets = [make() for make in fresh]
    snapshots = [_snapshot(t) for t in targets]
    assert _load(load_model, _write_reference(tmp_path)) is None  # warm up the lazy imports
    _EXECUTED.clear()
    wrong, touched, failed, count = [], [], 0, 300
    for what, path in _mutants(tmp_path, count, seed=14):
        errors = [_load(load_model, path)]
        for i, target in enumerate(targets):
            errors.append(_load(target.load_weights, path))
            if errors[-1] is not None:
                failed += 1
                if not _same(target, snapshots[i]):
                    touched.append((what, errors[-1]))
            if errors[-1] is None or touched:  # it changed: a fresh model for the next mutant
                targets[i] = fresh[i]()
                snapshots[i] = _snapshot(targets[i])
        wrong += [(what, e) for e in errors if e not in (None, "ModelFileError")]
    assert wrong == [] and touched == [] and _EXECUTED == []
    assert failed > count  # most mutants are refused (each is loaded into two models)


def _write_reference(tmp_path):
    path = tmp_path / "reference.npz"
    _trained().save(path)
    return path


def test_a_bad_optimizer_part_changes_nothing(tmp_path):
    path = tmp_path / "w.npz"
    _trained(seed=2).save_weights(path)
    arrays = _arrays(path)
    header = json.loads(str(arrays["tinygrad_es"]))
    last = header["optimizer"]["state"][-1]["key"]
    arrays[last] = arrays[last][..., :1]  # the last slot has a wrong shape
    _write(path, arrays)
    model = _trained(seed=3)
    before = _snapshot(model)
    with pytest.raises(ModelFileError, match="shape"):
        model.load_weights(path)
    assert _same(model, before)


@pytest.mark.parametrize("name, value, message", [
    ("iterations", np.array(-5, np.int64), "iterations = -5"),
    ("iterations", np.array(2.5), "dtype"),
    ("learning_rate", np.array(np.nan, np.float32), "learning_rate = nan"),
    ("learning_rate", np.array(-0.1, np.float32), "learning_rate = -0.1"),
    ("learning_rate", np.array([0.1, 0.2], np.float32), "shape"),
])
def test_optimizer_state_is_validated_like_the_constructor(tmp_path, name, value, message):
    path = tmp_path / "m.npz"
    _trained(seed=4).save(path)
    arrays = _arrays(path)
    header = json.loads(str(arrays["tinygrad_es"]))
    entry = next(e for e in header["optimizer"]["state"] if e["name"] == name)
    arrays[entry["key"]] = value
    entry.pop("dtype")  # an older file without dtypes: the values themselves are checked
    entry.pop("shape")
    _write(path, arrays, header)
    with pytest.raises(ModelFileError, match=message):
        load_model(path)
    model = _trained(seed=5)
    before = _snapshot(model)
    with pytest.raises(ModelFileError, match=message):
        model.load_weights(path)
    assert _same(model, before)


def test_dtype_and_shape_must_agree_exactly(tmp_path):
    path = tmp_path / "m.npz"
    _trained().save(path)
    arrays = _arrays(path)
    _write(path, {**arrays, "weights/0": arrays["weights/0"].astype(np.int64)})
    with pytest.raises(ModelFileError, match="dtype '<i8'.*header says float32"):
        load_model(path)
    _write(path, {**arrays, "weights/1": arrays["weights/1"].astype(np.float64)})
    with pytest.raises(ModelFileError, match="header says float32"):
        load_model(path)
    header = json.loads(str(arrays["tinygrad_es"]))
    header["model"]["config"]["layers"][0]["config"]["batch_shape"] = [None, 1000]
    header["model"]["config"]["build_input_shape"] = [None, 1000]
    _write(path, arrays, header)  # an InputLayer of 1000 features before a (4, 5) kernel
    with pytest.raises(ModelFileError, match=r"built for inputs of shape \(None, 4\).*1000"):
        load_model(path)
    header = json.loads(str(arrays["tinygrad_es"]))
    header["weights"][0]["shape"] = [5, 4]
    _write(path, arrays, header)
    with pytest.raises(ModelFileError, match=r"weight 0 .* has shape \(5, 4\)"):
        load_model(path)


# ----- files that are not ours -----

def test_foreign_files_say_what_they_look_like(tmp_path, keras):
    ref = keras.Sequential([keras.Input((4,)), keras.layers.Dense(1)])
    ref.save(tmp_path / "k.h5")   # Keras 2's legacy format (Keras 3's .keras and .weights.h5
    with zipfile.ZipFile(tmp_path / "k.keras", "w") as zf:   # load: test_keras_format.py)
        zf.writestr("metadata.json", "{}")
    np.save(tmp_path / "x.npy", np.arange(3))
    (tmp_path / "t.csv").write_text("a,b\n1,2\n")
    (tmp_path / "j.json").write_text('{"class_name": "Sequential"}')
    (tmp_path / "empty.npz").write_bytes(b"")
    (tmp_path / "p.pkl").write_bytes(pickle.dumps({"a": 1}))
    with zipfile.ZipFile(tmp_path / "z.zip", "w") as zf:
        zf.writestr("readme.txt", "hello")
    np.savez(tmp_path / "obj.npz", tinygrad_es=np.array([{"evil": 1}], dtype=object))
    expected = {"k.keras": "zip archive without the 'tinygrad_es' header member",
                "k.h5": "HDF5 file, such as Keras's .h5",
                "x.npy": "single numpy array saved with np.save", "t.csv": "text",
                "j.json": "JSON text", "empty.npz": "it is empty", "p.pkl": "pickle",
                "z.zip": "zip archive without the 'tinygrad_es' header member",
                "obj.npz": "holds dtype object"}
    for name, words in expected.items():
        for loader in (load_model, _model().load_weights):
            with pytest.raises(ModelFileError, match="not a tinygrad_es file") as info:
                loader(tmp_path / name)
            assert words in str(info.value) and "\n" not in str(info.value), name
            assert info.value.filepath == str(tmp_path / name)
    with pytest.raises(FileNotFoundError):
        load_model(tmp_path / "missing.npz")
    with pytest.raises(IsADirectoryError):
        load_model(tmp_path)


# ----- resources -----

@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="needs os.mkfifo")
def test_a_fifo_is_refused_without_hanging(tmp_path):
    fifo = tmp_path / "pipe.npz"
    os.mkfifo(fifo)
    outcome = []
    thread = threading.Thread(target=lambda: outcome.append(_load(load_model, fifo)),
                              daemon=True)
    thread.start()
    thread.join(timeout=10)
    if thread.is_alive():  # unblock the loader so the test run can end
        with open(fifo, "wb"):
            pass
        pytest.fail("load_model blocked on a FIFO")
    assert outcome == ["ModelFileError"]
    with pytest.raises(ModelFileError, match="FIFO"):
        load_model(fifo)


def _peak_mib(fn):
    tracemalloc.start()
    try:
        fn()
        return tracemalloc.get_traced_memory()[1] / 2**20
    finally:
        tracemalloc.stop()


def test_members_the_header_does_not_name_are_not_read(tmp_path):
    path = tmp_path / "m.npz"
    model = _trained()
    model.save(path)
    with zipfile.ZipFile(path, "a", compression=zipfile.ZIP_DEFLATED) as zf:
        with zf.open("stray.npy", "w", force_zip64=True) as member:
            np.lib.format.write_array_header_1_0(member, {"descr": "<f4", "fortran_order": False,
                                                          "shape": (2**25,)})
            chunk = bytes(2**22)
            for _ in range(32):  # 128 MiB of zeros, about 125 kB deflated
                member.write(chunk)
    assert path.stat().st_size < 2**20
    peak = _peak_mib(lambda: load_model(path))
    assert peak < 16, f"loading used {peak:.1f} MiB"
    assert all(np.array_equal(a, b) for a, b in zip(load_model(path).get_weights(),
                                                     model.get_weights()))


def test_declared_sizes_are_checked_before_reading(tmp_path):
    path = tmp_path / "m.npz"
    _trained().save(path)
    arrays = _arrays(path)
    # The .npy header of a member claims 10^12 floats: refused from its ~100-byte header.
    buffer = io.BytesIO()
    np.lib.format.write_array_header_1_0(buffer, {"descr": "<f4", "fortran_order": False,
                                                  "shape": (10**6, 10**6)})
    with zipfile.ZipFile(path, "w") as zf:
        for key, value in arrays.items():
            if key == "weights/0":
                zf.writestr("weights/0.npy", buffer.getvalue() + bytes(80))
            else:
                with zf.open(f"{key}.npy", "w") as member:
                    np.lib.format.write_array(member, value)
    start = time.perf_counter()
    peak = _peak_mib(lambda: pytest.raises(ModelFileError, load_model, path))
    assert peak < 4 and time.perf_counter() - start < 1
    with pytest.raises(ModelFileError, match=r"has shape \(1000000, 1000000\)"):
        load_model(path)
    # The member's bytes do not match its header's shape: damaged, nothing is read.
    with zipfile.ZipFile(path, "w") as zf:
        for key, value in arrays.items():
            with zf.open(f"{key}.npy", "w") as member:
                np.lib.format.write_array(member, value)
                if key == "weights/1":
                    member.write(bytes(4096))
    with pytest.raises(ModelFileError, match="needs 20 bytes of data, but its member holds 4116"):
        load_model(path)


def test_limits_give_a_clear_error(tmp_path):
    path = tmp_path / "m.npz"
    _model().save(path)
    arrays = _arrays(path)
    header = json.loads(str(arrays["tinygrad_es"]))
    dense = header["model"]["config"]["layers"][1]
    header["model"]["config"]["layers"] += [dense] * saving.MAX_LAYERS
    _write(path, arrays, header)
    start = time.perf_counter()
    with pytest.raises(ModelFileError, match=f"more than the limit of {saving.MAX_LAYERS}"):
        load_model(path)
    assert time.perf_counter() - start < 5
    deep = '{"format": ' + "[" * 100_000 + "]" * 100_000 + "}"
    _write(path, {**arrays, "tinygrad_es": np.array(deep)})
    with pytest.raises(ModelFileError, match="not valid JSON"):
        load_model(path)
