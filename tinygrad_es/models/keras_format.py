"""Keras 3's own ``.keras`` file, both ways, and live models across: ``to_keras`` / ``from_keras``.

A ``.keras`` file is a zip of three members, stored uncompressed as Keras writes them:

- ``metadata.json``: ``{"keras_version": ..., "date_saved": ...}``;
- ``config.json``: ``{"module": "keras", "class_name": "Sequential", "config": {...},
  "registered_name": null, "build_config": {...}, "compile_config": {...}}`` — every layer,
  initializer, regularizer, loss, metric and optimizer in Keras's own layout (``module`` names
  under ``keras.``, dtypes as ``DTypePolicy`` dicts);
- ``model.weights.h5``: the weights and the optimizer's variables (see ``models.keras_h5``).

Writing translates our configs into Keras's words (ours already use Keras's keys; Keras adds a
few fields we do not have, always at their defaults). Reading goes the other way in safe mode:
before anything is built, every object named in ``config.json`` must come from Keras's own
modules with no ``registered_name`` of a custom class, every layer must be one we have, every
tensor operation of a functional graph (module ``keras.src.ops.numpy``) one of
``symbolic.OPERATIONS``, and a ``Lambda`` (Python code) is refused; nothing from the file is
ever executed or imported. Sequential and functional models (nested ones too) go both ways; a
subclassed model's code cannot be written, so its ``.keras`` save is a ValueError.

What Keras's format cannot hold, that our npz keeps: the optimizer state of the wrapper
optimizers (LossScaleOptimizer, multi-optimizers: their Keras variable order is not mapped),
the class of the ``Sigmoid`` / ``Tanh`` / ``SELU`` layers (written as ``Activation``, with equal
predictions), and the optimizer state of a ``.weights.h5`` for an optimizer of another class
(h5 stores no class name, only the variables in order).
"""

from __future__ import annotations

import datetime
import json
import os
import warnings
import zipfile
from typing import Any, Mapping

from tinygrad_es.i18n import tr
from tinygrad_es.models import keras_h5
from tinygrad_es.models._archive import MAX_HEADER_BYTES, Archive, ModelFileError, atomic_write
from tinygrad_es.models.keras_configs import keras_config

__all__ = ["save_keras", "read_keras", "to_keras", "from_keras", "keras_config",
           "check_safe", "KERAS_VERSION"]

KERAS_VERSION = "3.15.1"  # the version we write as; Keras 3 reads any 3.x file
_H5 = "model.weights.h5"


def save_keras(model: Any, filepath: str | os.PathLike) -> None:
    """Write Keras 3's ``.keras`` zip atomically (the old file stays whole until the rename)."""
    config = keras_config(model)  # before any file is touched: an unsupported model fails here
    weights = keras_h5.weights_h5_bytes(model)
    metadata = {"keras_version": KERAS_VERSION,
                "date_saved": datetime.datetime.now().strftime("%Y-%m-%d@%H:%M:%S")}

    def write(f: Any) -> None:
        with zipfile.ZipFile(f, "w", compression=zipfile.ZIP_STORED) as zf:
            zf.writestr("metadata.json", json.dumps(metadata))
            zf.writestr("config.json", json.dumps(config))
            zf.writestr(_H5, weights)

    atomic_write(filepath, write)


# ----- reading Keras's configs, safely -----

_SAFE_MODULES = ("keras", "tinygrad_es")
_REFUSED = "cannot be loaded"


