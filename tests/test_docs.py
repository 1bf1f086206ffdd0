"""Docs are code: every ```python block of README.md and docs/*.md runs as written.

The blocks of one page run together, in order, in a fresh interpreter (a user pasting
the page top to bottom), from an empty working directory. The pages run one after
another in a background thread from the moment collection has selected their tests,
which run last (hooks in ``conftest.py``): their minutes overlap the in-process
tests. Each test waits for its page (starting it if it was not queued) and checks how
it ended.
"""

import os
import re
import shutil
import subprocess
import sys
import tempfile
import threading
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

ROOT = Path(__file__).parents[1]
PAGES = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
BLOCK = re.compile(r"^```python\n(.*?)^```", re.MULTILINE | re.DOTALL)
TIMEOUT_S = 600


def _blocks(page):
    return BLOCK.findall(page.read_text())


class PageRunner:
    """Runs pages one at a time in a background thread; ``result(page)`` waits for
    one (starting it now if it was not queued) and returns (return code, stderr)."""

    def __init__(self):
        self._executor = ThreadPoolExecutor(max_workers=1)
        self._futures = {}
        self._lock = threading.Lock()
        self._process = None
        self._closed = False

    def start(self, pages):
        for page in pages:
            self._submit(page)

    def result(self, page):
        return self._submit(page).result()

    def close(self):
        """Stop: queued pages are dropped, a running one is killed."""
        with self._lock:
            self._closed = True
            if self._process is not None:
                self._process.kill()
        self._executor.shutdown(wait=False, cancel_futures=True)

    def _submit(self, page):
        with self._lock:
            if page not in self._futures:
                self._futures[page] = self._executor.submit(self._run, page)
            return self._futures[page]

    def _run(self, page):
        workdir = Path(tempfile.mkdtemp(prefix="docs_page_"))
        try:
            script = workdir / "page.py"
            script.write_text("\n\n".join(_blocks(page)))
            env = {**os.environ, "MPLBACKEND": "Agg", "PYTHONWARNINGS": "ignore"}
            with self._lock:
                if self._closed:
                    return None, "stopped before it ran"
                self._process = subprocess.Popen(
                    [sys.executable, str(script)],
                    cwd=workdir,
                    env=env,
                    stdout=subprocess.DEVNULL,
                    stderr=subprocess.PIPE,
                    text=True,
                )
            try:
                _, stderr = self._process.communicate(timeout=TIMEOUT_S)
            except subprocess.TimeoutExpired:
                self._process.kill()
                _, stderr = self._process.communicate()
                stderr += f"\n(killed after {TIMEOUT_S} s)"
            return self._process.returncode, stderr
        finally:
            shutil.rmtree(workdir, ignore_errors=True)


RUNNER = PageRunner()


@pytest.mark.parametrize(
    "page",
    [p for p in PAGES if _blocks(p)],
    ids=lambda p: str(p.relative_to(ROOT)),
)
def test_python_blocks_run_as_written(page):
    pytest.importorskip("skimage")
    returncode, stderr = RUNNER.result(page)
    assert returncode == 0, stderr[-3000:]


def test_every_page_with_code_is_collected():
    assert {p.name for p in PAGES if _blocks(p)} >= {
        "README.md",
        "images.md",
        "install.md",
        "model_selection.md",
    }
