"""Automatic names, as Keras gives them: ``dense``, ``dense_1``, ``adam``, ``rm_sprop``, ``auc_1``.

One rule for every family (layers, models, losses, metrics, optimizers, layer weights): the
snake_case of the class name, made unique by ONE per-process counter per name, shared by all the
families as Keras's ``object_name_uids`` is. ``utils.clear_session()`` calls :func:`reset`, after
which the names start again from ``dense``, ``adam``, ...

An explicit ``name=...`` never goes through here, so it neither takes nor reserves a name (as in
Keras: ``Dense(1, name="adam")`` does not turn the next ``Adam()`` into ``adam_1``).
"""

from __future__ import annotations

import collections
import re

__all__ = ["to_snake_case", "unique_name", "auto_name", "reset"]

_UIDS: collections.defaultdict[str, int] = collections.defaultdict(int)


def to_snake_case(name: str) -> str:
    """Keras's class-name -> object-name rule.

    Example:
        >>> to_snake_case("LeakyReLU"), to_snake_case("RMSprop"), to_snake_case("AUC")
        ('leaky_re_lu', 'rm_sprop', 'auc')
    """
    name = re.sub(r"\W+", "", name)
    name = re.sub("(.)([A-Z][a-z]+)", r"\1_\2", name)
    return re.sub("([a-z])([A-Z])", r"\1_\2", name).lower()


def unique_name(name: str) -> str:
    """``name`` the first time, then ``name_1``, ``name_2``, ... (the shared counter).

    Example:
        >>> reset(); unique_name("demo"), unique_name("demo")
        ('demo', 'demo_1')
    """
    uid = _UIDS[name]
    _UIDS[name] += 1
    return name if uid == 0 else f"{name}_{uid}"


def auto_name(class_name: str) -> str:
    """The automatic name of an object of class ``class_name``: snake_case, made unique.

    Example:
        >>> reset(); auto_name("Adam"), auto_name("Adam"), auto_name("RMSprop")
        ('adam', 'adam_1', 'rm_sprop')
    """
    return unique_name(to_snake_case(class_name))


def reset() -> None:
    """Forget every name handed out (what ``utils.clear_session`` does).

    Example:
        >>> reset(); auto_name("Dense")
        'dense'
    """
    _UIDS.clear()
