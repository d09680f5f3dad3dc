"""The language of everything tinygrad_es says to a person: English (default) or Spanish.

One switch for the whole package: :func:`set_language` (also ``tinygrad_es.config.set_language``),
the ``TINYGRAD_ES_LANG`` environment variable, or the CLI's ``--lang``. A user-facing string is
written in English inside :func:`tr`, which looks it up in the standard library's ``gettext``
catalogue of the current language (``tinygrad_es/locale/<lang>/LC_MESSAGES/tinygrad_es.mo``,
compiled from the ``.po`` file beside it) and then fills its ``{fields}``::

    raise ValueError(tr("Dense expects a 2-D input, received shape {shape}", shape=x.shape))

A message without a Spanish entry comes out in English; the test suite fails on any such message.

Example:
    >>> tr("Epoch {k}/{n}", k=1, n=50), tr("Epoch {k}/{n}", lang="es", k=1, n=50)
    ('Epoch 1/50', 'Época 1/50')
"""

from __future__ import annotations

import argparse
import contextlib
import gettext
import os
from pathlib import Path
from typing import Any, Iterator

__all__ = ["LANGUAGES", "set_language", "language", "tr", "N_", "argparse_speaks"]

LANGUAGES = ("en", "es")
_LOCALE_DIR = Path(__file__).resolve().parent / "locale"
_DOMAIN = "tinygrad_es"
_language = "en"
_catalogues: dict[str, gettext.NullTranslations] = {}


def _check(lang: Any) -> str:
    if lang not in LANGUAGES:
        raise ValueError(f"lang must be {' or '.join(map(repr, LANGUAGES))}, received {lang!r}")
    return lang


def set_language(lang: str) -> None:
    """Speak ``lang`` (``"en"`` or ``"es"``) from now on, in every message, table and picture.

    Example:
        >>> set_language("es"); tr("Step")
        'Paso'
        >>> set_language("en")
    """
    global _language
    _language = _check(lang)


def language() -> str:
    """The current language: ``"en"`` unless changed (or ``TINYGRAD_ES_LANG`` was set)."""
    return _language


def _catalogue(lang: str) -> gettext.NullTranslations:
    if lang not in _catalogues:
        _catalogues[lang] = gettext.translation(_DOMAIN, localedir=_LOCALE_DIR, languages=[lang],
                                                fallback=True)
    return _catalogues[lang]


def tr(message: str, /, lang: str | None = None, **fields: Any) -> str:
    """``message`` (English, with ``{field}`` placeholders) in the current language, filled in.

    Args:
        message: the English text; it is also the catalogue's key (gettext's msgid).
        lang: this language instead of the current one (e.g. a function's own ``lang=``).
        **fields: values for the placeholders (``str.format``); any name but ``lang``.
    """
    lang = _language if lang is None else _check(lang)
    text = message if lang == "en" else _catalogue(lang).gettext(message)
    return text.format(**fields) if fields else text


def N_(message: str) -> str:
    """Mark ``message`` for the catalogue without translating it now (gettext's ``N_``): for
    texts kept in a table and translated where they are shown, with ``tr(text)``.

    Example:
        >>> LABEL = N_("Step"); tr(LABEL, lang="es")
        'Paso'
    """
    return message


# argparse's own words (it asks gettext for them, in English unless told otherwise): marked here
# so that the catalogue holds their Spanish; see argparse_speaks.
ARGPARSE_WORDS = (
    N_("usage: "), N_("positional arguments"), N_("options"),
    N_("show this help message and exit"), N_("argument %(argument_name)s: %(message)s"),
    N_("invalid choice: %(value)r (choose from %(choices)s)"),
    N_("the following arguments are required: %s"), N_("unrecognized arguments: %s"),
    N_("expected one argument"), N_("expected at most one argument"),
    N_("expected at least one argument"), N_("invalid %(type)s value: %(value)r"),
    N_("ambiguous option: %(option)s could match %(matches)s"),
    N_("not allowed with argument %s"), N_("ignored explicit argument %r"),
)


@contextlib.contextmanager
def argparse_speaks(lang: str | None = None) -> Iterator[None]:
    """argparse's messages in ``lang`` (default the current language) while a parser is built,
    parses and prints help: ``with argparse_speaks(): args = build().parse_args()``.

    argparse looks each of its messages up with ``gettext`` (the name ``_`` in its module) when it
    builds a parser, prints help or reports an error; for that time, the lookup is our catalogue's.
    """
    lang = _language if lang is None else _check(lang)
    if lang == "en":
        yield
        return
    saved = argparse._
    argparse._ = lambda message: tr(message, lang=lang)
    try:
        yield
    finally:
        argparse._ = saved


if os.environ.get("TINYGRAD_ES_LANG"):
    set_language(os.environ["TINYGRAD_ES_LANG"])
