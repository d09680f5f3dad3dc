"""Callbacks: code that ``fit``/``evaluate``/``predict`` run at fixed points, with Keras's names.

The order inside ``fit`` (keras-semantics §6)::

    on_train_begin
      on_epoch_begin(epoch)
        on_train_batch_begin(b), on_train_batch_end(b, logs)     for each batch
        on_test_begin, on_test_batch_begin/end(b)..., on_test_end (when validating)
      on_epoch_end(epoch, logs)
    on_train_end

User callbacks run in list order, then ``History``, then ``ProgbarLogger``. Batch logs are running
means since the epoch began; epoch logs are the epoch's values plus ``val_*``. Set
``model.stop_training = True`` to end ``fit`` after the current batch (epoch callbacks still run).
"""

from tinygrad_es.callbacks.backup import BackupAndRestore
from tinygrad_es.callbacks.callback import Callback, CallbackList, History, ProgbarLogger
from tinygrad_es.callbacks.ema import SwapEMAWeights
from tinygrad_es.callbacks.extras import (CSVLogger, LambdaCallback, LearningRateScheduler,
                                          TerminateOnNaN)
from tinygrad_es.callbacks.gradients import GradientMonitor, WeightPath
from tinygrad_es.callbacks.monitors import EarlyStopping, ModelCheckpoint, ReduceLROnPlateau
from tinygrad_es.callbacks.remote import RemoteMonitor

__all__ = [
    "Callback", "CallbackList", "History", "ProgbarLogger", "EarlyStopping", "ReduceLROnPlateau",
    "ModelCheckpoint", "LearningRateScheduler", "TerminateOnNaN", "CSVLogger", "LambdaCallback",
    "BackupAndRestore", "SwapEMAWeights", "RemoteMonitor", "GradientMonitor", "WeightPath",
]
