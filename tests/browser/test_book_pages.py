"""The published book as a reader meets it: every page of ``book/_toc.yml`` (plus the
generated index and search pages) opened in headless Chromium from a localhost server.

Each page is loaded once (:func:`visit`); the checks below read what that visit saw.
Nothing here names a chapter: pages, formulas, images, links, solutions, buttons and
widgets are all found in ``_toc.yml``, ``_config.yml`` and the rendered HTML, so new
chapters are covered as they are added to the table of contents.
"""

from __future__ import annotations

import html.parser
import json
import re
import subprocess
import time
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path

import nbformat
import pytest
import yaml
from axe_playwright_python.sync_playwright import Axe
from conftest import BOOK, BOOK_HTML, ROOT, toc_files

from .conftest import SCREENSHOTS, TIMINGS

pytestmark = [pytest.mark.browser, pytest.mark.slow]

GENERATED_PAGES = ["genindex", "search"]  # written by Sphinx itself, not in the toc
PAGES = toc_files() + GENERATED_PAGES
FACTS_JS = (Path(__file__).parent / "page_facts.js").read_text(encoding="utf-8")
# Wait until what the reader will see is final: MathJax typeset, web fonts loaded, every
# image (lazy ones included) fetched and decoded.
SETTLE_JS = """async () => {
  if (window.MathJax && MathJax.startup && MathJax.startup.promise) await MathJax.startup.promise;
  await document.fonts.ready;
  const images = [...document.images];
  images.forEach((img) => { img.loading = "eager"; });
  await Promise.all(images.map((img) => img.decode().catch(() => null)));
}"""
# A block opened by a click fades in (sphinx-togglebutton's details: opacity 0 to 1 over
# 0.3 s): the audit must see it at full opacity, or axe measures half-faded text's contrast
# (a busy machine gets there before the fade ends). Every finite animation is awaited.
ANIMATIONS_DONE_JS = """async () => {
  const finite = document.getAnimations().filter((a) => {
    const timing = a.effect && a.effect.getComputedTiming();
    return timing && Number.isFinite(timing.endTime);
  });
  await Promise.all(finite.map((a) => a.finished.catch(() => null)));
}"""
CONFIG = yaml.safe_load((BOOK / "_config.yml").read_text(encoding="utf-8"))
# The accessibility audit: axe-core (shipped inside the axe-playwright-python wheel, no
# network) on every page, after its solutions and dropdowns were opened. A critical or
# serious violation fails the page unless it is listed here with the reason it is accepted:
# {rule id: (CSS selector fragment its every node matches, reason)}.
AXE = Axe()
AXE_OPTIONS = {"resultTypes": ["violations"], "preload": False}  # preload would fetch @import-ed CSS from the wrong URL (404)
# Colour contrast is measured on one element per look (contrast_samples.js): the same
# verdicts as on every element, at a third of the time on pages of code (tests/browser/test_audit.py).
CONTRAST_SAMPLES_JS = (Path(__file__).parent / "contrast_samples.js").read_text(encoding="utf-8")
CONTRAST_ON_SAMPLES_JS = "() => axe.configure({rules: [{id: 'color-contrast', selector: '[data-contrast-sample]'}]})"
AXE_FAILING = {"critical", "serious"}
ACCEPTED_VIOLATIONS: dict[str, tuple[str, str]] = {}
ACCESSIBILITY = BOOK_HTML.parent / "accessibility"


# --------------------------------------------------------------------------- the visit


@dataclass
class Visit:
    """What one page load showed."""

    page: str
    url: str
    console_errors: list[str] = field(default_factory=list)
    page_errors: list[str] = field(default_factory=list)
    failed_local: list[str] = field(default_factory=list)
    external_requests: list[str] = field(default_factory=list)
    facts: dict = field(default_factory=dict)
    toggles: list[dict] = field(default_factory=list)
    violations: list[dict] = field(default_factory=list)  # axe-core's, after the toggles opened
    widgets: WidgetMoves | None = None  # the static widgets' controls moved, after the audit
    screenshot: Path | None = None
    seconds: float = 0.0


