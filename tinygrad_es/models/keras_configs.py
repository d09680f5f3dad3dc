"""Our configs in Keras 3's words, as ``config.json`` holds them (``models.keras_format`` writes
the file; reading needs no translation: our ``from_config`` methods take Keras's configs).

Ours already use Keras's keys; the differences are few and all handled here:

- a layer's ``module`` is ``tinygrad_es.layers`` here, ``keras.layers`` there; a model used as a
  layer is ``tinygrad_es.models`` (or ``.layers``, inside a Sequential) here, ``keras``
  (Sequential) or ``keras.src.models.functional`` (Functional, ``registered_name``
  ``"Functional"``) there;
- our ``dtype`` is a string, Keras's a ``DTypePolicy`` dict (an ``InputLayer`` keeps a string);
- Keras has a few fields we do not (``InputLayer``'s ``sparse`` / ``ragged`` / ``optional``,
  the constraints), written at the values we implement;
- the tensor operations of a functional graph (``x + y``, ``x[:, :2]``) are already written as
  Keras writes them (module ``keras.src.ops.numpy``) and are kept as they are.

Example:
    >>> from tinygrad_es import layers, models
    >>> x = layers.Input((2,)); model = models.Model(x, layers.Dense(1)(x) + x)
    >>> [(e["module"], e["class_name"]) for e in keras_config(model)["config"]["layers"]][1:]
    [('keras.layers', 'Dense'), ('keras.src.ops.numpy', 'Add')]
"""

from __future__ import annotations

import json
from typing import Any

from tinygrad_es.i18n import tr
from tinygrad_es.models import keras_h5

__all__ = ["keras_config", "layer_to_keras", "entry_to_keras", "model_to_keras"]

_NO_BUILD_CONFIG = {  # Keras writes no build_config for layers built at creation
    "Activation", "ReLU", "LeakyReLU", "ELU", "Softmax", "Dropout", "Reshape", "MaxPooling1D",
    "MaxPooling2D", "AveragePooling1D", "AveragePooling2D", "GlobalMaxPooling1D",
    "GlobalMaxPooling2D", "GlobalAveragePooling1D", "GlobalAveragePooling2D"}
_CONV = {"kernel_constraint": None, "bias_constraint": None}
_KERAS_DEFAULTS = {  # Keras's config fields we do not have, at the values we implement
    "Dense": {"kernel_constraint": None, "bias_constraint": None, "quantization_config": None},
    "Conv1D": _CONV, "Conv2D": _CONV, "Conv2DTranspose": _CONV,
    "InputLayer": {"sparse": False, "ragged": False, "optional": False}}
_MODELS = ("Sequential", "Functional")


def _policy(dtype: Any) -> Any:
    if isinstance(dtype, str):
        return {"module": "keras", "class_name": "DTypePolicy", "config": {"name": dtype},
                "registered_name": None}
    return dtype


def _kerasify(value: Any, module: str | None = None) -> Any:
    """JSON-able copy with our ``tinygrad_es.x`` modules as ``keras.x`` (``module`` if absent)."""
    if isinstance(value, dict):
        out = {k: _kerasify(v) for k, v in value.items()}
        mod = out.get("module") or module
        if "class_name" in out and "config" in out and mod is not None:  # not a graph node
            if isinstance(mod, str) and mod.startswith("tinygrad_es"):
                mod = "keras" + mod[len("tinygrad_es"):]
            out = {"module": mod, **{k: v for k, v in out.items() if k != "module"}}
            out.setdefault("registered_name", None)
        return out
    if isinstance(value, (list, tuple)):
        return [_kerasify(v) for v in value]
    if hasattr(value, "tolist"):  # numpy scalars
        return value.tolist()
    return value


def layer_to_keras(entry: dict[str, Any]) -> dict[str, Any]:
    """One serialized layer (``layers.serialize``) as Keras writes it."""
    entry = _kerasify(entry)
    cls, config = entry["class_name"], dict(entry["config"])
    if cls in keras_h5.AS_ACTIVATION:
        config = {**config, "activation": keras_h5.AS_ACTIVATION[cls]}
        cls = "Activation"
    if cls != "InputLayer":
        config["dtype"] = _policy(config.get("dtype"))
    config.update({k: v for k, v in _KERAS_DEFAULTS.get(cls, {}).items() if k not in config})
    for key in ("kernel_regularizer", "bias_regularizer", "kernel_initializer",
                "bias_initializer", "alpha_initializer", "alpha_regularizer",
                "activity_regularizer", "embeddings_regularizer"):
        if isinstance(config.get(key), dict):
            config[key] = _kerasify(config[key], f"keras.{key.split('_')[1]}s")
    out = {**entry, "module": "keras.layers", "class_name": cls, "config": config}
    if cls in _NO_BUILD_CONFIG:
        out.pop("build_config", None)
    return out


