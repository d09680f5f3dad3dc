"""``model.save`` / ``models.load_model`` / ``save_weights`` / ``load_weights``: one ``.npz`` file.

File format (version 1) — a plain ``np.savez`` archive, readable with ``np.load(path,
allow_pickle=False)``; nothing in it is pickled, and loading only instantiates the classes named in
the registries of ``layers``, ``initializers``, ``regularizers``, ``activations``, ``losses``,
``metrics`` and ``optimizers`` (an unknown class name is an error):

- ``"tinygrad_es"``: a 0-d unicode array holding one JSON document::

      {"format": "tinygrad_es", "format_version": 1,
       "kind": "model" | "weights",            # written by save() / save_weights()
       "tinygrad_es_version": "0.1.0",
       "model": {"class_name": "Sequential", "config": {...}},   # model.get_config(); "model" only
       "compile_config": {...} | null,         # model.get_compile_config(); "model" only
       "weights": [{"key": "weights/0", "layer": "dense", "name": "dense/kernel",
                    "shape": [4, 3], "dtype": "float32"}, ...],   # Keras's order
       "optimizer": null | {"class_name": "Adam", "config": {...},   # optimizers.serialize()
                            "state": [{"key": "optimizer/0", "name": "iterations",
                                       "shape": [], "dtype": "int64"}, ...]}}

- ``"weights/<i>"``: the i-th weight array, in ``model.weights`` order ([W1, b1, W2, b2, ...]).
- ``"optimizer/<i>"``: the arrays of ``optimizer.get_state()`` (iterations, learning rate, slots),
  present once the optimizer has taken a step, so that training resumes exactly where it stopped.

Which format is written is decided by the name, as in Keras: ``save("m.keras")`` writes Keras 3's
own ``.keras`` zip and ``save_weights("w.weights.h5")`` Keras's h5 layout (``models.keras_format``,
``models.keras_h5``; h5py needed); every other name gets the npz above, which also keeps what
Keras's files cannot (see ``keras_format``). Which format is read is decided by the content, not
the name: our npz, Keras's ``.keras`` zip, or an HDF5 weights file.

Writing: to ``.<name>.<pid>.tinygrad_es-tmp`` beside the target, flushed to disk, ``os.replace``-d
onto the target, then the directory is flushed too; a crash mid-save leaves the old file intact,
and the next save to that name removes the temporary files of processes that no longer exist.
The file gets the mode the umask gives (as any writer).

Loading is all or nothing: the whole file is read and checked (header, every array's shape and
dtype, the optimizer's state like its constructor's arguments) before anything is assigned, so a
failed load leaves the model and its optimizer as they were. Every problem with a file's contents
raises :class:`ModelFileError` (a ``ValueError``); ``OSError`` only comes from the file system.
"""

from __future__ import annotations

import copy
import json
import os
import warnings
from typing import Any, Mapping

import numpy as np

from tinygrad_es.models._archive import (HDF5_MAGIC, MAX_HEADER_BYTES, Archive, ModelFileError,
                                         atomic_savez, atomic_write, describe_zip,
                                         open_regular_file)

__all__ = ["save_model", "read_model", "save_weights", "load_weights", "ModelFileError",
           "FORMAT_VERSION", "MAX_LAYERS"]

FORMAT_VERSION = 1
MAX_LAYERS = 10_000  # a file describing more layers is refused before any is built
_HEADER_KEY = "tinygrad_es"
_NOT_OURS = ("is not a tinygrad_es file (a model or weights file written by model.save / "
             "save_weights)")


# ----- writing -----

def _weights_section(model: Any, arrays: dict[str, np.ndarray]) -> list[dict[str, Any]]:
    entries = []
    for layer in model.layers:
        for weight in layer.weights:
            key = f"weights/{len(entries)}"
            arrays[key] = weight.data
            entries.append({"key": key, "layer": layer.name, "name": weight.name,
                            "shape": list(weight.shape), "dtype": weight.dtype.name})
    return entries


