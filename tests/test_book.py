"""The published book builds with every page executed and warnings as errors, so a broken
cross-reference, citation or failing cell fails the tests."""

from __future__ import annotations

import os
import subprocess

import pytest
import yaml
from conftest import ROOT, venv_tool

pytestmark = pytest.mark.slow
BOOK = ROOT / "book"


def _toc_files() -> list[str]:
    toc = yaml.safe_load((BOOK / "_toc.yml").read_text())
    files = [toc["root"]]

    def walk(entries):
        for entry in entries:
            if "file" in entry:
                files.append(entry["file"])
            walk(entry.get("sections", []))
            walk(entry.get("chapters", []))

    walk(toc.get("parts", []))
    return files


def test_every_toc_entry_exists_and_is_not_a_placeholder():
    for name in _toc_files():
        matches = [p for p in BOOK.glob(f"{name}.*") if p.suffix in {".md", ".ipynb"}]
        assert matches, f"{name} is in the table of contents but has no file"
        body = matches[0].read_text(encoding="utf-8").lower()
        for marker in ("todo", "tbd", "coming soon", "to be written", "placeholder"):
            assert marker not in body, f"{name} contains {marker!r}: only written pages go in the toc"


def test_book_builds_with_warnings_as_errors():
    jupyter_book = venv_tool("jupyter-book")
    result = subprocess.run(
        [str(jupyter_book), "build", str(BOOK), "--warningiserror", "--keep-going"],
        capture_output=True, text=True, timeout=1200,
        env={**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"},
    )
    assert result.returncode == 0, result.stdout[-6000:] + result.stderr[-3000:]
    html = BOOK / "_build" / "html"
    for name in _toc_files():
        assert (html / f"{name}.html").is_file(), f"{name}.html was not written"
