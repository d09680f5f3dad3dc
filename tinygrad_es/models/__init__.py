"""Models, named as in ``keras.models``: ``Sequential``, ``load_model``, ``save_model``, and
``ModelFileError``, the one error a malformed model file raises."""

from tinygrad_es.models.saving import ModelFileError, load_model, save_model
from tinygrad_es.models.sequential import Sequential

__all__ = ["Sequential", "load_model", "save_model", "ModelFileError"]