def _optimizer_section(model: Any, arrays: dict[str, np.ndarray]) -> dict[str, Any] | None:
    opt = getattr(model, "optimizer", None)
    if opt is None or not hasattr(opt, "get_state"):
        return None
    from tinygrad_es import optimizers

    section: dict[str, Any] = {**optimizers.serialize(opt), "state": None}
    if getattr(opt, "built", False):
        section["state"] = []
        for i, (name, value) in enumerate(opt.get_state().items()):
            key = f"optimizer/{i}"
            arrays[key] = value = np.asarray(value)
            section["state"].append({"key": key, "name": name, "shape": list(value.shape),
                                     "dtype": value.dtype.name})
    return section


def _header(kind: str, **fields: Any) -> np.ndarray:
    from tinygrad_es import __version__

    doc = {"format": "tinygrad_es", "format_version": FORMAT_VERSION, "kind": kind,
           "tinygrad_es_version": __version__, **fields}
    return np.array(json.dumps(doc, default=_jsonable))


def _jsonable(value: Any) -> Any:
    """numpy scalars and arrays that slipped into a config become plain numbers and lists."""
    if isinstance(value, (np.generic, np.ndarray)):
        return value.tolist()
    if isinstance(value, tuple):
        return list(value)
    raise TypeError(f"cannot save {value!r} (type {type(value).__name__}) in the model's JSON "
                    "config: configs may hold only numbers, strings, lists, dicts and None")


def save_model(model: Any, filepath: str | os.PathLike) -> None:
    """Save architecture, weights, compile config and optimizer state to one file.

    A name ending in ``.keras`` gets Keras 3's own zip (``models.keras_format``), which
    ``keras.saving.load_model`` opens; any other name gets our npz (exact resume of everything).

    Example:
        >>> model.save("model.keras")  # doctest: +SKIP
    """
    if not model.built:
        raise ValueError(f"Model '{model.name}' is not built yet, so it has no weights to save: "
                         "give it an Input, call it on data or call model.build(...) first.")
    if _is_keras_name(filepath, ".keras"):
        from tinygrad_es.models.keras_format import save_keras

        return save_keras(model, filepath)
    arrays: dict[str, np.ndarray] = {}
    compile_config = None
    if getattr(model, "compiled", False) and hasattr(model, "get_compile_config"):
        compile_config = model.get_compile_config()
    header = _header("model",
                     model={"class_name": type(model).__name__, "config": model.get_config()},
                     compile_config=compile_config,
                     weights=_weights_section(model, arrays),
                     optimizer=_optimizer_section(model, arrays))
    atomic_savez(filepath, {_HEADER_KEY: header, **arrays})


def save_weights(model: Any, filepath: str | os.PathLike) -> None:
    """Save the weights (and the optimizer state, as Keras's .weights.h5 does) to one file.

    A name ending in ``.weights.h5`` gets Keras's h5 layout (``models.keras_h5``); any other
    name gets our npz.

    Example:
        >>> model.save_weights("model.weights.npz")  # doctest: +SKIP
    """
    if not model.built:
        raise ValueError(f"Model '{model.name}' is not built yet, so it has no weights to save.")
    if _is_keras_name(filepath, ".weights.h5"):
        from tinygrad_es.models.keras_h5 import weights_h5_bytes

        data = weights_h5_bytes(model)
        return atomic_write(filepath, lambda f: f.write(data))
    arrays: dict[str, np.ndarray] = {}
    header = _header("weights", weights=_weights_section(model, arrays),
                     optimizer=_optimizer_section(model, arrays))
    atomic_savez(filepath, {_HEADER_KEY: header, **arrays})


def _is_keras_name(filepath: str | os.PathLike, suffix: str) -> bool:
    return os.fspath(filepath).endswith(suffix)


def _head(filepath: str) -> bytes:
    with open_regular_file(filepath) as f:
        return f.read(8)


# ----- reading: the header -----

def _read_header(archive: Archive) -> dict[str, Any]:
    if not archive.has(_HEADER_KEY):
        raise archive.error(describe_zip(archive.members), _NOT_OURS)
    try:
        text = archive.read(_HEADER_KEY, shape=(), kinds="U", max_bytes=MAX_HEADER_BYTES)
    except ModelFileError as err:
        raise archive.error(f"its header member is unusable: {err.reason}", _NOT_OURS) from None
    try:
        header = json.loads(str(text[()]))
    except (ValueError, RecursionError) as err:
        raise archive.error(
            f"its header is not valid JSON ({type(err).__name__}: {err})") from None
    _check_header(archive, header)
    return header


