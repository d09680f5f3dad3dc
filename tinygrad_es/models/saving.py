"""``model.save`` / ``models.load_model`` / ``save_weights`` / ``load_weights``: one ``.npz`` file.

File format (version 1) — a plain ``np.savez`` archive, readable with ``np.load(path,
allow_pickle=False)``; nothing in it is pickled, and loading only instantiates the classes named in
the registries of ``layers``, ``initializers``, ``regularizers``, ``activations``, ``losses``,
``metrics`` and ``optimizers`` (an unknown class name is a ValueError):

- ``"tinygrad_es"``: a 0-d unicode array holding one JSON document::

      {"format": "tinygrad_es", "format_version": 1,
       "kind": "model" | "weights",            # written by save() / save_weights()
       "tinygrad_es_version": "0.1.0",
       "model": {"class_name": "Sequential", "config": {...}},   # model.get_config(); "model" only
       "compile_config": {...} | null,         # model.get_compile_config(); "model" only
       "weights": [{"key": "weights/0", "layer": "dense", "name": "dense/kernel",
                    "shape": [4, 3], "dtype": "float32"}, ...],   # Keras's order
       "optimizer": null | {"class_name": "Adam", "config": {...},   # optimizers.serialize()
                            "state": [{"key": "optimizer/0", "name": "iterations"}, ...]}}

- ``"weights/<i>"``: the i-th weight array, in ``model.weights`` order ([W1, b1, W2, b2, ...]).
- ``"optimizer/<i>"``: the arrays of ``optimizer.get_state()`` (iterations, learning rate, slots),
  present once the optimizer has taken a step, so that training resumes exactly where it stopped.

Any file name is accepted, ``"model.keras"`` included, and the npz is written under exactly that
name: it is NOT Keras's zip/HDF5 format, and Keras files cannot be loaded here (a clear error says
so). Writing goes to a temporary file in the same directory, flushed to disk, then ``os.replace``-d
onto the target, so a crash mid-save leaves any existing file intact.
"""

from __future__ import annotations

import json
import os
import tempfile
import zipfile
from typing import Any

import numpy as np

__all__ = ["save_model", "load_model", "save_weights", "load_weights", "FORMAT_VERSION"]

FORMAT_VERSION = 1
_HEADER_KEY = "tinygrad_es"


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
            arrays[key] = np.asarray(value)
            section["state"].append({"key": key, "name": name})
    return section


def _atomic_savez(filepath: str | os.PathLike, arrays: dict[str, np.ndarray]) -> None:
    """np.savez into a temp file next to ``filepath``, then rename it onto ``filepath``."""
    filepath = os.fspath(filepath)
    directory = os.path.dirname(os.path.abspath(filepath))
    if not os.path.isdir(directory):
        raise FileNotFoundError(f"cannot save to {filepath!r}: directory {directory!r} does not "
                                "exist")
    fd, tmp = tempfile.mkstemp(prefix=f".{os.path.basename(filepath)}.", suffix=".tmp",
                               dir=directory)
    try:
        with os.fdopen(fd, "wb") as f:
            np.savez(f, **arrays)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, filepath)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise


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
    """Save architecture, weights, compile config and optimizer state to one npz file.

    Example:
        >>> model.save("model.keras")  # doctest: +SKIP
    """
    if not model.built:
        raise ValueError(f"Model '{model.name}' is not built yet, so it has no weights to save: "
                         "give it an Input, call it on data or call model.build(...) first.")
    arrays: dict[str, np.ndarray] = {}
    compile_config = None
    if getattr(model, "compiled", False) and hasattr(model, "get_compile_config"):
        compile_config = model.get_compile_config()
    header = _header("model",
                     model={"class_name": type(model).__name__, "config": model.get_config()},
                     compile_config=compile_config,
                     weights=_weights_section(model, arrays),
                     optimizer=_optimizer_section(model, arrays))
    _atomic_savez(filepath, {_HEADER_KEY: header, **arrays})


def save_weights(model: Any, filepath: str | os.PathLike) -> None:
    """Save the weights (and the optimizer state, as Keras's .weights.h5 does) to one npz file.

    Example:
        >>> model.save_weights("model.weights.npz")  # doctest: +SKIP
    """
    if not model.built:
        raise ValueError(f"Model '{model.name}' is not built yet, so it has no weights to save.")
    arrays: dict[str, np.ndarray] = {}
    header = _header("weights", weights=_weights_section(model, arrays),
                     optimizer=_optimizer_section(model, arrays))
    _atomic_savez(filepath, {_HEADER_KEY: header, **arrays})


# ----- reading -----

