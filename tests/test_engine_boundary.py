"""The engine's boundary: outside tensor.py, autograd.py and functions.py, only public API is used.

STYLE.md: layers, losses, metrics, optimizers, viz (everything but the engine) call public
``Tensor``/``Function`` API: ``Tensor.from_numpy`` (no-copy constructor), ``grad_fn``/``parents``/
``op`` (the graph, read-only), ``with_logits``/``logits`` (a sigmoid/softmax output's logits). The
scan below reads every module's syntax tree and fails on any use of a private engine name.
"""

from __future__ import annotations

import ast
from pathlib import Path

import numpy as np
import pytest

from tinygrad_es import activations, autograd, functions, tensor
from tinygrad_es.autograd import Function, no_grad
from tinygrad_es.tensor import Tensor

PACKAGE = Path(tensor.__file__).parent
ENGINE = {"tensor.py", "autograd.py", "functions.py"}
ENGINE_MODULES = {"tinygrad_es.tensor", "tinygrad_es.autograd", "tinygrad_es.functions"}


def _private_names(*classes: type) -> set[str]:
    """``_x`` names (not dunders) that the classes or their subclasses in the engine define."""
    names: set[str] = set()
    for cls in classes:
        for klass in (cls, *cls.__subclasses__()):
            if klass.__module__ in ENGINE_MODULES:
                names |= {n for n in (*vars(klass), *getattr(klass, "__slots__", ()))
                          if n.startswith("_") and not n.startswith("__")}
    return names


# Private Tensor/Function attributes (``_make``, ``_ctx``, ``_logits``, ...), and ``saved_tensors``,
# which only a Function reads on itself (``self.saved_tensors`` in a custom op's backward).
PRIVATE_ATTRIBUTES = _private_names(Tensor, Function)
SELF_ONLY = {"saved_tensors"}


def _violations(path: Path, root: Path = PACKAGE.parent) -> list[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    engine_aliases = set()  # local names bound to an engine module (``autograd``, ``F``)
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module in ENGINE_MODULES:
            found += [(node.lineno, f"imports private {node.module}.{a.name}")
                      for a in node.names if a.name.startswith("_")]
        if isinstance(node, ast.ImportFrom) and node.module == "tinygrad_es":
            engine_aliases |= {a.asname or a.name for a in node.names
                               if f"tinygrad_es.{a.name}" in ENGINE_MODULES}
        if isinstance(node, ast.Import):
            engine_aliases |= {a.asname for a in node.names
                               if a.name in ENGINE_MODULES and a.asname}
    for node in ast.walk(tree):
        if not isinstance(node, ast.Attribute):
            continue
        owner = node.value.id if isinstance(node.value, ast.Name) else None
        if node.attr in PRIVATE_ATTRIBUTES:
            found.append((node.lineno, f".{node.attr}"))
        elif node.attr in SELF_ONLY and owner != "self":
            found.append((node.lineno, f".{node.attr} of {owner or 'an expression'}"))
        elif owner in engine_aliases and node.attr.startswith("_"):
            found.append((node.lineno, f"{owner}.{node.attr}"))
    return [f"{path.relative_to(root)}:{line}: {what}" for line, what in sorted(found)]


def test_the_scan_knows_the_private_names():
    # the names the scan looks for are the engine's own (read from the classes, not typed here)
    assert {"_make", "_ctx", "_logits"} <= PRIVATE_ATTRIBUTES
    assert not PRIVATE_ATTRIBUTES & {"data", "grad", "requires_grad", "name", "parents"}


def test_the_scan_catches_private_use(tmp_path):
    probe = tmp_path / "probe.py"
    probe.write_text("from tinygrad_es.tensor import Tensor, _apply\n"
                     "from tinygrad_es import autograd as ag\n"
                     "t = Tensor._make(None, None, False)\n"
                     "f = t._ctx; f.saved_tensors; ag._grad_enabled\n"
                     "t._logits = t\n"
                     "class Op:\n    def backward(self, g):\n        return self.saved_tensors\n")
    assert _violations(probe, root=tmp_path) == [
        "probe.py:1: imports private tinygrad_es.tensor._apply", "probe.py:3: ._make",
        "probe.py:4: ._ctx", "probe.py:4: .saved_tensors of f", "probe.py:4: ag._grad_enabled",
        "probe.py:5: ._logits"]


def test_only_the_engine_touches_private_tensor_and_function_attributes():
    files = sorted(p for p in PACKAGE.rglob("*.py")
                   if not (p.parent == PACKAGE and p.name in ENGINE))
    assert len(files) > 50  # the whole package is scanned
    found = [v for p in files for v in _violations(p)]
    assert not found, "private engine API used outside the engine:\n" + "\n".join(found)


# ----- the public surface itself -----

def test_from_numpy_shares_memory_and_keeps_the_dtype():
    a = np.arange(3, dtype=np.float64)
    t = Tensor.from_numpy(a)
    assert t.data is a and t.dtype == np.float64 and t.is_leaf and t.grad is None
    assert not t.requires_grad and t.name is None and t.parents == () and t.op is None
    w = Tensor.from_numpy(np.ones(2, dtype=np.float32), requires_grad=True)
    (w * w).sum().backward()
    np.testing.assert_array_equal(w.grad, np.full(2, 2.0, dtype=np.float32))


def test_graph_accessors_read_what_the_engine_recorded():
    a = Tensor([1.0, 2.0], requires_grad=True)
    c = Tensor([3.0, 4.0])
    b = a * c
    assert b.grad_fn is not None and b.grad_fn.name == b.op == "Mul"
    assert b.parents == (a, c) and b.parents[0] is a and a.parents == () and a.grad_fn is None
    assert not b.grad_fn.released
    b.sum().backward()
    assert b.grad_fn.released  # backward dropped the saved arrays
    with no_grad():
        assert (a * c).grad_fn is None and (a * c).parents == ()
    with pytest.raises(AttributeError):
        b.parents = ()  # read-only


@pytest.mark.parametrize("make", [lambda z: z.sigmoid(), lambda z: z.softmax(axis=-1)])
def test_with_logits_keeps_the_node_and_its_gradient(make):
    z = Tensor([[0.5, -1.0, 2.0]], requires_grad=True)
    plain, carried = make(z), make(z).with_logits(z)
    assert carried.logits is z and plain.logits is None and activations.logits_of(carried) is z
    assert carried.op == plain.op and carried.parents == (z,)
    np.testing.assert_array_equal(carried.data, plain.data)
    assert (carried * 1.0).logits is None and carried.detach().logits is None
    upstream = np.array([[1.0, 2.0, -3.0]], dtype=np.float32)
    (carried * upstream).sum().backward()
    g_carried, z.grad = z.grad, None
    (plain * upstream).sum().backward()
    np.testing.assert_array_equal(g_carried, z.grad)  # same graph node, same arithmetic


def test_with_logits_rejects_a_mismatch():
    p = Tensor([0.5, 0.5])
    with pytest.raises(ValueError, match=r"with_logits expects a Tensor of this tensor's shape "
                                         r"\(2,\), received \(3,\)"):
        p.with_logits(Tensor([0.0, 0.0, 0.0]))
    with pytest.raises(ValueError, match="received ndarray"):
        p.with_logits(np.zeros(2))


def test_engine_modules_are_the_ones_excluded():
    # the three files the scan skips are the engine modules themselves
    assert {Path(m.__file__).name for m in (tensor, autograd, functions)} == ENGINE