def check_safe(document: Any, filepath: str) -> None:
    """Refuse any object not from Keras's own modules, custom classes and Lambda layers.

    Only checks: nothing is imported or built here.
    """
    from tinygrad_es import layers as layers_module
    from tinygrad_es.models.symbolic import OPERATIONS

    def walk(value: Any, depth: int) -> None:
        if depth > 64:
            raise ModelFileError(filepath, "its config.json nests deeper than 64 levels")
        if isinstance(value, list):
            for v in value:
                walk(v, depth + 1)
            return
        if not isinstance(value, dict):
            return
        if "class_name" in value:
            cls, module = value.get("class_name"), value.get("module")
            registered = value.get("registered_name")
            if cls == "Lambda":
                raise ModelFileError(filepath, tr(
                    "it contains a Lambda layer ({name!r}): a Lambda holds Python code, which "
                    "is never loaded from a file (safe mode)",
                    name=str((value.get("config") or {}).get("name"))[:60]), _REFUSED)
            if not isinstance(cls, str) or (module is not None and not (
                    isinstance(module, str) and module.split(".")[0] in _SAFE_MODULES)):
                raise ModelFileError(filepath, tr(
                    "it names the class {cls!r} from module {module!r}: only Keras's own "
                    "classes are loaded (safe mode: no custom objects, no code from the file)",
                    cls=str(cls)[:60], module=str(module)[:60]), _REFUSED)
            if registered not in (None, cls, "function") and not (
                    cls == "Functional" and registered == "Functional"):
                raise ModelFileError(filepath, tr(
                    "it names the custom class {registered!r}: only Keras's own classes are "
                    "loaded (safe mode)", registered=str(registered)[:60]), _REFUSED)
            if (isinstance(module, str) and "ops" in module.split(".")
                    and cls not in OPERATIONS):  # only the tensor operations symbolic.py has
                raise ModelFileError(filepath, tr(
                    "its operation {name!r} is a {cls} (from {module}), which tinygrad_es does "
                    "not support (yet); supported operations: {known}",
                    name=str(value.get("name") or (value.get("config") or {}).get("name"))[:60],
                    cls=cls, module=module[:60], known=", ".join(OPERATIONS)), _REFUSED)
            if (isinstance(module, str) and "layers" in module.split(".")
                    and cls not in layers_module.LAYERS):
                raise ModelFileError(filepath, tr(
                    "its layer {name!r} is a {cls}, which tinygrad_es does not support (yet); "
                    "supported layers: {known}",
                    name=str((value.get("config") or {}).get("name"))[:60], cls=cls,
                    known=", ".join(sorted(layers_module.LAYERS))), _REFUSED)
        for v in value.values():
            walk(v, depth + 1)

    walk(document, 0)


def _arg_from_keras(value: Any, filepath: str) -> Any:
    """A Keras compile argument (name, or serialized Loss / Metric / function) in our words."""
    if isinstance(value, list):
        return [_arg_from_keras(v, filepath) for v in value]
    if isinstance(value, dict) and "class_name" in value:
        module = str(value.get("module"))
        if value["class_name"] == "function":  # a built-in function, saved by its name
            return value.get("config")
        kind = "loss" if module.endswith("losses") else "metric"
        return {"kind": kind, "value": {"class_name": value["class_name"],
                                        "config": value.get("config") or {}}}
    return value


def compile_from_keras(config: dict[str, Any], filepath: str) -> dict[str, Any]:
    """Keras's ``compile_config`` as our ``compile_from_config`` takes it."""
    out: dict[str, Any] = {}
    for key in ("optimizer", "loss", "loss_weights", "metrics", "weighted_metrics"):
        if key in config:
            value = config[key]
            out[key] = (value if key == "optimizer" else _arg_from_keras(value, filepath))
    return out


def model_from_keras_config(document: Any, filepath: str,
                            model_classes: Mapping[str, Any]) -> Any:
    """A new (uncompiled) model from ``config.json``'s document, dispatched on ``class_name``."""
    from tinygrad_es.models.saving import MAX_LAYERS, _from_file

    if not isinstance(document, dict) or not isinstance(document.get("config"), dict):
        raise ModelFileError(filepath, "its config.json must be an object with a \"config\" "
                             "object")
    check_safe(document, filepath)
    cls = document.get("class_name")
    if cls in ("Functional", "Model") and cls not in model_classes:
        cls = "Functional"
    if cls not in model_classes:
        raise ModelFileError(filepath, f"unknown model class {str(cls)[:40]!r}; known: "
                             f"{sorted(model_classes)}")
    missing = [k for k in ("layers", "input_layers", "output_layers")
               if k not in document["config"]]
    if cls == "Functional" and missing:
        raise ModelFileError(filepath, tr(
            "its Functional config has no {missing}: a functional model's config lists its "
            "layers, input_layers and output_layers", missing=", ".join(map(repr, missing))))
    layers = document["config"].get("layers", [])
    if not isinstance(layers, list) or len(layers) > MAX_LAYERS:
        raise ModelFileError(filepath, f"its model's layers must be a list of at most "
                             f"{MAX_LAYERS} entries")
    archive = _Named(filepath)
    model = _from_file(archive, "model config", model_classes[cls].from_config,
                       document["config"])
    build = document.get("build_config") or {}
    if not model.built and isinstance(build, dict) and build.get("input_shape"):
        _from_file(archive, "build config", model.build, tuple(build["input_shape"]))
    return model


