"""The string registries every family shares (Keras's ``serialization_lib``, in small).

Activations, losses, metrics, optimizers, initializers, regularizers and layers each keep a dict
``name -> object`` and decide what their ``get`` accepts (that differs per family, as in Keras).
What they share lives here: the "Unknown ... Did you mean ...?" error, the name lookup, and the
``{"module", "class_name", "config", "registered_name"}`` layout of a serialized object.
"""

from __future__ import annotations

from typing import Any, Iterable


def unknown(kind: str, name: Any, valid: Iterable[str], probe: str | None = None,
            quoted: bool = False) -> ValueError:
    """The error for a name that is not in a registry: the closest valid name, then all of them.

    Args:
        kind: what was looked up (``"loss"``, ``"layer class"``).
        name: the name received.
        valid: the names accepted.
        probe: the string compared with ``valid`` (default ``str(name)``; e.g. lowercased).
        quoted: list the valid names with quotes (``'adam', 'sgd'``), as the optimizers do.

    Example:
        >>> print(unknown("loss", "mse2", ["mae", "mse"]))
        Unknown loss 'mse2'. Did you mean 'mse'? Valid names: mae, mse.
    """
    valid = sorted(valid)
    import difflib  # noqa: PLC0415  (only when a name is wrong)

    close = difflib.get_close_matches(str(name) if probe is None else probe, valid, n=1)
    hint = f" Did you mean {close[0]!r}?" if close else ""
    listing = ", ".join(map(repr, valid) if quoted else valid)
    return ValueError(f"Unknown {kind} {name!r}.{hint} Valid names: {listing}.")


def lookup(registry: dict[str, Any], name: Any, kind: str) -> Any:
    """``registry[name]``, or :func:`unknown`'s ValueError.

    Example:
        >>> lookup({"zeros": 0}, "zeros", "initializer")
        0
    """
    try:
        return registry[name]
    except (KeyError, TypeError):
        raise unknown(kind, name, registry) from None


def serialize_object(obj: Any, module: str) -> dict[str, Any]:
    """``obj`` as Keras lays a built-in object out in a saved file (``get_config`` inside).

    Example:
        >>> class Zeros:
        ...     def get_config(self): return {}
        >>> serialize_object(Zeros(), "tinygrad_es.initializers")["class_name"]
        'Zeros'
    """
    return {"module": module, "class_name": type(obj).__name__, "config": obj.get_config(),
            "registered_name": None}


def deserialize_object(config: Any, registry: dict[str, type], kind: str) -> Any:
    """A new object from :func:`serialize_object`'s dict (or Keras's), through ``from_config``.

    Only the classes in ``registry`` can be named, so a saved file cannot name anything else.

    Example:
        >>> class Zeros:
        ...     @classmethod
        ...     def from_config(cls, config): return cls()
        >>> zeros = deserialize_object({"class_name": "Zeros"}, {"Zeros": Zeros}, "initializer")
        >>> type(zeros).__name__
        'Zeros'
    """
    if not isinstance(config, dict) or "class_name" not in config:
        raise ValueError(f"cannot deserialize {kind} config {config!r}: expected a dict with "
                         "'class_name' and 'config'")
    cls = lookup(registry, config["class_name"], kind)
    return cls.from_config(dict(config.get("config") or {}))
