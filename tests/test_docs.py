"""Docs are code: every ```python block of README.md and docs/*.md runs as written.

The blocks of one page run together, in order, in a fresh interpreter (a user pasting
the page top to bottom), from an empty working directory.
"""

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).parents[1]
PAGES = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
BLOCK = re.compile(r"^```python\n(.*?)^```", re.MULTILINE | re.DOTALL)


def _blocks(page):
    return BLOCK.findall(page.read_text())


@pytest.mark.parametrize(
    "page",
    [p for p in PAGES if _blocks(p)],
    ids=lambda p: str(p.relative_to(ROOT)),
)
def test_python_blocks_run_as_written(page, tmp_path):
    pytest.importorskip("skimage")
    script = tmp_path / "page.py"
    script.write_text("\n\n".join(_blocks(page)))
    env = {**os.environ, "MPLBACKEND": "Agg", "PYTHONWARNINGS": "ignore"}
    result = subprocess.run(
        [sys.executable, str(script)],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert result.returncode == 0, result.stderr[-3000:]


def test_every_page_with_code_is_collected():
    assert {p.name for p in PAGES if _blocks(p)} >= {
        "README.md",
        "images.md",
        "install.md",
        "model_selection.md",
    }
