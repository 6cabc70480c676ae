"""A cell that fails fails the book build, loudly: `jupyter-book build` (what `make book` runs,
without warnings as errors) exits non-zero and names the page and the cell, when a cell
raises and when a cell runs out of time. Each case builds a copy of the book's
configuration with a two-page book in a temporary folder (the real book takes minutes)."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml
from conftest import BOOK, venv_tool

pytestmark = pytest.mark.slow

FINE_PAGE = """---
file_format: mystnb
kernelspec:
  name: python3
  display_name: Python 3
---

# Fine

```{code-cell} ipython3
print(6 * 7)
```
"""

FAILING_PAGE = """---
file_format: mystnb
kernelspec:
  name: python3
  display_name: Python 3
---

# Failing

```{code-cell} ipython3
numbers = [1, 2, 3]
```

```{code-cell} ipython3
CELL
```
"""


def _small_book(folder: Path, failing_cell: str, timeout: int | None = None) -> Path:
    """The book's own configuration (and the files it names), with a fine page and a page
    whose second cell is ``failing_cell``."""
    book = folder / "book"
    book.mkdir()
    config = yaml.safe_load((BOOK / "_config.yml").read_text(encoding="utf-8"))
    if timeout is not None:
        config["execute"]["timeout"] = timeout
    (book / "_config.yml").write_text(yaml.safe_dump(config, sort_keys=False), encoding="utf-8")
    for name in ("_ext", "_static"):
        shutil.copytree(BOOK / name, book / name)
    shutil.copy(BOOK / "references.bib", book / "references.bib")
    (book / "_toc.yml").write_text(
        "format: jb-book\nroot: fine\nchapters:\n  - file: chapters/99-failing\n", encoding="utf-8"
    )
    (book / "fine.md").write_text(FINE_PAGE, encoding="utf-8")
    (book / "chapters").mkdir()
    (book / "chapters" / "99-failing.md").write_text(FAILING_PAGE.replace("CELL", failing_cell), encoding="utf-8")
    return book


def _build(book: Path) -> subprocess.CompletedProcess:
    return subprocess.run(
        [str(venv_tool("jupyter-book")), "build", str(book)],  # as `make book`: no -W
        capture_output=True, text=True, timeout=900, env={**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"},
    )


def test_the_configuration_executes_every_page_and_fails_on_errors():
    config = yaml.safe_load((BOOK / "_config.yml").read_text(encoding="utf-8"))
    assert config["execute"]["allow_errors"] is False
    assert config["execute"]["raise_on_error"] is True and config["execute"]["show_tb"] is True
    # a wide margin: a chapter's budget is 60 s for all its cells, 180 s on a 3x slower machine
    assert config["execute"]["timeout"] >= 3 * 3 * 60


@pytest.mark.parametrize(
    ("cell", "timeout", "expected"),
    [
        ("numbers[7]", None, "IndexError"),
        ("import time\ntime.sleep(120)", 3, "Timeout"),
    ],
    ids=["raises", "times-out"],
)
def test_a_failing_cell_fails_the_build_naming_page_and_cell(tmp_path, cell, timeout, expected):
    result = _build(_small_book(tmp_path, cell, timeout))
    output = result.stdout + result.stderr
    assert result.returncode != 0, f"the build passed with a failing cell:\n{output[-3000:]}"
    named = [line for line in output.splitlines() if "Executing notebook failed" in line]
    assert named and all("chapters/99-failing.md" in line for line in named), output[-3000:]
    assert expected in output, output[-3000:]
    assert cell.splitlines()[-1] in output, f"the failing cell's code is not shown:\n{output[-3000:]}"
