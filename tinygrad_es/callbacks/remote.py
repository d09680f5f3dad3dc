"""``RemoteMonitor``: every epoch's logs posted to an HTTP server, as Keras's callback does.

Keras's uses the ``requests`` package; this one uses the standard library's ``urllib``, so it needs
nothing installed. The requests are the same: a POST to ``root + path`` whose body is the form
field ``field`` holding the logs as JSON, or with ``send_as_json=True`` the JSON itself.
"""

from __future__ import annotations

import json
import warnings
from typing import Any

import numpy as np

from tinygrad_es.callbacks.callback import Callback
from tinygrad_es.i18n import tr

__all__ = ["RemoteMonitor"]


class RemoteMonitor(Callback):
    """Post ``{"epoch": epoch, **logs}`` to a server at the end of every epoch.

    Args:
        root: the server's root URL.
        path: the path under ``root`` the events are posted to.
        field: the form field that holds the JSON (unused with ``send_as_json``).
        headers: extra HTTP headers, a dict.
        send_as_json: send ``application/json`` instead of a form.

    An unreachable server gives a warning, not an error, so training goes on.

    Example:
        >>> monitor = RemoteMonitor(root="http://127.0.0.1:9000", send_as_json=True)
        >>> monitor.root + monitor.path
        'http://127.0.0.1:9000/publish/epoch/end/'
    """

    def __init__(self, root: str = "http://localhost:9000", path: str = "/publish/epoch/end/",
                 field: str = "data", headers: dict | None = None, send_as_json: bool = False):
        super().__init__()
        self.root, self.path, self.field = root, path, field
        self.headers, self.send_as_json = headers, send_as_json

    def on_epoch_end(self, epoch: int, logs: dict | None = None) -> None:
        import urllib.error  # noqa: PLC0415  (lazily: urllib costs import time for every user)
        import urllib.parse  # noqa: PLC0415
        import urllib.request  # noqa: PLC0415

        send: dict[str, Any] = {"epoch": epoch}
        for key, value in (logs or {}).items():
            send[key] = value.item() if isinstance(value, (np.ndarray, np.generic)) else value
        headers = dict(self.headers or {})
        if self.send_as_json:
            body = json.dumps(send).encode("utf-8")
            headers.setdefault("Content-Type", "application/json")
        else:
            body = urllib.parse.urlencode({self.field: json.dumps(send)}).encode("ascii")
            headers.setdefault("Content-Type", "application/x-www-form-urlencoded")
        request = urllib.request.Request(self.root + self.path, data=body, headers=headers,
                                         method="POST")
        try:
            with urllib.request.urlopen(request, timeout=10) as response:
                response.read()
        except (urllib.error.URLError, OSError, ValueError):
            warnings.warn(tr("Could not reach RemoteMonitor root server at {root}", root=self.root),
                          stacklevel=2)
