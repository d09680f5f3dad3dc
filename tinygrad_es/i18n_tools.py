"""The message catalogue's tools: find every message in the source, keep the ``.po`` file in step
with it, compile the ``.po`` into the ``.mo`` that :mod:`tinygrad_es.i18n` reads, and check it.

Run from anywhere (standard library only, no ``msgfmt`` or Babel needed)::

    python -m tinygrad_es.i18n_tools update    # extract, merge into the .po, compile the .mo
    python -m tinygrad_es.i18n_tools compile   # .po -> .mo only
    python -m tinygrad_es.i18n_tools check     # exit 1 on a missing, stale or mismatched entry

A message is the first argument of a call to ``tr`` or ``N_`` (the no-op marker for texts kept in
tables and translated later with ``tr(variable)``), and it must be a string literal, its fields
passed as keyword arguments: the extractor reads the source with :mod:`ast`, without importing
it. Translations already in the ``.po`` are kept; an entry whose English text is no longer in
the source is stale and is dropped by ``update``.

Example:
    >>> entries = parse_po('msgid "loss"\\nmsgstr "pérdida"\\n')
    >>> entries[0].msgid, entries[0].msgstr
    ('loss', 'pérdida')
    >>> placeholders("{n} epochs, %(prog)s"), placeholders("{n} épocas, %(prog)s")
    (['%(prog)s', '{n}'], ['%(prog)s', '{n}'])
"""

from __future__ import annotations

import ast
import re
import struct
import sys
from dataclasses import dataclass, field
from pathlib import Path

__all__ = ["Entry", "PACKAGE", "PO_FILE", "MO_FILE", "parse_po", "format_po", "compile_mo",
           "extract", "merge", "placeholders", "problems", "main"]

PACKAGE = Path(__file__).resolve().parent
PO_FILE = PACKAGE / "locale" / "es" / "LC_MESSAGES" / "tinygrad_es.po"
MO_FILE = PO_FILE.with_suffix(".mo")
MARKERS = ("tr", "N_")
HEADER = ("Content-Type: text/plain; charset=UTF-8\n"
          "Content-Transfer-Encoding: 8bit\n"
          "Language: es\n")
TOP_COMMENT = ("# Spanish messages of tinygrad_es (msgid: the English text in the source; msgstr:\n"
               "# its Spanish). Kept in step with the source by:\n"
               "#     python -m tinygrad_es.i18n_tools update\n"
               "# Vocabulary: docs/glosario.md.\n")


@dataclass
class Entry:
    """One message: the English ``msgid``, its Spanish ``msgstr`` and where the source uses it."""

    msgid: str
    msgstr: str = ""
    references: list[str] = field(default_factory=list)
    comments: list[str] = field(default_factory=list)  # translator comments ("# ...")


# ----- reading and writing .po files -----

_ESCAPES = {"n": "\n", "t": "\t", '"': '"', "\\": "\\", "r": "\r"}


def _unquote(token: str, where: str) -> str:
    if len(token) < 2 or token[0] != '"' or token[-1] != '"':
        raise ValueError(f"{where}: expected a quoted string, received {token!r}")
    return re.sub(r'\\(.)', lambda m: _ESCAPES.get(m.group(1), "\\" + m.group(1)), token[1:-1])


def _quote(text: str) -> str:
    return '"' + (text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")
                  .replace("\t", "\\t")) + '"'


def parse_po(text: str, name: str = "<po>") -> list[Entry]:
    """The entries of a ``.po`` file's text (msgid, msgstr, ``#:`` references, ``#`` comments);
    the header (empty msgid) is the first entry when present."""
    entries: list[Entry] = []
    current: Entry | None = None
    key = None
    refs: list[str] = []
    comments: list[str] = []
    for number, raw in enumerate(text.splitlines(), 1):
        line, where = raw.strip(), f"{name}:{number}"
        if not line or line.startswith("#~"):
            continue
        if line.startswith("#:"):
            refs += line[2:].split()
        elif line.startswith("#"):
            if line.startswith("# ") and current is None and not entries:
                continue  # the file's top comment
            comments.append(line[1:].strip())
        elif line.startswith("msgid "):
            current = Entry(_unquote(line[6:].strip(), where), "", refs, comments)
            entries.append(current)
            key, refs, comments = "msgid", [], []
        elif line.startswith("msgstr "):
            if current is None or key != "msgid":
                raise ValueError(f"{where}: msgstr without a msgid before it")
            current.msgstr, key = _unquote(line[7:].strip(), where), "msgstr"
        elif line.startswith('"') and current is not None and key:
            setattr(current, key, getattr(current, key) + _unquote(line, where))
        else:
            raise ValueError(f"{where}: cannot read {raw!r} (plural forms and contexts are not "
                             "used by tinygrad_es)")
    return entries