@dataclass
class WidgetMoves:
    """The static widgets of a page with their controls moved one by one (no kernel)."""

    count: int = 0  # static widgets on the page
    moved: int = 0  # controls moved that showed another frame
    problems: list[str] = field(default_factory=list)  # a control disabled or without effect, a timeout
    page_errors: list[str] = field(default_factory=list)  # JavaScript errors while moving


def _is_local(url: str) -> bool:
    return urllib.parse.urlsplit(url).hostname in {"127.0.0.1", "localhost"}


def _exercise_toggles(page) -> list[dict]:
    """Every collapsible block in the article: state on load, and whether a click opens it.
    sphinx-togglebutton admonitions (solutions, dropdowns) and <details> (hidden cells)."""
    found = []
    # Solutions that are not toggles at all (no `:class: dropdown`) are listed too: open.
    admonitions = page.locator("article .admonition.toggle, article .solution")
    for i in range(admonitions.count()):
        block = admonitions.nth(i)
        body = block.locator(":scope > :not(.admonition-title)").first
        entry = {
            "kind": "solution" if "solution" in (block.get_attribute("class") or "") else "dropdown",
            "label": block.locator(".admonition-title").first.inner_text().strip()[:70],
            "collapsed": not body.is_visible(),
        }
        if entry["collapsed"]:
            block.locator(".toggle-button").first.click()
            body.wait_for(state="visible", timeout=3000)
        entry["opened"] = body.is_visible()
        found.append(entry)
    details = page.locator("article details")
    for i in range(details.count()):
        block = details.nth(i)
        body = block.locator(":scope > :not(summary)").first
        entry = {
            "kind": "hidden cell" if "cell" in (block.evaluate("el => el.parentElement.className") or "") else "details",
            "label": block.locator("summary").first.inner_text().strip()[:70],
            "collapsed": block.get_attribute("open") is None,
        }
        if entry["collapsed"]:
            block.locator("summary").first.click()
            body.wait_for(state="visible", timeout=3000)
        entry["opened"] = body.is_visible()
        found.append(entry)
    return found


STATIC_WIDGET_JS = """(box) => ({
  src: box.querySelector("img.lessonlib-static-frame").src,
  readout: box.querySelector(".lessonlib-static-readout").innerText,
  controls: [...box.querySelectorAll("[data-control]")].map((c) => ({tag: c.tagName, options: c.tagName === "SELECT" ? c.options.length : +c.max + 1, value: c.value})),
})"""


def _move_static_widgets(page, name: str, errors: list[str]) -> WidgetMoves:
    """Move every control of every static widget on ``page`` to another position and record
    whether the widget showed another frame; each widget is photographed before and after its
    first control moves (book/_build/screenshots/static-widget-*). ``errors`` is the page's
    list of JavaScript errors: those raised while moving are recorded apart."""
    record = WidgetMoves()
    before_errors = len(errors)
    boxes = page.locator("article .lessonlib-static-widget")
    record.count = boxes.count()
    for i in range(record.count):
        box = boxes.nth(i)
        try:
            box.scroll_into_view_if_needed()
            page.wait_for_function("(b) => b.classList.contains('lessonlib-static-ready')",
                                   arg=box.element_handle(), polling=100)
            state = box.evaluate(STATIC_WIDGET_JS)
            for j, control in enumerate(state["controls"]):
                if control["options"] < 2:
                    continue
                element = box.locator("[data-control]").nth(j)
                if not element.is_enabled():
                    record.problems.append(f"static widget {i}, control {j} is still disabled")
                    continue
                target = "0" if control["value"] != "0" else str(control["options"] - 1)
                shot = SCREENSHOTS / f"static-widget-{name.replace('/', '__')}-{i}"
                if j == 0:
                    box.screenshot(path=f"{shot}-before.png")
                if control["tag"] == "SELECT":
                    element.select_option(value=target)
                else:
                    element.fill(target)
                after = box.evaluate(STATIC_WIDGET_JS)
                if after["src"] == state["src"]:
                    record.problems.append(f"static widget {i}: control {j} moved but the figure did not change")
                else:
                    record.moved += 1
                if j == 0:
                    box.screenshot(path=f"{shot}-after.png")
                state = after
        except Exception as error:  # a timeout or a detached element: the test reports it
            first_line = (str(error).splitlines() or [""])[0]
            record.problems.append(f"static widget {i}: {type(error).__name__}: {first_line}")
    record.page_errors = errors[before_errors:]
    return record


