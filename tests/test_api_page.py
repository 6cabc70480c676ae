"""The book's API reference (book/api.md) covers every public module of lessonlib's top
level, and is built by Sphinx autodoc (tests/test_book.py builds it with -W)."""

from __future__ import annotations

import re
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]
API = (ROOT / "book" / "api.md").read_text(encoding="utf-8")
NOT_API = {"cli", "__main__", "__init__"}  # the command is documented on the instructors' page


def test_every_public_module_is_in_the_api_reference():
    modules = sorted(p.stem for p in (ROOT / "lessonlib").glob("*.py") if not p.stem.startswith("_") and p.stem not in NOT_API)
    documented = set(re.findall(r"^\.\. automodule:: lessonlib\.(\w+)\s*$", API, flags=re.M))
    listed = set(re.findall(r"^   lessonlib\.(\w+)\s*$", API, flags=re.M))
    assert [m for m in modules if m not in documented] == []
    assert [m for m in modules if m not in listed] == []


def test_the_api_page_is_built_with_autodoc():
    config = yaml.safe_load((ROOT / "book" / "_config.yml").read_text(encoding="utf-8"))
    assert {"sphinx.ext.autodoc", "sphinx.ext.autosummary", "sphinx.ext.napoleon"} <= set(
        config["sphinx"]["extra_extensions"])
    toc = (ROOT / "book" / "_toc.yml").read_text(encoding="utf-8")
    assert "- file: api" in toc