def _po_string(keyword: str, text: str) -> list[str]:
    if "\n" not in text[:-1]:
        return [f"{keyword} {_quote(text)}"]
    parts = text.splitlines(keepends=True)
    return [f'{keyword} ""'] + [_quote(p) for p in parts]


def format_po(entries: list[Entry]) -> str:
    """The text of a ``.po`` file: a header, then one block per entry, in the given order."""
    lines = [TOP_COMMENT.rstrip("\n"), *(_po_string("msgid", "")), *_po_string("msgstr", HEADER)]
    for entry in entries:
        if not entry.msgid:
            continue
        lines.append("")
        lines += [f"# {c}" for c in entry.comments]
        lines += [f"#: {r}" for r in entry.references]
        lines += _po_string("msgid", entry.msgid) + _po_string("msgstr", entry.msgstr)
    return "\n".join(lines) + "\n"


# ----- compiling .mo files -----

def compile_mo(entries: list[Entry]) -> bytes:
    """The GNU ``.mo`` bytes of ``entries`` (those with a translation, plus the header), as
    :mod:`gettext` reads them: sorted by msgid, no hash table, the same bytes for the same input.

    Example:
        >>> import gettext, io
        >>> mo = compile_mo([Entry("", HEADER), Entry("loss", "pérdida"), Entry("new")])
        >>> gettext.GNUTranslations(io.BytesIO(mo)).gettext("loss")
        'pérdida'
    """
    pairs = {e.msgid.encode(): e.msgstr.encode() for e in entries if e.msgstr}
    pairs.setdefault(b"", HEADER.encode())
    keys = sorted(pairs)
    count = len(keys)
    start = 7 * 4 + 2 * 8 * count  # header, then the two tables of (length, offset)
    ids = b"".join(k + b"\0" for k in keys)
    strs = b"".join(pairs[k] + b"\0" for k in keys)
    table_ids, table_strs, offset = [], [], start
    for k in keys:
        table_ids += [len(k), offset]
        offset += len(k) + 1
    for k in keys:
        table_strs += [len(pairs[k]), offset]
        offset += len(pairs[k]) + 1
    head = struct.pack("<7I", 0x950412DE, 0, count, 28, 28 + 8 * count, 0, start)
    return (head + struct.pack(f"<{2 * count}I", *table_ids)
            + struct.pack(f"<{2 * count}I", *table_strs) + ids + strs)


# ----- finding the messages in the source -----

def _marker(call: ast.Call) -> bool:
    func = call.func
    name = func.id if isinstance(func, ast.Name) else getattr(func, "attr", None)
    return name in MARKERS


