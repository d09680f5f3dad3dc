"""Every public name of Keras's optimizers, losses, metrics, initializers, activations, callbacks
and regularizers exists in the tinygrad_es module of the same name, and is the same kind of thing.

The names are read from the installed Keras inside the test, so a new Keras name fails here until
it is added, or until it is listed in ``NOT_PROVIDED`` with the reason and what to use instead.
``get`` / ``serialize`` / ``deserialize`` are among Keras's names (not for callbacks), so they are
required, as functions, wherever Keras has them.
"""

from __future__ import annotations

import importlib
import inspect

import pytest

MODULES = ["optimizers", "optimizers.schedules", "losses", "metrics", "initializers",
           "activations", "callbacks", "regularizers"]

# (module, name) -> why tinygrad_es does not provide it, and what to use instead.
NOT_PROVIDED = {
    ("optimizers", "legacy"):
        "Keras 3's keras.optimizers.legacy only raises ImportError (the Keras 2 optimizers); "
        "use the optimizers of tinygrad_es.optimizers",
    ("callbacks", "TensorBoard"):
        "writes TensorBoard event files and needs the tensorboard package; use CSVLogger for "
        "the numbers and tinygrad_es.viz.plots.plot_history(history) for the curves",
    ("callbacks", "OrbaxCheckpoint"):
        "saves through Orbax, a JAX checkpointing library; use ModelCheckpoint, or "
        "BackupAndRestore to resume an interrupted fit",
}

# The base class each family's classes derive from (in Keras and here).
BASES = {"optimizers": "Optimizer", "optimizers.schedules": "LearningRateSchedule",
         "losses": "Loss", "metrics": "Metric", "initializers": "Initializer",
         "callbacks": "Callback", "regularizers": "Regularizer"}


def _modules(keras, module):
    ref = keras
    for part in module.split("."):
        ref = getattr(ref, part)
    return ref, importlib.import_module(f"tinygrad_es.{module}")


def _public(mod) -> list[str]:
    return sorted(n for n in dir(mod) if not n.startswith("_"))


def _kind(obj) -> str:
    if inspect.isclass(obj):
        return "class"
    if inspect.ismodule(obj):
        return "module"
    return "function" if callable(obj) else type(obj).__name__


@pytest.mark.parametrize("module", MODULES)
def test_every_keras_name_exists(keras, module):
    ref, ours = _modules(keras, module)
    missing = [n for n in _public(ref) if not hasattr(ours, n) and (module, n) not in NOT_PROVIDED]
    assert not missing, f"tinygrad_es.{module} lacks Keras's names: {', '.join(missing)}"


@pytest.mark.parametrize("module", MODULES)
def test_each_name_is_the_kind_keras_has(keras, module):
    ref, ours = _modules(keras, module)
    base = BASES.get(module)
    wrong = []
    for name in _public(ref):
        if not hasattr(ours, name):
            continue   # reported by test_every_keras_name_exists
        k_obj, o_obj = getattr(ref, name), getattr(ours, name)
        if _kind(k_obj) != _kind(o_obj):
            wrong.append(f"{name}: Keras has a {_kind(k_obj)}, tinygrad_es a {_kind(o_obj)}")
        elif (base and inspect.isclass(k_obj) and issubclass(k_obj, getattr(ref, base))
              and not issubclass(o_obj, getattr(ours, base))):
            wrong.append(f"{name}: Keras's is a {base}, ours is not")
    # Names that are one object in Keras (glorot_uniform is GlorotUniform) are one object here.
    groups: dict[int, list[str]] = {}
    for name in _public(ref):
        groups.setdefault(id(getattr(ref, name)), []).append(name)
    for names in groups.values():
        present = [n for n in names if hasattr(ours, n)]
        if len({id(getattr(ours, n)) for n in present}) > 1:
            wrong.append(f"{' / '.join(present)}: one object in Keras, several here")
    assert not wrong, f"tinygrad_es.{module}: " + "; ".join(wrong)


def test_the_allow_list_is_short_current_and_explained(keras):
    assert len(NOT_PROVIDED) <= 6
    for (module, name), reason in NOT_PROVIDED.items():
        ref, ours = _modules(keras, module)
        assert hasattr(ref, name), f"Keras no longer has {module}.{name}: drop it from the list"
        assert not hasattr(ours, name), f"tinygrad_es.{module}.{name} exists now: drop the entry"
        assert "use " in reason and len(reason) > 40, (module, name)
