"""The static book is useful without a kernel: every widget has a static figure in the book.

Checked from the code, for every public function of ``lessonlib/widgets/chNN.py``:

* it draws with a figure function of :mod:`lessonlib.viz` (a function annotated
  ``-> Figure``), which is what it shows and redraws as its controls move;
* chapter NN's page (``book/chapters/NN-*.md``) calls that same figure function in a code
  cell, so the executed book shows it statically;
* it returns an :class:`~lessonlib.widgets._figure.Explorer`, whose static snapshot (figure
  and readout) is what the book's notebook pages show in place of the live widget;
* chapter NN's notebook shows it.

CONTRIBUTING.md ("Widgets and their static figures") states the rule for chapter authors.
"""

from __future__ import annotations

import ast
import importlib
import re
import typing
from pathlib import Path

import nbformat
import pytest
from conftest import ROOT
from matplotlib.figure import Figure

from lessonlib.widgets._figure import Explorer

WIDGET_MODULES = sorted((ROOT / "lessonlib" / "widgets").glob("ch[0-9][0-9].py"))
CODE_CELL = re.compile(r"^```\{code-cell\}[^\n]*\n(.*?)^```", re.MULTILINE | re.DOTALL)
CELL_OPTIONS = re.compile(r"\A---\n.*?^---\n", re.MULTILINE | re.DOTALL)


def _widget_functions() -> list[tuple[str, str]]:
    found = []
    for path in WIDGET_MODULES:
        tree = ast.parse(path.read_text(encoding="utf-8"))
        found += [
            (path.stem, node.name) for node in tree.body
            if isinstance(node, ast.FunctionDef) and not node.name.startswith("_")
        ]
    return found


def _imported_viz(tree: ast.AST) -> dict[str, str]:
    """Local name -> dotted ``lessonlib.viz`` name, from a module's imports."""
    names = {}
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("lessonlib.viz"):
            for alias in node.names:
                names[alias.asname or alias.name] = f"{node.module}.{alias.name}"
        elif isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name.startswith("lessonlib.viz"):
                    names[alias.asname or alias.name] = alias.name
    return names


def _dotted(node: ast.AST) -> str | None:
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute):
        base = _dotted(node.value)
        return None if base is None else f"{base}.{node.attr}"
    return None


def _is_figure_function(dotted: str) -> bool:
    module_name, _, attribute = dotted.rpartition(".")
    try:
        function = getattr(importlib.import_module(module_name), attribute)
    except (ImportError, AttributeError, ValueError):
        return False
    return callable(function) and typing.get_type_hints(function).get("return") is Figure


def _figure_calls(node: ast.AST, names: dict[str, str]) -> set[str]:
    """The lessonlib.viz figure functions that ``node`` calls (directly or in closures)."""
    calls = set()
    for sub in ast.walk(node):
        if isinstance(sub, ast.Call) and (dotted := _dotted(sub.func)):
            head, _, rest = dotted.partition(".")
            if head in names:
                qualified = names[head] + (f".{rest}" if rest else "")
                if _is_figure_function(qualified):
                    calls.add(qualified)
    return calls


def _chapter_page(module: str) -> Path:
    pages = sorted((ROOT / "book" / "chapters").glob(f"{module[2:]}-*.md"))
    assert pages, f"no book/chapters/{module[2:]}-*.md for lessonlib/widgets/{module}.py"
    return pages[0]


def _page_figure_calls(page: Path) -> set[str]:
    cells = []
    for body in CODE_CELL.findall(page.read_text(encoding="utf-8")):
        body = CELL_OPTIONS.sub("", body)  # a leading YAML block of options (figure caption, alt, tags)
        lines = [line for line in body.splitlines() if not line.lstrip().startswith(("%", "!", ":"))]
        cells.append("\n".join(lines))
    tree = ast.parse("\n\n".join(cells))
    return _figure_calls(tree, _imported_viz(tree))


@pytest.mark.parametrize(("module", "name"), _widget_functions(), ids=lambda v: v)
def test_widget_draws_a_figure_the_book_shows(module, name):
    path = ROOT / "lessonlib" / "widgets" / f"{module}.py"
    tree = ast.parse(path.read_text(encoding="utf-8"))
    function = next(n for n in tree.body if isinstance(n, ast.FunctionDef) and n.name == name)
    drawn = _figure_calls(function, _imported_viz(tree))
    assert drawn, (
        f"lessonlib.widgets.{module}.{name} draws no lessonlib.viz figure function (one annotated "
        "-> Figure): a widget must redraw a figure the book shows statically"
    )
    page = _chapter_page(module)
    shown = _page_figure_calls(page)
    missing = sorted(drawn - shown)
    assert not missing, (
        f"lessonlib.widgets.{module}.{name} draws {missing}, which {page.relative_to(ROOT)} never calls: "
        "show the same figure in the chapter for readers without a kernel"
    )


@pytest.mark.parametrize(("module", "name"), _widget_functions(), ids=lambda v: v)
def test_widget_has_a_static_snapshot_and_is_in_the_notebook(module, name):
    function = getattr(importlib.import_module(f"lessonlib.widgets.{module}"), name)
    returned = typing.get_type_hints(function).get("return")
    assert isinstance(returned, type) and issubclass(returned, Explorer), (
        f"lessonlib.widgets.{module}.{name} must return an Explorer (build it with "
        "lessonlib.widgets._figure.explorer), so the book shows its static snapshot"
    )
    notebooks = sorted((ROOT / "notebooks").glob(f"{module[2:]}-*.ipynb"))
    assert notebooks, f"no notebooks/{module[2:]}-*.ipynb for lessonlib/widgets/{module}.py"
    source = "\n".join(c.source for c in nbformat.read(notebooks[0], as_version=4).cells if c.cell_type == "code")
    assert re.search(rf"\b{name}\(", source), f"{notebooks[0].name} never shows the widget {name}"


def test_the_check_finds_figure_calls():
    """The checks above can fail: a page without the figure call, and a widget module
    without figure functions, are both seen as such."""
    tree = ast.parse("from lessonlib.viz import ch01 as viz\nfig = viz.plot_memory(dim=4)\nviz.check_table([], None)\n")
    assert _figure_calls(tree, _imported_viz(tree)) == {"lessonlib.viz.ch01.plot_memory"}
    tree = ast.parse("from lessonlib.viz.ch01 import check_table\ncheck_table([], None)\n")
    assert _figure_calls(tree, _imported_viz(tree)) == set()
    assert _widget_functions(), "no widget functions found: the checks would pass vacuously"