def extract(package: Path = PACKAGE) -> tuple[dict[str, list[str]], list[str]]:
    """``({msgid: ["path:line", ...]}, [errors])`` for every ``tr(...)``/``N_(...)`` call under
    ``package`` (and in the lessons, ``examples/*.py`` beside it), in source order.
    ``tr(name)`` is taken to translate a text marked elsewhere (``N_("...")``); an error is a
    message built at run time (an f-string, ``+``, ``%``, ``.format()``), which no catalogue can
    hold."""
    found: dict[str, list[str]] = {}
    errors: list[str] = []
    root = package.parent
    # The lessons (examples/ beside the package, in a source checkout) are teaching material too.
    lessons = sorted((root / "examples").glob("*.py")) if (root / "examples").is_dir() else []
    for path in sorted(package.rglob("*.py")) + lessons:
        where = path.relative_to(root).as_posix()
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), str(path))):
            if not isinstance(node, ast.Call) or not _marker(node) or not node.args:
                continue
            first = node.args[0]
            if isinstance(first, ast.Constant) and isinstance(first.value, str):
                found.setdefault(first.value, []).append(f"{where}:{node.lineno}")
            elif isinstance(first, (ast.JoinedStr, ast.BinOp, ast.Call)):
                errors.append(f"{where}:{node.lineno}: the message of {ast.unparse(node.func)}() "
                              f"must be a string literal (its fields as keyword arguments), "
                              f"received {ast.unparse(first)[:60]}")
    ordered = sorted(found.items(), key=lambda kv: _order(kv[1][0]))
    return dict(ordered), errors


def _order(reference: str) -> tuple[str, int]:
    path, line = reference.rsplit(":", 1)
    return path, int(line)


def merge(entries: list[Entry], found: dict[str, list[str]]) -> tuple[list[Entry], list[str]]:
    """The ``.po`` entries for the messages ``found``, keeping known translations and comments;
    also the msgids dropped as stale."""
    known = {e.msgid: e for e in entries if e.msgid}
    merged = [Entry(m, known[m].msgstr if m in known else "", refs,
                    known[m].comments if m in known else []) for m, refs in found.items()]
    return merged, [m for m in known if m not in found]


# ----- checks -----

_FIELD = re.compile(r"\{\{|\}\}|\{[^{}]*\}|%\([a-z_]+\)[srd]|%[srd]")


def placeholders(text: str) -> list[str]:
    """The ``{fields}`` and ``%`` placeholders of ``text``, sorted (escaped braces ignored)."""
    return sorted(m for m in _FIELD.findall(text) if m not in ("{{", "}}"))


def problems(entries: list[Entry], found: dict[str, list[str]]) -> list[str]:
    """What is wrong between the catalogue and the source: a message without Spanish, an entry
    no longer used, a translation whose placeholders differ from the English."""
    known = {e.msgid: e for e in entries if e.msgid}
    out = [f"no Spanish for {m!r} ({found[m][0]})" for m in found
           if not (m in known and known[m].msgstr.strip())]
    out += [f"stale entry {m!r}: no longer in the source" for m in known if m not in found]
    out += [f"placeholders differ in {e.msgid!r}: {placeholders(e.msgid)} vs "
            f"{placeholders(e.msgstr)}" for e in known.values()
            if e.msgstr and placeholders(e.msgid) != placeholders(e.msgstr)]
    return out


def main(argv: list[str] | None = None) -> int:
    """``update``, ``compile`` or ``check`` (see the module's docstring); returns the exit code."""
    command = (argv if argv is not None else sys.argv[1:]) or ["check"]
    if command[0] not in ("update", "compile", "check"):
        print(f"usage: python -m tinygrad_es.i18n_tools update|compile|check, received "
              f"{command[0]!r}", file=sys.stderr)
        return 2
    entries = parse_po(PO_FILE.read_text(encoding="utf-8"), str(PO_FILE))
    found, errors = extract()
    if command[0] == "update":
        entries, stale = merge(entries, found)
        PO_FILE.write_text(format_po(entries), encoding="utf-8")
        for m in stale:
            print(f"dropped stale entry {m!r}")
    if command[0] in ("update", "compile"):
        MO_FILE.write_bytes(compile_mo(entries))
        print(f"wrote {MO_FILE} ({sum(1 for e in entries if e.msgid and e.msgstr)} messages)")
    report = errors + problems(entries, found)
    if command[0] == "check" and MO_FILE.read_bytes() != compile_mo(entries):
        report.append(f"{MO_FILE.name} is not the compiled {PO_FILE.name}: run compile")
    for line in report:
        print(line)
    spanish = {e.msgid for e in entries if e.msgstr}
    translated = sum(1 for m in found if m in spanish)
    print(f"{len(found)} messages in the source, {translated} with Spanish")
    return 1 if report else 0


if __name__ == "__main__":
    sys.exit(main())
