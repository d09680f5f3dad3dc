"""``keras.preprocessing``: the legacy home of ``sequence.pad_sequences``."""

from tinygrad_es.preprocessing import sequence

__all__ = ["sequence"]
