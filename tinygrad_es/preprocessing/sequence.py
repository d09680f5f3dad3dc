"""``keras.preprocessing.sequence``: ``pad_sequences`` (the same function as in ``utils``)."""

from tinygrad_es.utils.sequence_utils import pad_sequences

__all__ = ["pad_sequences"]
