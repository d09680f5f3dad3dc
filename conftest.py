"""The package's docstring examples run in the suite (``--doctest-modules``), each from the same
clean state as a test: float32, English, gradients recorded, default names and numpy print options, the
global random stream seeded, and a scratch folder as the working directory for any file written.
"""

from __future__ import annotations

import os

os.environ.setdefault("MPLBACKEND", "Agg")

import numpy as np
import pytest


@pytest.fixture(autouse=True)
def _docstring_example_state(request, tmp_path, monkeypatch):
    if not isinstance(request.node, pytest.DoctestItem):
        yield
        return
    from tinygrad_es import autograd, config, i18n, random, utils

    monkeypatch.chdir(tmp_path)
    utils.clear_session()
    random.seed(0)
    printing = np.get_printoptions()
    yield
    np.set_printoptions(**printing)
    i18n.set_language("en")
    config.set_floatx("float32")
    autograd._grad_enabled = True