def _read(filepath: str | os.PathLike) -> tuple[dict[str, Any], dict[str, np.ndarray]]:
    filepath = os.fspath(filepath)
    if not os.path.exists(filepath):
        raise FileNotFoundError(f"No file to load at {filepath!r}")
    try:
        with np.load(filepath, allow_pickle=False) as npz:
            arrays = {key: npz[key] for key in npz.files}
    except (ValueError, OSError, zipfile.BadZipFile, EOFError) as err:
        raise ValueError(f"{filepath!r} is not a tinygrad_es file (an .npz written by model.save "
                         f"or save_weights): {err}") from None
    if not isinstance(arrays, dict) or _HEADER_KEY not in arrays:
        raise ValueError(f"{filepath!r} is not a tinygrad_es file: it has no {_HEADER_KEY!r} "
                         "entry. Keras's own .keras/.h5 files cannot be loaded; save the model "
                         "with tinygrad_es, or copy weights with get_weights/set_weights.")
    try:
        header = json.loads(str(arrays.pop(_HEADER_KEY)))
    except (json.JSONDecodeError, TypeError) as err:
        raise ValueError(f"{filepath!r}: its header is not valid JSON ({err})") from None
    if header.get("format") != "tinygrad_es" or header.get("format_version") != FORMAT_VERSION:
        raise ValueError(f"{filepath!r}: unsupported format {header.get('format')!r} version "
                         f"{header.get('format_version')!r} (this version reads "
                         f"{FORMAT_VERSION})")
    return header, arrays


def _array(arrays: dict[str, np.ndarray], key: str, filepath: Any) -> np.ndarray:
    if key not in arrays:
        raise ValueError(f"{filepath!r} is damaged: the header lists {key!r} but the archive "
                         "does not contain it")
    return arrays[key]


def _load_weights_into(model: Any, header: dict[str, Any], arrays: dict[str, np.ndarray],
                       filepath: Any) -> None:
    entries = header.get("weights") or []
    values = [_array(arrays, e["key"], filepath) for e in entries]
    if not model.built and values:
        raise ValueError(f"Model '{model.name}' is not built, so the weights in {filepath!r} "
                         "cannot be loaded into it: build it first (model.build((None, n))).")
    model.set_weights(values)


def _load_optimizer_state(model: Any, header: dict[str, Any], arrays: dict[str, np.ndarray],
                          filepath: Any) -> None:
    section = header.get("optimizer")
    opt = getattr(model, "optimizer", None)
    if not section or not section.get("state") or opt is None:
        return
    if type(opt).__name__ != section.get("class_name"):
        import warnings

        warnings.warn(f"{filepath!r} holds the state of a {section.get('class_name')} optimizer "
                      f"but the model uses {type(opt).__name__}; the optimizer state was not "
                      "loaded", stacklevel=3)
        return
    state = {e["name"]: _array(arrays, e["key"], filepath) for e in section["state"]}
    opt.set_state(state, model.trainable_weights)


def load_model(filepath: str | os.PathLike) -> Any:
    """Rebuild a model saved by ``model.save``: architecture, weights, compile state, optimizer.

    Nothing from the file is executed: only known classes are instantiated from their configs.

    Example:
        >>> model = load_model("model.keras")  # doctest: +SKIP
    """
    from tinygrad_es.models.sequential import Sequential

    header, arrays = _read(filepath)
    if header.get("kind") != "model":
        raise ValueError(f"{filepath!r} holds only weights (written by save_weights); build the "
                         "model and call model.load_weights() instead")
    spec = header.get("model") or {}
    known = {"Sequential": Sequential}
    if spec.get("class_name") not in known:
        raise ValueError(f"{filepath!r}: unknown model class {spec.get('class_name')!r}; "
                         f"known: {sorted(known)}")
    model = known[spec["class_name"]].from_config(spec.get("config") or {})
    _load_weights_into(model, header, arrays, filepath)
    compile_config = header.get("compile_config")
    if compile_config and hasattr(model, "compile_from_config"):
        model.compile_from_config(compile_config)
        _load_optimizer_state(model, header, arrays, filepath)
    return model


def load_weights(model: Any, filepath: str | os.PathLike) -> None:
    """Load the weights from a file of ``save_weights`` or ``save`` into a same-shaped model.

    If the file holds optimizer state and the model is compiled with the same optimizer class, that
    state is restored too (as Keras's load_weights does).

    Example:
        >>> model.load_weights("model.weights.npz")  # doctest: +SKIP
    """
    header, arrays = _read(filepath)
    _load_weights_into(model, header, arrays, filepath)
    if getattr(model, "compiled", False):
        _load_optimizer_state(model, header, arrays, filepath)
