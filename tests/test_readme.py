"""The README's examples print what the README shows (README.md, and README.es.md where present).

Each ```python block followed directly by a plain ``` block is run in a fresh interpreter; its
output must equal the shown one, text for text, except that numbers may differ by 1e-6 relative:
the last printed digit of a float32 training run can move between CPUs (BLAS picks its kernels by
processor), and the README should not fail on a laptop for that.
"""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
BLOCK = re.compile(r"```python\n(.*?)```\n```\n(.*?)```", re.DOTALL)
NUMBER = re.compile(r"-?\d+\.\d+(?:e[-+]?\d+)?|-?\d+(?:e[-+]?\d+)?")


def examples() -> list:
    found = []
    for name in ("README.md", "README.es.md"):
        path = ROOT / name
        if path.exists():
            for k, match in enumerate(BLOCK.finditer(path.read_text(encoding="utf-8"))):
                found.append(pytest.param(match.group(1), match.group(2), id=f"{name}-{k}"))
    return found


def same_text_close_numbers(got: str, shown: str) -> bool:
    def words(text: str) -> str:  # numpy pads array entries to the widest: spacing may move too
        return re.sub(r"[ \t]+", " ", NUMBER.sub("#", text)).replace("[ #", "[#").replace("# ]", "#]")

    if words(got) != words(shown):
        return False
    pairs = zip(NUMBER.findall(got), NUMBER.findall(shown))
    return all(abs(float(a) - float(b)) <= 1e-6 * max(1.0, abs(float(b))) for a, b in pairs)


def test_the_readme_has_examples_with_output():
    assert len([e for e in examples() if e.id.startswith("README.md")]) >= 3


@pytest.mark.parametrize("code, shown", examples())
def test_readme_example_prints_what_it_shows(code, shown, tmp_path):
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          cwd=tmp_path, timeout=300,
                          env={"PYTHONPATH": str(ROOT), "PATH": "/usr/bin:/bin",
                               "TF_CPP_MIN_LOG_LEVEL": "3", "MPLBACKEND": "Agg"})
    assert done.returncode == 0, done.stderr
    assert same_text_close_numbers(done.stdout, shown), f"printed:\n{done.stdout}\nshown:\n{shown}"
