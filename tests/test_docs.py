"""The semantics reference the code cites is in the project, with every section it cites."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DOC = ROOT / "docs" / "keras-semantics.md"
# "keras-semantics.md section 2.2", "keras-semantics 8.2", "keras-semantics §1.1",
# "keras-semantics.md sections 3 and 9"
CITATION = re.compile(r"keras-semantics(?:\.md)?,?\s+(?:sections?\s+|§)?(\d+(?:\.\d+)?)"
                      r"(?:\s+and\s+(\d+(?:\.\d+)?))?")


def cited_sections() -> dict[str, list[str]]:
    where: dict[str, list[str]] = {}
    sources = list((ROOT / "tinygrad_es").rglob("*.py")) + list((ROOT / "tests").glob("*.py"))
    for path in sorted(sources):
        for match in CITATION.finditer(path.read_text(encoding="utf-8")):
            for number in filter(None, match.groups()):
                where.setdefault(number, []).append(str(path.relative_to(ROOT)))
    return where


def test_every_cited_section_exists():
    headings = set(re.findall(r"^#{2,3} (\d+(?:\.\d+)?)[. ]", DOC.read_text(encoding="utf-8"),
                              re.MULTILINE))
    cited = cited_sections()
    assert len(cited) >= 5  # the pattern still finds the citations
    missing = {n: files for n, files in cited.items() if n not in headings}
    assert not missing, f"sections cited but not in docs/keras-semantics.md: {missing}"
