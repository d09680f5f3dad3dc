"""Models, named as in ``keras.models``: ``Sequential``, ``load_model``, ``save_model``, and
``ModelFileError``, the one error a malformed model file raises."""

import os

from tinygrad_es.models.saving import ModelFileError, read_model, save_model
from tinygrad_es.models.sequential import Sequential

__all__ = ["Sequential", "load_model", "save_model", "ModelFileError"]

MODEL_CLASSES = {"Sequential": Sequential}  # the model classes a saved file may name


def load_model(filepath: str | os.PathLike) -> Sequential:
    """Rebuild a model saved by ``model.save``: architecture, weights, compile state, optimizer.

    Nothing from the file is executed: only known classes are instantiated from their configs.
    Raises :class:`ModelFileError` for any problem with the file's contents, ``OSError`` for the
    file system (a missing file, a directory). See ``models.saving`` for the file format.

    Example:
        >>> model = load_model("model.keras")  # doctest: +SKIP
    """
    return read_model(filepath, MODEL_CLASSES)