def _is_int(value: Any) -> bool:
    return type(value) is int


def _check_entries(archive: Archive, entries: Any, prefix: str, dtypes: tuple[str, ...],
                   required: bool) -> None:
    """Entries ``[{"key": "<prefix>/<i>", "shape": [...], "dtype": ...}, ...]`` in order."""
    if not isinstance(entries, list):
        raise archive.error(f"its {prefix!r} list is {type(entries).__name__}, not a list")
    for i, entry in enumerate(entries):
        where = f"{prefix} entry {i}"
        if not isinstance(entry, dict) or entry.get("key") != f"{prefix}/{i}":
            raise archive.error(f"{where} must be an object with \"key\": \"{prefix}/{i}\", "
                                f"received {str(entry)[:80]}")
        if not isinstance(entry.get("name", ""), str):
            raise archive.error(f"{where} has a non-string name {entry['name']!r}")
        if "shape" in entry or required:
            shape = entry.get("shape")
            if not isinstance(shape, list) or not all(_is_int(n) and n >= 0 for n in shape):
                raise archive.error(f"{where} has shape {str(shape)[:80]}, expected a list of "
                                    "integers >= 0")
        if ("dtype" in entry or required) and entry.get("dtype") not in dtypes:
            raise archive.error(f"{where} has dtype {str(entry.get('dtype'))[:40]!r}, expected "
                                f"one of {list(dtypes)}")


def _check_header(archive: Archive, header: Any) -> None:
    """The structure of the JSON document (types and counts), before any of it is used."""
    if not isinstance(header, dict):
        raise archive.error(f"its header is a JSON {type(header).__name__}, not an object")
    fmt, version = header.get("format"), header.get("format_version")
    if fmt != "tinygrad_es" or not _is_int(version) or version != FORMAT_VERSION:
        raise archive.error(f"unsupported format {str(fmt)[:40]!r} version "
                            f"{str(version)[:20]!r} (this version reads {FORMAT_VERSION})")
    if header.get("kind") not in ("model", "weights"):
        raise archive.error(f"its kind is {str(header.get('kind'))[:40]!r}, expected 'model' "
                            "or 'weights'")
    _check_entries(archive, header.get("weights"), "weights", ("float16", "float32", "float64"),
                   required=True)
    section = header.get("optimizer")
    if section is not None:
        if (not isinstance(section, dict) or not isinstance(section.get("class_name"), str)
                or not isinstance(section.get("config"), dict)):
            raise archive.error("its optimizer section must be null or an object with a "
                                "\"class_name\" string and a \"config\" object")
        state = section.get("state")
        if state is not None:
            _check_entries(archive, state, "optimizer", ("float16", "float32", "float64",
                                                         "int32", "int64"), required=False)
            names = [e.get("name") for e in state]
            if not all(isinstance(n, str) for n in names) or len(set(names)) != len(names):
                raise archive.error("its optimizer state entries need distinct string names")
    if header["kind"] == "model":
        spec = header.get("model")
        if not isinstance(spec, dict) or not isinstance(spec.get("config"), dict):
            raise archive.error("its \"model\" entry must be an object with a \"config\" object")
        layers = spec["config"].get("layers", [])
        if not isinstance(layers, list):
            raise archive.error(f"its model's layers are a {type(layers).__name__}, not a list")
        if len(layers) > MAX_LAYERS:
            raise archive.error(f"it describes {len(layers)} layers, more than the limit of "
                                f"{MAX_LAYERS} (saving.MAX_LAYERS)")
        if not isinstance(header.get("compile_config"), (dict, type(None))):
            raise archive.error("its compile_config must be null or an object")


def _from_file(archive: Archive, what: str, build: Any, *args: Any) -> Any:
    """``build(*args)`` on values from the file: whatever it raises becomes a ModelFileError."""
    try:
        return build(*args)
    except ModelFileError:
        raise
    except MemoryError as err:  # e.g. a config of Dense(units=10**9): numpy cannot allocate it
        raise archive.error(f"its {what} needs more memory than is available ({err})") from err
    except Exception as err:  # the file's values reach constructors: any failure is the file's
        raise archive.error(f"its {what} cannot be used ({type(err).__name__}: {err})") from err


