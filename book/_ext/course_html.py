"""Local Sphinx extension: fixes to the HTML pages that the browser tests
(``tests/browser/``) found.

* **Launch buttons open real notebooks.** sphinx-book-theme points Binder, Colab and
  JupyterHub at the page's source path inside ``book/``. For an exercise notebook that
  path runs through the ``book/notebooks`` symlink, which GitHub (and so Colab) does not
  follow; for a chapter, a MyST ``.md`` file, Colab cannot open it at all and JupyterLab
  opens it as text. The buttons are re-pointed at the notebook's real path in the
  repository; a chapter's buttons open the chapter's exercise notebook (its first
  ``.ipynb`` section in ``_toc.yml``), and a page with no notebook gets no launch buttons.
* **Accessible pages.** ``_static/accessibility.js`` and ``accessibility.css`` fix what
  the axe-core audit found in the theme's markup: unnamed sidebar toggles, the
  bibliography's list roles, code blocks in solutions that scroll but take no keyboard
  focus, link and output colours below 4.5:1 contrast.
* **Each script once.** sphinx-thebe registers its configuration script twice in a
  Jupyter Book build, which throws ``Identifier 'THEBE_JS_URL' has already been declared``
  on every page; duplicate script entries are dropped.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from sphinx.application import Sphinx
from sphinx.util import logging

LOGGER = logging.getLogger(__name__)
LAUNCH_GROUP = "launch-buttons"


def _repository_root(app: Sphinx) -> tuple[Path, str]:
    """The repository's root on disk and the book's folder inside it (``"book"``)."""
    book_relpath = app.config.html_theme_options.get("path_to_docs", "").strip("/")
    root = Path(app.srcdir).resolve()
    for _ in Path(book_relpath).parts:
        root = root.parent
    return root, book_relpath


def _theme_path(app: Sphinx, pagename: str, book_relpath: str) -> str:
    """The repository path sphinx-book-theme wrote into the launch URLs (same rule)."""
    source = Path(app.env.doc2path(pagename))
    extension = source.suffix
    if extension != ".ipynb" and source.with_suffix(".ipynb").exists():
        extension = ".ipynb"
    prefix = f"{book_relpath}/" if book_relpath else ""
    return f"{prefix}{pagename}{extension}"


def _notebook_for(app: Sphinx, pagename: str) -> Path | None:
    """The notebook a reader of ``pagename`` should launch: the page itself if it is a
    notebook file, else its first ``.ipynb`` section in the table of contents."""
    candidates = [pagename, *app.env.toctree_includes.get(pagename, [])]
    for docname in candidates:
        source = Path(app.env.doc2path(docname))
        if source.suffix == ".ipynb":
            return source.resolve()
    return None


def retarget_launch_buttons(
    app: Sphinx, pagename: str, templatename: str, context: dict[str, Any], doctree: Any
) -> None:
    buttons = context.get("header_buttons", [])
    group = next((b for b in buttons if b.get("label") == LAUNCH_GROUP), None)
    if group is None:
        return
    root, book_relpath = _repository_root(app)
    notebook = _notebook_for(app, pagename)
    if notebook is None or not notebook.is_relative_to(root):
        buttons.remove(group)  # nothing runnable to launch from this page
        return
    old = _theme_path(app, pagename, book_relpath)
    new = notebook.relative_to(root).as_posix()
    for button in group.get("buttons", []):
        if button.get("type") != "link":
            continue
        if old not in button["url"]:
            LOGGER.warning("launch button %r of %s does not name %s: not re-pointed", button["text"], pagename, old)
            continue
        button["url"] = button["url"].replace(old, new)
        button["tooltip"] = f"Open {new} on {button['text']}"


def drop_duplicate_scripts(
    app: Sphinx, pagename: str, templatename: str, context: dict[str, Any], doctree: Any
) -> None:
    scripts = context.get("script_files")
    if not scripts:
        return
    seen: set[tuple[str, tuple[tuple[str, str], ...]]] = set()
    unique = []
    for script in scripts:
        # sphinx-thebe's copy names its file None, the other one "": the same inline script.
        filename = str(getattr(script, "filename", script) or "")
        attributes = getattr(script, "attributes", {}) or {}
        key = (filename, tuple(sorted((k, str(v)) for k, v in attributes.items())))
        if key not in seen:
            seen.add(key)
            unique.append(script)
    context["script_files"] = unique


def setup(app: Sphinx) -> dict[str, Any]:
    # After sphinx-book-theme builds its buttons (priority 501).
    app.connect("html-page-context", retarget_launch_buttons, priority=600)
    app.connect("html-page-context", drop_duplicate_scripts, priority=900)
    # Names for the sidebar's toggles, list items for the bibliography, contrast
    # (what the axe-core audit of tests/browser/ found; see the two files).
    app.add_js_file("accessibility.js")
    app.add_css_file("accessibility.css")
    return {"parallel_read_safe": True, "parallel_write_safe": True}
