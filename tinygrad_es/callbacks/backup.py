"""``BackupAndRestore``: resume a ``fit`` that was interrupted, from the last backup on disk.

Each backup is one ``save_weights`` file (weights and optimizer state, written to a temporary file
and renamed, see ``models/saving.py``) whose name holds its number and the training position::

    backup_dir/backup-000007-epoch-3-batch-0.weights.npz    # 7th backup: 3 epochs done

A new backup never overwrites the previous one: it is written under its own name first, and only
then are older backups removed (all but the previous one with ``double_checkpoint=True``). So
the directory always holds a complete backup, whenever the process is killed. At the next
``fit`` the newest backup that loads is restored and the epoch loop starts at its epoch.
"""

from __future__ import annotations

import os
import re
import shutil

from tinygrad_es.callbacks.callback import Callback
from tinygrad_es.i18n import tr

_NAME = "backup-{number:06d}-epoch-{epoch}-batch-{batch}.weights.npz"
_PATTERN = re.compile(r"^backup-(\d+)-epoch-(\d+)-batch-(\d+)\.weights\.npz$")


class BackupAndRestore(Callback):
    """Back up the training state during ``fit``; a later ``fit`` resumes from the last backup.

    As in Keras, a resumed ``fit`` starts at the first epoch the backup had not finished (an
    interrupted epoch is run again from its first batch, on the weights of the backup), so
    ``history.epoch`` of the resumed run is ``[k, ..., epochs - 1]``. Weights, optimizer state
    (slots, ``iterations``, learning rate) are restored exactly; the data order of a shuffled
    ``fit`` is not part of the backup (nor is it in Keras).

    Args:
        backup_dir: Directory for the backups; use it for nothing else.
        save_freq: ``"epoch"`` (back up at each epoch end) or an integer: every that many batches.
        double_checkpoint: Keep the previous backup too, and fall back to it when the newest one
            cannot be read.
        delete_checkpoint: Remove ``backup_dir`` when ``fit`` ends normally.

    Example:
        >>> cb = BackupAndRestore(backup_dir="/tmp/backup")
        >>> model.fit(x, y, epochs=10, callbacks=[cb])   # doctest: +SKIP
    """

    def __init__(self, backup_dir: str | os.PathLike, save_freq: str | int = "epoch",
                 double_checkpoint: bool = False, delete_checkpoint: bool = True):
        super().__init__()
        if not backup_dir:
            raise ValueError(tr("BackupAndRestore needs a backup_dir, received {backup_dir!r}",
                                backup_dir=backup_dir))
        if save_freq != "epoch" and (isinstance(save_freq, bool) or not isinstance(save_freq, int)
                                     or save_freq < 1):
            raise ValueError(tr("Invalid value for argument `save_freq` of BackupAndRestore. "
                                "Received: save_freq={save_freq!r}. Expected either 'epoch' or "
                                "a positive integer.", save_freq=save_freq))
        self.backup_dir = os.fspath(backup_dir)
        self.save_freq = save_freq
        self.double_checkpoint = double_checkpoint
        self.delete_checkpoint = delete_checkpoint
        self._current_epoch = 0       # epochs finished: where a backup made now resumes
        self._last_batch_seen = 0
        self._batches_since_save = 0

    # ----- restore -----

    def on_train_begin(self, logs=None):
        if not self.model.built:
            raise ValueError(tr("To use the BackupAndRestore callback, the model must be built "
                                "before fit() is called. Model {name!r} is not built: call it "
                                "on a batch of data or call model.build(...) first.",
                                name=self.model.name))
        backups = self._backups()
        if not backups:
            return
        tried = backups[:2] if self.double_checkpoint else backups[:1]
        for i, (_, epoch, path) in enumerate(tried):
            try:
                self.model.load_weights(path)
            except (OSError, ValueError):
                if i == len(tried) - 1:
                    raise
                continue  # the newest backup is damaged: the previous one
            self._current_epoch = epoch
            # NOTE: Keras's model._initial_epoch, read by fit() after on_train_begin.
            self.model._initial_epoch = epoch
            return

    def _backups(self) -> list[tuple[int, int, str]]:
        """(number, epoch, path) of every backup in ``backup_dir``, newest first."""
        if not os.path.isdir(self.backup_dir):
            return []
        found = []
        for name in os.listdir(self.backup_dir):
            match = _PATTERN.match(name)
            if match:
                found.append((int(match[1]), int(match[2]), os.path.join(self.backup_dir, name)))
        return sorted(found, reverse=True)

    # ----- back up -----

    def on_epoch_begin(self, epoch, logs=None):
        self._current_epoch = epoch

    def on_train_batch_end(self, batch, logs=None):
        if self.save_freq == "epoch":
            return
        # Keras's count of batches since the last backup (a smaller index means a new epoch).
        if batch <= self._last_batch_seen:
            self._batches_since_save += batch + 1
        else:
            self._batches_since_save += batch - self._last_batch_seen
        self._last_batch_seen = batch
        if self._batches_since_save >= self.save_freq:
            self._batches_since_save = 0
            self._save()

    def on_epoch_end(self, epoch, logs=None):
        self._current_epoch, self._last_batch_seen = epoch + 1, 0
        if self.save_freq == "epoch":
            self._save()

    def _save(self) -> None:
        os.makedirs(self.backup_dir, exist_ok=True)
        backups = self._backups()
        number = backups[0][0] + 1 if backups else 1
        name = _NAME.format(number=number, epoch=self._current_epoch, batch=self._last_batch_seen)
        path = os.path.join(self.backup_dir, name)
        try:
            self.model.save_weights(path)  # a temp file renamed onto `path`: complete or absent
        except BaseException:
            if os.path.exists(path):   # whatever a failed writer left under the new name
                os.remove(path)
            raise
        keep = 2 if self.double_checkpoint else 1
        for _, _, old in self._backups()[keep:]:  # only once the new backup is in place
            os.remove(old)

    def on_train_end(self, logs=None):
        if self.delete_checkpoint and os.path.isdir(self.backup_dir):
            shutil.rmtree(self.backup_dir)