# ----- reading: arrays checked against the model -----

def _check_layer_chain(archive: Archive, model: Any) -> None:
    """Each layer built (from its own config) for the shape the layer before it gives."""
    if hasattr(model, "operations"):  # a functional graph: rebuilding it checked every call
        return
    shape = model.input_shape
    for layer in model.layers:
        built_for = layer.input_shape
        if shape is not None and built_for is not None and tuple(built_for) != tuple(shape):
            raise archive.error(f"its layer '{layer.name}' was built for inputs of shape "
                                f"{tuple(built_for)}, but the layer before it gives "
                                f"{tuple(shape)}")
        shape = layer.output_shape

def _read_weights(archive: Archive, header: dict[str, Any], model: Any) -> list[np.ndarray]:
    entries = header["weights"]
    if not entries:
        return []
    if not model.built:
        raise ValueError(f"Model '{model.name}' is not built, so the weights in "
                         f"{archive.filepath!r} cannot be loaded into it: build it first "
                         "(model.build((None, n))).")
    targets = model.weights
    fit = f"does not fit model '{model.name}'"
    if len(entries) != len(targets):
        raise archive.error(f"it holds {len(entries)} weights, but the model was expecting "
                            f"{len(targets)} weights, of shapes {[t.shape for t in targets]}",
                            fit)
    for i, (entry, target) in enumerate(zip(entries, targets)):
        if tuple(entry["shape"]) != target.shape:
            raise archive.error(f"weight {i} ({str(entry.get('name'))[:60]}) has shape "
                                f"{tuple(entry['shape'])}, but the model's weight "
                                f"'{target.name}' has shape {target.shape}", fit)
    return [archive.read(e["key"], tuple(e["shape"]), np.dtype(e["dtype"]), kinds="f")
            for e in entries]


def _expected_state(opt: Any, variables: list) -> dict[str, np.ndarray]:
    """The optimizer's ``get_state()`` layout, from a scratch copy if it is not built yet."""
    if not opt.built:
        opt = copy.deepcopy(opt)
        opt.build(variables)
    return opt.get_state()


def _read_optimizer_state(archive: Archive, header: dict[str, Any], model: Any,
                          strict: bool) -> dict[str, np.ndarray] | None:
    """The optimizer arrays, validated like the constructor's arguments; None if not used."""
    section, opt = header.get("optimizer"), getattr(model, "optimizer", None)
    if not section or section.get("state") is None or opt is None:
        return None
    if type(opt).__name__ != section["class_name"]:
        message = (f"holds the state of a {section['class_name'][:40]} optimizer but the model "
                   f"uses {type(opt).__name__}")
        if strict:
            raise archive.error(message)
        warnings.warn(f"{archive.filepath!r} {message}; the optimizer state was not loaded",
                      stacklevel=4)
        return None
    variables = model.trainable_weights
    expected = _from_file(archive, "optimizer state layout", _expected_state, opt, variables)
    entries = {e["name"]: e for e in section["state"]}
    missing = sorted(set(expected) - set(entries) - {"learning_rate"})
    unknown = sorted(set(entries) - set(expected) - {"learning_rate"})
    if missing or unknown:
        raise archive.error(f"its {type(opt).__name__} state does not match this optimizer: "
                            f"missing {missing[:10]}, unexpected {unknown[:10]}")
    state = {}
    for name, entry in entries.items():
        dtype = np.dtype(entry["dtype"]) if "dtype" in entry else None
        if name == "iterations":
            value = archive.read(entry["key"], (), dtype, kinds="iu")
            if value < 0:
                raise archive.error(f"its optimizer's iterations = {int(value)}: expected an "
                                    "integer >= 0")
        elif name == "learning_rate":
            value = archive.read(entry["key"], (), dtype, kinds="f")
            if not (np.isfinite(value) and value >= 0):
                raise archive.error(f"its optimizer's learning_rate = {float(value)!r}: "
                                    "`learning_rate` must be a finite number >= 0")
        else:  # a slot, or a wrapper's own counter (LossScaleOptimizer's step_counter)
            counter = np.asarray(expected[name]).dtype.kind in "iu"
            value = archive.read(entry["key"], expected[name].shape, dtype,
                                 kinds="iu" if counter else "f")
            if counter and np.any(value < 0):
                raise archive.error(f"its optimizer's {name} is negative: expected a count >= 0")
        state[name] = value
    return state


