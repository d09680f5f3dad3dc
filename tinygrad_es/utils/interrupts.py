"""Ctrl-C between steps, never inside one: :class:`defer_sigint` holds SIGINT back for a block.

``fit`` runs each optimizer update inside ``with defer_sigint():``. A Ctrl-C that arrives during
the update is remembered and delivered the moment the update is complete, so the weights, the
optimizer's slots and ``iterations`` always describe the same step; ``fit`` then raises
``KeyboardInterrupt`` as Keras's does, with the model at a step boundary. A Ctrl-C anywhere else
(forward, backward, callbacks) interrupts at once, before the step's update has begun.
"""

from __future__ import annotations

import signal
import threading
from typing import Any

try:  # the public functions wrap these in enum conversions costing ~4 us a call, every step
    from _signal import getsignal as _getsignal, signal as _setsignal
except ImportError:  # not CPython
    _getsignal, _setsignal = signal.getsignal, signal.signal

__all__ = ["defer_sigint"]


class defer_sigint:  # noqa: N801 (a context manager, named like contextlib's)
    """Defer SIGINT until the end of the ``with`` block, then deliver it to the previous handler.

    Only the main thread receives Python's signals, so elsewhere (and when the current handler
    was installed outside Python and cannot be restored) the block runs unchanged. The previous
    handler is always put back; a SIGINT received inside the block is raised again with
    ``signal.raise_signal`` once it is, so the default handler raises ``KeyboardInterrupt``
    right after the block, and a custom or ignoring handler behaves as it would have.

    Example:
        >>> import signal
        >>> with defer_sigint():
        ...     pass
        >>> signal.getsignal(signal.SIGINT) is signal.default_int_handler
        True
    """

    __slots__ = ("_previous", "_received")

    def __init__(self) -> None:
        self._previous: Any = None
        self._received = False

    def __enter__(self) -> defer_sigint:
        self._previous, self._received = None, False
        if threading.current_thread() is not threading.main_thread():
            return self
        previous = _getsignal(signal.SIGINT)
        if previous is None:  # set from C: it could not be restored
            return self
        _setsignal(signal.SIGINT, self._hold)
        self._previous = previous
        return self

    def _hold(self, signum: int, frame: Any) -> None:
        self._received = True

    def __exit__(self, *exc_info: Any) -> None:
        previous = self._previous
        if previous is None:
            return
        self._previous = None
        _setsignal(signal.SIGINT, previous)
        if self._received:
            self._received = False
            signal.raise_signal(signal.SIGINT)
