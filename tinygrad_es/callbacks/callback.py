"""The ``Callback`` base class, ``CallbackList`` that calls them, and the two ``fit`` always adds.

``History`` records the epoch logs and ``ProgbarLogger`` prints the progress bar; ``CallbackList``
puts them after the user's callbacks (see the package docstring for the order of the hooks).
"""

from __future__ import annotations

from typing import Any

from tinygrad_es.i18n import tr
from tinygrad_es.utils.progbar import Progbar

_HOOKS = ("on_train_begin", "on_train_end", "on_epoch_begin", "on_epoch_end",
          "on_train_batch_begin", "on_train_batch_end", "on_test_begin", "on_test_end",
          "on_test_batch_begin", "on_test_batch_end", "on_predict_begin", "on_predict_end",
          "on_predict_batch_begin", "on_predict_batch_end", "on_batch_begin", "on_batch_end")


class Callback:
    """Base class: override the hooks you need; every hook does nothing by default.

    ``self.model`` is the model being trained, ``self.params`` is ``{"verbose", "epochs",
    "steps"}``. ``on_train_batch_begin/end`` forward to the legacy ``on_batch_begin/end``.

    Example:
        >>> class PrintLoss(Callback):
        ...     def on_epoch_end(self, epoch, logs=None):
        ...         print(epoch, logs["loss"])
    """

    def __init__(self):
        self.params: dict | None = None
        self._model = None

    def set_params(self, params: dict) -> None:
        self.params = params

    def set_model(self, model: Any) -> None:
        self._model = model

    @property
    def model(self) -> Any:
        return self._model

    @model.setter
    def model(self, model: Any) -> None:
        self._model = model

    def on_batch_begin(self, batch, logs=None): pass
    def on_batch_end(self, batch, logs=None): pass
    def on_epoch_begin(self, epoch, logs=None): pass
    def on_epoch_end(self, epoch, logs=None): pass
    def on_train_batch_begin(self, batch, logs=None): self.on_batch_begin(batch, logs=logs)
    def on_train_batch_end(self, batch, logs=None): self.on_batch_end(batch, logs=logs)
    def on_test_batch_begin(self, batch, logs=None): pass
    def on_test_batch_end(self, batch, logs=None): pass
    def on_predict_batch_begin(self, batch, logs=None): pass
    def on_predict_batch_end(self, batch, logs=None): pass
    def on_train_begin(self, logs=None): pass
    def on_train_end(self, logs=None): pass
    def on_test_begin(self, logs=None): pass
    def on_test_end(self, logs=None): pass
    def on_predict_begin(self, logs=None): pass
    def on_predict_end(self, logs=None): pass


def _overrides(callback: Callback, hook: str) -> bool:
    """True if ``callback`` does something in ``hook`` (its class or instance replaced it)."""
    fn = getattr(callback, hook)
    if getattr(fn, "__func__", fn) is not getattr(Callback, hook):
        return True
    legacy = {"on_train_batch_begin": "on_batch_begin", "on_train_batch_end": "on_batch_end"}
    return hook in legacy and _overrides(callback, legacy[hook])


class CallbackList(Callback):
    """Calls every hook on each callback in order; adds ``History`` and ``ProgbarLogger`` last.

    Only callbacks that override a hook are called for it, so the no-op hooks of the defaults
    cost nothing per batch. ``wants(hook)`` says whether any callback overrides ``hook``, so
    ``fit`` computes batch logs only when someone reads them.

    Example:
        >>> from tinygrad_es.callbacks import EarlyStopping
        >>> cbs = CallbackList([EarlyStopping(monitor="loss")], add_history=True)
        >>> [type(c).__name__ for c in cbs.callbacks]
        ['EarlyStopping', 'History']
    """

    def __init__(self, callbacks=None, add_history: bool = False, add_progbar: bool = False,
                 model: Any = None, **params):
        super().__init__()
        self.callbacks = list(callbacks or [])
        for cb in self.callbacks:
            if not isinstance(cb, Callback):
                raise TypeError(tr("callbacks must be Callback instances, received {cb!r} of "
                                   "type {cls}", cb=cb, cls=type(cb).__name__))
        self._history = next((c for c in self.callbacks if isinstance(c, History)), None)
        if self._history is None and add_history:
            self._history = History()
            self.callbacks.append(self._history)
        if add_progbar and not any(isinstance(c, ProgbarLogger) for c in self.callbacks):
            self.callbacks.append(ProgbarLogger())
        self._active = {h: [getattr(c, h) for c in self.callbacks if _overrides(c, h)]
                        for h in _HOOKS}
        self.set_model(model)
        self.set_params(params)

    def set_params(self, params: dict) -> None:
        self.params = params
        if params:
            for cb in self.callbacks:
                cb.set_params(params)

    def set_model(self, model: Any) -> None:
        if model is None:
            return
        super().set_model(model)
        if self._history is not None:
            model.history = self._history
        for cb in self.callbacks:
            cb.set_model(model)

    def wants(self, hook: str) -> bool:
        """True if some callback does something in ``hook``."""
        return bool(self._active[hook])

    def _call(self, hook: str, *args) -> None:
        for fn in self._active[hook]:
            fn(*args)

    # Keras hands each hook a sorted copy of the logs (shared by the callbacks of that call),
    # so keys a callback adds (learning_rate) reach the callbacks after it, e.g. History.
    def on_train_begin(self, logs=None): self._call("on_train_begin", _sorted(logs))
    def on_train_end(self, logs=None): self._call("on_train_end", _sorted(logs))
    def on_epoch_begin(self, epoch, logs=None): self._call("on_epoch_begin", epoch, _sorted(logs))
    def on_epoch_end(self, epoch, logs=None): self._call("on_epoch_end", epoch, _sorted(logs))
    def on_test_begin(self, logs=None): self._call("on_test_begin", _sorted(logs))
    def on_test_end(self, logs=None): self._call("on_test_end", _sorted(logs))
    def on_predict_begin(self, logs=None): self._call("on_predict_begin", _sorted(logs))
    def on_predict_end(self, logs=None): self._call("on_predict_end", _sorted(logs))
    # Batch hooks get ``logs=`` by keyword, as Keras calls them.
    def on_batch_begin(self, batch, logs=None): self._call_batch("on_batch_begin", batch, logs)
    def on_batch_end(self, batch, logs=None): self._call_batch("on_batch_end", batch, logs)

    def on_train_batch_begin(self, batch, logs=None):
        for fn in self._active["on_train_batch_begin"]:
            fn(batch, logs=logs if logs is not None else {})

    def on_train_batch_end(self, batch, logs=None):
        for fn in self._active["on_train_batch_end"]:
            fn(batch, logs=logs if logs is not None else {})

    def on_test_batch_begin(self, batch, logs=None):
        self._call_batch("on_test_batch_begin", batch, logs)

    def on_test_batch_end(self, batch, logs=None):
        self._call_batch("on_test_batch_end", batch, logs)

    def on_predict_batch_begin(self, batch, logs=None):
        self._call_batch("on_predict_batch_begin", batch, logs)

    def on_predict_batch_end(self, batch, logs=None):
        self._call_batch("on_predict_batch_end", batch, logs)

    def _call_batch(self, hook: str, batch: int, logs: dict | None) -> None:
        for fn in self._active[hook]:
            fn(batch, logs=logs if logs is not None else {})


