"""No import circles: the package's module-level imports form a graph without a cycle.

A cycle works only while every entry point happens to import its modules in a lucky order; the
next engineer to add an import meets "cannot import name ... (most likely due to a circular
import)". So the graph is built from the source with ``ast`` (module-level imports only: an
import inside a function runs lazily and is allowed; one under ``if TYPE_CHECKING:`` counts, as a
cycle there is two files holding one concept), and every module (``__main__`` excepted: it runs
the CLI) is also imported first thing in a fresh interpreter.
"""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import tinygrad_es

PACKAGE = Path(tinygrad_es.__file__).parent
ROOT = "tinygrad_es"


def _module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


MODULES = {_module_name(p): p for p in sorted(PACKAGE.rglob("*.py"))}


def _module_level_imports(tree: ast.Module) -> list[ast.Import | ast.ImportFrom]:
    """Imports outside functions (class bodies and ``if`` blocks included)."""
    found, todo = [], list(tree.body)
    while todo:
        node = todo.pop()
        if isinstance(node, (ast.Import, ast.ImportFrom)):
            found.append(node)
        elif not isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda)):
            todo.extend(child for child in ast.iter_child_nodes(node)
                        if isinstance(child, ast.stmt))
    return found


def _imported_modules(name: str, path: Path) -> set[str]:
    """The package's modules that ``name`` imports at module level (``from pkg import sub``
    names the submodule; ``from pkg import attr`` names ``pkg`` itself)."""
    is_package = path.name == "__init__.py"
    out: set[str] = set()
    for node in _module_level_imports(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            out |= {a.name for a in node.names if a.name in MODULES}
            continue
        base = node.module or ""
        if node.level:  # relative: from the package that holds this module
            package = name.split(".") if is_package else name.split(".")[:-1]
            base = ".".join(package[:len(package) - node.level + 1] + ([base] if base else []))
        for alias in node.names:
            target = f"{base}.{alias.name}"
            out.add(target if target in MODULES else base)
    return {m for m in out if m in MODULES and m != name}


def _find_cycle(graph: dict[str, set[str]]) -> list[str] | None:
    """One cycle as ``[a, b, ..., a]``, or None: an iterative depth-first search."""
    state: dict[str, int] = {}  # 1 = on the current path, 2 = finished
    for start in sorted(graph):
        if state.get(start):
            continue
        path, stack = [start], [iter(sorted(graph[start]))]
        state[start] = 1
        while stack:
            nxt = next(stack[-1], None)
            if nxt is None:
                state[path.pop()] = 2
                stack.pop()
            elif state.get(nxt) == 1:
                return path[path.index(nxt):] + [nxt]
            elif not state.get(nxt):
                state[nxt] = 1
                path.append(nxt)
                stack.append(iter(sorted(graph[nxt])))
    return None


GRAPH = {name: _imported_modules(name, path) for name, path in MODULES.items()}


def test_the_graph_sees_the_imports_it_should():
    assert len(MODULES) > 100 and f"{ROOT}.models.sequential" in MODULES
    # module-level imports are edges; the lazy one inside Model.summary is not
    assert f"{ROOT}.models.training" in GRAPH[f"{ROOT}.models.model"]
    assert f"{ROOT}.models.summary" not in GRAPH[f"{ROOT}.models.model"]
    assert f"{ROOT}.autograd" in GRAPH[f"{ROOT}.tensor"]
    assert _find_cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == ["a", "b", "c", "a"]
    assert _find_cycle({"a": {"b", "c"}, "b": {"c"}, "c": set()}) is None


def test_module_level_imports_have_no_cycle():
    cycle = _find_cycle(GRAPH)
    assert cycle is None, "import cycle: " + " -> ".join(cycle)


def test_every_module_imports_first_in_a_fresh_interpreter():
    # One interpreter; before each module, every tinygrad_es module is forgotten, so each one is
    # the first the package sees (as in `python -c "import tinygrad_es.x"`). numpy stays loaded.
    script = (
        "import importlib, sys, traceback\n"
        f"names = {sorted(m for m in MODULES if not m.endswith('.__main__'))!r}\n"
        "failed = []\n"
        "for name in names:\n"
        f"    for key in [k for k in sys.modules if k.split('.')[0] == {ROOT!r}]:\n"
        "        del sys.modules[key]\n"
        "    try:\n"
        "        importlib.import_module(name)\n"
        "    except Exception:\n"
        "        failed.append(name + ': ' + traceback.format_exc(limit=-1).strip())\n"
        "print('\\n'.join(failed))\n"
        "sys.exit(1 if failed else 0)\n")
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                          cwd=PACKAGE.parent, timeout=300)
    assert done.returncode == 0, done.stdout + done.stderr[-2000:]