# ----- assigning, once everything is read and checked -----

def _assign(model: Any, weights: list[np.ndarray], state: dict[str, np.ndarray] | None) -> None:
    from tinygrad_es.utils.interrupts import defer_sigint

    with defer_sigint():  # a Ctrl-C waits until the model is whole again
        before = model.get_weights() if weights else []
        try:
            if weights:
                model.set_weights(weights)
            if state is not None:
                model.optimizer.set_state(state, model.trainable_weights)
        except BaseException:
            if before:
                model.set_weights(before)
            raise


def read_model(filepath: str | os.PathLike, model_classes: Mapping[str, Any],
               compile: bool = True) -> Any:
    """Rebuild a model saved by ``model.save``: architecture, weights, compile state, optimizer.

    What ``models.load_model`` runs, with the model classes a file may name (``{"Sequential":
    Sequential}``): this module knows no model class itself. ``compile=False`` leaves the model
    uncompiled (no optimizer state is read), as Keras's ``load_model(..., compile=False)``. Nothing from the file is executed:
    only known classes are instantiated from their configs. Raises :class:`ModelFileError` for
    any problem with the file's contents, ``OSError`` for the file system (a missing file, a
    directory).

    Example:
        >>> model = read_model("model.keras", {"Sequential": Sequential})  # doctest: +SKIP
    """
    filepath = os.fspath(filepath)
    if _head(filepath) == HDF5_MAGIC:
        from tinygrad_es.models.keras_h5 import read_h5_file

        with read_h5_file(filepath):
            raise ModelFileError(filepath, "it holds only weights (a Keras .weights.h5 file); "
                                 "build the model and call model.load_weights() instead",
                                 "cannot be loaded by load_model")
    with Archive(filepath) as archive:
        if not archive.has(_HEADER_KEY) and "config.json" in archive.members:
            from tinygrad_es.models.keras_format import read_keras

            return read_keras(archive, model_classes, compile)
        header = _read_header(archive)
        if header["kind"] != "model":
            raise archive.error("it holds only weights (written by save_weights); build the "
                                "model and call model.load_weights() instead",
                                "cannot be loaded by load_model")
        spec, known = header["model"], model_classes
        if not isinstance(spec.get("class_name"), str) or spec["class_name"] not in known:
            raise archive.error(f"unknown model class {str(spec.get('class_name'))[:40]!r}; "
                                f"known: {sorted(known)}")
        model = _from_file(archive, "model config", known[spec["class_name"]].from_config,
                           spec["config"])
        _check_layer_chain(archive, model)
        weights = _from_file(archive, "weights", _read_weights, archive, header, model)
        state = None
        if header.get("compile_config") and compile:
            _from_file(archive, "compile config", model.compile_from_config,
                       header["compile_config"])
            state = _read_optimizer_state(archive, header, model, strict=True)
    _assign(model, weights, state)
    return model


def load_weights(model: Any, filepath: str | os.PathLike) -> None:
    """Load the weights from a file of ``save_weights`` or ``save`` into a same-shaped model.

    If the file holds optimizer state and the model is compiled with the same optimizer class, that
    state is restored too (as Keras's load_weights does). All or nothing: on any error the model
    and its optimizer are left as they were.

    Example:
        >>> model.load_weights("model.weights.npz")  # doctest: +SKIP
    """
    filepath = os.fspath(filepath)
    if _head(filepath) == HDF5_MAGIC:
        from tinygrad_es.models.keras_h5 import load_h5_weights, read_h5_file

        return load_h5_weights(read_h5_file(filepath), model)
    with Archive(filepath) as archive:
        if not archive.has(_HEADER_KEY) and {"config.json", "model.weights.h5"} <= set(
                archive.members):
            from tinygrad_es.models.keras_h5 import H5Weights, load_h5_weights

            h5 = H5Weights(archive.read_bytes("model.weights.h5"), filepath)
            return load_h5_weights(h5, model)
        header = _read_header(archive)
        weights = _read_weights(archive, header, model)
        state = None
        if getattr(model, "compiled", False):
            state = _read_optimizer_state(archive, header, model, strict=False)
    _assign(model, weights, state)