def _sorted(logs: dict | None) -> dict:
    # Keras's pythonify_logs: keys sorted, a dict value (a custom train_step's
    # {"compile_metrics": {...}}) replaced by its own entries, sorted, in its place
    out: dict = {}
    for key, value in sorted(logs.items()) if logs else ():
        if isinstance(value, dict):
            out.update(_sorted(value))
        else:
            out[key] = value
    return out


# ----- always present -----

class History(Callback):
    """Records the epoch logs: ``history.history`` (dict of lists), ``epoch``, ``params``.

    ``fit`` adds one automatically and returns it (also as ``model.history``).

    Example:
        >>> h = model.fit(x, y, epochs=3, verbose=0)   # doctest: +SKIP
        >>> list(h.history)                             # doctest: +SKIP
        ['loss']
    """

    def __init__(self):
        super().__init__()
        self.history: dict[str, list] = {}
        self.epoch: list[int] = []

    def on_train_begin(self, logs=None):
        self.epoch = []

    def on_epoch_end(self, epoch, logs=None):
        self.epoch.append(epoch)
        for k, v in (logs or {}).items():
            self.history.setdefault(k, []).append(v)
        self.model.history = self


class ProgbarLogger(Callback):
    """Prints the Keras progress bar (``verbose`` 1) or one line per epoch (``verbose`` 2).

    ``fit`` adds it when ``verbose != 0``; ``"Epoch k/E"`` is printed only when ``E > 1``.
    """

    def __init__(self):
        super().__init__()
        self.seen = 0
        self.progbar: Progbar | None = None
        self.target = None
        self.verbose = 1
        self.epochs = 1
        self._called_in_fit = False

    def set_params(self, params):
        verbose = params["verbose"]
        self.verbose = 1 if verbose == "auto" else int(verbose)
        self.epochs = params["epochs"]
        self.target = params["steps"]

    def on_train_begin(self, logs=None):
        self._called_in_fit = True

    def on_test_begin(self, logs=None):
        if not self._called_in_fit:
            self._reset_progbar()

    def on_predict_begin(self, logs=None):
        self._reset_progbar()

    def on_epoch_begin(self, epoch, logs=None):
        self._reset_progbar()
        if self.verbose and self.epochs > 1:
            print(tr("Epoch {k}/{n}", k=epoch + 1, n=self.epochs), flush=True)

    def on_train_batch_end(self, batch, logs=None):
        self._update_progbar(batch, logs)

    def on_test_batch_end(self, batch, logs=None):
        if not self._called_in_fit:
            self._update_progbar(batch, logs)

    def on_predict_batch_end(self, batch, logs=None):
        self._update_progbar(batch, None)

    def on_epoch_end(self, epoch, logs=None):
        self._finalize_progbar(logs)

    def on_test_end(self, logs=None):
        if not self._called_in_fit:
            self._finalize_progbar(logs)

    def on_predict_end(self, logs=None):
        self._finalize_progbar(logs)

    def _reset_progbar(self):
        self.seen = 0
        self.progbar = Progbar(target=self.target, verbose=self.verbose, unit_name="step",
                               stateless_metrics=set())

    def _update_progbar(self, batch, logs):
        self.seen = batch + 1
        if self.verbose == 1:
            self.progbar.update(self.seen, list((logs or {}).items()), finalize=False)

    def _finalize_progbar(self, logs):
        if self.target is None:
            self.target = self.progbar.target = self.seen
        self.progbar.update(self.target, list((logs or {}).items()), finalize=True)

