"""Models, named as in ``keras.models``: ``Model`` (functional or subclassed), ``Sequential``,
``load_model``, ``save_model``, and ``ModelFileError``, the one error a malformed model file
raises."""

import os

from tinygrad_es.models.saving import ModelFileError, read_model, save_model
from tinygrad_es.models.model import Model
from tinygrad_es.models.functional import Functional
from tinygrad_es.models.sequential import Sequential

__all__ = ["Model", "Functional", "Sequential", "load_model", "save_model", "ModelFileError"]

# The model classes a saved file may name (nothing else is instantiated from a file).
MODEL_CLASSES = {"Sequential": Sequential, "Functional": Functional}


def load_model(filepath: str | os.PathLike) -> Model:
    """Rebuild a model saved by ``model.save``: architecture, weights, compile state, optimizer.

    Nothing from the file is executed: only known classes are instantiated from their configs.
    Raises :class:`ModelFileError` for any problem with the file's contents, ``OSError`` for the
    file system (a missing file, a directory). See ``models.saving`` for the file format.

    Example:
        >>> model = load_model("model.keras")  # doctest: +SKIP
    """
    return read_model(filepath, MODEL_CLASSES)
