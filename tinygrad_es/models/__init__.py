"""Models, named as in ``keras.models``: ``Model`` (functional or subclassed), ``Sequential``,
``load_model``, ``save_model``, and ``ModelFileError``, the one error a malformed model file
raises."""

import os
from typing import Any

from tinygrad_es.i18n import tr
from tinygrad_es.models.saving import ModelFileError, read_model, save_model
from tinygrad_es.models.model import Model
from tinygrad_es.models.functional import Functional
from tinygrad_es.models.sequential import Sequential

__all__ = ["Model", "Functional", "Sequential", "load_model", "save_model", "ModelFileError",
           "from_keras", "clone_model"]

# The model classes a saved file may name (nothing else is instantiated from a file).
MODEL_CLASSES = {"Sequential": Sequential, "Functional": Functional}


def load_model(filepath: str | os.PathLike, custom_objects: Any = None, compile: bool = True,
               safe_mode: bool = True) -> Model:
    """Rebuild a model saved by ``model.save``: architecture, weights, compile state, optimizer.

    Reads our npz and Keras 3's ``.keras`` zip (written by Keras or by us), told apart by
    their content. Nothing from the file is executed: only known classes are instantiated from
    their configs, so loading is always in Keras's safe mode (``safe_mode=False`` changes
    nothing) and ``custom_objects`` cannot be given. ``compile=False`` returns the model
    uncompiled, as in Keras. Raises :class:`ModelFileError` for any problem with the file's
    contents, ``OSError`` for the file system (a missing file, a directory). See
    ``models.saving`` for the file formats.

    Example:
        >>> model = load_model("model.keras")  # doctest: +SKIP
    """
    if custom_objects:
        raise ValueError(tr("load_model: custom_objects are not supported (tinygrad_es only "
                            "loads its own classes, never code); received {names}",
                            names=sorted(custom_objects)[:10] if isinstance(custom_objects, dict)
                            else type(custom_objects).__name__))
    return read_model(filepath, MODEL_CLASSES, compile=bool(compile))


def from_keras(keras_model: Any) -> Model:
    """The reverse of ``model.to_keras()``: a live Keras model as a tinygrad_es model.

    Through the config dicts, in safe mode (only layers we have); weights, compile config and
    the optimizer's state come along.

    Example:
        >>> model = from_keras(keras_model)  # doctest: +SKIP
    """
    from tinygrad_es.models.keras_format import from_keras as convert

    return convert(keras_model, MODEL_CLASSES)


def clone_model(model: Model, input_tensors: Any = None, clone_function: Any = None,
                **kwargs: Any) -> Model:
    """A new model with ``model``'s architecture and new weights, as Keras's ``clone_model``: each
    layer rebuilt from its config (the same names; weights initialized afresh, not copied), or, for
    a Sequential, by ``clone_function(layer)``. Another model class is rebuilt with its own
    ``from_config(get_config())``.

    Example:
        >>> from tinygrad_es import Input, layers
        >>> model = Sequential([Input((3,)), layers.Dense(2, name="out")])
        >>> twin = clone_model(model); twin.layers[0].name, twin.layers[0] is model.layers[0]
        ('out', False)
    """
    from tinygrad_es.layers import InputLayer

    if input_tensors is not None or kwargs or (
            clone_function is not None and type(model) is not Sequential):
        raise ValueError(tr("clone_model: tinygrad_es clones a model from its config, and takes "
                            "`clone_function` for a Sequential model only; received "
                            "input_tensors={inputs!r}, clone_function={fn!r}, other arguments "
                            "{names}", inputs=input_tensors, fn=clone_function,
                            names=sorted(kwargs)))
    if clone_function is None:
        return type(model).from_config(model.get_config())
    inputs = [InputLayer(batch_shape=layer.batch_shape, dtype=layer.dtype)
              for layer in model._layers if layer not in model._stack]
    return Sequential(inputs + [clone_function(layer) for layer in model._stack],
                      name=model.name)
