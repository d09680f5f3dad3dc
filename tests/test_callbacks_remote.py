"""RemoteMonitor against Keras's: both post to a server on 127.0.0.1 during the same fit, and the
server sees the same requests (path, content type, decoded payload)."""

from __future__ import annotations

import json
import threading
import urllib.parse
from http.server import BaseHTTPRequestHandler, HTTPServer

import numpy as np
import pytest
from conftest import keras_and_ours

from tinygrad_es import callbacks as C

RNG = np.random.default_rng(11)
X = RNG.standard_normal((12, 3)).astype(np.float32)
Y = (X @ np.array([[1.0], [-2.0], [0.5]], np.float32)).astype(np.float32)


class Recorder(BaseHTTPRequestHandler):
    received: list = []

    def do_POST(self):  # noqa: N802 (http.server's name)
        body = self.rfile.read(int(self.headers["Content-Length"]))
        self.received.append((self.path, self.headers.get_content_type(), body.decode()))
        self.send_response(200)
        self.end_headers()

    def log_message(self, *args):  # keep the test output clean
        pass


@pytest.fixture
def server():
    Recorder.received = []
    httpd = HTTPServer(("127.0.0.1", 0), Recorder)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}", Recorder.received
    httpd.shutdown()
    httpd.server_close()


def _payload(content_type: str, body: str, field: str) -> dict:
    if content_type == "application/json":
        return json.loads(body)
    return json.loads(urllib.parse.parse_qs(body)[field][0])


@pytest.mark.parametrize("send_as_json", [False, True])
def test_remote_monitor_posts_what_keras_posts(keras, server, send_as_json):
    root, received = server
    km, om = keras_and_ours(keras, [(4, "tanh"), (1, None)], 3)
    for model in (km, om):
        model.compile("sgd", "mse", metrics=["mae"])
    kwargs = dict(root=root, path="/events/", field="logs", send_as_json=send_as_json)
    km.fit(X, Y, epochs=2, batch_size=4, shuffle=False, verbose=0,
           callbacks=[keras.callbacks.RemoteMonitor(**kwargs)])
    theirs, received[:] = list(received), []
    om.fit(X, Y, epochs=2, batch_size=4, shuffle=False, verbose=0,
           callbacks=[C.RemoteMonitor(**kwargs)])
    ours = list(received)
    assert [(p, t) for p, t, _ in ours] == [(p, t) for p, t, _ in theirs]
    assert len(ours) == 2 and ours[0][0] == "/events/"
    for (_, kind, ob), (_, _, kb) in zip(ours, theirs):
        o, k = _payload(kind, ob, "logs"), _payload(kind, kb, "logs")
        assert list(o) == list(k) and o["epoch"] == k["epoch"]
        assert all(abs(o[key] - k[key]) <= 1e-6 for key in k if key != "epoch")


def test_an_unreachable_server_warns_and_training_goes_on():
    monitor = C.RemoteMonitor(root="http://127.0.0.1:9")  # discard port: nothing listens
    with pytest.warns(UserWarning, match="Could not reach RemoteMonitor root server"):
        monitor.on_epoch_end(0, {"loss": np.float32(0.5)})