class _Named:
    """What ``saving._from_file`` needs of an archive: its ``error``."""

    def __init__(self, filepath: str):
        self.filepath = filepath

    def error(self, reason: str, prefix: str | None = None) -> ModelFileError:
        return ModelFileError(self.filepath, reason, prefix)


def restore(model: Any, document: dict[str, Any], filepath: str, weights_of: Any,
            optimizer_arrays_of: Any, compile: bool = True) -> None:
    """Compile from the document, read weights and optimizer variables, then assign all at once.

    ``weights_of(model)`` / ``optimizer_arrays_of(layout)`` supply the arrays (from an h5 file
    or a live Keras model); nothing is assigned unless everything was read and checked.
    """
    from tinygrad_es.models.saving import _assign, _from_file

    archive = _Named(filepath)
    weights = _from_file(archive, "weights", weights_of, model) if model.weights else []
    state = None
    compile_config = document.get("compile_config")
    if compile and isinstance(compile_config, dict) and compile_config:
        _from_file(archive, "compile config", model.compile_from_config,
                   compile_from_keras(compile_config, filepath))
        layout = keras_h5.optimizer_layout(model.optimizer, model.trainable_weights)
        if layout is None:
            warnings.warn(f"{filepath!r}: the state of a {type(model.optimizer).__name__} is not "
                          "restored from Keras's format (its variable order is not mapped); "
                          "the optimizer starts fresh. Save under a .npz name to resume "
                          "exactly.", stacklevel=4)
        else:
            arrays = _from_file(archive, "optimizer variables", optimizer_arrays_of, layout)
            if arrays is not None:
                state = keras_h5.optimizer_state_from_variables(filepath, layout, arrays)
    _assign(model, weights, state)


def read_keras(archive: Archive, model_classes: Mapping[str, Any], compile: bool = True) -> Any:
    """The model in an open ``.keras`` archive (``load_model`` calls this on Keras's zip)."""
    filepath = archive.filepath
    for name in ("config.json", _H5):
        if name not in archive.members:
            raise archive.error(f"it is a zip without {name!r}, which a .keras file needs")
    text = archive.read_bytes("config.json", MAX_HEADER_BYTES)
    try:
        document = json.loads(text.decode("utf-8"))
    except (ValueError, RecursionError) as err:
        raise archive.error(f"its config.json is not valid JSON ({type(err).__name__}: "
                            f"{err})") from None
    model = model_from_keras_config(document, filepath, model_classes)
    with keras_h5.H5Weights(archive.read_bytes(_H5), filepath) as h5:
        restore(model, document, filepath, h5.read_model_weights, h5.read_optimizer, compile)
    return model


# ----- live Keras models -----

def _require_keras() -> Any:
    try:
        import keras
    except ImportError:
        raise ImportError(tr("to_keras / from_keras need Keras 3 (pip install tensorflow, "
                             "or pip install keras with a backend)")) from None
    return keras


def to_keras(model: Any) -> Any:
    """A live ``keras.Model`` with this model's architecture, weights and compile config.

    The optimizer starts fresh (its state is not carried over; use ``model.save("m.keras")``
    and ``keras.saving.load_model`` for that). Call it inside ``strategy.scope()`` to create
    the Keras model under a ``tf.distribute`` strategy.

    Example:
        >>> keras_model = model.to_keras()  # doctest: +SKIP
    """
    keras = _require_keras()
    document = keras_config(model)
    compile_config = document.pop("compile_config", None)
    out = keras.saving.deserialize_keras_object(document, safe_mode=True)
    out.set_weights(model.get_weights())
    if compile_config:
        out.compile_from_config(compile_config)
    return out


def from_keras(keras_model: Any, model_classes: Mapping[str, Any]) -> Any:
    """A tinygrad_es model from a live Keras model: its config dicts, weights and optimizer."""
    keras = _require_keras()
    where = f"<keras model {getattr(keras_model, 'name', '?')}>"
    document = keras.saving.serialize_keras_object(keras_model)
    document = json.loads(json.dumps(document, default=_jsonable))
    model = model_from_keras_config(document, where, model_classes)
    opt = getattr(keras_model, "optimizer", None)
    arrays = ([keras.ops.convert_to_numpy(v) for v in opt.variables]
              if opt is not None and getattr(opt, "built", False) else None)
    restore(model, document, where, lambda m: [w for w in keras_model.get_weights()],
            lambda layout: arrays)
    return model


def _jsonable(value: Any) -> Any:
    if hasattr(value, "tolist"):
        return value.tolist()
    if isinstance(value, tuple):
        return list(value)
    raise TypeError(f"cannot convert {value!r} to JSON")

