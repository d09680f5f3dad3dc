"""``pad_sequences``: lists of different lengths as one rectangular array (Keras's)."""

from __future__ import annotations

from typing import Any, Sequence

import numpy as np

from tinygrad_es.i18n import tr

__all__ = ["pad_sequences"]


def pad_sequences(sequences: Sequence, maxlen: int | None = None, dtype: Any = "int32",
                  padding: str = "pre", truncating: str = "pre", value: Any = 0.0) -> np.ndarray:
    """Pad (or cut) every sequence to ``maxlen`` items, as ``keras.utils.pad_sequences``.

    Args:
        sequences: a list of sequences (lists or arrays; items may be vectors of one shape).
        maxlen: the length of every row; default the longest sequence.
        dtype: of the result (``"int32"`` as Keras; ``object`` for strings of any length).
        padding: ``"pre"`` (fill at the start, Keras's default) or ``"post"``.
        truncating: ``"pre"`` (drop the first items of a long sequence) or ``"post"``.
        value: the fill value.

    Example:
        >>> pad_sequences([[1, 2, 3], [4]], maxlen=2)
        array([[2, 3],
               [0, 4]], dtype=int32)
        >>> pad_sequences([[1], [2, 3]], padding="post", value=-1)
        array([[ 1, -1],
               [ 2,  3]], dtype=int32)
    """
    if not hasattr(sequences, "__len__"):
        raise ValueError(tr("`sequences` must be iterable."))
    lengths, sample_shape = [], ()
    for s in sequences:
        try:
            lengths.append(len(s))
        except TypeError:
            raise ValueError(tr("`sequences` must be a list of iterables. Found non-iterable: "
                                "{value}", value=s)) from None
        if not sample_shape and len(s):
            sample_shape = np.asarray(s).shape[1:]
    if maxlen is None:
        maxlen = max(lengths, default=0)
    is_text = np.issubdtype(np.dtype(dtype), np.str_)
    if isinstance(value, str) and np.dtype(dtype) != object and not is_text:
        raise ValueError(tr("`dtype` {dtype} is not compatible with `value`'s type: {type}\nYou "
                            "should set `dtype=object` for variable length strings.",
                            dtype=dtype, type=type(value)))
    if truncating not in ("pre", "post"):
        raise ValueError(tr('Truncating type "{value}" not understood', value=truncating))
    if padding not in ("pre", "post"):
        raise ValueError(tr('Padding type "{value}" not understood', value=padding))
    out = np.full((len(sequences), maxlen) + sample_shape, value, dtype=dtype)
    for i, s in enumerate(sequences):
        if not len(s) or not maxlen:
            continue
        kept = np.asarray(s[-maxlen:] if truncating == "pre" else s[:maxlen], dtype=dtype)
        if kept.shape[1:] != sample_shape:
            raise ValueError(tr("Shape of sample {shape} of sequence at position {index} is "
                                "different from expected shape {expected}",
                                shape=kept.shape[1:], index=i, expected=sample_shape))
        if padding == "post":
            out[i, :len(kept)] = kept
        else:
            out[i, -len(kept):] = kept
    return out