def model_to_keras(cls: str, config: dict[str, Any]) -> dict[str, Any]:
    """A Sequential's or Functional's ``get_config()`` as Keras's document of that model."""
    config = dict(config)
    if "dtype" in config:  # Keras's Functional config has no dtype; its Sequential's has one
        config["dtype"] = _policy(config["dtype"])
    config["layers"] = [entry_to_keras(e) for e in config.get("layers", [])]
    functional = cls == "Functional"  # Keras registers its Functional class under that name
    return {"module": "keras.src.models.functional" if functional else "keras",
            "class_name": cls, "config": config,
            "registered_name": "Functional" if functional else None}


def entry_to_keras(entry: dict[str, Any]) -> dict[str, Any]:
    """One entry of a model's ``layers`` (a layer, a nested model or a tensor operation) as
    Keras writes it; a functional entry keeps its ``name`` and ``inbound_nodes``."""
    module = str(entry.get("module") or "")
    if module.startswith("keras.src.ops"):  # a tensor operation: already in Keras's words
        return _kerasify(entry)
    # a model used as a layer (module tinygrad_es.models in a functional graph, and
    # tinygrad_es.layers in a Sequential's list, which serializes its entries as layers)
    if entry.get("class_name") in _MODELS and module.startswith("tinygrad_es"):
        out = model_to_keras(entry["class_name"], entry["config"])
        graph = {k: _kerasify(entry[k]) for k in ("name", "inbound_nodes") if k in entry}
        return {**out, **graph}
    return layer_to_keras(entry)


def _optimizer_to_keras(spec: dict[str, Any]) -> dict[str, Any]:
    """An optimizer's dict with Keras's modules: its schedule's and a wrapper's inner one's too."""
    out = _kerasify(spec, "keras.optimizers")
    config = out["config"]
    if isinstance(config.get("learning_rate"), dict):
        config["learning_rate"] = _kerasify(config["learning_rate"], "keras.optimizers.schedules")
    if isinstance(config.get("inner_optimizer"), dict):
        config["inner_optimizer"] = _optimizer_to_keras(config["inner_optimizer"])
    return out


def _compile_to_keras(model: Any) -> dict[str, Any] | None:
    if not getattr(model, "compiled", False):
        return None
    ours = model.get_compile_config()

    def arg(value: Any) -> Any:
        if isinstance(value, list):
            return [arg(v) for v in value]
        if isinstance(value, dict) and value.get("kind") in ("loss", "metric"):
            module = "keras.losses" if value["kind"] == "loss" else "keras.metrics"
            return _kerasify(value["value"], module)
        return value

    optimizer = _optimizer_to_keras(ours["optimizer"])
    out = {"optimizer": optimizer, **{k: arg(v) for k, v in ours.items() if k != "optimizer"}}
    return {**out, "run_eagerly": False, "steps_per_execution": 1, "jit_compile": False}


def keras_config(model: Any) -> dict[str, Any]:
    """``config.json``'s document: the model (and its compile config) in Keras's layout.

    ``model.get_config()`` with every entry translated: a Sequential's, or a functional model's
    in Keras's functional layout (whose graph keys are kept as they are). A subclassed model
    is a ValueError: its Python code cannot be written into a file.

    Example:
        >>> from tinygrad_es import layers, models
        >>> model = models.Sequential([layers.Input((2,)), layers.Dense(1)])
        >>> keras_config(model)["config"]["layers"][1]["module"]
        'keras.layers'
    """
    from tinygrad_es.models.functional import Functional
    from tinygrad_es.models.sequential import Sequential

    if isinstance(model, Sequential):
        cls = "Sequential"
    elif isinstance(model, Functional):
        cls = "Functional"
    else:
        raise ValueError(tr("a .keras file holds Sequential and functional models; "
                            "{cls} is a subclassed model, whose Python code a .keras file cannot "
                            "hold: save it under another name (our npz) or use save_weights",
                            cls=type(model).__name__))
    out = model_to_keras(cls, model.get_config())
    if cls == "Functional":  # built by its construction: Keras writes no shape to build it
        out["build_config"] = {"input_shape": None}
    elif model.built and getattr(model, "input_shape", None) is not None:
        out["build_config"] = {"input_shape": list(model.input_shape)}
    compile_config = _compile_to_keras(model)
    if compile_config is not None:
        out["compile_config"] = compile_config
    return json.loads(json.dumps(out))  # plain lists and numbers, as the file will hold