def audit(page) -> list[dict]:
    """axe-core's violations on ``page`` as it is now: every rule of :data:`AXE_OPTIONS`, with
    color-contrast measured on one rendered element per look (:data:`CONTRAST_SAMPLES_JS`)."""
    page.evaluate(AXE.axe_script)
    page.evaluate(CONTRAST_SAMPLES_JS)
    page.evaluate(CONTRAST_ON_SAMPLES_JS)
    return page.evaluate("(options) => axe.run(document, options)", AXE_OPTIONS)["violations"]


@pytest.fixture(scope="session")
def visit(chromium, book_site):
    """``visit(page)``: load ``page`` once per session and return what it showed."""
    seen: dict[str, Visit] = {}
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    context = chromium.new_context(viewport={"width": 1280, "height": 800}, service_workers="block")

    def load(name: str) -> Visit:
        if name in seen:
            return seen[name]
        result = Visit(page=name, url=urllib.parse.urljoin(book_site, f"{name}.html"))
        start = time.perf_counter()
        page = context.new_page()
        page.on("console", lambda m: m.type == "error" and result.console_errors.append(
            f"{m.text} (at {m.location.get('url', '?')})"))
        page.on("pageerror", lambda e: result.page_errors.append(str(e)))

        def on_request(request):
            if urllib.parse.urlsplit(request.url).scheme in {"http", "https", "ws", "wss"} and not _is_local(request.url):
                result.external_requests.append(request.url)

        page.on("request", on_request)
        page.on("requestfailed", lambda r: _is_local(r.url) and result.failed_local.append(f"{r.url}: {r.failure}"))
        page.on("response", lambda r: r.status >= 400 and result.failed_local.append(f"{r.url}: HTTP {r.status}"))
        try:
            page.goto(result.url, wait_until="load")
            page.evaluate(SETTLE_JS)
            result.screenshot = SCREENSHOTS / (name.replace("/", "__") + ".png")
            page.screenshot(path=str(result.screenshot))  # the first screen, as a reader opens it
            result.facts = page.evaluate(FACTS_JS)
            result.toggles = _exercise_toggles(page)
            page.evaluate(ANIMATIONS_DONE_JS)
            result.violations = audit(page)
            if result.facts.get("staticWidgets"):  # on the same load, once the audit has seen it as loaded
                result.widgets = _move_static_widgets(page, name, result.page_errors)
        finally:
            page.close()
        result.seconds = time.perf_counter() - start
        TIMINGS[f"visit {name}"] = result.seconds
        seen[name] = result
        return result

    yield load
    context.close()


# --------------------------------------------------------------------------- helpers


class _Anchors(html.parser.HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.anchors: set[str] = set()

    def handle_starttag(self, tag, attrs):
        for key, value in attrs:
            if key == "id" or (tag == "a" and key == "name"):
                self.anchors.add(value or "")


@cache
def _fetch(url: str) -> tuple[int, bytes]:
    try:
        with urllib.request.urlopen(url, timeout=30) as response:
            return response.status, response.read()
    except urllib.error.HTTPError as error:
        return error.code, b""


@cache
def _anchors(url: str) -> frozenset[str]:
    parser = _Anchors()
    parser.feed(_fetch(url)[1].decode("utf-8", "replace"))
    return frozenset(parser.anchors)


def _source(page: str) -> Path | None:
    for suffix in (".ipynb", ".md", ".rst"):
        if (BOOK / f"{page}{suffix}").is_file():
            return BOOK / f"{page}{suffix}"
    return None


def _is_notebook(source: Path | None) -> bool:
    """A page Jupyter Book executes: an .ipynb, or a MyST notebook (kernelspec in front matter)."""
    if source is None:
        return False
    if source.suffix == ".ipynb":
        return True
    text = source.read_text(encoding="utf-8")
    return text.startswith("---") and "kernelspec:" in text.split("---", 2)[1]


def _toc_children(page: str) -> list[str]:
    toc = yaml.safe_load((BOOK / "_toc.yml").read_text())

    def walk(entries):
        for entry in entries:
            if entry.get("file") == page:
                return [s["file"] for s in entry.get("sections", []) if "file" in s]
            found = walk(entry.get("sections", []) + entry.get("chapters", []))
            if found is not None:
                return found
        return None

    return walk(toc.get("parts", [])) or []


def _launch_target(page: str) -> str | None:
    """The repository path a page's launch buttons must open, or None for no buttons: the
    notebook itself, or for a chapter its first notebook section; always a real path (no
    symlink), since GitHub and Colab do not follow symlinked folders."""
    source = _source(page)
    if not _is_notebook(source):
        return None
    for candidate in [page, *_toc_children(page)]:
        path = _source(candidate)
        if path is not None and path.suffix == ".ipynb":
            return path.resolve().relative_to(ROOT.resolve()).as_posix()
    return None


def _tracked(path: str) -> bool:
    if not (ROOT / ".git").exists():
        return (ROOT / path).is_file()
    result = subprocess.run(["git", "ls-files", "--error-unmatch", path], cwd=ROOT, capture_output=True)
    return result.returncode == 0


def _book_glossary_term() -> str:
    """A term the book defines: the first English entry of the built glossary."""
    class Terms(html.parser.HTMLParser):
        def __init__(self):
            super().__init__()
            self.terms, self._in = [], False

        def handle_starttag(self, tag, attrs):
            self._in = tag == "dt" and any(k == "id" and (v or "").startswith("term-") for k, v in attrs)
            if self._in:
                self.terms.append("")

        def handle_endtag(self, tag):
            if tag == "dt":
                self._in = False

        def handle_data(self, data):
            if self._in:
                self.terms[-1] += data

    parser = Terms()
    parser.feed((BOOK_HTML / "glossary.html").read_text(encoding="utf-8"))
    english = [t.strip() for t in parser.terms if t.strip().isascii() and t.strip().isalpha()]
    assert english, "the glossary defines no single-word English term to search for"
    return english[0]


# --------------------------------------------------------------------------- per page


@pytest.mark.parametrize("page", PAGES)
def test_no_console_errors(page, visit, note):
    seen = visit(page)
    assert not seen.page_errors, f"{page}: JavaScript errors: {seen.page_errors}"
    assert not seen.console_errors, f"{page}: console errors: {seen.console_errors}"
    note(f"{seen.seconds:.1f} s")


@pytest.mark.parametrize("page", PAGES)
def test_no_failed_requests(page, visit):
    seen = visit(page)
    assert not seen.failed_local, f"{page}: local requests failed: {seen.failed_local}"


@pytest.mark.parametrize("page", PAGES)
def test_works_offline(page, visit):
    """Nothing is fetched from outside localhost: the book reads the same without a network
    (MathJax, widget scripts and fonts ship in _static)."""
    seen = visit(page)
    assert not seen.external_requests, f"{page}: requests leave localhost: {seen.external_requests}"


@pytest.mark.parametrize("page", PAGES)
def test_formulas_typeset(page, visit, note):
    facts = visit(page).facts
    if facts["mathCount"]:
        assert facts["mathjax"], f"{page}: has {facts['mathCount']} formulas but MathJax did not load"
    assert not facts["untypeset"], f"{page}: formulas not typeset by MathJax: {facts['untypeset'][:5]}"
    assert not facts["mathErrors"], f"{page}: TeX errors: {facts['mathErrors'][:5]}"
    assert not facts["rawTex"], f"{page}: raw TeX left in the text: {facts['rawTex'][:5]}"
    note(f"{facts['mathCount']} formulas")


@pytest.mark.parametrize("page", PAGES)
def test_images_load(page, visit, note):
    images = visit(page).facts["images"]
    broken = [i for i in images if not i["complete"] or i["width"] == 0 or i["height"] == 0]
    assert not broken, f"{page}: images not loaded (or of zero size): {broken}"
    note(f"{len(images)} images")


@pytest.mark.parametrize("page", PAGES)
def test_links_resolve(page, visit, note):
    """Every internal link reaches a page (HTTP 200) and, with a #fragment, an element with
    that id there; every external link is a well-formed http(s)/mailto URL."""
    seen = visit(page)
    problems, internal, external = [], 0, 0
    for link in seen.facts["links"]:
        parts = urllib.parse.urlsplit(link["href"])
        if parts.scheme in {"javascript"} or link["raw"].startswith("#") and link["raw"] in {"#", ""}:
            continue
        if _is_local(link["href"]):
            internal += 1
            target = urllib.parse.urlunsplit((parts.scheme, parts.netloc, parts.path, parts.query, ""))
            status, _ = _fetch(target)
            if status != 200:
                problems.append(f"{link['raw']!r} ({link['text']!r}): HTTP {status}")
            elif parts.fragment and target.endswith(".html"):
                fragment = urllib.parse.unquote(parts.fragment)
                if fragment not in _anchors(target):
                    problems.append(f"{link['raw']!r} ({link['text']!r}): no #{fragment} on {parts.path}")
        else:
            external += 1
            ok = (parts.scheme in {"http", "https"} and parts.hostname and "." in parts.hostname) or (
                parts.scheme == "mailto" and "@" in parts.path
            )
            if not ok:
                problems.append(f"{link['raw']!r} ({link['text']!r}): not a well-formed external URL")
    assert not problems, f"{page}: broken links:\n" + "\n".join(problems)
    note(f"{internal} internal, {external} external")


@pytest.mark.parametrize("page", PAGES)
def test_solutions_collapsed_and_open_on_click(page, visit, note):
    toggles = visit(page).toggles
    open_solutions = [t["label"] for t in toggles if t["kind"] == "solution" and not t["collapsed"]]
    assert not open_solutions, f"{page}: solutions shown without a click: {open_solutions}"
    stuck = [f"{t['kind']} {t['label']!r}" for t in toggles if not t["opened"]]
    assert not stuck, f"{page}: blocks that do not open on click: {stuck}"
    source = _source(page)
    text = source.read_text(encoding="utf-8") if source is not None else ""
    written = len(re.findall(r"^[`:]{3,}\{solution\}", text, flags=re.MULTILINE))  # the directives
    shown = sum(t["kind"] == "solution" for t in toggles)
    assert shown >= written, f"{page}: {written} solution directives in the source but {shown} solution blocks seen"
    kinds = sorted({t["kind"] for t in toggles})
    counts = {k: sum(t["kind"] == k for t in toggles) for k in kinds}
    note(", ".join(f"{n} {k}{'s' if n != 1 else ''}" for k, n in counts.items()) or "none on page")


@pytest.mark.parametrize("page", PAGES)
def test_launch_and_download_buttons(page, visit, book_site, note):
    facts = visit(page).facts
    launch_config = CONFIG.get("launch_buttons", {})
    repository = CONFIG["repository"]
    repo_url = repository["url"].rstrip("/")
    org, repo = urllib.parse.urlsplit(repo_url).path.strip("/").split("/")[:2]
    branch = repository.get("branch", "main")
    ui = {"jupyterlab": "lab/tree", "classic": "tree"}[launch_config.get("notebook_interface", "classic")]

    target = _launch_target(page)
    launch = {b["text"]: b["href"] for b in facts["launch"]}
    if target is None:
        assert not launch, f"{page} has nothing to run but shows launch buttons: {launch}"
    else:
        assert _tracked(target), f"{page}: launch target {target} is not a file in the repository"
        expected = {}
        if launch_config.get("binderhub_url"):
            expected["Binder"] = (
                f"{launch_config['binderhub_url'].rstrip('/')}/v2/gh/{org}/{repo}/{branch}?urlpath={ui}/{target}"
            )
        if launch_config.get("colab_url"):
            expected["Colab"] = f"{launch_config['colab_url'].rstrip('/')}/github/{org}/{repo}/blob/{branch}/{target}"
        if launch_config.get("jupyterhub_url"):
            query = urllib.parse.urlencode({"repo": repo_url, "urlpath": f"{ui}/{repo}/{target}", "branch": branch}, safe="/")
            expected["JupyterHub"] = f"{launch_config['jupyterhub_url'].rstrip('/')}/hub/user-redirect/git-pull?{query}"
        assert launch == expected, f"{page}: launch buttons\n got      {launch}\n expected {expected}"

    # Download: the page's source, the notebook for executed pages, print to PDF.
    source = _source(page)
    downloads = {b["text"]: b for b in facts["download"]}
    if source is not None:
        link = downloads.get(source.suffix)
        assert link and link["href"], f"{page}: no {source.suffix} download button: {list(downloads)}"
        assert link["href"].endswith(f"_sources/{page}{source.suffix}"), link["href"]
        status, body = _fetch(link["href"])
        assert status == 200 and body, f"{page}: source download {link['href']} gives HTTP {status}"
        if _is_notebook(source):
            notebook = downloads.get(".ipynb")
            assert notebook and notebook["href"], f"{page}: no .ipynb download button"
            status, body = _fetch(notebook["href"])
            assert status == 200, f"{page}: notebook download {notebook['href']} gives HTTP {status}"
            nbformat.validate(nbformat.reads(body.decode("utf-8"), as_version=4))
        pdf = downloads.get(".pdf")
        assert pdf and pdf["onclick"] == "window.print()", f"{page}: no print-to-PDF button"
        # The repository and issue buttons name the configured repository.
        sources = [b["href"] for b in facts["source"] if b["href"]]
        assert repo_url in sources, f"{page}: no repository button for {repo_url}: {sources}"
        assert any(h.startswith(f"{repo_url}/issues/new?") for h in sources), f"{page}: no issue button: {sources}"
    note(f"launch: {', '.join(sorted(launch)) or 'none'}; downloads: {', '.join(sorted(downloads)) or 'none'}")


@pytest.mark.parametrize("page", PAGES)
def test_every_character_has_a_glyph(page, visit, note):
    """No character of the page (the Korean terms of the glossary and the notes' quotes
    included) is drawn as the missing-glyph box."""
    facts = visit(page).facts
    assert facts["glyphDetectorWorks"], "the missing-glyph detector does not flag an unassigned code point"
    assert not facts["missingGlyphs"], (
        f"{page}: no font draws {''.join(facts['missingGlyphs'])!r} "
        f"({', '.join(f'U+{ord(c):04X}' for c in facts['missingGlyphs'][:10])}); "
        "the test machine needs fonts-noto-cjk (make browser-deps)"
    )
    note(f"{facts['glyphsChecked']} non-ASCII characters")


@pytest.mark.parametrize("page", PAGES)
def test_widgets_shown_as_snapshots(page, visit, note):
    """The book has no kernel: a widget cell shows the widget's static snapshot (figure and
    readout), never its text repr such as ``VBox(children=...)``."""
    seen = visit(page)
    assert not seen.facts["widgetText"], f"{page}: widgets rendered as plain text: {seen.facts['widgetText']}"
    source = _source(page)
    if source is not None and source.suffix == ".ipynb":
        cells = nbformat.read(source, as_version=4).cells
        widget_cells = [c for c in cells if c.cell_type == "code" and "lessonlib.widgets" in c.source]
        snapshots = seen.facts["snapshots"]
        assert snapshots >= len(widget_cells), (
            f"{page}: {len(widget_cells)} widget cells but {snapshots} widget snapshots with a figure"
        )
        note(f"{snapshots} widget snapshots")


def _accepted(violation: dict) -> bool:
    accepted = ACCEPTED_VIOLATIONS.get(violation["id"])
    return accepted is not None and all(
        accepted[0] in " ".join(node["target"]) + " " + node.get("html", "") for node in violation["nodes"]
    )


@pytest.mark.parametrize("page", PAGES)
def test_accessibility_audit(page, visit, note):
    """axe-core on the page as a reader left it (solutions opened): no critical or serious
    violation but the accepted ones. Every violation, by impact, is written to
    book/_build/accessibility/<page>.json."""
    violations = visit(page).violations
    by_impact: dict[str, int] = {}
    for violation in violations:
        impact = violation.get("impact") or "unknown"
        by_impact[impact] = by_impact.get(impact, 0) + len(violation["nodes"])
    ACCESSIBILITY.mkdir(parents=True, exist_ok=True)
    summary = [{"id": v["id"], "impact": v.get("impact"), "help": v["help"], "nodes": len(v["nodes"]),
                "accepted": _accepted(v), "targets": [" ".join(n["target"]) for n in v["nodes"]][:10]}
               for v in violations]
    (ACCESSIBILITY / (page.replace("/", "__") + ".json")).write_text(json.dumps(summary, indent=1), encoding="utf-8")
    failing = [v for v in summary if v["impact"] in AXE_FAILING and not v["accepted"]]
    assert not failing, f"{page}: accessibility violations:\n" + "\n".join(
        f"{v['impact']} {v['id']} ({v['help']}), {v['nodes']} nodes: {v['targets'][:3]}" for v in failing
    )
    order = ["critical", "serious", "moderate", "minor"]
    note(", ".join(f"{by_impact.get(k, 0)} {k}" for k in order) + " (nodes)")



@pytest.mark.parametrize("page", PAGES)
def test_static_widgets_redraw_when_a_control_moves(page, visit, note):
    """Without a kernel, every widget's HTML controls work: moving each one shows another
    frame (figure) of the widget. The visit moves them on its load of the page, after its
    audit (:func:`_move_static_widgets`); each widget is photographed before and after its
    first control moves (book/_build/screenshots/static-widget-*)."""
    source = _source(page)
    expected = 0
    if source is not None and source.suffix == ".ipynb":
        cells = nbformat.read(source, as_version=4).cells
        expected = sum(bool(re.search(r"^\w+_explorer\(", c.source, re.M)) for c in cells if c.cell_type == "code")
    result = visit(page)
    if result.facts["staticWidgets"] == 0:
        assert expected == 0, f"{page}: {expected} widget cells but no static widget"
        note("no static widgets on the page")
        return
    moves = result.widgets
    assert moves is not None, f"{page}: the visit found static widgets but did not move them"
    assert moves.count >= expected, f"{page}: {expected} widget cells but {moves.count} static widgets"
    assert not moves.problems, f"{page}: " + "; ".join(moves.problems)
    assert moves.moved > 0, f"{page}: no control of its {moves.count} static widgets could be moved"
    assert not moves.page_errors, f"{page}: JavaScript errors: {moves.page_errors}"
    note(f"{moves.moved} controls moved")


# --------------------------------------------------------------------------- whole book


def test_every_built_page_is_visited():
    """No page is built that the tests do not visit (and so no orphan page ships)."""
    built = {
        p.relative_to(BOOK_HTML).with_suffix("").as_posix()
        for p in BOOK_HTML.rglob("*.html")
        if not p.relative_to(BOOK_HTML).parts[0].startswith("_")
    }
    built.discard("index")  # the redirect to the root page
    assert built <= set(PAGES), f"built pages not in the toc: {sorted(built - set(PAGES))}"


def test_search_finds_a_glossary_term(chromium, book_site, note):
    """Type a term the glossary defines into the search box: the results list the glossary
    entry. A made-up word finds nothing (so the check can fail)."""
    term = _book_glossary_term()
    context = chromium.new_context(viewport={"width": 1280, "height": 800})
    page = context.new_page()
    try:
        page.goto(urllib.parse.urljoin(book_site, f"{toc_files()[0]}.html"), wait_until="load")
        page.keyboard.press("Control+k")  # the theme's search shortcut opens the search box
        box = page.locator("input[name='q']:visible").first
        box.fill(term)
        box.press("Enter")
        page.wait_for_url("**/search.html?q=*")
        results = page.locator("#search-results ul.search li")
        results.first.wait_for(timeout=15_000)
        # The results are shown one at a time: read them once the search says it finished.
        page.locator("#search-results .search-summary", has_text="Search finished").wait_for(timeout=30_000)
        hrefs = [a.get_attribute("href") for a in page.locator("#search-results ul.search li > a").all()]
        assert any(h and h.startswith("glossary.html#term-") for h in hrefs), f"search for {term!r} gave {hrefs}"

        page.goto(urllib.parse.urljoin(book_site, "search.html?q=qzxwvj"), wait_until="load")
        summary = page.locator("#search-results .search-summary")
        summary.wait_for(timeout=15_000)
        assert page.locator("#search-results ul.search li").count() == 0
        note(f"{term!r}: {len(hrefs)} results; nonsense word: none")
    finally:
        context.close()
